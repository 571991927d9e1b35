//! Hostile callers over mutual TLS: a generated corpus of malformed and hostile requests, each
//! refused with a clear error and nothing stored; and every limit (rate, streams, batch and
//! message size, deadline) refused RESOURCE_EXHAUSTED or DEADLINE_EXCEEDED while the server goes
//! on serving everyone else.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use beaconport_log::EventLog;
use beaconport_proto::pb::{api, event as pb};
use beaconport_server::authorise::{lookup, Limits};
use beaconport_tests::{kind_of, one_of_each_kind, TestServer};
use bytes::Bytes;
use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;
use rand::{Rng, SeedableRng};
use tonic::Code;
use tonic_types::StatusExt;

use crate::tls::raw_call;

const PUBLISH: &str = "/beaconport.api.v1.IngestService/Publish";

/// A `PublishRequest` holding `events` (each already encoded, or not an event at all).
fn request(events: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        prost::encoding::bytes::encode(1, e, &mut out);
    }
    out
}

/// `field` of an event encoded with the wrong wire type, ahead of the rest of the event.
fn wrong_type(event: &[u8], field: u32) -> Vec<u8> {
    let mut out = Vec::new();
    if field == 6 {
        // schema_version is a varint: send it length-delimited.
        encode_key(field, WireType::LengthDelimited, &mut out);
        encode_varint(3, &mut out);
        out.extend_from_slice(b"one");
    } else {
        // Strings and the body are length-delimited: send a varint, or a fixed 32-bit number.
        encode_key(field, if field.is_multiple_of(2) { WireType::Varint } else { WireType::ThirtyTwoBit }, &mut out);
        if field.is_multiple_of(2) {
            encode_varint(12345, &mut out);
        } else {
            out.extend_from_slice(&[1, 2, 3, 4]);
        }
    }
    out.extend_from_slice(event);
    out
}

/// An event whose string `field` (the last value read wins) is not UTF-8.
fn not_utf8(event: &[u8], field: u32, garbage: &[u8]) -> Vec<u8> {
    let mut out = event.to_vec();
    prost::encoding::bytes::encode(field, &garbage.to_vec(), &mut out);
    out
}

/// Groups nested `depth` deep under an unknown field number, after a valid event.
fn nested(event: &[u8], depth: usize) -> Vec<u8> {
    let mut out = event.to_vec();
    for _ in 0..depth {
        encode_key(99, WireType::StartGroup, &mut out);
    }
    for _ in 0..depth {
        encode_key(99, WireType::EndGroup, &mut out);
    }
    out
}

/// Length-delimited messages nested `depth` deep inside the body (field 8).
fn nested_in_body(depth: usize) -> Vec<u8> {
    let mut inner: Vec<u8> = Vec::new();
    for level in 0..depth {
        let mut outer = Vec::new();
        prost::encoding::bytes::encode(if level + 1 == depth { 8 } else { 1 }, &inner, &mut outer);
        inner = outer;
    }
    inner
}

/// One hostile request: what it is, the bytes of its `PublishRequest`, the force system that
/// sends it, and what its refusal must say (code, and a word the message or a field names).
struct Hostile {
    what: String,
    body: Vec<u8>,
    force: String,
    code: Code,
    names: String,
}

