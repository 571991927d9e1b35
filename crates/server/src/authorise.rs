//! The gate in front of every service: who is calling, whether their role may make this call,
//! and whether they are within their limits.
//!
//! - **Who**: over mutual TLS, the client certificate's common name, mapped by configuration to
//!   a role (and for a force system its force). A certificate the configuration does not map is
//!   refused UNAUTHENTICATED. In plaintext development mode (which the server only runs when
//!   asked to explicitly), the claimed principal header or the peer address, and nothing is
//!   authorised.
//! - **What**: one table, [`CALLS`], names every call of the API and the roles it admits; a role
//!   outside it is refused PERMISSION_DENIED naming the role. Refusals are recorded in the ledger
//!   like consultations.
//! - **Limits**: requests per second per principal (a token bucket), streams open at once per
//!   principal, and a deadline per request. Over a limit the caller gets RESOURCE_EXHAUSTED (or
//!   DEADLINE_EXCEEDED) saying which limit, and the server goes on serving everyone else.
//! - **Transport errors in the caller's terms**: a request larger than the message limit is
//!   RESOURCE_EXHAUSTED and a request that is not protobuf is INVALID_ARGUMENT, instead of the
//!   OUT_OF_RANGE and INTERNAL that the gRPC library answers.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Code, Status};

use crate::consult::{Caller, Consultation, Identities, Recorder};

/// The roles a client certificate can be mapped to.
pub const ROLES: [&str; 4] = ["force", "investigator", "auditor", "operator"];

/// One call of the API: its path, the roles it admits, and whether it holds a stream open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub path: &'static str,
    pub roles: &'static [&'static str],
    pub streams: bool,
}

const FORCE: &[&str] = &["force"];
const INVESTIGATOR: &[&str] = &["investigator"];
const AUDITOR: &[&str] = &["auditor"];
/// Calls that disclose no personal data, only how far the ledger has got.
const PROGRESS: &[&str] = &["investigator", "auditor", "operator"];
const EVERYONE: &[&str] = &["force", "investigator", "auditor", "operator"];

const fn call(path: &'static str, roles: &'static [&'static str], streams: bool) -> Call {
    Call { path, roles, streams }
}

/// Every call of the API and who may make it. Force systems publish; investigators (the review
/// team among them) query and review; auditors replay, verify and read consultations; operators
/// see health and progress. A call not in this table is open to nobody.
pub const CALLS: &[Call] = &[
    call("/beaconport.api.v1.IngestService/Publish", FORCE, false),
    call("/beaconport.api.v1.IngestService/PublishStream", FORCE, true),
    call("/beaconport.api.v1.QueryService/SearchPersons", INVESTIGATOR, false),
    call("/beaconport.api.v1.QueryService/GetPerson", INVESTIGATOR, false),
    call("/beaconport.api.v1.QueryService/LinkedSuspects", INVESTIGATOR, false),
    call("/beaconport.api.v1.QueryService/GetNetwork", INVESTIGATOR, false),
    call("/beaconport.api.v1.QueryService/ListNetworks", INVESTIGATOR, false),
    call("/beaconport.api.v1.QueryService/DecideLink", INVESTIGATOR, false),
    call("/beaconport.api.v1.QueryService/ExportMentions", INVESTIGATOR, true),
    call("/beaconport.api.v1.QueryService/ViewStatus", PROGRESS, false),
    call("/beaconport.api.v1.ReviewService/GetQueue", INVESTIGATOR, false),
    call("/beaconport.api.v1.ReviewService/GetReviewCase", INVESTIGATOR, false),
    call("/beaconport.api.v1.ReviewService/RecordReview", INVESTIGATOR, false),
    call("/beaconport.api.v1.ReviewService/GetQuality", INVESTIGATOR, false),
    call("/beaconport.api.v1.ReviewService/GetRisk", INVESTIGATOR, false),
    call("/beaconport.api.v1.AuditService/Replay", AUDITOR, true),
    call("/beaconport.api.v1.AuditService/GetTreeHead", AUDITOR, false),
    call("/beaconport.api.v1.AuditService/InclusionProof", AUDITOR, false),
    call("/beaconport.api.v1.AuditService/ConsistencyProof", AUDITOR, false),
    call("/beaconport.api.v1.AuditService/ListConsultations", AUDITOR, false),
    call("/beaconport.api.v1.LogService/Read", AUDITOR, true),
    call("/beaconport.api.v1.LogService/Get", AUDITOR, false),
    call("/beaconport.api.v1.LogService/Head", PROGRESS, false),
    call("/grpc.health.v1.Health/Check", EVERYONE, false),
    call("/grpc.health.v1.Health/Watch", EVERYONE, true),
    call("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", EVERYONE, true),
];

/// The table's entry for a request path.
pub fn lookup(path: &str) -> Option<&'static Call> {
    CALLS.iter().find(|c| c.path == path)
}

