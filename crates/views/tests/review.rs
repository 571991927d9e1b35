//! The national review's views against answers planted by the synthetic generator: the hand-built
//! fixture (scope boundaries, each kind of avenue, flags with known agreement, missing ethnicity,
//! the risk lists) and the generated national scenario (every referred case in scope and no other,
//! with the victims not heard and the suspects not interviewed it planted).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use beaconport_domain::resolution::MentionKey;
use beaconport_domain::review::OutOfScope;
use beaconport_domain::{self as d, Body, Event, EventId, Position};
use beaconport_views::review::{Review, Status};
use beaconport_views::Views;
use chrono::NaiveDate;
use common::CODEC;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn apply(views: &mut Views, events: &[Event]) {
    let start = views.applied.0;
    views.apply_batch(events.iter().enumerate().map(|(i, e)| (Position(start + i as u64), e.clone(), None)));
}

fn key(f: &str, c: &str) -> (String, String) {
    (f.to_string(), c.to_string())
}

fn out_reason(r: &Review, views: &Views, k: &(String, String)) -> Option<Vec<OutOfScope>> {
    if r.entry(k).is_some() {
        return None;
    }
    Some(beaconport_views::review::local(&views.cases[k]).scope.err().unwrap_or_default())
}

fn variant(o: &OutOfScope) -> &'static str {
    match o {
        OutOfScope::NoChildSexualOffence => "NoChildSexualOffence",
        OutOfScope::NotClosedNfa => "NotClosedNfa",
        OutOfScope::OtherDecision(_) => "OtherDecision",
        OutOfScope::DecidedBefore(_) => "DecidedBefore",
        OutOfScope::DecidedAfter(_) => "DecidedAfter",
        OutOfScope::FewerThanTwoSuspects(_) => "FewerThanTwoSuspects",
        OutOfScope::OneVictim(_) => "OneVictim",
        OutOfScope::NoSuspectAlive => "NoSuspectAlive",
        OutOfScope::AlreadyReviewed(..) => "AlreadyReviewed",
    }
}

#[test]
fn the_fixture_s_planted_answers_are_found_exactly() {
    let (events, answers) = beaconport_synth::review_fixture();
    let mut views = Views::new(Default::default(), CODEC);
    apply(&mut views, &events);
    let r = views.review(today());

    // The queue: exactly the cases in scope, in the planted order.
    let queue: Vec<(String, String)> = r.queue.iter().map(|e| e.key.clone()).collect();
    assert_eq!(queue, answers.queue);
    for (k, why) in &answers.out_of_scope {
        let reasons = out_reason(&r, &views, k).unwrap_or_else(|| panic!("{k:?} is in the queue"));
        assert!(reasons.iter().any(|o| variant(o) == *why), "{k:?}: {reasons:?}, expected {why}");
    }
    // Avenues and links to other forces' cases, exactly.
    for e in &r.queue {
        let ids: BTreeSet<String> = e.avenues.iter().map(|(a, _)| a.id()).collect();
        assert_eq!(&ids, &answers.avenues[&e.key], "avenues of {:?}", e.key);
        for (a, _) in &e.avenues {
            assert!(!a.evidence.is_empty(), "{} has no evidence", a.id());
        }
        let linked: BTreeSet<(String, String)> = e.other_force_cases.keys().cloned().collect();
        assert_eq!(&linked, &answers.other_force_cases[&e.key], "linked cases of {:?}", e.key);
    }
    // The standard definition.
    let group: BTreeSet<(String, String)> =
        r.standard.iter().filter(|(_, s)| s.group_based).map(|(k, _)| k.clone()).collect();
    assert_eq!(group, answers.group_based);
    let c4 = &r.standard[&key("WYP", "WYP-FX-C4")];
    assert!(c4.reasons.iter().any(|x| x.contains("WMP/WMP-FX-A1")), "{c4:?}");
    // Quality per force.
    let q: BTreeMap<String, [usize; 6]> = r
        .quality
        .forces
        .iter()
        .map(|f| (f.force.clone(), [f.cases, f.standard, f.flagged, f.agree, f.in_scope, f.in_scope_flagged]))
        .collect();
    assert_eq!(q, answers.quality);
    let wmp = r.quality.forces.iter().find(|f| f.force == "WMP").unwrap();
    assert_eq!(wmp.precision(), Some(0.5));
    assert_eq!(wmp.recall(), Some(0.2));
    assert_eq!(r.quality.national.cases, 17);
    for (force, want) in &answers.suspect_ethnicity {
        let s = r.quality.forces.iter().find(|f| &f.force == force).unwrap().suspects;
        assert_eq!(&[s.mentions, s.self_defined, s.self_defined_not_stated, s.observed, s.either], want, "{force}");
    }
    let b = &r.quality.suspects_in_scope;
    assert_eq!((b.persons, b.unknown), answers.suspects_in_scope);
    // Risk.
    let (f, c, p) = &answers.most_dangerous;
    let top = views.person_of(&MentionKey { force: f.clone(), case_ref: c.clone(), person_ref: p.clone() }).unwrap();
    assert_eq!(r.dangerous[0].person, top, "{:?}", r.dangerous[0]);
    assert!(r.dangerous[0].reasons.iter().any(|x| x.contains("2 forces")), "{:?}", r.dangerous[0].reasons);
    let flight: BTreeSet<d::PersonId> = answers
        .flight
        .iter()
        .map(|(f, c, p)| {
            views.person_of(&MentionKey { force: f.clone(), case_ref: c.clone(), person_ref: p.clone() }).unwrap()
        })
        .collect();
    assert_eq!(r.flight.iter().map(|e| e.person).collect::<BTreeSet<_>>(), flight);
    assert!(r.flight.iter().all(|e| !e.reasons.is_empty()));
}

