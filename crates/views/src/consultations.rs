//! The consultation log as a view: every query the ledger answered (a `consultation_recorded`
//! event), indexed by principal and by what it disclosed, for auditors.
//!
//! Consultations are kept apart from case files: they belong to no case, are never corrected,
//! and grow with every query, so they are held (and stored by the runner) one by one, in log
//! order.

use std::collections::BTreeSet;

use foldhash::HashMap;

use beaconport_domain::resolution::Resolver;
use beaconport_domain::{ConsultationRecorded, EventId, PersonId, Position};
use chrono::{DateTime, Utc};

/// One consultation of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Consultation {
    pub position: Position,
    pub event_id: EventId,
    /// When the ledger recorded it (the event's `recorded_at`).
    pub at: DateTime<Utc>,
    pub body: ConsultationRecorded,
    /// The stored encoding of the event (what the runner stores).
    pub encoded: bytes::Bytes,
}

/// Every consultation, in log order, with indexes by principal and by person disclosed.
#[derive(Debug, Default)]
pub struct Consultations {
    entries: Vec<Consultation>,
    by_principal: HashMap<String, Vec<usize>>,
    by_person: HashMap<PersonId, Vec<usize>>,
    /// Entries the runner has stored (the rest are new since its last commit).
    stored: usize,
}

/// What an auditor asks of the consultation log; every part narrows it.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub principal: Option<String>,
    /// Consultations that disclosed this person under any id it has had: its own, or the id of
    /// any of its mentions (a person's id is that of its smallest mention, so ids change with
    /// merges and splits, and each mention's id is one the person may have been disclosed under).
    pub person: Option<PersonId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Consultations {
    /// Adds a consultation (in log order).
    pub fn push(&mut self, c: Consultation) {
        debug_assert!(self.entries.last().is_none_or(|l| l.position < c.position));
        let i = self.entries.len();
        self.by_principal.entry(c.body.principal.clone()).or_default().push(i);
        let persons: BTreeSet<PersonId> = c.body.disclosed_persons.iter().filter_map(|p| p.parse().ok()).collect();
        for p in persons {
            self.by_person.entry(p).or_default().push(i);
        }
        self.entries.push(c);
    }

    /// Adds a consultation loaded from the store (already stored).
    pub fn load(&mut self, c: Consultation) {
        self.push(c);
        self.stored = self.entries.len();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every consultation, in log order.
    pub fn all(&self) -> &[Consultation] {
        &self.entries
    }

    /// The consultations added since the last call, for the runner to store.
    pub fn take_unstored(&mut self) -> Vec<Consultation> {
        let new = self.entries[self.stored..].to_vec();
        self.stored = self.entries.len();
        new
    }

    /// The consultations matching `filter`, most recent first. `resolver` gives the person's
    /// mentions (and so every id it may have been disclosed under).
    pub fn list(&self, filter: &Filter, resolver: &Resolver) -> Vec<&Consultation> {
        let mut candidates: Option<BTreeSet<usize>> = None;
        let mut narrow = |set: BTreeSet<usize>| {
            candidates = Some(match candidates.take() {
                None => set,
                Some(c) => c.intersection(&set).copied().collect(),
            });
        };
        if let Some(p) = &filter.principal {
            narrow(self.by_principal.get(p).into_iter().flatten().copied().collect());
        }
        if let Some(person) = filter.person {
            let mut ids: BTreeSet<PersonId> = resolver.members(person).into_iter().map(|k| k.person_id()).collect();
            ids.insert(person);
            narrow(ids.iter().filter_map(|id| self.by_person.get(id)).flatten().copied().collect());
        }
        let in_time = |c: &Consultation| filter.from.is_none_or(|f| c.at >= f) && filter.to.is_none_or(|t| c.at <= t);
        let mut out: Vec<&Consultation> = match candidates {
            Some(set) => set.into_iter().map(|i| &self.entries[i]).filter(|c| in_time(c)).collect(),
            None => self.entries.iter().filter(|c| in_time(c)).collect(),
        };
        out.reverse();
        out
    }
}
