//! LogService: read the log back (operators, tests). Auditors get a richer, authorised replay.

use std::pin::Pin;
use std::sync::Arc;

use beaconport_log::{Entry, EventId, EventLog, Position};
use beaconport_proto::pb::api;
use beaconport_proto::stored;
use futures::Stream;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::error::{status, Error, Result};

/// Events per read from the log while streaming.
const CHUNK: usize = 1024;

/// The log reading service over an injected log.
#[derive(Clone)]
pub struct LogReader {
    log: Arc<dyn EventLog>,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader").finish_non_exhaustive()
    }
}

impl LogReader {
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        Self { log }
    }

    /// Turns a stored entry into its API form.
    pub fn entry(e: &Entry) -> Result<api::LogEntry> {
        entry_to_api(e)
    }
}

fn entry_to_api(e: &Entry) -> Result<api::LogEntry> {
    let event = stored::decode(e.position.0, &e.payload)?;
    let appended_at = chrono::DateTime::from_timestamp_millis(e.appended_at_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    Ok(api::LogEntry { position: e.position.0, appended_at, event: Some(event) })
}

type ReadStream = Pin<Box<dyn Stream<Item = Result<api::LogEntry, Status>> + Send>>;

#[tonic::async_trait]
impl api::log_service_server::LogService for LogReader {
    type ReadStream = ReadStream;

    /// Streams from `from_position`; the bounded channel makes a slow client slow the reads down
    /// instead of filling the server's memory.
    async fn read(&self, request: Request<api::ReadRequest>) -> Result<Response<Self::ReadStream>, Status> {
        let req = request.into_inner();
        let end = self.log.head().0;
        let limit = if req.limit == 0 { u64::MAX } else { req.limit };
        let (tx, rx) = mpsc::channel(256);
        let log = self.log.clone();
        tokio::spawn(async move {
            let mut pos = req.from_position;
            let mut sent = 0u64;
            while pos < end && sent < limit {
                let want = CHUNK.min((limit - sent) as usize).min((end - pos) as usize);
                let entries = match log.read(Position(pos), want).await {
                    Ok(e) => e,
                    Err(e) => {
                        let _ = tx.send(Err(status(&Error::Log(e)))).await;
                        return;
                    }
                };
                if entries.is_empty() {
                    return;
                }
                for e in &entries {
                    let item = entry_to_api(e).map_err(|e| status(&e));
                    if tx.send(item).await.is_err() {
                        return;
                    }
                }
                pos += entries.len() as u64;
                sent += entries.len() as u64;
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get(&self, request: Request<api::GetRequest>) -> Result<Response<api::LogEntry>, Status> {
        let id = request.into_inner().event_id;
        let uuid = uuid::Uuid::try_parse(&id).map_err(|_| {
            status(&Error::BadRequest { field: "event_id".into(), reason: format!("{id:?} is not a UUID") })
        })?;
        match self.log.get(EventId(uuid)).await.map_err(|e| status(&Error::Log(e)))? {
            Some(e) => Ok(Response::new(entry_to_api(&e).map_err(|e| status(&e))?)),
            None => Err(Status::not_found(format!("event {id}: not in the log"))),
        }
    }

    async fn head(&self, _request: Request<api::HeadRequest>) -> Result<Response<api::HeadResponse>, Status> {
        Ok(Response::new(api::HeadResponse { next_position: self.log.head().0 }))
    }
}
