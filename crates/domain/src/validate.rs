//! Validation of whole events and batches. The proto crate parses each field with [`crate::rules`]
//! while mapping the wire message to [`Event`]; [`check_event`] then checks every field of the
//! typed event against the rules that need the rest of the event or the clock (future dates,
//! order of dates, sizes, formats). Both report into one [`Checker`], so a rejected event lists
//! every problem at once, each naming the event, the field and the reason.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::event::*;
use crate::reference;
use crate::rules::{self, quote, MAX_LIST, MAX_SHORT_TEXT, MAX_TEXT};

/// One problem with one field of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Index of the event in its batch.
    pub index: usize,
    /// The event's id as sent (possibly not a valid UUID).
    pub event_id: String,
    /// Path of the field in the event (`person_recorded.date_of_birth`).
    pub field: String,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = if self.event_id.is_empty() {
            format!("#{}", self.index)
        } else {
            rules::quote(&self.event_id).trim_matches('"').to_string()
        };
        write!(f, "event {id}: {}: {}", self.field, self.reason)
    }
}

/// What validation may know about the world: the ledger's clock.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: DateTime<Utc>,
}

impl Context {
    fn latest(&self) -> DateTime<Utc> {
        self.now + Duration::seconds(rules::CLOCK_SKEW_SECONDS)
    }
}

/// Collects the problems of one event.
#[derive(Debug)]
pub struct Checker {
    index: usize,
    event_id: String,
    errors: Vec<FieldError>,
}

impl Checker {
    /// A checker of the event at `index` of its batch; give it the id string by value where the
    /// caller has no further use for it (no copy).
    pub fn new(index: usize, event_id: impl Into<String>) -> Self {
        Self { index, event_id: event_id.into(), errors: Vec::new() }
    }

    /// The event id as it was given (whatever its form).
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// Records a problem with `field`. Field paths are formatted only here, on failure: pass
    /// `format_args!` rather than a `String` on hot paths.
    pub fn fail(&mut self, field: impl fmt::Display, reason: impl Into<String>) {
        self.errors.push(FieldError {
            index: self.index,
            event_id: self.event_id.clone(),
            field: field.to_string(),
            reason: reason.into(),
        });
    }

    /// Records the error of `r`, if any, against `field`, and passes the value on.
    pub fn take<T>(&mut self, field: impl fmt::Display, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(reason) => {
                self.fail(field, reason);
                None
            }
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }

    fn text(&mut self, field: impl fmt::Display + Copy, s: &str, max: usize) {
        if let Err(e) = rules::check_text(s, max) {
            self.fail(field, e);
        }
    }

    fn required_text(&mut self, field: impl fmt::Display + Copy, s: &str, max: usize) {
        if s.trim().is_empty() {
            self.fail(field, "is required");
        } else {
            self.text(field, s, max);
        }
    }

    fn reference(&mut self, field: impl fmt::Display + Copy, s: &str) {
        if let Err(e) = rules::check_ref(s) {
            self.fail(field, e);
        }
    }

    fn list_len<T>(&mut self, field: impl fmt::Display, list: &[T]) {
        if list.len() > MAX_LIST {
            self.fail(field, format!("has {} entries, more than the {MAX_LIST} allowed", list.len()));
        }
    }

    fn refs(&mut self, field: impl fmt::Display + Copy, refs: &[String]) {
        self.list_len(field, refs);
        // Lists are short (at most MAX_LIST are looked at): a scan beats hashing and allocating.
        for (i, r) in refs.iter().enumerate().take(MAX_LIST) {
            self.reference(format_args!("{field}[{i}]"), r);
            if refs[..i].contains(r) {
                self.fail(format_args!("{field}[{i}]"), format!("{} is listed twice", quote(r)));
            }
        }
    }

    fn not_future_date(&mut self, field: impl fmt::Display + Copy, d: NaiveDate, ctx: &Context) {
        if d > ctx.latest().date_naive() {
            self.fail(field, format!("{d} is in the future"));
        }
    }

    fn not_future_partial(&mut self, field: impl fmt::Display + Copy, d: PartialDate, ctx: &Context) {
        if d.earliest() > ctx.latest().date_naive() {
            self.fail(field, format!("{d} is in the future"));
        }
    }
}

