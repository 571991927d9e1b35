//! The domain's event types: what a force can tell the ledger. They mirror the stored format
//! (`beaconport.event.v1`) with every field parsed and typed; conversions live in the proto crate.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ids::EventId;
use crate::reference::{Force, OffenceClass};

/// One event: the envelope, and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: EventId,
    pub force: &'static Force,
    pub case_ref: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub schema_version: u32,
    pub recorded_by: String,
    pub body: Body,
}

/// What happened: one kind per event.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    CaseOpened(CaseOpened),
    PersonRecorded(PersonRecorded),
    OffenceRecorded(OffenceRecorded),
    IdentifierObserved(IdentifierObserved),
    LocationObserved(LocationObserved),
    InterviewRecorded(InterviewRecorded),
    StatementTaken(StatementTaken),
    DecisionRecorded(DecisionRecorded),
    CaseReferred(CaseReferred),
    IndependentReviewRecorded(IndependentReviewRecorded),
    TravelRiskNoted(TravelRiskNoted),
    FlagApplied(Flagging),
    FlagRemoved(Flagging),
    RecordCorrected(RecordCorrected),
    RecordRetracted(RecordRetracted),
    LinkDecided(LinkDecided),
    ConsultationRecorded(ConsultationRecorded),
    ResolutionModelEstimated(ResolutionModelEstimated),
    ReviewStarted(ReviewStarted),
    AvenueActioned(AvenueActioned),
    ReviewConcluded(ReviewConcluded),
}

/// The kinds of event, for filters and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    CaseOpened,
    PersonRecorded,
    OffenceRecorded,
    IdentifierObserved,
    LocationObserved,
    InterviewRecorded,
    StatementTaken,
    DecisionRecorded,
    CaseReferred,
    IndependentReviewRecorded,
    TravelRiskNoted,
    FlagApplied,
    FlagRemoved,
    RecordCorrected,
    RecordRetracted,
    LinkDecided,
    ConsultationRecorded,
    ResolutionModelEstimated,
    ReviewStarted,
    AvenueActioned,
    ReviewConcluded,
}

impl EventKind {
    pub const ALL: [EventKind; 21] = [
        EventKind::CaseOpened,
        EventKind::PersonRecorded,
        EventKind::OffenceRecorded,
        EventKind::IdentifierObserved,
        EventKind::LocationObserved,
        EventKind::InterviewRecorded,
        EventKind::StatementTaken,
        EventKind::DecisionRecorded,
        EventKind::CaseReferred,
        EventKind::IndependentReviewRecorded,
        EventKind::TravelRiskNoted,
        EventKind::FlagApplied,
        EventKind::FlagRemoved,
        EventKind::RecordCorrected,
        EventKind::RecordRetracted,
        EventKind::LinkDecided,
        EventKind::ConsultationRecorded,
        EventKind::ResolutionModelEstimated,
        EventKind::ReviewStarted,
        EventKind::AvenueActioned,
        EventKind::ReviewConcluded,
    ];

    /// The kind named `name` (as [`EventKind::name`] gives it).
    pub fn from_name(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Kinds a force may publish: all but those the ledger writes itself.
    pub fn publishable(self) -> bool {
        !matches!(self, EventKind::ConsultationRecorded | EventKind::ResolutionModelEstimated)
    }

    /// Kinds that record an investigator's act (a review's steps, a decision that two mentions
    /// are or are not one person): written through ReviewService and QueryService, never by a
    /// force system's certificate.
    pub fn by_investigators(self) -> bool {
        matches!(
            self,
            EventKind::ReviewStarted | EventKind::AvenueActioned | EventKind::ReviewConcluded | EventKind::LinkDecided
        )
    }

    /// The snake_case name used in field paths and on the wire (`person_recorded`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::CaseOpened => "case_opened",
            EventKind::PersonRecorded => "person_recorded",
            EventKind::OffenceRecorded => "offence_recorded",
            EventKind::IdentifierObserved => "identifier_observed",
            EventKind::LocationObserved => "location_observed",
            EventKind::InterviewRecorded => "interview_recorded",
            EventKind::StatementTaken => "statement_taken",
            EventKind::DecisionRecorded => "decision_recorded",
            EventKind::CaseReferred => "case_referred",
            EventKind::IndependentReviewRecorded => "independent_review_recorded",
            EventKind::TravelRiskNoted => "travel_risk_noted",
            EventKind::FlagApplied => "flag_applied",
            EventKind::FlagRemoved => "flag_removed",
            EventKind::RecordCorrected => "record_corrected",
            EventKind::RecordRetracted => "record_retracted",
            EventKind::LinkDecided => "link_decided",
            EventKind::ConsultationRecorded => "consultation_recorded",
            EventKind::ResolutionModelEstimated => "resolution_model_estimated",
            EventKind::ReviewStarted => "review_started",
            EventKind::AvenueActioned => "avenue_actioned",
            EventKind::ReviewConcluded => "review_concluded",
        }
    }
}

