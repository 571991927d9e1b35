//! Where forces are: approximate centre, relative size, and a few towns with their postcode areas,
//! so that synthetic addresses and places look right for the force that records them. Postcode
//! districts and sectors are drawn at random, so an address is never a real household's.

use beaconport_domain::reference::{self, Force, ForceKind};
use beaconport_domain::Address;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::names::STREETS;

/// Geography of one force.
#[derive(Debug)]
pub struct ForceGeo {
    pub code: &'static str,
    /// Approximate centre (WGS84).
    pub lat: f64,
    pub lon: f64,
    /// Relative size (population, hundreds of thousands), to share cases out.
    pub weight: u32,
    /// How far its population mix leans to the most diverse metropolitan areas (0 to 10).
    pub diversity: u8,
    /// Towns or boroughs and their postcode areas.
    pub towns: &'static [(&'static str, &'static str)],
}

const fn g(
    code: &'static str,
    lat: f64,
    lon: f64,
    weight: u32,
    diversity: u8,
    towns: &'static [(&'static str, &'static str)],
) -> ForceGeo {
    ForceGeo { code, lat, lon, weight, diversity, towns }
}

/// Every force of [`reference::FORCES`], in the order a scenario takes them: the big metropolitan
/// forces first, then their neighbours and the rest, so that a scenario of `n` forces is a
/// plausible national spread with neighbouring forces in it.
#[rustfmt::skip]
pub static GEO: &[ForceGeo] = &[
    g("MPS", 51.51, -0.12, 88, 10, &[
        ("Tower Hamlets", "E"), ("Newham", "E"), ("Hackney", "E"), ("Croydon", "CR"), ("Brent", "NW"),
        ("Ealing", "W"), ("Southwark", "SE"), ("Lambeth", "SW"), ("Enfield", "EN"), ("Haringey", "N"),
        ("Barking", "IG"), ("Harrow", "HA"), ("Hounslow", "TW"), ("Lewisham", "SE"), ("Bromley", "BR"),
        ("Romford", "RM"), ("Sutton", "SM"), ("Uxbridge", "UB"), ("Kingston upon Thames", "KT"),
    ]),
    g("GMP", 53.48, -2.24, 29, 6, &[
        ("Manchester", "M"), ("Oldham", "OL"), ("Rochdale", "OL"), ("Bolton", "BL"), ("Wigan", "WN"),
        ("Stockport", "SK"), ("Salford", "M"), ("Bury", "BL"), ("Tameside", "OL"), ("Trafford", "M"),
    ]),
    g("WMP", 52.48, -1.90, 29, 8, &[
        ("Birmingham", "B"), ("Wolverhampton", "WV"), ("Coventry", "CV"), ("Walsall", "WS"), ("Dudley", "DY"),
        ("West Bromwich", "B"), ("Solihull", "B"), ("Sutton Coldfield", "B"),
    ]),
    g("WYP", 53.80, -1.60, 23, 6, &[
        ("Leeds", "LS"), ("Bradford", "BD"), ("Huddersfield", "HD"), ("Wakefield", "WF"), ("Halifax", "HX"),
        ("Dewsbury", "WF"), ("Keighley", "BD"), ("Batley", "WF"),
    ]),
    g("SYP", 53.45, -1.35, 14, 3, &[("Sheffield", "S"), ("Rotherham", "S"), ("Doncaster", "DN"), ("Barnsley", "S")]),
    g("MER", 53.41, -2.98, 14, 2, &[
        ("Liverpool", "L"), ("Birkenhead", "CH"), ("St Helens", "WA"), ("Southport", "PR"), ("Bootle", "L"),
        ("Wallasey", "CH"),
    ]),
    g("LAN", 53.80, -2.60, 15, 4, &[
        ("Preston", "PR"), ("Blackburn", "BB"), ("Blackpool", "FY"), ("Burnley", "BB"), ("Lancaster", "LA"),
        ("Accrington", "BB"), ("Nelson", "BB"),
    ]),
    g("NTB", 55.00, -1.60, 15, 2, &[
        ("Newcastle upon Tyne", "NE"), ("Sunderland", "SR"), ("Gateshead", "NE"), ("South Shields", "NE"),
        ("Blyth", "NE"), ("Ashington", "NE"),
    ]),
    g("TVP", 51.60, -1.00, 24, 4, &[
        ("Reading", "RG"), ("Oxford", "OX"), ("Slough", "SL"), ("Milton Keynes", "MK"), ("High Wycombe", "HP"),
        ("Aylesbury", "HP"), ("Banbury", "OX"),
    ]),
    g("ASP", 51.38, -2.72, 17, 3, &[
        ("Bristol", "BS"), ("Bath", "BA"), ("Weston-super-Mare", "BS"), ("Taunton", "TA"), ("Yeovil", "BA"),
    ]),
    g("HAM", 51.00, -1.30, 20, 2, &[
        ("Southampton", "SO"), ("Portsmouth", "PO"), ("Basingstoke", "RG"), ("Winchester", "SO"),
        ("Newport", "PO"), ("Aldershot", "GU"),
    ]),
    g("KEN", 51.20, 0.70, 19, 2, &[
        ("Maidstone", "ME"), ("Canterbury", "CT"), ("Chatham", "ME"), ("Dartford", "DA"), ("Margate", "CT"),
        ("Ashford", "TN"), ("Folkestone", "CT"), ("Gravesend", "DA"),
    ]),
    g("ESX", 51.75, 0.55, 19, 2, &[
        ("Chelmsford", "CM"), ("Colchester", "CO"), ("Southend-on-Sea", "SS"), ("Basildon", "SS"),
        ("Harlow", "CM"), ("Clacton-on-Sea", "CO"),
    ]),
    g("LEI", 52.65, -1.10, 11, 7, &[
        ("Leicester", "LE"), ("Loughborough", "LE"), ("Hinckley", "LE"), ("Melton Mowbray", "LE"), ("Oakham", "LE"),
    ]),
    g("NOT", 53.00, -1.10, 12, 4, &[("Nottingham", "NG"), ("Mansfield", "NG"), ("Worksop", "S"), ("Newark", "NG")]),
    g("DER", 53.00, -1.60, 11, 3, &[
        ("Derby", "DE"), ("Chesterfield", "S"), ("Ilkeston", "DE"), ("Buxton", "SK"), ("Swadlincote", "DE"),
    ]),
    g("STA", 52.85, -2.05, 11, 2, &[
        ("Stoke-on-Trent", "ST"), ("Stafford", "ST"), ("Burton upon Trent", "DE"), ("Tamworth", "B"),
        ("Cannock", "WS"), ("Newcastle-under-Lyme", "ST"),
    ]),
    g("WMC", 52.40, -2.50, 13, 2, &[
        ("Worcester", "WR"), ("Telford", "TF"), ("Shrewsbury", "SY"), ("Hereford", "HR"), ("Redditch", "B"),
        ("Kidderminster", "DY"),
    ]),
    g("CHE", 53.18, -2.55, 11, 1, &[
        ("Chester", "CH"), ("Warrington", "WA"), ("Crewe", "CW"), ("Macclesfield", "SK"), ("Widnes", "WA"),
        ("Ellesmere Port", "CH"),
    ]),
    g("HUM", 53.70, -0.50, 9, 1, &[("Hull", "HU"), ("Grimsby", "DN"), ("Scunthorpe", "DN"), ("Bridlington", "YO")]),
    g("CLE", 54.57, -1.23, 6, 2, &[
        ("Middlesbrough", "TS"), ("Hartlepool", "TS"), ("Stockton-on-Tees", "TS"), ("Redcar", "TS"),
    ]),
    g("BDP", 51.98, -0.45, 7, 7, &[("Luton", "LU"), ("Bedford", "MK"), ("Dunstable", "LU"), ("Leighton Buzzard", "LU")]),
    g("SUS", 50.92, -0.20, 17, 2, &[
        ("Brighton", "BN"), ("Crawley", "RH"), ("Hastings", "TN"), ("Eastbourne", "BN"), ("Worthing", "BN"),
        ("Chichester", "PO"),
    ]),
    g("DUR", 54.70, -1.70, 6, 1, &[
        ("Durham", "DH"), ("Darlington", "DL"), ("Chester-le-Street", "DH"), ("Peterlee", "SR"),
        ("Bishop Auckland", "DL"),
    ]),
    g("NYP", 54.10, -1.40, 8, 1, &[
        ("York", "YO"), ("Scarborough", "YO"), ("Harrogate", "HG"), ("Selby", "YO"), ("Northallerton", "DL"),
    ]),
    g("SWP", 51.55, -3.40, 13, 2, &[
        ("Cardiff", "CF"), ("Swansea", "SA"), ("Merthyr Tydfil", "CF"), ("Bridgend", "CF"), ("Neath", "SA"),
        ("Pontypridd", "CF"),
    ]),
    g("HER", 51.80, -0.20, 12, 3, &[
        ("Watford", "WD"), ("Stevenage", "SG"), ("St Albans", "AL"), ("Hemel Hempstead", "HP"), ("Hatfield", "AL"),
    ]),
    g("CAM", 52.35, 0.05, 9, 3, &[
        ("Cambridge", "CB"), ("Peterborough", "PE"), ("Huntingdon", "PE"), ("Wisbech", "PE"), ("Ely", "CB"),
    ]),
    g("NTH", 52.25, -0.90, 8, 2, &[
        ("Northampton", "NN"), ("Kettering", "NN"), ("Corby", "NN"), ("Wellingborough", "NN"),
    ]),
    g("WAR", 52.30, -1.55, 6, 2, &[
        ("Nuneaton", "CV"), ("Rugby", "CV"), ("Warwick", "CV"), ("Leamington Spa", "CV"),
        ("Stratford-upon-Avon", "CV"),
    ]),
    g("LIN", 53.10, -0.40, 8, 1, &[("Lincoln", "LN"), ("Boston", "PE"), ("Grantham", "NG"), ("Skegness", "PE"), ("Spalding", "PE")]),
    g("NOR", 52.65, 1.00, 9, 1, &[("Norwich", "NR"), ("Great Yarmouth", "NR"), ("King's Lynn", "PE"), ("Thetford", "IP")]),
    g("SUF", 52.20, 1.00, 8, 1, &[("Ipswich", "IP"), ("Lowestoft", "NR"), ("Bury St Edmunds", "IP"), ("Felixstowe", "IP")]),
    g("SUR", 51.25, -0.40, 12, 2, &[("Guildford", "GU"), ("Woking", "GU"), ("Redhill", "RH"), ("Epsom", "KT"), ("Staines", "TW")]),
    g("GLO", 51.85, -2.20, 6, 1, &[("Gloucester", "GL"), ("Cheltenham", "GL"), ("Stroud", "GL"), ("Tewkesbury", "GL")]),
    g("WIL", 51.35, -1.95, 7, 1, &[("Swindon", "SN"), ("Salisbury", "SP"), ("Chippenham", "SN"), ("Trowbridge", "BA")]),
    g("DCP", 50.55, -4.20, 18, 0, &[
        ("Plymouth", "PL"), ("Exeter", "EX"), ("Torquay", "TQ"), ("Truro", "TR"), ("Barnstaple", "EX"),
        ("Newquay", "TR"),
    ]),
    g("DOR", 50.75, -2.30, 8, 1, &[("Bournemouth", "BH"), ("Poole", "BH"), ("Weymouth", "DT"), ("Dorchester", "DT")]),
    g("CUM", 54.60, -3.00, 5, 0, &[
        ("Carlisle", "CA"), ("Barrow-in-Furness", "LA"), ("Workington", "CA"), ("Kendal", "LA"), ("Whitehaven", "CA"),
    ]),
    g("GWE", 51.65, -3.00, 6, 1, &[("Newport", "NP"), ("Cwmbran", "NP"), ("Pontypool", "NP"), ("Ebbw Vale", "NP")]),
    g("DPP", 52.20, -3.90, 5, 0, &[
        ("Carmarthen", "SA"), ("Aberystwyth", "SY"), ("Llanelli", "SA"), ("Haverfordwest", "SA"), ("Newtown", "SY"),
    ]),
    g("NWP", 53.10, -3.80, 7, 0, &[("Wrexham", "LL"), ("Bangor", "LL"), ("Rhyl", "LL"), ("Llandudno", "LL"), ("Colwyn Bay", "LL")]),
    g("COL", 51.515, -0.09, 1, 5, &[("City of London", "EC")]),
    g("BTP", 51.53, -0.13, 2, 5, &[("London", "N"), ("Birmingham", "B"), ("Manchester", "M"), ("Leeds", "LS")]),
    g("PSC", 56.00, -3.80, 54, 2, &[("Glasgow", "G"), ("Edinburgh", "EH"), ("Dundee", "DD"), ("Aberdeen", "AB"), ("Paisley", "PA")]),
    g("PSNI", 54.60, -6.20, 19, 1, &[("Belfast", "BT"), ("Derry", "BT"), ("Lisburn", "BT"), ("Newry", "BT")]),
    g("NCA", 51.50, -0.10, 1, 5, &[("London", "SE")]),
];

