//! The investigator's and reviewer's workspace in the browser, served on the HTTP port beside the
//! operator endpoint: a single page (HTML, JavaScript, CSS and Cytoscape.js, all embedded in the
//! binary, so no request ever leaves for the internet) over a JSON bridge to the very same
//! services the gRPC API serves.
//!
//! - **Who**: the same identities and roles as the gRPC API. Over mutual TLS the browser's client
//!   certificate is mapped by the identities file; in plaintext development mode the user claims
//!   a principal and a role at sign-in, exactly as a plaintext gRPC caller claims them in headers.
//!   A session is a random token in an `HttpOnly`, `SameSite=Strict` cookie; it ends at sign-out,
//!   after [`SESSION_IDLE`] unused or [`SESSION_MAX`] after sign-in.
//! - **What**: `POST /api/call/{Service}/{Method}` takes the request message in proto3 JSON and
//!   answers the response in proto3 JSON. The gate's table ([`crate::authorise::CALLS`]) decides
//!   which roles may make the call; a refusal is recorded in the ledger like the gate's.
//! - **Consultations**: QueryService and ReviewService record every answer themselves (purpose in
//!   `context.purpose`, as over gRPC). The auditor's calls that disclose personal data (the
//!   consultation lists, replay) are recorded here, with the purpose the page sends in the
//!   `x-beaconport-purpose` header.
//! - **Verification**: `POST /api/verify` recomputes the tamper-evident tree from every stored
//!   event and checks it against the ledger's signed tree head now, and against a head the auditor
//!   saved earlier (its signature under the ledger's key, and the root of its first N events).

// Handlers answer with a response on every path, errors included: an error here *is* the
// response the page reads, so it is returned as one rather than boxed.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use beaconport_log::head::{SignedHead, Signer};
use beaconport_log::merkle::RootBuilder;
use beaconport_log::{EventLog, Position};
use beaconport_proto::pb::{api, event as pb};
use futures::StreamExt;
use parking_lot::Mutex;
use prost::Message;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::{head_to_pb, Audit};
use crate::authorise::{self, Authenticated, ROLES};
use crate::consult::{Caller, Consultation, Disclosed, Identities, Recorder};
use crate::ingest::Ingest;
use crate::query::Query;
use crate::review::ReviewApi;

/// Name of the session cookie.
const COOKIE: &str = "bp_session";
/// Header carrying the purpose of an auditor's call.
pub const PURPOSE_HEADER: &str = "x-beaconport-purpose";
/// Most sessions held at once; the oldest go first beyond it.
const MAX_SESSIONS: usize = 10_000;
/// Most events one replay page shows.
const MAX_REPLAY: u64 = 1_000;

const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const APP_CSS: &str = include_str!("../web/app.css");
const CYTOSCAPE_JS: &str = include_str!("../web/vendor/cytoscape.min.js");

/// How the workspace learns who its user is.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Plaintext development mode: the user claims a principal and a role (anyone can claim
    /// anything; the server only runs so when asked to explicitly).
    Claimed,
    /// Mutual TLS: the client certificate, mapped by the identities file.
    Certificate(Arc<Identities>),
}

/// The workspace: the services it bridges to, and its sessions.
pub struct Workspace {
    query: Query,
    review: ReviewApi,
    audit: Audit,
    log: Arc<dyn EventLog>,
    signer: Arc<Signer>,
    recorder: Recorder,
    sign_in: SignIn,
    sessions: Mutex<Sessions>,
    /// The gRPC API's limits, held per principal here too (a browser is no way around them).
    limits: authorise::Limits,
    rate: governor::DefaultKeyedRateLimiter<String>,
    /// How long a session lasts unused, and at most.
    session_idle: Duration,
    session_max: Duration,
}

#[derive(Default)]
struct Sessions {
    by_token: HashMap<String, Session>,
    next: u64,
}

struct Session {
    /// Order of opening (the oldest goes first when too many are open).
    n: u64,
    caller: Caller,
    opened: Instant,
    seen: Instant,
}

