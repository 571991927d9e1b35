//! `beaconport log`: prints events from the log, read over gRPC or straight from a data
//! directory (when no server holds it).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use beaconport_log::{EventLog, Position};
use beaconport_proto::pb::{api, event as pb};
use clap::Args;
use futures::StreamExt;

use crate::client;

#[derive(Debug, Args, Clone)]
pub struct LogArgs {
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Read a data directory directly (no server may be running on it).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// First position to print.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Most events to print; 0 prints to the end.
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// One JSON object per line (proto3 JSON mapping of `LogEntry`), instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: LogArgs) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !a.json {
        writeln!(out, "{:>9}  {:<24}  {:<22}  {:<27}  event id", "position", "appended at", "force/case", "kind")?;
    }
    let mut print = |e: &api::LogEntry| -> Result<()> {
        if a.json {
            writeln!(out, "{}", serde_json::to_string(e)?)?;
        } else {
            writeln!(out, "{}", line(e))?;
        }
        Ok(())
    };
    if let Some(dir) = &a.data_dir {
        let log = beaconport_log_sled::SledLog::open(beaconport_log_sled::Options::new(dir))?;
        let end = if a.limit == 0 { u64::MAX } else { a.from.saturating_add(a.limit) };
        let mut pos = a.from;
        while pos < end {
            let want = (end - pos).min(1024) as usize;
            let entries = log.read(Position(pos), want).await?;
            if entries.is_empty() {
                break;
            }
            for e in &entries {
                print(&beaconport_server::LogReader::entry(e)?)?;
            }
            pos += entries.len() as u64;
        }
        log.close();
    } else {
        let mut c = client::log_reader(a.server.connect().await?);
        let mut stream = c.read(api::ReadRequest { from_position: a.from, limit: a.limit }).await?.into_inner();
        while let Some(e) = stream.next().await {
            print(&e?)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One human-readable line per event: where it sits and what kind it is, without personal data.
pub fn line(e: &api::LogEntry) -> String {
    let ev = e.event.clone().unwrap_or_default();
    let key = format!("{}/{}", ev.force_code, ev.case_ref);
    format!("{:>9}  {:<24}  {:<22}  {:<27}  {}", e.position, e.appended_at, key, kind_summary(&ev), ev.event_id)
}

/// The event's kind with a detail that identifies no one (role, classification, decision).
pub fn kind_summary(e: &pb::Event) -> String {
    use pb::body::Kind as K;
    let Some(kind) = e.body.as_ref().and_then(|b| b.kind.as_ref()) else { return "(no body)".into() };
    match kind {
        K::CaseOpened(c) => format!("case_opened {}", c.offence_classification),
        K::PersonRecorded(p) => format!(
            "person_recorded {} {}",
            p.person_ref,
            pb::PersonRole::try_from(p.role)
                .map(|r| r.as_str_name().trim_start_matches("PERSON_ROLE_").to_lowercase())
                .unwrap_or_default()
        ),
        K::OffenceRecorded(o) => format!("offence_recorded {}", o.classification),
        K::IdentifierObserved(_) => "identifier_observed".into(),
        K::LocationObserved(_) => "location_observed".into(),
        K::InterviewRecorded(i) => format!("interview_recorded {}", i.person_ref),
        K::StatementTaken(s) => format!("statement_taken {}", s.person_ref),
        K::DecisionRecorded(d) => format!(
            "decision {}",
            pb::DecisionKind::try_from(d.decision)
                .map(|k| k.as_str_name().trim_start_matches("DECISION_KIND_").to_lowercase())
                .unwrap_or_default()
        ),
        K::CaseReferred(_) => "case_referred".into(),
        K::IndependentReviewRecorded(_) => "independent_review".into(),
        K::TravelRiskNoted(t) => format!("travel_risk_noted {}", t.person_ref),
        K::FlagApplied(_) => "flag_applied".into(),
        K::FlagRemoved(_) => "flag_removed".into(),
        K::RecordCorrected(_) => "record_corrected".into(),
        K::RecordRetracted(_) => "record_retracted".into(),
        K::LinkDecided(_) => "link_decided".into(),
        K::ConsultationRecorded(c) => format!("consultation_recorded {} {}", c.call, c.outcome),
        K::ResolutionModelEstimated(r) => {
            format!("resolution_model_estimated level {} from {} mentions", r.level, r.mentions)
        }
        K::ReviewStarted(_) => "review_started".into(),
        K::AvenueActioned(a) => format!("avenue_actioned {}", a.avenue),
        K::ReviewConcluded(_) => "review_concluded".into(),
    }
}
