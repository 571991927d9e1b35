//! `beaconport bench review`: how long the national review's views take to build from a log, and
//! how fast a reviewer's queue page is answered, in one run on the same events.
//!
//! 1. **Build from the log**: the events (complete records over 43 forces, with referred cases)
//!    are appended to a fresh embedded log; the projection then folds the whole log into the
//!    cross-force views, and the queue, the quality figures and the risk lists are derived from
//!    them. Baseline in the same run: reading the whole log back and decoding every event.
//! 2. **After a batch**: a batch of further events is applied and the review derived again (each
//!    case's own facts again only where the case changed).
//! 3. **Queue pages over gRPC**: `ReviewService/GetQueue` pages at random offsets, each with its
//!    purpose and its consultation recorded before the answer, p50 and p99; baseline in the same
//!    run: a bare `LogService/Head` round trip.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use beaconport_log::{stream_key, EventLog, Record};
use beaconport_log_sled::SledLog;
use beaconport_proto::pb::api;
use bytes::Bytes;
use clap::Args;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};

use crate::client;
use crate::config::Config;

#[derive(Debug, Args, Clone)]
pub struct ReviewBenchArgs {
    /// Events in the log.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// Queue pages asked over gRPC.
    #[arg(long, default_value_t = 2000)]
    pub pages: usize,
    /// Rows per page.
    #[arg(long, default_value_t = 50)]
    pub page_size: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Events appended while the second series of queue pages is asked.
const FED: usize = 30_000;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(a: ReviewBenchArgs) -> Result<ExitCode> {
    if a.events < 1000 || a.pages == 0 {
        bail!("--events must be at least 1,000 and --pages at least 1");
    }
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let (n, seed) = (a.events, a.seed);
    let t = Instant::now();
    // The log holds `--events`; the events appended later come on top.
    let events =
        tokio::task::spawn_blocking(move || beaconport_synth::events_for_bench(seed, n + 500 + FED, now)).await?;
    // The last events are kept back: 500 for the "after a batch" step, the rest to be appended
    // while queue pages are asked.
    let (first, rest) = events.split_at(events.len() - 500 - FED);
    let to_record = |e: &beaconport_domain::Event| {
        let pb = beaconport_proto::event_to_pb(e);
        Record {
            id: beaconport_log::EventId(e.id.0),
            key: stream_key(&pb.force_code, &pb.case_ref),
            payload: Bytes::from(beaconport_proto::stored::encode(&pb)),
        }
    };
    let records: Vec<Record> = first.iter().map(to_record).collect();
    let mut later: Vec<Record> = rest.iter().map(to_record).collect();
    let fed: Vec<Record> = later.split_off(500);
    drop(events);
    println!("generated {} events in {:.1} s", records.len() + later.len(), t.elapsed().as_secs_f64());

    let dir = tempfile::tempdir()?;
    let config = Config::for_bench(dir.path().join("ledger"));
    let log = Arc::new(SledLog::open(config.sled_options())?);
    for chunk in records.chunks(5000) {
        log.append(chunk.to_vec()).await?;
    }
    let head = log.head();
    drop(records);

    // Baseline: read the whole log back and decode every event.
    let t = Instant::now();
    let mut from = beaconport_log::Position(0);
    let mut decoded = 0usize;
    loop {
        let entries = log.read(from, 10_000).await?;
        if entries.is_empty() {
            break;
        }
        for e in &entries {
            beaconport_proto::decode_stored_bytes(&e.payload).map_err(|e| anyhow::anyhow!(e))?;
            decoded += 1;
        }
        from = beaconport_log::Position(entries.last().map_or(from.0, |e| e.position.0 + 1));
    }
    let read = t.elapsed();
    if decoded as u64 != head.0 {
        bail!("read back {decoded} events of {}", head.0);
    }

    // The projection folds the log into the views; then the review is derived from them.
    let dyn_log: Arc<dyn EventLog> = log.clone();
    let t = Instant::now();
    let projector =
        Arc::new(beaconport_projection::Projector::open(config.projection_options(), dyn_log.clone()).await?);
    if !projector.wait_for(head, Duration::from_secs(3600)).await {
        bail!("the projection did not catch up within an hour");
    }
    let fold = t.elapsed();
    let views = projector.views().clone();
    let t = Instant::now();
    let review = tokio::task::spawn_blocking({
        let views = views.clone();
        move || views.read().review(today)
    })
    .await?;
    let derive = t.elapsed();
    let counts = views.read().counts();
    println!(
        "log of {} events: {} cases, {} mentions, {} persons; queue {} open + {} concluded, {} forces in the quality table, {} dangerous suspects, {} flight risks",
        head.0,
        counts.cases,
        counts.mentions,
        counts.persons,
        review.queue.len(),
        review.concluded.len(),
        review.quality.forces.len(),
        review.dangerous.len(),
        review.flight.len()
    );
    let build = fold + derive;
    println!(
        "build from the log: {:.1} s (projection {:.1} s + queue, quality and risk {:.2} s); reading and decoding the log alone: {:.1} s; ratio {:.1}x",
        build.as_secs_f64(),
        fold.as_secs_f64(),
        derive.as_secs_f64(),
        read.as_secs_f64(),
        build.as_secs_f64() / read.as_secs_f64()
    );

    // A batch more, and the review again.
    let t = Instant::now();
    let appended = log.append(later).await?;
    let last = appended.last().map_or(head, |x| x.position.next());
    projector.wait_for(last, Duration::from_secs(600)).await;
    let apply = t.elapsed();
    let t = Instant::now();
    tokio::task::spawn_blocking({
        let views = views.clone();
        move || views.read().review(today)
    })
    .await?;
    let again = t.elapsed();
    println!(
        "after a batch of 500 more events: applied in {:.0} ms, the review derived again in {:.0} ms ({:.0}% of the first derivation)",
        ms(apply),
        ms(again),
        100.0 * again.as_secs_f64() / derive.as_secs_f64()
    );

    // Queue pages over gRPC.
    let listener = beaconport_server::bind("127.0.0.1:0".parse()?).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(beaconport_server::serve(
        listener,
        dyn_log,
        Some(projector.clone() as Arc<dyn beaconport_views::Live>),
        config.server_options()?,
        async {
            let _ = stopped.await;
        },
    ));
    let ch = client::channel(&url).await?;
    let mut r = crate::reviewcmd::client(ch.clone());
    let mut reader = client::log_reader(ch);
    let ctx =
        Some(api::QueryContext { purpose: "bench: queue pages".into(), min_position: 0, wait_ms: 0, as_of: None });
    let total = review.queue.len().max(1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let mut pages = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut bare = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    // One page first: the views after the batch are derived once, then shared.
    r.get_queue(api::GetQueueRequest { context: ctx.clone(), page_size: a.page_size, ..Default::default() }).await?;
    for _ in 0..a.pages {
        let offset = rng.gen_range(0..total);
        let t = Instant::now();
        let page = r
            .get_queue(api::GetQueueRequest {
                context: ctx.clone(),
                page_size: a.page_size,
                page_token: if offset == 0 { String::new() } else { offset.to_string() },
                ..Default::default()
            })
            .await?
            .into_inner();
        pages.record(t.elapsed().as_micros().max(1) as u64)?;
        if page.items.is_empty() {
            bail!("an empty page at offset {offset} of {total}");
        }
        let t = Instant::now();
        reader.head(api::HeadRequest {}).await?;
        bare.record(t.elapsed().as_micros().max(1) as u64)?;
    }
    println!(
        "queue page of {} over gRPC, consultation recorded ({} pages): p50 {:.2} ms, p99 {:.2} ms; bare round trip p50 {:.2} ms, p99 {:.2} ms; p99 ratio {:.1}x",
        a.page_size,
        a.pages,
        pages.value_at_quantile(0.5) as f64 / 1000.0,
        pages.value_at_quantile(0.99) as f64 / 1000.0,
        bare.value_at_quantile(0.5) as f64 / 1000.0,
        bare.value_at_quantile(0.99) as f64 / 1000.0,
        pages.value_at_quantile(0.99) as f64 / bare.value_at_quantile(0.99).max(1) as f64
    );

    // The same pages while a force publishes batches of 500 events every 200 ms: the review is
    // derived again in the background after each, and pages are answered from the last one.
    let feeder = {
        let log = log.clone();
        tokio::spawn(async move {
            let mut n = 0;
            for chunk in fed.chunks(500) {
                log.append(chunk.to_vec()).await?;
                n += chunk.len();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            anyhow::Ok(n)
        })
    };
    let mut busy = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let mut stale = 0u64;
    for _ in 0..a.pages {
        let offset = rng.gen_range(0..total);
        let t = Instant::now();
        let page = r
            .get_queue(api::GetQueueRequest {
                context: ctx.clone(),
                page_size: a.page_size,
                page_token: if offset == 0 { String::new() } else { offset.to_string() },
                ..Default::default()
            })
            .await?
            .into_inner();
        busy.record(t.elapsed().as_micros().max(1) as u64)?;
        stale = stale.max(log.head().0.saturating_sub(page.as_of_position));
    }
    let appended = feeder.await??;
    println!(
        "the same pages while {} events were appended in batches of 500 every 200 ms: p50 {:.2} ms, p99 {:.2} ms (p99 ratio to the bare round trip {:.1}x); answers were at most {} events behind the log",
        appended,
        busy.value_at_quantile(0.5) as f64 / 1000.0,
        busy.value_at_quantile(0.99) as f64 / 1000.0,
        busy.value_at_quantile(0.99) as f64 / bare.value_at_quantile(0.99).max(1) as f64,
        stale
    );
    let _ = stop.send(());
    server.await??;
    if let Ok(p) = Arc::try_unwrap(projector) {
        p.shutdown().await?;
    }
    Ok(ExitCode::SUCCESS)
}
