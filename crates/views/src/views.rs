//! The cross-force views in memory, and how one event changes them.
//!
//! - **Case files** ([`Case`]): each case's events as they stand, folded.
//! - **Persons**: every mention (one person in one case) resolved into persons by the domain's
//!   [`Resolver`], with the investigators' link decisions.
//! - **Graph**: identifiers and places shared between mentions, and the networks (connected
//!   persons, cases, identifiers and places) they form.
//!
//! Everything here is synchronous and does no I/O: [`Views::apply`] is a function of the views and
//! one event. The runner owns reading the log and storing the case files.

use std::collections::{BTreeMap, BTreeSet};

use foldhash::{HashMap, HashMapExt as _};

use beaconport_domain::resolution::{self, Decision, MentionKey, Record, Resolver};
use beaconport_domain::{self as d, Body, Event, EventId, IdentifierKind, LinkDecision, PersonId, Position, Role};

use crate::case::{Case, CaseKey, Codec, Effective};
use crate::consultations::{Consultation, Consultations};
use crate::graph::Networks;
use crate::sorted::SortedSet;

/// A shared identifier, normalised: `(kind, value)`.
pub type IdentKey = (IdentifierKind, String);

/// A mention key as the views hold it: one allocation, shared by every index that names it.
pub type Key = std::sync::Arc<MentionKey>;

/// What one mention contributes to the global indexes, so it can be taken back exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    pub role: Role,
    // The resolution record itself is held once, by the resolver (`Resolver::record`).
    pub identifiers: SortedSet<IdentKey>,
    pub places: SortedSet<String>,
}

/// How many mentions may share one identifier or place before it stops linking them: a hostel's
/// address, a minicab office's phone or a shopping centre links everyone and explains nothing.
pub const DEFAULT_HUB_LIMIT: usize = 30;

/// The views.
#[derive(Debug)]
pub struct Views {
    /// Every event before this position has been applied.
    pub applied: Position,
    /// The position after the last applied event that was not a consultation: views derived
    /// from the case files (the review's) are current while it stays put.
    pub cases_applied: Position,
    pub cases: HashMap<CaseKey, Case>,
    /// The case holding each event, for corrections and retractions.
    targets: HashMap<EventId, std::sync::Arc<CaseKey>>,
    pub resolver: Resolver,
    pub contributions: HashMap<Key, Contribution>,
    pub identifiers: HashMap<IdentKey, SortedSet<Key>>,
    pub places: HashMap<String, SortedSet<Key>>,
    /// A readable label per place key: the smallest of those recorded for it.
    pub place_labels: HashMap<String, String>,
    /// Link decisions standing, per case that recorded them.
    decisions: HashMap<CaseKey, Vec<(MentionKey, MentionKey, Decision)>>,
    pub networks: Networks,
    pub hub_limit: usize,
    /// Cases changed since the runner last stored them.
    dirty: BTreeSet<CaseKey>,
    /// Events that could not be applied (a stored event that no longer decodes), by position.
    pub skipped: Vec<(Position, String)>,
    /// The level of the last model these views estimated (they estimate each level once).
    proposed_level: Option<u32>,
    /// Models these views estimated, for the runner to write into the log (see
    /// [`Views::take_model_proposals`]); each is adopted, like every other process's, when read back.
    /// One per level reached, in order: a batch that crosses two levels (512 and 1,024 mentions)
    /// proposes both, each estimated when its level was reached, so the models in the log do
    /// not depend on where batches happened to end.
    proposals: Vec<d::ResolutionModelEstimated>,
    /// The level of the model adopted from the log (`None`: the documented priors).
    pub model_level: Option<u32>,
    /// The stored encoding of the event that brought the adopted model, until the runner has
    /// stored it with the views.
    new_model_event: Option<bytes::Bytes>,
    /// A model was given (`beaconport model export`, `[views] model_file`): models in the log
    /// are not adopted and none is estimated.
    pinned: bool,
    /// While loading stored views: the stored model stands, no re-estimation.
    loading: bool,
    /// What applying events has cost so far, for benchmarks and operators.
    pub work: Work,
    /// Records changed since the resolver last caught up (`None`: the mention is gone). A mention
    /// changed several times in one batch is resolved once, when the batch is settled.
    pending: BTreeMap<MentionKey, Option<Record>>,
    /// Mentions whose case changed since the indexes were last brought in line, in the order
    /// first touched, each once (see [`Views::refresh_deferred`]).
    deferred: Vec<(CaseKey, String)>,
    deferred_seen: foldhash::HashSet<(CaseKey, String)>,
    /// A model estimated in this batch: every mention is resolved again under it when settled.
    pending_model: Option<resolution::Model>,
    /// How case files are decoded and encoded.
    pub codec: Codec,
    /// Every query the ledger answered (the consultation log).
    pub consultations: Consultations,
    /// The review's views, derived when asked (see [`Views::review`]).
    pub(crate) review_cache: parking_lot::Mutex<crate::review::Cache>,
}

