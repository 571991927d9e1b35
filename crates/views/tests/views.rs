//! Given these events, expect these views: case files, corrections and retractions, persons
//! resolved across forces, shared identifiers, networks and linked-suspect paths.

mod common;

use beaconport_domain::reference::{force, offence};
use beaconport_domain::resolution::MentionKey;
use beaconport_domain::{
    Body, EventId, Identifier, IdentifierKind, LinkDecided, LinkDecision, MentionRef, Name, OffenceRecorded,
    PartialDate, PersonRecorded, Position, RecordCorrected, RecordRetracted, Role, Sex,
};
use beaconport_views::graph::LinkKind;
use beaconport_views::Views;
use common::{event, event_id, opened, CODEC};

struct Log {
    views: Views,
    next: u64,
    n: u128,
}

impl Log {
    fn new() -> Self {
        Log { views: Views::new(Default::default(), CODEC), next: 0, n: 0 }
    }

    /// Applies an event of `force`/`case` and returns its id.
    fn add(&mut self, force_code: &str, case: &str, body: Body) -> EventId {
        self.n += 1;
        let e = event(self.n, force_code, case, body);
        let id = e.id;
        self.views.apply(Position(self.next), e);
        self.next += 1;
        id
    }

    fn key(force: &str, case: &str, person: &str) -> MentionKey {
        MentionKey { force: force.into(), case_ref: case.into(), person_ref: person.into() }
    }
}

fn person(
    r: &str,
    role: Role,
    forenames: &str,
    surname: &str,
    dob: Option<(i32, u32, u32)>,
    phone: Option<&str>,
) -> Body {
    Body::PersonRecorded(PersonRecorded {
        person_ref: r.into(),
        role,
        name: Some(Name { forenames: forenames.into(), surname: surname.into() }),
        aliases: Vec::new(),
        date_of_birth: dob.map(|(y, m, d)| PartialDate { year: y, month: Some(m), day: Some(d) }),
        sex: Some(Sex::Male),
        self_defined_ethnicity: None,
        officer_observed_ethnicity: None,
        nationalities: Vec::new(),
        addresses: Vec::new(),
        identifiers: phone.map(|p| Identifier { kind: IdentifierKind::Phone, value: p.into() }).into_iter().collect(),
        vital_status: None,
        date_of_death: None,
        description: String::new(),
    })
}

fn offence_against(suspects: &[&str], victims: &[&str]) -> Body {
    Body::OffenceRecorded(OffenceRecorded {
        offence_ref: "O1".into(),
        offence: offence("71").unwrap(),
        suspect_refs: suspects.iter().map(|s| s.to_string()).collect(),
        victim_refs: victims.iter().map(|s| s.to_string()).collect(),
        committed_from: None,
        committed_to: None,
        place: None,
    })
}

/// Two forces, two cases: one suspect recorded by both (name variant), his co-suspect in the
/// first, and a third man in the second who shares the co-suspect's phone.
fn two_forces() -> Log {
    let mut l = Log::new();
    l.add("GMP", "GMP-1", opened("71"));
    l.add("GMP", "GMP-1", person("S1", Role::Suspect, "Mohammed", "Khan", Some((1980, 3, 14)), Some("07700 900123")));
    l.add("GMP", "GMP-1", person("S2", Role::Suspect, "Daniel", "Price", Some((1985, 7, 1)), Some("07700 900456")));
    l.add("GMP", "GMP-1", person("V1", Role::Victim, "Amy", "Jones", Some((2004, 2, 2)), None));
    l.add("GMP", "GMP-1", offence_against(&["S1", "S2"], &["V1"]));
    l.add("WYP", "WYP-9", opened("71"));
    l.add("WYP", "WYP-9", person("A", Role::Suspect, "Muhammad", "Khan", Some((1980, 3, 14)), None));
    l.add("WYP", "WYP-9", person("B", Role::Suspect, "Lee", "Grant", Some((1979, 11, 30)), Some("+44 7700 900456")));
    l
}

#[test]
fn a_person_recorded_by_two_forces_is_one_person() {
    let l = two_forces();
    let v = &l.views;
    let a = v.person_of(&Log::key("GMP", "GMP-1", "S1")).unwrap();
    let b = v.person_of(&Log::key("WYP", "WYP-9", "A")).unwrap();
    assert_eq!(a, b, "Mohammed Khan (GMP) and Muhammad Khan (WYP), same date of birth");
    assert_ne!(a, v.person_of(&Log::key("GMP", "GMP-1", "S2")).unwrap());
    assert_eq!(v.counts().mentions, 5);
    assert_eq!(v.counts().persons, 4);
}

