//! The only crate that knows gRPC: the ingest and log services, health and reflection, the one
//! table from errors to gRPC status codes, and graceful shutdown.
//!
//! The log backend is injected as an `Arc<dyn EventLog>` (or, for a process that only writes to
//! a Kafka topic, an `Arc<dyn Publisher>`: [`serve_writer`]); this crate must not depend on any
//! backend (sled, rdkafka).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use beaconport_log::{EventLog, Publisher};
use beaconport_proto::pb::{api, wire};
use beaconport_views::Live;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tracing::info;

mod audit;
pub mod authorise;
mod consult;
mod error;
mod ingest;
mod logsvc;
pub mod operator;
mod query;
mod review;
pub mod web;

pub use audit::{check_inclusion, head_from_pb, head_to_pb, Audit};
pub use consult::{common_name, Caller, Identities, Identity, PRINCIPAL_HEADER, ROLE_HEADER};
pub use error::{status, Error, Result};
pub use ingest::Ingest;
pub use logsvc::LogReader;
pub use query::Query;
pub use review::{ReviewApi, INSPECTORATE_FLAGGED_SHARE};
pub mod review_answers {
    //! The review's answers as the API gives them, for the CLI's offline report and tests.
    pub use crate::review::{force_quality, item, quality, queue, review_case, risk_item};
}

/// How the gRPC server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// What every caller is held to: message size, rate, open streams, deadline.
    pub limits: authorise::Limits,
    /// Most events in one published batch (more is refused RESOURCE_EXHAUSTED).
    pub max_batch_events: usize,
    /// Most concurrent streams per connection.
    pub max_concurrent_streams: u32,
    /// Force code under which the ledger records its own consultations (a principal of no force).
    pub ledger_force: String,
    /// The key that signs tree heads.
    pub signer: Arc<beaconport_log::head::Signer>,
    /// Mutual TLS: the server's certificate and the CA whose client certificates are accepted.
    pub tls: Option<Tls>,
    /// Serve plaintext, where any caller can claim any identity (development only). Without TLS
    /// the server refuses to start unless this is set.
    pub insecure_plaintext: bool,
    /// Where the services count what they do (reported by the operator endpoint).
    pub metrics: Arc<operator::Metrics>,
    /// Serve IngestService (the `ingest` role). A process of the `query` role alone leaves it out.
    pub ingest: bool,
}

/// Mutual TLS settings, as PEM text.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert_pem: String,
    pub key_pem: String,
    /// The CA that signs client certificates; every client must present one.
    pub client_ca_pem: String,
    pub identities: Arc<Identities>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: authorise::Limits::default(),
            max_batch_events: beaconport_domain::rules::MAX_BATCH,
            max_concurrent_streams: 256,
            ledger_force: "NCA".into(),
            // A key for this process only; a deployment loads its own (`[audit] signing_key`).
            signer: Arc::new(beaconport_log::head::Signer::from_seed(rand_seed())),
            tls: None,
            insecure_plaintext: false,
            metrics: Arc::new(operator::Metrics::default()),
            ingest: true,
        }
    }
}

/// The services that answer over the views, built once per process so that gRPC and the browser
/// workspace share them (one review cache, one background refresh).
#[derive(Clone, Debug)]
pub struct Services {
    /// QueryService, with views.
    pub query: Option<Query>,
    /// ReviewService, with views.
    pub review: Option<ReviewApi>,
    /// AuditService (view rebuilds only with views); `None` where no log is held.
    pub audit: Option<Audit>,
}

impl Services {
    /// The services over `log` and, when the process has them, its views.
    pub fn new(log: &Arc<dyn EventLog>, views: Option<Arc<dyn Live>>, options: &Options) -> Self {
        let identities = options.tls.as_ref().map(|t| t.identities.clone()).unwrap_or_default();
        let query = views.clone().map(|p| {
            let ledger = Ingest::new(log.clone()).with_metrics(options.metrics.clone());
            Query::with_identities(p, ledger, &options.ledger_force, identities)
        });
        Self {
            review: query.clone().map(ReviewApi::new),
            query,
            audit: Some(Audit::new(log.clone(), options.signer.clone(), views)),
        }
    }
}

/// Serves the gRPC API on `listener` until `shutdown` resolves, then stops taking requests and
/// lets the requests in flight finish (their batches are committed and acknowledged).
/// With a projector, QueryService is served too.
pub async fn serve(
    listener: TcpListener,
    log: Arc<dyn EventLog>,
    projector: Option<Arc<dyn Live>>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let services = Services::new(&log, projector, &options);
    serve_services(listener, log, services, options, shutdown).await
}

