//! The incremental resolver: a blocking index, the link graph, decisions, and the persons.
//!
//! # Storage
//! Mentions whose records are identical share one *node* (the record, its prepared form, its
//! blocking keys and its links are held once, whatever the number of mentions). Blocks, links and
//! components are over nodes; a block counts distinct records. Mention keys are held once (in the
//! mention), indexed by a 64-bit hash (a collision falls back to a small exact map).

use std::collections::hash_map::Entry;
use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt as _, HashSet};
use std::hash::{Hash, Hasher};

use super::block::{self, Members, BLOCK_CAP};
use super::compare::{self, Prepared};
use super::normalize::FxMap;
use super::{Change, Decision, Evidence, Link, MentionKey, Model, Record};
use crate::ids::PersonId;

/// Largest number of pairs of elements (see [`Resolver::cluster`]) across two clusters for which
/// a union checks them with the relative test (beyond it the union is made on the link alone;
/// still deterministic).
const CONFLICT_CHECK_LIMIT: usize = 4096;

/// Largest connected component clustered as one. A larger one (hub records, such as a name
/// alone or an identifier many people gave, chaining people together) is clustered in *parts*:
/// the components of its links heavier than the heaviest weight at which a part would grow
/// past this size (asserted links always held). The parts are a function of the links, so the
/// result still does not depend on the order records came in; a part none of whose records
/// changed, clustered as it stands before, is not clustered again.
const COMPONENT_CAP: usize = 10_000;

/// Fewest nodes [`Resolver::scan_many`] scans on more than one thread (two in tests, so that
/// the tests' small batches take the threaded path).
const SCAN_APART: usize = if cfg!(test) { 2 } else { 64 };

/// Threads that scan links at once (this machine's, at most four; three in tests, whatever the
/// machine, so that the interleaving is exercised).
fn scan_threads() -> usize {
    if cfg!(test) {
        return 3;
    }
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4))
}

/// `work(t, &mut scratch[t])` for every `t` of `scratch` at once: the first on the calling
/// thread, the others on threads of their own; the results in that order.
fn on_threads<S: Send, R: Send>(scratch: &mut [S], work: impl Fn(usize, &mut S) -> R + Sync) -> Vec<R> {
    let Some((first, rest)) = scratch.split_first_mut() else { return Vec::new() };
    if rest.is_empty() {
        return vec![work(0, first)];
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest.iter_mut().enumerate().map(|(i, s)| scope.spawn(move || work(i + 1, s))).collect();
        let mut out = vec![work(0, first)];
        out.extend(handles.into_iter().map(|h| h.join().expect("resolver work does not panic")));
        out
    })
}

/// Scratch marks of one scanning thread: a node is marked with the current epoch once it has
/// been compared in the scan at hand.
#[derive(Debug, Default)]
struct Marks {
    mark: Vec<u32>,
    epoch: u32,
}

impl Marks {
    /// Starts a scan over `len` nodes: a new epoch (the marks cleared when it wraps).
    fn next(&mut self, len: usize) -> u32 {
        if self.mark.len() < len {
            self.mark.resize(len, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
        self.epoch
    }

    /// Marks `y` in the current epoch; whether it was not marked yet.
    fn insert(&mut self, y: u32) -> bool {
        let m = &mut self.mark[y as usize];
        let new = *m != self.epoch;
        *m = self.epoch;
        new
    }
}

/// Fewest nodes [`Resolver::cluster_many`] clusters on more than one thread (two in tests).
const CLUSTER_APART: usize = if cfg!(test) { 2 } else { 256 };

/// Most pairs of records [`Resolver::personal`] keeps between clusterings, over all the
/// clustering threads' memos (beyond it a memo starts again: it is a cache, the results do not
/// depend on it).
const PAIR_MEMO_CAP: usize = 1 << 21;

#[derive(Debug)]
struct Mention {
    key: MentionKey,
    node: u32,
    person: PersonId,
    /// Takes part in a decision (then it is an element of its own when clustering).
    decided: bool,
}

/// One distinct record and the mentions that carry it.
#[derive(Debug)]
struct Node {
    record: Record,
    content: u64,
    prep: Prepared,
    keys: Vec<u64>,
    search_keys: Vec<u64>,
    members: Vec<u32>,
    /// How many members take part in a decision.
    decided: u32,
    /// The smallest-keyed member taking part in no decision.
    smallest: Option<u32>,
    /// The person all members taking part in no decision have after the last clustering, and
    /// those of them that joined since (their person may differ).
    settled: Option<PersonId>,
    pending: Vec<u32>,
    /// The record compared with itself: total and personal weight, and whether that is a link
    /// (two mentions carrying this record are one person on the score).
    self_weight: f64,
    self_personal: f64,
    self_flags: u8,
    self_link: bool,
    /// Distinct for every record a node slot has held (a new node, a revision): what the pair
    /// memo checks its entries against.
    stamp: u64,
    /// The fingerprint of the part of a large component this node was last clustered in (see
    /// [`COMPONENT_CAP`]); 0 when it was clustered in a whole component.
    print: u64,
}

/// What clustering decides for some mentions: one mention, or the members of a node taking part
/// in no decision.
#[derive(Debug, Clone, Copy)]
enum Assign {
    One(u32, PersonId),
    Together(u32, PersonId),
}

/// A unit of clustering: one mention, or (`one: None`) the members of a node taking part in no
/// decision.
#[derive(Debug)]
struct Element {
    node: u32,
    one: Option<u32>,
    smallest: u32,
    count: usize,
}

/// A scored link from a node: (other node, total weight, personal weight, flags of
/// [`compare::flags`]).
type Edge = (u32, f64, f64, u8);

/// Resolves mentions into persons, incrementally and in memory. See the [module](super) for the
/// rules; every method is deterministic and the result depends only on the set of records and
/// decisions, not on their order.
#[derive(Debug)]
pub struct Resolver {
    model: Model,
    mentions: Vec<Option<Mention>>,
    free_mentions: Vec<u32>,
    live_mentions: usize,
    /// Hash of a mention key → the mention; keys whose hash is taken by another key go to
    /// `collided`.
    by_key: FxMap<u64, u32>,
    collided: HashMap<MentionKey, u32>,
    nodes: Vec<Option<Node>>,
    free_nodes: Vec<u32>,
    /// Content hash → the nodes with that hash (more than one only on a collision).
    by_content: FxMap<u64, Vec<u32>>,
    blocks: FxMap<u64, Members>,
    search_blocks: FxMap<u64, Members>,
    /// Scored links between nodes, both directions.
    edges: Vec<Vec<Edge>>,
    /// Same or Different, keyed by the ordered pair.
    decisions: BTreeMap<(MentionKey, MentionKey), Decision>,
    /// The other keys of every decision a key takes part in.
    decided: HashMap<MentionKey, Vec<MentionKey>>,
    persons: HashMap<PersonId, Vec<u32>>,
    /// Scratch marks of scans, one set per scanning thread (see [`Resolver::scan_many`]).
    marks: Vec<Marks>,
    /// Scratch space of [`Resolver::parts`].
    local: Vec<u32>,
    /// The personal weight and flags of pairs of nodes that clustering compared without a link
    /// between them, kept from one clustering to the next (a large component is clustered again
    /// whenever a record joins it, and compares mostly the same pairs): keyed by the two node
    /// numbers, valid while both nodes' stamps are those stored.
    /// One memo per clustering thread (see [`Resolver::cluster_many`]).
    pair_memo: Vec<FxMap<u64, PairMemo>>,
    next_stamp: u64,
    /// [`COMPONENT_CAP`] (smaller in tests).
    component_cap: usize,
}

/// An entry of [`Resolver::pair_memo`]: the stamps of the smaller and the larger node, the
/// pair's personal weight and flags.
#[derive(Debug, Clone, Copy)]
struct PairMemo {
    stamps: (u64, u64),
    personal: f64,
    flags: u8,
}

/// A record's content hash and prepared form ([`Resolver::prepare`]), for
/// [`Resolver::upsert_prepared`] under the same model.
#[derive(Debug)]
pub struct PreparedRecord {
    content: u64,
    prep: Prepared,
}

/// The root of `i` in a union-find forest (halving the path on the way).
fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// The elements of sorted `old` not in sorted `new`, and of `new` not in `old`.
fn diff(old: &[u64], new: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let (mut gone, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                gone.push(*a);
                i += 1;
            }
            (Some(a), None) => {
                gone.push(*a);
                i += 1;
            }
            (_, Some(b)) => {
                added.push(*b);
                j += 1;
            }
            (None, None) => unreachable!(),
        }
    }
    (gone, added)
}

