//! Generic name lists: common given names and surnames by broad origin, spelling variants,
//! nicknames, street names and operation code words. Lists of common names only; no real
//! individual, and no combination taken from any real case.

use beaconport_domain::Sex;

/// A broad naming tradition, with the 2021 Census group and IC code people of it most often give
/// or are given. Used only to draw consistent synthetic names and ethnicities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    WhiteBritish,
    Irish,
    GypsyTraveller,
    Caribbean,
    MixedBritish,
    Pakistani,
    Bangladeshi,
    Indian,
    EasternEuropean,
    Roma,
    African,
    Somali,
    Arab,
    Kurdish,
    Chinese,
}

impl Origin {
    /// Share of the general population (per thousand, England and Wales, rounded), and the
    /// share in the most diverse metropolitan forces.
    pub const WEIGHTS: &'static [(Origin, u32, u32)] = &[
        (Origin::WhiteBritish, 740, 420),
        (Origin::Irish, 10, 20),
        (Origin::GypsyTraveller, 2, 1),
        (Origin::Caribbean, 11, 45),
        (Origin::MixedBritish, 30, 55),
        (Origin::Pakistani, 27, 60),
        (Origin::Bangladeshi, 11, 40),
        (Origin::Indian, 31, 70),
        (Origin::EasternEuropean, 60, 95),
        (Origin::Roma, 2, 3),
        (Origin::African, 20, 70),
        (Origin::Somali, 5, 20),
        (Origin::Arab, 6, 15),
        (Origin::Kurdish, 5, 10),
        (Origin::Chinese, 8, 20),
    ];

    /// The 2021 Census self-defined group most people of this origin choose.
    pub fn census_group(self) -> u8 {
        match self {
            Origin::WhiteBritish => 13,
            Origin::Irish => 14,
            Origin::GypsyTraveller => 15,
            Origin::Caribbean => 7,
            Origin::MixedBritish => 11,
            Origin::Pakistani => 4,
            Origin::Bangladeshi => 1,
            Origin::Indian => 3,
            Origin::EasternEuropean => 17,
            Origin::Roma => 16,
            Origin::African | Origin::Somali => 6,
            Origin::Arab => 18,
            Origin::Kurdish => 19,
            Origin::Chinese => 2,
        }
    }

    /// The officer-observed IC code most often recorded (1 to 6).
    pub fn ic_code(self) -> u8 {
        match self {
            Origin::WhiteBritish | Origin::Irish | Origin::GypsyTraveller | Origin::EasternEuropean => 1,
            Origin::Roma => 2,
            Origin::Caribbean | Origin::African | Origin::Somali | Origin::MixedBritish => 3,
            Origin::Pakistani | Origin::Bangladeshi | Origin::Indian => 4,
            Origin::Chinese => 5,
            Origin::Arab | Origin::Kurdish => 6,
        }
    }

    /// Nationalities other than British that people of this origin may hold (ISO 3166-1).
    pub fn other_nationalities(self) -> &'static [&'static str] {
        match self {
            Origin::WhiteBritish | Origin::MixedBritish | Origin::GypsyTraveller => &[],
            Origin::Irish => &["IE"],
            Origin::Caribbean => &["JM", "TT", "BB"],
            Origin::Pakistani => &["PK"],
            Origin::Bangladeshi => &["BD"],
            Origin::Indian => &["IN"],
            Origin::EasternEuropean => &["PL", "RO", "LT", "SK", "CZ", "AL", "LV", "BG"],
            Origin::Roma => &["RO", "SK", "CZ"],
            Origin::African => &["NG", "GH", "ZW", "SL", "KE"],
            Origin::Somali => &["SO"],
            Origin::Arab => &["IQ", "SY", "SD", "LY"],
            Origin::Kurdish => &["IQ", "IR", "TR"],
            Origin::Chinese => &["CN", "HK", "MY"],
        }
    }

    /// How likely a person of this origin holds a non-British nationality.
    pub fn foreign_national_share(self) -> f64 {
        match self {
            Origin::WhiteBritish | Origin::MixedBritish | Origin::GypsyTraveller => 0.0,
            Origin::Irish => 0.3,
            Origin::Caribbean => 0.1,
            Origin::Pakistani | Origin::Bangladeshi | Origin::Indian => 0.15,
            Origin::EasternEuropean | Origin::Roma => 0.85,
            Origin::African | Origin::Somali => 0.35,
            Origin::Arab | Origin::Kurdish => 0.6,
            Origin::Chinese => 0.4,
        }
    }

    fn lists(self) -> (&'static [&'static str], &'static [&'static str], &'static [&'static str]) {
        match self {
            Origin::WhiteBritish | Origin::Caribbean | Origin::MixedBritish => {
                (BRITISH_MALE, BRITISH_FEMALE, BRITISH_SURNAMES)
            }
            Origin::Irish | Origin::GypsyTraveller => (IRISH_MALE, IRISH_FEMALE, IRISH_SURNAMES),
            Origin::Pakistani | Origin::Bangladeshi => (MUSLIM_MALE, MUSLIM_FEMALE, MUSLIM_SURNAMES),
            Origin::Indian => (INDIAN_MALE, INDIAN_FEMALE, INDIAN_SURNAMES),
            Origin::EasternEuropean | Origin::Roma => (EE_MALE, EE_FEMALE, EE_SURNAMES),
            Origin::African => (AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_SURNAMES),
            Origin::Somali => (SOMALI_MALE, SOMALI_FEMALE, SOMALI_SURNAMES),
            Origin::Arab | Origin::Kurdish => (ARAB_MALE, ARAB_FEMALE, ARAB_SURNAMES),
            Origin::Chinese => (CHINESE_MALE, CHINESE_FEMALE, CHINESE_SURNAMES),
        }
    }

    /// Given names for a sex (Other draws from both lists).
    pub fn forenames(self, sex: Sex, coin: bool) -> &'static [&'static str] {
        let (m, f, _) = self.lists();
        match sex {
            Sex::Male => m,
            Sex::Female => f,
            Sex::Other if coin => m,
            Sex::Other => f,
        }
    }

    pub fn surnames(self) -> &'static [&'static str] {
        self.lists().2
    }

    /// Whether a second given name is commonly used as the everyday name.
    pub fn uses_middle_name(self) -> bool {
        matches!(self, Origin::Pakistani | Origin::Bangladeshi | Origin::Arab | Origin::Somali | Origin::African)
    }
}

