//! `beaconport bench kafka`: Beaconport's gRPC ingest into Kafka against a raw rdkafka producer
//! sending the same encoded events to the same broker, and how far the views fall behind under
//! sustained ingest.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use beaconport_log::{stream_key, Record};
use beaconport_proto::pb::{api, event as pb};
use bytes::Bytes;
use clap::Args;
use prost::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::bench::{self, BenchArgs, Encoded, Run};
use crate::client;

#[derive(Debug, Args, Clone)]
pub struct KafkaBenchArgs {
    /// The broker(s), host:port,... Without it, librdkafka's in-process mock cluster (3 brokers)
    /// stands in: a figure against it measures the clients, not a broker.
    #[arg(long)]
    pub bootstrap: Option<String>,
    /// Events per run.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Concurrent publishers (gRPC clients; raw producer tasks).
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Events per batch (gRPC request; raw producer tasks await each batch's delivery reports).
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Partitions of the benchmark's topics.
    #[arg(long, default_value_t = 6)]
    pub partitions: i32,
    /// Replication factor of the benchmark's topics.
    #[arg(long, default_value_t = 1)]
    pub replication: i32,
    /// Rounds of raw then gRPC; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The producers' `linger.ms`, for both the raw producer and the server (default: the log's
    /// own setting, `log.kafka.linger_ms`).
    #[arg(long)]
    pub linger_ms: Option<u64>,
}

pub async fn run(a: KafkaBenchArgs) -> Result<ExitCode> {
    if a.publishers == 0 || a.batch_size == 0 || a.events == 0 {
        bail!("--events, --publishers and --batch-size must be at least 1");
    }
    let (mock, bootstrap) = match &a.bootstrap {
        Some(b) => (None, b.clone()),
        None => {
            println!("no --bootstrap: librdkafka's in-process mock cluster stands in for a broker");
            let m = beaconport_log_kafka::mock::Mock::start(3).map_err(|e| anyhow::anyhow!("mock cluster: {e}"))?;
            let b = m.bootstrap().to_string();
            (Some(m), b)
        }
    };
    // The mock cluster does not create topics on request: they are made here, with the
    // settings asked for (a broker gets them from the log's own topic creation).
    let create = |topic: &str| -> Result<()> {
        if let Some(m) = &mock {
            m.create_topic(topic, a.partitions, a.replication).map_err(|e| anyhow::anyhow!("mock topic: {e}"))?;
        }
        Ok(())
    };
    let (n, seed) = (a.events, a.seed);
    let now = chrono::Utc::now();
    let events: Vec<pb::Event> = tokio::task::spawn_blocking(move || {
        beaconport_synth::events_for_bench(seed, n, now).iter().map(beaconport_proto::event_to_pb).collect()
    })
    .await?;
    let records: Arc<Vec<Record>> = Arc::new(
        events
            .iter()
            .map(|e| Record {
                id: beaconport_log::EventId(e.event_id.parse().expect("generated ids are UUIDs")),
                key: stream_key(&e.force_code, &e.case_ref),
                payload: Bytes::from(beaconport_proto::stored::encode(e)),
            })
            .collect(),
    );
    let requests: Vec<Encoded> = events
        .chunks(a.batch_size)
        .map(|c| Encoded { n: c.len(), bytes: api::PublishRequest { events: c.to_vec() }.encode_to_vec().into() })
        .collect();
    drop(events);
    // One event of another scenario, published to each gRPC round's server before its clock
    // starts, as the raw producer sends one record before its own: the writer's producer
    // learns the topic's leaders with its first delivery (about 40 ms on the mock cluster, in
    // which the first batches would all wait).
    let warm_up: Encoded = {
        let e: Vec<pb::Event> = beaconport_synth::events_for_bench(seed ^ 0x5eed_5eed, 1, now)
            .iter()
            .map(beaconport_proto::event_to_pb)
            .collect();
        if e.len() != 1 || records.iter().any(|r| r.id.to_hyphenated() == e[0].event_id) {
            bail!("the warm-up event must be one event of its own");
        }
        Encoded { n: 1, bytes: api::PublishRequest { events: e }.encode_to_vec().into() }
    };
    let linger = a.linger_ms.map_or(beaconport_log_kafka::DEFAULT_LINGER, Duration::from_millis);
    let avg = records.iter().map(|r| r.payload.len()).sum::<usize>() as f64 / n as f64;
    println!(
        "{n} events ({avg:.0} bytes each on average) to {bootstrap}; topics of {} partitions, replication {}; {} publishers, batches of {}; both producers linger {} ms",
        a.partitions, a.replication, a.publishers, a.batch_size, linger.as_millis()
    );
    let bench_args = BenchArgs {
        events: n,
        publishers: a.publishers,
        batch_size: a.batch_size,
        seed: a.seed,
        stream: false,
        window: 1,
        rounds: 1,
    };
    let options = |topic: &str, dir: &std::path::Path| {
        let mut o = beaconport_log_kafka::Options::new(&bootstrap, topic, dir.join("replica"));
        o.partitions = a.partitions;
        o.replication = a.replication;
        o.linger = linger;
        o
    };
    let env_for = |topic: &str| -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = vec![
            ("BEACONPORT_LOG__BACKEND".into(), "kafka".into()),
            ("BEACONPORT_LOG__KAFKA__BOOTSTRAP".into(), bootstrap.clone()),
            ("BEACONPORT_LOG__KAFKA__TOPIC".into(), topic.into()),
            ("BEACONPORT_LOG__KAFKA__PARTITIONS".into(), a.partitions.to_string()),
            ("BEACONPORT_LOG__KAFKA__REPLICATION".into(), a.replication.to_string()),
            ("BEACONPORT_LOG__KAFKA__LINGER_MS".into(), linger.as_millis().to_string()),
        ];
        if a.bootstrap.is_none() {
            // The mock cluster holds every fetch to its limit (a broker answers when records
            // arrive): the ingest process reads its records back before answering.
            env.push(("BEACONPORT_LOG__KAFKA__FETCH_WAIT_MS".into(), "5".into()));
        }
        env
    };

