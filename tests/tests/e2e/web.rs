//! The browser workspace's JSON bridge, without a browser (the browser tests drive the pages):
//! who may call what, errors that name the field, consultations recorded with the page's purpose,
//! and verification against saved signed heads.

use std::sync::Arc;

use beaconport_proto::pb::api;
use beaconport_tests::{scenario_events, TestServer};
use serde_json::{json, Value};

/// The workspace over a test server's log and views, on its own HTTP port.
struct Web {
    base: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Web {
    async fn start(server: &TestServer) -> Self {
        Self::start_with(server, None).await
    }

    /// The workspace; with `tls`, its port serves TLS and users are their client certificates.
    async fn start_with(server: &TestServer, tls: Option<beaconport_server::Tls>) -> Self {
        Self::start_with_limits(server, tls, Default::default()).await
    }

    async fn start_with_limits(
        server: &TestServer,
        tls: Option<beaconport_server::Tls>,
        limits: beaconport_server::authorise::Limits,
    ) -> Self {
        let options = beaconport_server::Options {
            insecure_plaintext: tls.is_none(),
            tls: tls.clone(),
            limits,
            ..Default::default()
        };
        let views = server.projector.clone() as Arc<dyn beaconport_views::Live>;
        let log = server.log.clone() as Arc<dyn beaconport_log::EventLog>;
        let services = beaconport_server::Services::new(&log, Some(views.clone()), &options);
        let ws = Arc::new(beaconport_server::web::Workspace::new(log.clone(), &services, &options).expect("views"));
        let operator = beaconport_server::operator::Operator {
            metrics: options.metrics.clone(),
            log: beaconport_server::operator::Ledger::Log(log),
            views: Some(views),
            ready_max_lag: 10_000,
            web: Some(ws),
            tls,
        };
        let listener = beaconport_server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(beaconport_server::operator::serve_http(listener, operator, async {
            let _ = stopped.await;
        }));
        Self { base, http: reqwest::Client::new(), _stop: stop }
    }

    async fn send(&self, method: reqwest::Method, path: &str, cookie: Option<&str>, body: Option<Value>) -> Answer {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b.to_string());
        }
        let resp = r.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    async fn sign_in(&self, principal: &str, role: &str) -> String {
        let a = self
            .send(reqwest::Method::POST, "/api/session", None, Some(json!({"principal": principal, "role": role})))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let set = a.headers.get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
        set.split(';').next().unwrap().to_string()
    }

    async fn call(&self, cookie: &str, call: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, &format!("/api/call/{call}"), Some(cookie), Some(body)).await
    }
}

/// Publishes the scenario, all but its last `keep` events (published by [`publish_rest`]).
async fn publish(server: &TestServer, keep: usize) -> u64 {
    let events = scenario_events(77);
    let mut c = server.ingest().await;
    let mut head = 0;
    for chunk in events[..events.len() - keep].chunks(500) {
        let acks = c.publish(api::PublishRequest { events: chunk.to_vec() }).await.unwrap().into_inner().acks;
        head = acks.last().unwrap().position.expect("a position") + 1;
    }
    head
}