#[rustfmt::skip]
const BRITISH_MALE: &[&str] = &[
    "James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas", "Christopher", "Daniel",
    "Matthew", "Anthony", "Mark", "Paul", "Steven", "Andrew", "Joshua", "Kevin", "George", "Edward", "Jack",
    "Harry", "Oliver", "Charlie", "Samuel", "Joseph", "Ryan", "Liam", "Connor", "Jamie", "Lee", "Craig",
    "Darren", "Wayne", "Dean", "Gary", "Stuart", "Scott", "Kyle", "Callum", "Lewis", "Jordan", "Nathan",
    "Adam", "Benjamin", "Luke", "Shaun", "Carl", "Neil", "Ian", "Peter", "Stephen", "Philip", "Jason",
    "Martin", "Simon", "Alan", "Keith", "Barry", "Tyrone", "Marcus", "Jermaine", "Reece", "Aaron",
];

#[rustfmt::skip]
const BRITISH_FEMALE: &[&str] = &[
    "Emily", "Olivia", "Sophie", "Jessica", "Chloe", "Amy", "Lauren", "Hannah", "Charlotte", "Megan",
    "Rebecca", "Emma", "Sarah", "Laura", "Katie", "Holly", "Bethany", "Ellie", "Jade", "Leah", "Courtney",
    "Shannon", "Paige", "Danielle", "Natalie", "Gemma", "Kirsty", "Stacey", "Amber", "Mia", "Grace", "Lucy",
    "Molly", "Abigail", "Ella", "Jasmine", "Zoe", "Kayleigh", "Chelsea", "Georgia", "Lily", "Freya",
    "Caitlin", "Rachel", "Nicola", "Michelle", "Claire", "Karen", "Joanne", "Elizabeth", "Victoria",
    "Samantha", "Jennifer", "Katherine", "Tia", "Keisha", "Demi", "Jodie",
];

