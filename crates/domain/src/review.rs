//! The national review's rules, written once: the standard definition of group-based child sexual
//! abuse and exploitation, the scope of the NFA review, the order of its queue, the avenues a
//! review looks for, and how suspects are ranked for danger and for flight.
//!
//! Pure functions over facts the views gather (who offended against whom, which suspects are
//! linked, what was decided when): the views find the evidence, these rules judge it, so every
//! verdict comes with the reasons that produced it.

use chrono::{Datelike, NaiveDate};

use crate::event::{DecisionKind, PartialDate, TravelRiskKind};
use crate::reference::OffenceClass;

/// First and last dates of a decision of no further action in the review's scope.
pub fn scope_from() -> NaiveDate {
    NaiveDate::from_ymd_opt(2010, 1, 1).expect("valid date")
}
pub fn scope_to() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 31).expect("valid date")
}

/// Age in whole years on `on` of someone born on `dob`, taking the earliest date `dob` may stand
/// for (so the oldest the person may be): "under 18" by this age is certain.
pub fn age_on(dob: PartialDate, on: NaiveDate) -> i32 {
    let born = dob.earliest();
    let mut age = on.year() - born.year();
    if (on.month(), on.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

/// Whether an offence is a sexual offence against a child: its classification says the victim
/// was a child, or it is a sexual offence and the victim was under 18 when it began.
pub fn is_child_sexual_offence(class: &OffenceClass, victim_age: Option<i32>) -> bool {
    class.sexual && (class.child_victim || victim_age.is_some_and(|a| a < 18))
}

// ---------------------------------------------------------------------------------------------
// The standard definition

/// A sexual offence against a child, as recorded in a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildOffence {
    pub offence_ref: String,
    pub code: &'static str,
    pub suspects: Vec<String>,
    pub victims: Vec<String>,
}

/// How a suspect of a case is tied to another suspect of a sexual offence against a child (in the
/// same case or in another force's or case's record), as the cross-force views found it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum GroupLink {
    /// Both offended against the same child (the same resolved person).
    SharedVictim,
    /// Both are tied to the same phone, vehicle, e-mail or handle.
    SharedIdentifier,
    /// Both are tied to the same address, venue or scene.
    SharedPlace,
}

impl GroupLink {
    pub fn name(&self) -> &'static str {
        match self {
            GroupLink::SharedVictim => "shared victim",
            GroupLink::SharedIdentifier => "shared identifier",
            GroupLink::SharedPlace => "shared place",
        }
    }
}

/// One link between a suspect of this case and another suspect.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SuspectLink {
    /// The suspect of this case (person ref).
    pub suspect: String,
    /// The other suspect: a person ref of this case, or `FORCE/CASE/REF` of another case.
    pub other: String,
    pub link: GroupLink,
    /// What they share, readable (`phone 07700900123`, `12 Mill Lane, M1 1AE`, `victim V2`).
    pub through: String,
}

/// What the standard definition is judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFacts {
    pub child_offences: Vec<ChildOffence>,
    /// Links from suspects of those offences to other suspects of sexual offences against children.
    pub links: Vec<SuspectLink>,
}

/// A case judged by the standard definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    pub group_based: bool,
    /// Why: each fact that met the definition, or why it was not met.
    pub reasons: Vec<String>,
}

