//! Configuration: defaults, then a TOML file, then `BEACONPORT_*` environment variables (`__`
//! separates nesting: `BEACONPORT_SLED__CACHE_MB=512`), then command-line flags, then
//! [`Config::validate`]. The loader takes the environment as a parameter, so tests never touch
//! the process environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// Prefix of the environment variables read.
pub const ENV_PREFIX: &str = "BEACONPORT_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address of the gRPC API.
    pub listen: SocketAddr,
    /// Directory of the embedded log.
    pub data_dir: PathBuf,
    /// Default log filter (`info`, `beaconport=debug`, ...). Personal data appears only at debug.
    pub log_filter: String,
    /// Longest wait for in-flight requests at shutdown, in seconds.
    pub shutdown_grace_secs: u64,
    pub grpc: Grpc,
    pub sled: Sled,
    pub views: ViewsConfig,
    pub audit: AuditConfig,
    pub tls: TlsConfig,
    pub limits: LimitsConfig,
    pub http: HttpConfig,
    /// Where the log lives: the embedded log in `data_dir` (default) or Kafka.
    pub log: LogConfig,
    /// What this process serves: `ingest` (IngestService), `query` (the views, QueryService and
    /// ReviewService), or both (default). Any number of each can run against one Kafka cluster;
    /// health and reflection are served by every role, LogService and AuditService wherever the
    /// log is held (not by the ingest role alone over Kafka, a stateless writer).
    pub roles: Vec<String>,
    /// Serve plaintext gRPC without client certificates when no [tls] is set: any caller can
    /// then claim any identity. For development only; `serve --insecure-plaintext` sets it.
    pub insecure_plaintext: bool,
}

/// The log's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The embedded log (sled) in `data_dir`: one machine.
    Sled,
    /// A Kafka topic ([log.kafka]); a process with the query role keeps a local replica of it,
    /// one of the ingest role alone only writes to it.
    Kafka,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub backend: Backend,
    pub kafka: KafkaConfig,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { backend: Backend::Sled, kafka: KafkaConfig::default() }
    }
}

/// The Kafka backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// The brokers, `host:port,host:port`.
    pub bootstrap: String,
    pub topic: String,
    /// Partitions of the topic, when it is created here.
    pub partitions: i32,
    /// Replication factor of the topic, when it is created here.
    pub replication: i32,
    /// Create the topic when it is missing.
    pub create_topic: bool,
    /// Longest a record may take to be delivered before its publish fails, in seconds.
    pub delivery_timeout_secs: u64,
    /// Longest an ingest process's consumer (it reads its own records back before it answers)
    /// lets a broker hold an empty fetch, in milliseconds. A broker answers as soon as records
    /// arrive; librdkafka's mock cluster holds every fetch to this limit, so tests and the bench
    /// against it set a few milliseconds.
    pub fetch_wait_ms: u64,
    /// How long the producer lets a partition's records gather before it sends them, in
    /// milliseconds (librdkafka's `linger.ms`). A publish hands over its whole batch at once.
    pub linger_ms: u64,
    /// The local replica of the topic (default: `replica` in `data_dir`).
    pub replica_dir: PathBuf,
    /// librdkafka properties passed through to every client: `security.protocol`, `ssl.*`,
    /// `sasl.*`, `client.id`, ... (TLS and SASL need a build with the `kafka-tls` feature).
    pub client: std::collections::BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap: String::new(),
            topic: "beaconport-events".into(),
            partitions: 12,
            replication: 3,
            create_topic: true,
            delivery_timeout_secs: 30,
            fetch_wait_ms: 100,
            linger_ms: beaconport_log_kafka::DEFAULT_LINGER.as_millis() as u64,
            replica_dir: PathBuf::new(),
            client: Default::default(),
        }
    }
}

/// The roles a process can serve.
pub const ROLES: [&str; 2] = ["ingest", "query"];

/// The operator endpoint: `/metrics` (Prometheus), `/healthz`, `/readyz`, on a port of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Serve the operator endpoint.
    pub enabled: bool,
    /// Its address (port 0 picks a free port; the address is printed).
    pub listen: SocketAddr,
    /// Views further behind the log than this many events make `/readyz` answer 503.
    pub ready_max_lag: u64,
    /// Serve the browser workspace on this port too (processes that run the views).
    pub workspace: bool,
    /// Serve this port over TLS with [tls]'s certificate; browsers then present client
    /// certificates of [tls]'s client CA, mapped by the identities like gRPC callers.
    pub tls: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:9464".parse().expect("valid"),
            ready_max_lag: 10_000,
            workspace: true,
            tls: false,
        }
    }
}

