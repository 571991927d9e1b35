//! The national scenario: forces with their own recording habits, offender networks that cross
//! force boundaries, the cases referred to the national NFA review, and the ordinary casework
//! around them.

use std::collections::{BTreeMap, HashMap};

use beaconport_domain::reference::{self, Force, OffenceClass};
use beaconport_domain::{
    AbuseFlag, Address, Body, CaseOpened, CaseReferred, DecisionKind, DecisionRecorded, Event, Flagging, Identifier,
    IdentifierKind, IdentifierObserved, IndependentReviewRecorded, InterviewKind, InterviewRecorded, LinkDecided,
    LinkDecision, LocationObserved, OffenceRecorded, PartialDate, Place, ReviewOutcome, Role, Sex, StatementKind,
    StatementTaken, TravelRiskKind, TravelRiskNoted, VitalStatus,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, SubsecRound, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::case::{during, Envelope, Plan};
use crate::geo::{self, ForceGeo};
use crate::names::{self, Origin};
use crate::people::{self, full_date, shift_days, shift_years, Population, Recording, Spec};
use crate::text;
use crate::{LookAlike, LookAlikeKind, Network, Options, PlantedReview, Scenario, Truth};

/// A force of the scenario and its recording habits.
#[derive(Debug)]
struct ForceCtx {
    force: &'static Force,
    geo: &'static ForceGeo,
    rec: Recording,
    /// Chance that a group-based case gets one of the force's abuse flags.
    flag_rate: f64,
    interview_rate: f64,
    statement_rate: f64,
    officers: Vec<String>,
    systems: Vec<String>,
    /// Other forces of the scenario, nearest first.
    neighbours: Vec<usize>,
    origins: WeightedIndex<u32>,
}

/// An offender network while it is being built.
#[derive(Debug)]
struct Net {
    members: Vec<u64>,
    forces: Vec<usize>,
    phones: Vec<String>,
    vehicles: Vec<String>,
    venues: Vec<Place>,
    victims: Vec<u64>,
    cases: Vec<(String, String)>,
    start: NaiveDate,
    end: NaiveDate,
}

/// The case being planned: its force (index) and reference.
#[derive(Debug)]
struct Cx {
    f: usize,
    case_ref: String,
}

/// A person of a case being planned.
#[derive(Debug)]
struct Party {
    id: u64,
    person_ref: String,
    role: Role,
    /// Planned PersonRecorded handle.
    handle: usize,
    named: bool,
}

struct Gen {
    rng: ChaCha8Rng,
    full: bool,
    limit: DateTime<Utc>,
    today: NaiveDate,
    nfa_end: NaiveDate,
    forces: Vec<ForceCtx>,
    force_pick: WeightedIndex<u32>,
    pop: Population,
    events: Vec<Event>,
    identity: Vec<((String, String, String), u64)>,
    referred: Vec<(String, String)>,
    nets: Vec<Net>,
    look_alikes: Vec<LookAlike>,
    must_appear: Vec<u64>,
    repeat_offenders: Vec<u64>,
    counters: BTreeMap<(usize, i32), u32>,
    planted: BTreeMap<(String, String), PlantedReview>,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// First day in scope of the review, and the earliest report the scenario makes.
const EPOCH: (i32, u32, u32) = (2010, 1, 1);

fn between<R: Rng>(rng: &mut R, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
    let days = (hi - lo).num_days();
    if days <= 0 {
        lo
    } else {
        lo + Duration::days(rng.gen_range(0..=days))
    }
}

fn between_t<R: Rng>(rng: &mut R, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let secs = (hi - lo).num_seconds();
    if secs <= 0 {
        lo
    } else {
        lo + Duration::seconds(rng.gen_range(0..=secs))
    }
}

fn weighted<R: Rng, T: Copy>(rng: &mut R, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (t, w) in items {
        if x < *w {
            return *t;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn offence(code: &str) -> &'static OffenceClass {
    reference::offence(code).expect("scenario offence codes are reference codes")
}

/// Ages (from, to exclusive) a child victim may have for a classification, and the sex it implies.
fn child_victim_profile(code: &str) -> ((i32, i32), Option<Sex>) {
    match code {
        "19E" | "20B" => ((9, 13), Some(Sex::Female)),
        "19H" | "17B" => ((9, 13), Some(Sex::Male)),
        "21" => ((9, 13), None),
        "19D" => ((12, 16), Some(Sex::Female)),
        "19G" => ((12, 16), Some(Sex::Male)),
        "22B" => ((12, 16), None),
        _ => ((11, 18), None),
    }
}

const RAPE_CLASSES: &[(&str, u32)] = &[("19D", 45), ("19E", 25), ("19G", 20), ("19H", 10)];
const CHILD_CLASSES: &[(&str, u32)] =
    &[("71", 25), ("22B", 20), ("21", 8), ("88A", 12), ("20B", 10), ("17B", 5), ("73", 6), ("23", 8)];
const ORDINARY_CLASSES: &[(&str, u32)] = &[
    ("8N", 180),
    ("105A", 180),
    ("28E", 140),
    ("45", 80),
    ("92A", 100),
    ("19C", 80),
    ("20A", 70),
    ("17A", 20),
    ("19F", 15),
    ("22A", 20),
    ("70", 10),
    ("88E", 30),
    // Child sexual offences with one suspect: outside the review's scope.
    ("22B", 25),
    ("88A", 20),
    ("20B", 15),
    ("71", 10),
    ("73", 5),
];

/// Generates the scenario of `opts`. `full` records everything a force could (every identifier,
/// former addresses, notes on the file), as a bulk load of complete records would.
pub(crate) fn run(opts: &Options, full: bool) -> Scenario {
    let mut g = Gen::new(opts, full);
    let referred = opts.referred_cases;
    let rape = opts.referred_rape_cases.min(referred);
    let mut is_rape: Vec<bool> = (0..referred).map(|i| i < rape).collect();
    is_rape.shuffle(&mut g.rng);
    let network_cases = if g.forces.len() > 1 || referred >= 3 { referred * 6 / 10 } else { 0 };
    let slots = g.make_networks(network_cases);
    g.make_look_alikes();
    g.make_repeat_offenders(opts.ordinary_cases / 40 + 1);
    for (i, rape) in is_rape.into_iter().enumerate() {
        g.referred_case(rape, slots.get(i).copied());
    }
    for _ in 0..opts.ordinary_cases {
        g.ordinary_case();
    }
    g.finish()
}

impl Gen {
    fn new(opts: &Options, full: bool) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        // Whole seconds, so that every time of the scenario is.
        let limit = (opts.now - Duration::minutes(10)).trunc_subsecs(0);
        let today = limit.date_naive();
        let nfa_end = ymd(2025, 3, 31).min(today - Duration::days(45));
        let selected = geo::select_forces(opts.forces);
        let mut forces = Vec::with_capacity(selected.len());
        for (i, (force, fgeo)) in selected.iter().enumerate() {
            let mut neighbours: Vec<usize> = (0..selected.len()).filter(|&j| j != i).collect();
            neighbours.sort_by(|&a, &b| {
                geo::distance_km(fgeo, selected[a].1).total_cmp(&geo::distance_km(fgeo, selected[b].1))
            });
            let d = u32::from(fgeo.diversity);
            let origins = WeightedIndex::new(Origin::WEIGHTS.iter().map(|(_, nat, metro)| nat * (10 - d) + metro * d))
                .expect("positive weights");
            let code = force.code.to_lowercase();
            forces.push(ForceCtx {
                force,
                geo: fgeo,
                rec: Recording {
                    self_defined_suspect: rng.gen_range(0.15..0.5),
                    self_defined_victim: rng.gen_range(0.3..0.7),
                    observed: rng.gen_range(0.35..0.8),
                    noise: rng.gen_range(0.6..1.5),
                    full,
                },
                flag_rate: rng.gen_range(0.3..1.7),
                interview_rate: rng.gen_range(0.45..0.8),
                statement_rate: rng.gen_range(0.55..0.9),
                officers: (0..40).map(|_| format!("off-{:06x}", rng.gen_range(0..0x100_0000u32))).collect(),
                systems: (1..=3).map(|n| format!("sys-{code}-{n:02}")).collect(),
                neighbours,
                origins,
            });
        }
        // Each force flags its own share of group-based cases, about 37% over all of them (the
        // inspectorate found 37% correctly flagged).
        let total: f64 = forces.iter().map(|f| f64::from(f.geo.weight)).sum();
        let mean: f64 = forces.iter().map(|f| f.flag_rate * f64::from(f.geo.weight)).sum::<f64>() / total;
        for f in &mut forces {
            f.flag_rate = (f.flag_rate * 0.37 / mean).min(0.9);
        }
        let force_pick = WeightedIndex::new(forces.iter().map(|f| f.geo.weight)).expect("positive weights");
        let pop = Population::new(&mut rng);
        Self {
            rng,
            full,
            limit,
            today,
            nfa_end,
            forces,
            force_pick,
            pop,
            events: Vec::with_capacity(
                (opts.referred_cases * 25 + opts.ordinary_cases * 12) * if full { 3 } else { 2 } / 2,
            ),
            identity: Vec::new(),
            referred: Vec::new(),
            nets: Vec::new(),
            look_alikes: Vec::new(),
            must_appear: Vec::new(),
            repeat_offenders: Vec::new(),
            counters: BTreeMap::new(),
            planted: BTreeMap::new(),
        }
    }

    /// The policing area of a case: a unit in one of the force's towns.
    fn area(&mut self, f: usize, units: &[&str]) -> String {
        let town = self.forces[f].geo.towns.choose(&mut self.rng).expect("towns").0;
        let unit = units.choose(&mut self.rng).expect("units");
        if self.full {
            format!("{town} {unit}, {}", self.forces[f].force.name)
        } else {
            format!("{town} {unit}")
        }
    }

    /// A phrase from `list`; in full detail with a note on where it came from.
    fn say(&mut self, list: &[&str]) -> String {
        let phrase = list.choose(&mut self.rng).expect("phrases");
        if self.full {
            format!("{phrase}; {}", text::FILE_NOTES.choose(&mut self.rng).expect("notes"))
        } else {
            phrase.to_string()
        }
    }

    /// A time between `lo` and `hi`, never after the scenario's last recording time.
    fn when(&mut self, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
        between_t(&mut self.rng, lo.min(self.limit), hi.min(self.limit))
    }

    fn epoch(&self) -> NaiveDate {
        ymd(EPOCH.0, EPOCH.1, EPOCH.2)
    }

    fn pick_force(&mut self) -> usize {
        self.force_pick.sample(&mut self.rng)
    }

    fn origin(&mut self, f: usize) -> Origin {
        Origin::WEIGHTS[self.forces[f].origins.sample(&mut self.rng)].0
    }

    /// A new individual living in force `f`, aged `age` (years) on `on`.
    fn person(&mut self, f: usize, sex: Sex, age: i32, on: NaiveDate, offender: bool, origin: Option<Origin>) -> u64 {
        let origin = origin.unwrap_or_else(|| self.origin(f));
        let born = shift_days(shift_years(on, -age), -self.rng.gen_range(0..365));
        self.pop.add(&mut self.rng, Spec { sex, origin, born, offender }, self.forces[f].geo)
    }

    fn case_ref(&mut self, f: usize, year: i32) -> String {
        let step = self.rng.gen_range(1..60);
        let start = self.rng.gen_range(100..900);
        let n = self.counters.entry((f, year)).or_insert(start);
        *n += step;
        format!("{}-{year}-{:06}", self.forces[f].force.code, n)
    }

    fn make_networks(&mut self, total_cases: usize) -> Vec<usize> {
        let mut slots = Vec::with_capacity(total_cases);
        while slots.len() < total_cases {
            let remaining = total_cases - slots.len();
            let mut n_cases = self.rng.gen_range(4..=14).min(remaining);
            if n_cases < 3 && !self.nets.is_empty() {
                let last = self.nets.len() - 1;
                slots.extend(std::iter::repeat_n(last, n_cases));
                break;
            }
            n_cases = n_cases.max(1);
            let id = self.nets.len();
            let net = self.new_network();
            self.nets.push(net);
            slots.extend(std::iter::repeat_n(id, n_cases));
        }
        slots.shuffle(&mut self.rng);
        slots
    }

    fn new_network(&mut self) -> Net {
        let home = self.pick_force();
        let n_forces = weighted(&mut self.rng, &[(2usize, 45), (3, 35), (4, 20)]).min(self.forces.len());
        let mut forces = vec![home];
        while forces.len() < n_forces {
            let near = &self.forces[home].neighbours;
            let f = if self.rng.gen_bool(0.85) {
                near[..near.len().min(4)].choose(&mut self.rng).copied()
            } else {
                near.choose(&mut self.rng).copied()
            };
            if let Some(f) = f {
                if !forces.contains(&f) {
                    forces.push(f);
                }
            }
        }
        let start = between(&mut self.rng, ymd(2009, 1, 1), self.nfa_end - Duration::days(365));
        let span = self.rng.gen_range(1..=6);
        let end = shift_years(start, span).min(self.nfa_end);
        let size = weighted(
            &mut self.rng,
            &[(3usize, 10), (4, 15), (5, 15), (6, 14), (7, 12), (8, 10), (9, 8), (10, 6), (11, 5), (12, 5)],
        );
        let primary = self.origin(home);
        let mut members = Vec::with_capacity(size);
        for _ in 0..size {
            let origin = if self.rng.gen_bool(0.7) { primary } else { self.origin(home) };
            let lives = if self.rng.gen_bool(0.65) { home } else { *forces.choose(&mut self.rng).expect("forces") };
            let sex = if self.rng.gen_bool(0.93) { Sex::Male } else { Sex::Female };
            let age = self.rng.gen_range(18..=45);
            members.push(self.person(lives, sex, age, start, true, Some(origin)));
        }
        // Brothers or housemates: one address, sometimes one surname.
        if members.len() >= 4 && self.rng.gen_bool(0.35) {
            let (a, b) = (members[0], members[1]);
            let (address, surname) = (self.pop.get(a).address.clone(), self.pop.get(a).surname.clone());
            let same_family = self.pop.get(a).origin == self.pop.get(b).origin && self.rng.gen_bool(0.6);
            let pb = self.pop.get_mut(b);
            pb.address = address;
            if same_family {
                pb.surname = surname;
            }
        }
        let mut phones = Vec::new();
        for _ in 0..self.rng.gen_range(1..=2) {
            let phone = self.pop.phone(&mut self.rng);
            let users = self.rng.gen_range(2..=4.min(members.len()));
            for &m in members.choose_multiple(&mut self.rng, users) {
                self.pop.get_mut(m).phones.push(phone.clone());
            }
            phones.push(phone);
        }
        let mut vehicles = Vec::new();
        for _ in 0..self.rng.gen_range(1..=2) {
            let v = people::vehicle(&mut self.rng, 2004);
            let users = self.rng.gen_range(1..=3.min(members.len()));
            for &m in members.choose_multiple(&mut self.rng, users) {
                self.pop.get_mut(m).vehicles.push(v.clone());
            }
            vehicles.push(v);
        }
        let mut venues = Vec::new();
        for _ in 0..self.rng.gen_range(1..=3) {
            let f = *forces.choose(&mut self.rng).expect("forces");
            venues.push(self.place(f, true));
        }
        Net { members, forces, phones, vehicles, venues, victims: Vec::new(), cases: Vec::new(), start, end }
    }

    /// A place in force `f`: a kind of venue on a street of one of its towns.
    fn place(&mut self, f: usize, with_address: bool) -> Place {
        let geo = self.forces[f].geo;
        let address = geo::address(&mut self.rng, geo);
        let street = address.line1.split_once(' ').map_or("", |(_, s)| s).to_string();
        let pattern = names::VENUES.choose(&mut self.rng).expect("venues");
        let name = pattern.replace("{street}", &street).replace("{town}", &address.town);
        let coordinates = (self.full || self.rng.gen_bool(0.7)).then(|| geo::coordinates(&mut self.rng, geo));
        let with_address = self.full || with_address || self.rng.gen_bool(0.5);
        let address = with_address.then(|| Address { line2: String::new(), ..address });
        Place { name, address, coordinates }
    }

    fn make_look_alikes(&mut self) {
        let members: Vec<u64> = self.nets.iter().flat_map(|n| n.members.iter().copied()).collect();
        for m in members {
            let roll = self.rng.gen_range(0..100);
            let (other, kind) = match roll {
                0..=19 => {
                    let f = self.pick_force();
                    (self.pop.namesake(&mut self.rng, m, self.forces[f].geo), LookAlikeKind::SameName)
                }
                20..=22 => (self.pop.relative(&mut self.rng, m, true), LookAlikeKind::Twins),
                23..=25 => (self.pop.relative(&mut self.rng, m, false), LookAlikeKind::ParentAndChild),
                _ => continue,
            };
            self.look_alikes.push(LookAlike { a: m, b: other, kind });
            self.must_appear.push(other);
        }
        self.must_appear.shuffle(&mut self.rng);
    }

    fn make_repeat_offenders(&mut self, n: usize) {
        for _ in 0..n {
            let f = self.pick_force();
            let sex = if self.rng.gen_bool(0.88) { Sex::Male } else { Sex::Female };
            let age = self.rng.gen_range(18..50);
            let on = ymd(2012, 1, 1);
            let id = self.person(f, sex, age, on, true, None);
            self.repeat_offenders.push(id);
        }
    }

    /// Records a party of a case (the mention, and the truth about it) and adds it to `parties`.
    /// `named` false records an unidentified person; `alive` records the person as alive.
    #[allow(clippy::too_many_arguments)]
    fn party(
        &mut self,
        plan: &mut Plan,
        cx: &Cx,
        parties: &mut Vec<Party>,
        id: u64,
        role: Role,
        at: DateTime<Utc>,
        named: bool,
        alive: bool,
    ) {
        let person_ref = format!("P{}", parties.len() + 1);
        let p = self.pop.get(id);
        let mut record = if named {
            people::mention(&mut self.rng, p, person_ref.clone(), role, &self.forces[cx.f].rec, at.date_naive())
        } else {
            people::unidentified(&mut self.rng, p, person_ref.clone())
        };
        if alive {
            record.vital_status = Some(VitalStatus::Alive);
        }
        let handle = plan.push(at, Body::PersonRecorded(record));
        self.identity.push(((self.forces[cx.f].force.code.to_string(), cx.case_ref.clone(), person_ref.clone()), id));
        parties.push(Party { id, person_ref, role, handle, named });
    }

    fn write(&mut self, plan: Plan, cx: &Cx) {
        let fc = &self.forces[cx.f];
        let oic = fc.officers.choose(&mut self.rng).expect("officers").clone();
        let env = Envelope {
            force: fc.force,
            case_ref: &cx.case_ref,
            oic: &oic,
            officers: &fc.officers,
            systems: &fc.systems,
            limit: self.limit,
        };
        plan.write(&mut self.rng, &env, &mut self.events);
    }

    /// A date of birth correction for a mention whose date of birth was recorded wrongly.
    /// Sometimes corrects a mention whose date of birth was recorded wrongly; in full detail,
    /// otherwise often updates the record with a further address. Returns whether it corrected.
    fn maybe_correct(&mut self, plan: &mut Plan, party: &Party, p: f64, latest: DateTime<Utc>) -> bool {
        let Some(Body::PersonRecorded(rec)) = plan.body(party.handle) else { return false };
        let truth = full_date(self.pop.get(party.id).date_of_birth);
        let wrong_dob = rec.date_of_birth != Some(truth) && rec.name.is_some();
        let mut fixed = rec.clone();
        let reason = if wrong_dob && self.rng.gen_bool(p) {
            fixed.date_of_birth = Some(truth);
            self.say(text::CORRECTION_REASONS)
        } else if self.full && self.rng.gen_bool(0.85) {
            let home = geo::geo(self.pop.get(party.id).home_force);
            fixed.addresses.push(geo::address(&mut self.rng, home));
            self.say(text::UPDATE_REASONS)
        } else {
            return false;
        };
        let from = plan.at(party.handle) + Duration::days(3);
        let at = self.when(from, latest.max(from + Duration::days(60))).min(self.limit);
        if at <= plan.at(party.handle) {
            return false;
        }
        plan.correct(at, party.handle, &reason, Body::PersonRecorded(fixed));
        true
    }

    fn referred_case(&mut self, rape: bool, net: Option<usize>) {
        let lo = ymd(2010, 3, 1).min(self.nfa_end);
        let f = match net {
            Some(n) if self.rng.gen_bool(0.45) => self.nets[n].forces[0],
            Some(n) => *self.nets[n].forces.choose(&mut self.rng).expect("forces"),
            None => self.pick_force(),
        };
        let decided = match net {
            Some(n) => {
                let (s, e) = (self.nets[n].start + Duration::days(120), self.nets[n].end);
                between(&mut self.rng, s.max(lo), e)
            }
            None => between(&mut self.rng, lo, self.nfa_end),
        }
        .clamp(lo, self.nfa_end);
        let reported = (decided - Duration::days(self.rng.gen_range(45..=700))).max(self.epoch());
        let committed_from = reported - Duration::days(self.rng.gen_range(20..=900));
        let mut committed_to = (reported - Duration::days(self.rng.gen_range(0..=20))).max(committed_from);
        let principal = if rape {
            weighted(&mut self.rng, RAPE_CLASSES)
        } else {
            match weighted(&mut self.rng, CHILD_CLASSES) {
                "23" if net.is_some() => "71",
                c => c,
            }
        };
        let familial = principal == "23";

        // Suspects.
        let n_suspects = weighted(&mut self.rng, &[(2usize, 45), (3, 25), (4, 15), (5, 10), (6, 5)]);
        let mut suspects: Vec<u64> = Vec::new();
        match net {
            Some(n) => {
                let members = self.nets[n].members.clone();
                let ranked: Vec<(usize, u64)> = members.into_iter().enumerate().collect();
                let k = n_suspects.min(ranked.len());
                let chosen = ranked
                    .choose_multiple_weighted(&mut self.rng, k, |(rank, _)| 1.0 / (1.0 + *rank as f64 * 0.5))
                    .expect("positive weights");
                suspects.extend(chosen.map(|(_, id)| *id));
            }
            None => {
                for i in 0..n_suspects {
                    let id = if familial && i > 0 {
                        let head = suspects[0];
                        let age = self.rng.gen_range(25..60);
                        let origin = self.pop.get(head).origin;
                        let id = self.person(f, Sex::Male, age, committed_from, true, Some(origin));
                        let (surname, address) =
                            (self.pop.get(head).surname.clone(), self.pop.get(head).address.clone());
                        let p = self.pop.get_mut(id);
                        if self.rng.gen_bool(0.7) {
                            p.surname = surname;
                        }
                        p.address = address;
                        id
                    } else if !familial && self.rng.gen_bool(0.1) && !self.repeat_offenders.is_empty() {
                        *self.repeat_offenders.choose(&mut self.rng).expect("offenders")
                    } else {
                        let sex = if self.rng.gen_bool(0.92) { Sex::Male } else { Sex::Female };
                        let age = if self.rng.gen_bool(0.05) { 16 } else { self.rng.gen_range(18..55) };
                        self.person(f, sex, age, committed_from, true, None)
                    };
                    if !suspects.contains(&id) {
                        suspects.push(id);
                    }
                }
                while suspects.len() < 2 {
                    let age = self.rng.gen_range(18..55);
                    suspects.push(self.person(f, Sex::Male, age, committed_from, true, None));
                }
            }
        }

        // Victims, each with the classification of what was done to them.
        let n_victims = weighted(&mut self.rng, &[(2usize, 55), (3, 25), (4, 12), (5, 8)]);
        let mut victims: Vec<(u64, &'static str)> = Vec::new();
        for i in 0..n_victims {
            let class = if i == 0 || self.rng.gen_bool(0.5) {
                principal
            } else if rape {
                *["71", "22B", "88A"].choose(&mut self.rng).expect("classes")
            } else {
                match weighted(&mut self.rng, CHILD_CLASSES) {
                    "23" if !familial => "71",
                    c => c,
                }
            };
            let ((min_age, max_age), sex) = child_victim_profile(class);
            let fits = |p: &people::Individual| {
                let age = p.age_on(committed_from);
                (min_age..max_age).contains(&age) && sex.is_none_or(|s| s == p.sex)
            };
            let reuse = net.and_then(|n| {
                if !self.rng.gen_bool(0.35) {
                    return None;
                }
                let pool: Vec<u64> = self.nets[n]
                    .victims
                    .iter()
                    .copied()
                    .filter(|v| !victims.iter().any(|(x, _)| x == v) && fits(self.pop.get(*v)))
                    .collect();
                pool.choose(&mut self.rng).copied()
            });
            let id = match reuse {
                Some(id) => id,
                None => {
                    let sex = sex.unwrap_or(if self.rng.gen_bool(0.8) { Sex::Female } else { Sex::Male });
                    let age = self.rng.gen_range(min_age..max_age);
                    let origin = if familial { Some(self.pop.get(suspects[0]).origin) } else { None };
                    let id = self.person(f, sex, age, committed_from, false, origin);
                    if familial {
                        let (surname, address) =
                            (self.pop.get(suspects[0]).surname.clone(), self.pop.get(suspects[0]).address.clone());
                        let p = self.pop.get_mut(id);
                        p.surname = surname;
                        p.address = address;
                    }
                    if let Some(n) = net {
                        self.nets[n].victims.push(id);
                    }
                    id
                }
            };
            victims.push((id, class));
        }
        // Every victim was a child throughout.
        for (v, _) in &victims {
            let eighteenth = shift_years(self.pop.get(*v).date_of_birth, 18) - Duration::days(1);
            committed_to = committed_to.min(eighteenth).max(committed_from);
        }

        let cx = Cx { f, case_ref: self.case_ref(f, reported.year()) };
        let mut plan = Plan::default();
        let opened = during(&mut self.rng, reported);
        let decided_at = during(&mut self.rng, decided);
        let window = (decided_at - opened).num_days();
        let persons_until = opened + Duration::days((window / 4).max(1));
        let investigation = (persons_until + Duration::days(5), decided_at - Duration::hours(2));
        let referral_lo = (decided_at + Duration::days(14)).max(self.limit - Duration::days(120));
        let referred_at = self.when(referral_lo, self.limit - Duration::minutes(1)).min(self.limit);

        // The force's flag: present on a minority of these cases.
        let flagged = self.rng.gen_bool(self.forces[f].flag_rate);
        let cse_flags: &[&[AbuseFlag]] = &[
            &[AbuseFlag::ChildSexualExploitation],
            &[AbuseFlag::ChildSexualExploitation, AbuseFlag::GroupBased],
            &[AbuseFlag::ChildSexualAbuse],
            &[AbuseFlag::ChildSexualExploitation, AbuseFlag::ChildSexualAbuse],
        ];
        let mut force_flags = Vec::new();
        let mut later_flag = None;
        let mut removed_flag = None;
        let mut planted = PlantedReview { rape, ..PlantedReview::default() };
        if flagged {
            if self.rng.gen_bool(0.7) {
                force_flags = cse_flags.choose(&mut self.rng).expect("flags").to_vec();
            } else {
                later_flag = Some(AbuseFlag::ChildSexualExploitation);
            }
        } else if self.rng.gen_bool(0.08) {
            force_flags = vec![AbuseFlag::ChildSexualExploitation];
            removed_flag = Some(AbuseFlag::ChildSexualExploitation);
        }
        let operation = names::OPERATIONS.choose(&mut self.rng).expect("operations");
        let title = match (self.full, self.rng.gen_bool(0.7)) {
            (true, _) => format!("Operation {operation}: {}", offence(principal).description),
            (false, true) => format!("Operation {operation}"),
            (false, false) => offence(principal).description.to_string(),
        };
        if flagged {
            planted.flagged_child_abuse = true;
            planted.flagged_group = later_flag.is_some()
                || force_flags.iter().any(|f| matches!(f, AbuseFlag::ChildSexualExploitation | AbuseFlag::GroupBased));
        }
        plan.push(
            opened,
            Body::CaseOpened(CaseOpened {
                offence: offence(principal),
                force_flags,
                reported_on: Some(reported),
                area: self.area(f, &["district", "CID", "public protection unit"]),
                title,
            }),
        );

        let mut parties = Vec::new();
        for &(v, _) in &victims {
            let at = self.when(opened + Duration::minutes(5), opened + Duration::days(3)).min(persons_until);
            self.party(&mut plan, &cx, &mut parties, v, Role::Victim, at, true, false);
        }
        for (i, &s) in suspects.iter().enumerate() {
            let at = self.when(opened + Duration::minutes(30), persons_until);
            // The first suspect is always named and recorded alive: the case is in scope.
            let named = i == 0 || net.is_none() || !self.rng.gen_bool(0.08);
            self.party(&mut plan, &cx, &mut parties, s, Role::Suspect, at, named, i == 0);
        }
        let n_witnesses = if self.full {
            weighted(&mut self.rng, &[(1usize, 40), (2, 40), (3, 20)])
        } else {
            weighted(&mut self.rng, &[(0usize, 50), (1, 35), (2, 15)])
        };
        for _ in 0..n_witnesses {
            let sex = if self.rng.gen_bool(0.7) { Sex::Female } else { Sex::Male };
            let age = self.rng.gen_range(25..60);
            let w = self.person(f, sex, age, reported, false, None);
            let at = self.when(opened + Duration::hours(1), persons_until);
            self.party(&mut plan, &cx, &mut parties, w, Role::Witness, at, true, false);
        }
        let suspect_refs: Vec<String> =
            parties.iter().filter(|p| p.role == Role::Suspect).map(|p| p.person_ref.clone()).collect();
        let victim_parties: Vec<usize> = (0..parties.len()).filter(|&i| parties[i].role == Role::Victim).collect();

        // Offences: one per victim, and grooming alongside some rapes.
        let venues = net.map(|n| self.nets[n].venues.clone()).unwrap_or_default();
        let mut offences: Vec<(&'static str, Vec<String>, String)> = Vec::new();
        for (k, &vi) in victim_parties.iter().enumerate() {
            let n = self.rng.gen_range(1..=suspect_refs.len());
            let mut refs: Vec<String> = suspect_refs.choose_multiple(&mut self.rng, n).cloned().collect();
            refs.sort_by_key(|r| r[1..].parse::<u32>().unwrap_or(0));
            offences.push((victims[k].1, refs, parties[vi].person_ref.clone()));
        }
        for r in &suspect_refs {
            if !offences.iter().any(|(_, s, _)| s.contains(r)) {
                offences[0].1.push(r.clone());
            }
        }
        // Two or more suspects acted together against the first victim: every referred case is
        // group-based by the standard definition.
        if offences[0].1.len() < 2 {
            let other = suspect_refs.iter().find(|r| !offences[0].1.contains(r)).expect("two suspects").clone();
            offences[0].1.push(other);
            offences[0].1.sort_by_key(|r| r[1..].parse::<u32>().unwrap_or(0));
        }
        if rape && self.rng.gen_bool(0.2) {
            let (_, refs, victim) = offences[0].clone();
            offences.push(("88A", refs, victim));
        }
        for (k, (code, refs, victim)) in offences.into_iter().enumerate() {
            let at = self.when(persons_until, persons_until + Duration::days(5));
            let place = if !venues.is_empty() && self.rng.gen_bool(0.6) {
                venues.choose(&mut self.rng).cloned()
            } else if self.rng.gen_bool(0.5) {
                Some(self.place(f, false))
            } else {
                None
            };
            let (from, to) = self.offence_dates(committed_from, committed_to);
            plan.push(
                at,
                Body::OffenceRecorded(OffenceRecorded {
                    offence_ref: format!("O{}", k + 1),
                    offence: offence(code),
                    suspect_refs: refs,
                    victim_refs: vec![victim],
                    committed_from: from,
                    committed_to: to,
                    place,
                }),
            );
        }

        // The investigation: statements, interviews, identifiers, places, travel risks.
        let mut heard = std::collections::BTreeSet::new();
        let mut interviewed = std::collections::BTreeSet::new();
        for p in &parties {
            let at = self.when(investigation.0, investigation.1);
            match p.role {
                Role::Victim if self.rng.gen_bool(self.forces[f].statement_rate) => {
                    let kind = weighted(
                        &mut self.rng,
                        &[(StatementKind::AbeVideo, 55), (StatementKind::Written, 25), (StatementKind::Declined, 20)],
                    );
                    if kind != StatementKind::Declined {
                        heard.insert(p.person_ref.clone());
                    }
                    let body = StatementTaken { person_ref: p.person_ref.clone(), kind, taken_on: at.date_naive() };
                    plan.push(at, Body::StatementTaken(body));
                }
                Role::Witness if self.rng.gen_bool(0.6) => {
                    let body = StatementTaken {
                        person_ref: p.person_ref.clone(),
                        kind: StatementKind::Written,
                        taken_on: at.date_naive(),
                    };
                    plan.push(at, Body::StatementTaken(body));
                }
                Role::Suspect if p.named && self.rng.gen_bool(self.forces[f].interview_rate) => {
                    interviewed.insert(p.person_ref.clone());
                    plan.push(at, self.interview(&p.person_ref, at.date_naive()));
                }
                _ => {}
            }
        }
        for p in parties.iter().filter(|p| p.role == Role::Suspect) {
            let person = self.pop.get(p.id);
            let phone = person.phones.choose(&mut self.rng).cloned();
            if let Some(phone) = phone.filter(|_| self.full || self.rng.gen_bool(0.45)) {
                let at = self.when(investigation.0, investigation.1);
                let value = people::format_phone(&phone, people::PhoneStyle::random(&mut self.rng));
                let person_ref = self.rng.gen_bool(0.5).then(|| p.person_ref.clone());
                let context = self.say(text::PHONE_CONTEXTS);
                plan.push(at, observed(IdentifierKind::Phone, value, person_ref, context));
            }
            let handle = self.pop.get(p.id).social_handle.clone();
            if let Some(h) = handle.filter(|_| self.rng.gen_bool(0.15)) {
                let at = self.when(investigation.0, investigation.1);
                let context = self.say(text::HANDLE_CONTEXTS);
                plan.push(at, observed(IdentifierKind::SocialHandle, h, None, context));
            }
            if p.named && self.rng.gen_bool(0.1) {
                let noted = self.when(investigation.0, referred_at - Duration::days(1));
                if let Some(body) = self.travel_risk(p, noted.date_naive()) {
                    plan.push(noted, body);
                }
            }
        }
        if let Some(n) = net {
            let (phones, vehicles) = (self.nets[n].phones.clone(), self.nets[n].vehicles.clone());
            for phone in &phones {
                if !self.rng.gen_bool(0.55) {
                    continue;
                }
                let at = self.when(investigation.0, investigation.1);
                let value = people::format_phone(phone, people::PhoneStyle::random(&mut self.rng));
                let context = self.say(text::SHARED_PHONE_CONTEXTS);
                plan.push(at, observed(IdentifierKind::Phone, value, None, context));
            }
            for v in &vehicles {
                if !self.rng.gen_bool(0.35) {
                    continue;
                }
                let at = self.when(investigation.0, investigation.1);
                let value = if self.rng.gen_bool(0.25) { v.replace(' ', "") } else { v.clone() };
                let context = self.say(text::VEHICLE_CONTEXTS);
                plan.push(at, observed(IdentifierKind::Vehicle, value, None, context));
            }
            for venue in &venues {
                if !self.rng.gen_bool(0.6) {
                    continue;
                }
                let at = self.when(investigation.0, investigation.1);
                let mut refs: Vec<String> =
                    victim_parties.choose_multiple(&mut self.rng, 2).map(|&i| parties[i].person_ref.clone()).collect();
                if self.rng.gen_bool(0.4) {
                    refs.push(suspect_refs.choose(&mut self.rng).expect("suspects").clone());
                }
                let context = self.say(text::LOCATION_CONTEXTS);
                plan.push(
                    at,
                    Body::LocationObserved(LocationObserved { place: venue.clone(), person_refs: refs, context }),
                );
            }
        } else if self.rng.gen_bool(0.3) {
            let at = self.when(investigation.0, investigation.1);
            let place = self.place(f, true);
            let refs = vec![parties[victim_parties[0]].person_ref.clone()];
            let context = self.say(text::LOCATION_CONTEXTS);
            plan.push(at, Body::LocationObserved(LocationObserved { place, person_refs: refs, context }));
        }

        // The decisions: no further action, by police, prosecutor, or both.
        if self.rng.gen_bool(0.7) {
            let kind = if self.rng.gen_bool(0.65) { DecisionKind::NfaPolice } else { DecisionKind::NfaProsecutor };
            let refs = if self.rng.gen_bool(0.5) { Vec::new() } else { suspect_refs.clone() };
            plan.push(decided_at, self.nfa(kind, refs, decided));
        } else {
            let k = self.rng.gen_range(1..suspect_refs.len());
            let first_at = self.when(investigation.0, decided_at - Duration::days(1)).max(investigation.0);
            plan.push(first_at, self.nfa(DecisionKind::NfaPolice, suspect_refs[..k].to_vec(), first_at.date_naive()));
            plan.push(decided_at, self.nfa(DecisionKind::NfaProsecutor, suspect_refs[k..].to_vec(), decided));
        }
        if let Some(flag) = later_flag {
            let at = self.when(opened + Duration::days(1), referred_at - Duration::hours(1));
            let reason = self.say(text::FLAG_REASONS);
            plan.push(at, Body::FlagApplied(Flagging { flag, person_ref: None, reason }));
        }
        if let Some(flag) = removed_flag {
            let at = self.when(opened + Duration::days(1), decided_at);
            let reason = self.say(text::FLAG_REMOVAL_REASONS);
            plan.push(at, Body::FlagRemoved(Flagging { flag, person_ref: None, reason }));
        }
        for p in &parties {
            let p_dob = if p.role == Role::Victim { 0.1 } else { 0.0 };
            self.maybe_correct(&mut plan, p, p_dob, referred_at - Duration::days(1));
        }
        // A suspect who has since died (never all of them; never a network member).
        if net.is_none() && self.rng.gen_bool(0.05) {
            let p = &parties[victim_parties.len() + suspects.len() - 1];
            let lo = decided_at + Duration::days(10);
            let hi = referred_at - Duration::days(5);
            let once = !self.repeat_offenders.contains(&p.id);
            if let (true, true, Some(Body::PersonRecorded(r))) = (once && p.named, lo < hi, plan.body(p.handle)) {
                let mut r = r.clone();
                let died = self.when(lo, hi);
                let at = self.when(died + Duration::days(1), referred_at - Duration::days(1));
                r.vital_status = Some(VitalStatus::Deceased);
                r.date_of_death = Some(full_date(died.date_naive()));
                self.pop.get_mut(p.id).died_on = Some(died.date_naive());
                let reason = self.say(text::DEATH_REASONS);
                plan.correct(at, p.handle, &reason, Body::PersonRecorded(r));
            }
        }
        let reason = self.say(text::REFERRAL_REASONS);
        plan.push(
            referred_at,
            Body::CaseReferred(CaseReferred {
                programme: text::REFERRAL_PROGRAMME.to_string(),
                reason,
                referred_on: referred_at.date_naive(),
            }),
        );
        for p in &parties {
            let Some(Body::PersonRecorded(r)) = plan.current(p.handle) else { continue };
            match p.role {
                Role::Victim if r.name.is_none() || r.date_of_birth.is_none() || !heard.contains(&p.person_ref) => {
                    planted.victims_not_heard.insert(p.person_ref.clone());
                }
                Role::Suspect if r.name.is_some() && !interviewed.contains(&p.person_ref) => {
                    planted.suspects_not_interviewed.insert(p.person_ref.clone());
                }
                _ => {}
            }
        }
        self.write(plan, &cx);
        let key = (self.forces[f].force.code.to_string(), cx.case_ref);
        if let Some(n) = net {
            self.nets[n].cases.push(key.clone());
        }
        self.planted.insert(key.clone(), planted);
        self.referred.push(key);
    }

    /// The recorded period of offending, with the precision records have.
    fn offence_dates(&mut self, from: NaiveDate, to: NaiveDate) -> (Option<PartialDate>, Option<PartialDate>) {
        match self.rng.gen_range(0..100) {
            0..=64 => (Some(full_date(from)), Some(full_date(to))),
            65..=84 => (
                Some(PartialDate { year: from.year(), month: Some(from.month()), day: None }),
                Some(PartialDate { year: to.year(), month: Some(to.month()), day: None }),
            ),
            85..=92 => (Some(PartialDate { year: from.year(), month: None, day: None }), None),
            _ => (Some(full_date(from)), None),
        }
    }

    fn interview(&mut self, person_ref: &str, on: NaiveDate) -> Body {
        let kind = if self.rng.gen_bool(0.6) { InterviewKind::UnderArrest } else { InterviewKind::Voluntary };
        Body::InterviewRecorded(InterviewRecorded {
            person_ref: person_ref.to_string(),
            kind,
            interviewed_on: on,
            no_comment: self.rng.gen_bool(0.5),
        })
    }

    fn nfa(&mut self, kind: DecisionKind, person_refs: Vec<String>, on: NaiveDate) -> Body {
        // The Home Office outcome type, and a reason that fits it (any, when none was recorded).
        let outcome_type = if kind == DecisionKind::NfaPolice {
            weighted(&mut self.rng, &[(Some(15u8), 55), (Some(16), 30), (Some(21), 5), (None, 10)])
        } else {
            weighted(&mut self.rng, &[(Some(15u8), 70), (Some(9), 20), (None, 10)])
        };
        let reasons = match (kind, outcome_type) {
            (DecisionKind::NfaPolice, Some(16)) => text::NFA_POLICE_VICTIM,
            (DecisionKind::NfaPolice, Some(21)) => text::NFA_POLICE_PUBLIC_INTEREST,
            (DecisionKind::NfaPolice, None) if self.rng.gen_bool(0.4) => text::NFA_POLICE_VICTIM,
            (DecisionKind::NfaPolice, _) => text::NFA_POLICE_EVIDENTIAL,
            (_, Some(9)) => text::NFA_PROSECUTOR_PUBLIC_INTEREST,
            _ => text::NFA_PROSECUTOR_EVIDENTIAL,
        };
        let reason = self.say(reasons);
        Body::DecisionRecorded(DecisionRecorded { decision: kind, person_refs, outcome_type, reason, decided_on: on })
    }

    fn travel_risk(&mut self, p: &Party, on: NaiveDate) -> Option<Body> {
        let person = self.pop.get(p.id);
        let foreign: Vec<String> = person.nationalities.iter().filter(|n| *n != "GB").cloned().collect();
        let has_passport = person.passport.is_some();
        let kind = match self.rng.gen_range(0..4) {
            0 if has_passport => TravelRiskKind::PassportHeld,
            1 if !foreign.is_empty() => TravelRiskKind::ForeignTies,
            2 => TravelRiskKind::TravelBooked,
            3 => TravelRiskKind::PreviousAbsconding,
            _ => TravelRiskKind::Other,
        };
        let destination = match kind {
            TravelRiskKind::ForeignTies | TravelRiskKind::TravelBooked | TravelRiskKind::PassportHeld => Some(
                foreign
                    .choose(&mut self.rng)
                    .cloned()
                    .unwrap_or_else(|| text::TRAVEL_DESTINATIONS.choose(&mut self.rng).expect("countries").to_string()),
            ),
            _ => None,
        };
        Some(Body::TravelRiskNoted(TravelRiskNoted {
            person_ref: p.person_ref.clone(),
            kind,
            destination_country: destination,
            noted_on: on,
            details: self.say(text::TRAVEL_DETAILS),
        }))
    }

    fn ordinary_case(&mut self) {
        let code = weighted(&mut self.rng, ORDINARY_CLASSES);
        let class = offence(code);
        let child = class.child_victim;
        let no_victim = code == "92A";

        // The suspect: someone who must appear, a network member, a repeat offender, or new.
        let mut f = self.pick_force();
        let roll = self.rng.gen_range(0..100);
        let suspect = if let Some(id) = self.must_appear.pop() {
            let home = self.pop.get(id).home_force;
            if let Some(i) = self.forces.iter().position(|fc| fc.force.code == home) {
                if self.rng.gen_bool(0.7) {
                    f = i;
                }
            }
            Some(id)
        } else if roll < 8 && !self.nets.is_empty() {
            let n = self.rng.gen_range(0..self.nets.len());
            f = *self.nets[n].forces.choose(&mut self.rng).expect("forces");
            self.nets[n].members.choose(&mut self.rng).copied()
        } else if roll < 20 {
            self.repeat_offenders.choose(&mut self.rng).copied()
        } else {
            None
        };
        let earliest =
            suspect.map(|id| shift_years(self.pop.get(id).date_of_birth, 17)).unwrap_or(self.epoch()).max(self.epoch());
        let reported =
            between(&mut self.rng, earliest.min(self.today - Duration::days(2)), self.today - Duration::days(1));
        let committed_from = if class.sexual && !child && self.rng.gen_bool(0.2) {
            reported - Duration::days(self.rng.gen_range(30..3650))
        } else {
            reported - Duration::days(self.rng.gen_range(0..14))
        };
        let suspect = match suspect {
            Some(id) => id,
            None => {
                let sex = if self.rng.gen_bool(0.85) { Sex::Male } else { Sex::Female };
                let age = self.rng.gen_range(17..60);
                self.person(f, sex, age, committed_from, true, None)
            }
        };
        let unidentified = matches!(code, "28E" | "45") && self.rng.gen_bool(0.3);

        let cx = Cx { f, case_ref: self.case_ref(f, reported.year()) };
        let mut plan = Plan::default();
        let opened = during(&mut self.rng, reported).min(self.limit);
        let lag = self.rng.gen_range(10..400);
        let decision_at = during(&mut self.rng, reported + Duration::days(lag));
        let decided = decision_at < self.limit - Duration::days(1);
        let persons_until = opened + Duration::days((lag / 3).clamp(1, 20));
        let inv_end = if decided { decision_at - Duration::hours(2) } else { self.limit - Duration::hours(1) };
        let investigation = (persons_until + Duration::days(1), inv_end.max(persons_until + Duration::days(1)));

        let mut force_flags = Vec::new();
        let mut later_flag = None;
        let mut removed_flag = None;
        match code {
            "8N" | "105A" if self.rng.gen_bool(0.3) => {
                if self.rng.gen_bool(0.7) {
                    force_flags.push(AbuseFlag::DomesticAbuse);
                    if self.rng.gen_bool(0.05) {
                        removed_flag = Some(AbuseFlag::DomesticAbuse);
                    }
                } else {
                    later_flag = Some(AbuseFlag::DomesticAbuse);
                }
            }
            _ if child && self.rng.gen_bool(0.4) => force_flags.push(AbuseFlag::ChildSexualAbuse),
            "92A" if self.rng.gen_bool(0.1) => later_flag = Some(AbuseFlag::ModernSlavery),
            _ => {}
        }
        let title = if !self.full && self.rng.gen_bool(0.3) { String::new() } else { class.description.to_string() };
        plan.push(
            opened,
            Body::CaseOpened(CaseOpened {
                offence: class,
                force_flags,
                reported_on: Some(reported),
                area: self.area(f, &["district", "neighbourhood policing", "CID"]),
                title,
            }),
        );
        let mut parties = Vec::new();
        if !no_victim {
            let n_victims = if self.rng.gen_bool(0.85) || child { 1 } else { 2 };
            for _ in 0..n_victims {
                let (sex, age) = if child {
                    let ((lo, hi), sex) = child_victim_profile(code);
                    let sex = sex.unwrap_or(if self.rng.gen_bool(0.8) { Sex::Female } else { Sex::Male });
                    (sex, self.rng.gen_range(lo..hi))
                } else if class.sexual {
                    let sex = match code {
                        "17A" | "19F" => Sex::Male,
                        _ if self.rng.gen_bool(0.9) => Sex::Female,
                        _ => Sex::Male,
                    };
                    (sex, self.rng.gen_range(18..60))
                } else {
                    (if self.rng.gen_bool(0.5) { Sex::Female } else { Sex::Male }, self.rng.gen_range(18..85))
                };
                let v = self.person(f, sex, age, committed_from, false, None);
                let at = self.when(opened + Duration::minutes(5), persons_until);
                self.party(&mut plan, &cx, &mut parties, v, Role::Victim, at, true, false);
            }
        }
        let at = self.when(opened + Duration::minutes(20), persons_until);
        self.party(&mut plan, &cx, &mut parties, suspect, Role::Suspect, at, !unidentified, false);
        if self.rng.gen_bool(if self.full { 0.8 } else { 0.25 }) {
            let sex = if self.rng.gen_bool(0.5) { Sex::Female } else { Sex::Male };
            let age = self.rng.gen_range(18..75);
            let w = self.person(f, sex, age, reported, false, None);
            let at = self.when(opened + Duration::minutes(30), persons_until);
            self.party(&mut plan, &cx, &mut parties, w, Role::Witness, at, true, false);
        }
        let suspect_party = parties.iter().position(|p| p.role == Role::Suspect).expect("one suspect");
        let suspect_ref = parties[suspect_party].person_ref.clone();
        let victim_refs: Vec<String> =
            parties.iter().filter(|p| p.role == Role::Victim).map(|p| p.person_ref.clone()).collect();
        let at = self.when(persons_until, persons_until + Duration::days(2));
        let place = if self.rng.gen_bool(0.6) { Some(self.place(f, true)) } else { None };
        let (from, to) = self.offence_dates(committed_from, reported.max(committed_from));
        plan.push(
            at,
            Body::OffenceRecorded(OffenceRecorded {
                offence_ref: "O1".to_string(),
                offence: class,
                suspect_refs: vec![suspect_ref.clone()],
                victim_refs,
                committed_from: from,
                committed_to: to,
                place,
            }),
        );
        for p in &parties {
            let at = self.when(investigation.0, investigation.1);
            match p.role {
                Role::Victim | Role::Witness if self.rng.gen_bool(0.8) => {
                    let kind = if child && p.role == Role::Victim {
                        StatementKind::AbeVideo
                    } else if self.rng.gen_bool(0.1) {
                        StatementKind::Declined
                    } else {
                        StatementKind::Written
                    };
                    let body = StatementTaken { person_ref: p.person_ref.clone(), kind, taken_on: at.date_naive() };
                    plan.push(at, Body::StatementTaken(body));
                }
                Role::Suspect if p.named && self.rng.gen_bool(0.75) => {
                    plan.push(at, self.interview(&p.person_ref, at.date_naive()));
                }
                _ => {}
            }
        }
        let mut observed_handle = None;
        if self.rng.gen_bool(0.35) {
            let at = self.when(investigation.0, investigation.1);
            let person = self.pop.get(suspect);
            let choice = if self.rng.gen_bool(0.5) {
                person.phones.first().map(|p| (IdentifierKind::Phone, p.clone()))
            } else {
                person.vehicles.first().map(|v| (IdentifierKind::Vehicle, v.clone()))
            };
            let context = self.say(text::ORDINARY_ID_CONTEXTS);
            let body = match choice {
                Some((IdentifierKind::Phone, phone)) => {
                    let value = people::format_phone(&phone, people::PhoneStyle::random(&mut self.rng));
                    observed(IdentifierKind::Phone, value, Some(suspect_ref.clone()), context)
                }
                Some((kind, value)) => observed(kind, value, Some(suspect_ref.clone()), context),
                None => observed(IdentifierKind::Vehicle, people::vehicle(&mut self.rng, 2008), None, context),
            };
            observed_handle = Some(plan.push(at, body));
        }
        if self.rng.gen_bool(0.25) {
            let at = self.when(investigation.0, investigation.1);
            let with_address = self.rng.gen_bool(0.5);
            let place = self.place(f, with_address);
            let context = self.say(text::ORDINARY_LOCATION_CONTEXTS);
            let refs = if self.rng.gen_bool(0.5) { vec![suspect_ref.clone()] } else { Vec::new() };
            plan.push(at, Body::LocationObserved(LocationObserved { place, person_refs: refs, context }));
        }
        if parties[suspect_party].named && self.rng.gen_bool(0.05) {
            let at = self.when(investigation.0, investigation.1);
            if let Some(body) = self.travel_risk(&parties[suspect_party], at.date_naive()) {
                plan.push(at, body);
            }
        }

        // Decisions and what followed them.
        let mut last = investigation.1;
        if decided {
            let refs = if self.rng.gen_bool(0.5) { Vec::new() } else { vec![suspect_ref.clone()] };
            let kind = if !parties[suspect_party].named {
                DecisionKind::NfaPolice
            } else {
                weighted(
                    &mut self.rng,
                    &[
                        (DecisionKind::Charged, 25),
                        (DecisionKind::Cautioned, 8),
                        (DecisionKind::CommunityResolution, 8),
                        (DecisionKind::NfaPolice, 45),
                        (DecisionKind::NfaProsecutor, 14),
                    ],
                )
            };
            let on = decision_at.date_naive();
            let body = match kind {
                DecisionKind::NfaPolice if !parties[suspect_party].named => Body::DecisionRecorded(DecisionRecorded {
                    decision: kind,
                    person_refs: Vec::new(),
                    outcome_type: Some(18),
                    reason: text::NO_SUSPECT.to_string(),
                    decided_on: on,
                }),
                DecisionKind::NfaPolice | DecisionKind::NfaProsecutor => self.nfa(kind, refs.clone(), on),
                _ => Body::DecisionRecorded(DecisionRecorded {
                    decision: kind,
                    person_refs: refs.clone(),
                    outcome_type: Some(match kind {
                        DecisionKind::Charged => 1,
                        DecisionKind::Cautioned => 3,
                        _ => 8,
                    }),
                    reason: self.say(text::CHARGE_REASONS),
                    decided_on: on,
                }),
            };
            plan.push(decision_at, body);
            last = decision_at;
            let follow_at = decision_at + Duration::days(self.rng.gen_range(60..500));
            if follow_at < self.limit {
                let follow = match kind {
                    DecisionKind::Charged => {
                        Some(if self.rng.gen_bool(0.75) { DecisionKind::Convicted } else { DecisionKind::Acquitted })
                    }
                    k if k.is_nfa() && self.rng.gen_bool(0.04) => Some(DecisionKind::Reopened),
                    _ => None,
                };
                if let Some(decision) = follow {
                    let body = DecisionRecorded {
                        decision,
                        person_refs: refs,
                        outcome_type: None,
                        reason: String::new(),
                        decided_on: follow_at.date_naive(),
                    };
                    plan.push(follow_at, Body::DecisionRecorded(body));
                    last = follow_at;
                }
            }
            let review_at = decision_at + Duration::days(self.rng.gen_range(30..365));
            if kind.is_nfa() && review_at < self.limit && self.rng.gen_bool(0.06) {
                let outcome = weighted(
                    &mut self.rng,
                    &[
                        (ReviewOutcome::DecisionUpheld, 60),
                        (ReviewOutcome::Reinvestigate, 25),
                        (ReviewOutcome::ReferredToProsecutor, 15),
                    ],
                );
                let summary = match outcome {
                    ReviewOutcome::DecisionUpheld => text::REVIEW_SUMMARIES[0],
                    ReviewOutcome::Reinvestigate => text::REVIEW_SUMMARIES[if self.rng.gen_bool(0.5) { 1 } else { 3 }],
                    ReviewOutcome::ReferredToProsecutor => text::REVIEW_SUMMARIES[2],
                };
                let body = IndependentReviewRecorded {
                    reviewing_body: text::REVIEW_BODIES.choose(&mut self.rng).expect("bodies").to_string(),
                    reviewed_on: review_at.date_naive(),
                    outcome,
                    summary: summary.to_string(),
                };
                plan.push(review_at, Body::IndependentReviewRecorded(body));
                last = last.max(review_at);
            }
        }
        if let Some(flag) = later_flag {
            let at = self.when(opened + Duration::hours(2), last);
            let reason = self.say(text::FLAG_REASONS);
            plan.push(at, Body::FlagApplied(Flagging { flag, person_ref: None, reason }));
        }
        if let Some(flag) = removed_flag {
            let at = self.when(opened + Duration::hours(2), last);
            let reason = text::FLAG_REMOVAL_REASONS[0].to_string();
            plan.push(at, Body::FlagRemoved(Flagging { flag, person_ref: None, reason }));
        }
        let fix_until = last + Duration::days(90);
        for p in &parties {
            self.maybe_correct(&mut plan, p, 0.12, fix_until);
        }
        if self.rng.gen_bool(0.03) {
            let target = observed_handle.or_else(|| parties.iter().find(|p| p.role == Role::Witness).map(|p| p.handle));
            if let Some(t) = target {
                let at = self.when(plan.at(t) + Duration::hours(1), plan.at(t) + Duration::days(30));
                let reason =
                    if Some(t) == observed_handle { text::RETRACTION_REASONS[2] } else { text::RETRACTION_REASONS[0] };
                if at < self.limit {
                    plan.retract(at, t, reason);
                }
            }
        }
        self.write(plan, &cx);
    }

    /// The national review team's decisions on a few pairs of mentions: look-alikes told apart,
    /// and one person's mentions in two forces joined, as investigators record them.
    fn review_team_decisions(&mut self) {
        let Some(nca) = beaconport_domain::reference::force("NCA") else { return };
        let mut by_individual: BTreeMap<u64, Vec<&(String, String, String)>> = BTreeMap::new();
        for (key, id) in &self.identity {
            by_individual.entry(*id).or_default().push(key);
        }
        let mention = |k: &(String, String, String)| beaconport_domain::MentionRef {
            force: beaconport_domain::reference::force(&k.0).expect("scenario forces are known"),
            case_ref: k.1.clone(),
            person_ref: k.2.clone(),
        };
        let mut decisions = Vec::new();
        for la in self.look_alikes.iter().take(4) {
            if let (Some(a), Some(b)) = (by_individual.get(&la.a), by_individual.get(&la.b)) {
                decisions.push((mention(a[0]), mention(b[0]), LinkDecision::Different, "different people: checked"));
            }
        }
        let joined = by_individual.values().filter(|ms| ms.len() >= 2 && ms[0].0 != ms[1].0).take(2);
        for ms in joined {
            decisions.push((mention(ms[0]), mention(ms[1]), LinkDecision::Same, "same person: checked"));
        }
        for (n, (a, b, decision, reason)) in decisions.into_iter().enumerate() {
            let at = self.limit;
            let id = crate::case::event_id(&mut self.rng, at);
            self.events.push(Event {
                id,
                force: nca,
                case_ref: format!("NCA-RESOLUTION-{:04}", n + 1),
                occurred_at: at,
                recorded_at: at,
                schema_version: 1,
                recorded_by: "nca-review-01".to_string(),
                body: Body::LinkDecided(LinkDecided { a, b, decision, reason: reason.to_string() }),
            });
        }
    }

    /// The national review's first steps: reviews started on the first referred cases, an avenue
    /// of each actioned, and the first case's review concluded.
    fn review_team_steps(&mut self) {
        let at = self.limit;
        let on = at.date_naive();
        let mut steps = Vec::new();
        for (i, key) in self.referred.iter().take(5).enumerate() {
            let planted = self.planted.get_mut(key).expect("planted");
            planted.started = true;
            steps.push((
                key.clone(),
                Body::ReviewStarted(beaconport_domain::ReviewStarted {
                    programme: text::REFERRAL_PROGRAMME.to_string(),
                    started_on: on,
                    note: String::new(),
                }),
            ));
            let avenue = planted
                .victims_not_heard
                .iter()
                .map(|r| format!("victim_not_heard:{r}"))
                .chain(planted.suspects_not_interviewed.iter().map(|r| format!("suspect_not_interviewed:{r}")))
                .next();
            if let Some(avenue) = avenue.filter(|_| i < 3) {
                planted.actioned.push(avenue.clone());
                steps.push((
                    key.clone(),
                    Body::AvenueActioned(beaconport_domain::AvenueActioned {
                        avenue,
                        action: beaconport_domain::AvenueAction::Pursued,
                        actioned_on: on,
                        note: "taken up by the review team".into(),
                    }),
                ));
            }
            if i == 0 {
                planted.concluded = true;
                steps.push((
                    key.clone(),
                    Body::ReviewConcluded(beaconport_domain::ReviewConcluded {
                        conclusion: beaconport_domain::ReviewConclusion::Reinvestigate,
                        concluded_on: on,
                        summary: "returned to the force to investigate again".into(),
                    }),
                ));
            }
        }
        for ((force, case_ref), body) in steps {
            let id = crate::case::event_id(&mut self.rng, at);
            self.events.push(Event {
                id,
                force: reference::force(&force).expect("scenario forces are known"),
                case_ref,
                occurred_at: at,
                recorded_at: at,
                schema_version: 1,
                recorded_by: "nca-review-02".to_string(),
                body,
            });
        }
    }

    fn finish(mut self) -> Scenario {
        self.review_team_decisions();
        self.review_team_steps();
        let events = publishing_order(self.events);
        let identity_of_mention: HashMap<(String, String, String), u64> = self.identity.into_iter().collect();
        let networks = self
            .nets
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let mut forces: Vec<String> = Vec::new();
                for (f, _) in &n.cases {
                    if !forces.contains(f) {
                        forces.push(f.clone());
                    }
                }
                let shared_identifiers = n
                    .phones
                    .into_iter()
                    .map(|value| Identifier { kind: IdentifierKind::Phone, value })
                    .chain(n.vehicles.into_iter().map(|value| Identifier { kind: IdentifierKind::Vehicle, value }))
                    .collect();
                Network {
                    id: i,
                    members: n.members,
                    forces,
                    cases: n.cases,
                    victims: n.victims,
                    shared_identifiers,
                    venues: n.venues,
                }
            })
            .collect();
        Scenario {
            events,
            truth: Truth {
                identity_of_mention,
                referred_cases: self.referred,
                networks,
                individuals: self.pop.people,
                look_alikes: self.look_alikes,
                review: self.planted,
            },
        }
    }
}

/// Sorts events by recording time, ties in generation order (which keeps each case's order). Sorts
/// keys, not the events, so that each event moves only twice.
fn publishing_order(events: Vec<Event>) -> Vec<Event> {
    let mut keys: Vec<(i64, u32)> =
        events.iter().enumerate().map(|(i, e)| (e.recorded_at.timestamp(), i as u32)).collect();
    keys.sort_unstable();
    let mut slots: Vec<Option<Event>> = events.into_iter().map(Some).collect();
    keys.into_iter().map(|(_, i)| slots[i as usize].take().expect("each event is taken once")).collect()
}

fn observed(kind: IdentifierKind, value: String, person_ref: Option<String>, context: String) -> Body {
    Body::IdentifierObserved(IdentifierObserved { identifier: Identifier { kind, value }, person_ref, context })
}
