//! One case file as it stands: the case's events with corrections applied and retractions
//! removed, folded into what the case says (who is in it, in which role, what was decided).
//!
//! Pure: folding a case is a function of its events, so a case touched by a correction or a
//! retraction is simply folded again from its file.

use std::collections::BTreeMap;

use beaconport_domain::reference::Force;
use beaconport_domain::{self as d, Body, Event, Identifier, Position, Role};

/// `(force code, case reference)`.
pub type CaseKey = (String, String);

/// One event of a case file, as stored: the original id and envelope, the body as it stands (a
/// correction replaces the body, keeping the original id so it can be corrected again), held
/// encoded: a case file in memory costs what it costs on disk.
#[derive(Debug, Clone)]
pub struct Effective {
    pub position: Position,
    pub id: d::EventId,
    pub encoded: bytes::Bytes,
}

/// How stored events become events and back. The encoding (protobuf) is not this pure crate's
/// business: the projection supplies it.
#[derive(Clone, Copy)]
pub struct Codec {
    pub decode: fn(&[u8]) -> Option<Event>,
    pub encode: fn(&Event) -> Vec<u8>,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Codec")
    }
}

impl Effective {
    /// The event as it stands.
    pub fn event(&self, codec: &Codec) -> Option<Event> {
        (codec.decode)(&self.encoded)
    }
}

/// One person as recorded in this case.
#[derive(Debug, Clone)]
pub struct Mention {
    pub person: d::PersonRecorded,
    /// The event that recorded the person as it stands now.
    pub event_id: d::EventId,
    /// Position of the event that recorded the person as it stands now.
    pub position: Position,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// Identifiers observed later and tied to this person.
    pub observed: Vec<Identifier>,
    /// Places tied to this person: offence scenes (suspects and victims) and sightings.
    pub places: Vec<PlaceRef>,
}

/// A place as the views key it, with a readable label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlaceRef {
    pub key: String,
    pub label: String,
    /// `address` for a person's recorded address, `scene` for an offence, `sighting` for a location observed.
    pub source: &'static str,
}

/// A case folded from its events.
#[derive(Debug, Clone)]
pub struct Case {
    pub key: CaseKey,
    /// The key, shared with the index of events by id.
    pub shared_key: std::sync::Arc<CaseKey>,
    pub force: &'static Force,
    /// The case file: events as they stand, in log order.
    pub events: Vec<Effective>,
    pub opened: Option<d::CaseOpened>,
    pub persons: BTreeMap<String, Mention>,
    pub offences: Vec<d::OffenceRecorded>,
    pub locations: Vec<d::LocationObserved>,
    pub decisions: Vec<d::DecisionRecorded>,
    pub interviews: Vec<d::InterviewRecorded>,
    pub statements: Vec<d::StatementTaken>,
    pub referrals: Vec<d::CaseReferred>,
    pub reviews: Vec<d::IndependentReviewRecorded>,
    pub travel_risks: Vec<d::TravelRiskNoted>,
    /// Flags standing now, those set at opening included: (flag, person or the whole case).
    pub flags: Vec<(d::AbuseFlag, Option<String>)>,
    /// Identifiers observed in the case and tied to no person.
    pub loose_identifiers: Vec<Identifier>,
    pub link_decisions: Vec<d::LinkDecided>,
    /// The national review's record of its work on the case, in log order.
    pub review_log: Vec<ReviewStep>,
    /// Position of the last event that changed the case (folded, corrected or retracted), so
    /// views derived per case know when to derive it again.
    pub changed: Position,
}

/// One step of the national review's work on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewStep {
    pub position: Position,
    pub reviewer: String,
    pub body: Body,
}

impl Case {
    pub fn new(key: CaseKey, force: &'static Force) -> Self {
        Case {
            shared_key: std::sync::Arc::new(key.clone()),
            key,
            force,
            events: Vec::new(),
            opened: None,
            persons: BTreeMap::new(),
            offences: Vec::new(),
            locations: Vec::new(),
            decisions: Vec::new(),
            interviews: Vec::new(),
            statements: Vec::new(),
            referrals: Vec::new(),
            reviews: Vec::new(),
            travel_risks: Vec::new(),
            flags: Vec::new(),
            loose_identifiers: Vec::new(),
            link_decisions: Vec::new(),
            review_log: Vec::new(),
            changed: Position(0),
        }
    }

