//! `beaconport publish FILE` and `beaconport log`, run as the real command against a real server.

use std::process::Command;

use beaconport_proto::pb::event as pb;
use beaconport_tests::{scenario_events, NodeProcess};

fn node() -> Command {
    Command::new(crate::NODE)
}

#[test]
fn publish_ndjson_reports_each_bad_line_and_stores_the_rest_once() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<pb::Event> = scenario_events(31).into_iter().take(1200).collect();
    let mut lines: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    // Line 5: not JSON. Line 10: an impossible date. Line 15: an id reused for another event.
    lines.insert(4, "{ this is not json".into());
    let mut bad = serde_json::to_value(&events[100]).unwrap();
    bad["occurred_at"] = "2019-02-30T00:00:00Z".into();
    lines.insert(9, bad.to_string());
    let mut reused = events[0].clone();
    reused.recorded_by = "sys-other-01".into();
    lines.insert(14, serde_json::to_string(&reused).unwrap());
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let node_proc = NodeProcess::start(crate::NODE, &dir.path().join("ledger"));
    let out = node().args(["publish", "--server", &node_proc.url]).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("read 1203 lines: 1200 stored (1200 new, 0 already stored), 3 rejected"), "{stdout}");
    assert!(stdout.contains("line 5: not an event in proto3 JSON"), "{stdout}");
    assert!(
        stdout.contains("line 10: event ")
            && stdout.contains("occurred_at: \"2019-02-30T00:00:00Z\" is not an RFC 3339 timestamp"),
        "{stdout}"
    );
    assert!(stdout.contains("line 15: event ") && stdout.contains("already used on line 1"), "{stdout}");

    // Publishing the same file again stores nothing new.
    let out = node().args(["publish", "--server", &node_proc.url]).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1200 stored (0 new, 1200 already stored), 3 rejected"), "{stdout}");

    // `log --json` prints every stored event, in order, in the proto3 JSON mapping.
    let out = node().args(["log", "--json", "--limit", "0", "--server", &node_proc.url]).output().unwrap();
    assert!(out.status.success());
    let printed: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(printed.len(), 1200);
    for (i, (p, e)) in printed.iter().zip(&events).enumerate() {
        // proto3 JSON writes 64-bit integers as strings, and leaves out zero values.
        assert_eq!(p["position"].as_str().unwrap_or("0"), i.to_string(), "entry {i}");
        assert_eq!(p["event"]["event_id"], e.event_id, "entry {i}");
    }
    assert!(node_proc.stop().success());

    // With the server stopped, the data directory can be read directly.
    let out = node()
        .args(["log", "--from", "1190", "--limit", "5", "--data-dir"])
        .arg(dir.path().join("ledger"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    assert!(stdout.contains(&events[1190].event_id), "{stdout}");
}
