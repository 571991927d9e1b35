//! What operators see, on an HTTP port of its own: `/metrics` (Prometheus text format),
//! `/healthz` (the process answers) and `/readyz` (the ledger serves and, where views run, they
//! are close enough to the log's head to answer).
//!
//! Counters are kept by the services as they work (publishes, rejected events by field, refused
//! calls by code, queries); positions and lag are read at each scrape. No label ever carries
//! personal data: fields are schema paths, calls are method names, codes are gRPC codes.

use std::net::SocketAddr;
use std::sync::Arc;

use beaconport_log::{EventLog, Publisher};
use beaconport_views::Live;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// The ledger's metrics, shared by the services that count and the endpoint that reports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Publish calls (unary batches and stream batches) by outcome: accepted, rejected, limited, failed.
    pub publish_batches: Family<Labels, Counter>,
    /// Events stored new, and events acknowledged as already stored (retries).
    pub events_stored: Counter,
    pub events_duplicate: Counter,
    /// Problems found in rejected batches, by field path (`person_recorded.date_of_birth`).
    pub rejected_events: Family<Labels, Counter>,
    /// Seconds from a batch's arrival to its acknowledgement (validated, stored, flushed).
    pub publish_seconds: Histogram,
    /// Calls refused at the gate, by gRPC code.
    pub refused_calls: Family<Labels, Counter>,
    /// Investigators' and auditors' calls answered, by call.
    pub answered_queries: Family<Labels, Counter>,
    /// The log's gauges, reported only by a process that holds the log (a writer has none).
    log_registry: Registry,
    /// The tamper-evident tree's gauge: only where the log keeps one.
    tree_registry: Registry,
    log_head: Gauge,
    tree_size: Gauge,
    /// The views' gauges, reported only by a process that runs views.
    views_registry: Registry,
    views_applied: Gauge,
    views_lag: Gauge,
    /// The log backend's own gauges ([`EventLog::gauges`]), by name.
    backend: Family<Labels, Gauge>,
    /// The log backend's own counters ([`EventLog::counters`]), by name.
    backend_counts: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("beaconport");
        let publish_batches = Family::<Labels, Counter>::default();
        registry.register("publish_batches", "Published batches, by outcome", publish_batches.clone());
        let events_stored = Counter::default();
        registry.register("events_stored", "Events stored new", events_stored.clone());
        let events_duplicate = Counter::default();
        registry.register(
            "events_duplicate",
            "Events acknowledged as already stored (retried publishes)",
            events_duplicate.clone(),
        );
        let rejected_events = Family::<Labels, Counter>::default();
        registry.register(
            "rejected_event_problems",
            "Problems found in rejected batches, by field",
            rejected_events.clone(),
        );
        let publish_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "publish_seconds",
            "Seconds from a batch's arrival to its acknowledgement",
            publish_seconds.clone(),
        );
        let refused_calls = Family::<Labels, Counter>::default();
        registry.register("refused_calls", "Calls refused at the gate, by gRPC code", refused_calls.clone());
        let answered_queries = Family::<Labels, Counter>::default();
        registry.register(
            "answered_queries",
            "Queries answered (each recorded as a consultation), by call",
            answered_queries.clone(),
        );
        let mut log_registry = Registry::with_prefix("beaconport");
        let log_head = Gauge::default();
        log_registry.register(
            "log_head_position",
            "Events stored in the log (the next event's position)",
            log_head.clone(),
        );
        let tree_size = Gauge::default();
        let mut tree_registry = Registry::with_prefix("beaconport");
        tree_registry.register("tree_size", "Events covered by the tamper-evident tree", tree_size.clone());
        let mut views_registry = Registry::with_prefix("beaconport");
        let views_applied = Gauge::default();
        views_registry.register("views_applied_position", "Events applied to the views", views_applied.clone());
        let views_lag = Gauge::default();
        views_registry.register(
            "views_lag_events",
            "Events stored but not yet applied to the views",
            views_lag.clone(),
        );
        let backend = Family::<Labels, Gauge>::default();
        registry.register(
            "log_backend",
            "The log backend's own gauges, by name (Kafka: producer queue depth, replica lag in records)",
            backend.clone(),
        );
        let backend_counts = Family::<Labels, Counter>::default();
        registry.register(
            "log_backend_count",
            "The log backend's own counters since the process opened it, by name (the embedded log: sled_appends, sled_flushes)",
            backend_counts.clone(),
        );
        Self {
            registry,
            publish_batches,
            events_stored,
            events_duplicate,
            rejected_events,
            publish_seconds,
            refused_calls,
            answered_queries,
            log_registry,
            tree_registry,
            log_head,
            tree_size,
            views_registry,
            views_applied,
            views_lag,
            backend,
            backend_counts,
        }
    }
}

