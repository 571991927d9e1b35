//! Beaconport's pure domain: the event types, the reference lists they are checked against (UK
//! police forces, 2021 Census ethnic groups, PNC identity codes, Home Office Counting Rules
//! offence classifications, ISO country codes), and the validation of every field of every event.
//!
//! Everything here is a pure function of its arguments: no clock (the caller passes `now`), no
//! randomness, no I/O. It must not depend on tokio, tonic, prost, sled or rdkafka; a test in
//! `tests/` checks that with `cargo metadata`.

pub mod event;
pub mod ids;
pub mod reference;
pub mod resolution;
pub mod review;
pub mod rules;
pub mod validate;

pub use event::*;
pub use ids::{EventId, PersonId, Position};
pub use validate::{Checker, Context, FieldError};

/// Errors of the domain: always rejected input, which the caller must change.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// One or more events of a batch are invalid; the batch is rejected as a whole.
    #[error("{}", summarise(.0))]
    Invalid(Vec<FieldError>),
}

fn summarise(errors: &[FieldError]) -> String {
    match errors {
        [] => "batch rejected".to_string(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
