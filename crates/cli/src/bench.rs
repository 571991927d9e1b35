//! `beaconport bench`: ingest throughput in one run, on the same events.
//!
//! 1. **raw**: the embedded log alone: the events' stored bytes appended in batches by several
//!    concurrent tasks, in this process.
//! 2. **gRPC**: a `beaconport serve` child process on loopback, fed the same events in the same
//!    batches by as many concurrent clients, every acknowledgement after its flush.
//!
//! It prints events/s for both and their ratio, batch acknowledgement latency (p50, p99), the
//! server's peak resident memory (VmHWM of the child), and the space the log takes on disk.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use beaconport_log::{stream_key, EventLog, Record};
use beaconport_log_sled::SledLog;
use beaconport_proto::pb::{api, event as pb};
use bytes::Bytes;
use clap::Args;
use hdrhistogram::Histogram;
use prost::Message;

use crate::client;
use crate::config::Config;

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Events to publish in each of the two runs.
    #[arg(long, default_value_t = 500_000)]
    pub events: usize,
    /// Concurrent publishers.
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Seed of the generated events.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Publish over `PublishStream`, one stream per publisher, instead of unary calls.
    #[arg(long)]
    pub stream: bool,
    /// With `--stream`: batches each publisher has sent and not yet seen acknowledged. The raw
    /// run then appends with as many batches in flight (publishers x window), so that both runs
    /// have the same concurrency.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub window: u32,
    /// Rounds of raw then gRPC; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub rounds: u32,
}

impl BenchArgs {
    /// Batches in flight at once: one per publisher, or a window each over streams.
    pub(crate) fn in_flight(&self) -> usize {
        if self.stream {
            self.publishers * self.window as usize
        } else {
            self.publishers
        }
    }
}

pub(crate) struct Run {
    pub events_per_sec: f64,
    pub latency: Histogram<u64>,
}

