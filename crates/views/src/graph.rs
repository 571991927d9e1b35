//! The linked network: persons, cases, identifiers and places as a graph, the networks (connected
//! parts of it) and the suspects linked to a person, each with the path that links them.
//!
//! Networks are kept with a union-find that only ever joins, which is what nearly every event
//! does (a new mention joins its case, its identifiers, its places and its person). An event that
//! takes something away (a retraction, a correction, a split, an identifier becoming a hub) marks
//! the networks stale, and they are recomputed from the views before they are next read.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use foldhash::{HashMap, HashMapExt as _, HashSet};

use beaconport_domain::resolution::MentionKey;
use beaconport_domain::{IdentifierKind, PersonId, Role};

use crate::case::CaseKey;
use crate::views::{IdentKey, Views};

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Case(CaseKey),
    Mention(crate::views::Key),
    Identifier(IdentKey),
    Place(String),
    Person(PersonId),
}

/// A node of the graph, borrowed: what a lookup needs, so that finding a node already in the
/// graph copies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum NodeRef<'a> {
    Case(&'a str, &'a str),
    Mention(&'a MentionKey),
    Identifier(IdentifierKind, &'a str),
    Place(&'a str),
    Person(PersonId),
}

impl Node {
    fn as_ref(&self) -> NodeRef<'_> {
        match self {
            Node::Case((f, c)) => NodeRef::Case(f, c),
            Node::Mention(m) => NodeRef::Mention(m),
            Node::Identifier((k, v)) => NodeRef::Identifier(*k, v),
            Node::Place(p) => NodeRef::Place(p),
            Node::Person(p) => NodeRef::Person(*p),
        }
    }
}

impl NodeRef<'_> {
    fn hash(&self) -> u64 {
        use std::hash::BuildHasher as _;
        foldhash::fast::FixedState::with_seed(0x6265_6163_6f6e).hash_one(self)
    }
}

/// Networks as a union-find over the graph's nodes.
#[derive(Debug, Default)]
pub struct Networks {
    /// The index of every node, by the hash of its [`NodeRef`].
    ids: hashbrown::HashTable<u32>,
    nodes: Vec<Node>,
    parent: Vec<u32>,
    stale: bool,
}

impl Networks {
    /// The index of a node, if it is in the graph.
    fn get(&self, n: NodeRef<'_>) -> Option<u32> {
        self.ids.find(n.hash(), |&i| self.nodes[i as usize].as_ref() == n).copied()
    }

    /// The index of a node, added (`make` builds it) if new.
    fn id(&mut self, n: NodeRef<'_>, make: impl FnOnce() -> Node) -> u32 {
        let h = n.hash();
        let nodes = &self.nodes;
        if let Some(&i) = self.ids.find(h, |&i| nodes[i as usize].as_ref() == n) {
            return i;
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(make());
        self.parent.push(i);
        let nodes = &self.nodes;
        self.ids.insert_unique(h, i, |&j| nodes[j as usize].as_ref().hash());
        i
    }

    fn find(&self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            i = self.parent[i as usize];
        }
        i
    }

    fn find_mut(&mut self, i: u32) -> u32 {
        let root = self.find(i);
        let mut j = i;
        while self.parent[j as usize] != root {
            let next = self.parent[j as usize];
            self.parent[j as usize] = root;
            j = next;
        }
        root
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find_mut(a), self.find_mut(b));
        if ra != rb {
            // The smaller id becomes the root: deterministic whatever the order of unions.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// Joins a suspect's or victim's mention to its case, its identifiers and its places.
    /// Witnesses are not part of networks.
    pub fn add_mention(
        &mut self,
        key: &crate::views::Key,
        case: &CaseKey,
        role: Role,
        idents: &[&IdentKey],
        places: &[&String],
    ) {
        if role == Role::Witness {
            return;
        }
        let m = self.id(NodeRef::Mention(key), || Node::Mention(key.clone()));
        let c = self.id(NodeRef::Case(&case.0, &case.1), || Node::Case(case.clone()));
        self.union(m, c);
        for i in idents {
            let x = self.id(NodeRef::Identifier(i.0, &i.1), || Node::Identifier((*i).clone()));
            self.union(m, x);
        }
        for p in places {
            let x = self.id(NodeRef::Place(p), || Node::Place((*p).clone()));
            self.union(m, x);
        }
    }

    /// Joins a mention to the person it was resolved into.
    pub fn join_person(&mut self, key: &crate::views::Key, person: PersonId) {
        if let Some(m) = self.get(NodeRef::Mention(key)) {
            let p = self.id(NodeRef::Person(person), || Node::Person(person));
            self.union(m, p);
        }
    }

    /// Something was taken away: recompute before the next read.
    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// The root of a node's network, if the node is in the graph.
    pub fn root_of(&self, n: &Node) -> Option<u32> {
        self.get(n.as_ref()).map(|i| self.find(i))
    }

    fn clear(&mut self) {
        *self = Networks::default();
    }
}

/// One network, summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSummary {
    /// The smallest case key of the network, `FORCE/CASE`: stable while that case stays in it.
    pub id: String,
    pub forces: Vec<String>,
    pub suspects: BTreeSet<PersonId>,
    pub victims: BTreeSet<PersonId>,
    pub cases: Vec<CaseKey>,
    pub identifiers: usize,
    pub places: usize,
    pub root: u32,
}