/// Counts of the costly steps of applying events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Mentions resolved (new, or changed record).
    pub upserts: u64,
    /// Mentions taken back.
    pub removes: u64,
    /// Case files folded again after a correction or a retraction.
    pub refolds: u64,
    /// Mentions brought in line with their case file in the indexes (once per batch each, however
    /// many of the batch's events named them).
    pub refreshes: u64,
    /// Times the model was estimated from the data (and every mention resolved again under it,
    /// which `upserts` does not count).
    pub estimates: u64,
}

/// The levels at which a model is estimated: when the mentions first reach 2^level (512, 1,024,
/// 2,048, 4,096, then every fourfold growth: 16,384 and 65,536). Below 512 the documented priors
/// stand (term frequencies need a few hundred values to mean anything); beyond 65,536 each
/// estimate would resolve every mention again for little, a sample of [`MODEL_SAMPLE`] saying
/// what a larger one would. A function of the count alone, so that a process that stopped and
/// started estimates the same levels as one that did not, and a rebuild as the live views.
pub const MODEL_LEVELS: [u32; 6] = [9, 10, 11, 12, 14, 16];
/// Most records a model is estimated from.
pub const MODEL_SAMPLE: usize = 20_000;

impl Views {
    pub fn new(model: resolution::Model, codec: Codec) -> Self {
        Views {
            codec,
            applied: Position(0),
            cases_applied: Position(0),
            cases: HashMap::new(),
            targets: HashMap::new(),
            resolver: Resolver::new(model),
            contributions: HashMap::new(),
            identifiers: HashMap::new(),
            places: HashMap::new(),
            place_labels: HashMap::new(),
            decisions: HashMap::new(),
            networks: Networks::default(),
            hub_limit: DEFAULT_HUB_LIMIT,
            dirty: BTreeSet::new(),
            skipped: Vec::new(),
            proposed_level: None,
            proposals: Vec::new(),
            model_level: None,
            new_model_event: None,
            pinned: false,
            loading: false,
            work: Work::default(),
            pending: BTreeMap::new(),
            deferred: Vec::new(),
            deferred_seen: Default::default(),
            pending_model: None,
            consultations: Consultations::default(),
            review_cache: Default::default(),
        }
    }

    /// Views resolving under a model adopted from the log earlier (`event`, as stored), on open.
    pub fn with_adopted(event: &Event, encoded: bytes::Bytes, codec: Codec) -> Option<Self> {
        let Body::ResolutionModelEstimated(r) = &event.body else { return None };
        let mut v = Views::new(r.model.clone(), codec);
        v.model_level = Some(r.level);
        v.new_model_event = Some(encoded);
        Some(v)
    }

    /// Views with one fixed model, never another: neither estimated nor adopted from the log.
    pub fn pinned(model: resolution::Model, codec: Codec) -> Self {
        let mut v = Views::new(model, codec);
        v.pinned = true;
        v
    }

    /// The models these views estimated since the last call (lowest level first), for the runner to write into the
    /// log as a [`d::ResolutionModelEstimated`] (see [`model_event`]). Nothing adopts it until
    /// it is read back from the log, the same for every process: a model estimated at the same
    /// level by another process first is the one stored (one event id per level).
    pub fn take_model_proposals(&mut self) -> Vec<d::ResolutionModelEstimated> {
        let level = self.model_level;
        std::mem::take(&mut self.proposals).into_iter().filter(|p| Some(p.level) > level).collect()
    }

