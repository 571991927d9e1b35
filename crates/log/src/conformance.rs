//! The conformance suite: the same tests for every [`EventLog`] backend.
//!
//! A backend provides a [`Harness`] and calls [`conformance_tests!`](crate::conformance_tests),
//! which generates one `#[tokio::test]` per check below.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use uuid::Uuid;

use crate::{Error, EventId, EventLog, Position, Record};

/// Opens logs for the suite.
#[async_trait]
pub trait Harness: Send {
    /// Opens a new, empty log.
    async fn fresh(&mut self) -> Arc<dyn EventLog>;
    /// Closes the log last opened and opens it again (a process restart). Backends that cannot
    /// restart return the same log.
    async fn restart(&mut self) -> Arc<dyn EventLog>;
}

/// A record with a fresh random id.
pub fn record(key: &str, payload: &str) -> Record {
    Record { id: EventId(Uuid::new_v4()), key: key.to_string(), payload: Bytes::from(payload.to_string()) }
}

fn batch(n: usize, key: &str, tag: &str) -> Vec<Record> {
    (0..n).map(|i| record(key, &format!("{tag}-{i}"))).collect()
}

pub async fn empty_log(h: &mut dyn Harness) {
    let log = h.fresh().await;
    assert_eq!(log.head(), Position(0));
    assert!(log.read(Position(0), 10).await.unwrap().is_empty());
    assert!(log.get(EventId(Uuid::new_v4())).await.unwrap().is_none());
}

pub async fn append_assigns_dense_positions_in_order(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let a = batch(3, "GMP/1", "a");
    let b = batch(2, "WYP/9", "b");
    let acks_a = log.append(a.clone()).await.unwrap();
    let acks_b = log.append(b.clone()).await.unwrap();
    let positions: Vec<u64> = acks_a.iter().chain(&acks_b).map(|x| x.position.0).collect();
    assert_eq!(positions, vec![0, 1, 2, 3, 4]);
    assert!(acks_a.iter().chain(&acks_b).all(|x| !x.duplicate));
    assert_eq!(log.head(), Position(5));
    let all = log.read(Position(0), 100).await.unwrap();
    let sent: Vec<_> = a.iter().chain(&b).collect();
    assert_eq!(all.len(), 5);
    for (i, (e, r)) in all.iter().zip(sent).enumerate() {
        assert_eq!(e.position, Position(i as u64));
        assert_eq!((e.id, &e.key, &e.payload), (r.id, &r.key, &r.payload));
        assert!(e.appended_at_ms > 0);
    }
}

pub async fn retry_is_idempotent(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let a = batch(4, "GMP/1", "a");
    let first = log.append(a.clone()).await.unwrap();
    let again = log.append(a.clone()).await.unwrap();
    assert_eq!(log.head(), Position(4));
    for (x, y) in first.iter().zip(&again) {
        assert_eq!(x.position, y.position);
        assert!(y.duplicate);
    }
    // A batch mixing old and new ids stores only the new ones.
    let mut mixed = vec![a[1].clone()];
    mixed.extend(batch(2, "GMP/1", "c"));
    let acks = log.append(mixed).await.unwrap();
    assert_eq!((acks[0].position, acks[0].duplicate), (Position(1), true));
    assert_eq!((acks[1].position, acks[1].duplicate), (Position(4), false));
    assert_eq!((acks[2].position, acks[2].duplicate), (Position(5), false));
    assert_eq!(log.read(Position(0), 100).await.unwrap().len(), 6);
}

pub async fn reused_id_with_other_content_conflicts_and_stores_nothing(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let a = batch(2, "GMP/1", "a");
    log.append(a.clone()).await.unwrap();
    let mut tampered = a[0].clone();
    tampered.payload = Bytes::from_static(b"something else");
    let new = record("GMP/1", "new");
    let err = log.append(vec![new.clone(), tampered]).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { position: Position(0), .. }), "{err:?}");
    assert_eq!(log.head(), Position(2));
    assert!(log.get(new.id).await.unwrap().is_none(), "a failed batch stored part of itself");
}

