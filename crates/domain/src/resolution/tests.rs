//! Tricky pairs, decisions, incrementality and order independence.

use super::*;
use crate::{Address, Identifier, IdentifierKind, Name, PartialDate, Sex};

fn name(f: &str, s: &str) -> Name {
    Name { forenames: f.into(), surname: s.into() }
}

fn dob(y: i32, m: u32, d: u32) -> Option<PartialDate> {
    Some(PartialDate { year: y, month: Some(m), day: Some(d) })
}

fn addr(line1: &str, town: &str, postcode: &str) -> Address {
    Address { line1: line1.into(), town: town.into(), postcode: postcode.into(), ..Address::default() }
}

fn rec(f: &str, s: &str, d: Option<PartialDate>) -> Record {
    Record { names: vec![name(f, s)], date_of_birth: d, sex: Some(Sex::Male), ..Record::default() }
}

fn with_addr(mut r: Record) -> Record {
    r.addresses.push(addr("14 Acacia Avenue", "Leeds", "LS6 2AB"));
    r
}

fn id(kind: IdentifierKind, v: &str) -> Identifier {
    Identifier { kind, value: v.into() }
}

fn linked(a: &Record, b: &Record) -> bool {
    let m = Model::default();
    is_link(&m, a, b)
}

fn level(a: &Record, b: &Record, field: &str) -> &'static str {
    let e = compare(&Model::default(), a, b);
    e.field(field).map(|f| f.level).unwrap_or("missing")
}

#[track_caller]
fn must_link(a: Record, b: Record) {
    let e = compare(&Model::default(), &a, &b);
    assert!(linked(&a, &b), "expected a link: {a:?} / {b:?}: {e:#?}");
    assert!(linked(&b, &a), "link is not symmetric");
}

#[track_caller]
fn must_not_link(a: Record, b: Record) {
    let e = compare(&Model::default(), &a, &b);
    assert!(!linked(&a, &b), "expected no link: {a:?} / {b:?}: {e:#?}");
    assert!(!linked(&b, &a), "link is not symmetric");
}

const D: Option<PartialDate> = Some(PartialDate { year: 1984, month: Some(3), day: Some(7) });

#[test]
fn typo() {
    let a = rec("Gwendolyn", "Whitaker", D);
    let b = rec("Gwendolin", "Whitakre", D);
    must_link(a.clone(), b.clone());
    assert_ne!(level(&a, &b, "forename"), "disagree");
    assert_ne!(level(&a, &b, "surname"), "disagree");
}

#[test]
fn nicknames() {
    for (x, y) in [
        ("Robert", "Bob"),
        ("William", "Bill"),
        ("Elizabeth", "Liz"),
        ("James", "Jim"),
        ("Anthony", "Tony"),
        ("Michael", "Mick"),
    ] {
        let a = rec(x, "Hargreaves", D);
        let b = rec(y, "Hargreaves", D);
        assert_eq!(level(&a, &b, "forename"), "nickname", "{x}/{y}");
        must_link(a, b);
    }
}

#[test]
fn transliterations() {
    for (x, y) in [
        ("Mohammed", "Muhammad"),
        ("Mohammed", "Mohamed"),
        ("Mohammad", "Muhammed"),
        ("Mohammed", "Mohd"),
        ("Abdul", "Abdal"),
        ("Yusuf", "Yousef"),
        ("Yusuf", "Youssef"),
        ("Aleksander", "Alexander"),
        ("Zoltan", "Zoltán"),
    ] {
        let a = rec(x, "Rahman", D);
        let b = rec(y, "Rahman", D);
        let l = level(&a, &b, "forename");
        assert!(l == "transliteration" || l == "exact", "{x}/{y}: {l}");
        must_link(a, b);
    }
}

#[test]
fn swapped_names() {
    let a = rec("Wei", "Zhang", D);
    let b = rec("Zhang", "Wei", D);
    assert_eq!(level(&a, &b, "name order"), "swapped");
    must_link(a, b);
}

