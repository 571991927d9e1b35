//! The Fellegi-Sunter model: for every compared field, the probability of each comparison level
//! among true matches (`m`) and among non-matches (`u`), term-frequency tables for the fields
//! whose exact agreement means more for a rare value, and the prior odds of a match. Estimated
//! from the records themselves ([`Model::estimate`]), or the documented priors ([`Model::default`]).

use super::block;
use super::compare::{self, Levels, Prepared};
use super::normalize::FxMap;
use super::Record;

/// A compared field: its name, its levels (best first, the last one is disagreement), the prior
/// `m` and `u` of each level, and whether it is personal (it tells a person from a relative who
/// shares a household: names and addresses do not, given names and dates of birth do).
#[derive(Debug)]
pub(crate) struct FieldSpec {
    pub name: &'static str,
    pub levels: &'static [&'static str],
    pub m: &'static [f64],
    pub u: &'static [f64],
    /// For personal fields: the chance of each level between two *relatives* in one household
    /// (the alternative that surname and address cannot rule out); `0.0` means "as `u`".
    pub u_relative: &'static [f64],
}

pub(crate) const FORENAME: usize = 0;
pub(crate) const SURNAME: usize = 1;
pub(crate) const DOB: usize = 2;
pub(crate) const SEX: usize = 3;
pub(crate) const POSTCODE: usize = 4;
pub(crate) const STREET: usize = 5;
pub(crate) const TOWN: usize = 6;
pub(crate) const PHONE: usize = 7;
pub(crate) const EMAIL: usize = 8;
pub(crate) const VEHICLE: usize = 9;
pub(crate) const SOCIAL: usize = 10;
pub(crate) const PNC: usize = 11;
pub(crate) const PASSPORT: usize = 12;
pub(crate) const NATIONAL_ID: usize = 13;
pub(crate) const FIELDS: usize = 14;

const ID_LEVELS: &[&str] = &["exact", "disagree"];
const STRONG_ID_LEVELS: &[&str] = &["exact", "one edit", "disagree"];

