//! Synthetic individuals (the ground truth) and how a force records one of them (a mention), with
//! the noise real records carry: spelling variants, nicknames, typos, swapped name parts, partial
//! or mistyped dates of birth, differently formatted phone numbers.
//!
//! Phone numbers come only from the ranges Ofcom reserves for drama and fiction, e-mail addresses
//! only from the reserved `example` domains, so no generated identifier is a real person's.

use beaconport_domain::{
    Address, Identifier, IdentifierKind, Name, ObservedEthnicity, PartialDate, PersonRecorded, Role,
    SelfDefinedEthnicity, Sex, VitalStatus,
};
use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::geo::{self, ForceGeo};
use crate::names::{self, Origin};

/// One synthetic individual: who the mentions really are.
#[derive(Debug, Clone, PartialEq)]
pub struct Individual {
    /// Index in [`crate::Truth::individuals`].
    pub id: u64,
    pub sex: Sex,
    pub origin: Origin,
    pub forename: String,
    pub middle_name: Option<String>,
    /// The given name the person goes by (the forename or the middle name).
    pub known_as: String,
    pub surname: String,
    /// A street name or familiar name others use.
    pub nickname: Option<String>,
    pub date_of_birth: NaiveDate,
    /// 2021 Census group the person would choose.
    pub census_group: u8,
    /// IC code an officer would most likely record.
    pub ic_code: u8,
    pub nationalities: Vec<String>,
    /// Code of the force where the person lives.
    pub home_force: &'static str,
    pub address: Address,
    /// Phones in national compact form (`07700900123`); shared network phones included.
    pub phones: Vec<String>,
    pub vehicles: Vec<String>,
    pub email: Option<String>,
    pub social_handle: Option<String>,
    /// PNC id in its long form (`2008/0123456K`).
    pub pnc_id: Option<String>,
    pub passport: Option<String>,
    pub died_on: Option<NaiveDate>,
}

impl Individual {
    /// Age in whole years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> i32 {
        let b = self.date_of_birth;
        let mut age = date.year() - b.year();
        if (date.month(), date.day()) < (b.month(), b.day()) {
            age -= 1;
        }
        age
    }
}

/// What kind of person to make.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub sex: Sex,
    pub origin: Origin,
    pub born: NaiveDate,
    /// Known to police: likely to have a PNC id, more phones and vehicles.
    pub offender: bool,
}

/// Every individual of a scenario, and the pools identifiers are drawn from.
#[derive(Debug)]
pub struct Population {
    pub people: Vec<Individual>,
    phones: Vec<String>,
    next_phone: usize,
    pnc_serial: u32,
}

impl Population {
    pub fn new<R: Rng>(rng: &mut R) -> Self {
        Self { people: Vec::new(), phones: phone_pool(rng), next_phone: 0, pnc_serial: rng.gen_range(1_000..90_000) }
    }

    /// A fresh phone number, unique while the reserved ranges last (then reused).
    pub fn phone<R: Rng>(&mut self, rng: &mut R) -> String {
        if self.next_phone == self.phones.len() {
            self.phones.shuffle(rng);
            self.next_phone = 0;
        }
        self.next_phone += 1;
        self.phones[self.next_phone - 1].clone()
    }

    pub fn get(&self, id: u64) -> &Individual {
        &self.people[id as usize]
    }

    pub fn get_mut(&mut self, id: u64) -> &mut Individual {
        &mut self.people[id as usize]
    }

