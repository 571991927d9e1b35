//! End-to-end tests, one binary: real servers on loopback, real processes.

mod architecture;
mod audit;
mod crash;
mod hostile;
mod ingest;
mod kafka;
mod malformed;
mod operator;
mod privacy;
mod publish_cli;
mod query;
mod review;
mod tls;
mod web;

/// The `beaconport` command's code, built by this package under a test name.
pub const NODE: &str = env!("CARGO_BIN_EXE_beaconport-e2e-node");
