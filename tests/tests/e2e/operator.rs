//! The operator endpoint of a real `beaconport serve` process: `/metrics` counts what the ledger
//! did (events stored and retried, rejected batches by field, positions and lag of the views),
//! `/healthz` answers, `/readyz` says whether the views are close enough to the log to answer.

use beaconport_proto::pb::api;
use beaconport_tests::{http_get as get, metric_value as value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_ledger_did() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(crate::NODE)
        .args(["serve", "--insecure-plaintext", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .env("BEACONPORT_HTTP__LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (grpc, http) = beaconport_cli::serve::announced(&mut child, true).unwrap();
    let (url, http) = (format!("http://{grpc}"), http.unwrap());

    assert_eq!(get(&http, "/healthz").await, (200, "ok\n".to_string()));
    let events = beaconport_tests::one_of_each_kind(21);
    let ch = beaconport_cli::client::channel(&url).await.unwrap();
    let mut ingest = beaconport_cli::client::ingest(ch.clone());
    ingest.publish(api::PublishRequest { events: events.clone() }).await.unwrap();
    // A retry, and a batch refused for one bad date of birth.
    ingest.publish(api::PublishRequest { events: events[..3].to_vec() }).await.unwrap();
    let mut bad = events[0].clone();
    bad.event_id = uuid::Uuid::now_v7().to_string();
    bad.occurred_at = "2024-13-01T00:00:00Z".into();
    ingest.publish(api::PublishRequest { events: vec![bad] }).await.unwrap_err();
    // Wait for the views to hold every event, then ask once.
    let n = events.len() as u64;
    let mut q = beaconport_cli::client::query(ch);
    q.list_networks(api::ListNetworksRequest {
        context: Some(api::QueryContext {
            purpose: "metrics test".into(),
            min_position: n,
            wait_ms: 30_000,
            as_of: None,
        }),
        ..Default::default()
    })
    .await
    .unwrap();

    let (code, m) = get(&http, "/metrics").await;
    assert_eq!(code, 200);
    assert_eq!(value(&m, "beaconport_events_stored_total"), Some(n as f64), "{m}");
    assert_eq!(value(&m, "beaconport_events_duplicate_total"), Some(3.0), "{m}");
    assert_eq!(value(&m, "beaconport_publish_batches_total{outcome=\"accepted\"}"), Some(2.0), "{m}");
    assert_eq!(value(&m, "beaconport_publish_batches_total{outcome=\"rejected\"}"), Some(1.0), "{m}");
    assert_eq!(value(&m, "beaconport_rejected_event_problems_total{field=\"occurred_at\"}"), Some(1.0), "{m}");
    assert_eq!(value(&m, "beaconport_publish_seconds_count"), Some(2.0), "{m}");
    assert_eq!(value(&m, "beaconport_answered_queries_total{call=\"QueryService/ListNetworks\"}"), Some(1.0), "{m}");
    // The log holds the events and the query's consultation record; the views may be one behind.
    assert_eq!(value(&m, "beaconport_log_head_position"), Some(n as f64 + 1.0), "{m}");
    assert_eq!(value(&m, "beaconport_tree_size"), Some(n as f64 + 1.0), "{m}");
    // Group commit, counted: the embedded log's appends (the publishes and the consultation
    // record at least) and the flushes they shared, as counters.
    assert!(m.contains("# TYPE beaconport_log_backend_count counter"), "{m}");
    let appends = value(&m, "beaconport_log_backend_count_total{counter=\"sled_appends\"}").unwrap();
    let flushes = value(&m, "beaconport_log_backend_count_total{counter=\"sled_flushes\"}").unwrap();
    assert!(appends >= 2.0 && flushes >= 1.0 && flushes <= appends, "{m}");
    let applied = value(&m, "beaconport_views_applied_position").unwrap();
    let lag = value(&m, "beaconport_views_lag_events").unwrap();
    assert!(applied >= n as f64 && applied + lag == n as f64 + 1.0, "{m}");
    let (code, body) = get(&http, "/readyz").await;
    assert_eq!(code, 200, "{body}");
    assert!(body.starts_with("ready"), "{body}");

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());
}
