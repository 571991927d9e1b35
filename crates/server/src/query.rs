//! QueryService: persons resolved across forces, dossiers, linked suspects and networks, answered
//! from the projection's views. Every call carries a purpose; `min_position` waits for the views
//! to have applied the caller's own writes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use beaconport_domain::resolution::{self, MentionKey, Record};
use beaconport_domain::{self as d, rules, IdentifierKind, PersonId, Position, Role};
use beaconport_proto::pb::{api, event as pb};
use beaconport_views::graph::{LinkKind, Node};
use beaconport_views::{Bound, Live, Views};
use parking_lot::RwLock;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::consult::{Caller, Consultation, Discloses, Recorder};
use crate::error::{Error, Result};
use crate::ingest::Ingest;

/// Longest a query waits for `min_position` by default, and at most.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);
const MAX_WAIT: Duration = Duration::from_secs(60);
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 500;

/// The query service over a running projection.
#[derive(Clone)]
pub struct Query {
    identities: Arc<crate::consult::Identities>,
    projector: Arc<dyn Live>,
    ingest: Ingest,
    recorder: Recorder,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query").finish_non_exhaustive()
    }
}

/// A call admitted: its purpose, and the views it asks (live, or as of a bound).
pub(crate) struct Admitted {
    pub(crate) purpose: String,
    pub(crate) as_of: Option<Bound>,
}

impl Query {
    /// `ledger_force` is the force code under which the ledger records its own consultations.
    pub fn new(projector: Arc<dyn Live>, ingest: Ingest, ledger_force: &str) -> Self {
        Self::with_identities(projector, ingest, ledger_force, Default::default())
    }

    /// A query service that maps client certificates to callers with `identities`.
    pub fn with_identities(
        projector: Arc<dyn Live>,
        ingest: Ingest,
        ledger_force: &str,
        identities: Arc<crate::consult::Identities>,
    ) -> Self {
        let recorder = Recorder::new(ingest.clone(), ledger_force);
        Self { identities, projector, ingest, recorder }
    }

    /// Who is calling.
    pub(crate) fn caller<T>(&self, request: &Request<T>) -> Caller {
        Caller::of(request, &self.identities)
    }

    /// The live views.
    pub(crate) fn live_views(&self) -> Arc<RwLock<Views>> {
        self.projector.views()
    }

    /// Where the service appends what callers record.
    pub(crate) fn ingest(&self) -> &Ingest {
        &self.ingest
    }

    /// Checks the purpose and the bound, and waits for `min_position` (live views only).
    pub(crate) async fn admit(&self, ctx: Option<&api::QueryContext>) -> Result<Admitted> {
        let Some(ctx) = ctx else {
            return Err(bad("context.purpose", "is required: say why you ask (an operation name or a reason)"));
        };
        if ctx.purpose.trim().is_empty() {
            return Err(bad("context.purpose", "is required: say why you ask (an operation name or a reason)"));
        }
        if ctx.purpose.chars().count() > 500 {
            return Err(bad("context.purpose", "is longer than 500 characters"));
        }
        let as_of = ctx.as_of.as_ref().map(parse_bound).transpose()?;
        if ctx.min_position > 0 && as_of.is_none() {
            let wait =
                if ctx.wait_ms == 0 { DEFAULT_WAIT } else { Duration::from_millis(ctx.wait_ms.into()).min(MAX_WAIT) };
            if !self.projector.wait_for(Position(ctx.min_position), wait).await {
                return Err(Error::Lagging { wanted: ctx.min_position, applied: self.projector.applied().0 });
            }
        }
        Ok(Admitted { purpose: ctx.purpose.trim().to_string(), as_of })
    }

    /// The views a call asks: the live ones, or those as of its bound.
    async fn views(&self, as_of: Option<Bound>) -> Result<Arc<RwLock<Views>>> {
        match as_of {
            None => Ok(self.projector.views()),
            Some(bound) => {
                self.projector.as_of(bound).await.map_err(|reason| Error::History { bound: bound.to_string(), reason })
            }
        }
    }

