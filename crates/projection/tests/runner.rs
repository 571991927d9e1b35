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

async fn digest_when_caught_up(p: &Projector, head: u64) -> String {
    assert!(p.wait_for(Position(head), Duration::from_secs(120)).await, "views did not catch up");
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
    let head = log.head().0;
    assert_eq!(head as usize, all.len());
    let live_digest = digest_when_caught_up(&live, head).await;
    let counts = live.views().read().counts();
    assert!(counts.mentions > 1000 && counts.persons < counts.mentions, "{counts:?}");
    live.shutdown().await.unwrap();

    // Reopened from the stored views: nothing replayed, the same views.
    let reopened = Projector::open(Options::new(dir.path().join("live")), log.clone()).await.unwrap();
    assert_eq!(reopened.applied().0, head, "the stored position is where the views stopped");
    assert_eq!(digest_when_caught_up(&reopened, head).await, live_digest);
    reopened.shutdown().await.unwrap();

    // Rebuilt from the log into an empty store, with other batch sizes: the same views.
    let mut opts = Options::new(dir.path().join("rebuilt"));
    opts.batch = 333;
    let rebuilt = Projector::open(opts, log.clone()).await.unwrap();
    assert_eq!(digest_when_caught_up(&rebuilt, head).await, live_digest);
    rebuilt.shutdown().await.unwrap();
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
    let resumed = digest_when_caught_up(&p, all.len() as u64).await;
    p.shutdown().await.unwrap();
    let fresh = Projector::open(Options::new(dir.path().join("fresh")), log.clone()).await.unwrap();
    assert_eq!(digest_when_caught_up(&fresh, all.len() as u64).await, resumed);
    fresh.shutdown().await.unwrap();
}