#[test]
fn phones_are_shared_across_forces_in_any_format() {
    let l = two_forces();
    let v = &l.views;
    let set = v
        .sharing_identifier(&(
            IdentifierKind::Phone,
            beaconport_domain::resolution::normalise_identifier(IdentifierKind::Phone, "07700 900456"),
        ))
        .unwrap();
    assert_eq!(set.len(), 2, "{set:?}");
}

#[test]
fn linked_suspects_come_with_their_paths() {
    let mut l = two_forces();
    let v = &mut l.views;
    v.refresh_networks();
    let khan = v.person_of(&Log::key("GMP", "GMP-1", "S1")).unwrap();
    let price = v.person_of(&Log::key("GMP", "GMP-1", "S2")).unwrap();
    let grant = v.person_of(&Log::key("WYP", "WYP-9", "B")).unwrap();
    let all = |_: &LinkKind| true;
    let answer = v.linked_suspects(khan, 2, &all);
    let found: Vec<_> = answer.linked.iter().map(|x| (x.person, x.hops)).collect();
    assert!(found.contains(&(price, 1)), "{found:?}");
    // Khan and Grant are co-suspects in WYP-9 (Khan resolved across forces): one hop.
    assert!(found.contains(&(grant, 1)), "{found:?}");
    let to_price = answer.linked.iter().find(|x| x.person == price).unwrap();
    assert_eq!(to_price.path[0].kind, LinkKind::CoSuspect);
    assert_eq!(to_price.path[0].case, ("GMP".to_string(), "GMP-1".to_string()));
    // Price reaches Grant through the shared phone only.
    let phones = |k: &LinkKind| matches!(k, LinkKind::SharedIdentifier(IdentifierKind::Phone));
    let by_phone = v.linked_suspects(price, 2, &phones);
    let step = &by_phone.linked.iter().find(|x| x.person == grant).expect("linked by phone").path[0];
    assert_eq!(step.kind, LinkKind::SharedIdentifier(IdentifierKind::Phone));
    assert!(step.description.contains("shares phone"), "{}", step.description);
    assert_eq!(step.case, ("WYP".to_string(), "WYP-9".to_string()));
    // One hop only: nobody beyond.
    assert!(v.linked_suspects(price, 1, &phones).linked.iter().all(|x| x.hops == 1));
}

#[test]
fn networks_span_forces() {
    let mut l = two_forces();
    l.views.refresh_networks();
    let nets = l.views.network_summaries();
    assert_eq!(nets.len(), 1, "{nets:?}");
    let n = &nets[0];
    assert_eq!(n.forces, vec!["GMP".to_string(), "WYP".to_string()]);
    assert!(n.cross_force());
    assert_eq!(n.suspects.len(), 3);
    assert_eq!(n.victims.len(), 1);
    assert_eq!(n.id, "GMP/GMP-1");
}

#[test]
fn a_retraction_takes_back_the_mention_and_its_links() {
    let mut l = two_forces();
    let extra =
        l.add("WYP", "WYP-9", person("C", Role::Suspect, "Zed", "Orr", Some((1990, 1, 1)), Some("07700 900123")));
    assert!(
        l.views
            .sharing_identifier(&(
                IdentifierKind::Phone,
                beaconport_domain::resolution::normalise_identifier(IdentifierKind::Phone, "07700900123")
            ))
            .unwrap()
            .len()
            == 2
    );
    l.add(
        "WYP",
        "WYP-9",
        Body::RecordRetracted(RecordRetracted { retracted_event_id: extra, reason: "entered in error".into() }),
    );
    let v = &mut l.views;
    assert!(v.person_of(&Log::key("WYP", "WYP-9", "C")).is_none());
    assert_eq!(
        v.sharing_identifier(&(
            IdentifierKind::Phone,
            beaconport_domain::resolution::normalise_identifier(IdentifierKind::Phone, "07700900123")
        ))
        .unwrap()
        .len(),
        1
    );
    v.refresh_networks();
    assert_eq!(v.network_summaries()[0].suspects.len(), 3);
}

