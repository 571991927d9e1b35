//! The `beaconport` command: parse the command line, load the configuration, pick the log
//! backend and run the chosen job (`serve`, `publish`, `log`, `demo`, `bench`).
//!
//! Everything is in this library so end-to-end tests run exactly the binary's code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Args, Parser, Subcommand};

pub mod audit;
pub mod bench;
pub mod benchaudit;
pub mod benchdecode;
pub mod benchkafka;
pub mod benchreview;
pub mod benchviews;
pub mod certs;
pub mod client;
pub mod config;
pub mod demo;
pub mod import;
pub mod logcmd;
pub mod publish;
pub mod querycmd;
pub mod rebuild;
pub mod reviewcmd;
pub mod score;
pub mod serve;

pub use config::Config;

#[derive(Debug, Parser)]
#[command(name = "beaconport", version, about = "Cross-force intelligence ledger", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the ledger: gRPC API over the embedded log, until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Publishes events from an NDJSON file (one event per line, proto3 JSON mapping).
    Publish(publish::PublishArgs),
    /// Prints events from the log, human-readable or as NDJSON.
    Log(logcmd::LogArgs),
    /// Generates the synthetic national scenario, publishes it through gRPC into an embedded
    /// ledger, and prints what was stored.
    Demo(demo::DemoArgs),
    /// Benchmarks that print figures: ingest, resolution, views.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Asks the cross-force views: search, person, linked, network, networks.
    Query(querycmd::QueryArgs),
    /// Imports records into the ledger (persons from CSV).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Exports from the views (resolved persons as CSV).
    #[command(subcommand)]
    Export(import::ExportCommand),
    /// Drops the stored views and replays the log into fresh ones (server stopped).
    Rebuild(RebuildArgs),
    /// Exports the resolution model the stored views adopted from the log, to pin it
    /// (`[views] model_file`): a pinned model is never replaced by a later one (server stopped).
    ModelExport(ModelExportArgs),
    /// The auditor's client: replay, signed tree heads, proofs, consultations.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Checks a data directory offline against a signed tree head saved earlier: "intact", or
    /// the first position that differs (server stopped).
    Verify(audit::VerifyArgs),
    /// The national NFA review: queue, case, quality, risk; and recording the review's steps.
    Review(reviewcmd::ReviewArgs),
    /// Creates a development CA and certificates for the server and each kind of caller.
    Certs(certs::CertsArgs),
    /// Writes one self-contained HTML report (queue, quality per force, risk) to open offline.
    Report(reviewcmd::ReportArgs),
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ingest throughput: raw log appends and gRPC publishing of the same events, in one run.
    Ingest(bench::BenchArgs),
    /// Person resolution through the import path on labelled data sets (FEBRL, and messy
    /// synthetic police records): precision, recall, F1 and wall time.
    Resolution(benchviews::ResolutionArgs),
    /// Projection throughput and linked-suspects latency on a generated graph of person mentions.
    Views(benchviews::ViewsArgs),
    /// What tamper evidence costs on ingest, replay throughput, and proof latency.
    Audit(benchaudit::AuditBenchArgs),
    /// gRPC ingest into Kafka against a raw rdkafka producer on the same broker, and projection
    /// lag under sustained ingest.
    Kafka(benchkafka::KafkaBenchArgs),
    /// The national review: building the queue, quality and risk from a log, and queue page latency.
    Review(benchreview::ReviewBenchArgs),
    /// What decoding and checking events costs per event on one core, without the network.
    Decode(benchdecode::DecodeBenchArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ModelExportArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Where to write the model.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args, Clone)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Settings shared by commands that read the configuration.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigArgs {
    /// TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded log.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address of the gRPC API (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Serve plaintext gRPC when no [tls] is configured: any caller can then claim any identity.
    /// For development only; the server warns at start.
    #[arg(long)]
    pub insecure_plaintext: bool,
    /// Where the log lives: `sled:DIR` (the embedded log in DIR) or `kafka:HOST:PORT[,HOST:PORT...]`
    /// (a Kafka cluster; topic and client settings in [log.kafka]).
    #[arg(long, value_name = "SPEC")]
    pub log: Option<String>,
    /// The Kafka topic of the log (with `--log kafka:...`).
    #[arg(long, value_name = "TOPIC")]
    pub kafka_topic: Option<String>,
    /// What this process serves: `ingest`, `query` or `ingest,query` (the default).
    #[arg(long, value_name = "ROLES", value_delimiter = ',')]
    pub roles: Vec<String>,
    /// Load and check the configuration (file, environment, flags), say what it would serve, and
    /// exit without serving: 0 when it is accepted.
    #[arg(long)]
    pub check_config: bool,
}

impl ServeArgs {
    /// The flags as a table of the configuration's shape.
    pub fn flags(&self) -> Result<toml::Table> {
        use toml::Value;
        let mut flags = toml::Table::new();
        if let Some(l) = &self.listen {
            flags.insert("listen".into(), Value::String(l.clone()));
        }
        if self.insecure_plaintext {
            flags.insert("insecure_plaintext".into(), Value::Boolean(true));
        }
        let mut log = toml::Table::new();
        let mut kafka = toml::Table::new();
        match self.log.as_deref().map(|s| s.split_once(':')) {
            None => {}
            Some(Some(("sled", dir))) if !dir.is_empty() => {
                log.insert("backend".into(), Value::String("sled".into()));
                flags.insert("data_dir".into(), Value::String(dir.into()));
            }
            Some(Some(("kafka", bootstrap))) if !bootstrap.is_empty() => {
                log.insert("backend".into(), Value::String("kafka".into()));
                kafka.insert("bootstrap".into(), Value::String(bootstrap.into()));
            }
            Some(_) => anyhow::bail!(
                "--log: {:?} is neither sled:DIR nor kafka:HOST:PORT[,HOST:PORT...]",
                self.log.as_deref().unwrap_or_default()
            ),
        }
        if let Some(t) = &self.kafka_topic {
            kafka.insert("topic".into(), Value::String(t.clone()));
        }
        if !kafka.is_empty() {
            log.insert("kafka".into(), Value::Table(kafka));
        }
        if !log.is_empty() {
            flags.insert("log".into(), Value::Table(log));
        }
        if !self.roles.is_empty() {
            flags.insert(
                "roles".into(),
                Value::Array(self.roles.iter().map(|r| Value::String(r.trim().into())).collect()),
            );
        }
        Ok(flags)
    }
}

