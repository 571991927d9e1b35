//! What the views' tests share: the stored encoding, and events numbered in a log.

#![allow(dead_code)]

use beaconport_domain::reference::{force, offence};
use beaconport_domain::{Body, CaseOpened, Event, EventId};
use chrono::{TimeZone, Utc};

/// The stored encoding, as the projection supplies it.
pub const CODEC: beaconport_views::case::Codec = beaconport_views::case::Codec {
    decode: |b| {
        beaconport_proto::decode_stored(<beaconport_proto::pb::event::Event as prost::Message>::decode(b).ok()?).ok()
    },
    encode: |e| prost::Message::encode_to_vec(&beaconport_proto::event_to_pb(e)),
};

/// The `n`th event of a log: its id and times follow from `n`.
pub fn event(n: u128, force_code: &str, case: &str, body: Body) -> Event {
    let at = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(n as i64);
    Event {
        id: event_id(n),
        force: force(force_code).unwrap(),
        case_ref: case.to_string(),
        occurred_at: at,
        recorded_at: at,
        schema_version: 1,
        recorded_by: "off-000001".into(),
        body,
    }
}

pub fn event_id(n: u128) -> EventId {
    EventId(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n))
}

/// A case opened for the offence of classification `code`.
pub fn opened(code: &str) -> Body {
    Body::CaseOpened(CaseOpened {
        offence: offence(code).unwrap(),
        force_flags: Vec::new(),
        reported_on: None,
        area: "Area".into(),
        title: "Case".into(),
    })
}