fn purpose(p: &str) -> Value {
    json!({ "purpose": p })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_admits_only_signed_in_roles_and_names_what_is_wrong() {
    let server = TestServer::start().await;
    publish(&server, 0).await;
    let web = Web::start(&server).await;

    // The page and its assets come from this server, under a policy that keeps them there.
    let page = web.send(reqwest::Method::GET, "/", None, None).await;
    assert_eq!(page.status, 200);
    let csp = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    let cy = web.send(reqwest::Method::GET, "/assets/cytoscape.min.js", None, None).await;
    assert_eq!(cy.status, 200);
    assert!(cy.body.as_str().unwrap().contains("cytoscape"));

    // Nobody signed in: nothing answered.
    let anon = web.send(reqwest::Method::POST, "/api/call/QueryService/SearchPersons", None, Some(json!({}))).await;
    assert_eq!(anon.status, 401, "{}", anon.body);
    let me = web.send(reqwest::Method::GET, "/api/me", None, None).await;
    assert_eq!(me.status, 401);

    // A role that does not exist is refused, naming the field.
    let bad =
        web.send(reqwest::Method::POST, "/api/session", None, Some(json!({"principal": "x", "role": "wizard"}))).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["message"].as_str().unwrap().starts_with("role: \"wizard\" is not a role"), "{}", bad.body);

    let inv = web.sign_in("web-investigator", "investigator").await;
    let me = web.send(reqwest::Method::GET, "/api/me", Some(&inv), None).await;
    assert_eq!(me.body, json!({"principal": "web-investigator", "role": "investigator", "sign_in": "claimed"}));

    // Only JSON bodies: a cross-site form cannot post one without asking first.
    let form = web
        .http
        .post(format!("{}/api/call/QueryService/SearchPersons", web.base))
        .header("cookie", &inv)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 415);

    // Errors name the field and the reason.
    let no_purpose = web.call(&inv, "QueryService/SearchPersons", json!({"name": "Smith"})).await;
    assert_eq!(no_purpose.status, 400);
    assert!(no_purpose.body["message"].as_str().unwrap().contains("context.purpose"), "{}", no_purpose.body);
    let not_a_number = web.call(&inv, "QueryService/SearchPersons", json!({"page_size": "many"})).await;
    assert_eq!(not_a_number.status, 400);
    assert!(not_a_number.body["message"].as_str().unwrap().contains("page_size"), "{}", not_a_number.body);
    let unknown = web.call(&inv, "QueryService/DropEverything", json!({})).await;
    assert_eq!(unknown.status, 404);

    // An answer, recorded with the purpose before it is given (over views that hold the
    // events published above).
    settle(&server).await;
    let found = web
        .call(
            &inv,
            "QueryService/SearchPersons",
            json!({"context": purpose("Operation Web"), "name": "a", "page_size": 5}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert!(!found.body["persons"].as_array().unwrap().is_empty(), "{}", found.body);

    // An investigator may not read the consultation log; the refusal is recorded.
    let refused = web.call(&inv, "AuditService/ListConsultations", json!({})).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body["message"].as_str().unwrap().contains("role investigator may not call"), "{}", refused.body);
    let forced = web.call(&inv, "IngestService/Publish", json!({"events": []})).await;
    assert_eq!(forced.status, 403, "publishing is for force systems: {}", forced.body);

    // The auditor sees both, in order, with purpose and outcome.
    let aud = web.sign_in("web-auditor", "auditor").await;
    settle(&server).await;
    let listed = web
        .send(
            reqwest::Method::POST,
            "/api/call/AuditService/ListConsultations",
            Some(&aud),
            Some(json!({"principal": "web-investigator"})),
        )
        .await;
    assert_eq!(listed.status, 400, "the auditor's consultation needs a purpose too: {}", listed.body);
    let listed = web
        .http
        .post(format!("{}/api/call/AuditService/ListConsultations", web.base))
        .header("cookie", &aud)
        .header("content-type", "application/json")
        .header("x-beaconport-purpose", "audit of Operation Web")
        .body(json!({"principal": "web-investigator"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    let listed = json_of(listed).await;
    let calls: Vec<(&str, &str, &str)> = listed["consultations"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|c| {
            let x = &c["consultation"];
            (x["call"].as_str().unwrap(), x["purpose"].as_str().unwrap(), x["outcome"].as_str().unwrap())
        })
        .collect();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[0], ("QueryService/SearchPersons", "Operation Web", "ok"));
    assert_eq!(calls[1].0, "AuditService/ListConsultations");
    assert!(calls[1].2.starts_with("refused: role investigator"), "{calls:?}");
    assert_eq!(calls[2].0, "IngestService/Publish");

    // Signing out ends the session.
    let out = web.send(reqwest::Method::DELETE, "/api/session", Some(&inv), None).await;
    assert_eq!(out.status, 200);
    assert_eq!(web.send(reqwest::Method::GET, "/api/me", Some(&inv), None).await.status, 401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_checks_the_log_against_signed_heads() {
    let server = TestServer::start().await;
    publish(&server, 200).await;
    let web = Web::start(&server).await;
    let aud = web.sign_in("web-auditor", "auditor").await;
    let verify = |saved: Option<Value>| {
        let body = match saved {
            Some(s) => json!({ "saved": s }),
            None => json!({}),
        };
        web.http
            .post(format!("{}/api/verify", web.base))
            .header("cookie", aud.clone())
            .header("content-type", "application/json")
            .header("x-beaconport-purpose", "quarterly verification")
            .body(body.to_string())
            .send()
    };
    let now = json_of(verify(None).await.unwrap()).await;
    assert_eq!(now["intact"], json!(true), "{now}");
    let size = now["head"]["tree_size"].as_u64().unwrap();
    assert_eq!(now["events_checked"].as_u64(), Some(size));
    assert_eq!(now["recomputed_root"], now["head"]["root_hash"]);

    // More events, then the saved head: still a prefix of the log.
    let saved = now["head"].clone();
    publish_rest(&server, 200).await;
    let later = json_of(verify(Some(saved.clone())).await.unwrap()).await;
    assert_eq!(later["intact"], json!(true), "{later}");
    assert_eq!(later["saved"]["intact"], json!(true), "{later}");
    assert!(later["events_checked"].as_u64().unwrap() > size);

    // A head whose root the log does not match (its signature no longer covers it).
    let mut forged = saved.clone();
    forged["root_hash"] = json!("00".repeat(32));
    let r = json_of(verify(Some(forged)).await.unwrap()).await;
    assert_eq!(r["intact"], json!(false), "{r}");
    assert!(r["saved"]["signature"].as_str().unwrap().contains("does not verify"), "{r}");
    assert!(r["saved"]["contents"].as_str().unwrap().contains("no longer hash"), "{r}");

    // A head covering more than the log holds: events were removed.
    let mut longer = saved.clone();
    longer["tree_size"] = json!(size * 10);
    let r = json_of(verify(Some(longer)).await.unwrap()).await;
    assert_eq!(r["intact"], json!(false));
    assert!(r["saved"]["contents"].as_str().unwrap().contains("events were removed"), "{r}");

    // A malformed head is refused, naming the field.
    let mut broken = saved;
    broken["signature"] = json!("zz");
    let r = verify(Some(broken)).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = json_of(r).await;
    assert!(r["message"].as_str().unwrap().starts_with("saved.signature:"), "{r}");

    // Investigators may not verify (auditors only).
    let inv = web.sign_in("web-investigator", "investigator").await;
    let r = web
        .http
        .post(format!("{}/api/verify", web.base))
        .header("cookie", inv)
        .header("content-type", "application/json")
        .header("x-beaconport-purpose", "curiosity")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    server.stop().await;
}

async fn publish_rest(server: &TestServer, kept: usize) {
    let events = scenario_events(77);
    let mut c = server.ingest().await;
    c.publish(api::PublishRequest { events: events[events.len() - kept..].to_vec() }).await.unwrap();
}

async fn json_of(r: reqwest::Response) -> Value {
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

/// Waits until the views have applied everything the log holds.
async fn settle(server: &TestServer) {
    use beaconport_log::EventLog;
    let head = server.log.head();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while server.projector.applied() < head {
        assert!(std::time::Instant::now() < until, "views did not catch up");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// One HTTP/1.1 request over TLS presenting `client` (a certificate and key, or none): the status
/// code and the body, or the TLS error.
async fn over_tls(
    base: &str,
    ca: &std::path::Path,
    client: Option<&beaconport_cli::certs::Issued>,
    method: &str,
    path: &str,
    body: &str,
) -> Result<(u16, String), String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(ca).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(c) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(&c.cert).unwrap()],
                PrivateKeyDer::from_pem_file(&c.key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let addr = base.trim_start_matches("http://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut s = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.map_err(|e| e.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n\
         x-beaconport-purpose: tls test\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
    let out = String::from_utf8_lossy(&out).to_string();
    let code = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((code, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_workspace_knows_its_users_by_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_test_pki(&dir.path().join("pki"), &["GMP".to_string()]).unwrap();
    let stranger = beaconport_cli::certs::write_test_pki(&dir.path().join("other"), &["GMP".to_string()]).unwrap();
    let server = TestServer::start_tls(&pki).await;
    let web = Web::start_with(&server, Some(beaconport_tests::server_tls(&pki))).await;
    let who = |name: &str| pki.clients.iter().find(|c| c.principal == name).unwrap();
    let ca = &pki.ca_cert;

    // The certificate says who the user is; there is nothing to sign in to.
    let (code, body) = over_tls(&web.base, ca, Some(who("investigator-01")), "GET", "/api/me", "").await.unwrap();
    assert_eq!(code, 200, "{body}");
    let me: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me, json!({"principal": "investigator-01", "role": "investigator", "sign_in": "certificate"}));
    let claim = r#"{"principal":"auditor-01","role":"auditor"}"#;
    let (code, _) = over_tls(&web.base, ca, Some(who("investigator-01")), "POST", "/api/session", claim).await.unwrap();
    assert_eq!(code, 400, "no claiming another identity over TLS");

    // Roles as on the gRPC API.
    let (code, body) =
        over_tls(&web.base, ca, Some(who("investigator-01")), "POST", "/api/call/AuditService/GetTreeHead", "{}")
            .await
            .unwrap();
    assert_eq!(code, 403, "{body}");
    let (code, body) =
        over_tls(&web.base, ca, Some(who("auditor-01")), "POST", "/api/call/AuditService/GetTreeHead", "{}")
            .await
            .unwrap();
    assert_eq!(code, 200, "{body}");

    // No certificate: the operator's paths answer, the workspace does not.
    let (code, _) = over_tls(&web.base, ca, None, "GET", "/healthz", "").await.unwrap();
    assert_eq!(code, 200);
    let (code, body) = over_tls(&web.base, ca, None, "GET", "/api/me", "").await.unwrap();
    assert_eq!(code, 401, "{body}");

    // A certificate of another CA gets no connection at all.
    let other = stranger.clients.iter().find(|c| c.principal == "investigator-01").unwrap();
    let refused = over_tls(&web.base, ca, Some(other), "GET", "/api/me", "").await;
    assert!(refused.is_err() || refused.as_ref().is_ok_and(|(c, _)| *c == 0), "{refused:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_is_held_to_the_same_limits_as_the_grpc_api() {
    let server = TestServer::start().await;
    let limits = beaconport_server::authorise::Limits {
        requests_per_second: 1,
        burst: 2,
        max_message_bytes: 2048,
        ..Default::default()
    };
    let web = Web::start_with_limits(&server, None, limits).await;
    let inv = web.sign_in("web-investigator", "investigator").await;
    let ask = json!({"context": purpose("Operation Limits"), "name": "a"});
    let codes: Vec<u16> =
        futures::future::join_all((0..3).map(|_| web.call(&inv, "QueryService/SearchPersons", ask.clone())))
            .await
            .iter()
            .map(|a| a.status)
            .collect();
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 1, "two within the burst, the third refused: {codes:?}");
    let other = web.sign_in("web-investigator-2", "investigator").await;
    let big = json!({"context": purpose("Operation Limits"), "name": "x".repeat(4096)});
    let a = web.call(&other, "QueryService/SearchPersons", big).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body["message"].as_str().unwrap().contains("grpc.max_message_bytes = 2048"), "{}", a.body);
    let over = web.call(&inv, "QueryService/SearchPersons", ask).await;
    assert_eq!(over.status, 429);
    assert!(over.body["message"].as_str().unwrap().contains("limits.requests_per_second"), "{}", over.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unused_session_ends() {
    let server = TestServer::start().await;
    let options = beaconport_server::Options { insecure_plaintext: true, ..Default::default() };
    let views = server.projector.clone() as Arc<dyn beaconport_views::Live>;
    let log = server.log.clone() as Arc<dyn beaconport_log::EventLog>;
    let idle = std::time::Duration::from_millis(3000);
    let services = beaconport_server::Services::new(&log, Some(views.clone()), &options);
    let ws = beaconport_server::web::Workspace::new(log.clone(), &services, &options)
        .expect("views")
        .with_session_limits(idle, std::time::Duration::from_secs(3600));
    let operator = beaconport_server::operator::Operator {
        metrics: options.metrics.clone(),
        log: beaconport_server::operator::Ledger::Log(log),
        views: Some(views),
        ready_max_lag: 10_000,
        web: Some(Arc::new(ws)),
        tls: None,
    };
    let listener = beaconport_server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(beaconport_server::operator::serve_http(listener, operator, async {
        let _ = stopped.await;
    }));
    let web = Web { base, http: reqwest::Client::new(), _stop };
    let inv = web.sign_in("web-investigator", "investigator").await;
    // Used within the idle time, it lasts past it (each use counts); each use leaves a margin of
    // 2.4 s for a loaded machine.
    let started = std::time::Instant::now();
    for _ in 0..6 {
        tokio::time::sleep(idle / 5).await;
        assert_eq!(web.send(reqwest::Method::GET, "/api/me", Some(&inv), None).await.status, 200);
    }
    assert!(started.elapsed() > idle, "the uses outlasted one idle time");
    // Unused for longer, it is over.
    tokio::time::sleep(idle + idle / 2).await;
    assert_eq!(web.send(reqwest::Method::GET, "/api/me", Some(&inv), None).await.status, 401);
    server.stop().await;
}

/// `beaconport serve` with `[http] tls = true`: the configuration reaches the port, which then
/// knows browsers by their certificates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_http_tls_serves_the_workspace_to_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
    let ids = std::fs::read_to_string(dir.path().join("pki/identities.toml")).unwrap();
    let config = dir.path().join("beaconport.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\n[http]\nlisten = \"127.0.0.1:0\"\ntls = true\n\
             [tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n{ids}",
            dir.path().join("data"),
            pki.server_cert,
            pki.server_key,
            pki.ca_cert
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(crate::NODE)
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (_, http) = beaconport_cli::serve::announced(&mut child, true).unwrap();
    let base = format!("http://{}", http.unwrap());
    let investigator = pki.clients.iter().find(|c| c.principal == "investigator-01").unwrap();
    let answer = over_tls(&base, &pki.ca_cert, Some(investigator), "GET", "/api/me", "").await;
    let _ = child.kill();
    let _ = child.wait();
    let (code, body) = answer.unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("\"principal\":\"investigator-01\"") && body.contains("\"sign_in\":\"certificate\""),
        "{body}"
    );
}