#[rustfmt::skip]
const BRITISH_SURNAMES: &[&str] = &[
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris",
    "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips",
    "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Miller", "Cox", "Richards", "Marshall", "Simpson",
    "Ellis", "Adams", "Wilkinson", "Foster", "Chapman", "Mason", "Webb", "Rogers", "Gray", "Hunt", "Holmes",
    "Mills", "Lloyd", "Owen", "Barnes", "Knight", "Butler", "Russell", "Fletcher", "Dixon", "Atkinson",
    "Campbell", "Stewart", "Grant", "Francis", "Henry", "Reid", "Gordon", "Brooks", "Pearson", "Hudson",
];

#[rustfmt::skip]
const IRISH_MALE: &[&str] = &[
    "Sean", "Patrick", "Liam", "Conor", "Ciaran", "Declan", "Eoin", "Niall", "Michael", "John", "Kevin",
    "Brendan", "Darragh", "Cathal", "Padraig", "Tommy", "Johnny", "Martin",
];

#[rustfmt::skip]
const IRISH_FEMALE: &[&str] = &[
    "Siobhan", "Aoife", "Niamh", "Ciara", "Sinead", "Roisin", "Orla", "Grainne", "Mary", "Bridget", "Kathleen",
    "Shauna", "Aisling", "Clodagh", "Margaret",
];

#[rustfmt::skip]
const IRISH_SURNAMES: &[&str] = &[
    "Murphy", "Kelly", "O'Brien", "Byrne", "Ryan", "O'Connor", "O'Neill", "Doyle", "McCarthy", "Gallagher",
    "Walsh", "O'Sullivan", "McDonagh", "Ward", "Connors", "Quinn", "Brennan", "Keane", "Flynn", "Maguire",
];

#[rustfmt::skip]
const MUSLIM_MALE: &[&str] = &[
    "Mohammed", "Ahmed", "Ali", "Hassan", "Hussain", "Imran", "Usman", "Tariq", "Asif", "Arif", "Kamran",
    "Shahid", "Sajid", "Zahid", "Adil", "Amir", "Bilal", "Faisal", "Omar", "Yasir", "Zubair", "Nadeem",
    "Naveed", "Rizwan", "Irfan", "Wasim", "Rashid", "Abdul", "Abdullah", "Ibrahim", "Ismail", "Yusuf",
    "Jamil", "Shabir", "Shakil", "Sohail", "Rahim", "Anwar", "Mizanur", "Shamim", "Rubel", "Adnan", "Hamza",
    "Zain", "Danyal", "Saqib",
];

#[rustfmt::skip]
const MUSLIM_FEMALE: &[&str] = &[
    "Aisha", "Fatima", "Amina", "Zainab", "Maryam", "Sana", "Nadia", "Saima", "Shazia", "Farah", "Hina",
    "Rubina", "Samina", "Yasmin", "Nusrat", "Parveen", "Sadia", "Iqra", "Ruksana", "Shamima", "Nazia",
    "Sumaiya", "Tasnim", "Khadija", "Hafsa", "Alisha",
];

#[rustfmt::skip]
const MUSLIM_SURNAMES: &[&str] = &[
    "Khan", "Ahmed", "Ali", "Hussain", "Shah", "Iqbal", "Akhtar", "Mahmood", "Rehman", "Malik", "Butt",
    "Raja", "Chaudhry", "Mirza", "Sheikh", "Qureshi", "Anwar", "Aslam", "Bashir", "Javed", "Latif", "Rashid",
    "Saleem", "Siddiqui", "Uddin", "Miah", "Islam", "Hoque", "Rahman", "Ahmad", "Hassan", "Akram", "Zaman",
    "Nawaz", "Sadiq", "Yousaf", "Ashraf", "Riaz",
];