/// Checks every field of a typed event that parsing alone cannot: sizes, formats, dates against
/// the clock and against each other.
pub fn check_event(e: &Event, ctx: &Context, ck: &mut Checker) {
    ck.reference("case_ref", &e.case_ref);
    ck.reference("recorded_by", &e.recorded_by);
    if e.schema_version != 1 {
        ck.fail("schema_version", format!("version {} is not supported (expected 1)", e.schema_version));
    }
    if e.occurred_at > ctx.latest() {
        ck.fail("occurred_at", format!("{} is in the future", e.occurred_at.to_rfc3339()));
    }
    if e.recorded_at > ctx.latest() {
        ck.fail("recorded_at", format!("{} is in the future", e.recorded_at.to_rfc3339()));
    }
    if e.occurred_at > e.recorded_at + Duration::seconds(rules::CLOCK_SKEW_SECONDS) {
        ck.fail(
            "occurred_at",
            format!("{} is after recorded_at {}", e.occurred_at.to_rfc3339(), e.recorded_at.to_rfc3339()),
        );
    }
    check_body(e, &e.body, e.body.kind().name(), ctx, ck);
}

fn check_body(e: &Event, body: &Body, p: &str, ctx: &Context, ck: &mut Checker) {
    let occurred = e.occurred_at.date_naive();
    match body {
        Body::CaseOpened(c) => {
            ck.list_len(format_args!("{p}.force_flags"), &c.force_flags);
            for (i, f) in c.force_flags.iter().enumerate().take(MAX_LIST) {
                if c.force_flags[..i].contains(f) {
                    ck.fail(format_args!("{p}.force_flags[{i}]"), "flag is listed twice");
                }
            }
            if let Some(d) = c.reported_on {
                ck.not_future_date(format_args!("{p}.reported_on"), d, ctx);
            }
            ck.text(format_args!("{p}.area"), &c.area, MAX_SHORT_TEXT);
            ck.text(format_args!("{p}.title"), &c.title, MAX_SHORT_TEXT);
        }
        Body::PersonRecorded(r) => check_person(r, p, occurred, ctx, ck),
        Body::OffenceRecorded(o) => {
            ck.reference(format_args!("{p}.offence_ref"), &o.offence_ref);
            ck.refs(format_args!("{p}.suspect_refs"), &o.suspect_refs);
            ck.refs(format_args!("{p}.victim_refs"), &o.victim_refs);
            if o.suspect_refs.is_empty() && o.victim_refs.is_empty() {
                ck.fail(format_args!("{p}.victim_refs"), "an offence names at least one suspect or victim");
            }
            if let Some(d) = o.committed_from {
                ck.not_future_partial(format_args!("{p}.committed_from"), d, ctx);
            }
            if let Some(d) = o.committed_to {
                ck.not_future_partial(format_args!("{p}.committed_to"), d, ctx);
            }
            if let (Some(from), Some(to)) = (o.committed_from, o.committed_to) {
                if from.earliest() > to.earliest() {
                    ck.fail(format_args!("{p}.committed_to"), format!("{to} is before committed_from {from}"));
                }
            }
            if let Some(place) = &o.place {
                check_place(format_args!("{p}.place"), place, false, ck);
            }
        }
        Body::IdentifierObserved(o) => {
            check_identifier(format_args!("{p}.identifier"), &o.identifier, ck);
            if let Some(r) = &o.person_ref {
                ck.reference(format_args!("{p}.person_ref"), r);
            }
            ck.text(format_args!("{p}.context"), &o.context, MAX_TEXT);
        }
        Body::LocationObserved(o) => {
            check_place(format_args!("{p}.place"), &o.place, true, ck);
            ck.refs(format_args!("{p}.person_refs"), &o.person_refs);
            ck.text(format_args!("{p}.context"), &o.context, MAX_TEXT);
        }
        Body::InterviewRecorded(i) => {
            ck.reference(format_args!("{p}.person_ref"), &i.person_ref);
            ck.not_future_date(format_args!("{p}.interviewed_on"), i.interviewed_on, ctx);
        }
        Body::StatementTaken(s) => {
            ck.reference(format_args!("{p}.person_ref"), &s.person_ref);
            ck.not_future_date(format_args!("{p}.taken_on"), s.taken_on, ctx);
        }
        Body::DecisionRecorded(d) => {
            ck.refs(format_args!("{p}.person_refs"), &d.person_refs);
            if let Some(t) = d.outcome_type {
                if !(1..=22).contains(&t) {
                    ck.fail(
                        format_args!("{p}.outcome_type"),
                        format!("{t} is not a Home Office outcome type (1 to 22)"),
                    );
                }
            }
            ck.text(format_args!("{p}.reason"), &d.reason, MAX_TEXT);
            ck.not_future_date(format_args!("{p}.decided_on"), d.decided_on, ctx);
        }
        Body::CaseReferred(r) => {
            ck.required_text(format_args!("{p}.programme"), &r.programme, MAX_SHORT_TEXT);
            ck.text(format_args!("{p}.reason"), &r.reason, MAX_TEXT);
            ck.not_future_date(format_args!("{p}.referred_on"), r.referred_on, ctx);
        }
        Body::IndependentReviewRecorded(r) => {
            ck.required_text(format_args!("{p}.reviewing_body"), &r.reviewing_body, MAX_SHORT_TEXT);
            ck.not_future_date(format_args!("{p}.reviewed_on"), r.reviewed_on, ctx);
            ck.text(format_args!("{p}.summary"), &r.summary, MAX_TEXT);
        }
        Body::TravelRiskNoted(t) => {
            ck.reference(format_args!("{p}.person_ref"), &t.person_ref);
            if let Some(c) = &t.destination_country {
                if !reference::is_country(c) {
                    ck.fail(
                        format_args!("{p}.destination_country"),
                        format!("{} is not an ISO 3166-1 alpha-2 code", quote(c)),
                    );
                }
            }
            ck.not_future_date(format_args!("{p}.noted_on"), t.noted_on, ctx);
            ck.text(format_args!("{p}.details"), &t.details, MAX_TEXT);
        }
        Body::FlagApplied(f) | Body::FlagRemoved(f) => {
            if let Some(r) = &f.person_ref {
                ck.reference(format_args!("{p}.person_ref"), r);
            }
            ck.text(format_args!("{p}.reason"), &f.reason, MAX_TEXT);
        }
        Body::RecordCorrected(c) => {
            if c.corrected_event_id == e.id {
                ck.fail(format_args!("{p}.corrected_event_id"), "an event cannot correct itself");
            }
            ck.required_text(format_args!("{p}.reason"), &c.reason, MAX_TEXT);
            match c.replacement.kind() {
                EventKind::RecordCorrected | EventKind::RecordRetracted => ck.fail(
                    format_args!("{p}.replacement"),
                    "a correction replaces a record, not another correction or retraction",
                ),
                kind => check_body(e, &c.replacement, &format!("{p}.replacement.{}", kind.name()), ctx, ck),
            }
        }
        Body::RecordRetracted(r) => {
            if r.retracted_event_id == e.id {
                ck.fail(format_args!("{p}.retracted_event_id"), "an event cannot retract itself");
            }
            ck.required_text(format_args!("{p}.reason"), &r.reason, MAX_TEXT);
        }
        Body::LinkDecided(l) => {
            for (side, m) in [("a", &l.a), ("b", &l.b)] {
                ck.reference(format_args!("{p}.{side}.case_ref"), &m.case_ref);
                ck.reference(format_args!("{p}.{side}.person_ref"), &m.person_ref);
            }
            if l.a == l.b {
                ck.fail(format_args!("{p}.b"), "is the same mention as a");
            }
            ck.required_text(format_args!("{p}.reason"), &l.reason, MAX_TEXT);
        }
        Body::ReviewStarted(r) => {
            ck.required_text(format_args!("{p}.programme"), &r.programme, MAX_SHORT_TEXT);
            ck.not_future_date(format_args!("{p}.started_on"), r.started_on, ctx);
            ck.text(format_args!("{p}.note"), &r.note, MAX_TEXT);
        }
        Body::AvenueActioned(a) => {
            if let Err(reason) = crate::review::Avenue::parse_id(&a.avenue) {
                ck.fail(format_args!("{p}.avenue"), reason);
            }
            ck.not_future_date(format_args!("{p}.actioned_on"), a.actioned_on, ctx);
            ck.text(format_args!("{p}.note"), &a.note, MAX_TEXT);
        }
        Body::ReviewConcluded(r) => {
            ck.not_future_date(format_args!("{p}.concluded_on"), r.concluded_on, ctx);
            ck.required_text(format_args!("{p}.summary"), &r.summary, MAX_TEXT);
        }
        // Its numbers are checked as it is decoded (a model that reads back is a model).
        Body::ResolutionModelEstimated(_) => {}
        Body::ConsultationRecorded(c) => {
            ck.required_text(format_args!("{p}.principal"), &c.principal, MAX_SHORT_TEXT);
            ck.required_text(format_args!("{p}.role"), &c.role, MAX_SHORT_TEXT);
            ck.required_text(format_args!("{p}.purpose"), &c.purpose, MAX_TEXT);
            ck.required_text(format_args!("{p}.call"), &c.call, MAX_SHORT_TEXT);
            ck.text(format_args!("{p}.request"), &c.request, MAX_TEXT);
            ck.required_text(format_args!("{p}.outcome"), &c.outcome, MAX_TEXT);
            ck.text(format_args!("{p}.as_of"), &c.as_of, MAX_SHORT_TEXT);
        }
    }
}

