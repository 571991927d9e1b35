//! A small planted set of cases for the national review, each built to test one rule, with the
//! answers written out by hand beside it (not computed): which cases are in scope and why the
//! others are not, each kind of avenue, force flags with known agreement with the standard
//! definition, missing ethnicity, and the risk lists. Three forces; every person is synthetic.
//!
//! - WMP A1 (rape, in scope): three suspects, S1 and S2 together against V1, S3 alone against V2;
//!   V2 never gave an account; S3 never interviewed; a phone tied to nobody that GMP B1 records
//!   for its suspect. Flagged CSE at opening.
//! - WMP A2 (in scope, NFA on 2010-01-01, the first day): S1 "Carl Dawson" is also the suspect
//!   charged in GMP B2 in 2016, after A2's decision.
//! - WMP A3 (NFA 2009-12-31: out), A4 (NFA 2025-04-01: out), A5 (NFA 2025-03-31: in, nothing
//!   left open), A6 (one suspect: out; flagged CSE though not group-based).
//! - GMP B1 (in scope): a suspect interviewed after the decision; a group-based flag applied
//!   later; S2 holds a passport and Pakistani nationality (a flight risk).
//! - GMP B2 (charged: out), B3 (every suspect dead: out), B4 (NFA dated 2009 corrected to 2011:
//!   brought into scope), B5 (a suspect's record retracted, leaving one: out), B6 (NFA corrected to
//!   a charge: taken out of scope), B7 (already independently reviewed: out).
//! - WYP C1 (rape, in scope): S1 absconded before (a flight risk). C2 (one victim: out), C3 (a
//!   suspect charged after the NFA: out), C4 (one suspect, one victim, out of scope; but its victim
//!   is A1's V1, so it is group-based through a shared victim, and WYP did not flag it).

use std::collections::{BTreeMap, BTreeSet};

use beaconport_domain::reference::{force, offence};
use beaconport_domain::{
    AbuseFlag, Address, Body, CaseOpened, DecisionKind, DecisionRecorded, Event, EventId, Flagging, Identifier,
    IdentifierKind, IdentifierObserved, IndependentReviewRecorded, InterviewKind, InterviewRecorded, Name,
    ObservedEthnicity, OffenceRecorded, PartialDate, PersonRecorded, RecordCorrected, RecordRetracted, ReviewOutcome,
    Role, SelfDefinedEthnicity, Sex, StatementKind, StatementTaken, TravelRiskKind, TravelRiskNoted, VitalStatus,
};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// The answers planted in the fixture.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewAnswers {
    /// Cases in scope, in the queue's order (rape allegations first, then by priority).
    pub queue: Vec<(String, String)>,
    /// Cases out of scope, each with the reason that puts it out (the `OutOfScope` variant's name).
    pub out_of_scope: BTreeMap<(String, String), &'static str>,
    /// Avenue ids per case in scope.
    pub avenues: BTreeMap<(String, String), BTreeSet<String>>,
    /// Other forces' cases linked to each case in scope.
    pub other_force_cases: BTreeMap<(String, String), BTreeSet<(String, String)>>,
    /// Cases group-based by the standard definition (among those with a child sexual offence: all).
    pub group_based: BTreeSet<(String, String)>,
    /// Per force: (cases, standard, flagged, agree, in scope, in scope flagged).
    pub quality: BTreeMap<String, [usize; 6]>,
    /// Per force, suspects: (mentions, self-defined, not stated, observed, either).
    pub suspect_ethnicity: BTreeMap<String, [usize; 5]>,
    /// Persons in scope (suspects) and how many of them have no known ethnicity.
    pub suspects_in_scope: (usize, usize),
    /// The most dangerous suspect, as one of their mentions.
    pub most_dangerous: (String, String, String),
    /// The flight risks, as one mention each.
    pub flight: BTreeSet<(String, String, String)>,
}

struct Builder {
    events: Vec<Event>,
    n: u128,
    clock: DateTime<Utc>,
}

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).expect("valid date")
}

