use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;
use std::time::Instant;

use beaconport_domain::validate::check_event;
use beaconport_domain::{
    reference, AbuseFlag, Body, Checker, Context, Event, EventId, EventKind, IdentifierKind, Role,
    SelfDefinedEthnicity, VitalStatus,
};
use chrono::{Datelike, NaiveDate, TimeZone};

use super::*;

fn default_scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| generate(&Options::default()))
}

type CaseKey = (&'static str, String);

fn by_case(events: &[Event]) -> HashMap<CaseKey, Vec<&Event>> {
    let mut m: HashMap<CaseKey, Vec<&Event>> = HashMap::new();
    // Investigators' link decisions are not case records.
    for e in events.iter().filter(|e| e.body.kind() != EventKind::LinkDecided) {
        m.entry((e.force.code, e.case_ref.clone())).or_default().push(e);
    }
    m
}

/// Every date inside a body.
fn body_dates(b: &Body) -> Vec<NaiveDate> {
    match b {
        Body::CaseOpened(c) => c.reported_on.into_iter().collect(),
        Body::PersonRecorded(p) => p.date_of_birth.iter().chain(p.date_of_death.iter()).map(|d| d.earliest()).collect(),
        Body::OffenceRecorded(o) => {
            o.committed_from.iter().chain(o.committed_to.iter()).map(|d| d.earliest()).collect()
        }
        Body::InterviewRecorded(i) => vec![i.interviewed_on],
        Body::StatementTaken(s) => vec![s.taken_on],
        Body::DecisionRecorded(d) => vec![d.decided_on],
        Body::CaseReferred(r) => vec![r.referred_on],
        Body::IndependentReviewRecorded(r) => vec![r.reviewed_on],
        Body::TravelRiskNoted(t) => vec![t.noted_on],
        Body::RecordCorrected(c) => body_dates(&c.replacement),
        _ => Vec::new(),
    }
}

/// Checks every event as the ledger would, and the scenario's own promises. `sorted`: the events
/// are in publishing order overall (not only within each case).
fn assert_valid(events: &[Event], now: DateTime<Utc>, sorted: bool) {
    let ctx = Context { now };
    let mut ids = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        let id = e.id.to_string();
        let mut ck = Checker::new(i, id.as_str());
        check_event(e, &ctx, &mut ck);
        assert!(ck.is_ok(), "{:?}\n{e:#?}", ck.into_errors());
        assert!(ids.insert(e.id), "duplicate id {id}");
        assert_eq!(e.id.0.get_version_num(), 7);
        let (secs, nanos) = e.id.0.get_timestamp().expect("v7 has a timestamp").to_unix();
        assert_eq!(secs as i64 * 1000 + i64::from(nanos / 1_000_000), e.recorded_at.timestamp_millis());
        assert!(e.occurred_at <= e.recorded_at, "{e:#?}");
        assert!(e.recorded_at <= now && e.occurred_at <= now);
        assert_eq!(e.recorded_at.timestamp_subsec_nanos(), 0);
        for d in body_dates(&e.body) {
            assert!(d <= now.date_naive(), "{d} after now in {e:#?}");
        }
        if sorted && i > 0 {
            assert!(events[i - 1].recorded_at <= e.recorded_at, "not sorted by recorded_at");
        }
    }
    let mut seen: HashMap<EventId, (&'static str, &str)> = HashMap::new();
    let mut last: HashMap<(&'static str, &str), DateTime<Utc>> = HashMap::new();
    for e in events {
        seen.insert(e.id, (e.force.code, &e.case_ref));
        let previous = last.insert((e.force.code, &e.case_ref), e.recorded_at);
        assert!(previous.is_none_or(|p| p <= e.recorded_at), "case {} goes back in time", e.case_ref);
        let target = match &e.body {
            Body::RecordCorrected(c) => Some(c.corrected_event_id),
            Body::RecordRetracted(r) => Some(r.retracted_event_id),
            _ => None,
        };
        if let Some(t) = target {
            let earlier = seen.get(&t).expect("a correction follows what it corrects");
            assert_eq!(*earlier, (e.force.code, e.case_ref.as_str()), "corrections stay in their case");
        }
    }
}

#[test]
fn every_event_of_the_default_scenario_is_valid() {
    let s = default_scenario();
    assert_valid(&s.events, Options::default().now, true);
    for (_, events) in by_case(&s.events) {
        assert_eq!(events[0].body.kind(), EventKind::CaseOpened);
        for w in events.windows(2) {
            assert!(w[0].recorded_at <= w[1].recorded_at);
        }
        assert!(events.iter().all(|e| e.schema_version == 1));
        // Forces record through officers and systems; the national review team records its steps.
        assert!(events.iter().all(|e| {
            let reviewing = matches!(
                e.body.kind(),
                EventKind::ReviewStarted | EventKind::AvenueActioned | EventKind::ReviewConcluded
            );
            e.recorded_by.starts_with("off-")
                || e.recorded_by.starts_with("sys-")
                || (reviewing && e.recorded_by.starts_with("nca-review-"))
        }));
    }
}

#[test]
fn default_scenario_size_and_time() {
    let t = Instant::now();
    let s = generate(&Options::default());
    let elapsed = t.elapsed();
    let summary = s.summary();
    println!("default scenario generated in {elapsed:.2?}\n{summary}");
    assert_eq!(summary.forces, 23);
    assert_eq!(summary.referred_cases, 1273);
    assert_eq!(summary.cases, 1273 + 4000);
    assert!((50_000..=100_000).contains(&summary.events), "{}", summary.events);
    assert_eq!(
        summary.by_kind.len(),
        EventKind::ALL.iter().filter(|k| k.publishable()).count(),
        "every kind a force publishes appears"
    );
    if !cfg!(debug_assertions) {
        // Generous: a gross regression, not the machine's load, should fail this.
        assert!(elapsed.as_secs_f64() < 10.0, "{elapsed:?}");
    }
}

#[test]
fn same_options_same_scenario_other_seed_other_scenario() {
    let opts = Options { referred_cases: 60, referred_rape_cases: 11, ordinary_cases: 150, ..Options::default() };
    let a = generate(&opts);
    let b = generate(&opts);
    assert_eq!(a, b);
    assert_eq!(format!("{:?}", a.events), format!("{:?}", b.events));
    let c = generate(&Options { seed: opts.seed + 1, ..opts.clone() });
    assert_ne!(a.events, c.events);
    assert_valid(&c.events, opts.now, true);
}

#[test]
fn small_and_unusual_options_still_give_valid_scenarios() {
    let early = Utc.with_ymd_and_hms(2013, 2, 1, 9, 0, 0).single().unwrap();
    for opts in [
        Options { forces: 1, referred_cases: 5, referred_rape_cases: 9, ordinary_cases: 10, ..Options::default() },
        Options { forces: 100, referred_cases: 0, referred_rape_cases: 0, ordinary_cases: 50, ..Options::default() },
        Options { forces: 3, referred_cases: 40, referred_rape_cases: 40, ordinary_cases: 40, now: early, seed: 9 },
    ] {
        let s = generate(&opts);
        assert_valid(&s.events, opts.now, true);
        let summary = s.summary();
        assert_eq!(summary.referred_cases, opts.referred_cases);
        assert_eq!(summary.cases, opts.referred_cases + opts.ordinary_cases);
        assert!(summary.forces <= opts.forces.clamp(1, 43));
    }
}

#[test]
fn referred_cases_are_in_the_review_scope() {
    let s = default_scenario();
    let opts = Options::default();
    let cases = by_case(&s.events);
    let people = &s.truth.individuals;
    let referred: HashSet<(String, String)> = s.truth.referred_cases.iter().cloned().collect();
    assert_eq!(referred.len(), opts.referred_cases);
    let (lo, hi) = (NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2025, 3, 31).unwrap());
    let (mut rape, mut flagged, mut victims_without_statement, mut suspects_not_interviewed) = (0, 0, 0, 0);
    let (mut suspects, mut suspects_self_defined, mut suspects_observed) = (0, 0, 0);
    for (force, case_ref) in &s.truth.referred_cases {
        let events = &cases[&(reference::force(force).unwrap().code, case_ref.clone())];
        let Body::CaseOpened(opened) = &events[0].body else { panic!("first event opens the case") };
        assert!(opened.offence.sexual && opened.offence.child_victim);
        rape += usize::from(opened.offence.rape);
        let mut flags: HashSet<AbuseFlag> = opened.force_flags.iter().copied().collect();
        let mut persons = HashMap::new();
        let mut statements = HashSet::new();
        let mut interviews = HashSet::new();
        let mut nfa = 0;
        let mut referred_events = 0;
        let mut deceased = HashSet::new();
        for e in events {
            match &e.body {
                Body::PersonRecorded(p) => {
                    persons.insert(p.person_ref.clone(), p.clone());
                }
                Body::RecordCorrected(c) => {
                    if let Body::PersonRecorded(p) = c.replacement.as_ref() {
                        if p.vital_status == Some(VitalStatus::Deceased) {
                            deceased.insert(p.person_ref.clone());
                        }
                    }
                }
                Body::OffenceRecorded(o) => assert!(!o.offence.rape || opened.offence.rape),
                Body::StatementTaken(st) => {
                    statements.insert(st.person_ref.clone());
                }
                Body::InterviewRecorded(i) => {
                    interviews.insert(i.person_ref.clone());
                }
                Body::DecisionRecorded(d) => {
                    assert!(d.decision.is_nfa());
                    assert!(d.decided_on >= lo && d.decided_on <= hi, "{}", d.decided_on);
                    nfa += 1;
                }
                Body::CaseReferred(r) => {
                    assert_eq!(r.programme, "National NFA review");
                    referred_events += 1;
                }
                Body::FlagApplied(f) => {
                    flags.insert(f.flag);
                }
                Body::FlagRemoved(f) => {
                    flags.remove(&f.flag);
                }
                Body::IndependentReviewRecorded(_) => panic!("a referred case was not already reviewed"),
                _ => {}
            }
        }
        assert!(nfa >= 1);
        assert_eq!(referred_events, 1);
        let sus: Vec<_> = persons.values().filter(|p| p.role == Role::Suspect).collect();
        let vic: Vec<_> = persons.values().filter(|p| p.role == Role::Victim).collect();
        assert!(sus.len() >= 2 && vic.len() >= 2, "{case_ref}");
        assert!(sus.iter().any(|p| p.vital_status == Some(VitalStatus::Alive) && !deceased.contains(&p.person_ref)));
        // Victims were children when the offending began.
        let first_offence = events
            .iter()
            .find_map(|e| match &e.body {
                Body::OffenceRecorded(o) => o.committed_from,
                _ => None,
            })
            .expect("offences are dated");
        for v in &vic {
            let id = s.truth.identity_of_mention[&(force.clone(), case_ref.clone(), v.person_ref.clone())];
            let dob = people[id as usize].date_of_birth;
            assert!(people[id as usize].age_on(first_offence.earliest()) < 18, "{dob} {first_offence}");
        }
        if flags.iter().any(|f| {
            matches!(f, AbuseFlag::ChildSexualAbuse | AbuseFlag::ChildSexualExploitation | AbuseFlag::GroupBased)
        }) {
            flagged += 1;
        }
        victims_without_statement += vic.iter().filter(|v| !statements.contains(&v.person_ref)).count();
        suspects_not_interviewed += sus.iter().filter(|p| !interviews.contains(&p.person_ref)).count();
        suspects += sus.len();
        suspects_self_defined += sus
            .iter()
            .filter(|p| matches!(p.self_defined_ethnicity, Some(SelfDefinedEthnicity::Census2021(_))))
            .count();
        suspects_observed += sus.iter().filter(|p| p.officer_observed_ethnicity.is_some()).count();
    }
    assert_eq!(rape, opts.referred_rape_cases);
    let flag_share = flagged as f64 / opts.referred_cases as f64;
    println!(
        "flagged {flag_share:.2}, victims without statement {victims_without_statement}, suspects not interviewed \
         {suspects_not_interviewed}, suspects {suspects}, self-defined ethnicity {suspects_self_defined}, observed \
         {suspects_observed}"
    );
    assert!((0.28..=0.46).contains(&flag_share), "{flag_share}");
    assert!(victims_without_statement > 100);
    assert!(suspects_not_interviewed > 200);
    assert!((suspects_self_defined as f64) < 0.5 * suspects as f64);
    assert!(suspects_observed > 0 && suspects_observed < suspects);

    // No other case meets the scope: the others have one suspect.
    for ((force, case_ref), events) in &cases {
        if referred.contains(&(force.to_string(), case_ref.clone())) {
            continue;
        }
        let suspects =
            events.iter().filter(|e| matches!(&e.body, Body::PersonRecorded(p) if p.role == Role::Suspect)).count();
        assert_eq!(suspects, 1, "{case_ref}");
        assert!(!events.iter().any(|e| e.body.kind() == EventKind::CaseReferred));
    }
}

#[test]
fn ordinary_cases_carry_the_whole_vocabulary() {
    let s = default_scenario();
    let summary = s.summary();
    for kind in [
        EventKind::RecordCorrected,
        EventKind::RecordRetracted,
        EventKind::FlagApplied,
        EventKind::FlagRemoved,
        EventKind::IndependentReviewRecorded,
        EventKind::TravelRiskNoted,
        EventKind::IdentifierObserved,
        EventKind::LocationObserved,
    ] {
        assert!(summary.by_kind[&kind] >= 10, "{kind:?}: {}", summary.by_kind[&kind]);
    }
    let mut decisions = HashSet::new();
    let mut corrections_fixing_dob = 0;
    let mut destinations = 0;
    for e in &s.events {
        match &e.body {
            Body::DecisionRecorded(d) => {
                decisions.insert(format!("{:?}", d.decision));
            }
            Body::RecordCorrected(c) => {
                if let Body::PersonRecorded(p) = c.replacement.as_ref() {
                    if p.date_of_birth.is_some_and(|d| d.is_full()) {
                        corrections_fixing_dob += 1;
                    }
                }
            }
            Body::TravelRiskNoted(t) => destinations += usize::from(t.destination_country.is_some()),
            _ => {}
        }
    }
    assert_eq!(decisions.len(), 8, "{decisions:?}");
    assert!(corrections_fixing_dob > 50);
    assert!(destinations > 10);
}

#[test]
fn networks_cross_forces_and_members_are_recorded_with_noise() {
    let s = default_scenario();
    let t = &s.truth;
    assert!(t.networks.len() >= 50, "{}", t.networks.len());
    let mut mentions_of: HashMap<u64, Vec<(&str, &str, &str)>> = HashMap::new();
    for ((f, c, p), id) in &t.identity_of_mention {
        mentions_of.entry(*id).or_default().push((f, c, p));
    }
    let records: HashMap<(&str, &str, &str), &beaconport_domain::PersonRecorded> = s
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Body::PersonRecorded(p) => Some(((e.force.code, e.case_ref.as_str(), p.person_ref.as_str()), p)),
            _ => None,
        })
        .collect();
    let mut multi_force = 0;
    for n in &t.networks {
        assert!((3..=12).contains(&n.members.len()));
        assert!(!n.cases.is_empty());
        multi_force += usize::from(n.forces.len() >= 2);
        assert!(n.shared_identifiers.iter().any(|i| i.kind == IdentifierKind::Phone));
        for m in &n.members {
            assert!(t.individuals[*m as usize].phones.len() <= 6);
        }
    }
    assert!(multi_force as f64 >= 0.8 * t.networks.len() as f64, "{multi_force}");
    // Members recorded by more than one force, under more than one spelling.
    let members: HashSet<u64> = t.networks.iter().flat_map(|n| n.members.iter().copied()).collect();
    let (mut across_forces, mut spellings, mut partial_dobs, mut transliterated) = (0, 0, 0, 0);
    for m in &members {
        let Some(ms) = mentions_of.get(m) else { continue };
        let forces: HashSet<&str> = ms.iter().map(|(f, _, _)| *f).collect();
        across_forces += usize::from(forces.len() >= 2);
        let names: HashSet<String> = ms
            .iter()
            .filter_map(|k| records.get(k).and_then(|r| r.name.as_ref()))
            .map(|n| format!("{} {}", n.forenames, n.surname))
            .collect();
        spellings += usize::from(names.len() >= 2);
        for k in ms {
            let r = records[k];
            partial_dobs += usize::from(r.date_of_birth.is_some_and(|d| !d.is_full()));
            let truth = &t.individuals[*m as usize];
            if let Some(n) = &r.name {
                if n.forenames != truth.known_as
                    && names::variants_of(&truth.known_as).is_some_and(|g| g.contains(&n.forenames.as_str()))
                {
                    transliterated += 1;
                }
            }
        }
    }
    println!("members {}: across forces {across_forces}, several spellings {spellings}, partial DOBs {partial_dobs}, transliterated {transliterated}", members.len());
    assert!(across_forces > members.len() / 3);
    assert!(spellings > members.len() / 4);
    assert!(partial_dobs > 50);
    assert!(transliterated > 0);
    // Shared phones appear in more than one force's cases, written differently.
    let mut phone_forms: HashMap<String, HashSet<&str>> = HashMap::new();
    for e in &s.events {
        if let Body::IdentifierObserved(o) = &e.body {
            if o.identifier.kind == IdentifierKind::Phone {
                let digits: String = o.identifier.value.chars().filter(|c| c.is_ascii_digit()).collect();
                let national = digits.strip_prefix("44").map_or(digits.clone(), |d| format!("0{d}"));
                phone_forms.entry(national).or_default().insert(o.identifier.value.as_str());
            }
        }
    }
    let shared: Vec<_> = t
        .networks
        .iter()
        .flat_map(|n| n.shared_identifiers.iter())
        .filter(|i| i.kind == IdentifierKind::Phone)
        .collect();
    let with_forms = shared.iter().filter(|i| phone_forms.get(&i.value).is_some_and(|f| f.len() >= 2)).count();
    assert!(with_forms > shared.len() / 4, "{with_forms} of {}", shared.len());
}