/// Applies the fixture up to (not including) the event `stop`, then the rest; returns the views
/// at both points.
fn split_at(events: &[Event], stop: EventId) -> (Views, Views) {
    let i = events.iter().position(|e| e.id == stop).unwrap();
    let mut before = Views::new(Default::default(), CODEC);
    apply(&mut before, &events[..i]);
    let mut after = Views::new(Default::default(), CODEC);
    apply(&mut after, events);
    (before, after)
}

#[test]
fn corrections_and_retractions_bring_cases_into_and_out_of_scope() {
    let (events, _) = beaconport_synth::review_fixture();
    let target =
        |case: &str, pick: fn(&Body) -> bool| events.iter().find(|e| e.case_ref == case && pick(&e.body)).unwrap().id;
    let corr = |b: &Body| matches!(b, Body::RecordCorrected(_));
    let retr = |b: &Body| matches!(b, Body::RecordRetracted(_));
    for (case, pick, before_in) in
        [("GMP-FX-B4", corr as fn(&Body) -> bool, false), ("GMP-FX-B6", corr, true), ("GMP-FX-B5", retr, true)]
    {
        let (before, after) = split_at(&events, target(case, pick));
        let k = key("GMP", case);
        assert_eq!(before.review(today()).entry(&k).is_some(), before_in, "{case} before");
        assert_eq!(after.review(today()).entry(&k).is_some(), !before_in, "{case} after");
    }
}

#[test]
fn reviewers_steps_move_a_case_through_the_queue() {
    let (events, _) = beaconport_synth::review_fixture();
    let mut views = Views::new(Default::default(), CODEC);
    apply(&mut views, &events);
    let k = key("WMP", "WMP-FX-A1");
    let first = views.review(today());
    assert_eq!(first.queue[0].key, k);
    assert_eq!(first.queue[0].open_avenues(), 3);
    let mut n = 0u128;
    let mut step = |views: &mut Views, body: Body| {
        n += 1;
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z").unwrap().to_utc();
        let e = Event {
            id: EventId(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_00ee_0000_0000 + n)),
            force: d::reference::force("WMP").unwrap(),
            case_ref: k.1.clone(),
            occurred_at: at,
            recorded_at: at,
            schema_version: 1,
            recorded_by: "rev-000042".into(),
            body,
        };
        apply(views, &[e]);
    };
    let on = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    step(
        &mut views,
        Body::ReviewStarted(d::ReviewStarted {
            programme: "National NFA review".into(),
            started_on: on,
            note: String::new(),
        }),
    );
    let r = views.review(today());
    assert_eq!(r.queue[0].local.status, Status::InReview { since: on, reviewer: "rev-000042".into() });
    step(
        &mut views,
        Body::AvenueActioned(d::AvenueActioned {
            avenue: "victim_not_heard:V2".into(),
            action: d::AvenueAction::Completed,
            actioned_on: on,
            note: "ABE interview arranged and held".into(),
        }),
    );
    let r = views.review(today());
    assert_eq!(r.queue[0].open_avenues(), 2);
    let done = r.queue[0].avenues.iter().find(|(a, _)| a.id() == "victim_not_heard:V2").unwrap();
    assert_eq!(done.1.as_ref().unwrap().action, d::AvenueAction::Completed);
    step(
        &mut views,
        Body::ReviewConcluded(d::ReviewConcluded {
            conclusion: d::ReviewConclusion::Reinvestigate,
            concluded_on: on,
            summary: "returned to the force to investigate again".into(),
        }),
    );
    let r = views.review(today());
    assert!(r.queue.iter().all(|e| e.key != k), "a concluded case leaves the queue");
    assert!(r.concluded.iter().any(|e| e.key == k));
    assert_eq!(r.queue.len(), first.queue.len() - 1);
}

