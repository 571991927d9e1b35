//! Free-text phrases of the records: reasons, contexts, review summaries. Generic wording without
//! personal details, as the stored format requires.

/// Police NFA reasons with a named suspect and a victim who supports action (Home Office outcome
/// 15: evidential difficulties).
pub const NFA_POLICE_EVIDENTIAL: &[&str] = &[
    "Insufficient evidence to provide a realistic prospect of conviction",
    "Victim considered to be in a consensual relationship with the suspects",
    "Victim's account inconsistent; no corroborating evidence",
    "Suspects deny the offences; no independent evidence",
    "Suspects could not be traced",
    "Victim's lifestyle considered to undermine credibility",
];

/// Police NFA reasons where the victim does not support action (outcome 16).
pub const NFA_POLICE_VICTIM: &[&str] = &[
    "Victim unable to support a prosecution",
    "Victim does not support police action",
    "Victim withdrew support after initial account",
];

/// Police NFA reason of outcome 21 (further investigation not in the public interest).
pub const NFA_POLICE_PUBLIC_INTEREST: &[&str] = &["Not in the public interest to investigate further"];

/// Prosecutor NFA reasons of outcome 15 (evidential test not met).
pub const NFA_PROSECUTOR_EVIDENTIAL: &[&str] = &[
    "CPS: evidential test not met",
    "CPS: insufficient evidence to charge",
    "CPS: victim unable to give evidence",
    "CPS: no realistic prospect of conviction against any suspect",
];

/// Prosecutor NFA reason of outcome 9 (prosecution not in the public interest).
pub const NFA_PROSECUTOR_PUBLIC_INTEREST: &[&str] = &["CPS: prosecution not in the public interest"];

pub const CHARGE_REASONS: &[&str] =
    &["Evidential and public interest tests met", "Charged following admission in interview", "Charged on CPS advice"];

/// Reason of an NFA with no suspect identified (outcome 18).
pub const NO_SUSPECT: &str = "No suspect identified; investigation complete";

pub const REFERRAL_REASONS: &[&str] = &[
    "NFA decision between 2010 and 2025 with two or more suspects and more than one child victim",
    "Group-based child sexual exploitation case closed with no further action",
    "Case identified by the force's review of historic NFA decisions",
    "Multiple suspects and child victims; case closed without charge",
];

pub const REFERRAL_PROGRAMME: &str = "National NFA review";

pub const PHONE_CONTEXTS: &[&str] = &[
    "number saved in victim's phone contacts",
    "number found in download of victim's handset",
    "call data records for victim's phone",
    "number given by victim in first account",
    "number written on a note found by carer",
    "number messaging victim on social media",
];

pub const SHARED_PHONE_CONTEXTS: &[&str] = &[
    "number saved in victim's phone as \"Taxi\"",
    "number used to arrange collection of victims",
    "number called by several victims before going missing",
    "number found in more than one victim's contacts",
];

pub const VEHICLE_CONTEXTS: &[&str] = &[
    "vehicle seen collecting victim from a children's home",
    "vehicle seen by carer dropping victim off late at night",
    "ANPR hit near the offence location",
    "vehicle described by victim; registration noted by a witness",
];

pub const HANDLE_CONTEXTS: &[&str] = &[
    "account messaging victim on social media",
    "handle shown in screenshots provided by victim's parent",
    "account that added victim and friends",
];

pub const LOCATION_CONTEXTS: &[&str] = &[
    "victims taken to the address",
    "address where victims were given alcohol and drugs",
    "place named by more than one victim",
    "victim found at the address when reported missing",
    "suspects seen at the location with children",
];

pub const ORDINARY_LOCATION_CONTEXTS: &[&str] = &[
    "scene of the offence",
    "CCTV viewed at the location",
    "house-to-house enquiries",
    "suspect arrested at the address",
];

pub const ORDINARY_ID_CONTEXTS: &[&str] = &[
    "vehicle seen leaving the scene",
    "number that called the victim",
    "number found on suspect at arrest",
    "ANPR enquiries",
];

pub const REVIEW_BODIES: &[&str] = &[
    "CPS Victims' Right to Review",
    "Police Victims' Right to Review",
    "Force major crime review team",
    "Independent Office for Police Conduct",
    "Force professional standards department",
];

pub const REVIEW_SUMMARIES: &[&str] = &[
    "Decision reviewed and found reasonable on the evidence available",
    "Lines of enquiry left open; case returned for further investigation",
    "Evidential test reconsidered; file passed to the prosecutor",
    "Victim's account not fully explored; further work recommended",
];

pub const CORRECTION_REASONS: &[&str] = &[
    "Date of birth corrected from identity documents",
    "Date of birth mistyped on first entry",
    "Date of birth confirmed with the person's school records",
];

pub const DEATH_REASONS: &[&str] = &["Suspect now deceased; record updated", "Death confirmed by coroner's office"];

pub const RETRACTION_REASONS: &[&str] =
    &["Recorded on the wrong case", "Duplicate entry", "Identifier attributed in error"];

pub const FLAG_REASONS: &[&str] = &[
    "Case reviewed by the force's CSE team",
    "Indicators of exploitation identified",
    "Flag added at supervisory review",
];

pub const FLAG_REMOVAL_REASONS: &[&str] =
    &["Flag applied in error", "Not considered exploitation after review", "Flag removed at case closure"];

pub const TRAVEL_DETAILS: &[&str] = &[
    "Intelligence that the suspect has booked flights",
    "Suspect holds a passport and has family abroad",
    "Suspect travels abroad for long periods",
    "Suspect failed to answer bail previously",
    "Suspect has property abroad",
];

/// Countries people travel to or have ties with, when their own nationalities give none.
pub const TRAVEL_DESTINATIONS: &[&str] = &["ES", "TR", "AE", "PT", "GR", "PK", "BD", "IN", "PL", "RO", "NG", "IE"];

/// Notes a complete record carries on where a statement came from (full detail only).
pub const FILE_NOTES: &[&str] = &[
    "entered from the paper file during back-record conversion",
    "checked against the original crime report by the file reviewer",
    "see the investigation log for the supervisor's rationale",
    "confirmed with the officer in the case at the time of migration",
];

/// Why a complete record was amended (full detail only).
pub const UPDATE_REASONS: &[&str] = &[
    "Address updated from the custody record",
    "Further address given at interview",
    "Address confirmed by the local authority",
];
