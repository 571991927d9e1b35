//! Who may call what, over mutual TLS: a tower layer in front of every service that maps the
//! client certificate to its role and lets each role call only its services. A certificate the
//! configuration does not map is refused UNAUTHENTICATED; a mapped role calling another role's
//! service is refused PERMISSION_DENIED, with the reason. Plaintext development mode (no TLS)
//! is not checked here: it exists only for development and says so at start.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use crate::consult::{Caller, Consultation, Identities, Recorder};

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

/// The decision for one request: `Ok`, or who asked and the status that refuses them.
pub fn decide(
    path: &str,
    certs: Option<&[tonic::transport::CertificateDer<'static>]>,
    ids: &Identities,
) -> Result<(), (Caller, tonic::Status)> {
    let Some(certs) = certs else {
        let who = Caller { principal: "no certificate".into(), role: "none".into() };
        return Err((who, tonic::Status::unauthenticated("a client certificate is required")));
    };
    let (cn, id) = ids.identify(certs);
    let Some(id) = id else {
        let who = Caller { principal: format!("unmapped:{cn}"), role: "none".into() };
        let status = tonic::Status::unauthenticated(format!(
            "the client certificate {cn:?} is not mapped to a principal in this ledger's configuration"
        ));
        return Err((who, status));
    };
    let service = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let roles = allowed(service);
    if roles.contains(&id.role.as_str()) {
        Ok(())
    } else {
        let status = tonic::Status::permission_denied(format!(
            "{cn} acts as {}; {service} is for {}",
            id.role,
            if roles.is_empty() { "nobody".to_string() } else { roles.join(", ") }
        ));
        Err((Caller { principal: cn, role: id.role.clone() }, status))
    }
}

/// The layer.
#[derive(Debug, Clone)]
pub struct AuthoriseLayer {
    pub identities: Arc<Identities>,
    /// Where refusals are recorded, like consultations (who tried what, and why it was refused).
    pub recorder: Recorder,
}

impl<S> tower::Layer<S> for AuthoriseLayer {
    type Service = Authorise<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Authorise { inner, identities: self.identities.clone(), recorder: self.recorder.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct Authorise<S> {
    inner: S,
    identities: Arc<Identities>,
    recorder: Recorder,
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
            Err((caller, status)) => {
                tracing::info!(path = %req.uri().path(), code = ?status.code(), "call refused");
                let recorder = self.recorder.clone();
                let call =
                    req.uri().path().trim_start_matches('/').trim_start_matches("beaconport.api.v1.").to_string();
                Box::pin(async move {
                    let refusal = Consultation {
                        caller,
                        purpose: "(refused before the request was read)".into(),
                        call: call.into(),
                        request: String::new(),
                        disclosed: Default::default(),
                        views_position: 0,
                        outcome: format!("refused: {}", status.message()),
                        as_of: String::new(),
                    };
                    // The refusal stands whether or not its record could be written.
                    if let Err(e) = recorder.record(refusal).await {
                        tracing::warn!(error = %e, "a refusal could not be recorded");
                    }
                    Ok(status.into_http())
                })
            }
        }
    }
}