pub async fn reads_from_any_position(h: &mut dyn Harness) {
    let log = h.fresh().await;
    for i in 0..5 {
        log.append(batch(7, "GMP/1", &format!("b{i}"))).await.unwrap();
    }
    for from in [0u64, 1, 6, 7, 20, 34] {
        let got = log.read(Position(from), 5).await.unwrap();
        let want = (35 - from).min(5) as usize;
        assert_eq!(got.len(), want, "from {from}");
        for (i, e) in got.iter().enumerate() {
            assert_eq!(e.position, Position(from + i as u64));
        }
    }
    assert!(log.read(Position(35), 5).await.unwrap().is_empty());
    assert!(log.read(Position(1000), 5).await.unwrap().is_empty());
    assert_eq!(log.read(Position(0), 1000).await.unwrap().len(), 35);
}

pub async fn get_by_id(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let a = batch(10, "GMP/1", "a");
    log.append(a.clone()).await.unwrap();
    for (i, r) in a.iter().enumerate() {
        let e = log.get(r.id).await.unwrap().expect("stored");
        assert_eq!(e.position, Position(i as u64));
        assert_eq!(e.payload, r.payload);
    }
}

pub async fn concurrent_publishers_keep_per_key_order(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let mut tasks = Vec::new();
    for p in 0..8 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("GMP/case-{p}");
            let mut acked = Vec::new();
            for b in 0..20 {
                let recs = batch(5, &key, &format!("{p}-{b}"));
                let acks = log.append(recs.clone()).await.unwrap();
                acked.extend(recs.into_iter().zip(acks));
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    assert_eq!(log.head(), Position(800));
    let all = log.read(Position(0), 10_000).await.unwrap();
    assert_eq!(all.len(), 800);
    let mut by_id = HashMap::new();
    for e in &all {
        by_id.insert(e.id, e.position);
    }
    for (r, a) in &acked {
        assert_eq!(by_id.get(&r.id), Some(&a.position));
    }
    // Within a key, log order is publication order (payload tags increase).
    let mut last: HashMap<String, (usize, usize)> = HashMap::new();
    for e in &all {
        let tag = String::from_utf8(e.payload.to_vec()).unwrap();
        let parts: Vec<usize> = tag.split('-').map(|x| x.parse().unwrap()).collect();
        let seq = (parts[1], parts[2]);
        if let Some(prev) = last.insert(e.key.clone(), seq) {
            assert!(seq > prev, "order broken in {}", e.key);
        }
    }
}

pub async fn survives_restart_with_ids(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let a = batch(50, "GMP/1", "a");
    log.append(a.clone()).await.unwrap();
    drop(log);
    let log = h.restart().await;
    assert_eq!(log.head(), Position(50));
    let again = log.append(a.clone()).await.unwrap();
    assert!(again.iter().all(|x| x.duplicate));
    assert_eq!(log.head(), Position(50));
    let more = log.append(batch(1, "GMP/1", "b")).await.unwrap();
    assert_eq!(more[0].position, Position(50));
    assert_eq!(log.read(Position(0), 100).await.unwrap().len(), 51);
    assert_eq!(log.get(a[49].id).await.unwrap().unwrap().position, Position(49));
}

pub async fn subscribers_see_new_heads(h: &mut dyn Harness) {
    let log = h.fresh().await;
    let waiter = {
        let log = log.clone();
        tokio::spawn(async move { log.wait_for(Position(2)).await })
    };
    log.append(batch(3, "GMP/1", "a")).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), waiter)
        .await
        .expect("wait_for returned")
        .unwrap()
        .unwrap();
    assert_eq!(*log.subscribe().borrow(), Position(3));
}

