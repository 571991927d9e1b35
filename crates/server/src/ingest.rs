//! IngestService: publish a batch (unary) or a stream of batches.
//!
//! The service is served through the wire view of the API (`pb::wire`, wire-compatible with
//! `pb::api`): each event arrives as its own encoded bytes, is decoded once for validation, and
//! those very bytes are stored. Nothing is re-encoded or copied, and what the log (and later the
//! tamper-evident tree) holds is exactly what the force sent.

use std::pin::Pin;
use std::sync::Arc;

use beaconport_domain::{validate_batch, Context, FieldError};
use beaconport_log::{stream_key, EventId, EventLog, Record};
use beaconport_proto::decode_event;
use beaconport_proto::pb::{event as pb, wire as api};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info};

use crate::error::{status, Error, Result};

/// The ingest service over an injected log.
#[derive(Clone)]
pub struct Ingest {
    log: Arc<dyn EventLog>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest").finish_non_exhaustive()
    }
}

impl Ingest {
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Self { log }
    }

    /// Validates a batch of encoded events and turns it into log records (on the blocking pool:
    /// it is CPU work). All or nothing: every problem of every event is reported.
    async fn prepare(raw: Vec<Bytes>) -> Result<Vec<Record>> {
        tokio::task::spawn_blocking(move || prepare_blocking(raw))
            .await
            .map_err(|e| Error::Transport(format!("validation task: {e}")))?
    }

    /// Publishes one batch: validate all, append all, acknowledge each.
    pub async fn publish_batch(&self, events: Vec<Bytes>) -> Result<api::PublishResponse> {
        if events.is_empty() {
            return Err(Error::BadRequest {
                field: "events".into(),
                reason: "a batch needs at least one event".into(),
            });
        }
        let n = events.len();
        let records = Self::prepare(events).await?;
        let ids: Vec<EventId> = records.iter().map(|r| r.id).collect();
        let acks = self.log.append(records).await?;
        let duplicates = acks.iter().filter(|a| a.duplicate).count();
        debug!(n_events = n, duplicates, "batch appended");
        Ok(api::PublishResponse {
            acks: ids
                .iter()
                .zip(acks)
                .map(|(id, a)| api::EventAck {
                    event_id: id.to_string(),
                    position: a.position.0,
                    duplicate: a.duplicate,
                })
                .collect(),
        })
    }
}

fn prepare_blocking(raw: Vec<Bytes>) -> Result<Vec<Record>> {
    let ctx = Context { now: chrono::Utc::now() };
    let mut errors = Vec::new();
    let mut events = Vec::with_capacity(raw.len());
    for (index, bytes) in raw.iter().enumerate() {
        match pb::Event::decode(bytes.clone()) {
            Ok(e) if e.encoded_len() == bytes.len() => events.push(e),
            Ok(e) => errors.push(FieldError {
                index,
                event_id: e.event_id,
                field: "event".into(),
                reason: "holds fields this ledger does not know (a newer schema?) or is not canonically encoded".into(),
            }),
            Err(err) => errors.push(FieldError {
                index,
                event_id: String::new(),
                field: "event".into(),
                reason: format!("is not a beaconport.event.v1.Event: {err}"),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Rejected(errors));
    }
    errors = validate_batch(events.iter().map(|e| e.event_id.as_str()));
    let mut records = Vec::with_capacity(events.len());
    for ((index, e), payload) in events.into_iter().enumerate().zip(raw) {
        let key = stream_key(&e.force_code, &e.case_ref);
        match decode_event(index, e, &ctx) {
            Ok(d) => records.push(Record { id: d.id, key, payload }),
            Err(mut errs) => errors.append(&mut errs),
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        errors.sort_by_key(|e| e.index);
        Err(Error::Rejected(errors))
    }
}

fn rejection(errors: &[FieldError]) -> api::Rejection {
    api::Rejection {
        violations: errors
            .iter()
            .map(|f| api::FieldViolation {
                index: f.index as u32,
                event_id: f.event_id.clone(),
                field: f.field.clone(),
                reason: f.reason.clone(),
            })
            .collect(),
    }
}

type PublishStream = Pin<Box<dyn Stream<Item = Result<api::PublishStreamResponse, Status>> + Send>>;

#[tonic::async_trait]
impl api::ingest_service_server::IngestService for Ingest {
    async fn publish(&self, request: Request<api::PublishRequest>) -> Result<Response<api::PublishResponse>, Status> {
        let events = request.into_inner().events;
        match self.publish_batch(events).await {
            Ok(r) => Ok(Response::new(r)),
            Err(e) => {
                if let Error::Rejected(errors) = &e {
                    info!(n_errors = errors.len(), "batch rejected");
                }
                Err(status(&e))
            }
        }
    }

    type PublishStreamStream = PublishStream;

    /// Batches of one stream are committed in order, one after the other; a rejected batch is
    /// answered in-band and the stream goes on; a storage failure ends the stream.
    async fn publish_stream(
        &self,
        request: Request<Streaming<api::PublishRequest>>,
    ) -> Result<Response<Self::PublishStreamStream>, Status> {
        let mut incoming = request.into_inner();
        let (tx, rx) = mpsc::channel(4);
        let this = self.clone();
        tokio::spawn(async move {
            let mut sequence = 0u64;
            while let Some(req) = incoming.next().await {
                let req = match req {
                    Ok(r) => r,
                    Err(s) => {
                        let _ = tx.send(Err(s)).await;
                        return;
                    }
                };
                let result = match this.publish_batch(req.events).await {
                    Ok(acks) => api::publish_stream_response::Result::Accepted(acks),
                    Err(Error::Rejected(errors)) => {
                        info!(n_errors = errors.len(), "batch rejected");
                        api::publish_stream_response::Result::Rejected(rejection(&errors))
                    }
                    Err(Error::BadRequest { field, reason }) => {
                        api::publish_stream_response::Result::Rejected(api::Rejection {
                            violations: vec![api::FieldViolation { index: 0, event_id: String::new(), field, reason }],
                        })
                    }
                    Err(e) => {
                        let _ = tx.send(Err(status(&e))).await;
                        return;
                    }
                };
                if tx.send(Ok(api::PublishStreamResponse { sequence, result: Some(result) })).await.is_err() {
                    return;
                }
                sequence += 1;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
