//! `beaconport serve`: the gRPC API over the embedded log, with graceful shutdown.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use beaconport_log::EventLog;
use beaconport_log_kafka::{KafkaLog, KafkaWriter};
use beaconport_log_sled::SledLog;
use beaconport_server::operator::Ledger;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{Backend, Config};

/// The log a process serves, by backend.
#[derive(Debug)]
pub enum OpenLog {
    Sled(Arc<SledLog>),
    Kafka(Arc<KafkaLog>),
    /// The ingest role alone over Kafka: a stateless writer, no copy of the log.
    KafkaWriter(Arc<KafkaWriter>),
}

impl OpenLog {
    /// Opens the configured backend: the embedded log in `data_dir`, or the Kafka topic (and
    /// this process's replica of it; a process of the ingest role alone only writes to it).
    pub async fn open(config: &Config) -> Result<Self> {
        Ok(match config.log.backend {
            Backend::Sled => {
                let options = config.sled_options();
                Self::Sled(Arc::new(tokio::task::spawn_blocking(move || SledLog::open(options)).await??))
            }
            Backend::Kafka if !config.serves("query") => {
                let options = config.kafka_options();
                let what = format!("opening the kafka writer (topic {} on {})", options.topic, options.bootstrap);
                Self::KafkaWriter(Arc::new(KafkaWriter::open(options).await.context(what)?))
            }
            Backend::Kafka => {
                let options = config.kafka_options();
                let what = format!("opening the kafka log (topic {} on {})", options.topic, options.bootstrap);
                Self::Kafka(Arc::new(KafkaLog::open(options).await.context(what)?))
            }
        })
    }

    /// The log, where this process holds one (not a writer's).
    pub fn log(&self) -> Option<Arc<dyn EventLog>> {
        match self {
            Self::Sled(l) => Some(l.clone()),
            Self::Kafka(l) => Some(l.clone()),
            Self::KafkaWriter(_) => None,
        }
    }

    /// What the operator endpoint reports on.
    fn ledger(&self) -> Ledger {
        match (self.log(), self) {
            (Some(log), _) => Ledger::Log(log),
            (None, Self::KafkaWriter(w)) => Ledger::Writer(w.clone()),
            (None, _) => unreachable!("every other backend holds its log"),
        }
    }

    /// Closes the log: the embedded one writes its index and flushes; the Kafka one delivers
    /// what its producer holds, then closes its replica (a writer has none).
    pub async fn close(self) -> Result<()> {
        match self {
            Self::Sled(l) => tokio::task::spawn_blocking(move || l.close()).await?,
            Self::Kafka(l) => l.close().await,
            Self::KafkaWriter(w) => w.close().await,
        }
        Ok(())
    }
}

/// Serves until SIGINT or SIGTERM, then lets in-flight batches finish (up to the grace period),
/// closes the log (index written, flushed) and returns.
pub async fn run(config: Config) -> Result<()> {
    if config.tls.cert.as_os_str().is_empty() && !config.insecure_plaintext {
        anyhow::bail!(
            "tls: no certificate configured. The ledger serves mutual TLS: set [tls] cert, key, client_ca and the \
             identities (`beaconport certs` writes development ones), or pass --insecure-plaintext to serve \
             plaintext where any caller can claim any identity (development only)"
        );
    }
    let log = OpenLog::open(&config).await?;
    let ledger = log.ledger();
    let projector = match (&ledger, config.views.enabled && config.serves("query")) {
        (Ledger::Log(l), true) => {
            Some(Arc::new(beaconport_projection::Projector::open(config.projection_options(), l.clone()).await?))
        }
        _ => None,
    };
    let listener = beaconport_server::bind(config.listen).await?;
    let addr = listener.local_addr().context("reading the bound address")?;
    if config.tls.cert.as_os_str().is_empty() {
        let _ = writeln!(
            std::io::stderr(),
            "warning: serving INSECURE plaintext gRPC on {addr}: any caller can claim any identity (development only)"
        );
    }
    // Signals are listened for before the address is announced: whoever read it may stop us.
    let signals = Signals::listen();
    let (stop_tx, mut stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        signals.wait().await;
        let _ = stop_tx.send(true);
    });
    // Tests and the bench read this line to learn the port.
    announce(&format!("{LISTENING}{addr}"));
    info!(%addr, data_dir = %config.data_dir.display(), backend = ?config.log.backend, roles = ?config.roles, "ledger started");

    let mut stopping = stop_rx.clone();
    let shutdown = async move {
        let _ = stopping.wait_for(|s| *s).await;
        info!("shutdown requested; finishing in-flight requests");
    };
    let options = config.server_options()?;
    let views = projector.clone().map(|p| p as Arc<dyn beaconport_views::Live>);
    let services = match &ledger {
        Ledger::Log(l) => Some(beaconport_server::Services::new(l, views.clone(), &options)),
        Ledger::Writer(_) => None,
    };
    let operator = if config.http.enabled {
        let http = beaconport_server::bind(config.http.listen).await?;
        let http_addr = http.local_addr().context("reading the operator endpoint's address")?;
        announce(&format!("{OPERATOR}{http_addr}"));
        let state = beaconport_server::operator::Operator {
            metrics: options.metrics.clone(),
            log: ledger.clone(),
            views: views.clone(),
            ready_max_lag: config.http.ready_max_lag,
            web: match (&ledger, &services) {
                (Ledger::Log(l), Some(services)) if config.http.workspace => {
                    beaconport_server::web::Workspace::new(l.clone(), services, &options).map(Arc::new)
                }
                _ => None,
            },
            tls: options.tls.clone().filter(|_| config.http.tls),
        };
        // A certificate the HTTP port cannot serve stops the start, not just the port.
        if let Some(tls) = &state.tls {
            beaconport_server::operator::tls_config(tls).context("[http] tls")?;
        }
        let mut stopping = stop_rx.clone();
        Some(tokio::spawn(beaconport_server::operator::serve_http(http, state, async move {
            let _ = stopping.wait_for(|s| *s).await;
        })))
    } else {
        None
    };
    let server = async move {
        match (ledger, services) {
            (Ledger::Log(l), Some(services)) => {
                beaconport_server::serve_services(listener, l, services, options, shutdown).await
            }
            (Ledger::Writer(w), _) => beaconport_server::serve_writer(listener, w, options, shutdown).await,
            (Ledger::Log(_), None) => unreachable!("services are built for every log"),
        }
    };
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    tokio::select! {
        r = server => r?,
        _ = async {
            let _ = stop_rx.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => warn!(grace_secs = grace.as_secs(), "in-flight requests did not finish within the grace period"),
    }
    if let Some(task) = operator {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "operator endpoint failed"),
            Err(e) => warn!(error = %e, "operator endpoint task failed"),
        }
    }
    if let Some(p) = projector {
        match Arc::try_unwrap(p) {
            Ok(p) => p.shutdown().await?,
            Err(_) => warn!("views still in use at shutdown; they resume from their stored position"),
        }
    }
    log.close().await?;
    info!("ledger stopped");
    Ok(())
}

