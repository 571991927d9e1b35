//! Audit: the consultation log, replay, views as of a bound, tree heads and proofs, and offline
//! verification of a data directory.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use beaconport_domain::EventKind;
use beaconport_log::{Appended, Entry, EventId, EventLog, Position, Record};
use beaconport_proto::pb::{api, event as pb};
use beaconport_tests::{kind_of, scenario_events, NodeProcess, TestServer};
use futures::StreamExt;
use tokio::sync::watch;
use tonic::Request;

fn ctx(purpose: &str) -> Option<api::QueryContext> {
    Some(api::QueryContext { purpose: purpose.into(), min_position: 0, wait_ms: 0, as_of: None })
}

fn as_of(bound: api::as_of::Bound) -> Option<api::QueryContext> {
    Some(api::QueryContext {
        purpose: "audit: as of".into(),
        min_position: 0,
        wait_ms: 0,
        as_of: Some(api::AsOf { bound: Some(bound) }),
    })
}

fn named<T>(msg: T, principal: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert(beaconport_server::PRINCIPAL_HEADER, principal.parse().unwrap());
    r.metadata_mut().insert(beaconport_server::ROLE_HEADER, "investigator".parse().unwrap());
    r
}

async fn publish_all(server: &TestServer, events: &[pb::Event]) -> u64 {
    let mut c = server.ingest().await;
    let mut last = 0;
    for chunk in events.chunks(500) {
        let acks = c.publish(api::PublishRequest { events: chunk.to_vec() }).await.unwrap().into_inner().acks;
        last = acks.last().unwrap().position.expect("a position");
    }
    last + 1
}

