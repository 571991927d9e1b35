//! The "must not depend on" column of the crate map, checked with `cargo metadata`.

use std::collections::{HashMap, HashSet};

/// Per crate: (every crate it depends on, directly or not; the crates it names itself).
fn dependency_closure() -> HashMap<String, (HashSet<String>, HashSet<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: HashMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["name"].as_str().unwrap().to_string()))
        .collect();
    // Normal (non-dev, non-build) dependencies only.
    let mut direct: HashMap<String, Vec<String>> = HashMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let id = node["id"].as_str().unwrap().to_string();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
            .map(|d| d["pkg"].as_str().unwrap().to_string())
            .collect();
        direct.insert(id, deps);
    }
    let mut closure = HashMap::new();
    for (id, name) in &names {
        let mut seen = HashSet::new();
        let mut stack = vec![id.clone()];
        while let Some(x) = stack.pop() {
            for d in direct.get(&x).into_iter().flatten() {
                if seen.insert(names[d].clone()) {
                    stack.push(d.clone());
                }
            }
        }
        let own: HashSet<String> = direct.get(id).into_iter().flatten().map(|d| names[d].clone()).collect();
        closure.insert(name.clone(), (seen, own));
    }
    closure
}

#[test]
fn crates_keep_to_their_layer() {
    let closure = dependency_closure();
    let rules: &[(&str, &[&str])] = &[
        ("beaconport-domain", &["tokio", "tonic", "prost", "sled", "rdkafka"]),
        ("beaconport-proto", &["sled", "rdkafka", "beaconport-log"]),
        ("beaconport-log", &["sled", "rdkafka", "tonic"]),
        ("beaconport-log-sled", &["rdkafka", "tonic", "beaconport-proto"]),
        ("beaconport-server", &["sled", "rdkafka", "beaconport-log-sled", "beaconport-projection"]),
        ("beaconport-views", &["tokio", "tonic", "prost", "sled", "rdkafka", "beaconport-proto"]),
        ("beaconport-projection", &["rdkafka", "beaconport-server", "beaconport-log-sled"]),
        ("beaconport-synth", &["tokio", "tonic", "prost", "sled", "rdkafka"]),
    ];
    for (krate, forbidden) in rules {
        let (deps, _) = closure.get(*krate).unwrap_or_else(|| panic!("{krate} is not in the workspace"));
        for f in *forbidden {
            assert!(!deps.contains(*f), "{krate} depends on {f}, which its layer forbids");
        }
    }
    // The projection reads the generated messages of the proto crate, which also carries the
    // generated gRPC services (so tonic comes along); it must not use tonic itself.
    let (_, own) = &closure["beaconport-projection"];
    assert!(!own.contains("tonic"), "beaconport-projection depends on tonic itself");
}
