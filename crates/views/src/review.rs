//! The national review's views: the NFA review queue with the avenues left open in each case, the
//! standard classification of every case beside its force's own flag, data quality per force, and
//! the risk lists. The rules are the domain's (`beaconport_domain::review`); this module gathers
//! their evidence from the case files and the cross-force indexes.
//!
//! Derived in two steps: each case's own facts ([`Local`]) are derived again only when the case
//! changed (its `changed` position moved); the cross-force facts (links to other forces' cases,
//! suspects in other cases, identifiers seen elsewhere, the standard definition's links, quality
//! and risk) are derived for the whole [`Review`] once per position of the views, when first
//! asked, and shared by every query at that position.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use std::sync::Arc;

use beaconport_domain::resolution::{normalise_identifier, MentionKey};
use beaconport_domain::review::{self as r, Avenue, AvenueKind, Band, Closing, OutOfScope, Standard};
use beaconport_domain::{
    self as d, AbuseFlag, DecisionKind, IdentifierKind, ObservedEthnicity, PersonId, Position, Role,
    SelfDefinedEthnicity, StatementKind, VitalStatus,
};
use chrono::NaiveDate;

use crate::case::{Case, CaseKey};
use crate::views::{IdentKey, Views};

/// Where the national review stands with a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Waiting,
    InReview { since: NaiveDate, reviewer: String },
    Concluded { conclusion: d::ReviewConclusion, on: NaiveDate, reviewer: String },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::InReview { .. } => "in review",
            Status::Concluded { .. } => "concluded",
        }
    }
}

/// What a reviewer last recorded about one avenue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actioned {
    pub action: d::AvenueAction,
    pub on: NaiveDate,
    pub reviewer: String,
    pub note: String,
}

/// A case's own facts for the review: a function of its file alone.
#[derive(Debug, Clone)]
pub struct Local {
    pub changed: Position,
    pub force: &'static d::reference::Force,
    pub title: String,
    pub offence: Option<&'static d::reference::OffenceClass>,
    pub scope: Result<Closing, Vec<OutOfScope>>,
    /// A rape classification is recorded (opening or offence).
    pub rape: bool,
    pub child_offences: Vec<r::ChildOffence>,
    /// Person refs of the suspects of those offences.
    pub child_suspects: BTreeSet<String>,
    pub suspects: usize,
    pub victims: usize,
    pub youngest_victim_age: Option<i32>,
    /// Avenues found in the case file alone.
    pub avenues: Vec<Avenue>,
    /// The force's own flags standing on the case: a child abuse flag (CSA, CSE or group-based),
    /// and a group-based or exploitation flag (CSE or group-based).
    pub flagged_child_abuse: bool,
    pub flagged_group: bool,
    pub status: Status,
    pub actioned: BTreeMap<String, Actioned>,
    /// When the latest NFA was recorded, for "decision contradicted" across forces.
    pub closing: Option<Closing>,
}

/// One case of the queue, with everything a reviewer sees in its row and its page.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: CaseKey,
    pub local: Arc<Local>,
    pub closing: Closing,
    pub score: u32,
    pub band: Band,
    /// Other forces' cases linked to this one, with how.
    pub other_force_cases: BTreeMap<CaseKey, BTreeSet<String>>,
    /// Every avenue (the case's own and the cross-force ones), each with what was last done.
    pub avenues: Vec<(Avenue, Option<Actioned>)>,
    pub standard: Standard,
}

impl Entry {
    /// Avenues not yet completed or found impossible.
    pub fn open_avenues(&self) -> usize {
        self.avenues.iter().filter(|(_, a)| !matches!(a, Some(x) if x.action != d::AvenueAction::Pursued)).count()
    }
}

/// Agreement of one force's flags with the standard definition, and the completeness of its records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForceQuality {
    pub force: String,
    /// Cases recording a sexual offence against a child (the population measured here).
    pub cases: usize,
    /// Of them, group-based by the standard definition.
    pub standard: usize,
    /// Of them, flagged group-based or exploitation by the force.
    pub flagged: usize,
    /// Both.
    pub agree: usize,
    /// Cases in the review's scope, and those of them carrying any child abuse flag of the force.
    pub in_scope: usize,
    pub in_scope_flagged: usize,
    pub suspects: Completeness,
    pub victims: Completeness,
    /// Key fields missing: field -> mentions or records without it.
    pub missing: BTreeMap<&'static str, usize>,
}

impl ForceQuality {
    pub fn precision(&self) -> Option<f64> {
        ratio(self.agree, self.flagged)
    }
    pub fn recall(&self) -> Option<f64> {
        ratio(self.agree, self.standard)
    }
    pub fn in_scope_flagged_share(&self) -> Option<f64> {
        ratio(self.in_scope_flagged, self.in_scope)
    }
    fn add(&mut self, o: &ForceQuality) {
        self.cases += o.cases;
        self.standard += o.standard;
        self.flagged += o.flagged;
        self.agree += o.agree;
        self.in_scope += o.in_scope;
        self.in_scope_flagged += o.in_scope_flagged;
        self.suspects.add(&o.suspects);
        self.victims.add(&o.victims);
        for (k, v) in &o.missing {
            *self.missing.entry(k).or_default() += v;
        }
    }
}

/// `a / b`, or nothing when `b` is 0.
pub fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// How completely ethnicity was recorded for one role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completeness {
    pub mentions: usize,
    /// A self-defined group recorded (a 2021 Census group, not "not stated").
    pub self_defined: usize,
    /// "Not stated" recorded.
    pub self_defined_not_stated: usize,
    /// An officer-observed code recorded (IC1 to IC6, not IC0).
    pub observed: usize,
    pub observed_ic0: usize,
    /// Either known.
    pub either: usize,
}

