//! Blocking: the keys under which a record is filed, so that only records sharing a key are
//! compared. Several keys per record, each built from different fields, so that noise in one
//! field does not hide a match:
//!
//! - `N`: the phonetic codes of the first given name and the surname, in sorted order (so a swapped
//!   name files under the same key), for every name and alias;
//! - `ND`: the phonetic code of either name part with the full date of birth (a surname typo or a
//!   changed given name still meets on the other part and the date);
//! - `NG`: the nickname group of the given name with the surname's code (Bob and Robert);
//! - `IY`: the surname's code, the given name's initial and the year of birth (initials, partial
//!   dates);
//! - `PS`, `SS`: the postcode, or the street, with the surname's code;
//! - `DP`: the full date of birth with the postcode (both names garbled);
//! - `ID`: every identifier, by kind and normal form.
//!
//! Keys are 64-bit hashes (FNV-1a) of their parts: a collision only adds a comparison.
//!
//! **Invariant:** a block with more than [`BLOCK_CAP`] members is ignored for linking, for every
//! member, whatever the order of arrival: its pairs are candidates only through another key. So
//! the set of candidate pairs is a function of the set of records.

use super::compare::Prepared;
use super::normalize;

/// Largest block whose pairs are compared (a bigger one is too common a key to mean anything:
/// a placeholder date with a common postcode, the commonest names).
pub const BLOCK_CAP: usize = 200;

struct Key(u64);

impl Key {
    fn new(tag: &str) -> Key {
        let mut k = Key(0xcbf2_9ce4_8422_2325);
        k.bytes(tag.as_bytes());
        k
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Key {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        self
    }
    fn u64(&mut self, v: u64) -> &mut Key {
        self.bytes(&v.to_le_bytes())
    }
}

/// The blocking keys of a prepared record (sorted, without duplicates).
pub(crate) fn keys(p: &Prepared) -> Vec<u64> {
    let mut out = Vec::with_capacity(12);
    let full_dob = p
        .dob
        .filter(|d| d.day.is_some())
        .map(|d| (d.year as u64) << 16 | (d.month.unwrap_or(0) as u64) << 8 | d.day.unwrap_or(0) as u64);
    let year = p.dob.map(|d| d.year as u64);
    for n in &p.names {
        let fore = n.fore.first();
        let f_ph = fore.filter(|t| t.s.len() > 1).map(|t| t.ph);
        let s_ph = n.sur.as_ref().map(|t| t.ph);
        if let (Some(f), Some(s)) = (f_ph, s_ph) {
            out.push(Key::new("N").u64(f.min(s)).u64(f.max(s)).0);
        }
        if let Some(d) = full_dob {
            for x in [f_ph, s_ph].into_iter().flatten() {
                out.push(Key::new("ND").u64(x).u64(d).0);
            }
        }
        if let (Some(f), Some(s)) = (fore, s_ph) {
            for g in f.groups.iter().filter(|g| **g < normalize::VARIANT_BASE) {
                out.push(Key::new("NG").u64(*g as u64).u64(s).0);
            }
            if let Some(y) = year {
                out.push(Key::new("IY").u64(s).u64(f.initial() as u64).u64(y).0);
            }
        }
        if let Some(s) = s_ph {
            for a in &p.addresses {
                if !a.postcode.is_empty() {
                    out.push(Key::new("PS").bytes(a.postcode.as_bytes()).u64(s).0);
                }
                if !a.street.is_empty() {
                    out.push(Key::new("SS").bytes(a.street.as_bytes()).u64(s).0);
                }
            }
        }
    }
    if let Some(d) = full_dob {
        for a in &p.addresses {
            if !a.postcode.is_empty() {
                out.push(Key::new("DP").u64(d).bytes(a.postcode.as_bytes()).0);
            }
        }
    }
    for (f, v) in &p.ids {
        out.push(Key::new("ID").u64(*f as u64).bytes(v.as_bytes()).0);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Every candidate pair (i < j) of a batch of records: pairs sharing a block no bigger than
/// [`BLOCK_CAP`]; sorted.
pub(crate) fn candidate_pairs(prepared: &[Prepared]) -> Vec<(usize, usize)> {
    // (key, record) sorted: each run of one key is a block.
    let mut filed: Vec<(u64, u32)> = Vec::new();
    for (i, p) in prepared.iter().enumerate() {
        filed.extend(keys(p).into_iter().map(|k| (k, i as u32)));
    }
    filed.sort_unstable();
    let mut pairs = Vec::new();
    for block in filed.chunk_by(|a, b| a.0 == b.0) {
        if block.len() > BLOCK_CAP {
            continue;
        }
        for (x, &(_, i)) in block.iter().enumerate() {
            for &(_, j) in &block[x + 1..] {
                pairs.push((i as usize, j as usize));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// Keys used by search only (never for linking): a query with a single field still finds its
/// candidates through them: the phonetic code of a given name or of a surname alone, and the
/// full date of birth alone. Blocks of any size.
pub(crate) fn search_keys(p: &Prepared) -> Vec<u64> {
    let mut out = Vec::with_capacity(4);
    for n in &p.names {
        if let Some(f) = n.fore.first().filter(|t| t.s.len() > 1) {
            out.push(Key::new("SF").u64(f.ph).0);
        }
        if let Some(s) = &n.sur {
            out.push(Key::new("SN").u64(s.ph).0);
        }
    }
    if let Some(d) = p.dob.filter(|d| d.day.is_some()) {
        out.push(Key::new("SD").u64(d.year as u64).u64(d.month.unwrap_or(0) as u64).u64(d.day.unwrap_or(0) as u64).0);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The members of a block: most blocks hold one or two records, so up to four are kept inline
/// (no allocation), more on the heap.
#[derive(Debug, Clone)]
pub(crate) enum Members {
    Inline(u8, [u32; 4]),
    Heap(Vec<u32>),
}

impl Default for Members {
    fn default() -> Self {
        Members::Inline(0, [0; 4])
    }
}

impl Members {
    pub fn as_slice(&self) -> &[u32] {
        match self {
            Members::Inline(n, v) => &v[..*n as usize],
            Members::Heap(v) => v,
        }
    }
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn push(&mut self, x: u32) {
        match self {
            Members::Inline(n, v) if (*n as usize) < v.len() => {
                v[*n as usize] = x;
                *n += 1;
            }
            Members::Inline(_, v) => {
                let mut h = Vec::with_capacity(8);
                h.extend_from_slice(v);
                h.push(x);
                *self = Members::Heap(h);
            }
            Members::Heap(h) => h.push(x),
        }
    }
    /// Removes one occurrence of `x` (the last member takes its place).
    pub fn remove(&mut self, x: u32) {
        match self {
            Members::Inline(n, v) => {
                if let Some(i) = v[..*n as usize].iter().position(|s| *s == x) {
                    v[i] = v[*n as usize - 1];
                    *n -= 1;
                }
            }
            Members::Heap(h) => {
                if let Some(i) = h.iter().position(|s| *s == x) {
                    h.swap_remove(i);
                }
            }
        }
    }
}