fn corpus(seed: u64) -> Vec<Hostile> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let valid = one_of_each_kind(21);
    let forces: BTreeSet<String> = valid.iter().map(|e| e.force_code.clone()).collect();
    let mut out = Vec::new();
    let mut push = |what: String, body: Vec<u8>, force: &str, code: Code, names: &str| {
        out.push(Hostile { what, body, force: force.to_string(), code, names: names.to_string() })
    };
    let bad = Code::InvalidArgument;
    // Events that break the domain's rules, field by field (the malformed-events corpus).
    for (what, field, kind, e) in crate::malformed::corpus() {
        let base = valid.iter().find(|v| kind_of(v) == kind).unwrap();
        push(format!("rules: {what}"), request(&[e.encode_to_vec()]), &base.force_code, bad, field);
    }
    for base in &valid {
        let kind = format!("{:?}", kind_of(base));
        let enc = base.encode_to_vec();
        // Another force's event.
        for other in forces.iter().filter(|f| **f != base.force_code) {
            push(
                format!("{kind} sent by {other}'s system"),
                request(std::slice::from_ref(&enc)),
                other,
                bad,
                "force_code",
            );
        }
        // The same id twice in one batch.
        let second = valid.iter().find(|v| v.event_id != base.event_id && v.force_code == base.force_code);
        if let Some(second) = second {
            push(
                format!("{kind}: duplicate id in a batch"),
                request(&[enc.clone(), second.encode_to_vec(), enc.clone()]),
                &base.force_code,
                bad,
                "event_id",
            );
        }
        // Truncated protobuf: the event cut short (never at its very end).
        for _ in 0..10 {
            let cut = rng.gen_range(1..enc.len());
            push(format!("{kind} cut at byte {cut}"), request(&[enc[..cut].to_vec()]), &base.force_code, bad, "event");
        }
        // Wrong wire types, for every field of the envelope.
        for field in 1..=8 {
            let e = wrong_type(&enc, field);
            push(format!("{kind}: field {field} of the wrong type"), request(&[e]), &base.force_code, bad, "event");
        }
        // Invalid UTF-8 in every string of the envelope.
        for (field, garbage) in
            [(1, &b"\xc3\x28"[..]), (2, b"\xff\xfe"), (3, b"GMP\x80"), (4, b"\xed\xa0\x80"), (7, b"\xf8")]
        {
            push(
                format!("{kind}: field {field} not UTF-8"),
                request(&[not_utf8(&enc, field, garbage)]),
                &base.force_code,
                bad,
                "event",
            );
        }
        // Deep nesting: unknown groups nested after the event, shallow and past any limit.
        for depth in [1, 50, 99, 101, 1_000, 20_000] {
            push(
                format!("{kind}: groups nested {depth} deep"),
                request(&[nested(&enc, depth)]),
                &base.force_code,
                bad,
                "event",
            );
        }
        // Huge strings: over the field limits, in the envelope.
        for size in [1_000, 100_000, 1_000_000] {
            let mut e = base.clone();
            e.recorded_by = "x".repeat(size);
            push(
                format!("{kind}: recorded_by of {size} bytes"),
                request(&[e.encode_to_vec()]),
                &base.force_code,
                bad,
                "recorded_by",
            );
            let mut e = base.clone();
            e.case_ref = "C".repeat(size);
            push(
                format!("{kind}: case_ref of {size} bytes"),
                request(&[e.encode_to_vec()]),
                &base.force_code,
                bad,
                "case_ref",
            );
        }
        // A valid event beside a malformed one: the whole batch is refused.
        let cut = &enc[..enc.len() / 2];
        push(
            format!("{kind} beside a truncated event"),
            request(&[enc.clone(), cut.to_vec()]),
            &base.force_code,
            bad,
            "events[1]",
        );
    }
    let gmp = valid
        .iter()
        .find(|e| e.force_code == "GMP")
        .map(|e| e.force_code.clone())
        .unwrap_or_else(|| valid[0].force_code.clone());
    let first = valid[0].encode_to_vec();
    // Messages nested deep inside the body.
    for depth in [2, 10, 64, 101, 500] {
        push(format!("body nested {depth} deep"), request(&[nested_in_body(depth)]), &gmp, bad, "event");
    }
    // Random bytes as an event, and as the whole request.
    for i in 0..60 {
        let len = rng.gen_range(1..400);
        let junk: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        push(format!("random event #{i} ({len} bytes)"), request(&[junk]), &gmp, bad, "");
    }
    for i in 0..60 {
        let len = rng.gen_range(1..400);
        let mut junk: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        // Never a well-formed request of zero events that happens to parse: field 1 first.
        junk.insert(0, 0x0a);
        push(format!("random request #{i} ({len} bytes)"), junk, &gmp, bad, "");
    }
    // The request itself cut inside its last event (a cut at an event's end would be valid).
    let whole = request(&[first.clone(), valid[1].encode_to_vec(), valid[2].encode_to_vec()]);
    let last_start = whole.len() - valid[2].encoded_len();
    for _ in 0..40 {
        let cut = rng.gen_range(last_start..whole.len());
        push(format!("request cut at byte {cut}"), whole[..cut].to_vec(), &valid[0].force_code, bad, "protobuf");
    }
    // Empty things.
    push("an empty request".into(), Vec::new(), &gmp, bad, "events");
    push("an empty event".into(), request(&[Vec::new()]), &gmp, bad, "event_id");
    // Over the limits: a message larger than the server takes, a batch of too many events.
    let huge = request(&[vec![b'x'; 17 << 20]]);
    push("a 17 MiB request".into(), huge, &gmp, Code::ResourceExhausted, "max_message_bytes");
    let many: Vec<Vec<u8>> = (0..10_001).map(|_| first.clone()).collect();
    push(
        "10,001 events in one batch".into(),
        request(&many),
        &valid[0].force_code,
        Code::ResourceExhausted,
        "max_batch_events",
    );
    out
}

