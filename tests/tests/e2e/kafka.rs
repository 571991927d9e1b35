//! Beaconport's roles as separate processes around one Kafka cluster (librdkafka's mock cluster,
//! reached over loopback like any broker): two ingest processes (stateless writers: no copy of
//! the log) take the publishes, two query replicas each build the views from the topic, in
//! whatever interleaving of partitions they happen to read, and answer the same.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use beaconport_log_kafka::mock::Mock;
use beaconport_proto::pb::api;
use beaconport_tests::NodeProcess;

fn ctx() -> Option<api::QueryContext> {
    Some(api::QueryContext { purpose: "e2e kafka roles".into(), min_position: 0, wait_ms: 0, as_of: None })
}

fn start(data_dir: &Path, roles: &str, bootstrap: &str, topic: &str) -> NodeProcess {
    let log = format!("kafka:{bootstrap}");
    NodeProcess::serve(
        crate::NODE,
        data_dir,
        &["--roles", roles, "--log", &log, "--kafka-topic", topic],
        // The mock cluster holds every fetch to its limit; writers read their records back.
        &[("BEACONPORT_LOG__KAFKA__FETCH_WAIT_MS", "5")],
    )
}

async fn channel(url: &str) -> tonic::transport::Channel {
    beaconport_cli::client::channel(url).await.expect("connect")
}