fn check_person(r: &PersonRecorded, p: &str, occurred: NaiveDate, ctx: &Context, ck: &mut Checker) {
    ck.reference(format_args!("{p}.person_ref"), &r.person_ref);
    match &r.name {
        Some(n) => check_name(format_args!("{p}.name"), n, ck),
        None if r.description.trim().is_empty() => {
            ck.fail(format_args!("{p}.name"), "is required (or a description of the unidentified person)")
        }
        None => {}
    }
    ck.text(format_args!("{p}.description"), &r.description, MAX_SHORT_TEXT);
    ck.list_len(format_args!("{p}.aliases"), &r.aliases);
    for (i, a) in r.aliases.iter().enumerate().take(MAX_LIST) {
        check_name(format_args!("{p}.aliases[{i}]"), a, ck);
    }
    if let Some(dob) = r.date_of_birth {
        let f = format_args!("{p}.date_of_birth");
        if dob.earliest() > ctx.latest().date_naive() {
            ck.fail(f, format!("{dob} is in the future"));
        } else if dob.earliest() > occurred {
            ck.fail(f, format!("{dob} is after the event occurred ({occurred})"));
        } else if r.vital_status != Some(VitalStatus::Deceased)
            && ctx.now.date_naive().year() - dob.year > rules::MAX_AGE_YEARS
        {
            ck.fail(f, format!("{dob} would make a living person over {} years old", rules::MAX_AGE_YEARS));
        }
    }
    match (r.vital_status, r.date_of_death) {
        (Some(VitalStatus::Deceased), Some(dod)) => {
            ck.not_future_partial(format_args!("{p}.date_of_death"), dod, ctx);
            if let Some(dob) = r.date_of_birth {
                if dod.earliest() < dob.earliest() {
                    ck.fail(format_args!("{p}.date_of_death"), format!("{dod} is before the date of birth {dob}"));
                }
            }
        }
        (_, Some(_)) => ck.fail(format_args!("{p}.date_of_death"), "is set but vital_status is not deceased"),
        _ => {}
    }
    ck.list_len(format_args!("{p}.nationalities"), &r.nationalities);
    for (i, c) in r.nationalities.iter().enumerate().take(MAX_LIST) {
        if !reference::is_country(c) {
            ck.fail(format_args!("{p}.nationalities[{i}]"), format!("{} is not an ISO 3166-1 alpha-2 code", quote(c)));
        } else if r.nationalities[..i].contains(c) {
            ck.fail(format_args!("{p}.nationalities[{i}]"), format!("{c} is listed twice"));
        }
    }
    ck.list_len(format_args!("{p}.addresses"), &r.addresses);
    for (i, a) in r.addresses.iter().enumerate().take(MAX_LIST) {
        check_address(format_args!("{p}.addresses[{i}]"), a, ck);
    }
    ck.list_len(format_args!("{p}.identifiers"), &r.identifiers);
    for (i, id) in r.identifiers.iter().enumerate().take(MAX_LIST) {
        check_identifier(format_args!("{p}.identifiers[{i}]"), id, ck);
        if r.identifiers[..i].contains(id) {
            ck.fail(
                format_args!("{p}.identifiers[{i}]"),
                format!("{} {} is listed twice", id.kind.name(), quote(&id.value)),
            );
        }
    }
}

