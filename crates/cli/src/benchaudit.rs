//! `beaconport bench audit`: what tamper evidence costs and how fast auditors are served, in one
//! run on the same events.
//!
//! 1. **Ingest with and without the Merkle tree**: two `beaconport serve` child processes, one
//!    with the tree and one without, fed the same batches over gRPC **at the same time** (so both
//!    meet the same machine weather); the cost is the median of the rounds' ratios (target: under
//!    10%), with the server CPU per event beside it.
//! 2. **Replay**: every event streamed to one client through `AuditService/Replay` (events/s),
//!    against reading the log back through `LogService/Read` in the same run.
//! 3. **Proofs**: inclusion proofs of random events and consistency proofs between random sizes
//!    over gRPC (p50 and p99), each checked by the client as an auditor would.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _, Result};
use beaconport_proto::pb::api;
use clap::Args;
use futures::StreamExt;
use hdrhistogram::Histogram;
use prost::Message;
use rand::{Rng, SeedableRng};

use crate::bench::{grpc_round, unary_publish, BenchArgs, Encoded};
use crate::client;

#[derive(Debug, Args, Clone)]
pub struct AuditBenchArgs {
    /// Events published in each ingest run.
    #[arg(long, default_value_t = 500_000)]
    pub events: usize,
    /// Concurrent publishers.
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Rounds of ingest with and without the tree; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
    /// Proofs of each kind asked for.
    #[arg(long, default_value_t = 2000)]
    pub proofs: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub async fn run(a: AuditBenchArgs) -> Result<ExitCode> {
    if a.publishers == 0 || a.batch_size == 0 || a.events == 0 || a.proofs == 0 {
        bail!("--events, --publishers, --batch-size and --proofs must be at least 1");
    }
    let now = chrono::Utc::now();
    let (n, seed) = (a.events, a.seed);
    let events: Vec<_> = tokio::task::spawn_blocking(move || {
        beaconport_synth::events_for_bench(seed, n, now).iter().map(beaconport_proto::event_to_pb).collect::<Vec<_>>()
    })
    .await?;
    let requests: Vec<Encoded> = events
        .chunks(a.batch_size)
        .map(|c| Encoded { n: c.len(), bytes: api::PublishRequest { events: c.to_vec() }.encode_to_vec().into() })
        .collect();
    let bytes: usize = events.iter().map(|e| e.encoded_len()).sum();
    drop(events);
    println!(
        "{n} events ({:.0} bytes each on average), {} publishers, batches of {}",
        bytes as f64 / n as f64,
        a.publishers,
        a.batch_size
    );
    let ingest = BenchArgs {
        events: n,
        publishers: a.publishers,
        batch_size: a.batch_size,
        seed,
        stream: false,
        window: 1,
        rounds: a.rounds,
    };

    // 1. Ingest with and without the tree.
    let mut with = Vec::new();
    let mut without = Vec::new();
    let mut cpu = (Vec::new(), Vec::new());
    for round in 1..=a.rounds {
        // Both servers at once, each fed by its own publishers: on a shared, noisy machine they
        // meet the same weather at the same moment, and each gets about half of it.
        let (d1, d2) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let on = [("BEACONPORT_AUDIT__TAMPER_EVIDENCE", "true")];
        let off = [("BEACONPORT_AUDIT__TAMPER_EVIDENCE", "false")];
        let (p1, p2) = (d1.path().join("data"), d2.path().join("data"));
        let (r_on, r_off) = tokio::join!(
            grpc_round(&p1, requests.clone(), &ingest, &on, None),
            grpc_round(&p2, requests.clone(), &ingest, &off, None),
        );
        let (r_on, r_off) = (r_on?, r_off?);
        with.push(r_on.run.events_per_sec);
        cpu.0.push(r_on.cpu_seconds * 1e6 / n as f64);
        without.push(r_off.run.events_per_sec);
        cpu.1.push(r_off.cpu_seconds * 1e6 / n as f64);
        let (w, wo) = (with.last().expect("ran"), without.last().expect("ran"));
        println!("round {round}: with the tree {w:>8.0} events/s, without {wo:>8.0} events/s, ratio {:.3}", w / wo);
    }
    let ratios: Vec<f64> = with.iter().zip(&without).map(|(w, wo)| w / wo).collect();
    let ratio = median(ratios);
    let of_medians = median(with.clone()) / median(without.clone());
    let cpu_cost = median(cpu.0.clone()) / median(cpu.1.clone()) - 1.0;

    // 2 and 3: one server holding the events, tree on.
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe().context("locating the beaconport binary")?;
    let (mut child, url) =
        crate::serve::spawn_process_with(&exe, &dir.path().join("data"), &[("BEACONPORT_VIEWS__ENABLED", "false")])?;
    let mut clients = Vec::new();
    for _ in 0..a.publishers {
        clients.push(client::PreEncodedIngest::new(client::channel(&url).await?));
    }
    unary_publish(clients, requests, &ingest).await?;
    let channel = client::channel(&url).await?;
    let mut audit =
        api::audit_service_client::AuditServiceClient::new(channel.clone()).max_decoding_message_size(64 << 20);

    let t = Instant::now();
    let mut stream = audit.replay(api::ReplayRequest::default()).await?.into_inner();
    let mut replayed = 0u64;
    let mut replayed_bytes = 0usize;
    while let Some(e) = stream.next().await {
        let e = e?;
        replayed_bytes += e.event.len();
        replayed += 1;
    }
    let replay_rate = replayed as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut read =
        client::log_reader(channel.clone()).read(api::ReadRequest { from_position: 0, limit: 0 }).await?.into_inner();
    let mut read_n = 0u64;
    while let Some(e) = read.next().await {
        e?;
        read_n += 1;
    }
    let read_rate = read_n as f64 / t.elapsed().as_secs_f64();
    if replayed != n as u64 || read_n != n as u64 {
        bail!("replayed {replayed} and read {read_n} events of {n}");
    }

    let head = audit.get_tree_head(api::TreeHeadRequest { tree_size: 0 }).await?.into_inner();
    let key: [u8; 32] = head.public_key.as_slice().try_into().map_err(|_| anyhow!("public key"))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut inclusion = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut path_len = 0usize;
    for _ in 0..a.proofs {
        let position = rng.gen_range(0..n as u64);
        let t = Instant::now();
        let p = audit
            .inclusion_proof(api::InclusionProofRequest {
                target: Some(api::inclusion_proof_request::Target::Position(position)),
                tree_size: 0,
            })
            .await?
            .into_inner();
        beaconport_server::check_inclusion(&p, &key).map_err(|e| anyhow!("proof of {position}: {e}"))?;
        inclusion.record(t.elapsed().as_micros().max(1) as u64)?;
        path_len = path_len.max(p.path.len());
    }
    let mut consistency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for _ in 0..a.proofs {
        let second = rng.gen_range(2..=n as u64);
        let first = rng.gen_range(1..second);
        let t = Instant::now();
        let c = audit
            .consistency_proof(api::ConsistencyProofRequest { first_size: first, second_size: second })
            .await?
            .into_inner();
        let old = c.first_head.as_ref().and_then(beaconport_server::head_from_pb).ok_or_else(|| anyhow!("head"))?;
        let new = c.second_head.as_ref().and_then(beaconport_server::head_from_pb).ok_or_else(|| anyhow!("head"))?;
        old.verify(&key)?;
        new.verify(&key)?;
        let proof: Vec<[u8; 32]> = c.proof.iter().filter_map(|h| h.as_slice().try_into().ok()).collect();
        beaconport_log::merkle::verify_consistency(first, second, &old.root, &new.root, &proof)
            .map_err(|e| anyhow!("consistency {first}..{second}: {e}"))?;
        consistency.record(t.elapsed().as_micros().max(1) as u64)?;
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)?;
    child.wait()?;

    let (recorded, unrecorded, calls, consultations) = consultation_latency(a.seed, a.proofs.min(1000)).await?;

    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!();
    println!("ingest over gRPC, both servers fed at once, medians of {} rounds of {n} events each:", a.rounds);
    println!(
        "  with the Merkle tree    {:>9.0} events/s   server CPU {:.2} µs/event",
        median(with.clone()),
        median(cpu.0.clone())
    );
    println!(
        "  without it              {:>9.0} events/s   server CPU {:.2} µs/event",
        median(without.clone()),
        median(cpu.1.clone())
    );
    println!(
        "  the tree costs {:.1}% of ingest throughput by the medians ({of_medians:.3}), {:.1}% by the median of the \
         rounds' ratios ({ratio:.3}), and {:.1}% more server CPU per event (target: under 10%)",
        (1.0 - of_medians) * 100.0,
        (1.0 - ratio) * 100.0,
        cpu_cost * 100.0
    );
    println!(
        "replay to one client: {replay_rate:.0} events/s ({:.1} MiB/s of events), against {read_rate:.0} events/s \
         through LogService/Read in the same run ({:.2}x)",
        replayed_bytes as f64 / (1 << 20) as f64 / (replayed as f64 / replay_rate),
        replay_rate / read_rate
    );
    println!(
        "inclusion proofs over gRPC, tree of {n}: p50 {:.3} ms, p99 {:.3} ms ({} proofs, paths of up to {path_len} \
         hashes, each checked by the client)",
        ms(&inclusion, 0.5),
        ms(&inclusion, 0.99),
        a.proofs
    );
    println!(
        "consistency proofs over gRPC: p50 {:.3} ms, p99 {:.3} ms ({} proofs between random sizes, both heads signed \
         and checked)",
        ms(&consistency, 0.5),
        ms(&consistency, 0.99),
        a.proofs
    );
    println!(
        "linked suspects (2 hops) over gRPC on the synthetic national scenario, 4 investigators at once, each call \
         recorded in the ledger before its answer: p50 {:.2} ms, p99 {:.2} ms ({calls} calls, {consultations} \
         consultations recorded); a round trip that records nothing (LogService/Head) over the same connections: p50 \
         {:.2} ms, p99 {:.2} ms",
        ms(&recorded, 0.5),
        ms(&recorded, 0.99),
        ms(&unrecorded, 0.5),
        ms(&unrecorded, 0.99)
    );
    Ok(ExitCode::SUCCESS)
}

/// The consultation log's cost on queries: a server with its views over the synthetic national
/// scenario, four investigators asking linked suspects at once (each call appends its record,
/// flushed, before the answer), against a bare round trip (`LogService/Head`) over the same
/// connections.
async fn consultation_latency(seed: u64, calls: usize) -> Result<(Histogram<u64>, Histogram<u64>, usize, u64)> {
    let dir = tempfile::tempdir()?;
    let exe = std::env::current_exe().context("locating the beaconport binary")?;
    let (mut child, url) = crate::serve::spawn_process_with(&exe, &dir.path().join("data"), &[])?;
    let scenario = tokio::task::spawn_blocking(move || {
        beaconport_synth::generate(&beaconport_synth::Options { seed, ..Default::default() })
    })
    .await?;
    let events: Vec<_> = scenario.events.iter().map(beaconport_proto::event_to_pb).collect();
    let channel = client::channel(&url).await?;
    let mut ingest = client::ingest(channel.clone());
    let mut head = 0;
    for chunk in events.chunks(500) {
        let acks = ingest.publish(api::PublishRequest { events: chunk.to_vec() }).await?.into_inner().acks;
        head = acks.last().and_then(|a| a.position).map_or(head, |p| p + 1);
    }
    let mut q = client::query(channel.clone());
    let ctx = |min_position| {
        Some(api::QueryContext {
            purpose: "bench: consultation cost".into(),
            min_position,
            wait_ms: 120_000,
            as_of: None,
        })
    };
    let mut export =
        q.export_mentions(api::ExportMentionsRequest { context: ctx(head), ..Default::default() }).await?.into_inner();
    let mut persons = Vec::new();
    while let Some(row) = export.next().await {
        persons.push(row?.person_id);
    }
    persons.sort();
    persons.dedup();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let picks: Vec<String> = (0..calls).map(|_| persons[rng.gen_range(0..persons.len())].clone()).collect();
    let mut tasks = Vec::new();
    for share in picks.chunks(calls.div_ceil(4)) {
        let share = share.to_vec();
        let ch = client::channel(&url).await?;
        let mut q = client::query(ch.clone());
        let mut reader = client::log_reader(ch);
        tasks.push(tokio::spawn(async move {
            let mut rec = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut unrec = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            for person_id in share {
                let t = Instant::now();
                q.linked_suspects(api::LinkedSuspectsRequest {
                    to_person_id: String::new(),
                    context: ctx(0),
                    person_id,
                    max_hops: 2,
                    page_size: 20,
                    ..Default::default()
                })
                .await?;
                rec.record(t.elapsed().as_micros().max(1) as u64)?;
                let t = Instant::now();
                reader.head(api::HeadRequest {}).await?;
                unrec.record(t.elapsed().as_micros().max(1) as u64)?;
            }
            anyhow::Ok((rec, unrec))
        }));
    }
    let mut rec = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut unrec = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for t in tasks {
        let (r, u) = t.await??;
        rec.add(r)?;
        unrec.add(u)?;
    }
    // Every call left exactly one record.
    let mut status;
    loop {
        status = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await?.into_inner();
        if status.applied >= status.log_head {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let consultations = status.consultations;
    if consultations != calls as u64 + 1 {
        bail!("{consultations} consultations recorded for {} calls", calls + 1);
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)?;
    child.wait()?;
    Ok((rec, unrec, calls, consultations))
}