    /// Answers one admitted call: runs `f` over the views (on the blocking pool: queries walk
    /// graphs), records the consultation with what the answer disclosed, and only then returns
    /// the answer. A failed answer is recorded too (what was asked, and that nothing was told).
    pub(crate) async fn answer<R: serde::Serialize, T: Discloses + Send + 'static>(
        &self,
        caller: Caller,
        call: &'static str,
        request: &R,
        admitted: Admitted,
        fresh_networks: bool,
        f: impl FnOnce(&Views) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (result, position) = match self.views(admitted.as_of).await {
            Ok(views) => tokio::task::spawn_blocking(move || {
                if fresh_networks && views.read().networks.is_stale() {
                    views.write().refresh_networks();
                }
                // A recursive read: an answer does not queue behind a writer that is itself
                // waiting for a long reader (the review's background derivation) to finish.
                let v = views.read_recursive();
                (f(&v), v.applied.0)
            })
            .await
            .map_err(|e| Error::Transport(format!("query task: {e}")))?,
            Err(e) => (Err(e), 0),
        };
        let disclosed = result.as_ref().map(Discloses::disclosed).unwrap_or_default();
        self.recorder
            .record(Consultation {
                caller,
                purpose: admitted.purpose,
                call: call.into(),
                request: serde_json::to_string(request).unwrap_or_default(),
                disclosed,
                views_position: position,
                outcome: match &result {
                    Ok(_) => "ok".into(),
                    Err(e) => e.to_string(),
                },
                as_of: admitted.as_of.map(|b| b.to_string()).unwrap_or_default(),
            })
            .await?;
        result
    }
}

/// Reads a bound on the log from the API.
fn parse_bound(a: &api::AsOf) -> Result<Bound> {
    use api::as_of::Bound as B;
    let time = |field: &str, s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| bad(field, &format!("{s:?} is not an RFC 3339 time: {e}")))
    };
    match &a.bound {
        None => Err(bad("context.as_of", "names no bound: give a position, appended_at or recorded_at")),
        Some(B::Position(p)) => Ok(Bound::Position(Position(*p))),
        Some(B::AppendedAt(t)) => Ok(Bound::AppendedAt(time("context.as_of.appended_at", t)?)),
        Some(B::RecordedAt(t)) => Ok(Bound::RecordedAt(time("context.as_of.recorded_at", t)?)),
    }
}

pub(crate) fn bad(field: &str, reason: &str) -> Error {
    Error::BadRequest { field: field.to_string(), reason: reason.to_string() }
}

pub(crate) fn page(size: u32, token: &str) -> Result<(usize, usize)> {
    let size = if size == 0 { DEFAULT_PAGE } else { (size as usize).min(MAX_PAGE) };
    let offset = if token.is_empty() {
        0
    } else {
        token.parse::<usize>().map_err(|_| bad("page_token", "is not a token this service gave"))?
    };
    Ok((offset, size))
}

pub(crate) fn next_token(offset: usize, size: usize, total: usize) -> String {
    if offset + size < total {
        (offset + size).to_string()
    } else {
        String::new()
    }
}

fn parse_person(field: &str, s: &str) -> Result<PersonId> {
    if s.is_empty() {
        return Err(bad(field, "is required"));
    }
    uuid::Uuid::parse_str(s).map(PersonId).map_err(|_| bad(field, &format!("{s:?} is not a person id")))
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Suspect => "suspect",
        Role::Victim => "victim",
        Role::Witness => "witness",
    }
}

fn name_of(n: &d::Name) -> String {
    format!("{} {}", n.forenames.trim(), n.surname.trim()).trim().to_string()
}

fn mention_pb(k: &MentionKey) -> pb::MentionRef {
    pb::MentionRef { force_code: k.force.clone(), case_ref: k.case_ref.clone(), person_ref: k.person_ref.clone() }
}

