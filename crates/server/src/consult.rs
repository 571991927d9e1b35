//! The consultation log (Data Protection Act 2018, Part 3, section 62): every query the ledger
//! answers is appended to the log as a `consultation_recorded` event **before** the answer is
//! returned: who asked (principal and role), when, why (the purpose), what was asked (the
//! request), and what was disclosed (persons, cases, networks). If the record cannot be written,
//! the call fails and nothing is disclosed.

use std::collections::BTreeSet;

use beaconport_domain::ConsultationRecorded;
use beaconport_proto::convert::consultation_to_pb;
use beaconport_proto::pb::{api, event as pb};
use prost::Message;
use tonic::Request;

use crate::error::{Error, Result};
use crate::ingest::Ingest;

/// Case reference under which the ledger records its consultations.
pub const CONSULTATIONS_CASE: &str = "CONSULTATIONS";
/// Most ids of one kind named in one record; beyond it the record counts them (an export of a
/// million mentions is recorded as such, not as a 40 MB list).
const MAX_NAMED: usize = 10_000;

/// Metadata naming the caller until mutual TLS does (development and tests only: any client
/// can claim any name this way).
pub const PRINCIPAL_HEADER: &str = "x-beaconport-principal";
pub const ROLE_HEADER: &str = "x-beaconport-role";

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: String,
    pub role: String,
}

impl Caller {
    /// The caller of a request. Over mutual TLS, the client certificate's subject common name,
    /// mapped by `identities` to a role (a certificate the mapping does not know acts in role
    /// `none`); the metadata headers are then ignored. In plaintext development mode, the
    /// principal and role the metadata names, or `unauthenticated` (with the peer address).
    pub fn of<T>(request: &Request<T>, identities: &Identities) -> Caller {
        // The gate's answer, when the request came through it (every served request does).
        if let Some(a) = request.extensions().get::<crate::authorise::Authenticated>() {
            return a.caller.clone();
        }
        if let Some(certs) = request.peer_certs() {
            return match identities.identify(&certs) {
                (cn, Some(id)) => Caller { principal: cn, role: id.role.clone() },
                (cn, None) => Caller { principal: format!("unmapped:{cn}"), role: "none".into() },
            };
        }
        Caller::claimed(request.metadata().as_ref(), request.remote_addr())
    }

    /// The caller a plaintext request claims to be (development mode): the principal and role
    /// its headers name, or `unauthenticated` with the peer's address.
    pub(crate) fn claimed(headers: &http::HeaderMap, peer: Option<std::net::SocketAddr>) -> Caller {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty() && s.len() <= 200)
        };
        let principal = header(PRINCIPAL_HEADER).unwrap_or_else(|| match peer {
            Some(a) => format!("unauthenticated@{}", a.ip()),
            None => "unauthenticated".into(),
        });
        Caller { principal, role: header(ROLE_HEADER).unwrap_or_else(|| "investigator".into()) }
    }
}

/// The subject common name of a DER certificate.
pub fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?.as_str().ok()?.to_string();
    Some(cn)
}

/// One mapped client certificate: the role it acts in, and for a force system its force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub role: String,
    pub force: Option<String>,
}

/// Who each client certificate is, by subject common name (from configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identities {
    pub by_common_name: std::collections::HashMap<String, Identity>,
}

impl Identities {
    /// The common name of a TLS peer's certificate (the first of its chain), and who the
    /// configuration says it is, if anyone.
    pub fn identify(&self, certs: &[tonic::transport::CertificateDer<'static>]) -> (String, Option<&Identity>) {
        let cn = certs.first().and_then(|c| common_name(c.as_ref())).unwrap_or_default();
        let id = self.by_common_name.get(&cn);
        (cn, id)
    }
}

/// What an answer disclosed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Disclosed {
    pub persons: BTreeSet<String>,
    pub cases: BTreeSet<String>,
    pub networks: BTreeSet<String>,
    pub count: u64,
}

/// Answers that disclose something.
pub trait Discloses {
    fn disclosed(&self) -> Disclosed;
}

fn persons_of_summaries<'a>(d: &mut Disclosed, s: impl IntoIterator<Item = &'a api::PersonSummary>) {
    for p in s {
        d.persons.insert(p.person_id.clone());
        d.count += 1;
    }
}

impl Discloses for api::SearchPersonsResponse {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        persons_of_summaries(&mut d, &self.persons);
        d
    }
}

impl Discloses for api::PersonDossier {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        persons_of_summaries(&mut d, &self.person);
        for c in &self.cases {
            d.cases.insert(format!("{}/{}", c.force_code, c.case_ref));
        }
        for m in self.mentions.iter().filter_map(|m| m.mention.as_ref()) {
            d.cases.insert(format!("{}/{}", m.force_code, m.case_ref));
        }
        if !self.network_id.is_empty() {
            d.networks.insert(self.network_id.clone());
        }
        d
    }
}

