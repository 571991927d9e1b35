//! gRPC clients of the ledger, as the commands use them.

use anyhow::{Context as _, Result};
use beaconport_proto::pb::api::{ingest_service_client::IngestServiceClient, log_service_client::LogServiceClient};
use tonic::transport::{Channel, Endpoint};

/// Largest message the clients send or accept.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Opens a channel to `url` (`http://127.0.0.1:50051`).
pub async fn channel(url: &str) -> Result<Channel> {
    Endpoint::from_shared(url.to_string())
        .with_context(|| format!("{url:?} is not a server address"))?
        .tcp_nodelay(true)
        .http2_adaptive_window(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}

pub fn ingest(ch: Channel) -> IngestServiceClient<Channel> {
    IngestServiceClient::new(ch)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES)
}

pub fn log_reader(ch: Channel) -> LogServiceClient<Channel> {
    LogServiceClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}
