//! SIGKILL at random moments during sustained ingest from several publishers: no acknowledged
//! event lost, none stored twice, retries deduplicated, across many crash and restart cycles.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beaconport_proto::pb::{api, event as pb};
use beaconport_tests::{read_all, NodeProcess};
use rand::{Rng, SeedableRng};

/// Kill cycles; `CRASH_TEST_CYCLES` runs more.
fn cycles() -> usize {
    std::env::var("CRASH_TEST_CYCLES").ok().and_then(|s| s.parse().ok()).unwrap_or(25).max(20)
}
const PUBLISHERS: usize = 4;
const BATCH: usize = 100;
/// A cycle is killed after a random number of acknowledged events in this range.
const MIN_PER_CYCLE: u64 = 200;
const MAX_PER_CYCLE: u64 = 3_000;

#[derive(Default)]
struct Tally {
    /// event id -> position acknowledged
    acked: HashMap<String, u64>,
    /// acknowledgements of events already acknowledged or stored before (retries)
    duplicate_acks: u64,
    /// acknowledgements whose position changed between two acks of the same id (must stay 0)
    moved: u64,
}

/// Publishes the queued batches until the server goes away; `progress` counts the events
/// acknowledged in this cycle, for the test to decide when to kill.
async fn publisher(
    url: String,
    queue: Arc<Mutex<VecDeque<Vec<pb::Event>>>>,
    tally: Arc<Mutex<Tally>>,
    progress: Arc<tokio::sync::watch::Sender<u64>>,
) -> u64 {
    let Ok(ch) = tonic::transport::Endpoint::from_shared(url).unwrap().timeout(Duration::from_secs(10)).connect().await
    else {
        return 0;
    };
    let mut c = beaconport_cli::client::ingest(ch);
    let mut n = 0;
    loop {
        // The batch stays queued until acknowledged: after a crash it is retried as it was.
        let Some(batch) = queue.lock().unwrap().front().cloned() else { return n };
        match c.publish(api::PublishRequest { events: batch.clone() }).await {
            Ok(r) => {
                let mut t = tally.lock().unwrap();
                for (e, a) in batch.iter().zip(r.into_inner().acks) {
                    assert_eq!(e.event_id, a.event_id);
                    if a.duplicate {
                        t.duplicate_acks += 1;
                    }
                    if let Some(p) = t.acked.insert(e.event_id.clone(), a.position.expect("a position")) {
                        if Some(p) != a.position {
                            t.moved += 1;
                        }
                    }
                }
                n += batch.len() as u64;
                progress.send_modify(|p| *p += batch.len() as u64);
                queue.lock().unwrap().pop_front();
            }
            Err(_) => return n,
        }
    }
}

