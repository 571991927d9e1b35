//! `beaconport rebuild`: drops the stored views and replays the whole log into fresh ones, with a
//! progress bar. The server must be stopped (the log is opened here).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use beaconport_log::EventLog;
use beaconport_log_sled::SledLog;
use beaconport_projection::Projector;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;

/// Rebuilds the views of `config` from its log; returns the events applied.
pub async fn run(config: Config) -> Result<u64> {
    let options = config.sled_options();
    let log = tokio::task::spawn_blocking(move || SledLog::open(options))
        .await?
        .context("opening the log (is a server still running on this data directory?)")?;
    let log = Arc::new(log);
    let views = config.projection_options();
    if views.dir.exists() {
        std::fs::remove_dir_all(&views.dir).with_context(|| format!("removing {}", views.dir.display()))?;
    }
    let head = log.head().0;
    let t = Instant::now();
    let dyn_log: Arc<dyn EventLog> = log.clone();
    let projector = Projector::open(views, dyn_log).await?;
    let bar = ProgressBar::new(head);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} events [{bar:40}] {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    while !projector.wait_for(beaconport_domain::Position(head), Duration::from_millis(200)).await {
        bar.set_position(projector.applied().0);
    }
    bar.finish_and_clear();
    let counts = projector.views().read().counts();
    projector.shutdown().await?;
    tokio::task::spawn_blocking(move || log.close()).await?;
    println!(
        "rebuilt the views from {head} events in {:.2} s: {} cases, {} mentions resolved into {} persons",
        t.elapsed().as_secs_f64(),
        counts.cases,
        counts.mentions,
        counts.persons
    );
    Ok(head)
}
