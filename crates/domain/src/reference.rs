//! Reference lists, kept as data with their sources. Looked up, not invented.

/// What kind of force a code belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForceKind {
    /// One of the 43 territorial police forces of England and Wales.
    TerritorialEnglandWales,
    /// Other UK forces and agencies that record such cases.
    OtherUk,
}

/// A police force or agency that may publish events.
#[derive(Debug, PartialEq, Eq)]
pub struct Force {
    /// Short code used on the ledger (conventional abbreviation).
    pub code: &'static str,
    pub name: &'static str,
    /// The force's identifier in the data.police.uk API, where it has one.
    pub police_uk_id: &'static str,
    pub kind: ForceKind,
}

// Forces are identified by their code: ordering and hashing look at nothing else.
impl std::hash::Hash for Force {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code.hash(state)
    }
}
impl PartialOrd for Force {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Force {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code.cmp(other.code)
    }
}

const fn tew(code: &'static str, name: &'static str, police_uk_id: &'static str) -> Force {
    Force { code, name, police_uk_id, kind: ForceKind::TerritorialEnglandWales }
}
const fn other(code: &'static str, name: &'static str, police_uk_id: &'static str) -> Force {
    Force { code, name, police_uk_id, kind: ForceKind::OtherUk }
}

/// The 43 territorial forces of England and Wales (Home Office, "Police workforce, England and
/// Wales" force list; names and data.police.uk ids as published at data.police.uk/api/forces),
/// then the other UK forces (British Transport Police, Police Scotland, Police Service of
/// Northern Ireland) and the National Crime Agency. Short codes are the forces' conventional
/// abbreviations, fixed here so that every event carries one unambiguous code.
pub static FORCES: &[Force] = &[
    tew("ASP", "Avon and Somerset Constabulary", "avon-and-somerset"),
    tew("BDP", "Bedfordshire Police", "bedfordshire"),
    tew("CAM", "Cambridgeshire Constabulary", "cambridgeshire"),
    tew("CHE", "Cheshire Constabulary", "cheshire"),
    tew("COL", "City of London Police", "city-of-london"),
    tew("CLE", "Cleveland Police", "cleveland"),
    tew("CUM", "Cumbria Constabulary", "cumbria"),
    tew("DER", "Derbyshire Constabulary", "derbyshire"),
    tew("DCP", "Devon and Cornwall Police", "devon-and-cornwall"),
    tew("DOR", "Dorset Police", "dorset"),
    tew("DUR", "Durham Constabulary", "durham"),
    tew("DPP", "Dyfed-Powys Police", "dyfed-powys"),
    tew("ESX", "Essex Police", "essex"),
    tew("GLO", "Gloucestershire Constabulary", "gloucestershire"),
    tew("GMP", "Greater Manchester Police", "greater-manchester"),
    tew("GWE", "Gwent Police", "gwent"),
    tew("HAM", "Hampshire and Isle of Wight Constabulary", "hampshire"),
    tew("HER", "Hertfordshire Constabulary", "hertfordshire"),
    tew("HUM", "Humberside Police", "humberside"),
    tew("KEN", "Kent Police", "kent"),
    tew("LAN", "Lancashire Constabulary", "lancashire"),
    tew("LEI", "Leicestershire Police", "leicestershire"),
    tew("LIN", "Lincolnshire Police", "lincolnshire"),
    tew("MER", "Merseyside Police", "merseyside"),
    tew("MPS", "Metropolitan Police Service", "metropolitan"),
    tew("NOR", "Norfolk Constabulary", "norfolk"),
    tew("NWP", "North Wales Police", "north-wales"),
    tew("NYP", "North Yorkshire Police", "north-yorkshire"),
    tew("NTH", "Northamptonshire Police", "northamptonshire"),
    tew("NTB", "Northumbria Police", "northumbria"),
    tew("NOT", "Nottinghamshire Police", "nottinghamshire"),
    tew("SWP", "South Wales Police", "south-wales"),
    tew("SYP", "South Yorkshire Police", "south-yorkshire"),
    tew("STA", "Staffordshire Police", "staffordshire"),
    tew("SUF", "Suffolk Constabulary", "suffolk"),
    tew("SUR", "Surrey Police", "surrey"),
    tew("SUS", "Sussex Police", "sussex"),
    tew("TVP", "Thames Valley Police", "thames-valley"),
    tew("WAR", "Warwickshire Police", "warwickshire"),
    tew("WMC", "West Mercia Police", "west-mercia"),
    tew("WMP", "West Midlands Police", "west-midlands"),
    tew("WYP", "West Yorkshire Police", "west-yorkshire"),
    tew("WIL", "Wiltshire Police", "wiltshire"),
    other("BTP", "British Transport Police", "btp"),
    other("PSC", "Police Scotland", ""),
    other("PSNI", "Police Service of Northern Ireland", ""),
    other("NCA", "National Crime Agency", ""),
];

