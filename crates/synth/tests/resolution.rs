//! Evaluation of person resolution: pairwise precision, recall and F1 against the synthetic
//! scenario's truth and against FEBRL (`shared/data/febrl`), with wall times. Figures are printed
//! (run with `--release --nocapture`); the assertions are floors, not targets.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::PathBuf;
use std::time::Instant;

use beaconport_domain::resolution::{MentionKey, Model, Record, Resolver};
use beaconport_domain::{Address, Body, Identifier, IdentifierKind, Name, PartialDate};
use beaconport_synth::{generate, Options};

/// Pairwise precision, recall and F1 of a predicted clustering against the truth.
fn pairwise<P: Eq + Hash + Copy, T: Eq + Hash + Copy>(items: &[(P, T)]) -> (f64, f64, f64) {
    let c2 = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
    let mut pred: HashMap<P, usize> = HashMap::new();
    let mut truth: HashMap<T, usize> = HashMap::new();
    let mut both: HashMap<(P, T), usize> = HashMap::new();
    for &(p, t) in items {
        *pred.entry(p).or_default() += 1;
        *truth.entry(t).or_default() += 1;
        *both.entry((p, t)).or_default() += 1;
    }
    let tp: f64 = both.values().map(|&n| c2(n)).sum();
    let pp: f64 = pred.values().map(|&n| c2(n)).sum();
    let tt: f64 = truth.values().map(|&n| c2(n)).sum();
    let precision = if pp == 0.0 { 1.0 } else { tp / pp };
    let recall = if tt == 0.0 { 1.0 } else { tp / tt };
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    (precision, recall, f1)
}

fn resolve(records: &[(MentionKey, Record)]) -> (Resolver, f64, f64) {
    let t0 = Instant::now();
    let just: Vec<Record> = records.iter().map(|(_, r)| r.clone()).collect();
    let model = Model::estimate(&just);
    let estimate = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let mut r = Resolver::new(model);
    for (k, rec) in records {
        r.upsert(k.clone(), rec.clone());
    }
    (r, estimate, t1.elapsed().as_secs_f64())
}

#[test]
fn synthetic_scenario() {
    let scenario = generate(&Options::default());
    let mut records: Vec<(MentionKey, Record)> = Vec::new();
    let mut index: HashMap<MentionKey, usize> = HashMap::new();
    for e in &scenario.events {
        let p = match &e.body {
            Body::PersonRecorded(p) => p,
            Body::RecordCorrected(c) => match c.replacement.as_ref() {
                Body::PersonRecorded(p) => p,
                _ => continue,
            },
            _ => continue,
        };
        let key = MentionKey::new(e.force.code, e.case_ref.clone(), p.person_ref.clone());
        let rec = Record::from_person(p);
        match index.get(&key) {
            Some(&i) => records[i].1 = rec,
            None => {
                index.insert(key.clone(), records.len());
                records.push((key, rec));
            }
        }
    }
    let (r, est, secs) = resolve(&records);
    let items: Vec<_> = records
        .iter()
        .filter_map(|(k, _)| {
            let t =
                scenario.truth.identity_of_mention.get(&(k.force.clone(), k.case_ref.clone(), k.person_ref.clone()))?;
            Some((r.person_of(k).expect("resolved"), *t))
        })
        .collect();
    let (p, rc, f1) = pairwise(&items);
    println!(
        "synth: {} mentions ({} with truth) -> {} persons; precision {p:.4} recall {rc:.4} F1 {f1:.4}; \
         estimate {est:.3}s, resolve {secs:.3}s ({:.1} µs/upsert); threshold {:.1} bits",
        records.len(),
        items.len(),
        r.persons(),
        secs * 1e6 / records.len() as f64,
        r.model().threshold(),
    );
    // Look-alikes kept apart.
    let mut person_of_individual: HashMap<u64, Vec<_>> = HashMap::new();
    for (k, _) in &records {
        if let Some(t) =
            scenario.truth.identity_of_mention.get(&(k.force.clone(), k.case_ref.clone(), k.person_ref.clone()))
        {
            person_of_individual.entry(*t).or_default().push(r.person_of(k).expect("resolved"));
        }
    }
    let mut merged = HashMap::new();
    for la in &scenario.truth.look_alikes {
        let (Some(a), Some(b)) = (person_of_individual.get(&la.a), person_of_individual.get(&la.b)) else { continue };
        let bad = a.iter().any(|x| b.contains(x));
        let e = merged.entry(format!("{:?}", la.kind)).or_insert((0, 0));
        e.0 += bad as usize;
        e.1 += 1;
    }
    println!("synth look-alikes merged (of those recorded): {merged:?}");
    // RESOLUTION_MISSES=N prints the N costliest missed and wrongly merged groups with evidence.
    if let Some(show) = misses_wanted() {
        let with_truth: Vec<(MentionKey, Record, u64)> = records
            .iter()
            .filter_map(|(k, rec)| {
                let t = scenario.truth.identity_of_mention.get(&(
                    k.force.clone(),
                    k.case_ref.clone(),
                    k.person_ref.clone(),
                ))?;
                Some((k.clone(), rec.clone(), *t))
            })
            .collect();
        diagnose(&r, &with_truth, show);
    }
    assert!(f1 >= 0.93, "synthetic F1 {f1:.4} below the floor");
}

