//! Normal forms computed once per record: folded names, phonetic codes, name groups (nicknames and
//! transliteration variants), normalised identifiers and addresses.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use crate::event::IdentifierKind;

/// A fast deterministic hasher (Fx-style multiply-rotate) for maps on the hot path: keys are
/// already hashes (blocking keys, content hashes) or short normalised strings.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Fx {
    #[inline]
    fn add(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(last) ^ (rest.len() as u64) << 56);
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with the [`Fx`] hasher.
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Folds to lowercase ASCII letters, digits and single spaces: diacritics are removed
/// (`Zoltán` → `zoltan`), other scripts transliterated by `deunicode`, punctuation dropped
/// (`O'Brien` → `obrien`) and hyphens turned into spaces (`Smith-Jones` → `smith jones`).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let push = |c: char, out: &mut String| {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if (c == ' ' || c == '-' || c == '_' || c == ',' || c == '.' || c == '/') && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    if s.is_ascii() {
        for c in s.chars() {
            push(c, &mut out);
        }
    } else {
        for c in deunicode::deunicode(s).chars() {
            push(c, &mut out);
        }
    }
    let t = out.trim();
    if t.len() == out.len() {
        out
    } else {
        t.to_string()
    }
}

/// A phonetic code packed into a `u64` (up to eight code letters): a consonant skeleton in the
/// manner of Soundex, kept finer so that it separates more names. Rules, in order: common
/// digraphs are simplified (`ph`→f, `ck`→k, `kh`→k, `gh`→g, `dh`→d, `th`→t, `sch`/`sh`→s, `ch`→k,
/// `x`→ks, `q`→k, `c`→s before e/i/y else k, `z`→s, `v`/`w`→f, `d`→t, `j`→y), doubled letters
/// collapse, the first letter is kept (a vowel as `a`), later vowels and `y` are dropped, and `h`
/// is kept only before a vowel. So Mohammed, Muhammad, Mohamed and Muhammed share a code
/// (`mhmt`), as do Yusuf, Yousef and Youssef (`ysf`), Aleksander and Alexander, Catherine and
/// Katherine; Mahmoud (`mmt`) does not.
pub fn phonetic(folded: &str) -> u64 {
    let b: Vec<u8> = folded.bytes().filter(u8::is_ascii_lowercase).collect();
    if b.is_empty() {
        return 0;
    }
    let is_vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    // Simplify into a letter sequence.
    let mut s: Vec<u8> = Vec::with_capacity(b.len() + 2);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        let (out, skip): (&[u8], usize) = match (c, next) {
            (b'p', b'h') => (b"f", 2),
            (b'c', b'k') => (b"k", 2),
            (b'k', b'h') => (b"k", 2),
            (b'g', b'h') => (b"g", 2),
            (b'd', b'h') => (b"t", 2),
            (b't', b'h') => (b"t", 2),
            (b's', b'c') if b.get(i + 2) == Some(&b'h') => (b"s", 3),
            (b's', b'h') => (b"s", 2),
            (b'c', b'h') => (b"k", 2),
            (b'c', b'e' | b'i' | b'y') => (b"s", 1),
            (b'c', _) => (b"k", 1),
            (b'x', _) => (b"ks", 1),
            (b'q', _) => (b"k", 1),
            (b'z', _) => (b"s", 1),
            (b'v' | b'w', _) => (b"f", 1),
            (b'd', _) => (b"t", 1),
            (b'j', _) => (b"y", 1),
            _ => (std::slice::from_ref(&b[i]), 1),
        };
        s.extend_from_slice(out);
        i += skip;
    }
    s.dedup();
    let mut code: u64 = 0;
    let mut n = 0;
    let mut last = 0u8;
    for (k, &c) in s.iter().enumerate() {
        let keep = if k == 0 {
            Some(if is_vowel(c) { b'a' } else { c })
        } else if is_vowel(c) || c == b'y' {
            None
        } else if c == b'h' {
            s.get(k + 1).filter(|n| is_vowel(**n)).map(|_| c)
        } else {
            Some(c)
        };
        if let Some(c) = keep {
            if c == last && k > 0 {
                continue;
            }
            last = c;
            code = (code << 8) | c as u64;
            n += 1;
            if n == 8 {
                break;
            }
        }
    }
    code
}