#[test]
fn the_national_scenario_s_referred_cases_are_the_queue() {
    let opts = beaconport_synth::Options {
        forces: 8,
        referred_cases: 150,
        referred_rape_cases: 30,
        ordinary_cases: 800,
        ..Default::default()
    };
    let s = beaconport_synth::generate(&opts);
    let mut views = Views::new(Default::default(), CODEC);
    apply(&mut views, &s.events);
    let r = views.review(today());
    let queued: BTreeSet<(String, String)> = r.queue.iter().map(|e| e.key.clone()).collect();
    let concluded: BTreeSet<(String, String)> = r.concluded.iter().map(|e| e.key.clone()).collect();
    let referred: BTreeSet<(String, String)> = s.truth.referred_cases.iter().cloned().collect();
    let planted_concluded: BTreeSet<(String, String)> =
        s.truth.review.iter().filter(|(_, p)| p.concluded).map(|(k, _)| k.clone()).collect();
    assert_eq!(concluded, planted_concluded);
    assert_eq!(
        queued.union(&concluded).cloned().collect::<BTreeSet<_>>(),
        referred,
        "the queue is exactly the referred cases"
    );
    // Rape allegations first.
    let first_other = r.queue.iter().position(|e| !e.local.rape).unwrap();
    assert!(r.queue[first_other..].iter().all(|e| !e.local.rape));
    assert_eq!(first_other, s.truth.review.values().filter(|p| p.rape && !p.concluded).count());
    let mut flagged = 0;
    for e in r.queue.iter().chain(&r.concluded) {
        let planted = &s.truth.review[&e.key];
        let subjects = |kind: d::review::AvenueKind| -> BTreeSet<String> {
            e.avenues.iter().filter(|(a, _)| a.kind == kind).map(|(a, _)| a.subject.clone()).collect()
        };
        assert_eq!(subjects(d::review::AvenueKind::VictimNotHeard), planted.victims_not_heard, "{:?}", e.key);
        assert_eq!(
            subjects(d::review::AvenueKind::SuspectNotInterviewed),
            planted.suspects_not_interviewed,
            "{:?}",
            e.key
        );
        assert_eq!(e.local.flagged_child_abuse, planted.flagged_child_abuse, "{:?}", e.key);
        assert_eq!(e.local.flagged_group, planted.flagged_group, "{:?}", e.key);
        assert!(e.standard.group_based, "{:?}: {:?}", e.key, e.standard);
        assert_eq!(matches!(e.local.status, Status::InReview { .. }), planted.started && !planted.concluded);
        let pursued: Vec<String> = e
            .avenues
            .iter()
            .filter(|(_, done)| done.as_ref().is_some_and(|x| x.action == d::AvenueAction::Pursued))
            .map(|(a, _)| a.id())
            .collect();
        assert_eq!(pursued, planted.actioned, "{:?}", e.key);
        flagged += usize::from(planted.flagged_child_abuse);
    }
    assert_eq!(r.quality.national.in_scope, referred.len());
    assert_eq!(r.quality.national.in_scope_flagged, flagged);
}
