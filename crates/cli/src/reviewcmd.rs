//! `beaconport review queue|case|quality|risk|start|action|conclude`: the national NFA review
//! from a terminal, as tables, JSON (`--json`) or CSV (`--csv`); and `beaconport report`, one
//! self-contained HTML file with the queue, the quality figures and their charts.

use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use beaconport_proto::pb::{api, event as pb};
use clap::{Args, Subcommand, ValueEnum};
use tonic::transport::Channel;

use crate::client;

#[derive(Debug, Args, Clone)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Why you ask: an operation name or a reason (required, recorded).
    #[arg(long, global = true, default_value = "")]
    pub purpose: String,
    /// Print JSON (the API's messages in the proto3 JSON mapping) instead of tables.
    #[arg(long, global = true, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV instead of tables (queue, quality, risk).
    #[arg(long, global = true)]
    pub csv: bool,
    /// Wait until the views have applied the log up to this position.
    #[arg(long, global = true, default_value_t = 0)]
    pub min_position: u64,
    #[command(subcommand)]
    pub what: ReviewCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum ReviewCommand {
    /// The cases in scope, rape allegations first, then by priority.
    Queue {
        #[arg(long, default_value = "")]
        force: String,
        #[arg(long)]
        rape_only: bool,
        /// high, medium or standard.
        #[arg(long, default_value = "")]
        band: String,
        /// open (default), waiting, in_review, concluded or all.
        #[arg(long, default_value = "")]
        status: String,
        /// Most rows (0: every row).
        #[arg(long, default_value_t = 25)]
        limit: u32,
    },
    /// One case as the review sees it: scope, avenues and their evidence, links, classification.
    Case { force: String, case_ref: String },
    /// Flag agreement and ethnicity completeness per force, national totals, ethnicity in scope.
    Quality,
    /// Dangerous suspects or flight risks, ranked, with their reasons.
    Risk {
        #[arg(long, value_enum, default_value_t = RiskList::Dangerous)]
        list: RiskList,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Records that the review of a case started.
    Start {
        force: String,
        case_ref: String,
        #[arg(long, default_value = "National NFA review")]
        programme: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, default_value = "")]
        reviewer: String,
    },
    /// Records what was done about one avenue of a case (its id as `review case` lists it).
    Action {
        force: String,
        case_ref: String,
        avenue: String,
        #[arg(long, value_enum)]
        action: Action,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, default_value = "")]
        reviewer: String,
    },
    /// Records the conclusion of a case's review; it leaves the queue.
    Conclude {
        force: String,
        case_ref: String,
        #[arg(long, value_enum)]
        conclusion: Conclusion,
        #[arg(long)]
        summary: String,
        #[arg(long, default_value = "")]
        reviewer: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RiskList {
    Dangerous,
    Flight,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Action {
    Pursued,
    Completed,
    NotPossible,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Conclusion {
    Upheld,
    Reinvestigate,
    Prosecutor,
}

fn context(purpose: &str, min_position: u64) -> Option<api::QueryContext> {
    Some(api::QueryContext { purpose: purpose.to_string(), min_position, wait_ms: 30_000, as_of: None })
}

pub fn client(ch: Channel) -> api::review_service_client::ReviewServiceClient<Channel> {
    api::review_service_client::ReviewServiceClient::new(ch).max_decoding_message_size(client::MAX_MESSAGE_BYTES)
}

/// Every row of the queue matching `req` (paged through).
pub async fn whole_queue(
    r: &mut api::review_service_client::ReviewServiceClient<Channel>,
    mut req: api::GetQueueRequest,
    limit: usize,
) -> Result<(Vec<api::QueueItem>, u32)> {
    let mut items = Vec::new();
    req.page_size = 500;
    loop {
        let page = r.get_queue(req.clone()).await.map_err(fail)?.into_inner();
        items.extend(page.items);
        if page.next_page_token.is_empty() || (limit > 0 && items.len() >= limit) {
            if limit > 0 {
                items.truncate(limit);
            }
            return Ok((items, page.total));
        }
        req.page_token = page.next_page_token;
    }
}

fn fail(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}", s.message())
}

pub async fn run(a: ReviewArgs) -> Result<ExitCode> {
    let mut r = client(a.server.connect().await?);
    let ctx = context(&a.purpose, a.min_position);
    let today = chrono::Utc::now().date_naive().to_string();
    match a.what {
        ReviewCommand::Queue { force, rape_only, band, status, limit } => {
            let req = api::GetQueueRequest {
                context: ctx,
                page_size: 0,
                page_token: String::new(),
                force_code: force,
                rape_only,
                band,
                status,
            };
            let (items, total) = whole_queue(&mut r, req, limit as usize).await?;
            if a.json {
                for i in &items {
                    println!("{}", serde_json::to_string(i)?);
                }
            } else if a.csv {
                queue_csv(std::io::stdout(), &items)?;
            } else {
                print_queue(&items, total);
            }
        }
        ReviewCommand::Case { force, case_ref } => {
            let c = r
                .get_review_case(api::GetReviewCaseRequest { context: ctx, force_code: force, case_ref })
                .await
                .map_err(fail)?
                .into_inner();
            if a.json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                print_case(&c);
            }
        }
        ReviewCommand::Quality => {
            let q = r.get_quality(api::GetQualityRequest { context: ctx }).await.map_err(fail)?.into_inner();
            if a.json {
                println!("{}", serde_json::to_string_pretty(&q)?);
            } else if a.csv {
                quality_csv(std::io::stdout(), &q)?;
            } else {
                print_quality(&q);
            }
        }
        ReviewCommand::Risk { list, limit } => {
            let list = match list {
                RiskList::Dangerous => "dangerous",
                RiskList::Flight => "flight",
            };
            let l = r
                .get_risk(api::GetRiskRequest {
                    context: ctx,
                    list: list.into(),
                    page_size: limit,
                    page_token: String::new(),
                })
                .await
                .map_err(fail)?
                .into_inner();
            if a.json {
                println!("{}", serde_json::to_string_pretty(&l)?);
            } else if a.csv {
                risk_csv(std::io::stdout(), &l)?;
            } else {
                print_risk(&l);
            }
        }
        ReviewCommand::Start { force, case_ref, programme, note, reviewer } => {
            let step =
                api::record_review_request::Step::Started(pb::ReviewStarted { programme, started_on: today, note });
            record(&mut r, ctx, force, case_ref, reviewer, step).await?;
        }
        ReviewCommand::Action { force, case_ref, avenue, action, note, reviewer } => {
            let action = match action {
                Action::Pursued => pb::AvenueAction::Pursued,
                Action::Completed => pb::AvenueAction::Completed,
                Action::NotPossible => pb::AvenueAction::NotPossible,
            } as i32;
            let step = api::record_review_request::Step::Actioned(pb::AvenueActioned {
                avenue,
                action,
                actioned_on: today,
                note,
            });
            record(&mut r, ctx, force, case_ref, reviewer, step).await?;
        }
        ReviewCommand::Conclude { force, case_ref, conclusion, summary, reviewer } => {
            let conclusion = match conclusion {
                Conclusion::Upheld => pb::ReviewConclusion::DecisionUpheld,
                Conclusion::Reinvestigate => pb::ReviewConclusion::Reinvestigate,
                Conclusion::Prosecutor => pb::ReviewConclusion::ReferredToProsecutor,
            } as i32;
            let step = api::record_review_request::Step::Concluded(pb::ReviewConcluded {
                conclusion,
                concluded_on: today,
                summary,
            });
            record(&mut r, ctx, force, case_ref, reviewer, step).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn record(
    r: &mut api::review_service_client::ReviewServiceClient<Channel>,
    context: Option<api::QueryContext>,
    force_code: String,
    case_ref: String,
    recorded_by: String,
    step: api::record_review_request::Step,
) -> Result<()> {
    let ack = r
        .record_review(api::RecordReviewRequest {
            context,
            force_code,
            case_ref,
            event_id: uuid::Uuid::now_v7().to_string(),
            recorded_by,
            step: Some(step),
        })
        .await
        .map_err(fail)?
        .into_inner();
    println!("recorded at position {}{}", ack.position, if ack.duplicate { " (already recorded)" } else { "" });
    Ok(())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_else(|| "-".into())
}

fn share(a: u32, b: u32) -> Option<f64> {
    (b > 0).then(|| f64::from(a) / f64::from(b))
}

pub fn print_queue(items: &[api::QueueItem], total: u32) {
    println!(
        "{:>4}  {:<24} {:<5} {:>5} {:<8} {:<10} {:>3} {:>3} {:>5} {:>7}  {:<9} std/flag",
        "rank", "case", "off.", "score", "band", "NFA", "vic", "sus", "links", "avenues", "status"
    );
    for i in items {
        println!(
            "{:>4}  {:<24} {:<5} {:>5} {:<8} {:<10} {:>3} {:>3} {:>5} {:>3}/{:<3}  {:<9} {}/{}",
            if i.rank == 0 { "-".to_string() } else { i.rank.to_string() },
            format!("{}/{}", i.force_code, i.case_ref),
            i.offence_code,
            i.score,
            format!("{}{}", if i.rape { "R " } else { "" }, i.band),
            i.decided_on,
            i.victims,
            i.suspects,
            i.other_force_cases,
            i.open_avenues,
            i.avenues,
            i.status,
            if i.standard_group_based { "group" } else { "-" },
            if i.force_flagged { "flagged" } else { "unflagged" },
        );
    }
    println!(
        "{} of {total} cases shown (R: rape allegation; links: other forces' cases; avenues: open/all)",
        items.len()
    );
}

pub fn print_case(c: &api::ReviewCase) {
    println!(
        "{}/{}: {}",
        c.force_code,
        c.case_ref,
        if c.in_scope { "in the review's scope" } else { "outside the review's scope" }
    );
    for why in &c.out_of_scope {
        println!("  - {why}");
    }
    if let Some(i) = &c.item {
        println!(
            "  rank {} · score {} ({}) · NFA by {} on {} · {} victims, {} suspects · status {}{}",
            i.rank,
            i.score,
            i.band,
            i.decided_by,
            i.decided_on,
            i.victims,
            i.suspects,
            c.status,
            if c.reviewer.is_empty() { String::new() } else { format!(" ({})", c.reviewer) }
        );
    }
    println!(
        "standard definition: {} · force flags: {}",
        if c.standard_group_based { "group-based" } else { "not group-based" },
        if c.force_flags.is_empty() { "none".to_string() } else { c.force_flags.join(", ") }
    );
    for r in &c.standard_reasons {
        println!("  - {r}");
    }
    if !c.avenues.is_empty() {
        println!("avenues left open:");
    }
    for a in &c.avenues {
        let done = if a.action.is_empty() {
            "open".to_string()
        } else {
            format!("{} on {} by {}", a.action, a.actioned_on, a.actioned_by)
        };
        println!("  [{}] {} ({done})", a.id, a.title);
        for e in &a.evidence {
            println!("      {e}");
        }
    }
    if !c.other_force_cases.is_empty() {
        println!("linked cases of other forces:");
    }
    for l in &c.other_force_cases {
        println!("  {}/{}: {}", l.force_code, l.case_ref, l.how.join("; "));
    }
}

pub fn print_quality(q: &api::QualityReport) {
    println!(
        "{:<6} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9}",
        "force",
        "cases",
        "std",
        "flag",
        "agree",
        "prec.",
        "recall",
        "scope",
        "scope flg",
        "sus. eth",
        "vic. eth",
        "sus. sd"
    );
    let row = |f: &api::ForceQuality| {
        let s = f.suspects.unwrap_or_default();
        let v = f.victims.unwrap_or_default();
        println!(
            "{:<6} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9}",
            f.force_code,
            f.cases,
            f.standard,
            f.flagged,
            f.agree,
            pct(f.precision),
            pct(f.recall),
            f.in_scope,
            pct(f.in_scope_flagged_share),
            pct(share(s.either, s.mentions)),
            pct(share(v.either, v.mentions)),
            pct(share(s.self_defined, s.mentions)),
        );
    };
    for f in &q.forces {
        row(f);
    }
    if let Some(n) = &q.national {
        row(n);
    }
    println!(
        "std: group-based by the standard definition; flag: the force's group-based or exploitation flag; \
         scope flg: in-scope cases with any child abuse flag (the inspectorate found {:.0}% nationally); \
         eth.: ethnicity known (self-defined or observed); sd: self-defined",
        q.inspectorate_flagged_share * 100.0
    );
    for (label, b) in [("suspects", &q.suspects_in_scope), ("victims", &q.victims_in_scope)] {
        let Some(b) = b else { continue };
        println!(
            "ethnicity of {label} in scope ({} persons; unknown {}, {:.0}%):",
            b.persons,
            b.unknown,
            b.unknown_share * 100.0
        );
        for c in &b.self_defined {
            println!("  {:>5}  {:<13} {}", c.persons, c.code, c.label);
        }
    }
}

pub fn print_risk(l: &api::RiskList) {
    println!("{} ({} in all)", if l.list == "flight" { "flight risks" } else { "dangerous suspects" }, l.total);
    for i in &l.items {
        println!(
            "{:>3}. {:<28} score {:>3}  forces {}  ({})",
            i.rank,
            i.name,
            i.score,
            i.forces.join(","),
            i.person_id
        );
        for r in &i.reasons {
            println!("       - {r}");
        }
    }
}

pub fn queue_csv<W: std::io::Write>(w: W, items: &[api::QueueItem]) -> Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "rank",
        "force",
        "case_ref",
        "offence",
        "rape",
        "score",
        "band",
        "nfa_decided_on",
        "nfa_by",
        "victims",
        "suspects",
        "other_force_cases",
        "avenues",
        "open_avenues",
        "status",
        "standard_group_based",
        "force_flagged",
        "youngest_victim_age",
    ])?;
    for i in items {
        out.write_record([
            i.rank.to_string(),
            i.force_code.clone(),
            i.case_ref.clone(),
            i.offence_code.clone(),
            i.rape.to_string(),
            i.score.to_string(),
            i.band.clone(),
            i.decided_on.clone(),
            i.decided_by.clone(),
            i.victims.to_string(),
            i.suspects.to_string(),
            i.other_force_cases.to_string(),
            i.avenues.to_string(),
            i.open_avenues.to_string(),
            i.status.clone(),
            i.standard_group_based.to_string(),
            i.force_flagged.to_string(),
            if i.youngest_victim_age < 0 { String::new() } else { i.youngest_victim_age.to_string() },
        ])?;
    }
    out.flush()?;
    Ok(())
}

pub fn quality_csv<W: std::io::Write>(w: W, q: &api::QualityReport) -> Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record([
        "force",
        "cases",
        "standard",
        "flagged",
        "agree",
        "precision",
        "recall",
        "in_scope",
        "in_scope_flagged",
        "in_scope_flagged_share",
        "suspects",
        "suspects_self_defined",
        "suspects_observed",
        "suspects_either",
        "victims",
        "victims_self_defined",
        "victims_observed",
        "victims_either",
    ])?;
    let f = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
    for r in q.forces.iter().chain(q.national.as_ref()) {
        let s = r.suspects.unwrap_or_default();
        let v = r.victims.unwrap_or_default();
        out.write_record([
            r.force_code.clone(),
            r.cases.to_string(),
            r.standard.to_string(),
            r.flagged.to_string(),
            r.agree.to_string(),
            f(r.precision),
            f(r.recall),
            r.in_scope.to_string(),
            r.in_scope_flagged.to_string(),
            f(r.in_scope_flagged_share),
            s.mentions.to_string(),
            s.self_defined.to_string(),
            s.observed.to_string(),
            s.either.to_string(),
            v.mentions.to_string(),
            v.self_defined.to_string(),
            v.observed.to_string(),
            v.either.to_string(),
        ])?;
    }
    out.flush()?;
    Ok(())
}