/// A session unused this long is over (development mode: certificates need none).
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// A session is over this long after sign-in, however busy.
pub const SESSION_MAX: Duration = Duration::from_secs(12 * 60 * 60);

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace").field("sign_in", &self.sign_in).finish_non_exhaustive()
    }
}

impl Workspace {
    /// The workspace over `log` and the services the gRPC server answers with (which need views:
    /// `None` without them), with the server's options (identities, ledger force, signing key,
    /// metrics).
    pub fn new(log: Arc<dyn EventLog>, services: &crate::Services, options: &crate::Options) -> Option<Self> {
        let identities = options.tls.as_ref().map(|t| t.identities.clone()).unwrap_or_default();
        let ingest = Ingest::new(log.clone()).with_metrics(options.metrics.clone());
        Some(Self {
            review: services.review.clone()?,
            query: services.query.clone()?,
            audit: services.audit.clone()?,
            log,
            signer: options.signer.clone(),
            recorder: Recorder::new(ingest, &options.ledger_force),
            sign_in: match &options.tls {
                Some(_) => SignIn::Certificate(identities),
                None => SignIn::Claimed,
            },
            sessions: Mutex::new(Sessions::default()),
            rate: governor::RateLimiter::keyed(
                governor::Quota::per_second(
                    std::num::NonZeroU32::new(options.limits.requests_per_second.clamp(1, 1_000_000_000))
                        .expect("at least 1"),
                )
                .allow_burst(std::num::NonZeroU32::new(options.limits.burst.max(1)).expect("at least 1")),
            ),
            limits: options.limits.clone(),
            session_idle: SESSION_IDLE,
            session_max: SESSION_MAX,
        })
    }

    /// The workspace with other session lifetimes (unused, and at most).
    pub fn with_session_limits(mut self, idle: Duration, max: Duration) -> Self {
        self.session_idle = idle;
        self.session_max = max;
        self
    }

    /// Spends one of `caller`'s requests, or says which limit they are over.
    fn spend(&self, caller: &Caller) -> Result<(), Response> {
        self.rate.check_key(&caller.principal).map_err(|_| {
            problem(
                StatusCode::TOO_MANY_REQUESTS,
                "resource_exhausted",
                &format!(
                    "{} is over its limit of {} requests per second (limits.requests_per_second, burst {})",
                    caller.principal, self.limits.requests_per_second, self.limits.burst
                ),
            )
        })
    }

    /// Who is asking: the session's user (claimed mode) or the client certificate's identity.
    fn caller(&self, headers: &HeaderMap, peer_cn: Option<&str>) -> Option<Caller> {
        match &self.sign_in {
            SignIn::Certificate(ids) => {
                let cn = peer_cn?;
                let id = ids.by_common_name.get(cn)?;
                Some(Caller { principal: cn.to_string(), role: id.role.clone() })
            }
            SignIn::Claimed => {
                let token = cookie(headers, COOKIE)?;
                let mut sessions = self.sessions.lock();
                let now = Instant::now();
                let session = sessions.by_token.get_mut(&token)?;
                if now.duration_since(session.seen) > self.session_idle
                    || now.duration_since(session.opened) > self.session_max
                {
                    sessions.by_token.remove(&token);
                    return None;
                }
                session.seen = now;
                Some(session.caller.clone())
            }
        }
    }

    fn open_session(&self, caller: Caller) -> String {
        let token = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let mut s = self.sessions.lock();
        if s.by_token.len() >= MAX_SESSIONS {
            if let Some(oldest) = s.by_token.iter().min_by_key(|(_, x)| x.n).map(|(t, _)| t.clone()) {
                s.by_token.remove(&oldest);
            }
        }
        s.next += 1;
        let n = s.next;
        let now = Instant::now();
        s.by_token.insert(token.clone(), Session { n, caller, opened: now, seen: now });
        token
    }