impl Body {
    pub fn kind(&self) -> EventKind {
        match self {
            Body::CaseOpened(_) => EventKind::CaseOpened,
            Body::PersonRecorded(_) => EventKind::PersonRecorded,
            Body::OffenceRecorded(_) => EventKind::OffenceRecorded,
            Body::IdentifierObserved(_) => EventKind::IdentifierObserved,
            Body::LocationObserved(_) => EventKind::LocationObserved,
            Body::InterviewRecorded(_) => EventKind::InterviewRecorded,
            Body::StatementTaken(_) => EventKind::StatementTaken,
            Body::DecisionRecorded(_) => EventKind::DecisionRecorded,
            Body::CaseReferred(_) => EventKind::CaseReferred,
            Body::IndependentReviewRecorded(_) => EventKind::IndependentReviewRecorded,
            Body::TravelRiskNoted(_) => EventKind::TravelRiskNoted,
            Body::FlagApplied(_) => EventKind::FlagApplied,
            Body::FlagRemoved(_) => EventKind::FlagRemoved,
            Body::RecordCorrected(_) => EventKind::RecordCorrected,
            Body::RecordRetracted(_) => EventKind::RecordRetracted,
            Body::LinkDecided(_) => EventKind::LinkDecided,
            Body::ConsultationRecorded(_) => EventKind::ConsultationRecorded,
            Body::ResolutionModelEstimated(_) => EventKind::ResolutionModelEstimated,
            Body::ReviewStarted(_) => EventKind::ReviewStarted,
            Body::AvenueActioned(_) => EventKind::AvenueActioned,
            Body::ReviewConcluded(_) => EventKind::ReviewConcluded,
        }
    }
}

/// A date that may be known only to the year or the month (dates of birth often are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

impl PartialDate {
    /// The earliest full date this partial date may stand for.
    pub fn earliest(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
            .expect("a parsed partial date is valid")
    }
    /// Whether year, month and day are all known.
    pub fn is_full(&self) -> bool {
        self.day.is_some()
    }
}