    /// Puts back proposals the runner could not write (the first of them failed), ahead of any
    /// made since, for the next attempt: a lower level is not skipped for a higher one.
    pub fn return_model_proposals(&mut self, unwritten: Vec<d::ResolutionModelEstimated>) {
        let later = std::mem::replace(&mut self.proposals, unwritten);
        self.proposals.extend(later);
    }

    /// Estimates a model now if the mentions have reached the next level (for views just
    /// loaded: a model estimated before a crash may never have reached the log).
    pub fn estimate_if_due(&mut self) {
        self.maybe_estimate();
    }

    /// The stored encoding of the event of a model adopted since the last call, for the runner
    /// to store with the views.
    pub fn take_model_event(&mut self) -> Option<bytes::Bytes> {
        self.new_model_event.take()
    }

    /// Estimates the model from the data when the mentions first reach a level of
    /// [`MODEL_LEVELS`] above the model standing, as a proposal for the log. The sample is evenly
    /// spread in key order over the mentions held then.
    fn maybe_estimate(&mut self) {
        if self.loading || self.pinned {
            return;
        }
        if !self.deferred.is_empty() {
            // Each mention not yet brought in line adds at most one to the count: only when
            // that bound reaches the next level are they brought in line now, so that a model
            // is estimated at the very event it would be were every mention refreshed at once.
            let above = self.model_level.max(self.proposed_level);
            match MODEL_LEVELS.iter().find(|l| Some(**l) > above) {
                Some(l) if self.contributions.len() + self.deferred.len() >= 1 << l => self.refresh_deferred(),
                _ => return,
            }
        }
        let n = self.contributions.len();
        if n < 1 << MODEL_LEVELS[0] {
            return;
        }
        let Some(level) = MODEL_LEVELS.iter().rev().copied().find(|l| n >= 1 << l) else { return };
        if Some(level) <= self.model_level || Some(level) <= self.proposed_level {
            return;
        }
        self.proposed_level = Some(level);
        let mut keys: Vec<&crate::views::Key> = self.contributions.keys().collect();
        keys.sort();
        let step = keys.len().div_ceil(MODEL_SAMPLE).max(1);
        let records: Vec<Record> = keys.iter().step_by(step).filter_map(|k| self.current_record(k).cloned()).collect();
        let model = resolution::Model::estimate(&records);
        self.work.estimates += 1;
        self.proposals.push(d::ResolutionModelEstimated { level, mentions: n as u64, model });
    }

    /// Adopts a model read from the log if it is of a higher level than the one standing: every
    /// mention is resolved again under it when the batch is settled. The model standing is so
    /// the highest level's in the log whatever order the events came in.
    fn adopt(&mut self, r: &d::ResolutionModelEstimated, event: &Event, encoded: Option<bytes::Bytes>) {
        if self.pinned || Some(r.level) <= self.model_level {
            return;
        }
        self.model_level = Some(r.level);
        self.pending_model = Some(r.model.clone());
        self.new_model_event = Some(encoded.unwrap_or_else(|| (self.codec.encode)(event).into()));
    }

    /// A mention's record as it stands, settled or not.
    fn current_record(&self, key: &MentionKey) -> Option<&Record> {
        match self.pending.get(key) {
            Some(r) => r.as_ref(),
            None => self.resolver.record(key),
        }
    }

