//! Mutual TLS: callers are who their client certificate says (headers claiming otherwise are
//! ignored); no certificate, or one from another CA, gets no connection at all.

use beaconport_proto::pb::api;
use beaconport_tests::TestServer;
use tonic::Request;

/// Whether a channel (if one could be opened at all) gets an answer to a call an investigator
/// may make, so that only the connection itself can refuse it.
async fn answered<E>(channel: Result<tonic::transport::Channel, E>) -> bool {
    match channel {
        Err(_) => false,
        Ok(ch) => beaconport_cli::client::query(ch)
            .view_status(api::ViewStatusRequest { digest: false, as_of: None })
            .await
            .is_ok(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_their_certificates_and_strangers_get_no_connection() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_test_pki(&dir.path().join("pki"), &["GMP".to_string()]).unwrap();
    let server = TestServer::start_tls(&pki).await;
    let who = |name: &str| pki.clients.iter().find(|c| c.principal == name).unwrap();
    let investigator = who("investigator-01");
    let ch = server.tls_channel(&pki.ca_cert, Some((&investigator.cert, &investigator.key))).await.unwrap();
    let mut q = beaconport_cli::client::query(ch);
    // A header claiming to be someone else changes nothing over mutual TLS.
    let mut req = Request::new(api::SearchPersonsRequest {
        context: Some(api::QueryContext { purpose: "op tls".into(), ..Default::default() }),
        name: "Smith".into(),
        ..Default::default()
    });
    req.metadata_mut().insert(beaconport_server::PRINCIPAL_HEADER, "auditor-01".parse().unwrap());
    req.metadata_mut().insert(beaconport_server::ROLE_HEADER, "auditor".parse().unwrap());
    let head = q.search_persons(req).await.unwrap().into_inner().as_of_position;
    let _ = head;
    let auditor = who("auditor-01");
    let ach = server.tls_channel(&pki.ca_cert, Some((&auditor.cert, &auditor.key))).await.unwrap();
    let mut audit = api::audit_service_client::AuditServiceClient::new(ach);
    let mut found = Vec::new();
    // Until the projection has applied the consultation (a loaded machine may take seconds).
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < until {
        found = audit
            .list_consultations(api::ListConsultationsRequest { page_size: 100, ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .consultations;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let c = found[0].consultation.as_ref().unwrap();
    assert_eq!((c.principal.as_str(), c.role.as_str()), ("investigator-01", "investigator"));

    // No client certificate: the handshake fails, nothing is answered.
    assert!(
        !answered(server.tls_channel(&pki.ca_cert, None).await).await,
        "a client without a certificate was answered"
    );
    // An expired certificate of the same CA, mapped like the others.
    let expired = pki.expired.as_ref().unwrap();
    let channel = server.tls_channel(&pki.ca_cert, Some((&expired.cert, &expired.key))).await;
    assert!(!answered(channel).await, "an expired certificate was accepted");
    let channel = server.tls_channel(&pki.ca_cert, Some((&investigator.cert, &investigator.key))).await;
    assert!(answered(channel).await, "the same call with a valid certificate is answered");
    // A certificate from another CA.
    let other = beaconport_cli::certs::write_dev_pki(&dir.path().join("other"), &[], 30).unwrap();
    let stranger = &other.clients[0];
    assert_eq!(stranger.principal, "investigator-01", "the same name as a mapped caller: only the CA differs");
    let channel = server.tls_channel(&pki.ca_cert, Some((&stranger.cert, &stranger.key))).await;
    assert!(!answered(channel).await, "a certificate from another CA was accepted");
    // Plaintext to a TLS server: refused.
    let plain = server.url.replace("https://", "http://");
    let channel = beaconport_cli::client::channel(&plain).await.map_err(|e| e.to_string());
    assert!(!answered(channel).await, "plaintext was answered by a TLS server");
    server.stop().await;
}

/// Sends and receives bytes as they are, so that any call of the API can be made with any bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = bytes::Bytes;
    type Decode = bytes::Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: bytes::Bytes, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put(item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<bytes::Bytes>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Makes `call` with `body` as its request (for a streaming request, one message), and returns
/// the status that refused it, if it was refused before an answer began.
pub async fn raw_call(
    ch: tonic::transport::Channel,
    call: &beaconport_server::authorise::Call,
    body: bytes::Bytes,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(ch).max_decoding_message_size(64 << 20);
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(call.path);
    let client_streams = call.path.ends_with("/PublishStream") || call.path.ends_with("/ServerReflectionInfo");
    if client_streams {
        let requests = tokio_stream::iter(vec![body]);
        let mut answers = grpc.streaming(Request::new(requests), path, RawCodec).await?.into_inner();
        // The first answer (or the end) tells whether the message was taken.
        answers.message().await.map(|_| ())
    } else if call.streams {
        let mut answers = grpc.server_streaming(Request::new(body), path, RawCodec).await?.into_inner();
        if call.path.ends_with("/Watch") {
            return Ok(()); // a watch answers when health changes, not before
        }
        answers.message().await.map(|_| ())
    } else {
        grpc.unary(Request::new(body), path, RawCodec).await.map(|_| ())
    }
}

/// The table names every call the server has, and nothing else: a new call cannot go unguarded.
#[test]
fn the_table_names_every_call_of_the_api() {
    use prost::Message;
    let mut served = std::collections::BTreeSet::new();
    for set in [beaconport_proto::FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET] {
        let set = prost_types::FileDescriptorSet::decode(set).unwrap();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    served.insert(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
                }
            }
        }
    }
    served.insert("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo".into());
    let table: std::collections::BTreeSet<String> =
        beaconport_server::authorise::CALLS.iter().map(|c| c.path.to_string()).collect();
    assert_eq!(table, served, "the authorisation table and the served calls differ");
    for c in beaconport_server::authorise::CALLS {
        assert!(c.roles.iter().all(|r| beaconport_server::authorise::ROLES.contains(r)), "{c:?}");
    }
}

/// Every role against every call of the API (the table of role x call, every cell made over
/// mutual TLS): allowed exactly where the table says, refused PERMISSION_DENIED naming the role
/// elsewhere, and every refusal recorded in the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_makes_only_its_calls() {
    use beaconport_server::authorise::{allowed, CALLS};
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
    let server = TestServer::start_tls(&pki).await;
    let mut cells = 0;
    let mut denied = 0;
    for who in &pki.clients {
        let ch = server.tls_channel(&pki.ca_cert, Some((&who.cert, &who.key))).await.unwrap();
        for call in CALLS {
            cells += 1;
            let result = raw_call(ch.clone(), call, bytes::Bytes::new()).await;
            let allowed = allowed(call.path).contains(&who.role);
            match result {
                Err(s) if s.code() == tonic::Code::PermissionDenied => {
                    denied += 1;
                    assert!(!allowed, "{} ({}) refused {}: {}", who.principal, who.role, call.path, s.message());
                    assert!(s.message().contains(who.role), "{}", s.message());
                }
                Err(s) if s.code() == tonic::Code::Unauthenticated => {
                    panic!("{} ({}) unauthenticated for {}: {}", who.principal, who.role, call.path, s.message())
                }
                other => assert!(allowed, "{} ({}) was let into {}: {other:?}", who.principal, who.role, call.path),
            }
        }
    }
    assert_eq!(cells, 4 * CALLS.len(), "every role against every call");
    assert!(denied > cells / 2, "most cells are refusals: {denied} of {cells}");
    // Every refusal is recorded, like a consultation: who tried which call, and why it was refused.
    let auditor = pki.clients.iter().find(|c| c.role == "auditor").unwrap();
    let ch = server.tls_channel(&pki.ca_cert, Some((&auditor.cert, &auditor.key))).await.unwrap();
    let mut audit = api::audit_service_client::AuditServiceClient::new(ch);
    let mut refusals = Vec::new();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < until {
        refusals = audit
            .list_consultations(api::ListConsultationsRequest { page_size: 1000, ..Default::default() })
            .await
            .unwrap()
            .into_inner()
            .consultations
            .into_iter()
            .filter_map(|c| c.consultation)
            .filter(|c| c.outcome.starts_with("refused"))
            .collect::<Vec<_>>();
        if refusals.len() >= denied {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(refusals.len(), denied, "one record per refusal");
    assert!(refusals
        .iter()
        .any(|c| c.principal == "investigator-01" && c.call == "AuditService/GetTreeHead" && c.role == "investigator"));
    assert!(refusals.iter().any(|c| c.principal == "force-gmp" && c.call == "QueryService/SearchPersons"));
    // The table itself: a force only publishes, only auditors read the log, nobody calls an
    // unknown path.
    assert_eq!(allowed("/beaconport.api.v1.IngestService/Publish"), &["force"]);
    assert_eq!(allowed("/beaconport.api.v1.LogService/Read"), &["auditor"]);
    assert_eq!(allowed("/beaconport.api.v1.AuditService/ListConsultations"), &["auditor"]);
    assert!(allowed("/beaconport.api.v1.Nope/Nothing").is_empty());
    // An unknown call is refused to everyone.
    let op = pki.clients.iter().find(|c| c.role == "operator").unwrap();
    let ch = server.tls_channel(&pki.ca_cert, Some((&op.cert, &op.key))).await.unwrap();
    let nope =
        beaconport_server::authorise::Call { path: "/beaconport.api.v1.Nope/Nothing", roles: &[], streams: false };
    let err = raw_call(ch, &nope, bytes::Bytes::new()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    server.stop().await;
}

/// A force system's certificate publishes its own force's events only: a batch holding another
/// force's event is refused whole, naming the event and the field, and nothing is stored. It may
/// not retract or correct another force's record, nor record an investigator's act.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_publishes_only_its_own_events() {
    use beaconport_log::EventLog;
    use beaconport_proto::pb::event as pb;
    let events = beaconport_tests::scenario_events(31);
    let own: Vec<_> = events.iter().filter(|e| beaconport_tests::published_by(e, "GMP")).take(3).cloned().collect();
    let other = events.iter().find(|e| e.force_code != "GMP" && e.force_code != "NCA").unwrap().clone();
    assert_eq!(own.len(), 3, "the scenario has GMP events");
    let dir = tempfile::tempdir().unwrap();
    let forces = ["GMP".to_string(), other.force_code.clone()];
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &forces, 30).unwrap();
    let server = TestServer::start_tls(&pki).await;
    let gmp = pki.clients.iter().find(|c| c.principal == "force-gmp").unwrap();
    let ch = server.tls_channel(&pki.ca_cert, Some((&gmp.cert, &gmp.key))).await.unwrap();
    let mut ingest = beaconport_cli::client::ingest(ch);
    let mut mixed = own.clone();
    mixed.push(other.clone());
    let err = ingest.publish(api::PublishRequest { events: mixed }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("force_code") && err.message().contains(&other.event_id), "{}", err.message());
    assert_eq!(server.log.head().0, 0, "nothing of the refused batch is stored");
    // Through the stream too: refused in-band.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(api::PublishRequest { events: vec![other.clone()] }).await.unwrap();
    drop(tx);
    let mut answers =
        ingest.publish_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await.unwrap().into_inner();
    let first = answers.message().await.unwrap().unwrap();
    assert!(matches!(first.result, Some(api::publish_stream_response::Result::Rejected(_))), "{first:?}");
    assert_eq!(server.log.head().0, 0);
    // Its own events: stored.
    let acks = ingest.publish(api::PublishRequest { events: own.clone() }).await.unwrap().into_inner().acks;
    assert_eq!(acks.len(), 3);
    assert_eq!(server.log.head().0, 3);

    // The other force stores its event with its own certificate; GMP may not retract or correct
    // it, but may retract its own.
    let oc = pki.clients.iter().find(|c| c.force.as_deref() == Some(other.force_code.as_str())).unwrap();
    let och = server.tls_channel(&pki.ca_cert, Some((&oc.cert, &oc.key))).await.unwrap();
    beaconport_cli::client::ingest(och).publish(api::PublishRequest { events: vec![other.clone()] }).await.unwrap();
    assert_eq!(server.log.head().0, 4);
    let by_gmp = |kind: pb::body::Kind| pb::Event {
        event_id: uuid::Uuid::now_v7().to_string(),
        body: Some(pb::Body { kind: Some(kind) }),
        ..own[0].clone()
    };
    let retract = |target: &str| {
        by_gmp(pb::body::Kind::RecordRetracted(pb::RecordRetracted {
            retracted_event_id: target.to_string(),
            reason: "entered in error".into(),
        }))
    };
    let err = ingest.publish(api::PublishRequest { events: vec![retract(&other.event_id)] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("record_retracted.retracted_event_id") && err.message().contains("another force"),
        "{}",
        err.message()
    );
    let mut correction = own[1].clone();
    correction.event_id = uuid::Uuid::now_v7().to_string();
    let replacement = other.body.clone().map(Box::new);
    let err = ingest
        .publish(api::PublishRequest {
            events: vec![by_gmp(pb::body::Kind::RecordCorrected(Box::new(pb::RecordCorrected {
                corrected_event_id: other.event_id.clone(),
                reason: "wrong".into(),
                replacement,
            })))],
        })
        .await
        .unwrap_err();
    assert!(err.message().contains("record_corrected.corrected_event_id"), "{}", err.message());
    assert_eq!(server.log.head().0, 4, "no foreign retraction or correction stored");
    assert_eq!(own[2].case_ref, own[0].case_ref, "the scenario publishes case by case");
    ingest.publish(api::PublishRequest { events: vec![retract(&own[2].event_id)] }).await.unwrap();
    assert_eq!(server.log.head().0, 5, "its own record it may retract");
    // ... from the same case only: in a partitioned log a correction must follow its target
    // everywhere, and only one case's events keep their order everywhere.
    let elsewhere = events
        .iter()
        .find(|e| beaconport_tests::published_by(e, "GMP") && e.case_ref != own[0].case_ref)
        .unwrap()
        .clone();
    ingest.publish(api::PublishRequest { events: vec![elsewhere.clone()] }).await.unwrap();
    assert_eq!(server.log.head().0, 6);
    let err = ingest.publish(api::PublishRequest { events: vec![retract(&elsewhere.event_id)] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("another case"), "{}", err.message());
    assert_eq!(server.log.head().0, 6, "no retraction across cases stored");

    // An investigator's act (a review step, a link decision) is not a force system's to publish,
    // not even for its own case.
    for act in events.iter().filter(|e| beaconport_tests::kind_of(e).by_investigators()) {
        let mut act = act.clone();
        act.force_code = "GMP".into();
        act.case_ref = own[0].case_ref.clone();
        let err = ingest.publish(api::PublishRequest { events: vec![act.clone()] }).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{}", err.message());
        let kind = beaconport_tests::kind_of(&act).name();
        assert!(err.message().contains("investigator's act") && err.message().contains(kind), "{}", err.message());
    }
    assert!(events.iter().any(|e| beaconport_tests::kind_of(e).by_investigators()), "the scenario has acts");
    assert_eq!(server.log.head().0, 6);
    server.stop().await;
}

/// Plaintext only when asked for: `serve` without TLS settings refuses to start, naming the
/// flag; with `--insecure-plaintext` it serves and warns at start.
#[test]
fn serve_speaks_plaintext_only_behind_an_explicit_flag() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::NODE)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve started without TLS and without the flag");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--insecure-plaintext") && said.contains("tls"), "{said}");
    assert!(!dir.path().join("data").exists(), "nothing was created before refusing");

    let mut child = std::process::Command::new(crate::NODE)
        .args(["serve", "--insecure-plaintext", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "off")
        .env("BEACONPORT_HTTP__LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with(beaconport_cli::serve::LISTENING), "{line}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    let out = child.wait_with_output().unwrap();
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(warned.contains("INSECURE plaintext"), "no warning at start, even with logging off: {warned}");
}
