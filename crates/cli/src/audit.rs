//! `beaconport audit ...` (the auditor's client: replay, signed heads, proofs, consultations) and
//! `beaconport verify` (offline: a data directory against a signed head saved earlier).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _, Result};
use beaconport_log::head::{public_key_from_hex, SignedHead};
use beaconport_log::merkle;
use beaconport_proto::pb::{api, event as pb};
use clap::{Args, Subcommand};
use prost::Message;

use crate::client;
use crate::ConfigArgs;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Streams events from the ledger as NDJSON (`beaconport publish` loads it into a fresh ledger).
    Replay(ReplayArgs),
    /// Fetches a signed tree head and saves it as JSON: keep it to verify the ledger later.
    Head(HeadArgs),
    /// Proves that an event is in the ledger under a signed tree head, checked here.
    Prove(ProveArgs),
    /// Proves that the ledger still extends a tree head saved earlier (nothing before it altered).
    Consistency(ConsistencyArgs),
    /// Lists consultations of the ledger: by investigator, by person, by time.
    Consultations(ConsultationsArgs),
}

#[derive(Debug, Args, Clone)]
pub struct Server {
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub server: Server,
    /// First position (resume with the last position received plus one).
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Stop before this position (default: the head when the replay starts).
    #[arg(long)]
    pub to: Option<u64>,
    /// Only events the ledger appended from / to these times (RFC 3339).
    #[arg(long)]
    pub appended_from: Option<String>,
    #[arg(long)]
    pub appended_to: Option<String>,
    /// Only events their force recorded from / to these times (RFC 3339).
    #[arg(long)]
    pub recorded_from: Option<String>,
    #[arg(long)]
    pub recorded_to: Option<String>,
    /// Only these forces (repeat the flag for several).
    #[arg(long = "force")]
    pub forces: Vec<String>,
    /// Only these cases, as FORCE/CASE.
    #[arg(long = "case")]
    pub cases: Vec<String>,
    /// Only these kinds of event (`person_recorded`, ...).
    #[arg(long = "kind")]
    pub kinds: Vec<String>,
    /// At most this many events.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct HeadArgs {
    #[command(flatten)]
    pub server: Server,
    /// Size of the tree to sign (default: the current one).
    #[arg(long)]
    pub size: Option<u64>,
    /// Save the signed head here (JSON); it is printed too.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct ProveArgs {
    #[command(flatten)]
    pub server: Server,
    /// The event, by id.
    #[arg(long, conflicts_with = "position", required_unless_present = "position")]
    pub event: Option<String>,
    /// The event, by position.
    #[arg(long)]
    pub position: Option<u64>,
    /// Prove against the tree of this size (default: the current one).
    #[arg(long)]
    pub size: Option<u64>,
    /// The ledger's public key (hex), as obtained out of band.
    #[arg(long)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ConsistencyArgs {
    #[command(flatten)]
    pub server: Server,
    /// A signed tree head saved earlier (`audit head --output`).
    #[arg(long)]
    pub head: PathBuf,
    /// The ledger's public key (hex), as obtained out of band.
    #[arg(long)]
    pub public_key: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ConsultationsArgs {
    #[command(flatten)]
    pub server: Server,
    /// Only this principal's consultations.
    #[arg(long)]
    pub principal: Option<String>,
    /// Only consultations that disclosed this person (any id it has had).
    #[arg(long)]
    pub person: Option<String>,
    /// Only consultations from / to these times (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// At most this many (most recent first).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A signed tree head saved earlier (`beaconport audit head --output`).
    #[arg(long)]
    pub head: PathBuf,
    /// The ledger's public key (hex), as obtained out of band. Without it the key inside the
    /// head is used, which proves only that the head was not altered since it was signed.
    #[arg(long)]
    pub public_key: Option<String>,
}

pub async fn run(cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Replay(a) => replay(a).await,
        AuditCommand::Head(a) => head(a).await,
        AuditCommand::Prove(a) => prove(a).await,
        AuditCommand::Consistency(a) => consistency(a).await,
        AuditCommand::Consultations(a) => consultations(a).await,
    }
}

fn audit_client(
    ch: tonic::transport::Channel,
) -> api::audit_service_client::AuditServiceClient<tonic::transport::Channel> {
    api::audit_service_client::AuditServiceClient::new(ch).max_decoding_message_size(client::MAX_MESSAGE_BYTES)
}

fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One replayed event as an NDJSON line: position, time appended, and the event in proto3 JSON.
pub fn replay_line(e: &api::ReplayEntry) -> Result<String> {
    let event = pb::Event::decode(e.event.as_slice())
        .with_context(|| format!("the event at position {} does not decode", e.position))?;
    Ok(serde_json::to_string(&serde_json::json!({
        "position": e.position,
        "appended_at": rfc3339_ms(e.appended_at_ms),
        "event": serde_json::to_value(&event)?,
    }))?)
}

async fn replay(a: ReplayArgs) -> Result<ExitCode> {
    let mut c = audit_client(a.server.server.connect().await?);
    let req = api::ReplayRequest {
        from_position: a.from,
        to_position: a.to.unwrap_or(0),
        appended_from: a.appended_from.unwrap_or_default(),
        appended_to: a.appended_to.unwrap_or_default(),
        recorded_from: a.recorded_from.unwrap_or_default(),
        recorded_to: a.recorded_to.unwrap_or_default(),
        force_codes: a.forces,
        cases: a.cases,
        kinds: a.kinds,
        limit: a.limit.unwrap_or(0),
    };
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut stream = c.replay(req).await.context("replay")?.into_inner();
    let mut last: Option<u64> = None;
    let mut n = 0u64;
    loop {
        match stream.message().await {
            Ok(Some(e)) => {
                writeln!(out, "{}", replay_line(&e)?)?;
                last = Some(e.position);
                n += 1;
            }
            Ok(None) => break,
            Err(status) => {
                out.flush()?;
                let resume = last.map_or(a.from, |p| p + 1);
                bail!("replay stopped after {n} events ({}): resume with --from {resume}", status.message());
            }
        }
    }
    out.flush()?;
    eprintln!("replayed {n} events{}", last.map(|p| format!(", last at position {p}")).unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

/// A signed head as the JSON an auditor keeps.
pub fn head_json(h: &SignedHead) -> serde_json::Value {
    serde_json::json!({
        "tree_size": h.size,
        "root_hash": hex::encode(h.root),
        "timestamp_ms": h.timestamp_ms,
        "signed_at": rfc3339_ms(h.timestamp_ms),
        "signature": hex::encode(h.signature),
        "public_key": hex::encode(h.public_key),
    })
}

/// Reads a signed head saved as JSON.
pub fn head_from_json(v: &serde_json::Value) -> Result<SignedHead> {
    let field = |k: &str| v.get(k).ok_or_else(|| anyhow!("the head has no {k:?}"));
    let bytes = |k: &str| -> Result<Vec<u8>> {
        hex::decode(field(k)?.as_str().ok_or_else(|| anyhow!("{k}: not a string"))?)
            .with_context(|| format!("{k}: not hex"))
    };
    Ok(SignedHead {
        size: field("tree_size")?.as_u64().ok_or_else(|| anyhow!("tree_size: not a number"))?,
        root: bytes("root_hash")?.try_into().map_err(|_| anyhow!("root_hash: not 32 bytes"))?,
        timestamp_ms: field("timestamp_ms")?.as_i64().ok_or_else(|| anyhow!("timestamp_ms: not a number"))?,
        signature: bytes("signature")?.try_into().map_err(|_| anyhow!("signature: not 64 bytes"))?,
        public_key: bytes("public_key")?.try_into().map_err(|_| anyhow!("public_key: not 32 bytes"))?,
    })
}

fn read_head(path: &PathBuf) -> Result<SignedHead> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    head_from_json(&serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?)
        .with_context(|| format!("{} is not a signed tree head", path.display()))
}

/// The key to check signatures with: the one given, or (with a warning) the head's own.
fn trusted_key(given: &Option<String>, head: &SignedHead) -> Result<[u8; 32]> {
    match given {
        Some(k) => Ok(public_key_from_hex(k)?),
        None => {
            eprintln!(
                "warning: no --public-key given; checking against the key inside the head ({}), which proves \
                 only that the head was not altered since it was signed",
                hex::encode(head.public_key)
            );
            Ok(head.public_key)
        }
    }
}

async fn head(a: HeadArgs) -> Result<ExitCode> {
    let mut c = audit_client(a.server.server.connect().await?);
    let h = c.get_tree_head(api::TreeHeadRequest { tree_size: a.size.unwrap_or(0) }).await?.into_inner();
    let h = beaconport_server::head_from_pb(&h).ok_or_else(|| anyhow!("the server sent a malformed head"))?;
    h.verify(&h.public_key)?;
    let json = serde_json::to_string_pretty(&head_json(&h))?;
    if let Some(p) = &a.output {
        std::fs::write(p, format!("{json}\n")).with_context(|| format!("writing {}", p.display()))?;
    }
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

async fn prove(a: ProveArgs) -> Result<ExitCode> {
    use api::inclusion_proof_request::Target;
    let mut c = audit_client(a.server.server.connect().await?);
    let target = match (&a.event, a.position) {
        (Some(id), _) => Target::EventId(id.clone()),
        (None, Some(p)) => Target::Position(p),
        (None, None) => bail!("give --event or --position"),
    };
    let p = c
        .inclusion_proof(api::InclusionProofRequest { target: Some(target), tree_size: a.size.unwrap_or(0) })
        .await?
        .into_inner();
    let head = p.tree_head.as_ref().and_then(beaconport_server::head_from_pb).ok_or_else(|| anyhow!("no head"))?;
    let key = trusted_key(&a.public_key, &head)?;
    match beaconport_server::check_inclusion(&p, &key) {
        Ok(()) => {
            println!(
                "included: the event at position {} is leaf {} of the tree of {} events (root {}), signed at {}; \
                 path of {} hashes checked here",
                p.position,
                p.position,
                head.size,
                hex::encode(head.root),
                rfc3339_ms(head.timestamp_ms),
                p.path.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            println!("NOT PROVEN: {why}");
            Ok(ExitCode::from(3))
        }
    }
}

async fn consistency(a: ConsistencyArgs) -> Result<ExitCode> {
    let saved = read_head(&a.head)?;
    let key = trusted_key(&a.public_key, &saved)?;
    saved.verify(&key).context("the saved head")?;
    let mut c = audit_client(a.server.server.connect().await?);
    let r = c
        .consistency_proof(api::ConsistencyProofRequest { first_size: saved.size, second_size: 0 })
        .await?
        .into_inner();
    let now = r.second_head.as_ref().and_then(beaconport_server::head_from_pb).ok_or_else(|| anyhow!("no head"))?;
    now.verify(&key).context("the ledger's current head")?;
    let proof: Vec<merkle::Hash> = r
        .proof
        .iter()
        .map(|h| h.as_slice().try_into().map_err(|_| anyhow!("a proof hash is not 32 bytes")))
        .collect::<Result<_>>()?;
    match merkle::verify_consistency(saved.size, now.size, &saved.root, &now.root, &proof) {
        Ok(()) => {
            println!(
                "consistent: the tree of {} events signed at {} is a prefix of today's tree of {} events (root {})",
                saved.size,
                rfc3339_ms(saved.timestamp_ms),
                now.size,
                hex::encode(now.root)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("INCONSISTENT: the ledger no longer extends the saved head: {e}");
            Ok(ExitCode::from(3))
        }
    }
}

async fn consultations(a: ConsultationsArgs) -> Result<ExitCode> {
    let mut c = audit_client(a.server.server.connect().await?);
    let r = c
        .list_consultations(api::ListConsultationsRequest {
            principal: a.principal.unwrap_or_default(),
            person_id: a.person.unwrap_or_default(),
            from: a.from.unwrap_or_default(),
            to: a.to.unwrap_or_default(),
            page_size: a.limit,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    for e in &r.consultations {
        let Some(c) = &e.consultation else { continue };
        if a.json {
            println!(
                "{}",
                serde_json::json!({"position": e.position, "recorded_at": e.recorded_at, "consultation": serde_json::to_value(c)?})
            );
        } else {
            println!(
                "{}  {:<24} {:<13} {:<28} {:>5} disclosed  {}  \"{}\"",
                e.recorded_at, c.principal, c.role, c.call, c.disclosed_count, c.outcome, c.purpose
            );
        }
    }
    if !a.json {
        println!("{} of {} consultations shown", r.consultations.len(), r.total);
    }
    Ok(ExitCode::SUCCESS)
}

/// `beaconport verify`: recomputes the tree of a data directory and compares it with a signed
/// head. Exit 0 when intact, 3 when altered.
pub fn verify(a: VerifyArgs, data_dir: PathBuf) -> Result<ExitCode> {
    let head = read_head(&a.head)?;
    let key = trusted_key(&a.public_key, &head)?;
    head.verify(&key).context("the saved head")?;
    let report = beaconport_log_sled::verify::verify(&data_dir, head.size, &head.root)?;
    match &report.first_difference {
        None => {
            println!(
                "intact: the first {} events of {} hash to the root signed at {} ({}); the log holds {} events{}",
                head.size,
                data_dir.display(),
                rfc3339_ms(head.timestamp_ms),
                hex::encode(head.root),
                report.events,
                if report.events > head.size {
                    format!(" ({} appended since, not covered by this head)", report.events - head.size)
                } else {
                    String::new()
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Some((position, why)) => {
            println!("ALTERED: position {position} first differs from the signed head: {why}");
            Ok(ExitCode::from(3))
        }
    }
}