#[test]
fn look_alikes_are_different_people_who_appear_in_records() {
    let s = default_scenario();
    let t = &s.truth;
    let mentioned: HashSet<u64> = t.identity_of_mention.values().copied().collect();
    let mut kinds = HashMap::new();
    for la in &t.look_alikes {
        assert_ne!(la.a, la.b);
        let (a, b) = (&t.individuals[la.a as usize], &t.individuals[la.b as usize]);
        match la.kind {
            LookAlikeKind::SameName => {
                assert_eq!((&a.known_as, &a.surname), (&b.known_as, &b.surname));
                assert_ne!(a.date_of_birth, b.date_of_birth);
            }
            LookAlikeKind::Twins => {
                assert_eq!((a.date_of_birth, &a.surname, &a.address), (b.date_of_birth, &b.surname, &b.address));
                assert_ne!(a.known_as, b.known_as);
            }
            LookAlikeKind::ParentAndChild => {
                assert_eq!((&a.known_as, &a.surname, &a.address), (&b.known_as, &b.surname, &b.address));
                assert!(a.date_of_birth.year() - b.date_of_birth.year() >= 20);
            }
        }
        assert!(mentioned.contains(&la.b), "look-alike {la:?} never recorded");
        *kinds.entry(la.kind).or_insert(0) += 1;
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}

#[test]
fn no_real_identifiers_only_reserved_ranges() {
    let s = default_scenario();
    for p in &s.truth.individuals {
        for ph in &p.phones {
            let ok = ["07700900", "0113496", "0114496", "0115496", "0116496", "0117496", "0118496", "0121496"]
                .iter()
                .chain(["0131496", "0141496", "0151496", "0161496", "0191498", "0207946", "0292018", "0289649"].iter())
                .chain(["01632960", "03069990"].iter())
                .any(|prefix| ph.starts_with(prefix));
            assert!(ok, "{ph}");
        }
        if let Some(e) = &p.email {
            assert!(e.ends_with("@example.com") || e.ends_with("@example.org") || e.ends_with("@example.net"));
        }
    }
    // Each person's own phones are theirs alone, except the networks' shared phones.
    let shared: HashSet<&str> =
        s.truth.networks.iter().flat_map(|n| n.shared_identifiers.iter()).map(|i| i.value.as_str()).collect();
    let mut owners: HashMap<&str, u64> = HashMap::new();
    for p in &s.truth.individuals {
        for ph in p.phones.iter().filter(|ph| !shared.contains(ph.as_str())) {
            if let Some(other) = owners.insert(ph, p.id) {
                panic!("{ph} belongs to {other} and {}", p.id);
            }
        }
    }
}

#[test]
fn bench_events_are_valid_varied_and_sized() {
    let now = default_now();
    let t = Instant::now();
    let events = events_for_bench(7, 30_000, now);
    println!("30k bench events in {:.2?}", t.elapsed());
    assert_eq!(events.len(), 30_000);
    assert_valid(&events, now, true);
    let kinds: HashSet<EventKind> = events.iter().map(|e| e.body.kind()).collect();
    assert!(kinds.len() >= 12, "{kinds:?}");
    let avg = events.iter().map(approx_encoded_len).sum::<usize>() / events.len();
    println!("approximate encoded size {avg} bytes per event");
    assert!((280..=500).contains(&avg), "{avg}");
}

#[test]
fn repeated_bench_events_stay_valid_and_unique() {
    let now = default_now();
    let events = bench_events(3, 12_000, now, 5_000);
    assert_eq!(events.len(), 12_000);
    // Every repetition is in publishing order; each case keeps its order throughout.
    assert_valid(&events, now, false);
    assert_eq!(events[..5_000], bench_events(3, 5_000, now, 5_000)[..]);
    assert_ne!(events[0].case_ref, events[5_000].case_ref);
}

/// Past the base scenario, bench events repeat it under new case references and ids: still unique.
#[test]
fn bench_events_beyond_the_base_scenario_keep_unique_ids() {
    let n = BENCH_BASE_EVENTS + 5_000;
    let events = events_for_bench(1, n, default_now());
    assert_eq!(events.len(), n);
    let ids: HashSet<EventId> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), events.len());
}

