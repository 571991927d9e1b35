//! The incremental resolver: a blocking index, the link graph, decisions, and the persons.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::block::{self, BLOCK_CAP};
use super::compare::{self, Prepared};
use super::{Change, Decision, Evidence, Link, MentionKey, Model, Record};
use crate::ids::PersonId;

/// Largest product of two clusters' sizes for which a union checks every pair across them with
/// the relative test (beyond it the union is made on the link alone; still deterministic).
const CONFLICT_CHECK_LIMIT: usize = 4096;

#[derive(Debug)]
struct Slot {
    key: MentionKey,
    record: Record,
    prep: Prepared,
    keys: Vec<u64>,
    person: PersonId,
}

/// Resolves mentions into persons, incrementally and in memory. See the [module](super) for the
/// rules; every method is deterministic and the result depends only on the set of records and
/// decisions, not on their order.
#[derive(Debug)]
pub struct Resolver {
    model: Model,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    by_key: HashMap<MentionKey, u32>,
    blocks: HashMap<u64, Vec<u32>>,
    /// Scored links, both directions: (other slot, weight).
    edges: Vec<Vec<(u32, f64)>>,
    /// Same or Different, keyed by the ordered pair.
    decisions: BTreeMap<(MentionKey, MentionKey), Decision>,
    /// The other keys of every decision a key takes part in.
    decided: HashMap<MentionKey, Vec<MentionKey>>,
    persons: HashMap<PersonId, Vec<u32>>,
    mark: Vec<u32>,
    epoch: u32,
}