    /// Makes a new individual living in `home`, and returns its id.
    pub fn add<R: Rng>(&mut self, rng: &mut R, spec: Spec, home: &'static ForceGeo) -> u64 {
        let id = self.people.len() as u64;
        let (forename, middle_name, known_as) = given_names(rng, spec.origin, spec.sex);
        let surname = surname(rng, spec.origin, spec.sex);
        let adult_at = spec.born.year() + 18;
        let nickname = if spec.offender && rng.gen_bool(0.3) {
            Some(names::STREET_NAMES.choose(rng).expect("street names").to_string())
        } else {
            names::nicknames_of(&known_as).choose(rng).filter(|_| rng.gen_bool(0.35)).map(|s| s.to_string())
        };
        let mut nationalities = Vec::new();
        if rng.gen_bool(spec.origin.foreign_national_share()) {
            if let Some(c) = spec.origin.other_nationalities().choose(rng) {
                nationalities.push(c.to_string());
                if rng.gen_bool(0.2) {
                    nationalities.push("GB".to_string());
                }
            }
        } else {
            nationalities.push("GB".to_string());
            if rng.gen_bool(0.1) {
                if let Some(c) = spec.origin.other_nationalities().choose(rng) {
                    nationalities.push(c.to_string());
                }
            }
        }
        let census_group = if spec.origin == Origin::MixedBritish {
            *[9u8, 10, 11, 11, 12].choose(rng).expect("mixed groups")
        } else if rng.gen_bool(0.04) {
            19
        } else {
            spec.origin.census_group()
        };
        let ic_code = match spec.origin {
            Origin::EasternEuropean if rng.gen_bool(0.3) => 2,
            Origin::MixedBritish => *[1u8, 3, 3, 4].choose(rng).expect("codes"),
            o => o.ic_code(),
        };
        let n_phones = if spec.offender { rng.gen_range(1..=3) } else { usize::from(rng.gen_bool(0.75)) };
        let phones = (0..n_phones).map(|_| self.phone(rng)).collect();
        let n_vehicles = match (spec.offender, adult_at <= 2024) {
            (_, false) => 0,
            (true, true) => rng.gen_range(0..=2),
            (false, true) => usize::from(rng.gen_bool(0.2)),
        };
        let vehicles = (0..n_vehicles).map(|_| vehicle(rng, adult_at.max(2002))).collect();
        let email = rng.gen_bool(0.45).then(|| email(rng, &known_as, &surname));
        let social_handle = rng.gen_bool(0.4).then(|| social(rng, &known_as, &surname));
        let pnc_id = (spec.offender && rng.gen_bool(0.6)).then(|| {
            self.pnc_serial += rng.gen_range(1..400);
            pnc_id(adult_at.clamp(1995, 2024), self.pnc_serial)
        });
        let passport = rng.gen_bool(if spec.offender { 0.55 } else { 0.35 }).then(|| passport(rng, &nationalities));
        let person = Individual {
            id,
            sex: spec.sex,
            origin: spec.origin,
            forename,
            middle_name,
            known_as,
            surname,
            nickname,
            date_of_birth: spec.born,
            census_group,
            ic_code,
            nationalities,
            home_force: home.code,
            address: geo::address(rng, home),
            phones,
            vehicles,
            email,
            social_handle,
            pnc_id,
            passport,
            died_on: None,
        };
        self.people.push(person);
        id
    }

    /// A relative of `of`: same surname, address and (for a twin) date of birth, a different
    /// given name. Returns its id.
    pub fn relative<R: Rng>(&mut self, rng: &mut R, of: u64, twin: bool) -> u64 {
        let base = self.get(of).clone();
        let home = geo::geo(base.home_force);
        let born = if twin {
            base.date_of_birth
        } else {
            // A parent with the same name: 20 to 34 years older.
            let years = rng.gen_range(20..35);
            shift_years(base.date_of_birth, -years)
        };
        let sex = if twin && rng.gen_bool(0.3) { other_sex(base.sex) } else { base.sex };
        let offender = rng.gen_bool(0.3);
        let id = self.add(rng, Spec { sex, origin: base.origin, born, offender }, home);
        let p = self.get_mut(id);
        p.surname = base.surname.clone();
        p.address = base.address.clone();
        p.nationalities = base.nationalities.clone();
        p.census_group = base.census_group;
        p.ic_code = base.ic_code;
        if twin {
            while p.known_as == base.known_as {
                let (f, m, k) = given_names(rng, base.origin, sex);
                (p.forename, p.middle_name, p.known_as) = (f, m, k);
            }
        } else {
            p.forename = base.forename.clone();
            p.middle_name = base.middle_name.clone();
            p.known_as = base.known_as.clone();
        }
        id
    }