/// Looks a force up by its short code (exact, upper case).
pub fn force(code: &str) -> Option<&'static Force> {
    // Every ingested event looks its force up: by a map built once, not a scan of the table.
    static BY_CODE: std::sync::LazyLock<std::collections::HashMap<&str, &Force>> =
        std::sync::LazyLock::new(|| FORCES.iter().map(|f| (f.code, f)).collect());
    BY_CODE.get(code).copied()
}

/// One Home Office Counting Rules classification.
#[derive(Debug, PartialEq, Eq)]
pub struct OffenceClass {
    pub code: &'static str,
    pub description: &'static str,
    pub sexual: bool,
    /// A rape classification.
    pub rape: bool,
    /// The classification itself says the victim was a child (under 13 or under 16), or the
    /// offence is one against children by definition.
    pub child_victim: bool,
}

const fn sx(code: &'static str, description: &'static str, rape: bool, child: bool) -> OffenceClass {
    OffenceClass { code, description, sexual: true, rape, child_victim: child }
}
const fn nonsexual(code: &'static str, description: &'static str) -> OffenceClass {
    OffenceClass { code, description, sexual: false, rape: false, child_victim: false }
}

/// Home Office Counting Rules for Recorded Crime: the sexual offence classifications (the
/// "Sexual offences" section, with the rape classifications by age and sex of victim, sexual
/// activity with a child, child sexual exploitation and grooming), and a few other common
/// notifiable offences so that ordinary cases can be recorded too.
pub static OFFENCES: &[OffenceClass] = &[
    sx("17A", "Sexual assault on a male aged 13 and over", false, false),
    sx("17B", "Sexual assault on a male child under 13", false, true),
    sx("19C", "Rape of a female aged 16 and over", true, false),
    sx("19D", "Rape of a female child under 16", true, true),
    sx("19E", "Rape of a female child under 13", true, true),
    sx("19F", "Rape of a male aged 16 and over", true, false),
    sx("19G", "Rape of a male child under 16", true, true),
    sx("19H", "Rape of a male child under 13", true, true),
    sx("20A", "Sexual assault on a female aged 13 and over", false, false),
    sx("20B", "Sexual assault on a female child under 13", false, true),
    sx("21", "Sexual activity involving a child under 13", false, true),
    sx("22A", "Causing sexual activity without consent", false, false),
    sx("22B", "Sexual activity involving a child under 16", false, true),
    sx("23", "Incest or familial sexual offences", false, true),
    sx("70", "Sexual activity etc. with a person with a mental disorder", false, false),
    sx("71", "Abuse of children through sexual exploitation", false, true),
    sx("73", "Abuse of position of trust of a sexual nature", false, true),
    sx("88A", "Sexual grooming", false, true),
    sx("88E", "Exposure and voyeurism", false, false),
    nonsexual("8N", "Assault with injury"),
    nonsexual("105A", "Assault without injury"),
    nonsexual("28E", "Burglary - residential"),
    nonsexual("45", "Theft from the person"),
    nonsexual("92A", "Trafficking in controlled drugs"),
];