    /// Folds the case again from its file (after a correction or a retraction).
    pub fn refold(&mut self, codec: &Codec) {
        let events = std::mem::take(&mut self.events);
        let shared_key = self.shared_key.clone();
        *self = Case::new(self.key.clone(), self.force);
        self.shared_key = shared_key;
        for e in events {
            match e.event(codec) {
                Some(event) => self.fold(e.position, &event, e.encoded, &mut Vec::new()),
                // Kept as stored, not folded: a stored event this build cannot read.
                None => self.events.push(e),
            }
        }
    }

    /// Adds one event (neither a correction nor a retraction), stored as `encoded`, to the file
    /// and folds it in; `touched` receives the person refs whose mention changed.
    pub fn fold(&mut self, position: Position, event: &Event, encoded: bytes::Bytes, touched: &mut Vec<String>) {
        let recorded_at = event.recorded_at;
        match &event.body {
            Body::CaseOpened(c) => {
                // The flags the force set at opening stand on the case until removed.
                for f in &c.force_flags {
                    if !self.flags.contains(&(*f, None)) {
                        self.flags.push((*f, None));
                    }
                }
                self.opened = Some(c.clone());
            }
            Body::PersonRecorded(p) => {
                let prior = self.persons.remove(&p.person_ref);
                let (observed, places) = prior.map(|m| (m.observed, m.places)).unwrap_or_default();
                let mut m = Mention { person: p.clone(), event_id: event.id, position, recorded_at, observed, places };
                m.places.retain(|pl| pl.source != "address");
                for a in &p.addresses {
                    if let Some(pl) = address_place(a) {
                        m.places.push(pl);
                    }
                }
                self.persons.insert(p.person_ref.clone(), m);
                // Offences and sightings recorded before the person was.
                self.attach_places(&p.person_ref);
                touched.push(p.person_ref.clone());
            }
            Body::OffenceRecorded(o) => {
                self.offences.push(o.clone());
                if let Some(pl) = o.place.as_ref().and_then(|p| place_ref(p, "scene")) {
                    for r in o.suspect_refs.iter().chain(&o.victim_refs) {
                        if let Some(m) = self.persons.get_mut(r) {
                            push_unique(&mut m.places, pl.clone());
                            touched.push(r.clone());
                        }
                    }
                }
            }
            Body::IdentifierObserved(i) => match i.person_ref.as_ref().and_then(|r| self.persons.get_mut(r)) {
                Some(m) => {
                    if !m.observed.contains(&i.identifier) {
                        m.observed.push(i.identifier.clone());
                    }
                    touched.push(m.person.person_ref.clone());
                }
                None => self.loose_identifiers.push(i.identifier.clone()),
            },
            Body::LocationObserved(l) => {
                self.locations.push(l.clone());
                if let Some(pl) = place_ref(&l.place, "sighting") {
                    for r in &l.person_refs {
                        if let Some(m) = self.persons.get_mut(r) {
                            push_unique(&mut m.places, pl.clone());
                            touched.push(r.clone());
                        }
                    }
                }
            }
            Body::InterviewRecorded(i) => self.interviews.push(i.clone()),
            Body::StatementTaken(s) => self.statements.push(s.clone()),
            Body::DecisionRecorded(x) => self.decisions.push(x.clone()),
            Body::CaseReferred(r) => self.referrals.push(r.clone()),
            Body::IndependentReviewRecorded(r) => self.reviews.push(r.clone()),
            Body::TravelRiskNoted(t) => self.travel_risks.push(t.clone()),
            Body::FlagApplied(f) => {
                let k = (f.flag, f.person_ref.clone());
                if !self.flags.contains(&k) {
                    self.flags.push(k);
                }
            }
            Body::FlagRemoved(f) => self.flags.retain(|(fl, p)| !(*fl == f.flag && *p == f.person_ref)),
            Body::LinkDecided(l) => self.link_decisions.push(l.clone()),
            Body::ReviewStarted(_) | Body::AvenueActioned(_) | Body::ReviewConcluded(_) => self
                .review_log
                .push(ReviewStep { position, reviewer: event.recorded_by.clone(), body: event.body.clone() }),
            // Corrections and retractions change the file itself; the views handle them.
            Body::RecordCorrected(_) | Body::RecordRetracted(_) => return,
            // Consultations belong to no case: the views keep them apart.
            Body::ConsultationRecorded(_) => return,
            // The resolution model belongs to no case either.
            Body::ResolutionModelEstimated(_) => return,
        }
        self.events.push(Effective { position, id: event.id, encoded });
        self.changed = self.changed.max(position);
    }