/// What every caller is held to (over a limit: RESOURCE_EXHAUSTED, naming the limit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Requests per second each principal may make, on average.
    pub requests_per_second: u32,
    /// Requests a principal may make at once beyond the average.
    pub burst: u32,
    /// Streams one principal may hold open at once.
    pub streams_per_principal: u32,
    /// Most events in one published batch (at most 10,000).
    pub max_batch_events: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { requests_per_second: 1000, burst: 2000, streams_per_principal: 16, max_batch_events: 10_000 }
    }
}

/// Mutual TLS. With no certificate set, the server speaks plaintext and warns at start
/// (development only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The server's certificate chain and key (PEM).
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA whose client certificates are accepted (PEM); every client must present one.
    pub client_ca: PathBuf,
    /// Who each client certificate is (`beaconport certs` writes these for its certificates).
    pub identities: Vec<IdentityConfig>,
    /// A file of more `[[tls.identities]]` (what `beaconport certs` writes as identities.toml),
    /// added to those above; a relative path is taken from the working directory.
    pub identities_file: PathBuf,
}

/// One client certificate, by its subject common name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    pub common_name: String,
    /// `force`, `investigator`, `auditor` or `operator`.
    pub role: String,
    /// For a force system: the one force whose events it may publish.
    pub force: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// The Ed25519 key (PKCS#8 PEM) that signs tree heads; created on first start if missing.
    /// Empty means `<data_dir>/tree-signing-key.pem`.
    pub signing_key: PathBuf,
    /// Force code under which the ledger records the consultations of principals of no force.
    pub ledger_force: String,
    /// Keep the tamper-evident tree. Turn off only to measure what it costs.
    pub tamper_evidence: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { signing_key: PathBuf::new(), ledger_force: "NCA".into(), tamper_evidence: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ViewsConfig {
    /// Run the projections and serve QueryService.
    pub enabled: bool,
    /// Directory of the stored views; empty means `<data_dir>/views`.
    pub dir: PathBuf,
    /// Most events read from the log and applied in one batch (while catching up; at the log's
    /// head a batch holds what has arrived). A batch's records are resolved together: a large
    /// component they touch is walked and clustered once per batch.
    pub batch: usize,
    /// Mentions sharing one identifier or place beyond which it no longer links them.
    pub hub_limit: usize,
    /// sled page cache of the view store, in MiB.
    pub cache_mb: u64,
    /// How often the stored views are flushed, in milliseconds.
    pub flush_ms: u64,
    /// A resolution model to pin (`beaconport model-export` writes one); empty: the model is
    /// estimated from the data as it grows. Query replicas of a Kafka log resolve alike only
    /// with one pinned model: each estimates from what it holds when it estimates.
    pub model_file: PathBuf,
}

impl Default for ViewsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: PathBuf::new(),
            batch: 10_000,
            hub_limit: 30,
            cache_mb: 64,
            flush_ms: 1000,
            model_file: PathBuf::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Grpc {
    /// Largest request or response, in bytes.
    pub max_message_bytes: usize,
    /// Most concurrent streams per connection.
    pub max_concurrent_streams: u32,
    /// Longest a request may run, in seconds.
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sled {
    /// sled page cache, in MiB.
    pub cache_mb: u64,
    /// Target size of a block of events, in KiB.
    pub block_kb: usize,
    /// Events per persisted chunk of the id index.
    pub index_chunk: usize,
    /// sled log segment size, KiB (a power of two, 256 to 16384); fixed when the data directory
    /// is created.
    pub segment_kb: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:50051".parse().expect("valid"),
            data_dir: PathBuf::from("beaconport-data"),
            log_filter: "info".into(),
            shutdown_grace_secs: 30,
            grpc: Grpc::default(),
            sled: Sled::default(),
            views: ViewsConfig::default(),
            audit: AuditConfig::default(),
            tls: TlsConfig::default(),
            limits: LimitsConfig::default(),
            http: HttpConfig::default(),
            log: LogConfig::default(),
            roles: ROLES.iter().map(|r| r.to_string()).collect(),
            insecure_plaintext: false,
        }
    }
}