impl Completeness {
    fn count(&mut self, p: &d::PersonRecorded) {
        self.mentions += 1;
        let sd = matches!(p.self_defined_ethnicity, Some(SelfDefinedEthnicity::Census2021(_)));
        let ob = matches!(p.officer_observed_ethnicity, Some(ObservedEthnicity::Ic(_)));
        self.self_defined += usize::from(sd);
        self.self_defined_not_stated +=
            usize::from(matches!(p.self_defined_ethnicity, Some(SelfDefinedEthnicity::NotStated)));
        self.observed += usize::from(ob);
        self.observed_ic0 += usize::from(matches!(p.officer_observed_ethnicity, Some(ObservedEthnicity::Ic0)));
        self.either += usize::from(sd || ob);
    }
    fn add(&mut self, o: &Completeness) {
        self.mentions += o.mentions;
        self.self_defined += o.self_defined;
        self.self_defined_not_stated += o.self_defined_not_stated;
        self.observed += o.observed;
        self.observed_ic0 += o.observed_ic0;
        self.either += o.either;
    }
}

/// Ethnicity of the persons (resolved across forces) of one role in the cases in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    pub persons: usize,
    /// Census 2021 group number -> persons; 0 for "not stated", 255 for nothing recorded.
    pub self_defined: BTreeMap<u8, usize>,
    /// IC code -> persons; 0 for IC0, 255 for nothing recorded.
    pub observed: BTreeMap<u8, usize>,
    /// Persons with neither a self-defined group nor an observed code known.
    pub unknown: usize,
}

/// Marker keys of [`Breakdown`].
pub const NOT_STATED: u8 = 0;
pub const NOT_RECORDED: u8 = 255;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quality {
    pub forces: Vec<ForceQuality>,
    pub national: ForceQuality,
    pub suspects_in_scope: Breakdown,
    pub victims_in_scope: Breakdown,
}

/// One person on a risk list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskEntry {
    pub person: PersonId,
    pub score: u32,
    pub reasons: Vec<String>,
    pub forces: Vec<String>,
    pub cases: Vec<CaseKey>,
}

/// The review's views at one position.
#[derive(Debug, Default)]
pub struct Review {
    /// The views' `cases_applied` it was derived at (consultations change nothing here).
    pub applied: Position,
    pub today: Option<NaiveDate>,
    /// Cases in scope the review has not concluded, in priority order.
    pub queue: Vec<Entry>,
    /// Cases in scope whose review concluded.
    pub concluded: Vec<Entry>,
    /// Every case recording a sexual offence against a child, judged by the standard definition.
    pub standard: HashMap<CaseKey, Standard>,
    pub quality: Quality,
    pub dangerous: Vec<RiskEntry>,
    pub flight: Vec<RiskEntry>,
}

impl Review {
    /// A case of the queue (waiting, in review or concluded).
    pub fn entry(&self, key: &CaseKey) -> Option<&Entry> {
        self.queue.iter().chain(&self.concluded).find(|e| &e.key == key)
    }
}

/// Cached derivations, behind a lock inside [`Views`] (queries hold only a read lock on the views).
#[derive(Debug, Default)]
pub struct Cache {
    locals: HashMap<CaseKey, Arc<Local>>,
    review: Option<Arc<Review>>,
}

/// A person's child abuse flags that count as the force's flag.
fn flagged(case: &Case) -> (bool, bool) {
    let flags: Vec<AbuseFlag> = case.flags.iter().map(|(f, _)| *f).collect();
    let child = flags
        .iter()
        .any(|f| matches!(f, AbuseFlag::ChildSexualAbuse | AbuseFlag::ChildSexualExploitation | AbuseFlag::GroupBased));
    let group = flags.iter().any(|f| matches!(f, AbuseFlag::ChildSexualExploitation | AbuseFlag::GroupBased));
    (child, group)
}

/// The date an offence began, or failing that the case's report date.
fn offence_start(o: &d::OffenceRecorded, case: &Case) -> Option<NaiveDate> {
    o.committed_from.map(|p| p.earliest()).or_else(|| case.opened.as_ref().and_then(|c| c.reported_on))
}

