//! Views as they stood earlier: built in memory from the log up to a [`Bound`], by the very same
//! code that builds the live views, so that a view "as of" a bound equals the views of a fresh
//! ledger fed only the events the bound admits (a test checks it).
//!
//! A bound by position, or by the time the ledger appended events, admits a prefix of the log;
//! a bound by the time forces recorded events admits every event recorded by then, in log order,
//! including back-catalogue events published later.

use std::sync::Arc;

use beaconport_domain::Position;
use beaconport_log::EventLog;
use beaconport_views::{Bound, Views};
use parking_lot::{Mutex, RwLock};

use crate::{Error, Result};
use beaconport_domain::resolution::Model;

/// Events read from the log per step.
const STEP: usize = 4096;

/// Builds the views as they stood at `bound`, from the log's first event to its head now.
pub async fn build(
    log: Arc<dyn EventLog>,
    bound: Bound,
    hub_limit: usize,
    pinned: Option<Arc<beaconport_domain::resolution::Model>>,
) -> Result<Views> {
    let end = match bound {
        Bound::Position(p) => p.0.min(log.head().0),
        _ => log.head().0,
    };
    let mut views = match &pinned {
        Some(m) => Views::pinned(Model::clone(m), crate::store::CODEC),
        None => Views::new(beaconport_domain::resolution::Model::default(), crate::store::CODEC),
    };
    views.hub_limit = hub_limit;
    let mut next = 0u64;
    while next < end {
        let entries =
            log.read(Position(next), STEP.min((end - next) as usize)).await.map_err(|e| Error::Log(e.to_string()))?;
        let Some(last) = entries.last() else { break };
        next = last.position.0 + 1;
        views = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(entries.len());
            for e in entries {
                if let Bound::AppendedAt(t) = bound {
                    if e.appended_at_ms > t.timestamp_millis() {
                        continue;
                    }
                }
                match beaconport_proto::decode_stored_bytes(&e.payload) {
                    Ok(ev) => {
                        if let Bound::RecordedAt(t) = bound {
                            if ev.recorded_at > t {
                                continue;
                            }
                        }
                        batch.push((e.position, ev, Some(e.payload)));
                    }
                    Err(why) => views.skipped.push((e.position, why)),
                }
            }
            views.apply_batch(batch);
            views
        })
        .await
        .map_err(|e| Error::Storage(format!("building views as of {bound}: {e}")))?;
    }
    // The views have seen every event before `end`, admitted or not.
    views.applied = Position(end);
    views.refresh_networks();
    Ok(views)
}

/// The views as of recent bounds, kept for the next question about the same time (an auditor
/// asks several). Bounds by time are kept only while the log has not grown (an event published
/// later may have been recorded earlier); bounds by position stand for ever.
#[derive(Debug, Default)]
pub struct Cache {
    entries: Mutex<Vec<Kept>>,
}

/// Views kept: their bound, the log's head when they were built, the views.
type Kept = (Bound, Position, Arc<RwLock<Views>>);

/// Views kept for earlier bounds.
const KEEP: usize = 4;

impl Cache {
    pub async fn get(
        &self,
        log: &Arc<dyn EventLog>,
        bound: Bound,
        hub_limit: usize,
        pinned: Option<Arc<beaconport_domain::resolution::Model>>,
    ) -> Result<Arc<RwLock<Views>>> {
        let head = log.head();
        let fits = |(b, h, _): &Kept| *b == bound && (matches!(bound, Bound::Position(_)) || *h == head);
        if let Some((_, _, v)) = self.entries.lock().iter().find(|e| fits(e)) {
            return Ok(v.clone());
        }
        let views = Arc::new(RwLock::new(build(log.clone(), bound, hub_limit, pinned).await?));
        let mut entries = self.entries.lock();
        entries.retain(|e| e.0 != bound);
        entries.insert(0, (bound, head, views.clone()));
        entries.truncate(KEEP);
        Ok(views)
    }
}