    /// Records a refusal in the ledger, as the gate does for gRPC calls.
    async fn refuse(&self, caller: &Caller, call: &str, why: String) -> Response {
        tracing::info!(call, role = %caller.role, "workspace call refused");
        let recorded = self
            .recorder
            .record(Consultation {
                caller: caller.clone(),
                purpose: "(refused before the request was read)".into(),
                call: call.to_string().into(),
                request: String::new(),
                disclosed: Disclosed::default(),
                views_position: 0,
                outcome: format!("refused: {why}"),
                as_of: String::new(),
            })
            .await;
        if let Err(e) = recorded {
            return problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &e.to_string());
        }
        problem(StatusCode::FORBIDDEN, "permission_denied", &why)
    }
}

/// The peer's certificate common name, put in request extensions by the TLS acceptor.
#[derive(Debug, Clone)]
pub struct PeerCommonName(pub String);

/// The workspace's routes (merged into the HTTP port's router).
pub fn router(ws: Arc<Workspace>) -> axum::Router {
    axum::Router::new()
        .route("/", get(|| async { page(INDEX_HTML, "text/html; charset=utf-8") }))
        .route("/assets/app.js", get(|| async { page(APP_JS, "text/javascript; charset=utf-8") }))
        .route("/assets/app.css", get(|| async { page(APP_CSS, "text/css; charset=utf-8") }))
        .route("/assets/cytoscape.min.js", get(|| async { page(CYTOSCAPE_JS, "text/javascript; charset=utf-8") }))
        .route("/api/me", get(me))
        .route("/api/session", post(sign_in).delete(sign_out))
        .route("/api/call/{service}/{method}", post(call))
        .route("/api/verify", post(verify))
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(ws)
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// Headers that keep every byte of the page on this server: the content security policy lets the
/// page load and connect to its own origin only.
async fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
             connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// An error as the page shows it: a code and a sentence naming the field and the reason.
fn problem(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (status, axum::Json(json!({ "code": code, "message": message }))).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn from_status(s: &tonic::Status) -> Response {
    use tonic::Code as C;
    let status = match s.code() {
        C::InvalidArgument | C::OutOfRange => StatusCode::BAD_REQUEST,
        C::NotFound => StatusCode::NOT_FOUND,
        C::AlreadyExists | C::Aborted => StatusCode::CONFLICT,
        C::PermissionDenied => StatusCode::FORBIDDEN,
        C::Unauthenticated => StatusCode::UNAUTHORIZED,
        C::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        C::FailedPrecondition => StatusCode::PRECONDITION_FAILED,
        C::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        C::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        C::Ok | C::Cancelled | C::Unknown | C::Unimplemented | C::Internal | C::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    problem(status, &format!("{:?}", s.code()).to_lowercase(), s.message())
}

fn json_ok(v: Value) -> Response {
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_string())
    })
}

fn peer_cn(ext: &axum::http::Extensions) -> Option<&str> {
    ext.get::<PeerCommonName>().map(|p| p.0.as_str())
}