/// Random appends (new ids, retries, conflicts), reads and restarts, checked against a model.
pub async fn matches_model_under_random_operations(h: &mut dyn Harness, seed: u64) {
    let mut rng = seed.max(1);
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut log = h.fresh().await;
    let mut model: Vec<Record> = Vec::new();
    for step in 0..200 {
        let ctx = format!("seed {seed}, step {step}");
        match next() % 10 {
            0 => {
                drop(log);
                log = h.restart().await;
            }
            1..=2 if !model.is_empty() => {
                let from = next() % (model.len() as u64 + 2);
                let max = (next() % 20) as usize;
                let got = log.read(Position(from), max).await.unwrap();
                let want: Vec<&Record> = model.iter().skip(from as usize).take(max).collect();
                assert_eq!(got.len(), want.len(), "{ctx}");
                for (g, w) in got.iter().zip(want) {
                    assert_eq!((g.id, &g.payload), (w.id, &w.payload), "{ctx}");
                }
            }
            3 if !model.is_empty() => {
                let i = (next() % model.len() as u64) as usize;
                let mut r = model[i].clone();
                r.payload = Bytes::from(format!("conflict-{step}"));
                let err = log.append(vec![record("X/1", "fresh"), r]).await.unwrap_err();
                assert!(matches!(err, Error::Conflict { .. }), "{ctx}");
            }
            _ => {
                let n = 1 + (next() % 12) as usize;
                let mut recs = batch(n, &format!("F/{}", next() % 3), &format!("s{step}"));
                if !model.is_empty() && next() % 2 == 0 {
                    recs.push(model[(next() % model.len() as u64) as usize].clone());
                }
                let acks = log.append(recs.clone()).await.unwrap();
                for (r, a) in recs.into_iter().zip(acks) {
                    if a.duplicate {
                        assert_eq!(model[a.position.0 as usize].id, r.id, "{ctx}");
                    } else {
                        assert_eq!(a.position.0 as usize, model.len(), "{ctx}");
                        model.push(r);
                    }
                }
            }
        }
        assert_eq!(log.head(), Position(model.len() as u64), "{ctx}");
    }
}

/// Every stored event is the leaf at its position of the tamper-evident tree, the tree covers
/// the head, proofs verify, and a restart rebuilds the very same tree; retries add no leaf.
pub async fn tree_covers_every_event(h: &mut dyn Harness) {
    use crate::merkle;
    let log = h.fresh().await;
    let first = batch(37, "K/1", "t1");
    log.append(first.clone()).await.unwrap();
    let old_size = log.head().0;
    let old_root = log.tree().expect("tree").root(old_size).unwrap();
    log.append(batch(50, "K/2", "t2")).await.unwrap();
    log.append(first).await.unwrap();
    let size = log.head().0;
    assert_eq!(size, 87);
    let tree = log.tree().expect("tree");
    assert_eq!(tree.size(), size, "the tree covers exactly the stored events");
    let root = tree.root(size).unwrap();
    let entries = log.read(Position(0), 1000).await.unwrap();
    for e in &entries {
        let leaf = e.leaf_hash();
        assert_eq!(tree.leaf(e.position), Some(leaf), "leaf at {}", e.position);
        let path = tree.inclusion_proof(e.position, size).unwrap();
        merkle::verify_inclusion(&leaf, e.position.0, size, &path, &root).unwrap();
    }
    let proof = tree.consistency_proof(old_size, size).unwrap();
    merkle::verify_consistency(old_size, size, &old_root, &root, &proof).unwrap();
    drop(log);
    let log = h.restart().await;
    assert_eq!(log.tree().expect("tree").root(size).unwrap(), root, "the same tree after a restart");
}

/// Generates the suite as tests. `$harness` is an expression building a fresh [`Harness`].
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;
            use $crate::conformance as c;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn empty_log() {
                c::empty_log(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn append_assigns_dense_positions_in_order() {
                c::append_assigns_dense_positions_in_order(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn retry_is_idempotent() {
                c::retry_is_idempotent(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reused_id_with_other_content_conflicts_and_stores_nothing() {
                c::reused_id_with_other_content_conflicts_and_stores_nothing(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn reads_from_any_position() {
                c::reads_from_any_position(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn get_by_id() {
                c::get_by_id(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_publishers_keep_per_key_order() {
                c::concurrent_publishers_keep_per_key_order(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn survives_restart_with_ids() {
                c::survives_restart_with_ids(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tree_covers_every_event() {
                c::tree_covers_every_event(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn subscribers_see_new_heads() {
                c::subscribers_see_new_heads(&mut $harness).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn matches_model_under_random_operations() {
                for seed in [1u64, 7, 42, 1234] {
                    c::matches_model_under_random_operations(&mut $harness, seed).await
                }
            }
        }
    };
}

#[cfg(test)]
mod memory_suite {
    use super::*;
    use crate::MemoryLog;

    #[derive(Default)]
    struct Mem(Option<MemoryLog>);

    #[async_trait]
    impl Harness for Mem {
        async fn fresh(&mut self) -> Arc<dyn EventLog> {
            let log = MemoryLog::new();
            self.0 = Some(log.clone());
            Arc::new(log)
        }
        async fn restart(&mut self) -> Arc<dyn EventLog> {
            Arc::new(self.0.clone().expect("opened"))
        }
    }

    crate::conformance_tests!(Mem::default());
}