/// A person's summary from their mentions.
pub fn summary(v: &Views, person: PersonId) -> api::PersonSummary {
    let members = v.resolver.members(person);
    let mut names: Vec<String> = Vec::new();
    let mut name_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut dobs: BTreeMap<String, usize> = BTreeMap::new();
    let mut forces = BTreeSet::new();
    let mut cases = BTreeSet::new();
    let mut roles = BTreeSet::new();
    for m in &members {
        forces.insert(m.force.clone());
        cases.insert((m.force.clone(), m.case_ref.clone()));
        if let Some((_, mention)) = v.mention(m) {
            let p = &mention.person;
            roles.insert(role_name(p.role));
            if let Some(n) = &p.name {
                *name_counts.entry(name_of(n)).or_default() += 1;
            }
            for n in p.name.iter().chain(&p.aliases) {
                let s = name_of(n);
                if !names.contains(&s) {
                    names.push(s);
                }
            }
            if let Some(dob) = p.date_of_birth {
                *dobs.entry(dob.to_string()).or_default() += 1;
            }
        }
    }
    // The name recorded most often (a typo is recorded once), the fullest among equals.
    let best_name = name_counts
        .into_iter()
        .max_by(|a, b| {
            a.1.cmp(&b.1).then(a.0.split_whitespace().count().cmp(&b.0.split_whitespace().count())).then(b.0.cmp(&a.0))
        })
        .map(|(n, _)| n)
        .unwrap_or_default();
    names.retain(|n| *n != best_name);
    // The date of birth most often recorded, the most precise among equals.
    let dob = dobs
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.len().cmp(&b.0.len())))
        .map(|(d, _)| d)
        .unwrap_or_default();
    api::PersonSummary {
        person_id: person.to_string(),
        display_name: if best_name.is_empty() { "(unidentified)".into() } else { best_name },
        other_names: names,
        date_of_birth: dob,
        forces: forces.into_iter().collect(),
        mentions: members.len() as u32,
        cases: cases.len() as u32,
        roles: roles.into_iter().map(str::to_string).collect(),
        score: 0.0,
        matched: Vec::new(),
    }
}

fn field_matches(e: &resolution::Evidence) -> Vec<api::FieldMatch> {
    e.fields
        .iter()
        .map(|f| api::FieldMatch { field: f.field.to_string(), level: f.level.to_string(), weight: f.weight })
        .collect()
}

