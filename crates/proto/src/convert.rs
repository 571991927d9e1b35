//! Conversions between the wire format (`pb`) and the domain types, in one place.
//!
//! Decoding parses every field with the domain's rules and then runs the domain's event checks,
//! collecting every problem with its field path; encoding is infallible.

use beaconport_domain::rules::{self, quote};
use beaconport_domain::validate::check_event;
use beaconport_domain::{self as d, reference, Checker, Context, EventId, FieldError};

use crate::pb::event as pb;

/// Decodes and validates one event. `index` is its place in the batch, for error messages.
/// Takes the event by value: its strings move into the domain event instead of being copied.
pub fn decode_event(index: usize, e: pb::Event, ctx: &Context) -> Result<d::Event, Vec<FieldError>> {
    decode(index, e, Some(ctx))
}

/// Decodes an event read back from the log: every field is parsed as on ingest, but the checks
/// against the clock and between fields are not repeated (the event passed them when it was
/// published, and history is not re-judged by today's clock).
pub fn decode_stored(e: pb::Event) -> Result<d::Event, Vec<FieldError>> {
    decode(0, e, None)
}

fn decode(index: usize, mut e: pb::Event, ctx: Option<&Context>) -> Result<d::Event, Vec<FieldError>> {
    let mut ck = Checker::new(index, std::mem::take(&mut e.event_id));
    let id = rules::parse_event_id(ck.event_id());
    let id = ck.take("event_id", id).map(EventId);
    let force = if e.force_code.is_empty() {
        ck.fail("force_code", "is required");
        None
    } else {
        let f = reference::force(&e.force_code);
        if f.is_none() {
            ck.fail("force_code", format!("{} is not a known force code", quote(&e.force_code)));
        }
        f
    };
    let occurred_at = ck.take("occurred_at", rules::parse_timestamp(&e.occurred_at));
    let recorded_at = ck.take("recorded_at", rules::parse_timestamp(&e.recorded_at));
    if e.schema_version == 0 {
        ck.fail("schema_version", "is required (1)");
    }
    let body = match e.body {
        Some(b) => decode_body(b, "", &mut ck),
        None => {
            ck.fail("body", "is required: one kind of event");
            None
        }
    };
    match (id, force, occurred_at, recorded_at, body) {
        (Some(id), Some(force), Some(occurred_at), Some(recorded_at), Some(body)) if ck.is_ok() => {
            let event = d::Event {
                id,
                force,
                case_ref: e.case_ref,
                occurred_at,
                recorded_at,
                schema_version: e.schema_version,
                recorded_by: e.recorded_by,
                body,
            };
            if let Some(ctx) = ctx {
                check_event(&event, ctx, &mut ck);
            }
            if ck.is_ok() {
                Ok(event)
            } else {
                Err(ck.into_errors())
            }
        }
        _ => {
            // Report the envelope problems a parsed event would have shown too.
            for (field, v) in [("case_ref", &e.case_ref), ("recorded_by", &e.recorded_by)] {
                if let Err(r) = rules::check_ref(v) {
                    ck.fail(field, r);
                }
            }
            Err(ck.into_errors())
        }
    }
}

/// Decodes and validates a batch as it arrives on the wire, each event its own encoded bytes:
/// all or nothing. Bytes that are not an event, or hold fields this schema does not know (or are
/// not canonically encoded, so that what is stored is exactly what was checked), are refused
/// with field `event`.
///
/// Each event that passes is handed to `keep` as soon as it is checked, and only what `keep`
/// returns is held for the batch: a caller that needs a few facts of each event lets the rest go
/// at once, while its memory is still in the cache, instead of holding a batch of decoded events.
pub fn decode_wire_batch<B: AsRef<[u8]>, T>(
    raw: &[B],
    ctx: &Context,
    mut keep: impl FnMut(d::Event) -> T,
) -> Result<Vec<T>, Vec<FieldError>> {
    let mut batch = WireBatch::new(raw.len());
    for bytes in raw {
        batch.push(bytes.as_ref(), ctx, &mut keep);
    }
    batch.finish()
}

/// [`decode_wire_batch`] one event at a time, so that a caller can decode a batch in steps
/// (an async caller yields between them) with the same result as in one call.
pub struct WireBatch<T> {
    batch: Batch<T>,
    /// Events that are not readable events at all; once there is one, only such problems are
    /// reported.
    unreadable: Vec<FieldError>,
    /// The place in the batch of the next event pushed.
    next: usize,
}

impl<T> WireBatch<T> {
    /// A batch of `n` events, none pushed yet.
    pub fn new(n: usize) -> Self {
        Self { batch: Batch::new(n), unreadable: Vec::new(), next: 0 }
    }

    /// Decodes and checks the batch's next event (each event is decoded and validated as it
    /// comes, so that no batch of decoded messages is held or moved in between).
    pub fn push(&mut self, bytes: &[u8], ctx: &Context, keep: &mut impl FnMut(d::Event) -> T) {
        use prost::Message;
        let index = self.next;
        self.next += 1;
        match pb::Event::decode(bytes) {
            Ok(e) if e.encoded_len() == bytes.len() => {
                if self.unreadable.is_empty() {
                    self.batch.push(index, e, ctx, keep);
                }
            }
            Ok(e) => self.unreadable.push(FieldError {
                index,
                event_id: e.event_id,
                field: "event".into(),
                reason: "holds fields this ledger does not know (a newer schema?) or is not canonically encoded".into(),
            }),
            Err(err) => self.unreadable.push(FieldError {
                index,
                event_id: String::new(),
                field: "event".into(),
                reason: format!("is not a beaconport.event.v1.Event: {err}"),
            }),
        }
    }

