//! Field comparisons: a record prepared once (folded names, phonetic codes, name groups, parsed
//! dates, normalised identifiers and addresses), then two prepared records compared field by field
//! into comparison levels, weighed by the model.

use crate::event::{IdentifierKind, Sex};

use super::model::{self, Model, FIELDS, SPECS, SWAP_WEIGHT};
use super::normalize;
use super::{Evidence, FieldEvidence, Record};

/// One name token, prepared.
#[derive(Debug, Clone)]
pub(crate) struct Tok {
    pub s: String,
    /// Character histogram (see [`hist`]), for a cheap bound on Jaro-Winkler.
    pub hist: Hist,
    pub ph: u64,
    pub groups: &'static [u16],
    /// Weight of exact agreement on this value (term-frequency adjusted).
    pub w_exact: f64,
}

impl Tok {
    fn is_initial(&self) -> bool {
        self.s.len() == 1
    }
    pub fn initial(&self) -> u8 {
        self.s.as_bytes()[0]
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PName {
    /// Given-name tokens (at most three).
    pub fore: Vec<Tok>,
    /// The surname, spaces removed (compared whole), and its tokens when it has several.
    pub sur: Option<Tok>,
    pub sur_parts: Vec<Tok>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PDob {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
    pub w_exact: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct PAddr {
    pub postcode: String,
    pub street: String,
    pub town: String,
    pub street_hist: Hist,
    pub town_hist: Hist,
    pub w_postcode: f64,
    pub w_town: f64,
}

/// A record prepared for comparison: every normal form computed once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prepared {
    pub names: Vec<PName>,
    pub dob: Option<PDob>,
    pub sex: Option<Sex>,
    /// (field index, normalised value), sorted.
    pub ids: Vec<(usize, String)>,
    /// Each of `ids`' values packed ([`pack`]), in the same order.
    pub id_packed: Vec<u128>,
    /// The personal identifier fields ([`model::PERSONAL`]) among `ids`, one bit per field:
    /// whether a pair's personal weight can depend on its identifiers at all, known without
    /// reading them.
    pub personal_ids: u32,
    pub addresses: Vec<PAddr>,
    /// Bounds for [`levels_if_link`]: the largest exact-agreement weight of any given-name token,
    /// surname, postcode and town (`-inf` when there is none).
    pub fore_max: f64,
    pub sur_max: f64,
    pub postcode_max: f64,
    pub town_max: f64,
}

/// Character counts of a folded string in 32 buckets (letters one each, digits sharing the rest):
/// the sum over buckets of the smaller count bounds the matching characters of Jaro from above.
pub(crate) type Hist = [u8; 32];

pub(crate) fn hist(s: &str) -> Hist {
    let mut h = [0u8; 32];
    for &c in s.as_bytes() {
        let i = if c.is_ascii_lowercase() { (c - b'a') as usize } else { 26 + (c as usize % 6) };
        h[i] = h[i].saturating_add(1);
    }
    h
}

fn common(a: &Hist, b: &Hist) -> u32 {
    a.iter().zip(b.iter()).map(|(x, y)| (*x).min(*y) as u32).sum()
}

/// Jaro-Winkler of two folded strings when it may reach `floor`, else 0.0: an upper bound from
/// the character histograms and the common prefix rules most pairs out without the full
/// computation.
pub(crate) fn jaro_winkler_from(a: &str, ha: &Hist, b: &str, hb: &Hist, floor: f64) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return 0.0;
    }
    let c = common(ha, hb).min(la.min(lb) as u32) as f64;
    if c == 0.0 {
        return 0.0;
    }
    let j = (c / la as f64 + c / lb as f64 + 1.0) / 3.0;
    let p = a.bytes().zip(b.bytes()).take(4).take_while(|(x, y)| x == y).count() as f64;
    if j + p * 0.1 * (1.0 - j) < floor - 1e-9 {
        return 0.0;
    }
    jaro_winkler(a, b)
}

fn id_field(kind: IdentifierKind) -> usize {
    match kind {
        IdentifierKind::Phone => model::PHONE,
        IdentifierKind::Email => model::EMAIL,
        IdentifierKind::Vehicle => model::VEHICLE,
        IdentifierKind::SocialHandle => model::SOCIAL,
        IdentifierKind::PncId => model::PNC,
        IdentifierKind::Passport => model::PASSPORT,
        IdentifierKind::NationalId => model::NATIONAL_ID,
    }
}

/// Exact-agreement weight of a value: log2(m / u_value) where the model has term frequencies for
/// the field, else the field's plain exact weight.
fn exact_weight(model: &Model, field: usize, tf: usize, value: &str) -> f64 {
    let base = model.w[field][0];
    match model.tf[tf].u(value) {
        // Bounded so that one very rare or very common value cannot swamp the other fields.
        Some(u) => (model.m[field][0] / u).log2().clamp(base - 6.0, base + 6.0),
        None => base,
    }
}

fn tok(model: &Model, s: &str, field: usize, tf: usize) -> Tok {
    let ph = normalize::phonetic(s);
    Tok {
        s: s.to_string(),
        hist: hist(s),
        ph,
        groups: normalize::name_groups_coded(s, ph),
        w_exact: exact_weight(model, field, tf, s),
    }
}

/// Prepares a record under a model (the model gives the term-frequency weights).
pub(crate) fn prepare(model: &Model, r: &Record) -> Prepared {
    let names = prepare_names(model, &r.names);
    let dob = prepare_dob(model, r.date_of_birth);
    let addresses = prepare_addresses(model, &r.addresses);
    finish(names, dob, r.sex, prepare_ids(&r.identifiers), addresses)
}

/// Prepares `new` under a model, reusing the parts of `old` (the prepared form of `old_record`
/// under the same model) whose fields are unchanged: the result equals `prepare(model, new)`.
/// A record revised in one field (an identifier observed, a corrected date of birth) skips the
/// folding, phonetic codes and term-frequency look-ups of the others.
pub(crate) fn revise(model: &Model, old: Prepared, old_record: &Record, new: &Record) -> Prepared {
    let names = if old_record.names == new.names { old.names } else { prepare_names(model, &new.names) };
    let dob =
        if old_record.date_of_birth == new.date_of_birth { old.dob } else { prepare_dob(model, new.date_of_birth) };
    let ids = if old_record.identifiers == new.identifiers { old.ids } else { prepare_ids(&new.identifiers) };
    let addresses =
        if old_record.addresses == new.addresses { old.addresses } else { prepare_addresses(model, &new.addresses) };
    finish(names, dob, new.sex, ids, addresses)
}

/// The same prepared record under another model: only the term-frequency weights are looked up
/// again (folding, phonetic codes, name groups and normal forms do not depend on the model). The
/// result equals `prepare(model, record)`.
pub(crate) fn reweigh(model: &Model, mut p: Prepared) -> Prepared {
    for n in &mut p.names {
        for t in &mut n.fore {
            t.w_exact = exact_weight(model, model::FORENAME, model::TF_FORENAME, &t.s);
        }
        for t in n.sur.iter_mut().chain(n.sur_parts.iter_mut()) {
            t.w_exact = exact_weight(model, model::SURNAME, model::TF_SURNAME, &t.s);
        }
    }
    if let Some(d) = &mut p.dob {
        d.w_exact = dob_weight(model, d.year, d.month, d.day);
    }
    for a in &mut p.addresses {
        a.w_postcode = exact_weight(model, model::POSTCODE, model::TF_POSTCODE, &a.postcode);
        a.w_town = exact_weight(model, model::TOWN, model::TF_TOWN, &a.town);
    }
    finish(p.names, p.dob, p.sex, p.ids, p.addresses)
}

fn prepare_names(model: &Model, names: &[crate::Name]) -> Vec<PName> {
    let mut out = Vec::with_capacity(names.len().min(4));
    for n in names.iter().take(4) {
        let fore_s = normalize::fold(&n.forenames);
        let sur_s = normalize::fold(&n.surname);
        let fore: Vec<Tok> = fore_s
            .split(' ')
            .filter(|t| !t.is_empty())
            .take(3)
            .map(|t| tok(model, t, model::FORENAME, model::TF_FORENAME))
            .collect();
        let sur = if sur_s.contains(' ') {
            let compact: String = sur_s.chars().filter(|c| *c != ' ').collect();
            (!compact.is_empty()).then(|| tok(model, &compact, model::SURNAME, model::TF_SURNAME))
        } else {
            (!sur_s.is_empty()).then(|| tok(model, &sur_s, model::SURNAME, model::TF_SURNAME))
        };
        let sur_parts: Vec<Tok> = if sur_s.contains(' ') {
            sur_s
                .split(' ')
                .filter(|t| t.len() > 1)
                .take(3)
                .map(|t| tok(model, t, model::SURNAME, model::TF_SURNAME))
                .collect()
        } else {
            Vec::new()
        };
        if fore.is_empty() && sur.is_none() {
            continue;
        }
        out.push(PName { fore, sur, sur_parts });
    }
    out
}

/// Exact-agreement weight of a date of birth (its term frequency is that of its text form).
fn dob_weight(model: &Model, year: i32, month: Option<u32>, day: Option<u32>) -> f64 {
    exact_weight(model, model::DOB, model::TF_DOB, &crate::PartialDate { year, month, day }.to_string())
}

fn prepare_dob(model: &Model, d: Option<crate::PartialDate>) -> Option<PDob> {
    d.map(|d| PDob { year: d.year, month: d.month, day: d.day, w_exact: dob_weight(model, d.year, d.month, d.day) })
}

fn prepare_ids(identifiers: &[crate::Identifier]) -> Vec<(usize, String)> {
    let mut ids: Vec<(usize, String)> = identifiers
        .iter()
        .map(|i| (id_field(i.kind), normalize::identifier(i.kind, &i.value)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn prepare_addresses(model: &Model, addresses: &[crate::Address]) -> Vec<PAddr> {
    addresses
        .iter()
        .take(4)
        .map(|a| {
            let postcode = normalize::postcode(&a.postcode);
            let town = normalize::fold(&a.town);
            let street = normalize::street(&normalize::fold(&a.line1));
            PAddr {
                street_hist: hist(&street),
                town_hist: hist(&town),
                w_postcode: exact_weight(model, model::POSTCODE, model::TF_POSTCODE, &postcode),
                w_town: exact_weight(model, model::TOWN, model::TF_TOWN, &town),
                street,
                postcode,
                town,
            }
        })
        .filter(|a| !(a.postcode.is_empty() && a.street.is_empty() && a.town.is_empty()))
        .collect()
}

fn finish(
    names: Vec<PName>,
    dob: Option<PDob>,
    sex: Option<Sex>,
    ids: Vec<(usize, String)>,
    addresses: Vec<PAddr>,
) -> Prepared {
    let sex = sex.filter(|s| *s != Sex::Other);
    let max = |it: &mut dyn Iterator<Item = f64>| it.fold(f64::NEG_INFINITY, f64::max);
    let fore_max = max(&mut names.iter().flat_map(|n: &PName| n.fore.iter().map(|t| t.w_exact)));
    let sur_max = max(&mut names.iter().flat_map(|n: &PName| n.sur.iter().map(|t| t.w_exact)));
    let postcode_max = max(&mut addresses.iter().map(|a: &PAddr| a.w_postcode));
    let town_max = max(&mut addresses.iter().map(|a: &PAddr| a.w_town));
    let id_packed = ids.iter().map(|(_, v)| pack(v)).collect();
    let personal_ids = ids.iter().filter(|(f, _)| model::PERSONAL[*f]).fold(0, |m, (f, _)| m | 1 << f);
    Prepared { names, dob, sex, ids, id_packed, personal_ids, addresses, fore_max, sur_max, postcode_max, town_max }
}

/// A value's first 16 bytes, packed (little-endian, zeros past its end): two values of one
/// length up to 16 bytes are equal when their packed forms are.
pub(crate) fn pack(s: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_le_bytes(b)
}

/// How many of the 16 bytes of two packed values differ.
pub(crate) fn bytes_differing(x: u128, y: u128) -> u32 {
    let d = x ^ y;
    let d = d | (d >> 4);
    let d = d | (d >> 2);
    let d = d | (d >> 1);
    (d & 0x0101_0101_0101_0101_0101_0101_0101_0101).count_ones()
}

/// The values counted for term frequencies, by TF field.
pub(crate) fn tf_values(p: &Prepared, mut f: impl FnMut(usize, &str)) {
    for n in &p.names {
        if let Some(t) = n.fore.first() {
            f(model::TF_FORENAME, &t.s);
        }
        if let Some(s) = &n.sur {
            f(model::TF_SURNAME, &s.s);
        }
    }
    if let Some(d) = &p.dob {
        let s = crate::PartialDate { year: d.year, month: d.month, day: d.day }.to_string();
        f(model::TF_DOB, &s);
    }
    for a in &p.addresses {
        f(model::TF_POSTCODE, &a.postcode);
        f(model::TF_TOWN, &a.town);
    }
}

/// The comparison levels of a pair: one per field (`None`: missing on either side), and whether
/// the names matched with forename and surname swapped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Levels {
    pub fields: [Option<u8>; FIELDS],
    pub swapped: bool,
    /// The given names disagree, but one of the two names compared has no surname: a street name
    /// or nickname ("Rocky") rather than a given name, so the disagreement weighs nothing (in
    /// the total and in the relative test).
    pub moniker: bool,
    /// The dates of birth agree exactly on 1 January (a placeholder as often as a birthday).
    pub dob_placeholder: bool,
    /// Both dates of birth are full and disagree beyond the typo levels.
    pub dob_clash: bool,
    /// Exact-agreement weights of the values that agreed (term-frequency adjusted) per field.
    pub w_exact: [f64; FIELDS],
}

impl Default for Levels {
    fn default() -> Self {
        Levels {
            fields: [None; FIELDS],
            swapped: false,
            moniker: false,
            dob_placeholder: false,
            dob_clash: false,
            w_exact: [0.0; FIELDS],
        }
    }
}

/// Jaro-Winkler similarity of two ASCII strings (stack buffers up to 64 bytes; longer strings go
/// to `strsim`).
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() > 64 || b.len() > 64 {
        return strsim::jaro_winkler(
            std::str::from_utf8(a).unwrap_or_default(),
            std::str::from_utf8(b).unwrap_or_default(),
        );
    }
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let range = (b.len() / 2).saturating_sub(1);
    let mut a_m = [false; 64];
    let mut b_m = [false; 64];
    let mut matches = 0usize;
    for (i, &c) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(b.len());
        for j in lo..hi {
            if !b_m[j] && b[j] == c {
                a_m[i] = true;
                b_m[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut t = 0usize;
    let mut k = 0usize;
    for (i, &c) in a.iter().enumerate() {
        if a_m[i] {
            while !b_m[k] {
                k += 1;
            }
            if c != b[k] {
                t += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - (t / 2) as f64) / m) / 3.0;
    let prefix = a.iter().zip(b.iter()).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// Optimal string alignment distance is at most one (one substitution, insertion, deletion or
/// adjacent transposition).
pub(crate) fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return true;
    }
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let p = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
    if la == lb {
        // Substitution or transposition.
        if a[p + 1..] == b[p + 1..] {
            return true;
        }
        return p + 1 < la && a[p] == b[p + 1] && a[p + 1] == b[p] && a[p + 2..] == b[p + 2..];
    }
    let (s, l) = if la < lb { (a, b) } else { (b, a) };
    s[p..] == l[p + 1..]
}

// Forename levels.
const F_EXACT: u8 = 0;
const F_NICK: u8 = 1;
const F_TRANS: u8 = 2;
const F_JW92: u8 = 3;
const F_JW80: u8 = 4;
const F_INITIAL: u8 = 5;
const F_DISAGREE: u8 = 6;

fn forename_token_level(a: &Tok, b: &Tok) -> u8 {
    if a.s == b.s {
        return if a.is_initial() { F_INITIAL } else { F_EXACT };
    }
    if a.is_initial() || b.is_initial() {
        return if a.initial() == b.initial() { F_INITIAL } else { F_DISAGREE };
    }
    match normalize::group_relation(a.groups, b.groups) {
        Some(false) => return F_TRANS,
        Some(true) => return F_NICK,
        None => {}
    }
    // A one-letter code (Lee, Lily) says too little to call two names one.
    if a.ph == b.ph && a.ph > 0xff {
        return F_TRANS;
    }
    let jw = jaro_winkler_from(&a.s, &a.hist, &b.s, &b.hist, 0.80);
    if jw >= 0.92 {
        return F_JW92;
    }
    // A short form that the longer name begins with (Sam, Samuel; Tom, Tomasz).
    let (s, l) = if a.s.len() <= b.s.len() { (&a.s, &b.s) } else { (&b.s, &a.s) };
    if s.len() >= 3 && l.starts_with(s.as_str()) {
        return F_NICK;
    }
    // A short form taken from the end of a long name (Emeka, Chukwuemeka; Seun, Oluwaseun).
    if s.len() >= 4 && l.len() >= s.len() + 3 && l.ends_with(s.as_str()) {
        return F_NICK;
    }
    if jw >= 0.80 {
        F_JW80
    } else {
        F_DISAGREE
    }
}

/// Best level (by weight) over the token pairs of two given names; its weight.
fn forename_level(model: &Model, a: &[Tok], b: &[Tok]) -> Option<(u8, f64)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let w = &model.w[model::FORENAME];
    let mut best: Option<(u8, f64)> = None;
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            let l = forename_token_level(x, y);
            let mut wt = if l == F_EXACT { x.w_exact.min(y.w_exact) } else { w[l as usize] };
            // A match on a middle name counts a little less than one on the first.
            if (i > 0 || j > 0) && l != F_DISAGREE {
                wt -= 1.0;
            }
            if best.is_none_or(|(_, bw)| wt > bw) {
                best = Some((l, wt));
            }
            if i == 0 && j == 0 && l == F_EXACT {
                return best;
            }
        }
    }
    best
}

// Surname levels.
const S_EXACT: u8 = 0;
const S_TRANS: u8 = 1;
const S_JW92: u8 = 2;
const S_JW80: u8 = 3;
const S_DISAGREE: u8 = 4;

fn surname_token_level(a: &Tok, b: &Tok) -> u8 {
    if a.s == b.s {
        return S_EXACT;
    }
    if a.is_initial() || b.is_initial() {
        return S_DISAGREE;
    }
    if normalize::group_relation(a.groups, b.groups).is_some() || (a.ph == b.ph && a.ph > 0xff) {
        return S_TRANS;
    }
    let jw = jaro_winkler_from(&a.s, &a.hist, &b.s, &b.hist, 0.80);
    if jw >= 0.92 {
        S_JW92
    } else if jw >= 0.80 {
        S_JW80
    } else {
        S_DISAGREE
    }
}

fn surname_level(model: &Model, a: &PName, b: &PName) -> Option<(u8, f64)> {
    let (sa, sb) = (a.sur.as_ref()?, b.sur.as_ref()?);
    let w = &model.w[model::SURNAME];
    let l = surname_token_level(sa, sb);
    let wt = |l: u8, x: &Tok, y: &Tok| if l == S_EXACT { x.w_exact.min(y.w_exact) } else { w[l as usize] };
    let mut best = (l, wt(l, sa, sb));
    if l != S_EXACT && (!a.sur_parts.is_empty() || !b.sur_parts.is_empty()) {
        // Double-barrelled or prefixed surnames: one part agreeing counts as a close spelling.
        let pa: &[Tok] = if a.sur_parts.is_empty() { std::slice::from_ref(sa) } else { &a.sur_parts };
        let pb: &[Tok] = if b.sur_parts.is_empty() { std::slice::from_ref(sb) } else { &b.sur_parts };
        for x in pa {
            for y in pb {
                let l = surname_token_level(x, y).max(S_JW92);
                if w[l as usize] > best.1 {
                    best = (l, w[l as usize]);
                }
            }
        }
    }
    Some(best)
}

/// A level and its weight, or `None` when the field is missing on either side.
type Scored = Option<(u8, f64)>;

/// Forename/surname levels of two names, straight or swapped, best by weight.
fn name_levels(model: &Model, a: &PName, b: &PName) -> (Scored, Scored, bool) {
    let f = forename_level(model, &a.fore, &b.fore);
    let s = surname_level(model, a, b);
    let total = |f: &Scored, s: &Scored| f.map_or(0.0, |x| x.1) + s.map_or(0.0, |x| x.1);
    let straight = total(&f, &s);
    if matches!(f, Some((F_EXACT, _))) && matches!(s, Some((S_EXACT, _))) {
        return (f, s, false);
    }
    // Swapped: a's first given name against b's surname and the other way round.
    let (Some(fa), Some(sb), Some(sa), Some(fb)) = (a.fore.first(), b.sur.as_ref(), a.sur.as_ref(), b.fore.first())
    else {
        return (f, s, false);
    };
    // Sorted, so that the comparison is symmetric: the better of the two crossed levels is
    // weighed as the given name.
    let (l1, l2) = {
        let (x, y) = (forename_token_level(fa, sb), forename_token_level(sa, fb));
        (x.min(y), x.max(y))
    };
    if l1 == F_DISAGREE || l2 == F_DISAGREE || (l1 == F_INITIAL && l2 == F_INITIAL) {
        return (f, s, false);
    }
    // One side an initial ("Dvorak B" for "Besnik Dvorak"): the initial is the given name, the
    // other crossed pair the surname.
    let (l1, l2) = if l2 == F_INITIAL { (F_INITIAL, l1) } else { (l1, l2) };
    let wf = model.w[model::FORENAME][l1 as usize];
    let ls = match l2 {
        F_EXACT => S_EXACT,
        F_NICK | F_TRANS => S_TRANS,
        F_JW92 => S_JW92,
        _ => S_JW80,
    };
    let ws = model.w[model::SURNAME][ls as usize];
    if wf + ws + SWAP_WEIGHT > straight {
        (Some((l1, wf)), Some((ls, ws)), true)
    } else {
        (f, s, false)
    }
}

// Date-of-birth levels.
const D_EXACT: u8 = 0;
const D_SWAP: u8 = 1;
const D_ONE: u8 = 2;
const D_YM: u8 = 3;
const D_Y: u8 = 4;
const D_YEAR_CLOSE: u8 = 5;
const D_DISAGREE: u8 = 6;

/// The eight decimal digits of a date, YYYYMMDD (no allocation: compared for every candidate).
fn digits(d: &PDob) -> [u8; 8] {
    let y = d.year.clamp(0, 9999) as u32;
    let (m, day) = (d.month.unwrap_or(0).min(99), d.day.unwrap_or(0).min(99));
    let v = [y / 1000, y / 100 % 10, y / 10 % 10, y % 10, m / 10, m % 10, day / 10, day % 10];
    v.map(|x| x as u8)
}

fn dob_level(a: &PDob, b: &PDob) -> u8 {
    match (a.month, a.day, b.month, b.day) {
        (Some(am), Some(ad), Some(bm), Some(bd)) => {
            if a.year == b.year && am == bm && ad == bd {
                return D_EXACT;
            }
            if a.year == b.year && am == bd && ad == bm {
                return D_SWAP;
            }
            // A system placeholder (1 January) against a date in the same year.
            if a.year == b.year && ((am == 1 && ad == 1) || (bm == 1 && bd == 1)) {
                return D_Y;
            }
            let (da, db) = (digits(a), digits(b));
            let mut diff = [0usize; 8];
            let mut nd = 0;
            for i in 0..8 {
                if da[i] != db[i] {
                    diff[nd] = i;
                    nd += 1;
                }
            }
            let one_off = match &diff[..nd] {
                [_] => true,
                [i, j] => *j == i + 1 && da[*i] == db[*j] && da[*j] == db[*i],
                _ => false,
            };
            if one_off {
                return D_ONE;
            }
            // One part off by one (a year from a miscounted age, a neighbouring day or month).
            let parts_off = [a.year.abs_diff(b.year), am.abs_diff(bm), ad.abs_diff(bd)];
            if parts_off.iter().filter(|d| **d != 0).count() == 1 && parts_off.iter().all(|d| *d <= 1) {
                return D_ONE;
            }
            let na = chrono::NaiveDate::from_ymd_opt(a.year, am, ad);
            let nb = chrono::NaiveDate::from_ymd_opt(b.year, bm, bd);
            if let (Some(x), Some(y)) = (na, nb) {
                if (x - y).num_days().abs() == 1 {
                    return D_ONE;
                }
            }
            D_DISAGREE
        }
        (am, _, bm, _) => {
            if a.year != b.year {
                // A partial date: a year one off, or one digit off, is a typo.
                let (ya, yb) = (digits(a), digits(b));
                let month_ok = match (am, bm) {
                    (Some(x), Some(y)) => x == y,
                    _ => true,
                };
                let close =
                    a.year.abs_diff(b.year) == 1 || ya[..4].iter().zip(&yb[..4]).filter(|(x, y)| x != y).count() == 1;
                // Far weaker than a full date one digit off: years of partial dates are often
                // near one another by chance.
                return if close && month_ok { D_YEAR_CLOSE } else { D_DISAGREE };
            }
            match (am, bm) {
                (Some(x), Some(y)) if x == y => D_YM,
                (Some(_), Some(_)) => D_DISAGREE,
                _ => D_Y,
            }
        }
    }
}

/// Levels of every field of a pair.
pub(crate) fn levels(model: &Model, a: &Prepared, b: &Prepared) -> Levels {
    let mut lv = Levels::default();
    name_fields(model, a, b, &mut lv);
    dob_sex_fields(a, b, &mut lv);
    address_fields(model, a, b, &mut lv);
    id_fields(model, a, b, &mut lv);
    lv
}

/// The levels of a pair when it may be a link (its weight may reach the threshold and its
/// personal weight may be non-negative), else `None`: the cheap fields first (date of birth and
/// sex, read from the prepared record itself; then identifiers, unless neither side has a
/// personal one the other has too and the date alone already fails the relatives test), then
/// names, then addresses, each stage skipped when an upper bound on the fields still to compare
/// cannot lift the pair over the threshold. When `Some`, the levels are exactly those of
/// [`levels`].
pub(crate) fn levels_if_link(model: &Model, a: &Prepared, b: &Prepared) -> Option<Levels> {
    let mut lv = Levels::default();
    const SLACK: f64 = 1e-6;
    let threshold = model.threshold() - SLACK;
    dob_sex_fields(a, b, &mut lv);
    let ub = &model.bounds;
    let names_present = !a.names.is_empty() && !b.names.is_empty();
    let ub_personal = if names_present { ub.fore_rel.max(0.0) } else { 0.0 };
    // Most candidates fail the relatives test on their dates of birth alone. Without a personal
    // identifier on both sides the identifiers add nothing to the personal weight, so that test
    // is decided here, before their values (memory of their own) are read: the same answer as
    // below, sooner.
    if a.personal_ids & b.personal_ids == 0 && weigh(model, &lv).1 + ub_personal < -SLACK {
        return None;
    }
    id_fields(model, a, b, &mut lv);
    let (t0, p0) = weigh(model, &lv);
    if p0 + ub_personal < -SLACK {
        return None;
    }
    let ub_names = if names_present {
        a.fore_max.min(b.fore_max).max(ub.fore).max(0.0) + a.sur_max.min(b.sur_max).max(ub.sur).max(0.0)
    } else {
        0.0
    };
    let ub_addr = if !a.addresses.is_empty() && !b.addresses.is_empty() {
        a.postcode_max.min(b.postcode_max).max(ub.postcode).max(0.0)
            + ub.street.max(0.0)
            + a.town_max.min(b.town_max).max(ub.town).max(0.0)
    } else {
        0.0
    };
    if t0 + ub_names + ub_addr < threshold {
        return None;
    }
    if names_present {
        name_fields(model, a, b, &mut lv);
        let (t1, p1) = weigh(model, &lv);
        if p1 < -SLACK || t1 + ub_addr < threshold {
            return None;
        }
    }
    address_fields(model, a, b, &mut lv);
    Some(lv)
}

fn name_fields(model: &Model, a: &Prepared, b: &Prepared, lv: &mut Levels) {
    // Names: the best pair of names (primary or alias) by weight.
    let mut best: Option<(f64, Scored, Scored, bool, bool)> = None;
    for na in &a.names {
        for nb in &b.names {
            let (f, s, sw) = name_levels(model, na, nb);
            let w = f.map_or(0.0, |x| x.1) + s.map_or(0.0, |x| x.1) + if sw { SWAP_WEIGHT } else { 0.0 };
            if best.as_ref().is_none_or(|b| w > b.0) {
                // Only a record known by that name alone (no surname anywhere): a record's
                // surname-less alias must not hide its surname's disagreement.
                let moniker = matches!(f, Some((F_DISAGREE, _)))
                    && ((na.sur.is_none() && a.names.iter().all(|n| n.sur.is_none()))
                        || (nb.sur.is_none() && b.names.iter().all(|n| n.sur.is_none())));
                best = Some((w, f, s, sw, moniker));
            }
        }
    }
    if let Some((_, f, s, sw, moniker)) = best {
        lv.moniker = moniker;
        if let Some((l, w)) = f {
            lv.fields[model::FORENAME] = Some(l);
            lv.w_exact[model::FORENAME] = w;
        }
        if let Some((l, w)) = s {
            lv.fields[model::SURNAME] = Some(l);
            lv.w_exact[model::SURNAME] = w;
        }
        lv.swapped = sw;
    }
}

fn dob_sex_fields(a: &Prepared, b: &Prepared, lv: &mut Levels) {
    if let (Some(x), Some(y)) = (&a.dob, &b.dob) {
        let l = dob_level(x, y);
        lv.fields[model::DOB] = Some(l);
        lv.dob_placeholder = l == D_EXACT && x.month == Some(1) && x.day == Some(1);
        lv.dob_clash = l == D_DISAGREE && x.day.is_some() && y.day.is_some();
        lv.w_exact[model::DOB] = x.w_exact.min(y.w_exact);
    }
    if let (Some(x), Some(y)) = (a.sex, b.sex) {
        lv.fields[model::SEX] = Some(if x == y { 0 } else { 1 });
    }
}

#[allow(clippy::needless_range_loop)] // fields are indices into parallel tables
fn address_fields(model: &Model, a: &Prepared, b: &Prepared, lv: &mut Levels) {
    // Addresses: the best pair.
    if !a.addresses.is_empty() && !b.addresses.is_empty() {
        let mut best: Option<(f64, [Option<u8>; 3], [f64; 3])> = None;
        for x in &a.addresses {
            for y in &b.addresses {
                let mut l = [None; 3];
                let mut we = [0.0; 3];
                if !x.postcode.is_empty() && !y.postcode.is_empty() {
                    l[0] = Some(if x.postcode == y.postcode {
                        we[0] = x.w_postcode.min(y.w_postcode);
                        0
                    } else if within_one_edit(&x.postcode, &y.postcode) {
                        1
                    } else {
                        2
                    });
                }
                if !x.street.is_empty() && !y.street.is_empty() {
                    l[1] = Some(if x.street == y.street {
                        0
                    } else if jaro_winkler_from(&x.street, &x.street_hist, &y.street, &y.street_hist, 0.90) >= 0.90 {
                        1
                    } else {
                        2
                    });
                }
                if !x.town.is_empty() && !y.town.is_empty() {
                    l[2] = Some(if x.town == y.town {
                        we[2] = x.w_town.min(y.w_town);
                        0
                    } else if jaro_winkler_from(&x.town, &x.town_hist, &y.town, &y.town_hist, 0.90) >= 0.90 {
                        1
                    } else {
                        2
                    });
                }
                let fields = [model::POSTCODE, model::STREET, model::TOWN];
                let w: f64 = (0..3)
                    .map(|k| match l[k] {
                        Some(0) if k != 1 => we[k],
                        Some(v) => model.w[fields[k]][v as usize],
                        None => 0.0,
                    })
                    .sum();
                if best.as_ref().is_none_or(|b| w > b.0) {
                    best = Some((w, l, we));
                }
            }
        }
        if let Some((_, l, we)) = best {
            for (k, f) in [model::POSTCODE, model::STREET, model::TOWN].into_iter().enumerate() {
                lv.fields[f] = l[k];
                lv.w_exact[f] = if k == 1 { model.w[f][0] } else { we[k] };
            }
        }
    }
}

fn id_fields(model: &Model, a: &Prepared, b: &Prepared, lv: &mut Levels) {
    if a.ids.is_empty() || b.ids.is_empty() {
        return;
    }
    // Both sorted by (field, value): walk the fields' runs side by side.
    let (mut i, mut j) = (0, 0);
    while i < a.ids.len() {
        let f = a.ids[i].0;
        let i_end = i + a.ids[i..].iter().take_while(|(k, _)| *k == f).count();
        while j < b.ids.len() && b.ids[j].0 < f {
            j += 1;
        }
        let j_end = j + b.ids[j..].iter().take_while(|(k, _)| *k == f).count();
        let (xs, ys) = (&a.ids[i..i_end], &b.ids[j..j_end]);
        lv.w_exact[f] = model.w[f][0];
        lv.fields[f] = if ys.is_empty() {
            None
        } else {
            let last = SPECS[f].levels.len() as u8 - 1;
            let mut level = last;
            let (px, py) = (&a.id_packed[i..i_end], &b.id_packed[j..j_end]);
            'pairs: for ((_, x), &kx) in xs.iter().zip(px) {
                for ((_, y), &ky) in ys.iter().zip(py) {
                    let same_len = x.len() == y.len();
                    if same_len && kx == ky && (x.len() <= 16 || x == y) {
                        level = 0;
                        break 'pairs;
                    }
                    // One edit of two values of one length up to 16 bytes (a substitution or a
                    // transposition) changes at most two of their bytes.
                    if last == 2
                        && level > 1
                        && x.len() >= 5
                        && y.len() >= 5
                        && (!same_len || x.len() > 16 || bytes_differing(kx, ky) <= 2)
                        && within_one_edit(x, y)
                    {
                        level = 1;
                    }
                }
            }
            Some(level)
        };
        i = i_end;
        j = j_end;
    }
}

/// The weight of one field's level in a pair (term-frequency adjusted for exact agreement).
fn field_weight(model: &Model, lv: &Levels, f: usize, l: u8) -> f64 {
    match f {
        // A street name against a given name: most records of the person do not carry it, so the
        // disagreement is no evidence either way.
        model::FORENAME if lv.moniker => 0.0,
        model::FORENAME | model::SURNAME => lv.w_exact[f],
        model::DOB | model::POSTCODE | model::TOWN if l == 0 => lv.w_exact[f],
        _ => model.w[f][l as usize],
    }
}

/// Total weight of a pair, and the relative-test weight (personal fields only, against the
/// hypothesis that the two are relatives sharing a household).
pub(crate) fn weigh(model: &Model, lv: &Levels) -> (f64, f64) {
    let mut total = if lv.swapped { SWAP_WEIGHT } else { 0.0 };
    let mut personal = 0.0;
    let mut beyond_names = false;
    for f in 0..FIELDS {
        if let Some(l) = lv.fields[f] {
            let w = field_weight(model, lv, f, l);
            total += w;
            if w > 0.0 && !matches!(f, model::FORENAME | model::SURNAME | model::SEX) {
                beyond_names = true;
            }
            if f == model::DOB && lv.dob_placeholder {
                personal += (model.m[f][0] / model::PLACEHOLDER_SHARED_BY_RELATIVES).log2();
            } else if model::PERSONAL[f] && !(f == model::FORENAME && lv.moniker) {
                personal += model.w_rel[f][l as usize];
            }
        }
    }
    // A name alone, however rare its parts, is not an identity: given name and surname are not
    // independent (names run in communities), and namesakes are common.
    if !beyond_names {
        total = total.min(model.threshold() - 1.0);
    }
    (total, personal)
}

/// Full evidence of a pair: every compared field with its level and weight.
#[allow(clippy::needless_range_loop)] // fields are indices into parallel tables
pub(crate) fn evidence(model: &Model, lv: &Levels) -> Evidence {
    let mut fields = Vec::new();
    let mut total = 0.0;
    for f in 0..FIELDS {
        if let Some(l) = lv.fields[f] {
            let w = field_weight(model, lv, f, l);
            total += w;
            fields.push(FieldEvidence { field: SPECS[f].name, level: SPECS[f].levels[l as usize], weight: w });
        }
    }
    if lv.swapped {
        total += SWAP_WEIGHT;
        fields.push(FieldEvidence { field: "name order", level: "swapped", weight: SWAP_WEIGHT });
    }
    let probability = 1.0 / (1.0 + (-(total + model.prior())).exp2());
    Evidence { fields, weight: total, probability }
}

/// The pair shares a decisive personal identifier (PNC id, passport or national id, exact).
pub(crate) const STRONG_ID: u8 = 1;

/// The pair's full dates of birth disagree (beyond the typo levels).
pub(crate) const DOB_CLASH: u8 = 2;

/// The pair agrees exactly on a given name and on a full date of birth (not a 1 January
/// placeholder): as decisive as a shared identifier (twins differ in given names, a father and
/// his son of one name in dates).
pub(crate) const NAME_DOB: u8 = 4;

/// Flags of a pair that the majority vote of the relative test weighs beyond its sign.
pub(crate) fn flags(lv: &Levels) -> u8 {
    let strong = [model::PNC, model::PASSPORT, model::NATIONAL_ID].iter().any(|&f| lv.fields[f] == Some(0));
    let name_dob =
        lv.fields[model::FORENAME] == Some(F_EXACT) && lv.fields[model::DOB] == Some(D_EXACT) && !lv.dob_placeholder;
    (if strong { STRONG_ID } else { 0 })
        | (if lv.dob_clash { DOB_CLASH } else { 0 })
        | (if name_dob { NAME_DOB } else { 0 })
}

/// Whether a scored pair is a link: its weight reaches the threshold and its personal fields do
/// not favour "two relatives" over "one person".
pub(crate) fn is_link(model: &Model, total: f64, personal: f64) -> bool {
    total >= model.threshold() && personal >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_matches_strsim() {
        for (a, b) in [("martha", "marhta"), ("dwayne", "duane"), ("dixon", "dicksonx"), ("a", "b"), ("abc", "abc")] {
            assert!((jaro_winkler(a, b) - strsim::jaro_winkler(a, b)).abs() < 1e-9, "{a} {b}");
        }
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit("7364009", "7364099"));
        assert!(within_one_edit("7364009", "7346009"));
        assert!(within_one_edit("7364009", "736409"));
        assert!(!within_one_edit("7364009", "7463009"));
    }