    let mut rounds = Vec::new();
    for round in 1..=a.rounds {
        let dir = tempfile::tempdir()?;
        let topic = format!("bench-raw-{}", uuid::Uuid::new_v4().simple());
        create(&topic)?;
        let (raw, raw_cpu) = raw_round(&options(&topic, dir.path()), records.clone(), &a).await?;
        let topic = format!("bench-grpc-{}", uuid::Uuid::new_v4().simple());
        create(&topic)?;
        let mut env = env_for(&topic);
        // The ingest role alone, as deployed: a stateless writer (no local copy of the log).
        env.push(("BEACONPORT_ROLES".into(), "ingest".into()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let grpc =
            bench::grpc_round(&dir.path().join("grpc"), requests.clone(), &bench_args, &env, Some(&warm_up)).await?;
        // Blocking calls to the brokers: off the runtime's worker.
        let stored =
            tokio::task::block_in_place(|| beaconport_log_kafka::records_written(&options(&topic, dir.path())))?;
        if stored != n as i64 + 1 {
            bail!("gRPC run put {stored} records in the topic, expected {} (the warm-up's included)", n + 1);
        }
        if round == 1 {
            let held =
                tokio::task::block_in_place(|| beaconport_log_kafka::records_held(&options(&topic, dir.path())))?;
            if held == n as i64 + 1 {
                restart_writer(&dir.path().join("restart"), n + 1, &env).await?;
            } else {
                println!(
                    "writer restart not measured: the topic holds {held} of the {} records written (the mock cluster keeps 5 MiB per partition and deletes the oldest; a writer refuses a topic that lost records)",
                    n + 1
                );
            }
        }
        println!(
            "round {round}: raw producer {:>8.0} events/s, gRPC ingest into Kafka {:>8.0} events/s, ratio {:.2}{}",
            raw.events_per_sec,
            grpc.run.events_per_sec,
            grpc.run.events_per_sec / raw.events_per_sec,
            grpc.kafka_answers.map_or(String::new(), |(at_delivery, own, read_back)| format!(
                "; writer's answers: {at_delivery} at delivery, {own} once its other publishes noted theirs, {read_back} after reading back"
            ))
        );
        rounds.push((raw, grpc, raw_cpu));
    }
    let median = bench::median;
    let raw_rate = median(rounds.iter().map(|r| r.0.events_per_sec).collect());
    let grpc_rate = median(rounds.iter().map(|r| r.1.run.events_per_sec).collect());
    let ratio = median(rounds.iter().map(|r| r.1.run.events_per_sec / r.0.events_per_sec).collect());
    println!();
    println!("medians over {} rounds of {n} events", a.rounds);
    println!("{:<30} {:>12} {:>16} {:>16}", "", "events/s", "p50 batch ack", "p99 batch ack");
    println!(
        "{:<30} {:>12.0} {:>13.2} ms {:>13.2} ms",
        "raw rdkafka producer",
        raw_rate,
        median(rounds.iter().map(|r| r.0.p(0.5)).collect()),
        median(rounds.iter().map(|r| r.0.p(0.99)).collect())
    );
    println!(
        "{:<30} {:>12.0} {:>13.2} ms {:>13.2} ms",
        "gRPC ingest into Kafka",
        grpc_rate,
        median(rounds.iter().map(|r| r.1.run.p(0.5)).collect()),
        median(rounds.iter().map(|r| r.1.run.p(0.99)).collect())
    );
    println!("ratio gRPC / raw: {ratio:.2} (median of the rounds' ratios; target 0.80 or more)");
    let per_event = |f: &dyn Fn(&(Run, bench::GrpcRound, f64)) -> f64| {
        median(rounds.iter().map(|r| f(r) * 1e6 / n as f64).collect())
    };
    println!(
        "CPU per event, every process: raw round {:.1} µs (the producer{mock}); gRPC round {:.1} µs (server {:.1} µs, bench process {:.1} µs: the clients{mock})",
        per_event(&|r| r.2),
        per_event(&|r| r.1.cpu_seconds + r.1.local_cpu_seconds),
        per_event(&|r| r.1.cpu_seconds),
        per_event(&|r| r.1.local_cpu_seconds),
        mock = if mock.is_some() { " and the mock brokers" } else { "" },
    );

    // Projection lag: one process ingesting and projecting, sampled while publishers run.
    let dir = tempfile::tempdir()?;
    let topic = format!("bench-lag-{}", uuid::Uuid::new_v4().simple());
    create(&topic)?;
    let env = env_for(&topic);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    lag_run(&dir.path().join("lag"), requests, &bench_args, &env).await?;
    Ok(ExitCode::SUCCESS)
}

/// The same records through a bare producer configured as the log's, `publishers` tasks each
/// sending a batch and awaiting its delivery reports before the next. Returns the run and this
/// process's CPU seconds during it (the producer, and an in-process mock cluster's brokers).
async fn raw_round(
    options: &beaconport_log_kafka::Options,
    records: Arc<Vec<Record>>,
    a: &KafkaBenchArgs,
) -> Result<(Run, f64)> {
    beaconport_log_kafka::ensure_topic(options).await?;
    let producer: FutureProducer = options.producer_config().create().context("creating the raw producer")?;
    let topic = options.topic.clone();
    // Connected, metadata read and producer id granted before the clock starts, as the server's
    // producer is by its round's warm-up publish (otherwise the first batches wait for all that).
    producer
        .send(
            FutureRecord::<[u8], [u8]>::to(&topic).key(b"warm-up".as_slice()).payload(b"".as_slice()),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| anyhow::anyhow!("warming the raw producer up: {e}"))?;
    let batches: Vec<std::ops::Range<usize>> =
        (0..records.len()).step_by(a.batch_size).map(|s| s..(s + a.batch_size).min(records.len())).collect();
    let at = beaconport_log::now_ms();
    let before = bench::cpu_seconds(std::process::id()).unwrap_or(0.0);
    let run = bench::drive(a.publishers, batches, move |range: std::ops::Range<usize>| {
        let producer = producer.clone();
        let records = records.clone();
        let topic = topic.clone();
        async move {
            let mut pending = Vec::with_capacity(range.len());
            for r in &records[range] {
                let record = beaconport_log_kafka::kafka_record(&topic, r, at);
                pending.push(producer.send(record, Duration::from_secs(30)));
            }
            for d in futures::future::join_all(pending).await {
                d.map_err(|(e, _)| anyhow::anyhow!("raw delivery failed: {e}"))?;
            }
            Ok(())
        }
    })
    .await?;
    Ok((run, bench::cpu_seconds(std::process::id()).unwrap_or(0.0) - before))
}

/// A writer started over the topic the gRPC round filled: how long it takes to read the ids
/// already there (until `/readyz` says ready), and the memory it then holds.
async fn restart_writer(data_dir: &std::path::Path, n: usize, env: &[(&str, &str)]) -> Result<()> {
    let exe = std::env::current_exe().context("locating the beaconport binary")?;
    let started = Instant::now();
    let (mut child, _, operator) = crate::serve::spawn_serve_operated(&exe, data_dir, &[], env)?;
    let ready = loop {
        let (code, _) = crate::serve::operator_get(&operator, "/readyz").await;
        if code == 200 {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            bail!("a writer restarted over {n} records was not ready within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let rss = bench::rss_kib(child.id()).unwrap_or(0);
    let (_, metrics) = crate::serve::operator_get(&operator, "/metrics").await;
    let known = crate::serve::metric_value(&metrics, "beaconport_log_backend{gauge=\"kafka_writer_known_ids\"}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)
        .context("stopping the restarted writer")?;
    tokio::task::block_in_place(|| child.wait())?;
    if known != Some(n as f64) {
        bail!("the restarted writer, ready, knew {known:?} ids of the {n} in the topic");
    }
    println!(
        "writer restarted over the {n} records: ready in {:.2} s ({:.0} records/s read, process start included), resident {:.0} MiB",
        ready.as_secs_f64(),
        n as f64 / ready.as_secs_f64(),
        rss as f64 / 1024.0
    );
    Ok(())
}

/// Ingest with the views on: samples the views' lag behind the process's replica while the
/// publishers run, and how long they take to catch up after the last acknowledgement.
async fn lag_run(
    data_dir: &std::path::Path,
    requests: Vec<Encoded>,
    a: &BenchArgs,
    env: &[(&str, &str)],
) -> Result<()> {
    let n: usize = requests.iter().map(|r| r.n).sum();
    let exe = std::env::current_exe().context("locating the beaconport binary")?;
    let (mut child, url) = crate::serve::spawn_process_with(&exe, data_dir, env)?;
    let mut clients = Vec::new();
    for _ in 0..a.publishers {
        clients.push(client::PreEncodedIngest::new(client::channel(&url).await?));
    }
    let mut q = client::query(client::channel(&url).await?);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let mut q = q.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut lags = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(s) = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await {
                    lags.push(s.into_inner().lag);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            lags
        })
    };
    let started = Instant::now();
    let run = bench::unary_publish(clients, requests, a).await?;
    let acked = Instant::now();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut lags = sampler.await?;
    let status = loop {
        let s = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await?.into_inner();
        if s.applied >= n as u64 || acked.elapsed() > Duration::from_secs(600) {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let caught_up = acked.elapsed();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)?;
    tokio::task::block_in_place(|| child.wait())?;
    if status.applied < n as u64 {
        bail!("the views applied {} of {n} events within 10 minutes", status.applied);
    }
    lags.sort_unstable();
    let pct = |q: f64| lags.get(((lags.len() as f64 - 1.0) * q) as usize).copied().unwrap_or(0);
    println!();
    println!(
        "projection lag under sustained ingest ({:.0} events/s for {:.1} s, views on): median {} events, p95 {}, max {} (sampled every 100 ms); views caught up {:.2} s after the last acknowledgement",
        run.events_per_sec,
        (acked - started).as_secs_f64(),
        pct(0.5),
        pct(0.95),
        lags.last().copied().unwrap_or(0),
        caught_up.as_secs_f64()
    );
    Ok(())
}