// The priors. `m`: among records of one person, how often each level occurs (names are mostly
// recorded alike, dates of birth carry typos, people move and change phones). `u`: among records
// of different people (chance agreement: about 1 in 100 share a given name, 1 in 500 a surname, 1 in
// 20,000 a date of birth, 1 in a million a phone). Relatives: a son may carry his father's given
// name (1 in 20 father-son pairs, about 1 in 50 pairs of relatives of either sex), siblings
// seldom carry names one typo or one nickname apart, twins share a date of birth (about 1 in 30
// pairs of siblings; a placeholder 1 January is shared far more often, see
// [`PLACEHOLDER_SHARED_BY_RELATIVES`]).
pub(crate) const SPECS: [FieldSpec; FIELDS] = [
    FieldSpec {
        name: "forename",
        levels: &[
            "exact",
            "nickname",
            "transliteration",
            "jaro-winkler>=0.92",
            "jaro-winkler>=0.80",
            "initial",
            "disagree",
        ],
        m: &[0.82, 0.04, 0.04, 0.03, 0.02, 0.03, 0.02],
        u: &[0.01, 0.0008, 0.002, 0.003, 0.015, 0.004, 0.9652],
        // Fuzzy levels between relatives are rare (siblings are seldom named one typo apart), and
        // the initial level is set from `m` (see [`INITIAL_SHARED_BY_RELATIVES`]).
        u_relative: &[0.02, 0.003, 0.003, 0.001, 0.02, 0.0, 0.0],
    },
    FieldSpec {
        name: "surname",
        levels: &["exact", "transliteration", "jaro-winkler>=0.92", "jaro-winkler>=0.80", "disagree"],
        m: &[0.85, 0.05, 0.04, 0.02, 0.04],
        u: &[0.002, 0.001, 0.001, 0.01, 0.986],
        u_relative: &[],
    },
    FieldSpec {
        name: "date_of_birth",
        levels: &["exact", "day-month swapped", "one digit off", "year-month", "year only", "year close", "disagree"],
        m: &[0.76, 0.02, 0.05, 0.05, 0.07, 0.02, 0.03],
        u: &[0.00005, 0.00001, 0.0005, 0.0003, 0.015, 0.03, 0.95414],
        u_relative: &[0.03, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    },
    FieldSpec { name: "sex", levels: &["agree", "disagree"], m: &[0.98, 0.02], u: &[0.5, 0.5], u_relative: &[] },
    FieldSpec {
        name: "postcode",
        levels: &["exact", "one edit", "disagree"],
        m: &[0.7, 0.05, 0.25],
        u: &[0.0002, 0.002, 0.9978],
        u_relative: &[],
    },
    FieldSpec {
        name: "street",
        levels: &["exact", "jaro-winkler>=0.90", "disagree"],
        m: &[0.65, 0.1, 0.25],
        u: &[0.0002, 0.005, 0.9948],
        u_relative: &[],
    },
    FieldSpec {
        name: "town",
        levels: &["exact", "jaro-winkler>=0.90", "disagree"],
        m: &[0.75, 0.05, 0.2],
        u: &[0.02, 0.005, 0.975],
        u_relative: &[],
    },
    FieldSpec { name: "phone", levels: ID_LEVELS, m: &[0.6, 0.4], u: &[0.000002, 0.999998], u_relative: &[] },
    FieldSpec { name: "email", levels: ID_LEVELS, m: &[0.7, 0.3], u: &[0.000001, 0.999999], u_relative: &[] },
    FieldSpec { name: "vehicle", levels: ID_LEVELS, m: &[0.5, 0.5], u: &[0.000002, 0.999998], u_relative: &[] },
    FieldSpec { name: "social handle", levels: ID_LEVELS, m: &[0.7, 0.3], u: &[0.000001, 0.999999], u_relative: &[] },
    FieldSpec {
        name: "pnc id",
        levels: STRONG_ID_LEVELS,
        m: &[0.96, 0.02, 0.02],
        u: &[0.0000005, 0.00001, 0.9999895],
        u_relative: &[],
    },
    FieldSpec {
        name: "passport",
        levels: STRONG_ID_LEVELS,
        m: &[0.85, 0.05, 0.1],
        u: &[0.0000005, 0.00001, 0.9999895],
        u_relative: &[],
    },
    FieldSpec {
        name: "national id",
        levels: STRONG_ID_LEVELS,
        m: &[0.9, 0.06, 0.04],
        u: &[0.0000005, 0.00001, 0.9999895],
        u_relative: &[],
    },
];

/// Among relatives in one household, the chance that two given names share their first letter.
/// A given name recorded as an initial is as likely in a relative's record as in the person's
/// own, so between relatives the `initial` level occurs at `m` × this rate: an initial that
/// agrees is (mild) evidence for one person, not for relatives.
const INITIAL_SHARED_BY_RELATIVES: f64 = 0.15;

/// Among relatives, the chance that both dates of birth are the same 1 January (the placeholder
/// systems record for an unknown day and month).
pub(crate) const PLACEHOLDER_SHARED_BY_RELATIVES: f64 = 0.2;

/// The relative-test weight of dates of birth that disagree (beyond the typo levels) is at most
/// this: one person's records seldom carry two unrelated dates, whatever share of the estimation
/// pairs did (a father and his son of one name differ exactly there).
const DOB_DISAGREE_REL_CEILING: f64 = -6.0;

/// Whether a field is personal: evidence that separates a person from a relative in the same
/// household (surname, address, phone and vehicle are shared in families; these are not).
pub(crate) const PERSONAL: [bool; FIELDS] =
    [true, false, true, false, false, false, false, false, true, false, true, true, true, true];

/// Log2 odds of a match between two records taken at random, before any comparison, used by
/// [`Model::default`]: about one in 260,000 (a person recorded a few times among a million
/// mentions).
pub const DEFAULT_PRIOR: f64 = -18.0;

/// Weight given to reading a name with forename and surname swapped (on top of the levels).
pub const SWAP_WEIGHT: f64 = -1.0;

/// Smallest `u` any level may have (one in a hundred million), so that no agreement is infinite.
const MIN_U: f64 = 1e-8;
/// Pseudo-counts of the prior in the EM estimate of `m` (a Dirichlet prior).
const PRIOR_STRENGTH: f64 = 30.0;
/// Random pairs sampled to estimate `u` of the fuzzy levels.
const U_SAMPLES: usize = 20_000;
const EM_ITERATIONS: usize = 12;

/// Term frequencies of one field: value → count, over `total` values seen at estimation.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Tf {
    pub counts: FxMap<String, u32>,
    pub total: u32,
}