/// Search: identifier hits first-class, names and dates of birth through the resolver's blocking.
pub fn search(v: &Views, name: &str, dob: &str, identifier: &str, limit: usize) -> Result<Vec<api::PersonSummary>> {
    if name.trim().is_empty() && dob.trim().is_empty() && identifier.trim().is_empty() {
        return Err(bad("name", "give a name, a date of birth or an identifier to search for"));
    }
    let date_of_birth = if dob.trim().is_empty() {
        None
    } else {
        Some(rules::parse_partial_date(dob.trim()).map_err(|r| bad("date_of_birth", &r))?)
    };
    let tokens: Vec<&str> = name.split_whitespace().collect();
    let mut queries: Vec<Vec<d::Name>> = Vec::new();
    match tokens.as_slice() {
        [] => queries.push(Vec::new()),
        [one] => {
            queries.push(vec![d::Name { forenames: String::new(), surname: one.to_string() }]);
            queries.push(vec![d::Name { forenames: one.to_string(), surname: String::new() }]);
        }
        [first @ .., last] => queries.push(vec![d::Name { forenames: first.join(" "), surname: last.to_string() }]),
    }
    let mut candidates: BTreeSet<MentionKey> = BTreeSet::new();
    let mut ident_hits: BTreeSet<MentionKey> = BTreeSet::new();
    if !identifier.trim().is_empty() {
        for kind in IdentifierKind::ALL {
            let norm = resolution::normalise_identifier(kind, identifier.trim());
            if norm.is_empty() {
                continue;
            }
            if let Some(set) = v.identifiers.get(&(kind, norm)) {
                ident_hits.extend(set.iter().map(|k| MentionKey::clone(k)));
            }
        }
    }
    let mut records = Vec::new();
    for names in queries {
        let q = Record { names, date_of_birth, sex: None, identifiers: Vec::new(), addresses: Vec::new() };
        if !name.trim().is_empty() || date_of_birth.is_some() {
            for (k, _) in v.resolver.search(&q, limit * 5 + 20) {
                candidates.insert(k);
            }
        }
        records.push(q);
    }
    candidates.extend(ident_hits.iter().cloned());
    let mut best: BTreeMap<PersonId, (f64, Vec<api::FieldMatch>)> = BTreeMap::new();
    for k in &candidates {
        let Some(person) = v.person_of(k) else { continue };
        let Some(record) = v.resolver.record(k) else { continue };
        let mut top: Option<resolution::Evidence> = None;
        if !name.trim().is_empty() || date_of_birth.is_some() {
            for q in &records {
                let e = resolution::compare(v.resolver.model(), q, record);
                if top.as_ref().is_none_or(|t| e.weight > t.weight) {
                    top = Some(e);
                }
            }
        }
        let (mut score, mut matched) = top.map(|e| (e.weight, field_matches(&e))).unwrap_or((0.0, Vec::new()));
        if ident_hits.contains(k) {
            score += 20.0;
            matched.push(api::FieldMatch { field: "identifier".into(), level: "exact".into(), weight: 20.0 });
        } else if !identifier.trim().is_empty() {
            continue;
        }
        if best.get(&person).is_none_or(|(s, _)| score > *s) {
            best.insert(person, (score, matched));
        }
    }
    let mut ranked: Vec<(PersonId, f64, Vec<api::FieldMatch>)> =
        best.into_iter().map(|(p, (s, m))| (p, s, m)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(ranked.into_iter().map(|(p, score, matched)| api::PersonSummary { score, matched, ..summary(v, p) }).collect())
}

/// A person's dossier.
pub fn dossier(v: &Views, person: PersonId) -> Result<api::PersonDossier> {
    let members = v.resolver.members(person);
    if members.is_empty() {
        return Err(Error::NotFound(format!("person {person}")));
    }
    let mut mentions = Vec::new();
    let mut cases = Vec::new();
    let mut risks = Vec::new();
    let mut idents: BTreeMap<(IdentifierKind, String), Vec<pb::MentionRef>> = BTreeMap::new();
    for m in &members {
        let Some((case, mention)) = v.mention(m) else { continue };
        let p = &mention.person;
        mentions.push(api::MentionDetail {
            mention: Some(mention_pb(m)),
            role: role_name(p.role).into(),
            name: p.name.as_ref().map(name_of).unwrap_or_default(),
            aliases: p.aliases.iter().map(name_of).collect(),
            date_of_birth: p.date_of_birth.map(|x| x.to_string()).unwrap_or_default(),
            sex: p.sex.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default(),
            self_defined_ethnicity: p
                .self_defined_ethnicity
                .map(|e| match e {
                    d::SelfDefinedEthnicity::Census2021(n) => d::reference::CENSUS_2021_ETHNIC_GROUPS
                        .iter()
                        .find(|g| g.0 == n)
                        .map_or_else(|| format!("census group {n}"), |g| format!("{}: {}", g.1, g.2)),
                    d::SelfDefinedEthnicity::NotStated => "not stated".into(),
                })
                .unwrap_or_default(),
            officer_observed_ethnicity: p
                .officer_observed_ethnicity
                .map(|e| match e {
                    d::ObservedEthnicity::Ic(n) => format!("IC{n}"),
                    d::ObservedEthnicity::Ic0 => "IC0".into(),
                })
                .unwrap_or_default(),
            nationalities: p.nationalities.clone(),
            vital_status: p.vital_status.map(|s| format!("{s:?}").to_lowercase()).unwrap_or_default(),
            position: mention.position.0,
            recorded_at: mention.recorded_at.to_rfc3339(),
            addresses: p.addresses.iter().map(|a| format!("{}, {} {}", a.line1, a.town, a.postcode)).collect(),
        });
        if let Some(c) = v.contributions.get(*m) {
            for i in &c.identifiers {
                idents.entry(i.clone()).or_default().push(mention_pb(m));
            }
        }
        let decision = case.latest_decision_for(&m.person_ref);
        cases.push(api::CaseInvolvement {
            force_code: m.force.clone(),
            case_ref: m.case_ref.clone(),
            role: role_name(p.role).into(),
            offence_code: case.opened.as_ref().map(|o| o.offence.code.to_string()).unwrap_or_default(),
            offence: case.opened.as_ref().map(|o| o.offence.description.to_string()).unwrap_or_default(),
            reported_on: case.opened.as_ref().and_then(|o| o.reported_on).map(|x| x.to_string()).unwrap_or_default(),
            force_flags: case.flags.iter().filter(|(_, who)| who.is_none()).map(|(f, _)| format!("{f:?}")).collect(),
            latest_decision: decision.map(|x| format!("{:?}", x.decision)).unwrap_or_default(),
            latest_decision_on: decision.map(|x| x.decided_on.to_string()).unwrap_or_default(),
            person_ref: m.person_ref.clone(),
        });
        for t in case.travel_risks.iter().filter(|t| t.person_ref == m.person_ref) {
            let dest = t.destination_country.as_deref().map(|c| format!(" to {c}")).unwrap_or_default();
            risks.push(format!(
                "travel risk ({:?}{dest}) noted {} in {} case {}",
                t.kind, t.noted_on, m.force, m.case_ref
            ));
        }
        if p.vital_status == Some(d::VitalStatus::Deceased) {
            risks.push(format!("recorded as deceased in {} case {}", m.force, m.case_ref));
        }
        for (f, _) in case.flags.iter().filter(|(_, who)| who.as_deref() == Some(m.person_ref.as_str())) {
            risks.push(format!("flagged {f:?} in {} case {}", m.force, m.case_ref));
        }
    }
    let evidence = v
        .resolver
        .links(person)
        .into_iter()
        .map(|l| api::MergeEvidence {
            a: Some(mention_pb(&l.a)),
            b: Some(mention_pb(&l.b)),
            asserted: l.asserted,
            weight: l.evidence.weight,
            probability: l.evidence.probability,
            fields: field_matches(&l.evidence),
        })
        .collect();
    let s = summary(v, person);
    if s.forces.len() > 1 && s.roles.iter().any(|r| r == "suspect") {
        risks.push(format!("suspect recorded by {} forces", s.forces.len()));
    }
    Ok(api::PersonDossier {
        person: Some(s),
        mentions,
        identifiers: idents
            .into_iter()
            .map(|((kind, value), seen_in)| api::IdentifierSeen { kind: kind.name().into(), value, seen_in })
            .collect(),
        cases,
        risk_markers: risks,
        evidence,
        as_of_position: v.applied.0,
        network_id: v.network_id_of_person(person).unwrap_or_default(),
    })
}

/// Link kinds named as in the API.
pub fn link_filter(types: &[String]) -> Result<impl Fn(&LinkKind) -> bool + Send + Sync + 'static> {
    const KNOWN: &[&str] = &[
        "co_suspect",
        "suspect_of_victim",
        "shared_victim",
        "shared_phone",
        "shared_email",
        "shared_vehicle",
        "shared_social_handle",
        "shared_pnc_id",
        "shared_passport",
        "shared_national_id",
        "shared_address",
        "same_place",
    ];
    for (i, t) in types.iter().enumerate() {
        if !KNOWN.contains(&t.as_str()) {
            return Err(bad(
                &format!("link_types[{i}]"),
                &format!("{t:?} is not a link type (one of {})", KNOWN.join(", ")),
            ));
        }
    }
    let types: BTreeSet<String> = types.iter().cloned().collect();
    Ok(move |k: &LinkKind| types.is_empty() || types.contains(&k.name()))
}