    /// Someone else with the same name as `of`: a different date of birth and address.
    pub fn namesake<R: Rng>(&mut self, rng: &mut R, of: u64, home: &'static ForceGeo) -> u64 {
        let base = self.get(of).clone();
        let mut born =
            shift_days(base.date_of_birth, rng.gen_range(400..9000) * if rng.gen_bool(0.5) { 1 } else { -1 });
        if born.year() > 2004 {
            born = shift_years(born, -12);
        }
        let offender = rng.gen_bool(0.4);
        let id = self.add(rng, Spec { sex: base.sex, origin: base.origin, born, offender }, home);
        let p = self.get_mut(id);
        p.forename = base.forename.clone();
        p.middle_name = None;
        p.known_as = base.known_as.clone();
        p.surname = base.surname.clone();
        id
    }
}

fn other_sex(s: Sex) -> Sex {
    if s == Sex::Male {
        Sex::Female
    } else {
        Sex::Male
    }
}

fn given_names<R: Rng>(rng: &mut R, origin: Origin, sex: Sex) -> (String, Option<String>, String) {
    let list = origin.forenames(sex, rng.gen_bool(0.5));
    let first = list.choose(rng).expect("names").to_string();
    let muslim = matches!(origin, Origin::Pakistani | Origin::Bangladeshi);
    if muslim && sex == Sex::Male && rng.gen_bool(0.3) {
        // "Mohammed" as a first given name, the person known by the second.
        let mut second = first;
        while second == "Mohammed" {
            second = list.choose(rng).expect("names").to_string();
        }
        return ("Mohammed".to_string(), Some(second.clone()), second);
    }
    let p_middle = if origin.uses_middle_name() { 0.45 } else { 0.3 };
    if rng.gen_bool(p_middle) {
        let mut middle = list.choose(rng).expect("names").to_string();
        if middle == first {
            middle = list.choose(rng).expect("names").to_string();
        }
        if middle != first {
            let known = if origin.uses_middle_name() && rng.gen_bool(0.3) { middle.clone() } else { first.clone() };
            return (first, Some(middle), known);
        }
    }
    (first.clone(), None, first)
}

fn surname<R: Rng>(rng: &mut R, origin: Origin, sex: Sex) -> String {
    let s = origin.surnames().choose(rng).expect("surnames");
    match (origin, sex) {
        (Origin::EasternEuropean, Sex::Female) => names::feminine_surname(s),
        (Origin::Bangladeshi, Sex::Female) if rng.gen_bool(0.4) => "Begum".to_string(),
        (Origin::Indian, Sex::Female) if rng.gen_bool(0.3) => "Kaur".to_string(),
        (Origin::Indian, Sex::Male) if rng.gen_bool(0.2) => "Singh".to_string(),
        _ => s.to_string(),
    }
}

/// Ofcom's ranges reserved for drama and fiction: national prefixes, each followed by any three
/// digits (`07700 900000` to `07700 900999`, `0161 496 0000` to `0161 496 0999`, ...).
const DRAMA_RANGES: &[&str] = &[
    "07700900", "01134960", "01144960", "01154960", "01164960", "01174960", "01184960", "01214960", "01314960",
    "01414960", "01514960", "01614960", "01914980", "02079460", "02920180", "02896496", "01632960", "03069990",
];

/// Every reserved number, national compact form: the mobiles shuffled first (people mostly give
/// mobiles), then the geographic ones shuffled.
fn phone_pool<R: Rng>(rng: &mut R) -> Vec<String> {
    let mut mobiles: Vec<String> = (0..1000).map(|n| format!("{}{n:03}", DRAMA_RANGES[0])).collect();
    let mut others: Vec<String> =
        DRAMA_RANGES[1..].iter().flat_map(|p| (0..1000).map(move |n| format!("{p}{n:03}"))).collect();
    mobiles.shuffle(rng);
    others.shuffle(rng);
    mobiles.extend(others);
    mobiles
}