/// Derives a case's own facts.
pub fn local(case: &Case) -> Local {
    let age_of = |person_ref: &str, on: Option<NaiveDate>| {
        let m = case.persons.get(person_ref)?;
        Some(r::age_on(m.person.date_of_birth?, on?))
    };
    // Sexual offences against children; failing any offence record, the opening classification.
    let mut child_offences = Vec::new();
    let mut youngest: Option<i32> = None;
    let mut rape = case.opened.as_ref().is_some_and(|c| c.offence.rape);
    for o in &case.offences {
        rape |= o.offence.rape;
        let start = offence_start(o, case);
        let ages: Vec<Option<i32>> = o.victim_refs.iter().map(|v| age_of(v, start)).collect();
        let child_age = ages.iter().flatten().copied().min();
        if r::is_child_sexual_offence(o.offence, child_age) {
            if let Some(a) = child_age {
                youngest = Some(youngest.map_or(a, |y| y.min(a)));
            }
            child_offences.push(r::ChildOffence {
                offence_ref: o.offence_ref.clone(),
                code: o.offence.code,
                suspects: o.suspect_refs.iter().filter(|s| case.persons.contains_key(*s)).cloned().collect(),
                victims: o.victim_refs.iter().filter(|s| case.persons.contains_key(*s)).cloned().collect(),
            });
        }
    }
    if case.offences.is_empty() {
        if let Some(opened) = &case.opened {
            let victims: Vec<String> = case.refs_in_role(Role::Victim).map(String::from).collect();
            let ages = victims.iter().filter_map(|v| age_of(v, opened.reported_on)).min();
            if r::is_child_sexual_offence(opened.offence, ages) {
                child_offences.push(r::ChildOffence {
                    offence_ref: "case".into(),
                    code: opened.offence.code,
                    suspects: case.refs_in_role(Role::Suspect).map(String::from).collect(),
                    victims,
                });
                youngest = ages;
            }
        }
    }
    let child_suspects: BTreeSet<String> = child_offences.iter().flat_map(|o| o.suspects.iter().cloned()).collect();

    // Decisions: each suspect's latest (a decision naming nobody is the whole case's).
    let suspects: Vec<&crate::case::Mention> =
        case.persons.values().filter(|m| m.person.role == Role::Suspect).collect();
    let victims = case.persons.values().filter(|m| m.person.role == Role::Victim).count();
    let mut closing: Option<Closing> = None;
    let mut standing_other: Option<(DecisionKind, NaiveDate)> = None;
    let mut undecided = false;
    let latest: Vec<Option<&d::DecisionRecorded>> = if suspects.is_empty() {
        vec![case.decisions.iter().max_by_key(|x| x.decided_on)]
    } else {
        suspects.iter().map(|m| case.latest_decision_for(&m.person.person_ref)).collect()
    };
    for x in latest {
        match x {
            None => undecided = true,
            Some(x) if x.decision.is_nfa() => {
                if closing.is_none_or(|c| x.decided_on > c.decided_on) {
                    closing = Some(Closing { decided_on: x.decided_on, by: x.decision });
                }
            }
            Some(x) => {
                if standing_other.is_none_or(|(_, on)| x.decided_on > on) {
                    standing_other = Some((x.decision, x.decided_on));
                }
            }
        }
    }
    if undecided || standing_other.is_some() {
        closing = None;
    }
    let facts = r::ScopeFacts {
        child_sexual_offence: !child_offences.is_empty(),
        closing,
        standing_other,
        suspects: suspects.len(),
        suspects_alive: suspects.iter().filter(|m| m.person.vital_status != Some(VitalStatus::Deceased)).count(),
        victims,
        independent_review: case
            .reviews
            .iter()
            .min_by_key(|x| x.reviewed_on)
            .map(|x| (x.reviewing_body.clone(), x.reviewed_on)),
    };
    let scope = r::scope(&facts);

    // Avenues found in the file alone.
    let mut avenues = Vec::new();
    for m in case.persons.values().filter(|m| m.person.role == Role::Victim) {
        let p = &m.person;
        let mut evidence = Vec::new();
        if p.name.is_none() {
            evidence.push("name not recorded".to_string());
        }
        if p.date_of_birth.is_none() {
            evidence.push("date of birth not recorded".to_string());
        }
        let statements: Vec<&d::StatementTaken> =
            case.statements.iter().filter(|s| s.person_ref == p.person_ref).collect();
        if statements.is_empty() {
            evidence.push("no statement or ABE interview recorded".to_string());
        } else if statements.iter().all(|s| s.kind == StatementKind::Declined) {
            let on: Vec<String> = statements.iter().map(|s| s.taken_on.to_string()).collect();
            evidence.push(format!("declined to give an account ({}); no account taken since", on.join(", ")));
        }
        if !evidence.is_empty() {
            avenues.push(Avenue { kind: AvenueKind::VictimNotHeard, subject: p.person_ref.clone(), evidence });
        }
    }
    for m in &suspects {
        let p = &m.person;
        if p.name.is_some() && !case.interviews.iter().any(|i| i.person_ref == p.person_ref) {
            let name = p.name.as_ref().map(|n| format!("{} {}", n.forenames, n.surname)).unwrap_or_default();
            avenues.push(Avenue {
                kind: AvenueKind::SuspectNotInterviewed,
                subject: p.person_ref.clone(),
                evidence: vec![format!("{} ({name}) is named but no interview is recorded", p.person_ref)],
            });
        }
    }
    if let Some(c) = closing {
        let mut evidence = Vec::new();
        for s in case.statements.iter().filter(|s| s.taken_on > c.decided_on && s.kind != StatementKind::Declined) {
            evidence.push(format!(
                "statement of {} taken on {}, after the decision of {}",
                s.person_ref, s.taken_on, c.decided_on
            ));
        }
        for i in case.interviews.iter().filter(|i| i.interviewed_on > c.decided_on) {
            evidence.push(format!(
                "{} interviewed on {}, after the decision of {}",
                i.person_ref, i.interviewed_on, c.decided_on
            ));
        }
        if !evidence.is_empty() {
            avenues.push(Avenue { kind: AvenueKind::DecisionContradicted, subject: "case".into(), evidence });
        }
    }

    // The review's own record.
    let mut status = Status::Waiting;
    let mut actioned = BTreeMap::new();
    for step in &case.review_log {
        match &step.body {
            d::Body::ReviewStarted(s) if !matches!(status, Status::Concluded { .. }) => {
                status = Status::InReview { since: s.started_on, reviewer: step.reviewer.clone() };
            }
            d::Body::AvenueActioned(a) => {
                actioned.insert(
                    a.avenue.clone(),
                    Actioned {
                        action: a.action,
                        on: a.actioned_on,
                        reviewer: step.reviewer.clone(),
                        note: a.note.clone(),
                    },
                );
            }
            d::Body::ReviewConcluded(c) => {
                status =
                    Status::Concluded { conclusion: c.conclusion, on: c.concluded_on, reviewer: step.reviewer.clone() };
            }
            _ => {}
        }
    }
    let (flagged_child_abuse, flagged_group) = flagged(case);
    Local {
        changed: case.changed,
        force: case.force,
        title: case.opened.as_ref().map(|c| c.title.clone()).unwrap_or_default(),
        offence: case.opened.as_ref().map(|c| c.offence),
        scope,
        rape,
        child_offences,
        child_suspects,
        suspects: suspects.len(),
        victims,
        youngest_victim_age: youngest,
        avenues,
        flagged_child_abuse,
        flagged_group,
        status,
        actioned,
        closing,
    }
}