/// Nicknames and their formal names (English usage); a nickname may belong to several.
const NICKNAMES: &[(&str, &[&str])] = &[
    ("robert", &["bob", "bobby", "rob", "robbie", "robby", "bert", "bertie"]),
    ("william", &["bill", "billy", "will", "willie", "willy", "liam"]),
    ("elizabeth", &["liz", "lizzie", "lizzy", "beth", "betty", "bess", "bessie", "eliza", "libby", "lisa", "elsie"]),
    ("james", &["jim", "jimmy", "jimmie", "jamie", "jem"]),
    ("anthony", &["tony", "ant", "anton"]),
    ("antony", &["tony", "ant"]),
    ("michael", &["mick", "mickey", "micky", "mike", "mikey", "mikie", "mich"]),
    ("richard", &["dick", "rick", "ricky", "rich", "richie", "ritchie"]),
    ("edward", &["ed", "eddie", "eddy", "ted", "teddy", "ned"]),
    ("edwin", &["ed", "eddie"]),
    ("edmund", &["ed", "eddie", "ted", "ned"]),
    ("thomas", &["tom", "tommy", "thom"]),
    ("joseph", &["joe", "joey", "jo"]),
    ("john", &["jack", "johnny", "jon", "jonny"]),
    ("jonathan", &["jon", "jonny", "johnny", "nathan"]),
    ("daniel", &["dan", "danny"]),
    ("david", &["dave", "davey", "davy", "dai"]),
    ("christopher", &["chris", "kit", "topher", "chrissy"]),
    ("christian", &["chris"]),
    ("christine", &["chris", "chrissie", "tina"]),
    ("christina", &["chris", "chrissie", "tina"]),
    ("matthew", &["matt", "matty"]),
    ("andrew", &["andy", "drew"]),
    ("alexander", &["alex", "al", "sandy", "xander", "lex", "sasha"]),
    ("alexandra", &["alex", "sandra", "sandy", "lexie", "sasha"]),
    ("nicholas", &["nick", "nicky", "nico"]),
    ("nicola", &["nicky", "nikki"]),
    ("benjamin", &["ben", "benny", "benji"]),
    ("samuel", &["sam", "sammy"]),
    ("samantha", &["sam", "sammy"]),
    ("stephen", &["steve", "stevie"]),
    ("steven", &["steve", "stevie"]),
    ("peter", &["pete"]),
    ("patrick", &["pat", "paddy"]),
    ("patricia", &["pat", "patty", "tricia", "trish"]),
    ("charles", &["charlie", "chas", "chuck", "chaz"]),
    ("charlotte", &["charlie", "lottie", "lotte"]),
    ("henry", &["harry", "hal", "hank"]),
    ("harold", &["harry", "hal"]),
    ("frederick", &["fred", "freddie", "freddy"]),
    ("francis", &["frank", "frankie", "fran"]),
    ("frances", &["fran", "frankie", "fanny"]),
    ("gerald", &["gerry", "jerry"]),
    ("geoffrey", &["geoff", "jeff"]),
    ("jeffrey", &["jeff"]),
    ("gregory", &["greg"]),
    ("kenneth", &["ken", "kenny"]),
    ("lawrence", &["larry", "laurie"]),
    ("leonard", &["len", "lenny", "leo"]),
    ("ronald", &["ron", "ronnie"]),
    ("donald", &["don", "donnie"]),
    ("douglas", &["doug"]),
    ("raymond", &["ray"]),
    ("terence", &["terry", "tel"]),
    ("timothy", &["tim", "timmy"]),
    ("vincent", &["vince", "vinny"]),
    ("walter", &["walt", "wally"]),
    ("albert", &["al", "bert", "bertie"]),
    ("alan", &["al"]),
    ("alfred", &["alf", "alfie", "fred"]),
    ("arthur", &["art", "artie"]),
    ("bernard", &["bernie"]),
    ("derek", &["del"]),
    ("gareth", &["gaz", "gary"]),
    ("gary", &["gaz"]),
    ("darren", &["daz", "dazza"]),
    ("barry", &["baz"]),
    ("sharon", &["shaz"]),
    ("kevin", &["kev"]),
    ("nathaniel", &["nat", "nate"]),
    ("zachary", &["zach", "zack", "zak"]),
    ("joshua", &["josh"]),
    ("jacob", &["jake"]),
    ("oliver", &["ollie", "olly"]),
    ("philip", &["phil", "pip"]),
    ("phillip", &["phil"]),
    ("reginald", &["reg", "reggie"]),
    ("ruth", &["ruthie"]),
    ("margaret", &["maggie", "meg", "peggy", "marge", "madge", "greta", "rita"]),
    ("catherine", &["kate", "katie", "cath", "cathy", "kath", "kathy", "kay", "kitty"]),
    ("katherine", &["kate", "katie", "kath", "kathy", "kay", "kitty"]),
    ("kathleen", &["kath", "kathy", "kate"]),
    ("rebecca", &["becky", "becca", "bex"]),
    ("jennifer", &["jen", "jenny", "jenni"]),
    ("deborah", &["debbie", "deb", "debs"]),
    ("susan", &["sue", "susie", "suzy"]),
    ("suzanne", &["sue", "suzy"]),
    ("victoria", &["vicky", "vikki", "tori"]),
    ("jessica", &["jess", "jessie"]),
    ("abigail", &["abby", "abi", "gail"]),
    ("amanda", &["mandy"]),
    ("barbara", &["barb", "babs"]),
    ("dorothy", &["dot", "dotty", "dolly"]),
    ("eleanor", &["ellie", "nell", "nora"]),
    ("helen", &["nell", "nellie"]),
    ("jacqueline", &["jackie", "jacqui"]),
    ("josephine", &["jo", "josie"]),
    ("joanne", &["jo"]),
    ("judith", &["judy", "jude"]),
    ("louise", &["lou", "lulu"]),
    ("mary", &["molly", "polly", "mae"]),
    ("teresa", &["terri", "tess", "tessa"]),
    ("theresa", &["terri", "tess", "tessa"]),
    ("valerie", &["val"]),
    ("wendy", &["wen"]),
    ("zoe", &["zo"]),
    ("emily", &["em", "emmy", "millie"]),
    ("emma", &["em", "emmy"]),
    ("amelia", &["millie", "amy"]),
    ("isabel", &["izzy", "bella", "belle"]),
    ("isabella", &["izzy", "bella", "belle"]),
    ("sophia", &["sophie"]),
    ("ann", &["annie", "nan", "nancy"]),
    ("anne", &["annie", "nan", "nancy"]),
    ("angela", &["angie"]),
    ("caroline", &["carrie", "caz"]),
    ("gabriel", &["gabe"]),
    ("gabrielle", &["gabby", "gabi"]),
    ("maximilian", &["max"]),
    ("maxwell", &["max"]),
    ("mohammed", &["mo", "moe", "hamid"]),
    ("ibrahim", &["ibby"]),
    ("abdullah", &["abdul"]),
    ("aleksandr", &["sasha", "sascha", "alex"]),
    ("vladimir", &["vova", "volodya"]),
    ("dmitri", &["dima"]),
    ("ivan", &["vanya"]),
    ("mikhail", &["misha"]),
    ("yekaterina", &["katya"]),
    ("tatiana", &["tanya"]),
    ("natalia", &["natasha", "nat"]),
    ("natalie", &["nat"]),
    ("giuseppe", &["beppe", "pino"]),
    ("francesco", &["franco", "cesco"]),
    ("jose", &["pepe"]),
    ("francisco", &["paco", "pancho"]),
    ("manuel", &["manny", "manolo"]),
    ("krzysztof", &["krzys"]),
    ("wojciech", &["wojtek"]),
    ("lukasz", &["luke"]),
    ("luke", &["lukas"]),
    // Polish, Ukrainian and Russian diminutives.
    ("jakub", &["kuba", "kubus"]),
    ("katarzyna", &["kasia", "kasha", "kaska"]),
    ("magdalena", &["magda", "madzia"]),
    ("agnieszka", &["aga", "agusia"]),
    ("malgorzata", &["gosia", "malgosia"]),
    ("aleksandra", &["ola", "ala"]),
    ("joanna", &["asia", "joasia"]),
    ("barbara", &["basia", "babs"]),
    ("elzbieta", &["ela"]),
    ("tomasz", &["tomek"]),
    ("piotr", &["piotrek"]),
    ("grzegorz", &["grzes"]),
    ("stanislaw", &["stas", "stan"]),
    ("mariya", &["masha"]),
    ("maria", &["masha", "marysia"]),
    ("anastasia", &["nastya"]),
    ("yevgeny", &["zhenya"]),
    ("mykola", &["kolya"]),
    ("nikolai", &["kolya"]),
];