#[rustfmt::skip]
const INDIAN_MALE: &[&str] = &[
    "Raj", "Sanjay", "Amit", "Rahul", "Vikram", "Harpreet", "Gurpreet", "Jaswinder", "Sukhdev", "Manjit",
    "Rajesh", "Arjun", "Ravi", "Sunil", "Deepak", "Anil", "Kuldip", "Balvinder", "Ajay", "Nikhil", "Rohan",
    "Jatinder", "Paramjit", "Hardeep",
];

#[rustfmt::skip]
const INDIAN_FEMALE: &[&str] = &[
    "Priya", "Anjali", "Kiran", "Simran", "Pooja", "Neha", "Sunita", "Harjit", "Rajinder", "Meera", "Nisha",
    "Kamaljit", "Jaspreet", "Asha", "Divya", "Ritu",
];

#[rustfmt::skip]
const INDIAN_SURNAMES: &[&str] = &[
    "Patel", "Singh", "Kaur", "Sharma", "Gill", "Sandhu", "Sidhu", "Kumar", "Mistry", "Parmar", "Shah",
    "Bains", "Dhillon", "Grewal", "Chauhan", "Mehta", "Joshi", "Rai", "Sahota", "Johal", "Virdi", "Bhatti",
];

#[rustfmt::skip]
const EE_MALE: &[&str] = &[
    "Piotr", "Tomasz", "Paweł", "Krzysztof", "Marcin", "Michał", "Łukasz", "Jakub", "Andrzej", "Marek",
    "Adrian", "Dawid", "Mateusz", "Bartosz", "Ionuț", "Andrei", "Alexandru", "Florin", "Mihai", "Gheorghe",
    "Constantin", "Bogdan", "Vasile", "Cristian", "Jan", "Petr", "Lukáš", "Arben", "Besnik", "Ardit",
    "Gentian", "Klodian", "Darius", "Tomas", "Mindaugas", "Dmitri", "Oleksandr", "Ștefan", "Marius",
];

#[rustfmt::skip]
const EE_FEMALE: &[&str] = &[
    "Anna", "Katarzyna", "Agnieszka", "Magdalena", "Joanna", "Monika", "Ewa", "Natalia", "Andreea", "Ioana",
    "Elena", "Maria", "Alina", "Daniela", "Gabriela", "Petra", "Lucie", "Eva", "Jana", "Ilona", "Kristina",
    "Oksana", "Olena", "Roxana", "Denisa",
];

#[rustfmt::skip]
const EE_SURNAMES: &[&str] = &[
    "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
    "Kozłowski", "Mazur", "Krawczyk", "Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Rusu",
    "Munteanu", "Constantin", "Novák", "Horváth", "Dvořák", "Kazlauskas", "Petrauskas", "Jankauskas",
    "Hoxha", "Shehu", "Krasniqi", "Gashi", "Berisha", "Kovalenko", "Shevchenko", "Balog", "Lakatos",
];

#[rustfmt::skip]
const AFRICAN_MALE: &[&str] = &[
    "Chinedu", "Emeka", "Oluwaseun", "Tunde", "Kwame", "Kofi", "Yaw", "Samuel", "Daniel", "Emmanuel",
    "Chukwuemeka", "Ifeanyi", "Babajide", "Segun", "Olumide", "Tendai", "Tafadzwa", "Kwabena", "Ibrahim",
    "Femi", "Kelechi", "Obinna", "Kayode", "Musa",
];