impl Discloses for api::LinkedSuspectsResponse {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        persons_of_summaries(&mut d, self.suspects.iter().filter_map(|s| s.person.as_ref()));
        for step in self.suspects.iter().flat_map(|s| &s.path) {
            d.persons.insert(step.from_person_id.clone());
            d.persons.insert(step.to_person_id.clone());
            if !step.case_ref.is_empty() {
                d.cases.insert(format!("{}/{}", step.force_code, step.case_ref));
            }
        }
        d
    }
}

impl Discloses for api::NetworkDetail {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        if let Some(s) = &self.summary {
            d.networks.insert(s.network_id.clone());
        }
        for n in &self.nodes {
            if let Some(p) = n.id.strip_prefix("person:") {
                d.persons.insert(p.to_string());
            } else if let Some(c) = n.id.strip_prefix("case:") {
                d.cases.insert(c.to_string());
            }
        }
        d.count = self.nodes.len() as u64;
        d
    }
}

impl Discloses for api::ListNetworksResponse {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        for n in &self.networks {
            d.networks.insert(n.network_id.clone());
        }
        d.count = self.networks.len() as u64;
        d
    }
}

impl Discloses for api::DecideLinkResponse {
    fn disclosed(&self) -> Disclosed {
        Disclosed::default()
    }
}

impl Discloses for Vec<api::MentionAssignment> {
    fn disclosed(&self) -> Disclosed {
        let mut d = Disclosed::default();
        for m in self {
            d.persons.insert(m.person_id.clone());
            if let Some(r) = &m.mention {
                d.cases.insert(format!("{}/{}", r.force_code, r.case_ref));
            }
        }
        d.count = self.len() as u64;
        d
    }
}

/// One consultation about to be recorded.
#[derive(Debug, Clone)]
pub struct Consultation {
    pub caller: Caller,
    pub purpose: String,
    pub call: std::borrow::Cow<'static, str>,
    /// The request as asked, proto3 JSON.
    pub request: String,
    pub disclosed: Disclosed,
    pub views_position: u64,
    pub outcome: String,
    pub as_of: String,
}

/// Appends consultations to the log.
#[derive(Debug, Clone)]
pub struct Recorder {
    ingest: Ingest,
    /// Force code the ledger records its own consultations under.
    ledger_force: String,
}

impl Recorder {
    pub fn new(ingest: Ingest, ledger_force: impl Into<String>) -> Self {
        Self { ingest, ledger_force: ledger_force.into() }
    }

    /// Appends the record durably; an error means the answer must not be given. The position it
    /// got, on a process that holds the log (none from a writer to Kafka).
    pub async fn record(&self, c: Consultation) -> Result<Option<u64>> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let named = |set: BTreeSet<String>| set.into_iter().filter(|s| !s.is_empty()).take(MAX_NAMED).collect();
        let count = c.disclosed.count.max(c.disclosed.persons.len() as u64);
        let body = ConsultationRecorded {
            principal: c.caller.principal.clone(),
            role: c.caller.role,
            purpose: c.purpose,
            call: truncate(
                if c.call.contains('/') { c.call.to_string() } else { format!("QueryService/{}", c.call) },
                beaconport_domain::rules::MAX_SHORT_TEXT,
            ),
            request: truncate(c.request, beaconport_domain::rules::MAX_TEXT),
            disclosed_persons: named(c.disclosed.persons),
            disclosed_cases: named(c.disclosed.cases),
            disclosed_networks: named(c.disclosed.networks),
            disclosed_count: count,
            views_position: c.views_position,
            outcome: truncate(c.outcome, beaconport_domain::rules::MAX_TEXT),
            as_of: c.as_of,
        };
        let event = pb::Event {
            event_id: uuid::Uuid::now_v7().to_string(),
            force_code: self.ledger_force.clone(),
            case_ref: CONSULTATIONS_CASE.into(),
            occurred_at: now.clone(),
            recorded_at: now,
            schema_version: 1,
            recorded_by: truncate(c.caller.principal, beaconport_domain::rules::MAX_REF),
            body: Some(pb::Body { kind: Some(pb::body::Kind::ConsultationRecorded(consultation_to_pb(&body))) }),
        };
        let call = body.call.clone();
        let refused = body.outcome.starts_with("refused");
        let ack = self.ingest.record(vec![event.encode_to_vec().into()]).await.map_err(|e| {
            Error::Unrecorded(format!("the consultation could not be recorded ({e}); the answer is withheld"))
        })?;
        if let (Some(m), false) = (self.ingest.metrics(), refused) {
            m.answered(&call);
        }
        Ok(ack.acks.first().and_then(|a| a.position))
    }
}

/// Cuts text to at most `max` characters (records keep within the field limits).
fn truncate(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        s
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}