#[test]
fn initials() {
    let a = with_addr(rec("John", "Smith", D));
    let b = with_addr(rec("J", "Smith", D));
    assert_eq!(level(&a, &b, "forename"), "initial");
    must_link(a, b);
}

#[test]
fn dob_day_month_swapped() {
    let a = rec("Agnieszka", "Kowalczyk", dob(1991, 4, 9));
    let b = rec("Agnieszka", "Kowalczyk", dob(1991, 9, 4));
    assert_eq!(level(&a, &b, "date_of_birth"), "day-month swapped");
    must_link(a, b);
}

#[test]
fn dob_one_digit_off() {
    let a = rec("Agnieszka", "Kowalczyk", dob(1991, 4, 9));
    for b in [dob(1991, 4, 8), dob(1981, 4, 9), dob(1991, 4, 19), dob(1919, 4, 9)] {
        let b = rec("Agnieszka", "Kowalczyk", b);
        assert_eq!(level(&a, &b, "date_of_birth"), "one digit off", "{b:?}");
        must_link(a.clone(), b);
    }
}

#[test]
fn partial_dob() {
    let a = rec("Agnieszka", "Kowalczyk", dob(1991, 4, 9));
    let y = rec("Agnieszka", "Kowalczyk", Some(PartialDate { year: 1991, month: None, day: None }));
    let ym = rec("Agnieszka", "Kowalczyk", Some(PartialDate { year: 1991, month: Some(4), day: None }));
    assert_eq!(level(&a, &y, "date_of_birth"), "year only");
    assert_eq!(level(&a, &ym, "date_of_birth"), "year-month");
    must_link(a.clone(), y);
    must_link(a, ym);
}

#[test]
fn shared_identifiers_with_name_noise() {
    let mut a = rec("Jon", "Smyth", None);
    let mut b = rec("John", "Smith", None);
    a.identifiers.push(id(IdentifierKind::Phone, "+44 7700 900123"));
    b.identifiers.push(id(IdentifierKind::Phone, "07700 900123"));
    must_link(a.clone(), b.clone());
    for (kind, x, y) in [
        (IdentifierKind::PncId, "2004/0012345K", "04/12345K"),
        (IdentifierKind::Passport, "123456789", "123456789"),
        (IdentifierKind::NationalId, "AB 12 34 56 C", "AB123456C"),
    ] {
        let mut a = rec("Jon", "Smyth", None);
        let mut b = rec("Johnny", "Smith", Some(PartialDate { year: 1984, month: None, day: None }));
        a.identifiers.push(id(kind, x));
        b.identifiers.push(id(kind, y));
        must_link(a, b);
    }
}

#[test]
fn national_id_one_edit_is_partial() {
    let mut a = rec("Kayla", "Harrington", D);
    let mut b = rec("Kayla", "Harrington", D);
    a.identifiers.push(id(IdentifierKind::NationalId, "9004242"));
    b.identifiers.push(id(IdentifierKind::NationalId, "9004241"));
    assert_eq!(level(&a, &b, "national id"), "one edit");
    must_link(a, b);
}

#[test]
fn common_name_different_dob_does_not_merge() {
    must_not_link(rec("John", "Smith", dob(1984, 3, 7)), rec("John", "Smith", dob(1962, 11, 23)));
}

#[test]
fn twins_do_not_merge() {
    let a = with_addr(rec("Liam", "Brennan", D));
    let b = with_addr(rec("Noah", "Brennan", D));
    must_not_link(a, b);
}

#[test]
fn father_and_son_do_not_merge() {
    let a = with_addr(rec("Darren", "Walsh", dob(1962, 5, 14)));
    let b = with_addr(rec("Darren", "Walsh", dob(1989, 8, 2)));
    must_not_link(a, b);
}

#[test]
fn siblings_do_not_merge() {
    let a = with_addr(rec("Kyle", "Dempsey", dob(1994, 2, 3)));
    let b = with_addr(rec("Connor", "Dempsey", dob(1997, 10, 21)));
    must_not_link(a, b);
}

