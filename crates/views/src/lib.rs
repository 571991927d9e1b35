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
pub mod graph;
pub mod views;

pub use views::{Counts, Views};

use beaconport_domain::Position;
use parking_lot::RwLock;

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
}