/// Spelling and transliteration variants of the same name (each group one name).
const VARIANTS: &[&[&str]] = &[
    &["mohammed", "muhammad", "mohamed", "mohammad", "muhammed", "mohamad", "mohd", "muhamad", "mehmet", "mahomet"],
    &["ahmed", "ahmad", "ahmet", "achmed"],
    &["abdul", "abdal", "abdel", "abdoul", "abd"],
    &["yusuf", "yousef", "youssef", "yousuf", "yusef", "josef", "joseph", "jusuf", "yosef"],
    &["ibrahim", "ebrahim", "abraham", "ibraheem"],
    &["hussain", "hussein", "husain", "hosein", "hossein", "husein"],
    &["hassan", "hasan", "hasen"],
    &["ali", "aly"],
    &["omar", "umar", "omer"],
    &["osman", "usman", "othman", "uthman"],
    &["suleiman", "sulaiman", "suleyman", "solomon"],
    &["mustafa", "mustapha", "moustafa"],
    &["khalid", "khaled"],
    &["tariq", "tarik", "tarek"],
    &["karim", "kareem"],
    &["rashid", "rasheed", "rachid"],
    &["fatima", "fatma", "fatimah"],
    &["aisha", "ayesha", "aysha", "aishah"],
    &["mariam", "maryam", "miriam", "myriam"],
    &["zainab", "zaynab", "zeynep"],
    &["aleksander", "alexander", "aleksandr", "alexandre", "alessandro", "alejandro", "sander"],
    &["aleksandra", "alexandra", "alessandra", "alejandra"],
    &["mikhail", "michael", "michal", "michel", "miguel", "michele", "mikael"],
    &["dmitri", "dmitry", "dimitri", "dmitrij", "dimitry"],
    &["sergei", "sergey", "serge", "sergiu", "sergio"],
    &["yuri", "yury", "iouri", "jurij", "juri"],
    &["andrei", "andrey", "andrzej", "andre", "andreas", "andrea"],
    &["nikolai", "nikolay", "nicolai", "nicholas", "nikola", "nicola", "mikolaj"],
    &["pyotr", "petr", "piotr", "peter", "pietro", "pedro", "pierre"],
    &["ivan", "iwan", "ioan", "evan"],
    &["yevgeny", "evgeny", "evgeni", "yevgeni", "eugene"],
    &["olga", "olha"],
    &["natalia", "natalya", "nataliya", "natalie"],
    &["yekaterina", "ekaterina", "katarzyna", "catherine", "katherine", "kathryn", "catharine", "katrina"],
    &["tatiana", "tatyana", "tatjana"],
    &["jozef", "josef", "joseph", "giuseppe", "jose"],
    &["jan", "jon", "john", "johann", "johan", "juan", "giovanni", "ioan", "ian", "sean", "shaun", "shawn"],
    &["stephen", "steven", "stefan", "stephan", "esteban", "stefano", "istvan"],
    &["zoltan"],
    &["laszlo", "ladislav", "wladyslaw", "vladislav"],
    &["wojciech"],
    &["krzysztof", "christopher", "kristof", "christoph", "cristobal"],
    &["pawel", "paul", "pavel", "paolo", "pablo", "pal"],
    &["tomasz", "thomas", "tomas", "tommaso", "tamas"],
    &["jakub", "jacob", "jakob", "giacomo", "yakov", "jacques"],
    &["mateusz", "matthew", "mateo", "matteo", "matthias", "mathieu"],
    &["marek", "mark", "marc", "marco", "marcus", "markus"],
    &["anna", "ann", "anne", "hannah", "ana", "anya"],
    &["sean", "shaun", "shawn", "shane"],
    &["niamh", "neve", "neave"],
    &["siobhan", "shivaun", "chevonne"],
    &["aoife", "eefa", "eva"],
    &["ciaran", "kieran", "kieron"],
    &["conor", "connor"],
    &["declan"],
    &["eoin", "owen", "eoghan"],
    &["padraig", "patrick", "padraic"],
    &["catherine", "katherine", "kathryn", "cathryn", "katharine", "catharine"],
    &["sara", "sarah", "zara"],
    &["hannah", "hanna"],
    &["leah", "lea", "leia"],
    &["rachel", "rachael", "raquel"],
    &["rebecca", "rebekah", "rebeca"],
    &["phillip", "philip", "filip", "felipe", "philippe"],
    &["geoffrey", "jeffrey", "jeffery", "geoff", "jeff"],
    &["jonathan", "jonathon", "johnathan"],
    &["nicholas", "nicolas", "nikolas"],
    &["lewis", "louis", "luis", "luiz", "ludwig"],
    &["isaac", "isaak", "itzhak", "ishaq"],
    &["david", "dawid", "davide", "daoud", "dawood", "dawud"],
    &["daniel", "danyal", "daniele"],
    &["joshua", "yehoshua"],
    &["smith", "smyth", "smithe"],
    &["mcdonald", "macdonald"],
    &["mckenzie", "mackenzie"],
    &["thompson", "thomson", "tomson"],
    &["johnson", "jonson", "johnston", "johnstone"],
    &["davies", "davis", "davys"],
    &["stephens", "stevens"],
    &["stephenson", "stevenson"],
    &["philips", "phillips"],
    &["matthews", "mathews"],
    &["reid", "reed", "read", "reade"],
    &["gray", "grey"],
    &["nguyen", "nguyn", "ngyuen"],
    &["kowalski", "kowalsky"],
    &["nowak", "novak"],
    &["wisniewski", "visnevski"],
    &["khan", "kahn", "khann"],
    &["chaudhry", "chaudhary", "choudhury", "chowdhury", "chaudhri", "choudhary"],
    &["qureshi", "quraishi", "kureshi"],
    &["rahman", "rehman", "rahmen"],
    &["begum", "begam"],
];