/// **The standard definition of group-based child sexual abuse and exploitation.** A case is
/// group-based when it records a sexual offence against a victim under 18 (by classification, or
/// by the victim's age when the offence began), and two or more suspects acted together in it:
///
/// 1. one such offence names two or more suspects (co-offending); or
/// 2. two suspects of the case offended against the same child; or
/// 3. a suspect of such an offence is linked to another suspect of a sexual offence against a
///    child, in this case or in any force's case, through the same victim, identifier or place.
///
/// Forces' own flags play no part: the definition is applied the same way to every force's cases.
pub fn standard_definition(f: &GroupFacts) -> Standard {
    if f.child_offences.is_empty() {
        return Standard { group_based: false, reasons: vec!["no sexual offence against a child is recorded".into()] };
    }
    let mut reasons = Vec::new();
    for o in &f.child_offences {
        if o.suspects.len() >= 2 {
            reasons.push(format!("{} ({}) names {} suspects acting together", o.offence_ref, o.code, o.suspects.len()));
        }
    }
    let mut by_victim: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> = Default::default();
    for o in &f.child_offences {
        for v in &o.victims {
            by_victim.entry(v).or_default().extend(o.suspects.iter().map(String::as_str));
        }
    }
    for (v, s) in by_victim {
        if s.len() >= 2 && f.child_offences.iter().all(|o| o.suspects.len() < 2 || !o.victims.iter().any(|x| x == v)) {
            let names: Vec<&str> = s.into_iter().collect();
            reasons.push(format!("suspects {} offended against the same child {v}", names.join(", ")));
        }
    }
    let mut links = f.links.clone();
    links.sort();
    links.dedup();
    for l in links.iter().take(5) {
        reasons.push(format!(
            "suspect {} is linked to suspect {} by {}: {}",
            l.suspect,
            l.other,
            l.link.name(),
            l.through
        ));
    }
    if links.len() > 5 {
        reasons.push(format!("and {} more links between suspects", links.len() - 5));
    }
    if reasons.is_empty() {
        let suspects: std::collections::BTreeSet<&str> =
            f.child_offences.iter().flat_map(|o| o.suspects.iter().map(String::as_str)).collect();
        let why = if suspects.len() <= 1 {
            "one suspect, linked to no other suspect of abuse against a child".to_string()
        } else {
            format!("{} suspects, but no two acted together or are linked", suspects.len())
        };
        return Standard { group_based: false, reasons: vec![why] };
    }
    Standard { group_based: true, reasons }
}

// ---------------------------------------------------------------------------------------------
// Scope

/// The decision that closed a case: every suspect's latest decision is no further action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing {
    /// The last decision of no further action.
    pub decided_on: NaiveDate,
    pub by: DecisionKind,
}

/// What scope is judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFacts {
    /// Whether a sexual offence against a child is recorded (the review's subject).
    pub child_sexual_offence: bool,
    /// The case's closing decision, when it was closed with no further action.
    pub closing: Option<Closing>,
    /// A decision that is not NFA and stands (the case was charged, reopened...), with its date.
    pub standing_other: Option<(DecisionKind, NaiveDate)>,
    pub suspects: usize,
    pub suspects_alive: usize,
    pub victims: usize,
    /// An independent review recorded: its body and date.
    pub independent_review: Option<(String, NaiveDate)>,
}

/// Why a case is outside the review's scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutOfScope {
    NoChildSexualOffence,
    NotClosedNfa,
    /// Closed by a decision that is not NFA (charged, cautioned, reopened...).
    OtherDecision(String),
    DecidedBefore(NaiveDate),
    DecidedAfter(NaiveDate),
    FewerThanTwoSuspects(usize),
    OneVictim(usize),
    NoSuspectAlive,
    AlreadyReviewed(String, NaiveDate),
}

impl std::fmt::Display for OutOfScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutOfScope::NoChildSexualOffence => write!(f, "no sexual offence against a child is recorded"),
            OutOfScope::NotClosedNfa => write!(f, "no decision of no further action is recorded"),
            OutOfScope::OtherDecision(d) => write!(f, "the standing decision is {d}, not no further action"),
            OutOfScope::DecidedBefore(d) => write!(f, "decided on {d}, before {}", scope_from()),
            OutOfScope::DecidedAfter(d) => write!(f, "decided on {d}, after {}", scope_to()),
            OutOfScope::FewerThanTwoSuspects(n) => write!(f, "{n} suspect(s): the review takes two or more"),
            OutOfScope::OneVictim(n) => write!(f, "{n} victim(s): the review takes more than one"),
            OutOfScope::NoSuspectAlive => write!(f, "no suspect is alive"),
            OutOfScope::AlreadyReviewed(body, on) => write!(f, "already independently reviewed by {body} on {on}"),
        }
    }
}

