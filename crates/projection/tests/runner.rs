//! The runner over a real embedded log: views followed live, stopped and reopened, and rebuilt
//! from scratch all hold the same thing.

use std::sync::Arc;
use std::time::Duration;

use beaconport_domain::Position;
use beaconport_log::{stream_key, EventLog, Record};
use beaconport_log_sled::{Options as LogOptions, SledLog};
use beaconport_projection::{Options, Projector};

fn records(seed: u64) -> Vec<Record> {
    let opts = beaconport_synth::Options {
        seed,
        forces: 8,
        referred_cases: 80,
        referred_rape_cases: 15,
        ordinary_cases: 300,
        ..Default::default()
    };
    beaconport_synth::generate(&opts)
        .events
        .iter()
        .map(|e| Record {
            id: e.id,
            key: stream_key(e.force.code, &e.case_ref),
            payload: beaconport_proto::stored::encode(&beaconport_proto::event_to_pb(e)).into(),
        })
        .collect()
}

/// The views' digest once they have applied `head` events and every event the log holds then,
/// the resolution models they wrote into it meanwhile included.
async fn digest_when_caught_up(p: &Projector, log: &Arc<dyn EventLog>, head: u64) -> String {
    assert!(p.wait_for(Position(head), Duration::from_secs(120)).await, "views did not catch up");
    loop {
        let h = log.head();
        assert!(p.wait_for(h, Duration::from_secs(120)).await, "views did not catch up with their models");
        if log.head() == h {
            break;
        }
    }
    let views = p.views().clone();
    tokio::task::spawn_blocking(move || {
        let mut v = views.write();
        v.refresh_networks();
        v.digest()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reopened_and_rebuilt_views_are_identical() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> = Arc::new(SledLog::open(LogOptions::new(dir.path().join("log"))).unwrap());
    let live = Projector::open(Options::new(dir.path().join("live")), log.clone()).await.unwrap();
    // Appended while the views follow, in batches of varied sizes.
    let all = records(7);
    let mut rest = &all[..];
    let mut size = 1;
    while !rest.is_empty() {
        let n = size.min(rest.len());
        log.append(rest[..n].to_vec()).await.unwrap();
        rest = &rest[n..];
        size = size * 3 % 997 + 1;
    }
    let published = log.head().0;
    assert_eq!(published as usize, all.len());
    let live_digest = digest_when_caught_up(&live, &log, published).await;
    // The models the live views estimated as the mentions doubled are in the log now.
    let head = log.head().0;
    assert!(head > published, "the views wrote the models they estimated into the log");
    let counts = live.views().read().counts();
    assert!(counts.mentions > 1000 && counts.persons < counts.mentions, "{counts:?}");
    live.shutdown().await.unwrap();

    // Reopened from the stored views: nothing replayed, the same views.
    let reopened = Projector::open(Options::new(dir.path().join("live")), log.clone()).await.unwrap();
    assert_eq!(reopened.applied().0, head, "the stored position is where the views stopped");
    assert_eq!(digest_when_caught_up(&reopened, &log, head).await, live_digest);
    reopened.shutdown().await.unwrap();

    // Rebuilt from the log into an empty store, with other batch sizes: the same views.
    let mut opts = Options::new(dir.path().join("rebuilt"));
    opts.batch = 333;
    let rebuilt = Projector::open(opts, log.clone()).await.unwrap();
    assert_eq!(digest_when_caught_up(&rebuilt, &log, head).await, live_digest);
    rebuilt.shutdown().await.unwrap();
    assert_eq!(log.head().0, head, "models estimated again at levels already written are not stored again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_stopped_half_way_resume_without_loss_or_double_application() {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> = Arc::new(SledLog::open(LogOptions::new(dir.path().join("log"))).unwrap());
    let all = records(8);
    let half = all.len() / 2;
    log.append(all[..half].to_vec()).await.unwrap();
    let mut opts = Options::new(dir.path().join("views"));
    opts.batch = 97;
    let p = Projector::open(opts.clone(), log.clone()).await.unwrap();
    assert!(p.wait_for(Position(half as u64), Duration::from_secs(60)).await);
    p.shutdown().await.unwrap();
    log.append(all[half..].to_vec()).await.unwrap();
    let p = Projector::open(opts, log.clone()).await.unwrap();
    let resumed = digest_when_caught_up(&p, &log, all.len() as u64).await;
    p.shutdown().await.unwrap();
    let fresh = Projector::open(Options::new(dir.path().join("fresh")), log.clone()).await.unwrap();
    assert_eq!(digest_when_caught_up(&fresh, &log, all.len() as u64).await, resumed);
    fresh.shutdown().await.unwrap();
}

/// Who every mention resolves to, once the views have applied `head` events.
async fn persons_when_caught_up(p: &Projector, head: u64) -> Vec<(String, Option<beaconport_domain::PersonId>)> {
    assert!(p.wait_for(Position(head), Duration::from_secs(120)).await, "views did not catch up");
    let v = p.views().read();
    let mut out: Vec<_> = v
        .contributions
        .keys()
        .map(|k| (format!("{}/{}/{}", k.force, k.case_ref, k.person_ref), v.person_of(k)))
        .collect();
    out.sort();
    out
}

/// The records with cases taken in reverse order, round-robin: each case keeps its own order,
/// as in another replica's reading of a partitioned log.
fn interleaved(records: &[Record]) -> Vec<Record> {
    let mut cases: Vec<(String, std::collections::VecDeque<Record>)> = Vec::new();
    for r in records {
        match cases.iter_mut().find(|(k, _)| *k == r.key) {
            Some((_, q)) => q.push_back(r.clone()),
            None => cases.push((r.key.clone(), [r.clone()].into())),
        }
    }
    cases.reverse();
    let mut out = Vec::with_capacity(records.len());
    while out.len() < records.len() {
        for (_, q) in cases.iter_mut() {
            out.extend(q.pop_front());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_model_resolves_alike_whatever_the_order_of_cases() {
    let dir = tempfile::tempdir().unwrap();
    let recs = records(17);
    let head = recs.len() as u64;
    // One replica estimates models from the data and writes them into its log, adopting each
    // when it reads it back; the one it stands on is exported and pinned on two others that
    // read the cases in different orders.
    let first = Arc::new(beaconport_log::MemoryLog::default());
    first.append(recs.clone()).await.unwrap();
    let estimating = Projector::open(Options::new(dir.path().join("first")), first.clone()).await.unwrap();
    persons_when_caught_up(&estimating, head).await;
    let written = first.head().0 - head;
    assert!(written >= 1, "a model estimated from over 512 mentions is written into the log");
    assert_eq!(estimating.applied(), first.head(), "the views wait for the model they wrote");
    let level = estimating.views().read().model_level.expect("a model adopted from the log");
    estimating.shutdown().await.unwrap();
    let store = beaconport_projection::store::Store::open(&dir.path().join("first"), 16).unwrap();
    let (event, encoded) = store.model_event().unwrap().expect("the adopted model is stored with the views");
    drop(store);
    let beaconport_domain::Body::ResolutionModelEstimated(adopted) = &event.body else { panic!("not a model") };
    assert_eq!(adopted.level, level);
    // Reopened, the views stand on the stored model and write nothing more.
    let again = Projector::open(Options::new(dir.path().join("first")), first.clone()).await.unwrap();
    assert_eq!(again.views().read().model_level, Some(level));
    again.shutdown().await.unwrap();
    assert_eq!(first.head().0 - head, written, "no model written twice");
    let model = dir.path().join("model.bin");
    beaconport_projection::store::write_model_file(&model, &encoded).unwrap();
    assert_eq!(beaconport_projection::store::read_model_file(&model).unwrap(), adopted.model);

    let mut answers = Vec::new();
    for (name, order) in [("a", recs.clone()), ("b", interleaved(&recs))] {
        let log = Arc::new(beaconport_log::MemoryLog::default());
        for chunk in order.chunks(97) {
            log.append(chunk.to_vec()).await.unwrap();
        }
        let mut o = Options::new(dir.path().join(name));
        o.model_file = Some(model.clone());
        let p = Projector::open(o, log.clone()).await.unwrap();
        answers.push(persons_when_caught_up(&p, head).await);
        p.shutdown().await.unwrap();
        assert_eq!(log.head().0, head, "a pinned model is never estimated again");
    }
    assert!(answers[0].len() > 512);
    assert_eq!(answers[0], answers[1], "both orders resolve every mention to the same person");
    let err = Projector::open(
        Options { model_file: Some(dir.path().join("missing")), ..Options::new(dir.path().join("c")) },
        first.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("views.model_file"), "{err}");
}
