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
    for _ in 0..200 {
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

/// Every role against every service: allowed exactly where the table says, refused
/// PERMISSION_DENIED (naming the role) elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_calls_only_its_services() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
    let server = TestServer::start_tls(&pki).await;
    let services = [
        "beaconport.api.v1.IngestService",
        "beaconport.api.v1.QueryService",
        "beaconport.api.v1.ReviewService",
        "beaconport.api.v1.AuditService",
        "beaconport.api.v1.LogService",
        "grpc.health.v1.Health",
    ];
    for who in &pki.clients {
        let ch = server.tls_channel(&pki.ca_cert, Some((&who.cert, &who.key))).await.unwrap();
        for service in services {
            let result: Result<(), tonic::Status> = match service {
                "beaconport.api.v1.IngestService" => beaconport_cli::client::ingest(ch.clone())
                    .publish(api::PublishRequest { events: vec![] })
                    .await
                    .map(|_| ()),
                "beaconport.api.v1.QueryService" => beaconport_cli::client::query(ch.clone())
                    .view_status(api::ViewStatusRequest { digest: false, as_of: None })
                    .await
                    .map(|_| ()),
                "beaconport.api.v1.ReviewService" => beaconport_cli::reviewcmd::client(ch.clone())
                    .get_queue(api::GetQueueRequest::default())
                    .await
                    .map(|_| ()),
                "beaconport.api.v1.AuditService" => api::audit_service_client::AuditServiceClient::new(ch.clone())
                    .get_tree_head(api::TreeHeadRequest { tree_size: 0 })
                    .await
                    .map(|_| ()),
                "beaconport.api.v1.LogService" => {
                    beaconport_cli::client::log_reader(ch.clone()).head(api::HeadRequest {}).await.map(|_| ())
                }
                _ => tonic_health::pb::health_client::HealthClient::new(ch.clone())
                    .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
                    .await
                    .map(|_| ()),
            };
            let allowed = beaconport_server::authorise::allowed(service).contains(&who.role);
            match result {
                Err(s) if s.code() == tonic::Code::PermissionDenied => {
                    assert!(!allowed, "{} ({}) refused {service}: {}", who.principal, who.role, s.message());
                    assert!(s.message().contains(who.role), "{}", s.message());
                }
                other => assert!(allowed, "{} ({}) was let into {service}: {other:?}", who.principal, who.role),
            }
        }
    }
    // Every refusal is recorded, like a consultation: who tried which call, and why it was refused.
    let denied: usize = pki
        .clients
        .iter()
        .map(|c| services.iter().filter(|s| !beaconport_server::authorise::allowed(s).contains(&c.role)).count())
        .sum();
    let auditor = pki.clients.iter().find(|c| c.role == "auditor").unwrap();
    let ch = server.tls_channel(&pki.ca_cert, Some((&auditor.cert, &auditor.key))).await.unwrap();
    let mut audit = api::audit_service_client::AuditServiceClient::new(ch);
    let mut refusals = Vec::new();
    for _ in 0..250 {
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
    // The table itself: each caller role has its services, and no service is open to all but health.
    assert_eq!(beaconport_server::authorise::allowed("beaconport.api.v1.IngestService"), &["force"]);
    assert_eq!(beaconport_server::authorise::allowed("beaconport.api.v1.AuditService"), &["auditor"]);
    assert!(beaconport_server::authorise::allowed("beaconport.api.v1.Nope").is_empty());
    server.stop().await;
}

/// A force system's certificate publishes its own force's events only: a batch holding another
/// force's event is refused whole, naming the event and the field, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_publishes_only_its_own_events() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
    let server = TestServer::start_tls(&pki).await;
    let gmp = pki.clients.iter().find(|c| c.principal == "force-gmp").unwrap();
    let ch = server.tls_channel(&pki.ca_cert, Some((&gmp.cert, &gmp.key))).await.unwrap();
    let mut ingest = beaconport_cli::client::ingest(ch);
    let events = beaconport_tests::scenario_events(31);
    let own: Vec<_> = events.iter().filter(|e| e.force_code == "GMP").take(3).cloned().collect();
    let other = events.iter().find(|e| e.force_code != "GMP").unwrap().clone();
    assert_eq!(own.len(), 3, "the scenario has GMP events");
    let mut mixed = own.clone();
    mixed.push(other.clone());
    let err = ingest.publish(api::PublishRequest { events: mixed }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("force_code") && err.message().contains(&other.event_id), "{}", err.message());
    use beaconport_log::EventLog;
    assert_eq!(server.log.head().0, 0, "nothing of the refused batch is stored");
    // Through the stream too: refused in-band.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(api::PublishRequest { events: vec![other] }).await.unwrap();
    drop(tx);
    let mut answers =
        ingest.publish_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await.unwrap().into_inner();
    let first = answers.message().await.unwrap().unwrap();
    assert!(matches!(first.result, Some(api::publish_stream_response::Result::Rejected(_))), "{first:?}");
    assert_eq!(server.log.head().0, 0);
    // Its own events: stored.
    let acks = ingest.publish(api::PublishRequest { events: own }).await.unwrap().into_inner().acks;
    assert_eq!(acks.len(), 3);
    assert_eq!(server.log.head().0, 3);
    server.stop().await;
}