    /// The id fields' levels by their plain definition: exact agreement of any pair, else one
    /// edit between any pair of values of five characters or more (fields with that level).
    fn id_levels_plain(a: &Prepared, b: &Prepared) -> Vec<Option<u8>> {
        (0..FIELDS)
            .map(|f| {
                let xs: Vec<&String> = a.ids.iter().filter(|(k, _)| *k == f).map(|(_, v)| v).collect();
                let ys: Vec<&String> = b.ids.iter().filter(|(k, _)| *k == f).map(|(_, v)| v).collect();
                if xs.is_empty() || ys.is_empty() {
                    return None;
                }
                let last = SPECS[f].levels.len() as u8 - 1;
                let pairs = || xs.iter().flat_map(|x| ys.iter().map(move |y| (x, y)));
                Some(if pairs().any(|(x, y)| x == y) {
                    0
                } else if last == 2 && pairs().any(|(x, y)| x.len() >= 5 && y.len() >= 5 && within_one_edit(x, y)) {
                    1
                } else {
                    last
                })
            })
            .collect()
    }

    fn with_ids(ids: Vec<(usize, String)>) -> Prepared {
        let mut ids = ids;
        ids.sort();
        ids.dedup();
        finish(Vec::new(), None, None, ids, Vec::new())
    }