/// **The review's scope**: a case closed with no further action (by police or prosecutor, every
/// suspect's latest decision being NFA) dated 2010-01-01 to 2025-03-31 inclusive, recording a
/// sexual offence against a child, with two or more suspects, more than one victim, at least one
/// suspect alive, and no independent review already recorded. Returns every reason a case is out.
pub fn scope(f: &ScopeFacts) -> Result<Closing, Vec<OutOfScope>> {
    let mut out = Vec::new();
    if !f.child_sexual_offence {
        out.push(OutOfScope::NoChildSexualOffence);
    }
    if let Some((kind, on)) = f.standing_other {
        out.push(OutOfScope::OtherDecision(format!("{} on {on}", decision_name(kind))));
    }
    match f.closing {
        None if f.standing_other.is_none() => out.push(OutOfScope::NotClosedNfa),
        None => {}
        Some(c) if c.decided_on < scope_from() => out.push(OutOfScope::DecidedBefore(c.decided_on)),
        Some(c) if c.decided_on > scope_to() => out.push(OutOfScope::DecidedAfter(c.decided_on)),
        Some(_) => {}
    }
    if f.suspects < 2 {
        out.push(OutOfScope::FewerThanTwoSuspects(f.suspects));
    }
    if f.victims < 2 {
        out.push(OutOfScope::OneVictim(f.victims));
    }
    if f.suspects > 0 && f.suspects_alive == 0 {
        out.push(OutOfScope::NoSuspectAlive);
    }
    if let Some((body, on)) = &f.independent_review {
        out.push(OutOfScope::AlreadyReviewed(body.clone(), *on));
    }
    match (out.is_empty(), f.closing) {
        (true, Some(c)) => Ok(c),
        _ => Err(out),
    }
}

pub fn decision_name(k: DecisionKind) -> &'static str {
    match k {
        DecisionKind::Charged => "charged",
        DecisionKind::Cautioned => "cautioned",
        DecisionKind::CommunityResolution => "community resolution",
        DecisionKind::NfaPolice => "no further action (police)",
        DecisionKind::NfaProsecutor => "no further action (prosecutor)",
        DecisionKind::Reopened => "reopened",
        DecisionKind::Convicted => "convicted",
        DecisionKind::Acquitted => "acquitted",
    }
}

// ---------------------------------------------------------------------------------------------
// Priority

/// What a case in scope is ordered by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriorityFacts {
    pub rape: bool,
    pub victims: usize,
    pub suspects: usize,
    /// Other forces' cases linked to this one (through its suspects, victims or identifiers).
    pub other_force_cases: usize,
    /// The youngest victim's age when the offending began, when known.
    pub youngest_victim_age: Option<i32>,
}

/// Priority band, for filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    High,
    Medium,
    Standard,
}

impl Band {
    pub fn name(self) -> &'static str {
        match self {
            Band::High => "high",
            Band::Medium => "medium",
            Band::Standard => "standard",
        }
    }
    pub fn parse(s: &str) -> Option<Band> {
        [Band::High, Band::Medium, Band::Standard].into_iter().find(|b| b.name() == s)
    }
}

/// **The queue's order.** Rape allegations come first, whatever their score. Within each group,
/// by score, highest first: 10 per victim, 5 per suspect, 15 per other force's case linked, and 2
/// per year the youngest victim was under 18 when the offending began. Ties: the earlier decision
/// first (it has waited longest), then force and case reference. Bands: high from 60, medium from 35.
pub fn priority(f: &PriorityFacts) -> (u32, Band) {
    let youth = f.youngest_victim_age.map_or(0, |a| (18 - a).clamp(0, 18) as u32);
    let score = 10 * f.victims as u32 + 5 * f.suspects as u32 + 15 * f.other_force_cases as u32 + 2 * youth;
    let band = match score {
        60.. => Band::High,
        35..=59 => Band::Medium,
        _ => Band::Standard,
    };
    (score, band)
}

// ---------------------------------------------------------------------------------------------
// Avenues

/// The kinds of avenue a review looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AvenueKind {
    /// A victim's details or account were never taken: no name or date of birth recorded, or no
    /// statement (ABE interview or written) taken.
    VictimNotHeard,
    /// A named suspect was never interviewed.
    SuspectNotInterviewed,
    /// An identifier recorded in the case and tied to nobody in it appears in another force's case.
    IdentifierNotFollowed,
    /// A suspect appears (resolved across forces) in other cases.
    SuspectInOtherCases,
    /// Something recorded after the decision bears on it: a statement, an interview, a person or
    /// an identifier recorded later in the case, or a suspect charged or convicted later elsewhere.
    DecisionContradicted,
}