#[test]
fn evidence_lists_fields() {
    let a = with_addr(rec("John", "Smith", D));
    let b = with_addr(rec("John", "Smith", D));
    let e = compare(&Model::default(), &a, &b);
    assert!(e.weight > 30.0);
    assert!(e.probability > 0.99);
    for f in ["forename", "surname", "date_of_birth", "sex", "postcode", "street", "town"] {
        assert_eq!(e.field(f).map(|f| f.level), Some(if f == "sex" { "agree" } else { "exact" }), "{f}");
    }
}

fn key(i: usize) -> MentionKey {
    MentionKey::new("01", format!("case-{}", i / 3), format!("p{i}"))
}

#[test]
fn resolver_links_and_decisions() {
    let mut r = Resolver::new(Model::default());
    let a = key(1);
    let b = key(2);
    let c = key(3);
    r.upsert(a.clone(), with_addr(rec("John", "Smith", D)));
    let ch = r.upsert(b.clone(), with_addr(rec("Jon", "Smith", D)));
    assert_eq!(r.person_of(&a), r.person_of(&b));
    assert_eq!(r.person_of(&a), Some(a.person_id()), "the smallest key names the person");
    assert_eq!(ch, vec![Change { key: b.clone(), before: None, after: Some(a.person_id()) }]);
    let links = r.links(a.person_id());
    assert_eq!(links.len(), 1);
    assert!(!links[0].asserted);
    // A Different decision splits them: the part with the smallest key keeps the id.
    let ch = r.decide(&b, &a, Decision::Different);
    assert_eq!(ch, vec![Change { key: b.clone(), before: Some(a.person_id()), after: Some(b.person_id()) }]);
    assert_eq!(r.persons(), 2);
    // Withdrawn: back together.
    r.decide(&a, &b, Decision::Withdrawn);
    assert_eq!(r.person_of(&b), Some(a.person_id()));
    // A Same decision links what the score would not.
    r.upsert(c.clone(), rec("Zbigniew", "Nowicki", dob(1950, 1, 2)));
    assert_ne!(r.person_of(&c), r.person_of(&a));
    r.decide(&a, &c, Decision::Same);
    assert_eq!(r.person_of(&c), Some(a.person_id()));
    assert_eq!(r.members(a.person_id()), vec![&a, &b, &c]);
    assert!(r.links(a.person_id()).iter().any(|l| l.asserted));
    // Removing the smallest key renames the person after the next smallest.
    let ch = r.remove(&a);
    assert!(ch.iter().any(|c| c.key == a && c.after.is_none()));
    assert_eq!(r.mentions(), 2);
    assert_ne!(r.person_of(&b), r.person_of(&c), "without a, b and c have nothing linking them");
    assert_eq!(r.person_of(&b), Some(b.person_id()));
}

#[test]
fn chained_twins_stay_apart() {
    // "J Brennan" links to both twins, but cannot chain them into one person.
    let mut r = Resolver::new(Model::default());
    r.upsert(key(1), with_addr(rec("Liam", "Brennan", D)));
    r.upsert(key(2), with_addr(rec("Noah", "Brennan", D)));
    r.upsert(key(3), with_addr(rec("L", "Brennan", D)));
    assert_ne!(r.person_of(&key(1)), r.person_of(&key(2)));
}

#[test]
fn chained_father_and_son_stay_apart() {
    // A record of "Darren Walsh" without a date of birth links to both, but cannot chain them.
    let mut r = Resolver::new(Model::default());
    r.upsert(key(1), with_addr(rec("Darren", "Walsh", dob(1962, 5, 14))));
    r.upsert(key(2), with_addr(rec("Darren", "Walsh", dob(1989, 8, 2))));
    r.upsert(key(3), with_addr(rec("Darren", "Walsh", None)));
    assert_ne!(r.person_of(&key(1)), r.person_of(&key(2)));
}

#[test]
fn short_forms_from_the_end_and_sound_alike_spellings() {
    let a = rec("Emeka", "Conteh", D);
    let b = rec("Chukwuemeka", "Conteh", D);
    assert_eq!(level(&a, &b, "forename"), "nickname");
    let a = rec("Sasha", "Kovalenko", D);
    let b = rec("Oleksandr", "Kovalenko", D);
    assert_eq!(level(&a, &b, "forename"), "nickname");
    // One-letter phonetic codes say nothing.
    assert_eq!(level(&rec("Lee", "Collins", D), &rec("Lily", "Collins", D), "forename"), "disagree");
}