fn misses_wanted() -> Option<usize> {
    std::env::var("RESOLUTION_MISSES").ok().and_then(|v| v.parse::<usize>().ok())
}

fn show_record(rec: &Record) -> String {
    format!(
        "{:?} {:?} {:?} ids {:?} addr {:?}",
        rec.names.iter().map(|n| format!("{} / {}", n.forenames, n.surname)).collect::<Vec<_>>(),
        rec.date_of_birth.map(|d| d.to_string()),
        rec.sex,
        rec.identifiers.iter().map(|i| &i.value).collect::<Vec<_>>(),
        rec.addresses.iter().map(|a| format!("{}, {}, {}", a.line1, a.town, a.postcode)).collect::<Vec<_>>()
    )
}

fn show_pair(r: &Resolver, a: &Record, b: &Record) -> String {
    let ev = beaconport_domain::resolution::compare(r.model(), a, b);
    format!(
        "{:.1} link={} {:?}",
        ev.weight,
        beaconport_domain::resolution::is_link(r.model(), a, b),
        ev.fields.iter().map(|f| (f.field, f.level, (f.weight * 10.0).round() / 10.0)).collect::<Vec<_>>()
    )
}

/// Prints the `show` costliest split truth identities (pairs lost) and false merges (false
/// pairs), each with its records and the best-scoring pair across the parts.
fn diagnose(r: &Resolver, rows: &[(MentionKey, Record, u64)], show: usize) {
    use std::collections::BTreeMap;
    let c2 = |n: usize| n * n.saturating_sub(1) / 2;
    let fields: [(&str, &[&str]); 8] = [
        (
            "forename",
            &[
                "exact",
                "nickname",
                "transliteration",
                "jaro-winkler>=0.92",
                "jaro-winkler>=0.80",
                "initial",
                "disagree",
            ],
        ),
        ("surname", &["exact", "transliteration", "jaro-winkler>=0.92", "jaro-winkler>=0.80", "disagree"]),
        (
            "date_of_birth",
            &["exact", "day-month swapped", "one digit off", "year-month", "year only", "year close", "disagree"],
        ),
        ("phone", &["exact", "disagree"]),
        ("vehicle", &["exact", "disagree"]),
        ("pnc id", &["exact", "one edit", "disagree"]),
        ("passport", &["exact", "one edit", "disagree"]),
        ("national id", &["exact", "one edit", "disagree"]),
    ];
    for (f, levels) in fields {
        let v: Vec<String> = levels
            .iter()
            .filter_map(|l| {
                let (m, u) = r.model().level(f, l)?;
                Some(format!("{l} m {m:.3} u {u:.5} w {:.1}", (m / u).log2()))
            })
            .collect();
        println!("MODEL {f}: {}", v.join("; "));
    }
    let mut by_truth: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut by_person: BTreeMap<_, Vec<usize>> = BTreeMap::new();
    for (i, (k, _, t)) in rows.iter().enumerate() {
        by_truth.entry(*t).or_default().push(i);
        by_person.entry(r.person_of(k).expect("resolved")).or_default().push(i);
    }
    let best_across = |x: &[usize], y: &[usize]| {
        let mut best: Option<(f64, usize, usize)> = None;
        for &i in x {
            for &j in y {
                let w = beaconport_domain::resolution::compare(r.model(), &rows[i].1, &rows[j].1).weight;
                if best.is_none_or(|b| w > b.0) {
                    best = Some((w, i, j));
                }
            }
        }
        best
    };
    // Misses.
    let mut misses: Vec<(usize, u64, Vec<Vec<usize>>)> = Vec::new();
    for (t, v) in &by_truth {
        let mut parts: BTreeMap<_, Vec<usize>> = BTreeMap::new();
        for &i in v {
            parts.entry(r.person_of(&rows[i].0)).or_default().push(i);
        }
        if parts.len() > 1 {
            let mut parts: Vec<Vec<usize>> = parts.into_values().collect();
            parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
            let lost = c2(v.len()) - parts.iter().map(|p| c2(p.len())).sum::<usize>();
            misses.push((lost, *t, parts));
        }
    }
    misses.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let lost: usize = misses.iter().map(|m| m.0).sum();
    println!("MISSES: {} identities split, {lost} pairs lost", misses.len());
    for (lost, t, parts) in misses.iter().take(show) {
        println!("MISS truth {t} ({lost} pairs):");
        for (p, part) in parts.iter().enumerate() {
            for &i in part {
                println!("  [{p}] {} {}", rows[i].0, show_record(&rows[i].1));
            }
        }
        for part in &parts[1..] {
            if let Some((_, i, j)) = best_across(&parts[0], part) {
                println!("  best {} ~ {}: {}", rows[i].0, rows[j].0, show_pair(r, &rows[i].1, &rows[j].1));
            }
        }
    }
    // False merges.
    let mut merges: Vec<(usize, Vec<Vec<usize>>)> = Vec::new();
    for v in by_person.values() {
        let mut parts: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for &i in v {
            parts.entry(rows[i].2).or_default().push(i);
        }
        if parts.len() > 1 {
            let mut parts: Vec<Vec<usize>> = parts.into_values().collect();
            parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
            let wrong = c2(v.len()) - parts.iter().map(|p| c2(p.len())).sum::<usize>();
            merges.push((wrong, parts));
        }
    }
    merges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1[0][0].cmp(&b.1[0][0])));
    let wrong: usize = merges.iter().map(|m| m.0).sum();
    println!("FALSE MERGES: {} persons mixed, {wrong} false pairs", merges.len());
    for (wrong, parts) in merges.iter().take(show) {
        println!("FALSE MERGE ({wrong} pairs):");
        for (p, part) in parts.iter().enumerate() {
            for &i in part {
                println!("  [{p}] {} {}", rows[i].0, show_record(&rows[i].1));
            }
        }
        for part in &parts[1..] {
            if let Some((_, i, j)) = best_across(&parts[0], part) {
                println!("  best {} ~ {}: {}", rows[i].0, rows[j].0, show_pair(r, &rows[i].1, &rows[j].1));
            }
        }
    }
}

