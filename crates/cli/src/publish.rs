//! `beaconport publish FILE`: loads NDJSON events (proto3 JSON mapping) into the ledger.
//!
//! Each line is checked locally first (JSON, then the same validation as the server), so one bad
//! line costs only itself; valid events are sent in batches. Event ids repeated in the file are
//! stored once. The summary counts accepted (new and already stored) and rejected lines, and
//! names each rejected line with its field and reason.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use beaconport_domain::Context;
use beaconport_proto::pb::{api, event as pb};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tonic_types::StatusExt;

use crate::client;

#[derive(Debug, Args, Clone)]
pub struct PublishArgs {
    /// NDJSON file of events; `-` reads standard input.
    pub file: PathBuf,
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Events per batch.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    /// How many rejected lines to print (all are counted).
    #[arg(long, default_value_t = 50)]
    pub show_rejected: usize,
}

/// What a publish run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub stored_new: u64,
    pub already_stored: u64,
    /// (line number, reason)
    pub rejected: Vec<(u64, String)>,
}

pub async fn run(a: PublishArgs) -> Result<ExitCode> {
    let input: Box<dyn Read> = if a.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&a.file).with_context(|| format!("opening {}", a.file.display()))?)
    };
    let total = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} [{bar:40}] {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    if total < (1 << 20) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut client = client::ingest(a.server.connect().await?);
    let summary = publish_reader(BufReader::new(input), &mut client, a.batch_size as usize, &bar).await?;
    bar.finish_and_clear();
    println!(
        "read {} lines: {} stored ({} new, {} already stored), {} rejected",
        summary.lines,
        summary.stored_new + summary.already_stored,
        summary.stored_new,
        summary.already_stored,
        summary.rejected.len()
    );
    for (line, reason) in summary.rejected.iter().take(a.show_rejected) {
        println!("line {line}: {reason}");
    }
    if summary.rejected.len() > a.show_rejected {
        println!("... and {} more rejected lines", summary.rejected.len() - a.show_rejected);
    }
    Ok(if summary.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// Reads NDJSON from `reader` and publishes it; see the module doc.
/// Reads one NDJSON line as an event (or a replayed entry, `beaconport audit replay`, holding
/// one) and checks it as the ledger will; the error says why the line is refused.
pub fn parse_line(line: &str, ctx: &Context) -> Result<pb::Event, String> {
    let event: pb::Event = serde_json::from_str::<serde_json::Value>(line)
        .and_then(|mut v| {
            let wrapped = v.get("event_id").is_none() && v.get("event").is_some_and(|e| e.is_object());
            let inner = if wrapped { v["event"].take() } else { v };
            serde_json::from_value(inner)
        })
        .map_err(|e| format!("not an event in proto3 JSON: {e}"))?;
    if let Err(errors) = beaconport_proto::decode_event(0, event.clone(), ctx) {
        let reasons: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(reasons.join("; "));
    }
    Ok(event)
}

pub async fn publish_reader(
    reader: impl BufRead,
    client: &mut api::ingest_service_client::IngestServiceClient<tonic::transport::Channel>,
    batch_size: usize,
    bar: &ProgressBar,
) -> Result<Summary> {
    let mut summary = Summary::default();
    let mut seen: HashMap<String, (u64, pb::Event)> = HashMap::new();
    let mut batch: Vec<(u64, pb::Event)> = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i as u64 + 1;
        let line = line.with_context(|| format!("reading line {n}"))?;
        bar.inc(line.len() as u64 + 1);
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        let event = match parse_line(&line, &Context { now: chrono::Utc::now() }) {
            Ok(e) => e,
            Err(reason) => {
                summary.rejected.push((n, reason));
                continue;
            }
        };
        if let Some((first, earlier)) = seen.get(&event.event_id) {
            if *earlier == event {
                summary.already_stored += 1;
            } else {
                summary.rejected.push((
                    n,
                    format!("event {}: event_id: already used on line {first} for a different event", event.event_id),
                ));
            }
            continue;
        }
        seen.insert(event.event_id.clone(), (n, event.clone()));
        batch.push((n, event));
        if batch.len() >= batch_size {
            send(client, std::mem::take(&mut batch), &mut summary).await?;
        }
    }
    if !batch.is_empty() {
        send(client, batch, &mut summary).await?;
    }
    Ok(summary)
}

/// Sends one batch; if the server rejects some events (its clock or rules may differ from
/// ours), those lines are reported and the rest is sent again.
async fn send(
    client: &mut api::ingest_service_client::IngestServiceClient<tonic::transport::Channel>,
    mut batch: Vec<(u64, pb::Event)>,
    summary: &mut Summary,
) -> Result<()> {
    loop {
        if batch.is_empty() {
            return Ok(());
        }
        let req = api::PublishRequest { events: batch.iter().map(|(_, e)| e.clone()).collect() };
        match client.publish(req).await {
            Ok(resp) => {
                for ack in resp.into_inner().acks {
                    if ack.duplicate {
                        summary.already_stored += 1;
                    } else {
                        summary.stored_new += 1;
                    }
                }
                return Ok(());
            }
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                let Some(bad) = status.get_details_bad_request() else {
                    anyhow::bail!("server rejected a batch: {}", status.message());
                };
                let mut drop_idx: Vec<usize> = bad
                    .field_violations
                    .iter()
                    .filter_map(|v| v.field.strip_prefix("events[")?.split(']').next()?.parse().ok())
                    .collect();
                if drop_idx.is_empty() {
                    anyhow::bail!("server rejected a batch: {}", status.message());
                }
                drop_idx.sort_unstable();
                drop_idx.dedup();
                for &i in drop_idx.iter().rev() {
                    if i < batch.len() {
                        let (line, _) = batch.remove(i);
                        let reasons: Vec<&str> = bad
                            .field_violations
                            .iter()
                            .filter(|v| v.field.starts_with(&format!("events[{i}]")))
                            .map(|v| v.description.as_str())
                            .collect();
                        summary.rejected.push((line, reasons.join("; ")));
                    }
                }
            }
            Err(status) => anyhow::bail!("publishing failed ({:?}): {}", status.code(), status.message()),
        }
    }
}