/// Why another force's case is linked to a case of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Why<'a> {
    /// A person of the case (role here, ref) is recorded there (role there).
    Person(Role, &'a str, Option<Role>),
    Ident(&'a IdentKey),
}

impl Why<'_> {
    fn describe(&self) -> String {
        match self {
            Why::Person(here, r, there) => {
                format!("{} {r} is {} there", role_word(*here), there.map(role_word).unwrap_or("recorded"))
            }
            Why::Ident(ik) => format!("{} shared", ident_label(ik)),
        }
    }
}

/// Who each mention is, and each person's mentions, looked up once per derivation (the
/// resolver's own lookups allocate a key, and sort a person's mentions, on every call).
struct Ix<'a> {
    cases: HashMap<(&'a str, &'a str), &'a Case>,
    persons: HashMap<(&'a str, &'a str), Vec<(&'a str, PersonId)>>,
    members: HashMap<PersonId, Vec<&'a MentionKey>>,
}

impl<'a> Ix<'a> {
    fn new(v: &'a Views) -> Self {
        let mut persons: HashMap<(&str, &str), Vec<(&str, PersonId)>> = HashMap::new();
        let mut members: HashMap<PersonId, Vec<&MentionKey>> = HashMap::new();
        for key in v.contributions.keys() {
            let Some(p) = v.resolver.person_of(key) else { continue };
            persons.entry((key.force.as_str(), key.case_ref.as_str())).or_default().push((key.person_ref.as_str(), p));
            members.entry(p).or_default().push(key);
        }
        for m in members.values_mut() {
            m.sort();
        }
        let cases = v.cases.iter().map(|(k, c)| ((k.0.as_str(), k.1.as_str()), c)).collect();
        Ix { cases, persons, members }
    }

    fn case(&self, force: &str, case_ref: &str) -> Option<&'a Case> {
        self.cases.get(&(force, case_ref)).copied()
    }

    fn person(&self, force: &str, case_ref: &str, person_ref: &str) -> Option<PersonId> {
        self.persons.get(&(force, case_ref))?.iter().find(|(r, _)| *r == person_ref).map(|(_, p)| *p)
    }

    fn person_of(&self, m: &MentionKey) -> Option<PersonId> {
        self.person(&m.force, &m.case_ref, &m.person_ref)
    }

    fn members(&self, p: PersonId) -> &[&'a MentionKey] {
        self.members.get(&p).map_or(&[], Vec::as_slice)
    }
}

fn case_label(k: &CaseKey) -> String {
    format!("{}/{}", k.0, k.1)
}

fn mention_label(k: &MentionKey) -> String {
    format!("{}/{}/{}", k.force, k.case_ref, k.person_ref)
}

fn ident_label(i: &IdentKey) -> String {
    format!("{} {}", i.0.name(), i.1)
}

/// Identifiers that link: not national ids or PNC ids (they identify, they don't link people).
fn linking(kind: IdentifierKind) -> bool {
    matches!(
        kind,
        IdentifierKind::Phone | IdentifierKind::Email | IdentifierKind::Vehicle | IdentifierKind::SocialHandle
    )
}

impl Views {
    /// The review last derived for `today`, current or not (compare its `applied` with
    /// [`Views::cases_applied`]); `None` when none was derived yet.
    pub fn cached_review(&self, today: NaiveDate) -> Option<Arc<Review>> {
        self.review_cache.lock().review.clone().filter(|r| r.today == Some(today))
    }

    /// The review's views at the views' current position, derived now if they were not yet.
    /// `today` dates recency for the risk lists.
    pub fn review(&self, today: NaiveDate) -> Arc<Review> {
        // The cache's lock is held only to look and to store, never while deriving: a query
        // asking for the last review must not wait for the next one.
        let mut locals = {
            let cache = self.review_cache.lock();
            if let Some(r) = &cache.review {
                if r.applied == self.cases_applied && r.today == Some(today) {
                    return r.clone();
                }
            }
            cache.locals.clone()
        };
        // Each case's own facts, again only where the case changed.
        for (k, case) in &self.cases {
            let stale = locals.get(k).is_none_or(|l| l.changed != case.changed);
            if stale {
                locals.insert(k.clone(), Arc::new(local(case)));
            }
        }
        let review = Arc::new(self.derive_review(&locals, today));
        let mut cache = self.review_cache.lock();
        if cache.review.as_ref().is_none_or(|r| r.applied <= review.applied) {
            cache.review = Some(review.clone());
            cache.locals = locals;
        }
        review
    }