/// Name groups: every folded name to the ids of the groups it belongs to. Nickname groups are
/// numbered from 0, variant groups from [`VARIANT_BASE`].
struct Groups {
    of: FxMap<&'static str, Vec<u16>>,
    /// The phonetic code of every name of five letters or more in the tables → its groups: a
    /// spelling the tables lack (Oleksandr) takes the groups of a listed name that sounds alike
    /// (Aleksandr, Alexander), and so their nicknames (Sasha).
    by_code: FxMap<u64, Vec<u16>>,
}

/// Group ids at or above this are transliteration/spelling variant groups; below, nickname groups.
pub const VARIANT_BASE: u16 = 1 << 12;

fn groups() -> &'static Groups {
    static G: OnceLock<Groups> = OnceLock::new();
    G.get_or_init(|| {
        let mut of: FxMap<&'static str, Vec<u16>> = FxMap::default();
        for (i, (formal, nicks)) in NICKNAMES.iter().enumerate() {
            let g = i as u16;
            for n in std::iter::once(formal).chain(nicks.iter()) {
                let v = of.entry(n).or_default();
                if !v.contains(&g) {
                    v.push(g);
                }
            }
        }
        for (i, group) in VARIANTS.iter().enumerate() {
            let g = VARIANT_BASE + i as u16;
            for n in group.iter() {
                let v = of.entry(n).or_default();
                if !v.contains(&g) {
                    v.push(g);
                }
            }
        }
        for v in of.values_mut() {
            v.sort_unstable();
        }
        let mut by_code: FxMap<u64, Vec<u16>> = FxMap::default();
        for (n, g) in of.iter().filter(|(n, _)| n.len() >= 5) {
            let v = by_code.entry(phonetic(n)).or_default();
            v.extend(g.iter().copied());
        }
        for v in by_code.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        Groups { of, by_code }
    })
}