    proptest::proptest! {
        #[test]
        fn id_levels_match_their_plain_definition(
            a in proptest::collection::vec((0usize..7, "[0-9]{4,12}|[a-z0-9_.@]{5,24}"), 0..5),
            b in proptest::collection::vec((0usize..7, "[0-9]{4,12}|[a-z0-9_.@]{5,24}"), 0..5),
            edits in proptest::collection::vec((0usize..5, 0usize..24, 0u8..4, "[0-9a-z]"), 0..4),
        ) {
            let ids = [model::PHONE, model::EMAIL, model::VEHICLE, model::SOCIAL, model::PNC, model::PASSPORT, model::NATIONAL_ID];
            let field = |k: usize| ids[k % ids.len()];
            let a: Vec<(usize, String)> = a.into_iter().map(|(k, v)| (field(k), v)).collect();
            // b: its own values, and values of a one edit away (or equal), so every level comes up.
            let mut b: Vec<(usize, String)> = b.into_iter().map(|(k, v)| (field(k), v)).collect();
            for (i, at, op, c) in edits {
                let Some((f, v)) = a.get(i % a.len().max(1)).cloned() else { continue };
                let mut v: Vec<u8> = v.into_bytes();
                let at = at % v.len();
                match op {
                    0 => v[at] = c.as_bytes()[0],
                    1 => v.insert(at, c.as_bytes()[0]),
                    2 if v.len() > 1 => {
                        v.remove(at);
                    }
                    _ if at + 1 < v.len() => v.swap(at, at + 1),
                    _ => {}
                }
                b.push((f, String::from_utf8(v).expect("ascii")));
            }
            let (pa, pb) = (with_ids(a), with_ids(b));
            let model = Model::default();
            let mut lv = Levels::default();
            id_fields(&model, &pa, &pb, &mut lv);
            let plain = id_levels_plain(&pa, &pb);
            for f in &ids {
                proptest::prop_assert_eq!(lv.fields[*f], plain[*f], "field {}", SPECS[*f].name);
            }
        }
    }