/// [`serve`] with services already built (shared with the browser workspace).
pub async fn serve_services(
    listener: TcpListener,
    log: Arc<dyn EventLog>,
    services: Services,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let publisher = beaconport_log::of_log(log.clone());
    serve_ledger(listener, publisher, Some((log, services)), options, shutdown).await
}

/// Serves IngestService alone (with health and reflection) over a writer that holds no copy of
/// the log: the ingest role over Kafka. There is no log here to read, audit or query: those
/// services are served by the processes that hold a replica (the query role).
pub async fn serve_writer(
    listener: TcpListener,
    writer: Arc<dyn Publisher>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_ledger(listener, writer, None, options, shutdown).await
}

async fn serve_ledger(
    listener: TcpListener,
    publisher: Arc<dyn Publisher>,
    held: Option<(Arc<dyn EventLog>, Services)>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = listener.local_addr().map_err(|e| Error::Transport(e.to_string()))?;
    if options.tls.is_none() && !options.insecure_plaintext {
        return Err(Error::Transport(
            "no TLS configured: the ledger serves mutual TLS, or plaintext only when asked to explicitly (insecure_plaintext)"
                .into(),
        ));
    }
    let max_message_bytes = options.limits.max_message_bytes;
    let (health, health_service) = tonic_health::server::health_reporter();
    if options.ingest {
        health.set_serving::<wire::ingest_service_server::IngestServiceServer<Ingest>>().await;
    }
    if held.is_some() {
        health.set_serving::<api::log_service_server::LogServiceServer<LogReader>>().await;
    }
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(beaconport_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| Error::Transport(e.to_string()))?;

    // IngestService is served through its wire view (events as raw bytes); see `ingest`.
    let (log, services) = held.unzip();
    let Services { query, review, audit } = match services {
        Some(s) => s,
        None => Services { query: None, review: None, audit: None },
    };
    let review = review.map(|r| {
        api::review_service_server::ReviewServiceServer::new(r)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    });
    let query = query.map(|q| {
        api::query_service_server::QueryServiceServer::new(q)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    });
    if query.is_some() {
        health.set_serving::<api::query_service_server::QueryServiceServer<Query>>().await;
        health.set_serving::<api::review_service_server::ReviewServiceServer<ReviewApi>>().await;
    }
    let publishers = match &options.tls {
        Some(tls) => Ingest::with_identities(publisher.clone(), tls.identities.clone()),
        None => Ingest::over(publisher.clone()),
    }
    .with_max_batch(options.max_batch_events, max_message_bytes)
    .with_metrics(options.metrics.clone());
    let ingest = options.ingest.then(|| {
        wire::ingest_service_server::IngestServiceServer::new(publishers)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    });
    let audit = audit.map(|audit| {
        api::audit_service_server::AuditServiceServer::new(audit)
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    });
    if audit.is_some() {
        health.set_serving::<api::audit_service_server::AuditServiceServer<Audit>>().await;
    }
    let reader = log.map(|log| {
        api::log_service_server::LogServiceServer::new(LogReader::new(log))
            .max_decoding_message_size(max_message_bytes)
            .max_encoding_message_size(max_message_bytes)
    });

    let mut builder = tonic::transport::Server::builder();
    let gate = authorise::AuthoriseLayer::new(
        options.tls.as_ref().map(|t| t.identities.clone()),
        consult::Recorder::new(Ingest::over(publisher), &options.ledger_force),
        options.limits.clone(),
        options.metrics.clone(),
    );
    match &options.tls {
        Some(tls) => {
            let config = tonic::transport::ServerTlsConfig::new()
                .identity(tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem))
                .client_ca_root(tonic::transport::Certificate::from_pem(&tls.client_ca_pem));
            builder = builder.tls_config(config).map_err(|e| Error::Transport(format!("TLS: {e}")))?;
            info!(%addr, identities = tls.identities.by_common_name.len(), "grpc serving over mutual TLS");
        }
        None => tracing::warn!(%addr, "grpc serving plaintext: any caller can claim any identity (development only)"),
    }
    builder
        .layer(gate)
        // Batches are hundreds of KiB: let HTTP/2 flow control grow its windows to fit them
        // instead of stalling each request on window updates.
        .http2_adaptive_window(Some(true))
        .max_concurrent_streams(options.max_concurrent_streams)
        .add_service(health_service)
        .add_service(reflection)
        .add_optional_service(ingest)
        .add_optional_service(reader)
        .add_optional_service(audit)
        .add_optional_service(query)
        .add_optional_service(review)
        // No Nagle: acknowledgements are small and latency-bound (40 ms delayed-ACK stalls).
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), shutdown)
        .await
        .map_err(|e| Error::Transport(e.to_string()))?;
    info!(%addr, "grpc stopped");
    Ok(())
}

fn rand_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed
}

/// Binds `addr` (use port 0 for any free port).
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| Error::Transport(format!("binding {addr}: {e}")))
}