/// The name groups a folded name token (whose phonetic code is `code`) belongs to (sorted).
pub(crate) fn name_groups_coded(token: &str, code: u64) -> &'static [u16] {
    let g = groups();
    if let Some(v) = g.of.get(token) {
        return v.as_slice();
    }
    if token.len() < 5 {
        return &[];
    }
    g.by_code.get(&code).map_or(&[], |v| v.as_slice())
}

/// How two name tokens relate through the tables: `Some(true)` nickname, `Some(false)` variant.
pub fn group_relation(a: &[u16], b: &[u16]) -> Option<bool> {
    let mut nickname = false;
    let mut variant = false;
    for g in a {
        if b.contains(g) {
            if *g >= VARIANT_BASE {
                variant = true;
            } else {
                nickname = true;
            }
        }
    }
    // Variants of a name and nicknames of its variants (Mo for Muhammad) relate too: share a
    // variant group on one side and a nickname group on the other is not checked (it would need
    // the closure), which the phonetic code mostly covers.
    if variant {
        Some(false)
    } else if nickname {
        Some(true)
    } else {
        None
    }
}

/// Normalises an identifier's value so that formats agree: phones to national digits (`+44 7700
/// 900123` → `07700900123`), vehicles, passports, PNC and national ids to uppercase without spaces
/// or dashes (PNC ids also drop the century: `2004/0012345K` → `04/12345K`), e-mails and handles
/// lowercased (handles without a leading `@`).
pub fn identifier(kind: IdentifierKind, value: &str) -> String {
    match kind {
        IdentifierKind::Phone => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            let plus = value.trim_start().starts_with('+');
            if let Some(rest) = digits.strip_prefix("44").filter(|_| plus || digits.len() == 12) {
                format!("0{rest}")
            } else if let Some(rest) = digits.strip_prefix("0044") {
                format!("0{rest}")
            } else {
                digits
            }
        }
        IdentifierKind::Email => value.trim().to_lowercase(),
        IdentifierKind::SocialHandle => value.trim().trim_start_matches('@').to_lowercase(),
        IdentifierKind::PncId => {
            let v: String = value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
            match v.split_once('/') {
                Some((year, rest)) => {
                    let year = if year.len() == 4 { year.get(2..).unwrap_or(year) } else { year };
                    let digits = rest.trim_start_matches('0');
                    format!("{year}/{digits}")
                }
                None => v,
            }
        }
        IdentifierKind::Vehicle | IdentifierKind::Passport | IdentifierKind::NationalId => {
            value.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
        }
    }
}