/// The linked suspects of a person, with paths.
pub fn linked(
    v: &Views,
    person: PersonId,
    hops: u32,
    allow: &dyn Fn(&LinkKind) -> bool,
) -> Result<(Vec<api::LinkedSuspect>, Vec<String>)> {
    if v.resolver.members(person).is_empty() {
        return Err(Error::NotFound(format!("person {person}")));
    }
    let answer = v.linked_suspects(person, hops, allow);
    let names: BTreeMap<PersonId, String> = answer
        .linked
        .iter()
        .flat_map(|l| l.path.iter().flat_map(|s| [s.from, s.to]))
        .chain([person])
        .map(|p| (p, summary(v, p).display_name))
        .collect();
    let out = answer
        .linked
        .into_iter()
        .map(|l| {
            let explanation = l
                .path
                .iter()
                .map(|s| format!("{} → {}: {}", names[&s.from], names[&s.to], s.description))
                .collect::<Vec<_>>()
                .join("; ");
            api::LinkedSuspect {
                person: Some(summary(v, l.person)),
                hops: l.hops,
                path: l
                    .path
                    .into_iter()
                    .map(|s| api::LinkStep {
                        reported_on: v
                            .cases
                            .get(&s.case)
                            .and_then(|c| c.opened.as_ref())
                            .and_then(|o| o.reported_on)
                            .map(|d| d.to_string())
                            .unwrap_or_default(),
                        from_person_id: s.from.to_string(),
                        to_person_id: s.to.to_string(),
                        link_type: s.kind.name(),
                        force_code: s.case.0,
                        case_ref: s.case.1,
                        via: s.via,
                        description: s.description,
                    })
                    .collect(),
                explanation,
            }
        })
        .collect();
    Ok((out, answer.skipped_hubs.into_iter().collect()))
}