fn febrl_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/febrl").join(file)
}

/// FEBRL rows as records; the truth is the number N of `rec-N-org` / `rec-N-dup-K`.
fn febrl(file: &str) -> Option<Vec<(MentionKey, Record, u64)>> {
    let text = std::fs::read_to_string(febrl_path(file)).ok()?;
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').map(str::trim).collect();
        if c.len() < 11 {
            continue;
        }
        let truth: u64 = c[0].split('-').nth(1).and_then(|n| n.parse().ok()).expect("rec id");
        let d = c[9];
        let date_of_birth = (d.len() == 8)
            .then(|| {
                let (y, m, day) = (d[..4].parse().ok()?, d[4..6].parse().ok()?, d[6..].parse().ok()?);
                chrono::NaiveDate::from_ymd_opt(y, m, day)?;
                Some(PartialDate { year: y, month: Some(m), day: Some(day) })
            })
            .flatten();
        let line1 = format!("{} {}", c[3], c[4]).trim().to_string();
        let address =
            Address { line1, line2: c[5].into(), town: c[6].into(), postcode: c[7].into(), country: "AU".into() };
        let record = Record {
            names: vec![Name { forenames: c[1].into(), surname: c[2].into() }],
            date_of_birth,
            sex: None,
            identifiers: if c[10].is_empty() {
                Vec::new()
            } else {
                vec![Identifier { kind: IdentifierKind::NationalId, value: c[10].into() }]
            },
            addresses: vec![address],
        };
        out.push((MentionKey::new("FEBRL", file, c[0]), record, truth));
    }
    Some(out)
}

