//! Who may call what, over mutual TLS: a tower layer in front of every service that maps the
//! client certificate to its role and lets each role call only its services. A certificate the
//! configuration does not map is refused UNAUTHENTICATED; a mapped role calling another role's
//! service is refused PERMISSION_DENIED, with the reason. Plaintext development mode (no TLS)
//! is not checked here: it exists only for development and says so at start.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::consult::{common_name, Identities};

/// The roles each service admits, by gRPC service name.
pub fn allowed(service: &str) -> &'static [&'static str] {
    match service {
        "beaconport.api.v1.IngestService" => &["force"],
        "beaconport.api.v1.QueryService" | "beaconport.api.v1.ReviewService" => &["investigator"],
        "beaconport.api.v1.AuditService" | "beaconport.api.v1.LogService" => &["auditor"],
        "grpc.health.v1.Health" | "grpc.reflection.v1.ServerReflection" => {
            &["force", "investigator", "auditor", "operator"]
        }
        _ => &[],
    }
}

/// The decision for one request: `Ok` or the status that refuses it.
pub fn decide(
    path: &str,
    certs: Option<&[tonic::transport::CertificateDer<'static>]>,
    ids: &Identities,
) -> Result<(), tonic::Status> {
    let Some(certs) = certs else {
        return Err(tonic::Status::unauthenticated("a client certificate is required"));
    };
    let cn = certs.first().and_then(|c| common_name(c.as_ref())).unwrap_or_default();
    let Some(id) = ids.by_common_name.get(&cn) else {
        return Err(tonic::Status::unauthenticated(format!(
            "the client certificate {cn:?} is not mapped to a principal in this ledger's configuration"
        )));
    };
    let service = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let roles = allowed(service);
    if roles.contains(&id.role.as_str()) {
        Ok(())
    } else {
        Err(tonic::Status::permission_denied(format!(
            "{cn} acts as {}; {service} is for {}",
            id.role,
            if roles.is_empty() { "nobody".to_string() } else { roles.join(", ") }
        )))
    }
}

/// The layer.
#[derive(Debug, Clone)]
pub struct AuthoriseLayer {
    pub identities: Arc<Identities>,
}

impl<S> tower::Layer<S> for AuthoriseLayer {
    type Service = Authorise<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Authorise { inner, identities: self.identities.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct Authorise<S> {
    inner: S,
    identities: Arc<Identities>,
}

impl<S, B> tower::Service<http::Request<B>> for Authorise<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>> + Send,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let certs = req.extensions().get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|i| i.peer_certs());
        match decide(req.uri().path(), certs.as_deref().map(|v| v.as_slice()), &self.identities) {
            Ok(()) => Box::pin(self.inner.call(req)),
            Err(status) => {
                tracing::info!(path = %req.uri().path(), code = ?status.code(), "call refused");
                let response = status.into_http();
                Box::pin(async move { Ok(response) })
            }
        }
    }
}
