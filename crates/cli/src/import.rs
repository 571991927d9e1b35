//! `beaconport import persons FILE.csv` and `beaconport export persons`: any labelled person data
//! set can be run through the real pipeline (gRPC ingest, the log, the projections, resolution)
//! and the result scored.
//!
//! Import turns each CSV row into a `person_recorded` event of one case (`--force`, `--case`),
//! its person reference being the row's id column. Event ids are derived from the row (UUID v5),
//! and every event is stamped with when the file was last written (or `--recorded-at`), never
//! with the moment of the import, so importing a file twice stores nothing new; rows imported
//! before under another time are counted as already stored, the first copy standing. A field that does not parse (a date of birth
//! that is not a date, a malformed identifier) is left out of the event and reported with its
//! row and column; the rest of the row is still imported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use beaconport_domain::{rules, IdentifierKind};
use beaconport_proto::pb::{api, event as pb};
use clap::{Args, Subcommand};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::client;

#[derive(Debug, Subcommand, Clone)]
pub enum ImportCommand {
    /// Imports persons from a CSV file (a header row, then one person per row).
    Persons(ImportPersonsArgs),
}

#[derive(Debug, Subcommand, Clone)]
pub enum ExportCommand {
    /// Writes every mention (of a force, or of one case) with its resolved person id, as CSV.
    Persons(ExportPersonsArgs),
}

/// The fields a column can fill.
pub const TARGETS: &[&str] = &[
    "id",
    "forenames",
    "surname",
    "name",
    "alias",
    "date_of_birth",
    "sex",
    "line1",
    "line2",
    "town",
    "postcode",
    "country",
    "phone",
    "email",
    "vehicle",
    "social_handle",
    "pnc_id",
    "passport",
    "national_id",
    "nationality",
];

/// Column names understood without a mapping.
const ALIASES: &[(&str, &str)] = &[
    ("rec_id", "id"),
    ("record_id", "id"),
    ("person_ref", "id"),
    ("given_name", "forenames"),
    ("first_name", "forenames"),
    ("forename", "forenames"),
    ("last_name", "surname"),
    ("family_name", "surname"),
    ("dob", "date_of_birth"),
    ("birth_date", "date_of_birth"),
    ("address_1", "line1"),
    ("address_2", "line2"),
    ("suburb", "town"),
    ("city", "town"),
    ("soc_sec_id", "national_id"),
    ("ni_number", "national_id"),
];

#[derive(Debug, Args, Clone)]
pub struct ImportPersonsArgs {
    /// CSV file with a header row.
    pub file: PathBuf,
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Force code the records are published under.
    #[arg(long)]
    pub force: String,
    /// Case reference the records are published under (default: IMPORT-<file name>).
    #[arg(long)]
    pub case: Option<String>,
    /// Role of every imported person: suspect, victim or witness. Witnesses are resolved but
    /// take no part in networks.
    #[arg(long, default_value = "witness")]
    pub role: String,
    /// Column mapping, `column=field` pairs separated by commas; `a+b=field` joins columns with
    /// a space. Identifier and alias columns may hold several values separated by semicolons. Fields: id, forenames, surname, name, alias, date_of_birth, sex, line1, line2,
    /// town, postcode, country, phone, email, vehicle, social_handle, pnc_id, passport,
    /// national_id, nationality. Unmapped columns named like a field (or a common alias such as
    /// given_name, dob, rec_id) map to it.
    #[arg(long, default_value = "")]
    pub map: String,
    /// Fixed values for fields the file lacks, `field=value` pairs separated by commas (for
    /// example `country=AU` when every address is in Australia).
    #[arg(long, default_value = "")]
    pub set: String,
    /// Rows per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// How many problems to print (all are counted).
    #[arg(long, default_value_t = 20)]
    pub show_problems: usize,
    /// When the records were recorded (RFC 3339), stored as each event's `recorded_at` and
    /// `occurred_at` (default: when the file was last written). The same rows imported again
    /// with the same time store nothing new.
    #[arg(long)]
    pub recorded_at: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ExportPersonsArgs {
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Why the export is made (recorded with the query).
    #[arg(long)]
    pub purpose: String,
    /// Only mentions recorded by this force.
    #[arg(long, default_value = "")]
    pub force: String,
    /// Only mentions of this case (with --force).
    #[arg(long, default_value = "")]
    pub case: String,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Wait until the views have applied the log up to this position first.
    #[arg(long, default_value_t = 0)]
    pub min_position: u64,
}

/// How columns fill fields: for each field, the columns joined with a space.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub fields: BTreeMap<&'static str, Vec<usize>>,
    pub fixed: BTreeMap<&'static str, String>,
}