#[test]
fn a_correction_replaces_the_record_and_resolution_follows() {
    let mut l = Log::new();
    l.add("GMP", "GMP-1", opened("71"));
    let first = l.add("GMP", "GMP-1", person("S1", Role::Suspect, "Mohammed", "Khan", Some((1980, 3, 14)), None));
    l.add("WYP", "WYP-9", opened("71"));
    l.add("WYP", "WYP-9", person("A", Role::Suspect, "Mohammed", "Khan", Some((1975, 9, 2)), None));
    let (k1, k2) = (Log::key("GMP", "GMP-1", "S1"), Log::key("WYP", "WYP-9", "A"));
    assert_ne!(l.views.person_of(&k1), l.views.person_of(&k2), "a common name with another date of birth");
    // GMP corrects its date of birth: now the same man.
    let replacement = person("S1", Role::Suspect, "Mohammed", "Khan", Some((1975, 9, 2)), None);
    l.add(
        "GMP",
        "GMP-1",
        Body::RecordCorrected(RecordCorrected {
            corrected_event_id: first,
            reason: "dob keyed wrongly".into(),
            replacement: Box::new(replacement),
        }),
    );
    assert_eq!(l.views.person_of(&k1), l.views.person_of(&k2));
    let case = &l.views.cases[&("GMP".to_string(), "GMP-1".to_string())];
    assert_eq!(case.persons["S1"].person.date_of_birth.unwrap().year, 1975);
    assert_eq!(case.events.len(), 2, "the correction rewrote the file, it did not add to it");
}

#[test]
fn investigators_decisions_win_over_the_score() {
    let mut l = two_forces();
    let (k1, k2) = (Log::key("GMP", "GMP-1", "S1"), Log::key("WYP", "WYP-9", "A"));
    let m = |k: &MentionKey| MentionRef {
        force: force(&k.force).unwrap(),
        case_ref: k.case_ref.clone(),
        person_ref: k.person_ref.clone(),
    };
    let split = l.add(
        "NCA",
        "NCA-R-1",
        Body::LinkDecided(LinkDecided {
            a: m(&k1),
            b: m(&k2),
            decision: LinkDecision::Different,
            reason: "checked".into(),
        }),
    );
    assert_ne!(l.views.person_of(&k1), l.views.person_of(&k2));
    // Retracting the decision lets the score decide again.
    l.add(
        "NCA",
        "NCA-R-1",
        Body::RecordRetracted(RecordRetracted { retracted_event_id: split, reason: "wrong pair".into() }),
    );
    assert_eq!(l.views.person_of(&k1), l.views.person_of(&k2));
    // And an assertion joins what the score keeps apart.
    let k3 = Log::key("WYP", "WYP-9", "B");
    l.add(
        "NCA",
        "NCA-R-2",
        Body::LinkDecided(LinkDecided {
            a: m(&k1),
            b: m(&k3),
            decision: LinkDecision::Same,
            reason: "same PNC record".into(),
        }),
    );
    assert_eq!(l.views.person_of(&k1), l.views.person_of(&k3));
    assert_eq!(l.views.person_of(&k2), l.views.person_of(&k3));
}

#[test]
fn hubs_stop_linking() {
    let mut l = Log::new();
    l.views.hub_limit = 3;
    for i in 0..5 {
        let case = format!("GMP-{i}");
        l.add("GMP", &case, opened("71"));
        l.add(
            "GMP",
            &case,
            person(
                "S",
                Role::Suspect,
                &format!("Name{i}"),
                &format!("Surname{i}"),
                Some((1970 + i, 1, 1)),
                Some("01612345678"),
            ),
        );
    }
    l.views.refresh_networks();
    assert!(l.views.network_summaries().is_empty(), "five strangers sharing a switchboard number are no network");
    let p = l.views.person_of(&Log::key("GMP", "GMP-0", "S")).unwrap();
    let answer = l.views.linked_suspects(p, 2, &|_| true);
    assert!(answer.linked.is_empty());
    assert_eq!(answer.skipped_hubs.len(), 1);
}