/// Street words in one form, so that `Rd` and `Road` agree.
pub fn street(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    for (i, w) in folded.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(match w {
            "rd" => "road",
            "st" | "str" => "street",
            "ave" | "av" => "avenue",
            "ln" => "lane",
            "dr" => "drive",
            "cl" => "close",
            "cres" | "cr" => "crescent",
            "ct" => "court",
            "pl" => "place",
            "sq" => "square",
            "tce" | "terr" => "terrace",
            "gdns" => "gardens",
            "pde" => "parade",
            "hwy" => "highway",
            "cct" | "cir" => "circuit",
            "mt" => "mount",
            "flat" | "apt" | "unit" => "flat",
            w => w,
        });
    }
    out
}

/// Postcode: uppercase alphanumerics only.
pub fn postcode(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> u64 {
        phonetic(&fold(s))
    }

    #[test]
    fn folding() {
        assert_eq!(fold("Zoltán"), "zoltan");
        assert_eq!(fold(" O'Brien-Smith "), "obrien smith");
        assert_eq!(fold("MÜLLER"), "muller");
    }

    #[test]
    fn phonetic_groups_transliterations() {
        let m = code("Mohammed");
        for v in ["Muhammad", "Mohamed", "Mohammad", "Muhammed"] {
            assert_eq!(code(v), m, "{v}");
        }
        assert_ne!(code("Mahmoud"), m);
        assert_eq!(code("Yusuf"), code("Yousef"));
        assert_eq!(code("Yusuf"), code("Youssef"));
        assert_eq!(code("Aleksander"), code("Alexander"));
        assert_eq!(code("Catherine"), code("Katherine"));
        assert_eq!(code("Abdul"), code("Abdal"));
        assert_eq!(code("Smith"), code("Smyth"));
        assert_ne!(code("Smith"), code("Jones"));
    }

    #[test]
    fn identifiers_normalise() {
        use IdentifierKind::*;
        assert_eq!(identifier(Phone, "+44 7700 900123"), identifier(Phone, "07700-900-123"));
        assert_eq!(identifier(Vehicle, "ab12 cde"), "AB12CDE");
        assert_eq!(identifier(PncId, "2004/0012345K"), identifier(PncId, "04/12345K"));
        assert_eq!(identifier(Email, "A.B@Example.org"), "a.b@example.org");
        assert_eq!(identifier(NationalId, "ab 12-34 56 c"), "AB123456C");
    }
}