/// Checks a refusal: its code, a clear message, and the word it must name (in the message or
/// in a field violation).
fn check_refused(h: &Hostile, result: Result<(), tonic::Status>) {
    let err = match result {
        Ok(()) => panic!("{}: accepted", h.what),
        Err(e) => e,
    };
    assert_eq!(err.code(), h.code, "{}: {}", h.what, err.message());
    assert!(err.message().len() > 10, "{}: an unclear message: {:?}", h.what, err.message());
    let fields: Vec<String> = err
        .get_details_bad_request()
        .map(|d| d.field_violations.iter().map(|v| format!("{} {}", v.field, v.description)).collect())
        .unwrap_or_default();
    assert!(
        err.message().contains(&h.names) || fields.iter().any(|f| f.contains(&h.names)),
        "{}: the refusal does not name {:?}: {} {fields:?}",
        h.what,
        h.names,
        err.message()
    );
    if h.code == Code::InvalidArgument && !h.names.contains("protobuf") && !h.names.is_empty() {
        assert!(!fields.is_empty(), "{}: no field violations: {}", h.what, err.message());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_hostile_requests_are_refused_and_nothing_is_stored() {
    let seed = 7;
    let corpus = corpus(seed);
    assert!(corpus.len() >= 1000, "only {} hostile requests", corpus.len());
    let forces: Vec<String> = corpus.iter().map(|h| h.force.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &forces, 30).unwrap();
    let limits = Limits { requests_per_second: 100_000, burst: 100_000, ..Limits::default() };
    let server = TestServer::start_tls_with(&pki, beaconport_server::Options { limits, ..Default::default() }).await;
    let mut channels = BTreeMap::new();
    for c in pki.clients.iter().filter(|c| c.role == "force") {
        let ch = server.tls_channel(&pki.ca_cert, Some((&c.cert, &c.key))).await.unwrap();
        channels.insert(c.force.clone().unwrap(), ch);
    }
    let publish = lookup(PUBLISH).unwrap();
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    for h in &corpus {
        let result = raw_call(channels[&h.force].clone(), publish, Bytes::from(h.body.clone())).await;
        if let Err(e) = &result {
            *by_code.entry(format!("{:?}", e.code())).or_default() += 1;
        }
        check_refused(h, result);
    }
    // Some of them again through a publish stream: each refused in-band, the stream goes on.
    let stream = lookup("/beaconport.api.v1.IngestService/PublishStream").unwrap();
    let gmp = channels.values().next().unwrap().clone();
    for h in corpus.iter().filter(|h| h.code == Code::InvalidArgument && h.names != "protobuf").take(50) {
        let mut grpc = tonic::client::Grpc::new(channels[&h.force].clone());
        grpc.ready().await.unwrap();
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(stream.path);
        let requests = tokio_stream::iter(vec![Bytes::from(h.body.clone())]);
        let mut answers = grpc
            .streaming(tonic::Request::new(requests), path, crate::tls::RawCodec)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", h.what))
            .into_inner();
        let first = answers.message().await.unwrap_or_else(|e| panic!("{}: {e:?}", h.what)).unwrap();
        let answer = api::PublishStreamResponse::decode(first).unwrap();
        assert!(
            matches!(answer.result, Some(api::publish_stream_response::Result::Rejected(_))),
            "{}: {answer:?}",
            h.what
        );
    }
    assert_eq!(server.log.head().0, 0, "a hostile request stored something");
    println!("{} hostile requests refused (seed {seed}): {by_code:?}", corpus.len());

    // Still serving: health, and a valid batch of each force's own events.
    let mut health = tonic_health::pb::health_client::HealthClient::new(gmp);
    let state = health
        .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(state, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    let valid = one_of_each_kind(21);
    let mut stored = 0;
    for (force, ch) in &channels {
        let own: Vec<pb::Event> =
            valid.iter().filter(|e| &e.force_code == force && !kind_of(e).by_investigators()).cloned().collect();
        if own.is_empty() {
            continue;
        }
        let acks = beaconport_cli::client::ingest(ch.clone())
            .publish(api::PublishRequest { events: own.clone() })
            .await
            .unwrap()
            .into_inner()
            .acks;
        assert!(acks.iter().all(|a| !a.duplicate));
        stored += own.len() as u64;
    }
    assert_eq!(server.log.head().0, stored);
    server.stop().await;
}

/// Each limit, over mutual TLS: the caller over it is refused RESOURCE_EXHAUSTED (or
/// DEADLINE_EXCEEDED) naming the limit, nothing is stored, and another caller is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_a_limit_the_caller_is_refused_and_the_server_stays_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let valid = one_of_each_kind(21);
    let force = valid[0].force_code.clone();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), std::slice::from_ref(&force), 30).unwrap();
    let limits = Limits {
        requests_per_second: 5,
        burst: 10,
        streams_per_principal: 2,
        // Long enough for a loaded machine's fsync; the deadline case below waits for longer.
        request_timeout: Duration::from_millis(2000),
        max_message_bytes: 256 << 10,
    };
    let options = beaconport_server::Options { limits, max_batch_events: 10, ..Default::default() };
    let server = TestServer::start_tls_with(&pki, options).await;
    let who = |role: &str| pki.clients.iter().find(|c| c.role == role).unwrap();
    let connect = |role: &'static str| {
        let c = who(role);
        server.tls_channel(&pki.ca_cert, Some((&c.cert, &c.key)))
    };
    let status_call = lookup("/beaconport.api.v1.QueryService/ViewStatus").unwrap();

    // Rate: the investigator's bucket holds 10; the rest of a quick burst is refused.
    let inv = connect("investigator").await.unwrap();
    // All at once, so that the bucket cannot refill much while they are answered (on a loaded
    // machine, 30 calls one after the other may take seconds).
    let calls = (0..30).map(|_| raw_call(inv.clone(), status_call, Bytes::new()));
    let refused: Vec<_> = futures::future::join_all(calls).await.into_iter().filter_map(Result::err).collect();
    assert!(refused.len() >= 15, "only {} of 30 quick calls refused", refused.len());
    for e in &refused {
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        assert!(e.message().contains("limits.requests_per_second") && e.message().contains("investigator-01"));
    }
    // Another principal is not affected.
    let op = connect("operator").await.unwrap();
    raw_call(op.clone(), status_call, Bytes::new()).await.expect("the operator is served");
    // The investigator is served again once its bucket refills (5 per second).
    let mut again = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if raw_call(inv.clone(), status_call, Bytes::new()).await.is_ok() {
            again = true;
            break;
        }
    }
    assert!(again, "the investigator was never served again");

    // Streams: the operator may hold two open; a third is refused until one closes.
    let watch = lookup("/grpc.health.v1.Health/Watch").unwrap();
    let watch_request = Bytes::from(tonic_health::pb::HealthCheckRequest { service: String::new() }.encode_to_vec());
    let open = |ch: tonic::transport::Channel| {
        let body = watch_request.clone();
        async move {
            let mut grpc = tonic::client::Grpc::new(ch);
            grpc.ready().await.unwrap();
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(watch.path);
            grpc.server_streaming(tonic::Request::new(body), path, crate::tls::RawCodec).await
        }
    };
    let first = open(op.clone()).await.expect("first stream");
    let second = open(op.clone()).await.expect("second stream");
    let err = open(op.clone()).await.expect_err("a third stream");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("limits.streams_per_principal"), "{}", err.message());
    drop(first);
    let mut reopened = false;
    for _ in 0..40 {
        if open(op.clone()).await.is_ok() {
            reopened = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reopened, "a closed stream's slot was never given back");
    // Open watches would hold the graceful shutdown below.
    drop(second);

    // Batch size: 11 events where 10 are allowed; message size: a request over 256 KiB.
    let force_cert = pki.clients.iter().find(|c| c.role == "force").unwrap();
    let fch = server.tls_channel(&pki.ca_cert, Some((&force_cert.cert, &force_cert.key))).await.unwrap();
    let mut ingest = beaconport_cli::client::ingest(fch.clone());
    let own: Vec<pb::Event> =
        valid.iter().filter(|e| e.force_code == force && !kind_of(e).by_investigators()).cloned().collect();
    let mut eleven = Vec::new();
    for i in 0..11 {
        let mut e = own[i % own.len()].clone();
        e.event_id = uuid::Uuid::now_v7().to_string();
        eleven.push(e);
    }
    let err = ingest.publish(api::PublishRequest { events: eleven.clone() }).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("limits.max_batch_events"), "{}", err.message());
    let mut big = own[0].clone();
    big.recorded_by = "x".repeat(300 << 10);
    let err = ingest.publish(api::PublishRequest { events: vec![big.clone()] }).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("grpc.max_message_bytes"), "{}", err.message());
    // Through a publish stream: the stream ends with the same refusal.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(api::PublishRequest { events: vec![big] }).await.unwrap();
    drop(tx);
    let result = async {
        let mut answers = ingest.publish_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).await?.into_inner();
        answers.message().await
    }
    .await;
    let err = result.expect_err("an oversized message in a stream");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(server.log.head().0, 0, "nothing over a limit was stored");

    // Deadline: a query that waits for a position the views will not reach in time.
    let mut q = beaconport_cli::client::query(inv.clone());
    let mut waiting = None;
    for _ in 0..40 {
        let r = q
            .list_networks(api::ListNetworksRequest {
                context: Some(api::QueryContext {
                    purpose: "limits test".into(),
                    min_position: 1_000_000,
                    wait_ms: 5_000,
                    as_of: None,
                }),
                ..Default::default()
            })
            .await;
        match r {
            Err(e) if e.code() == Code::ResourceExhausted => tokio::time::sleep(Duration::from_millis(200)).await,
            other => {
                waiting = Some(other);
                break;
            }
        }
    }
    let err = waiting.expect("a call within the rate").expect_err("past its deadline");
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(err.message().contains("grpc.request_timeout_secs"), "{}", err.message());

    // The server is healthy and serves a batch within every limit.
    let acks = ingest.publish(api::PublishRequest { events: eleven[..10].to_vec() }).await.unwrap().into_inner().acks;
    assert_eq!(acks.len(), 10);
    assert_eq!(server.log.head().0, 10);
    server.stop().await;
}