impl Resolver {
    pub fn new(model: Model) -> Resolver {
        Resolver {
            model,
            slots: Vec::new(),
            free: Vec::new(),
            by_key: HashMap::new(),
            blocks: HashMap::new(),
            edges: Vec::new(),
            decisions: BTreeMap::new(),
            decided: HashMap::new(),
            persons: HashMap::new(),
            mark: Vec::new(),
            epoch: 0,
        }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    fn slot(&self, s: u32) -> &Slot {
        self.slots[s as usize].as_ref().expect("live slot")
    }

    /// Adds a mention, or replaces its record (a correction); resolves it against the candidates
    /// of its blocking keys and returns every mention whose person changed.
    pub fn upsert(&mut self, key: MentionKey, record: Record) -> Vec<Change> {
        let prep = compare::prepare(&self.model, &record);
        let keys = block::keys(&prep);
        let mut seeds: Vec<u32> = Vec::new();
        let mut recompute: Vec<u32> = Vec::new();
        let mut before: HashMap<u32, Option<PersonId>> = HashMap::new();
        let x = match self.by_key.get(&key) {
            Some(&x) => {
                if self.slot(x).record == record {
                    return Vec::new();
                }
                seeds.extend(self.edges[x as usize].iter().map(|e| e.0));
                let old_keys = std::mem::take(&mut self.slots[x as usize].as_mut().expect("live").keys);
                self.unfile(x, &old_keys, &mut recompute);
                self.set_edges(x, Vec::new());
                let slot = self.slots[x as usize].as_mut().expect("live");
                slot.record = record;
                slot.prep = prep;
                slot.keys = keys.clone();
                x
            }
            None => {
                let person = key.person_id();
                let slot = Slot { key: key.clone(), record, prep, keys: keys.clone(), person };
                let x = match self.free.pop() {
                    Some(x) => {
                        self.slots[x as usize] = Some(slot);
                        x
                    }
                    None => {
                        self.slots.push(Some(slot));
                        self.edges.push(Vec::new());
                        self.mark.push(0);
                        (self.slots.len() - 1) as u32
                    }
                };
                self.by_key.insert(key, x);
                self.persons.entry(person).or_default().push(x);
                before.insert(x, None);
                x
            }
        };
        self.file(x, &keys, &mut recompute);
        seeds.push(x);
        let e = self.scan(x);
        self.set_edges(x, e);
        self.recompute_edges(&recompute, &mut seeds);
        self.recluster(seeds, before)
    }

    /// Removes a mention (retracted); returns every mention whose person changed, the removed
    /// one with `after: None`.
    pub fn remove(&mut self, key: &MentionKey) -> Vec<Change> {
        let Some(x) = self.by_key.remove(key) else {
            return Vec::new();
        };
        let mut seeds: Vec<u32> = self.edges[x as usize].iter().map(|e| e.0).collect();
        let mut recompute = Vec::new();
        let old_keys = std::mem::take(&mut self.slots[x as usize].as_mut().expect("live").keys);
        self.unfile(x, &old_keys, &mut recompute);
        self.set_edges(x, Vec::new());
        let slot = self.slots[x as usize].take().expect("live");
        self.free.push(x);
        if let Some(m) = self.persons.get_mut(&slot.person) {
            m.retain(|s| *s != x);
            if m.is_empty() {
                self.persons.remove(&slot.person);
            }
        }
        // Partners by decision that are present.
        for k in self.decided.get(key).into_iter().flatten() {
            if let Some(&s) = self.by_key.get(k) {
                seeds.push(s);
            }
        }
        // The removed one's old cluster-mates: the cluster may split or be renamed.
        seeds.extend(self.persons.get(&slot.person).into_iter().flatten().copied());
        self.recompute_edges(&recompute, &mut seeds);
        let mut changes = self.recluster(seeds, HashMap::new());
        changes.push(Change { key: slot.key, before: Some(slot.person), after: None });
        changes.sort_by(|a, b| a.key.cmp(&b.key));
        changes
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
        let seeds: Vec<u32> = [&p, &q].iter().filter_map(|k| self.by_key.get(*k).copied()).collect();
        if seeds.is_empty() {
            return Vec::new();
        }
        // The old clusters of both (a withdrawn Same may leave them apart).
        let mut all = seeds.clone();
        for s in seeds {
            all.extend(self.persons.get(&self.slot(s).person).into_iter().flatten().copied());
        }
        self.recluster(all, HashMap::new())
    }

    pub fn person_of(&self, key: &MentionKey) -> Option<PersonId> {
        self.by_key.get(key).map(|&s| self.slot(s).person)
    }

    /// The mentions of a person, sorted.
    pub fn members(&self, person: PersonId) -> Vec<&MentionKey> {
        let mut v: Vec<&MentionKey> =
            self.persons.get(&person).into_iter().flatten().map(|&s| &self.slot(s).key).collect();
        v.sort();
        v
    }

    pub fn record(&self, key: &MentionKey) -> Option<&Record> {
        self.by_key.get(key).map(|&s| &self.slot(s).record)
    }

    /// The links between the mentions of a person (scored links and asserted `Same` decisions),
    /// each with its evidence, sorted by the two keys.
    pub fn links(&self, person: PersonId) -> Vec<Link> {
        let members: HashSet<u32> = self.persons.get(&person).into_iter().flatten().copied().collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for &x in &members {
            let kx = &self.slot(x).key;
            for (k, d) in self.decided.get(kx).into_iter().flatten().filter_map(|o| {
                let pair = if kx < o { (kx.clone(), o.clone()) } else { (o.clone(), kx.clone()) };
                self.decisions.get(&pair).map(|d| (pair, *d))
            }) {
                if d == Decision::Same
                    && self.by_key.get(&k.0).is_some_and(|s| members.contains(s))
                    && self.by_key.get(&k.1).is_some_and(|s| members.contains(s))
                    && seen.insert(k.clone())
                {
                    let ev = self.evidence(self.by_key[&k.0], self.by_key[&k.1]);
                    out.push(Link { a: k.0, b: k.1, evidence: ev, asserted: true });
                }
            }
            for &(y, _) in &self.edges[x as usize] {
                if !members.contains(&y) {
                    continue;
                }
                let ky = &self.slot(y).key;
                let pair = if kx < ky { (kx.clone(), ky.clone()) } else { (ky.clone(), kx.clone()) };
                if seen.insert(pair.clone()) {
                    let ev = self.evidence(x, y);
                    out.push(Link { a: pair.0, b: pair.1, evidence: ev, asserted: false });
                }
            }
        }
        out.sort_by(|a, b| (&a.a, &a.b).cmp(&(&b.a, &b.b)));
        out
    }

    fn evidence(&self, x: u32, y: u32) -> Evidence {
        compare::evidence(&self.model, &compare::levels(&self.model, &self.slot(x).prep, &self.slot(y).prep))
    }

    /// Fuzzy search: mentions ranked by weight against a partial record (only a name, only a
    /// date of birth, only an identifier...), best first, ties by key. Candidates come from the
    /// query's blocking keys (oversized blocks included); a query with no key, or none that
    /// finds anything, is compared with every mention.
    pub fn search(&self, query: &Record, limit: usize) -> Vec<(MentionKey, Evidence)> {
        let q = compare::prepare(&self.model, query);
        let mut cands: Vec<u32> =
            block::keys(&q).iter().filter_map(|k| self.blocks.get(k)).flatten().copied().collect();
        cands.sort_unstable();
        cands.dedup();
        if cands.is_empty() {
            cands = self.by_key.values().copied().collect();
        }
        let mut scored: Vec<(f64, u32)> = cands
            .into_iter()
            .map(|s| (compare::weigh(&self.model, &compare::levels(&self.model, &q, &self.slot(s).prep)).0, s))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| self.slot(a.1).key.cmp(&self.slot(b.1).key)));
        scored
            .into_iter()
            .take(limit)
            .map(|(_, s)| {
                let ev = compare::evidence(&self.model, &compare::levels(&self.model, &q, &self.slot(s).prep));
                (self.slot(s).key.clone(), ev)
            })
            .collect()
    }

    /// How many persons (clusters) there are.
    pub fn persons(&self) -> usize {
        self.persons.len()
    }

    /// How many mentions there are.
    pub fn mentions(&self) -> usize {
        self.by_key.len()
    }

    /// Files a slot under its keys; members of a block that grows past the cap need their links
    /// recomputed (the block stops counting).
    fn file(&mut self, x: u32, keys: &[u64], recompute: &mut Vec<u32>) {
        for k in keys {
            let b = self.blocks.entry(*k).or_default();
            b.push(x);
            if b.len() == BLOCK_CAP + 1 {
                recompute.extend(b.iter().copied().filter(|s| *s != x));
            }
        }
    }

    /// Takes a slot out of its blocks; members of a block that shrinks back to the cap need their
    /// links recomputed (the block counts again).
    fn unfile(&mut self, x: u32, keys: &[u64], recompute: &mut Vec<u32>) {
        for k in keys {
            if let Some(b) = self.blocks.get_mut(k) {
                if let Some(i) = b.iter().position(|s| *s == x) {
                    b.swap_remove(i);
                }
                if b.len() == BLOCK_CAP {
                    recompute.extend(b.iter().copied());
                }
                if b.is_empty() {
                    self.blocks.remove(k);
                }
            }
        }
    }

    /// Recomputes the links of slots whose candidates changed; their old and new neighbours join
    /// the seeds.
    fn recompute_edges(&mut self, recompute: &[u32], seeds: &mut Vec<u32>) {
        let mut r = recompute.to_vec();
        r.sort_unstable();
        r.dedup();
        for s in r {
            if self.slots[s as usize].is_none() {
                continue;
            }
            seeds.push(s);
            seeds.extend(self.edges[s as usize].iter().map(|e| e.0));
            let e = self.scan(s);
            seeds.extend(e.iter().map(|e| e.0));
            self.set_edges(s, e);
        }
    }

    /// The links of a slot: candidates from its blocks within the cap, scored.
    fn scan(&mut self, x: u32) -> Vec<(u32, f64)> {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.mark.iter_mut().for_each(|m| *m = 0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        self.mark[x as usize] = epoch;
        let slot = self.slots[x as usize].as_ref().expect("live");
        let mut out = Vec::new();
        for k in &slot.keys {
            let Some(b) = self.blocks.get(k) else { continue };
            if b.len() > BLOCK_CAP {
                continue;
            }
            for &y in b {
                if self.mark[y as usize] == epoch {
                    continue;
                }
                self.mark[y as usize] = epoch;
                let other = self.slots[y as usize].as_ref().expect("live");
                let lv = compare::levels(&self.model, &slot.prep, &other.prep);
                let (total, personal) = compare::weigh(&self.model, &lv);
                if compare::is_link(&self.model, total, personal) {
                    out.push((y, total));
                }
            }
        }
        out
    }

    /// Replaces a slot's links (both directions).
    fn set_edges(&mut self, x: u32, new: Vec<(u32, f64)>) {
        let old = std::mem::take(&mut self.edges[x as usize]);
        for (y, _) in old {
            self.edges[y as usize].retain(|e| e.0 != x);
        }
        for &(y, w) in &new {
            self.edges[y as usize].push((x, w));
        }
        self.edges[x as usize] = new;
    }

    /// Neighbours of a slot in the component graph: links and `Same` decisions.
    fn neighbours(&self, x: u32, out: &mut Vec<u32>) {
        out.extend(self.edges[x as usize].iter().map(|e| e.0));
        let k = &self.slot(x).key;
        for o in self.decided.get(k).into_iter().flatten() {
            let pair = if k < o { (k.clone(), o.clone()) } else { (o.clone(), k.clone()) };
            if self.decisions.get(&pair) == Some(&Decision::Same) {
                if let Some(&s) = self.by_key.get(o) {
                    out.push(s);
                }
            }
        }
    }

    /// Re-clusters the components of the seeds and reports every mention whose person changed.
    fn recluster(&mut self, seeds: Vec<u32>, mut before: HashMap<u32, Option<PersonId>>) -> Vec<Change> {
        let mut visited: HashSet<u32> = HashSet::new();
        let mut assignments: Vec<(u32, PersonId)> = Vec::new();
        let mut nb = Vec::new();
        for s in seeds {
            if self.slots[s as usize].is_none() || !visited.insert(s) {
                continue;
            }
            let mut comp = vec![s];
            let mut i = 0;
            while i < comp.len() {
                nb.clear();
                self.neighbours(comp[i], &mut nb);
                for &y in &nb {
                    if visited.insert(y) {
                        comp.push(y);
                    }
                }
                i += 1;
            }
            self.cluster(&comp, &mut assignments);
        }
        let mut changes = Vec::new();
        for (s, p) in assignments {
            let old = self.slot(s).person;
            let was = before.remove(&s).unwrap_or(Some(old));
            if old != p {
                if let Some(m) = self.persons.get_mut(&old) {
                    m.retain(|x| *x != s);
                    if m.is_empty() {
                        self.persons.remove(&old);
                    }
                }
                self.persons.entry(p).or_default().push(s);
                self.slots[s as usize].as_mut().expect("live").person = p;
            }
            if was != Some(p) {
                changes.push(Change { key: self.slot(s).key.clone(), before: was, after: Some(p) });
            }
        }
        changes.sort_by(|a, b| a.key.cmp(&b.key));
        changes
    }

    /// Clusters one connected component: asserted links, then scored links by weight, each
    /// joining two clusters unless a `Different` decision or (for a scored link between clusters
    /// no `Same` decision vouches for) a failed relative test lies across.
    fn cluster(&self, comp: &[u32], out: &mut Vec<(u32, PersonId)>) {
        if comp.len() == 1 {
            out.push((comp[0], self.slot(comp[0]).key.person_id()));
            return;
        }
        // Local indices in key order, so that everything below is independent of slot numbers.
        let mut nodes: Vec<u32> = comp.to_vec();
        nodes.sort_by(|a, b| self.slot(*a).key.cmp(&self.slot(*b).key));
        let local: HashMap<u32, usize> = nodes.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        // (asserted, weight, a, b) with a < b local.
        let mut links: Vec<(bool, f64, usize, usize)> = Vec::new();
        let mut different: Vec<(usize, usize)> = Vec::new();
        for (i, &x) in nodes.iter().enumerate() {
            for &(y, w) in &self.edges[x as usize] {
                let j = local[&y];
                if i < j {
                    links.push((false, w, i, j));
                }
            }
            let k = &self.slot(x).key;
            for o in self.decided.get(k).into_iter().flatten() {
                let Some(j) = self.by_key.get(o).and_then(|s| local.get(s)).copied() else { continue };
                if i >= j {
                    continue;
                }
                match self.decisions.get(&(k.clone(), o.clone())) {
                    Some(Decision::Same) => links.push((true, f64::INFINITY, i, j)),
                    Some(Decision::Different) => different.push((i, j)),
                    _ => {}
                }
            }
        }
        links.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then((a.2, a.3).cmp(&(b.2, b.3))));
        let n = nodes.len();
        let mut parent: Vec<usize> = (0..n).collect();
        let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut vouched = vec![false; n];
        fn find(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
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
            if !asserted && !vouched[ra] && !vouched[rb] && self.conflict(&nodes, &members[ra], &members[rb]) {
                continue;
            }
            // The smaller local index (smaller key) becomes the root.
            let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[child] = root;
            let moved = std::mem::take(&mut members[child]);
            members[root].extend(moved);
            vouched[root] = vouched[root] || vouched[child] || asserted;
        }
        for i in 0..n {
            let r = find(&mut parent, i);
            // The root is the smallest local index of its cluster, i.e. its smallest key.
            out.push((nodes[i], self.slot(nodes[r]).key.person_id()));
        }
    }

    /// Whether two clusters are in conflict: at least half of the pairs across them whose personal
    /// fields can be compared fail the relative test (their given names or dates of birth say
    /// "relatives", or "namesakes", rather than "one person"). A majority rather than any one
    /// pair, so that a person recorded many times, with the odd typo in a date, still comes
    /// together, while a mention lacking a date of birth cannot chain a father and his son.
    fn conflict(&self, nodes: &[u32], a: &[usize], b: &[usize]) -> bool {
        if a.len() * b.len() > CONFLICT_CHECK_LIMIT {
            return false;
        }
        let (mut comparable, mut against) = (0usize, 0usize);
        for &i in a {
            let x = self.slot(nodes[i]);
            for &j in b {
                let y = self.slot(nodes[j]);
                let (_, personal) = compare::weigh(&self.model, &compare::levels(&self.model, &x.prep, &y.prep));
                if personal != 0.0 {
                    comparable += 1;
                    against += (personal < 0.0) as usize;
                }
            }
        }
        against > 0 && against * 2 >= comparable
    }
}