impl NetworkSummary {
    pub fn cross_force(&self) -> bool {
        self.forces.len() > 1
    }
}

impl Views {
    /// Recomputes the networks from the views, if something was taken away since.
    pub fn refresh_networks(&mut self) {
        if !self.networks.is_stale() {
            return;
        }
        self.networks.clear();
        let mut keys: Vec<&crate::views::Key> = self.contributions.keys().collect();
        keys.sort();
        for key in keys {
            let c = &self.contributions[key];
            let idents: Vec<&IdentKey> =
                c.identifiers.iter().filter(|i| self.sharing_identifier(i).is_some()).collect();
            let places: Vec<&String> = c.places.iter().filter(|p| self.sharing_place(p).is_some()).collect();
            let case = (key.force.clone(), key.case_ref.clone());
            self.networks.add_mention(key, &case, c.role, &idents, &places);
            if let Some(p) = self.resolver.person_of(key) {
                self.networks.join_person(key, p);
            }
        }
    }

    /// Every network with two or more suspects, largest first (suspects, then cases), then by id.
    /// Requires fresh networks ([`Views::refresh_networks`]).
    pub fn network_summaries(&self) -> Vec<NetworkSummary> {
        let n = &self.networks;
        let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
        for i in 0..n.nodes.len() as u32 {
            groups.entry(n.find(i)).or_default().push(i);
        }
        let mut out: Vec<NetworkSummary> = groups
            .into_iter()
            .filter_map(|(root, members)| {
                let s = self.summarise(root, &members);
                (s.suspects.len() >= 2).then_some(s)
            })
            .collect();
        out.sort_by(|a, b| {
            b.suspects.len().cmp(&a.suspects.len()).then(b.cases.len().cmp(&a.cases.len())).then(a.id.cmp(&b.id))
        });
        out
    }

    fn summarise(&self, root: u32, members: &[u32]) -> NetworkSummary {
        let mut s = NetworkSummary {
            id: String::new(),
            forces: Vec::new(),
            suspects: BTreeSet::new(),
            victims: BTreeSet::new(),
            cases: Vec::new(),
            identifiers: 0,
            places: 0,
            root,
        };
        let mut forces = BTreeSet::new();
        for &i in members {
            match &self.networks.nodes[i as usize] {
                Node::Case(k) => {
                    forces.insert(k.0.clone());
                    s.cases.push(k.clone());
                }
                Node::Mention(m) => {
                    if let (Some(c), Some(p)) = (self.contributions.get(m), self.resolver.person_of(m)) {
                        match c.role {
                            Role::Suspect => s.suspects.insert(p),
                            Role::Victim => s.victims.insert(p),
                            Role::Witness => false,
                        };
                    }
                }
                Node::Identifier(_) => s.identifiers += 1,
                Node::Place(_) => s.places += 1,
                Node::Person(_) => {}
            }
        }
        s.cases.sort();
        s.id = s.cases.first().map(|(f, c)| format!("{f}/{c}")).unwrap_or_default();
        s.forces = forces.into_iter().collect();
        s
    }

    /// The network a node belongs to, summarised with its members.
    pub fn network_of(&self, node: &Node) -> Option<(NetworkSummary, Vec<Node>)> {
        let root = self.networks.root_of(node)?;
        let members: Vec<u32> =
            (0..self.networks.nodes.len() as u32).filter(|&i| self.networks.find(i) == root).collect();
        let summary = self.summarise(root, &members);
        // A person merged into another stays in the union-find (it only ever joins) but is gone.
        let nodes = members
            .iter()
            .map(|&i| &self.networks.nodes[i as usize])
            .filter(|n| !matches!(n, Node::Person(p) if self.resolver.members(*p).is_empty()))
            .cloned()
            .collect();
        Some((summary, nodes))
    }