fn network_summary_pb(s: &beaconport_views::graph::NetworkSummary) -> api::NetworkSummary {
    api::NetworkSummary {
        network_id: s.id.clone(),
        forces: s.forces.clone(),
        suspects: s.suspects.len() as u32,
        victims: s.victims.len() as u32,
        cases: s.cases.len() as u32,
        cross_force: s.cross_force(),
        identifiers: s.identifiers as u32,
        places: s.places as u32,
    }
}

/// A network's nodes and edges.
pub fn network(v: &Views, summary: &beaconport_views::graph::NetworkSummary, nodes: &[Node]) -> api::NetworkDetail {
    let mut out_nodes: BTreeMap<String, api::NetworkNode> = BTreeMap::new();
    let mut edges = Vec::new();
    let in_net: BTreeSet<&Node> = nodes.iter().collect();
    for n in nodes {
        match n {
            Node::Case(k) => {
                let label = v
                    .cases
                    .get(k)
                    .and_then(|c| c.opened.as_ref())
                    .map(|o| format!("{} {} ({})", k.0, k.1, o.offence.description))
                    .unwrap_or_else(|| format!("{} {}", k.0, k.1));
                out_nodes.insert(
                    format!("case:{}/{}", k.0, k.1),
                    api::NetworkNode {
                        id: format!("case:{}/{}", k.0, k.1),
                        kind: "case".into(),
                        label,
                        force_code: k.0.clone(),
                    },
                );
            }
            Node::Mention(m) => {
                let Some(p) = v.person_of(m) else { continue };
                let pid = format!("person:{p}");
                out_nodes.entry(pid.clone()).or_insert_with(|| api::NetworkNode {
                    id: pid.clone(),
                    kind: "person".into(),
                    label: summary_name(v, p),
                    force_code: m.force.clone(),
                });
                let Some(c) = v.contributions.get(m) else { continue };
                let evidence = format!("{}/{}/{}", m.force, m.case_ref, m.person_ref);
                edges.push(api::NetworkEdge {
                    from: pid.clone(),
                    to: format!("case:{}/{}", m.force, m.case_ref),
                    kind: format!("{}_in", role_name(c.role)),
                    evidence: evidence.clone(),
                });
                for i in &c.identifiers {
                    if in_net.contains(&Node::Identifier(i.clone())) {
                        edges.push(api::NetworkEdge {
                            from: pid.clone(),
                            to: format!("identifier:{}:{}", i.0.name(), i.1),
                            kind: "uses_identifier".into(),
                            evidence: evidence.clone(),
                        });
                    }
                }
                for pl in &c.places {
                    if in_net.contains(&Node::Place(pl.clone())) {
                        edges.push(api::NetworkEdge {
                            from: pid.clone(),
                            to: format!("place:{pl}"),
                            kind: "seen_at".into(),
                            evidence: evidence.clone(),
                        });
                    }
                }
            }
            Node::Identifier(i) => {
                let id = format!("identifier:{}:{}", i.0.name(), i.1);
                out_nodes.insert(
                    id.clone(),
                    api::NetworkNode {
                        id,
                        kind: "identifier".into(),
                        label: format!("{} {}", i.0.name(), i.1),
                        force_code: String::new(),
                    },
                );
            }
            Node::Place(p) => {
                let id = format!("place:{p}");
                let label = v.place_labels.get(p).cloned().unwrap_or_else(|| p.clone());
                out_nodes.insert(
                    id.clone(),
                    api::NetworkNode { id, kind: "place".into(), label, force_code: String::new() },
                );
            }
            Node::Person(_) => {}
        }
    }
    edges.sort_by(|a, b| (&a.from, &a.to, &a.kind).cmp(&(&b.from, &b.to, &b.kind)));
    edges.dedup_by(|a, b| a.from == b.from && a.to == b.to && a.kind == b.kind);
    api::NetworkDetail {
        summary: Some(network_summary_pb(summary)),
        nodes: out_nodes.into_values().collect(),
        edges,
        as_of_position: v.applied.0,
    }
}

pub(crate) fn summary_name(v: &Views, p: PersonId) -> String {
    summary(v, p).display_name
}

