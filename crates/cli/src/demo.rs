//! `beaconport demo`: the main job a newcomer runs. Generates the synthetic national scenario
//! (seeded, deterministic, no real person), starts an embedded ledger, publishes everything
//! through gRPC from several publishers, and prints what was stored, read back from the ledger.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _, Result};
use beaconport_domain::reference;
use beaconport_log::EventLog;
use beaconport_log_sled::SledLog;
use beaconport_proto::pb::{api, event as pb};
use clap::Args;
use futures::StreamExt;

use crate::client;
use crate::config::Config;

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Seed of the synthetic scenario; the same seed gives the same scenario.
    #[arg(long, default_value_t = 2025)]
    pub seed: u64,
    /// Forces taking part.
    #[arg(long, default_value_t = 23)]
    pub forces: usize,
    /// Cases referred to the review (closed with no further action, in scope).
    #[arg(long, default_value_t = 1273)]
    pub referred_cases: usize,
    /// Of the referred cases, rape allegations.
    #[arg(long, default_value_t = 236)]
    pub rape_cases: usize,
    /// Ordinary cases around them.
    #[arg(long, default_value_t = 4000)]
    pub ordinary_cases: usize,
    /// Keep the ledger in this directory (default: a temporary directory, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Concurrent publishers (each publishes the events of its forces, in order).
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Events per batch.
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Also write the review's HTML report (queue, quality per force, risk) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