impl ConfigArgs {
    /// Loads the configuration with these flags on top of file and environment.
    pub fn load(&self, extra: toml::Table) -> Result<Config> {
        let mut flags = extra;
        if let Some(d) = &self.data_dir {
            flags.insert("data_dir".into(), toml::Value::String(d.display().to_string()));
        }
        Config::load(self.config.as_deref(), std::env::vars(), flags)
    }
}

/// Sets up tracing to stderr: `RUST_LOG` if set, else the configured filter.
pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

/// Runs the command line; the binary's `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // No transparent huge pages: the allocator asks for them, and the kernel then zeroes 2 MiB
    // at each first touch of memory that batches churn through. Measured with `bench ingest`
    // on this project's machine: server CPU per event 7.5 µs with them, 6.2 µs without.
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("warning: could not turn transparent huge pages off: {e}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve(a) => {
            let config = a.config.load(a.flags()?)?;
            if a.check_config {
                let log = match config.log.backend {
                    config::Backend::Sled => format!("the embedded log in {}", config.data_dir.display()),
                    config::Backend::Kafka => {
                        format!("kafka topic {} on {}", config.log.kafka.topic, config.log.kafka.bootstrap)
                    }
                };
                let tls = if config.tls.cert.as_os_str().is_empty() { "plaintext" } else { "mutual TLS" };
                let http = match (&config.http, config.serves("query")) {
                    (h, _) if !h.enabled => "no HTTP port".to_string(),
                    (h, query) => format!(
                        "HTTP on {} ({}{})",
                        h.listen,
                        if h.tls { "TLS" } else { "plaintext" },
                        if h.workspace && query && config.views.enabled { ", with the browser workspace" } else { "" }
                    ),
                };
                println!(
                    "configuration accepted: roles {}, gRPC on {} ({tls}), {http}, {log}",
                    config.roles.join(","),
                    config.listen
                );
                return Ok(ExitCode::SUCCESS);
            }
            init_tracing(&config.log_filter);
            serve::run(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Publish(a) => {
            init_tracing("warn");
            publish::run(a).await
        }
        Command::Log(a) => {
            init_tracing("warn");
            logcmd::run(a).await
        }
        Command::Demo(a) => {
            init_tracing("warn");
            demo::run(a).await
        }
        Command::Bench(b) => {
            init_tracing("warn");
            match b {
                BenchCommand::Ingest(a) => bench::run(a).await,
                BenchCommand::Resolution(a) => benchviews::run_resolution(a).await,
                BenchCommand::Views(a) => benchviews::run_views(a).await,
                BenchCommand::Audit(a) => benchaudit::run(a).await,
                BenchCommand::Kafka(a) => benchkafka::run(a).await,
                BenchCommand::Review(a) => benchreview::run(a).await,
                BenchCommand::Decode(a) => benchdecode::run(a),
            }
        }
        Command::Query(a) => {
            init_tracing("warn");
            querycmd::run(a).await
        }
        Command::Import(a) => {
            init_tracing("warn");
            import::run_import(a).await
        }
        Command::Export(a) => {
            init_tracing("warn");
            import::run_export(a).await
        }
        Command::Audit(a) => {
            init_tracing("warn");
            audit::run(a).await
        }
        Command::Review(a) => {
            init_tracing("warn");
            reviewcmd::run(a).await
        }
        Command::Certs(a) => {
            init_tracing("warn");
            certs::run(a)
        }
        Command::Report(a) => {
            init_tracing("warn");
            reviewcmd::run_report(a).await
        }
        Command::Verify(a) => {
            let config = a.config.load(toml::Table::new())?;
            init_tracing("warn");
            let dir = config.data_dir.clone();
            tokio::task::spawn_blocking(move || audit::verify(a, dir)).await?
        }
        Command::Rebuild(a) => {
            let config = a.config.load(toml::Table::new())?;
            init_tracing("warn");
            rebuild::run(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ModelExport(a) => {
            let config = a.config.load(toml::Table::new())?;
            init_tracing("warn");
            let dir = config.projection_options().dir;
            let out = a.out.clone();
            let (level, mentions) = tokio::task::spawn_blocking(move || -> Result<_> {
                let store = beaconport_projection::store::Store::open(&dir, 16).map_err(|e| {
                    anyhow::anyhow!("opening the views in {} (is a server running?): {e}", dir.display())
                })?;
                let (event, encoded) = store.model_event()?.with_context(|| {
                    format!(
                        "the views in {} have adopted no model yet (one is estimated from 512 mentions)",
                        dir.display()
                    )
                })?;
                beaconport_projection::store::write_model_file(&out, &encoded)?;
                match event.body {
                    beaconport_domain::Body::ResolutionModelEstimated(r) => Ok((r.level, r.mentions)),
                    _ => unreachable!("the store holds model events only there"),
                }
            })
            .await??;
            println!(
                "wrote {}: the model of level {level}, estimated when the views held {mentions} mentions; set [views] model_file to it to pin it (processes otherwise adopt the models written in the log)",
                a.out.display(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
