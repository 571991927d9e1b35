//! Helpers for the end-to-end tests: an in-process ledger on loopback, server processes that can
//! be killed, and fixtures drawn from the synthetic scenario.

use std::path::Path;
use std::process::Child;
use std::sync::Arc;

use beaconport_domain::EventKind;
use beaconport_log::EventLog;
use beaconport_log_sled::{Options, SledLog};
use beaconport_proto::pb::{api, event as pb};
use tonic::transport::Channel;

/// A ledger served in this process on `127.0.0.1:0`, over a fresh temporary directory.
#[derive(Debug)]
pub struct TestServer {
    pub url: String,
    pub log: Arc<SledLog>,
    pub projector: Arc<beaconport_projection::Projector>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<beaconport_server::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|log| log).await
    }

    /// A server whose services see the log through `wrap` (a test's fault-injecting log).
    /// Plaintext (asked for explicitly, as `serve --insecure-plaintext` does): these tests are of
    /// what lies behind the transport; `start_tls` serves mutual TLS.
    pub async fn start_with(wrap: impl FnOnce(Arc<dyn EventLog>) -> Arc<dyn EventLog>) -> Self {
        Self::start_with_options(wrap, beaconport_server::Options { insecure_plaintext: true, ..Default::default() })
            .await
    }

    /// A server over mutual TLS with the development PKI `pki` (see `beaconport certs`), every
    /// client certificate of it mapped to its role.
    pub async fn start_tls(pki: &beaconport_cli::certs::DevPki) -> Self {
        Self::start_tls_with(pki, beaconport_server::Options::default()).await
    }

    /// [`TestServer::start_tls`] with other options (limits).
    pub async fn start_tls_with(pki: &beaconport_cli::certs::DevPki, options: beaconport_server::Options) -> Self {
        let tls = server_tls(pki);
        let mut server =
            Self::start_with_options(|log| log, beaconport_server::Options { tls: Some(tls), ..options }).await;
        server.url = server.url.replace("http://", "https://");
        server
    }

    /// A channel over mutual TLS presenting `cert`/`key` (or no certificate) and trusting `ca`.
    pub async fn tls_channel(
        &self,
        ca: &Path,
        client: Option<(&Path, &Path)>,
    ) -> Result<Channel, tonic::transport::Error> {
        tls_channel(&self.url, ca, client).await
    }

    async fn start_with_options(
        wrap: impl FnOnce(Arc<dyn EventLog>) -> Arc<dyn EventLog>,
        options: beaconport_server::Options,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = Arc::new(SledLog::open(Options::new(dir.path().join("log"))).expect("open log"));
        let listener = beaconport_server::bind("127.0.0.1:0".parse().unwrap()).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let dyn_log: Arc<dyn EventLog> = wrap(log.clone());
        let projector = Arc::new(
            beaconport_projection::Projector::open(
                beaconport_projection::Options::new(dir.path().join("views")),
                dyn_log.clone(),
            )
            .await
            .expect("open views"),
        );
        let task = tokio::spawn(beaconport_server::serve(
            listener,
            dyn_log,
            Some(projector.clone() as Arc<dyn beaconport_views::Live>),
            options,
            async {
                let _ = stopped.await;
            },
        ));
        Self { url, log, projector, stop: Some(stop), task: Some(task), _dir: dir }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone()).unwrap().connect().await.expect("connect")
    }

    pub async fn ingest(&self) -> api::ingest_service_client::IngestServiceClient<Channel> {
        beaconport_cli::client::ingest(self.channel().await)
    }

    pub async fn query(&self) -> api::query_service_client::QueryServiceClient<Channel> {
        beaconport_cli::client::query(self.channel().await)
    }

    pub async fn reader(&self) -> api::log_service_client::LogServiceClient<Channel> {
        beaconport_cli::client::log_reader(self.channel().await)
    }

    pub async fn audit(&self) -> api::audit_service_client::AuditServiceClient<Channel> {
        api::audit_service_client::AuditServiceClient::new(self.channel().await).max_decoding_message_size(64 << 20)
    }

    pub async fn review(&self) -> api::review_service_client::ReviewServiceClient<Channel> {
        beaconport_cli::reviewcmd::client(self.channel().await)
    }

    /// Waits until the views have applied every event in the log, the resolution models they
    /// wrote into it meanwhile included; the log's head then.
    pub async fn views_caught_up(&self) -> beaconport_domain::Position {
        loop {
            let head = self.log.head();
            assert!(self.projector.wait_for(head, std::time::Duration::from_secs(120)).await, "views caught up");
            if self.log.head() == head {
                return head;
            }
        }
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.expect("server task").expect("server result");
        }
    }
}