#[test]
fn swapped_name_with_an_initial() {
    let a = with_addr(rec("Dvorak", "B", D));
    let b = with_addr(rec("Besnik", "Dvorak", D));
    assert_eq!(level(&a, &b, "name order"), "swapped");
    assert_eq!(level(&a, &b, "forename"), "initial");
    must_link(a, b);
}

#[test]
fn an_initial_with_shared_identifiers_links() {
    // An initial agreeing is not evidence for "relatives": with the household and a phone and a
    // vehicle in common, "L Thompson" is Liam Thompson.
    let mut a = with_addr(rec("L", "Thompson", None));
    let mut b = with_addr(rec("Liam", "Thompson", dob(1974, 2, 21)));
    for r in [&mut a, &mut b] {
        r.identifiers.push(id(IdentifierKind::Phone, "07700 900782"));
        r.identifiers.push(id(IdentifierKind::Vehicle, "YL68 CEA"));
    }
    must_link(a, b);
}

#[test]
fn a_name_alone_is_not_a_link() {
    let m = Model::default().with_prior(-10.0);
    let (a, b) = (rec("Harjit", "Kaur", None), rec("Harjit", "Kaur", dob(1961, 11, 20)));
    assert!(compare(&m, &a, &b).weight >= 10.0);
    assert!(!is_link(&m, &a, &b));
}

#[test]
fn a_street_name_disagreeing_weighs_nothing() {
    let mut a = rec("Rocky", "", None);
    let mut b = rec("Segun", "Adebayo", dob(1978, 10, 3));
    a.identifiers.push(id(IdentifierKind::Phone, "07700 900948"));
    b.identifiers.push(id(IdentifierKind::Phone, "+44 7700 900948"));
    let e = compare(&Model::default(), &a, &b);
    assert_eq!(e.field("forename").map(|f| (f.level, f.weight)), Some(("disagree", 0.0)));
}

#[test]
fn search_finds_partial_queries() {
    let mut r = Resolver::new(Model::default());
    let mut a = with_addr(rec("Mohammed", "Rahman", D));
    a.identifiers.push(id(IdentifierKind::Phone, "07700 900456"));
    r.upsert(key(1), a);
    r.upsert(key(2), with_addr(rec("Peter", "Jones", dob(1970, 1, 2))));
    let q = Record { names: vec![name("Muhammad", "Rahman")], ..Record::default() };
    assert_eq!(r.search(&q, 1)[0].0, key(1));
    let q = Record { identifiers: vec![id(IdentifierKind::Phone, "+447700900456")], ..Record::default() };
    assert_eq!(r.search(&q, 1)[0].0, key(1));
    let q = Record { date_of_birth: dob(1970, 1, 2), ..Record::default() };
    assert_eq!(r.search(&q, 1)[0].0, key(2));
}

/// A small population with duplicates, households and look-alikes, for the order tests.
fn population() -> Vec<(MentionKey, Record)> {
    let firsts = ["John", "Jon", "J", "Liam", "Noah", "Mohammed", "Muhammad", "Bob", "Robert", "Darren"];
    let surs = ["Smith", "Smyth", "Brennan", "Rahman", "Walsh"];
    let mut out = Vec::new();
    let mut i = 0;
    for (fi, f) in firsts.iter().enumerate() {
        for (si, s) in surs.iter().enumerate() {
            for d in [dob(1984, 3, 7), dob(1962, 5, 14), Some(PartialDate { year: 1984, month: None, day: None })] {
                let mut r = rec(f, s, d);
                if (fi + si) % 2 == 0 {
                    r = with_addr(r);
                }
                if (fi * 7 + si) % 5 == 0 {
                    r.identifiers.push(id(IdentifierKind::Phone, &format!("07700 90{:04}", si)));
                }
                out.push((key(i), r));
                i += 1;
            }
        }
    }
    out
}