/// The roles a call admits (none for a path the table does not name).
pub fn allowed(path: &str) -> &'static [&'static str] {
    lookup(path).map(|c| c.roles).unwrap_or(&[])
}

/// Who the gate admitted, put in the request's extensions for the services: the caller, and for
/// a force system the one force it may publish for. Services read it and nothing else, so a
/// certificate is looked up once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub caller: Caller,
    /// Over mutual TLS, the force this caller may publish for (`Some("")` for none); `None` in
    /// plaintext development mode.
    pub force: Option<String>,
}

/// The decision for one request over mutual TLS: who asked, or who asked and the status that
/// refuses them.
pub fn decide(
    path: &str,
    certs: Option<&[tonic::transport::CertificateDer<'static>]>,
    ids: &Identities,
) -> Result<Authenticated, (Caller, Status)> {
    let Some(certs) = certs else {
        let who = Caller { principal: "no certificate".into(), role: "none".into() };
        return Err((who, Status::unauthenticated("a client certificate is required")));
    };
    let (cn, id) = ids.identify(certs);
    let Some(id) = id else {
        let who = Caller { principal: format!("unmapped:{cn}"), role: "none".into() };
        let status = Status::unauthenticated(format!(
            "the client certificate {cn:?} is not mapped to a principal in this ledger's configuration"
        ));
        return Err((who, status));
    };
    let caller = Caller { principal: cn, role: id.role.clone() };
    let roles = allowed(path);
    if roles.contains(&id.role.as_str()) {
        Ok(Authenticated { caller, force: Some(id.force.clone().unwrap_or_default()) })
    } else {
        let status = Status::permission_denied(format!(
            "{} acts as {}; {} is for {}",
            caller.principal,
            id.role,
            path.trim_start_matches('/'),
            if roles.is_empty() { "nobody".to_string() } else { roles.join(", ") }
        ));
        Err((caller, status))
    }
}

/// The limits every caller is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests per second each principal may make, on average.
    pub requests_per_second: u32,
    /// Requests a principal may make at once beyond the average (the bucket's size).
    pub burst: u32,
    /// Streams (publish streams, replays, reads, exports, watches) one principal may hold open.
    pub streams_per_principal: u32,
    /// Longest a request may take to be answered (for a stream: to start answering).
    pub request_timeout: Duration,
    /// Largest request message, in bytes (the setting named in refusals).
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            requests_per_second: 1000,
            burst: 2000,
            streams_per_principal: 16,
            request_timeout: Duration::from_secs(60),
            max_message_bytes: 16 << 20,
        }
    }
}

type KeyedLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Most principals whose open streams are tracked before idle entries are dropped.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug)]
struct State {
    /// `None` in plaintext development mode: callers are not authorised, only limited.
    identities: Option<Arc<Identities>>,
    recorder: Recorder,
    limits: Limits,
    rate: KeyedLimiter,
    streams: Mutex<HashMap<String, Arc<Semaphore>>>,
    metrics: Arc<crate::operator::Metrics>,
}

/// The layer.
#[derive(Debug, Clone)]
pub struct AuthoriseLayer {
    state: Arc<State>,
}

impl AuthoriseLayer {
    /// A gate that authorises by client certificate when `identities` is given (mutual TLS),
    /// records refusals through `recorder`, and holds everyone to `limits`.
    pub fn new(
        identities: Option<Arc<Identities>>,
        recorder: Recorder,
        limits: Limits,
        metrics: Arc<crate::operator::Metrics>,
    ) -> Self {
        // Above a billion a second the bucket's refill interval would round to nothing.
        let per_second = NonZeroU32::new(limits.requests_per_second.clamp(1, 1_000_000_000)).expect("at least 1");
        let burst = NonZeroU32::new(limits.burst.max(1)).expect("at least 1");
        let rate = governor::RateLimiter::keyed(governor::Quota::per_second(per_second).allow_burst(burst));
        Self {
            state: Arc::new(State { identities, recorder, limits, rate, streams: Mutex::new(HashMap::new()), metrics }),
        }
    }
}

impl<S> tower::Layer<S> for AuthoriseLayer {
    type Service = Authorise<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Authorise { inner, state: self.state.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct Authorise<S> {
    inner: S,
    state: Arc<State>,
}

/// The caller of a plaintext request: the principal it claims, or its address.
fn claimed<B>(req: &http::Request<B>) -> Caller {
    let peer = req.extensions().get::<TcpConnectInfo>().and_then(|i| i.remote_addr());
    Caller::claimed(req.headers(), peer)
}

impl State {
    /// Takes a stream slot of `principal`, or says which limit is reached.
    fn open_stream(&self, principal: &str) -> Result<OwnedSemaphorePermit, Status> {
        let semaphore = {
            let mut streams = self.streams.lock();
            if streams.len() >= MAX_TRACKED {
                let full = self.limits.streams_per_principal as usize;
                streams.retain(|_, s| s.available_permits() < full);
            }
            streams
                .entry(principal.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.limits.streams_per_principal as usize)))
                .clone()
        };
        semaphore.try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "{principal} already holds {} streams open, the most allowed (limits.streams_per_principal): close one first",
                self.limits.streams_per_principal
            ))
        })
    }

    /// Spends one of `principal`'s requests, or says when the next one will be taken.
    fn spend(&self, principal: &str) -> Result<(), Status> {
        let key = principal.to_string();
        self.rate.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            Status::resource_exhausted(format!(
                "{principal} is over its limit of {} requests per second (limits.requests_per_second, burst {}): retry in {} ms",
                self.limits.requests_per_second,
                self.limits.burst,
                wait.as_millis().max(1)
            ))
        })
    }
}

