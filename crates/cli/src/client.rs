//! gRPC clients of the ledger, as the commands use them.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use beaconport_proto::pb::api::{
    ingest_service_client::IngestServiceClient, log_service_client::LogServiceClient,
    query_service_client::QueryServiceClient,
};
use tonic::transport::{Channel, Endpoint};

/// Largest message the clients send or accept.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Opens a channel to `url` (`http://127.0.0.1:50051`).
pub async fn channel(url: &str) -> Result<Channel> {
    endpoint(url)?.connect().await.with_context(|| format!("connecting to {url}"))
}

/// The endpoint every client channel starts from: no Nagle, HTTP/2 windows that grow to fit
/// batches.
fn endpoint(url: &str) -> Result<Endpoint> {
    Ok(Endpoint::from_shared(url.to_string())
        .with_context(|| format!("{url:?} is not a server address"))?
        .tcp_nodelay(true)
        .http2_adaptive_window(true))
}

/// How a command reaches the ledger: its address, and for mutual TLS the CA that signed the
/// server's certificate and this caller's own certificate and key.
#[derive(Debug, clap::Args, Clone)]
pub struct ServerArgs {
    /// Address of the ledger: `https://HOST:PORT` for mutual TLS (with --ca, --cert, --key), or
    /// `http://HOST:PORT` for a server started with --insecure-plaintext.
    #[arg(long, default_value = "http://127.0.0.1:50051", global = true)]
    pub server: String,
    /// The CA certificate (PEM) that signed the server's certificate.
    #[arg(long, value_name = "PEM", global = true)]
    pub ca: Option<PathBuf>,
    /// This caller's client certificate (PEM); its common name is who the ledger takes you for.
    #[arg(long, value_name = "PEM", global = true)]
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, value_name = "PEM", global = true)]
    pub key: Option<PathBuf>,
}

impl ServerArgs {
    /// A plaintext server at `url` (started with --insecure-plaintext).
    pub fn plaintext(url: &str) -> Self {
        Self { server: url.to_string(), ca: None, cert: None, key: None }
    }

    /// The connector these flags describe.
    pub fn connector(&self) -> Result<Connector> {
        match (&self.ca, &self.cert, &self.key) {
            (None, None, None) => {
                if self.server.starts_with("https://") {
                    bail!("--server {}: mutual TLS needs --ca, --cert and --key", self.server);
                }
                Ok(Connector::plaintext(&self.server))
            }
            (Some(ca), Some(cert), Some(key)) => {
                let url = match self.server.strip_prefix("http://") {
                    Some(rest) => format!("https://{rest}"),
                    None => self.server.clone(),
                };
                Connector::mutual_tls(&url, ca, cert, key)
            }
            _ => bail!("--ca, --cert and --key: give all three (mutual TLS) or none (plaintext)"),
        }
    }

    /// Opens a channel to the ledger.
    pub async fn connect(&self) -> Result<Channel> {
        self.connector()?.connect().await
    }
}

/// Where the ledger is and how to reach it.
#[derive(Debug, Clone)]
pub struct Connector {
    pub url: String,
    tls: Option<ClientTls>,
}

#[derive(Debug, Clone)]
struct ClientTls {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl Connector {
    /// Plaintext, to a server started with --insecure-plaintext.
    pub fn plaintext(url: &str) -> Self {
        Self { url: url.to_string(), tls: None }
    }

    /// Mutual TLS: trusting `ca` for the server, presenting `cert` with `key`.
    pub fn mutual_tls(url: &str, ca: &Path, cert: &Path, key: &Path) -> Result<Self> {
        let read = |flag: &str, p: &Path| {
            std::fs::read_to_string(p).with_context(|| format!("{flag}: reading {}", p.display()))
        };
        Ok(Self {
            url: url.to_string(),
            tls: Some(ClientTls {
                ca_pem: read("--ca", ca)?,
                cert_pem: read("--cert", cert)?,
                key_pem: read("--key", key)?,
            }),
        })
    }

    /// Opens a channel.
    pub async fn connect(&self) -> Result<Channel> {
        let Some(tls) = &self.tls else { return channel(&self.url).await };
        let host = self
            .url
            .parse::<tonic::codegen::http::Uri>()
            .ok()
            .and_then(|u| u.host().map(|h| h.trim_matches(|c| c == '[' || c == ']').to_string()))
            .with_context(|| format!("{:?} is not a server address", self.url))?;
        let config = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&tls.ca_pem))
            .identity(tonic::transport::Identity::from_pem(&tls.cert_pem, &tls.key_pem))
            .domain_name(host);
        endpoint(&self.url)?
            .tls_config(config)
            .context("TLS settings")?
            .connect()
            .await
            .with_context(|| format!("connecting to {} over mutual TLS", self.url))
    }
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