async fn me(State(ws): State<Arc<Workspace>>, req: axum::extract::Request) -> Response {
    let mode = match ws.sign_in {
        SignIn::Claimed => "claimed",
        SignIn::Certificate(_) => "certificate",
    };
    match ws.caller(req.headers(), peer_cn(req.extensions())) {
        Some(c) => json_ok(json!({ "principal": c.principal, "role": c.role, "sign_in": mode })),
        None => {
            let why = match mode {
                "claimed" => "not signed in: development mode, claim a principal and a role",
                _ => {
                    "no client certificate this ledger knows: present one its identities file maps (the workspace reads \
                     certificates when the HTTP port serves TLS: [http] tls = true)"
                }
            };
            let mut r = problem(StatusCode::UNAUTHORIZED, "unauthenticated", why);
            if let Ok(v) = HeaderValue::from_str(mode) {
                r.headers_mut().insert("x-beaconport-sign-in", v);
            }
            r
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInForm {
    principal: String,
    role: String,
}

async fn sign_in(State(ws): State<Arc<Workspace>>, body: axum::body::Bytes) -> Response {
    if !matches!(ws.sign_in, SignIn::Claimed) {
        return problem(
            StatusCode::BAD_REQUEST,
            "failed_precondition",
            "this ledger identifies its users by client certificate: there is nothing to sign in to",
        );
    }
    let form: SignInForm = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "invalid_argument", &format!("the sign-in form: {e}")),
    };
    let principal = form.principal.trim();
    if principal.is_empty() || principal.chars().count() > 200 {
        return problem(StatusCode::BAD_REQUEST, "invalid_argument", "principal: is required (at most 200 characters)");
    }
    if !ROLES.contains(&form.role.as_str()) {
        return problem(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            &format!("role: {:?} is not a role (one of {})", form.role, ROLES.join(", ")),
        );
    }
    let caller = Caller { principal: principal.to_string(), role: form.role };
    let token = ws.open_session(caller.clone());
    let mut r = json_ok(json!({ "principal": caller.principal, "role": caller.role, "sign_in": "claimed" }));
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn sign_out(State(ws): State<Arc<Workspace>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, COOKIE) {
        ws.sessions.lock().by_token.remove(&token);
    }
    let mut r = json_ok(json!({}));
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("bp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}

/// The caller of an API request, or the response that turns them away. JSON bodies only: a
/// cross-site form cannot send one without the browser asking this origin first.
fn admit(ws: &Workspace, req: &axum::extract::Request, posts: bool) -> Result<Caller, Response> {
    if posts {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_argument",
                "content-type: the workspace API takes application/json",
            ));
        }
    }
    ws.caller(req.headers(), peer_cn(req.extensions()))
        .ok_or_else(|| problem(StatusCode::UNAUTHORIZED, "unauthenticated", "not signed in"))
}

fn purpose_of(headers: &HeaderMap) -> Result<String, Response> {
    let p = headers.get(PURPOSE_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).unwrap_or_default();
    if p.is_empty() {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            "purpose: is required: say why you ask (an operation name or a reason)",
        ));
    }
    if p.chars().count() > 500 {
        return Err(problem(StatusCode::BAD_REQUEST, "invalid_argument", "purpose: is longer than 500 characters"));
    }
    Ok(p.to_string())
}

/// One call of the API in proto3 JSON.
async fn call(
    State(ws): State<Arc<Workspace>>,
    Path((service, method)): Path<(String, String)>,
    req: axum::extract::Request,
) -> Response {
    let caller = match admit(&ws, &req, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let path = format!("/beaconport.api.v1.{service}/{method}");
    let Some(entry) = authorise::lookup(&path) else {
        return problem(StatusCode::NOT_FOUND, "not_found", &format!("{service}/{method} is not a call of the API"));
    };
    if !entry.roles.contains(&caller.role.as_str()) {
        let why = format!("role {} may not call {service}/{method} (allowed: {})", caller.role, entry.roles.join(", "));
        return ws.refuse(&caller, &format!("{service}/{method}"), why).await;
    }
    if let Err(r) = ws.spend(&caller) {
        return r;
    }
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), ws.limits.max_message_bytes).await {
        Ok(b) => b,
        Err(e) => {
            let why = format!(
                "the request is larger than this ledger accepts (grpc.max_message_bytes = {}): {e}",
                ws.limits.max_message_bytes
            );
            return problem(StatusCode::PAYLOAD_TOO_LARGE, "resource_exhausted", &why);
        }
    };
    match tokio::time::timeout(ws.limits.request_timeout, dispatch(&ws, &caller, &service, &method, &body, &headers))
        .await
    {
        Ok(Ok(v)) => json_ok(v),
        Ok(Err(r)) => r,
        Err(_) => problem(
            StatusCode::GATEWAY_TIMEOUT,
            "deadline_exceeded",
            &format!("no answer within {} s (grpc.request_timeout_secs)", ws.limits.request_timeout.as_secs()),
        ),
    }
}

fn request<T>(caller: &Caller, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.extensions_mut().insert(Authenticated { caller: caller.clone(), force: None });
    r
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    let body = if body.is_empty() { b"{}".as_slice() } else { body };
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|e| {
        let field = e.path().to_string();
        let message = if field.is_empty() || field == "." {
            format!("the request message: {}", e.inner())
        } else {
            format!("{field}: {}", e.inner())
        };
        problem(StatusCode::BAD_REQUEST, "invalid_argument", &message)
    })
}