/// How a phone number is written in one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneStyle {
    Compact,
    Spaced,
    International,
    InternationalCompact,
    Dashed,
}

impl PhoneStyle {
    pub fn random<R: Rng>(rng: &mut R) -> Self {
        match rng.gen_range(0..100) {
            0..=34 => PhoneStyle::Spaced,
            35..=69 => PhoneStyle::Compact,
            70..=84 => PhoneStyle::International,
            85..=94 => PhoneStyle::InternationalCompact,
            _ => PhoneStyle::Dashed,
        }
    }
}

/// Writes a national compact number (`07700900123`) in a style.
pub fn format_phone(national: &str, style: PhoneStyle) -> String {
    let groups: &[usize] = if national.starts_with("07") || national.starts_with("01632") {
        &[5, 6]
    } else if national.starts_with("02") {
        &[3, 4, 4]
    } else {
        &[4, 3, 4]
    };
    let mut parts = Vec::with_capacity(3);
    let mut at = 0;
    for g in groups {
        parts.push(&national[at..at + g]);
        at += g;
    }
    match style {
        PhoneStyle::Compact => national.to_string(),
        PhoneStyle::Spaced => parts.join(" "),
        PhoneStyle::Dashed => parts.join("-"),
        PhoneStyle::International => {
            let first = &parts[0][1..];
            let rest = parts[1..].join(" ");
            format!("+44 {first} {rest}")
        }
        PhoneStyle::InternationalCompact => format!("+44{}", &national[1..]),
    }
}

/// A registration mark in the current format (`AB12 CDE`), first registered from `from_year`.
pub fn vehicle<R: Rng>(rng: &mut R, from_year: i32) -> String {
    const AREA: &[u8] = b"ABCDEFGHKLMNOPRSVWY";
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXYZ";
    let year = rng.gen_range(from_year.clamp(2002, 2024)..=2024);
    let age = (year % 100) as u32 + if rng.gen_bool(0.5) { 50 } else { 0 };
    let mut s = String::with_capacity(8);
    s.push(AREA[rng.gen_range(0..AREA.len())] as char);
    s.push(LETTERS[rng.gen_range(0..LETTERS.len())] as char);
    s.push_str(&format!("{age:02} "));
    for _ in 0..3 {
        s.push(LETTERS[rng.gen_range(0..LETTERS.len())] as char);
    }
    s
}

/// Folds a name to lower-case ASCII letters, for e-mail addresses and handles.
pub fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'ł' | 'Ł' => 'l',
                'ś' | 'Ś' | 'ș' | 'Ș' | 'š' => 's',
                'ó' | 'ö' => 'o',
                'ń' => 'n',
                'ț' | 'Ț' => 't',
                'á' | 'ą' => 'a',
                'ř' => 'r',
                'é' | 'ę' | 'ë' | 'ě' => 'e',
                'ć' | 'č' => 'c',
                'ż' | 'ź' => 'z',
                'ü' => 'u',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

fn email<R: Rng>(rng: &mut R, first: &str, last: &str) -> String {
    let domain = ["example.com", "example.org", "example.net"].choose(rng).expect("domains");
    let (f, l) = (ascii_fold(first), ascii_fold(last));
    match rng.gen_range(0..3) {
        0 => format!("{f}.{l}@{domain}"),
        1 => format!("{f}{l}{}@{domain}", rng.gen_range(1..100)),
        _ => format!("{}{l}{}@{domain}", &f[..1.min(f.len())], rng.gen_range(70..100)),
    }
}