fn full(date: NaiveDate) -> PartialDate {
    use chrono::Datelike;
    PartialDate { year: date.year(), month: Some(date.month()), day: Some(date.day()) }
}

/// A synthetic person's record (names from common lists; phone numbers from Ofcom's drama range).
struct P<'a> {
    r: &'a str,
    role: Role,
    forenames: &'a str,
    surname: &'a str,
    born: NaiveDate,
    sex: Sex,
}

impl P<'_> {
    fn record(&self) -> PersonRecorded {
        PersonRecorded {
            person_ref: self.r.into(),
            role: self.role,
            name: Some(Name { forenames: self.forenames.into(), surname: self.surname.into() }),
            aliases: vec![],
            date_of_birth: Some(full(self.born)),
            sex: Some(self.sex),
            self_defined_ethnicity: None,
            officer_observed_ethnicity: None,
            nationalities: vec![],
            addresses: vec![],
            identifiers: vec![],
            vital_status: Some(VitalStatus::Alive),
            date_of_death: None,
            description: String::new(),
        }
    }
}

impl Builder {
    fn add(&mut self, force_code: &str, case: &str, body: Body) -> EventId {
        self.n += 1;
        self.clock += Duration::minutes(1);
        let id = EventId(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_00ff_0000 + self.n));
        self.events.push(Event {
            id,
            force: force(force_code).expect("known force"),
            case_ref: case.to_string(),
            occurred_at: self.clock,
            recorded_at: self.clock,
            schema_version: 1,
            recorded_by: "off-00f001".into(),
            body,
        });
        id
    }

    fn open(&mut self, f: &str, c: &str, code: &str, flags: Vec<AbuseFlag>, reported: NaiveDate) {
        let body = Body::CaseOpened(CaseOpened {
            offence: offence(code).expect("known offence"),
            force_flags: flags,
            reported_on: Some(reported),
            area: "Central CID".into(),
            title: format!("Operation fixture {c}"),
        });
        self.add(f, c, body);
    }

    fn person(&mut self, f: &str, c: &str, p: PersonRecorded) -> EventId {
        self.add(f, c, Body::PersonRecorded(p))
    }

    #[allow(clippy::too_many_arguments)]
    fn offence(&mut self, f: &str, c: &str, r: &str, code: &str, suspects: &[&str], victims: &[&str], from: NaiveDate) {
        let body = Body::OffenceRecorded(OffenceRecorded {
            offence_ref: r.into(),
            offence: offence(code).expect("known offence"),
            suspect_refs: suspects.iter().map(|s| s.to_string()).collect(),
            victim_refs: victims.iter().map(|s| s.to_string()).collect(),
            committed_from: Some(full(from)),
            committed_to: Some(full(from + Duration::days(90))),
            place: None,
        });
        self.add(f, c, body);
    }

    fn statement(&mut self, f: &str, c: &str, r: &str, on: NaiveDate) {
        let body =
            Body::StatementTaken(StatementTaken { person_ref: r.into(), kind: StatementKind::AbeVideo, taken_on: on });
        self.add(f, c, body);
    }

    fn interview(&mut self, f: &str, c: &str, r: &str, on: NaiveDate) {
        let body = Body::InterviewRecorded(InterviewRecorded {
            person_ref: r.into(),
            kind: InterviewKind::UnderArrest,
            interviewed_on: on,
            no_comment: true,
        });
        self.add(f, c, body);
    }

    fn decide(&mut self, f: &str, c: &str, kind: DecisionKind, refs: &[&str], on: NaiveDate) -> EventId {
        self.add(f, c, Body::DecisionRecorded(decision(kind, refs, on)))
    }

    /// A standard case: two suspects together against V1, S2 alone against V2 (unless `victims`
    /// is 1), everyone heard and interviewed, then `decision` on `on`.
    #[allow(clippy::too_many_arguments)]
    fn standard_case(
        &mut self,
        f: &str,
        c: &str,
        code: &str,
        people: &[P<'_>],
        victims: usize,
        kind: DecisionKind,
        on: NaiveDate,
    ) {
        let reported = on - Duration::days(300);
        self.open(f, c, code, vec![], reported);
        for p in people {
            self.person(f, c, p.record());
        }
        let suspects: Vec<&str> = people.iter().filter(|p| p.role == Role::Suspect).map(|p| p.r).collect();
        self.offence(f, c, "O1", code, &suspects, &["V1"], reported - Duration::days(200));
        if victims > 1 {
            self.offence(f, c, "O2", code, &suspects[1..2], &["V2"], reported - Duration::days(150));
        }
        for p in people {
            match p.role {
                Role::Victim => self.statement(f, c, p.r, reported + Duration::days(10)),
                Role::Suspect => self.interview(f, c, p.r, reported + Duration::days(40)),
                Role::Witness => {}
            }
        }
        self.decide(f, c, kind, &[], on);
    }
}