impl Mapping {
    /// Builds the mapping from the header and the `--map` option.
    pub fn new(header: &[String], spec: &str) -> Result<Self> {
        let col = |name: &str| -> Result<usize> {
            header.iter().position(|h| h.trim() == name.trim()).with_context(|| {
                format!("--map: {name:?} is not a column of the file (columns: {})", header.join(", "))
            })
        };
        let target = |name: &str| -> Result<&'static str> {
            TARGETS
                .iter()
                .copied()
                .find(|t| *t == name.trim())
                .with_context(|| format!("--map: {name:?} is not a field (fields: {})", TARGETS.join(", ")))
        };
        let mut fields: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
        let mut used = std::collections::BTreeSet::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (cols, field) = pair.split_once('=').with_context(|| format!("--map: {pair:?} is not column=field"))?;
            let t = target(field)?;
            let idx: Vec<usize> = cols.split('+').map(col).collect::<Result<_>>()?;
            used.extend(idx.iter().copied());
            fields.insert(t, idx);
        }
        for (i, h) in header.iter().enumerate() {
            let h = h.trim().to_lowercase();
            let t = TARGETS
                .iter()
                .copied()
                .find(|t| *t == h)
                .or_else(|| ALIASES.iter().find(|(a, _)| *a == h).map(|(_, t)| *t));
            if let Some(t) = t {
                if !used.contains(&i) && !fields.contains_key(t) {
                    fields.insert(t, vec![i]);
                }
            }
        }
        if !fields.contains_key("id") {
            bail!("no id column: map one with --map COLUMN=id (columns: {})", header.join(", "));
        }
        Ok(Mapping { fields, fixed: BTreeMap::new() })
    }

    /// Adds fixed values (`--set field=value,...`).
    pub fn with_fixed(mut self, spec: &str) -> Result<Self> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, value) = pair.split_once('=').with_context(|| format!("--set: {pair:?} is not field=value"))?;
            let t = TARGETS
                .iter()
                .copied()
                .find(|t| *t == field.trim() && *t != "id")
                .with_context(|| format!("--set: {field:?} is not a field that can be fixed"))?;
            self.fixed.insert(t, value.trim().to_string());
        }
        Ok(self)
    }

    fn get(&self, row: &csv::StringRecord, field: &str) -> String {
        if let Some(v) = self.fixed.get(field) {
            return v.clone();
        }
        self.fields
            .get(field)
            .map(|cols| {
                cols.iter()
                    .filter_map(|&c| row.get(c))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }
}

/// Parses a date of birth written as YYYY-MM-DD, YYYYMMDD, DD/MM/YYYY, YYYY-MM or YYYY.
pub fn parse_dob(s: &str) -> Result<String, String> {
    let s = s.trim();
    let iso = if s.len() == 8 && s.chars().all(|c| c.is_ascii_digit()) {
        format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])
    } else if let [d, m, y] = s.split('/').collect::<Vec<_>>()[..] {
        format!("{y:0>4}-{m:0>2}-{d:0>2}")
    } else {
        s.to_string()
    };
    rules::parse_partial_date(&iso).map(|d| d.to_string())
}