fn social<R: Rng>(rng: &mut R, first: &str, last: &str) -> String {
    let (f, l) = (ascii_fold(first), ascii_fold(last));
    let initial = &l[..1.min(l.len())];
    match rng.gen_range(0..3) {
        0 => format!("@{f}_{initial}{}", rng.gen_range(10..100)),
        1 => format!("@{f}{l}"),
        _ => format!("@real_{f}{}", rng.gen_range(1..1000)),
    }
}

const PNC_CHECK: &[u8] = b"ZABCDEFGHJKLMNPQRTUVWXY";

/// A PNC id in its long form (`2008/0123456K`), with the check letter computed as PNC does.
fn pnc_id(year: i32, serial: u32) -> String {
    let yy = (year % 100) as u64;
    let check = PNC_CHECK[((yy * 10_000_000 + u64::from(serial)) % 23) as usize] as char;
    format!("{year:04}/{serial:07}{check}")
}

/// The short form of a PNC id (`08/123456K`).
pub fn pnc_short(long: &str) -> String {
    let (year, rest) = long.split_once('/').expect("long PNC id");
    let digits = rest[..rest.len() - 1].trim_start_matches('0');
    format!("{}/{}{}", &year[2..], if digits.is_empty() { "0" } else { digits }, &rest[rest.len() - 1..])
}

fn passport<R: Rng>(rng: &mut R, nationalities: &[String]) -> String {
    if nationalities.first().is_none_or(|n| n == "GB") {
        format!("{:09}", rng.gen_range(100_000_000u32..999_999_999))
    } else {
        const L: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
        format!(
            "{}{}{:07}",
            L[rng.gen_range(0..L.len())] as char,
            L[rng.gen_range(0..L.len())] as char,
            rng.gen_range(0..10_000_000u32)
        )
    }
}

/// A full partial date.
pub fn full_date(d: NaiveDate) -> PartialDate {
    PartialDate { year: d.year(), month: Some(d.month()), day: Some(d.day()) }
}

pub fn shift_days(d: NaiveDate, days: i64) -> NaiveDate {
    d + chrono::Duration::days(days)
}

pub fn shift_years(d: NaiveDate, years: i32) -> NaiveDate {
    let y = d.year() + years;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .expect("valid date")
}

/// How carefully a force records people: its own rates of completeness.
#[derive(Debug, Clone, Copy)]
pub struct Recording {
    /// Chance that a suspect's self-defined ethnicity is recorded.
    pub self_defined_suspect: f64,
    /// Chance that a victim's self-defined ethnicity is recorded.
    pub self_defined_victim: f64,
    /// Chance that an officer-observed ethnicity is recorded.
    pub observed: f64,
    /// Multiplier of every kind of recording error (1 is typical).
    pub noise: f64,
    /// Records everything known about the person (complete records, for benchmarks).
    pub full: bool,
}

