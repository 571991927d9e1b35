//! ReviewService: the national NFA review's queue, case pages, the reviewers' record of their
//! work, data quality per force and the risk lists, answered from the review's views
//! (`beaconport_views::review`). Every call is admitted and recorded like a QueryService call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use beaconport_domain::review::{Avenue, Band};
use beaconport_domain::{self as d, reference};
use beaconport_proto::pb::{api, event as pb};
use beaconport_views::review::{self as rv, Entry, ForceQuality, Review, RiskEntry};
use beaconport_views::Views;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::consult::{Disclosed, Discloses};
use crate::error::{Error, Result};
use crate::query::{bad, next_token, page, summary_name, Query};

/// The inspectorate's national figure: the share of child abuse cases correctly flagged.
pub const INSPECTORATE_FLAGGED_SHARE: f64 = 0.37;

/// The review service, over the same views and consultation log as the query service.
#[derive(Clone, Debug)]
pub struct ReviewApi {
    query: Query,
    /// A derivation of the review is running in the background.
    refreshing: Arc<AtomicBool>,
}

impl ReviewApi {
    pub fn new(query: Query) -> Self {
        Self { query, refreshing: Arc::new(AtomicBool::new(false)) }
    }

    /// How a call on the live views may use the last review while the next is derived (a call
    /// on past views derives its own).
    fn refresher(&self, admitted: &crate::query::Admitted, context: Option<&api::QueryContext>) -> Option<Refresh> {
        let (live, min_position) = (admitted.as_of.is_none(), context.map_or(0, |c| c.min_position));
        live.then(|| Refresh {
            views: self.query.live_views(),
            busy: self.refreshing.clone(),
            handle: tokio::runtime::Handle::current(),
            min_position,
        })
    }
}

/// Stale-while-revalidate for the review on the live views: deriving the whole review from a
/// national log takes seconds, so after new events a call is answered from the last review (its
/// `as_of_position` says which) while one background task derives the next, unless the call's
/// `min_position` asks for events the last review has not seen.
struct Refresh {
    views: Arc<parking_lot::RwLock<Views>>,
    busy: Arc<AtomicBool>,
    handle: tokio::runtime::Handle,
    min_position: u64,
}

/// The review a call is answered from, and the position its answer is as of.
fn pick(v: &Views, refresh: Option<&Refresh>) -> (Arc<Review>, u64) {
    let today = today();
    if let (Some(r), Some(refresh)) = (v.cached_review(today), refresh) {
        if r.applied == v.cases_applied {
            return (r, v.applied.0);
        }
        if refresh.min_position <= r.applied.0 {
            if !refresh.busy.swap(true, Ordering::AcqRel) {
                let (views, busy) = (refresh.views.clone(), refresh.busy.clone());
                refresh.handle.spawn_blocking(move || {
                    let _ = views.read().review(today);
                    busy.store(false, Ordering::Release);
                });
            }
            let at = r.applied.0;
            return (r, at);
        }
    }
    (v.review(today), v.applied.0)
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A queue row.
pub fn item(e: &Entry, rank: usize) -> api::QueueItem {
    let l = &e.local;
    api::QueueItem {
        rank: rank as u32,
        force_code: e.key.0.clone(),
        case_ref: e.key.1.clone(),
        title: l.title.clone(),
        offence_code: l.offence.map(|o| o.code.to_string()).unwrap_or_default(),
        rape: l.rape,
        score: e.score,
        band: e.band.name().into(),
        decided_on: e.closing.decided_on.to_string(),
        decided_by: match e.closing.by {
            d::DecisionKind::NfaProsecutor => "prosecutor".into(),
            _ => "police".into(),
        },
        victims: l.victims as u32,
        suspects: l.suspects as u32,
        other_force_cases: e.other_force_cases.len() as u32,
        avenues: e.avenues.len() as u32,
        open_avenues: e.open_avenues() as u32,
        status: l.status.name().into(),
        standard_group_based: e.standard.group_based,
        force_flagged: l.flagged_group,
        youngest_victim_age: l.youngest_victim_age.unwrap_or(-1),
    }
}

fn avenue_pb(a: &Avenue, done: Option<&rv::Actioned>) -> api::ReviewAvenue {
    api::ReviewAvenue {
        id: a.id(),
        kind: a.kind.code().into(),
        title: a.kind.title().into(),
        subject: a.subject.clone(),
        evidence: a.evidence.clone(),
        action: done.map(|x| x.action.name().to_string()).unwrap_or_default(),
        actioned_on: done.map(|x| x.on.to_string()).unwrap_or_default(),
        actioned_by: done.map(|x| x.reviewer.clone()).unwrap_or_default(),
        note: done.map(|x| x.note.clone()).unwrap_or_default(),
    }
}

/// The queue filtered as asked, with each entry's rank in the open queue.
pub fn queue<'a>(review: &'a Review, req: &api::GetQueueRequest) -> Result<Vec<(usize, &'a Entry)>> {
    let band = match req.band.as_str() {
        "" => None,
        b => Some(Band::parse(b).ok_or_else(|| bad("band", &format!("{b:?} is not one of high, medium, standard")))?),
    };
    if !req.force_code.is_empty() && reference::force(&req.force_code).is_none() {
        return Err(bad("force_code", &format!("{:?} is not a force code", req.force_code)));
    }
    let status = req.status.as_str();
    let rows: Vec<(usize, &Entry)> = match status {
        "" | "open" | "all" | "waiting" | "in_review" => {
            let open = review.queue.iter().enumerate().map(|(i, e)| (i + 1, e));
            let concluded = review.concluded.iter().map(|e| (0, e)).filter(|_| status == "all");
            open.filter(|(_, e)| match status {
                "waiting" => e.local.status == rv::Status::Waiting,
                "in_review" => matches!(e.local.status, rv::Status::InReview { .. }),
                _ => true,
            })
            .chain(concluded)
            .collect()
        }
        "concluded" => review.concluded.iter().map(|e| (0, e)).collect(),
        s => return Err(bad("status", &format!("{s:?} is not one of open, waiting, in_review, concluded, all"))),
    };
    Ok(rows
        .into_iter()
        .filter(|(_, e)| req.force_code.is_empty() || e.key.0 == req.force_code)
        .filter(|(_, e)| !req.rape_only || e.local.rape)
        .filter(|(_, e)| band.is_none_or(|b| e.band == b))
        .collect())
}