/// The geography of a force code (every code of [`reference::FORCES`] has one).
pub fn geo(code: &str) -> &'static ForceGeo {
    GEO.iter().find(|g| g.code == code).expect("every force has a geography")
}

/// The first `n` territorial forces of the scenario order (at least one, at most all 43).
pub fn select_forces(n: usize) -> Vec<(&'static Force, &'static ForceGeo)> {
    GEO.iter()
        .map(|g| (reference::force(g.code).expect("geography codes are reference codes"), g))
        .filter(|(f, _)| f.kind == ForceKind::TerritorialEnglandWales)
        .take(n.max(1))
        .collect()
}

/// Rough distance in kilometres between two forces' centres.
pub fn distance_km(a: &ForceGeo, b: &ForceGeo) -> f64 {
    let dlat = (a.lat - b.lat) * 111.0;
    let dlon = (a.lon - b.lon) * 111.0 * ((a.lat + b.lat) / 2.0).to_radians().cos();
    (dlat * dlat + dlon * dlon).sqrt()
}

const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A random postcode in a postcode area (`OL11 4QT`).
pub fn postcode<R: Rng>(rng: &mut R, area: &str) -> String {
    let max_district = if area.len() == 1 { 20 } else { 29 };
    let district = rng.gen_range(1..=max_district);
    let sector = rng.gen_range(1..=9);
    let a = INWARD_LETTERS[rng.gen_range(0..INWARD_LETTERS.len())] as char;
    let b = INWARD_LETTERS[rng.gen_range(0..INWARD_LETTERS.len())] as char;
    format!("{area}{district} {sector}{a}{b}")
}

