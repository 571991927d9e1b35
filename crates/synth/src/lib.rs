//! Beaconport's synthetic national scenario: a seeded, deterministic generator of the events
//! forces would publish (cases referred to the national NFA review, the ordinary casework around
//! them, offender networks that cross force boundaries, and the same people recorded differently
//! by different forces) together with the ground truth behind them, for the `demo` command, tests
//! and benchmarks.
//!
//! It owns only the generation: names come from lists of common given names and surnames, phone
//! numbers from Ofcom's drama ranges, e-mail addresses from the reserved `example` domains; no
//! real person or case is in it. It depends on the domain crate, chrono, uuid and rand only, and
//! must not depend on anything async or on the wire format (no tokio, tonic, prost): it hands out
//! domain [`Event`]s, which every caller can encode as it needs.

mod bench;
mod case;
mod geo;
pub mod names;
mod people;
mod review_fixture;
mod scenario;
mod text;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use beaconport_domain::{Event, EventKind, Identifier, Place};
use chrono::{DateTime, TimeZone, Utc};

pub use people::Individual;
pub use review_fixture::{review_fixture, ReviewAnswers};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub seed: u64,
    /// How many territorial forces take part (the largest metropolitan forces and their
    /// neighbours first; 1 to 43).
    pub forces: usize,
    /// Cases in the review's scope, referred to the national NFA review.
    pub referred_cases: usize,
    /// How many of the referred cases are rape allegations (at most `referred_cases`).
    pub referred_rape_cases: usize,
    /// Other cases: adult sexual offences, assaults, burglaries, drugs, a few child sexual
    /// offences with one suspect.
    pub ordinary_cases: usize,
    /// The ledger's clock: nothing is dated after it. Expected to be after 2011.
    pub now: DateTime<Utc>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: 2025,
            forces: 23,
            referred_cases: 1273,
            referred_rape_cases: 236,
            ordinary_cases: 4000,
            now: default_now(),
        }
    }
}

/// The fixed clock of the default scenario, so that its output never depends on the day it runs.
pub fn default_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 30, 12, 0, 0).single().expect("valid time")
}

/// A generated scenario: the events in publishing order, and the truth behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Every event, sorted by `recorded_at` (ties in a fixed order), so that publishing them in
    /// order keeps each case's order.
    pub events: Vec<Event>,
    pub truth: Truth,
}

/// What the events really mean, for tests and for scoring the views.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    /// (force code, case_ref, person_ref) -> id of the true synthetic individual.
    pub identity_of_mention: HashMap<(String, String, String), u64>,
    /// (force code, case_ref) of every case in the review's scope, in generation order.
    pub referred_cases: Vec<(String, String)>,
    pub networks: Vec<Network>,
    /// Every individual, indexed by id.
    pub individuals: Vec<Individual>,
    /// Pairs of different individuals made to look alike.
    pub look_alikes: Vec<LookAlike>,
    /// What the generator planted in each referred case for the NFA review to find.
    pub review: BTreeMap<(String, String), PlantedReview>,
}

/// What a referred case was made to hold, for the review's queue to find: every referred case is
/// in the review's scope (closed NFA in range, two or more suspects acting together against more
/// than one child, a suspect alive, no independent review), and no ordinary case is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlantedReview {
    /// Victims whose name or date of birth was never recorded, or whose account was never taken.
    pub victims_not_heard: BTreeSet<String>,
    /// Named suspects never interviewed.
    pub suspects_not_interviewed: BTreeSet<String>,
    /// The force's child abuse flag (CSA, CSE or group-based) stands on the case.
    pub flagged_child_abuse: bool,
    /// The force's group-based or exploitation flag (CSE or group-based) stands on the case.
    pub flagged_group: bool,
    /// A rape classification is recorded.
    pub rape: bool,
    /// The national review started on the case.
    pub started: bool,
    /// Avenues the review actioned (pursued).
    pub actioned: Vec<String>,
    /// The national review concluded on the case: it has left the queue.
    pub concluded: bool,
}

/// An offender network: individuals who offend together across force boundaries.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub id: usize,
    /// Individual ids of the members (the most active first).
    pub members: Vec<u64>,
    /// Codes of the forces whose cases involve the network.
    pub forces: Vec<String>,
    /// (force code, case_ref) of the referred cases in which members are suspects.
    pub cases: Vec<(String, String)>,
    /// Individual ids of the network's victims.
    pub victims: Vec<u64>,
    /// Phones and vehicles used by more than one member (canonical form).
    pub shared_identifiers: Vec<Identifier>,
    /// Places where victims were taken.
    pub venues: Vec<Place>,
}

