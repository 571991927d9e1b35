//! The workspace in a real headless browser (Debian's chromium, driven over WebDriver by
//! chromedriver), against a real `beaconport serve` process on loopback seeded by the synthetic
//! national scenario (`beaconport demo --data-dir`).
//!
//! Run by `tests/browser.sh` (which installs chromium and chromedriver when missing):
//! `cargo test -p beaconport-tests --test browser -- --nocapture`. Screenshots of each page go
//! to `target/browser-screenshots/` (or `$BROWSER_SCREENSHOTS`); render times are printed.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beaconport_proto::pb::api;
use serde_json::{json, Value};
use thirtyfour::prelude::*;
use tonic::transport::Channel;

const NODE: &str = env!("CARGO_BIN_EXE_beaconport-e2e-node");
const PURPOSE: &str = "Operation Lantern: browser test";

/// A child process killed when dropped (a failing test leaves nothing running).
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn screenshots_dir() -> PathBuf {
    let dir = std::env::var_os("BROWSER_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/browser-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The seeded ledger: `demo` writes the national scenario into a directory, `serve` serves it
/// (gRPC and the HTTP port with the workspace). Returns the process, the gRPC URL and the
/// workspace's origin.
fn start_ledger(dir: &std::path::Path) -> (Proc, String, String) {
    let data = dir.join("data");
    let demo = Command::new(NODE)
        .args(["demo", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .expect("run demo");
    assert!(demo.success(), "demo failed: {demo}");
    let mut child = Command::new(NODE)
        .args(["serve", "--insecure-plaintext", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .env("BEACONPORT_HTTP__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let grpc = lines.next().unwrap().unwrap();
    let http = lines.next().unwrap().unwrap();
    let grpc = format!("http://{}", grpc.strip_prefix(beaconport_cli::serve::LISTENING).expect("gRPC address"));
    let http = format!("http://{}", http.strip_prefix(beaconport_cli::serve::OPERATOR).expect("HTTP address"));
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), grpc, http)
}

/// chromedriver on a free port, answering.
async fn start_chromedriver() -> (Proc, String) {
    let port = free_port();
    let exe = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&exe)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {exe}: {e} (tests/browser.sh installs Debian's chromium-driver)"));
    let url = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < until, "chromedriver did not start listening on {port}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Proc(child), url)
}

async fn browser(driver_url: &str) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    caps.set_binary(&binary).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1366,900",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
    ] {
        caps.add_arg(arg).unwrap();
    }
    WebDriver::new(driver_url, caps).await.expect("a chromium session")
}

/// What `script` returns on the page (its `arguments` are `args`).
async fn js_with(driver: &WebDriver, script: &str, args: Vec<Value>) -> Value {
    driver.execute(script, args).await.unwrap_or_else(|e| panic!("script {script:.60}: {e}")).json().clone()
}

/// What `script` returns on the page.
async fn js(driver: &WebDriver, script: &str) -> Value {
    js_with(driver, script, vec![]).await
}

/// Polls a script until it returns something other than null/false/"" (30 s at most).
async fn wait_for(driver: &WebDriver, script: &str, what: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let v = js(driver, script).await;
        let done = !(v.is_null() || v == json!(false) || v == json!(""));
        if done {
            return v;
        }
        if Instant::now() > until {
            let status = driver
                .execute("return document.getElementById('status').textContent + ' | ' + document.getElementById('main').innerText.slice(0, 400)", vec![])
                .await
                .map(|r| r.json().clone())
                .unwrap_or_default();
            panic!("waited 30 s for {what}; the page says: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the page has painted `page` (the app marks `body[data-rendered]`).
async fn rendered(driver: &WebDriver, page: &str) {
    wait_for(driver, &format!("return document.body.dataset.rendered === '{page}'"), &format!("page {page}")).await;
}

async fn unmark(driver: &WebDriver) {
    js(driver, "delete document.body.dataset.rendered; delete document.body.dataset.recorded").await;
}

/// Every form control on the page has a label a screen reader announces, every chart or bar an
/// accessible name, and all text enough contrast: checked on each page before its screenshot.
async fn assert_labelled(driver: &WebDriver, page: &str) {
    let unlabelled = js(driver, "return [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                .map(e => e.id || e.outerHTML.slice(0, 80))
                .concat([...document.querySelectorAll('[role=img]')].filter(e => !e.getAttribute('aria-label')).map(e => e.id || 'img'))
                .concat([...document.querySelectorAll('button')].filter(e => !e.innerText.trim() && !e.getAttribute('aria-label')).map(e => e.id || 'button'))").await;
    assert_eq!(unlabelled, json!([]), "controls without a label on page {page}");
    // Text contrast (WCAG 2 AA): 4.5:1 against the background it is drawn on, 3:1 for large
    // text; disabled controls are exempt, as WCAG has it.
    let low = js(driver, r#"
            const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
            const lum = ([r, g, b]) => {
                const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const background = (el) => {
                for (let e = el; e; e = e.parentElement) {
                    const c = rgb(getComputedStyle(e).backgroundColor);
                    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
                }
                return [255, 255, 255];
            };
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                if (el.closest('#cy') || el.disabled || !el.offsetParent) continue;
                const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
                if (!own) continue;
                const style = getComputedStyle(el);
                const a = lum(rgb(style.color)), b = lum(background(el));
                const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
                if (ratio < (large ? 3 : 4.5)) out.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
            }
            return out.slice(0, 10);
            "#).await;
    assert_eq!(low, json!([]), "text below WCAG AA contrast on page {page}");
}

async fn shot(driver: &WebDriver, name: &str) {
    assert_labelled(driver, name).await;
    let path = screenshots_dir().join(format!("{name}.png"));
    driver.screenshot(&path).await.expect("screenshot");
}

/// The last render time the page recorded for `page`.
async fn timing(driver: &WebDriver, page: &str) -> Value {
    js(driver, &format!("return window.bpTimings.filter(t => t.page === '{page}').pop() || null")).await
}

/// The ledger seen from gRPC (plaintext development mode: the test claims its roles).
struct Ledger {
    channel: Channel,
}

impl Ledger {
    fn req<T>(&self, m: T, role: &str) -> tonic::Request<T> {
        let mut r = tonic::Request::new(m);
        r.metadata_mut().insert(beaconport_server::PRINCIPAL_HEADER, "browser-test-harness".parse().unwrap());
        r.metadata_mut().insert(beaconport_server::ROLE_HEADER, role.parse().unwrap());
        r
    }

    fn context(&self) -> Option<api::QueryContext> {
        Some(api::QueryContext { purpose: "browser test fixtures".into(), ..Default::default() })
    }

    /// The persons of a network: (person id, name).
    async fn persons_in(&self, network_id: &str) -> Vec<(String, String)> {
        let mut q = beaconport_cli::client::query(self.channel.clone());
        let net = q
            .get_network(self.req(
                api::GetNetworkRequest { context: self.context(), network_id: network_id.into(), ..Default::default() },
                "investigator",
            ))
            .await
            .unwrap()
            .into_inner();
        net.nodes
            .into_iter()
            .filter(|x| x.kind == "person")
            .map(|x| (x.id.trim_start_matches("person:").to_string(), x.label))
            .collect()
    }

    /// Waits until the views have applied everything the log holds.
    async fn settle(&self) {
        let mut q = beaconport_cli::client::query(self.channel.clone());
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let s = q.view_status(self.req(api::ViewStatusRequest::default(), "operator")).await.unwrap().into_inner();
            if s.lag == 0 {
                return;
            }
            assert!(Instant::now() < until, "views did not catch up: {s:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every consultation `principal` made, oldest first: (call, outcome, purpose).
    async fn consultations(&self, principal: &str) -> Vec<(String, String, String)> {
        self.settle().await;
        let mut a = api::audit_service_client::AuditServiceClient::new(self.channel.clone());
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let r = a
                .list_consultations(self.req(
                    api::ListConsultationsRequest {
                        principal: principal.into(),
                        page_size: 500,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                    "auditor",
                ))
                .await
                .unwrap()
                .into_inner();
            for c in r.consultations {
                let x = c.consultation.unwrap();
                out.push((x.call, x.outcome, x.purpose));
            }
            if r.next_page_token.is_empty() {
                break;
            }
            token = r.next_page_token;
        }
        // The ledger lists the latest first.
        out.reverse();
        out
    }
}

/// The body of the event stored at the position the page reported (a JSON string).
async fn stored_at(grpc: &str, position: &Value) -> Option<beaconport_proto::pb::event::body::Kind> {
    let position: u64 = position.as_str().and_then(|p| p.parse().ok()).expect("a position");
    beaconport_tests::read_all(grpc)
        .await
        .into_iter()
        .find(|e| e.position == position)
        .and_then(|e| e.event)
        .and_then(|e| e.body)
        .and_then(|b| b.kind)
}

/// Asserts that exactly one consultation was recorded since `before`, for `call`, with the page's
/// purpose, and returns the new count.
async fn exactly_one(ledger: &Ledger, principal: &str, before: usize, call: &str, action: &str) -> usize {
    let now = ledger.consultations(principal).await;
    let new = &now[before.min(now.len())..];
    assert_eq!(new.len(), 1, "{action}: expected exactly one consultation, got {new:?}");
    assert_eq!(new[0].0, call, "{action}: recorded as {:?}", new[0]);
    assert_eq!(new[0].2, PURPOSE, "{action}: recorded with purpose {:?}", new[0].2);
    now.len()
}

async fn sign_in(driver: &WebDriver, origin: &str, principal: &str, role: &str) {
    driver.goto(format!("{origin}/#/signin")).await.unwrap();
    let input = driver.query(By::Id("signin-principal")).first().await.expect("the sign-in form");
    input.send_keys(principal).await.unwrap();
    let select = driver.find(By::Id("signin-role")).await.unwrap();
    js_with(driver, "arguments[0].value = arguments[1];", vec![select.to_json().unwrap(), json!(role)]).await;
    driver.find(By::Css("#signin-form button")).await.unwrap().click().await.unwrap();
    wait_for(driver, "return !document.getElementById('nav').hidden", "the signed-in frame").await;
    let purpose = driver.find(By::Id("purpose")).await.unwrap();
    purpose.clear().await.unwrap();
    purpose.send_keys(PURPOSE).await.unwrap();
    driver.find(By::Css("#purpose-form button")).await.unwrap().click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (_server, grpc, origin) = start_ledger(dir.path());
    let ledger = Ledger { channel: beaconport_cli::client::channel(&grpc).await.unwrap() };
    ledger.settle().await;
    println!("seeded ledger ready in {:.1} s", started.elapsed().as_secs_f64());

    // Fixtures, found through the API: a cross-force network of at least 200 nodes (the smallest
    // such), a person in it with linked suspects, one of them two hops away, and a queued case.
    let mut q = beaconport_cli::client::query(ledger.channel.clone());
    let nets = q
        .list_networks(ledger.req(
            api::ListNetworksRequest { context: ledger.context(), min_forces: 2, page_size: 500, ..Default::default() },
            "investigator",
        ))
        .await
        .unwrap()
        .into_inner()
        .networks;
    let size = |n: &api::NetworkSummary| n.suspects + n.victims + n.cases + n.identifiers + n.places;
    let big = nets.iter().filter(|n| size(n) >= 200).min_by_key(|n| size(n)).expect("a network of 200 nodes or more");
    let mut person = None;
    for n in nets.iter().filter(|n| n.suspects >= 3 && size(n) < 200) {
        for (id, label) in ledger.persons_in(&n.network_id).await {
            let linked = q
                .linked_suspects(ledger.req(
                    api::LinkedSuspectsRequest {
                        context: ledger.context(),
                        person_id: id.clone(),
                        max_hops: 2,
                        page_size: 200,
                        ..Default::default()
                    },
                    "investigator",
                ))
                .await
                .unwrap()
                .into_inner();
            if let Some(far) = linked.suspects.iter().find(|s| s.hops == 2) {
                person = Some((id, label, far.person.clone().unwrap()));
                break;
            }
        }
        if person.is_some() {
            break;
        }
    }
    let (person_id, person_name, far) = person.expect("a person with a suspect two hops away");
    // A person resolved from several mentions (their dossier shows the evidence of each merge).
    let mut merged = None;
    'nets: for n in nets.iter().filter(|n| size(n) < 200).take(20) {
        for (id, _) in ledger.persons_in(&n.network_id).await {
            let d = q
                .get_person(
                    ledger.req(
                        api::GetPersonRequest { context: ledger.context(), person_id: id.clone() },
                        "investigator",
                    ),
                )
                .await
                .unwrap()
                .into_inner();
            if !d.evidence.is_empty() {
                merged = Some(id);
                break 'nets;
            }
        }
    }
    let merged = merged.expect("a person resolved from several mentions");
    println!(
        "fixtures: network {} ({} nodes), person {person_id}, path to {}",
        big.network_id,
        size(big),
        far.person_id
    );

    let (_chromedriver, driver_url) = start_chromedriver().await;
    let driver = browser(&driver_url).await;
    let investigator = "browser-investigator";
    sign_in(&driver, &origin, investigator, "investigator").await;
    let mut count = ledger.consultations(investigator).await.len();
    assert_eq!(count, 0, "signing in consults nothing");

    // Search: ranked, fuzzy results; one consultation.
    // (signing in lands on the search page)
    rendered(&driver, "search").await;
    let name = driver.find(By::Id("q-name")).await.unwrap();
    name.send_keys(&person_name).await.unwrap();
    unmark(&driver).await;
    driver.find(By::Css("#search-form button")).await.unwrap().click().await.unwrap();
    rendered(&driver, "search").await;
    let results = driver.find(By::Id("search-results")).await.unwrap().text().await.unwrap();
    assert!(results.contains(&person_name), "search results name {person_name}: {results}");
    shot(&driver, "search").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/SearchPersons", "search").await;

    // Open the dossier from the results: one consultation.
    unmark(&driver).await;
    driver
        .find(By::Css(format!("#search-results a[href='#/person/{person_id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    rendered(&driver, "dossier").await;
    let heading = driver.find(By::Id("dossier-name")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, person_name);
    let mentions = driver.find_all(By::Css("#mentions tbody tr")).await.unwrap();
    assert!(!mentions.is_empty(), "the dossier lists mentions");
    shot(&driver, "dossier").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/GetPerson", "open a dossier").await;

    // A dossier opened cold (a fresh page load): time to first render.
    driver.goto("about:blank").await.unwrap();
    driver.goto(format!("{origin}/#/person/{person_id}")).await.unwrap();
    rendered(&driver, "dossier").await;
    let dossier_cold = timing(&driver, "dossier").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/GetPerson", "reload a dossier").await;

    // The chart of linked suspects: one consultation.
    unmark(&driver).await;
    driver.find(By::Css(format!("a[href='#/chart/{person_id}']"))).await.unwrap().click().await.unwrap();
    rendered(&driver, "chart").await;
    let nodes_before = wait_for(&driver, "return window.bpState.chart.cy.nodes().length", "chart nodes").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/LinkedSuspects", "open the chart").await;
    // Click an edge: its evidence is shown (no new consultation: the chart holds it).
    js(&driver, "window.bpState.chart.cy.edges()[0].emit('tap')").await;
    let evidence = wait_for(
        &driver,
        "const e = document.getElementById('edge-evidence'); return e && e.innerText",
        "edge evidence",
    )
    .await;
    assert!(evidence.as_str().unwrap().len() > 10, "edge evidence: {evidence}");
    // From the keyboard: pick the person in the node list, then one of their links.
    let list = driver.find(By::Id("node-list")).await.unwrap();
    js_with(
        &driver,
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'));",
        vec![list.to_json().unwrap(), json!(format!("person:{person_id}"))],
    )
    .await;
    driver.find(By::Css("#node-links button")).await.unwrap().send_keys(Key::Enter).await.unwrap();
    let by_keyboard = wait_for(
        &driver,
        "const e = document.getElementById('edge-evidence'); return e && e.innerText",
        "edge evidence from the keyboard",
    )
    .await;
    assert!(by_keyboard.as_str().unwrap().contains(&person_name), "the link names the person: {by_keyboard}");
    shot(&driver, "chart").await;

    // Expand the far suspect by one hop (chosen from the keyboard-accessible node list).
    let list = driver.find(By::Id("node-list")).await.unwrap();
    js_with(
        &driver,
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'));",
        vec![list.to_json().unwrap(), json!(format!("person:{}", far.person_id))],
    )
    .await;
    let expand = driver.find(By::Id("expand")).await.unwrap();
    assert!(expand.is_enabled().await.unwrap(), "a person can be expanded");
    unmark(&driver).await;
    expand.click().await.unwrap();
    rendered(&driver, "expand").await;
    let nodes_after = js(&driver, "return window.bpState.chart.cy.nodes().length").await;
    assert!(
        nodes_after.as_u64() >= nodes_before.as_u64(),
        "expanding keeps what was shown: {nodes_before} then {nodes_after}"
    );
    count = exactly_one(&ledger, investigator, count, "QueryService/LinkedSuspects", "expand a node").await;

    // Follow the path between the person and the far suspect: highlighted, explained.
    for (id, value) in [("path-from", person_id.clone()), ("path-to", far.person_id.clone())] {
        let select = driver.find(By::Id(id)).await.unwrap();
        js_with(
            &driver,
            "arguments[0].value = arguments[1];",
            vec![select.to_json().unwrap(), json!(format!("person:{value}"))],
        )
        .await;
    }
    unmark(&driver).await;
    driver.find(By::Id("show-path")).await.unwrap().click().await.unwrap();
    rendered(&driver, "path").await;
    let explanation = driver.find(By::Id("path-text")).await.unwrap().text().await.unwrap();
    assert!(explanation.contains(&far.display_name), "the path ends at {}: {explanation}", far.display_name);
    let highlighted = js(&driver, "return window.bpState.chart.cy.$('.path').length").await.as_u64().unwrap();
    assert!(highlighted >= 5, "a two-hop path highlights at least 3 nodes and 2 edges: {highlighted}");
    shot(&driver, "path").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/LinkedSuspects", "follow a path").await;

    // Filter by link type: unticking every type hides every edge.
    js(&driver, "document.querySelectorAll('#types input').forEach(b => { b.checked = false; b.dispatchEvent(new Event('change')); });").await;
    let visible = js(&driver, "return window.bpState.chart.cy.edges().filter(e => !e.hasClass('hidden')).length")
        .await
        .as_u64()
        .unwrap();
    assert_eq!(visible, 0, "no link type ticked, no edge shown");

    // A network of 200+ nodes in the same chart, loaded cold: time to first render.
    driver.goto("about:blank").await.unwrap();
    driver.goto(format!("{origin}/#/network/{}", big.network_id.replace('/', "%2F"))).await.unwrap();
    rendered(&driver, "network").await;
    let chart_cold = timing(&driver, "network").await;
    let settled = wait_for(
        &driver,
        "return window.bpTimings.filter(t => t.page === 'network-settled').pop()",
        "the settled layout",
    )
    .await;
    assert!(chart_cold["nodes"].as_u64().unwrap() >= 200, "a 200-node chart: {chart_cold}");
    shot(&driver, "network").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/GetNetwork", "open a network").await;

    // The review queue: filter, open a case, act on an avenue (recorded as an event).
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/review?rape=1")).await.unwrap();
    rendered(&driver, "queue").await;
    count = exactly_one(&ledger, investigator, count, "ReviewService/GetQueue", "open the queue").await;
    shot(&driver, "queue").await;
    let rows = driver.find_all(By::Css("#queue tbody tr")).await.unwrap();
    assert!(!rows.is_empty(), "rape allegations are queued");
    unmark(&driver).await;
    driver.find(By::Css("#queue tbody tr a")).await.unwrap().click().await.unwrap();
    rendered(&driver, "review-case").await;
    count = exactly_one(&ledger, investigator, count, "ReviewService/GetReviewCase", "open a queued case").await;
    let act = driver
        .find(By::Css("#avenues button[data-action='AVENUE_ACTION_PURSUED']"))
        .await
        .expect("an avenue to act on");
    let avenue = act.attr("data-avenue").await.unwrap().unwrap();
    act.click().await.unwrap();
    let position = wait_for(&driver, "return document.body.dataset.recorded", "the review step recorded").await;
    shot(&driver, "review-case").await;
    count = exactly_one(&ledger, investigator, count, "ReviewService/RecordReview", "act on the queue").await;
    match stored_at(&grpc, &position).await {
        Some(beaconport_proto::pb::event::body::Kind::AvenueActioned(a)) => assert_eq!(a.avenue, avenue),
        other => panic!("expected an avenue actioned, stored {other:?}"),
    }

    // The queue's next page (236 rape allegations, 100 a page).
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/review?rape=1")).await.unwrap();
    rendered(&driver, "queue").await;
    count = exactly_one(&ledger, investigator, count, "ReviewService/GetQueue", "the queue again").await;
    let first_rank = driver.find(By::Css("#queue tbody tr td")).await.unwrap().text().await.unwrap();
    unmark(&driver).await;
    driver.find(By::XPath("//p[@id='pager']/a[text()='Next page']")).await.unwrap().click().await.unwrap();
    rendered(&driver, "queue").await;
    let next_rank = driver.find(By::Css("#queue tbody tr td")).await.unwrap().text().await.unwrap();
    assert_eq!((first_rank.as_str(), next_rank.as_str()), ("1", "101"), "the second page starts at rank 101");
    count = exactly_one(&ledger, investigator, count, "ReviewService/GetQueue", "the queue's next page").await;

    // A dossier's resolution evidence, and an investigator's decision on it (an event).
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/person/{merged}")).await.unwrap();
    rendered(&driver, "dossier").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/GetPerson", "open a merged dossier").await;
    driver.find(By::Id("reason-0")).await.unwrap().send_keys("same passport, seen together").await.unwrap();
    driver.find(By::Css("#evidence button[data-decision='same']")).await.unwrap().click().await.unwrap();
    let position = wait_for(&driver, "return document.body.dataset.recorded", "the link decision recorded").await;
    shot(&driver, "dossier-evidence").await;
    count = exactly_one(&ledger, investigator, count, "QueryService/DecideLink", "decide a link").await;
    match stored_at(&grpc, &position).await {
        Some(beaconport_proto::pb::event::body::Kind::LinkDecided(l)) => {
            assert_eq!(l.reason, "same passport, seen together")
        }
        other => panic!("expected a link decision, stored {other:?}"),
    }

    // Data quality: per-force charts.
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/quality")).await.unwrap();
    rendered(&driver, "quality").await;
    let forces = driver.find_all(By::Css("#quality tbody tr")).await.unwrap();
    assert_eq!(forces.len(), 23, "one row per force");
    shot(&driver, "quality").await;
    count = exactly_one(&ledger, investigator, count, "ReviewService/GetQuality", "data quality").await;

    // An investigator cannot open the auditor's pages, and the refusal is recorded.
    driver.goto(format!("{origin}/#/audit")).await.unwrap();
    let refused =
        wait_for(&driver, "const e = document.getElementById('error'); return e && e.innerText", "the refusal").await;
    assert!(refused.as_str().unwrap().contains("Permission denied"), "{refused}");
    let now = ledger.consultations(investigator).await;
    assert_eq!(now.len(), count + 1);
    assert!(now[count].1.starts_with("refused"), "the refusal is recorded: {:?}", now[count]);
    count += 1;

    // Nothing left the page for the internet: every resource came from this origin, and the
    // content security policy refuses a request elsewhere.
    let foreign = js(
        &driver,
        "return performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith(location.origin))",
    )
    .await;
    assert_eq!(foreign, json!([]), "requests outside the origin");
    let blocked = driver
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch('https://example.org/').then(() => done('sent'), () => done('blocked'));",
            vec![],
        )
        .await
        .unwrap()
        .json()
        .clone();
    assert_eq!(blocked, json!("blocked"));

    // The auditor: consultations by investigator (every one above), replay, verification.
    driver.find(By::Id("sign-out")).await.unwrap().click().await.unwrap();
    sign_in(&driver, &origin, "browser-auditor", "auditor").await;
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/audit?tab=consultations&principal={investigator}")).await.unwrap();
    rendered(&driver, "audit-consultations").await;
    let listed = driver.find_all(By::Css("#consultations tbody tr")).await.unwrap();
    assert_eq!(listed.len(), count, "the auditor sees each of the investigator's consultations");
    shot(&driver, "audit-consultations").await;
    // ... and by person: who consulted the merged person's dossier.
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/audit?tab=consultations&person={merged}")).await.unwrap();
    rendered(&driver, "audit-consultations").await;
    let about = driver.find(By::Id("consultations")).await.unwrap().text().await.unwrap();
    assert!(about.contains("QueryService/GetPerson") && about.contains(investigator), "{about}");
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/audit?tab=replay&from=0")).await.unwrap();
    rendered(&driver, "audit-replay").await;
    assert_eq!(driver.find_all(By::Css("#replay tbody tr")).await.unwrap().len(), 100);
    shot(&driver, "audit-replay").await;
    unmark(&driver).await;
    driver.goto(format!("{origin}/#/audit?tab=verify")).await.unwrap();
    rendered(&driver, "audit-verify").await;
    driver.find(By::Id("verify")).await.unwrap().click().await.unwrap();
    let verdict = wait_for(
        &driver,
        "const e = document.getElementById('verify-verdict'); return e && e.innerText",
        "the verdict",
    )
    .await;
    assert_eq!(verdict, json!("INTACT"));
    shot(&driver, "audit-verify").await;
    let auditor = ledger.consultations("browser-auditor").await;
    let calls: Vec<&str> = auditor.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        calls,
        ["AuditService/ListConsultations", "AuditService/ListConsultations", "AuditService/Replay", "Workspace/Verify"]
    );

    // The largest network of the scenario, for the record (no target: it spans every force).
    let largest = nets.iter().max_by_key(|n| size(n)).unwrap();
    sign_in(&driver, &origin, "browser-investigator-2", "investigator").await;
    driver.goto("about:blank").await.unwrap();
    driver.goto(format!("{origin}/#/network/{}", largest.network_id.replace('/', "%2F"))).await.unwrap();
    let until = Instant::now() + Duration::from_secs(120);
    while js(&driver, "return document.body.dataset.rendered === 'network'").await != json!(true) {
        assert!(Instant::now() < until, "the largest network did not render within 2 minutes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let huge = timing(&driver, "network").await;
    shot(&driver, "network-largest").await;

    println!(
        "time to first render (browser-measured, fresh page load to painted): dossier {} ms; {}-node chart {} ms (the answer took {} ms of it)",
        dossier_cold["sinceLoad"], chart_cold["nodes"], chart_cold["sinceLoad"], chart_cold["answered"]
    );
    println!(
        "  from the route's start: dossier {} ms; chart {} ms; the chart's force-directed layout then settled in {} ms more",
        dossier_cold["ms"], chart_cold["ms"], settled["ms"]
    );
    println!(
        "  the largest network ({} nodes, {} edges): first render {} ms from a fresh load (the answer took {} ms of it)",
        huge["nodes"], huge["edges"], huge["sinceLoad"], huge["answered"]
    );
    println!("screenshots in {}", screenshots_dir().display());
    driver.quit().await.unwrap();
}
