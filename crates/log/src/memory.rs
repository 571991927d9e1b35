//! An in-memory log: the reference model for the conformance suite and a fast log for unit tests.
//! Not durable across processes; "restart" keeps the same shared state.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::{content_hash, now_ms, Appended, Entry, Error, EventId, EventLog, Position, Record, Result};

#[derive(Debug, Default)]
struct State {
    entries: Vec<Entry>,
    by_id: HashMap<EventId, (Position, u64)>,
}

/// An in-memory [`EventLog`]. Clones share one log.
#[derive(Debug, Clone)]
pub struct MemoryLog {
    state: Arc<Mutex<State>>,
    head: Arc<watch::Sender<Position>>,
    tree: Arc<crate::Tree>,
}

impl Default for MemoryLog {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLog {
    pub fn new() -> Self {
        Self { state: Arc::default(), head: Arc::new(watch::channel(Position(0)).0), tree: Arc::default() }
    }
}

#[async_trait]
impl EventLog for MemoryLog {
    async fn append(&self, records: Vec<Record>) -> Result<Vec<Appended>> {
        let mut st = self.state.lock();
        // Check the whole batch before storing anything: all or nothing.
        let mut staged: HashMap<EventId, (Position, u64)> = HashMap::new();
        let mut next = Position(st.entries.len() as u64);
        let mut acks = Vec::with_capacity(records.len());
        for r in &records {
            let h = content_hash(&r.payload);
            match st.by_id.get(&r.id).or_else(|| staged.get(&r.id)) {
                Some(&(position, hash)) if hash == h => acks.push(Appended { position, duplicate: true }),
                Some(&(position, _)) => return Err(Error::Conflict { id: r.id, position }),
                None => {
                    staged.insert(r.id, (next, h));
                    acks.push(Appended { position: next, duplicate: false });
                    next = next.next();
                }
            }
        }
        let at = now_ms();
        let mut leaves = Vec::new();
        for (r, a) in records.into_iter().zip(&acks) {
            if !a.duplicate {
                leaves.push(crate::leaf_hash(at, &r.id, &r.key, &r.payload));
                st.entries.push(Entry {
                    position: a.position,
                    id: r.id,
                    key: r.key,
                    appended_at_ms: at,
                    payload: r.payload,
                });
            }
        }
        st.by_id.extend(staged);
        self.tree.extend(leaves);
        let head = Position(st.entries.len() as u64);
        // Announced under the lock: two appends announcing out of order would move the head back.
        self.head.send_replace(head);
        drop(st);
        Ok(acks)
    }

    async fn read(&self, from: Position, max: usize) -> Result<Vec<Entry>> {
        let st = self.state.lock();
        let start = (from.0 as usize).min(st.entries.len());
        Ok(st.entries[start..].iter().take(max).cloned().collect())
    }

    async fn get(&self, id: EventId) -> Result<Option<Entry>> {
        let st = self.state.lock();
        Ok(st.by_id.get(&id).map(|(p, _)| st.entries[p.0 as usize].clone()))
    }

    fn head(&self) -> Position {
        *self.head.borrow()
    }

    fn subscribe(&self) -> watch::Receiver<Position> {
        self.head.subscribe()
    }

    fn tree(&self) -> Option<&crate::Tree> {
        Some(&self.tree)
    }
}