fn check_name(field: impl fmt::Display + Copy, n: &Name, ck: &mut Checker) {
    if n.forenames.trim().is_empty() && n.surname.trim().is_empty() {
        ck.fail(field, "a named person needs a forename or a surname");
        return;
    }
    for (part, v) in [("forenames", &n.forenames), ("surname", &n.surname)] {
        if let Err(e) = rules::check_name_part(v) {
            ck.fail(format_args!("{field}.{part}"), e);
        }
    }
}

fn check_address(field: impl fmt::Display + Copy, a: &Address, ck: &mut Checker) {
    for (part, v) in [("line1", &a.line1), ("line2", &a.line2), ("town", &a.town)] {
        ck.text(format_args!("{field}.{part}"), v, MAX_SHORT_TEXT);
    }
    if a.line1.trim().is_empty() && a.postcode.trim().is_empty() && a.town.trim().is_empty() {
        ck.fail(field, "an address needs at least a first line, a town or a postcode");
    }
    let uk = a.country.is_empty() || a.country == "GB";
    if !a.country.is_empty() && !reference::is_country(&a.country) {
        ck.fail(format_args!("{field}.country"), format!("{} is not an ISO 3166-1 alpha-2 code", quote(&a.country)));
    }
    if !a.postcode.is_empty() {
        if uk {
            if let Err(e) = rules::check_uk_postcode(&a.postcode) {
                ck.fail(format_args!("{field}.postcode"), e);
            }
        } else {
            ck.text(format_args!("{field}.postcode"), &a.postcode, 16);
        }
    }
}