#[rustfmt::skip]
const AFRICAN_FEMALE: &[&str] = &[
    "Adaeze", "Chioma", "Ngozi", "Folake", "Funmilayo", "Abena", "Akosua", "Ama", "Blessing", "Precious",
    "Grace", "Esther", "Joy", "Nneka", "Yetunde", "Tendai", "Chipo", "Adwoa", "Bisola", "Temitope",
];

#[rustfmt::skip]
const AFRICAN_SURNAMES: &[&str] = &[
    "Okafor", "Okonkwo", "Adeyemi", "Oladipo", "Adebayo", "Mensah", "Boateng", "Asante", "Owusu", "Osei",
    "Nwosu", "Eze", "Okeke", "Moyo", "Ncube", "Banda", "Phiri", "Mwangi", "Otieno", "Kamara", "Conteh",
    "Sesay", "Bello", "Afolabi", "Ogunleye", "Appiah",
];

#[rustfmt::skip]
const SOMALI_MALE: &[&str] = &[
    "Abdirahman", "Abdi", "Mohamed", "Ahmed", "Mustafa", "Abdullahi", "Hassan", "Omar", "Yusuf", "Ismail",
    "Abdiaziz", "Liban", "Mahad", "Bashir",
];

#[rustfmt::skip]
const SOMALI_FEMALE: &[&str] = &[
    "Hodan", "Fadumo", "Halima", "Amina", "Sagal", "Hibo", "Ayan", "Faduma", "Ifrah", "Nimco", "Ubah",
];

#[rustfmt::skip]
const SOMALI_SURNAMES: &[&str] = &[
    "Abdi", "Farah", "Hassan", "Warsame", "Mohamud", "Ali", "Ibrahim", "Osman", "Jama", "Nur", "Ahmed",
    "Yusuf", "Aden", "Hersi",
];

#[rustfmt::skip]
const ARAB_MALE: &[&str] = &[
    "Ahmed", "Omar", "Karim", "Rebwar", "Hawre", "Dler", "Saman", "Mustafa", "Ali", "Hussein", "Khalid",
    "Tariq", "Sherzad", "Aram", "Ibrahim", "Yaser",
];

#[rustfmt::skip]
const ARAB_FEMALE: &[&str] = &["Layla", "Noor", "Huda", "Rania", "Shilan", "Dilan", "Zahra", "Mariam", "Rozhin"];

#[rustfmt::skip]
const ARAB_SURNAMES: &[&str] = &[
    "Abdullah", "Hamid", "Rasul", "Aziz", "Mustafa", "Salih", "Mahmoud", "Hussein", "Karim", "Qadir",
    "Omer", "Jalal", "Rashid", "Ismail",
];

#[rustfmt::skip]
const CHINESE_MALE: &[&str] = &["Wei", "Jun", "Hao", "Ming", "Jian", "Tao", "Kevin", "Jason", "Chun", "Yong"];

#[rustfmt::skip]
const CHINESE_FEMALE: &[&str] = &["Li", "Mei", "Xin", "Yan", "Hui", "Jing", "Ling", "Amy", "Fang"];

#[rustfmt::skip]
const CHINESE_SURNAMES: &[&str] = &["Chen", "Wang", "Li", "Zhang", "Liu", "Wong", "Lam", "Cheung", "Chan", "Lin", "Ng"];

