//! Identifier newtypes.

use std::fmt;

use uuid::Uuid;

/// The publisher-chosen id of an event (a UUID, version 7 recommended).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EventId(pub Uuid);

impl EventId {
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
    pub fn from_bytes(b: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(b))
    }
    /// The id in its hyphenated lower-case form, as `to_string` gives it, without the
    /// formatting machinery (one per acknowledged event).
    pub fn to_hyphenated(&self) -> String {
        self.0.hyphenated().encode_lower(&mut Uuid::encode_buffer()).to_owned()
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A position in the log: dense, starting at 0, in append order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Position(pub u64);

impl Position {
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A resolved person: a cluster of mentions that resolution holds to be one individual. Derived
/// from the cluster's smallest mention key (see [`crate::resolution`]), so it is a pure function
/// of the cluster and stable across replays.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PersonId(pub Uuid);

impl PersonId {
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl std::str::FromStr for PersonId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::try_parse(s).map(PersonId)
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyphenated_form_is_the_display_form() {
        for id in [Uuid::nil(), Uuid::max(), Uuid::from_u128(0x0190_1234_abcd_7ef0_8123_4567_89ab_cdef)] {
            assert_eq!(EventId(id).to_hyphenated(), EventId(id).to_string());
        }
    }
}