    /// The network whose id (smallest case key) is `id`.
    pub fn network_by_id(&self, id: &str) -> Option<(NetworkSummary, Vec<Node>)> {
        let (force, case_ref) = id.split_once('/')?;
        let (summary, nodes) = self.network_of(&Node::Case((force.to_string(), case_ref.to_string())))?;
        (summary.id == id).then_some((summary, nodes))
    }

    /// The network id of a person, if they belong to a network of two or more suspects.
    pub fn network_id_of_person(&self, person: PersonId) -> Option<String> {
        let (s, _) = self.network_of(&Node::Person(person))?;
        (s.suspects.len() >= 2).then_some(s.id)
    }
}

/// How one person is linked to the next.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkKind {
    /// Both suspects in one case.
    CoSuspect,
    /// A suspect in a case of which the first person is the victim (or the reverse).
    SuspectOfVictim,
    /// Suspects in cases with the same (resolved) victim.
    SharedVictim,
    /// The same identifier recorded for both.
    SharedIdentifier(beaconport_domain::IdentifierKind),
    /// The same recorded address.
    SharedAddress,
    /// Both tied to one offence scene or sighting.
    SamePlace,
}

impl LinkKind {
    pub fn name(&self) -> String {
        match self {
            LinkKind::CoSuspect => "co_suspect".into(),
            LinkKind::SuspectOfVictim => "suspect_of_victim".into(),
            LinkKind::SharedVictim => "shared_victim".into(),
            LinkKind::SharedIdentifier(k) => format!("shared_{}", k.name().replace(' ', "_").to_lowercase()),
            LinkKind::SharedAddress => "shared_address".into(),
            LinkKind::SamePlace => "same_place".into(),
        }
    }
}

/// One step from one person to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from: PersonId,
    pub to: PersonId,
    pub kind: LinkKind,
    /// Where the link was recorded (the case of the second person's mention).
    pub case: CaseKey,
    /// What is shared: the identifier value, the place, the victim's person id.
    pub via: String,
    pub description: String,
}

/// A linked suspect and the path to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub person: PersonId,
    pub hops: u32,
    pub path: Vec<Step>,
}

/// The answer to "who is linked to this person, and how".
#[derive(Debug, Clone, Default)]
pub struct LinkedAnswer {
    pub linked: Vec<Linked>,
    /// Identifiers and places not followed because too many share them.
    pub skipped_hubs: BTreeSet<String>,
}

impl Views {
    /// Whether a person is a suspect in any case.
    pub fn is_suspect(&self, person: PersonId) -> bool {
        self.resolver
            .members(person)
            .iter()
            .any(|m| self.contributions.get(*m).is_some_and(|c| c.role == Role::Suspect))
    }