#[test]
fn sigkill_during_sustained_ingest_loses_and_duplicates_nothing() {
    let seed: u64 = std::env::var("CRASH_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20251123);
    println!("crash test seed {seed} (set CRASH_TEST_SEED to replay)");
    let cycles = cycles();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ledger");

    // Each cycle is killed once MAX_PER_CYCLE events or fewer were acknowledged (plus what is in
    // flight), so this pool never runs dry.
    let events: Vec<pb::Event> = beaconport_synth::events_for_bench(seed, 4_000 * (cycles + 3), chrono::Utc::now())
        .iter()
        .map(beaconport_proto::event_to_pb)
        .collect();
    let queues: Vec<Arc<Mutex<VecDeque<Vec<pb::Event>>>>> = (0..PUBLISHERS)
        .map(|p| {
            let share: Vec<pb::Event> = events.iter().skip(p).step_by(PUBLISHERS).cloned().collect();
            Arc::new(Mutex::new(share.chunks(BATCH).map(<[pb::Event]>::to_vec).collect()))
        })
        .collect();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut cycles_with_ingest = 0;

    let start = |url: &str| {
        let (progress, watch) = tokio::sync::watch::channel(0u64);
        let progress = Arc::new(progress);
        let tasks: Vec<_> = queues
            .iter()
            .map(|q| rt.spawn(publisher(url.to_string(), q.clone(), tally.clone(), progress.clone())))
            .collect();
        (tasks, watch)
    };
    // Waits until `n` events were acknowledged in this cycle (the kill then lands mid-ingest).
    let wait_for = |mut watch: tokio::sync::watch::Receiver<u64>, n: u64| {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), watch.wait_for(|p| *p >= n))
                .await
                .expect("publishers made no progress for 60 s")
                .expect("progress channel");
        })
    };

    for cycle in 0..=cycles {
        let node = NodeProcess::start(crate::NODE, &data);
        let (tasks, watch) = start(&node.url);
        let wait = rng.gen_range(MIN_PER_CYCLE..MAX_PER_CYCLE);
        wait_for(watch, wait);
        let last = cycle == cycles;
        if last {
            // The last cycle ends with SIGTERM: in-flight batches finish, then a clean exit.
            let status = node.stop();
            assert!(status.success(), "graceful shutdown exited with {status}");
        } else {
            node.kill_hard();
        }
        let done: u64 = tasks.into_iter().map(|t| rt.block_on(t).unwrap()).sum();
        if done >= wait {
            cycles_with_ingest += 1;
        }
        let remaining: usize = queues.iter().map(|q| q.lock().unwrap().len()).sum();
        println!("cycle {cycle}: killed after {wait}+ acknowledged events, {done} in all, {remaining} batches left");
        assert!(remaining > 0, "ran out of events to publish; make the pool bigger");
    }

    // Restart once more, retry what was never acknowledged, and audit the whole log.
    let node = NodeProcess::start(crate::NODE, &data);
    let (tasks, watch) = start(&node.url);
    // The publishers first retry their unacknowledged batches, then go on.
    wait_for(watch, (PUBLISHERS * BATCH * 2) as u64);
    let status = node.stop();
    assert!(status.success());
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    let node = NodeProcess::start(crate::NODE, &data);
    let log = rt.block_on(read_all(&node.url));
    // The views were killed as often as the log, between applying events and storing them:
    // caught up, they must hold exactly what a rebuild from the log holds.
    let live = rt.block_on(views_digest(&node.url, log.len() as u64));
    node.stop();
    let rebuilt = std::process::Command::new(crate::NODE)
        .args(["rebuild", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run rebuild");
    assert!(rebuilt.status.success(), "rebuild failed: {}", String::from_utf8_lossy(&rebuilt.stderr));
    let node = NodeProcess::start(crate::NODE, &data);
    let fresh = rt.block_on(views_digest(&node.url, log.len() as u64));
    node.stop();
    assert_eq!(live, fresh, "views after {cycles} kills differ from views rebuilt from the log (seed {seed})");
    println!("views after the kills equal the views rebuilt from the log: digest {}", &live[..16]);

    let t = tally.lock().unwrap();
    let mut position_of: HashMap<&str, u64> = HashMap::new();
    let mut duplicated = 0u64;
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry.position, i as u64, "positions are not dense");
        let id = entry.event.as_ref().unwrap().event_id.as_str();
        if position_of.insert(id, entry.position).is_some() {
            duplicated += 1;
        }
    }
    let mut lost = 0u64;
    for (id, pos) in &t.acked {
        match position_of.get(id.as_str()) {
            Some(p) if p == pos => {}
            _ => lost += 1,
        }
    }
    println!(
        "{} cycles ({} with ingest when killed): {} events acknowledged, {} stored, {} acknowledged as already stored on retry; lost {lost}, duplicated {duplicated}, moved {}",
        cycles, cycles_with_ingest, t.acked.len(), log.len(), t.duplicate_acks, t.moved
    );
    assert_eq!(lost, 0, "acknowledged events lost (seed {seed})");
    assert_eq!(duplicated, 0, "events stored twice (seed {seed})");
    assert_eq!(t.moved, 0, "an event's position changed between acknowledgements (seed {seed})");
    assert!(
        cycles_with_ingest >= cycles * 4 / 5,
        "only {cycles_with_ingest} cycles had ingest in flight (seed {seed})"
    );
}

/// Waits until the views have applied `head` events and returns their digest.
async fn views_digest(url: &str, head: u64) -> String {
    let ch = tonic::transport::Endpoint::from_shared(url.to_string()).unwrap().connect().await.expect("connect");
    let mut q = beaconport_cli::client::query(ch);
    // ViewStatus, unlike the queries, records no consultation: the log stays as it is.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let s = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await.expect("status");
        // The log's head now, too: it holds the resolution models the views wrote.
        let s = s.into_inner();
        if s.applied >= head.max(s.log_head) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "views did not catch up with {head} events");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let s = q.view_status(api::ViewStatusRequest { digest: true, as_of: None }).await.expect("status").into_inner();
    assert!(s.applied >= head);
    assert_eq!(s.skipped, 0, "events the views could not apply");
    s.digest
}