impl Tf {
    fn add(&mut self, v: &str) {
        if v.is_empty() {
            return;
        }
        match self.counts.get_mut(v) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(v.to_string(), 1);
            }
        }
        self.total += 1;
    }
    /// The chance that a random record has this value (unseen values count as seen once).
    pub fn u(&self, v: &str) -> Option<f64> {
        if self.total < 200 {
            return None;
        }
        let c = self.counts.get(v).copied().unwrap_or(1).max(1);
        Some(c as f64 / self.total as f64)
    }
    /// The chance that two random records share a value (Σ p²).
    fn u_exact(&self) -> Option<f64> {
        if self.total < 200 {
            return None;
        }
        let t = self.total as f64;
        Some(self.counts.values().map(|&c| (c as f64 / t).powi(2)).sum::<f64>().max(1.0 / t))
    }
}

/// Term-frequency fields.
pub(crate) const TF_FORENAME: usize = 0;
pub(crate) const TF_SURNAME: usize = 1;
pub(crate) const TF_DOB: usize = 2;
pub(crate) const TF_POSTCODE: usize = 3;
pub(crate) const TF_TOWN: usize = 4;
const TF_FIELDS: [usize; 5] = [FORENAME, SURNAME, DOB, POSTCODE, TOWN];

/// A Fellegi-Sunter model: `m` and `u` for every level of every field, term-frequency tables
/// (frozen when estimated, so scores never depend on what arrived since), and the prior odds.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) m: Vec<Vec<f64>>,
    pub(crate) u: Vec<Vec<f64>>,
    /// log2(m / u) per field and level.
    pub(crate) w: Vec<Vec<f64>>,
    /// log2(m / u_relative) per personal field and level (the relative test).
    pub(crate) w_rel: Vec<Vec<f64>>,
    pub(crate) tf: Vec<Tf>,
    prior: f64,
    /// The largest weight of any level of some fields (bounds for pruning comparisons).
    pub(crate) bounds: Bounds,
}

/// A model's numbers as written down (see [`Model::parts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelParts {
    /// Log2 prior odds that two records taken at random are of one person.
    pub prior: f64,
    /// Every compared field, in the model's order.
    pub fields: Vec<FieldParts>,
    /// The term-frequency tables: given name, surname, date of birth, postcode, town.
    pub term_frequencies: Vec<TermFrequencies>,
}

/// `m` and `u` of every level of one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldParts {
    pub field: String,
    pub m: Vec<f64>,
    pub u: Vec<f64>,
}

/// How often values of one field recur: `total` values counted, the most frequent listed.
#[derive(Debug, Clone, PartialEq)]
pub struct TermFrequencies {
    pub field: String,
    pub total: u32,
    pub terms: Vec<(String, u32)>,
}

/// The largest weight of any level (the plain exact weight included) of a field, and of the
/// given name's relative-test weight.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bounds {
    pub fore: f64,
    pub sur: f64,
    pub postcode: f64,
    pub street: f64,
    pub town: f64,
    pub fore_rel: f64,
}

impl Default for Model {
    /// The documented priors of every level (see the field table in `model.rs`), no term
    /// frequencies, and a prior match odds of 2^[`DEFAULT_PRIOR`].
    fn default() -> Self {
        let m = SPECS.iter().map(|s| s.m.to_vec()).collect();
        let u = SPECS.iter().map(|s| s.u.to_vec()).collect();
        Model::from_parts(m, u, vec![Tf::default(); 5], DEFAULT_PRIOR)
    }
}

impl Model {
    fn from_parts(m: Vec<Vec<f64>>, u: Vec<Vec<f64>>, tf: Vec<Tf>, prior: f64) -> Model {
        let mut w = Vec::with_capacity(FIELDS);
        let mut w_rel = Vec::with_capacity(FIELDS);
        for (f, spec) in SPECS.iter().enumerate() {
            let wf: Vec<f64> = (0..spec.levels.len()).map(|l| (m[f][l] / u[f][l].max(MIN_U)).log2()).collect();
            let wr: Vec<f64> = (0..spec.levels.len())
                .map(|l| {
                    let mut ur = spec.u_relative.get(l).copied().unwrap_or(0.0);
                    if f == FORENAME && spec.levels[l] == "initial" {
                        ur = m[f][l] * INITIAL_SHARED_BY_RELATIVES;
                    }
                    let ur = ur.max(u[f][l]).max(MIN_U);
                    let w = (m[f][l] / ur).log2();
                    if f == DOB && l == spec.levels.len() - 1 {
                        w.min(DOB_DISAGREE_REL_CEILING)
                    } else {
                        w
                    }
                })
                .collect();
            w.push(wf);
            w_rel.push(wr);
        }
        let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let bounds = Bounds {
            fore: max(&w[FORENAME]),
            sur: max(&w[SURNAME]),
            postcode: max(&w[POSTCODE]),
            street: max(&w[STREET]),
            town: max(&w[TOWN]),
            fore_rel: max(&w_rel[FORENAME]),
        };
        Model { m, u, w, w_rel, tf, prior, bounds }
    }