/// `import persons` over a ledger that limits its rate: batches refused for the rate are offered
/// again after a wait, so a file of more batches than the burst allows is imported whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_waits_out_the_rate_limit_and_stores_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let pki = beaconport_cli::certs::write_dev_pki(&dir.path().join("pki"), &["GMP".to_string()], 30).unwrap();
    let limits = Limits { requests_per_second: 4, burst: 2, ..Default::default() };
    let server = TestServer::start_tls_with(&pki, beaconport_server::Options { limits, ..Default::default() }).await;
    let force = pki.clients.iter().find(|c| c.role == "force").unwrap();
    let file = dir.path().join("people.csv");
    let mut csv = String::from("id,forenames,surname,date_of_birth\n");
    let names = ["Ada", "Bea", "Cal", "Dov", "Eli", "Fay", "Gus", "Hal", "Ivo", "Jem", "Kit", "Lou"];
    for (i, name) in names.iter().enumerate() {
        csv.push_str(&format!("r{i},{name},Synthetic,1980-01-{:02}\n", i + 1));
    }
    std::fs::write(&file, csv).unwrap();
    let args = beaconport_cli::import::ImportPersonsArgs {
        file,
        server: beaconport_cli::client::ServerArgs {
            server: server.url.clone(),
            ca: Some(pki.ca_cert.clone()),
            cert: Some(force.cert.clone()),
            key: Some(force.key.clone()),
        },
        force: "GMP".into(),
        case: None,
        role: "witness".into(),
        map: String::new(),
        set: String::new(),
        batch_size: 1,
        show_problems: 10,
        recorded_at: None,
    };
    // Twelve calls at most four a second after a burst of two: most wait their turn.
    let started = std::time::Instant::now();
    let s = beaconport_cli::import::import_persons(&args).await.unwrap();
    assert_eq!((s.rows, s.stored_new, s.rejected), (12, 12, 0), "{:?}", s.problems);
    assert!(started.elapsed() >= Duration::from_millis(1500), "the rate limit held: {:?}", started.elapsed());
    assert_eq!(server.log.head().0, 12);
    server.stop().await;
}