    /// A small record from indices into small vocabularies (names with variants, nearby dates,
    /// identifiers of every kind a few of which are one edit apart, shared addresses), so that
    /// generated pairs reach every level and every stage of [`levels_if_link`].
    fn small_record(
        names: &[(usize, usize)],
        dob: Option<(i32, u32, u32)>,
        sex: Option<bool>,
        ids: &[(usize, usize)],
        addresses: &[usize],
    ) -> Record {
        use crate::{Address, Identifier, IdentifierKind, Name, PartialDate};
        const FORE: [&str; 8] = ["John", "Jon", "Mohammed", "Muhammad", "Sarah", "Sara", "J", "Ahmed Ali"];
        const SUR: [&str; 5] = ["Smith", "Smyth", "Khan", "Kahn", "Patel"];
        const VALUES: [&str; 5] = ["07700900001", "07700900010", "AB123456C", "AB123465C", "p1234567@x.example"];
        const PLACES: [(&str, &str, &str); 3] = [
            ("14 Acacia Avenue", "Leeds", "LS6 2AB"),
            ("14 Acacia Ave", "Leeds", "LS6 2AD"),
            ("2 Mill Lane", "Bury", "BL9 0AA"),
        ];
        Record {
            names: names
                .iter()
                .map(|&(f, s)| Name { forenames: FORE[f % FORE.len()].into(), surname: SUR[s % SUR.len()].into() })
                .collect(),
            date_of_birth: dob.map(|(y, m, d)| PartialDate { year: y, month: Some(m), day: Some(d) }),
            sex: sex.map(|m| if m { Sex::Male } else { Sex::Female }),
            identifiers: ids
                .iter()
                .map(|&(k, v)| Identifier {
                    kind: IdentifierKind::ALL[k % IdentifierKind::ALL.len()],
                    value: VALUES[v % VALUES.len()].into(),
                })
                .collect(),
            addresses: addresses
                .iter()
                .map(|&a| {
                    let (line1, town, postcode) = PLACES[a % PLACES.len()];
                    Address { line1: line1.into(), town: town.into(), postcode: postcode.into(), ..Address::default() }
                })
                .collect(),
        }
    }

