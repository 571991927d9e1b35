//! End-to-end tests, one binary: real servers on loopback, real processes.

mod architecture;
mod crash;
mod ingest;
mod malformed;
mod publish_cli;