fn hash_of<T: Hash + ?Sized>(v: &T) -> u64 {
    // SipHash with fixed keys: deterministic across runs.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    v.hash(&mut h);
    h.finish()
}

impl Resolver {
    pub fn new(model: Model) -> Resolver {
        Resolver {
            model,
            mentions: Vec::new(),
            free_mentions: Vec::new(),
            live_mentions: 0,
            by_key: FxMap::default(),
            collided: HashMap::new(),
            nodes: Vec::new(),
            free_nodes: Vec::new(),
            by_content: FxMap::default(),
            blocks: FxMap::default(),
            search_blocks: FxMap::default(),
            edges: Vec::new(),
            decisions: BTreeMap::new(),
            decided: HashMap::new(),
            persons: HashMap::new(),
            marks: Vec::new(),
            local: Vec::new(),
            pair_memo: Vec::new(),
            next_stamp: 0,
            component_cap: COMPONENT_CAP,
        }
    }

    /// The number of nodes of the largest connected component.
    #[cfg(test)]
    pub(crate) fn largest_component(&self) -> usize {
        let mut seen = Marks::default();
        seen.next(self.nodes.len());
        let mut nb = Vec::new();
        let mut largest = 0;
        for s in 0..self.nodes.len() as u32 {
            if self.nodes[s as usize].is_some() && seen.insert(s) {
                largest = largest.max(self.component(s, &mut seen, &mut nb).len());
            }
        }
        largest
    }

    /// Clusters components larger than `cap` in parts (see [`COMPONENT_CAP`]).
    #[cfg(test)]
    pub(crate) fn set_component_cap(&mut self, cap: usize) {
        self.component_cap = cap;
    }