/// Renders how a force records `p` in a case: the mention, with the force's noise.
pub fn mention<R: Rng>(
    rng: &mut R,
    p: &Individual,
    person_ref: String,
    role: Role,
    rec: &Recording,
    recorded_on: NaiveDate,
) -> PersonRecorded {
    let noise = rec.noise;
    let offender = role == Role::Suspect;
    let full = rec.full;
    // In full detail every optional part is recorded.
    let maybe = |rng: &mut R, p: f64| full || rng.gen_bool(p);
    let name = Some(mention_name(rng, p, noise));
    let mut aliases = Vec::new();
    if let Some(n) = &p.nickname {
        if maybe(rng, if offender { 0.45 } else { 0.15 }) {
            aliases.push(Name { forenames: n.clone(), surname: String::new() });
        }
    }
    if (full || offender) && maybe(rng, 0.08) {
        // A name the person once gave, with the real surname's spelling variant or a typo.
        let sur = names::variants_of(&p.surname)
            .and_then(|v| v.choose(rng).map(|s| s.to_string()))
            .unwrap_or_else(|| typo(rng, &p.surname));
        let alias = Name { forenames: p.known_as.clone(), surname: sur };
        if name.as_ref() != Some(&alias) {
            aliases.push(alias);
        }
    }
    let date_of_birth = mention_dob(rng, p.date_of_birth, noise, role).map(|d| {
        if d.earliest() <= recorded_on {
            d
        } else {
            full_date(p.date_of_birth)
        }
    });
    let sex = maybe(rng, 0.96).then_some(p.sex);
    let sd_rate = if offender { rec.self_defined_suspect } else { rec.self_defined_victim };
    let self_defined_ethnicity = maybe(rng, sd_rate).then(|| {
        if rng.gen_bool(0.1) {
            SelfDefinedEthnicity::NotStated
        } else {
            SelfDefinedEthnicity::Census2021(p.census_group)
        }
    });
    let officer_observed_ethnicity = maybe(rng, rec.observed).then(|| match rng.gen_range(0..100) {
        0..=5 => ObservedEthnicity::Ic0,
        6..=12 => ObservedEthnicity::Ic(match p.ic_code {
            1 => 2,
            2 => 1,
            4 => 6,
            6 => 4,
            3 => 4,
            _ => 1,
        }),
        _ => ObservedEthnicity::Ic(p.ic_code),
    });
    let nationalities = if maybe(rng, 0.45) { p.nationalities.clone() } else { Vec::new() };
    let mut addresses = Vec::new();
    if maybe(rng, if offender { 0.8 } else { 0.9 }) {
        addresses.push(mention_address(rng, &p.address, noise));
    }
    if full {
        // Former addresses in the same force area.
        for _ in 0..rng.gen_range(1..=2) {
            addresses.push(geo::address(rng, geo::geo(p.home_force)));
        }
    }
    let mut identifiers: Vec<Identifier> = Vec::new();
    let mut push = |id: Identifier| {
        if !identifiers.iter().any(|i| i.kind == id.kind && i.value == id.value) {
            identifiers.push(id);
        }
    };
    for ph in &p.phones {
        if maybe(rng, 0.6) {
            push(Identifier { kind: IdentifierKind::Phone, value: format_phone(ph, PhoneStyle::random(rng)) });
        }
    }
    for v in &p.vehicles {
        if maybe(rng, if offender { 0.35 } else { 0.2 }) {
            let value = if rng.gen_bool(0.2) { v.replace(' ', "") } else { v.clone() };
            push(Identifier { kind: IdentifierKind::Vehicle, value });
        }
    }
    if let Some(e) = &p.email {
        if maybe(rng, 0.2) {
            push(Identifier { kind: IdentifierKind::Email, value: e.clone() });
        }
    }
    if let Some(s) = &p.social_handle {
        if maybe(rng, 0.25) {
            push(Identifier { kind: IdentifierKind::SocialHandle, value: s.clone() });
        }
    }
    if let Some(pnc) = &p.pnc_id {
        if offender && maybe(rng, 0.55) {
            let value = if rng.gen_bool(0.4) { pnc_short(pnc) } else { pnc.clone() };
            push(Identifier { kind: IdentifierKind::PncId, value });
        }
    }
    if let Some(pp) = &p.passport {
        if maybe(rng, if offender { 0.2 } else { 0.05 }) {
            push(Identifier { kind: IdentifierKind::Passport, value: pp.clone() });
        }
    }
    let description = if maybe(rng, if offender { 0.15 } else { 0.0 }) {
        names::MARKS.choose(rng).expect("marks").to_string()
    } else {
        String::new()
    };
    PersonRecorded {
        person_ref,
        role,
        name,
        aliases,
        date_of_birth,
        sex,
        self_defined_ethnicity,
        officer_observed_ethnicity,
        nationalities,
        addresses,
        identifiers,
        vital_status: maybe(rng, 0.7).then_some(VitalStatus::Alive),
        date_of_death: None,
        description,
    }
}

