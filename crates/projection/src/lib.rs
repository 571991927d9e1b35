//! Beaconport's projections: the runner that follows the log and folds every event into the
//! cross-force views, and the views themselves (case files as they stand, persons resolved
//! across forces, the linked network).
//!
//! The log is the ground truth; views are derived from it. The views themselves (and how an event
//! changes them) live in the pure `beaconport-views` crate; [`runner`] owns reading the log and
//! storing the views, each batch of changed case files together with the position applied, in
//! one atomic sled batch. Dropping the stored
//! views and replaying the log gives identical views (`beaconport rebuild`, and a test).
//!
//! Must not depend on tonic: queries are answered by the server from [`views::Views`].

pub mod history;
pub mod runner;
pub mod store;

pub use beaconport_views::{case, graph, views, Views};
pub use runner::{Options, Projector};

/// Errors of the projections.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The view store failed (disk, sled).
    #[error("view store: {0}")]
    Storage(String),
    /// Stored views do not decode: rebuild them from the log.
    #[error("{0}")]
    Corrupt(String),
    /// Reading the log failed.
    #[error("log: {0}")]
    Log(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