impl AvenueKind {
    pub const ALL: [AvenueKind; 5] = [
        AvenueKind::VictimNotHeard,
        AvenueKind::SuspectNotInterviewed,
        AvenueKind::IdentifierNotFollowed,
        AvenueKind::SuspectInOtherCases,
        AvenueKind::DecisionContradicted,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AvenueKind::VictimNotHeard => "victim_not_heard",
            AvenueKind::SuspectNotInterviewed => "suspect_not_interviewed",
            AvenueKind::IdentifierNotFollowed => "identifier_not_followed",
            AvenueKind::SuspectInOtherCases => "suspect_in_other_cases",
            AvenueKind::DecisionContradicted => "decision_contradicted",
        }
    }

    pub fn parse(s: &str) -> Option<AvenueKind> {
        AvenueKind::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn title(self) -> &'static str {
        match self {
            AvenueKind::VictimNotHeard => "victim details or account never taken",
            AvenueKind::SuspectNotInterviewed => "suspect never interviewed",
            AvenueKind::IdentifierNotFollowed => "identifier never linked, though in another force's case",
            AvenueKind::SuspectInOtherCases => "suspect appears in other cases",
            AvenueKind::DecisionContradicted => "decision contradicted by later events",
        }
    }
}

/// One avenue left open, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Avenue {
    pub kind: AvenueKind,
    /// What it is about: a person ref, an identifier (`phone:07700900123`), an event id.
    pub subject: String,
    /// The facts that make it an avenue, readable.
    pub evidence: Vec<String>,
}

impl Avenue {
    /// The avenue's id within its case, as reviewers name it: `kind:subject`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind.code(), self.subject)
    }

    /// Parses an avenue id; the error says what is wrong with it.
    pub fn parse_id(id: &str) -> Result<(AvenueKind, &str), String> {
        let Some((kind, subject)) = id.split_once(':') else {
            return Err(format!(
                "{} is not an avenue id (kind:subject, like victim_not_heard:V2)",
                crate::rules::quote(id)
            ));
        };
        let Some(kind) = AvenueKind::parse(kind) else {
            let known: Vec<&str> = AvenueKind::ALL.iter().map(|k| k.code()).collect();
            return Err(format!("{} is not a kind of avenue (one of {})", crate::rules::quote(kind), known.join(", ")));
        };
        if subject.trim().is_empty() || subject.chars().count() > 300 {
            return Err("names no subject after the kind (or one over 300 characters)".into());
        }
        Ok((kind, subject))
    }
}

// ---------------------------------------------------------------------------------------------
// Risk

/// What a suspect's danger is judged on (a resolved person, over every force).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DangerFacts {
    /// Distinct victims (resolved persons) of offences naming the suspect.
    pub victims: usize,
    /// Of them, children.
    pub child_victims: usize,
    pub forces: usize,
    pub cases: usize,
    /// The latest date the suspect was recorded offending (or, failing that, a case was reported).
    pub last_active: Option<NaiveDate>,
    /// Suspects linked to this one (network degree: co-offending, shared victims, identifiers, places).
    pub linked_suspects: usize,
}

/// **Danger score**: 10 per victim and 5 more per child victim; 8 per force beyond the first; 4
/// per case; 15 if active in the last two years before `today`, 8 in the last five; 3 per linked
/// suspect (at most 10 counted). Every part that scores is given as a reason.
pub fn danger(f: &DangerFacts, today: NaiveDate) -> (u32, Vec<String>) {
    let mut score = 0u32;
    let mut reasons = Vec::new();
    if f.victims > 0 {
        score += 10 * f.victims as u32 + 5 * f.child_victims as u32;
        reasons.push(format!("{} victim(s), {} of them children", f.victims, f.child_victims));
    }
    if f.forces > 1 {
        score += 8 * (f.forces as u32 - 1);
        reasons.push(format!("recorded by {} forces", f.forces));
    }
    score += 4 * f.cases as u32;
    reasons.push(format!("suspect in {} case(s)", f.cases));
    if let Some(last) = f.last_active {
        let days = (today - last).num_days();
        if days <= 730 {
            score += 15;
            reasons.push(format!("active recently (last on {last})"));
        } else if days <= 1826 {
            score += 8;
            reasons.push(format!("active in the last five years (last on {last})"));
        }
    }
    if f.linked_suspects > 0 {
        score += 3 * f.linked_suspects.min(10) as u32;
        reasons.push(format!("linked to {} other suspect(s)", f.linked_suspects));
    }
    (score, reasons)
}