pub fn risk_csv<W: std::io::Write>(w: W, l: &api::RiskList) -> Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(["rank", "person_id", "name", "score", "forces", "cases", "reasons"])?;
    for i in &l.items {
        out.write_record([
            i.rank.to_string(),
            i.person_id.clone(),
            i.name.clone(),
            i.score.to_string(),
            i.forces.join(" "),
            i.cases.join(" "),
            i.reasons.join("; "),
        ])?;
    }
    out.flush()?;
    Ok(())
}

// ---- the HTML report ----

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Why you ask (required, recorded).
    #[arg(long, default_value = "")]
    pub purpose: String,
    /// Where to write the report.
    #[arg(long, default_value = "beaconport-report.html")]
    pub out: std::path::PathBuf,
    /// Rows of the queue in the report (0: all).
    #[arg(long, default_value_t = 100)]
    pub queue_rows: u32,
}

pub async fn run_report(a: ReportArgs) -> Result<ExitCode> {
    let mut r = client(a.server.connect().await?);
    let html = fetch_and_render(&mut r, &a.purpose, a.queue_rows as usize).await?;
    std::fs::write(&a.out, html).with_context(|| format!("writing {}", a.out.display()))?;
    println!("report written to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Asks the ledger for the queue, the quality figures and the risk lists, and renders the report.
pub async fn fetch_and_render(
    r: &mut api::review_service_client::ReviewServiceClient<Channel>,
    purpose: &str,
    queue_rows: usize,
) -> Result<String> {
    if purpose.trim().is_empty() {
        bail!("--purpose is required: say why you ask (it is recorded)");
    }
    let ctx = context(purpose, 0);
    let req = api::GetQueueRequest { context: ctx.clone(), ..Default::default() };
    let (all, total) = whole_queue(r, req, 0).await?;
    let q = r.get_quality(api::GetQualityRequest { context: ctx.clone() }).await.map_err(fail)?.into_inner();
    let dangerous = r
        .get_risk(api::GetRiskRequest {
            context: ctx.clone(),
            list: "dangerous".into(),
            page_size: 20,
            page_token: String::new(),
        })
        .await
        .map_err(fail)?
        .into_inner();
    let flight = r
        .get_risk(api::GetRiskRequest { context: ctx, list: "flight".into(), page_size: 20, page_token: String::new() })
        .await
        .map_err(fail)?
        .into_inner();
    Ok(render_report(&all, total, queue_rows, &q, &dangerous, &flight))
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A horizontal bar chart in SVG: one row per label, one bar per series (values 0..=1), and an
/// optional reference line.
fn bars(
    title: &str,
    rows: &[(String, Vec<Option<f64>>)],
    series: &[(&str, &str)],
    line: Option<(f64, &str)>,
) -> String {
    let (label_w, bar_w, row_h) = (70.0, 420.0, 8.0 + 12.0 * series.len() as f64);
    let h = 40.0 + row_h * rows.len() as f64 + 10.0;
    let mut s = format!(
        r#"<figure><svg role="img" aria-label="{t}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11"><title>{t}</title>"#,
        t = esc(title),
        w = label_w + bar_w + 60.0,
    );
    for (k, (name, colour)) in series.iter().enumerate() {
        let x = label_w + k as f64 * 150.0;
        s += &format!(
            r#"<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/><text x="{}" y="13">{}</text>"#,
            x + 14.0,
            esc(name)
        );
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = 30.0 + row_h * i as f64;
        s += &format!(r#"<text x="0" y="{}">{}</text>"#, y + 10.0, esc(label));
        for (k, v) in values.iter().enumerate() {
            let by = y + 12.0 * k as f64;
            match v {
                Some(v) => {
                    s += &format!(
                        r#"<rect x="{label_w}" y="{by}" width="{:.1}" height="10" fill="{}"><title>{}: {:.0}%</title></rect><text x="{:.1}" y="{}">{:.0}%</text>"#,
                        bar_w * v.clamp(0.0, 1.0),
                        series[k].1,
                        esc(series[k].0),
                        v * 100.0,
                        label_w + bar_w * v.clamp(0.0, 1.0) + 3.0,
                        by + 9.0,
                        v * 100.0
                    );
                }
                None => s += &format!(r#"<text x="{label_w}" y="{}">n/a</text>"#, by + 9.0),
            }
        }
    }
    if let Some((v, name)) = line {
        let x = label_w + bar_w * v;
        s += &format!(
            r##"<line x1="{x}" y1="24" x2="{x}" y2="{}" stroke="#000" stroke-dasharray="4 3"/><text x="{}" y="{}">{}</text>"##,
            h - 10.0,
            x + 3.0,
            h - 2.0,
            esc(name)
        );
    }
    s + "</svg></figure>"
}

/// The report: self-contained (inline CSS and SVG, no script, no external request).
pub fn render_report(
    queue: &[api::QueueItem],
    total: u32,
    queue_rows: usize,
    q: &api::QualityReport,
    dangerous: &api::RiskList,
    flight: &api::RiskList,
) -> String {
    let mut h = String::new();
    h += r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Beaconport: national NFA review report</title><meta name="viewport" content="width=device-width"><style>
body{font-family:system-ui,sans-serif;margin:2em;color:#111;max-width:1100px}table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #999;padding:3px 6px;text-align:left}th{background:#e8e8e8}td.n{text-align:right}caption{text-align:left;font-weight:bold;padding:4px 0}figure{margin:1em 0}.note{color:#333;font-size:13px}
</style></head><body>"#;
    h += &format!(
        "<h1>National NFA review</h1><p class=\"note\">Views at log position {}. Generated {}. Every figure below comes from the ledger's views; the rules are in ARCHITECTURE.md (\"The national review\").</p>",
        q.as_of_position,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    // Queue by priority.
    let mut bands: std::collections::BTreeMap<(bool, String), u32> = Default::default();
    for i in queue {
        *bands.entry((!i.rape, i.band.clone())).or_default() += 1;
    }
    let max = bands.values().copied().max().unwrap_or(1).max(1);
    let band_rows: Vec<(String, Vec<Option<f64>>)> = ["high", "medium", "standard"]
        .iter()
        .map(|b| {
            let rape = bands.get(&(false, b.to_string())).copied().unwrap_or(0);
            let other = bands.get(&(true, b.to_string())).copied().unwrap_or(0);
            (b.to_string(), vec![Some(f64::from(rape) / f64::from(max)), Some(f64::from(other) / f64::from(max))])
        })
        .collect();
    h += &format!("<h2>The queue ({total} open cases)</h2>");
    h += &bars(
        &format!("Open cases by priority band, scaled to the largest group ({max} cases = 100%)"),
        &band_rows,
        &[("rape allegations", "#8b1a1a"), ("other cases", "#2f5d8a")],
        None,
    );
    h += "<table><caption>Head of the queue (rape allegations first, then by priority)</caption><tr><th>rank</th><th>case</th><th>offence</th><th>score</th><th>band</th><th>NFA</th><th>victims</th><th>suspects</th><th>other forces' cases</th><th>open avenues</th><th>status</th><th>standard</th><th>force flag</th></tr>";
    let shown = if queue_rows == 0 { queue.len() } else { queue_rows.min(queue.len()) };
    for i in &queue[..shown] {
        h += &format!(
            "<tr><td class=n>{}</td><td>{}/{}</td><td>{}{}</td><td class=n>{}</td><td>{}</td><td>{} ({})</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}/{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i.rank,
            esc(&i.force_code),
            esc(&i.case_ref),
            esc(&i.offence_code),
            if i.rape { " (rape)" } else { "" },
            i.score,
            esc(&i.band),
            esc(&i.decided_on),
            esc(&i.decided_by),
            i.victims,
            i.suspects,
            i.other_force_cases,
            i.open_avenues,
            i.avenues,
            esc(&i.status),
            if i.standard_group_based { "group-based" } else { "no" },
            if i.force_flagged { "flagged" } else { "not flagged" },
        );
    }
    h += "</table>";
    // Quality.
    h += "<h2>Data quality per force</h2>";
    let rows: Vec<(String, Vec<Option<f64>>)> = q
        .forces
        .iter()
        .chain(q.national.as_ref())
        .map(|f| (f.force_code.clone(), vec![f.precision, f.recall, f.in_scope_flagged_share]))
        .collect();
    h += &bars(
        "Force flags against the standard definition",
        &rows,
        &[("precision", "#2f5d8a"), ("recall", "#d08c00"), ("in-scope cases flagged", "#5a8a2f")],
        Some((q.inspectorate_flagged_share, "inspectorate: 37% flagged")),
    );
    let rows: Vec<(String, Vec<Option<f64>>)> = q
        .forces
        .iter()
        .chain(q.national.as_ref())
        .map(|f| {
            let s = f.suspects.unwrap_or_default();
            let v = f.victims.unwrap_or_default();
            (
                f.force_code.clone(),
                vec![
                    share(s.self_defined, s.mentions),
                    share(v.self_defined, v.mentions),
                    share(s.observed, s.mentions),
                ],
            )
        })
        .collect();
    h += &bars(
        "Ethnicity recorded",
        &rows,
        &[
            ("suspects, self-defined", "#2f5d8a"),
            ("victims, self-defined", "#d08c00"),
            ("suspects, officer-observed", "#5a8a2f"),
        ],
        None,
    );
    h += "<table><caption>Per force (cases recording a sexual offence against a child)</caption><tr><th>force</th><th>cases</th><th>group-based (standard)</th><th>flagged by force</th><th>agree</th><th>precision</th><th>recall</th><th>in scope</th><th>in scope flagged</th><th>suspects: ethnicity known</th><th>victims: ethnicity known</th><th>most missing field</th></tr>";
    for f in q.forces.iter().chain(q.national.as_ref()) {
        let s = f.suspects.unwrap_or_default();
        let v = f.victims.unwrap_or_default();
        let worst = f.missing.iter().max_by_key(|(_, n)| **n).map(|(k, n)| format!("{k} ({n})")).unwrap_or_default();
        h += &format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td></tr>",
            esc(&f.force_code),
            f.cases,
            f.standard,
            f.flagged,
            f.agree,
            pct(f.precision),
            pct(f.recall),
            f.in_scope,
            pct(f.in_scope_flagged_share),
            pct(share(s.either, s.mentions)),
            pct(share(v.either, v.mentions)),
            esc(&worst)
        );
    }
    h += "</table>";
    for (label, b) in [("Suspects", &q.suspects_in_scope), ("Victims", &q.victims_in_scope)] {
        let Some(b) = b else { continue };
        h += &format!(
            "<table><caption>{label} in scope by self-defined ethnicity ({} persons; ethnicity unknown for {}, {:.0}%)</caption><tr><th>code</th><th>group</th><th>persons</th><th>share</th></tr>",
            b.persons,
            b.unknown,
            b.unknown_share * 100.0
        );
        for c in &b.self_defined {
            h += &format!(
                "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
                esc(&c.code),
                esc(&c.label),
                c.persons,
                pct(share(c.persons, b.persons))
            );
        }
        h += "</table>";
    }
    // Risk.
    for (title, l) in [("Dangerous suspects", dangerous), ("Flight risks", flight)] {
        h += &format!("<h2>{title} (top {} of {})</h2><table><tr><th>rank</th><th>person</th><th>score</th><th>forces</th><th>reasons</th></tr>", l.items.len(), l.total);
        for i in &l.items {
            h += &format!(
                "<tr><td class=n>{}</td><td>{}<br><small>{}</small></td><td class=n>{}</td><td>{}</td><td>{}</td></tr>",
                i.rank,
                esc(&i.name),
                esc(&i.person_id),
                i.score,
                esc(&i.forces.join(", ")),
                esc(&i.reasons.join("; "))
            );
        }
        h += "</table>";
    }
    h += "</body></html>\n";
    h
}