/// Turns one row into a person event, leaving out (and reporting) fields that do not parse.
pub fn row_event(
    row: &csv::StringRecord,
    m: &Mapping,
    force: &str,
    case: &str,
    role: pb::PersonRole,
    now: &str,
    problems: &mut Vec<String>,
) -> Option<pb::Event> {
    let id = m.get(row, "id");
    if id.is_empty() {
        problems.push("id: is empty; row skipped".into());
        return None;
    }
    let (mut forenames, mut surname) = (m.get(row, "forenames"), m.get(row, "surname"));
    let full = m.get(row, "name");
    if forenames.is_empty() && surname.is_empty() && !full.is_empty() {
        let mut parts: Vec<&str> = full.split_whitespace().collect();
        surname = parts.pop().unwrap_or_default().to_string();
        forenames = parts.join(" ");
    }
    let name = (!forenames.is_empty() || !surname.is_empty()).then_some(pb::Name { forenames, surname });
    let dob_raw = m.get(row, "date_of_birth");
    let date_of_birth = if dob_raw.is_empty() {
        String::new()
    } else {
        match parse_dob(&dob_raw) {
            Ok(d) => d,
            Err(why) => {
                problems.push(format!("date_of_birth: {why}; imported without it"));
                String::new()
            }
        }
    };
    let sex = match m.get(row, "sex").to_lowercase().as_str() {
        "f" | "female" => pb::Sex::Female as i32,
        "m" | "male" => pb::Sex::Male as i32,
        "" => 0,
        _ => pb::Sex::Other as i32,
    };
    let mut identifiers = Vec::new();
    for (field, kind, pk) in [
        ("phone", IdentifierKind::Phone, pb::IdentifierKind::Phone),
        ("email", IdentifierKind::Email, pb::IdentifierKind::Email),
        ("vehicle", IdentifierKind::Vehicle, pb::IdentifierKind::Vehicle),
        ("social_handle", IdentifierKind::SocialHandle, pb::IdentifierKind::SocialHandle),
        ("pnc_id", IdentifierKind::PncId, pb::IdentifierKind::PncId),
        ("passport", IdentifierKind::Passport, pb::IdentifierKind::Passport),
        ("national_id", IdentifierKind::NationalId, pb::IdentifierKind::NationalId),
    ] {
        // Several values of one kind are separated by semicolons.
        for v in m.get(row, field).split(';').map(str::trim).filter(|v| !v.is_empty()) {
            match rules::check_identifier(kind, v) {
                Ok(()) => identifiers.push(pb::Identifier { kind: pk as i32, value: v.to_string() }),
                Err(why) => problems.push(format!("{field}: {why}; imported without it")),
            }
        }
    }
    let address = pb::Address {
        line1: m.get(row, "line1"),
        line2: m.get(row, "line2"),
        town: m.get(row, "town"),
        postcode: m.get(row, "postcode"),
        country: m.get(row, "country"),
    };
    let has_address = !(address.line1.is_empty() && address.town.is_empty() && address.postcode.is_empty());
    let aliases = m
        .get(row, "alias")
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            let mut parts: Vec<&str> = a.split_whitespace().collect();
            let surname = parts.pop().unwrap_or_default().to_string();
            pb::Name { forenames: parts.join(" "), surname }
        })
        .collect();
    let nationality = m.get(row, "nationality");
    let description = if name.is_none() { "imported record without a name".to_string() } else { String::new() };
    let body = pb::PersonRecorded {
        person_ref: id.clone(),
        role: role as i32,
        name,
        aliases,
        date_of_birth,
        sex,
        nationalities: if nationality.is_empty() { Vec::new() } else { vec![nationality.to_uppercase()] },
        addresses: if has_address { vec![address] } else { Vec::new() },
        identifiers,
        description,
        ..Default::default()
    };
    let mut event = pb::Event {
        event_id: String::new(),
        force_code: force.to_string(),
        case_ref: case.to_string(),
        occurred_at: now.to_string(),
        recorded_at: now.to_string(),
        schema_version: 1,
        recorded_by: "import".into(),
        body: None,
    };
    let body = check_locally(body, force, case, now, problems)?;
    // The id depends on where the row goes and what it says, not on the time it is stamped with
    // (that time only decides which dates of birth are refused as later than it).
    let content = prost::Message::encode_to_vec(&body);
    let mut name_bytes = format!("beaconport-import/{force}/{case}/").into_bytes();
    name_bytes.extend_from_slice(&content);
    event.event_id = uuid::Uuid::new_v5(&IMPORT_NAMESPACE, &name_bytes).to_string();
    event.body = Some(pb::Body { kind: Some(pb::body::Kind::PersonRecorded(body)) });
    Some(event)
}