fn to_json<T: serde::Serialize>(r: Result<tonic::Response<T>, tonic::Status>) -> Result<Value, Response> {
    let m = r.map_err(|s| from_status(&s))?.into_inner();
    serde_json::to_value(m).map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", &e.to_string()))
}

async fn dispatch(
    ws: &Workspace,
    caller: &Caller,
    service: &str,
    method: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<Value, Response> {
    use api::audit_service_server::AuditService as _;
    use api::query_service_server::QueryService as _;
    use api::review_service_server::ReviewService as _;
    let (q, r, a) = (&ws.query, &ws.review, &ws.audit);
    macro_rules! unary {
        ($svc:expr, $method:ident) => {
            to_json($svc.$method(request(caller, parse(body)?)).await)
        };
    }
    match (service, method) {
        ("QueryService", "SearchPersons") => unary!(q, search_persons),
        ("QueryService", "GetPerson") => unary!(q, get_person),
        ("QueryService", "LinkedSuspects") => unary!(q, linked_suspects),
        ("QueryService", "GetNetwork") => unary!(q, get_network),
        ("QueryService", "ListNetworks") => unary!(q, list_networks),
        ("QueryService", "DecideLink") => unary!(q, decide_link),
        ("QueryService", "ViewStatus") => unary!(q, view_status),
        ("ReviewService", "GetQueue") => unary!(r, get_queue),
        ("ReviewService", "GetReviewCase") => unary!(r, get_review_case),
        ("ReviewService", "RecordReview") => unary!(r, record_review),
        ("ReviewService", "GetQuality") => unary!(r, get_quality),
        ("ReviewService", "GetRisk") => unary!(r, get_risk),
        ("AuditService", "GetTreeHead") => unary!(a, get_tree_head),
        ("AuditService", "ListConsultations") => {
            let purpose = purpose_of(headers)?;
            let req: api::ListConsultationsRequest = parse(body)?;
            let answer = to_json(a.list_consultations(request(caller, req.clone())).await);
            let mut disclosed = Disclosed::default();
            if let Ok(v) = &answer {
                for c in v["consultations"].as_array().into_iter().flatten() {
                    for p in c["consultation"]["disclosed_persons"].as_array().into_iter().flatten() {
                        disclosed.persons.insert(p.as_str().unwrap_or_default().to_string());
                    }
                }
                disclosed.count = v["consultations"].as_array().map_or(0, |c| c.len() as u64);
            }
            record(ws, caller, purpose, "AuditService/ListConsultations", &req, disclosed, &answer).await?;
            answer
        }
        ("AuditService", "Replay") => {
            let purpose = purpose_of(headers)?;
            let mut req: api::ReplayRequest = parse(body)?;
            req.limit = if req.limit == 0 { 100 } else { req.limit.min(MAX_REPLAY) };
            let answer = replay(a, caller, req.clone()).await;
            let mut disclosed = Disclosed::default();
            if let Ok(v) = &answer {
                for e in v["entries"].as_array().into_iter().flatten() {
                    let ev = &e["event"];
                    disclosed.cases.insert(format!(
                        "{}/{}",
                        ev["force_code"].as_str().unwrap_or_default(),
                        ev["case_ref"].as_str().unwrap_or_default()
                    ));
                }
                disclosed.count = v["entries"].as_array().map_or(0, |c| c.len() as u64);
            }
            record(ws, caller, purpose, "AuditService/Replay", &req, disclosed, &answer).await?;
            answer
        }
        _ => Err(problem(
            StatusCode::NOT_IMPLEMENTED,
            "unimplemented",
            &format!("{service}/{method} is not offered in the browser (use the gRPC API)"),
        )),
    }
}

/// Records an auditor's consultation before its answer is given.
fn record<'a, R: serde::Serialize + Sync>(
    ws: &'a Workspace,
    caller: &'a Caller,
    purpose: String,
    call: &'a str,
    req: &'a R,
    disclosed: Disclosed,
    answer: &Result<Value, Response>,
) -> impl std::future::Future<Output = Result<(), Response>> + Send + 'a {
    let outcome = match answer {
        Ok(_) => "ok".to_string(),
        Err(r) => format!("failed ({})", r.status()),
    };
    record_outcome(ws, caller, purpose, call, req, disclosed, outcome)
}