impl std::fmt::Display for PartialDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.month, self.day) {
            (Some(m), Some(d)) => write!(f, "{:04}-{m:02}-{d:02}", self.year),
            (Some(m), None) => write!(f, "{:04}-{m:02}", self.year),
            _ => write!(f, "{:04}", self.year),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbuseFlag {
    ChildSexualAbuse,
    ChildSexualExploitation,
    GroupBased,
    ModernSlavery,
    DomesticAbuse,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseOpened {
    pub offence: &'static OffenceClass,
    pub force_flags: Vec<AbuseFlag>,
    pub reported_on: Option<NaiveDate>,
    pub area: String,
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Suspect,
    Victim,
    Witness,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
    Other,
}

/// Self-defined ethnicity: the ONS number of a 2021 Census group (1 to 19), or not stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelfDefinedEthnicity {
    Census2021(u8),
    NotStated,
}

/// Officer-observed ethnicity: IC1 to IC6, or IC0 (the officer could not tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObservedEthnicity {
    Ic(u8),
    Ic0,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VitalStatus {
    Alive,
    Deceased,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    pub forenames: String,
    pub surname: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Address {
    pub line1: String,
    pub line2: String,
    pub town: String,
    pub postcode: String,
    /// ISO 3166-1 alpha-2; empty means GB.
    pub country: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    Phone,
    Email,
    Vehicle,
    SocialHandle,
    PncId,
    Passport,
    /// A national identity or insurance number (a UK National Insurance number or a foreign equivalent).
    NationalId,
}

impl IdentifierKind {
    /// Every kind, in the order of declaration.
    pub const ALL: [IdentifierKind; 7] = [
        IdentifierKind::Phone,
        IdentifierKind::Email,
        IdentifierKind::Vehicle,
        IdentifierKind::SocialHandle,
        IdentifierKind::PncId,
        IdentifierKind::Passport,
        IdentifierKind::NationalId,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IdentifierKind::Phone => "phone",
            IdentifierKind::Email => "email",
            IdentifierKind::Vehicle => "vehicle",
            IdentifierKind::SocialHandle => "social handle",
            IdentifierKind::PncId => "PNC id",
            IdentifierKind::Passport => "passport",
            IdentifierKind::NationalId => "national id",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identifier {
    pub kind: IdentifierKind,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub name: String,
    pub address: Option<Address>,
    /// WGS84 latitude and longitude, when recorded.
    pub coordinates: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PersonRecorded {
    pub person_ref: String,
    pub role: Role,
    pub name: Option<Name>,
    pub aliases: Vec<Name>,
    pub date_of_birth: Option<PartialDate>,
    pub sex: Option<Sex>,
    pub self_defined_ethnicity: Option<SelfDefinedEthnicity>,
    pub officer_observed_ethnicity: Option<ObservedEthnicity>,
    pub nationalities: Vec<String>,
    pub addresses: Vec<Address>,
    pub identifiers: Vec<Identifier>,
    pub vital_status: Option<VitalStatus>,
    pub date_of_death: Option<PartialDate>,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OffenceRecorded {
    pub offence_ref: String,
    pub offence: &'static OffenceClass,
    pub suspect_refs: Vec<String>,
    pub victim_refs: Vec<String>,
    pub committed_from: Option<PartialDate>,
    pub committed_to: Option<PartialDate>,
    pub place: Option<Place>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdentifierObserved {
    pub identifier: Identifier,
    pub person_ref: Option<String>,
    pub context: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocationObserved {
    pub place: Place,
    pub person_refs: Vec<String>,
    pub context: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterviewKind {
    UnderArrest,
    Voluntary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InterviewRecorded {
    pub person_ref: String,
    pub kind: InterviewKind,
    pub interviewed_on: NaiveDate,
    pub no_comment: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    AbeVideo,
    Written,
    Declined,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatementTaken {
    pub person_ref: String,
    pub kind: StatementKind,
    pub taken_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionKind {
    Charged,
    Cautioned,
    CommunityResolution,
    NfaPolice,
    NfaProsecutor,
    Reopened,
    Convicted,
    Acquitted,
}

impl DecisionKind {
    /// A decision of no further action, by police or prosecutor.
    pub fn is_nfa(self) -> bool {
        matches!(self, DecisionKind::NfaPolice | DecisionKind::NfaProsecutor)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecorded {
    pub decision: DecisionKind,
    pub person_refs: Vec<String>,
    /// Home Office outcome type (1 to 22).
    pub outcome_type: Option<u8>,
    pub reason: String,
    pub decided_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseReferred {
    pub programme: String,
    pub reason: String,
    pub referred_on: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewOutcome {
    DecisionUpheld,
    Reinvestigate,
    ReferredToProsecutor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndependentReviewRecorded {
    pub reviewing_body: String,
    pub reviewed_on: NaiveDate,
    pub outcome: ReviewOutcome,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TravelRiskKind {
    TravelBooked,
    PassportHeld,
    ForeignTies,
    PreviousAbsconding,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TravelRiskNoted {
    pub person_ref: String,
    pub kind: TravelRiskKind,
    pub destination_country: Option<String>,
    pub noted_on: NaiveDate,
    pub details: String,
}

/// A flag applied to, or removed from, the case (no person) or one person of the case.
#[derive(Debug, Clone, PartialEq)]
pub struct Flagging {
    pub flag: AbuseFlag,
    pub person_ref: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordCorrected {
    pub corrected_event_id: EventId,
    pub reason: String,
    pub replacement: Box<Body>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordRetracted {
    pub retracted_event_id: EventId,
    pub reason: String,
}

/// One person as recorded in one case of one force: what resolution merges into persons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MentionRef {
    pub force: &'static Force,
    pub case_ref: String,
    pub person_ref: String,
}

/// An investigator's decision about two mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkDecision {
    /// The same real person, whatever the score says.
    Same,
    /// Different people, whatever the score says.
    Different,
    /// An earlier decision about this pair no longer holds; the score decides again.
    Withdrawn,
}

/// An investigator asserted or rejected that two mentions are one person. It wins over the
/// resolution score. The envelope carries the investigator's force and a case reference of theirs.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkDecided {
    pub a: MentionRef,
    pub b: MentionRef,
    pub decision: LinkDecision,
    pub reason: String,
}

/// The person-resolution model a query process estimated from the mentions its views held when
/// they first numbered 2^`level`. Written by the ledger itself, one event id per level; every
/// process resolves under the model of the highest level in the log (see the views).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionModelEstimated {
    pub level: u32,
    /// Mentions the views held when they estimated it.
    pub mentions: u64,
    pub model: crate::resolution::Model,
}

/// A query the ledger answered, recorded before the answer was returned (Data Protection Act
/// 2018, Part 3, section 62). Written by the ledger itself, never published by a force.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsultationRecorded {
    /// Who asked, and in what role.
    pub principal: String,
    pub role: String,
    /// Why: the purpose the call carried.
    pub purpose: String,
    /// The call (`QueryService/GetPerson`) and its request (proto3 JSON, without the context).
    pub call: String,
    pub request: String,
    /// What the answer disclosed.
    pub disclosed_persons: Vec<String>,
    /// Cases disclosed, as `FORCE/CASE`.
    pub disclosed_cases: Vec<String>,
    pub disclosed_networks: Vec<String>,
    pub disclosed_count: u64,
    /// The views had applied every event before this position.
    pub views_position: u64,
    /// `ok`, or the error the call ended with.
    pub outcome: String,
    /// The bound, when the views asked were those of an earlier time.
    pub as_of: String,
}

/// The national review took up a case from its queue. The envelope names the reviewed case (its
/// force and reference); `recorded_by` is the reviewer's pseudonymous id.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewStarted {
    /// The review programme (for example the national NFA review).
    pub programme: String,
    pub started_on: NaiveDate,
    pub note: String,
}

/// What a reviewer did about one avenue the queue listed as left open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AvenueAction {
    /// Taken up: the avenue is being followed now.
    Pursued,
    /// Followed to its end: it yielded what it could.
    Completed,
    /// Looked at and cannot be followed (the victim declines again, the phone is gone).
    NotPossible,
}

impl AvenueAction {
    pub fn name(self) -> &'static str {
        match self {
            AvenueAction::Pursued => "pursued",
            AvenueAction::Completed => "completed",
            AvenueAction::NotPossible => "not possible",
        }
    }
}

/// A reviewer actioned an avenue of the case, named by its id in the queue
/// (`victim_not_heard:V2`, see `review::Avenue::id`).
#[derive(Debug, Clone, PartialEq)]
pub struct AvenueActioned {
    pub avenue: String,
    pub action: AvenueAction,
    pub actioned_on: NaiveDate,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewConclusion {
    /// The decision of no further action stands.
    DecisionUpheld,
    /// The case goes back to the force to investigate again.
    Reinvestigate,
    /// The file goes to the prosecutor for a charging decision.
    ReferredToProsecutor,
}

impl ReviewConclusion {
    pub fn name(self) -> &'static str {
        match self {
            ReviewConclusion::DecisionUpheld => "decision upheld",
            ReviewConclusion::Reinvestigate => "reinvestigate",
            ReviewConclusion::ReferredToProsecutor => "referred to prosecutor",
        }
    }
}

/// The national review concluded its review of the case: it leaves the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewConcluded {
    pub conclusion: ReviewConclusion,
    pub concluded_on: NaiveDate,
    pub summary: String,
}