/// Prints one line on standard output for whoever started the server (tests and the bench read
/// the addresses there). A reader that has gone away is no reason to stop serving.
fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// SIGINT and SIGTERM, listened for from the moment this is made.
struct Signals {
    #[cfg(unix)]
    listening: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(int), Ok(term)) => Self { listening: Some((int, term)) },
                (Err(e), _) | (_, Err(e)) => {
                    warn!(error = %e, "cannot listen for SIGINT and SIGTERM; only Ctrl-C stops the server");
                    Self { listening: None }
                }
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.listening {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// What `serve` prints first on standard output, followed by the bound address.
pub const LISTENING: &str = "beaconport listening on ";
/// What `serve` prints second (when the operator endpoint is on), followed by its address.
pub const OPERATOR: &str = "beaconport operator endpoint on ";

/// Starts `exe` (a `beaconport` binary) as `serve --insecure-plaintext` on a free loopback port
/// over `data_dir`, and returns the child process and the URL it serves (read from its first line
/// of output). For tests and benchmarks of what lies behind the transport.
pub fn spawn_process(exe: &std::path::Path, data_dir: &std::path::Path) -> Result<(std::process::Child, String)> {
    spawn_process_with(exe, data_dir, &[])
}

/// [`spawn_process`] with extra environment variables (settings such as
/// `BEACONPORT_VIEWS__ENABLED=false`).
pub fn spawn_process_with(
    exe: &std::path::Path,
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> Result<(std::process::Child, String)> {
    spawn_serve(exe, data_dir, &[], env)
}

/// [`spawn_process_with`] with extra flags for `serve` (`--roles query`, `--log kafka:...`).
pub fn spawn_serve(
    exe: &std::path::Path,
    data_dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(std::process::Child, String)> {
    spawn_serve_operated(exe, data_dir, args, env).map(|(child, url, _)| (child, url))
}

/// [`spawn_serve`], also returning the operator endpoint's address (`127.0.0.1:PORT`: `/metrics`,
/// `/healthz`, `/readyz`), which such a child always serves on a free loopback port.
pub fn spawn_serve_operated(
    exe: &std::path::Path,
    data_dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(std::process::Child, String, String)> {
    let mut child = std::process::Command::new(exe)
        .args(["serve", "--insecure-plaintext", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env("RUST_LOG", "warn")
        // No rate limit: these runs measure and test what lies behind the transport.
        .env("BEACONPORT_LIMITS__REQUESTS_PER_SECOND", "1000000")
        .env("BEACONPORT_LIMITS__BURST", "1000000")
        .envs(env.iter().copied())
        .env("BEACONPORT_HTTP__ENABLED", "true")
        .env("BEACONPORT_HTTP__LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    match announced(&mut child, true).and_then(|(grpc, op)| Ok((grpc, op.context("no operator endpoint")?))) {
        Ok((grpc, operator)) => Ok((child, format!("http://{grpc}"), operator)),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// One HTTP/1.1 GET of a `serve` process's operator endpoint (`/metrics`, `/readyz`): the status
/// code and the body. For tests and benchmarks; panics on a connection failure.
pub async fn operator_get(addr: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect to the operator endpoint");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .expect("send a GET");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read the answer");
    let code = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (code, body)
}

/// The value of the Prometheus metric line that starts with `name` (labels included), if any.
pub fn metric_value(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next().and_then(|v| v.parse().ok()))
}

/// Reads what a `serve` child (started with its standard output piped) announces: the gRPC
/// address and, when `http` is asked for, the operator endpoint's address (`127.0.0.1:PORT`).
/// The rest of its output is drained on a thread, so the child never writes to a closed pipe.
pub fn announced(child: &mut std::process::Child, http: bool) -> Result<(String, Option<String>)> {
    use std::io::BufRead;
    let stdout = child.stdout.take().context("the server's standard output is not piped")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut next = |prefix: &str| -> Result<String> {
        let line = lines.next().context("the server stopped before announcing its address")??;
        match line.trim().strip_prefix(prefix) {
            Some(addr) => Ok(addr.to_string()),
            None => anyhow::bail!("the server said {line:?} instead of {prefix:?} and its address"),
        }
    };
    let grpc = next(LISTENING)?;
    let operator = if http { Some(next(OPERATOR)?) } else { None };
    std::thread::spawn(move || lines.for_each(drop));
    Ok((grpc, operator))
}
