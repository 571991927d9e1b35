//! A resolution model written into the ledger reads back as a model that weighs every pair as
//! the estimated one did, and a damaged one is refused with its part named.

use beaconport_domain::resolution::{self, Model, Record};
use beaconport_domain::{Body, Event, EventId, ResolutionModelEstimated};
use beaconport_proto::pb::event as pb;
use prost::Message;

fn records() -> Vec<Record> {
    let opts = beaconport_synth::Options {
        seed: 41,
        forces: 6,
        referred_cases: 60,
        referred_rape_cases: 12,
        ordinary_cases: 400,
        ..Default::default()
    };
    beaconport_synth::generate(&opts)
        .events
        .iter()
        .filter_map(|e| match &e.body {
            Body::PersonRecorded(p) => Some(Record::from_person(p)),
            _ => None,
        })
        .collect()
}

fn model_event(model: Model) -> Event {
    let now = chrono::Utc::now();
    Event {
        id: EventId(uuid::Uuid::now_v7()),
        force: beaconport_domain::reference::force("NCA").unwrap(),
        case_ref: "RESOLUTION-MODEL".into(),
        occurred_at: now,
        recorded_at: now,
        schema_version: 1,
        recorded_by: "beaconport-views".into(),
        body: Body::ResolutionModelEstimated(ResolutionModelEstimated { level: 10, mentions: 1100, model }),
    }
}

fn read_back(bytes: &[u8]) -> Result<Model, String> {
    let e = pb::Event::decode(bytes).map_err(|e| e.to_string())?;
    match beaconport_proto::decode_stored(e) {
        Ok(Event { body: Body::ResolutionModelEstimated(r), .. }) => Ok(r.model),
        Ok(other) => Err(format!("read back as {}", other.body.kind().name())),
        Err(errs) => Err(errs.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>().join("; ")),
    }
}

#[test]
fn a_written_model_weighs_every_pair_as_the_estimated_one() {
    let records = records();
    assert!(records.len() > 1000, "{} records", records.len());
    let estimated = Model::estimate(&records);
    assert_ne!(estimated, Model::default(), "estimated from the data, not the priors");
    let bytes = beaconport_proto::event_to_pb(&model_event(estimated.clone())).encode_to_vec();
    assert!(bytes.len() < 1 << 20, "{} bytes: within the log's record limit", bytes.len());
    let written = read_back(&bytes).expect("a written model reads back");
    assert_eq!(written.prior(), estimated.prior());
    // Written again, it is the same bytes: nothing is lost a second time.
    let again = beaconport_proto::event_to_pb(&model_event(written.clone()));
    assert_eq!(read_back(&again.encode_to_vec()).unwrap(), written);
    // Every pair of neighbouring records (and a stride through the rest) weighs the same.
    let mut compared = 0;
    for (i, a) in records.iter().enumerate() {
        for b in [records.get(i + 1), records.get((i * 7919) % records.len())].into_iter().flatten() {
            let (x, y) = (resolution::compare(&estimated, a, b), resolution::compare(&written, a, b));
            assert_eq!(x.weight, y.weight, "{a:?} / {b:?}");
            compared += 1;
        }
    }
    assert!(compared > 2000);
}

#[test]
fn a_damaged_model_is_refused_with_its_part_named() {
    let good = beaconport_proto::event_to_pb(&model_event(Model::estimate(&records())));
    let damage = |f: &dyn Fn(&mut pb::ResolutionModelEstimated)| {
        let mut e = good.clone();
        let Some(pb::body::Kind::ResolutionModelEstimated(m)) = e.body.as_mut().and_then(|b| b.kind.as_mut()) else {
            panic!("a model event")
        };
        f(m);
        read_back(&e.encode_to_vec()).expect_err("refused")
    };
    type Damage = Box<dyn Fn(&mut pb::ResolutionModelEstimated)>;
    let cases: Vec<(&str, Damage)> = vec![
        ("resolution_model_estimated.prior", Box::new(|m| m.prior_log2_odds = f64::NAN)),
        ("resolution_model_estimated.fields", Box::new(|m| m.fields.truncate(3))),
        ("resolution_model_estimated.fields[0].field", Box::new(|m| m.fields[0].field = "shoe size".into())),
        ("resolution_model_estimated.fields[2].m", Box::new(|m| m.fields[2].m.truncate(1))),
        ("resolution_model_estimated.fields[1].u", Box::new(|m| m.fields[1].u[0] = 1.5)),
        (
            "resolution_model_estimated.term_frequencies[1].counts",
            Box::new(|m| m.term_frequencies[1].counts.truncate(0)),
        ),
        ("resolution_model_estimated.term_frequencies[0].total", Box::new(|m| m.term_frequencies[0].total = 1)),
        ("resolution_model_estimated.mentions", Box::new(|m| m.mentions = 3)),
    ];
    for (field, f) in cases {
        let err = damage(f.as_ref());
        assert!(err.starts_with(&format!("{field}:")), "expected {field}, got {err}");
    }
}