pub async fn run(a: DemoArgs) -> Result<ExitCode> {
    if a.publishers == 0 || a.batch_size == 0 {
        bail!("--publishers and --batch-size must be at least 1");
    }
    println!("Beaconport demo: a synthetic national scenario (seed {}); every person in it is invented.", a.seed);
    let t = Instant::now();
    let options = beaconport_synth::Options {
        seed: a.seed,
        forces: a.forces,
        referred_cases: a.referred_cases,
        referred_rape_cases: a.rape_cases,
        ordinary_cases: a.ordinary_cases,
        ..Default::default()
    };
    let scenario = tokio::task::spawn_blocking(move || beaconport_synth::generate(&options)).await?;
    let events: Vec<pb::Event> = scenario.events.iter().map(beaconport_proto::event_to_pb).collect();
    println!(
        "generated {} events: {} referred cases ({} rape allegations) from {} forces, among {} cases in all ({:.1} s)",
        events.len(),
        scenario.truth.referred_cases.len(),
        a.rape_cases,
        a.forces,
        count_cases(&events),
        t.elapsed().as_secs_f64()
    );

    let cross_force = scenario.truth.networks.iter().filter(|n| n.forces.len() > 1).count();
    println!(
        "the scenario hides {} offender networks ({} of them across force boundaries) and {} pairs of look-alikes that are different people",
        scenario.truth.networks.len(),
        cross_force,
        scenario.truth.look_alikes.len()
    );
    let temp = tempfile::tempdir()?;
    let data_dir = a.data_dir.clone().unwrap_or_else(|| temp.path().join("ledger"));
    // Every caller has a client certificate of a development CA: a force system per force (each
    // may publish only its own force's events), an investigator and an auditor.
    let forces: Vec<String> = {
        let set: std::collections::BTreeSet<&str> = events.iter().map(|e| e.force_code.as_str()).collect();
        set.into_iter().map(str::to_string).collect()
    };
    let pki = crate::certs::write_dev_pki(&temp.path().join("pki"), &forces, 1)?;
    let tls = crate::config::TlsConfig {
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
        client_ca: pki.ca_cert.clone(),
        identities: pki
            .clients
            .iter()
            .map(|c| crate::config::IdentityConfig {
                common_name: c.principal.clone(),
                role: c.role.into(),
                force: c.force.clone().unwrap_or_default(),
            })
            .collect(),
        identities_file: Default::default(),
    };
    let config = Config { data_dir: data_dir.clone(), tls, ..Config::default() };
    config.validate()?;
    let log = Arc::new(SledLog::open(config.sled_options())?);
    let listener = beaconport_server::bind("127.0.0.1:0".parse()?).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let dyn_log: Arc<dyn EventLog> = log.clone();
    let projector =
        Arc::new(beaconport_projection::Projector::open(config.projection_options(), dyn_log.clone()).await?);
    let server = tokio::spawn(beaconport_server::serve(
        listener,
        dyn_log,
        Some(projector.clone() as Arc<dyn beaconport_views::Live>),
        config.server_options()?,
        async {
            let _ = stopped.await;
        },
    ));
    let callers = Callers { url: format!("https://{addr}"), pki };
    println!(
        "ledger serving gRPC over mutual TLS on {addr} ({} client certificates of a development CA: a force system per force, an investigator, an auditor, an operator), embedded log in {}",
        callers.pki.clients.len(),
        data_dir.display()
    );

    // Each force system publishes its own force's events, in order; the publishers share the
    // forces between them.
    // Investigators' acts (review steps, link decisions) are not a force system's to publish:
    // the investigator records them below, through ReviewService and QueryService.
    let is_act = |e: &pb::Event| {
        e.body.as_ref().and_then(|b| b.kind.as_ref()).is_some_and(|k| beaconport_proto::kind_of(k).by_investigators())
    };
    let acts: Vec<pb::Event> = events.iter().filter(|e| is_act(e)).cloned().collect();
    let mut by_force: BTreeMap<&str, Vec<pb::Event>> = BTreeMap::new();
    for e in events.iter().filter(|e| !is_act(e)) {
        by_force.entry(e.force_code.as_str()).or_default().push(e.clone());
    }
    let mut shares: Vec<Vec<(client::ServerArgs, Vec<pb::Event>)>> = vec![Vec::new(); a.publishers];
    for (i, (code, evs)) in by_force.iter().enumerate() {
        shares[i % a.publishers].push((callers.force(code)?, evs.clone()));
    }
    let t = Instant::now();
    let mut tasks = Vec::new();
    for share in shares {
        let batch_size = a.batch_size;
        tasks.push(tokio::spawn(async move {
            let mut stored = 0u64;
            for (force, events) in share {
                let mut c = client::ingest(force.connect().await?);
                for chunk in events.chunks(batch_size) {
                    let r = c
                        .publish(api::PublishRequest { events: chunk.to_vec() })
                        .await
                        .map_err(|s| anyhow::anyhow!("batch refused: {}", s.message()))?;
                    stored += r.into_inner().acks.iter().filter(|x| !x.duplicate).count() as u64;
                }
            }
            anyhow::Ok(stored)
        }));
    }
    let mut stored_new = 0;
    for t in tasks {
        stored_new += t.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "published {} events through gRPC over mutual TLS from {} force systems ({} publishers at once) in batches of {}: {:.2} s, {:.0} events/s, every batch flushed before its acknowledgement",
        stored_new,
        by_force.len(),
        a.publishers,
        a.batch_size,
        secs,
        stored_new as f64 / secs
    );

    // A retried batch stores nothing new.
    let (first_force, first_events) = by_force.iter().next().context("no events")?;
    let mut c = client::ingest(callers.force(first_force)?.connect().await?);
    let retry: Vec<pb::Event> = first_events.iter().take(a.batch_size).cloned().collect();
    let acks = c.publish(api::PublishRequest { events: retry.clone() }).await?.into_inner().acks;
    let dups = acks.iter().filter(|x| x.duplicate).count();
    println!("retried the first batch of {}: {} acknowledged as already stored, nothing new", retry.len(), dups);
    // A force system may not publish another force's events: refused whole, nothing stored.
    if let Some((other, other_events)) = by_force.iter().nth(1) {
        let mut mixed = first_events.iter().take(2).cloned().collect::<Vec<_>>();
        mixed.extend(other_events.iter().take(1).cloned());
        match c.publish(api::PublishRequest { events: mixed }).await {
            Err(s) => println!(
                "force-{} publishing a batch holding one {other} event: {:?}, nothing stored ({})",
                first_force.to_lowercase(),
                s.code(),
                s.message().split("; ").next().unwrap_or_default()
            ),
            Ok(_) => bail!("a force system published another force's event"),
        }
    }

    let consultations = record_acts(&callers, &acts).await?;
    println!(
        "the investigator recorded the review team's {} steps and link decisions through ReviewService and QueryService (each also recorded as a consultation)",
        acts.len()
    );

    // The views write each estimate of the resolution model to the log as the mentions grow; let
    // them settle so that the read-back below sees the whole log.
    loop {
        let head = log.head();
        if !projector.wait_for(head, std::time::Duration::from_secs(300)).await {
            bail!("the views did not catch up with the log's head at position {}", head.0);
        }
        if log.head() == head {
            break;
        }
    }

    // Read everything back through the API and describe it.
    let mut reader = client::log_reader(callers.auditor().connect().await?);
    let head = reader.head(api::HeadRequest {}).await?.into_inner().next_position;
    let mut stream = reader.read(api::ReadRequest { from_position: 0, limit: 0 }).await?.into_inner();
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_force: BTreeMap<String, (u64, std::collections::HashSet<String>)> = BTreeMap::new();
    let mut n = 0u64;
    while let Some(entry) = stream.next().await {
        let entry = entry?;
        if entry.position != n {
            bail!("log read back out of order: position {} where {n} was expected", entry.position);
        }
        n += 1;
        let ev = entry.event.context("entry without event")?;
        let kind = crate::logcmd::kind_summary(&ev).split(' ').next().unwrap_or_default().to_string();
        *by_kind.entry(kind).or_default() += 1;
        let f = by_force.entry(ev.force_code.clone()).or_default();
        f.0 += 1;
        f.1.insert(ev.case_ref.clone());
    }
    // The views' estimates of the resolution model are events too, written by the ledger itself.
    let models = by_kind.get("resolution_model_estimated").copied().unwrap_or(0);
    if n != head || n != events.len() as u64 + consultations + models {
        bail!(
            "stored {n} events, head says {head}, generated {}, {consultations} consultations and {models} resolution models",
            events.len()
        );
    }
    println!(
        "read back {n} events, positions 0 to {}, in order: {} published, {consultations} consultations, {models} resolution models the views estimated\n",
        n.saturating_sub(1),
        events.len()
    );
    println!("{:<30} {:>9}", "event kind", "events");
    for (k, v) in &by_kind {
        println!("{k:<30} {v:>9}");
    }
    let referred: BTreeMap<&str, usize> =
        scenario.truth.referred_cases.iter().fold(BTreeMap::new(), |mut m, (f, _)| {
            *m.entry(f.as_str()).or_default() += 1;
            m
        });
    println!("\n{:<6} {:<42} {:>7} {:>9} {:>8}", "force", "name", "cases", "referred", "events");
    for (code, (events, cases)) in &by_force {
        let name = reference::force(code).map(|f| f.name).unwrap_or("?");
        println!(
            "{code:<6} {name:<42} {:>7} {:>9} {:>8}",
            cases.len(),
            referred.get(code.as_str()).copied().unwrap_or(0),
            events
        );
    }

    // The cross-force views: what no single force can see.
    views_report(&callers, head, &scenario).await?;
    // The national review: its queue, the quality of each force's records, the risk lists.
    review_report(&callers, head, a.report.as_deref()).await?;
    // What an auditor sees: signed heads, proofs, and every consultation above.
    audit_report(&callers, head).await?;

    let _ = stop.send(());
    server.await??;
    if let Ok(p) = Arc::try_unwrap(projector) {
        p.shutdown().await?;
    }
    let stats = log.stats()?;
    tokio::task::spawn_blocking(move || log.close()).await?;
    println!(
        "\nstored {} events in {} blocks ({} batches committed with {} flushes), {:.1} MiB on disk{}",
        stats.events,
        stats.blocks,
        stats.appends,
        stats.flushes,
        stats.disk_bytes as f64 / (1 << 20) as f64,
        if a.data_dir.is_some() { format!(" (kept in {})", data_dir.display()) } else { String::new() }
    );
    match &a.data_dir {
        Some(dir) => println!(
            "to work these views in the browser: beaconport serve --data-dir {} --insecure-plaintext, then open http://127.0.0.1:9464/",
            dir.display()
        ),
        None => println!(
            "to work these views in the browser, keep them (demo --data-dir DIR), then: beaconport serve --data-dir DIR --insecure-plaintext, and open http://127.0.0.1:9464/"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the head of the NFA review queue, the quality table and the top of the risk lists, and
/// writes the HTML report when asked.
async fn review_report(callers: &Callers, head: u64, report: Option<&std::path::Path>) -> Result<()> {
    use crate::reviewcmd;
    let t = Instant::now();
    let mut r = reviewcmd::client(callers.investigator().connect().await?);
    let ctx = Some(api::QueryContext {
        purpose: "demo: the national NFA review".into(),
        min_position: head,
        wait_ms: 60_000,
        as_of: None,
    });
    let req = api::GetQueueRequest { context: ctx.clone(), page_size: 10, ..Default::default() };
    let queue = r.get_queue(req).await?.into_inner();
    println!("\nthe national NFA review: the head of the queue (rape allegations first, then by priority)");
    reviewcmd::print_queue(&queue.items, queue.total);
    if let Some(top) = queue.items.first() {
        let c = r
            .get_review_case(api::GetReviewCaseRequest {
                context: ctx.clone(),
                force_code: top.force_code.clone(),
                case_ref: top.case_ref.clone(),
            })
            .await?
            .into_inner();
        println!("\nthe first case of the queue:");
        reviewcmd::print_case(&c);
    }
    let q = r.get_quality(api::GetQualityRequest { context: ctx.clone() }).await?.into_inner();
    println!("\ndata quality per force:");
    reviewcmd::print_quality(&q);
    let d = r
        .get_risk(api::GetRiskRequest {
            context: ctx.clone(),
            list: "dangerous".into(),
            page_size: 3,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    println!();
    reviewcmd::print_risk(&d);
    let f = r
        .get_risk(api::GetRiskRequest { context: ctx, list: "flight".into(), page_size: 3, page_token: String::new() })
        .await?
        .into_inner();
    reviewcmd::print_risk(&f);
    if let Some(path) = report {
        let html = reviewcmd::fetch_and_render(&mut r, "demo: the national NFA review report", 100).await?;
        std::fs::write(path, html)?;
        println!("report written to {}", path.display());
    }
    println!("(the review's answers took {:.2}s)", t.elapsed().as_secs_f64());
    Ok(())
}

/// Prints a signed tree head, proves one event and the consistency of the published scenario's
/// tree with today's, and lists the consultations the demo's own queries left in the ledger.
async fn audit_report(callers: &Callers, published: u64) -> Result<()> {
    let ch = callers.auditor().connect().await?;
    let mut audit = api::audit_service_client::AuditServiceClient::new(ch.clone());
    let head = audit.get_tree_head(api::TreeHeadRequest { tree_size: 0 }).await?.into_inner();
    let key: [u8; 32] = head.public_key.as_slice().try_into().map_err(|_| anyhow::anyhow!("public key"))?;
    println!(
        "
audit: tree head signed over {} events, root {}, key {}",
        head.tree_size,
        hex::encode(&head.root_hash),
        hex::encode(key)
    );
    let position = published / 2;
    let proof = audit
        .inclusion_proof(api::InclusionProofRequest {
            target: Some(api::inclusion_proof_request::Target::Position(position)),
            tree_size: 0,
        })
        .await?
        .into_inner();
    beaconport_server::check_inclusion(&proof, &key).map_err(|e| anyhow::anyhow!("inclusion proof: {e}"))?;
    let c = audit
        .consistency_proof(api::ConsistencyProofRequest { first_size: published, second_size: head.tree_size })
        .await?
        .into_inner();
    let old = c.first_head.as_ref().and_then(beaconport_server::head_from_pb).ok_or_else(|| anyhow::anyhow!("head"))?;
    let new =
        c.second_head.as_ref().and_then(beaconport_server::head_from_pb).ok_or_else(|| anyhow::anyhow!("head"))?;
    let hashes: Vec<[u8; 32]> = c.proof.iter().filter_map(|h| h.as_slice().try_into().ok()).collect();
    beaconport_log::merkle::verify_consistency(published, new.size, &old.root, &new.root, &hashes)
        .map_err(|e| anyhow::anyhow!("consistency proof: {e}"))?;
    println!(
        "event {position} proven in the tree ({} hashes); the {published} events published are a proven prefix of \
         today's {} ({} hashes)",
        proof.path.len(),
        new.size,
        hashes.len()
    );
    // The consultations are events too: wait until the views hold the last one.
    let mut q = client::query(ch.clone());
    while q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await?.into_inner().applied
        < head.tree_size
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let list = audit
        .list_consultations(api::ListConsultationsRequest { page_size: 6, ..Default::default() })
        .await?
        .into_inner();
    println!("consultations recorded in the ledger by the demo's queries: {} (latest first)", list.total);
    for e in &list.consultations {
        let Some(c) = &e.consultation else { continue };
        println!(
            "  {}  {:<26} {:<30} {:>6} disclosed  \"{}\"",
            e.recorded_at, c.principal, c.call, c.disclosed_count, c.purpose
        );
    }
    Ok(())
}

/// Records investigators' acts of the scenario (review steps, link decisions) as the
/// investigator, through the calls made for them; returns the consultations those calls left.
async fn record_acts(callers: &Callers, acts: &[pb::Event]) -> Result<u64> {
    use pb::body::Kind;
    let ch = callers.investigator().connect().await?;
    let mut review = crate::reviewcmd::client(ch.clone());
    let mut query = client::query(ch.clone());
    let head = client::log_reader(callers.auditor().connect().await?)
        .head(api::HeadRequest {})
        .await?
        .into_inner()
        .next_position;
    // The cases must be in the views before their review is recorded.
    let context = Some(api::QueryContext {
        purpose: "demo: the review team's steps".into(),
        min_position: head,
        wait_ms: 60_000,
        as_of: None,
    });
    let mut consultations = 0;
    for e in acts {
        let Some(kind) = e.body.as_ref().and_then(|b| b.kind.clone()) else { continue };
        let step = match kind {
            Kind::ReviewStarted(x) => Some(api::record_review_request::Step::Started(x)),
            Kind::AvenueActioned(x) => Some(api::record_review_request::Step::Actioned(x)),
            Kind::ReviewConcluded(x) => Some(api::record_review_request::Step::Concluded(x)),
            Kind::LinkDecided(d) => {
                query
                    .decide_link(api::DecideLinkRequest {
                        context: context.clone(),
                        a: d.a,
                        b: d.b,
                        decision: d.decision,
                        reason: d.reason,
                        force_code: e.force_code.clone(),
                        case_ref: e.case_ref.clone(),
                        event_id: e.event_id.clone(),
                        recorded_by: e.recorded_by.clone(),
                    })
                    .await
                    .map_err(|s| anyhow::anyhow!("link decision refused: {}", s.message()))?;
                None
            }
            _ => None,
        };
        if let Some(step) = step {
            review
                .record_review(api::RecordReviewRequest {
                    context: context.clone(),
                    force_code: e.force_code.clone(),
                    case_ref: e.case_ref.clone(),
                    event_id: e.event_id.clone(),
                    recorded_by: e.recorded_by.clone(),
                    step: Some(step),
                })
                .await
                .map_err(|s| anyhow::anyhow!("review step refused: {}", s.message()))?;
        }
        consultations += 1;
    }
    Ok(consultations)
}

/// The demo's callers: the ledger's address and the certificates of the development CA.
struct Callers {
    url: String,
    pki: crate::certs::DevPki,
}

impl Callers {
    fn as_principal(&self, principal: &str) -> Option<client::ServerArgs> {
        let c = self.pki.clients.iter().find(|c| c.principal == principal)?;
        Some(client::ServerArgs {
            server: self.url.clone(),
            ca: Some(self.pki.ca_cert.clone()),
            cert: Some(c.cert.clone()),
            key: Some(c.key.clone()),
        })
    }

    /// The force system of force `code`.
    fn force(&self, code: &str) -> Result<client::ServerArgs> {
        self.as_principal(&format!("force-{}", code.to_lowercase()))
            .with_context(|| format!("no force system certificate for {code}"))
    }

    fn investigator(&self) -> client::ServerArgs {
        self.as_principal("investigator-01").expect("the development PKI has an investigator")
    }

    fn auditor(&self) -> client::ServerArgs {
        self.as_principal("auditor-01").expect("the development PKI has an auditor")
    }
}

fn count_cases(events: &[pb::Event]) -> usize {
    events.iter().map(|e| (&e.force_code, &e.case_ref)).collect::<std::collections::HashSet<_>>().len()
}

/// Prints the views: persons resolved (scored against the scenario's truth), the largest
/// cross-force networks, and one suspect's linked suspects with their paths.
async fn views_report(callers: &Callers, head: u64, scenario: &beaconport_synth::Scenario) -> Result<()> {
    let t = Instant::now();
    let mut q = client::query(callers.investigator().connect().await?);
    let ctx = || {
        Some(api::QueryContext {
            purpose: "demo: the national picture".into(),
            min_position: head,
            wait_ms: 60_000,
            as_of: None,
        })
    };
    let status = q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await?.into_inner();
    let rows = crate::import::export_persons(&crate::import::ExportPersonsArgs {
        server: callers.investigator(),
        purpose: "demo: scoring resolution against the scenario".into(),
        force: String::new(),
        case: String::new(),
        out: None,
        min_position: head,
    })
    .await?;
    let status = if status.applied < head {
        q.view_status(api::ViewStatusRequest { digest: false, as_of: None }).await?.into_inner()
    } else {
        status
    };
    println!(
        "\nviews: {} mentions of persons resolved into {} persons across forces; {} networks of two or more suspects, {} of them crossing force boundaries (views caught up {:.1} s after publishing)",
        status.mentions, status.persons, status.networks, status.cross_force_networks, t.elapsed().as_secs_f64()
    );
    let predicted: Vec<((String, String, String), String)> = rows
        .iter()
        .filter_map(|r| {
            r.mention
                .as_ref()
                .map(|m| ((m.force_code.clone(), m.case_ref.clone(), m.person_ref.clone()), r.person_id.clone()))
        })
        .collect();
    let score =
        crate::score::pairwise(&predicted, |k| scenario.truth.identity_of_mention.get(k).map(|i| i.to_string()));
    println!(
        "resolution against the scenario's hidden truth (pairs of mentions): precision {:.3}, recall {:.3}, F1 {:.3}",
        score.precision(),
        score.recall(),
        score.f1()
    );
    let nets = q
        .list_networks(api::ListNetworksRequest {
            context: ctx(),
            min_forces: 2,
            page_size: 5,
            page_token: String::new(),
        })
        .await?
        .into_inner();
    println!("\nthe largest networks that cross force boundaries:");
    crate::querycmd::print_networks(&nets);
    let Some(first) = nets.networks.first() else { return Ok(()) };
    let detail = q
        .get_network(api::GetNetworkRequest {
            context: ctx(),
            network_id: first.network_id.clone(),
            person_id: String::new(),
        })
        .await?
        .into_inner();
    // The suspect with the most cases in the network.
    let mut cases_of: BTreeMap<&str, usize> = BTreeMap::new();
    for e in detail.edges.iter().filter(|e| e.kind == "suspect_in") {
        *cases_of.entry(e.from.as_str()).or_default() += 1;
    }
    let Some((person, _)) = cases_of.iter().max_by_key(|(p, n)| (**n, std::cmp::Reverse(**p))) else { return Ok(()) };
    let person_id = person.trim_start_matches("person:").to_string();
    let dossier =
        q.get_person(api::GetPersonRequest { context: ctx(), person_id: person_id.clone() }).await?.into_inner();
    let p = dossier.person.clone().unwrap_or_default();
    println!(
        "\n{} ({}), recorded in {} case(s) by {}; linked suspects within 2 hops:",
        p.display_name,
        p.person_id,
        p.cases,
        p.forces.join(", ")
    );
    let linked = q
        .linked_suspects(api::LinkedSuspectsRequest {
            to_person_id: String::new(),
            context: ctx(),
            person_id,
            max_hops: 2,
            page_size: 12,
            page_token: String::new(),
            link_types: Vec::new(),
        })
        .await?
        .into_inner();
    crate::querycmd::print_linked(&linked);
    Ok(())
}
