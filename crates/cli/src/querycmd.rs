//! `beaconport query search|person|linked|network|networks`: the investigator's questions from a
//! terminal, as readable tables or JSON (`--json`).

use std::process::ExitCode;

use anyhow::Result;
use beaconport_proto::pb::api;
use clap::{Args, Subcommand};

use crate::client;

#[derive(Debug, Args, Clone)]
pub struct QueryArgs {
    #[command(flatten)]
    pub server: crate::client::ServerArgs,
    /// Why you ask: an operation name or a reason (required, recorded).
    #[arg(long, global = true, default_value = "")]
    pub purpose: String,
    /// Print JSON (the API's messages in the proto3 JSON mapping) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Wait until the views have applied the log up to this position.
    #[arg(long, global = true, default_value_t = 0)]
    pub min_position: u64,
    /// Ask the views as they stood when the ledger held the events before this position.
    #[arg(long, global = true, conflicts_with_all = ["as_of_appended", "as_of_recorded"])]
    pub as_of_position: Option<u64>,
    /// Ask the views as they stood with the events appended by this time (RFC 3339).
    #[arg(long, global = true, conflicts_with = "as_of_recorded")]
    pub as_of_appended: Option<String>,
    /// Ask the views as the forces had recorded events by this time (RFC 3339).
    #[arg(long, global = true)]
    pub as_of_recorded: Option<String>,
    #[command(subcommand)]
    pub what: QueryCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum QueryCommand {
    /// Persons by name, date of birth or identifier, best match first.
    Search {
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        dob: String,
        #[arg(long, default_value = "")]
        identifier: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// A person's cross-force dossier.
    Person { person_id: String },
    /// Suspects linked to a person, with the path that links each.
    Linked {
        person_id: String,
        #[arg(long, default_value_t = 2)]
        hops: u32,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only these link types (comma separated: co_suspect, shared_victim, shared_phone, ...).
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// One network (by id, or the network of a person with --person).
    Network {
        #[arg(default_value = "")]
        network_id: String,
        #[arg(long, default_value = "")]
        person: String,
    },
    /// Networks spanning at least --min-forces forces, largest first.
    Networks {
        #[arg(long, default_value_t = 2)]
        min_forces: u32,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

pub async fn run(a: QueryArgs) -> Result<ExitCode> {
    let mut q = client::query(a.server.connect().await?);
    let context = Some(api::QueryContext {
        purpose: a.purpose.clone(),
        min_position: a.min_position,
        wait_ms: 30_000,
        as_of: {
            use api::as_of::Bound;
            let bound = match (a.as_of_position, &a.as_of_appended, &a.as_of_recorded) {
                (Some(p), _, _) => Some(Bound::Position(p)),
                (None, Some(t), _) => Some(Bound::AppendedAt(t.clone())),
                (None, None, Some(t)) => Some(Bound::RecordedAt(t.clone())),
                (None, None, None) => None,
            };
            bound.map(|b| api::AsOf { bound: Some(b) })
        },
    });
    let fail = |s: tonic::Status| anyhow::anyhow!("{}", s.message());
    match a.what {
        QueryCommand::Search { name, dob, identifier, limit } => {
            let r = q
                .search_persons(api::SearchPersonsRequest {
                    context,
                    name,
                    date_of_birth: dob,
                    identifier,
                    page_size: limit,
                    page_token: String::new(),
                })
                .await
                .map_err(fail)?
                .into_inner();
            show(a.json, &r, |r| print_persons(&r.persons, true))?;
        }
        QueryCommand::Person { person_id } => {
            let r = q.get_person(api::GetPersonRequest { context, person_id }).await.map_err(fail)?.into_inner();
            show(a.json, &r, print_dossier)?;
        }
        QueryCommand::Linked { person_id, hops, limit, types } => {
            let r = q
                .linked_suspects(api::LinkedSuspectsRequest {
                    to_person_id: String::new(),
                    context,
                    person_id,
                    max_hops: hops,
                    page_size: limit,
                    page_token: String::new(),
                    link_types: types,
                })
                .await
                .map_err(fail)?
                .into_inner();
            show(a.json, &r, print_linked)?;
        }
        QueryCommand::Network { network_id, person } => {
            let r = q
                .get_network(api::GetNetworkRequest { context, network_id, person_id: person })
                .await
                .map_err(fail)?
                .into_inner();
            show(a.json, &r, print_network)?;
        }
        QueryCommand::Networks { min_forces, limit } => {
            let r = q
                .list_networks(api::ListNetworksRequest {
                    context,
                    min_forces,
                    page_size: limit,
                    page_token: String::new(),
                })
                .await
                .map_err(fail)?
                .into_inner();
            show(a.json, &r, print_networks)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints an answer as JSON (the proto3 JSON mapping) or with its table printer.
fn show<T: serde::Serialize>(json: bool, r: &T, table: impl FnOnce(&T)) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        table(r);
    }
    Ok(())
}

pub fn print_persons(persons: &[api::PersonSummary], scored: bool) {
    println!(
        "{:<36}  {:<28} {:<10} {:>4} {:>5}  {:<16} {}",
        "person",
        "name",
        "born",
        "men.",
        "cases",
        "roles",
        if scored { "score" } else { "" }
    );
    for p in persons {
        println!(
            "{:<36}  {:<28} {:<10} {:>4} {:>5}  {:<16} {}",
            p.person_id,
            truncate(&p.display_name, 28),
            p.date_of_birth,
            p.mentions,
            p.cases,
            p.roles.join(","),
            if scored { format!("{:.1}", p.score) } else { String::new() }
        );
    }
}

pub fn print_dossier(d: &api::PersonDossier) {
    let Some(p) = &d.person else { return };
    println!(
        "{} ({}), born {}",
        p.display_name,
        p.person_id,
        if p.date_of_birth.is_empty() { "unknown" } else { &p.date_of_birth }
    );
    if !p.other_names.is_empty() {
        println!("also recorded as: {}", p.other_names.join("; "));
    }
    println!(
        "recorded by {} force(s): {}; {} mention(s) in {} case(s)",
        p.forces.len(),
        p.forces.join(", "),
        p.mentions,
        p.cases
    );
    if !d.network_id.is_empty() {
        println!("network: {}", d.network_id);
    }
    println!("\ncases:");
    for c in &d.cases {
        println!(
            "  {:<5} {:<22} {:<8} {:<6} {:<45} {}",
            c.force_code,
            c.case_ref,
            c.role,
            c.offence_code,
            truncate(&c.offence, 45),
            if c.latest_decision.is_empty() {
                String::new()
            } else {
                format!("{} {}", c.latest_decision, c.latest_decision_on)
            }
        );
    }
    if !d.identifiers.is_empty() {
        println!("\nidentifiers:");
        for i in &d.identifiers {
            println!("  {:<14} {:<22} seen in {} mention(s)", i.kind, i.value, i.seen_in.len());
        }
    }
    if !d.risk_markers.is_empty() {
        println!("\nrisk markers:");
        for r in &d.risk_markers {
            println!("  {r}");
        }
    }
    if !d.evidence.is_empty() {
        println!("\nwhy these mentions are one person:");
        for e in &d.evidence {
            let (a, b) = (e.a.clone().unwrap_or_default(), e.b.clone().unwrap_or_default());
            let fields: Vec<String> =
                e.fields.iter().map(|f| format!("{} {} ({:+.1})", f.field, f.level, f.weight)).collect();
            println!(
                "  {}/{}/{} = {}/{}/{}: {} {}",
                a.force_code,
                a.case_ref,
                a.person_ref,
                b.force_code,
                b.case_ref,
                b.person_ref,
                if e.asserted {
                    "asserted by an investigator;".to_string()
                } else {
                    format!("weight {:.1}, p={:.3};", e.weight, e.probability)
                },
                fields.join(", ")
            );
        }
    }
}

pub fn print_linked(r: &api::LinkedSuspectsResponse) {
    println!("{} linked suspect(s)", r.suspects.len());
    for s in &r.suspects {
        let p = s.person.clone().unwrap_or_default();
        println!(
            "  [{} hop{}] {} ({}), {}",
            s.hops,
            if s.hops == 1 { "" } else { "s" },
            p.display_name,
            p.person_id,
            p.forces.join("/")
        );
        println!("      {}", s.explanation);
    }
    if !r.skipped_hubs.is_empty() {
        println!("not followed (shared by too many to mean anything): {}", r.skipped_hubs.join("; "));
    }
}

pub fn print_network(n: &api::NetworkDetail) {
    let s = n.summary.clone().unwrap_or_default();
    println!(
        "network {}: {} suspects, {} victims, {} cases in {} force(s) ({}){}",
        s.network_id,
        s.suspects,
        s.victims,
        s.cases,
        s.forces.len(),
        s.forces.join(", "),
        if s.cross_force { ", crosses force boundaries" } else { "" }
    );
    for node in &n.nodes {
        println!("  {:<10} {:<60} {}", node.kind, truncate(&node.label, 60), node.force_code);
    }
    println!("{} edges", n.edges.len());
}

pub fn print_networks(r: &api::ListNetworksResponse) {
    println!("{} network(s)", r.total);
    println!("  {:<28} {:>8} {:>8} {:>6}  forces", "network", "suspects", "victims", "cases");
    for n in &r.networks {
        println!("  {:<28} {:>8} {:>8} {:>6}  {}", n.network_id, n.suspects, n.victims, n.cases, n.forces.join(", "));
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