/// The server's TLS settings for the development PKI `pki`, every client certificate of it
/// mapped to its role.
pub fn server_tls(pki: &beaconport_cli::certs::DevPki) -> beaconport_server::Tls {
    let read = |p: &Path| std::fs::read_to_string(p).expect("PEM file");
    let mut identities = beaconport_server::Identities::default();
    for c in pki.clients.iter().chain(&pki.expired) {
        identities
            .by_common_name
            .insert(c.principal.clone(), beaconport_server::Identity { role: c.role.into(), force: c.force.clone() });
    }
    beaconport_server::Tls {
        cert_pem: read(&pki.server_cert),
        key_pem: read(&pki.server_key),
        client_ca_pem: read(&pki.ca_cert),
        identities: Arc::new(identities),
    }
}

/// The synthetic scenario at a small scale, as wire events, in publication order.
pub fn scenario_events(seed: u64) -> Vec<pb::Event> {
    let options = beaconport_synth::Options {
        seed,
        forces: 6,
        referred_cases: 40,
        referred_rape_cases: 8,
        ordinary_cases: 150,
        ..Default::default()
    };
    beaconport_synth::generate(&options).events.iter().map(beaconport_proto::event_to_pb).collect()
}

/// The kind of a wire event.
pub fn kind_of(e: &pb::Event) -> EventKind {
    beaconport_proto::kind_of(e.body.as_ref().and_then(|b| b.kind.as_ref()).expect("body"))
}

/// One valid event of every kind a force may publish, from the synthetic scenario.
pub fn one_of_each_kind(seed: u64) -> Vec<pb::Event> {
    let events = scenario_events(seed);
    EventKind::ALL
        .iter()
        .filter(|k| k.publishable())
        .map(|k| {
            events
                .iter()
                .find(|e| kind_of(e) == *k)
                .unwrap_or_else(|| panic!("the synthetic scenario (seed {seed}) has no {k:?} event"))
                .clone()
        })
        .collect()
}

/// A `beaconport serve` process on a free loopback port over `data_dir`.
#[derive(Debug)]
pub struct NodeProcess {
    pub child: Child,
    pub url: String,
    /// The operator endpoint's address (`/metrics`, `/readyz`).
    pub operator: String,
}

impl NodeProcess {
    /// Starts `exe` (the test package's `beaconport-e2e-node`) as `serve`.
    pub fn start(exe: &str, data_dir: &Path) -> Self {
        Self::serve(exe, data_dir, &[], &[])
    }

    /// Starts `exe` as `serve` with extra flags and settings.
    pub fn serve(exe: &str, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let (child, url, operator) = beaconport_cli::serve::spawn_serve_operated(Path::new(exe), data_dir, args, env)
            .expect("start server process");
        Self { child, url, operator }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), sig).expect("signal");
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill_hard(mut self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.child.wait().expect("wait")
    }
}

impl Drop for NodeProcess {
    /// A test that fails half-way must not leave a server running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads the whole log back through the API.
pub async fn read_all(url: &str) -> Vec<api::LogEntry> {
    use futures::StreamExt;
    let ch = Channel::from_shared(url.to_string()).unwrap().connect().await.expect("connect");
    let mut r = beaconport_cli::client::log_reader(ch);
    let mut s = r.read(api::ReadRequest { from_position: 0, limit: 0 }).await.expect("read").into_inner();
    let mut out = Vec::new();
    while let Some(e) = s.next().await {
        out.push(e.expect("entry"));
    }
    out
}

/// A channel to `url` over mutual TLS presenting `cert`/`key` (or no certificate) and trusting
/// `ca`, for a server whose certificate names `localhost`.
pub async fn tls_channel(
    url: &str,
    ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<Channel, tonic::transport::Error> {
    let read = |p: &Path| std::fs::read_to_string(p).expect("PEM file");
    let mut tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(read(ca)))
        .domain_name("localhost");
    if let Some((cert, key)) = client {
        tls = tls.identity(tonic::transport::Identity::from_pem(read(cert), read(key)));
    }
    tonic::transport::Endpoint::from_shared(url.to_string()).expect("url").tls_config(tls)?.connect().await
}

/// An event a force system of `force` may publish: its force's, and not an investigator's act.
pub fn published_by(e: &pb::Event, force: &str) -> bool {
    e.force_code == force && !kind_of(e).by_investigators()
}

pub use beaconport_cli::serve::{metric_value, operator_get as http_get};