/// Validates the row's event as the ledger will, and leaves out each field the ledger would
/// refuse (a date of birth, an identifier, an address, an alias, a nationality), reporting it;
/// a row whose name or reference is refused is skipped and reported.
fn check_locally(
    mut body: pb::PersonRecorded,
    force: &str,
    case: &str,
    now: &str,
    problems: &mut Vec<String>,
) -> Option<pb::PersonRecorded> {
    let ctx = beaconport_domain::Context { now: chrono::Utc::now() };
    for _ in 0..8 {
        let event = pb::Event {
            event_id: "01900000-0000-7000-8000-000000000001".into(),
            force_code: force.to_string(),
            case_ref: case.to_string(),
            occurred_at: now.to_string(),
            recorded_at: now.to_string(),
            schema_version: 1,
            recorded_by: "import".into(),
            body: Some(pb::Body { kind: Some(pb::body::Kind::PersonRecorded(body.clone())) }),
        };
        let Err(errors) = beaconport_proto::decode_event(0, event, &ctx) else { return Some(body) };
        // One refused field at a time: indexes shift after a removal, so validate again.
        let Some(e) = errors.first() else { return Some(body) };
        let path = e.field.strip_prefix("person_recorded.").unwrap_or(&e.field);
        let index = |prefix: &str| -> Option<usize> {
            path.strip_prefix(prefix)?.strip_prefix('[')?.split(']').next()?.parse().ok()
        };
        let what = if path == "date_of_birth" {
            body.date_of_birth.clear();
            "date_of_birth"
        } else if let Some(i) = index("identifiers").filter(|i| *i < body.identifiers.len()) {
            body.identifiers.remove(i);
            "identifier"
        } else if let Some(i) = index("addresses").filter(|i| *i < body.addresses.len()) {
            body.addresses.remove(i);
            "address"
        } else if let Some(i) = index("aliases").filter(|i| *i < body.aliases.len()) {
            body.aliases.remove(i);
            "alias"
        } else if path.starts_with("nationalities") {
            body.nationalities.clear();
            "nationality"
        } else {
            problems.push(format!("{}: {}; row skipped", e.field, e.reason));
            return None;
        };
        problems.push(format!("{}: {}; imported without this {what}", e.field, e.reason));
    }
    problems.push("too many refused fields; row skipped".into());
    None
}

const IMPORT_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_2c3a_9d4e_4f7a_8c21_5e0d_b7a4_1c93);

/// What an import did.
#[derive(Debug, Default, Clone)]
pub struct ImportSummary {
    pub rows: u64,
    pub stored_new: u64,
    pub already_stored: u64,
    /// Of those already stored, rows imported before with another time.
    pub stored_at_another_time: u64,
    /// (row number, problem)
    pub problems: Vec<(u64, String)>,
    /// Rows the ledger refused.
    pub rejected: u64,
    /// Highest position acknowledged, plus one (for read-your-writes queries); 0 when the
    /// acknowledgements carried none (a writer to Kafka) or there were none.
    pub next_position: u64,
    /// Some acknowledgement carried no position (the ledger is a writer to Kafka).
    pub without_positions: bool,
}