    /// All or nothing: what `keep` returned for each event, or every problem in batch order.
    pub fn finish(self) -> Result<Vec<T>, Vec<FieldError>> {
        if !self.unreadable.is_empty() {
            return Err(self.unreadable);
        }
        self.batch.finish()
    }
}

/// Decodes and validates a batch: all or nothing.
pub fn decode_batch(events: Vec<pb::Event>, ctx: &Context) -> Result<Vec<d::Event>, Vec<FieldError>> {
    let mut batch = Batch::new(events.len());
    for (index, e) in events.into_iter().enumerate() {
        batch.push(index, e, ctx, &mut |e| e);
    }
    batch.finish()
}

/// A batch being decoded event by event: the events that passed, every problem found so far
/// (the batch's size, ids sent twice, each event's own), and the ids seen.
struct Batch<T> {
    out: Vec<T>,
    errors: Vec<FieldError>,
    seen: d::validate::BatchIds,
}

impl<T> Batch<T> {
    fn new(n: usize) -> Self {
        Self {
            out: Vec::with_capacity(n),
            errors: d::validate::batch_size(n).into_iter().collect(),
            seen: d::validate::BatchIds::with_capacity(n),
        }
    }

    fn push(&mut self, index: usize, e: pb::Event, ctx: &Context, keep: &mut impl FnMut(d::Event) -> T) {
        self.errors.extend(self.seen.check(index, &e.event_id));
        match decode_event(index, e, ctx) {
            // Once the batch has failed, only its problems are wanted.
            Ok(ev) if self.errors.is_empty() => self.out.push(keep(ev)),
            Ok(_) => {}
            Err(mut errs) => self.errors.append(&mut errs),
        }
    }

    /// All or nothing: the events, or every problem in batch order.
    fn finish(mut self) -> Result<Vec<T>, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(self.out)
        } else {
            self.errors.sort_by_key(|e| e.index);
            Err(self.errors)
        }
    }
}

/// A field path, formatted only when a problem is reported: `{prefix}{kind}.{field}`.
#[derive(Clone, Copy)]
struct FieldPath<'a> {
    prefix: &'a str,
    kind: &'a str,
    field: &'a str,
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}{}", self.prefix, self.kind)
        } else {
            write!(f, "{}{}.{}", self.prefix, self.kind, self.field)
        }
    }
}

use std::fmt::Display;

/// Parses an enum field: 0 is "not recorded" (`None`), an unknown number is refused.
fn opt_enum<P, T>(ck: &mut Checker, field: impl Display, v: i32, map: impl Fn(P) -> Option<T>) -> Option<T>
where
    P: TryFrom<i32>,
{
    match P::try_from(v) {
        Ok(p) => map(p),
        Err(_) => {
            ck.fail(field, format!("{v} is not a known value"));
            None
        }
    }
}

/// Parses an enum field that must be set.
fn req_enum<P, T>(ck: &mut Checker, field: impl Display + Copy, v: i32, map: impl Fn(P) -> Option<T>) -> Option<T>
where
    P: TryFrom<i32>,
{
    if v == 0 {
        ck.fail(field, "is required");
        return None;
    }
    opt_enum(ck, field, v, map)
}

fn opt_partial(ck: &mut Checker, field: impl Display, s: &str) -> Option<d::PartialDate> {
    if s.is_empty() {
        None
    } else {
        ck.take(field, rules::parse_partial_date(s))
    }
}