/// A random street address in a town of the force.
pub fn address<R: Rng>(rng: &mut R, geo: &ForceGeo) -> Address {
    let (town, area) = *geo.towns.choose(rng).expect("every force has towns");
    let street = STREETS.choose(rng).expect("streets");
    let line2 = if rng.gen_bool(0.15) { format!("Flat {}", rng.gen_range(1..=12)) } else { String::new() };
    Address {
        line1: format!("{} {street}", rng.gen_range(1..=240)),
        line2,
        town: town.to_string(),
        postcode: postcode(rng, area),
        country: String::new(),
    }
}

/// A point near the force's centre.
pub fn coordinates<R: Rng>(rng: &mut R, geo: &ForceGeo) -> (f64, f64) {
    let lat = geo.lat + rng.gen_range(-0.12..0.12);
    let lon = geo.lon + rng.gen_range(-0.18..0.18);
    // Rounded to about ten metres, as a force system would record it.
    ((lat * 10_000.0).round() / 10_000.0, (lon * 10_000.0).round() / 10_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use beaconport_domain::rules::check_uk_postcode;
    use rand::SeedableRng;

    #[test]
    fn every_force_has_one_geography_and_valid_postcodes() {
        assert_eq!(GEO.len(), reference::FORCES.len());
        for f in reference::FORCES {
            let g = geo(f.code);
            assert!(!g.towns.is_empty());
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for g in GEO {
            for (_, area) in g.towns {
                for _ in 0..50 {
                    let p = postcode(&mut rng, area);
                    assert!(check_uk_postcode(&p).is_ok(), "{p}");
                }
            }
        }
    }

    #[test]
    fn metropolitan_forces_come_first() {
        let first: Vec<_> = select_forces(3).iter().map(|(f, _)| f.code).collect();
        assert_eq!(first, ["MPS", "GMP", "WMP"]);
        assert_eq!(select_forces(0).len(), 1);
        assert_eq!(select_forces(1000).len(), 43);
    }
}