async fn caught_up(server: &TestServer) -> api::ViewStatusResponse {
    let mut q = server.query().await;
    loop {
        let s = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await.unwrap().into_inner();
        if s.applied >= s.log_head {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn consultations(server: &TestServer, req: api::ListConsultationsRequest) -> Vec<api::ConsultationEntry> {
    caught_up(server).await;
    server.audit().await.list_consultations(req).await.unwrap().into_inner().consultations
}

async fn replay_all(server: &TestServer, req: api::ReplayRequest) -> Vec<api::ReplayEntry> {
    let mut s = server.audit().await.replay(req).await.unwrap().into_inner();
    let mut out = Vec::new();
    while let Some(e) = s.next().await {
        out.push(e.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_call_is_recorded_exactly_once_before_its_answer() {
    let server = TestServer::start().await;
    let events = scenario_events(31);
    let head = publish_all(&server, &events).await;
    let mut q = server.query().await;
    let wait = Some(api::QueryContext { purpose: "warm up".into(), min_position: head, wait_ms: 60_000, as_of: None });
    let found = q
        .search_persons(named(
            api::SearchPersonsRequest { context: wait, name: "a".into(), page_size: 3, ..Default::default() },
            "det-sgt-0001",
        ))
        .await
        .unwrap()
        .into_inner();
    let person = found.persons.first().expect("someone").person_id.clone();

    // One of each consulting call, by one principal.
    let who = "dc-0042";
    q.get_person(named(api::GetPersonRequest { context: ctx("op hawk: dossier"), person_id: person.clone() }, who))
        .await
        .unwrap();
    q.linked_suspects(named(
        api::LinkedSuspectsRequest {
            to_person_id: String::new(),
            context: ctx("op hawk: links"),
            person_id: person.clone(),
            ..Default::default()
        },
        who,
    ))
    .await
    .unwrap();
    q.get_network(named(
        api::GetNetworkRequest { context: ctx("op hawk: network"), person_id: person.clone(), ..Default::default() },
        who,
    ))
    .await
    .unwrap();
    q.list_networks(named(
        api::ListNetworksRequest { context: ctx("op hawk: networks"), min_forces: 1, ..Default::default() },
        who,
    ))
    .await
    .unwrap();
    let mut export = q
        .export_mentions(named(
            api::ExportMentionsRequest { context: ctx("op hawk: export"), ..Default::default() },
            who,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut exported = 0u64;
    while let Some(r) = export.next().await {
        r.unwrap();
        exported += 1;
    }
    // An answer that is "not found" is a consultation too (something was asked).
    let missing = q
        .get_person(named(
            api::GetPersonRequest {
                context: ctx("op hawk: unknown"),
                person_id: "00000000-0000-5000-8000-000000000000".into(),
            },
            who,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
    // Refused before anything was asked (no purpose), and the status call: no record.
    assert!(q
        .get_person(named(api::GetPersonRequest { context: ctx(" "), person_id: person.clone() }, who))
        .await
        .is_err());
    q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await.unwrap();

    let mine =
        consultations(&server, api::ListConsultationsRequest { principal: who.into(), ..Default::default() }).await;
    let calls: Vec<&str> = mine.iter().rev().map(|c| c.consultation.as_ref().unwrap().call.as_str()).collect();
    assert_eq!(
        calls,
        [
            "QueryService/GetPerson",
            "QueryService/LinkedSuspects",
            "QueryService/GetNetwork",
            "QueryService/ListNetworks",
            "QueryService/ExportMentions",
            "QueryService/GetPerson",
        ],
        "exactly one record per call, in order"
    );
    let dossier = mine.last().unwrap().consultation.clone().unwrap();
    assert_eq!(dossier.purpose, "op hawk: dossier");
    assert_eq!(dossier.role, "investigator");
    assert_eq!(dossier.outcome, "ok");
    assert!(dossier.disclosed_persons.contains(&person), "{dossier:?}");
    assert!(!dossier.disclosed_cases.is_empty());
    assert!(dossier.request.contains(&person), "what was asked: {}", dossier.request);
    assert!(dossier.views_position >= head);
    let export = &mine[1].consultation.as_ref().unwrap();
    assert_eq!(export.disclosed_count, exported);
    assert!(mine[0].consultation.as_ref().unwrap().outcome.contains("not found"));
    assert!(mine[0].consultation.as_ref().unwrap().disclosed_persons.is_empty());

    // Every consultation is an event in the log, recorded before its answer was returned.
    let log = beaconport_tests::read_all(&server.url).await;
    let recorded: Vec<_> = log
        .iter()
        .filter(|e| e.event.as_ref().is_some_and(|e| kind_of(e) == EventKind::ConsultationRecorded))
        .collect();
    assert_eq!(recorded.len(), 7, "the warm-up search and the six calls");

    // What did the investigator see? The views as of the record's position answer the same call
    // with the same answer, even after the picture has changed.
    let seen = q
        .get_person(named(api::GetPersonRequest { context: ctx("op hawk: dossier"), person_id: person.clone() }, who))
        .await
        .unwrap()
        .into_inner();
    let more = scenario_events(32);
    publish_all(&server, &more).await;
    caught_up(&server).await;
    let record = consultations(&server, api::ListConsultationsRequest { principal: who.into(), ..Default::default() })
        .await
        .into_iter()
        .find(|c| c.consultation.as_ref().unwrap().call == "QueryService/GetPerson")
        .unwrap();
    let then = q
        .get_person(named(
            api::GetPersonRequest {
                context: as_of(api::as_of::Bound::Position(record.consultation.as_ref().unwrap().views_position)),
                person_id: person.clone(),
            },
            "auditor-7",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(then, seen, "the views as of the consultation show what the investigator was shown");
    let audited =
        consultations(&server, api::ListConsultationsRequest { principal: "auditor-7".into(), ..Default::default() })
            .await;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].consultation.as_ref().unwrap().as_of.starts_with("position "));

    // By person: the consultations that disclosed them (search, dossier, links, network, export).
    let about =
        consultations(&server, api::ListConsultationsRequest { person_id: person.clone(), ..Default::default() }).await;
    assert!(about.len() >= 4, "{} consultations about the person", about.len());
    assert!(about.iter().all(|c| c.consultation.as_ref().unwrap().disclosed_persons.contains(&person)));
    // By time: none in the future.
    let future = consultations(
        &server,
        api::ListConsultationsRequest { from: "2999-01-01T00:00:00Z".into(), ..Default::default() },
    )
    .await;
    assert!(future.is_empty());
    // A force may not publish a consultation record.
    let forged = recorded[0].event.clone().unwrap();
    let mut forged = forged;
    forged.event_id = uuid::Uuid::now_v7().to_string();
    let err = server.ingest().await.publish(api::PublishRequest { events: vec![forged] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("consultation_recorded"), "{}", err.message());
}

/// A log whose appends fail on demand (the disk is full, the log is gone).
struct Faulty {
    inner: Arc<dyn EventLog>,
    fail: Arc<AtomicBool>,
}

#[async_trait]
impl EventLog for Faulty {
    async fn append(&self, records: Vec<Record>) -> beaconport_log::Result<Vec<Appended>> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(beaconport_log::Error::Storage("injected: no space left on device".into()));
        }
        self.inner.append(records).await
    }
    async fn read(&self, from: Position, max: usize) -> beaconport_log::Result<Vec<Entry>> {
        self.inner.read(from, max).await
    }
    async fn get(&self, id: EventId) -> beaconport_log::Result<Option<Entry>> {
        self.inner.get(id).await
    }
    fn head(&self) -> Position {
        self.inner.head()
    }
    fn subscribe(&self) -> watch::Receiver<Position> {
        self.inner.subscribe()
    }
    fn tree(&self) -> Option<&beaconport_log::Tree> {
        self.inner.tree()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_whose_consultation_cannot_be_recorded_is_not_answered() {
    let fail = Arc::new(AtomicBool::new(false));
    let switch = fail.clone();
    let server = TestServer::start_with(move |log| Arc::new(Faulty { inner: log, fail: switch })).await;
    let head = publish_all(&server, &scenario_events(5)[..400]).await;
    caught_up(&server).await;
    let mut q = server.query().await;
    let ask = || api::SearchPersonsRequest {
        context: Some(api::QueryContext {
            purpose: "op kite".into(),
            min_position: head,
            wait_ms: 30_000,
            as_of: None,
        }),
        name: "a".into(),
        ..Default::default()
    };
    assert!(!q.search_persons(ask()).await.unwrap().into_inner().persons.is_empty());
    fail.store(true, Ordering::SeqCst);
    let err = q.search_persons(ask()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unavailable);
    assert!(err.message().contains("withheld"), "{}", err.message());
    fail.store(false, Ordering::SeqCst);
    let recorded = consultations(&server, api::ListConsultationsRequest::default()).await;
    assert_eq!(recorded.len(), 1, "only the answered query is recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_round_trip_into_a_fresh_ledger_is_byte_identical() {
    let a = TestServer::start().await;
    let events = scenario_events(17);
    publish_all(&a, &events).await;
    // What forces published; the events the ledger writes itself (the resolution models its
    // views estimated) each ledger writes for itself, and a force may not publish them.
    let published = api::ReplayRequest {
        kinds: EventKind::ALL.iter().filter(|k| k.publishable()).map(|k| k.name().to_string()).collect(),
        ..Default::default()
    };
    a.views_caught_up().await;
    let everything = replay_all(&a, api::ReplayRequest::default()).await;
    let replayed = replay_all(&a, published.clone()).await;
    assert_eq!(replayed.len(), events.len());
    assert!(everything.len() > replayed.len(), "the ledger wrote its resolution models");
    let ndjson: String = replayed.iter().map(|e| beaconport_cli::audit::replay_line(e).unwrap() + "\n").collect();

    let b = TestServer::start().await;
    let mut ingest = b.ingest().await;
    let summary = beaconport_cli::publish::publish_reader(
        std::io::Cursor::new(ndjson.clone()),
        &mut ingest,
        300,
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!(summary.stored_new, events.len() as u64);
    let again = replay_all(&b, published).await;
    assert_eq!(again.len(), replayed.len());
    for (x, y) in replayed.iter().zip(&again) {
        assert_eq!(&x.event, &y.event, "stored bytes differ at {} (copy: {})", x.position, y.position);
    }
    // The NDJSON of the copy is the same, but for the times the copy appended its events and
    // their positions among the models each ledger wrote for itself.
    let strip = |s: &str| -> Vec<serde_json::Value> {
        s.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("appended_at");
                v.as_object_mut().unwrap().remove("position");
                v
            })
            .collect()
    };
    let ndjson_b: String = again.iter().map(|e| beaconport_cli::audit::replay_line(e).unwrap() + "\n").collect();
    assert_eq!(strip(&ndjson), strip(&ndjson_b));

    // Filters and resumption.
    let force = events[0].force_code.clone();
    let only: Vec<_> = replay_all(
        &a,
        api::ReplayRequest {
            force_codes: vec![force.clone()],
            kinds: vec!["person_recorded".into()],
            ..Default::default()
        },
    )
    .await;
    let want = events.iter().filter(|e| e.force_code == force && kind_of(e) == EventKind::PersonRecorded).count();
    assert_eq!(only.len(), want);
    let half = replay_all(&a, api::ReplayRequest { limit: 100, ..Default::default() }).await;
    let rest =
        replay_all(&a, api::ReplayRequest { from_position: half.last().unwrap().position + 1, ..Default::default() })
            .await;
    assert_eq!(half.len() + rest.len(), everything.len());
    assert_eq!(rest.first().unwrap().event, everything[100].event);
    let bad = a.audit().await.replay(api::ReplayRequest { kinds: vec!["nonsense".into()], ..Default::default() }).await;
    assert_eq!(bad.unwrap_err().code(), tonic::Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_as_of_a_bound_equal_a_fresh_ledger_fed_only_what_it_admits() {
    let events = scenario_events(23);
    let cut = events.len() * 3 / 5;
    let a = TestServer::start().await;
    let t = publish_all(&a, &events[..cut]).await;
    publish_all(&a, &events[cut..]).await;
    caught_up(&a).await;

    let fresh = TestServer::start().await;
    publish_all(&fresh, &events[..cut]).await;
    caught_up(&fresh).await;

    let digest = |server: &TestServer, as_of: Option<api::AsOf>| {
        let url = server.url.clone();
        async move {
            let ch = tonic::transport::Channel::from_shared(url).unwrap().connect().await.unwrap();
            let mut q = beaconport_cli::client::query(ch);
            q.view_status(api::ViewStatusRequest { digest: true, as_of }).await.unwrap().into_inner()
        }
    };
    let then = digest(&a, Some(api::AsOf { bound: Some(api::as_of::Bound::Position(t)) })).await;
    let now_fresh = digest(&fresh, None).await;
    assert_eq!(then.applied, t);
    assert_eq!(then.digest, now_fresh.digest, "as of position {t} equals a ledger fed the first {t} events");
    assert_ne!(then.digest, digest(&a, None).await.digest, "and differs from today's views");

    // The same calls answer as of the bound: the person search of the fresh ledger.
    let mut q = a.query().await;
    let asked = |context| api::ListNetworksRequest { context, min_forces: 1, page_size: 500, ..Default::default() };
    let past = q.list_networks(asked(as_of(api::as_of::Bound::Position(t)))).await.unwrap().into_inner();
    let fresh_now = fresh.query().await.list_networks(asked(ctx("fresh"))).await.unwrap().into_inner();
    assert_eq!(past.networks, fresh_now.networks);

    // By the time forces recorded events: a ledger fed only the events recorded by then.
    let mut times: Vec<&str> = events.iter().map(|e| e.recorded_at.as_str()).collect();
    times.sort();
    let when = times[times.len() / 2].to_string();
    let admitted: Vec<pb::Event> = events
        .iter()
        .filter(|e| {
            chrono::DateTime::parse_from_rfc3339(&e.recorded_at).unwrap()
                <= chrono::DateTime::parse_from_rfc3339(&when).unwrap()
        })
        .cloned()
        .collect();
    let recorded = TestServer::start().await;
    publish_all(&recorded, &admitted).await;
    caught_up(&recorded).await;
    let export = |server: &TestServer, context| {
        let url = server.url.clone();
        async move {
            let ch = tonic::transport::Channel::from_shared(url).unwrap().connect().await.unwrap();
            let mut s = beaconport_cli::client::query(ch)
                .export_mentions(api::ExportMentionsRequest { context, ..Default::default() })
                .await
                .unwrap()
                .into_inner();
            let mut rows = BTreeSet::new();
            while let Some(r) = s.next().await {
                let r = r.unwrap();
                let m = r.mention.unwrap();
                rows.insert((m.force_code, m.case_ref, m.person_ref, r.person_id));
            }
            rows
        }
    };
    let by_recorded = export(&a, as_of(api::as_of::Bound::RecordedAt(when.clone()))).await;
    assert!(!by_recorded.is_empty());
    assert_eq!(by_recorded, export(&recorded, ctx("fresh")).await, "as recorded by {when}");
    // A bad bound names its field.
    let err = q.list_networks(asked(as_of(api::as_of::Bound::RecordedAt("yesterday".into())))).await.unwrap_err();
    assert!(err.message().contains("context.as_of.recorded_at"), "{}", err.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_verify_and_fail_when_any_byte_changes() {
    let server = TestServer::start().await;
    let events = scenario_events(9);
    let first = publish_all(&server, &events[..500]).await;
    let mut audit = server.audit().await;
    let old = audit.get_tree_head(api::TreeHeadRequest { tree_size: 0 }).await.unwrap().into_inner();
    assert_eq!(old.tree_size, first);
    publish_all(&server, &events[500..]).await;
    let key: [u8; 32] = old.public_key.as_slice().try_into().unwrap();

    for position in [0u64, 1, 250, first - 1, first + 10] {
        let p = audit
            .inclusion_proof(api::InclusionProofRequest {
                target: Some(api::inclusion_proof_request::Target::Position(position)),
                tree_size: 0,
            })
            .await
            .unwrap()
            .into_inner();
        beaconport_server::check_inclusion(&p, &key).unwrap();
        // Any byte of the event, of the path, or of the head: the proof fails.
        for i in (0..p.event.len()).step_by(7) {
            let mut t = p.clone();
            t.event[i] ^= 0x01;
            assert!(beaconport_server::check_inclusion(&t, &key).is_err(), "event byte {i} at {position}");
        }
        for j in 0..p.path.len() {
            let mut t = p.clone();
            t.path[j][j % 32] ^= 0x80;
            assert!(beaconport_server::check_inclusion(&t, &key).is_err(), "path hash {j}");
        }
        let head = p.tree_head.clone().unwrap();
        for field in 0..4 {
            let mut t = p.clone();
            let h = t.tree_head.as_mut().unwrap();
            match field {
                0 => h.tree_size += 1,
                1 => h.root_hash[3] ^= 1,
                2 => h.timestamp_ms += 1,
                _ => h.signature[10] ^= 1,
            }
            assert!(beaconport_server::check_inclusion(&t, &key).is_err(), "head field {field}");
        }
        let mut t = p.clone();
        t.appended_at_ms += 1;
        assert!(beaconport_server::check_inclusion(&t, &key).is_err(), "the time appended is in the leaf");
        assert_eq!(head.public_key, key.to_vec());
    }
    // By id, against the old head's size.
    let p = audit
        .inclusion_proof(api::InclusionProofRequest {
            target: Some(api::inclusion_proof_request::Target::EventId(events[42].event_id.clone())),
            tree_size: first,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(p.position, 42);
    beaconport_server::check_inclusion(&p, &key).unwrap();
    assert_eq!(p.tree_head.as_ref().unwrap().root_hash, old.root_hash);

    // Consistency between the saved head and today's.
    let c = audit
        .consistency_proof(api::ConsistencyProofRequest { first_size: first, second_size: 0 })
        .await
        .unwrap()
        .into_inner();
    let old_head = beaconport_server::head_from_pb(&old).unwrap();
    old_head.verify(&key).unwrap();
    let new_head = beaconport_server::head_from_pb(c.second_head.as_ref().unwrap()).unwrap();
    new_head.verify(&key).unwrap();
    let proof: Vec<[u8; 32]> = c.proof.iter().map(|h| h.as_slice().try_into().unwrap()).collect();
    beaconport_log::merkle::verify_consistency(first, new_head.size, &old_head.root, &new_head.root, &proof).unwrap();
    for j in 0..proof.len() {
        let mut t = proof.clone();
        t[j][0] ^= 1;
        assert!(beaconport_log::merkle::verify_consistency(first, new_head.size, &old_head.root, &new_head.root, &t)
            .is_err());
    }
    let mut forged_root = old_head.root;
    forged_root[31] ^= 1;
    assert!(
        beaconport_log::merkle::verify_consistency(first, new_head.size, &forged_root, &new_head.root, &proof).is_err()
    );
    let beyond = audit.consistency_proof(api::ConsistencyProofRequest { first_size: 0, second_size: 0 }).await;
    assert_eq!(beyond.unwrap_err().code(), tonic::Code::InvalidArgument);
}

#[test]
fn verify_reports_intact_then_the_position_of_a_flipped_byte() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let events = scenario_events(3);
    let node = NodeProcess::start(crate::NODE, &data);
    let head_file = dir.path().join("head.json");
    rt.block_on(async {
        let ch = tonic::transport::Channel::from_shared(node.url.clone()).unwrap().connect().await.unwrap();
        let mut c = beaconport_cli::client::ingest(ch.clone());
        for chunk in events.chunks(100) {
            c.publish(api::PublishRequest { events: chunk.to_vec() }).await.unwrap();
        }
    });
    let cli = |args: &[&str]| {
        std::process::Command::new(crate::NODE).args(args).env("RUST_LOG", "warn").output().expect("run")
    };
    let saved = cli(&["audit", "head", "--server", &node.url, "--output", head_file.to_str().unwrap()]);
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    let key = serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&head_file).unwrap()).unwrap()
        ["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let proved = cli(&["audit", "prove", "--server", &node.url, "--position", "17", "--public-key", &key]);
    assert!(String::from_utf8_lossy(&proved.stdout).starts_with("included"), "{proved:?}");
    node.stop();

    let verify = |d: &std::path::Path| {
        cli(&["verify", "--data-dir", d.to_str().unwrap(), "--head", head_file.to_str().unwrap(), "--public-key", &key])
    };
    let ok = verify(&data);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("intact"), "{}", String::from_utf8_lossy(&ok.stdout));

    // Flip one byte inside one stored event: verify names its position.
    let target = 1234.min(events.len() - 1);
    let needle = events[target].event_id.as_bytes().to_vec();
    let db = data.join("db");
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes.windows(needle.len()).position(|w| w == needle.as_slice()).expect("event in the file");
    bytes[at + 5] ^= 0x01;
    std::fs::write(&db, &bytes).unwrap();
    let bad = verify(&data);
    let out = String::from_utf8_lossy(&bad.stdout).to_string();
    assert_eq!(bad.status.code(), Some(3), "{out}");
    assert!(out.starts_with(&format!("ALTERED: position {target} ")), "{out}");
}