/// What a suspect's flight risk is judged on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlightFacts {
    /// Travel risks noted by forces: kind, date, destination.
    pub noted: Vec<(TravelRiskKind, NaiveDate, Option<String>)>,
    /// A passport number is recorded.
    pub passport: bool,
    /// Nationalities other than British recorded.
    pub foreign_nationalities: Vec<String>,
}

/// **Flight score**: per travel risk noted, previous absconding 12, travel booked 10 (5 more when
/// noted in the last year before `today`), foreign ties 6, passport held 6, other 3; a passport
/// number on record 4; each non-British nationality 3. Nothing noted and nothing on record: 0.
pub fn flight(f: &FlightFacts, today: NaiveDate) -> (u32, Vec<String>) {
    let mut score = 0u32;
    let mut reasons = Vec::new();
    for (kind, on, dest) in &f.noted {
        let (points, what) = match kind {
            TravelRiskKind::PreviousAbsconding => (12, "previous absconding"),
            TravelRiskKind::TravelBooked => (if (today - *on).num_days() <= 365 { 15 } else { 10 }, "travel booked"),
            TravelRiskKind::ForeignTies => (6, "foreign ties"),
            TravelRiskKind::PassportHeld => (6, "passport held"),
            TravelRiskKind::Other => (3, "travel risk noted"),
        };
        score += points;
        match dest {
            Some(d) => reasons.push(format!("{what} ({d}), noted on {on}")),
            None => reasons.push(format!("{what}, noted on {on}")),
        }
    }
    if f.passport {
        score += 4;
        reasons.push("a passport number is on record".into());
    }
    for n in &f.foreign_nationalities {
        score += 3;
        reasons.push(format!("nationality {n}"));
    }
    (score, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::offence;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    fn o(r: &str, code: &'static str, s: &[&str], v: &[&str]) -> ChildOffence {
        ChildOffence {
            offence_ref: r.into(),
            code,
            suspects: s.iter().map(|x| x.to_string()).collect(),
            victims: v.iter().map(|x| x.to_string()).collect(),
        }
    }

    #[test]
    fn standard_definition_needs_a_child_and_two_acting_together() {
        assert!(!standard_definition(&GroupFacts::default()).group_based);
        let alone = GroupFacts { child_offences: vec![o("O1", "71", &["S1"], &["V1"])], links: vec![] };
        let s = standard_definition(&alone);
        assert!(!s.group_based);
        assert!(s.reasons[0].contains("one suspect"), "{s:?}");
        let together = GroupFacts { child_offences: vec![o("O1", "71", &["S1", "S2"], &["V1"])], links: vec![] };
        assert!(standard_definition(&together).group_based);
        let same_child = GroupFacts {
            child_offences: vec![o("O1", "71", &["S1"], &["V1"]), o("O2", "22B", &["S2"], &["V1"])],
            links: vec![],
        };
        let s = standard_definition(&same_child);
        assert!(s.group_based && s.reasons[0].contains("same child V1"), "{s:?}");
        let apart = GroupFacts {
            child_offences: vec![o("O1", "71", &["S1"], &["V1"]), o("O2", "22B", &["S2"], &["V2"])],
            links: vec![],
        };
        assert!(!standard_definition(&apart).group_based);
        let linked = GroupFacts {
            links: vec![SuspectLink {
                suspect: "S1".into(),
                other: "GMP/C9/S4".into(),
                link: GroupLink::SharedIdentifier,
                through: "phone 07700900123".into(),
            }],
            ..apart
        };
        let s = standard_definition(&linked);
        assert!(s.group_based && s.reasons[0].contains("GMP/C9/S4"), "{s:?}");
    }

    #[test]
    fn child_sexual_offence_by_class_or_age() {
        let adult_rape = offence("19C").unwrap();
        assert!(!is_child_sexual_offence(adult_rape, Some(19)));
        assert!(is_child_sexual_offence(adult_rape, Some(17)));
        assert!(is_child_sexual_offence(offence("71").unwrap(), None));
        assert!(!is_child_sexual_offence(offence("8N").unwrap(), Some(10)));
        let dob = PartialDate { year: 2000, month: Some(6), day: Some(15) };
        assert_eq!(age_on(dob, d(2018, 6, 14)), 17);
        assert_eq!(age_on(dob, d(2018, 6, 15)), 18);
        // Only the year known: the oldest the person may be.
        assert_eq!(age_on(PartialDate { year: 2000, month: None, day: None }, d(2018, 1, 1)), 18);
    }

    fn in_scope() -> ScopeFacts {
        ScopeFacts {
            child_sexual_offence: true,
            closing: Some(Closing { decided_on: d(2015, 5, 1), by: DecisionKind::NfaPolice }),
            standing_other: None,
            suspects: 2,
            suspects_alive: 2,
            victims: 2,
            independent_review: None,
        }
    }

    #[test]
    fn scope_boundaries() {
        assert!(scope(&in_scope()).is_ok());
        for (on, ok) in
            [(d(2009, 12, 31), false), (d(2010, 1, 1), true), (d(2025, 3, 31), true), (d(2025, 4, 1), false)]
        {
            let f =
                ScopeFacts { closing: Some(Closing { decided_on: on, by: DecisionKind::NfaProsecutor }), ..in_scope() };
            assert_eq!(scope(&f).is_ok(), ok, "{on}");
        }
        let one = ScopeFacts { suspects: 1, suspects_alive: 1, ..in_scope() };
        assert_eq!(scope(&one).unwrap_err(), vec![OutOfScope::FewerThanTwoSuspects(1)]);
        let dead = ScopeFacts { suspects_alive: 0, ..in_scope() };
        assert_eq!(scope(&dead).unwrap_err(), vec![OutOfScope::NoSuspectAlive]);
        let one_victim = ScopeFacts { victims: 1, ..in_scope() };
        assert_eq!(scope(&one_victim).unwrap_err(), vec![OutOfScope::OneVictim(1)]);
        let reviewed = ScopeFacts { independent_review: Some(("IOPC".into(), d(2016, 1, 1))), ..in_scope() };
        assert!(matches!(scope(&reviewed).unwrap_err()[0], OutOfScope::AlreadyReviewed(..)));
        let charged =
            ScopeFacts { closing: None, standing_other: Some((DecisionKind::Charged, d(2015, 1, 1))), ..in_scope() };
        assert!(matches!(scope(&charged).unwrap_err()[0], OutOfScope::OtherDecision(_)));
        let open = ScopeFacts { closing: None, ..in_scope() };
        assert_eq!(scope(&open).unwrap_err(), vec![OutOfScope::NotClosedNfa]);
    }

    #[test]
    fn priority_and_avenue_ids() {
        let (score, band) = priority(&PriorityFacts {
            rape: true,
            victims: 3,
            suspects: 2,
            other_force_cases: 1,
            youngest_victim_age: Some(13),
        });
        assert_eq!(score, 30 + 10 + 15 + 10);
        assert_eq!(band, Band::High);
        let a = Avenue { kind: AvenueKind::VictimNotHeard, subject: "V2".into(), evidence: vec![] };
        assert_eq!(a.id(), "victim_not_heard:V2");
        assert_eq!(Avenue::parse_id(&a.id()).unwrap(), (AvenueKind::VictimNotHeard, "V2"));
        assert!(Avenue::parse_id("victim:V2").unwrap_err().contains("not a kind of avenue"));
        assert!(Avenue::parse_id("V2").is_err());
    }

    #[test]
    fn risk_scores_give_their_reasons() {
        let today = d(2025, 6, 1);
        let (s, r) = danger(
            &DangerFacts {
                victims: 3,
                child_victims: 3,
                forces: 2,
                cases: 2,
                last_active: Some(d(2024, 6, 1)),
                linked_suspects: 4,
            },
            today,
        );
        assert_eq!(s, 45 + 8 + 8 + 15 + 12);
        assert_eq!(r.len(), 5);
        let (s, r) = flight(
            &FlightFacts {
                noted: vec![(TravelRiskKind::TravelBooked, d(2025, 1, 1), Some("PK".into()))],
                passport: true,
                foreign_nationalities: vec!["PK".into()],
            },
            today,
        );
        assert_eq!(s, 15 + 4 + 3);
        assert!(r[0].contains("PK"));
        assert_eq!(flight(&FlightFacts::default(), today).0, 0);
    }
}