    /// The model's estimated numbers, to be written down (in the ledger, so that every process
    /// resolves under the same model): `m` and `u` of every level of every field, the prior, and
    /// the term-frequency tables, each holding its `max_terms` most frequent values seen more
    /// than once (a value not listed counts as seen once, as an unseen value does).
    pub fn parts(&self, max_terms: usize) -> ModelParts {
        let fields = SPECS
            .iter()
            .enumerate()
            .map(|(f, s)| FieldParts { field: s.name.to_string(), m: self.m[f].clone(), u: self.u[f].clone() })
            .collect();
        let term_frequencies = TF_FIELDS
            .iter()
            .zip(&self.tf)
            .map(|(&f, tf)| {
                let mut terms: Vec<(String, u32)> =
                    tf.counts.iter().filter(|(_, c)| **c > 1).map(|(v, c)| (v.clone(), *c)).collect();
                terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                terms.truncate(max_terms);
                TermFrequencies { field: SPECS[f].name.to_string(), total: tf.total, terms }
            })
            .collect();
        ModelParts { prior: self.prior, fields, term_frequencies }
    }

    /// A model from numbers written down by [`Model::parts`]; an error names the part (a path
    /// under `fields` or `term_frequencies`, or `prior`) and the reason.
    pub fn from_written(p: ModelParts) -> Result<Model, (String, String)> {
        if !p.prior.is_finite() || p.prior > 0.0 {
            return Err(("prior".into(), format!("{} is not a log2 odds below 1", p.prior)));
        }
        if p.fields.len() != FIELDS {
            return Err(("fields".into(), format!("has {} fields; the model compares {FIELDS}", p.fields.len())));
        }
        let (mut m, mut u) = (Vec::with_capacity(FIELDS), Vec::with_capacity(FIELDS));
        for (f, (spec, given)) in SPECS.iter().zip(p.fields).enumerate() {
            let at = |what: &str| format!("fields[{f}].{what}");
            if given.field != spec.name {
                return Err((at("field"), format!("is {:?}; field {f} is {:?}", given.field, spec.name)));
            }
            for (what, v) in [("m", &given.m), ("u", &given.u)] {
                if v.len() != spec.levels.len() {
                    return Err((at(what), format!("has {} levels; {} has {}", v.len(), spec.name, spec.levels.len())));
                }
                if let Some(x) = v.iter().find(|x| !(x.is_finite() && (0.0..=1.0).contains(*x))) {
                    return Err((at(what), format!("{x} is not a probability")));
                }
            }
            m.push(given.m);
            u.push(given.u);
        }
        if p.term_frequencies.len() != TF_FIELDS.len() {
            return Err((
                "term_frequencies".into(),
                format!("has {} tables; the model keeps {}", p.term_frequencies.len(), TF_FIELDS.len()),
            ));
        }
        let mut tf = Vec::with_capacity(TF_FIELDS.len());
        for (t, (&f, given)) in TF_FIELDS.iter().zip(p.term_frequencies).enumerate() {
            let at = |what: &str| format!("term_frequencies[{t}].{what}");
            if given.field != SPECS[f].name {
                return Err((at("field"), format!("is {:?}; table {t} is {:?}", given.field, SPECS[f].name)));
            }
            let mut table = Tf { counts: FxMap::default(), total: given.total };
            let mut sum = 0u64;
            for (value, count) in given.terms {
                if value.is_empty() {
                    return Err((at("values"), "holds an empty value".into()));
                }
                sum += u64::from(count);
                if table.counts.insert(value, count).is_some() {
                    return Err((at("values"), "holds a value twice".into()));
                }
            }
            if sum > u64::from(given.total) {
                return Err((at("total"), format!("{} is less than the counts listed ({sum})", given.total)));
            }
            tf.push(table);
        }
        Ok(Model::from_parts(m, u, tf, p.prior))
    }

    /// Log2 prior odds that two records taken at random are of one person.
    pub fn prior(&self) -> f64 {
        self.prior
    }