fn check_identifier(field: impl fmt::Display + Copy, id: &Identifier, ck: &mut Checker) {
    if let Err(e) = rules::check_identifier(id.kind, &id.value) {
        ck.fail(format_args!("{field}.value"), e);
    }
}

fn check_place(field: impl fmt::Display + Copy, place: &Place, required: bool, ck: &mut Checker) {
    ck.text(format_args!("{field}.name"), &place.name, MAX_SHORT_TEXT);
    if let Some(a) = &place.address {
        check_address(format_args!("{field}.address"), a, ck);
    }
    if let Some((lat, lon)) = place.coordinates {
        if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
            ck.fail(format_args!("{field}.latitude"), format!("{lat} is not a latitude (-90 to 90)"));
        }
        if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
            ck.fail(format_args!("{field}.longitude"), format!("{lon} is not a longitude (-180 to 180)"));
        }
    }
    if required && place.name.trim().is_empty() && place.address.is_none() && place.coordinates.is_none() {
        ck.fail(field, "a place needs a name, an address or coordinates");
    }
}

// What only the whole batch can tell, its size and no event id twice, is checked event by
// event as a batch is decoded (see `beaconport_proto`'s batch decoding).

/// The problem with a batch of `n` events if it holds more than a batch may.
pub fn batch_size(n: usize) -> Option<FieldError> {
    (n > rules::MAX_BATCH).then(|| FieldError {
        index: 0,
        event_id: String::new(),
        field: "events".into(),
        reason: format!("a batch holds at most {} events, this one {n}", rules::MAX_BATCH),
    })
}

/// The event ids seen so far in a batch, to refuse one sent twice. An id is compared as the
/// UUID it spells (so `A1…` and `a1…` are the same event, as the log would take them); one
/// that is no UUID (refused anyway) as its text.
#[derive(Debug)]
pub struct BatchIds {
    ids: std::collections::HashMap<uuid::Uuid, usize, foldhash::fast::RandomState>,
    other: std::collections::HashMap<String, usize, foldhash::fast::RandomState>,
}