#[test]
fn febrl_datasets() {
    for file in ["dataset1.csv", "dataset2.csv"] {
        let Some(rows) = febrl(file) else {
            println!("febrl: {file} not found at {}, skipped", febrl_path(file).display());
            continue;
        };
        let t = Instant::now();
        let records: Vec<(MentionKey, Record)> = rows.iter().map(|(k, r, _)| (k.clone(), r.clone())).collect();
        let (r, est, secs) = resolve(&records);
        let total = t.elapsed().as_secs_f64();
        let items: Vec<_> = rows.iter().map(|(k, _, t)| (r.person_of(k).expect("resolved"), *t)).collect();
        let (p, rc, f1) = pairwise(&items);
        println!(
            "febrl {file}: {} records -> {} persons; precision {p:.4} recall {rc:.4} F1 {f1:.4}; \
             total {total:.3}s (estimate {est:.3}s, resolve {secs:.3}s); threshold {:.1} bits",
            rows.len(),
            r.persons(),
            r.model().threshold()
        );
        if let Some(show) = misses_wanted() {
            diagnose(&r, &rows, show);
        }
        assert!(f1 >= 0.97, "FEBRL {file} F1 {f1:.4} below the floor");
    }
}

/// A line of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`), Linux only.
fn proc_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// Scale measurement, not a timed assertion: upserts `RESOLUTION_SCALE` mentions (default
/// 20,000; set `RESOLUTION_SCALE=1000000` for the full measurement) taken from
/// [`beaconport_synth::events_for_bench`]'s base scenario and repeated under new case references
/// as `events_for_bench` does (the same people recur in every repetition, so clusters and blocks
/// grow with the size). Prints µs per upsert over each stretch, persons, the largest person and
/// the largest link component, and memory.
#[test]
fn scale_1m() {
    let n: usize = std::env::var("RESOLUTION_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let base_events = beaconport_synth::events_for_bench(
        7,
        beaconport_synth::BENCH_BASE_EVENTS.min(n * 8),
        beaconport_synth::default_now(),
    );
    let mut base: Vec<(String, String, String, Record)> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for e in &base_events {
        let p = match &e.body {
            Body::PersonRecorded(p) => p,
            _ => continue,
        };
        let k = (e.force.code.to_string(), e.case_ref.clone(), p.person_ref.clone());
        if index.contains_key(&k) {
            continue;
        }
        index.insert(k.clone(), base.len());
        base.push((k.0, k.1, k.2, Record::from_person(p)));
    }
    drop(base_events);
    let model = Model::estimate(&base.iter().map(|b| b.3.clone()).collect::<Vec<_>>());
    let rss0 = proc_kib("VmRSS:").unwrap_or(0);
    println!("scale: base {} distinct mentions; target {n}; RSS before {:.1} MiB", base.len(), rss0 as f64 / 1024.0);
    // `GMP-2014-003812` in round 2 is `GMP-2014-20003812`, as events_for_bench renumbers.
    let renumber = |case_ref: &str, round: usize| -> String {
        if round == 0 {
            return case_ref.to_string();
        }
        match case_ref.rsplit_once('-').and_then(|(h, x)| Some((h, x.parse::<usize>().ok()?))) {
            Some((h, x)) => format!("{h}-{}", round * 10_000_000 + x),
            None => format!("{case_ref}-{round}"),
        }
    };
    let marks: Vec<usize> = [100_000, 250_000, 500_000, 750_000, 1_000_000]
        .into_iter()
        .filter(|m| *m < n)
        .chain(std::iter::once(n))
        .collect();
    let mut r = Resolver::new(model);
    let (mut done, mut last_done) = (0usize, 0usize);
    let mut stretch = Instant::now();
    let mut total = 0.0f64;
    let mut keys: Vec<MentionKey> = Vec::new();
    'outer: for round in 0.. {
        for (force, case_ref, person_ref, rec) in &base {
            if done == n {
                break 'outer;
            }
            let key = MentionKey::new(force.clone(), renumber(case_ref, round), person_ref.clone());
            keys.push(key.clone());
            r.upsert(key, rec.clone());
            done += 1;
            if marks.contains(&done) {
                let secs = stretch.elapsed().as_secs_f64();
                total += secs;
                println!(
                    "scale: {done} mentions: {:.2} µs/upsert over the last {} ({:.2} µs average); {} persons; \
                     RSS {:.1} MiB",
                    secs * 1e6 / (done - last_done) as f64,
                    done - last_done,
                    total * 1e6 / done as f64,
                    r.persons(),
                    proc_kib("VmRSS:").unwrap_or(0) as f64 / 1024.0
                );
                last_done = done;
                stretch = Instant::now();
            }
        }
    }
    let mut size: HashMap<_, usize> = HashMap::new();
    for k in &keys {
        *size.entry(r.person_of(k).expect("resolved")).or_default() += 1;
    }
    let largest = size.values().copied().max().unwrap_or(0);
    let t = Instant::now();
    let q = Record { names: vec![Name { forenames: "zz".into(), surname: String::new() }], ..Record::default() };
    let found = r.search(&q, 10).len();
    let search_secs = t.elapsed().as_secs_f64();
    let rss = proc_kib("VmRSS:").unwrap_or(0);
    let hwm = proc_kib("VmHWM:").unwrap_or(0);
    println!(
        "scale: {n} mentions -> {} persons, largest person {largest} mentions; keyless search {:.1} ms ({found} hits); \
         RSS {:.1} MiB (resolver and keys ~{:.0} bytes/mention), peak VmHWM {:.1} MiB",
        r.persons(),
        search_secs * 1e3,
        rss as f64 / 1024.0,
        (rss.saturating_sub(rss0) * 1024) as f64 / n as f64,
        hwm as f64 / 1024.0
    );
}