    fn stamp(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// This resolver under another model (for after a re-estimation of the model): the same
    /// mentions and decisions, resolved as upserting every current record into
    /// `Resolver::new(model)` and deciding every current decision would (in any order), but
    /// cheaper. The model-independent work is kept: records' folded names, phonetic codes and
    /// normal forms (only term-frequency weights are looked up again), the blocks and the nodes
    /// of identical records; every candidate pair is scored once under the new model and every
    /// component clustered. Persons are reassigned without reporting [`Change`]s (compare
    /// [`Resolver::person_of`] before and after for them).
    pub fn rebuild_with(self, model: Model) -> Resolver {
        let nodes: Vec<Option<Node>> = self
            .nodes
            .into_iter()
            .map(|x| {
                let mut x = x?;
                x.prep = compare::reweigh(&model, std::mem::take(&mut x.prep));
                let self_levels = compare::levels(&model, &x.prep, &x.prep);
                let (self_weight, self_personal) = compare::weigh(&model, &self_levels);
                x.self_weight = self_weight;
                x.self_personal = self_personal;
                x.self_flags = compare::flags(&self_levels);
                x.self_link = compare::is_link(&model, self_weight, self_personal);
                x.settled = None;
                x.pending.clear();
                x.print = 0;
                Some(x)
            })
            .collect();
        let len = nodes.len();
        let mut r = Resolver { model, nodes, edges: vec![Vec::new(); len], pair_memo: Vec::new(), ..self };
        // Every candidate pair scored once (from its smaller node, on several threads), both
        // directions filed.
        let live: Vec<u32> = (0..len as u32).filter(|&n| r.nodes[n as usize].is_some()).collect();
        let scanned = r.scan_many(&live, true);
        for (&x, links) in live.iter().zip(scanned) {
            for (y, w, p, f) in links {
                r.edges[x as usize].push((y, w, p, f));
                r.edges[y as usize].push((x, w, p, f));
            }
        }
        r.recluster(live, HashMap::new());
        r
    }

    fn mention(&self, m: u32) -> &Mention {
        self.mentions[m as usize].as_ref().expect("live mention")
    }

    fn mention_mut(&mut self, m: u32) -> &mut Mention {
        self.mentions[m as usize].as_mut().expect("live mention")
    }

    fn node(&self, n: u32) -> &Node {
        self.nodes[n as usize].as_ref().expect("live node")
    }

    fn node_mut(&mut self, n: u32) -> &mut Node {
        self.nodes[n as usize].as_mut().expect("live node")
    }

    fn key_of(&self, m: u32) -> &MentionKey {
        &self.mention(m).key
    }

    fn lookup(&self, key: &MentionKey) -> Option<u32> {
        if let Some(&m) = self.by_key.get(&hash_of(key)) {
            if self.key_of(m) == key {
                return Some(m);
            }
        }
        self.collided.get(key).copied()
    }

    /// Adds a mention, or replaces its record (a correction); resolves it against the candidates
    /// of its blocking keys and returns every mention whose person changed.
    pub fn upsert(&mut self, key: MentionKey, record: Record) -> Vec<Change> {
        self.upsert_batch([(key, record, None)])
    }

    /// The work of an upsert that depends on the record and the model alone (its content hash
    /// and its prepared form), done apart: so that many records can be prepared at once, on
    /// several threads, before they are upserted in order with [`Resolver::upsert_prepared`].
    pub fn prepare(&self, record: &Record) -> PreparedRecord {
        PreparedRecord { content: hash_of(record), prep: compare::prepare(&self.model, record) }
    }

    /// [`Resolver::upsert`] of a record prepared by [`Resolver::prepare`] under the same model
    /// (the result is the same).
    pub fn upsert_prepared(&mut self, key: MentionKey, record: Record, prepared: PreparedRecord) -> Vec<Change> {
        self.upsert_batch([(key, record, Some(prepared))])
    }

    /// Upserts many records (distinct keys; each prepared by [`Resolver::prepare`] under the
    /// same model, or not) and clusters once: the components they touch are re-clustered once
    /// for the lot rather than once per record. The persons are those of upserting them one by
    /// one (resolution is a function of the set of records and decisions); the changes report
    /// every mention whose person differs from before the call (`before: None` for a new one).
    pub fn upsert_batch(
        &mut self,
        items: impl IntoIterator<Item = (MentionKey, Record, Option<PreparedRecord>)>,
    ) -> Vec<Change> {
        let mut seeds: Vec<u32> = Vec::new();
        let mut before: HashMap<u32, Option<PersonId>> = HashMap::new();
        let mut rescan: Vec<u32> = Vec::new();
        for (key, record, prepared) in items {
            self.stage(key, record, prepared, &mut seeds, &mut before, &mut rescan);
        }
        // Every node whose candidates changed is scanned once, against the blocks the whole
        // batch left (the links are a function of the blocks and records: equal to scanning
        // each as it came).
        self.recompute_edges(&rescan, &mut seeds);
        self.recluster(seeds, before)
    }

    /// The work of an upsert short of scanning and clustering: the mention made or found, its
    /// record's node attached (or revised) and filed. The nodes whose links must be scanned
    /// join `recompute`, those whose components must be re-clustered `seeds`; a new mention
    /// joins `before` (it had no person).
    fn stage(
        &mut self,
        key: MentionKey,
        record: Record,
        prepared: Option<PreparedRecord>,
        seeds: &mut Vec<u32>,
        before: &mut HashMap<u32, Option<PersonId>>,
        recompute: &mut Vec<u32>,
    ) {
        let (content, given) = match prepared {
            Some(p) => (p.content, Some(p.prep)),
            None => (hash_of(&record), None),
        };
        let m = match self.lookup(&key) {
            Some(m) => {
                let n = self.mention(m).node;
                let node = self.node(n);
                if node.content == content && node.record == record {
                    return;
                }
                if node.members.len() == 1 && self.find_node(content, &record).is_none() {
                    // The mention's own node, revised in place.
                    self.revise(n, record, content, given, seeds, recompute);
                    return;
                }
                let prep = self.find_node(content, &record).is_none().then(|| {
                    given.unwrap_or_else(|| {
                        let node = self.node(n);
                        compare::revise(&self.model, node.prep.clone(), &node.record, &record)
                    })
                });
                self.detach(m, seeds, recompute);
                self.attach(m, record, content, prep, seeds, recompute);
                return;
            }
            None => {
                let person = key.person_id();
                let decided = self.decided.contains_key(&key);
                let h = hash_of(&key);
                let mention = Mention { key, node: u32::MAX, person, decided };
                let m = match self.free_mentions.pop() {
                    Some(m) => {
                        self.mentions[m as usize] = Some(mention);
                        m
                    }
                    None => {
                        self.mentions.push(Some(mention));
                        (self.mentions.len() - 1) as u32
                    }
                };
                match self.by_key.entry(h) {
                    Entry::Vacant(v) => {
                        v.insert(m);
                    }
                    Entry::Occupied(_) => {
                        let k = self.key_of(m).clone();
                        self.collided.insert(k, m);
                    }
                }
                self.live_mentions += 1;
                self.persons.entry(person).or_default().push(m);
                before.insert(m, None);
                m
            }
        };
        self.attach(m, record, content, given, seeds, recompute);
    }

    /// Removes a mention (retracted); returns every mention whose person changed, the removed
    /// one with `after: None`.
    pub fn remove(&mut self, key: &MentionKey) -> Vec<Change> {
        let Some(m) = self.lookup(key) else {
            return Vec::new();
        };
        let mut seeds = Vec::new();
        let mut recompute = Vec::new();
        self.detach(m, &mut seeds, &mut recompute);
        let h = hash_of(key);
        if self.by_key.get(&h) == Some(&m) {
            self.by_key.remove(&h);
        } else {
            self.collided.remove(key);
        }
        let mention = self.mentions[m as usize].take().expect("live");
        self.free_mentions.push(m);
        self.live_mentions -= 1;
        if let Some(v) = self.persons.get_mut(&mention.person) {
            v.retain(|s| *s != m);
            if v.is_empty() {
                self.persons.remove(&mention.person);
            }
        }
        // Partners by decision that are present.
        for k in self.decided.get(key).into_iter().flatten() {
            if let Some(s) = self.lookup(k) {
                seeds.push(self.mention(s).node);
            }
        }
        // The removed one's old cluster-mates: the cluster may split or be renamed.
        seeds.extend(self.persons.get(&mention.person).into_iter().flatten().map(|&s| self.mention(s).node));
        self.recompute_edges(&recompute, &mut seeds);
        let mut changes = self.recluster(seeds, HashMap::new());
        changes.push(Change { key: mention.key, before: Some(mention.person), after: None });
        changes.sort_by(|a, b| a.key.cmp(&b.key));
        changes
    }

    /// Takes a mention out of its node; a node left empty is dropped with its links. The node,
    /// or its old neighbours, become seeds.
    fn detach(&mut self, m: u32, seeds: &mut Vec<u32>, recompute: &mut Vec<u32>) {
        let (n, decided) = {
            let x = self.mention(m);
            (x.node, x.decided)
        };
        let node = self.node_mut(n);
        if let Some(i) = node.members.iter().position(|s| *s == m) {
            node.members.swap_remove(i);
        }
        node.decided -= decided as u32;
        node.pending.retain(|s| *s != m);
        if !node.members.is_empty() {
            if !decided && node.smallest == Some(m) {
                self.refresh_smallest(n);
            }
            seeds.push(n);
            return;
        }
        seeds.extend(self.edges[n as usize].iter().map(|e| e.0));
        let node = self.nodes[n as usize].take().expect("live");
        self.unfile(n, &node.keys, recompute);
        for k in &node.search_keys {
            if let Some(b) = self.search_blocks.get_mut(k) {
                b.remove(n);
                if b.is_empty() {
                    self.search_blocks.remove(k);
                }
            }
        }
        if let Some(v) = self.by_content.get_mut(&node.content) {
            v.retain(|s| *s != n);
            if v.is_empty() {
                self.by_content.remove(&node.content);
            }
        }
        self.set_edges(n, Vec::new());
        self.free_nodes.push(n);
    }

    /// The node carrying this record, if any.
    fn find_node(&self, content: u64, record: &Record) -> Option<u32> {
        self.by_content.get(&content).and_then(|v| v.iter().copied().find(|&n| &self.node(n).record == record))
    }

    /// Replaces the record of a node with a single member by a record no other node carries,
    /// in place: the prepared form is revised (unchanged fields reused), only the blocking keys
    /// that changed are filed and unfiled, and the node is scanned again. Equal to taking the
    /// node out and making a new one (the result depends only on the final blocks and records).
    /// `prep`, when given, is the record's prepared form.
    fn revise(
        &mut self,
        n: u32,
        record: Record,
        content: u64,
        prep: Option<Prepared>,
        seeds: &mut Vec<u32>,
        recompute: &mut Vec<u32>,
    ) {
        let mut node = self.nodes[n as usize].take().expect("live node");
        // The old neighbours: their components may split.
        seeds.extend(self.edges[n as usize].iter().map(|e| e.0));
        if let Some(v) = self.by_content.get_mut(&node.content) {
            v.retain(|s| *s != n);
            if v.is_empty() {
                self.by_content.remove(&node.content);
            }
        }
        self.by_content.entry(content).or_default().push(n);
        let old_prep = std::mem::take(&mut node.prep);
        let prep = prep.unwrap_or_else(|| compare::revise(&self.model, old_prep, &node.record, &record));
        let keys = block::keys(&prep);
        let (gone, new) = diff(&node.keys, &keys);
        self.unfile(n, &gone, recompute);
        self.file(n, &new, recompute);
        let search_keys = block::search_keys(&prep);
        let (gone, new) = diff(&node.search_keys, &search_keys);
        for k in &gone {
            if let Some(b) = self.search_blocks.get_mut(k) {
                b.remove(n);
                if b.is_empty() {
                    self.search_blocks.remove(k);
                }
            }
        }
        for k in new {
            self.search_blocks.entry(k).or_default().push(n);
        }
        let self_levels = compare::levels(&self.model, &prep, &prep);
        let (self_weight, self_personal) = compare::weigh(&self.model, &self_levels);
        node.self_flags = compare::flags(&self_levels);
        node.self_link = compare::is_link(&self.model, self_weight, self_personal);
        node.self_weight = self_weight;
        node.self_personal = self_personal;
        node.record = record;
        node.content = content;
        node.prep = prep;
        node.keys = keys;
        node.search_keys = search_keys;
        node.stamp = self.stamp();
        // As a new node: its member is assigned afresh.
        node.settled = None;
        node.pending.clear();
        self.nodes[n as usize] = Some(node);
        // Its links are scanned with the batch's (see `recompute_edges`).
        recompute.push(n);
        seeds.push(n);
    }

    /// Puts a mention into the node of its record, made (filed and scanned) if new (`prep`, when
    /// given, is the record's prepared form).
    fn attach(
        &mut self,
        m: u32,
        record: Record,
        content: u64,
        prep: Option<Prepared>,
        seeds: &mut Vec<u32>,
        recompute: &mut Vec<u32>,
    ) {
        let existing = self.find_node(content, &record);
        let decided = self.mention(m).decided;
        let n = match existing {
            Some(n) => {
                let smaller = !decided && self.node(n).smallest.is_none_or(|s| self.key_of(m) < self.key_of(s));
                let node = self.node_mut(n);
                node.members.push(m);
                node.decided += decided as u32;
                if !decided && node.self_link {
                    node.pending.push(m);
                }
                if smaller {
                    node.smallest = Some(m);
                }
                n
            }
            None => {
                let prep = prep.unwrap_or_else(|| compare::prepare(&self.model, &record));
                let keys = block::keys(&prep);
                let search_keys = block::search_keys(&prep);
                let self_levels = compare::levels(&self.model, &prep, &prep);
                let (self_weight, self_personal) = compare::weigh(&self.model, &self_levels);
                let self_flags = compare::flags(&self_levels);
                let self_link = compare::is_link(&self.model, self_weight, self_personal);
                let stamp = self.stamp();
                let node = Node {
                    record,
                    content,
                    prep,
                    keys: keys.clone(),
                    search_keys: search_keys.clone(),
                    members: vec![m],
                    decided: decided as u32,
                    smallest: (!decided).then_some(m),
                    settled: None,
                    pending: Vec::new(),
                    self_weight,
                    self_personal,
                    self_flags,
                    self_link,
                    stamp,
                    print: 0,
                };
                let n = match self.free_nodes.pop() {
                    Some(n) => {
                        self.nodes[n as usize] = Some(node);
                        n
                    }
                    None => {
                        self.nodes.push(Some(node));
                        self.edges.push(Vec::new());
                        (self.nodes.len() - 1) as u32
                    }
                };
                self.by_content.entry(content).or_default().push(n);
                self.file(n, &keys, recompute);
                for k in search_keys {
                    self.search_blocks.entry(k).or_default().push(n);
                }
                // Its links are scanned with the batch's (see `recompute_edges`).
                recompute.push(n);
                n
            }
        };
        self.mention_mut(m).node = n;
        seeds.push(n);
    }

    /// Records an investigator's decision about two mentions (present or not yet); it wins over
    /// the score.
    pub fn decide(&mut self, a: &MentionKey, b: &MentionKey, decision: Decision) -> Vec<Change> {
        if a == b {
            return Vec::new();
        }
        let pair = if a < b { (a.clone(), b.clone()) } else { (b.clone(), a.clone()) };
        let changed = match decision {
            Decision::Withdrawn => self.decisions.remove(&pair).is_some(),
            d => self.decisions.insert(pair.clone(), d) != Some(d),
        };
        if !changed {
            return Vec::new();
        }
        let (p, q) = pair;
        if decision == Decision::Withdrawn {
            for (k, o) in [(&p, &q), (&q, &p)] {
                if let Some(v) = self.decided.get_mut(k) {
                    v.retain(|x| x != o);
                    if v.is_empty() {
                        self.decided.remove(k);
                    }
                }
            }
        } else {
            for (k, o) in [(&p, &q), (&q, &p)] {
                let v = self.decided.entry(k.clone()).or_default();
                if !v.contains(o) {
                    v.push(o.clone());
                }
            }
        }
        let present: Vec<u32> = [&p, &q].iter().filter_map(|k| self.lookup(k)).collect();
        if present.is_empty() {
            return Vec::new();
        }
        let mut seeds = Vec::new();
        for &m in &present {
            let now = self.decided.contains_key(self.key_of(m));
            let (was, n) = (self.mention(m).decided, self.mention(m).node);
            if now != was {
                self.mention_mut(m).decided = now;
                let node = self.node_mut(n);
                if now {
                    node.decided += 1;
                    node.pending.retain(|s| *s != m);
                } else {
                    node.decided -= 1;
                    if node.self_link {
                        node.pending.push(m);
                    }
                }
                self.refresh_smallest(n);
            }
            seeds.push(n);
            // The old clusters of both (a withdrawn Same may leave them apart).
            let person = self.mention(m).person;
            seeds.extend(self.persons.get(&person).into_iter().flatten().map(|&s| self.mention(s).node));
        }
        self.recluster(seeds, HashMap::new())
    }

    pub fn person_of(&self, key: &MentionKey) -> Option<PersonId> {
        self.lookup(key).map(|m| self.mention(m).person)
    }

    /// The mentions of a person, sorted.
    pub fn members(&self, person: PersonId) -> Vec<&MentionKey> {
        let mut v: Vec<&MentionKey> =
            self.persons.get(&person).into_iter().flatten().map(|&m| self.key_of(m)).collect();
        v.sort();
        v
    }

    pub fn record(&self, key: &MentionKey) -> Option<&Record> {
        self.lookup(key).map(|m| &self.node(self.mention(m).node).record)
    }

    /// The links between the mentions of a person (scored links, including those between
    /// mentions carrying identical records, and asserted `Same` decisions), each with its
    /// evidence, sorted by the two keys.
    pub fn links(&self, person: PersonId) -> Vec<Link> {
        let mut members: Vec<u32> = self.persons.get(&person).into_iter().flatten().copied().collect();
        members.sort_by(|a, b| self.key_of(*a).cmp(self.key_of(*b)));
        let mut out = Vec::new();
        let mut memo: HashMap<(u32, u32), Evidence> = HashMap::new();
        let mut evidence = |x: u32, y: u32| {
            let k = (x.min(y), x.max(y));
            memo.entry(k).or_insert_with(|| self.evidence(k.0, k.1)).clone()
        };
        for (i, &x) in members.iter().enumerate() {
            let (kx, nx) = (self.key_of(x), self.mention(x).node);
            for &y in &members[i + 1..] {
                let (ky, ny) = (self.key_of(y), self.mention(y).node);
                let asserted = self.decisions.get(&(kx.clone(), ky.clone())) == Some(&Decision::Same);
                let scored =
                    if nx == ny { self.node(nx).self_link } else { self.edges[nx as usize].iter().any(|e| e.0 == ny) };
                if asserted || scored {
                    out.push(Link { a: kx.clone(), b: ky.clone(), evidence: evidence(nx, ny), asserted });
                }
            }
        }
        out
    }

    fn evidence(&self, x: u32, y: u32) -> Evidence {
        compare::evidence(&self.model, &compare::levels(&self.model, &self.node(x).prep, &self.node(y).prep))
    }

    /// Fuzzy search: mentions ranked by weight against a partial record (only a name, only a
    /// date of birth, only an identifier...), best first, ties by key. Candidates come from the
    /// query's blocking keys (oversized blocks included) and its search keys (a given name, a
    /// surname or a full date of birth alone); a query with none of these (only a town, a partial
    /// date...) is compared with every distinct record.
    pub fn search(&self, query: &Record, limit: usize) -> Vec<(MentionKey, Evidence)> {
        let q = compare::prepare(&self.model, query);
        let mut cands: Vec<u32> = block::keys(&q)
            .iter()
            .filter_map(|k| self.blocks.get(k))
            .chain(block::search_keys(&q).iter().filter_map(|k| self.search_blocks.get(k)))
            .flat_map(Members::as_slice)
            .copied()
            .collect();
        cands.sort_unstable();
        cands.dedup();
        if cands.is_empty() {
            cands = (0..self.nodes.len() as u32).filter(|&n| self.nodes[n as usize].is_some()).collect();
        }
        let mut scored: Vec<(f64, u32)> = Vec::new();
        for n in cands {
            let node = self.node(n);
            let w = compare::weigh(&self.model, &compare::levels(&self.model, &q, &node.prep)).0;
            scored.extend(node.members.iter().map(|&m| (w, m)));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| self.key_of(a.1).cmp(self.key_of(b.1))));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, m)| {
                let ev = compare::evidence(
                    &self.model,
                    &compare::levels(&self.model, &q, &self.node(self.mention(m).node).prep),
                );
                (self.key_of(m).clone(), ev)
            })
            .collect()
    }

    /// How many persons (clusters) there are.
    pub fn persons(&self) -> usize {
        self.persons.len()
    }

    /// How many mentions there are.
    pub fn mentions(&self) -> usize {
        self.live_mentions
    }

    /// How many distinct records there are (mentions carrying identical records count once).
    pub fn distinct_records(&self) -> usize {
        self.nodes.len() - self.free_nodes.len()
    }

    /// Files a node under its keys; members of a block that grows past the cap need their links
    /// recomputed (the block stops counting).
    fn file(&mut self, x: u32, keys: &[u64], recompute: &mut Vec<u32>) {
        for k in keys {
            let b = self.blocks.entry(*k).or_default();
            b.push(x);
            if b.len() == BLOCK_CAP + 1 {
                recompute.extend(b.as_slice().iter().copied().filter(|s| *s != x));
            }
        }
    }

    /// Takes a node out of its blocks; members of a block that shrinks back to the cap need their
    /// links recomputed (the block counts again).
    fn unfile(&mut self, x: u32, keys: &[u64], recompute: &mut Vec<u32>) {
        for k in keys {
            if let Some(b) = self.blocks.get_mut(k) {
                b.remove(x);
                if b.len() == BLOCK_CAP {
                    recompute.extend(b.as_slice().iter().copied());
                }
                if b.is_empty() {
                    self.blocks.remove(k);
                }
            }
        }
    }

    /// Recomputes the links of nodes whose candidates changed (new and revised nodes, members
    /// of blocks that crossed the cap), all scanned against the blocks as they now stand; their
    /// old and new neighbours join the seeds.
    fn recompute_edges(&mut self, recompute: &[u32], seeds: &mut Vec<u32>) {
        let mut r = recompute.to_vec();
        r.sort_unstable();
        r.dedup();
        r.retain(|&s| self.nodes[s as usize].is_some());
        let scanned = self.scan_many(&r, false);
        for (s, e) in r.into_iter().zip(scanned) {
            seeds.push(s);
            seeds.extend(self.edges[s as usize].iter().map(|e| e.0));
            seeds.extend(e.iter().map(|e| e.0));
            self.set_edges(s, e);
        }
    }

    /// The links of each of `xs` (`above`: to nodes numbered above it only), scored against
    /// the blocks as they stand, on several threads when there are many: scanning reads the
    /// resolver alone, so the result is that of scanning them one by one.
    fn scan_many(&mut self, xs: &[u32], above: bool) -> Vec<Vec<Edge>> {
        let threads = if xs.len() < SCAN_APART { 1 } else { scan_threads() };
        let mut marks = std::mem::take(&mut self.marks);
        marks.resize_with(threads.max(marks.len()), Marks::default);
        let this = &*self;
        // Thread t scans xs[t], xs[t + threads], ...: the work of a scan above a node falls as
        // its number grows, so interleaving balances the threads.
        let scan = move |t: usize, m: &mut Marks| -> Vec<Vec<Edge>> {
            xs.iter().skip(t).step_by(threads).map(|&x| this.scan_with(x, if above { x + 1 } else { 0 }, m)).collect()
        };
        let mut per: Vec<std::vec::IntoIter<Vec<Edge>>> =
            on_threads(&mut marks[..threads], scan).into_iter().map(Vec::into_iter).collect();
        let out = (0..xs.len()).map(|i| per[i % threads].next().expect("one result per node")).collect();
        self.marks = marks;
        out
    }

    /// The links of a node to nodes numbered `from` or above: candidates from its blocks within
    /// the cap, scored (`marks` is the calling thread's scratch space).
    fn scan_with(&self, x: u32, from: u32, marks: &mut Marks) -> Vec<Edge> {
        let epoch = marks.next(self.nodes.len());
        let mark = &mut marks.mark;
        mark[x as usize] = epoch;
        let node = self.nodes[x as usize].as_ref().expect("live node");
        let mut out = Vec::new();
        for k in &node.keys {
            let Some(b) = self.blocks.get(k) else { continue };
            if b.len() > BLOCK_CAP {
                continue;
            }
            for &y in b.as_slice() {
                if y < from || mark[y as usize] == epoch {
                    continue;
                }
                mark[y as usize] = epoch;
                let other = self.nodes[y as usize].as_ref().expect("live node");
                let Some(lv) = compare::levels_if_link(&self.model, &node.prep, &other.prep) else { continue };
                let (total, personal) = compare::weigh(&self.model, &lv);
                if compare::is_link(&self.model, total, personal) {
                    out.push((y, total, personal, compare::flags(&lv)));
                }
            }
        }
        out
    }

    /// Replaces a node's links (both directions).
    fn set_edges(&mut self, x: u32, new: Vec<Edge>) {
        let old = std::mem::take(&mut self.edges[x as usize]);
        for (y, _, _, _) in old {
            self.edges[y as usize].retain(|e| e.0 != x);
        }
        for &(y, w, p, f) in &new {
            self.edges[y as usize].push((x, w, p, f));
        }
        self.edges[x as usize] = new;
    }

    /// Neighbours of a node in the component graph: links and `Same` decisions of its members.
    fn neighbours(&self, x: u32, out: &mut Vec<u32>) {
        out.extend(self.edges[x as usize].iter().map(|e| e.0));
        self.same_partners(x, out);
    }

    /// The nodes of the mentions a `Same` decision joins to a member of a node.
    fn same_partners(&self, x: u32, out: &mut Vec<u32>) {
        let node = self.node(x);
        if node.decided == 0 {
            return;
        }
        for &m in &node.members {
            let k = self.key_of(m);
            for o in self.decided.get(k).into_iter().flatten() {
                let pair = if k < o { (k.clone(), o.clone()) } else { (o.clone(), k.clone()) };
                if self.decisions.get(&pair) == Some(&Decision::Same) {
                    if let Some(s) = self.lookup(o) {
                        out.push(self.mention(s).node);
                    }
                }
            }
        }
    }

    /// The connected component of node `s` (already in `visited`): the nodes reached through
    /// [`Resolver::neighbours`] not yet in `visited`, all added to it; `nb` is scratch space.
    fn component(&self, s: u32, visited: &mut Marks, nb: &mut Vec<u32>) -> Vec<u32> {
        let mut comp = vec![s];
        let mut i = 0;
        while i < comp.len() {
            nb.clear();
            self.neighbours(comp[i], nb);
            comp.extend(nb.iter().copied().filter(|&y| visited.insert(y)));
            i += 1;
        }
        comp
    }

    /// Re-clusters the components of the seed nodes and reports every mention whose person
    /// changed.
    fn recluster(&mut self, seeds: Vec<u32>, mut before: HashMap<u32, Option<PersonId>>) -> Vec<Change> {
        // Nodes already in a component (marks rather than a set: a large component is walked
        // for every batch that touches it).
        let mut visited = self.marks.pop().unwrap_or_default();
        visited.next(self.nodes.len());
        let mut local = std::mem::take(&mut self.local);
        let mut nb = Vec::new();
        // What to cluster (components, or the parts of a large one that changed, with the
        // fingerprint they are clustered under), then clustered on several threads.
        let mut jobs: Vec<(Vec<u32>, u64)> = Vec::new();
        // The seeds as a set, made only when a component is clustered in parts.
        let mut seeded: Option<HashSet<u32>> = None;
        for &s in &seeds {
            if self.nodes[s as usize].is_none() || !visited.insert(s) {
                continue;
            }
            let comp = self.component(s, &mut visited, &mut nb);
            if comp.len() <= self.component_cap {
                jobs.push((comp, 0));
                continue;
            }
            let seeded = seeded.get_or_insert_with(|| seeds.iter().copied().collect());
            for part in self.parts(&comp, &mut local) {
                let print = self.fingerprint(&part);
                let unchanged =
                    !part.iter().any(|n| seeded.contains(n)) && part.iter().all(|&n| self.node(n).print == print);
                if !unchanged {
                    jobs.push((part, print));
                }
            }
        }
        self.marks.push(visited);
        self.local = local;
        let assignments = self.cluster_many(&jobs);
        for (nodes, print) in &jobs {
            for &n in nodes {
                self.node_mut(n).print = *print;
            }
        }
        let mut changes = Vec::new();
        for a in assignments {
            match a {
                Assign::One(m, p) => self.assign(m, p, &mut before, &mut changes),
                Assign::Together(n, p) => {
                    let node = self.node_mut(n);
                    let ms = if node.settled == Some(p) {
                        std::mem::take(&mut node.pending)
                    } else {
                        node.pending.clear();
                        node.members.clone()
                    };
                    node.settled = Some(p);
                    for m in ms {
                        if !self.mention(m).decided {
                            self.assign(m, p, &mut before, &mut changes);
                        }
                    }
                }
            }
        }
        changes.sort_by(|a, b| a.key.cmp(&b.key));
        changes
    }

    /// The parts of a component larger than [`COMPONENT_CAP`]: the components of its asserted
    /// links and of its scored links weighing more than the heaviest weight at which (all links
    /// of that weight and above taken) a part would hold more than the cap.
    /// `local` is scratch space (a component's local numbers, indexed by node; `u32::MAX` for
    /// none, as it is left).
    fn parts(&self, comp: &[u32], local: &mut Vec<u32>) -> Vec<Vec<u32>> {
        if local.len() < self.nodes.len() {
            local.resize(self.nodes.len(), u32::MAX);
        }
        for (i, &n) in comp.iter().enumerate() {
            local[n as usize] = i as u32;
        }
        let of = |o: &u32| Some(local[*o as usize]).filter(|&j| j != u32::MAX).map(|j| j as usize);
        let mut asserted: Vec<(usize, usize)> = Vec::new();
        let mut scored: Vec<(f64, usize, usize)> = Vec::new();
        let mut nb = Vec::new();
        for (i, &n) in comp.iter().enumerate() {
            for &(o, w, _, _) in &self.edges[n as usize] {
                if n < o {
                    scored.push((w, i, of(&o).expect("a neighbour is in the component")));
                }
            }
            nb.clear();
            self.same_partners(n, &mut nb);
            asserted.extend(nb.iter().filter_map(of).map(|j| (i, j)));
        }
        for &n in comp {
            local[n as usize] = u32::MAX;
        }
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let uf = |cutoff: Option<f64>| -> (Vec<usize>, Option<f64>) {
            let mut parent: Vec<usize> = (0..comp.len()).collect();
            let mut size = vec![1usize; comp.len()];
            let mut union = |parent: &mut Vec<usize>, a: usize, b: usize| -> usize {
                let (ra, rb) = (find(parent, a), find(parent, b));
                if ra == rb {
                    return size[ra];
                }
                let (big, small) = if size[ra] >= size[rb] { (ra, rb) } else { (rb, ra) };
                parent[small] = big;
                size[big] += size[small];
                size[big]
            };
            for &(a, b) in &asserted {
                union(&mut parent, a, b);
            }
            let mut largest = 0;
            let mut found = None;
            let mut i = 0;
            while i < scored.len() {
                let w = scored[i].0;
                if cutoff.is_some_and(|c| w <= c) {
                    break;
                }
                // A whole group of equal weight at once: the parts do not depend on the order
                // of links of one weight.
                while i < scored.len() && scored[i].0 == w {
                    largest = largest.max(union(&mut parent, scored[i].1, scored[i].2));
                    i += 1;
                }
                if cutoff.is_none() && largest > self.component_cap {
                    found = Some(w);
                    break;
                }
            }
            for j in 0..parent.len() {
                parent[j] = find(&mut parent, j);
            }
            (parent, found)
        };
        let (roots, cutoff) = uf(None);
        let roots = match cutoff {
            Some(c) => uf(Some(c)).0,
            None => roots,
        };
        let mut parts: HashMap<usize, Vec<u32>> = HashMap::new();
        for (i, &n) in comp.iter().enumerate() {
            parts.entry(roots[i]).or_default().push(n);
        }
        parts.into_values().collect()
    }

    /// A fingerprint of a set of nodes and the records they hold (their stamps), whatever their
    /// order; never 0.
    fn fingerprint(&self, nodes: &[u32]) -> u64 {
        let mix = |mut z: u64| {
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let sum = nodes.iter().fold(0u64, |acc, &n| {
            acc.wrapping_add(mix(self.node(n).stamp.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ n as u64))
        });
        mix(sum ^ nodes.len() as u64) | 1
    }

    /// Recomputes a node's smallest-keyed member taking part in no decision.
    fn refresh_smallest(&mut self, n: u32) {
        let mut best: Option<u32> = None;
        for &m in &self.node(n).members {
            if !self.mention(m).decided && best.is_none_or(|b| self.key_of(m) < self.key_of(b)) {
                best = Some(m);
            }
        }
        self.node_mut(n).smallest = best;
    }

    /// Gives a mention its person; records the change.
    fn assign(&mut self, m: u32, p: PersonId, before: &mut HashMap<u32, Option<PersonId>>, changes: &mut Vec<Change>) {
        let old = self.mention(m).person;
        let was = if before.is_empty() { Some(old) } else { before.remove(&m).unwrap_or(Some(old)) };
        if old != p {
            if let Some(v) = self.persons.get_mut(&old) {
                if let Some(i) = v.iter().position(|x| *x == m) {
                    v.swap_remove(i);
                }
                if v.is_empty() {
                    self.persons.remove(&old);
                }
            }
            self.persons.entry(p).or_default().push(m);
            self.mention_mut(m).person = p;
        }
        if was != Some(p) {
            changes.push(Change { key: self.key_of(m).clone(), before: was, after: Some(p) });
        }
    }

    /// Clusters each job's nodes (see [`Resolver::cluster`]), on several threads when there is
    /// much to cluster: a job goes to the thread its smallest node number picks, so that a
    /// component clustered again finds its pairs in the same thread's memo. Each job's
    /// assignments depend on the job alone.
    fn cluster_many(&mut self, jobs: &[(Vec<u32>, u64)]) -> Vec<Assign> {
        let size: usize = jobs.iter().map(|j| j.0.len()).sum();
        let threads = if jobs.len() < 2 || size < CLUSTER_APART { 1 } else { scan_threads() };
        let mut memos = std::mem::take(&mut self.pair_memo);
        memos.resize_with(threads.max(memos.len()), FxMap::default);
        let cap = PAIR_MEMO_CAP / memos.len();
        for m in &mut memos {
            if m.len() > cap {
                m.clear();
            }
        }
        let homes: Vec<usize> =
            jobs.iter().map(|(nodes, _)| nodes.iter().min().map_or(0, |&n| n as usize % threads)).collect();
        let this = &*self;
        let cluster = move |t: usize, memo: &mut FxMap<u64, PairMemo>| -> Vec<Assign> {
            let mut out = Vec::new();
            for ((nodes, _), &home) in jobs.iter().zip(&homes) {
                if home == t {
                    this.cluster(nodes, &mut out, memo);
                }
            }
            out
        };
        let out = on_threads(&mut memos[..threads], cluster).concat();
        self.pair_memo = memos;
        out
    }

    /// Clusters one connected component of nodes. Its *elements* are: for a node whose record
    /// links to itself, its mentions taking no part in a decision together (identical records of
    /// one person are one person); every other mention alone. Then Kruskal-like: asserted links,
    /// then scored links by weight, each joining two clusters unless a `Different` decision or
    /// (for a scored link between clusters no `Same` decision vouches for) a failed relative test
    /// lies across.
    fn cluster(&self, comp: &[u32], out: &mut Vec<Assign>, memo: &mut FxMap<u64, PairMemo>) {
        if comp.len() == 1 {
            let node = self.node(comp[0]);
            if node.members.len() == 1 && node.decided == 1 {
                let m = node.members[0];
                out.push(Assign::One(m, self.key_of(m).person_id()));
                return;
            }
            if node.self_link && node.decided == 0 {
                let s = node.smallest.expect("a member");
                out.push(Assign::Together(comp[0], self.key_of(s).person_id()));
                return;
            }
        }
        let mut elements: Vec<Element> = Vec::new();
        for &n in comp {
            let node = self.node(n);
            if node.self_link {
                if let Some(s) = node.smallest {
                    let count = node.members.len() - node.decided as usize;
                    elements.push(Element { node: n, one: None, smallest: s, count });
                }
                for &m in node.members.iter().filter(|&&m| self.mention(m).decided) {
                    elements.push(Element { node: n, one: Some(m), smallest: m, count: 1 });
                }
            } else {
                for &m in &node.members {
                    elements.push(Element { node: n, one: Some(m), smallest: m, count: 1 });
                }
            }
        }
        // Local indices in key order, so that everything below is independent of slot numbers.
        elements.sort_by(|a, b| self.key_of(a.smallest).cmp(self.key_of(b.smallest)));
        let mut of_node: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut of_decided: HashMap<u32, usize> = HashMap::new();
        for (i, e) in elements.iter().enumerate() {
            of_node.entry(e.node).or_default().push(i);
            if let Some(m) = e.one.filter(|&m| self.mention(m).decided) {
                of_decided.insert(m, i);
            }
        }
        // (asserted, weight, a, b) with a < b local.
        let mut links: Vec<(bool, f64, usize, usize)> = Vec::new();
        let mut different: Vec<(usize, usize)> = Vec::new();
        for &n in comp {
            let els = &of_node[&n];
            if self.node(n).self_link {
                let w = self.node(n).self_weight;
                for (x, &i) in els.iter().enumerate() {
                    for &j in &els[x + 1..] {
                        links.push((false, w, i.min(j), i.max(j)));
                    }
                }
            }
            for &(o, w, _, _) in &self.edges[n as usize] {
                if n >= o {
                    continue;
                }
                let Some(others) = of_node.get(&o) else { continue };
                for &i in els {
                    for &j in others {
                        links.push((false, w, i.min(j), i.max(j)));
                    }
                }
            }
        }
        for (&m, &i) in &of_decided {
            let k = self.key_of(m);
            for o in self.decided.get(k).into_iter().flatten() {
                let Some(j) = self.lookup(o).and_then(|s| of_decided.get(&s)).copied() else { continue };
                if i >= j {
                    continue;
                }
                let pair = if k < o { (k.clone(), o.clone()) } else { (o.clone(), k.clone()) };
                match self.decisions.get(&pair) {
                    Some(Decision::Same) => links.push((true, f64::INFINITY, i, j)),
                    Some(Decision::Different) => different.push((i, j)),
                    _ => {}
                }
            }
        }
        links.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then((a.2, a.3).cmp(&(b.2, b.3))));
        let n = elements.len();
        let mut parent: Vec<usize> = (0..n).collect();
        let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut vouched = vec![false; n];
        for (asserted, _, a, b) in links {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra == rb {
                continue;
            }
            let blocked = different.iter().any(|&(p, q)| {
                let (rp, rq) = (find(&mut parent, p), find(&mut parent, q));
                (rp == ra && rq == rb) || (rp == rb && rq == ra)
            });
            if blocked {
                continue;
            }
            // An investigator's `Same` vouches for its cluster's mixed records: no relative
            // test against it.
            if !asserted && !vouched[ra] && !vouched[rb] && self.conflict(&elements, &members[ra], &members[rb], memo) {
                continue;
            }
            // The smaller local index (smaller key) becomes the root.
            let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[child] = root;
            let moved = std::mem::take(&mut members[child]);
            members[root].extend(moved);
            vouched[root] = vouched[root] || vouched[child] || asserted;
        }
        let mut ids: Vec<Option<PersonId>> = vec![None; n];
        for i in 0..n {
            let r = find(&mut parent, i);
            // The root is the smallest local index of its cluster, i.e. holds its smallest key.
            let p = *ids[r].get_or_insert_with(|| self.key_of(elements[r].smallest).person_id());
            out.push(match elements[i].one {
                Some(m) => Assign::One(m, p),
                None => Assign::Together(elements[i].node, p),
            });
        }
    }

    /// The personal weight between two nodes' records, and the pair's flags: a link's, or
    /// memoised across clusterings (see [`Resolver::pair_memo`]).
    fn personal(&self, x: u32, y: u32, memo: &mut FxMap<u64, PairMemo>) -> (f64, u8) {
        if x == y {
            let node = self.node(x);
            return (node.self_personal, node.self_flags);
        }
        let (lo, hi) = (x.min(y), x.max(y));
        let stamps = (self.node(lo).stamp, self.node(hi).stamp);
        let key = (lo as u64) << 32 | hi as u64;
        if let Some(m) = memo.get(&key).filter(|m| m.stamps == stamps) {
            return (m.personal, m.flags);
        }
        let (personal, flags) = match self.edges[lo as usize].iter().find(|e| e.0 == hi) {
            Some(e) => (e.2, e.3),
            None => {
                let lv = compare::levels(&self.model, &self.node(lo).prep, &self.node(hi).prep);
                (compare::weigh(&self.model, &lv).1, compare::flags(&lv))
            }
        };
        memo.insert(key, PairMemo { stamps, personal, flags });
        (personal, flags)
    }

    /// Whether two clusters are in conflict: at least half of the pairs of mentions across them
    /// whose personal fields can be compared fail the relative test (their given names or dates
    /// of birth say "relatives", or "namesakes", rather than "one person"). A majority rather than
    /// any one pair, so that a person recorded many times, with the odd typo in a date, still
    /// comes together, while a mention lacking a date of birth cannot chain a father and his son.
    /// A pair across that shares a decisive personal identifier (PNC id, passport, national id),
    /// or agrees exactly on given name and full date of birth, and passes the relative test
    /// itself settles it: no conflict. A tie is a conflict only when a pair against has full
    /// dates of birth that disagree (a record without a date cannot tie a father to his son).
    fn conflict(&self, elements: &[Element], a: &[usize], b: &[usize], memo: &mut FxMap<u64, PairMemo>) -> bool {
        if a.len() * b.len() > CONFLICT_CHECK_LIMIT {
            return false;
        }
        let (mut comparable, mut against) = (0usize, 0usize);
        let mut clash = false;
        for &i in a {
            let x = &elements[i];
            for &j in b {
                let y = &elements[j];
                let (personal, flags) = self.personal(x.node, y.node, memo);
                if flags & (compare::STRONG_ID | compare::NAME_DOB) != 0 && personal >= 0.0 {
                    return false;
                }
                if flags & compare::DOB_CLASH != 0 && personal < 0.0 {
                    clash = true;
                }
                if personal != 0.0 {
                    let pairs = x.count * y.count;
                    comparable += pairs;
                    against += (personal < 0.0) as usize * pairs;
                }
            }
        }
        against * 2 > comparable || (against * 2 == comparable && clash)
    }
}