    /// Replaces, in place, the record of a person whose latest record is the event `target`
    /// (the usual correction: a person's details fixed), without folding the case again.
    /// Returns false, changing nothing, when the correction is not of that kind.
    pub fn correct_person(
        &mut self,
        target: d::EventId,
        replacement: &d::PersonRecorded,
        position: Position,
        codec: &Codec,
    ) -> bool {
        let Some(m) = self.persons.get_mut(&replacement.person_ref) else { return false };
        if m.event_id != target {
            return false;
        }
        let Some(e) = self.events.iter_mut().find(|e| e.id == target) else { return false };
        let Some(mut event) = e.event(codec) else { return false };
        match &event.body {
            Body::PersonRecorded(old) if old.person_ref == replacement.person_ref => {}
            _ => return false,
        }
        event.body = Body::PersonRecorded(replacement.clone());
        e.encoded = (codec.encode)(&event).into();
        e.position = position;
        m.person = replacement.clone();
        m.position = position;
        self.changed = self.changed.max(position);
        m.places.retain(|pl| pl.source != "address");
        for a in &replacement.addresses {
            if let Some(pl) = address_place(a) {
                push_unique(&mut m.places, pl);
            }
        }
        true
    }

    /// Re-attaches the places of offences and sightings that name `person_ref`.
    fn attach_places(&mut self, person_ref: &str) {
        let mut found = Vec::new();
        for o in &self.offences {
            if o.suspect_refs.iter().chain(&o.victim_refs).any(|r| r == person_ref) {
                found.extend(o.place.as_ref().and_then(|p| place_ref(p, "scene")));
            }
        }
        for l in &self.locations {
            if l.person_refs.iter().any(|r| r == person_ref) {
                found.extend(place_ref(&l.place, "sighting"));
            }
        }
        if let Some(m) = self.persons.get_mut(person_ref) {
            for pl in found {
                push_unique(&mut m.places, pl);
            }
        }
    }

    /// The role of a person in this case.
    pub fn role_of(&self, person_ref: &str) -> Option<Role> {
        self.persons.get(person_ref).map(|m| m.person.role)
    }

    /// Person refs of the case's persons in `role`.
    pub fn refs_in_role(&self, role: Role) -> impl Iterator<Item = &str> {
        self.persons.values().filter(move |m| m.person.role == role).map(|m| m.person.person_ref.as_str())
    }

    /// The latest decision naming `person_ref` (or naming nobody, so the whole case).
    pub fn latest_decision_for(&self, person_ref: &str) -> Option<&d::DecisionRecorded> {
        self.decisions
            .iter()
            .filter(|x| x.person_refs.is_empty() || x.person_refs.iter().any(|r| r == person_ref))
            .max_by_key(|x| x.decided_on)
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A recorded address as a place: keyed by postcode and first line, so "12 High St" and
/// "12 High Street" at one postcode are the same address only when the line agrees once squashed.
pub fn address_place(a: &d::Address) -> Option<PlaceRef> {
    let pc = squash(&a.postcode);
    let line = squash(&a.line1);
    if pc.is_empty() || line.is_empty() {
        return None;
    }
    Some(PlaceRef {
        key: format!("addr:{pc}:{line}"),
        label: format!("{}, {}", a.line1.trim(), a.postcode.trim().to_uppercase()),
        source: "address",
    })
}

/// A place (offence scene or sighting) as the views key it: its address when it has one, else
/// its name in its town, else its coordinates to about 10 metres.
pub fn place_ref(p: &d::Place, source: &'static str) -> Option<PlaceRef> {
    if let Some(a) = &p.address {
        if let Some(mut pl) = address_place(a) {
            if !p.name.trim().is_empty() {
                pl.label = format!("{} ({})", p.name.trim(), pl.label);
            }
            pl.source = source;
            return Some(pl);
        }
    }
    let name = squash(&p.name);
    let town = p.address.as_ref().map(|a| squash(&a.town)).unwrap_or_default();
    if !name.is_empty() {
        return Some(PlaceRef { key: format!("place:{town}:{name}"), label: p.name.trim().to_string(), source });
    }
    p.coordinates.map(|(lat, lon)| PlaceRef {
        key: format!("geo:{lat:.4}:{lon:.4}"),
        label: format!("{lat:.5}, {lon:.5}"),
        source,
    })
}