/// Micro-benchmark of the projection's hot path, not a timed assertion, over up to 50,000
/// complete records from [`beaconport_synth::events_for_bench`] (`PersonRecorded` bodies in
/// order; `RESOLUTION_COST_N` sets the number): µs per upsert for (a) first upserts, (b) second
/// upserts of every key with one identifier added (as when an identifier is observed later),
/// (c) re-upserting every current record into a fresh `Resolver::new(model)` (as after a
/// re-estimation of the model), (d) the same through [`Resolver::rebuild_with`]; and
/// `Model::estimate` on 20,000 of them.
#[test]
fn upsert_cost() {
    let n: usize = std::env::var("RESOLUTION_COST_N").ok().and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let events = beaconport_synth::events_for_bench(7, 200_000, beaconport_synth::default_now());
    let mut records: Vec<(MentionKey, Record)> = Vec::new();
    let mut seen: std::collections::HashSet<MentionKey> = std::collections::HashSet::new();
    for e in &events {
        let Body::PersonRecorded(p) = &e.body else { continue };
        let key = MentionKey::new(e.force.code, e.case_ref.clone(), p.person_ref.clone());
        if seen.insert(key.clone()) {
            records.push((key, Record::from_person(p)));
        }
        if records.len() == n {
            break;
        }
    }
    drop(events);
    let sample: Vec<Record> = records.iter().take(20_000).map(|(_, r)| r.clone()).collect();
    let t = Instant::now();
    let model = Model::estimate(&sample);
    let est = t.elapsed().as_secs_f64();
    let count = records.len();
    let per = |secs: f64| secs * 1e6 / count as f64;
    // (a) first upserts.
    let mut r = Resolver::new(model.clone());
    let t = Instant::now();
    for (k, rec) in &records {
        r.upsert(k.clone(), rec.clone());
    }
    let first = t.elapsed().as_secs_f64();
    // (b) second upserts, one identifier added.
    let updated: Vec<(MentionKey, Record)> = records
        .iter()
        .enumerate()
        .map(|(i, (k, rec))| {
            let mut more = rec.clone();
            more.identifiers
                .push(Identifier { kind: IdentifierKind::Phone, value: format!("07700 {:06}", i % 1_000_000) });
            (k.clone(), more)
        })
        .collect();
    let t = Instant::now();
    for (k, rec) in &updated {
        r.upsert(k.clone(), rec.clone());
    }
    let second = t.elapsed().as_secs_f64();
    // (c) everything again into a fresh resolver.
    let mut fresh = Resolver::new(model.clone());
    let t = Instant::now();
    for (k, rec) in &updated {
        fresh.upsert(k.clone(), rec.clone());
    }
    let again = t.elapsed().as_secs_f64();
    // (d) the same through `rebuild_with`.
    let (persons, distinct) = (r.persons(), r.distinct_records());
    let t = Instant::now();
    let rebuilt = r.rebuild_with(model.clone());
    let rebuild = t.elapsed().as_secs_f64();
    let same = updated.iter().all(|(k, _)| rebuilt.person_of(k) == fresh.person_of(k));
    assert!(same, "rebuild_with differs from upserting into a fresh resolver");
    println!(
        "upsert_cost: {count} records: (a) first upsert {:.2} µs, (b) second upsert (one identifier added) {:.2} µs, \
         (c) re-upsert into a fresh resolver {:.2} µs, (d) rebuild_with {:.2} µs per record; {} persons, {} distinct \
         records; estimate on {} records {:.3}s",
        per(first),
        per(second),
        per(again),
        per(rebuild),
        persons,
        distinct,
        sample.len(),
        est
    );
}
