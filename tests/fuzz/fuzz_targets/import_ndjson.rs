//! Any text as an NDJSON file for `beaconport publish`: each line is parsed and checked without
//! panicking, and a line that is accepted, written back as JSON, is accepted as the same event.
#![no_main]

use beaconport_domain::Context;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = Context { now: chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("a time") };
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        if let Ok(event) = beaconport_cli::publish::parse_line(line, &ctx) {
            let json = serde_json::to_string(&event).expect("an event writes as JSON");
            let again = beaconport_cli::publish::parse_line(&json, &ctx)
                .unwrap_or_else(|e| panic!("an accepted line, written back, is refused: {e}"));
            assert_eq!(again, event);
        }
    }
});