    /// Brings the resolver up to date with the records changed since the last call (and, after
    /// a new model was estimated, resolves every mention again under it). Queries see settled
    /// views only: the runner settles every batch before it lets go of the views.
    pub fn settle(&mut self) {
        self.refresh_deferred();
        let pending: Vec<(MentionKey, Option<Record>)> = std::mem::take(&mut self.pending).into_iter().collect();
        let mut prepared = prepare_all(&self.resolver, &pending).into_iter();
        // Retractions one by one, then the records in one batch: a component that many of them
        // touch (a common name, a shared address) is clustered once for the lot.
        let mut upserts = Vec::with_capacity(pending.len());
        for (k, record) in pending {
            let prepared = prepared.next().flatten();
            match record {
                Some(r) => upserts.push((k, r, prepared)),
                None => {
                    self.work.removes += 1;
                    let changes = self.resolver.remove(&k);
                    self.note_changes(&changes);
                }
            }
        }
        if !upserts.is_empty() {
            self.work.upserts += upserts.len() as u64;
            let changes = self.resolver.upsert_batch(upserts);
            self.note_changes(&changes);
        }
        if let Some(model) = self.pending_model.take() {
            // Every mention and decision again under the new model (equal to resolving them
            // afresh: resolution is a function of the set of records and decisions).
            let resolver = std::mem::replace(&mut self.resolver, Resolver::new(resolution::Model::default()));
            self.resolver = resolver.rebuild_with(model);
            self.networks.invalidate();
        }
    }

    /// Applies a batch of events (in position order, each with its stored encoding if known)
    /// and settles the views.
    pub fn apply_batch(&mut self, events: impl IntoIterator<Item = (Position, Event, Option<bytes::Bytes>)>) {
        for (position, event, encoded) in events {
            self.apply_one(position, event, encoded);
        }
        self.settle();
    }

    /// Applies one event and settles the views.
    pub fn apply(&mut self, position: Position, event: Event) {
        self.apply_one(position, event, None);
        self.settle();
    }

    /// Applies the event stored at `position` (the next one: positions are applied in order),
    /// leaving the resolver to [`Views::settle`].
    fn apply_one(&mut self, position: Position, event: Event, encoded: Option<bytes::Bytes>) {
        let codec = self.codec;
        debug_assert!(position >= self.applied);
        self.applied = position.next();
        if let Body::ResolutionModelEstimated(r) = &event.body {
            self.adopt(r, &event, encoded);
            return;
        }
        if let Body::ConsultationRecorded(c) = &event.body {
            let encoded = encoded.unwrap_or_else(|| (codec.encode)(&event).into());
            self.consultations.push(Consultation {
                position,
                event_id: event.id,
                at: event.recorded_at,
                body: c.clone(),
                encoded,
            });
            return;
        }
        self.cases_applied = position.next();
        match &event.body {
            Body::RecordCorrected(c) => {
                let target = c.corrected_event_id;
                if let Body::PersonRecorded(p) = c.replacement.as_ref() {
                    let key = self.targets.get(&target).map(|k| CaseKey::clone(k));
                    if let Some(key) = key {
                        let corrected = self
                            .cases
                            .get_mut(&key)
                            .is_some_and(|case| case.correct_person(target, p, position, &codec));
                        if corrected {
                            self.dirty.insert(key.clone());
                            self.defer_refresh(&key, &p.person_ref);
                            self.maybe_estimate();
                            return;
                        }
                    }
                }
                let replacement = (*c.replacement).clone();
                let mut refs = persons_named(&replacement);
                self.rewrite(target, position, |file| {
                    if let Some(e) = file.iter_mut().find(|e| e.id == target) {
                        if let Some(mut old) = e.event(&codec) {
                            refs.extend(persons_named(&old.body));
                            old.body = replacement;
                            e.encoded = (codec.encode)(&old).into();
                            e.position = position;
                        }
                    }
                    refs
                });
            }
            Body::RecordRetracted(r) => {
                let target = r.retracted_event_id;
                self.rewrite(target, position, |file| {
                    let refs = file
                        .iter()
                        .find(|e| e.id == target)
                        .and_then(|e| e.event(&codec))
                        .map(|e| persons_named(&e.body));
                    file.retain(|e| e.id != target);
                    refs.unwrap_or_default()
                });
            }
            _ => {
                let probe: CaseKey = (event.force.code.to_string(), event.case_ref.clone());
                let force = event.force;
                let case = self.cases.entry(probe).or_insert_with_key(|k| Case::new(k.clone(), force));
                self.targets.insert(event.id, case.shared_key.clone());
                let key: CaseKey = case.key.clone();
                let mut touched = Vec::new();
                let is_link = matches!(event.body, Body::LinkDecided(_));
                let encoded = encoded.unwrap_or_else(|| (codec.encode)(&event).into());
                case.fold(position, &event, encoded, &mut touched);
                self.dirty.insert(key.clone());
                for r in touched {
                    self.defer_refresh(&key, &r);
                }
                if is_link {
                    self.refresh_decisions(&key);
                }
            }
        }
        self.maybe_estimate();
    }

