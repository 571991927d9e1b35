//! Properties of decoding and validation: hostile bytes never panic, and every valid event
//! survives wire and JSON round trips unchanged.

use beaconport_domain::Context;
use beaconport_proto::pb::event as pb;
use beaconport_proto::{decode_event, event_to_pb};
use proptest::prelude::*;
use prost::Message;

fn scenario() -> Vec<beaconport_domain::Event> {
    let options = beaconport_synth::Options {
        seed: 3,
        forces: 5,
        referred_cases: 30,
        referred_rape_cases: 6,
        ordinary_cases: 120,
        ..Default::default()
    };
    beaconport_synth::generate(&options).events
}

fn ctx() -> Context {
    Context { now: beaconport_synth::default_now() }
}

#[test]
fn every_generated_event_round_trips_through_protobuf_and_json() {
    let events = scenario();
    assert!(events.len() > 1000);
    for (i, e) in events.iter().enumerate() {
        let wire = event_to_pb(e);
        let bytes = wire.encode_to_vec();
        let back = pb::Event::decode(bytes.as_slice()).unwrap();
        assert_eq!(back, wire, "event {i}: protobuf round trip");
        let json = serde_json::to_string(&wire).unwrap();
        let from_json: pb::Event = serde_json::from_str(&json).unwrap();
        assert_eq!(from_json, wire, "event {i}: JSON round trip");
        let decoded = decode_event(i, from_json, &ctx()).unwrap_or_else(|errs| panic!("event {i}: {errs:?}"));
        assert_eq!(&decoded, e, "event {i}: domain round trip");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any bytes: decoding either fails or yields an event that validation judges without
    /// panicking.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(e) = pb::Event::decode(bytes.as_slice()) {
            let _ = decode_event(0, e, &ctx());
        }
    }

    /// A valid event with one byte changed: no panic, and if it still validates it still
    /// re-encodes to a decodable event.
    #[test]
    fn one_flipped_byte_never_panics(pick in 0usize..1000, at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let events = SCENARIO.with(|s| s.clone());
        let e = &events[pick % events.len()];
        let mut bytes = event_to_pb(e).encode_to_vec();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        if let Ok(wire) = pb::Event::decode(bytes.as_slice()) {
            if decode_event(0, wire.clone(), &ctx()).is_ok() {
                prop_assert!(pb::Event::decode(wire.encode_to_vec().as_slice()).is_ok());
            }
        }
    }

    /// Arbitrary strings in the envelope's text fields: refused or accepted, never a panic, and
    /// an accepted event's strings are within the limits.
    #[test]
    fn arbitrary_envelope_strings(case_ref in ".{0,80}", recorded_by in ".{0,80}", force in "[A-Z]{0,5}") {
        let events = SCENARIO.with(|s| s.clone());
        let mut wire = event_to_pb(&events[0]);
        wire.case_ref = case_ref;
        wire.recorded_by = recorded_by;
        wire.force_code = force;
        if let Ok(d) = decode_event(0, wire, &ctx()) {
            prop_assert!(d.case_ref.chars().count() <= beaconport_domain::rules::MAX_REF);
            prop_assert!(!d.case_ref.trim().is_empty());
        }
    }
}

thread_local! {
    static SCENARIO: Vec<beaconport_domain::Event> = scenario().into_iter().take(1000).collect();
}