/// A suspect recorded without a name: a description, the name victims use, maybe a phone.
pub fn unidentified<R: Rng>(rng: &mut R, p: &Individual, person_ref: String) -> PersonRecorded {
    let sex = if p.sex == Sex::Female { "female" } else { "male" };
    let age = rng.gen_range(20..45) / 5 * 5;
    let known = p.nickname.clone().unwrap_or_else(|| p.known_as.clone());
    let description = format!("unknown {sex}, about {age}, known to victims as \"{known}\"");
    let identifiers = match p.phones.first() {
        Some(ph) if rng.gen_bool(0.5) => {
            vec![Identifier { kind: IdentifierKind::Phone, value: format_phone(ph, PhoneStyle::random(rng)) }]
        }
        _ => Vec::new(),
    };
    PersonRecorded {
        person_ref,
        role: Role::Suspect,
        name: None,
        aliases: vec![Name { forenames: known, surname: String::new() }],
        date_of_birth: None,
        sex: Some(p.sex),
        self_defined_ethnicity: None,
        officer_observed_ethnicity: None,
        nationalities: Vec::new(),
        addresses: Vec::new(),
        identifiers,
        vital_status: None,
        date_of_death: None,
        description,
    }
}

fn variant<R: Rng>(rng: &mut R, name: &str) -> Option<String> {
    let group = names::variants_of(name)?;
    let others: Vec<&&str> = group.iter().filter(|v| **v != name).collect();
    others.choose(rng).map(|s| s.to_string())
}

/// One letter dropped, doubled, or two letters swapped.
pub fn typo<R: Rng>(rng: &mut R, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return s.to_string();
    }
    let i = rng.gen_range(1..chars.len() - 1);
    let mut out = chars.clone();
    match rng.gen_range(0..3) {
        0 => {
            out.remove(i);
        }
        1 => out.insert(i, chars[i]),
        _ => out.swap(i, i + 1),
    }
    out.into_iter().collect()
}

fn mention_name<R: Rng>(rng: &mut R, p: &Individual, noise: f64) -> Name {
    let chance = |rng: &mut R, x: f64| rng.gen_bool((x * noise).min(1.0));
    let mut forenames = match &p.middle_name {
        Some(m) if rng.gen_bool(0.3) => format!("{} {m}", p.forename),
        _ => p.known_as.clone(),
    };
    let mut surname = p.surname.clone();
    if chance(rng, 0.3) {
        if let Some(v) = variant(rng, &p.known_as) {
            forenames = forenames.replace(&p.known_as, &v);
        }
    }
    if chance(rng, 0.3) {
        if let Some(v) = variant(rng, &surname) {
            surname = v;
        }
    }
    if chance(rng, 0.12) {
        if let Some(n) = names::nicknames_of(&p.known_as).choose(rng) {
            forenames = n.to_string();
        }
    }
    if chance(rng, 0.05) {
        surname = typo(rng, &surname);
    }
    if chance(rng, 0.04) {
        forenames = typo(rng, &forenames);
    }
    if chance(rng, 0.04) {
        // Initials only.
        forenames =
            forenames.split(' ').filter_map(|w| w.chars().next()).map(String::from).collect::<Vec<_>>().join(" ");
    }
    if chance(rng, 0.04) {
        surname = surname.to_uppercase();
    }
    if chance(rng, 0.04) {
        std::mem::swap(&mut forenames, &mut surname);
    } else if chance(rng, 0.02) {
        forenames.clear();
    }
    Name { forenames, surname }
}

