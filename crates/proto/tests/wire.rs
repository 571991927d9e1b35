//! The server's wire view of IngestService must stay interchangeable with the public API.

use beaconport_proto::pb::{api, event as pb, wire};
use prost::Message;

fn sample_event(i: u32) -> pb::Event {
    pb::Event {
        event_id: format!("0190aaaa-0000-7000-8000-{i:012}"),
        force_code: "GMP".into(),
        case_ref: format!("GMP-2014-{i:06}"),
        occurred_at: "2014-03-01T10:00:00Z".into(),
        recorded_at: "2014-03-02T10:00:00Z".into(),
        schema_version: 1,
        recorded_by: "sys-gmp-01".into(),
        body: Some(pb::Body {
            kind: Some(pb::body::Kind::CaseOpened(pb::CaseOpened {
                offence_classification: "19E".into(),
                force_flags: vec![1, 3],
                ..Default::default()
            })),
        }),
    }
}

#[test]
fn publish_request_carries_each_event_as_its_own_bytes() {
    let events: Vec<pb::Event> = (0..3).map(sample_event).collect();
    let public = api::PublishRequest { events: events.clone() }.encode_to_vec();
    let seen = wire::PublishRequest::decode(public.as_slice()).unwrap();
    assert_eq!(seen.events.len(), 3);
    for (raw, e) in seen.events.iter().zip(&events) {
        assert_eq!(raw.as_ref(), e.encode_to_vec().as_slice());
    }
    // And back: the wire form decodes as the public one.
    assert_eq!(api::PublishRequest::decode(seen.encode_to_vec().as_slice()).unwrap().events, events);
}

#[test]
fn responses_are_interchangeable() {
    let accepted = wire::PublishStreamResponse {
        sequence: 7,
        result: Some(wire::publish_stream_response::Result::Accepted(wire::PublishResponse {
            acks: vec![
                wire::EventAck { event_id: "e".into(), position: Some(42), duplicate: true, topic: None },
                wire::EventAck {
                    event_id: "k".into(),
                    position: None,
                    duplicate: false,
                    topic: Some(wire::TopicOffset { partition: 3, offset: 1 << 40 }),
                },
            ],
        })),
    };
    let public = api::PublishStreamResponse::decode(accepted.encode_to_vec().as_slice()).unwrap();
    assert_eq!(public.sequence, 7);
    let Some(api::publish_stream_response::Result::Accepted(r)) = public.result else { panic!("accepted") };
    assert_eq!((r.acks[0].event_id.as_str(), r.acks[0].position, r.acks[0].duplicate), ("e", Some(42), true));
    assert_eq!(r.acks[0].topic, None);
    assert_eq!(r.acks[1].position, None, "a writer's acknowledgement has no position");
    assert_eq!(r.acks[1].topic, Some(api::TopicOffset { partition: 3, offset: 1 << 40 }));

    let rejected = wire::PublishStreamResponse {
        sequence: 1,
        result: Some(wire::publish_stream_response::Result::Rejected(wire::Rejection {
            violations: vec![wire::FieldViolation {
                index: 2,
                event_id: "x".into(),
                field: "f".into(),
                reason: "r".into(),
            }],
        })),
    };
    let public = api::PublishStreamResponse::decode(rejected.encode_to_vec().as_slice()).unwrap();
    let Some(api::publish_stream_response::Result::Rejected(r)) = public.result else { panic!("rejected") };
    let v = &r.violations[0];
    assert_eq!((v.index, v.event_id.as_str(), v.field.as_str(), v.reason.as_str()), (2, "x", "f", "r"));
    // Byte for byte, both directions.
    assert_eq!(public_bytes(&rejected), api_roundtrip(&rejected));
}

fn public_bytes(m: &wire::PublishStreamResponse) -> Vec<u8> {
    m.encode_to_vec()
}

fn api_roundtrip(m: &wire::PublishStreamResponse) -> Vec<u8> {
    api::PublishStreamResponse::decode(m.encode_to_vec().as_slice()).unwrap().encode_to_vec()
}
