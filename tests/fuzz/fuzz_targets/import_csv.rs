//! Any bytes as a CSV file for `beaconport import persons`: rows are turned into events without
//! panicking, and every event the import makes is one the ledger accepts (the import leaves out,
//! and reports, each field the ledger would refuse).
#![no_main]

use beaconport_cli::import::{row_event, Mapping};
use beaconport_domain::Context;
use beaconport_proto::pb::event as pb;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = Context { now: chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("a time") };
    let now = "2026-01-01T00:00:00Z";
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(data);
    let Ok(header) = reader.headers() else { return };
    let header: Vec<String> = header.iter().map(str::to_string).collect();
    let Ok(mapping) = Mapping::new(&header, "") else { return };
    for row in reader.records() {
        let Ok(row) = row else { continue };
        let mut problems = Vec::new();
        if let Some(event) = row_event(&row, &mapping, "GMP", "IMPORT-1", pb::PersonRole::Suspect, now, &mut problems) {
            if let Err(errs) = beaconport_proto::decode_event(0, event.clone(), &ctx) {
                panic!("the import made an event the ledger refuses: {errs:?} from {row:?}");
            }
        }
    }
});