    /// Changes the file of the case holding `target`, folds the case again, and takes back and
    /// re-adds what its mentions and decisions contribute.
    /// `change` returns the person refs the changed event named, before and after: only their
    /// mentions can have changed (a person's state comes only from events that name them).
    fn rewrite(
        &mut self,
        target: EventId,
        position: Position,
        change: impl FnOnce(&mut Vec<Effective>) -> Vec<String>,
    ) {
        let Some(key) = self.targets.get(&target).map(|k| CaseKey::clone(k)) else {
            // The corrected event is unknown (never stored, or already retracted): nothing to change.
            return;
        };
        let Some(case) = self.cases.get_mut(&key) else { return };
        let refs: BTreeSet<String> = change(&mut case.events).into_iter().collect();
        case.refold(&self.codec);
        case.changed = case.changed.max(position);
        self.work.refolds += 1;
        self.dirty.insert(key.clone());
        for r in refs {
            self.defer_refresh(&key, &r);
        }
        self.refresh_decisions(&key);
    }

    /// Notes that a mention's case changed: the indexes are brought in line with it once per
    /// batch, not once per event ([`Views::refresh_deferred`]), since a mention's contribution
    /// is a function of its case file as it stands. They are brought in line before anything
    /// reads them: settling, a change of the link decisions, a model level possibly reached.
    fn defer_refresh(&mut self, case: &CaseKey, person_ref: &str) {
        self.note_place_labels(case, person_ref);
        let k = (case.clone(), person_ref.to_string());
        if self.deferred_seen.insert(k.clone()) {
            self.deferred.push(k);
        }
    }

    /// Notes the labels of the places a mention holds now. A label stays once noted (a place
    /// keeps its name after a record leaves it), so labels are noted at every change of the
    /// mention, not only as it stands when the indexes are brought in line.
    fn note_place_labels(&mut self, case: &CaseKey, person_ref: &str) {
        let Some(m) = self.cases.get(case).and_then(|c| c.persons.get(person_ref)) else { return };
        for p in &m.places {
            // The smallest label wins, not the first seen: records spelling one place
            // differently ("150 North Street, TW66QU", "150 NORTH STREET, TW6 6QU") come in
            // the order the log's partitions interleave, which replicas do not share.
            match self.place_labels.get_mut(&p.key) {
                Some(label) if *label <= p.label => {}
                Some(label) => label.clone_from(&p.label),
                None => {
                    self.place_labels.insert(p.key.clone(), p.label.clone());
                }
            }
        }
    }

    /// Brings the indexes in line with every mention deferred, in the order first touched.
    fn refresh_deferred(&mut self) {
        if self.deferred.is_empty() {
            return;
        }
        let deferred = std::mem::take(&mut self.deferred);
        self.deferred_seen.clear();
        self.work.refreshes += deferred.len() as u64;
        for (case, person_ref) in &deferred {
            self.refresh_mention(case, person_ref);
        }
    }