fn opt_date(ck: &mut Checker, field: impl Display, s: &str) -> Option<chrono::NaiveDate> {
    if s.is_empty() {
        None
    } else {
        ck.take(field, rules::parse_date(s))
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn offence_class(ck: &mut Checker, field: impl Display, code: &str) -> Option<&'static reference::OffenceClass> {
    if code.is_empty() {
        ck.fail(field, "is required (a Home Office Counting Rules code)");
        return None;
    }
    let o = reference::offence(code);
    if o.is_none() {
        ck.fail(field, format!("{} is not a known Home Office Counting Rules code", quote(code)));
    }
    o
}

fn abuse_flag(f: pb::AbuseFlag) -> Option<d::AbuseFlag> {
    Some(match f {
        pb::AbuseFlag::Unspecified => return None,
        pb::AbuseFlag::ChildSexualAbuse => d::AbuseFlag::ChildSexualAbuse,
        pb::AbuseFlag::ChildSexualExploitation => d::AbuseFlag::ChildSexualExploitation,
        pb::AbuseFlag::GroupBased => d::AbuseFlag::GroupBased,
        pb::AbuseFlag::ModernSlavery => d::AbuseFlag::ModernSlavery,
        pb::AbuseFlag::DomesticAbuse => d::AbuseFlag::DomesticAbuse,
    })
}

fn decode_name(n: pb::Name) -> d::Name {
    d::Name { forenames: n.forenames, surname: n.surname }
}

fn decode_address(a: pb::Address) -> d::Address {
    d::Address { line1: a.line1, line2: a.line2, town: a.town, postcode: a.postcode, country: a.country }
}

fn decode_identifier(ck: &mut Checker, field: impl Display, i: pb::Identifier) -> Option<d::Identifier> {
    let kind = req_enum(ck, format_args!("{field}.kind"), i.kind, |k: pb::IdentifierKind| {
        Some(match k {
            pb::IdentifierKind::Unspecified => return None,
            pb::IdentifierKind::Phone => d::IdentifierKind::Phone,
            pb::IdentifierKind::Email => d::IdentifierKind::Email,
            pb::IdentifierKind::Vehicle => d::IdentifierKind::Vehicle,
            pb::IdentifierKind::SocialHandle => d::IdentifierKind::SocialHandle,
            pb::IdentifierKind::PncId => d::IdentifierKind::PncId,
            pb::IdentifierKind::Passport => d::IdentifierKind::Passport,
            pb::IdentifierKind::NationalId => d::IdentifierKind::NationalId,
        })
    })?;
    Some(d::Identifier { kind, value: i.value })
}

fn decode_mention(ck: &mut Checker, field: impl Display + Copy, m: Option<pb::MentionRef>) -> Option<d::MentionRef> {
    let Some(m) = m else {
        ck.fail(field, "is required");
        return None;
    };
    let force = if m.force_code.is_empty() {
        ck.fail(format_args!("{field}.force_code"), "is required");
        None
    } else {
        let found = reference::force(&m.force_code);
        if found.is_none() {
            ck.fail(format_args!("{field}.force_code"), format!("{} is not a known force code", quote(&m.force_code)));
        }
        found
    };
    Some(d::MentionRef { force: force?, case_ref: m.case_ref, person_ref: m.person_ref })
}

/// The stored form of a mention reference.
pub fn mention_to_pb(m: &d::MentionRef) -> pb::MentionRef {
    pb::MentionRef {
        force_code: m.force.code.to_string(),
        case_ref: m.case_ref.clone(),
        person_ref: m.person_ref.clone(),
    }
}

fn decode_place(p: pb::Place) -> d::Place {
    d::Place {
        name: p.name,
        address: p.address.map(decode_address),
        coordinates: (p.latitude != 0.0 || p.longitude != 0.0).then_some((p.latitude, p.longitude)),
    }
}

fn decode_body(b: pb::Body, prefix: &str, ck: &mut Checker) -> Option<d::Body> {
    use pb::body::Kind as K;
    let Some(kind) = b.kind else {
        ck.fail(format!("{prefix}body"), "is required: one kind of event");
        return None;
    };
    let f = |kind: &'static str, field: &'static str| FieldPath { prefix, kind, field };
    Some(match kind {
        K::CaseOpened(c) => {
            let k = "case_opened";
            let offence = offence_class(ck, f(k, "offence_classification"), &c.offence_classification);
            let mut flags = Vec::new();
            for (i, v) in c.force_flags.iter().enumerate() {
                if let Some(fl) = req_enum(ck, format_args!("{prefix}{k}.force_flags[{i}]"), *v, abuse_flag) {
                    flags.push(fl);
                }
            }
            let reported_on = opt_date(ck, f(k, "reported_on"), &c.reported_on);
            d::Body::CaseOpened(d::CaseOpened {
                offence: offence?,
                force_flags: flags,
                reported_on,
                area: c.area,
                title: c.title,
            })
        }
        K::PersonRecorded(p) => {
            let k = "person_recorded";
            let role = req_enum(ck, f(k, "role"), p.role, |r: pb::PersonRole| {
                Some(match r {
                    pb::PersonRole::Unspecified => return None,
                    pb::PersonRole::Suspect => d::Role::Suspect,
                    pb::PersonRole::Victim => d::Role::Victim,
                    pb::PersonRole::Witness => d::Role::Witness,
                })
            });
            let sex = opt_enum(ck, f(k, "sex"), p.sex, |s: pb::Sex| match s {
                pb::Sex::Unspecified => None,
                pb::Sex::Female => Some(d::Sex::Female),
                pb::Sex::Male => Some(d::Sex::Male),
                pb::Sex::Other => Some(d::Sex::Other),
            });
            let sde = opt_enum(
                ck,
                f(k, "self_defined_ethnicity"),
                p.self_defined_ethnicity,
                |e: pb::SelfDefinedEthnicity| match e as i32 {
                    0 => None,
                    99 => Some(d::SelfDefinedEthnicity::NotStated),
                    n => Some(d::SelfDefinedEthnicity::Census2021(n as u8)),
                },
            );
            let oe = opt_enum(
                ck,
                f(k, "officer_observed_ethnicity"),
                p.officer_observed_ethnicity,
                |e: pb::ObservedEthnicity| match e as i32 {
                    0 => None,
                    9 => Some(d::ObservedEthnicity::Ic0),
                    n => Some(d::ObservedEthnicity::Ic(n as u8)),
                },
            );
            let vital = opt_enum(ck, f(k, "vital_status"), p.vital_status, |v: pb::VitalStatus| match v {
                pb::VitalStatus::Unspecified => None,
                pb::VitalStatus::Alive => Some(d::VitalStatus::Alive),
                pb::VitalStatus::Deceased => Some(d::VitalStatus::Deceased),
            });
            let dob = opt_partial(ck, f(k, "date_of_birth"), &p.date_of_birth);
            let dod = opt_partial(ck, f(k, "date_of_death"), &p.date_of_death);
            let mut identifiers = Vec::new();
            for (i, id) in p.identifiers.into_iter().enumerate() {
                if let Some(id) = decode_identifier(ck, format_args!("{prefix}{k}.identifiers[{i}]"), id) {
                    identifiers.push(id);
                }
            }
            d::Body::PersonRecorded(d::PersonRecorded {
                person_ref: p.person_ref,
                role: role?,
                name: p.name.map(decode_name),
                aliases: p.aliases.into_iter().map(decode_name).collect(),
                date_of_birth: dob,
                sex,
                self_defined_ethnicity: sde,
                officer_observed_ethnicity: oe,
                nationalities: p.nationalities,
                addresses: p.addresses.into_iter().map(decode_address).collect(),
                identifiers,
                vital_status: vital,
                date_of_death: dod,
                description: p.description,
            })
        }
        K::OffenceRecorded(o) => {
            let k = "offence_recorded";
            let offence = offence_class(ck, f(k, "classification"), &o.classification);
            let from = opt_partial(ck, f(k, "committed_from"), &o.committed_from);
            let to = opt_partial(ck, f(k, "committed_to"), &o.committed_to);
            d::Body::OffenceRecorded(d::OffenceRecorded {
                offence_ref: o.offence_ref,
                offence: offence?,
                suspect_refs: o.suspect_refs,
                victim_refs: o.victim_refs,
                committed_from: from,
                committed_to: to,
                place: o.place.map(decode_place),
            })
        }
        K::IdentifierObserved(o) => {
            let k = "identifier_observed";
            let identifier = match o.identifier {
                Some(i) => decode_identifier(ck, f(k, "identifier"), i),
                None => {
                    ck.fail(f(k, "identifier"), "is required");
                    None
                }
            };
            d::Body::IdentifierObserved(d::IdentifierObserved {
                identifier: identifier?,
                person_ref: non_empty(o.person_ref),
                context: o.context,
            })
        }
        K::LocationObserved(o) => {
            let k = "location_observed";
            let Some(place) = o.place else {
                ck.fail(f(k, "place"), "is required");
                return None;
            };
            d::Body::LocationObserved(d::LocationObserved {
                place: decode_place(place),
                person_refs: o.person_refs,
                context: o.context,
            })
        }
        K::InterviewRecorded(i) => {
            let k = "interview_recorded";
            let kind = req_enum(ck, f(k, "kind"), i.kind, |v: pb::InterviewKind| match v {
                pb::InterviewKind::Unspecified => None,
                pb::InterviewKind::UnderArrest => Some(d::InterviewKind::UnderArrest),
                pb::InterviewKind::Voluntary => Some(d::InterviewKind::Voluntary),
            });
            let on = ck.take(f(k, "interviewed_on"), rules::parse_date(&i.interviewed_on));
            d::Body::InterviewRecorded(d::InterviewRecorded {
                person_ref: i.person_ref,
                kind: kind?,
                interviewed_on: on?,
                no_comment: i.no_comment,
            })
        }
        K::StatementTaken(s) => {
            let k = "statement_taken";
            let kind = req_enum(ck, f(k, "kind"), s.kind, |v: pb::StatementKind| match v {
                pb::StatementKind::Unspecified => None,
                pb::StatementKind::AbeVideo => Some(d::StatementKind::AbeVideo),
                pb::StatementKind::Written => Some(d::StatementKind::Written),
                pb::StatementKind::Declined => Some(d::StatementKind::Declined),
            });
            let on = ck.take(f(k, "taken_on"), rules::parse_date(&s.taken_on));
            d::Body::StatementTaken(d::StatementTaken { person_ref: s.person_ref, kind: kind?, taken_on: on? })
        }
        K::DecisionRecorded(x) => {
            let k = "decision_recorded";
            let decision = req_enum(ck, f(k, "decision"), x.decision, |v: pb::DecisionKind| {
                Some(match v {
                    pb::DecisionKind::Unspecified => return None,
                    pb::DecisionKind::Charged => d::DecisionKind::Charged,
                    pb::DecisionKind::Cautioned => d::DecisionKind::Cautioned,
                    pb::DecisionKind::CommunityResolution => d::DecisionKind::CommunityResolution,
                    pb::DecisionKind::NfaPolice => d::DecisionKind::NfaPolice,
                    pb::DecisionKind::NfaProsecutor => d::DecisionKind::NfaProsecutor,
                    pb::DecisionKind::Reopened => d::DecisionKind::Reopened,
                    pb::DecisionKind::Convicted => d::DecisionKind::Convicted,
                    pb::DecisionKind::Acquitted => d::DecisionKind::Acquitted,
                })
            });
            let on = ck.take(f(k, "decided_on"), rules::parse_date(&x.decided_on));
            let outcome_type = match x.outcome_type {
                0 => None,
                t => Some(u8::try_from(t).unwrap_or(u8::MAX)),
            };
            d::Body::DecisionRecorded(d::DecisionRecorded {
                decision: decision?,
                person_refs: x.person_refs,
                outcome_type,
                reason: x.reason,
                decided_on: on?,
            })
        }
        K::CaseReferred(r) => {
            let on = ck.take(f("case_referred", "referred_on"), rules::parse_date(&r.referred_on));
            d::Body::CaseReferred(d::CaseReferred { programme: r.programme, reason: r.reason, referred_on: on? })
        }
        K::IndependentReviewRecorded(r) => {
            let k = "independent_review_recorded";
            let on = ck.take(f(k, "reviewed_on"), rules::parse_date(&r.reviewed_on));
            let outcome = req_enum(ck, f(k, "outcome"), r.outcome, |v: pb::ReviewOutcome| match v {
                pb::ReviewOutcome::Unspecified => None,
                pb::ReviewOutcome::DecisionUpheld => Some(d::ReviewOutcome::DecisionUpheld),
                pb::ReviewOutcome::Reinvestigate => Some(d::ReviewOutcome::Reinvestigate),
                pb::ReviewOutcome::ReferredToProsecutor => Some(d::ReviewOutcome::ReferredToProsecutor),
            });
            d::Body::IndependentReviewRecorded(d::IndependentReviewRecorded {
                reviewing_body: r.reviewing_body,
                reviewed_on: on?,
                outcome: outcome?,
                summary: r.summary,
            })
        }
        K::TravelRiskNoted(t) => {
            let k = "travel_risk_noted";
            let kind = req_enum(ck, f(k, "kind"), t.kind, |v: pb::TravelRiskKind| {
                Some(match v {
                    pb::TravelRiskKind::Unspecified => return None,
                    pb::TravelRiskKind::TravelBooked => d::TravelRiskKind::TravelBooked,
                    pb::TravelRiskKind::PassportHeld => d::TravelRiskKind::PassportHeld,
                    pb::TravelRiskKind::ForeignTies => d::TravelRiskKind::ForeignTies,
                    pb::TravelRiskKind::PreviousAbsconding => d::TravelRiskKind::PreviousAbsconding,
                    pb::TravelRiskKind::Other => d::TravelRiskKind::Other,
                })
            });
            let on = ck.take(f(k, "noted_on"), rules::parse_date(&t.noted_on));
            d::Body::TravelRiskNoted(d::TravelRiskNoted {
                person_ref: t.person_ref,
                kind: kind?,
                destination_country: non_empty(t.destination_country),
                noted_on: on?,
                details: t.details,
            })
        }
        K::FlagApplied(x) => {
            let flag = req_enum(ck, f("flag_applied", "flag"), x.flag, abuse_flag);
            d::Body::FlagApplied(d::Flagging { flag: flag?, person_ref: non_empty(x.person_ref), reason: x.reason })
        }
        K::FlagRemoved(x) => {
            let flag = req_enum(ck, f("flag_removed", "flag"), x.flag, abuse_flag);
            d::Body::FlagRemoved(d::Flagging { flag: flag?, person_ref: non_empty(x.person_ref), reason: x.reason })
        }
        K::RecordCorrected(c) => {
            let c = *c;
            let k = "record_corrected";
            let target = ck.take(f(k, "corrected_event_id"), rules::parse_event_id(&c.corrected_event_id));
            let replacement = match c.replacement {
                Some(r) => {
                    if matches!(r.kind, Some(K::RecordCorrected(_)) | Some(K::RecordRetracted(_))) {
                        // Refused here, before recursing, so nesting depth stays bounded.
                        ck.fail(
                            f(k, "replacement"),
                            "a correction replaces a record, not another correction or retraction",
                        );
                        None
                    } else {
                        decode_body(*r, &format!("{prefix}{k}.replacement."), ck)
                    }
                }
                None => {
                    ck.fail(f(k, "replacement"), "is required");
                    None
                }
            };
            d::Body::RecordCorrected(d::RecordCorrected {
                corrected_event_id: EventId(target?),
                reason: c.reason,
                replacement: Box::new(replacement?),
            })
        }
        K::RecordRetracted(r) => {
            let target =
                ck.take(f("record_retracted", "retracted_event_id"), rules::parse_event_id(&r.retracted_event_id));
            d::Body::RecordRetracted(d::RecordRetracted { retracted_event_id: EventId(target?), reason: r.reason })
        }
        K::LinkDecided(l) => {
            let k = "link_decided";
            let a = decode_mention(ck, f(k, "a"), l.a);
            let b = decode_mention(ck, f(k, "b"), l.b);
            let decision = req_enum(ck, f(k, "decision"), l.decision, |x: pb::LinkDecision| {
                Some(match x {
                    pb::LinkDecision::Unspecified => return None,
                    pb::LinkDecision::Same => d::LinkDecision::Same,
                    pb::LinkDecision::Different => d::LinkDecision::Different,
                    pb::LinkDecision::Withdrawn => d::LinkDecision::Withdrawn,
                })
            });
            d::Body::LinkDecided(d::LinkDecided { a: a?, b: b?, decision: decision?, reason: l.reason })
        }
        K::ReviewStarted(r) => {
            let on = ck.take(f("review_started", "started_on"), rules::parse_date(&r.started_on));
            d::Body::ReviewStarted(d::ReviewStarted { programme: r.programme, started_on: on?, note: r.note })
        }
        K::AvenueActioned(a) => {
            let k = "avenue_actioned";
            let on = ck.take(f(k, "actioned_on"), rules::parse_date(&a.actioned_on));
            let action = req_enum(ck, f(k, "action"), a.action, |v: pb::AvenueAction| match v {
                pb::AvenueAction::Unspecified => None,
                pb::AvenueAction::Pursued => Some(d::AvenueAction::Pursued),
                pb::AvenueAction::Completed => Some(d::AvenueAction::Completed),
                pb::AvenueAction::NotPossible => Some(d::AvenueAction::NotPossible),
            });
            d::Body::AvenueActioned(d::AvenueActioned {
                avenue: a.avenue,
                action: action?,
                actioned_on: on?,
                note: a.note,
            })
        }
        K::ReviewConcluded(r) => {
            let k = "review_concluded";
            let on = ck.take(f(k, "concluded_on"), rules::parse_date(&r.concluded_on));
            let conclusion = req_enum(ck, f(k, "conclusion"), r.conclusion, |v: pb::ReviewConclusion| match v {
                pb::ReviewConclusion::Unspecified => None,
                pb::ReviewConclusion::DecisionUpheld => Some(d::ReviewConclusion::DecisionUpheld),
                pb::ReviewConclusion::Reinvestigate => Some(d::ReviewConclusion::Reinvestigate),
                pb::ReviewConclusion::ReferredToProsecutor => Some(d::ReviewConclusion::ReferredToProsecutor),
            });
            d::Body::ReviewConcluded(d::ReviewConcluded {
                conclusion: conclusion?,
                concluded_on: on?,
                summary: r.summary,
            })
        }
        K::ConsultationRecorded(c) => d::Body::ConsultationRecorded(d::ConsultationRecorded {
            principal: c.principal,
            role: c.role,
            purpose: c.purpose,
            call: c.call,
            request: c.request,
            disclosed_persons: c.disclosed_persons,
            disclosed_cases: c.disclosed_cases,
            disclosed_networks: c.disclosed_networks,
            disclosed_count: c.disclosed_count,
            views_position: c.views_position,
            outcome: c.outcome,
            as_of: c.as_of,
        }),
        K::ResolutionModelEstimated(r) => {
            let k = "resolution_model_estimated";
            if r.level > 40 {
                ck.fail(f(k, "level"), format!("{} is beyond any population (at most 40)", r.level));
                return None;
            }
            if r.mentions < 1u64 << r.level {
                ck.fail(f(k, "mentions"), format!("{} is fewer than 2^level ({})", r.mentions, 1u64 << r.level));
                return None;
            }
            let mut terms_ok = true;
            let term_frequencies = r
                .term_frequencies
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    if t.values.len() != t.counts.len() {
                        ck.fail(
                            format!("{prefix}{k}.term_frequencies[{i}].counts"),
                            format!("has {} counts for {} values", t.counts.len(), t.values.len()),
                        );
                        terms_ok = false;
                    }
                    d::resolution::TermFrequencies {
                        field: t.field,
                        total: t.total,
                        terms: t.values.into_iter().zip(t.counts).collect(),
                    }
                })
                .collect();
            let parts = d::resolution::ModelParts {
                prior: r.prior_log2_odds,
                fields: r
                    .fields
                    .into_iter()
                    .map(|f| d::resolution::FieldParts { field: f.field, m: f.m, u: f.u })
                    .collect(),
                term_frequencies,
            };
            if !terms_ok {
                return None;
            }
            match d::resolution::Model::from_written(parts) {
                Ok(model) => d::Body::ResolutionModelEstimated(d::ResolutionModelEstimated {
                    level: r.level,
                    mentions: r.mentions,
                    model,
                }),
                Err((field, reason)) => {
                    ck.fail(format!("{prefix}{k}.{field}"), reason);
                    return None;
                }
            }
        }
    })
}