async fn record_outcome<R: serde::Serialize + Sync>(
    ws: &Workspace,
    caller: &Caller,
    purpose: String,
    call: &str,
    req: &R,
    disclosed: Disclosed,
    outcome: String,
) -> Result<(), Response> {
    ws.recorder
        .record(Consultation {
            caller: caller.clone(),
            purpose,
            call: call.to_string().into(),
            request: serde_json::to_string(req).unwrap_or_default(),
            disclosed,
            views_position: ws.log.head().0,
            outcome,
            as_of: String::new(),
        })
        .await
        .map(|_| ())
        .map_err(|e| problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &e.to_string()))
}

/// A page of replayed events, each decoded to proto3 JSON.
async fn replay(a: &Audit, caller: &Caller, req: api::ReplayRequest) -> Result<Value, Response> {
    use api::audit_service_server::AuditService as _;
    let mut stream = a.replay(request(caller, req)).await.map_err(|s| from_status(&s))?.into_inner();
    let mut entries = Vec::new();
    while let Some(item) = stream.next().await {
        let e = item.map_err(|s| from_status(&s))?;
        let event = pb::Event::decode(e.event.as_slice()).map_err(|err| {
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "data_loss",
                &format!("the event at position {} does not decode: {err}", e.position),
            )
        })?;
        entries.push(json!({
            "position": e.position,
            "appended_at": chrono::DateTime::from_timestamp_millis(e.appended_at_ms)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default(),
            "leaf_hash": hex(&e.leaf_hash),
            "event": serde_json::to_value(&event).unwrap_or_default(),
        }));
    }
    Ok(json!({ "entries": entries }))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VerifyForm {
    /// A head saved earlier, as `beaconport audit head` writes it (or as this page keeps it).
    #[serde(default)]
    saved: Option<Value>,
}

/// Reads a signed head in the JSON form the CLI writes: tree_size, root_hash (hex),
/// timestamp_ms, signature (hex), public_key (hex).
fn head_from_value(v: &Value) -> Result<SignedHead, String> {
    let hexfield = |name: &str, len: usize| -> Result<Vec<u8>, String> {
        let s = v[name].as_str().ok_or_else(|| format!("saved.{name}: is missing"))?;
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .filter(|b| b.len() == len && s.len() == 2 * len)
            .ok_or_else(|| format!("saved.{name}: is not {len} bytes of hex"))?;
        Ok(bytes)
    };
    let size = v["tree_size"].as_u64().ok_or("saved.tree_size: is missing or not a number")?;
    let timestamp_ms = v["timestamp_ms"].as_i64().ok_or("saved.timestamp_ms: is missing or not a number")?;
    let arr = |b: Vec<u8>| -> [u8; 32] { b.try_into().unwrap_or([0; 32]) };
    let root = arr(hexfield("root_hash", 32)?);
    let public_key = arr(hexfield("public_key", 32)?);
    let signature: [u8; 64] = hexfield("signature", 64)?.try_into().unwrap_or([0; 64]);
    Ok(SignedHead { size, root, timestamp_ms, signature, public_key })
}

fn head_value(h: &SignedHead) -> Value {
    json!({
        "tree_size": h.size,
        "root_hash": hex(&h.root),
        "timestamp_ms": h.timestamp_ms,
        "signature": hex(&h.signature),
        "public_key": hex(&h.public_key),
    })
}