/// One case as the review sees it.
pub fn review_case(v: &Views, review: &Review, force: &str, case_ref: &str) -> Result<api::ReviewCase> {
    let key = (force.to_string(), case_ref.to_string());
    let case = v.cases.get(&key).ok_or_else(|| Error::NotFound(format!("case {force}/{case_ref}")))?;
    let local = rv::local(case);
    let standard = review.standard.get(&key);
    let flags = case
        .flags
        .iter()
        .map(|(f, p)| match p {
            Some(p) => format!("{f:?} ({p})"),
            None => format!("{f:?}"),
        })
        .collect();
    let mut out = api::ReviewCase {
        in_scope: local.scope.is_ok(),
        out_of_scope: local
            .scope
            .as_ref()
            .err()
            .map(|rs| rs.iter().map(|r| r.to_string()).collect())
            .unwrap_or_default(),
        standard_group_based: standard.is_some_and(|s| s.group_based),
        standard_reasons: standard
            .map(|s| s.reasons.clone())
            .unwrap_or_else(|| vec!["no sexual offence against a child is recorded".into()]),
        force_flags: flags,
        status: local.status.name().into(),
        reviewer: match &local.status {
            rv::Status::InReview { reviewer, .. } | rv::Status::Concluded { reviewer, .. } => reviewer.clone(),
            rv::Status::Waiting => String::new(),
        },
        as_of_position: v.applied.0,
        force_code: force.into(),
        case_ref: case_ref.into(),
        ..Default::default()
    };
    if let Some(e) = review.entry(&key) {
        let rank = review.queue.iter().position(|x| x.key == key).map_or(0, |i| i + 1);
        out.item = Some(item(e, rank));
        out.avenues = e.avenues.iter().map(|(a, done)| avenue_pb(a, done.as_ref())).collect();
        out.other_force_cases = e
            .other_force_cases
            .iter()
            .map(|(k, how)| api::LinkedCase {
                force_code: k.0.clone(),
                case_ref: k.1.clone(),
                how: how.iter().cloned().collect(),
            })
            .collect();
    }
    Ok(out)
}