/// Puts a status the gRPC library answered for a malformed request into the caller's terms: a
/// message over the size limit is RESOURCE_EXHAUSTED naming the setting, bytes that are not
/// the request's protobuf message are INVALID_ARGUMENT.
pub fn in_callers_terms(status: Status, max_message_bytes: usize) -> Status {
    let message = status.message();
    match status.code() {
        Code::OutOfRange if message.contains("message length too large") => Status::resource_exhausted(format!(
            "the request message is larger than this ledger accepts (grpc.max_message_bytes = {max_message_bytes}): {message}"
        )),
        Code::Internal if message.starts_with("failed to decode Protobuf message") => {
            Status::invalid_argument(format!("the request is not a valid protobuf message of its type: {message}"))
        }
        _ => status,
    }
}

/// A response body that keeps the caller's stream slot until the stream ends.
struct Held {
    body: tonic::body::Body,
    _slot: OwnedSemaphorePermit,
}

impl http_body::Body for Held {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
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

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let state = self.state.clone();
        let path = req.uri().path().to_string();
        let caller = match &state.identities {
            None => Ok(Authenticated { caller: claimed(&req), force: None }),
            Some(ids) => {
                let certs = req.extensions().get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|i| i.peer_certs());
                decide(&path, certs.as_deref().map(|v| v.as_slice()), ids)
            }
        };
        // Every request counts against its principal, refused ones too, so that a caller cannot
        // fill the ledger with records of its refusals.
        let principal = match &caller {
            Ok(Authenticated { caller: c, .. }) | Err((c, _)) => c.principal.clone(),
        };
        if let Err(status) = state.spend(&principal) {
            state.metrics.refused(status.code());
            tracing::warn!(%principal, %path, "request over the rate limit");
            return Box::pin(async move { Ok(status.into_http()) });
        }
        let admitted = match caller {
            Ok(a) => a,
            Err((caller, status)) => {
                state.metrics.refused(status.code());
                tracing::info!(%path, code = ?status.code(), "call refused");
                return Box::pin(async move {
                    let refusal = Consultation {
                        caller,
                        purpose: "(refused before the request was read)".into(),
                        call: path.trim_start_matches('/').trim_start_matches("beaconport.api.v1.").to_string().into(),
                        request: String::new(),
                        disclosed: Default::default(),
                        views_position: 0,
                        outcome: format!("refused: {}", status.message()),
                        as_of: String::new(),
                    };
                    // The refusal stands whether or not its record could be written.
                    if let Err(e) = state.recorder.record(refusal).await {
                        tracing::warn!(error = %e, "a refusal could not be recorded");
                    }
                    Ok(status.into_http())
                });
            }
        };
        let slot = match lookup(&path) {
            Some(c) if c.streams => match state.open_stream(&admitted.caller.principal) {
                Ok(slot) => Some(slot),
                Err(status) => {
                    state.metrics.refused(status.code());
                    tracing::warn!(principal = %admitted.caller.principal, %path, "stream over the limit");
                    return Box::pin(async move { Ok(status.into_http()) });
                }
            },
            _ => None,
        };
        req.extensions_mut().insert(admitted);
        let answer = self.inner.call(req);
        Box::pin(async move {
            let limit = state.limits.request_timeout;
            let response = match tokio::time::timeout(limit, answer).await {
                Ok(r) => r?,
                Err(_) => {
                    state.metrics.refused(Code::DeadlineExceeded);
                    return Ok(Status::deadline_exceeded(format!(
                        "{path} was not answered within {:.1} s (grpc.request_timeout_secs)",
                        limit.as_secs_f64()
                    ))
                    .into_http());
                }
            };
            // A status the library answered before the service saw the request comes in the
            // headers (a trailers-only response).
            if let Some(status) = Status::from_header_map(response.headers()) {
                let code = status.code();
                let restated = in_callers_terms(status, state.limits.max_message_bytes);
                if restated.code() != code {
                    state.metrics.refused(restated.code());
                    return Ok(restated.into_http());
                }
            }
            Ok(match slot {
                Some(slot) => response.map(|body| tonic::body::Body::new(Held { body, _slot: slot })),
                None => response,
            })
        })
    }
}
