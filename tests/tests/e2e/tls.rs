//! Mutual TLS: callers are who their client certificate says (headers claiming otherwise are
//! ignored); no certificate, or one from another CA, gets no connection at all.

use beaconport_proto::pb::api;
use beaconport_tests::TestServer;
use tonic::Request;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_their_certificates_and_strangers_get_no_connection() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
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
    let none = match server.tls_channel(&pki.ca_cert, None).await {
        Err(_) => true,
        Ok(ch) => beaconport_cli::client::log_reader(ch).head(api::HeadRequest {}).await.is_err(),
    };
    assert!(none, "a client without a certificate was answered");
    // A certificate from another CA.
    let other = beaconport_cli::certs::write_dev_pki(&dir.path().join("other"), &[], 30).unwrap();
    let stranger = &other.clients[0];
    let refused = match server.tls_channel(&pki.ca_cert, Some((&stranger.cert, &stranger.key))).await {
        Err(_) => true,
        Ok(ch) => beaconport_cli::client::log_reader(ch).head(api::HeadRequest {}).await.is_err(),
    };
    assert!(refused, "a certificate from another CA was accepted");
    // Plaintext to a TLS server: refused.
    let plain = server.url.replace("https://", "http://");
    let refused = match beaconport_cli::client::channel(&plain).await {
        Err(_) => true,
        Ok(ch) => beaconport_cli::client::log_reader(ch).head(api::HeadRequest {}).await.is_err(),
    };
    assert!(refused, "plaintext was answered by a TLS server");
    server.stop().await;
}