/// The population with every third record also recorded under a second key (shared nodes).
fn population_with_shared_records() -> Vec<(MentionKey, Record)> {
    let mut pop = population();
    for i in (0..pop.len()).step_by(3) {
        let r = pop[i].1.clone();
        pop.push((MentionKey::new("02", "dup", format!("p{i}")), r));
    }
    pop
}

fn assignment(r: &Resolver, keys: &[MentionKey]) -> Vec<Option<PersonId>> {
    keys.iter().map(|k| r.person_of(k)).collect()
}

#[test]
fn order_independent_and_incremental_equals_rebuild() {
    let pop = population();
    let keys: Vec<MentionKey> = pop.iter().map(|(k, _)| k.clone()).collect();
    let mut base = Resolver::new(Model::default());
    for (k, r) in &pop {
        base.upsert(k.clone(), r.clone());
    }
    let decisions = [(key(0), key(3), Decision::Different), (key(10), key(40), Decision::Same)];
    for (a, b, d) in &decisions {
        base.decide(a, b, *d);
    }
    let expected = assignment(&base, &keys);
    assert!(base.persons() < pop.len(), "some mentions merge");
    // Shuffled orders, decisions interleaved (some before their mentions exist).
    let mut seed = 7u64;
    for round in 0..5 {
        let mut order: Vec<usize> = (0..pop.len()).collect();
        for i in (1..order.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut r = Resolver::new(Model::default());
        for (n, &i) in order.iter().enumerate() {
            if n == round * 10 {
                for (a, b, d) in &decisions {
                    r.decide(a, b, *d);
                }
            }
            r.upsert(pop[i].0.clone(), pop[i].1.clone());
        }
        assert_eq!(assignment(&r, &keys), expected, "round {round} (seed 7)");
    }
    // Corrections and removals: equal to a fresh resolver fed the final set.
    let mut inc = Resolver::new(Model::default());
    for (k, r) in &pop {
        inc.upsert(k.clone(), r.clone());
    }
    for (a, b, d) in &decisions {
        inc.decide(a, b, *d);
    }
    let mut fin: Vec<(MentionKey, Record)> = pop.clone();
    for i in (0..pop.len()).step_by(7) {
        inc.remove(&pop[i].0);
    }
    fin.retain(|(k, _)| !(0..pop.len()).step_by(7).any(|i| &pop[i].0 == k));
    for (n, (k, r)) in fin.iter_mut().enumerate() {
        if n % 5 == 0 {
            r.names[0].surname = "Walsh".into();
            inc.upsert(k.clone(), r.clone());
        }
    }
    let mut fresh = Resolver::new(Model::default());
    for (a, b, d) in &decisions {
        fresh.decide(a, b, *d);
    }
    for (k, r) in fin.iter().rev() {
        fresh.upsert(k.clone(), r.clone());
    }
    assert_eq!(assignment(&inc, &keys), assignment(&fresh, &keys));
    assert_eq!(inc.persons(), fresh.persons());
}

#[test]
fn identical_records_order_independent_with_decisions() {
    // Every third record recorded again (identical) under other keys; decisions between
    // mentions carrying one record.
    let mut pop = population();
    let n = pop.len();
    for i in (0..n).step_by(3) {
        for copy in 1..3 {
            let r = pop[i].1.clone();
            pop.push((MentionKey::new("02", format!("dup-{copy}"), format!("p{i}")), r));
        }
    }
    let keys: Vec<MentionKey> = pop.iter().map(|(k, _)| k.clone()).collect();
    let dup = |copy: usize, i: usize| MentionKey::new("02", format!("dup-{copy}"), format!("p{i}"));
    let decisions = [
        (key(0), dup(1, 0), Decision::Different),
        (dup(2, 3), key(40), Decision::Same),
        (dup(1, 6), dup(2, 6), Decision::Different),
    ];
    let mut base = Resolver::new(Model::default());
    for (k, r) in &pop {
        base.upsert(k.clone(), r.clone());
    }
    for (a, b, d) in &decisions {
        base.decide(a, b, *d);
    }
    assert_ne!(base.person_of(&key(0)), base.person_of(&dup(1, 0)));
    assert_ne!(base.person_of(&dup(1, 6)), base.person_of(&dup(2, 6)));
    let expected = assignment(&base, &keys);
    let mut seed = 11u64;
    for round in 0..4 {
        let mut order: Vec<usize> = (0..pop.len()).collect();
        for i in (1..order.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut r = Resolver::new(Model::default());
        for (n, &i) in order.iter().enumerate() {
            if n == round * 13 {
                for (a, b, d) in &decisions {
                    r.decide(a, b, *d);
                }
            }
            r.upsert(pop[i].0.clone(), pop[i].1.clone());
        }
        assert_eq!(assignment(&r, &keys), expected, "round {round}");
        assert_eq!(r.persons(), base.persons());
    }
    // Withdrawing, correcting and removing: equal to a fresh resolver fed the final set.
    let mut inc = Resolver::new(Model::default());
    for (k, r) in &pop {
        inc.upsert(k.clone(), r.clone());
    }
    for (a, b, d) in &decisions {
        inc.decide(a, b, *d);
    }
    inc.decide(&dup(1, 6), &dup(2, 6), Decision::Withdrawn);
    let mut fin = pop.clone();
    for i in (0..fin.len()).step_by(5) {
        inc.remove(&pop[i].0);
    }
    fin.retain(|(k, _)| !(0..pop.len()).step_by(5).any(|i| &pop[i].0 == k));
    for (n, (k, r)) in fin.iter_mut().enumerate() {
        if n % 4 == 0 {
            r.names[0].surname = "Walsh".into();
            inc.upsert(k.clone(), r.clone());
        }
    }
    let mut fresh = Resolver::new(Model::default());
    for (k, r) in fin.iter().rev() {
        fresh.upsert(k.clone(), r.clone());
    }
    for (a, b, d) in &decisions[..2] {
        fresh.decide(a, b, *d);
    }
    assert_eq!(assignment(&inc, &keys), assignment(&fresh, &keys));
    assert_eq!(inc.persons(), fresh.persons());
    assert_eq!(inc.mentions(), fresh.mentions());
}

#[test]
fn revisions_and_rebuild_with_equal_a_fresh_resolver() {
    // Every third record also recorded under a second key (shared nodes); then revisions of one
    // field (an identifier observed, a corrected date of birth, a new address, a new alias),
    // some making a record identical to another one.
    let mut pop = population_with_shared_records();
    let decisions = [(key(0), key(3), Decision::Different), (key(10), key(40), Decision::Same)];
    let mut inc = Resolver::new(Model::default());
    // The same upserts, each record prepared apart first (as a batch is, on several threads).
    let mut prepared = Resolver::new(Model::default());
    let upsert_prepared = |res: &mut Resolver, k: &MentionKey, r: &Record| {
        let p = res.prepare(r);
        res.upsert_prepared(k.clone(), r.clone(), p)
    };
    for (k, r) in &pop {
        assert_eq!(inc.upsert(k.clone(), r.clone()), upsert_prepared(&mut prepared, k, r));
    }
    for (a, b, d) in &decisions {
        inc.decide(a, b, *d);
        prepared.decide(a, b, *d);
    }
    for (i, (k, r)) in pop.iter_mut().enumerate() {
        match i % 6 {
            0 => r.identifiers.push(id(IdentifierKind::Phone, &format!("07700 91{:04}", i % 7))),
            1 => r.date_of_birth = dob(1984, 3, 7),
            2 => r.addresses.push(addr("4 Mill Lane", "Leeds", "LS1 4AB")),
            3 => r.names.push(name("Jack", "Walsh")),
            4 => r.identifiers.push(id(IdentifierKind::PncId, "12/345678A")),
            _ => continue,
        }
        assert_eq!(inc.upsert(k.clone(), r.clone()), upsert_prepared(&mut prepared, k, r));
    }
    let keys: Vec<MentionKey> = pop.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(assignment(&inc, &keys), assignment(&prepared, &keys));
    for p in keys.iter().filter_map(|k| inc.person_of(k)) {
        assert_eq!(inc.links(p), prepared.links(p));
    }
    let mut fresh = Resolver::new(Model::default());
    for (a, b, d) in &decisions {
        fresh.decide(a, b, *d);
    }
    for (k, r) in pop.iter().rev() {
        fresh.upsert(k.clone(), r.clone());
    }
    assert_eq!(assignment(&inc, &keys), assignment(&fresh, &keys));
    assert_eq!(inc.persons(), fresh.persons());
    assert_eq!(inc.distinct_records(), fresh.distinct_records());
    let fresh_records = fresh.distinct_records();
    // Under another model: rebuilding equals upserting into a fresh resolver.
    let records: Vec<Record> = pop.iter().map(|(_, r)| r.clone()).collect();
    let model = Model::estimate(&records);
    let mut rebuilt = inc.rebuild_with(model.clone());
    assert_eq!(rebuilt.distinct_records(), fresh_records);
    let mut fresh = Resolver::new(model);
    for (k, r) in &pop {
        fresh.upsert(k.clone(), r.clone());
    }
    for (a, b, d) in &decisions {
        fresh.decide(a, b, *d);
    }
    assert_eq!(assignment(&rebuilt, &keys), assignment(&fresh, &keys));
    assert_eq!(rebuilt.persons(), fresh.persons());
    for p in keys.iter().filter_map(|k| fresh.person_of(k)) {
        assert_eq!(rebuilt.links(p), fresh.links(p));
    }
    // And the rebuilt resolver keeps resolving incrementally.
    for (k, r) in pop.iter().step_by(5) {
        let mut r = r.clone();
        r.identifiers.push(id(IdentifierKind::Phone, "07700 900001"));
        rebuilt.upsert(k.clone(), r.clone());
        fresh.upsert(k.clone(), r);
    }
    assert_eq!(assignment(&rebuilt, &keys), assignment(&fresh, &keys));
}

/// The net effect of changes reported one by one: each key's first `before` and last `after`,
/// where they differ, sorted by key.
fn net(changes: impl IntoIterator<Item = Change>) -> Vec<Change> {
    let mut by_key: std::collections::BTreeMap<MentionKey, (Option<PersonId>, Option<PersonId>)> = Default::default();
    for c in changes {
        by_key.entry(c.key).and_modify(|e| e.1 = c.after).or_insert((c.before, c.after));
    }
    by_key
        .into_iter()
        .filter(|(_, (b, a))| b != a)
        .map(|(key, (before, after))| Change { key, before, after })
        .collect()
}

#[test]
fn a_batch_upsert_equals_upserts_one_by_one() {
    // The population with shared records, then revisions (some making records identical),
    // upserted in batches of uneven sizes, some records prepared apart: after every batch the
    // persons are those of upserting one by one, and the changes are their net effect.
    let pop = population_with_shared_records();
    let mut revised = pop.clone();
    for (i, (_, r)) in revised.iter_mut().enumerate() {
        match i % 5 {
            0 => r.identifiers.push(id(IdentifierKind::Phone, &format!("07700 91{:04}", i % 7))),
            1 => r.date_of_birth = dob(1984, 3, 7),
            2 => r.addresses.push(addr("4 Mill Lane", "Leeds", "LS1 4AB")),
            3 => r.names.push(name("Jack", "Walsh")),
            _ => r.identifiers.push(id(IdentifierKind::PncId, "12/345678A")),
        }
    }
    let keys: Vec<MentionKey> = pop.iter().map(|(k, _)| k.clone()).collect();
    let mut one = Resolver::new(Model::default());
    let mut batched = Resolver::new(Model::default());
    one.decide(&key(10), &key(40), Decision::Same);
    batched.decide(&key(10), &key(40), Decision::Same);
    let mut batches = 0;
    for round in [&pop, &revised] {
        let mut at = 0;
        let mut size = 1;
        while at < round.len() {
            let part = &round[at..(at + size).min(round.len())];
            let mut changes = Vec::new();
            for (k, r) in part {
                changes.extend(one.upsert(k.clone(), r.clone()));
            }
            let items: Vec<_> = part
                .iter()
                .enumerate()
                .map(|(i, (k, r))| (k.clone(), r.clone(), (i % 2 == 0).then(|| batched.prepare(r))))
                .collect();
            assert_eq!(batched.upsert_batch(items), net(changes), "batch at {at} of {size}");
            assert_eq!(assignment(&batched, &keys), assignment(&one, &keys));
            at += size;
            size = size % 13 + 4;
            batches += 1;
        }
    }
    assert!(batches > 4);
    assert_eq!(batched.persons(), one.persons());
    assert_eq!(batched.distinct_records(), one.distinct_records());
    for p in keys.iter().filter_map(|k| one.person_of(k)) {
        assert_eq!(batched.links(p), one.links(p));
    }
}

#[test]
fn a_large_component_is_clustered_in_parts_whatever_the_order() {
    // Components past the cap are clustered in parts; the persons are the same upserting one
    // by one, in batches in another order with revisions, or the final records afresh.
    let pop = population_with_shared_records();
    let mut revised = pop.clone();
    for (i, (_, r)) in revised.iter_mut().enumerate().filter(|(i, _)| i % 4 == 1) {
        match i % 3 {
            0 => r.identifiers.push(id(IdentifierKind::Phone, "07700 900777")),
            1 => r.addresses.push(addr("4 Mill Lane", "Leeds", "LS1 4AB")),
            _ => r.date_of_birth = dob(1984, 3, 7),
        }
    }
    let keys: Vec<MentionKey> = pop.iter().map(|(k, _)| k.clone()).collect();
    let whole = {
        let mut r = Resolver::new(Model::default());
        r.decide(&key(10), &key(40), Decision::Same);
        for (k, rec) in &revised {
            r.upsert(k.clone(), rec.clone());
        }
        r
    };
    let largest = whole.largest_component();
    assert!(largest > 8, "the population has a component of {largest} nodes");
    for cap in [3, 8, largest - 1] {
        let mut one = Resolver::new(Model::default());
        one.set_component_cap(cap);
        one.decide(&key(10), &key(40), Decision::Same);
        for (k, r) in pop.iter().chain(&revised) {
            one.upsert(k.clone(), r.clone());
        }
        let mut batched = Resolver::new(Model::default());
        batched.set_component_cap(cap);
        for round in [&pop, &revised] {
            let items: Vec<&(MentionKey, Record)> = round.iter().rev().collect();
            for part in items.chunks(11) {
                batched.upsert_batch(part.iter().map(|(k, r)| (k.clone(), r.clone(), None)));
            }
        }
        batched.decide(&key(10), &key(40), Decision::Same);
        let mut fresh = Resolver::new(Model::default());
        fresh.set_component_cap(cap);
        fresh.decide(&key(10), &key(40), Decision::Same);
        for i in (0..revised.len()).map(|i| (i * 7) % revised.len()) {
            fresh.upsert(revised[i].0.clone(), revised[i].1.clone());
        }
        assert_eq!(assignment(&one, &keys), assignment(&fresh, &keys), "cap {cap}");
        assert_eq!(assignment(&batched, &keys), assignment(&fresh, &keys), "cap {cap}");
        assert_eq!(one.persons(), fresh.persons());
        if cap == 3 {
            // Parts this small leave out links the whole component's clustering follows.
            assert_ne!(assignment(&one, &keys), assignment(&whole, &keys));
        }
        // The rebuild under another model clusters in parts the same way.
        let records: Vec<Record> = revised.iter().map(|(_, r)| r.clone()).collect();
        let model = Model::estimate(&records);
        let rebuilt = one.rebuild_with(model.clone());
        let mut again = Resolver::new(model);
        again.set_component_cap(cap);
        again.decide(&key(10), &key(40), Decision::Same);
        for (k, r) in revised.iter().rev() {
            again.upsert(k.clone(), r.clone());
        }
        assert_eq!(assignment(&rebuilt, &keys), assignment(&again, &keys), "cap {cap}");
    }
}