/// Imports a CSV file through gRPC.
pub async fn import_persons(a: &ImportPersonsArgs) -> Result<ImportSummary> {
    let role = match a.role.as_str() {
        "suspect" => pb::PersonRole::Suspect,
        "victim" => pb::PersonRole::Victim,
        "witness" => pb::PersonRole::Witness,
        r => bail!("--role: {r:?} is not suspect, victim or witness"),
    };
    if a.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    let case = a.case.clone().unwrap_or_else(|| default_case(&a.file));
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(&a.file)
        .with_context(|| format!("opening {}", a.file.display()))?;
    let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
    let mapping = Mapping::new(&header, &a.map)?.with_fixed(&a.set)?;
    let now = import_time(a)?;
    let mut client = client::ingest(a.server.connect().await?);
    let mut summary = ImportSummary::default();
    let total = std::fs::metadata(&a.file).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} [{bar:40}] eta {eta}")
            .expect("valid")
            .progress_chars("=> "),
    );
    if total < (4 << 20) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut batch: Vec<(u64, pb::Event)> = Vec::with_capacity(a.batch_size);
    let mut seen = std::collections::HashSet::new();
    for (i, row) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                summary.problems.push((line, format!("not CSV: {e}; row skipped")));
                continue;
            }
        };
        summary.rows += 1;
        bar.set_position(row.position().map_or(0, |p| p.byte()));
        let mut problems = Vec::new();
        if let Some(ev) = row_event(&row, &mapping, &a.force, &case, role, &now, &mut problems) {
            if seen.insert(ev.event_id.clone()) {
                batch.push((line, ev));
            } else {
                summary.already_stored += 1;
            }
        }
        summary.problems.extend(problems.into_iter().map(|p| (line, p)));
        if batch.len() >= a.batch_size {
            send(&mut client, std::mem::take(&mut batch), &mut summary).await?;
        }
    }
    if !batch.is_empty() {
        send(&mut client, batch, &mut summary).await?;
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// The time every event of an import is stamped with: never the moment of the import, so the
/// same file imported twice gives the same events (a later import of the same rows stores
/// nothing new rather than conflicting with the first).
fn import_time(a: &ImportPersonsArgs) -> Result<String> {
    let now = chrono::Utc::now();
    let at = match &a.recorded_at {
        Some(text) => {
            let at = chrono::DateTime::parse_from_rfc3339(text)
                .with_context(|| format!("--recorded-at: {text:?} is not an RFC 3339 time"))?
                .with_timezone(&chrono::Utc);
            if at > now {
                bail!("--recorded-at: {text} is in the future");
            }
            at
        }
        // A file written "later" than now (a clock ahead elsewhere) is stamped now.
        None => {
            let written = std::fs::metadata(&a.file)
                .and_then(|m| m.modified())
                .map(chrono::DateTime::<chrono::Utc>::from)
                .with_context(|| format!("reading when {} was written", a.file.display()))?;
            // An archive's or a reproducible build's placeholder time (1970, 1980) would refuse
            // every later date of birth as recorded before the person was born: a file last
            // written before 1990 is taken to carry one.
            let oldest = chrono::NaiveDate::from_ymd_opt(1990, 1, 1)
                .expect("a valid date")
                .and_time(chrono::NaiveTime::MIN)
                .and_utc();
            if written < oldest {
                bail!(
                    "{} was last written {}, too long ago to be when its records were made (a placeholder time?): give the time with --recorded-at",
                    a.file.display(),
                    written.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
            written.min(now)
        }
    };
    Ok(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Most times a batch is offered again while the ledger says its rate limit is reached.
const RATE_LIMITED_TRIES: u32 = 30;

async fn send(
    client: &mut api::ingest_service_client::IngestServiceClient<tonic::transport::Channel>,
    batch: Vec<(u64, pb::Event)>,
    summary: &mut ImportSummary,
) -> Result<()> {
    let lines: Vec<u64> = batch.iter().map(|(l, _)| *l).collect();
    let events: Vec<pb::Event> = batch.into_iter().map(|(_, e)| e).collect();
    let mut tries = 0;
    let answer = loop {
        match client.publish(api::PublishRequest { events: events.clone() }).await {
            // Over the caller's rate (limits.requests_per_second): wait and offer it again,
            // as a batch refused for its rate is not stored.
            Err(s)
                if s.code() == tonic::Code::ResourceExhausted
                    && s.message().contains("requests_per_second")
                    && tries < RATE_LIMITED_TRIES =>
            {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 << tries.min(5))).await;
            }
            other => break other,
        }
    };
    match answer {
        Ok(r) => {
            for ack in r.into_inner().acks {
                // A writer to Kafka (the ingest role alone) gives places in the topic, no positions.
                match ack.position {
                    Some(position) => summary.next_position = summary.next_position.max(position + 1),
                    None => summary.without_positions = true,
                }
                if ack.duplicate {
                    summary.already_stored += 1;
                } else {
                    summary.stored_new += 1;
                }
            }
            Ok(())
        }
        Err(s) if matches!(s.code(), tonic::Code::InvalidArgument | tonic::Code::AlreadyExists) && events.len() > 1 => {
            // Find the bad rows: one at a time, so one bad row costs only itself.
            for (line, e) in lines.into_iter().zip(events) {
                Box::pin(send(client, vec![(line, e)], summary)).await?;
            }
            Ok(())
        }
        Err(s) if s.code() == tonic::Code::AlreadyExists => {
            // The id is derived from where the row goes and everything it says, so the ledger
            // holds this very row, imported before with another time (--recorded-at, or the
            // file written again since).
            summary.already_stored += 1;
            summary.stored_at_another_time += 1;
            Ok(())
        }
        Err(s) if s.code() == tonic::Code::InvalidArgument => {
            summary.rejected += 1;
            summary.problems.push((lines[0], format!("refused: {}", s.message())));
            Ok(())
        }
        Err(s) => bail!("the ledger failed: {} ({:?})", s.message(), s.code()),
    }
}

fn default_case(file: &Path) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy().to_uppercase()).unwrap_or_default();
    let clean: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("IMPORT-{clean}")
}

pub async fn run_import(cmd: ImportCommand) -> Result<ExitCode> {
    let ImportCommand::Persons(a) = cmd;
    let t = std::time::Instant::now();
    let s = import_persons(&a).await?;
    let current = if s.without_positions {
        "the ledger gave no positions (an ingest process writing to Kafka)".to_string()
    } else if s.next_position == 0 {
        "no event acknowledged with a position".to_string()
    } else {
        format!("views current from position {}", s.next_position)
    };
    println!(
        "read {} rows: {} stored ({} new, {} already stored), {} refused, {} problems ({:.2} s); {current}",
        s.rows,
        s.stored_new + s.already_stored,
        s.stored_new,
        s.already_stored,
        s.rejected,
        s.problems.len(),
        t.elapsed().as_secs_f64(),
    );
    if s.stored_at_another_time > 0 {
        println!(
            "{} rows were imported before with another recorded_at; the first copy stands",
            s.stored_at_another_time
        );
    }
    for (line, p) in s.problems.iter().take(a.show_problems) {
        println!("row at line {line}: {p}");
    }
    if s.problems.len() > a.show_problems {
        println!("... and {} more", s.problems.len() - a.show_problems);
    }
    Ok(if s.rejected == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// Fetches every mention's person id.
pub async fn export_persons(a: &ExportPersonsArgs) -> Result<Vec<api::MentionAssignment>> {
    let mut q = client::query(a.server.connect().await?);
    let mut stream = q
        .export_mentions(api::ExportMentionsRequest {
            context: Some(api::QueryContext {
                purpose: a.purpose.clone(),
                min_position: a.min_position,
                wait_ms: 60_000,
                as_of: None,
            }),
            force_code: a.force.clone(),
            case_ref: a.case.clone(),
        })
        .await
        .map_err(|s| anyhow::anyhow!("export refused: {}", s.message()))?
        .into_inner();
    let mut out = Vec::new();
    while let Some(row) = stream.next().await {
        out.push(row.map_err(|s| anyhow::anyhow!("export failed: {}", s.message()))?);
    }
    Ok(out)
}

/// Writes assignments as CSV: force_code, case_ref, record_id, person_id.
pub fn write_csv(rows: &[api::MentionAssignment], out: impl std::io::Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["force_code", "case_ref", "record_id", "person_id"])?;
    for r in rows {
        let m = r.mention.clone().unwrap_or_default();
        w.write_record([m.force_code, m.case_ref, m.person_ref, r.person_id.clone()])?;
    }
    w.flush()?;
    Ok(())
}

pub async fn run_export(cmd: ExportCommand) -> Result<ExitCode> {
    let ExportCommand::Persons(a) = cmd;
    let rows = export_persons(&a).await?;
    match &a.out {
        Some(path) => {
            let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            write_csv(&rows, std::io::BufWriter::new(f))?;
            let persons: std::collections::HashSet<&str> = rows.iter().map(|r| r.person_id.as_str()).collect();
            eprintln!("wrote {} mentions of {} persons to {}", rows.len(), persons.len(), path.display());
        }
        None => write_csv(&rows, std::io::stdout().lock())?,
    }
    Ok(ExitCode::SUCCESS)
}