    /// The persons one step from `person`, each with the first (canonical) step that reaches
    /// them. Steps come without their sentence: [`Views::describe`] writes it for the steps kept.
    pub fn neighbours(
        &self,
        person: PersonId,
        allow: &dyn Fn(&LinkKind) -> bool,
        hubs: &mut BTreeSet<String>,
    ) -> BTreeMap<PersonId, Step> {
        let mut out: BTreeMap<PersonId, Step> = BTreeMap::new();
        // What a candidate step is, before anything is allocated for it.
        let mut add = |to: Option<PersonId>, kind: LinkKind, case: &CaseKey, via: &dyn Fn() -> String| {
            let Some(to) = to else { return };
            if to == person || !allow(&kind) {
                return;
            }
            // Keep the strongest kind of link, then the first case: a stable, readable choice.
            if let Some(prev) = out.get(&to) {
                if (&prev.kind, &prev.case) <= (&kind, case) {
                    return;
                }
            }
            out.insert(to, Step { from: person, to, kind, case: case.clone(), via: via(), description: String::new() });
        };
        let none = || String::new();
        // One key, its parts overwritten, for every lookup of a mention of a case.
        let mut probe = MentionKey { force: String::new(), case_ref: String::new(), person_ref: String::new() };
        let person_in = |probe: &mut MentionKey, ck: &CaseKey, r: &str| {
            if probe.force != ck.0 || probe.case_ref != ck.1 {
                probe.force.clone_from(&ck.0);
                probe.case_ref.clone_from(&ck.1);
            }
            probe.person_ref.clear();
            probe.person_ref.push_str(r);
            self.person_of(probe)
        };
        for m in self.resolver.members(person) {
            let Some((case, mention)) = self.mention(m) else { continue };
            let ck = &case.key;
            let role = mention.person.role;
            match role {
                Role::Suspect => {
                    for r in case.refs_in_role(Role::Suspect) {
                        add(person_in(&mut probe, ck, r), LinkKind::CoSuspect, ck, &none);
                    }
                    for v in case.refs_in_role(Role::Victim) {
                        let Some(victim) = person_in(&mut probe, ck, v) else { continue };
                        for vm in self.resolver.members(victim) {
                            if vm.force == ck.0 && vm.case_ref == ck.1 {
                                continue;
                            }
                            let Some((vcase, vmention)) = self.mention(vm) else { continue };
                            if vmention.person.role != Role::Victim {
                                continue;
                            }
                            for s in vcase.refs_in_role(Role::Suspect) {
                                let to = person_in(&mut probe, &vcase.key, s);
                                add(to, LinkKind::SharedVictim, &vcase.key, &|| victim.to_string());
                            }
                        }
                    }
                }
                Role::Victim => {
                    for r in case.refs_in_role(Role::Suspect) {
                        add(person_in(&mut probe, ck, r), LinkKind::SuspectOfVictim, ck, &none);
                    }
                }
                Role::Witness => continue,
            }
            let Some(contribution) = self.contributions.get(m) else { continue };
            for ident in &contribution.identifiers {
                let Some(sharing) = self.sharing_identifier(ident) else {
                    hubs.insert(format!("{} {}", ident.0.name(), ident.1));
                    continue;
                };
                for other in sharing {
                    if **other == *m || self.contributions.get(other).is_some_and(|c| c.role == Role::Witness) {
                        continue;
                    }
                    let case = (other.force.clone(), other.case_ref.clone());
                    add(self.person_of(other), LinkKind::SharedIdentifier(ident.0), &case, &|| ident.1.clone());
                }
            }
            for place in &contribution.places {
                let Some(sharing) = self.sharing_place(place) else {
                    hubs.insert(self.place_labels.get(place).cloned().unwrap_or_else(|| place.clone()));
                    continue;
                };
                let is_address = place.starts_with("addr:")
                    && mention.places.iter().any(|p| &p.key == place && p.source == "address");
                let kind = if is_address { LinkKind::SharedAddress } else { LinkKind::SamePlace };
                for other in sharing {
                    if **other == *m || self.contributions.get(other).is_some_and(|c| c.role == Role::Witness) {
                        continue;
                    }
                    let case = (other.force.clone(), other.case_ref.clone());
                    add(self.person_of(other), kind.clone(), &case, &|| {
                        self.place_labels.get(place).cloned().unwrap_or_else(|| place.clone())
                    });
                }
            }
        }
        out
    }

    /// Writes a step's sentence: "co-suspect in GMP case GMP-2014-000123".
    pub fn describe(&self, step: &mut Step) {
        let (force, case) = (&step.case.0, &step.case.1);
        step.description = match &step.kind {
            LinkKind::CoSuspect => format!("co-suspect in {force} case {case}"),
            LinkKind::SuspectOfVictim => format!("suspect in {force} case {case}"),
            LinkKind::SharedVictim => {
                let victim = step.via.chars().take(8).collect::<String>();
                format!("shared victim (person {victim}) with {force} case {case}")
            }
            LinkKind::SharedIdentifier(k) => format!("shares {} {} (in {force} case {case})", k.name(), step.via),
            LinkKind::SharedAddress => format!("shares address {} (in {force} case {case})", step.via),
            LinkKind::SamePlace => format!("same place {} (in {force} case {case})", step.via),
        };
    }

    /// The suspects linked to `person` within `max_hops`, breadth first: each reached by a
    /// shortest path, through suspects only (a victim or witness ends a path, never extends it).
    pub fn linked_suspects(&self, person: PersonId, max_hops: u32, allow: &dyn Fn(&LinkKind) -> bool) -> LinkedAnswer {
        let mut answer = LinkedAnswer::default();
        let mut seen: HashSet<PersonId> = [person].into_iter().collect();
        let mut paths: HashMap<PersonId, Vec<Step>> = [(person, Vec::new())].into_iter().collect();
        let mut queue = VecDeque::from([(person, 0u32)]);
        while let Some((p, hops)) = queue.pop_front() {
            if hops >= max_hops {
                continue;
            }
            for (to, mut step) in self.neighbours(p, allow, &mut answer.skipped_hubs) {
                if !seen.insert(to) || !self.is_suspect(to) {
                    continue;
                }
                self.describe(&mut step);
                let mut path = paths[&p].clone();
                path.push(step);
                answer.linked.push(Linked { person: to, hops: hops + 1, path: path.clone() });
                paths.insert(to, path);
                queue.push_back((to, hops + 1));
            }
        }
        answer
    }
}

/// The first eight characters of a person id, for sentences.
pub fn short(p: PersonId) -> String {
    p.to_string().chars().take(8).collect()
}