#[test]
fn persons_and_networks_do_not_depend_on_how_cases_interleave() {
    let gmp = |l: &mut Log| {
        l.add("GMP", "GMP-1", opened("71"));
        l.add(
            "GMP",
            "GMP-1",
            person("S1", Role::Suspect, "Mohammed", "Khan", Some((1980, 3, 14)), Some("07700 900123")),
        );
        l.add("GMP", "GMP-1", person("S2", Role::Suspect, "Daniel", "Price", Some((1985, 7, 1)), Some("07700 900456")));
        l.add("GMP", "GMP-1", person("V1", Role::Victim, "Amy", "Jones", Some((2004, 2, 2)), None));
    };
    let wyp = |l: &mut Log| {
        l.add("WYP", "WYP-9", opened("71"));
        l.add("WYP", "WYP-9", person("A", Role::Suspect, "Muhammad", "Khan", Some((1980, 3, 14)), None));
        l.add(
            "WYP",
            "WYP-9",
            person("B", Role::Suspect, "Lee", "Grant", Some((1979, 11, 30)), Some("+44 7700 900456")),
        );
    };
    let (mut x, mut y) = (Log::new(), Log::new());
    gmp(&mut x);
    wyp(&mut x);
    wyp(&mut y);
    gmp(&mut y);
    let persons = |l: &Log| {
        let mut keys: Vec<_> = l.views.contributions.keys().cloned().collect();
        keys.sort();
        keys.into_iter().map(|k| (l.views.person_of(&k), k)).collect::<Vec<_>>()
    };
    assert_eq!(persons(&x), persons(&y));
    x.views.refresh_networks();
    y.views.refresh_networks();
    assert_eq!(
        x.views.network_summaries().iter().map(|n| (&n.id, &n.suspects)).collect::<Vec<_>>(),
        y.views.network_summaries().iter().map(|n| (&n.id, &n.suspects)).collect::<Vec<_>>()
    );
}

/// A batch that names one mention in several events (recorded, then named by an offence, then
/// corrected to another phone) brings the indexes in line with it once, and ends where the same
/// events applied one at a time end.
#[test]
fn a_batch_refreshes_each_mention_once_and_ends_as_one_event_at_a_time() {
    let dob = Some((1980, 3, 14));
    let bodies = vec![
        ("GMP", "GMP-1", opened("71")),
        ("GMP", "GMP-1", person("S1", Role::Suspect, "Mohammed", "Khan", dob, Some("07700 900123"))),
        ("GMP", "GMP-1", offence_against(&["S1"], &[])),
        (
            "GMP",
            "GMP-1",
            Body::RecordCorrected(RecordCorrected {
                corrected_event_id: event_id(2),
                reason: "phone keyed wrongly".into(),
                replacement: Box::new(person("S1", Role::Suspect, "Mohammed", "Khan", dob, Some("07700 900456"))),
            }),
        ),
        ("WYP", "WYP-9", opened("71")),
        ("WYP", "WYP-9", person("B", Role::Suspect, "Lee", "Grant", Some((1979, 11, 30)), Some("+44 7700 900456"))),
        ("WYP", "WYP-9", person("A", Role::Suspect, "Muhammad", "Khan", dob, None)),
    ];
    let mut one = Log::new();
    for (f, c, b) in bodies.clone() {
        one.add(f, c, b);
    }
    let mut batch = Views::new(Default::default(), CODEC);
    batch.apply_batch(
        bodies.into_iter().enumerate().map(|(i, (f, c, b))| (Position(i as u64), event(i as u128 + 1, f, c, b), None)),
    );

    assert_eq!(batch.work.refreshes, 3, "S1, B and A, once each: {:?}", batch.work);
    assert!(one.views.work.refreshes > 3, "one event at a time refreshes S1 at each event: {:?}", one.views.work);
    let phone = |v: &str| {
        (IdentifierKind::Phone, beaconport_domain::resolution::normalise_identifier(IdentifierKind::Phone, v))
    };
    for v in [&one.views, &batch] {
        let (s1, a, b) = (Log::key("GMP", "GMP-1", "S1"), Log::key("WYP", "WYP-9", "A"), Log::key("WYP", "WYP-9", "B"));
        assert_eq!(v.person_of(&s1), v.person_of(&a), "Mohammed and Muhammad Khan, same date of birth");
        assert_ne!(v.person_of(&s1), v.person_of(&b));
        let shared: Vec<_> =
            v.sharing_identifier(&phone("07700 900456")).unwrap().iter().map(|k| (**k).clone()).collect();
        assert_eq!(shared, vec![s1.clone(), b.clone()], "the corrected phone, shared with B");
        assert!(
            v.sharing_identifier(&phone("07700 900123")).is_none_or(|s| s.is_empty()),
            "the phone corrected away is no longer S1's"
        );
        assert_eq!(v.counts().mentions, 3);
        assert_eq!(v.counts().persons, 2);
    }
    assert_eq!(one.views.counts(), batch.counts());
}
