//! AuditService: replay the log with filters, signed tree heads, inclusion and consistency
//! proofs, and the consultation log.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use beaconport_domain::{EventKind, PersonId, Position};
use beaconport_log::head::{SignedHead, Signer};
use beaconport_log::{merkle, EventId, EventLog, Tree};
use beaconport_proto::convert::consultation_to_pb;
use beaconport_proto::pb::{api, event as pb};
use beaconport_views::consultations::Filter;
use beaconport_views::Live;
use futures::Stream;
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::error::{status, Error, Result};

/// Events per read from the log while replaying.
const CHUNK: usize = 1024;
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

/// The audit service.
#[derive(Clone)]
pub struct Audit {
    log: Arc<dyn EventLog>,
    signer: Arc<Signer>,
    projector: Option<Arc<dyn Live>>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").finish_non_exhaustive()
    }
}

fn bad(field: &str, reason: impl Into<String>) -> Status {
    status(&Error::BadRequest { field: field.into(), reason: reason.into() })
}

fn time(field: &str, s: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, Status> {
    if s.is_empty() {
        return Ok(None);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .map_err(|e| bad(field, format!("{s:?} is not an RFC 3339 time: {e}")))
}

/// What a replay lets through.
struct ReplayFilter {
    appended: (Option<i64>, Option<i64>),
    recorded: (Option<chrono::DateTime<chrono::Utc>>, Option<chrono::DateTime<chrono::Utc>>),
    forces: HashSet<String>,
    cases: HashSet<String>,
    kinds: HashSet<EventKind>,
}

impl ReplayFilter {
    fn parse(r: &api::ReplayRequest) -> Result<Self, Status> {
        let ms = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.timestamp_millis());
        let mut kinds = HashSet::new();
        for (i, k) in r.kinds.iter().enumerate() {
            kinds.insert(
                EventKind::from_name(k)
                    .ok_or_else(|| bad(&format!("kinds[{i}]"), format!("{k:?} is not a kind of event")))?,
            );
        }
        for (i, c) in r.cases.iter().enumerate() {
            if !c.contains('/') {
                return Err(bad(&format!("cases[{i}]"), format!("{c:?} is not FORCE/CASE")));
            }
        }
        Ok(ReplayFilter {
            appended: (ms(time("appended_from", &r.appended_from)?), ms(time("appended_to", &r.appended_to)?)),
            recorded: (time("recorded_from", &r.recorded_from)?, time("recorded_to", &r.recorded_to)?),
            forces: r.force_codes.iter().cloned().collect(),
            cases: r.cases.iter().cloned().collect(),
            kinds,
        })
    }

    fn admits(&self, e: &beaconport_log::Entry) -> bool {
        if self.appended.0.is_some_and(|t| e.appended_at_ms < t)
            || self.appended.1.is_some_and(|t| e.appended_at_ms > t)
        {
            return false;
        }
        if !self.cases.is_empty() && !self.cases.contains(&e.key) {
            return false;
        }
        if !self.forces.is_empty() && !e.key.split_once('/').is_some_and(|(f, _)| self.forces.contains(f)) {
            return false;
        }
        if self.kinds.is_empty() && self.recorded == (None, None) {
            return true;
        }
        // Kinds and recording times are inside the event.
        let Ok(ev) = pb::Event::decode(e.payload.as_ref()) else { return true };
        if !self.kinds.is_empty() {
            let kind = ev.body.as_ref().and_then(|b| b.kind.as_ref()).map(beaconport_proto::kind_of);
            if !kind.is_some_and(|k| self.kinds.contains(&k)) {
                return false;
            }
        }
        if self.recorded != (None, None) {
            let Ok(at) = chrono::DateTime::parse_from_rfc3339(&ev.recorded_at) else { return false };
            if self.recorded.0.is_some_and(|t| at < t) || self.recorded.1.is_some_and(|t| at > t) {
                return false;
            }
        }
        true
    }
}

/// A signed head in its API form.
pub fn head_to_pb(h: &SignedHead) -> api::SignedTreeHead {
    api::SignedTreeHead {
        tree_size: h.size,
        root_hash: h.root.to_vec(),
        timestamp_ms: h.timestamp_ms,
        signature: h.signature.to_vec(),
        public_key: h.public_key.to_vec(),
    }
}

/// A signed head from its API form.
pub fn head_from_pb(h: &api::SignedTreeHead) -> Option<SignedHead> {
    Some(SignedHead {
        size: h.tree_size,
        root: h.root_hash.as_slice().try_into().ok()?,
        timestamp_ms: h.timestamp_ms,
        signature: h.signature.as_slice().try_into().ok()?,
        public_key: h.public_key.as_slice().try_into().ok()?,
    })
}

impl Audit {
    pub fn new(log: Arc<dyn EventLog>, signer: Arc<Signer>, projector: Option<Arc<dyn Live>>) -> Self {
        Self { log, signer, projector }
    }

    fn tree(&self) -> Result<&Tree, Status> {
        self.log.tree().ok_or_else(|| {
            Status::failed_precondition("tamper evidence is turned off on this ledger (a benchmark set-up)")
        })
    }

    /// The size asked for (0: the current one), checked against the tree.
    fn size(&self, asked: u64, field: &str) -> Result<u64, Status> {
        let have = self.tree()?.size();
        match asked {
            0 => Ok(have),
            n if n > have => Err(bad(field, format!("{n} is beyond the {have} events the ledger holds"))),
            n => Ok(n),
        }
    }

    /// Signs the head of the tree of `size` events now.
    fn signed(&self, size: u64) -> Result<SignedHead, Status> {
        let root = self.tree()?.root(size).map_err(|e| Status::internal(e.to_string()))?;
        Ok(self.signer.sign(size, root, chrono::Utc::now().timestamp_millis()))
    }
}

type ReplayStream = Pin<Box<dyn Stream<Item = Result<api::ReplayEntry, Status>> + Send>>;

#[tonic::async_trait]
impl api::audit_service_server::AuditService for Audit {
    type ReplayStream = ReplayStream;

    /// Reads ahead through a bounded channel: a slow client slows the reads, not memory.
    async fn replay(&self, request: Request<api::ReplayRequest>) -> Result<Response<ReplayStream>, Status> {
        let req = request.into_inner();
        let filter = ReplayFilter::parse(&req)?;
        let head = self.log.head().0;
        let end = if req.to_position == 0 { head } else { req.to_position.min(head) };
        let limit = if req.limit == 0 { u64::MAX } else { req.limit };
        let with_leaves = self.log.tree().is_some();
        let (tx, rx) = mpsc::channel(CHUNK);
        let log = self.log.clone();
        tokio::spawn(async move {
            let mut pos = req.from_position;
            let mut sent = 0u64;
            while pos < end && sent < limit {
                let entries = match log.read(Position(pos), CHUNK.min((end - pos) as usize)).await {
                    Ok(e) if e.is_empty() => return,
                    Ok(e) => e,
                    Err(e) => {
                        let _ = tx.send(Err(status(&Error::Log(e)))).await;
                        return;
                    }
                };
                pos = entries.last().map_or(end, |e| e.position.0 + 1);
                for e in entries.into_iter().filter(|e| filter.admits(e)) {
                    let item = api::ReplayEntry {
                        position: e.position.0,
                        appended_at_ms: e.appended_at_ms,
                        leaf_hash: if with_leaves { e.leaf_hash().to_vec() } else { Vec::new() },
                        event: e.payload.to_vec(),
                    };
                    if tx.send(Ok(item)).await.is_err() {
                        return;
                    }
                    sent += 1;
                    if sent >= limit {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn get_tree_head(
        &self,
        request: Request<api::TreeHeadRequest>,
    ) -> Result<Response<api::SignedTreeHead>, Status> {
        let size = self.size(request.into_inner().tree_size, "tree_size")?;
        Ok(Response::new(head_to_pb(&self.signed(size)?)))
    }

    async fn inclusion_proof(
        &self,
        request: Request<api::InclusionProofRequest>,
    ) -> Result<Response<api::InclusionProofResponse>, Status> {
        use api::inclusion_proof_request::Target;
        let req = request.into_inner();
        let size = self.size(req.tree_size, "tree_size")?;
        let entry = match req.target {
            Some(Target::Position(p)) => self.log.read(Position(p), 1).await.map_err(|e| status(&Error::Log(e)))?.pop(),
            Some(Target::EventId(id)) => {
                let uuid = uuid::Uuid::try_parse(&id).map_err(|_| bad("event_id", format!("{id:?} is not a UUID")))?;
                self.log.get(EventId(uuid)).await.map_err(|e| status(&Error::Log(e)))?
            }
            None => return Err(bad("target", "give a position or an event_id")),
        };
        let entry = entry.ok_or_else(|| Status::not_found("no such event in the log"))?;
        if entry.position.0 >= size {
            return Err(bad(
                "tree_size",
                format!("the event is at position {}, not inside a tree of {size} events", entry.position.0),
            ));
        }
        let path = self.tree()?.inclusion_proof(entry.position, size).map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(api::InclusionProofResponse {
            position: entry.position.0,
            appended_at_ms: entry.appended_at_ms,
            key: entry.key.clone(),
            leaf_hash: entry.leaf_hash().to_vec(),
            event: entry.payload.to_vec(),
            path: path.iter().map(|h| h.to_vec()).collect(),
            tree_head: Some(head_to_pb(&self.signed(size)?)),
        }))
    }

    async fn consistency_proof(
        &self,
        request: Request<api::ConsistencyProofRequest>,
    ) -> Result<Response<api::ConsistencyProofResponse>, Status> {
        let req = request.into_inner();
        let second = self.size(req.second_size, "second_size")?;
        if req.first_size == 0 || req.first_size > second {
            return Err(bad("first_size", format!("{} is not within 1 to {second}", req.first_size)));
        }
        let proof =
            self.tree()?.consistency_proof(req.first_size, second).map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(api::ConsistencyProofResponse {
            first_size: req.first_size,
            second_size: second,
            proof: proof.iter().map(|h| h.to_vec()).collect(),
            first_head: Some(head_to_pb(&self.signed(req.first_size)?)),
            second_head: Some(head_to_pb(&self.signed(second)?)),
        }))
    }

    async fn list_consultations(
        &self,
        request: Request<api::ListConsultationsRequest>,
    ) -> Result<Response<api::ListConsultationsResponse>, Status> {
        let req = request.into_inner();
        let projector =
            self.projector.clone().ok_or_else(|| Status::failed_precondition("this server runs no views"))?;
        let person = if req.person_id.is_empty() {
            None
        } else {
            Some(
                req.person_id
                    .parse::<PersonId>()
                    .map_err(|_| bad("person_id", format!("{:?} is not a person id", req.person_id)))?,
            )
        };
        let filter = Filter {
            principal: (!req.principal.is_empty()).then(|| req.principal.clone()),
            person,
            from: time("from", &req.from)?,
            to: time("to", &req.to)?,
        };
        let size = match req.page_size as usize {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let offset: usize = if req.page_token.is_empty() {
            0
        } else {
            req.page_token.parse().map_err(|_| bad("page_token", "is not a token this server gave"))?
        };
        let views = projector.views();
        let answer = tokio::task::spawn_blocking(move || {
            let v = views.read();
            let all = v.consultations.list(&filter, &v.resolver);
            let total = all.len();
            api::ListConsultationsResponse {
                consultations: all
                    .into_iter()
                    .skip(offset)
                    .take(size)
                    .map(|c| api::ConsultationEntry {
                        position: c.position.0,
                        recorded_at: c.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                        consultation: Some(consultation_to_pb(&c.body)),
                    })
                    .collect(),
                next_page_token: if offset + size < total { (offset + size).to_string() } else { String::new() },
                total: total as u64,
            }
        })
        .await
        .map_err(|e| Status::internal(format!("listing consultations: {e}")))?;
        Ok(Response::new(answer))
    }
}

/// Checks an inclusion proof as a client would: the leaf recomputed from the event, the path,
/// and the head's signature under `key`.
pub fn check_inclusion(p: &api::InclusionProofResponse, key: &[u8; 32]) -> std::result::Result<(), String> {
    let head = p.tree_head.as_ref().and_then(head_from_pb).ok_or("the proof carries no well-formed tree head")?;
    head.verify(key).map_err(|e| e.to_string())?;
    let ev = pb::Event::decode(p.event.as_slice()).map_err(|e| format!("the event does not decode: {e}"))?;
    let id = uuid::Uuid::try_parse(&ev.event_id).map_err(|e| format!("event_id: {e}"))?;
    if p.key != beaconport_log::stream_key(&ev.force_code, &ev.case_ref) {
        return Err(format!("the key {:?} is not the event's force and case", p.key));
    }
    let leaf = beaconport_log::leaf_hash(p.appended_at_ms, &EventId(id), &p.key, &p.event);
    let path: Vec<merkle::Hash> = p
        .path
        .iter()
        .map(|h| h.as_slice().try_into().map_err(|_| "a path hash is not 32 bytes".to_string()))
        .collect::<std::result::Result<_, _>>()?;
    merkle::verify_inclusion(&leaf, p.position, head.size, &path, &head.root).map_err(|e| e.to_string())
}
