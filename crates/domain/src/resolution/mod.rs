//! Person resolution: mentions of persons (suspects, victims, witnesses) recorded by different
//! forces in different cases, resolved into one identity where the evidence says so.
//!
//! # How a pair is scored
//! A [`Record`] is prepared once (names folded to ASCII, phonetic codes, nickname and
//! transliteration groups, identifiers and addresses normalised). Two records are compared field
//! by field into *comparison levels* (see [`FieldEvidence`]): given name (exact, nickname,
//! transliteration, Jaro-Winkler ≥ 0.92 or ≥ 0.80, initial, disagree), surname (exact,
//! transliteration, Jaro-Winkler, disagree; forename and surname swapped is tried too), date of
//! birth (exact, day-month swapped, one digit off, year-month, year only, a partial date's year close, disagree), sex,
//! postcode, street, town, and each kind of identifier (exact, one edit for PNC, passport and
//! national ids, disagree). Every name and alias of one record is tried against every name and
//! alias of the other, and every address against every address; the best pair counts. A field
//! missing on either side weighs nothing.
//!
//! The [`Model`] gives each level a Fellegi-Sunter weight, log2(m/u); exact agreement on a given
//! name, surname, date of birth, postcode or town is adjusted by the value's frequency (a rare
//! surname says more than Smith). The weights add up to [`Evidence::weight`]; with the model's
//! prior odds that gives [`Evidence::probability`].
//!
//! # When a pair is a link
//! A pair is a *candidate* when the two records share a blocking key (see `block.rs`), and a
//! *link* when its weight reaches [`Model::threshold`] (posterior probability ≥ ½) **and** it
//! passes the *relative test*: the personal fields (given name, date of birth, personal
//! identifiers) must not favour "two relatives sharing surname and address" over "one person".
//! Surnames, addresses, phones and vehicles are shared in a household, so they cannot tell twins,
//! siblings, or a father and a son of the same name apart; under that alternative a shared given
//! name (1 in 20 sons carry their father's) or a shared date of birth (twins) is far less
//! surprising than among strangers. In that test a given name that is only an initial counts
//! mildly for one person (relatives' initials agree about 1 time in 7), a disagreement with a
//! name that has no surname (a street name, "Rocky") counts for nothing, a 1 January shared is
//! weak (a placeholder), and full dates of birth that disagree count at least 6 bits against.
//!
//! A name alone is never a link: unless some field beyond given name, surname and sex agrees
//! (date of birth at a positive level, an identifier, an address), the weight is capped below
//! the threshold (names run in communities, so given name and surname are not independent, and
//! namesakes are common). Investigator decisions win over the score: a
//! [`Decision::Same`] is a link whatever the score, a [`Decision::Different`] forbids the two
//! mentions from ending up in one person, and [`Decision::Withdrawn`] clears either.
//!
//! # Clustering
//! Mentions carrying identical records share one node (record, prepared form, blocking keys and
//! links held once; a block counts distinct records). When such a record links to itself (its
//! self-comparison is a link), its mentions that take part in no decision are one clustering
//! element: identical records of one person are one person, however often recorded. A mention in
//! a decision is always an element of its own; in the relative test an element counts as many
//! pairs as it has mentions.
//!
//! The links form a graph; each connected component is clustered deterministically, Kruskal-like:
//! asserted links first, then scored links by weight (descending, ties broken by the two keys),
//! each joining two clusters unless a `Different` decision lies between them, or (for a scored
//! link) the pairs across them fail the relative test by majority (so a record of "J Smith"
//! cannot chain twins John and James into one person; a tie is a conflict when a pair against
//! has full dates of birth that disagree). A pair across that shares a PNC id, passport or
//! national id, or agrees exactly on given name and full date of birth, and passes the relative
//! test itself, settles the vote for joining.
//!
//! A component of more than 10,000 distinct records (hub records, a name alone or an identifier
//! many people gave, chaining people together) is clustered in *parts*: the components of its
//! asserted links and of its scored links heavier than the heaviest weight at which a part would
//! pass that size. Its weakest links, the ones chaining strangers, are so left out; the parts are
//! a function of the links, so the invariant below holds. The records of a batch are attached
//! and scored first and each component they touch clustered once (`Resolver::upsert_batch`),
//! and a part of a large component none of whose records changed is not clustered again.
//!
//! # Order independence and incrementality
//! **Invariant:** the assignment of mentions to persons is a pure function of the *set* of
//! current records and decisions (and the model), never of their order: a pair's score depends
//! on the two records and the frozen model only (term frequencies are frozen in the model at
//! estimation), the candidate pairs on the set of records (an oversized block is ignored for
//! everyone, see `block.rs`), and the clustering of a component on its members. An upsert,
//! removal or decision recomputes only the links of the touched mention(s) and the components
//! they were or are now in; the result equals a rebuild from scratch (tested).
//!
//! # Stable person ids
//! **Invariant:** a person's id is the UUID v5, under a fixed namespace, of its smallest
//! [`MentionKey`] (force, case, person reference in that order). So when persons merge, the
//! merged person keeps the id of the one holding the smallest key; when a person splits, the part
//! holding the smallest key keeps the id and each other part takes the id of its own smallest
//! key. The id is a function of the members alone, so replays, rebuilds and other nodes agree
//! without coordination. The price: removing (retracting) a person's smallest mention, or moving
//! it out by a decision, renames the person; [`Change`]s report every such move.