/// Who each mention is, and the networks, as a query replica answers.
async fn answers(url: &str) -> (BTreeMap<String, String>, Vec<(u32, u32, u32, Vec<String>)>) {
    use futures::StreamExt;
    let mut q = beaconport_cli::client::query(channel(url).await);
    let mut s = q
        .export_mentions(api::ExportMentionsRequest {
            context: ctx(),
            force_code: String::new(),
            case_ref: String::new(),
        })
        .await
        .expect("export")
        .into_inner();
    let mut persons = BTreeMap::new();
    while let Some(m) = s.next().await {
        let m = m.expect("mention");
        let r = m.mention.expect("mention ref");
        persons.insert(format!("{}/{}/{}", r.force_code, r.case_ref, r.person_ref), m.person_id);
    }
    let mut networks = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = q
            .list_networks(api::ListNetworksRequest { context: ctx(), min_forces: 0, page_size: 500, page_token })
            .await
            .expect("networks")
            .into_inner();
        networks.extend(page.networks.into_iter().map(|n| (n.suspects, n.victims, n.cases, n.forces)));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    networks.sort();
    (persons, networks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_and_query_replicas_on_one_kafka_cluster_agree() {
    let mock = Mock::start(3).expect("mock cluster");
    let topic = "beaconport-e2e";
    mock.create_topic(topic, 4, 3).expect("topic");
    let dir = tempfile::tempdir().unwrap();
    let events = beaconport_tests::scenario_events(11);
    // Query replicas read the partitions in their own order, and each estimates resolution
    // models from what it holds then and writes them into the topic: they adopt the same ones
    // from there, and so resolve alike, with no model pinned.
    let start = |name: String, roles: &str| start(&dir.path().join(name), roles, mock.bootstrap(), topic);
    let ingest: Vec<NodeProcess> = (0..2).map(|i| start(format!("ingest-{i}"), "ingest")).collect();
    let query: Vec<NodeProcess> = (0..2).map(|i| start(format!("query-{i}"), "query")).collect();

    // Publishes go to both ingest replicas in turn; the second half is sent again through the
    // other replica (a client retrying elsewhere): nothing may be stored twice.
    let batches: Vec<Vec<_>> = events.chunks(200).map(|c| c.to_vec()).collect();
    let mut clients = Vec::new();
    for node in &ingest {
        clients.push(beaconport_cli::client::ingest(channel(&node.url).await));
    }
    let mut placed = BTreeMap::new();
    for (i, b) in batches.iter().enumerate() {
        let acks =
            clients[i % 2].publish(api::PublishRequest { events: b.clone() }).await.expect("publish").into_inner();
        assert_eq!(acks.acks.len(), b.len());
        for a in acks.acks {
            // An ingest process holds no copy of the log: it says where the event is in the topic.
            assert_eq!(a.position, None, "a writer gives no position");
            let at = a.topic.expect("the event's place in the topic");
            assert!(!a.duplicate);
            assert!(placed.insert((at.partition, at.offset), a.event_id).is_none(), "two events at one place");
        }
    }
    // The second half again through the other writer (a client retrying elsewhere): each is a
    // duplicate at the original's place. (A writer that had not yet read the first copies writes
    // second ones, which every replica skips: counted below, the replicas hold each event once.)
    for (i, b) in batches.iter().enumerate().skip(batches.len() / 2) {
        let acks = clients[(i + 1) % 2].publish(api::PublishRequest { events: b.clone() }).await.expect("retry");
        for a in acks.into_inner().acks {
            assert!(a.duplicate, "a retry through the other writer is a duplicate");
            let at = a.topic.expect("the original's place");
            assert_eq!(placed.get(&(at.partition, at.offset)), Some(&a.event_id), "the original's place");
        }
    }

    // A role serves only its services; an ingest process has no log to read or audit.
    let mut q_on_ingest = beaconport_cli::client::query(channel(&ingest[0].url).await);
    let err = q_on_ingest.list_networks(api::ListNetworksRequest { context: ctx(), ..Default::default() }).await;
    assert_eq!(err.unwrap_err().code(), tonic::Code::Unimplemented, "an ingest process serves no queries");
    let mut log_on_ingest = beaconport_cli::client::log_reader(channel(&ingest[0].url).await);
    let err = log_on_ingest.head(api::HeadRequest {}).await;
    assert_eq!(err.unwrap_err().code(), tonic::Code::Unimplemented, "an ingest process holds no log to read");
    let ingest_dir = dir.path().join("ingest-0");
    assert!(
        !ingest_dir.join("replica").exists(),
        "an ingest process keeps no replica: {:?}",
        std::fs::read_dir(&ingest_dir).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    // What each role reports to operators: a writer its place in the topic and the ids it
    // knows, and no log head, tree or views' lag (it holds none: a 0 would read as "empty");
    // a query replica its log, its tree and its views.
    let through_first: usize = batches.iter().step_by(2).map(Vec::len).sum();
    let (code, m) = beaconport_tests::http_get(&ingest[0].operator, "/metrics").await;
    assert_eq!(code, 200);
    let value = |name: &str| beaconport_tests::metric_value(&m, name);
    assert!(value("beaconport_log_backend{gauge=\"kafka_writer_known_ids\"}") >= Some(through_first as f64), "{m}");
    assert!(value("beaconport_events_stored_total").is_some_and(|v| v > 0.0), "{m}");
    for absent in ["beaconport_log_head_position", "beaconport_tree_size", "beaconport_views_lag_events"] {
        assert!(!m.contains(absent), "a writer reports no {absent}: {m}");
    }
    assert!(m.ends_with("# EOF\n"), "{m}");
    let (code, m) = beaconport_tests::http_get(&query[0].operator, "/metrics").await;
    assert_eq!(code, 200);
    for present in ["beaconport_log_head_position", "beaconport_tree_size", "beaconport_views_lag_events"] {
        assert!(beaconport_tests::metric_value(&m, present).is_some(), "a query replica reports {present}: {m}");
    }
    assert_eq!(m.matches("# EOF").count(), 1, "{m}");

    let mut i_on_query = beaconport_cli::client::ingest(channel(&query[0].url).await);
    let err = i_on_query.publish(api::PublishRequest { events: batches[0].clone() }).await;
    assert_eq!(err.unwrap_err().code(), tonic::Code::Unimplemented, "a query replica takes no publishes");

    // Both query replicas copy every event, and the models they wrote, and apply them all.
    let n = events.len() as u64;
    let mut status = Vec::new();
    for node in &query {
        status.push(beaconport_cli::client::query(channel(&node.url).await));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut settled = 0;
    let mut last = Vec::new();
    while settled < 5 {
        let mut now = Vec::new();
        for q in status.iter_mut() {
            let s = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await.unwrap().into_inner();
            now.push((s.log_head, s.applied));
        }
        let caught_up = now.iter().all(|(head, applied)| *head > n && applied >= head && *head == now[0].0);
        settled = if caught_up && now == last { settled + 1 } else { 0 };
        assert!(Instant::now() < deadline, "views stuck at {now:?} (applied, head) of {n} events and the models");
        last = now;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Levels 9 (512 mentions) to 17 at most, one event each: the published events are stored
    // once (no duplicate from the retries), and each level's model once.
    let models = last[0].0 - n;
    assert!((1..=9).contains(&models), "{models} events beyond the {n} published");
    let (persons_a, networks_a) = answers(&query[0].url).await;
    let (persons_b, networks_b) = answers(&query[1].url).await;
    assert!(persons_a.len() > 100, "{} mentions", persons_a.len());
    assert!(!networks_a.is_empty());
    assert_eq!(persons_a, persons_b, "the replicas resolve every mention to the same person");
    assert_eq!(networks_a, networks_b, "the replicas find the same networks");
    for node in ingest.into_iter().chain(query) {
        assert!(node.stop().success(), "a clean shutdown (producer flushed)");
    }
}

/// Over mutual TLS, an ingest process (a stateless writer) holds each force system to its own
/// records as the embedded ledger does: a correction or retraction of another force's event, or
/// of another case's, is refused, naming the field; its target is looked up in the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_holds_each_force_to_its_own_records() {
    use beaconport_proto::pb::event as pb;
    use std::sync::Arc;
    let mock = Mock::start(1).expect("mock cluster");
    let topic = "beaconport-e2e-owners";
    mock.create_topic(topic, 3, 1).expect("topic");
    let dir = tempfile::tempdir().unwrap();
    let events = beaconport_tests::scenario_events(31);
    let own: Vec<_> = events.iter().filter(|e| beaconport_tests::published_by(e, "GMP")).take(2).cloned().collect();
    let other = events.iter().find(|e| e.force_code != "GMP" && e.force_code != "NCA").unwrap().clone();
    let elsewhere = events
        .iter()
        .find(|e| beaconport_tests::published_by(e, "GMP") && e.case_ref != own[0].case_ref)
        .unwrap()
        .clone();
    let forces = ["GMP".to_string(), other.force_code.clone()];
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &forces, 30).unwrap();
    let mut options = beaconport_log_kafka::Options::new(mock.bootstrap(), topic, dir.path().join("unused"));
    options.partitions = 3;
    options.replication = 1;
    options.fetch_wait = Duration::from_millis(5);
    let writer = Arc::new(beaconport_log_kafka::KafkaWriter::open(options).await.expect("writer"));
    let listener = beaconport_server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_options =
        beaconport_server::Options { tls: Some(beaconport_tests::server_tls(&pki)), ..Default::default() };
    let served = tokio::spawn(beaconport_server::serve_writer(listener, writer.clone(), server_options, async {
        let _ = stopped.await;
    }));
    let channel = |principal: String| {
        let (pki, url) = (&pki, url.clone());
        async move {
            let c = pki.clients.iter().find(|c| c.principal == principal).unwrap();
            let ch = beaconport_tests::tls_channel(&url, &pki.ca_cert, Some((&c.cert, &c.key))).await;
            beaconport_cli::client::ingest(ch.expect("connect over mutual TLS"))
        }
    };
    let mut gmp = channel("force-gmp".into()).await;
    let other_principal = format!("force-{}", other.force_code.to_lowercase());
    let mut theirs = channel(other_principal).await;
    gmp.publish(api::PublishRequest { events: own.clone() }).await.expect("its own events");
    gmp.publish(api::PublishRequest { events: vec![elsewhere.clone()] }).await.expect("its own, another case");
    theirs.publish(api::PublishRequest { events: vec![other.clone()] }).await.expect("the other force's event");
    let retract = |target: &str| pb::Event {
        event_id: uuid::Uuid::now_v7().to_string(),
        body: Some(pb::Body {
            kind: Some(pb::body::Kind::RecordRetracted(pb::RecordRetracted {
                retracted_event_id: target.to_string(),
                reason: "entered in error".into(),
            })),
        }),
        ..own[0].clone()
    };
    let err = gmp.publish(api::PublishRequest { events: vec![retract(&other.event_id)] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("record_retracted.retracted_event_id") && err.message().contains("another force"),
        "{}",
        err.message()
    );
    let err = gmp.publish(api::PublishRequest { events: vec![retract(&elsewhere.event_id)] }).await.unwrap_err();
    assert!(err.message().contains("another case"), "{}", err.message());
    let acks = gmp.publish(api::PublishRequest { events: vec![retract(&own[1].event_id)] }).await.expect("its own");
    assert!(acks.into_inner().acks[0].topic.is_some());
    // Nothing refused reached the topic: 2 + 1 + 1 published, 1 retraction.
    assert_eq!(writer.known_ids(), 5);
    let _ = stop.send(());
    served.await.unwrap().unwrap();
    writer.close().await;
}