#[tonic::async_trait]
impl api::query_service_server::QueryService for Query {
    async fn search_persons(
        &self,
        request: Request<api::SearchPersonsRequest>,
    ) -> Result<Response<api::SearchPersonsResponse>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        let (offset, size) = page(req.page_size, &req.page_token)?;
        let asked = req.clone();
        let answer = self
            .answer(caller, "SearchPersons", &asked, admitted, false, move |v| {
                let all = search(v, &req.name, &req.date_of_birth, &req.identifier, offset + size)?;
                let total = all.len();
                Ok(api::SearchPersonsResponse {
                    persons: all.into_iter().skip(offset).take(size).collect(),
                    next_page_token: next_token(offset, size, total),
                    as_of_position: v.applied.0,
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn get_person(
        &self,
        request: Request<api::GetPersonRequest>,
    ) -> Result<Response<api::PersonDossier>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        let person = parse_person("person_id", &req.person_id)?;
        Ok(Response::new(self.answer(caller, "GetPerson", &req, admitted, true, move |v| dossier(v, person)).await?))
    }

    async fn linked_suspects(
        &self,
        request: Request<api::LinkedSuspectsRequest>,
    ) -> Result<Response<api::LinkedSuspectsResponse>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        let person = parse_person("person_id", &req.person_id)?;
        let to =
            if req.to_person_id.is_empty() { None } else { Some(parse_person("to_person_id", &req.to_person_id)?) };
        let hops = match req.max_hops {
            0 if to.is_some() => 4,
            0 => 2,
            h @ 1..=4 => h,
            h => return Err(bad("max_hops", &format!("{h} is more than 4")).into()),
        };
        let allow = link_filter(&req.link_types)?;
        let (offset, size) = page(req.page_size, &req.page_token)?;
        let answer = self
            .answer(caller, "LinkedSuspects", &req, admitted, false, move |v| {
                let (mut all, hubs) = linked(v, person, hops, &allow)?;
                if let Some(to) = to {
                    let to = to.to_string();
                    all.retain(|l| l.person.as_ref().is_some_and(|p| p.person_id == to));
                }
                let total = all.len();
                Ok(api::LinkedSuspectsResponse {
                    suspects: all.into_iter().skip(offset).take(size).collect(),
                    next_page_token: next_token(offset, size, total),
                    as_of_position: v.applied.0,
                    skipped_hubs: hubs,
                    person: Some(summary(v, person)),
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn get_network(
        &self,
        request: Request<api::GetNetworkRequest>,
    ) -> Result<Response<api::NetworkDetail>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        let person = if req.network_id.is_empty() { Some(parse_person("person_id", &req.person_id)?) } else { None };
        let asked = req.clone();
        let answer = self
            .answer(caller, "GetNetwork", &asked, admitted, true, move |v| {
                let found = match person {
                    Some(p) => v.network_of(&Node::Person(p)),
                    None => v.network_by_id(&req.network_id),
                };
                let (summary, nodes) = found.ok_or_else(|| {
                    Error::NotFound(if req.network_id.is_empty() {
                        format!("network of person {}", req.person_id)
                    } else {
                        format!("network {}", req.network_id)
                    })
                })?;
                Ok(network(v, &summary, &nodes))
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn list_networks(
        &self,
        request: Request<api::ListNetworksRequest>,
    ) -> Result<Response<api::ListNetworksResponse>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        let (offset, size) = page(req.page_size, &req.page_token)?;
        let min_forces = req.min_forces;
        let answer = self
            .answer(caller, "ListNetworks", &req, admitted, true, move |v| {
                let all: Vec<_> = v
                    .network_summaries()
                    .into_iter()
                    .filter(|s| s.forces.len() >= min_forces.max(1) as usize)
                    .collect();
                let total = all.len();
                Ok(api::ListNetworksResponse {
                    networks: all.iter().skip(offset).take(size).map(network_summary_pb).collect(),
                    next_page_token: next_token(offset, size, total),
                    as_of_position: v.applied.0,
                    total: total as u32,
                })
            })
            .await?;
        Ok(Response::new(answer))
    }

    async fn decide_link(
        &self,
        request: Request<api::DecideLinkRequest>,
    ) -> Result<Response<api::DecideLinkResponse>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        if admitted.as_of.is_some() {
            return Err(bad("context.as_of", "a link decision is made on the live views, not on past ones").into());
        }
        let id = if req.event_id.is_empty() { uuid::Uuid::now_v7().to_string() } else { req.event_id.clone() };
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let event = pb::Event {
            event_id: id,
            force_code: req.force_code.clone(),
            case_ref: if req.case_ref.is_empty() { "RESOLUTION".into() } else { req.case_ref.clone() },
            occurred_at: now.clone(),
            recorded_at: now,
            schema_version: 1,
            recorded_by: if req.recorded_by.is_empty() { caller.principal.clone() } else { req.recorded_by.clone() },
            body: Some(pb::Body {
                kind: Some(pb::body::Kind::LinkDecided(pb::LinkDecided {
                    a: req.a.clone(),
                    b: req.b.clone(),
                    decision: req.decision,
                    reason: req.reason.clone(),
                })),
            }),
        };
        let ack = self.ingest.publish_batch(vec![event.encode_to_vec().into()]).await?;
        let a = ack.acks.first().ok_or_else(|| Error::Transport("no acknowledgement".into()))?;
        let answer = api::DecideLinkResponse { position: positioned(a)?, duplicate: a.duplicate };
        Ok(Response::new(self.answer(caller, "DecideLink", &req, admitted, false, move |_| Ok(answer)).await?))
    }

    type ExportMentionsStream =
        std::pin::Pin<Box<dyn futures::Stream<Item = Result<api::MentionAssignment, Status>> + Send>>;

    async fn export_mentions(
        &self,
        request: Request<api::ExportMentionsRequest>,
    ) -> Result<Response<Self::ExportMentionsStream>, Status> {
        let caller = self.caller(&request);
        let req = request.into_inner();
        let admitted = self.admit(req.context.as_ref()).await?;
        if !req.case_ref.is_empty() && req.force_code.is_empty() {
            return Err(bad("force_code", "is required when case_ref is given").into());
        }
        let asked = req.clone();
        let rows = self
            .answer(caller, "ExportMentions", &asked, admitted, false, move |v| {
                let mut keys: Vec<&MentionKey> = v
                    .contributions
                    .keys()
                    .map(|k| &**k)
                    .filter(|k| req.force_code.is_empty() || k.force == req.force_code)
                    .filter(|k| req.case_ref.is_empty() || k.case_ref == req.case_ref)
                    .collect();
                keys.sort();
                Ok(keys
                    .into_iter()
                    .filter_map(|k| {
                        v.person_of(k)
                            .map(|p| api::MentionAssignment { mention: Some(mention_pb(k)), person_id: p.to_string() })
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
        // Sent in chunks through a bounded channel: a slow reader slows the sending, not memory.
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        tokio::spawn(async move {
            for row in rows {
                if tx.send(Ok(row)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }

    /// Counts, positions and a digest: nothing about any person, so not a consultation.
    async fn view_status(
        &self,
        request: Request<api::ViewStatusRequest>,
    ) -> Result<Response<api::ViewStatusResponse>, Status> {
        let head = self.projector.head().0;
        let req = request.into_inner();
        let want_digest = req.digest;
        let views = self.views(req.as_of.as_ref().map(parse_bound).transpose()?).await?;
        let answer = tokio::task::spawn_blocking(move || {
            if views.read().networks.is_stale() {
                views.write().refresh_networks();
            }
            let v = views.read();
            let c = v.counts();
            let networks = if v.networks.is_stale() { Vec::new() } else { v.network_summaries() };
            api::ViewStatusResponse {
                log_head: head,
                applied: v.applied.0,
                lag: head.saturating_sub(v.applied.0),
                persons: c.persons as u64,
                mentions: c.mentions as u64,
                cases: c.cases as u64,
                networks: networks.len() as u64,
                cross_force_networks: networks.iter().filter(|n| n.cross_force()).count() as u64,
                digest: if want_digest { v.digest() } else { String::new() },
                skipped: v.skipped.len() as u64,
                consultations: v.consultations.len() as u64,
            }
        })
        .await
        .map_err(|e| Error::Transport(format!("query task: {e}")))?;
        Ok(Response::new(answer))
    }
}

/// The position of a recorded event: the query role always holds the log it records into.
pub(crate) fn positioned(a: &beaconport_proto::pb::wire::EventAck) -> Result<u64> {
    a.position.ok_or_else(|| Error::Transport(format!("event {}: recorded without a position", a.event_id)))
}