/// Most values of each term-frequency table a written model keeps (the model event stays well
/// under the log's 1 MiB record limit).
pub const MODEL_MAX_TERMS: usize = 4_000;

/// The wire form of a model estimate.
pub fn model_to_pb(r: &d::ResolutionModelEstimated) -> pb::ResolutionModelEstimated {
    let parts = r.model.parts(MODEL_MAX_TERMS);
    pb::ResolutionModelEstimated {
        level: r.level,
        mentions: r.mentions,
        prior_log2_odds: parts.prior,
        fields: parts.fields.into_iter().map(|f| pb::ResolutionField { field: f.field, m: f.m, u: f.u }).collect(),
        term_frequencies: parts
            .term_frequencies
            .into_iter()
            .map(|t| {
                let (values, counts) = t.terms.into_iter().unzip();
                pb::TermFrequencies { field: t.field, total: t.total, values, counts }
            })
            .collect(),
    }
}

// ---- domain -> wire ----

fn ts(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn flag_pb(f: d::AbuseFlag) -> i32 {
    (match f {
        d::AbuseFlag::ChildSexualAbuse => pb::AbuseFlag::ChildSexualAbuse,
        d::AbuseFlag::ChildSexualExploitation => pb::AbuseFlag::ChildSexualExploitation,
        d::AbuseFlag::GroupBased => pb::AbuseFlag::GroupBased,
        d::AbuseFlag::ModernSlavery => pb::AbuseFlag::ModernSlavery,
        d::AbuseFlag::DomesticAbuse => pb::AbuseFlag::DomesticAbuse,
    }) as i32
}

fn name_pb(n: &d::Name) -> pb::Name {
    pb::Name { forenames: n.forenames.clone(), surname: n.surname.clone() }
}

fn address_pb(a: &d::Address) -> pb::Address {
    pb::Address {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        town: a.town.clone(),
        postcode: a.postcode.clone(),
        country: a.country.clone(),
    }
}

fn identifier_pb(i: &d::Identifier) -> pb::Identifier {
    let kind = match i.kind {
        d::IdentifierKind::Phone => pb::IdentifierKind::Phone,
        d::IdentifierKind::Email => pb::IdentifierKind::Email,
        d::IdentifierKind::Vehicle => pb::IdentifierKind::Vehicle,
        d::IdentifierKind::SocialHandle => pb::IdentifierKind::SocialHandle,
        d::IdentifierKind::PncId => pb::IdentifierKind::PncId,
        d::IdentifierKind::Passport => pb::IdentifierKind::Passport,
        d::IdentifierKind::NationalId => pb::IdentifierKind::NationalId,
    };
    pb::Identifier { kind: kind as i32, value: i.value.clone() }
}

fn place_pb(p: &d::Place) -> pb::Place {
    let (latitude, longitude) = p.coordinates.unwrap_or((0.0, 0.0));
    pb::Place { name: p.name.clone(), address: p.address.as_ref().map(address_pb), latitude, longitude }
}

fn pd(d: &Option<d::PartialDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// Encodes a domain event in the wire format.
pub fn event_to_pb(e: &d::Event) -> pb::Event {
    pb::Event {
        event_id: e.id.to_string(),
        force_code: e.force.code.to_string(),
        case_ref: e.case_ref.clone(),
        occurred_at: ts(&e.occurred_at),
        recorded_at: ts(&e.recorded_at),
        schema_version: e.schema_version,
        recorded_by: e.recorded_by.clone(),
        body: Some(body_to_pb(&e.body)),
    }
}

/// Encodes a domain event body in the wire format.
pub fn body_to_pb(b: &d::Body) -> pb::Body {
    use pb::body::Kind as K;
    let kind = match b {
        d::Body::CaseOpened(c) => K::CaseOpened(pb::CaseOpened {
            offence_classification: c.offence.code.to_string(),
            force_flags: c.force_flags.iter().map(|f| flag_pb(*f)).collect(),
            reported_on: c.reported_on.map(|d| d.to_string()).unwrap_or_default(),
            area: c.area.clone(),
            title: c.title.clone(),
        }),
        d::Body::PersonRecorded(p) => K::PersonRecorded(pb::PersonRecorded {
            person_ref: p.person_ref.clone(),
            role: match p.role {
                d::Role::Suspect => pb::PersonRole::Suspect,
                d::Role::Victim => pb::PersonRole::Victim,
                d::Role::Witness => pb::PersonRole::Witness,
            } as i32,
            name: p.name.as_ref().map(name_pb),
            aliases: p.aliases.iter().map(name_pb).collect(),
            date_of_birth: pd(&p.date_of_birth),
            sex: match p.sex {
                None => 0,
                Some(d::Sex::Female) => pb::Sex::Female as i32,
                Some(d::Sex::Male) => pb::Sex::Male as i32,
                Some(d::Sex::Other) => pb::Sex::Other as i32,
            },
            self_defined_ethnicity: match p.self_defined_ethnicity {
                None => 0,
                Some(d::SelfDefinedEthnicity::NotStated) => 99,
                Some(d::SelfDefinedEthnicity::Census2021(n)) => i32::from(n),
            },
            officer_observed_ethnicity: match p.officer_observed_ethnicity {
                None => 0,
                Some(d::ObservedEthnicity::Ic0) => 9,
                Some(d::ObservedEthnicity::Ic(n)) => i32::from(n),
            },
            nationalities: p.nationalities.clone(),
            addresses: p.addresses.iter().map(address_pb).collect(),
            identifiers: p.identifiers.iter().map(identifier_pb).collect(),
            vital_status: match p.vital_status {
                None => 0,
                Some(d::VitalStatus::Alive) => pb::VitalStatus::Alive as i32,
                Some(d::VitalStatus::Deceased) => pb::VitalStatus::Deceased as i32,
            },
            date_of_death: pd(&p.date_of_death),
            description: p.description.clone(),
        }),
        d::Body::OffenceRecorded(o) => K::OffenceRecorded(pb::OffenceRecorded {
            offence_ref: o.offence_ref.clone(),
            classification: o.offence.code.to_string(),
            suspect_refs: o.suspect_refs.clone(),
            victim_refs: o.victim_refs.clone(),
            committed_from: pd(&o.committed_from),
            committed_to: pd(&o.committed_to),
            place: o.place.as_ref().map(place_pb),
        }),
        d::Body::IdentifierObserved(o) => K::IdentifierObserved(pb::IdentifierObserved {
            identifier: Some(identifier_pb(&o.identifier)),
            person_ref: o.person_ref.clone().unwrap_or_default(),
            context: o.context.clone(),
        }),
        d::Body::LocationObserved(o) => K::LocationObserved(pb::LocationObserved {
            place: Some(place_pb(&o.place)),
            person_refs: o.person_refs.clone(),
            context: o.context.clone(),
        }),
        d::Body::InterviewRecorded(i) => K::InterviewRecorded(pb::InterviewRecorded {
            person_ref: i.person_ref.clone(),
            kind: match i.kind {
                d::InterviewKind::UnderArrest => pb::InterviewKind::UnderArrest,
                d::InterviewKind::Voluntary => pb::InterviewKind::Voluntary,
            } as i32,
            interviewed_on: i.interviewed_on.to_string(),
            no_comment: i.no_comment,
        }),
        d::Body::StatementTaken(s) => K::StatementTaken(pb::StatementTaken {
            person_ref: s.person_ref.clone(),
            kind: match s.kind {
                d::StatementKind::AbeVideo => pb::StatementKind::AbeVideo,
                d::StatementKind::Written => pb::StatementKind::Written,
                d::StatementKind::Declined => pb::StatementKind::Declined,
            } as i32,
            taken_on: s.taken_on.to_string(),
        }),
        d::Body::DecisionRecorded(x) => K::DecisionRecorded(pb::DecisionRecorded {
            decision: match x.decision {
                d::DecisionKind::Charged => pb::DecisionKind::Charged,
                d::DecisionKind::Cautioned => pb::DecisionKind::Cautioned,
                d::DecisionKind::CommunityResolution => pb::DecisionKind::CommunityResolution,
                d::DecisionKind::NfaPolice => pb::DecisionKind::NfaPolice,
                d::DecisionKind::NfaProsecutor => pb::DecisionKind::NfaProsecutor,
                d::DecisionKind::Reopened => pb::DecisionKind::Reopened,
                d::DecisionKind::Convicted => pb::DecisionKind::Convicted,
                d::DecisionKind::Acquitted => pb::DecisionKind::Acquitted,
            } as i32,
            person_refs: x.person_refs.clone(),
            outcome_type: x.outcome_type.map(u32::from).unwrap_or(0),
            reason: x.reason.clone(),
            decided_on: x.decided_on.to_string(),
        }),
        d::Body::CaseReferred(r) => K::CaseReferred(pb::CaseReferred {
            programme: r.programme.clone(),
            reason: r.reason.clone(),
            referred_on: r.referred_on.to_string(),
        }),
        d::Body::IndependentReviewRecorded(r) => K::IndependentReviewRecorded(pb::IndependentReviewRecorded {
            reviewing_body: r.reviewing_body.clone(),
            reviewed_on: r.reviewed_on.to_string(),
            outcome: match r.outcome {
                d::ReviewOutcome::DecisionUpheld => pb::ReviewOutcome::DecisionUpheld,
                d::ReviewOutcome::Reinvestigate => pb::ReviewOutcome::Reinvestigate,
                d::ReviewOutcome::ReferredToProsecutor => pb::ReviewOutcome::ReferredToProsecutor,
            } as i32,
            summary: r.summary.clone(),
        }),
        d::Body::TravelRiskNoted(t) => K::TravelRiskNoted(pb::TravelRiskNoted {
            person_ref: t.person_ref.clone(),
            kind: match t.kind {
                d::TravelRiskKind::TravelBooked => pb::TravelRiskKind::TravelBooked,
                d::TravelRiskKind::PassportHeld => pb::TravelRiskKind::PassportHeld,
                d::TravelRiskKind::ForeignTies => pb::TravelRiskKind::ForeignTies,
                d::TravelRiskKind::PreviousAbsconding => pb::TravelRiskKind::PreviousAbsconding,
                d::TravelRiskKind::Other => pb::TravelRiskKind::Other,
            } as i32,
            destination_country: t.destination_country.clone().unwrap_or_default(),
            noted_on: t.noted_on.to_string(),
            details: t.details.clone(),
        }),
        d::Body::FlagApplied(x) => K::FlagApplied(pb::FlagApplied {
            flag: flag_pb(x.flag),
            person_ref: x.person_ref.clone().unwrap_or_default(),
            reason: x.reason.clone(),
        }),
        d::Body::FlagRemoved(x) => K::FlagRemoved(pb::FlagRemoved {
            flag: flag_pb(x.flag),
            person_ref: x.person_ref.clone().unwrap_or_default(),
            reason: x.reason.clone(),
        }),
        d::Body::RecordCorrected(c) => K::RecordCorrected(Box::new(pb::RecordCorrected {
            corrected_event_id: c.corrected_event_id.to_string(),
            reason: c.reason.clone(),
            replacement: Some(Box::new(body_to_pb(&c.replacement))),
        })),
        d::Body::RecordRetracted(r) => K::RecordRetracted(pb::RecordRetracted {
            retracted_event_id: r.retracted_event_id.to_string(),
            reason: r.reason.clone(),
        }),
        d::Body::LinkDecided(l) => K::LinkDecided(pb::LinkDecided {
            a: Some(mention_to_pb(&l.a)),
            b: Some(mention_to_pb(&l.b)),
            decision: match l.decision {
                d::LinkDecision::Same => pb::LinkDecision::Same,
                d::LinkDecision::Different => pb::LinkDecision::Different,
                d::LinkDecision::Withdrawn => pb::LinkDecision::Withdrawn,
            } as i32,
            reason: l.reason.clone(),
        }),
        d::Body::ConsultationRecorded(c) => K::ConsultationRecorded(consultation_to_pb(c)),
        d::Body::ResolutionModelEstimated(r) => K::ResolutionModelEstimated(model_to_pb(r)),
        d::Body::ReviewStarted(r) => K::ReviewStarted(pb::ReviewStarted {
            programme: r.programme.clone(),
            started_on: r.started_on.to_string(),
            note: r.note.clone(),
        }),
        d::Body::AvenueActioned(a) => K::AvenueActioned(pb::AvenueActioned {
            avenue: a.avenue.clone(),
            action: match a.action {
                d::AvenueAction::Pursued => pb::AvenueAction::Pursued,
                d::AvenueAction::Completed => pb::AvenueAction::Completed,
                d::AvenueAction::NotPossible => pb::AvenueAction::NotPossible,
            } as i32,
            actioned_on: a.actioned_on.to_string(),
            note: a.note.clone(),
        }),
        d::Body::ReviewConcluded(r) => K::ReviewConcluded(pb::ReviewConcluded {
            conclusion: match r.conclusion {
                d::ReviewConclusion::DecisionUpheld => pb::ReviewConclusion::DecisionUpheld,
                d::ReviewConclusion::Reinvestigate => pb::ReviewConclusion::Reinvestigate,
                d::ReviewConclusion::ReferredToProsecutor => pb::ReviewConclusion::ReferredToProsecutor,
            } as i32,
            concluded_on: r.concluded_on.to_string(),
            summary: r.summary.clone(),
        }),
    };
    pb::Body { kind: Some(kind) }
}

/// A consultation in its wire form.
pub fn consultation_to_pb(c: &d::ConsultationRecorded) -> pb::ConsultationRecorded {
    pb::ConsultationRecorded {
        principal: c.principal.clone(),
        role: c.role.clone(),
        purpose: c.purpose.clone(),
        call: c.call.clone(),
        request: c.request.clone(),
        disclosed_persons: c.disclosed_persons.clone(),
        disclosed_cases: c.disclosed_cases.clone(),
        disclosed_networks: c.disclosed_networks.clone(),
        disclosed_count: c.disclosed_count,
        views_position: c.views_position,
        outcome: c.outcome.clone(),
        as_of: c.as_of.clone(),
    }
}

/// The kind of a wire event body.
pub fn kind_of(k: &pb::body::Kind) -> d::EventKind {
    use d::EventKind as E;
    use pb::body::Kind as K;
    match k {
        K::CaseOpened(_) => E::CaseOpened,
        K::PersonRecorded(_) => E::PersonRecorded,
        K::OffenceRecorded(_) => E::OffenceRecorded,
        K::IdentifierObserved(_) => E::IdentifierObserved,
        K::LocationObserved(_) => E::LocationObserved,
        K::InterviewRecorded(_) => E::InterviewRecorded,
        K::StatementTaken(_) => E::StatementTaken,
        K::DecisionRecorded(_) => E::DecisionRecorded,
        K::CaseReferred(_) => E::CaseReferred,
        K::IndependentReviewRecorded(_) => E::IndependentReviewRecorded,
        K::TravelRiskNoted(_) => E::TravelRiskNoted,
        K::FlagApplied(_) => E::FlagApplied,
        K::FlagRemoved(_) => E::FlagRemoved,
        K::RecordCorrected(_) => E::RecordCorrected,
        K::RecordRetracted(_) => E::RecordRetracted,
        K::LinkDecided(_) => E::LinkDecided,
        K::ConsultationRecorded(_) => E::ConsultationRecorded,
        K::ResolutionModelEstimated(_) => E::ResolutionModelEstimated,
        K::ReviewStarted(_) => E::ReviewStarted,
        K::AvenueActioned(_) => E::AvenueActioned,
        K::ReviewConcluded(_) => E::ReviewConcluded,
    }
}

/// Decodes the bytes stored at a position into a domain event, without judging it again by
/// today's clock; the error says why it does not decode.
pub fn decode_stored_bytes(bytes: &[u8]) -> Result<d::Event, String> {
    use prost::Message;
    let event = pb::Event::decode(bytes).map_err(|e| e.to_string())?;
    decode_stored(event).map_err(|errs| format!("{} problems", errs.len()))
}
