//! One case's events: planned with the time each happened, then written in time order with their
//! envelopes, so that recording times never go backwards within a case and never pass `now`.

use beaconport_domain::reference::Force;
use beaconport_domain::{Body, Event, EventId, RecordCorrected, RecordRetracted};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rand::seq::SliceRandom;
use rand::Rng;

/// What to write for one planned event.
#[derive(Debug)]
enum Planned {
    Body(Body),
    Correct { target: usize, reason: String, replacement: Body },
    Retract { target: usize, reason: String },
}

/// The events of one case, before they are written.
#[derive(Debug, Default)]
pub struct Plan {
    items: Vec<(DateTime<Utc>, Planned)>,
}

impl Plan {
    /// Plans `body` as happening at `at`; returns its handle, for corrections.
    pub fn push(&mut self, at: DateTime<Utc>, body: Body) -> usize {
        self.items.push((at, Planned::Body(body)));
        self.items.len() - 1
    }

    /// Plans a correction of the planned event `target`; `at` must be after that event.
    pub fn correct(&mut self, at: DateTime<Utc>, target: usize, reason: &str, replacement: Body) {
        debug_assert!(at > self.items[target].0);
        self.items.push((at, Planned::Correct { target, reason: reason.to_string(), replacement }));
    }

    /// Plans a retraction of the planned event `target`; `at` must be after that event.
    pub fn retract(&mut self, at: DateTime<Utc>, target: usize, reason: &str) {
        debug_assert!(at > self.items[target].0);
        self.items.push((at, Planned::Retract { target, reason: reason.to_string() }));
    }

    /// The planned body of `target`, if it is a plain event.
    pub fn body(&self, target: usize) -> Option<&Body> {
        match &self.items[target].1 {
            Planned::Body(b) => Some(b),
            _ => None,
        }
    }

    /// The body of `target` as it stands once every planned correction is applied (`None` when
    /// it is retracted or not a plain event).
    pub fn current(&self, target: usize) -> Option<&Body> {
        let mut body = self.body(target)?;
        for (_, item) in &self.items {
            match item {
                Planned::Correct { target: t, replacement, .. } if *t == target => body = replacement,
                Planned::Retract { target: t, .. } if *t == target => return None,
                _ => {}
            }
        }
        Some(body)
    }

    pub fn at(&self, target: usize) -> DateTime<Utc> {
        self.items[target].0
    }

    /// Writes the events in the order they happened, each recorded a little after it happened
    /// (never before the previous event of the case, never after `env.limit`).
    pub fn write<R: Rng>(self, rng: &mut R, env: &Envelope<'_>, out: &mut Vec<Event>) {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_by_key(|&i| (self.items[i].0, i));
        let mut items: Vec<Option<(DateTime<Utc>, Planned)>> = self.items.into_iter().map(Some).collect();
        let mut ids: Vec<Option<EventId>> = vec![None; items.len()];
        let mut cursor = DateTime::<Utc>::MIN_UTC;
        for i in order {
            let (at, planned) = items[i].take().expect("each planned event is written once");
            let occurred_at = at.min(env.limit);
            let recorded_at = (occurred_at + recording_lag(rng)).max(cursor).min(env.limit);
            cursor = recorded_at;
            let id = event_id(rng, recorded_at);
            ids[i] = Some(id);
            let body = match planned {
                Planned::Body(b) => b,
                Planned::Correct { target, reason, replacement } => Body::RecordCorrected(RecordCorrected {
                    corrected_event_id: ids[target].expect("a correction follows what it corrects"),
                    reason,
                    replacement: Box::new(replacement),
                }),
                Planned::Retract { target, reason } => Body::RecordRetracted(RecordRetracted {
                    retracted_event_id: ids[target].expect("a retraction follows what it retracts"),
                    reason,
                }),
            };
            out.push(Event {
                id,
                force: env.force,
                case_ref: env.case_ref.to_string(),
                occurred_at,
                recorded_at,
                schema_version: 1,
                recorded_by: env.recorder(rng).to_string(),
                body,
            });
        }
    }
}

/// The envelope fields shared by a case's events.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub force: &'static Force,
    pub case_ref: &'a str,
    /// Pseudonym of the officer in the case.
    pub oic: &'a str,
    /// Pseudonyms of the force's other officers and of its systems.
    pub officers: &'a [String],
    pub systems: &'a [String],
    /// Latest time anything may be recorded.
    pub limit: DateTime<Utc>,
}

impl Envelope<'_> {
    fn recorder<R: Rng>(&self, rng: &mut R) -> &str {
        match rng.gen_range(0..100) {
            0..=74 => self.oic,
            75..=91 => self.officers.choose(rng).map_or(self.oic, String::as_str),
            _ => self.systems.choose(rng).map_or(self.oic, String::as_str),
        }
    }
}

fn recording_lag<R: Rng>(rng: &mut R) -> Duration {
    match rng.gen_range(0..100) {
        0..=69 => Duration::seconds(rng.gen_range(60..90 * 60)),
        70..=94 => Duration::seconds(rng.gen_range(2 * 3600..48 * 3600)),
        _ => Duration::seconds(rng.gen_range(2 * 86_400..20 * 86_400)),
    }
}

/// A UUID v7 whose time is `recorded_at` and whose other bits come from `rng`.
pub fn event_id<R: Rng>(rng: &mut R, recorded_at: DateTime<Utc>) -> EventId {
    let mut bytes = [0u8; 10];
    rng.fill(&mut bytes);
    let ms = u64::try_from(recorded_at.timestamp_millis()).unwrap_or(0);
    EventId(uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid())
}

/// A time during the working day of `d` (whole seconds).
pub fn during<R: Rng>(rng: &mut R, d: NaiveDate) -> DateTime<Utc> {
    let secs = rng.gen_range(7 * 3600..22 * 3600);
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0).expect("seconds within a day");
    d.and_time(t).and_utc()
}