    /// Brings the global indexes in line with one mention of one case.
    fn refresh_mention(&mut self, case: &CaseKey, person_ref: &str) {
        let probe = MentionKey { force: case.0.clone(), case_ref: case.1.clone(), person_ref: person_ref.to_string() };
        let key: Key = match self.contributions.get_key_value(&probe) {
            Some((k, _)) => k.clone(),
            None => std::sync::Arc::new(probe),
        };
        let new = self.cases.get(case).and_then(|c| c.persons.get(person_ref)).map(|m| {
            let mut record = Record::from_person(&m.person);
            for i in &m.observed {
                if !record.identifiers.contains(i) {
                    record.identifiers.push(i.clone());
                }
            }
            let identifiers = record
                .identifiers
                .iter()
                .map(|i| (i.kind, resolution::normalise_identifier(i.kind, &i.value)))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let places = m.places.iter().map(|p| p.key.clone()).collect();
            (record, Contribution { role: m.person.role, identifiers, places })
        });
        let record_changed = match (&new, self.current_record(&key)) {
            (Some((r, _)), Some(old)) => r != old,
            (Some(_), None) => true,
            (None, old) => old.is_some(),
        };
        let (record, new) = match new {
            Some((r, c)) => (Some(r), Some(c)),
            None => (None, None),
        };
        let old = self.contributions.get(&key);
        if old == new.as_ref() && !record_changed {
            return;
        }
        let old = self.contributions.remove(&key);
        let mut removed_something = false;
        if let Some(o) = &old {
            for i in &o.identifiers {
                if new.as_ref().is_none_or(|n| !n.identifiers.contains(i)) {
                    remove_from(&mut self.identifiers, i, &key);
                    removed_something = true;
                }
            }
            for p in &o.places {
                if new.as_ref().is_none_or(|n| !n.places.contains(p)) {
                    remove_from(&mut self.places, p, &key);
                    removed_something = true;
                }
            }
            if new.as_ref().is_none_or(|n| n.role != o.role) {
                // The mention left its case (or changed its part in it).
                removed_something = true;
            }
        }
        if record_changed {
            self.pending.insert(MentionKey::clone(&key), record);
        }
        if removed_something {
            self.networks.invalidate();
        }
        if let Some(n) = new {
            // A mention already in the graph in the same part: only what it did not hold before
            // is added (what it held is indexed and joined already, or the networks are stale).
            let held = old.as_ref().filter(|o| o.role == n.role);
            for i in n.identifiers.iter().filter(|i| held.is_none_or(|o| !o.identifiers.contains(*i))) {
                let set = self.identifiers.entry(i.clone()).or_default();
                set.insert(key.clone());
                if set.len() == self.hub_limit + 1 {
                    // Became a hub: the links it made no longer count.
                    self.networks.invalidate();
                }
            }
            for p in n.places.iter().filter(|p| held.is_none_or(|o| !o.places.contains(*p))) {
                let set = self.places.entry(p.clone()).or_default();
                set.insert(key.clone());
                if set.len() == self.hub_limit + 1 {
                    self.networks.invalidate();
                }
            }
            if held.is_some_and(|o| o.identifiers.is_superset(&n.identifiers) && o.places.is_superset(&n.places)) {
                // Nothing new to join; a change of person comes with the resolver's changes.
                self.contributions.insert(key, n);
                return;
            }
            let idents: Vec<&IdentKey> = n
                .identifiers
                .iter()
                .filter(|i| held.is_none_or(|o| !o.identifiers.contains(*i)))
                .filter(|i| self.sharing_identifier(i).is_some())
                .collect();
            let places: Vec<&String> = n
                .places
                .iter()
                .filter(|p| held.is_none_or(|o| !o.places.contains(*p)))
                .filter(|p| self.sharing_place(p).is_some())
                .collect();
            self.networks.add_mention(&key, case, n.role, &idents, &places);
            if let Some(person) = self.resolver.person_of(&key) {
                self.networks.join_person(&key, person);
            }
            self.contributions.insert(key, n);
        }
    }