impl Default for Grpc {
    fn default() -> Self {
        Self { max_message_bytes: 16 << 20, max_concurrent_streams: 256, request_timeout_secs: 60 }
    }
}

impl Default for Sled {
    fn default() -> Self {
        Self { cache_mb: 256, block_kb: 32, index_chunk: 4096, segment_kb: 8192 }
    }
}

impl Config {
    /// A ledger over `data_dir` for benchmarks of what lies behind the transport: plaintext
    /// (asked for explicitly) and no rate limit, so that the figures are the ledger's own.
    pub fn for_bench(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            insecure_plaintext: true,
            limits: LimitsConfig { requests_per_second: 1_000_000, burst: 1_000_000, ..LimitsConfig::default() },
            ..Config::default()
        }
    }

    /// Loads the configuration from its layers. `overrides` are the command-line flags, as a
    /// table of the same shape as the file.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: Table,
    ) -> Result<Self> {
        let defaults = Value::try_from(Config::default())?;
        let Value::Table(mut merged) = defaults.clone() else { unreachable!("a struct is a table") };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
            let table: Table = toml::from_str(&text).with_context(|| format!("parsing config {}", path.display()))?;
            merge(&mut merged, table);
        }
        let mut from_env = Table::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix(ENV_PREFIX) else { continue };
            let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            let value = typed_like(&defaults, &path, &v).with_context(|| format!("environment variable {k}"))?;
            insert_path(&mut from_env, &path, value);
        }
        merge(&mut merged, from_env);
        merge(&mut merged, overrides);
        let mut config: Config = Value::Table(merged).try_into().context("invalid configuration")?;
        let file = &config.tls.identities_file;
        if !file.as_os_str().is_empty() {
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct IdentitiesFile {
                tls: Identities,
            }
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Identities {
                identities: Vec<IdentityConfig>,
            }
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("tls.identities_file: reading {}", file.display()))?;
            let more: IdentitiesFile = toml::from_str(&text).with_context(|| {
                format!("tls.identities_file: {} is not a list of [[tls.identities]]", file.display())
            })?;
            config.tls.identities.extend(more.tls.identities);
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<()> {
        let t = &self.tls;
        let set = [&t.cert, &t.key, &t.client_ca].iter().filter(|p| !p.as_os_str().is_empty()).count();
        if set != 0 && set != 3 {
            bail!("tls: cert, key and client_ca are set together (or none of them, for plaintext)");
        }
        for (i, id) in t.identities.iter().enumerate() {
            if id.common_name.trim().is_empty() {
                bail!("tls.identities[{i}].common_name: is required");
            }
            let roles = beaconport_server::authorise::ROLES;
            if !roles.contains(&id.role.as_str()) {
                bail!("tls.identities[{i}].role: {:?} is not one of {}", id.role, roles.join(", "));
            }
            if let Some(j) = t.identities[..i].iter().position(|o| o.common_name.trim() == id.common_name.trim()) {
                bail!(
                    "tls.identities[{i}].common_name: {:?} is already mapped by tls.identities[{j}] (one certificate, one role)",
                    id.common_name
                );
            }
            if id.role == "force" && beaconport_domain::reference::force(&id.force).is_none() {
                bail!("tls.identities[{i}].force: {:?} is not a force code (a force system needs its force)", id.force);
            }
        }
        if self.http.tls && set != 3 {
            bail!("http.tls: serving the HTTP port over TLS needs [tls] cert, key and client_ca");
        }
        if self.grpc.max_message_bytes < 1024 {
            bail!("grpc.max_message_bytes: {} is too small (at least 1024)", self.grpc.max_message_bytes);
        }
        if self.grpc.max_concurrent_streams == 0 {
            bail!("grpc.max_concurrent_streams: must be at least 1");
        }
        if self.grpc.request_timeout_secs == 0 {
            bail!("grpc.request_timeout_secs: must be at least 1");
        }
        let l = &self.limits;
        if l.requests_per_second == 0 || l.burst == 0 {
            bail!("limits.requests_per_second and limits.burst: must be at least 1");
        }
        if l.streams_per_principal == 0 {
            bail!("limits.streams_per_principal: must be at least 1");
        }
        if l.max_batch_events == 0 || l.max_batch_events > beaconport_domain::rules::MAX_BATCH {
            bail!(
                "limits.max_batch_events: {} is outside 1 to {}",
                l.max_batch_events,
                beaconport_domain::rules::MAX_BATCH
            );
        }
        if self.sled.block_kb == 0 || self.sled.block_kb > 1024 {
            bail!("sled.block_kb: {} is outside 1 to 1024", self.sled.block_kb);
        }
        if !self.sled.segment_kb.is_power_of_two() || !(256..=16384).contains(&self.sled.segment_kb) {
            bail!("sled.segment_kb: {} is not a power of two from 256 to 16384", self.sled.segment_kb);
        }
        if self.sled.cache_mb == 0 {
            bail!("sled.cache_mb: must be at least 1");
        }
        if self.sled.index_chunk == 0 {
            bail!("sled.index_chunk: must be at least 1");
        }
        if self.views.batch == 0 {
            bail!("views.batch: must be at least 1");
        }
        if self.views.hub_limit < 2 {
            bail!("views.hub_limit: {} is too small (at least 2)", self.views.hub_limit);
        }
        if self.views.cache_mb == 0 {
            bail!("views.cache_mb: must be at least 1");
        }
        if beaconport_domain::reference::force(&self.audit.ledger_force).is_none() {
            bail!("audit.ledger_force: {:?} is not a known force code", self.audit.ledger_force);
        }
        if self.roles.is_empty() {
            bail!("roles: at least one of {}", ROLES.join(", "));
        }
        for r in &self.roles {
            if !ROLES.contains(&r.as_str()) {
                bail!("roles: {r:?} is not one of {}", ROLES.join(", "));
            }
        }
        if self.log.backend == Backend::Kafka {
            let k = &self.log.kafka;
            if k.bootstrap.trim().is_empty() {
                bail!("log.kafka.bootstrap: is required with the kafka backend (host:port,host:port)");
            }
            if k.topic.trim().is_empty() || k.topic.len() > 249 {
                bail!("log.kafka.topic: {:?} is not a topic name", k.topic);
            }
            if k.partitions < 1 {
                bail!("log.kafka.partitions: must be at least 1");
            }
            if k.replication < 1 {
                bail!("log.kafka.replication: must be at least 1");
            }
            if k.fetch_wait_ms == 0 || k.fetch_wait_ms > 10_000 {
                bail!("log.kafka.fetch_wait_ms: must be from 1 to 10000");
            }
            if k.linger_ms > 1_000 {
                bail!("log.kafka.linger_ms: must be from 0 to 1000");
            }
            if k.delivery_timeout_secs == 0 {
                bail!("log.kafka.delivery_timeout_secs: must be at least 1");
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            bail!("data_dir: must not be empty");
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_filter)
            .map_err(|e| anyhow::anyhow!("log_filter: {:?} is not a filter: {e}", self.log_filter))?;
        Ok(())
    }

    /// Serves this role?
    pub fn serves(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// The Kafka log options this configuration asks for.
    pub fn kafka_options(&self) -> beaconport_log_kafka::Options {
        let k = &self.log.kafka;
        let replica_dir =
            if k.replica_dir.as_os_str().is_empty() { self.data_dir.join("replica") } else { k.replica_dir.clone() };
        let mut o = beaconport_log_kafka::Options::new(&k.bootstrap, &k.topic, &replica_dir);
        o.partitions = k.partitions;
        o.replication = k.replication;
        o.create_topic = k.create_topic;
        o.client = k.client.clone();
        o.delivery_timeout = std::time::Duration::from_secs(k.delivery_timeout_secs);
        o.fetch_wait = std::time::Duration::from_millis(k.fetch_wait_ms);
        o.linger = std::time::Duration::from_millis(k.linger_ms);
        o.replica = beaconport_log_sled::Options { path: replica_dir, ..self.sled_options() };
        o
    }

    /// The sled log options this configuration asks for.
    pub fn sled_options(&self) -> beaconport_log_sled::Options {
        let mut o = beaconport_log_sled::Options::new(&self.data_dir);
        o.cache_bytes = self.sled.cache_mb << 20;
        o.block_bytes = self.sled.block_kb << 10;
        o.index_chunk = self.sled.index_chunk;
        o.segment_bytes = self.sled.segment_kb << 10;
        o.tamper_evidence = self.audit.tamper_evidence;
        o
    }

    /// Where the tree-signing key lives.
    pub fn signing_key_path(&self) -> PathBuf {
        if self.audit.signing_key.as_os_str().is_empty() {
            self.data_dir.join("tree-signing-key.pem")
        } else {
            self.audit.signing_key.clone()
        }
    }

    /// The projection options this configuration asks for.
    pub fn projection_options(&self) -> beaconport_projection::Options {
        let dir =
            if self.views.dir.as_os_str().is_empty() { self.data_dir.join("views") } else { self.views.dir.clone() };
        let mut o = beaconport_projection::Options::new(dir);
        o.batch = self.views.batch;
        o.hub_limit = self.views.hub_limit;
        o.cache_mb = self.views.cache_mb;
        o.flush_every = std::time::Duration::from_millis(self.views.flush_ms.max(1));
        o.model_file = (!self.views.model_file.as_os_str().is_empty()).then(|| self.views.model_file.clone());
        o.ledger_force = self.audit.ledger_force.clone();
        o
    }

    /// Mutual TLS as configured, with the PEM files read; `None` for plaintext.
    pub fn tls_options(&self) -> Result<Option<beaconport_server::Tls>> {
        let t = &self.tls;
        if t.cert.as_os_str().is_empty() {
            return Ok(None);
        }
        let read = |field: &str, p: &PathBuf| {
            std::fs::read_to_string(p).with_context(|| format!("tls.{field}: reading {}", p.display()))
        };
        let mut identities = beaconport_server::Identities::default();
        for id in &t.identities {
            identities.by_common_name.insert(
                id.common_name.trim().to_string(),
                beaconport_server::Identity {
                    role: id.role.clone(),
                    force: (!id.force.is_empty()).then(|| id.force.clone()),
                },
            );
        }
        Ok(Some(beaconport_server::Tls {
            cert_pem: read("cert", &t.cert)?,
            key_pem: read("key", &t.key)?,
            client_ca_pem: read("client_ca", &t.client_ca)?,
            identities: std::sync::Arc::new(identities),
        }))
    }

    /// The gRPC server options this configuration asks for.
    /// The signing key is loaded (or created) here.
    pub fn server_options(&self) -> Result<beaconport_server::Options> {
        let signer = beaconport_log::head::Signer::load_or_create(&self.signing_key_path())?;
        Ok(beaconport_server::Options {
            limits: beaconport_server::authorise::Limits {
                requests_per_second: self.limits.requests_per_second,
                burst: self.limits.burst,
                streams_per_principal: self.limits.streams_per_principal,
                request_timeout: std::time::Duration::from_secs(self.grpc.request_timeout_secs),
                max_message_bytes: self.grpc.max_message_bytes,
            },
            max_batch_events: self.limits.max_batch_events,
            max_concurrent_streams: self.grpc.max_concurrent_streams,
            ledger_force: self.audit.ledger_force.clone(),
            signer: std::sync::Arc::new(signer),
            tls: self.tls_options()?,
            insecure_plaintext: self.insecure_plaintext,
            metrics: std::sync::Arc::default(),
            ingest: self.serves("ingest"),
        })
    }
}

/// Parses an environment value as the type of the default at the same path (so `BEACONPORT_
/// SLED__CACHE_MB=512` is a number and `BEACONPORT_DATA_DIR=123` stays a path).
fn typed_like(defaults: &Value, path: &[String], raw: &str) -> Result<Value> {
    let mut at = defaults;
    for (i, p) in path.iter().enumerate() {
        at = match at.get(p.as_str()) {
            Some(v) => v,
            // A map of free keys (log.kafka.client: librdkafka's properties) takes any key, as
            // text: BEACONPORT_LOG__KAFKA__CLIENT__SASL.PASSWORD sets "sasl.password".
            None if i + 1 == path.len() && path[..i] == ["log", "kafka", "client"] => {
                return Ok(Value::String(raw.to_string()))
            }
            None => bail!("{} is not a setting", path.join(".")),
        };
    }
    Ok(match at {
        Value::Integer(_) => {
            Value::Integer(raw.trim().parse().with_context(|| format!("{raw:?} is not a whole number"))?)
        }
        Value::Boolean(_) => {
            Value::Boolean(raw.trim().parse().with_context(|| format!("{raw:?} is not true or false"))?)
        }
        Value::Float(_) => Value::Float(raw.trim().parse().with_context(|| format!("{raw:?} is not a number"))?),
        // A list, comma-separated: BEACONPORT_ROLES=ingest,query.
        Value::Array(_) => Value::Array(
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_string())).collect(),
        ),
        Value::Table(_) => bail!("{} is a section, set its fields", path.join(".")),
        _ => Value::String(raw.to_string()),
    })
}