/// Spellings of the same name that records use interchangeably (transliterations, diacritics).
#[rustfmt::skip]
pub const VARIANTS: &[&[&str]] = &[
    &["Mohammed", "Muhammad", "Mohammad", "Mohamed", "Muhammed", "Mohamad"],
    &["Ahmed", "Ahmad", "Ahmet"],
    &["Hussain", "Hussein", "Husain", "Hossain"],
    &["Hassan", "Hasan"],
    &["Usman", "Osman", "Othman"],
    &["Omar", "Umar", "Omer"],
    &["Yusuf", "Yousaf", "Yousuf", "Yusef"],
    &["Rehman", "Rahman", "Rahaman"],
    &["Mahmood", "Mehmood", "Mahmud", "Mahmoud"],
    &["Chaudhry", "Chaudhary", "Choudhury", "Chowdhury"],
    &["Aisha", "Ayesha", "Aysha"],
    &["Fatima", "Fatimah", "Fatma"],
    &["Yasmin", "Yasmeen", "Yasmine"],
    &["Faisal", "Faysal", "Feisal"],
    &["Wasim", "Waseem"],
    &["Jamil", "Jameel"],
    &["Shabir", "Shabbir"],
    &["Amir", "Aamir", "Amer"],
    &["Ibrahim", "Ebrahim"],
    &["Ismail", "Ismael"],
    &["Yasir", "Yasser", "Yaser"],
    &["Abdirahman", "Abdurahman", "Abdulrahman"],
    &["Abdullahi", "Abdullah"],
    &["Mohamud", "Mohamoud"],
    &["Faduma", "Fadumo"],
    &["Siddiqui", "Siddiqi"],
    &["Qureshi", "Qureshy", "Kureshi"],
    &["Sohail", "Suhail"],
    &["Paweł", "Pawel"],
    &["Michał", "Michal"],
    &["Łukasz", "Lukasz"],
    &["Ionuț", "Ionut"],
    &["Ștefan", "Stefan"],
    &["Lukáš", "Lukas"],
    &["Wiśniewski", "Wisniewski"],
    &["Wójcik", "Wojcik"],
    &["Kamiński", "Kaminski"],
    &["Zieliński", "Zielinski"],
    &["Szymański", "Szymanski"],
    &["Kozłowski", "Kozlowski"],
    &["Novák", "Novak"],
    &["Horváth", "Horvath"],
    &["Dvořák", "Dvorak"],
    &["Dmitri", "Dmitry", "Dimitri"],
    &["Oleksandr", "Aleksandr", "Alexander"],
    &["O'Brien", "OBrien", "O Brien"],
    &["O'Connor", "OConnor", "O'Conner"],
    &["O'Neill", "ONeill", "O'Neil"],
    &["O'Sullivan", "OSullivan"],
    &["McDonagh", "McDonough", "MacDonagh"],
    &["McCarthy", "MacCarthy"],
    &["Stephen", "Steven"],
    &["Philip", "Phillip"],
    &["Shaun", "Sean", "Shawn"],
    &["Jermaine", "Jermain"],
    &["Kayleigh", "Kayley", "Kaylee"],
    &["Nicola", "Nichola"],
    &["Zoe", "Zoë"],
    &["Chinedu", "Chinedum"],
    &["Oluwaseun", "Seun"],
];