    /// Brings the resolver's decisions in line with the link decisions a case records.
    fn refresh_decisions(&mut self, case: &CaseKey) {
        let new: Vec<(MentionKey, MentionKey, Decision)> = self
            .cases
            .get(case)
            .map(|c| {
                c.link_decisions
                    .iter()
                    .map(|l| {
                        let decision = match l.decision {
                            LinkDecision::Same => Decision::Same,
                            LinkDecision::Different => Decision::Different,
                            LinkDecision::Withdrawn => Decision::Withdrawn,
                        };
                        (mention_key(&l.a), mention_key(&l.b), decision)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let old = self.decisions.remove(case).unwrap_or_default();
        if old == new {
            if !new.is_empty() {
                self.decisions.insert(case.clone(), new);
            }
            return;
        }
        // The resolver decides over the mentions as they stand: those deferred first.
        self.refresh_deferred();
        for (a, b, _) in &old {
            if !new.iter().any(|(x, y, _)| x == a && y == b) {
                let changes = self.resolver.decide(a, b, Decision::Withdrawn);
                self.note_changes(&changes);
            }
        }
        for (a, b, decision) in &new {
            if !old.contains(&(a.clone(), b.clone(), *decision)) {
                let changes = self.resolver.decide(a, b, *decision);
                self.note_changes(&changes);
            }
        }
        if !new.is_empty() {
            self.decisions.insert(case.clone(), new);
        }
    }

    fn note_changes(&mut self, changes: &[resolution::Change]) {
        for c in changes {
            match (c.before, c.after) {
                (_, Some(after)) => {
                    // A merge only joins (the old person is gone); a split must undo joins.
                    if c.before.is_some_and(|b| b != after && !self.resolver.members(b).is_empty()) {
                        self.networks.invalidate();
                    }
                    if let Some((k, _)) = self.contributions.get_key_value(&c.key) {
                        self.networks.join_person(&k.clone(), after);
                    }
                }
                (Some(_), None) => self.networks.invalidate(),
                (None, None) => {}
            }
        }
    }

    /// Case files changed since the last call, for the runner to store.
    pub fn take_dirty(&mut self) -> BTreeSet<CaseKey> {
        std::mem::take(&mut self.dirty)
    }

    /// Marks the start and the end of loading stored case files.
    pub fn set_loading(&mut self, loading: bool) {
        self.loading = loading;
        if !loading {
            self.settle();
        }
    }

    /// Loads a stored case file (on open): folds it and adds what it contributes.
    pub fn load_case(&mut self, key: CaseKey, force: &'static d::reference::Force, events: Vec<Effective>) {
        let mut case = Case::new(key.clone(), force);
        for e in &events {
            self.targets.insert(e.id, case.shared_key.clone());
        }
        case.events = events;
        case.refold(&self.codec);
        let refs: Vec<String> = case.persons.keys().cloned().collect();
        let has_links = !case.link_decisions.is_empty();
        self.cases.insert(key.clone(), case);
        for r in refs {
            self.note_place_labels(&key, &r);
            self.refresh_mention(&key, &r);
        }
        if has_links {
            self.refresh_decisions(&key);
        }
    }

    /// The person a mention belongs to.
    pub fn person_of(&self, key: &MentionKey) -> Option<PersonId> {
        self.resolver.person_of(key)
    }

    /// The case and mention state of a mention key.
    pub fn mention(&self, key: &MentionKey) -> Option<(&Case, &crate::case::Mention)> {
        let case = self.cases.get(&(key.force.clone(), key.case_ref.clone()))?;
        Some((case, case.persons.get(&key.person_ref)?))
    }

    /// Mentions sharing an identifier, unless it is a hub.
    pub fn sharing_identifier(&self, ident: &IdentKey) -> Option<&SortedSet<Key>> {
        self.identifiers.get(ident).filter(|s| s.len() <= self.hub_limit)
    }

    /// Mentions tied to a place, unless it is a hub.
    pub fn sharing_place(&self, place: &str) -> Option<&SortedSet<Key>> {
        self.places.get(place).filter(|s| s.len() <= self.hub_limit)
    }

    /// Counts for status and tests.
    pub fn counts(&self) -> Counts {
        Counts {
            cases: self.cases.len(),
            mentions: self.contributions.len(),
            persons: self.resolver.persons(),
            identifiers: self.identifiers.len(),
            places: self.places.len(),
        }
    }

    /// A canonical, order-free digest of everything the views hold, for comparing a rebuilt
    /// view with a live one: case files, persons and their members, shared identifiers.
    pub fn fingerprint(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, c) in &self.cases {
            // The stored encoding is deterministic: equal bytes, equal events.
            let file: Vec<String> = c
                .events
                .iter()
                .map(|e| format!("{}@{}:{:016x}", e.id, e.position, xxhash_rust::xxh3::xxh3_64(&e.encoded)))
                .collect();
            out.insert(format!("case {}/{}", k.0, k.1), file.join("|"));
        }
        for key in self.contributions.keys() {
            let person = self.resolver.person_of(key).map(|p| p.to_string()).unwrap_or_default();
            out.insert(format!("mention {}/{}/{}", key.force, key.case_ref, key.person_ref), person);
        }
        for (i, set) in &self.identifiers {
            let members: Vec<String> =
                set.iter().map(|m| format!("{}/{}/{}", m.force, m.case_ref, m.person_ref)).collect();
            out.insert(format!("identifier {}:{}", i.0.name(), i.1), members.join(","));
        }
        for c in self.consultations.all() {
            out.insert(
                format!("consultation {:020}", c.position.0),
                format!("{}:{:016x}", c.event_id, xxhash_rust::xxh3::xxh3_64(&c.encoded)),
            );
        }
        out
    }
}

impl Views {
    /// A SHA-256 digest of [`Views::fingerprint`]: two replicas, or a live view and its rebuild,
    /// hold the same views exactly when their digests are equal.
    pub fn digest(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for (k, v) in self.fingerprint() {
            h.update((k.len() as u64).to_be_bytes());
            h.update(k.as_bytes());
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Sizes of the views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub cases: usize,
    pub mentions: usize,
    pub persons: usize,
    pub identifiers: usize,
    pub places: usize,
}

/// Case reference of the ledger's resolution-model events.
pub const MODEL_CASE: &str = "RESOLUTION-MODEL";

/// The event recording a model estimate, under the ledger's force code: its id is a function of
/// the level alone, so that processes estimating the same level store one event (the log keeps
/// the first; a second is a duplicate).
pub fn model_event(
    estimate: d::ResolutionModelEstimated,
    ledger_force: &'static d::reference::Force,
    now: chrono::DateTime<chrono::Utc>,
) -> Event {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("beaconport resolution model, level {}", estimate.level));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Event {
        id: EventId(uuid::Uuid::new_v8(bytes)),
        force: ledger_force,
        case_ref: MODEL_CASE.into(),
        occurred_at: now,
        recorded_at: now,
        schema_version: 1,
        recorded_by: "beaconport-views".into(),
        body: Body::ResolutionModelEstimated(estimate),
    }
}

/// The person refs an event names: the only mentions of its case it can change.
fn persons_named(body: &Body) -> Vec<String> {
    match body {
        Body::PersonRecorded(p) => vec![p.person_ref.clone()],
        Body::OffenceRecorded(o) => o.suspect_refs.iter().chain(&o.victim_refs).cloned().collect(),
        Body::IdentifierObserved(i) => i.person_ref.iter().cloned().collect(),
        Body::LocationObserved(l) => l.person_refs.clone(),
        _ => Vec::new(),
    }
}

/// Fewest records to upsert for which preparing them is shared between threads.
const PREPARE_APART: usize = 64;

/// The records of `pending` prepared for the resolver (content hashes, normal forms, phonetic
/// codes, term-frequency weights: the part of an upsert that depends on the record alone), on
/// every core; `None` for each when there are too few to be worth the threads (the upsert then
/// prepares its record itself) and for removals.
fn prepare_all(
    resolver: &Resolver,
    pending: &[(MentionKey, Option<Record>)],
) -> Vec<Option<resolution::PreparedRecord>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if threads < 2 || pending.len() < PREPARE_APART {
        return Vec::new();
    }
    let prepare = |part: &[(MentionKey, Option<Record>)]| -> Vec<Option<resolution::PreparedRecord>> {
        part.iter().map(|(_, r)| r.as_ref().map(|r| resolver.prepare(r))).collect()
    };
    let chunk = pending.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let mut parts = pending.chunks(chunk);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|part| scope.spawn(move || prepare(part))).collect();
        let mut out = prepare(first);
        for h in others {
            out.extend(h.join().expect("preparing records does not panic"));
        }
        out
    })
}

fn remove_from<K: std::hash::Hash + Eq>(index: &mut HashMap<K, SortedSet<Key>>, k: &K, key: &MentionKey) {
    if let Some(set) = index.get_mut(k) {
        set.remove(key);
        if set.is_empty() {
            index.remove(k);
        }
    }
}

/// The resolver's key for a mention reference of an event.
pub fn mention_key(m: &d::MentionRef) -> MentionKey {
    MentionKey { force: m.force.code.to_string(), case_ref: m.case_ref.clone(), person_ref: m.person_ref.clone() }
}