impl Run {
    pub fn p(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

pub async fn run(a: BenchArgs) -> Result<ExitCode> {
    if a.publishers == 0 || a.batch_size == 0 || a.events == 0 {
        bail!("--events, --publishers and --batch-size must be at least 1");
    }
    let t = Instant::now();
    let now = chrono::Utc::now();
    let n = a.events;
    let seed = a.seed;
    let events: Vec<pb::Event> = tokio::task::spawn_blocking(move || {
        beaconport_synth::events_for_bench(seed, n, now).iter().map(beaconport_proto::event_to_pb).collect()
    })
    .await?;
    let records: Vec<Record> = events
        .iter()
        .map(|e| Record {
            id: beaconport_log::EventId(e.event_id.parse().expect("generated ids are UUIDs")),
            key: stream_key(&e.force_code, &e.case_ref),
            payload: Bytes::from(beaconport_proto::stored::encode(e)),
        })
        .collect();
    let payload_bytes: usize = records.iter().map(|r| r.payload.len()).sum();
    println!(
        "generated {} events ({:.0} bytes each on average) in {:.1} s; {} publishers, batches of {}",
        n,
        payload_bytes as f64 / n as f64,
        t.elapsed().as_secs_f64(),
        a.publishers,
        a.batch_size
    );
    // The same settings as the server child process gets (it inherits the environment).
    let base = Config::load(None, std::env::vars(), toml::Table::new())?;
    // Requests are encoded once, before the clock starts: the clients' share of this machine
    // goes to sending, as it would with publishers on their own machines.
    let requests: Vec<Encoded> = events
        .chunks(a.batch_size)
        .map(|c| Encoded { n: c.len(), bytes: api::PublishRequest { events: c.to_vec() }.encode_to_vec().into() })
        .collect();
    drop(events);

    // Rounds alternate raw and gRPC on fresh directories, so that both meet the same machine
    // weather; the figures are the medians over rounds.
    let mut rounds = Vec::new();
    for round in 1..=a.rounds {
        let dir = tempfile::tempdir()?;
        let config = Config { data_dir: dir.path().join("raw"), ..base.clone() };
        let (raw, stats) = raw_round(&config, &records, &a).await?;
        drop(dir);
        let dir = tempfile::tempdir()?;
        let grpc = grpc_round(&dir.path().join("grpc"), requests.clone(), &a, &[], None).await?;
        println!(
            "round {round}: raw {:>8.0} events/s, gRPC {:>8.0} events/s, ratio {:.2}",
            raw.events_per_sec,
            grpc.run.events_per_sec,
            grpc.run.events_per_sec / raw.events_per_sec
        );
        rounds.push((raw, stats, grpc));
    }
    let raw_rate = median(rounds.iter().map(|r| r.0.events_per_sec).collect());
    let grpc_rate = median(rounds.iter().map(|r| r.2.run.events_per_sec).collect());
    let ratio = median(rounds.iter().map(|r| r.2.run.events_per_sec / r.0.events_per_sec).collect());
    let q = |f: &dyn Fn(&(Run, beaconport_log_sled::Stats, GrpcRound)) -> f64| median(rounds.iter().map(f).collect());

    println!();
    println!("medians over {} rounds of {n} events", a.rounds);
    println!("{:<22} {:>14} {:>16} {:>16}", "", "events/s", "p50 batch ack", "p99 batch ack");
    println!(
        "{:<22} {:>14.0} {:>13.2} ms {:>13.2} ms",
        "raw sled append",
        raw_rate,
        q(&|r| r.0.p(0.5)),
        q(&|r| r.0.p(0.99))
    );
    println!(
        "{:<22} {:>14.0} {:>13.2} ms {:>13.2} ms",
        "gRPC ingest",
        grpc_rate,
        q(&|r| r.2.run.p(0.5)),
        q(&|r| r.2.run.p(0.99))
    );
    println!();
    println!(
        "ratio gRPC / raw: {ratio:.2} (median of the rounds' ratios; target 0.60 or more); gRPC over {}",
        if a.stream { "PublishStream" } else { "unary Publish" }
    );
    println!(
        "gRPC ingest: {grpc_rate:.0} events/s (target 100,000 or more), every batch flushed before its acknowledgement"
    );
    println!("server CPU: {:.1} µs per event published", q(&|r| r.2.cpu_seconds * 1e6 / n as f64));
    println!("server peak memory (VmHWM): {:.1} MiB", q(&|r| r.2.peak_kib as f64 / 1024.0));
    let stats = rounds[0].1;
    println!(
        "raw log on disk: {:.1} MiB for {:.1} MiB of events ({:.2}x), {} blocks; {} appends shared {} flushes",
        stats.disk_bytes as f64 / (1 << 20) as f64,
        payload_bytes as f64 / (1 << 20) as f64,
        stats.disk_bytes as f64 / payload_bytes as f64,
        stats.blocks,
        stats.appends,
        stats.flushes
    );
    if let Some((appends, flushes)) = rounds[0].2.group_commit {
        println!("gRPC server's log: {appends} appends shared {flushes} flushes");
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends the records straight to a fresh embedded log, `publishers` tasks at a time.
async fn raw_round(config: &Config, records: &[Record], a: &BenchArgs) -> Result<(Run, beaconport_log_sled::Stats)> {
    let log = Arc::new(SledLog::open(config.sled_options())?);
    let batches: Vec<Vec<Record>> = records.chunks(a.batch_size).map(<[Record]>::to_vec).collect();
    let raw = drive(a.in_flight(), batches, {
        let log = log.clone();
        move |b: Vec<Record>| {
            let log = log.clone();
            async move {
                log.append(b).await?;
                Ok(())
            }
        }
    })
    .await?;
    let stats = log.stats()?;
    tokio::task::spawn_blocking(move || log.close()).await?;
    if stats.events != records.len() as u64 {
        bail!("raw run stored {} events, expected {}", stats.events, records.len());
    }
    Ok((raw, stats))
}

/// What one gRPC round measured.
pub(crate) struct GrpcRound {
    pub run: Run,
    pub cpu_seconds: f64,
    /// This (the bench's) process's CPU while the clients published: the clients, and an
    /// in-process mock cluster's brokers when there is one.
    pub local_cpu_seconds: f64,
    pub peak_kib: u64,
    /// The server's appends and the flushes they shared (a server that holds a sled log).
    pub group_commit: Option<(u64, u64)>,
    /// A Kafka writer's publishes answered at delivery, once its concurrent publishes noted
    /// their records, and after its follower read their records back.
    pub kafka_answers: Option<(u64, u64, u64)>,
}

/// Publishes the requests to a `beaconport serve` child process over loopback (with `env` set
/// for it), after `warm_up` (if given: published before the clock starts, and counted in what
/// the server must have stored).
pub(crate) async fn grpc_round(
    data_dir: &std::path::Path,
    requests: Vec<Encoded>,
    a: &BenchArgs,
    env: &[(&str, &str)],
    warm_up: Option<&Encoded>,
) -> Result<GrpcRound> {
    let n: usize = requests.iter().map(|r| r.n).sum::<usize>() + warm_up.map_or(0, |w| w.n);
    let exe = std::env::current_exe().context("locating the beaconport binary")?;
    // Ingest alone, as measured against the raw log: the views are benchmarked by `bench views`.
    let mut vars = vec![("BEACONPORT_VIEWS__ENABLED", "false")];
    vars.extend_from_slice(env);
    let (mut child, url, operator) = crate::serve::spawn_serve_operated(&exe, data_dir, &[], &vars)?;
    let mut clients = Vec::new();
    for _ in 0..a.publishers {
        clients.push(client::PreEncodedIngest::new(client::channel(&url).await?));
    }
    if let Some(w) = warm_up {
        let acks = clients[0]
            .clone()
            .publish(w.bytes.clone())
            .await
            .map_err(|s| anyhow::anyhow!("warm-up publish failed: {}", s.message()))?;
        if acks.acks.len() != w.n {
            bail!("{} acknowledgements for the {} events of the warm-up", acks.acks.len(), w.n);
        }
    }
    let local_before = cpu_seconds(std::process::id()).unwrap_or(0.0);
    let run = if a.stream {
        stream_publish(clients, requests, a.window as usize).await?
    } else {
        unary_publish(clients, requests, a).await?
    };
    let local_cpu_seconds = cpu_seconds(std::process::id()).unwrap_or(0.0) - local_before;
    // The events stored, where the server holds the log (a writer to Kafka holds none: the
    // caller counts the topic instead).
    let mut reader = client::log_reader(client::channel(&url).await?);
    let head = match reader.head(api::HeadRequest {}).await {
        Ok(h) => Some(h.into_inner().next_position),
        Err(s) if s.code() == tonic::Code::Unimplemented => None,
        Err(s) => return Err(s.into()),
    };
    let (_, metrics) = crate::serve::operator_get(&operator, "/metrics").await;
    let counted = |name: &str| {
        crate::serve::metric_value(&metrics, &format!("beaconport_log_backend_count_total{{counter=\"{name}\"}}"))
            .map(|v| v as u64)
    };
    let group_commit = counted("sled_appends").zip(counted("sled_flushes"));
    let gauge = |name: &str| {
        crate::serve::metric_value(&metrics, &format!("beaconport_log_backend{{gauge=\"{name}\"}}")).map(|v| v as u64)
    };
    let kafka_answers = gauge("kafka_writer_answered_at_delivery")
        .zip(gauge("kafka_writer_answered_after_own_noted"))
        .zip(gauge("kafka_writer_answered_after_read_back"))
        .map(|((a, b), c)| (a, b, c));
    let peak_kib = peak_rss_kib(child.id()).unwrap_or(0);
    let cpu_seconds = cpu_seconds(child.id()).unwrap_or(0.0);
    // SIGTERM: graceful shutdown.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM)
        .context("stopping the server")?;
    let status = child.wait()?;
    if let Some(head) = head.filter(|&h| h != n as u64) {
        bail!("gRPC run stored {head} events, expected {n}");
    }
    if !status.success() {
        bail!("server exited with {status}");
    }
    Ok(GrpcRound { run, cpu_seconds, local_cpu_seconds, peak_kib, group_commit, kafka_answers })
}

/// Each publisher sends its share of the requests as unary calls, one at a time.
pub(crate) async fn unary_publish(
    clients: Vec<client::PreEncodedIngest>,
    requests: Vec<Encoded>,
    a: &BenchArgs,
) -> Result<Run> {
    let clients = Arc::new(clients);
    let next_client = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    drive(a.publishers, requests, {
        move |r: Encoded| {
            let i = next_client.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % clients.len();
            let mut c = clients[i].clone();
            async move {
                let acks = c.publish(r.bytes).await.map_err(|s| anyhow::anyhow!("publish failed: {}", s.message()))?;
                if acks.acks.len() != r.n {
                    bail!("{} acknowledgements for {} events", acks.acks.len(), r.n);
                }
                Ok(())
            }
        }
    })
    .await
}

/// Each publisher sends its share of the requests over one `PublishStream`, with at most
/// `window` batches unacknowledged (as a publisher that keeps what it has not seen acknowledged
/// must); a batch's latency runs from handing it to the stream to receiving its answer.
async fn stream_publish(clients: Vec<client::PreEncodedIngest>, requests: Vec<Encoded>, window: usize) -> Result<Run> {
    use futures::StreamExt;
    let total: usize = requests.iter().map(|r| r.n).sum();
    let p = clients.len();
    let mut shares: Vec<Vec<Encoded>> = (0..p).map(|_| Vec::new()).collect();
    for (i, r) in requests.into_iter().enumerate() {
        shares[i % p].push(r);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (mut c, share) in clients.into_iter().zip(shares) {
        tasks.push(tokio::spawn(async move {
            let sent = Arc::new(std::sync::Mutex::new(Vec::with_capacity(share.len())));
            let sizes: Vec<usize> = share.iter().map(|r| r.n).collect();
            let room = Arc::new(tokio::sync::Semaphore::new(window));
            let outgoing = {
                let sent = sent.clone();
                let room = room.clone();
                futures::stream::iter(share).then(move |r| {
                    let (sent, room) = (sent.clone(), room.clone());
                    async move {
                        room.acquire().await.expect("never closed").forget();
                        sent.lock().expect("sent").push(Instant::now());
                        r.bytes
                    }
                })
            };
            let mut answers =
                c.publish_stream(outgoing).await.map_err(|s| anyhow::anyhow!("stream: {}", s.message()))?;
            let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
            let mut i = 0;
            while let Some(answer) = answers.next().await {
                let answer = answer.map_err(|s| anyhow::anyhow!("stream: {}", s.message()))?;
                let Some(api::publish_stream_response::Result::Accepted(acks)) = answer.result else {
                    bail!("batch {} refused", answer.sequence);
                };
                if acks.acks.len() != sizes[i] {
                    bail!("{} acknowledgements for {} events", acks.acks.len(), sizes[i]);
                }
                let at = sent.lock().expect("sent")[i];
                h.record(at.elapsed().as_micros().max(1) as u64).expect("in bounds");
                room.add_permits(1);
                i += 1;
            }
            if i != sizes.len() {
                bail!("{i} answers for {} batches", sizes.len());
            }
            anyhow::Ok(h)
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
    for t in tasks {
        latency.add(t.await??).expect("same bounds");
    }
    Ok(Run { events_per_sec: total as f64 / start.elapsed().as_secs_f64(), latency })
}

/// Runs `f` over `items` with `concurrency` workers; returns throughput (items are batches; the
/// event count is the sum of their lengths) and per-item latency.
pub(crate) async fn drive<T, F, Fut>(concurrency: usize, items: Vec<T>, f: F) -> Result<Run>
where
    T: Send + Sized + Len + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let total: usize = items.iter().map(Len::len).sum();
    let queue = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(items)));
    let f = Arc::new(f);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let queue = queue.clone();
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
            loop {
                let Some(item) = queue.lock().expect("queue").pop_front() else { break };
                let t = Instant::now();
                f(item).await?;
                h.record(t.elapsed().as_micros().max(1) as u64).expect("in bounds");
            }
            anyhow::Ok(h)
        }));
    }
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).expect("bounds");
    for t in tasks {
        latency.add(t.await??).expect("same bounds");
    }
    Ok(Run { events_per_sec: total as f64 / start.elapsed().as_secs_f64(), latency })
}

/// The median of the rounds' figures (the upper one of an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Events in one unit of work of [`drive`].
pub(crate) trait Len {
    fn len(&self) -> usize;
}

impl Len for std::ops::Range<usize> {
    fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
}

impl Len for Vec<Record> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// A `PublishRequest` encoded once, and how many events it holds.
#[derive(Clone)]
pub(crate) struct Encoded {
    pub n: usize,
    pub bytes: Bytes,
}

impl Len for Encoded {
    fn len(&self) -> usize {
        self.n
    }
}

/// User and system CPU time of a process so far, in seconds (Linux `/proc/PID/stat`).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Peak resident set size of a process, in KiB (Linux `/proc/PID/status`, `VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// Resident set size of a process now, in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// One KiB figure of `/proc/PID/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}
