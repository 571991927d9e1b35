//! `beaconport bench decode`: what the ingest's decoding and checking of events costs, on one
//! core, without the network: prost's decoding alone against decoding with every field
//! converted and checked, as the ingest does it (in batches, all or nothing).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use beaconport_proto::pb::event as pb;
use bytes::Bytes;
use clap::Args;
use prost::Message as _;

#[derive(Debug, Args, Clone)]
pub struct DecodeBenchArgs {
    /// Events decoded per round.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Rounds; medians are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub rounds: u32,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub fn run(a: DecodeBenchArgs) -> Result<ExitCode> {
    if a.events == 0 || a.batch_size == 0 {
        bail!("--events and --batch-size must be at least 1");
    }
    let now = chrono::Utc::now();
    let raw: Vec<Bytes> = beaconport_synth::events_for_bench(a.seed, a.events, now)
        .iter()
        .map(|e| Bytes::from(beaconport_proto::event_to_pb(e).encode_to_vec()))
        .collect();
    let n = raw.len();
    let avg = raw.iter().map(Bytes::len).sum::<usize>() as f64 / n as f64;
    println!("{n} events ({avg:.0} bytes each on average), batches of {}, one core", a.batch_size);
    let ctx = beaconport_domain::Context { now };
    let (mut prost_only, mut checked) = (Vec::new(), Vec::new());
    for round in 1..=a.rounds {
        let t = Instant::now();
        for b in &raw {
            let e = pb::Event::decode(b.as_ref())?;
            // The ingest's test that nothing unknown came with it, as in the full path.
            if e.encoded_len() != b.len() {
                bail!("a generated event is not canonically encoded");
            }
            std::hint::black_box(e);
        }
        let p = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        let mut kept = 0;
        for chunk in raw.chunks(a.batch_size) {
            let mut batch = beaconport_proto::WireBatch::new(chunk.len());
            for b in chunk {
                batch.push(b, &ctx, &mut |e: beaconport_domain::Event| e.id);
            }
            match batch.finish() {
                Ok(ids) => kept += std::hint::black_box(ids).len(),
                Err(errors) => bail!("a generated batch was refused: {:?}", errors.first()),
            }
        }
        let c = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        if kept != n {
            bail!("{kept} of {n} events came out of the checks");
        }
        println!("round {round}: prost's decoding {p:.2} µs per event; decoded, converted and checked {c:.2} µs");
        prost_only.push(p);
        checked.push(c);
    }
    let (p, c) = (crate::bench::median(prost_only), crate::bench::median(checked));
    println!();
    println!("medians over {} rounds", a.rounds);
    println!("prost's decoding alone:                  {p:.2} µs per event ({:.0} events/s)", 1e6 / p);
    println!("decoded, converted and checked (ingest): {c:.2} µs per event ({:.0} events/s)", 1e6 / c);
    println!("converting and checking: {:.2} µs per event, {:.0}% of the whole", c - p, 100.0 * (c - p) / c);
    Ok(ExitCode::SUCCESS)
}
