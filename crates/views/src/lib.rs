//! Beaconport's cross-force views, and how each event changes them: case files as they stand
//! (corrections applied, retractions removed), persons resolved across forces (the domain's
//! resolver), and the linked network of persons, cases, identifiers and places.
//!
//! Pure: [`Views::apply`] is synchronous and does no I/O, so the views are a function of the
//! events applied. The projection runner (`beaconport-projection`) feeds them from the log and
//! stores them; the server answers queries from them through [`Live`], knowing nothing of
//! where they are stored. Must not depend on tokio, tonic, sled or rdkafka.

use std::sync::Arc;
use std::time::Duration;

pub mod case;
pub mod consultations;
pub mod graph;
pub mod review;
pub mod sorted;
pub mod views;

pub use views::{Counts, Views};

use beaconport_domain::Position;
use parking_lot::RwLock;

/// A bound on the log: views "as of" it hold exactly the events it admits, in log order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bound {
    /// Every event before this position: what the ledger held when its head was here.
    Position(Position),
    /// Every event the ledger appended at or before this time.
    AppendedAt(chrono::DateTime<chrono::Utc>),
    /// Every event its force recorded at or before this time, whenever it was published.
    RecordedAt(chrono::DateTime<chrono::Utc>),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match self {
            Bound::Position(p) => write!(f, "position {}", p.0),
            Bound::AppendedAt(at) => write!(f, "appended at {}", t(at)),
            Bound::RecordedAt(at) => write!(f, "recorded at {}", t(at)),
        }
    }
}

/// Views kept up to date by a running projection, as queries see them.
#[async_trait::async_trait]
pub trait Live: Send + Sync + 'static {
    /// The views (hold the read lock briefly; never across an await).
    fn views(&self) -> Arc<RwLock<Views>>;
    /// Every event before this position is applied.
    fn applied(&self) -> Position;
    /// The log's head: the position the next event will get.
    fn head(&self) -> Position;
    /// Waits until every event before `position` is applied, at most `timeout`; false on timeout.
    async fn wait_for(&self, position: Position, timeout: Duration) -> bool;
    /// The views as they stood at `bound`, built from the log (auditors); the error says why
    /// they could not be built.
    async fn as_of(&self, bound: Bound) -> Result<Arc<RwLock<Views>>, String>;
}