impl Metrics {
    /// Counts a publish outcome.
    pub fn batch(&self, outcome: &'static str) {
        self.publish_batches.get_or_create(&vec![("outcome", outcome.to_string())]).inc();
    }

    /// Counts one problem of a rejected batch, by its field (without the event's index).
    pub fn rejected_field(&self, field: &str) {
        self.rejected_events.get_or_create(&vec![("field", field.to_string())]).inc();
    }

    /// Counts a refusal at the gate.
    pub fn refused(&self, code: tonic::Code) {
        self.refused_calls.get_or_create(&vec![("code", format!("{code:?}"))]).inc();
    }

    /// Counts an answered query.
    pub fn answered(&self, call: &str) {
        self.answered_queries.get_or_create(&vec![("call", call.to_string())]).inc();
    }

    /// The text exposition, with positions read now. Positions are reported only where they
    /// are held: a writer (no log) reports no log head, a node without views no views' lag,
    /// rather than a zero that would read as "empty" or "caught up".
    pub fn render(&self, ledger: &Ledger, views: Option<&dyn Live>) -> String {
        for (name, value) in ledger.gauges() {
            self.backend.get_or_create(&vec![("gauge", name.to_string())]).set(value);
        }
        for (name, value) in ledger.counters() {
            // The backend counts; the counter catches up with it (it never goes down).
            let counter = self.backend_counts.get_or_create(&vec![("counter", name.to_string())]);
            counter.inc_by(value.saturating_sub(counter.get()));
        }
        let mut out = String::new();
        encode_registry(&mut out, &self.registry).expect("writing to a string");
        if let Ledger::Log(log) = ledger {
            let head = log.head().0;
            self.log_head.set(head as i64);
            encode_registry(&mut out, &self.log_registry).expect("writing to a string");
            if let Some(tree) = log.tree() {
                self.tree_size.set(tree.size() as i64);
                encode_registry(&mut out, &self.tree_registry).expect("writing to a string");
            }
            if let Some(v) = views {
                let applied = v.applied().0;
                self.views_applied.set(applied as i64);
                self.views_lag.set(head.saturating_sub(applied) as i64);
                encode_registry(&mut out, &self.views_registry).expect("writing to a string");
            }
        }
        encode_eof(&mut out).expect("writing to a string");
        out
    }
}

/// What a process holds of the ledger.
#[derive(Clone)]
pub enum Ledger {
    /// The log (embedded, or this process's replica of a Kafka topic).
    Log(Arc<dyn EventLog>),
    /// Only a writer to the log (the ingest role alone over Kafka).
    Writer(Arc<dyn Publisher>),
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Log(_) => "Ledger::Log",
            Self::Writer(_) => "Ledger::Writer",
        })
    }
}

impl Ledger {
    fn gauges(&self) -> Vec<(&'static str, i64)> {
        match self {
            Self::Log(log) => log.gauges(),
            Self::Writer(w) => w.gauges(),
        }
    }

    fn counters(&self) -> Vec<(&'static str, u64)> {
        match self {
            Self::Log(log) => log.counters(),
            Self::Writer(_) => Vec::new(),
        }
    }
}