fn completeness(c: &rv::Completeness) -> api::Completeness {
    api::Completeness {
        mentions: c.mentions as u32,
        self_defined: c.self_defined as u32,
        self_defined_not_stated: c.self_defined_not_stated as u32,
        observed: c.observed as u32,
        observed_ic0: c.observed_ic0 as u32,
        either: c.either as u32,
    }
}

pub fn force_quality(q: &ForceQuality) -> api::ForceQuality {
    api::ForceQuality {
        force_code: q.force.clone(),
        force_name: reference::force(&q.force).map(|f| f.name.to_string()).unwrap_or_else(|| "All forces".into()),
        cases: q.cases as u32,
        standard: q.standard as u32,
        flagged: q.flagged as u32,
        agree: q.agree as u32,
        precision: q.precision(),
        recall: q.recall(),
        in_scope: q.in_scope as u32,
        in_scope_flagged: q.in_scope_flagged as u32,
        in_scope_flagged_share: q.in_scope_flagged_share(),
        suspects: Some(completeness(&q.suspects)),
        victims: Some(completeness(&q.victims)),
        missing: q.missing.iter().map(|(k, v)| (k.to_string(), *v as u32)).collect(),
    }
}

fn breakdown(b: &rv::Breakdown) -> api::EthnicityBreakdown {
    let census = |n: u8| match n {
        rv::NOT_STATED => ("not stated".to_string(), "Not stated".to_string()),
        rv::NOT_RECORDED => ("not recorded".to_string(), "Not recorded".to_string()),
        n => (
            n.to_string(),
            reference::CENSUS_2021_ETHNIC_GROUPS
                .iter()
                .find(|(k, _, _)| *k == n)
                .map(|(_, label, _)| label.to_string())
                .unwrap_or_default(),
        ),
    };
    let ic = |n: u8| match n {
        rv::NOT_STATED => ("IC0".to_string(), "Not known (IC0)".to_string()),
        rv::NOT_RECORDED => ("not recorded".to_string(), "Not recorded".to_string()),
        n => (
            format!("IC{n}"),
            reference::IC_CODES
                .iter()
                .find(|(k, _, _)| *k == n)
                .map(|(_, _, label)| label.to_string())
                .unwrap_or_default(),
        ),
    };
    let counts = |m: &std::collections::BTreeMap<u8, usize>, label: &dyn Fn(u8) -> (String, String)| {
        m.iter()
            .map(|(k, n)| {
                let (code, label) = label(*k);
                api::EthnicityCount { code, label, persons: *n as u32 }
            })
            .collect()
    };
    api::EthnicityBreakdown {
        persons: b.persons as u32,
        self_defined: counts(&b.self_defined, &census),
        observed: counts(&b.observed, &ic),
        unknown: b.unknown as u32,
        unknown_share: rv::ratio(b.unknown, b.persons).unwrap_or(0.0),
    }
}

pub fn quality(v: &Views, review: &Review) -> api::QualityReport {
    let q = &review.quality;
    api::QualityReport {
        forces: q.forces.iter().map(force_quality).collect(),
        national: Some(force_quality(&q.national)),
        suspects_in_scope: Some(breakdown(&q.suspects_in_scope)),
        victims_in_scope: Some(breakdown(&q.victims_in_scope)),
        as_of_position: v.applied.0,
        inspectorate_flagged_share: INSPECTORATE_FLAGGED_SHARE,
    }
}

pub fn risk_item(v: &Views, e: &RiskEntry, rank: usize) -> api::RiskItem {
    api::RiskItem {
        rank: rank as u32,
        person_id: e.person.to_string(),
        name: summary_name(v, e.person),
        score: e.score,
        reasons: e.reasons.clone(),
        forces: e.forces.clone(),
        cases: e.cases.iter().map(|(f, c)| format!("{f}/{c}")).collect(),
    }
}

impl Discloses for api::GetQueueResponse {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        for i in &self.items {
            d.cases.insert(format!("{}/{}", i.force_code, i.case_ref));
            d.count += 1;
        }
        d
    }
}

impl Discloses for api::ReviewCase {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        d.cases.insert(format!("{}/{}", self.force_code, self.case_ref));
        for c in &self.other_force_cases {
            d.cases.insert(format!("{}/{}", c.force_code, c.case_ref));
        }
        d.count = d.cases.len() as u64;
        d
    }
}

impl Discloses for api::RecordReviewResponse {
    fn disclosed(&self) -> Disclosed {
        Disclosed::default()
    }
}