/// Familiar forms of given names.
#[rustfmt::skip]
pub const NICKNAMES: &[(&str, &[&str])] = &[
    ("Robert", &["Bob", "Rob", "Bobby", "Robbie"]),
    ("William", &["Bill", "Will", "Billy"]),
    ("Richard", &["Rick", "Richie", "Dick"]),
    ("Michael", &["Mike", "Mick", "Micky"]),
    ("James", &["Jim", "Jimmy", "Jamie"]),
    ("Thomas", &["Tom", "Tommy"]),
    ("Christopher", &["Chris", "Kit"]),
    ("Daniel", &["Dan", "Danny"]),
    ("Matthew", &["Matt"]),
    ("Anthony", &["Tony", "Ant"]),
    ("Steven", &["Steve"]),
    ("Stephen", &["Steve"]),
    ("Andrew", &["Andy", "Drew"]),
    ("Joseph", &["Joe", "Joey"]),
    ("Samuel", &["Sam", "Sammy"]),
    ("Edward", &["Ed", "Eddie", "Ted"]),
    ("Benjamin", &["Ben"]),
    ("Nathan", &["Nate"]),
    ("Peter", &["Pete"]),
    ("Philip", &["Phil"]),
    ("David", &["Dave", "Davey"]),
    ("Kevin", &["Kev"]),
    ("Joshua", &["Josh"]),
    ("Patrick", &["Paddy", "Pat"]),
    ("Mohammed", &["Mo", "Mohd"]),
    ("Ibrahim", &["Ibby"]),
    ("Abdullah", &["Abdul"]),
    ("Ahmed", &["Ahmo"]),
    ("Hamza", &["Hamz"]),
    ("Zubair", &["Zubi"]),
    ("Kamran", &["Kam"]),
    ("Imran", &["Immy"]),
    ("Rashid", &["Rash"]),
    ("Piotr", &["Peter"]),
    ("Paweł", &["Paul"]),
    ("Tomasz", &["Tom"]),
    ("Krzysztof", &["Chris", "Krzys"]),
    ("Jakub", &["Kuba", "Jake"]),
    ("Andrzej", &["Andy"]),
    ("Michał", &["Michael"]),
    ("Alexandru", &["Alex"]),
    ("Oleksandr", &["Sasha", "Alex"]),
    ("Chukwuemeka", &["Emeka"]),
    ("Babajide", &["Jide"]),
    ("Oluwaseun", &["Seun"]),
    ("Olumide", &["Mide"]),
    ("Abdirahman", &["Abdi"]),
    ("Elizabeth", &["Liz", "Beth", "Lizzie"]),
    ("Rebecca", &["Becky", "Becca"]),
    ("Katherine", &["Kate", "Katie", "Kath"]),
    ("Jessica", &["Jess"]),
    ("Samantha", &["Sam", "Sammy"]),
    ("Victoria", &["Vicky", "Tori"]),
    ("Nicola", &["Nicky"]),
    ("Natalie", &["Nat"]),
    ("Abigail", &["Abbie", "Abi"]),
    ("Charlotte", &["Charlie", "Lottie"]),
    ("Bethany", &["Beth"]),
    ("Danielle", &["Dani"]),
    ("Jennifer", &["Jenny", "Jen"]),
    ("Margaret", &["Maggie", "Peggy"]),
    ("Katarzyna", &["Kasia"]),
    ("Magdalena", &["Magda"]),
    ("Agnieszka", &["Aga"]),
    ("Funmilayo", &["Funmi"]),
    ("Temitope", &["Tope"]),
];

/// Street names used only as nicknames ("known as"): generic words, no real person.
#[rustfmt::skip]
pub const STREET_NAMES: &[&str] = &[
    "Boss", "Big Man", "Smiler", "Ace", "Shorty", "Kash", "Prince", "Ginger", "Scouse", "Taz", "Blade",
    "Chef", "Uncle", "Driver", "Lucky", "Tiger", "Spider", "Junior", "Bhaji", "Magic", "Sly", "Rocky",
];

/// Street-name endings and bases for synthetic addresses.
#[rustfmt::skip]
pub const STREETS: &[&str] = &[
    "Station Road", "High Street", "Church Street", "Victoria Road", "Green Lane", "Manor Road", "Park Road",
    "Queens Road", "Kings Road", "Grange Road", "New Street", "Mill Lane", "School Lane", "Albert Road",
    "North Street", "Springfield Road", "Richmond Road", "Stanley Road", "York Road", "Chapel Street",
    "Market Street", "Clarence Street", "Oxford Road", "Windsor Road", "Moor Lane", "Cross Street",
    "Bridge Street", "Brook Street", "Hall Lane", "Highfield Road", "Princess Street", "Water Lane",
    "Elm Grove", "Beech Avenue", "Oak Avenue", "Cedar Close", "Hawthorn Drive", "Willow Way", "Ash Grove",
    "Westfield Road", "Belgrave Road", "Whitehall Road", "Wellington Street", "Nelson Street", "Peel Street",
    "Cemetery Road", "Canal Street", "Foundry Lane", "Rectory Lane", "Alexandra Road", "Derby Road",
];