    fn derive_review(&self, locals: &HashMap<CaseKey, Arc<Local>>, today: NaiveDate) -> Review {
        let child_suspect = |m: &MentionKey| -> bool {
            locals.get(&(m.force.clone(), m.case_ref.clone())).is_some_and(|l| l.child_suspects.contains(&m.person_ref))
        };
        // Identifiers observed in a case and tied to nobody in it: identifier -> cases.
        let mut loose: HashMap<IdentKey, BTreeSet<CaseKey>> = HashMap::new();
        for (k, case) in &self.cases {
            for i in &case.loose_identifiers {
                let v = normalise_identifier(i.kind, &i.value);
                if !v.is_empty() && linking(i.kind) {
                    loose.entry((i.kind, v)).or_default().insert(k.clone());
                }
            }
        }

        let ix = Ix::new(self);
        let mut out = Review { applied: self.cases_applied, today: Some(today), ..Review::default() };
        let mut keys: Vec<&CaseKey> = locals.keys().collect();
        keys.sort();

        // The standard definition, for every case with a sexual offence against a child.
        for k in &keys {
            let l = &locals[*k];
            if l.child_offences.is_empty() {
                continue;
            }
            let mut links = Vec::new();
            for s in &l.child_suspects {
                let key = MentionKey { force: k.0.clone(), case_ref: k.1.clone(), person_ref: s.clone() };
                let me = ix.person(&k.0, &k.1, s);
                let other = |m: &MentionKey| m != &key && (me.is_none() || ix.person_of(m) != me) && child_suspect(m);
                let Some(c) = self.contributions.get(&key) else { continue };
                for i in c.identifiers.iter().filter(|i| linking(i.0)) {
                    for m in self.sharing_identifier(i).into_iter().flatten().filter(|m| other(m)) {
                        links.push(r::SuspectLink {
                            suspect: s.clone(),
                            other: if m.force == k.0 && m.case_ref == k.1 {
                                m.person_ref.clone()
                            } else {
                                mention_label(m)
                            },
                            link: r::GroupLink::SharedIdentifier,
                            through: ident_label(i),
                        });
                    }
                }
                for p in &c.places {
                    for m in self.sharing_place(p).into_iter().flatten().filter(|m| other(m)) {
                        links.push(r::SuspectLink {
                            suspect: s.clone(),
                            other: if m.force == k.0 && m.case_ref == k.1 {
                                m.person_ref.clone()
                            } else {
                                mention_label(m)
                            },
                            link: r::GroupLink::SharedPlace,
                            through: self.place_labels.get(p).cloned().unwrap_or_else(|| p.clone()),
                        });
                    }
                }
                // Victims of this suspect who are, in another case, victims of another suspect.
                for o in l.child_offences.iter().filter(|o| o.suspects.contains(s)) {
                    for v in &o.victims {
                        let Some(vp) = ix.person(&k.0, &k.1, v) else { continue };
                        for &vm in ix.members(vp) {
                            if vm.force == k.0 && vm.case_ref == k.1 {
                                continue;
                            }
                            let Some(ol) = locals.get(&(vm.force.clone(), vm.case_ref.clone())) else { continue };
                            for oo in ol.child_offences.iter().filter(|oo| oo.victims.contains(&vm.person_ref)) {
                                for os in &oo.suspects {
                                    if me.is_some() && ix.person(&vm.force, &vm.case_ref, os) == me {
                                        continue;
                                    }
                                    let om = MentionKey {
                                        force: vm.force.clone(),
                                        case_ref: vm.case_ref.clone(),
                                        person_ref: os.clone(),
                                    };
                                    links.push(r::SuspectLink {
                                        suspect: s.clone(),
                                        other: mention_label(&om),
                                        link: r::GroupLink::SharedVictim,
                                        through: format!("victim {v}, also victim {}", mention_label(vm)),
                                    });
                                }
                            }
                        }
                    }
                }
            }
            let facts = r::GroupFacts { child_offences: l.child_offences.clone(), links };
            out.standard.insert((*k).clone(), r::standard_definition(&facts));
        }

        // The queue.
        for k in &keys {
            let l = &locals[*k];
            let Ok(closing) = l.scope else { continue };
            let case = &self.cases[*k];
            let mut avenues: Vec<Avenue> = l.avenues.clone();
            // Other forces' cases linked to this one, with why; described once per distinct link.
            let mut linked: Vec<(&str, &str, Why<'_>)> = Vec::new();
            let mut contradicted = Vec::new();
            // Persons of the case in other cases.
            for m in case.persons.values() {
                let Some(p) = ix.person(&k.0, &k.1, &m.person.person_ref) else { continue };
                let suspect = m.person.role == Role::Suspect;
                let mut elsewhere = Vec::new();
                let mut more = 0usize;
                for &om in ix.members(p) {
                    if om.force == k.0 && om.case_ref == k.1 {
                        continue;
                    }
                    let Some(oc) = ix.case(&om.force, &om.case_ref) else { continue };
                    let role = oc.role_of(&om.person_ref);
                    if om.force != k.0 {
                        linked.push((&om.force, &om.case_ref, Why::Person(m.person.role, &m.person.person_ref, role)));
                    }
                    if !suspect {
                        continue;
                    }
                    if elsewhere.len() < 8 {
                        elsewhere.push(format!(
                            "{} in {}",
                            role.map(role_word).unwrap_or("recorded"),
                            mention_label(om)
                        ));
                    } else {
                        more += 1;
                    }
                    if let Some(x) = oc.latest_decision_for(&om.person_ref) {
                        if matches!(x.decision, DecisionKind::Charged | DecisionKind::Convicted)
                            && x.decided_on > closing.decided_on
                        {
                            contradicted.push(format!(
                                "suspect {} {} on {} in {}/{}, after the decision of {}",
                                m.person.person_ref,
                                r::decision_name(x.decision),
                                x.decided_on,
                                om.force,
                                om.case_ref,
                                closing.decided_on
                            ));
                        }
                    }
                }
                if more > 0 {
                    elsewhere.push(format!("and {more} more"));
                }
                if suspect && !elsewhere.is_empty() {
                    avenues.push(Avenue {
                        kind: AvenueKind::SuspectInOtherCases,
                        subject: m.person.person_ref.clone(),
                        evidence: elsewhere,
                    });
                }
            }
            // Identifiers tied to persons here, recorded in another force's case (for a person,
            // or tied to nobody there).
            for m in case.persons.values() {
                let key =
                    MentionKey { force: k.0.clone(), case_ref: k.1.clone(), person_ref: m.person.person_ref.clone() };
                let Some(c) = self.contributions.get(&key) else { continue };
                for ik in c.identifiers.iter().filter(|i| linking(i.0)) {
                    for om in self.sharing_identifier(ik).into_iter().flatten().filter(|om| om.force != k.0) {
                        linked.push((&om.force, &om.case_ref, Why::Ident(ik)));
                    }
                    if loose.get(ik).map_or(0, BTreeSet::len) <= self.hub_limit {
                        for ok in loose.get(ik).into_iter().flatten().filter(|c| c.0 != k.0) {
                            linked.push((&ok.0, &ok.1, Why::Ident(ik)));
                        }
                    }
                }
            }
            // Identifiers tied to nobody here, recorded in another force's case.
            let mut seen = HashSet::new();
            for i in &case.loose_identifiers {
                let v = normalise_identifier(i.kind, &i.value);
                if v.is_empty() || !linking(i.kind) || !seen.insert((i.kind, v.clone())) {
                    continue;
                }
                let Some((ik, in_cases)) = loose.get_key_value(&(i.kind, v)) else { continue };
                let mut evidence = Vec::new();
                for m in self.sharing_identifier(ik).into_iter().flatten().filter(|m| m.force != k.0) {
                    let role = ix.case(&m.force, &m.case_ref).and_then(|c| c.role_of(&m.person_ref));
                    evidence.push(format!(
                        "recorded for {} {}",
                        role.map(role_word).unwrap_or("person"),
                        mention_label(m)
                    ));
                    linked.push((&m.force, &m.case_ref, Why::Ident(ik)));
                }
                if in_cases.len() <= self.hub_limit {
                    for ok in in_cases.iter().filter(|c| c.0 != k.0) {
                        evidence.push(format!("observed in {}", case_label(ok)));
                        linked.push((&ok.0, &ok.1, Why::Ident(ik)));
                    }
                }
                if !evidence.is_empty() {
                    evidence.insert(0, format!("{} observed in this case, tied to nobody", ident_label(ik)));
                    avenues.push(Avenue {
                        kind: AvenueKind::IdentifierNotFollowed,
                        subject: format!("{}:{}", ident_code(ik.0), ik.1),
                        evidence,
                    });
                }
            }
            linked.sort_unstable();
            linked.dedup();
            let mut other_force_cases: BTreeMap<CaseKey, BTreeSet<String>> = BTreeMap::new();
            for (f, c, why) in linked {
                other_force_cases.entry((f.to_string(), c.to_string())).or_default().insert(why.describe());
            }
            if !contradicted.is_empty() {
                match avenues.iter_mut().find(|a| a.kind == AvenueKind::DecisionContradicted) {
                    Some(a) => a.evidence.extend(contradicted),
                    None => avenues.push(Avenue {
                        kind: AvenueKind::DecisionContradicted,
                        subject: "case".into(),
                        evidence: contradicted,
                    }),
                }
            }
            avenues.sort();
            for a in &mut avenues {
                cap(&mut a.evidence, 8);
            }
            let (score, band) = r::priority(&r::PriorityFacts {
                rape: l.rape,
                victims: l.victims,
                suspects: l.suspects,
                other_force_cases: other_force_cases.len(),
                youngest_victim_age: l.youngest_victim_age,
            });
            let avenues = avenues
                .into_iter()
                .map(|a| {
                    let done = l.actioned.get(&a.id()).cloned();
                    (a, done)
                })
                .collect();
            let standard = out.standard.get(*k).cloned().unwrap_or(Standard { group_based: false, reasons: vec![] });
            let entry = Entry {
                key: (*k).clone(),
                local: l.clone(),
                closing,
                score,
                band,
                other_force_cases,
                avenues,
                standard,
            };
            if matches!(l.status, Status::Concluded { .. }) {
                out.concluded.push(entry);
            } else {
                out.queue.push(entry);
            }
        }
        let order = |a: &Entry, b: &Entry| {
            b.local
                .rape
                .cmp(&a.local.rape)
                .then(b.score.cmp(&a.score))
                .then(a.closing.decided_on.cmp(&b.closing.decided_on))
                .then(a.key.cmp(&b.key))
        };
        out.queue.sort_by(order);
        out.concluded.sort_by(order);

        out.quality = self.quality(&ix, locals, &keys, &out);
        let (dangerous, flight) = self.risk(&ix, locals, today);
        out.dangerous = dangerous;
        out.flight = flight;
        out
    }

    fn quality(
        &self,
        ix: &Ix<'_>,
        locals: &HashMap<CaseKey, Arc<Local>>,
        keys: &[&CaseKey],
        review: &Review,
    ) -> Quality {
        let mut per: BTreeMap<&str, ForceQuality> = BTreeMap::new();
        for k in keys {
            let l = &locals[*k];
            if l.child_offences.is_empty() {
                continue;
            }
            let q = per
                .entry(l.force.code)
                .or_insert_with(|| ForceQuality { force: l.force.code.to_string(), ..Default::default() });
            let standard = review.standard.get(*k).is_some_and(|s| s.group_based);
            q.cases += 1;
            q.standard += usize::from(standard);
            q.flagged += usize::from(l.flagged_group);
            q.agree += usize::from(standard && l.flagged_group);
            if l.scope.is_ok() {
                q.in_scope += 1;
                q.in_scope_flagged += usize::from(l.flagged_child_abuse);
            }
            let case = &self.cases[*k];
            let mut miss = |field: &'static str| *q.missing.entry(field).or_default() += 1;
            if case.opened.as_ref().is_none_or(|c| c.reported_on.is_none()) {
                miss("case: date reported");
            }
            for o in &case.offences {
                if o.committed_from.is_none() {
                    miss("offence: date committed");
                }
                if o.place.is_none() {
                    miss("offence: place");
                }
            }
            for x in case.decisions.iter().filter(|x| x.decision.is_nfa()) {
                if x.outcome_type.is_none() {
                    miss("NFA decision: outcome type");
                }
                if x.reason.trim().is_empty() {
                    miss("NFA decision: reason");
                }
            }
            for m in case.persons.values() {
                let p = &m.person;
                let role = match p.role {
                    Role::Suspect => "suspect",
                    Role::Victim => "victim",
                    Role::Witness => continue,
                };
                if p.role == Role::Suspect {
                    q.suspects.count(p);
                } else {
                    q.victims.count(p);
                }
                if p.date_of_birth.is_none() {
                    miss(if role == "suspect" { "suspect: date of birth" } else { "victim: date of birth" });
                }
                if p.sex.is_none() {
                    miss(if role == "suspect" { "suspect: sex" } else { "victim: sex" });
                }
                if p.name.is_none() {
                    miss(if role == "suspect" { "suspect: name" } else { "victim: name" });
                }
            }
        }
        let mut national = ForceQuality { force: "national".into(), ..Default::default() };
        for q in per.values() {
            national.add(q);
        }
        // Ethnicity of the persons in scope, each person once.
        let mut suspects: BTreeMap<PersonId, (Option<u8>, Option<u8>)> = BTreeMap::new();
        let mut victims: BTreeMap<PersonId, (Option<u8>, Option<u8>)> = BTreeMap::new();
        for e in review.queue.iter().chain(&review.concluded) {
            let case = &self.cases[&e.key];
            for m in case.persons.values() {
                let Some(p) = ix.person(&e.key.0, &e.key.1, &m.person.person_ref) else { continue };
                let target = match m.person.role {
                    Role::Suspect => &mut suspects,
                    Role::Victim => &mut victims,
                    Role::Witness => continue,
                };
                target.entry(p).or_insert_with(|| self.best_ethnicity(ix, p));
            }
        }
        Quality {
            forces: per.into_values().collect(),
            national,
            suspects_in_scope: breakdown(&suspects),
            victims_in_scope: breakdown(&victims),
        }
    }

    /// A person's ethnicity over all their mentions: the self-defined group and the observed
    /// code most recently recorded as known, else "not stated"/IC0 if recorded so, else nothing.
    fn best_ethnicity(&self, ix: &Ix<'_>, p: PersonId) -> (Option<u8>, Option<u8>) {
        let mut sd: (i64, Option<u8>) = (i64::MIN, None);
        let mut ob: (i64, Option<u8>) = (i64::MIN, None);
        // A known value beats "not stated"/IC0; between equals, the later recording wins.
        let keep = |slot: &mut (i64, Option<u8>), v: u8, at: i64| {
            let rank = |v: u8| u8::from(v != NOT_STATED);
            if slot.1.is_none_or(|old| (rank(v), at) > (rank(old), slot.0)) {
                *slot = (at, Some(v));
            }
        };
        for &k in ix.members(p) {
            let Some((_, m)) = self.mention(k) else { continue };
            let at = m.recorded_at.timestamp();
            if let Some(e) = m.person.self_defined_ethnicity {
                let v = match e {
                    SelfDefinedEthnicity::Census2021(n) => n,
                    SelfDefinedEthnicity::NotStated => NOT_STATED,
                };
                keep(&mut sd, v, at);
            }
            if let Some(e) = m.person.officer_observed_ethnicity {
                let v = match e {
                    ObservedEthnicity::Ic(n) => n,
                    ObservedEthnicity::Ic0 => NOT_STATED,
                };
                keep(&mut ob, v, at);
            }
        }
        (sd.1, ob.1)
    }

    fn risk(
        &self,
        ix: &Ix<'_>,
        locals: &HashMap<CaseKey, Arc<Local>>,
        today: NaiveDate,
    ) -> (Vec<RiskEntry>, Vec<RiskEntry>) {
        // Suspect mentions by person.
        let mut by_person: BTreeMap<PersonId, Vec<&MentionKey>> = BTreeMap::new();
        for (key, c) in &self.contributions {
            if c.role == Role::Suspect {
                if let Some(p) = ix.person_of(key) {
                    by_person.entry(p).or_default().push(key);
                }
            }
        }
        let mut dangerous = Vec::new();
        let mut flight = Vec::new();
        for (person, mentions) in by_person {
            let mut victims: BTreeSet<PersonId> = BTreeSet::new();
            let mut child_victims: BTreeSet<PersonId> = BTreeSet::new();
            let mut forces: BTreeSet<String> = BTreeSet::new();
            let mut cases: BTreeSet<CaseKey> = BTreeSet::new();
            let mut last: Option<NaiveDate> = None;
            let mut linked: BTreeSet<PersonId> = BTreeSet::new();
            let mut ff = r::FlightFacts::default();
            for key in &mentions {
                let ck: CaseKey = (key.force.clone(), key.case_ref.clone());
                let Some(case) = self.cases.get(&ck) else { continue };
                forces.insert(key.force.clone());
                cases.insert(ck.clone());
                let local = locals.get(&ck);
                for o in case.offences.iter().filter(|o| o.suspect_refs.contains(&key.person_ref)) {
                    let child = local.is_some_and(|l| l.child_offences.iter().any(|c| c.offence_ref == o.offence_ref));
                    for v in &o.victim_refs {
                        if let Some(vp) = ix.person(&key.force, &key.case_ref, v) {
                            victims.insert(vp);
                            if child {
                                child_victims.insert(vp);
                            }
                        }
                    }
                    let active =
                        o.committed_to.or(o.committed_from).map(|p| p.earliest()).or_else(|| offence_start(o, case));
                    last = last.max(active);
                }
                if case.offences.is_empty() {
                    last = last.max(case.opened.as_ref().and_then(|c| c.reported_on));
                }
                for other in case.refs_in_role(Role::Suspect).filter(|r| *r != key.person_ref) {
                    linked.extend(ix.person(&key.force, &key.case_ref, other).filter(|p| *p != person));
                }
                if let Some(c) = self.contributions.get(*key) {
                    for i in c.identifiers.iter().filter(|i| linking(i.0)) {
                        for m in self.sharing_identifier(i).into_iter().flatten() {
                            if self.contributions.get(m).is_some_and(|x| x.role == Role::Suspect) {
                                linked.extend(ix.person_of(m).filter(|p| *p != person));
                            }
                        }
                    }
                    ff.passport |= c.identifiers.iter().any(|i| i.0 == IdentifierKind::Passport);
                }
                if let Some(m) = case.persons.get(&key.person_ref) {
                    for n in &m.person.nationalities {
                        if n != "GB" && !ff.foreign_nationalities.contains(n) {
                            ff.foreign_nationalities.push(n.clone());
                        }
                    }
                }
                for t in case.travel_risks.iter().filter(|t| t.person_ref == key.person_ref) {
                    ff.noted.push((t.kind, t.noted_on, t.destination_country.clone()));
                }
            }
            let facts = r::DangerFacts {
                victims: victims.len(),
                child_victims: child_victims.len(),
                forces: forces.len(),
                cases: cases.len(),
                last_active: last,
                linked_suspects: linked.len(),
            };
            let forces: Vec<String> = forces.into_iter().collect();
            let cases: Vec<CaseKey> = cases.into_iter().collect();
            if facts.victims > 0 {
                let (score, reasons) = r::danger(&facts, today);
                dangerous.push(RiskEntry { person, score, reasons, forces: forces.clone(), cases: cases.clone() });
            }
            ff.noted.sort_by_key(|(k, on, dest)| (*on, format!("{k:?}"), dest.clone()));
            if !ff.noted.is_empty() || (ff.passport && !ff.foreign_nationalities.is_empty()) {
                let (score, reasons) = r::flight(&ff, today);
                flight.push(RiskEntry { person, score, reasons, forces, cases });
            }
        }
        let order = |a: &RiskEntry, b: &RiskEntry| b.score.cmp(&a.score).then(a.person.cmp(&b.person));
        dangerous.sort_by(order);
        flight.sort_by(order);
        (dangerous, flight)
    }
}

fn breakdown(persons: &BTreeMap<PersonId, (Option<u8>, Option<u8>)>) -> Breakdown {
    let mut b = Breakdown { persons: persons.len(), ..Default::default() };
    for (sd, ob) in persons.values() {
        *b.self_defined.entry(sd.unwrap_or(NOT_RECORDED)).or_default() += 1;
        *b.observed.entry(ob.unwrap_or(NOT_RECORDED)).or_default() += 1;
        let known = |v: &Option<u8>| matches!(v, Some(x) if *x != NOT_STATED);
        if !known(sd) && !known(ob) {
            b.unknown += 1;
        }
    }
    b
}

fn role_word(r: Role) -> &'static str {
    match r {
        Role::Suspect => "suspect",
        Role::Victim => "victim",
        Role::Witness => "witness",
    }
}

/// The identifier kind as it appears in avenue ids (`phone:07700900123`).
pub fn ident_code(k: IdentifierKind) -> &'static str {
    match k {
        IdentifierKind::Phone => "phone",
        IdentifierKind::Email => "email",
        IdentifierKind::Vehicle => "vehicle",
        IdentifierKind::SocialHandle => "handle",
        IdentifierKind::PncId => "pnc",
        IdentifierKind::Passport => "passport",
        IdentifierKind::NationalId => "national_id",
    }
}

/// Keeps the first `n` lines of evidence, and says how many more there were.
fn cap(lines: &mut Vec<String>, n: usize) {
    if lines.len() > n + 1 {
        let more = lines.len() - n;
        lines.truncate(n);
        lines.push(format!("and {more} more"));
    }
}
