//! Any bytes as a published batch (IngestService's wire view) and as one event: decoding and
//! validation never panic, and an event the ledger accepts, converted back to protobuf, is
//! accepted again as the same event.
#![no_main]

use beaconport_domain::Context;
use beaconport_proto::{decode_event, decode_wire_batch, event_to_pb};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn accepted_again(events: &[beaconport_domain::Event], ctx: &Context) {
    for e in events {
        let back = decode_event(0, event_to_pb(e), ctx)
            .unwrap_or_else(|errs| panic!("an accepted event, re-encoded, is refused: {errs:?}"));
        assert_eq!(&back, e, "an accepted event changed on its way back");
    }
}

fuzz_target!(|data: &[u8]| {
    let ctx = Context { now: chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("a time") };
    if let Ok(request) = beaconport_proto::pb::wire::PublishRequest::decode(data) {
        if let Ok(events) = decode_wire_batch(&request.events, &ctx, |e| e) {
            accepted_again(&events, &ctx);
        }
    }
    if let Ok(events) = decode_wire_batch(&[data], &ctx, |e| e) {
        accepted_again(&events, &ctx);
    }
});