/// Kinds of venue where offending took place or victims were taken (no business names).
#[rustfmt::skip]
pub const VENUES: &[&str] = &[
    "flat above a takeaway on {street}",
    "house on {street}",
    "hotel near the ring road",
    "guest house on {street}",
    "car park behind {street}",
    "park off {street}",
    "taxi office on {street}",
    "shop on {street}",
    "car wash on {street}",
    "industrial unit off {street}",
    "{town} bus station",
    "{town} railway station",
    "shisha lounge on {street}",
    "children's home on {street}",
    "woodland off {street}",
];

/// Operation code words (generic nouns).
#[rustfmt::skip]
pub const OPERATIONS: &[&str] = &[
    "Juniper", "Kestrel", "Larch", "Mallard", "Nettle", "Osprey", "Plover", "Quartz", "Rowan", "Sparrow",
    "Thistle", "Umber", "Vantage", "Willow", "Yarrow", "Alder", "Bramble", "Cobalt", "Damson", "Ember",
    "Fennel", "Granite", "Heron", "Ivy", "Jasper", "Kite", "Lantern", "Meadow", "Nimbus", "Orchid",
    "Pinnacle", "Quill", "Raven", "Sorrel", "Tundra", "Upland", "Vesper", "Wren", "Zephyr", "Beacon",
    "Cedar", "Dunlin", "Egret", "Falcon", "Gannet", "Harrier", "Ibex", "Jackdaw", "Linnet", "Merlin",
];

/// Descriptions that distinguish a person without naming them.
#[rustfmt::skip]
pub const MARKS: &[&str] = &[
    "tattoo on left forearm",
    "tattoo on neck",
    "scar above right eye",
    "walks with a limp",
    "gold front tooth",
    "beard",
    "glasses",
    "shaved head",
    "pierced eyebrow",
];

/// The variant group a name belongs to, if any.
pub fn variants_of(name: &str) -> Option<&'static [&'static str]> {
    VARIANTS.iter().copied().find(|g| g.contains(&name))
}

/// The familiar forms of a given name.
pub fn nicknames_of(name: &str) -> &'static [&'static str] {
    NICKNAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or(&[])
}

/// The feminine form of a Polish surname ending in -ski, -cki or -dzki.
pub fn feminine_surname(surname: &str) -> String {
    for (m, f) in [("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")] {
        if let Some(stem) = surname.strip_suffix(m) {
            return format!("{stem}{f}");
        }
    }
    surname.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use beaconport_domain::rules::check_name_part;

    #[test]
    fn every_name_is_a_valid_name_part() {
        #[rustfmt::skip]
        let all = [
            BRITISH_MALE, BRITISH_FEMALE, BRITISH_SURNAMES, IRISH_MALE, IRISH_FEMALE, IRISH_SURNAMES, MUSLIM_MALE,
            MUSLIM_FEMALE, MUSLIM_SURNAMES, INDIAN_MALE, INDIAN_FEMALE, INDIAN_SURNAMES, EE_MALE, EE_FEMALE,
            EE_SURNAMES, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_SURNAMES, SOMALI_MALE, SOMALI_FEMALE,
            SOMALI_SURNAMES, ARAB_MALE, ARAB_FEMALE, ARAB_SURNAMES, CHINESE_MALE, CHINESE_FEMALE, CHINESE_SURNAMES,
            STREET_NAMES,
        ];
        for list in all {
            for n in list {
                assert!(check_name_part(n).is_ok(), "{n}");
            }
        }
        for g in VARIANTS {
            for n in *g {
                assert!(check_name_part(n).is_ok(), "{n}");
            }
        }
        for (n, v) in NICKNAMES {
            assert!(check_name_part(n).is_ok());
            for n in *v {
                assert!(check_name_part(n).is_ok(), "{n}");
            }
        }
    }

    #[test]
    fn feminine_forms() {
        assert_eq!(feminine_surname("Kowalski"), "Kowalska");
        assert_eq!(feminine_surname("Wiśniewski"), "Wiśniewska");
        assert_eq!(feminine_surname("Nowak"), "Nowak");
    }
}