fn decision(kind: DecisionKind, refs: &[&str], on: NaiveDate) -> DecisionRecorded {
    DecisionRecorded {
        decision: kind,
        person_refs: refs.iter().map(|s| s.to_string()).collect(),
        outcome_type: Some(match kind {
            DecisionKind::NfaPolice | DecisionKind::NfaProsecutor => 15,
            DecisionKind::Charged => 1,
            _ => 8,
        }),
        reason: "evidential difficulties".into(),
        decided_on: on,
    }
}

fn sus<'a>(r: &'a str, forenames: &'a str, surname: &'a str, y: i32) -> P<'a> {
    P { r, role: Role::Suspect, forenames, surname, born: d(y, 3, 14), sex: Sex::Male }
}

fn vic<'a>(r: &'a str, forenames: &'a str, surname: &'a str, y: i32) -> P<'a> {
    P { r, role: Role::Victim, forenames, surname, born: d(y, 7, 2), sex: Sex::Female }
}

fn key(f: &str, c: &str) -> (String, String) {
    (f.to_string(), c.to_string())
}

/// The fixture's events (in publishing order, recorded before `now`) and its planted answers.
pub fn review_fixture() -> (Vec<Event>, ReviewAnswers) {
    let mut b =
        Builder { events: Vec::new(), n: 0, clock: Utc.with_ymd_and_hms(2025, 6, 1, 9, 0, 0).single().expect("time") };
    let nfa = DecisionKind::NfaPolice;
    let shared_phone = "07700 900111";
    let carl_address = Address {
        line1: "14 Tanner Row".into(),
        line2: String::new(),
        town: "Walsall".into(),
        postcode: "WS1 1AA".into(),
        country: String::new(),
    };

    // WMP A1: rape, in scope, three kinds of avenue.
    let (f, c) = ("WMP", "WMP-FX-A1");
    let reported = d(2014, 6, 1);
    b.open(f, c, "19D", vec![AbuseFlag::ChildSexualExploitation], reported);
    let mut s1 = sus("S1", "Imran", "Qadir", 1985).record();
    s1.self_defined_ethnicity = Some(SelfDefinedEthnicity::Census2021(13));
    s1.officer_observed_ethnicity = Some(ObservedEthnicity::Ic(4));
    let mut s2 = sus("S2", "Lee", "Parkes", 1988).record();
    s2.self_defined_ethnicity = Some(SelfDefinedEthnicity::NotStated);
    s2.officer_observed_ethnicity = Some(ObservedEthnicity::Ic(1));
    let s3 = sus("S3", "Dean", "Holloway", 1979).record();
    b.person(f, c, s1);
    b.person(f, c, s2);
    b.person(f, c, s3);
    let mut v1 = vic("V1", "Chloe", "Marsden", 2001).record();
    v1.addresses.push(Address {
        line1: "3 Abbey Close".into(),
        line2: String::new(),
        town: "Wolverhampton".into(),
        postcode: "WV1 4AA".into(),
        country: String::new(),
    });
    b.person(f, c, v1.clone());
    b.person(f, c, vic("V2", "Jade", "Rowley", 2002).record());
    b.offence(f, c, "O1", "19D", &["S1", "S2"], &["V1"], d(2014, 1, 10));
    b.offence(f, c, "O2", "71", &["S3"], &["V2"], d(2014, 2, 10));
    b.statement(f, c, "V1", d(2014, 6, 20));
    b.interview(f, c, "S1", d(2014, 8, 1));
    b.interview(f, c, "S2", d(2014, 8, 2));
    b.add(
        f,
        c,
        Body::IdentifierObserved(IdentifierObserved {
            identifier: Identifier { kind: IdentifierKind::Phone, value: shared_phone.into() },
            person_ref: None,
            context: "number found in V2's phone contacts".into(),
        }),
    );
    b.decide(f, c, nfa, &[], d(2015, 6, 1));

    // WMP A2: NFA on the first day of the scope; S1 Carl Dawson is charged in GMP B2 later.
    let (f, c) = ("WMP", "WMP-FX-A2");
    b.open(f, c, "71", vec![], d(2009, 3, 1));
    let mut carl = sus("S1", "Carl", "Dawson", 1975).record();
    carl.addresses.push(carl_address.clone());
    carl.identifiers.push(Identifier { kind: IdentifierKind::Phone, value: "07700 900222".into() });
    carl.self_defined_ethnicity = Some(SelfDefinedEthnicity::Census2021(1));
    carl.officer_observed_ethnicity = Some(ObservedEthnicity::Ic(1));
    b.person(f, c, carl.clone());
    b.person(f, c, sus("S2", "Wayne", "Tilley", 1980).record());
    b.person(f, c, vic("V1", "Megan", "Ashworth", 1995).record());
    b.person(f, c, vic("V2", "Kelly", "Brennan", 1994).record());
    b.offence(f, c, "O1", "71", &["S1", "S2"], &["V1", "V2"], d(2008, 9, 1));
    b.statement(f, c, "V1", d(2009, 3, 10));
    b.statement(f, c, "V2", d(2009, 3, 11));
    b.interview(f, c, "S1", d(2009, 5, 1));
    b.interview(f, c, "S2", d(2009, 5, 2));
    b.decide(f, c, DecisionKind::NfaProsecutor, &[], d(2010, 1, 1));

    // WMP A3, A4, A5: the date boundaries; A3 carries a CSA flag only.
    b.standard_case(
        "WMP",
        "WMP-FX-A3",
        "22B",
        &[
            sus("S1", "Gary", "Naylor", 1970),
            sus("S2", "Paul", "Eccles", 1972),
            vic("V1", "Amy", "Lowe", 1996),
            vic("V2", "Zoe", "Pratt", 1997),
        ],
        2,
        nfa,
        d(2009, 12, 31),
    );
    if let Some(Body::CaseOpened(o)) = b
        .events
        .iter_mut()
        .rev()
        .find(|e| e.case_ref == "WMP-FX-A3" && matches!(e.body, Body::CaseOpened(_)))
        .map(|e| &mut e.body)
    {
        o.force_flags = vec![AbuseFlag::ChildSexualAbuse];
    }
    b.standard_case(
        "WMP",
        "WMP-FX-A4",
        "22B",
        &[
            sus("S1", "Ryan", "Oakes", 1981),
            sus("S2", "Neil", "Fairclough", 1983),
            vic("V1", "Holly", "Grant", 2010),
            vic("V2", "Leah", "Moss", 2011),
        ],
        2,
        nfa,
        d(2025, 4, 1),
    );
    b.standard_case(
        "WMP",
        "WMP-FX-A5",
        "88A",
        &[
            sus("S1", "Shaun", "Bentley", 1984),
            sus("S2", "Craig", "Whitworth", 1986),
            vic("V1", "Ellie", "Sutton", 2009),
            vic("V2", "Paige", "Dobson", 2010),
        ],
        2,
        DecisionKind::NfaProsecutor,
        d(2025, 3, 31),
    );

    // WMP A6: one suspect against two children; flagged CSE by the force.
    let (f, c) = ("WMP", "WMP-FX-A6");
    b.open(f, c, "22B", vec![AbuseFlag::ChildSexualExploitation], d(2016, 2, 1));
    b.person(f, c, sus("S1", "Mark", "Sheldon", 1969).record());
    b.person(f, c, vic("V1", "Katie", "Rudd", 2003).record());
    b.person(f, c, vic("V2", "Demi", "Hollins", 2004).record());
    b.offence(f, c, "O1", "22B", &["S1"], &["V1", "V2"], d(2015, 10, 1));
    b.statement(f, c, "V1", d(2016, 2, 10));
    b.statement(f, c, "V2", d(2016, 2, 11));
    b.interview(f, c, "S1", d(2016, 3, 1));
    b.decide(f, c, nfa, &[], d(2016, 9, 1));

    // GMP B1: in scope; S1 carries the phone A1 saw; S1 interviewed after the decision.
    let (f, c) = ("GMP", "GMP-FX-B1");
    b.open(f, c, "71", vec![], d(2017, 4, 1));
    let mut b1s1 = sus("S1", "Tariq", "Hussain", 1990).record();
    b1s1.identifiers.push(Identifier { kind: IdentifierKind::Phone, value: shared_phone.into() });
    b.person(f, c, b1s1);
    let mut b1s2 = sus("S2", "Asif", "Malik", 1987).record();
    b1s2.identifiers.push(Identifier { kind: IdentifierKind::Passport, value: "PK7731904".into() });
    b1s2.nationalities = vec!["GB".into(), "PK".into()];
    b.person(f, c, b1s2);
    b.person(f, c, vic("V1", "Lauren", "Fisher", 2003).record());
    b.person(f, c, vic("V2", "Bethany", "Cole", 2004).record());
    b.offence(f, c, "O1", "71", &["S1", "S2"], &["V1", "V2"], d(2016, 11, 1));
    b.statement(f, c, "V1", d(2017, 4, 10));
    b.statement(f, c, "V2", d(2017, 4, 12));
    b.interview(f, c, "S2", d(2017, 6, 1));
    b.decide(f, c, nfa, &[], d(2018, 3, 1));
    b.add(
        f,
        c,
        Body::FlagApplied(Flagging { flag: AbuseFlag::GroupBased, person_ref: None, reason: "CSE team review".into() }),
    );
    b.interview(f, c, "S1", d(2019, 1, 15));

    // GMP B2: Carl Dawson charged in 2016 (out of scope: charged).
    let (f, c) = ("GMP", "GMP-FX-B2");
    b.open(f, c, "22B", vec![], d(2015, 9, 1));
    let mut carl_b = carl.clone();
    carl_b.self_defined_ethnicity = None;
    carl_b.officer_observed_ethnicity = None;
    b.person(f, c, carl_b);
    b.person(f, c, sus("S2", "Jason", "Peel", 1977).record());
    b.person(f, c, vic("V1", "Shannon", "Kirk", 2001).record());
    b.person(f, c, vic("V2", "Abbie", "Nolan", 2002).record());
    b.offence(f, c, "O1", "22B", &["S1", "S2"], &["V1", "V2"], d(2015, 6, 1));
    b.statement(f, c, "V1", d(2015, 9, 5));
    b.statement(f, c, "V2", d(2015, 9, 6));
    b.interview(f, c, "S1", d(2015, 10, 1));
    b.interview(f, c, "S2", d(2015, 10, 2));
    b.decide(f, c, DecisionKind::Charged, &[], d(2016, 5, 1));

    // GMP B3: every suspect has died.
    let mut dead1 = sus("S1", "Roy", "Gittins", 1940).record();
    let mut dead2 = sus("S2", "Ken", "Blakey", 1942).record();
    for p in [&mut dead1, &mut dead2] {
        p.vital_status = Some(VitalStatus::Deceased);
        p.date_of_death = Some(full(d(2020, 1, 1)));
    }
    let (f, c) = ("GMP", "GMP-FX-B3");
    b.open(f, c, "22B", vec![], d(2012, 1, 1));
    b.person(f, c, dead1);
    b.person(f, c, dead2);
    b.person(f, c, vic("V1", "Gemma", "Platt", 1998).record());
    b.person(f, c, vic("V2", "Jodie", "Crane", 1999).record());
    b.offence(f, c, "O1", "22B", &["S1", "S2"], &["V1", "V2"], d(2011, 6, 1));
    b.statement(f, c, "V1", d(2012, 1, 5));
    b.statement(f, c, "V2", d(2012, 1, 6));
    b.interview(f, c, "S1", d(2012, 2, 1));
    b.interview(f, c, "S2", d(2012, 2, 2));
    b.decide(f, c, nfa, &[], d(2012, 6, 1));

    // GMP B4: NFA recorded as 2009, corrected to 2011: brought into scope.
    b.standard_case(
        "GMP",
        "GMP-FX-B4",
        "71",
        &[
            sus("S1", "Dale", "Ormerod", 1982),
            sus("S2", "Lee", "Unsworth", 1984),
            vic("V1", "Sophie", "Lyons", 1996),
            vic("V2", "Tia", "Booth", 1997),
        ],
        2,
        nfa,
        d(2009, 11, 1),
    );
    let wrong = b.events.last().expect("decision").id;
    b.add(
        "GMP",
        "GMP-FX-B4",
        Body::RecordCorrected(RecordCorrected {
            corrected_event_id: wrong,
            reason: "date keyed wrongly".into(),
            replacement: Box::new(Body::DecisionRecorded(decision(nfa, &[], d(2011, 11, 1)))),
        }),
    );

    // GMP B5: a suspect's record retracted (recorded against the wrong case): one suspect left.
    let (f, c) = ("GMP", "GMP-FX-B5");
    b.open(f, c, "22B", vec![], d(2013, 1, 1));
    b.person(f, c, sus("S1", "Barry", "Higson", 1971).record());
    let wrong_person = b.person(f, c, sus("S2", "Colin", "Aspinall", 1973).record());
    b.person(f, c, vic("V1", "Nicole", "Yates", 1999).record());
    b.person(f, c, vic("V2", "Chelsea", "Kay", 2000).record());
    b.offence(f, c, "O1", "22B", &["S1", "S2"], &["V1", "V2"], d(2012, 8, 1));
    b.statement(f, c, "V1", d(2013, 1, 5));
    b.statement(f, c, "V2", d(2013, 1, 6));
    b.interview(f, c, "S1", d(2013, 2, 1));
    b.decide(f, c, nfa, &[], d(2013, 6, 1));
    b.add(
        f,
        c,
        Body::RecordRetracted(RecordRetracted {
            retracted_event_id: wrong_person,
            reason: "recorded against the wrong case".into(),
        }),
    );

    // GMP B6: NFA corrected to a charge: taken out of scope.
    b.standard_case(
        "GMP",
        "GMP-FX-B6",
        "71",
        &[
            sus("S1", "Ian", "Kershaw", 1976),
            sus("S2", "Gavin", "Rigby", 1978),
            vic("V1", "Ruby", "Hurst", 1998),
            vic("V2", "Maisie", "Lord", 1999),
        ],
        2,
        nfa,
        d(2012, 3, 1),
    );
    let wrong = b.events.last().expect("decision").id;
    b.add(
        "GMP",
        "GMP-FX-B6",
        Body::RecordCorrected(RecordCorrected {
            corrected_event_id: wrong,
            reason: "outcome keyed wrongly: both were charged".into(),
            replacement: Box::new(Body::DecisionRecorded(decision(DecisionKind::Charged, &[], d(2012, 3, 1)))),
        }),
    );

    // GMP B7: already independently reviewed.
    b.standard_case(
        "GMP",
        "GMP-FX-B7",
        "71",
        &[
            sus("S1", "Stuart", "Crook", 1974),
            sus("S2", "Keith", "Holt", 1975),
            vic("V1", "Jasmine", "Slater", 1997),
            vic("V2", "Molly", "Tate", 1998),
        ],
        2,
        nfa,
        d(2014, 4, 1),
    );
    b.add(
        "GMP",
        "GMP-FX-B7",
        Body::IndependentReviewRecorded(IndependentReviewRecorded {
            reviewing_body: "Independent Office for Police Conduct".into(),
            reviewed_on: d(2015, 1, 10),
            outcome: ReviewOutcome::DecisionUpheld,
            summary: "decision upheld".into(),
        }),
    );

    // WYP C1: rape, in scope; S1 absconded before.
    b.standard_case(
        "WYP",
        "WYP-FX-C1",
        "19E",
        &[
            sus("S1", "Nathan", "Firth", 1983),
            sus("S2", "Jamie", "Sykes", 1985),
            vic("V1", "Evie", "Walsh", 2008),
            vic("V2", "Isla", "Moran", 2009),
        ],
        2,
        nfa,
        d(2020, 5, 1),
    );
    b.add(
        "WYP",
        "WYP-FX-C1",
        Body::TravelRiskNoted(TravelRiskNoted {
            person_ref: "S1".into(),
            kind: TravelRiskKind::PreviousAbsconding,
            destination_country: None,
            noted_on: d(2020, 2, 1),
            details: "failed to answer bail in 2018".into(),
        }),
    );
    // WYP C2: one victim.
    b.standard_case(
        "WYP",
        "WYP-FX-C2",
        "71",
        &[sus("S1", "Kyle", "Brook", 1988), sus("S2", "Scott", "Lumb", 1989), vic("V1", "Freya", "Hirst", 2005)],
        1,
        nfa,
        d(2019, 2, 1),
    );
    // WYP C3: NFA, then one suspect charged later.
    b.standard_case(
        "WYP",
        "WYP-FX-C3",
        "71",
        &[
            sus("S1", "Ross", "Dyson", 1986),
            sus("S2", "Carl", "Ackroyd", 1987),
            vic("V1", "Poppy", "Swift", 2004),
            vic("V2", "Millie", "Senior", 2005),
        ],
        2,
        nfa,
        d(2018, 1, 1),
    );
    b.decide("WYP", "WYP-FX-C3", DecisionKind::Charged, &["S2"], d(2019, 1, 1));
    // WYP C4: one suspect against A1's V1 (the same girl, recorded again): group-based through a
    // shared victim, not flagged by WYP.
    let (f, c) = ("WYP", "WYP-FX-C4");
    b.open(f, c, "22B", vec![], d(2016, 1, 10));
    b.person(f, c, sus("S1", "Liam", "Cawthorne", 1990).record());
    b.person(f, c, v1);
    b.offence(f, c, "O1", "22B", &["S1"], &["V1"], d(2015, 11, 1));
    b.statement(f, c, "V1", d(2016, 1, 20));
    b.interview(f, c, "S1", d(2016, 2, 1));
    b.decide(f, c, nfa, &[], d(2016, 6, 1));

    let mut a = ReviewAnswers {
        queue: vec![
            // Rape allegations first (A1 scores above C1: more suspects, and linked to two forces).
            key("WMP", "WMP-FX-A1"),
            key("WYP", "WYP-FX-C1"),
            // Then by score: B1 57 (2 victims, 2 suspects, 1 other force's case, youngest 12);
            // A2 55 (youngest 13); B4 44 (youngest 11); A5 40 (youngest 13).
            key("GMP", "GMP-FX-B1"),
            key("WMP", "WMP-FX-A2"),
            key("GMP", "GMP-FX-B4"),
            key("WMP", "WMP-FX-A5"),
        ],
        ..Default::default()
    };
    for (f, c, why) in [
        ("WMP", "WMP-FX-A3", "DecidedBefore"),
        ("WMP", "WMP-FX-A4", "DecidedAfter"),
        ("WMP", "WMP-FX-A6", "FewerThanTwoSuspects"),
        ("GMP", "GMP-FX-B2", "OtherDecision"),
        ("GMP", "GMP-FX-B3", "NoSuspectAlive"),
        ("GMP", "GMP-FX-B5", "FewerThanTwoSuspects"),
        ("GMP", "GMP-FX-B6", "OtherDecision"),
        ("GMP", "GMP-FX-B7", "AlreadyReviewed"),
        ("WYP", "WYP-FX-C2", "OneVictim"),
        ("WYP", "WYP-FX-C3", "OtherDecision"),
        ("WYP", "WYP-FX-C4", "FewerThanTwoSuspects"),
    ] {
        a.out_of_scope.insert(key(f, c), why);
    }
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
    a.avenues.insert(
        key("WMP", "WMP-FX-A1"),
        set(&["victim_not_heard:V2", "suspect_not_interviewed:S3", "identifier_not_followed:phone:07700900111"]),
    );
    a.avenues.insert(key("WMP", "WMP-FX-A2"), set(&["suspect_in_other_cases:S1", "decision_contradicted:case"]));
    a.avenues.insert(key("WMP", "WMP-FX-A5"), set(&[]));
    a.avenues.insert(key("GMP", "GMP-FX-B1"), set(&["decision_contradicted:case"]));
    a.avenues.insert(key("GMP", "GMP-FX-B4"), set(&[]));
    a.avenues.insert(key("WYP", "WYP-FX-C1"), set(&[]));
    let cases = |ks: &[(&str, &str)]| ks.iter().map(|(f, c)| key(f, c)).collect::<BTreeSet<_>>();
    a.other_force_cases.insert(key("WMP", "WMP-FX-A1"), cases(&[("GMP", "GMP-FX-B1"), ("WYP", "WYP-FX-C4")]));
    a.other_force_cases.insert(key("WMP", "WMP-FX-A2"), cases(&[("GMP", "GMP-FX-B2")]));
    a.other_force_cases.insert(key("WMP", "WMP-FX-A5"), cases(&[]));
    a.other_force_cases.insert(key("GMP", "GMP-FX-B1"), cases(&[("WMP", "WMP-FX-A1")]));
    a.other_force_cases.insert(key("GMP", "GMP-FX-B4"), cases(&[]));
    a.other_force_cases.insert(key("WYP", "WYP-FX-C1"), cases(&[]));
    for (f, c) in [
        ("WMP", "WMP-FX-A1"),
        ("WMP", "WMP-FX-A2"),
        ("WMP", "WMP-FX-A3"),
        ("WMP", "WMP-FX-A4"),
        ("WMP", "WMP-FX-A5"),
        ("GMP", "GMP-FX-B1"),
        ("GMP", "GMP-FX-B2"),
        ("GMP", "GMP-FX-B3"),
        ("GMP", "GMP-FX-B4"),
        ("GMP", "GMP-FX-B6"),
        ("GMP", "GMP-FX-B7"),
        ("WYP", "WYP-FX-C1"),
        ("WYP", "WYP-FX-C2"),
        ("WYP", "WYP-FX-C3"),
        ("WYP", "WYP-FX-C4"),
    ] {
        a.group_based.insert(key(f, c));
    }
    // (cases, standard, flagged group, agree, in scope, in scope with a child abuse flag)
    a.quality.insert("WMP".into(), [6, 5, 2, 1, 3, 1]);
    a.quality.insert("GMP".into(), [7, 6, 1, 1, 2, 1]);
    a.quality.insert("WYP".into(), [4, 4, 0, 0, 1, 0]);
    // WMP suspects: 3 + 2 + 2 + 2 + 2 + 1 = 12 mentions; self-defined: A1 S1 and Carl; not
    // stated: A1 S2; observed: A1 S1, A1 S2, Carl; either known: the same three.
    a.suspect_ethnicity.insert("WMP".into(), [12, 2, 1, 3, 3]);
    a.suspect_ethnicity.insert("GMP".into(), [13, 0, 0, 0, 0]);
    // Suspects of the cases in scope (A1 3, A2 2, A5 2, B1 2, B4 2, C1 2), 13 persons, of whom
    // only A1's S1, A1's S2 (observed IC1) and Carl have a known ethnicity.
    a.suspects_in_scope = (13, 10);
    a.most_dangerous = ("WMP".into(), "WMP-FX-A2".into(), "S1".into());
    a.flight.insert(("GMP".into(), "GMP-FX-B1".into(), "S2".into()));
    a.flight.insert(("WYP".into(), "WYP-FX-C1".into(), "S1".into()));
    (b.events, a)
}
