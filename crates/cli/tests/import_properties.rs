//! Properties of the import paths hostile files reach (`publish` NDJSON, `import persons` CSV):
//! no input panics them, an accepted NDJSON line round-trips, and every event the CSV import
//! makes is one the ledger accepts.

use beaconport_cli::import::{row_event, Mapping};
use beaconport_cli::publish::parse_line;
use beaconport_domain::Context;
use beaconport_proto::pb::event as pb;
use proptest::prelude::*;

fn ctx() -> Context {
    Context { now: beaconport_synth::default_now() }
}

fn scenario_json() -> Vec<String> {
    let options = beaconport_synth::Options {
        seed: 9,
        forces: 3,
        referred_cases: 8,
        referred_rape_cases: 2,
        ordinary_cases: 20,
        ..Default::default()
    };
    beaconport_synth::generate(&options)
        .events
        .iter()
        .take(300)
        .map(|e| serde_json::to_string(&beaconport_proto::event_to_pb(e)).unwrap())
        .collect()
}

const HEADER: [&str; 12] = [
    "id",
    "forenames",
    "surname",
    "alias",
    "date_of_birth",
    "sex",
    "postcode",
    "phone",
    "passport",
    "pnc_id",
    "national_id",
    "nationality",
];

/// Strings a careless or hostile CSV holds: empty, spaces, control characters, very long,
/// numbers, dates in every shape, non-Latin scripts.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ \\t]{0,3}",
        "[A-Za-z '\\-]{1,30}",
        "[0-9/\\-. ]{1,12}",
        "\\PC{0,40}",
        ".{0,300}",
        "[\\x00-\\x1f]{1,5}",
        Just("x".repeat(5000)),
        Just("1984-02-30".to_string()),
        Just("31/12/1899".to_string()),
        Just("2099-01-01".to_string()),
    ]
}

#[test]
fn every_generated_line_is_accepted_as_itself() {
    for line in scenario_json() {
        let e = parse_line(&line, &ctx()).unwrap_or_else(|why| panic!("{why}: {line}"));
        assert_eq!(serde_json::to_string(&e).unwrap(), line);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// Any text as a line: refused with a reason or accepted, never a panic; an accepted line,
    /// written back, is accepted as the same event.
    #[test]
    fn any_line_is_judged_without_panicking(line in ".{0,400}") {
        if let Ok(e) = parse_line(&line, &ctx()) {
            let again = parse_line(&serde_json::to_string(&e).unwrap(), &ctx()).unwrap();
            prop_assert_eq!(again, e);
        } else {
            prop_assert!(parse_line(&line, &ctx()).unwrap_err().len() > 5);
        }
    }

    /// A valid line with one JSON value replaced by something else (a number, a huge string,
    /// null, a nested object): judged without panicking, and the reason is never empty.
    #[test]
    fn a_valid_line_with_one_value_changed(pick in 0usize..300, at in any::<prop::sample::Index>(), with in prop_oneof![
        Just("null".to_string()), Just("123456789012345678901234567890".to_string()), Just("-1".to_string()),
        Just("{\"a\":{\"b\":{\"c\":[1,2,{}]}}}".to_string()), Just(format!("\"{}\"", "y".repeat(100_000))),
        Just("\"\\u0000\"".to_string()), Just("[]".to_string()), Just("true".to_string()),
    ]) {
        let lines = LINES.with(|l| l.clone());
        let line = &lines[pick % lines.len()];
        // Replace the value after one of the line's colons (outside strings is not checked:
        // a broken line must be refused just the same).
        let colons: Vec<usize> = line.match_indices("\":").map(|(i, _)| i + 2).collect();
        let start = colons[at.index(colons.len())];
        let rest = &line[start..];
        let end = rest.find([',', '}']).map(|i| start + i).unwrap_or(line.len());
        let changed = format!("{}{}{}", &line[..start], with, &line[end..]);
        match parse_line(&changed, &ctx()) {
            Ok(e) => {
                let again = parse_line(&serde_json::to_string(&e).unwrap(), &ctx()).unwrap();
                prop_assert_eq!(again, e);
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    /// Any rows under the import's own column names: an event the import makes is one the
    /// ledger accepts (fields it would refuse are left out and reported, or the row skipped).
    #[test]
    fn every_imported_row_is_an_event_the_ledger_accepts(rows in proptest::collection::vec(proptest::collection::vec(cell(), 12), 1..6)) {
        let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
        let mapping = Mapping::new(&header, "").unwrap();
        for cells in rows {
            let row = csv::StringRecord::from(cells.iter().map(|c| c.trim()).collect::<Vec<_>>());
            let mut problems = Vec::new();
            let made = row_event(&row, &mapping, "GMP", "IMPORT-1", pb::PersonRole::Suspect, "2025-06-01T00:00:00Z", &mut problems);
            if let Some(event) = made {
                if let Err(errs) = beaconport_proto::decode_event(0, event, &ctx()) {
                    prop_assert!(false, "refused: {:?} from {:?}", errs, row);
                }
            } else {
                prop_assert!(!problems.is_empty(), "a row skipped without a reason: {:?}", row);
            }
        }
    }
}

thread_local! {
    static LINES: Vec<String> = scenario_json();
}