/// What the operator endpoint reads.
#[derive(Clone)]
pub struct Operator {
    pub metrics: Arc<Metrics>,
    pub log: Ledger,
    pub views: Option<Arc<dyn Live>>,
    /// Views further behind the log than this are not ready to answer.
    pub ready_max_lag: u64,
    /// The browser workspace, served on the same port (nodes that run views).
    pub web: Option<Arc<crate::web::Workspace>>,
    /// Serve the port over TLS with the ledger's certificate. Client certificates signed by the
    /// client CA are asked for but not required: the workspace knows its users by them, while
    /// probes and scrapers without one still reach `/healthz`, `/readyz` and `/metrics`.
    pub tls: Option<crate::Tls>,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator").field("ready_max_lag", &self.ready_max_lag).finish_non_exhaustive()
    }
}

impl Operator {
    /// Whether the ledger is ready to answer, and why not.
    pub fn readiness(&self) -> Result<String, String> {
        let log = match &self.log {
            Ledger::Log(log) => log,
            Ledger::Writer(w) => {
                return w.ready().map(|()| "ready: writing to the log, which this node holds no copy of".into())
            }
        };
        log.health().map_err(|why| format!("not ready: {why}"))?;
        let head = log.head().0;
        match &self.views {
            None => Ok(format!("ready: log at {head}, no views on this node")),
            Some(v) => {
                let lag = head.saturating_sub(v.applied().0);
                if lag <= self.ready_max_lag {
                    Ok(format!("ready: log at {head}, views {lag} events behind"))
                } else {
                    Err(format!(
                        "not ready: views are {lag} events behind the log (at most {} to be ready)",
                        self.ready_max_lag
                    ))
                }
            }
        }
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until `shutdown` resolves.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    operator: Operator,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::get;
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    let web = operator.web.clone();
    let tls = operator.tls.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(|axum::extract::State(op): axum::extract::State<Operator>| async move {
                let text = op.metrics.render(&op.log, op.views.as_deref());
                ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|axum::extract::State(op): axum::extract::State<Operator>| async move {
                match op.readiness() {
                    Ok(why) => (StatusCode::OK, why + "\n").into_response(),
                    Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why + "\n").into_response(),
                }
            }),
        )
        .with_state(operator);
    let app = match web {
        Some(ws) => app.merge(crate::web::router(ws)),
        None => app,
    };
    tracing::info!(addr = ?addr, tls = tls.is_some(), "operator endpoint serving /metrics, /healthz, /readyz");
    match tls {
        None => axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|e| crate::Error::Transport(format!("operator endpoint: {e}"))),
        Some(tls) => serve_tls(listener, app, &tls, shutdown).await,
    }
}

/// The rustls configuration of the HTTP port: the ledger's certificate, and client
/// certificates of the client CA verified when presented.
pub fn tls_config(tls: &crate::Tls) -> crate::Result<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| crate::Error::Transport(format!("HTTP port TLS: {what}: {e}"));
    let certs = CertificateDer::pem_slice_iter(tls.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("the server certificate", &e))?;
    let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes()).map_err(|e| bad("the server key", &e))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(tls.client_ca_pem.as_bytes()) {
        roots.add(ca.map_err(|e| bad("the client CA", &e))?).map_err(|e| bad("the client CA", &e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| bad("the client verifier", &e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("protocol versions", &e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| bad("the server certificate and key", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app` over TLS: each connection's client certificate (if any) is read once, and its
/// common name handed to every request of the connection.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: &crate::Tls,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(tls)?));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "operator endpoint: accepting a connection failed");
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "operator endpoint: TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let cn = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| crate::consult::common_name(c.as_ref()));
            let app = match cn {
                Some(cn) => app.layer(axum::Extension(crate::web::PeerCommonName(cn))),
                None => app,
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "operator endpoint: connection ended with an error");
            }
        });
    }
}