/// Recomputes the tree from every stored event and checks it against the signed head now and
/// a head saved earlier. Auditors only; recorded as a consultation (it names no person).
async fn verify(State(ws): State<Arc<Workspace>>, req: axum::extract::Request) -> Response {
    let caller = match admit(&ws, &req, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    const CALL: &str = "AuditService/GetTreeHead";
    if !authorise::allowed(&format!("/beaconport.api.v1.{CALL}")).contains(&caller.role.as_str()) {
        let why = format!("role {} may not verify the ledger (auditors only)", caller.role);
        return ws.refuse(&caller, "Workspace/Verify", why).await;
    }
    if let Err(r) = ws.spend(&caller) {
        return r;
    }
    let purpose = match purpose_of(req.headers()) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let body = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(e) => return problem(StatusCode::PAYLOAD_TOO_LARGE, "resource_exhausted", &format!("the request: {e}")),
    };
    let form: VerifyForm = match parse(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let saved = match form.saved.as_ref().map(head_from_value).transpose() {
        Ok(s) => s,
        Err(why) => return problem(StatusCode::BAD_REQUEST, "invalid_argument", &why),
    };
    let Some(tree) = ws.log.tree() else {
        return problem(
            StatusCode::PRECONDITION_FAILED,
            "failed_precondition",
            "tamper evidence is off on this ledger",
        );
    };
    let size = tree.size();
    let now = match tree.root(size) {
        Ok(root) => ws.signer.sign(size, root, chrono::Utc::now().timestamp_millis()),
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", &e.to_string()),
    };
    let key = ws.signer.public_key();
    // Every stored event read back and hashed again, independently of the tree kept in memory.
    let mut builder = RootBuilder::new();
    let mut saved_root = None;
    let mut first_difference: Option<(u64, String)> = None;
    let mut pos = 0u64;
    while pos < size {
        let entries = match ws.log.read(Position(pos), 4096.min((size - pos) as usize)).await {
            Ok(e) if e.is_empty() => break,
            Ok(e) => e,
            Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &e.to_string()),
        };
        for e in entries {
            if e.position.0 >= size {
                break;
            }
            let leaf = e.leaf_hash();
            if first_difference.is_none() && tree.leaf(e.position) != Some(leaf) {
                first_difference =
                    Some((e.position.0, "its stored bytes hash to a leaf the tree does not hold".into()));
            }
            builder.push(leaf);
            if saved.as_ref().is_some_and(|s| s.size == builder.len()) {
                saved_root = Some(builder.root());
            }
        }
        pos = builder.len();
    }
    let recomputed = builder.root();
    let intact_now = builder.len() == size && recomputed == now.root && first_difference.is_none();
    let saved_report = saved.as_ref().map(|s| {
        let signature = if s.public_key != key {
            Err("it was signed by a different key than this ledger's".to_string())
        } else {
            s.verify(&key).map_err(|e| format!("its signature does not verify: {e}"))
        };
        let covered = if s.size > size {
            Err(format!("it covers {} events but the ledger holds only {size}: events were removed", s.size))
        } else if s.size == 0 || saved_root == Some(s.root) {
            Ok(())
        } else {
            Err(format!("the first {} events no longer hash to the root it signed: the log was altered", s.size))
        };
        let ok = signature.is_ok() && covered.is_ok();
        json!({
            "head": head_value(s),
            "intact": ok,
            "signature": signature.err().unwrap_or_else(|| "valid under the ledger's key".into()),
            "contents": covered.err().unwrap_or_else(|| format!("the first {} events hash to its root", s.size)),
        })
    });
    let report = json!({
        "head": head_value(&now),
        "head_pb": serde_json::to_value(head_to_pb(&now)).unwrap_or_default(),
        "events_checked": builder.len(),
        "recomputed_root": hex(&recomputed),
        "intact": intact_now && saved_report.as_ref().is_none_or(|r| r["intact"] == json!(true)),
        "first_difference": first_difference.map(|(p, why)| json!({"position": p, "reason": why})),
        "saved": saved_report,
    });
    let recorded = record(
        &ws,
        &caller,
        purpose,
        "Workspace/Verify",
        &json!({ "saved_tree_size": saved.as_ref().map(|s| s.size) }),
        Disclosed::default(),
        &Ok(Value::Null),
    )
    .await;
    if let Err(r) = recorded {
        return r;
    }
    json_ok(report)
}