fn mention_dob<R: Rng>(rng: &mut R, dob: NaiveDate, noise: f64, role: Role) -> Option<PartialDate> {
    let full = |d: NaiveDate| PartialDate { year: d.year(), month: Some(d.month()), day: Some(d.day()) };
    let r: f64 = rng.gen();
    let mut t = 0.0;
    let mut next = |share: f64| {
        t += share * noise;
        r < t
    };
    Some(if next(if role == Role::Suspect { 0.1 } else { 0.04 }) {
        return None;
    } else if next(0.07) {
        PartialDate { year: dob.year(), month: None, day: None }
    } else if next(0.06) {
        PartialDate { year: dob.year(), month: Some(dob.month()), day: None }
    } else if next(0.05) {
        // Day and month swapped.
        match NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month()) {
            Some(d) if dob.day() <= 12 => full(d),
            _ => full(dob),
        }
    } else if next(0.08) {
        // One digit off.
        full(match rng.gen_range(0..3) {
            0 => shift_days(dob, if rng.gen_bool(0.5) { 1 } else { -1 }),
            1 => shift_years(dob, if rng.gen_bool(0.5) { 1 } else { -1 }),
            _ => NaiveDate::from_ymd_opt(dob.year(), dob.month() % 12 + 1, dob.day()).unwrap_or(dob),
        })
    } else if next(0.03) {
        // The system's placeholder day.
        PartialDate { year: dob.year(), month: Some(1), day: Some(1) }
    } else {
        full(dob)
    })
}

fn mention_address<R: Rng>(rng: &mut R, a: &Address, noise: f64) -> Address {
    let mut a = a.clone();
    let p = |x: f64| (x * noise).min(1.0);
    if rng.gen_bool(p(0.1)) {
        a.postcode = a.postcode.replace(' ', "");
    }
    if rng.gen_bool(p(0.1)) {
        for (long, short) in [(" Road", " Rd"), (" Street", " St"), (" Avenue", " Ave"), (" Lane", " Ln")] {
            if a.line1.ends_with(long) {
                a.line1 = a.line1.replace(long, short);
            }
        }
    }
    if rng.gen_bool(p(0.05)) {
        a.line1 = a.line1.to_uppercase();
    }
    if rng.gen_bool(p(0.08)) {
        a.postcode.clear();
    } else if rng.gen_bool(p(0.05)) {
        a.town.clear();
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use beaconport_domain::rules::check_identifier;
    use rand::SeedableRng;

    #[test]
    fn phones_in_every_style_are_valid() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let pool = phone_pool(&mut rng);
        assert_eq!(pool.len(), DRAMA_RANGES.len() * 1000);
        assert!(pool[..1000].iter().all(|p| p.starts_with("07700900")));
        for n in pool.iter().step_by(97) {
            assert_eq!(n.len(), 11, "{n}");
            for s in [
                PhoneStyle::Compact,
                PhoneStyle::Spaced,
                PhoneStyle::International,
                PhoneStyle::InternationalCompact,
                PhoneStyle::Dashed,
            ] {
                let f = format_phone(n, s);
                assert!(check_identifier(IdentifierKind::Phone, &f).is_ok(), "{f}");
            }
        }
        assert_eq!(format_phone("07700900123", PhoneStyle::International), "+44 7700 900123");
        assert_eq!(format_phone("01614960123", PhoneStyle::Spaced), "0161 496 0123");
        assert_eq!(format_phone("02079460123", PhoneStyle::International), "+44 20 7946 0123");
    }

    #[test]
    fn pnc_ids_both_forms_valid() {
        let long = pnc_id(2008, 123_456);
        assert!(long.starts_with("2008/0123456"));
        let short = pnc_short(&long);
        assert!(short.starts_with("08/123456"));
        assert!(check_identifier(IdentifierKind::PncId, &long).is_ok());
        assert!(check_identifier(IdentifierKind::PncId, &short).is_ok());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for _ in 0..200 {
            let v = vehicle(&mut rng, 2010);
            assert!(check_identifier(IdentifierKind::Vehicle, &v).is_ok(), "{v}");
            let e = email(&mut rng, "Łukasz", "O'Brien");
            assert!(check_identifier(IdentifierKind::Email, &e).is_ok(), "{e}");
            let s = social(&mut rng, "Zoë", "Wiśniewska");
            assert!(check_identifier(IdentifierKind::SocialHandle, &s).is_ok(), "{s}");
            let p = passport(&mut rng, &["PL".to_string()]);
            assert!(check_identifier(IdentifierKind::Passport, &p).is_ok(), "{p}");
        }
    }
}
