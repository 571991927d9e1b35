//! Hundreds of malformed events of every kind: each refused with its field named, nothing stored.

use beaconport_domain::EventKind;
use beaconport_proto::pb::{api, event as pb};
use beaconport_tests::{kind_of, one_of_each_kind, read_all, TestServer};
use tonic_types::StatusExt;

type Change = fn(&mut pb::Event);
type Mutation = (&'static str, Change);

fn future() -> String {
    (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()
}

/// Mutations of the envelope: applied to an event of every kind. (expected field, change)
fn envelope_mutations() -> Vec<Mutation> {
    vec![
        ("event_id", |e| e.event_id = String::new()),
        ("event_id", |e| e.event_id = "not-a-uuid".into()),
        ("event_id", |e| e.event_id = "00000000-0000-0000-0000-000000000000".into()),
        ("force_code", |e| e.force_code = "XYZ".into()),
        ("force_code", |e| e.force_code = String::new()),
        ("force_code", |e| e.force_code = "gmp".into()),
        ("case_ref", |e| e.case_ref = String::new()),
        ("case_ref", |e| e.case_ref = "C".repeat(65)),
        ("case_ref", |e| e.case_ref = "GMP-1\n2".into()),
        ("occurred_at", |e| e.occurred_at = "2024-13-01T00:00:00Z".into()),
        ("occurred_at", |e| e.occurred_at = future()),
        ("occurred_at", |e| e.occurred_at = "1850-01-01T00:00:00Z".into()),
        ("recorded_at", |e| e.recorded_at = String::new()),
        ("recorded_at", |e| e.recorded_at = future()),
        ("schema_version", |e| e.schema_version = 0),
        ("schema_version", |e| e.schema_version = 2),
        ("recorded_by", |e| e.recorded_by = String::new()),
        ("recorded_by", |e| e.recorded_by = "x".repeat(500)),
        ("body", |e| e.body = None),
        ("body", |e| e.body = Some(pb::Body { kind: None })),
    ]
}

fn body_mut(e: &mut pb::Event) -> &mut pb::body::Kind {
    e.body.as_mut().unwrap().kind.as_mut().unwrap()
}

macro_rules! on {
    ($variant:ident, $x:ident => $change:expr) => {
        |e: &mut pb::Event| {
            if let pb::body::Kind::$variant($x) = body_mut(e) {
                $change;
            } else {
                unreachable!()
            }
        }
    };
}

/// Mutations of each kind's body: (kind, expected field, change).
fn body_mutations() -> Vec<(EventKind, &'static str, Change)> {
    use EventKind as K;
    vec![
        (
            K::CaseOpened,
            "case_opened.offence_classification",
            on!(CaseOpened, c => c.offence_classification = "99Z".into()),
        ),
        (
            K::CaseOpened,
            "case_opened.offence_classification",
            on!(CaseOpened, c => c.offence_classification = String::new()),
        ),
        (K::CaseOpened, "case_opened.force_flags[0]", on!(CaseOpened, c => c.force_flags = vec![0])),
        (K::CaseOpened, "case_opened.force_flags[1]", on!(CaseOpened, c => c.force_flags = vec![1, 1])),
        (K::CaseOpened, "case_opened.force_flags[0]", on!(CaseOpened, c => c.force_flags = vec![77])),
        (K::CaseOpened, "case_opened.reported_on", on!(CaseOpened, c => c.reported_on = "2019-02-29".into())),
        (K::CaseOpened, "case_opened.title", on!(CaseOpened, c => c.title = "t".repeat(201))),
        (
            K::PersonRecorded,
            "person_recorded.date_of_birth",
            on!(PersonRecorded, p => p.date_of_birth = "2031-02-30".into()),
        ),
        (
            K::PersonRecorded,
            "person_recorded.date_of_birth",
            on!(PersonRecorded, p => p.date_of_birth = "2099-01-01".into()),
        ),
        (
            K::PersonRecorded,
            "person_recorded.date_of_birth",
            on!(PersonRecorded, p => p.date_of_birth = "03/04/1990".into()),
        ),
        (
            K::PersonRecorded,
            "person_recorded.date_of_birth",
            on!(PersonRecorded, p => { p.date_of_birth = "1880-01-01".into(); p.vital_status = 1 }),
        ),
        (
            K::PersonRecorded,
            "person_recorded.name",
            on!(PersonRecorded, p => { p.name = Some(pb::Name::default()); p.description.clear() }),
        ),
        (K::PersonRecorded, "person_recorded.name", on!(PersonRecorded, p => { p.name = None; p.description.clear() })),
        (
            K::PersonRecorded,
            "person_recorded.name.forenames",
            on!(PersonRecorded, p => p.name = Some(pb::Name { forenames: "A".repeat(101), surname: "Smith".into() })),
        ),
        (
            K::PersonRecorded,
            "person_recorded.name.surname",
            on!(PersonRecorded, p => p.name = Some(pb::Name { forenames: "Ann".into(), surname: "Sm1th".into() })),
        ),
        (K::PersonRecorded, "person_recorded.role", on!(PersonRecorded, p => p.role = 0)),
        (K::PersonRecorded, "person_recorded.role", on!(PersonRecorded, p => p.role = 42)),
        (K::PersonRecorded, "person_recorded.sex", on!(PersonRecorded, p => p.sex = 9)),
        (
            K::PersonRecorded,
            "person_recorded.self_defined_ethnicity",
            on!(PersonRecorded, p => p.self_defined_ethnicity = 55),
        ),
        (
            K::PersonRecorded,
            "person_recorded.officer_observed_ethnicity",
            on!(PersonRecorded, p => p.officer_observed_ethnicity = 7),
        ),
        (
            K::PersonRecorded,
            "person_recorded.nationalities[0]",
            on!(PersonRecorded, p => p.nationalities = vec!["UK".into()]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.identifiers[0].value",
            on!(PersonRecorded, p => p.identifiers = vec![pb::Identifier { kind: 1, value: "call me".into() }]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.identifiers[0].kind",
            on!(PersonRecorded, p => p.identifiers = vec![pb::Identifier { kind: 0, value: "07700900123".into() }]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.identifiers[0].value",
            on!(PersonRecorded, p => p.identifiers = vec![pb::Identifier { kind: 5, value: "12345".into() }]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.identifiers[1]",
            on!(PersonRecorded, p => p.identifiers = vec![pb::Identifier { kind: 1, value: "07700900123".into() }; 2]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.addresses[0].postcode",
            on!(PersonRecorded, p => p.addresses = vec![pb::Address { line1: "1 High St".into(), postcode: "XYZ".into(), ..Default::default() }]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.addresses[0]",
            on!(PersonRecorded, p => p.addresses = vec![pb::Address::default()]),
        ),
        (
            K::PersonRecorded,
            "person_recorded.date_of_death",
            on!(PersonRecorded, p => { p.vital_status = 1; p.date_of_death = "2020-01-01".into() }),
        ),
        (
            K::PersonRecorded,
            "person_recorded.aliases",
            on!(PersonRecorded, p => p.aliases = vec![pb::Name { forenames: "Al".into(), surname: "X".into() }; 51]),
        ),
        (K::PersonRecorded, "person_recorded.person_ref", on!(PersonRecorded, p => p.person_ref = String::new())),
        (
            K::OffenceRecorded,
            "offence_recorded.classification",
            on!(OffenceRecorded, o => o.classification = "19Z".into()),
        ),
        (
            K::OffenceRecorded,
            "offence_recorded.victim_refs",
            on!(OffenceRecorded, o => { o.victim_refs.clear(); o.suspect_refs.clear() }),
        ),
        (
            K::OffenceRecorded,
            "offence_recorded.committed_to",
            on!(OffenceRecorded, o => { o.committed_from = "2015-05-01".into(); o.committed_to = "2014-01-01".into() }),
        ),
        (
            K::OffenceRecorded,
            "offence_recorded.committed_from",
            on!(OffenceRecorded, o => o.committed_from = "2015-00".into()),
        ),
        (
            K::OffenceRecorded,
            "offence_recorded.suspect_refs[0]",
            on!(OffenceRecorded, o => o.suspect_refs = vec![" P1".into()]),
        ),
        (K::OffenceRecorded, "offence_recorded.offence_ref", on!(OffenceRecorded, o => o.offence_ref = String::new())),
        (K::IdentifierObserved, "identifier_observed.identifier", on!(IdentifierObserved, o => o.identifier = None)),
        (
            K::IdentifierObserved,
            "identifier_observed.identifier.value",
            on!(IdentifierObserved, o => o.identifier = Some(pb::Identifier { kind: 2, value: "nobody-at-example".into() })),
        ),
        (
            K::IdentifierObserved,
            "identifier_observed.identifier.value",
            on!(IdentifierObserved, o => o.identifier = Some(pb::Identifier { kind: 3, value: "AB-12-CD".into() })),
        ),
        (
            K::IdentifierObserved,
            "identifier_observed.context",
            on!(IdentifierObserved, o => o.context = "c".repeat(2001)),
        ),
        (K::LocationObserved, "location_observed.place", on!(LocationObserved, o => o.place = None)),
        (
            K::LocationObserved,
            "location_observed.place",
            on!(LocationObserved, o => o.place = Some(pb::Place::default())),
        ),
        (
            K::LocationObserved,
            "location_observed.place.latitude",
            on!(LocationObserved, o => o.place = Some(pb::Place { name: "x".into(), latitude: 100.0, longitude: 1.0, ..Default::default() })),
        ),
        (
            K::LocationObserved,
            "location_observed.place.longitude",
            on!(LocationObserved, o => o.place = Some(pb::Place { name: "x".into(), latitude: 1.0, longitude: f64::NAN, ..Default::default() })),
        ),
        (
            K::InterviewRecorded,
            "interview_recorded.interviewed_on",
            on!(InterviewRecorded, i => i.interviewed_on = String::new()),
        ),
        (K::InterviewRecorded, "interview_recorded.kind", on!(InterviewRecorded, i => i.kind = 0)),
        (
            K::InterviewRecorded,
            "interview_recorded.person_ref",
            on!(InterviewRecorded, i => i.person_ref = String::new()),
        ),
        (K::StatementTaken, "statement_taken.kind", on!(StatementTaken, s => s.kind = 0)),
        (K::StatementTaken, "statement_taken.taken_on", on!(StatementTaken, s => s.taken_on = "2020-06".into())),
        (K::DecisionRecorded, "decision_recorded.decision", on!(DecisionRecorded, d => d.decision = 0)),
        (
            K::DecisionRecorded,
            "decision_recorded.decided_on",
            on!(DecisionRecorded, d => d.decided_on = "2020-02-30".into()),
        ),
        (K::DecisionRecorded, "decision_recorded.outcome_type", on!(DecisionRecorded, d => d.outcome_type = 40)),
        (
            K::DecisionRecorded,
            "decision_recorded.person_refs[1]",
            on!(DecisionRecorded, d => d.person_refs = vec!["P1".into(), "P1".into()]),
        ),
        (K::CaseReferred, "case_referred.programme", on!(CaseReferred, r => r.programme = String::new())),
        (K::CaseReferred, "case_referred.referred_on", on!(CaseReferred, r => r.referred_on = "soon".into())),
        (
            K::IndependentReviewRecorded,
            "independent_review_recorded.outcome",
            on!(IndependentReviewRecorded, r => r.outcome = 0),
        ),
        (
            K::IndependentReviewRecorded,
            "independent_review_recorded.reviewing_body",
            on!(IndependentReviewRecorded, r => r.reviewing_body = " ".into()),
        ),
        (
            K::TravelRiskNoted,
            "travel_risk_noted.destination_country",
            on!(TravelRiskNoted, t => t.destination_country = "ZZ".into()),
        ),
        (K::TravelRiskNoted, "travel_risk_noted.kind", on!(TravelRiskNoted, t => t.kind = 12)),
        (K::FlagApplied, "flag_applied.flag", on!(FlagApplied, f => f.flag = 0)),
        (K::FlagRemoved, "flag_removed.flag", on!(FlagRemoved, f => f.flag = 99)),
        (
            K::RecordCorrected,
            "record_corrected.corrected_event_id",
            on!(RecordCorrected, c => c.corrected_event_id = "x".into()),
        ),
        (K::RecordCorrected, "record_corrected.replacement", on!(RecordCorrected, c => c.replacement = None)),
        (
            K::RecordCorrected,
            "record_corrected.replacement",
            on!(RecordCorrected, c => c.replacement = Some(Box::new(pb::Body { kind: Some(pb::body::Kind::RecordRetracted(pb::RecordRetracted { retracted_event_id: uuid::Uuid::new_v4().to_string(), reason: "r".into() })) }))),
        ),
        (K::RecordCorrected, "record_corrected.reason", on!(RecordCorrected, c => c.reason = String::new())),
        (
            K::RecordRetracted,
            "record_retracted.retracted_event_id",
            on!(RecordRetracted, r => r.retracted_event_id = String::new()),
        ),
        (K::RecordRetracted, "record_retracted.reason", on!(RecordRetracted, r => r.reason = String::new())),
    ]
}

/// Every malformed case: (description, expected field, kind of the event it was made from, event).
pub(crate) fn corpus() -> Vec<(String, &'static str, EventKind, pb::Event)> {
    let valid = one_of_each_kind(21);
    let mut out = Vec::new();
    for base in &valid {
        for (field, change) in envelope_mutations() {
            let mut e = base.clone();
            change(&mut e);
            out.push((format!("{:?} with bad {field}", kind_of(base)), field, kind_of(base), e));
        }
    }
    for (kind, field, change) in body_mutations() {
        let base = valid.iter().find(|e| kind_of(e) == kind).unwrap();
        let mut e = base.clone();
        change(&mut e);
        out.push((format!("{kind:?}: {field}"), field, kind, e));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_each_rejected_with_their_field_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let valid = one_of_each_kind(21);
    let corpus = corpus();
    assert!(corpus.len() >= 200, "only {} malformed events", corpus.len());
    let mut c = server.ingest().await;
    for (what, field, kind, bad) in &corpus {
        // Alone, and hidden in the middle of a batch of valid events (all or nothing).
        for with_others in [false, true] {
            let (events, index) = if with_others {
                // Without the valid event it was made from, so that its id is not repeated.
                let mut events: Vec<_> = valid.iter().filter(|v| kind_of(v) != *kind).cloned().collect();
                events.insert(7, bad.clone());
                (events, 7)
            } else {
                (vec![bad.clone()], 0)
            };
            let err = c.publish(api::PublishRequest { events }).await.expect_err(what);
            assert_eq!(err.code(), tonic::Code::InvalidArgument, "{what}: {}", err.message());
            let details = err.get_details_bad_request().unwrap_or_else(|| panic!("{what}: no BadRequest details"));
            let want = format!("events[{index}].{field}");
            assert!(
                details.field_violations.iter().any(|v| v.field == want),
                "{what}: expected a violation of {want}, got {:?}",
                details.field_violations.iter().map(|v| (&v.field, &v.description)).collect::<Vec<_>>()
            );
            // The message names the event and the field.
            let label = if bad.event_id.is_empty() {
                format!("event #{index}")
            } else {
                format!("event {}", bad.event_id.chars().take(40).collect::<String>())
            };
            assert!(err.message().contains(&label), "{what}: message lacks {label:?}: {}", err.message());
            assert!(err.message().contains(field), "{what}: message lacks {field}: {}", err.message());
        }
    }
    // Duplicate ids within one batch.
    let dup = vec![valid[0].clone(), valid[1].clone(), valid[0].clone()];
    let err = c.publish(api::PublishRequest { events: dup }).await.unwrap_err();
    let details = err.get_details_bad_request().unwrap();
    assert!(details
        .field_violations
        .iter()
        .any(|v| v.field == "events[2].event_id" && v.description.contains("duplicates")));
    // An empty batch.
    let err = c.publish(api::PublishRequest { events: vec![] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);

    assert!(read_all(&server.url).await.is_empty(), "a malformed event was stored");
    // The server still serves.
    let acks = c.publish(api::PublishRequest { events: valid.clone() }).await.unwrap().into_inner().acks;
    assert_eq!(acks.len(), valid.len());
    server.stop().await;
}

#[test]
fn the_example_message_reads_as_specified() {
    let mut e = one_of_each_kind(21).into_iter().find(|e| kind_of(e) == EventKind::PersonRecorded).unwrap();
    if let pb::body::Kind::PersonRecorded(p) = body_mut(&mut e) {
        p.date_of_birth = "2031-02-30".into();
    }
    let ctx = beaconport_domain::Context { now: chrono::Utc::now() };
    let errs = beaconport_proto::decode_event(0, e.clone(), &ctx).unwrap_err();
    assert_eq!(
        errs[0].to_string(),
        format!("event {}: person_recorded.date_of_birth: 2031-02-30 is not a valid date", e.event_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_or_unknown_bytes_are_refused_and_nothing_is_stored() {
    use prost::Message;
    let server = TestServer::start().await;
    let valid = one_of_each_kind(22);
    let mut raw = beaconport_cli::client::PreEncodedIngest::new(server.channel().await);
    // Encodes a PublishRequest by hand: field 1, length-delimited, for each event's bytes.
    let request = |events: Vec<Vec<u8>>| -> bytes::Bytes {
        let mut out = Vec::new();
        for e in events {
            prost::encoding::bytes::encode(1, &e, &mut out);
        }
        out.into()
    };
    let good = valid[0].encode_to_vec();
    let mut unknown_field = good.clone();
    prost::encoding::uint32::encode(99, &7, &mut unknown_field);
    let truncated = good[..good.len() - 3].to_vec();
    let not_protobuf = b"\xff\xff\xff\xff garbage".to_vec();
    for (what, bad) in [("unknown field", unknown_field), ("truncated", truncated), ("garbage", not_protobuf)] {
        let err = raw.publish(request(vec![valid[1].encode_to_vec(), bad])).await.expect_err(what);
        assert_eq!(err.code(), tonic::Code::InvalidArgument, "{what}: {}", err.message());
        let details = err.get_details_bad_request().unwrap_or_else(|| panic!("{what}: no details"));
        assert_eq!(details.field_violations[0].field, "events[1].event", "{what}");
    }
    assert!(read_all(&server.url).await.is_empty());
    let acks = raw.publish(request(vec![good])).await.unwrap();
    assert_eq!(acks.acks.len(), 1);
    server.stop().await;
}

/// A batch larger than the server decodes in one step (it yields between steps of 512 events):
/// problems in every step are each named at their place, nothing is stored, and the same batch
/// made valid is stored whole, acknowledged in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_decoded_in_several_steps_is_still_all_or_nothing() {
    let server = TestServer::start().await;
    let now = chrono::Utc::now();
    let valid: Vec<pb::Event> =
        beaconport_synth::events_for_bench(31, 1_500, now).iter().map(beaconport_proto::event_to_pb).collect();
    let mut c = server.ingest().await;
    let mut bad = valid.clone();
    bad[10].force_code = "XX".into();
    bad[700].recorded_at = "yesterday".into();
    bad[1_400].event_id = bad[3].event_id.clone();
    bad[1_499].schema_version = 0;
    let err = c.publish(api::PublishRequest { events: bad }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{}", err.message());
    let fields: Vec<String> = err
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    for want in
        ["events[10].force_code", "events[700].recorded_at", "events[1400].event_id", "events[1499].schema_version"]
    {
        assert!(fields.iter().any(|f| f == want), "no violation of {want} in {fields:?}");
    }
    assert!(read_all(&server.url).await.is_empty(), "an event of a rejected batch was stored");

    let acks = c.publish(api::PublishRequest { events: valid.clone() }).await.unwrap().into_inner().acks;
    let ids: Vec<&str> = acks.iter().map(|a| a.event_id.as_str()).collect();
    let want: Vec<&str> = valid.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, want, "acknowledgements out of batch order");
    assert!(acks.iter().all(|a| !a.duplicate));
    assert_eq!(read_all(&server.url).await.len(), valid.len());
    server.stop().await;
}