    /// The total weight (log2 Bayes factor) from which a pair is linked: where the posterior
    /// probability of a match reaches one half.
    pub fn threshold(&self) -> f64 {
        -self.prior
    }

    /// The same model with another prior (log2 odds): a stricter or looser threshold.
    pub fn with_prior(mut self, prior: f64) -> Model {
        self.prior = prior;
        self
    }

    /// `m` and `u` of a field's level, by names (for inspection and reports).
    pub fn level(&self, field: &str, level: &str) -> Option<(f64, f64)> {
        let f = SPECS.iter().position(|s| s.name == field)?;
        let l = SPECS[f].levels.iter().position(|n| *n == level)?;
        Some((self.m[f][l], self.u[f][l]))
    }

    /// Estimates a model from the records, deterministically (the same records in the same order
    /// give the same model; the order matters only through sampling): term-frequency tables from
    /// value counts; `u` of exact levels as the chance two random records share a value (Σp²;
    /// for identifiers, pairs of distinct surnames sharing a value, since one person's records
    /// share theirs), `u` of other levels from pseudo-random pairs drawn by a fixed-seed generator; `m` and the
    /// share of matches by expectation-maximisation over the candidate pairs of the blocking keys,
    /// with `u` held fixed and the priors as a Dirichlet prior; the prior odds from that share.
    #[allow(clippy::needless_range_loop)] // fields are indices into parallel tables
    pub fn estimate(records: &[Record]) -> Model {
        let base = Model::default();
        let n = records.len();
        if n < 2 {
            return base;
        }
        // Term frequencies.
        let mut tf = vec![Tf::default(); 5];
        let mut id_tf: Vec<Tf> = vec![Tf::default(); FIELDS];
        let prepared: Vec<Prepared> = records.iter().map(|r| compare::prepare(&base, r)).collect();
        for p in &prepared {
            compare::tf_values(p, |field, v| tf[field].add(v));
            for (f, v) in p.ids.iter() {
                id_tf[*f].add(v);
            }
        }
        let mut u: Vec<Vec<f64>> = SPECS.iter().map(|s| s.u.to_vec()).collect();
        // Sampled u.
        let mut counts: Vec<Vec<f64>> = SPECS.iter().map(|s| vec![0.0; s.levels.len()]).collect();
        let total_pairs = n as u64 * (n as u64 - 1) / 2;
        let samples = (U_SAMPLES as u64).min(total_pairs) as usize;
        let mut rng = SplitMix(0x5eed_0fbe_ac0e_2025);
        for _ in 0..samples {
            let i = (rng.next() % n as u64) as usize;
            let mut j = (rng.next() % (n as u64 - 1)) as usize;
            if j >= i {
                j += 1;
            }
            let lv = compare::levels(&base, &prepared[i], &prepared[j]);
            for (f, l) in lv.fields.iter().enumerate() {
                if let Some(l) = l {
                    counts[f][*l as usize] += 1.0;
                }
            }
        }
        for (f, spec) in SPECS.iter().enumerate() {
            let present: f64 = counts[f].iter().sum();
            // Smoothed towards the prior, 200 pseudo-pairs.
            for l in 0..spec.levels.len() {
                u[f][l] = (counts[f][l] + 200.0 * spec.u[l]) / (present + 200.0);
            }
        }
        // Exact levels from the value frequencies (exact agreement is too rare to sample).
        let exact = |f: usize, u: &mut Vec<Vec<f64>>, v: Option<f64>| {
            if let Some(v) = v {
                let rest: f64 = u[f][1..].iter().sum();
                let scale = (1.0 - v) / rest.max(1e-12);
                u[f][0] = v;
                for x in u[f][1..].iter_mut() {
                    *x *= scale;
                }
            }
        };
        for (t, &f) in TF_FIELDS.iter().enumerate() {
            exact(f, &mut u, tf[t].u_exact());
        }
        // Identifiers: the chance that two *people* share a value. One person's records share
        // their identifiers, so the value frequencies (Σp²) would mostly measure how often people
        // are recorded; instead a value counts the distinct surnames (phonetic codes) of the
        // records carrying it: pairs of those are chance (or network) sharing.
        let mut holders: FxMap<(usize, &str), Vec<u64>> = FxMap::default();
        let mut with_field = [0u64; FIELDS];
        for p in &prepared {
            let sur = p.names.iter().find_map(|n| n.sur.as_ref().map(|t| t.ph)).unwrap_or(0);
            let mut last = usize::MAX;
            for (f, v) in p.ids.iter() {
                if *f != last {
                    with_field[*f] += 1;
                    last = *f;
                }
                if sur != 0 {
                    let h = holders.entry((*f, v.as_str())).or_default();
                    if !h.contains(&sur) {
                        h.push(sur);
                    }
                }
            }
        }
        let mut shared = [0u64; FIELDS];
        for ((f, _), h) in &holders {
            let d = h.len() as u64;
            shared[*f] += d * d.saturating_sub(1) / 2;
        }
        for f in PHONE..FIELDS {
            let n = with_field[f];
            if id_tf[f].total >= 200 && n >= 2 {
                let pairs = (n * (n - 1) / 2) as f64;
                exact(f, &mut u, Some((shared[f].max(1) as f64 / pairs).max(MIN_U)));
            }
        }
        // Candidate pairs and their levels.
        let pairs = block::candidate_pairs(&prepared);
        let levels: Vec<Levels> =
            pairs.iter().map(|&(i, j)| compare::levels(&base, &prepared[i], &prepared[j])).collect();
        // m from anchor pairs, never from the pairs the model itself would call matches (EM over
        // blocked pairs is easily captured by namesakes, and then learns that matches disagree
        // on dates of birth): pairs sharing a strong identifier (PNC id, passport, national id)
        // teach the m of every other field; pairs agreeing exactly on given name, surname and
        // full date of birth teach the m of identifiers. Each with the priors as a Dirichlet
        // prior, so that few anchors move little.
        let strong = |lv: &Levels| [PNC, PASSPORT, NATIONAL_ID].iter().any(|&f| lv.fields[f] == Some(0));
        let name_dob =
            |lv: &Levels| lv.fields[FORENAME] == Some(0) && lv.fields[SURNAME] == Some(0) && lv.fields[DOB] == Some(0);
        let mut mc: Vec<Vec<f64>> = SPECS.iter().map(|s| vec![0.0; s.levels.len()]).collect();
        for lv in &levels {
            let (by_id, by_name) = (strong(lv), name_dob(lv));
            for (f, l) in lv.fields.iter().enumerate() {
                let Some(l) = l else { continue };
                let teach = if f >= PHONE { by_name } else { by_id };
                if teach {
                    mc[f][*l as usize] += 1.0;
                }
            }
        }
        let mut m: Vec<Vec<f64>> = SPECS.iter().map(|s| s.m.to_vec()).collect();
        for (f, spec) in SPECS.iter().enumerate() {
            let present: f64 = mc[f].iter().sum();
            for l in 0..spec.levels.len() {
                m[f][l] = (mc[f][l] + PRIOR_STRENGTH * spec.m[l]) / (present + PRIOR_STRENGTH);
            }
        }
        // The share of matches among candidate pairs, by expectation-maximisation with m and u
        // held fixed.
        let mut share = 0.01f64;
        let weights: Vec<f64> = levels
            .iter()
            .map(|lv| {
                let mut w = if lv.swapped { SWAP_WEIGHT } else { 0.0 };
                for (f, l) in lv.fields.iter().enumerate() {
                    if let Some(l) = l {
                        w += (m[f][*l as usize] / u[f][*l as usize].max(MIN_U)).log2();
                    }
                }
                w
            })
            .collect();
        if !weights.is_empty() {
            for _ in 0..EM_ITERATIONS {
                let prior = (share / (1.0 - share)).log2();
                let sum_p: f64 = weights.iter().map(|w| 1.0 / (1.0 + (-(w + prior)).exp2())).sum();
                share = (sum_p / weights.len() as f64).clamp(1e-6, 1.0 - 1e-6);
            }
        }
        let matches = share * pairs.len().max(1) as f64;
        let global = (matches / total_pairs as f64).clamp(1e-12, 0.5);
        let prior = (global / (1.0 - global)).log2();
        Model::from_parts(m, u, tf, prior)
    }
}

/// A small deterministic generator (SplitMix64) for sampling pairs: fixed seed, no state outside.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priors_are_distributions() {
        for s in &SPECS {
            assert_eq!(s.levels.len(), s.m.len(), "{}", s.name);
            assert_eq!(s.levels.len(), s.u.len(), "{}", s.name);
            assert!((s.m.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{} m", s.name);
            assert!((s.u.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{} u", s.name);
        }
        let _ = TF_FORENAME + TF_SURNAME + TF_DOB + TF_POSTCODE + TF_TOWN;
    }
}
