//! gRPC clients of the ledger, as the commands use them.

use anyhow::{Context as _, Result};
use beaconport_proto::pb::api::{
    ingest_service_client::IngestServiceClient, log_service_client::LogServiceClient,
    query_service_client::QueryServiceClient,
};
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

pub fn query(ch: Channel) -> QueryServiceClient<Channel> {
    QueryServiceClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

pub fn log_reader(ch: Channel) -> LogServiceClient<Channel> {
    LogServiceClient::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES)
}

/// Publishes requests that were encoded once beforehand (`PublishRequest` bytes), for
/// publishers that retry or replay the same batches, and for the bench, so that the client's
/// share of a shared machine goes to sending rather than re-encoding.
#[derive(Debug, Clone)]
pub struct PreEncodedIngest {
    grpc: tonic::client::Grpc<Channel>,
}

impl PreEncodedIngest {
    pub fn new(ch: Channel) -> Self {
        Self { grpc: tonic::client::Grpc::new(ch).max_decoding_message_size(MAX_MESSAGE_BYTES) }
    }

    /// Sends one encoded `PublishRequest` to `IngestService.Publish`.
    pub async fn publish(
        &mut self,
        encoded: bytes::Bytes,
    ) -> Result<beaconport_proto::pb::api::PublishResponse, tonic::Status> {
        self.grpc.ready().await.map_err(|e| tonic::Status::unavailable(format!("not ready: {e}")))?;
        let path = tonic::codegen::http::uri::PathAndQuery::from_static("/beaconport.api.v1.IngestService/Publish");
        Ok(self.grpc.unary(tonic::Request::new(encoded), path, PreEncoded::default()).await?.into_inner())
    }

    /// Sends a stream of encoded `PublishRequest`s to `IngestService.PublishStream`.
    pub async fn publish_stream(
        &mut self,
        encoded: impl futures::Stream<Item = bytes::Bytes> + Send + 'static,
    ) -> Result<tonic::Streaming<beaconport_proto::pb::api::PublishStreamResponse>, tonic::Status> {
        self.grpc.ready().await.map_err(|e| tonic::Status::unavailable(format!("not ready: {e}")))?;
        let path =
            tonic::codegen::http::uri::PathAndQuery::from_static("/beaconport.api.v1.IngestService/PublishStream");
        Ok(self.grpc.streaming(tonic::Request::new(encoded), path, PreEncoded::default()).await?.into_inner())
    }
}

/// Sends bytes as they are; decodes responses of type `R`.
#[derive(Debug)]
struct PreEncoded<R>(std::marker::PhantomData<fn() -> R>);

impl<R> Default for PreEncoded<R> {
    fn default() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<R: prost::Message + Default + Send + 'static> tonic::codec::Codec for PreEncoded<R> {
    type Encode = bytes::Bytes;
    type Decode = R;
    type Encoder = PreEncoded<R>;
    type Decoder = PreEncoded<R>;
    fn encoder(&mut self) -> Self::Encoder {
        PreEncoded::default()
    }
    fn decoder(&mut self) -> Self::Decoder {
        PreEncoded::default()
    }
}

impl<R> tonic::codec::Encoder for PreEncoded<R> {
    type Item = bytes::Bytes;
    type Error = tonic::Status;
    fn encode(&mut self, item: bytes::Bytes, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put(item);
        Ok(())
    }
}

impl<R: prost::Message + Default> tonic::codec::Decoder for PreEncoded<R> {
    type Item = R;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Self::Item>, tonic::Status> {
        Self::Item::decode(src).map(Some).map_err(|e| tonic::Status::internal(format!("decoding the response: {e}")))
    }
}