fn insert_path(table: &mut Table, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            table.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = table.entry(first.clone()).or_insert_with(|| Value::Table(Table::new()));
            if let Value::Table(t) = entry {
                insert_path(t, rest, value);
            }
        }
    }
}

fn merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn shipped_example_equals_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/beaconport.toml");
        let c = Config::load(Some(&path), env(&[]), Table::new()).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn every_shipped_deployment_config_is_accepted() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                // The PKI is made at deployment time; the file names it.
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(text.contains("identities_file"), "{}", path.display());
                let c = Config::load(Some(&path), env(&[("BEACONPORT_TLS__IDENTITIES_FILE", "")]), Table::new())
                    .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                assert_eq!(c.log.backend, Backend::Kafka, "{}", path.display());
                assert_eq!(c.log.kafka.replication, 3);
                seen += 1;
            }
        }
        assert_eq!(seen, 2, "ingest.toml and query.toml");
    }

    #[test]
    fn roles_and_the_log_backend_come_from_flags() {
        let args = crate::ServeArgs {
            config: Default::default(),
            listen: None,
            insecure_plaintext: true,
            log: Some("kafka:k1:9092,k2:9092".into()),
            kafka_topic: Some("events-test".into()),
            roles: vec!["query".into()],
            check_config: false,
        };
        let c = Config::load(None, env(&[]), args.flags().unwrap()).unwrap();
        assert_eq!(c.log.backend, Backend::Kafka);
        assert_eq!(c.log.kafka.bootstrap, "k1:9092,k2:9092");
        assert_eq!(c.log.kafka.topic, "events-test");
        assert!(c.serves("query") && !c.serves("ingest"));
        assert!(!c.server_options().unwrap().ingest);
        assert_eq!(c.kafka_options().replica.path, PathBuf::from("beaconport-data/replica"));
        let sled =
            crate::ServeArgs { log: Some("sled:/srv/ledger".into()), kafka_topic: None, roles: vec![], ..args.clone() };
        let c = Config::load(None, env(&[]), sled.flags().unwrap()).unwrap();
        assert_eq!((c.log.backend, c.data_dir.clone()), (Backend::Sled, PathBuf::from("/srv/ledger")));
        assert!(c.serves("ingest") && c.serves("query"));
        let bad = crate::ServeArgs { log: Some("postgres:x".into()), ..args.clone() };
        assert!(format!("{:#}", bad.flags().unwrap_err()).contains("--log"));
        let bad = crate::ServeArgs { roles: vec!["admin".into()], ..args.clone() };
        let err = Config::load(None, env(&[]), bad.flags().unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains("roles: \"admin\""), "{err:#}");
        let c = Config::load(None, env(&[("BEACONPORT_LOG__KAFKA__CLIENT__SASL.PASSWORD", "s3cret")]), Table::new())
            .unwrap();
        assert_eq!(c.kafka_options().client.get("sasl.password").map(String::as_str), Some("s3cret"));
        let err = Config::load(None, env(&[("BEACONPORT_LOG__BACKEND", "kafka")]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("log.kafka.bootstrap"), "{err:#}");
        // The producer's linger: 2 ms unless set, and only within reason.
        let kafka = [("BEACONPORT_LOG__BACKEND", "kafka"), ("BEACONPORT_LOG__KAFKA__BOOTSTRAP", "k1:9092")];
        let c = Config::load(None, env(&kafka), Table::new()).unwrap();
        assert_eq!(c.kafka_options().linger, std::time::Duration::from_millis(2));
        let c = Config::load(None, env(&[kafka[0], kafka[1], ("BEACONPORT_LOG__KAFKA__LINGER_MS", "0")]), Table::new())
            .unwrap();
        assert_eq!(c.kafka_options().producer_config().get("linger.ms"), Some("0"));
        let err =
            Config::load(None, env(&[kafka[0], kafka[1], ("BEACONPORT_LOG__KAFKA__LINGER_MS", "5000")]), Table::new())
                .unwrap_err();
        assert!(format!("{err:#}").contains("log.kafka.linger_ms: must be from 0 to 1000"), "{err:#}");
        // A list from the environment, comma-separated.
        let c = Config::load(None, env(&[("BEACONPORT_ROLES", "ingest")]), Table::new()).unwrap();
        assert!(c.serves("ingest") && !c.serves("query"));
        let c = Config::load(None, env(&[("BEACONPORT_ROLES", "query, ingest")]), Table::new()).unwrap();
        assert!(c.serves("ingest") && c.serves("query"));
        let err = Config::load(None, env(&[("BEACONPORT_ROLES", "ingest,admin")]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("roles: \"admin\""), "{err:#}");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "data_dir = \"/from/file\"\nlisten = \"127.0.0.1:1\"\n[sled]\ncache_mb = 64\n").unwrap();
        let e = env(&[("BEACONPORT_LISTEN", "127.0.0.1:2"), ("BEACONPORT_SLED__BLOCK_KB", "64"), ("OTHER", "x")]);
        let mut flags = Table::new();
        flags.insert("listen".into(), Value::String("127.0.0.1:3".into()));
        let c = Config::load(Some(&file), e, flags).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.sled.cache_mb, 64);
        assert_eq!(c.sled.block_kb, 64);
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Config::load(None, env(&[("BEACONPORT_SLED__CACHE_MB", "lots")]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("BEACONPORT_SLED__CACHE_MB"), "{err:#}");
        let err = Config::load(None, env(&[("BEACONPORT_NOPE", "1")]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("nope is not a setting"), "{err:#}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[sled]\nblock_kb = 0\n").unwrap();
        let err = Config::load(Some(&file), env(&[]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("sled.block_kb"), "{err:#}");
        std::fs::write(&file, "unknown_key = 1\n").unwrap();
        let err = Config::load(Some(&file), env(&[]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("unknown_key"), "{err:#}");
        // The HTTP port over TLS needs the ledger's certificate.
        let err = Config::load(None, env(&[("BEACONPORT_HTTP__TLS", "true")]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("http.tls: serving the HTTP port over TLS needs [tls]"), "{err:#}");
    }

    #[test]
    fn tls_from_the_files_beaconport_certs_writes() {
        let dir = tempfile::tempdir().unwrap();
        let pki = crate::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
        let ids = std::fs::read_to_string(dir.path().join("pki/identities.toml")).unwrap();
        let file = dir.path().join("c.toml");
        let tls =
            format!("[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n", pki.server_cert, pki.server_key, pki.ca_cert);
        std::fs::write(&file, format!("{tls}{ids}")).unwrap();
        let c = Config::load(Some(&file), env(&[]), Table::new()).unwrap();
        let t = c.tls_options().unwrap().expect("TLS configured");
        assert_eq!(t.identities.by_common_name.len(), 4);
        assert_eq!(t.identities.by_common_name["force-gmp"].force.as_deref(), Some("GMP"));
        assert!(t.client_ca_pem.contains("BEGIN CERTIFICATE"));
        // Half a TLS configuration, or an identity with an unknown role: named.
        std::fs::write(&file, format!("[tls]\ncert = {:?}\n", pki.server_cert)).unwrap();
        let err = Config::load(Some(&file), env(&[]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("cert, key and client_ca"), "{err:#}");
        std::fs::write(&file, "[[tls.identities]]\ncommon_name = \"x\"\nrole = \"admin\"\n").unwrap();
        let err = Config::load(Some(&file), env(&[]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("tls.identities[0].role"), "{err:#}");
        // One certificate, one role: a second mapping of the same name is refused, not last-wins.
        std::fs::write(
            &file,
            "[[tls.identities]]\ncommon_name = \"x\"\nrole = \"auditor\"\n[[tls.identities]]\ncommon_name = \"x \"\nrole = \"investigator\"\n",
        )
        .unwrap();
        let err = Config::load(Some(&file), env(&[]), Table::new()).unwrap_err();
        assert!(format!("{err:#}").contains("tls.identities[1].common_name"), "{err:#}");
        assert!(Config::default().tls_options().unwrap().is_none());
    }
}