/// Two different individuals whose records look alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookAlike {
    pub a: u64,
    pub b: u64,
    pub kind: LookAlikeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookAlikeKind {
    /// The same name, a different date of birth and address.
    SameName,
    /// Same surname, date of birth and address; a different given name.
    Twins,
    /// Same full name and address, a generation apart.
    ParentAndChild,
}

/// Generates the scenario of `opts`: the same options always give the same scenario.
pub fn generate(opts: &Options) -> Scenario {
    scenario::run(opts, false)
}

/// `n` valid events for throughput benchmarks: a scenario over all 43 territorial forces with
/// complete records (every identifier, former addresses, file notes, records amended as the
/// investigation goes), as a bulk load of a force's back catalogue would carry, so about 300
/// bytes per event in the stored encoding, and every kind of event. Beyond [`BENCH_BASE_EVENTS`]
/// events, the scenario is repeated under other case references and event ids (the same people
/// then appear in every repetition), each repetition in publishing order.
pub fn events_for_bench(seed: u64, n: usize, now: DateTime<Utc>) -> Vec<Event> {
    bench_events(seed, n, now, BENCH_BASE_EVENTS)
}

fn bench_events(seed: u64, n: usize, now: DateTime<Utc>, base_events: usize) -> Vec<Event> {
    let base = bench_base(seed, n.min(base_events), now);
    if base.len() >= n {
        return base;
    }
    // Repetitions are independent: make them on every core, then join them in round order.
    let rounds: Vec<(u64, usize)> = (1..)
        .map(|r: u64| (r, (n - base.len()).saturating_sub((r as usize - 1) * base.len()).min(base.len())))
        .take_while(|(_, take)| *take > 0)
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get()).clamp(1, 8);
    let per_thread = rounds.len().div_ceil(threads);
    let parts: Vec<Vec<Event>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rounds
            .chunks(per_thread)
            .map(|chunk| {
                let base = &base;
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(chunk.iter().map(|(_, take)| take).sum());
                    for &(round, take) in chunk {
                        bench::repeat(&base[..take], seed, round, &mut out);
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("repetition thread")).collect()
    });
    let mut events = base;
    events.reserve_exact(n - events.len());
    for part in parts {
        events.extend(part);
    }
    events
}

/// How many events [`events_for_bench`] generates before it repeats them.
pub const BENCH_BASE_EVENTS: usize = 150_000;

/// At least `n` events of a complete-record scenario, cut at `n`.
fn bench_base(seed: u64, n: usize, now: DateTime<Utc>) -> Vec<Event> {
    // About 16 events per case with complete records; aim a little high, then cut.
    let mut cases = n / 15 + 20;
    loop {
        let referred = cases / 5;
        let opts = Options {
            seed,
            forces: 43,
            referred_cases: referred,
            referred_rape_cases: referred * 236 / 1273,
            ordinary_cases: cases - referred,
            now,
        };
        let mut events = scenario::run(&opts, true).events;
        if events.len() >= n {
            events.truncate(n);
            return events;
        }
        cases = cases * n / events.len().max(1) + 20;
    }
}

/// Counts of a scenario, for the `demo` command and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    pub forces: usize,
    pub cases: usize,
    pub referred_cases: usize,
    pub mentions: usize,
    pub individuals: usize,
    pub networks: usize,
    pub by_kind: BTreeMap<EventKind, usize>,
}

impl Scenario {
    pub fn summary(&self) -> Summary {
        let mut by_kind = BTreeMap::new();
        let mut cases = BTreeSet::new();
        let mut forces = BTreeSet::new();
        for e in &self.events {
            *by_kind.entry(e.body.kind()).or_insert(0) += 1;
            if e.body.kind() == EventKind::LinkDecided {
                // An investigator's decision, not a force's case record.
                continue;
            }
            cases.insert((e.force.code, e.case_ref.as_str()));
            forces.insert(e.force.code);
        }
        Summary {
            events: self.events.len(),
            forces: forces.len(),
            cases: cases.len(),
            referred_cases: self.truth.referred_cases.len(),
            mentions: self.truth.identity_of_mention.len(),
            individuals: self.truth.individuals.len(),
            networks: self.truth.networks.len(),
            by_kind,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} events, {} cases in {} forces ({} referred to the NFA review), {} person mentions of {} individuals, {} networks",
            self.events, self.cases, self.forces, self.referred_cases, self.mentions, self.individuals, self.networks
        )?;
        for (kind, n) in &self.by_kind {
            writeln!(f, "  {:<28} {n}", kind.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