mod block;
mod compare;
mod model;
mod normalize;
mod resolver;
#[cfg(test)]
mod tests;

pub use block::BLOCK_CAP;
pub use model::{FieldParts, Model, ModelParts, TermFrequencies, DEFAULT_PRIOR, SWAP_WEIGHT};
pub use normalize::{fold, identifier as normalise_identifier, phonetic};
pub use resolver::{PreparedRecord, Resolver};

use crate::ids::PersonId;
use crate::{Address, Identifier, Name, PartialDate, PersonRecorded, Sex};

/// Which mention: a person reference within a force's case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MentionKey {
    pub force: String,
    pub case_ref: String,
    pub person_ref: String,
}

impl MentionKey {
    pub fn new(force: impl Into<String>, case_ref: impl Into<String>, person_ref: impl Into<String>) -> Self {
        Self { force: force.into(), case_ref: case_ref.into(), person_ref: person_ref.into() }
    }

    /// The id of a person whose smallest mention is this one (UUID v5 under a fixed namespace).
    pub fn person_id(&self) -> PersonId {
        let mut name = Vec::with_capacity(self.force.len() + self.case_ref.len() + self.person_ref.len() + 2);
        name.extend_from_slice(self.force.as_bytes());
        name.push(0x1f);
        name.extend_from_slice(self.case_ref.as_bytes());
        name.push(0x1f);
        name.extend_from_slice(self.person_ref.as_bytes());
        PersonId(uuid::Uuid::new_v5(&PERSON_NAMESPACE, &name))
    }
}

/// Namespace of person ids (fixed forever: changing it renames every person).
const PERSON_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_3c2e_8d4a_5e07_9c61_2f0b_a4d3_e815);

impl std::fmt::Display for MentionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.force, self.case_ref, self.person_ref)
    }
}

/// What resolution looks at, built from a `PersonRecorded` event (or an imported row, which
/// becomes one).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Record {
    /// The first is the primary name, the rest aliases.
    pub names: Vec<Name>,
    pub date_of_birth: Option<PartialDate>,
    pub sex: Option<Sex>,
    pub identifiers: Vec<Identifier>,
    pub addresses: Vec<Address>,
}

impl Record {
    /// The record of a person as recorded: the name then the aliases, date of birth, sex,
    /// identifiers and addresses.
    pub fn from_person(p: &PersonRecorded) -> Record {
        Record {
            names: p.name.iter().chain(p.aliases.iter()).cloned().collect(),
            date_of_birth: p.date_of_birth,
            sex: p.sex,
            identifiers: p.identifiers.clone(),
            addresses: p.addresses.clone(),
        }
    }
}

/// Why two records are (or are not) one person: every compared field, and the totals.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub fields: Vec<FieldEvidence>,
    /// Total log2 Bayes factor (the sum of the fields' weights).
    pub weight: f64,
    /// Posterior probability of a match, with the model's prior odds.
    pub probability: f64,
}

impl Evidence {
    /// The evidence of one field, if it was compared.
    pub fn field(&self, field: &str) -> Option<&FieldEvidence> {
        self.fields.iter().find(|f| f.field == field)
    }
}

/// One compared field: its level and weight (log2 m/u; negative is evidence against).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldEvidence {
    /// `forename`, `surname`, `date_of_birth`, `sex`, `postcode`, `street`, `town`, `phone`,
    /// `email`, `vehicle`, `social handle`, `pnc id`, `passport`, `national id`, `name order`.
    pub field: &'static str,
    /// `exact`, `nickname`, `transliteration`, `jaro-winkler>=0.92`, `initial`, `swapped`,
    /// `day-month swapped`, `one digit off`, `year only`, `one edit`, `disagree`, ...
    pub level: &'static str,
    pub weight: f64,
}

/// Compares two records under a model: the evidence for and against their being one person.
pub fn compare(model: &Model, a: &Record, b: &Record) -> Evidence {
    let (pa, pb) = (compare::prepare(model, a), compare::prepare(model, b));
    compare::evidence(model, &compare::levels(model, &pa, &pb))
}

/// Whether two records would be linked on their own score (threshold and relative test).
pub fn is_link(model: &Model, a: &Record, b: &Record) -> bool {
    let (pa, pb) = (compare::prepare(model, a), compare::prepare(model, b));
    let (total, personal) = compare::weigh(model, &compare::levels(model, &pa, &pb));
    compare::is_link(model, total, personal)
}

/// An investigator's assertion about two mentions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The two are one person, whatever the score.
    Same,
    /// The two are different people, whatever the score.
    Different,
    /// Clears an earlier decision about the two.
    Withdrawn,
}

/// A link holding a person together.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub a: MentionKey,
    pub b: MentionKey,
    pub evidence: Evidence,
    /// Asserted by an investigator (`Same`) rather than scored.
    pub asserted: bool,
}

/// A mention whose person changed: `before` `None` for a new mention, `after` `None` for a
/// removed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: MentionKey,
    pub before: Option<PersonId>,
    pub after: Option<PersonId>,
}