/// A rough protobuf size: field tags and lengths plus the text, as the stored format encodes it.
fn approx_encoded_len(e: &Event) -> usize {
    fn s(x: &str) -> usize {
        if x.is_empty() {
            0
        } else {
            2 + x.len()
        }
    }
    fn name(n: &beaconport_domain::Name) -> usize {
        2 + s(&n.forenames) + s(&n.surname)
    }
    fn address(a: &beaconport_domain::Address) -> usize {
        2 + s(&a.line1) + s(&a.line2) + s(&a.town) + s(&a.postcode) + s(&a.country)
    }
    fn place(p: &Place) -> usize {
        2 + s(&p.name) + p.address.as_ref().map_or(0, address) + p.coordinates.map_or(0, |_| 18)
    }
    fn body(b: &Body) -> usize {
        3 + match b {
            Body::CaseOpened(c) => 5 + 2 * c.force_flags.len() + 12 + s(&c.area) + s(&c.title),
            Body::PersonRecorded(p) => {
                s(&p.person_ref)
                    + 2
                    + p.name.as_ref().map_or(0, name)
                    + p.aliases.iter().map(name).sum::<usize>()
                    + p.date_of_birth.map_or(0, |d| 2 + d.to_string().len())
                    + 6
                    + p.nationalities.iter().map(|n| s(n)).sum::<usize>()
                    + p.addresses.iter().map(address).sum::<usize>()
                    + p.identifiers.iter().map(|i| 4 + s(&i.value)).sum::<usize>()
                    + p.date_of_death.map_or(0, |_| 12)
                    + s(&p.description)
            }
            Body::OffenceRecorded(o) => {
                s(&o.offence_ref)
                    + 5
                    + o.suspect_refs.iter().chain(o.victim_refs.iter()).map(|r| s(r)).sum::<usize>()
                    + 24
                    + o.place.as_ref().map_or(0, place)
            }
            Body::IdentifierObserved(o) => {
                4 + s(&o.identifier.value) + o.person_ref.as_deref().map_or(0, s) + s(&o.context)
            }
            Body::LocationObserved(l) => {
                place(&l.place) + l.person_refs.iter().map(|r| s(r)).sum::<usize>() + s(&l.context)
            }
            Body::InterviewRecorded(i) => s(&i.person_ref) + 16,
            Body::StatementTaken(t) => s(&t.person_ref) + 14,
            Body::DecisionRecorded(d) => 2 + d.person_refs.iter().map(|r| s(r)).sum::<usize>() + 2 + s(&d.reason) + 12,
            Body::CaseReferred(r) => s(&r.programme) + s(&r.reason) + 12,
            Body::IndependentReviewRecorded(r) => s(&r.reviewing_body) + 14 + s(&r.summary),
            Body::TravelRiskNoted(t) => s(&t.person_ref) + 2 + 4 + 12 + s(&t.details),
            Body::FlagApplied(f) | Body::FlagRemoved(f) => 2 + f.person_ref.as_deref().map_or(0, s) + s(&f.reason),
            Body::RecordCorrected(c) => 38 + s(&c.reason) + body(&c.replacement),
            Body::RecordRetracted(r) => 38 + s(&r.reason),
            Body::LinkDecided(l) => {
                let m = |m: &beaconport_domain::MentionRef| 6 + s(m.force.code) + s(&m.case_ref) + s(&m.person_ref);
                m(&l.a) + m(&l.b) + 2 + s(&l.reason)
            }
            Body::ConsultationRecorded(c) => {
                s(&c.principal) + s(&c.role) + s(&c.purpose) + s(&c.call) + s(&c.request) + s(&c.outcome) + 24
            }
            Body::ResolutionModelEstimated(_) => 0,
            Body::ReviewStarted(r) => s(&r.programme) + 12 + s(&r.note),
            Body::AvenueActioned(a) => s(&a.avenue) + 2 + 12 + s(&a.note),
            Body::ReviewConcluded(r) => 2 + 12 + s(&r.summary),
        }
    }
    38 + s(e.force.code) + s(&e.case_ref) + 2 * 22 + 2 + s(&e.recorded_by) + body(&e.body)
}