/// Looks an offence classification up by its code (exact, upper case).
pub fn offence(code: &str) -> Option<&'static OffenceClass> {
    static BY_CODE: std::sync::LazyLock<std::collections::HashMap<&str, &OffenceClass>> =
        std::sync::LazyLock::new(|| OFFENCES.iter().map(|o| (o.code, o)).collect());
    BY_CODE.get(code).copied()
}

/// The 19 self-defined ethnic groups of the 2021 Census of England and Wales (ONS ethnic group
/// classification, "Ethnic group (20 categories)" without "does not apply"), in ONS's numbering,
/// with their high-level group.
pub static CENSUS_2021_ETHNIC_GROUPS: &[(u8, &str, &str)] = &[
    (1, "Asian, Asian British or Asian Welsh", "Bangladeshi"),
    (2, "Asian, Asian British or Asian Welsh", "Chinese"),
    (3, "Asian, Asian British or Asian Welsh", "Indian"),
    (4, "Asian, Asian British or Asian Welsh", "Pakistani"),
    (5, "Asian, Asian British or Asian Welsh", "Other Asian"),
    (6, "Black, Black British, Black Welsh, Caribbean or African", "African"),
    (7, "Black, Black British, Black Welsh, Caribbean or African", "Caribbean"),
    (8, "Black, Black British, Black Welsh, Caribbean or African", "Other Black"),
    (9, "Mixed or Multiple ethnic groups", "White and Asian"),
    (10, "Mixed or Multiple ethnic groups", "White and Black African"),
    (11, "Mixed or Multiple ethnic groups", "White and Black Caribbean"),
    (12, "Mixed or Multiple ethnic groups", "Other Mixed or Multiple ethnic groups"),
    (13, "White", "English, Welsh, Scottish, Northern Irish or British"),
    (14, "White", "Irish"),
    (15, "White", "Gypsy or Irish Traveller"),
    (16, "White", "Roma"),
    (17, "White", "Other White"),
    (18, "Other ethnic group", "Arab"),
    (19, "Other ethnic group", "Any other ethnic group"),
];

/// The officer-observed ethnicity codes of the Police National Computer ("IC codes").
pub static IC_CODES: &[(u8, &str, &str)] = &[
    (1, "IC1", "White - North European"),
    (2, "IC2", "White - South European"),
    (3, "IC3", "Black"),
    (4, "IC4", "Asian"),
    (5, "IC5", "Chinese, Japanese or other South East Asian"),
    (6, "IC6", "Arab or North African"),
    (9, "IC0", "Not known"),
];

/// ISO 3166-1 alpha-2 country codes (officially assigned), plus `XK` (Kosovo), which the UK
/// Home Office uses.
pub const ISO_COUNTRIES: &str =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK";

/// Whether `code` is an ISO 3166-1 alpha-2 country code (exact, upper case).
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && ISO_COUNTRIES.as_bytes().chunks(3).any(|c| &c[..2] == code.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_three_territorial_forces_with_unique_codes() {
        let n = FORCES.iter().filter(|f| f.kind == ForceKind::TerritorialEnglandWales).count();
        assert_eq!(n, 43);
        let mut codes: Vec<_> = FORCES.iter().map(|f| f.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), FORCES.len());
    }

    #[test]
    fn nineteen_census_groups_and_seven_ic_codes() {
        assert_eq!(CENSUS_2021_ETHNIC_GROUPS.len(), 19);
        assert_eq!(IC_CODES.len(), 7);
    }

    #[test]
    fn iso_list_has_249_official_codes_plus_kosovo() {
        let codes: Vec<_> = ISO_COUNTRIES.split(' ').collect();
        assert_eq!(codes.len(), 250);
        assert!(codes.iter().all(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase())));
        assert!(is_country("GB") && is_country("PK") && !is_country("UK") && !is_country("gb"));
    }

    #[test]
    fn offence_codes_unique_and_rape_codes_sexual() {
        let mut codes: Vec<_> = OFFENCES.iter().map(|o| o.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), OFFENCES.len());
        assert!(OFFENCES.iter().filter(|o| o.rape).all(|o| o.sexual));
        assert_eq!(OFFENCES.iter().filter(|o| o.rape).count(), 6);
    }
}
