//! QueryService end to end: purpose required, read-your-writes, search, dossier, linked suspects
//! with paths, networks, investigators' link decisions as events, and the CSV import/export path.

use std::collections::{HashMap, HashSet};

use beaconport_proto::pb::{api, event as pb};
use beaconport_tests::{scenario_events, TestServer};

fn ctx(min_position: u64) -> Option<api::QueryContext> {
    Some(api::QueryContext { purpose: "e2e test".into(), min_position, wait_ms: 30_000, as_of: None })
}

async fn publish_all(server: &TestServer, events: &[pb::Event]) -> u64 {
    let mut c = server.ingest().await;
    let mut next = 0;
    for chunk in events.chunks(500) {
        let acks = c.publish(api::PublishRequest { events: chunk.to_vec() }).await.unwrap().into_inner().acks;
        next = next.max(acks.iter().map(|a| a.position.expect("a position") + 1).max().unwrap_or(0));
    }
    next
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_needs_a_purpose() {
    let server = TestServer::start().await;
    let mut q = server.query().await;
    for context in [None, Some(api::QueryContext { purpose: "  ".into(), min_position: 0, wait_ms: 0, as_of: None })] {
        let err = q
            .search_persons(api::SearchPersonsRequest { context, name: "Smith".into(), ..Default::default() })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("context.purpose"), "{}", err.message());
    }
    let err = q.list_networks(api::ListNetworksRequest::default()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let err = q
        .linked_suspects(api::LinkedSuspectsRequest {
            to_person_id: String::new(),
            context: ctx(0),
            person_id: "not-an-id".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.message().contains("person_id"), "{}", err.message());
    let err = q
        .linked_suspects(api::LinkedSuspectsRequest {
            to_person_id: String::new(),
            context: ctx(0),
            person_id: uuid::Uuid::new_v4().to_string(),
            max_hops: 5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.message().contains("max_hops"), "{}", err.message());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_picture_over_grpc() {
    let server = TestServer::start().await;
    let events = scenario_events(31);
    let head = publish_all(&server, &events).await;
    let mut q = server.query().await;

    // Every mention is exported with a person, once.
    let mut stream = q
        .export_mentions(api::ExportMentionsRequest { context: ctx(head), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let mut rows = Vec::new();
    while let Some(r) = futures::StreamExt::next(&mut stream).await {
        rows.push(r.unwrap());
    }
    let keys: HashSet<_> = rows.iter().map(|r| r.mention.clone().unwrap()).collect();
    assert_eq!(keys.len(), rows.len());
    let recorded: HashSet<(String, String, String)> = events
        .iter()
        .filter_map(|e| match e.body.as_ref()?.kind.as_ref()? {
            pb::body::Kind::PersonRecorded(p) => Some((e.force_code.clone(), e.case_ref.clone(), p.person_ref.clone())),
            _ => None,
        })
        .collect();
    assert!(
        rows.len() <= recorded.len() && rows.len() * 10 >= recorded.len() * 9,
        "{} of {}",
        rows.len(),
        recorded.len()
    );

    // Networks crossing forces, and the same network by id.
    let nets = q
        .list_networks(api::ListNetworksRequest { context: ctx(head), min_forces: 2, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert!(nets.total >= 1, "the scenario's cross-force networks are found");
    let first = &nets.networks[0];
    assert!(first.cross_force && first.forces.len() >= 2 && first.suspects >= 2);
    let detail = q
        .get_network(api::GetNetworkRequest {
            context: ctx(head),
            network_id: first.network_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(detail.summary.as_ref().unwrap(), first);
    let node_ids: HashSet<&str> = detail.nodes.iter().map(|n| n.id.as_str()).collect();
    assert!(detail.edges.iter().all(|e| node_ids.contains(e.from.as_str()) && node_ids.contains(e.to.as_str())));

    // A suspect of that network: dossier, search by name, linked suspects with paths.
    let suspect =
        detail.edges.iter().find(|e| e.kind == "suspect_in").unwrap().from.trim_start_matches("person:").to_string();
    let dossier = q
        .get_person(api::GetPersonRequest { context: ctx(head), person_id: suspect.clone() })
        .await
        .unwrap()
        .into_inner();
    let p = dossier.person.clone().unwrap();
    assert_eq!(dossier.network_id, first.network_id);
    assert_eq!(dossier.mentions.len() as u32, p.mentions);
    assert!(dossier.cases.iter().any(|c| c.role == "suspect"));
    let found = q
        .search_persons(api::SearchPersonsRequest {
            context: ctx(head),
            name: p.display_name.clone(),
            page_size: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(found.persons.iter().any(|x| x.person_id == suspect), "{} not found by name", p.display_name);
    let linked = q
        .linked_suspects(api::LinkedSuspectsRequest {
            to_person_id: String::new(),
            context: ctx(head),
            person_id: suspect.clone(),
            max_hops: 3,
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!linked.suspects.is_empty());
    for l in &linked.suspects {
        assert_eq!(l.path.len() as u32, l.hops);
        assert_eq!(l.path[0].from_person_id, suspect, "paths start at the person asked about");
        assert_eq!(l.path.last().unwrap().to_person_id, l.person.as_ref().unwrap().person_id);
        for w in l.path.windows(2) {
            assert_eq!(w[0].to_person_id, w[1].from_person_id, "paths are connected");
        }
        assert!(!l.explanation.is_empty() && !l.path[0].case_ref.is_empty());
    }
    // Hops are shortest: every one-hop suspect is reported at one hop.
    let one = q
        .linked_suspects(api::LinkedSuspectsRequest {
            to_person_id: String::new(),
            context: ctx(head),
            person_id: suspect,
            max_hops: 1,
            page_size: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let one_ids: HashSet<_> = one.suspects.iter().map(|s| s.person.clone().unwrap().person_id).collect();
    let at_one: HashSet<_> =
        linked.suspects.iter().filter(|s| s.hops == 1).map(|s| s.person.clone().unwrap().person_id).collect();
    assert_eq!(one_ids, at_one);
    server.stop().await;
}

#[allow(clippy::too_many_arguments)] // a fixture: every field named at the call
fn person_event(
    n: u128,
    force: &str,
    case: &str,
    r: &str,
    forenames: &str,
    surname: &str,
    dob: &str,
    role: pb::PersonRole,
) -> pb::Event {
    pb::Event {
        event_id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n).to_string(),
        force_code: force.into(),
        case_ref: case.into(),
        occurred_at: "2021-05-01T10:00:00Z".into(),
        recorded_at: "2021-05-01T10:00:00Z".into(),
        schema_version: 1,
        recorded_by: "off-000001".into(),
        body: Some(pb::Body {
            kind: Some(pb::body::Kind::PersonRecorded(pb::PersonRecorded {
                person_ref: r.into(),
                role: role as i32,
                name: Some(pb::Name { forenames: forenames.into(), surname: surname.into() }),
                date_of_birth: dob.into(),
                ..Default::default()
            })),
        }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn investigators_decide_links_and_read_their_own_writes() {
    let server = TestServer::start().await;
    let events = vec![
        person_event(1, "GMP", "GMP-2019-1", "P1", "John", "Smith", "1970-04-02", pb::PersonRole::Suspect),
        person_event(2, "WYP", "WYP-2020-7", "P9", "John", "Smith", "1988-11-20", pb::PersonRole::Suspect),
    ];
    let head = publish_all(&server, &events).await;
    let mut q = server.query().await;
    let person = |q: &mut api::query_service_client::QueryServiceClient<_>, at: u64| {
        let mut q = q.clone();
        async move {
            let found = q
                .search_persons(api::SearchPersonsRequest {
                    context: ctx(at),
                    name: "John Smith".into(),
                    page_size: 10,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            found.persons
        }
    };
    assert_eq!(person(&mut q, head).await.len(), 2, "a common name, two dates of birth: two people");
    let m = |f: &str, c: &str, r: &str| {
        Some(pb::MentionRef { force_code: f.into(), case_ref: c.into(), person_ref: r.into() })
    };
    let same = || api::DecideLinkRequest {
        context: ctx(0),
        a: m("GMP", "GMP-2019-1", "P1"),
        b: m("WYP", "WYP-2020-7", "P9"),
        decision: pb::LinkDecision::Same as i32,
        reason: "the same PNC record; dob keyed wrongly by WYP".into(),
        force_code: "NCA".into(),
        case_ref: "NCA-REVIEW-1".into(),
        event_id: "01900000-0000-7000-8000-00000000aaaa".into(),
        recorded_by: "inv-000042".into(),
    };
    let decided = q.decide_link(same()).await.unwrap().into_inner();
    assert!(!decided.duplicate);
    // Read your own writes: the decision is in the very next answer.
    let after = person(&mut q, decided.position + 1).await;
    assert_eq!(after.len(), 1, "{after:?}");
    let dossier = q
        .get_person(api::GetPersonRequest { context: ctx(decided.position + 1), person_id: after[0].person_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dossier.mentions.len(), 2);
    assert!(dossier.evidence.iter().any(|e| e.asserted), "the evidence says an investigator asserted it");
    // The decision is an event in the log; retried, it is stored once.
    let again = q.decide_link(same()).await;
    // Same id, but a new time stamp in the envelope: a conflict, never a second copy.
    match again {
        Ok(r) => assert!(r.into_inner().duplicate),
        Err(s) => assert_eq!(s.code(), tonic::Code::AlreadyExists),
    }
    let log = beaconport_tests::read_all(&server.url).await;
    let kinds: Vec<_> = log.iter().filter_map(|e| e.event.as_ref()).map(beaconport_tests::kind_of).collect();
    let not_consultations = kinds.iter().filter(|k| **k != beaconport_domain::EventKind::ConsultationRecorded).count();
    assert_eq!(not_consultations, 3, "two cases' persons and one decision, stored once: {kinds:?}");
    // A bad decision is refused with its field named, and nothing stored.
    let err = q
        .decide_link(api::DecideLinkRequest {
            context: ctx(0),
            a: m("GMP", "GMP-2019-1", "P1"),
            b: m("XXX", "WYP-2020-7", "P9"),
            decision: pb::LinkDecision::Different as i32,
            reason: "r".into(),
            force_code: "NCA".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().contains("link_decided.b.force_code"), "{}", err.message());
    let after = beaconport_tests::read_all(&server.url).await;
    assert_eq!(after.len(), log.len(), "a refused decision stores nothing, not even a consultation");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labelled_csv_goes_through_the_pipeline_and_comes_back_resolved() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "rec_id,given_name,surname,dob,postcode,phone\n\
         a1,Mohammed,Khan,1981-06-03,M14 5RT,07700 900111\n\
         a2,Muhammad,Khan,03/06/1981,M14 5RT,\n\
         a3,Khan,Mohamed,1981-06-03,,07700900111\n\
         b1,Sarah,Wilson,1990-01-15,LS6 2AB,\n\
         b2,Sara,Willson,1990-01-15,LS6 2AB,\n\
         c1,David,Jones,1955-03-04,CF10 1AA,\n\
         c2,David,Jones,1987-02-11,CF10 1AA,\n\
         d1,Peter,Brown,1960-02-30,,\n",
    )
    .unwrap();
    let args = beaconport_cli::import::ImportPersonsArgs {
        file: file.clone(),
        server: beaconport_cli::client::ServerArgs::plaintext(&server.url),
        force: "NCA".into(),
        case: None,
        role: "witness".into(),
        map: "dob=date_of_birth".into(),
        set: String::new(),
        batch_size: 3,
        show_problems: 10,
        recorded_at: None,
    };
    let s = beaconport_cli::import::import_persons(&args).await.unwrap();
    assert_eq!((s.rows, s.stored_new, s.rejected), (8, 8, 0));
    assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
    assert!(s.problems[0].1.starts_with("date_of_birth:"), "{:?}", s.problems);
    // Importing again stores nothing new: the events are stamped with when the file was
    // written, not when it is imported.
    let again = beaconport_cli::import::import_persons(&args).await.unwrap();
    assert_eq!((again.stored_new, again.already_stored, again.stored_at_another_time), (0, 8, 0));
    // Nor does importing the same rows written again later, or with another --recorded-at.
    let stored = beaconport_tests::read_all(&server.url).await.len();
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    let earlier = written - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(earlier).unwrap();
    let rewritten = beaconport_cli::import::import_persons(&args).await.unwrap();
    assert_eq!((rewritten.stored_new, rewritten.already_stored, rewritten.stored_at_another_time), (0, 8, 8));
    let stamped =
        beaconport_cli::import::ImportPersonsArgs { recorded_at: Some("2024-05-01T09:00:00Z".into()), ..args.clone() };
    let other = beaconport_cli::import::import_persons(&stamped).await.unwrap();
    assert_eq!((other.stored_new, other.already_stored, other.rejected), (0, 8, 0));
    let future =
        beaconport_cli::import::ImportPersonsArgs { recorded_at: Some("2999-01-01T00:00:00Z".into()), ..args.clone() };
    let err = beaconport_cli::import::import_persons(&future).await.unwrap_err();
    assert!(err.to_string().contains("--recorded-at"), "{err}");
    // A placeholder time on the file (an archive's 1980) would refuse every date of birth: asked for.
    let placeholder = std::time::UNIX_EPOCH + std::time::Duration::from_secs(315_532_800);
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(placeholder).unwrap();
    let err = beaconport_cli::import::import_persons(&args).await.unwrap_err();
    assert!(err.to_string().contains("--recorded-at") && err.to_string().contains("1980"), "{err}");
    assert_eq!(beaconport_tests::read_all(&server.url).await.len(), stored, "nothing stored twice");
    let rows = beaconport_cli::import::export_persons(&beaconport_cli::import::ExportPersonsArgs {
        server: beaconport_cli::client::ServerArgs::plaintext(&server.url),
        purpose: "e2e: scoring".into(),
        force: "NCA".into(),
        case: "IMPORT-PEOPLE".into(),
        out: None,
        min_position: s.next_position,
    })
    .await
    .unwrap();
    let person: HashMap<String, String> =
        rows.iter().map(|r| (r.mention.clone().unwrap().person_ref, r.person_id.clone())).collect();
    assert_eq!(person.len(), 8);
    assert_eq!(person["a1"], person["a2"], "transliteration, date written another way");
    assert_eq!(person["a1"], person["a3"], "names swapped, shared phone");
    assert_eq!(person["b1"], person["b2"], "typos");
    assert_ne!(person["c1"], person["c2"], "same name and postcode, a generation apart: father and son");
    assert_ne!(person["a1"], person["b1"]);
    let mut csv = Vec::new();
    beaconport_cli::import::write_csv(&rows, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.starts_with("force_code,case_ref,record_id,person_id\n"));
    assert_eq!(text.lines().count(), 9);
    server.stop().await;
}