impl BatchIds {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ids: std::collections::HashMap::with_capacity_and_hasher(n, Default::default()),
            other: Default::default(),
        }
    }

    /// Notes the id of the event at `index`; the problem if an earlier event had it. An empty
    /// id is not compared (it is refused on its own).
    pub fn check(&mut self, index: usize, id: &str) -> Option<FieldError> {
        if id.is_empty() {
            return None;
        }
        let first = match uuid::Uuid::try_parse(id) {
            Ok(u) => self.ids.insert(u, index),
            Err(_) => self.other.insert(id.to_string(), index),
        }?;
        Some(FieldError {
            index,
            event_id: id.to_string(),
            field: "event_id".into(),
            reason: format!("duplicates the id of event #{first} in the same batch"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EventId;

    fn at(s: &str) -> DateTime<Utc> {
        rules::parse_timestamp(s).unwrap()
    }

    fn ctx() -> Context {
        Context { now: at("2025-06-30T12:00:00Z") }
    }

    fn person() -> PersonRecorded {
        PersonRecorded {
            person_ref: "P1".into(),
            role: Role::Suspect,
            name: Some(Name { forenames: "Adam".into(), surname: "Example".into() }),
            aliases: vec![],
            date_of_birth: Some(rules::parse_partial_date("1980-04").unwrap()),
            sex: Some(Sex::Male),
            self_defined_ethnicity: None,
            officer_observed_ethnicity: Some(ObservedEthnicity::Ic(1)),
            nationalities: vec!["GB".into()],
            addresses: vec![Address { line1: "1 Test Street".into(), postcode: "M1 1AE".into(), ..Default::default() }],
            identifiers: vec![Identifier { kind: IdentifierKind::Phone, value: "07700 900123".into() }],
            vital_status: Some(VitalStatus::Alive),
            date_of_death: None,
            description: String::new(),
        }
    }

    fn event(body: Body) -> Event {
        Event {
            id: EventId(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)),
            force: crate::reference::force("GMP").unwrap(),
            case_ref: "GMP-2014-000001".into(),
            occurred_at: at("2014-03-01T10:00:00Z"),
            recorded_at: at("2014-03-02T10:00:00Z"),
            schema_version: 1,
            recorded_by: "sys-gmp-01".into(),
            body,
        }
    }

    fn errors(e: &Event) -> Vec<(String, String)> {
        let mut ck = Checker::new(0, e.id.to_string());
        check_event(e, &ctx(), &mut ck);
        ck.into_errors().into_iter().map(|f| (f.field, f.reason)).collect()
    }

    #[test]
    fn a_valid_person_passes() {
        assert_eq!(errors(&event(Body::PersonRecorded(person()))), vec![]);
    }

    #[test]
    fn date_of_birth_after_the_event_is_refused() {
        let mut p = person();
        p.date_of_birth = Some(rules::parse_partial_date("2015-01-01").unwrap());
        let errs = errors(&event(Body::PersonRecorded(p)));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, "person_recorded.date_of_birth");
        assert!(errs[0].1.contains("after the event occurred"), "{}", errs[0].1);
    }

    #[test]
    fn unnamed_person_needs_a_description() {
        let mut p = person();
        p.name = None;
        assert_eq!(errors(&event(Body::PersonRecorded(p.clone())))[0].0, "person_recorded.name");
        p.description = "unknown male, about 30".into();
        assert_eq!(errors(&event(Body::PersonRecorded(p))), vec![]);
    }

    #[test]
    fn death_needs_deceased_status_and_follows_birth() {
        let mut p = person();
        p.date_of_death = Some(rules::parse_partial_date("2020").unwrap());
        assert!(errors(&event(Body::PersonRecorded(p.clone())))[0].1.contains("not deceased"));
        p.vital_status = Some(VitalStatus::Deceased);
        assert_eq!(errors(&event(Body::PersonRecorded(p.clone()))), vec![]);
        p.date_of_death = Some(rules::parse_partial_date("1970").unwrap());
        assert!(errors(&event(Body::PersonRecorded(p)))[0].1.contains("before the date of birth"));
    }

    #[test]
    fn occurred_after_recorded_and_future_times_are_refused() {
        let mut e = event(Body::PersonRecorded(person()));
        e.occurred_at = at("2014-03-05T10:00:00Z");
        assert_eq!(errors(&e)[0].0, "occurred_at");
        let mut e = event(Body::PersonRecorded(person()));
        e.recorded_at = at("2025-07-01T12:00:00Z");
        assert_eq!(errors(&e)[0].0, "recorded_at");
        // Within the allowed clock skew is fine.
        let mut e = event(Body::PersonRecorded(person()));
        e.recorded_at = at("2025-06-30T12:04:00Z");
        assert_eq!(errors(&e), vec![]);
    }

    #[test]
    fn every_problem_is_reported_not_just_the_first() {
        let mut p = person();
        p.nationalities = vec!["UK".into(), "GB".into(), "GB".into()];
        p.identifiers.push(Identifier { kind: IdentifierKind::Email, value: "nope".into() });
        p.addresses[0].postcode = "NOPE".into();
        let fields: Vec<String> = errors(&event(Body::PersonRecorded(p))).into_iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            vec![
                "person_recorded.nationalities[0]",
                "person_recorded.nationalities[2]",
                "person_recorded.addresses[0].postcode",
                "person_recorded.identifiers[1].value",
            ]
        );
    }

    #[test]
    fn corrections_are_checked_like_their_replacement() {
        let mut p = person();
        p.date_of_birth = Some(rules::parse_partial_date("2016").unwrap());
        let c = RecordCorrected {
            corrected_event_id: EventId(uuid::Uuid::from_u128(7)),
            reason: "date of birth mistyped".into(),
            replacement: Box::new(Body::PersonRecorded(p)),
        };
        let errs = errors(&event(Body::RecordCorrected(c)));
        assert_eq!(errs[0].0, "record_corrected.replacement.person_recorded.date_of_birth");
    }

    #[test]
    fn offences_need_a_party_and_ordered_dates() {
        let o = OffenceRecorded {
            offence_ref: "O1".into(),
            offence: crate::reference::offence("19E").unwrap(),
            suspect_refs: vec![],
            victim_refs: vec![],
            committed_from: Some(rules::parse_partial_date("2013-05").unwrap()),
            committed_to: Some(rules::parse_partial_date("2013-01").unwrap()),
            place: None,
        };
        let fields: Vec<String> = errors(&event(Body::OffenceRecorded(o))).into_iter().map(|e| e.0).collect();
        assert_eq!(fields, vec!["offence_recorded.victim_refs", "offence_recorded.committed_to"]);
    }

    /// The duplicate-id problems of a batch of ids, in batch order.
    fn duplicates<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<FieldError> {
        let mut seen = BatchIds::with_capacity(0);
        ids.into_iter().enumerate().filter_map(|(i, id)| seen.check(i, id)).collect()
    }

    #[test]
    fn duplicate_ids_in_a_batch_name_both_events() {
        let errs = duplicates(["a", "b", "a", ""]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].index, 2);
        assert!(errs[0].reason.contains("event #0"));
    }

    #[test]
    fn one_uuid_spelt_two_ways_is_a_duplicate() {
        let lower = "0190aaaa-0000-7000-8000-00000000000b";
        let upper = lower.to_uppercase();
        let errs = duplicates([lower, "0190aaaa-0000-7000-8000-00000000000c", upper.as_str()]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].index, errs[0].event_id.as_str()), (2, upper.as_str()));
        assert!(errs[0].reason.contains("event #0"));
        assert!(duplicates([lower, "0190aaaa-0000-7000-8000-00000000000c"]).is_empty());
    }

    #[test]
    fn error_display_names_event_field_and_reason() {
        let e = FieldError {
            index: 3,
            event_id: "0190aaaa-0000-7000-8000-000000000001".into(),
            field: "person_recorded.date_of_birth".into(),
            reason: "2031-02-30 is not a valid date".into(),
        };
        assert_eq!(
            e.to_string(),
            "event 0190aaaa-0000-7000-8000-000000000001: person_recorded.date_of_birth: 2031-02-30 is not a valid date"
        );
        let anon = FieldError { event_id: String::new(), ..e };
        assert!(anon.to_string().starts_with("event #3: "));
    }
}