    fn small_records() -> impl proptest::strategy::Strategy<Value = Record> {
        use proptest::collection::vec;
        use proptest::prelude::*;
        (
            vec((0usize..8, 0usize..5), 0..3),
            proptest::option::of((1980i32..1982, 1u32..4, 1u32..4)),
            proptest::option::of(any::<bool>()),
            vec((0usize..7, 0usize..5), 0..4),
            vec(0usize..3, 0..2),
        )
            .prop_map(|(n, d, s, i, a)| small_record(&n, d, s, &i, &a))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// The staged comparison never drops a pair that links, and the levels it returns are
        /// those of the full comparison: its early exits only save work.
        #[test]
        fn staged_levels_are_the_full_levels(a in small_records(), b in small_records()) {
            let model = Model::default();
            let (pa, pb) = (prepare(&model, &a), prepare(&model, &b));
            for (x, y) in [(&pa, &pb), (&pb, &pa)] {
                let full = levels(&model, x, y);
                let (total, personal) = weigh(&model, &full);
                match levels_if_link(&model, x, y) {
                    Some(lv) => proptest::prop_assert_eq!(lv, full),
                    None => proptest::prop_assert!(
                        !is_link(&model, total, personal),
                        "a link dropped: {:?} / {:?}: {:?}", a, b, full
                    ),
                }
            }
        }
    }
}