impl Discloses for api::QualityReport {
    fn disclosed(&self) -> Disclosed {
        // Aggregates only: no person or case is named.
        Disclosed { count: self.forces.len() as u64, ..Default::default() }
    }
}

impl Discloses for api::RiskList {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        for i in &self.items {
            d.persons.insert(i.person_id.clone());
            d.count += 1;
        }
        d
    }
}

#[tonic::async_trait]
impl api::review_service_server::ReviewService for ReviewApi {
    async fn get_queue(
        &self,
        request: Request<api::GetQueueRequest>,
    ) -> Result<Response<api::GetQueueResponse>, Status> {
        let caller = self.query.caller(&request);
        let req = request.into_inner();
        let admitted = self.query.admit(req.context.as_ref()).await?;
        let (offset, size) = page(req.page_size, &req.page_token)?;
        let asked = req.clone();
        let refresh = self.refresher(&admitted, req.context.as_ref());
        let answer = self
            .query
            .answer(caller, "ReviewService/GetQueue", &asked, admitted, false, move |v| {
                let (review, at) = pick(v, refresh.as_ref());
                let rows = queue(&review, &req)?;
                Ok(api::GetQueueResponse {
                    items: rows.iter().skip(offset).take(size).map(|(rank, e)| item(e, *rank)).collect(),
                    next_page_token: next_token(offset, size, rows.len()),
                    as_of_position: at,
                    total: rows.len() as u32,
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn get_review_case(
        &self,
        request: Request<api::GetReviewCaseRequest>,
    ) -> Result<Response<api::ReviewCase>, Status> {
        let caller = self.query.caller(&request);
        let req = request.into_inner();
        let admitted = self.query.admit(req.context.as_ref()).await?;
        if req.force_code.is_empty() || req.case_ref.is_empty() {
            return Err(bad(if req.force_code.is_empty() { "force_code" } else { "case_ref" }, "is required").into());
        }
        let asked = req.clone();
        let refresh = self.refresher(&admitted, req.context.as_ref());
        let answer = self
            .query
            .answer(caller, "ReviewService/GetReviewCase", &asked, admitted, false, move |v| {
                let (review, at) = pick(v, refresh.as_ref());
                let mut page = review_case(v, &review, &req.force_code, &req.case_ref)?;
                page.as_of_position = at;
                Ok(page)
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn record_review(
        &self,
        request: Request<api::RecordReviewRequest>,
    ) -> Result<Response<api::RecordReviewResponse>, Status> {
        let caller = self.query.caller(&request);
        let req = request.into_inner();
        let admitted = self.query.admit(req.context.as_ref()).await?;
        if admitted.as_of.is_some() {
            return Err(bad("context.as_of", "a review is recorded on the live views, not on past ones").into());
        }
        let Some(step) = req.step.clone() else {
            return Err(bad("step", "is required: started, actioned or concluded").into());
        };
        // The case must be known, and an actioned avenue one the queue lists for it.
        let key = (req.force_code.clone(), req.case_ref.clone());
        let check = {
            let views = self.query.live_views();
            let v = views.read();
            if !v.cases.contains_key(&key) {
                Err(Error::NotFound(format!("case {}/{}", req.force_code, req.case_ref)))
            } else if let api::record_review_request::Step::Actioned(a) = &step {
                let listed = |r: &beaconport_views::review::Review| {
                    r.entry(&key).is_some_and(|e| e.avenues.iter().any(|(x, _)| x.id() == a.avenue))
                };
                // The review last derived lists the avenues reviewers were shown; only an avenue
                // it does not list costs deriving the review again (seconds on a national log).
                let known = v.cached_review(today()).is_some_and(|r| listed(&r)) || listed(&v.review(today()));
                if known {
                    Ok(())
                } else {
                    Err(bad(
                        "actioned.avenue",
                        &format!("{:?} is not an avenue the queue lists for this case", a.avenue),
                    ))
                }
            } else {
                Ok(())
            }
        };
        if let Err(e) = check {
            // Refused, and recorded as such: what was asked, and that nothing was stored.
            let refused: Result<api::RecordReviewResponse> = Err(e);
            return Ok(Response::new(
                self.query
                    .answer(caller, "ReviewService/RecordReview", &req, admitted, false, move |_| refused)
                    .await?,
            ));
        }
        let kind = match step {
            api::record_review_request::Step::Started(x) => pb::body::Kind::ReviewStarted(x),
            api::record_review_request::Step::Actioned(x) => pb::body::Kind::AvenueActioned(x),
            api::record_review_request::Step::Concluded(x) => pb::body::Kind::ReviewConcluded(x),
        };
        // A retry (the same event id) records nothing twice: its times are the first attempt's.
        if let Ok(uuid) = uuid::Uuid::parse_str(&req.event_id) {
            if let Some(entry) = self.query.ingest().stored(beaconport_log::EventId(uuid)).await? {
                let stored = pb::Event::decode(entry.payload.as_ref()).map_err(|e| Error::Transport(e.to_string()))?;
                let same = stored.force_code == req.force_code
                    && stored.case_ref == req.case_ref
                    && stored.body.as_ref().and_then(|b| b.kind.as_ref()) == Some(&kind);
                if !same {
                    return Err(Error::Log(entry.conflict()).into());
                }
                let position = entry.position.ok_or_else(|| Error::Transport("recorded without a position".into()))?;
                let answer = api::RecordReviewResponse { position: position.0, duplicate: true };
                return Ok(Response::new(
                    self.query
                        .answer(caller, "ReviewService/RecordReview", &req, admitted, false, move |_| Ok(answer))
                        .await?,
                ));
            }
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let event = pb::Event {
            event_id: if req.event_id.is_empty() { uuid::Uuid::now_v7().to_string() } else { req.event_id.clone() },
            force_code: req.force_code.clone(),
            case_ref: req.case_ref.clone(),
            occurred_at: now.clone(),
            recorded_at: now,
            schema_version: 1,
            recorded_by: if req.recorded_by.is_empty() { caller.principal.clone() } else { req.recorded_by.clone() },
            body: Some(pb::Body { kind: Some(kind.clone()) }),
        };
        let ack = self.query.ingest().publish_batch(vec![event.encode_to_vec().into()]).await?;
        let a = ack.acks.first().ok_or_else(|| Error::Transport("no acknowledgement".into()))?;
        let answer = api::RecordReviewResponse { position: crate::query::positioned(a)?, duplicate: a.duplicate };
        Ok(Response::new(
            self.query.answer(caller, "ReviewService/RecordReview", &req, admitted, false, move |_| Ok(answer)).await?,
        ))
    }

    async fn get_quality(
        &self,
        request: Request<api::GetQualityRequest>,
    ) -> Result<Response<api::QualityReport>, Status> {
        let caller = self.query.caller(&request);
        let req = request.into_inner();
        let admitted = self.query.admit(req.context.as_ref()).await?;
        let refresh = self.refresher(&admitted, req.context.as_ref());
        let answer = self
            .query
            .answer(caller, "ReviewService/GetQuality", &req, admitted, false, move |v| {
                let (review, at) = pick(v, refresh.as_ref());
                let mut report = quality(v, &review);
                report.as_of_position = at;
                Ok(report)
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn get_risk(&self, request: Request<api::GetRiskRequest>) -> Result<Response<api::RiskList>, Status> {
        let caller = self.query.caller(&request);
        let req = request.into_inner();
        let admitted = self.query.admit(req.context.as_ref()).await?;
        let (offset, size) = page(req.page_size, &req.page_token)?;
        let list = match req.list.as_str() {
            "" | "dangerous" => "dangerous",
            "flight" => "flight",
            other => return Err(bad("list", &format!("{other:?} is not one of dangerous, flight")).into()),
        };
        let asked = req.clone();
        let refresh = self.refresher(&admitted, req.context.as_ref());
        let answer = self
            .query
            .answer(caller, "ReviewService/GetRisk", &asked, admitted, false, move |v| {
                let (review, at) = pick(v, refresh.as_ref());
                let all = if list == "flight" { &review.flight } else { &review.dangerous };
                Ok(api::RiskList {
                    list: list.into(),
                    items: all
                        .iter()
                        .enumerate()
                        .skip(offset)
                        .take(size)
                        .map(|(i, e)| risk_item(v, e, i + 1))
                        .collect(),
                    next_page_token: next_token(offset, size, all.len()),
                    as_of_position: at,
                    total: all.len() as u32,
                })
            })
            .await?;
        Ok(Response::new(answer))
    }
}
