//! No personal data in the logs: a real `beaconport serve` process over mutual TLS, logging at
//! its default level (info), is fed the synthetic scenario, refused batches whose errors quote
//! names and dates of birth, and investigators' searches by name; its whole log output then
//! holds none of the names, dates of birth, identifiers or addresses it was given.

use std::collections::{BTreeMap, BTreeSet};

use beaconport_cli::client::Connector;
use beaconport_proto::pb::{api, event as pb};

/// The personal values of the scenario's persons that are distinctive enough to search a log for.
fn personal_values(events: &[pb::Event]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in events {
        let Some(pb::body::Kind::PersonRecorded(p)) = e.body.as_ref().and_then(|b| b.kind.as_ref()) else { continue };
        for n in p.name.iter().chain(&p.aliases) {
            out.insert(n.forenames.clone());
            out.insert(n.surname.clone());
        }
        out.insert(p.date_of_birth.clone());
        for i in &p.identifiers {
            out.insert(i.value.clone());
        }
        for a in &p.addresses {
            out.insert(a.line1.clone());
            out.insert(a.postcode.clone());
        }
    }
    // Short values ("Li", "1990") would match ordinary log text.
    out.retain(|v| v.chars().count() >= 5 && !v.chars().all(|c| c.is_ascii_digit()));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_holds_no_personal_data_at_its_default_level() {
    let events = beaconport_tests::scenario_events(41);
    let mut values = personal_values(&events);
    assert!(values.len() > 100, "only {} personal values to look for", values.len());
    let forces: Vec<String> =
        events.iter().map(|e| e.force_code.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &forces, 30).unwrap();
    let config = dir.path().join("beaconport.toml");
    let identities = std::fs::read_to_string(dir.path().join("pki/identities.toml")).unwrap();
    std::fs::write(
        &config,
        format!(
            "[tls]\ncert = {:?}\nkey = {:?}\nclient_ca = {:?}\n{identities}",
            pki.server_cert, pki.server_key, pki.ca_cert
        ),
    )
    .unwrap();
    let log_file = dir.path().join("server.log");
    let mut child = std::process::Command::new(crate::NODE)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_remove("RUST_LOG")
        .env("BEACONPORT_HTTP__LISTEN", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_file).unwrap())
        .spawn()
        .unwrap();
    let (addr, _) = beaconport_cli::serve::announced(&mut child, false).unwrap();
    let url = format!("https://{addr}");
    let as_principal = |name: &str| {
        let c = pki.clients.iter().find(|c| c.principal == name).unwrap();
        Connector::mutual_tls(&url, &pki.ca_cert, &c.cert, &c.key).unwrap()
    };

    // Every force publishes its own events.
    let mut by_force: BTreeMap<&str, Vec<pb::Event>> = BTreeMap::new();
    // Investigators' acts are theirs to record, not the forces'.
    for e in events.iter().filter(|e| !beaconport_tests::kind_of(e).by_investigators()) {
        by_force.entry(e.force_code.as_str()).or_default().push(e.clone());
    }
    let mut head = 0;
    for (force, evs) in &by_force {
        let ch = as_principal(&format!("force-{}", force.to_lowercase())).connect().await.unwrap();
        let mut ingest = beaconport_cli::client::ingest(ch);
        for chunk in evs.chunks(400) {
            let acks = ingest.publish(api::PublishRequest { events: chunk.to_vec() }).await.unwrap().into_inner().acks;
            head = head.max(acks.iter().map(|a| a.position.expect("a position") + 1).max().unwrap_or(0));
        }
        // Refused batches whose errors quote the person's own values.
        let mut bad: Vec<pb::Event> = evs
            .iter()
            .filter(|e| {
                matches!(e.body.as_ref().and_then(|b| b.kind.as_ref()), Some(pb::body::Kind::PersonRecorded(_)))
            })
            .take(20)
            .cloned()
            .collect();
        for e in &mut bad {
            e.event_id = uuid::Uuid::now_v7().to_string();
            if let Some(pb::body::Kind::PersonRecorded(p)) = e.body.as_mut().and_then(|b| b.kind.as_mut()) {
                p.date_of_birth = format!("{}-02-30", &p.date_of_birth.get(..4).unwrap_or("1990"));
                if let Some(n) = p.name.as_mut() {
                    n.surname = format!("{}\u{0}", n.surname);
                }
            }
        }
        // Their values (quoted by the errors the caller gets) are personal data too.
        values.extend(personal_values(&bad));
        let err = ingest.publish(api::PublishRequest { events: bad }).await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }

    // Investigators search by name and open dossiers and links.
    let ch = as_principal("investigator-01").connect().await.unwrap();
    let mut q = beaconport_cli::client::query(ch.clone());
    let ctx = |purpose: &str| {
        Some(api::QueryContext { purpose: purpose.into(), min_position: head, wait_ms: 60_000, as_of: None })
    };
    let names: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e.body.as_ref().and_then(|b| b.kind.as_ref()) {
            Some(pb::body::Kind::PersonRecorded(p)) => {
                p.name.as_ref().map(|n| (n.forenames.clone(), n.surname.clone()))
            }
            _ => None,
        })
        .take(10)
        .collect();
    for (forenames, surname) in &names {
        let found = q
            .search_persons(api::SearchPersonsRequest {
                context: ctx("privacy test"),
                name: format!("{forenames} {surname}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .persons;
        if let Some(p) = found.first() {
            q.get_person(api::GetPersonRequest { context: ctx("privacy test"), person_id: p.person_id.clone() })
                .await
                .unwrap();
            q.linked_suspects(api::LinkedSuspectsRequest {
                to_person_id: String::new(),
                context: ctx("privacy test"),
                person_id: p.person_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        }
    }
    // A caller refused for its role (refusals are logged).
    let force = as_principal(&format!("force-{}", forces[0].to_lowercase())).connect().await.unwrap();
    let refused = beaconport_cli::client::query(force)
        .search_persons(api::SearchPersonsRequest {
            context: ctx("privacy test"),
            name: names[0].1.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);

    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());
    let log = std::fs::read_to_string(&log_file).unwrap();
    // The log was written at info: it is not empty, and it tells what happened.
    for expected in ["ledger started", "batch rejected", "call refused", "ledger stopped"] {
        assert!(log.contains(expected), "the log lacks {expected:?}:\n{log}");
    }
    let found: Vec<&String> = values.iter().filter(|v| log.contains(v.as_str())).collect();
    assert!(found.is_empty(), "personal data in the log at info level: {found:?}\n{log}");
}
