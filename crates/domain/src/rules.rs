//! Field-level rules: parsers for the textual forms used on the wire, format checks for
//! identifiers and postcodes, and the size limits. Each returns the reason a value is refused, in
//! words a person can act on; the caller names the field.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::event::{IdentifierKind, PartialDate};

/// Longest reference (case, person, offence, recording officer), in characters.
pub const MAX_REF: usize = 64;
/// Longest name part, in characters.
pub const MAX_NAME: usize = 100;
/// Longest short text (area, title, address line, programme), in characters.
pub const MAX_SHORT_TEXT: usize = 200;
/// Longest free text (reason, summary, details, context), in characters.
pub const MAX_TEXT: usize = 2000;
/// Longest identifier value, in characters.
pub const MAX_IDENTIFIER: usize = 254;
/// Most entries in any repeated field.
pub const MAX_LIST: usize = 50;
/// Most events in one batch.
pub const MAX_BATCH: usize = 10_000;
/// How far ahead of the ledger's clock a time may be, for clock skew between systems.
pub const CLOCK_SKEW_SECONDS: i64 = 300;
/// The earliest year accepted for any date.
pub const EARLIEST_YEAR: i32 = 1900;
/// The oldest age accepted for a living person.
pub const MAX_AGE_YEARS: i32 = 120;

/// Parses an event id: a UUID, not the nil UUID.
pub fn parse_event_id(s: &str) -> Result<Uuid, String> {
    if s.is_empty() {
        return Err("is required".into());
    }
    let id = Uuid::try_parse(s).map_err(|_| format!("{} is not a UUID", quote(s)))?;
    if id.is_nil() {
        return Err("must not be the nil UUID".into());
    }
    Ok(id)
}

/// Parses an RFC 3339 timestamp with an offset.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    if s.is_empty() {
        return Err("is required".into());
    }
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|_| format!("{} is not an RFC 3339 timestamp (like 2024-03-01T10:15:00Z)", quote(s)))?
        .with_timezone(&Utc);
    if t.date_naive() < earliest() {
        return Err(format!("{s} is before {EARLIEST_YEAR}"));
    }
    Ok(t)
}

/// Parses a full date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let p = parse_partial_date(s)?;
    if !p.is_full() {
        return Err(format!("{s} is not a full date (YYYY-MM-DD)"));
    }
    Ok(p.earliest())
}

/// Parses a date that may be partial: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and a real calendar date.
pub fn parse_partial_date(s: &str) -> Result<PartialDate, String> {
    if s.is_empty() {
        return Err("is required".into());
    }
    let bad = || format!("{} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)", quote(s));
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| -> Result<u32, String> {
        if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
            Ok(p.parse().expect("digits"))
        } else {
            Err(bad())
        }
    };
    let (year, month, day) = match parts.as_slice() {
        [y] => (num(y, 4)?, None, None),
        [y, m] => (num(y, 4)?, Some(num(m, 2)?), None),
        [y, m, d] => (num(y, 4)?, Some(num(m, 2)?), Some(num(d, 2)?)),
        _ => return Err(bad()),
    };
    let year = year as i32;
    if let Some(m) = month {
        if !(1..=12).contains(&m) {
            return Err(format!("{s} is not a valid date"));
        }
    }
    if NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1)).is_none() {
        return Err(format!("{s} is not a valid date"));
    }
    if year < EARLIEST_YEAR {
        return Err(format!("{s} is before {EARLIEST_YEAR}"));
    }
    Ok(PartialDate { year, month, day })
}

fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(EARLIEST_YEAR, 1, 1).expect("valid")
}

/// Checks free text: its length in characters, and no control characters (tab and newline
/// allowed).
pub fn check_text(s: &str, max: usize) -> Result<(), String> {
    // Fast path: printable ASCII only (most fields), tested without branches so that it runs
    // on whole vectors of bytes; anything else takes the careful path.
    if s.as_bytes().iter().fold(true, |ok, &b| ok & (b.wrapping_sub(0x20) < 0x5f)) {
        if s.len() > max {
            return Err(format!("is {} characters long, more than the {max} allowed", s.len()));
        }
        return Ok(());
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!("is {n} characters long, more than the {max} allowed"));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() && *c != '\n' && *c != '\t') {
        return Err(format!("contains the control character U+{:04X}", c as u32));
    }
    Ok(())
}

/// Checks a reference (case, person, offence): required, short, no whitespace at its ends and no
/// control characters.
pub fn check_ref(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("is required".into());
    }
    check_text(s, MAX_REF)?;
    if s.contains(['\n', '\t']) {
        return Err("must be on one line".into());
    }
    if s.trim() != s {
        return Err(format!("{} has leading or trailing spaces", quote(s)));
    }
    Ok(())
}

/// Checks one part of a person's name.
pub fn check_name_part(s: &str) -> Result<(), String> {
    check_text(s, MAX_NAME)?;
    if s.contains(['\n', '\t']) {
        return Err("must be on one line".into());
    }
    if !s.is_empty() && !s.chars().any(char::is_alphabetic) {
        return Err(format!("{} contains no letter", quote(s)));
    }
    if s.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!("{} contains a digit", quote(s)));
    }
    Ok(())
}

/// Checks an identifier's value against its kind's format.
pub fn check_identifier(kind: IdentifierKind, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("is required".into());
    }
    check_text(value, MAX_IDENTIFIER)?;
    let ok = match kind {
        IdentifierKind::Phone => {
            // Separators aside, an optional leading `+` then 7 to 15 digits.
            let mut digits = value.bytes().filter(|b| !matches!(b, b' ' | b'-' | b'(' | b')' | b'.')).peekable();
            if digits.peek() == Some(&b'+') {
                digits.next();
            }
            let mut n = 0;
            digits.all(|b| {
                n += 1;
                b.is_ascii_digit()
            }) && (7..=15).contains(&n)
        }
        IdentifierKind::Email => {
            let mut parts = value.split('@');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(local), Some(domain), None) => {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !value.contains(char::is_whitespace)
                }
                _ => false,
            }
        }
        IdentifierKind::Vehicle => {
            let compact = value.bytes().filter(|b| *b != b' ');
            (2..=10).contains(&compact.clone().count()) && compact.clone().all(|b| b.is_ascii_alphanumeric())
        }
        IdentifierKind::SocialHandle => value.chars().count() <= 64 && !value.contains(char::is_whitespace),
        IdentifierKind::PncId => is_pnc_id(value),
        IdentifierKind::Passport => (5..=20).contains(&value.len()) && value.chars().all(|c| c.is_ascii_alphanumeric()),
        // Formats differ by country (a UK NI number is `AB123456C`): letters, digits, spaces, dashes.
        IdentifierKind::NationalId => {
            (5..=20).contains(&value.len())
                && value.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
                && value.chars().any(|c| c.is_ascii_alphanumeric())
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} is not a valid {}", quote(value), kind.name()))
    }
}

/// A PNC identifier: a two- or four-digit year, a slash, up to seven digits and a check letter
/// (`98/123456X`, `2004/0012345K`).
fn is_pnc_id(s: &str) -> bool {
    let Some((year, rest)) = s.split_once('/') else { return false };
    // Bytes, not characters: the last character may be any character at all.
    let Some((letter, digits)) = rest.as_bytes().split_last() else { return false };
    (year.len() == 2 || year.len() == 4)
        && year.bytes().all(|b| b.is_ascii_digit())
        && (1..=7).contains(&digits.len())
        && digits.iter().all(|b| b.is_ascii_digit())
        && letter.is_ascii_uppercase()
}

/// A UK postcode (`M1 1AE`, `SW1A 2AA`), upper case, with or without the space.
pub fn check_uk_postcode(s: &str) -> Result<(), String> {
    // At most 7 characters once spaces are gone, so a stack buffer holds them (a longer or
    // non-ASCII value is no postcode).
    let mut buf = [0u8; 7];
    let mut len = 0;
    let mut fits = true;
    for c in s.bytes().filter(|c| *c != b' ') {
        if len == buf.len() {
            fits = false;
            break;
        }
        buf[len] = c;
        len += 1;
    }
    let b = &buf[..len];
    let valid = fits && (5..=7).contains(&b.len()) && {
        let (outward, inward) = b.split_at(b.len() - 3);
        let inward_ok = inward[0].is_ascii_digit() && inward[1].is_ascii_uppercase() && inward[2].is_ascii_uppercase();
        let letters = outward.iter().take_while(|c| c.is_ascii_uppercase()).count();
        let rest = &outward[letters..];
        let outward_ok = (1..=2).contains(&letters)
            && !rest.is_empty()
            && rest.len() <= 2
            && rest[0].is_ascii_digit()
            && rest[1..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        inward_ok && outward_ok
    };
    if valid {
        Ok(())
    } else {
        Err(format!("{} is not a UK postcode", quote(s)))
    }
}

/// Quotes a value for an error message, cut short if long, so a huge value can't flood a message.
pub fn quote(s: &str) -> String {
    const SHOW: usize = 40;
    if s.chars().count() > SHOW {
        let head: String = s.chars().take(SHOW).collect();
        format!("{head:?}…")
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_dates() {
        assert_eq!(parse_partial_date("1985").unwrap().to_string(), "1985");
        assert_eq!(parse_partial_date("1985-03").unwrap().to_string(), "1985-03");
        assert_eq!(parse_partial_date("1985-03-14").unwrap().to_string(), "1985-03-14");
        assert_eq!(parse_partial_date("2031-02-30").unwrap_err(), "2031-02-30 is not a valid date");
        assert_eq!(parse_partial_date("2023-02-29").unwrap_err(), "2023-02-29 is not a valid date");
        assert!(parse_partial_date("2024-02-29").is_ok());
        assert!(parse_partial_date("1985-13").is_err());
        assert!(parse_partial_date("85-03-14").is_err());
        assert!(parse_partial_date("1985/03/14").is_err());
        assert!(parse_partial_date("1899-12-31").unwrap_err().contains("before 1900"));
        assert!(parse_date("1985-03").unwrap_err().contains("not a full date"));
    }

    #[test]
    fn timestamps() {
        assert!(parse_timestamp("2024-03-01T10:15:00Z").is_ok());
        assert!(parse_timestamp("2024-03-01T10:15:00+01:00").is_ok());
        assert!(parse_timestamp("2024-03-01 10:15").unwrap_err().contains("RFC 3339"));
        assert_eq!(parse_timestamp("").unwrap_err(), "is required");
    }

    #[test]
    fn identifiers() {
        use IdentifierKind::*;
        assert!(check_identifier(Phone, "07700 900123").is_ok());
        assert!(check_identifier(Phone, "+44 7700 900123").is_ok());
        assert!(check_identifier(Phone, "07700 9OO123").is_err());
        assert!(check_identifier(Email, "a.b@example.org").is_ok());
        assert!(check_identifier(Email, "a.b@example").is_err());
        assert!(check_identifier(Vehicle, "AB12 CDE").is_ok());
        assert!(check_identifier(Vehicle, "AB12-CDE").is_err());
        assert!(check_identifier(PncId, "98/123456X").is_ok());
        assert!(check_identifier(PncId, "2004/0012345K").is_ok());
        assert!(check_identifier(PncId, "98-123456X").is_err());
        // Found by the import property test (issue 7): a multi-byte last character panicked.
        assert!(check_identifier(PncId, "/®").is_err());
        assert!(check_identifier(PncId, "98/123456®").is_err());
        assert!(check_identifier(PncId, "98/").is_err());
        assert!(check_identifier(Passport, "123456789").is_ok());
        assert!(check_identifier(NationalId, "AB 12 34 56 C").is_ok());
        assert!(check_identifier(NationalId, "123-45-6789").is_ok());
        assert!(check_identifier(NationalId, "7364009").is_ok());
        assert!(check_identifier(NationalId, "1234").is_err());
        assert!(check_identifier(NationalId, "AB/123456").is_err());
        assert!(check_identifier(SocialHandle, "@some one").is_err());
    }

    #[test]
    fn postcodes() {
        for ok in ["M1 1AE", "SW1A 2AA", "B33 8TH", "CR2 6XH", "DN55 1PT", "LS11AA"] {
            assert!(check_uk_postcode(ok).is_ok(), "{ok}");
        }
        for bad in ["", "M1", "11 1AA", "m1 1ae", "SW1A 2A", "ABC1 1AA"] {
            assert!(check_uk_postcode(bad).is_err(), "{bad}");
        }
    }

    /// The checks above avoid allocating; these are their plain definitions, which they must
    /// agree with on any input.
    mod same_as_plain_definitions {
        use super::*;
        use proptest::prelude::*;

        fn plain_postcode(s: &str) -> bool {
            let compact: String = s.chars().filter(|c| *c != ' ').collect();
            let b = compact.as_bytes();
            (5..=7).contains(&b.len()) && {
                let (outward, inward) = b.split_at(b.len() - 3);
                let letters = outward.iter().take_while(|c| c.is_ascii_uppercase()).count();
                let rest = &outward[letters..];
                inward[0].is_ascii_digit()
                    && inward[1].is_ascii_uppercase()
                    && inward[2].is_ascii_uppercase()
                    && (1..=2).contains(&letters)
                    && !rest.is_empty()
                    && rest.len() <= 2
                    && rest[0].is_ascii_digit()
                    && rest[1..].iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            }
        }

        fn plain_phone(value: &str) -> bool {
            let digits: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
            let digits = digits.strip_prefix('+').unwrap_or(&digits);
            (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        }

        fn plain_vehicle(value: &str) -> bool {
            let compact: String = value.chars().filter(|c| *c != ' ').collect();
            (2..=10).contains(&compact.len()) && compact.chars().all(|c| c.is_ascii_alphanumeric())
        }

        proptest! {
            #[test]
            fn postcode(s in prop_oneof!["[A-Z0-9 aé+]{0,12}", "[A-Z]{1,3}[0-9A-Z]{1,3} {0,2}[0-9][A-Z]{2}"]) {
                prop_assert_eq!(check_uk_postcode(&s).is_ok(), plain_postcode(&s));
            }

            #[test]
            fn phone(s in "[0-9 ()+.\\-xé]{1,20}") {
                prop_assert_eq!(check_identifier(IdentifierKind::Phone, &s).is_ok(), plain_phone(&s));
            }

            #[test]
            fn vehicle(s in "[A-Z0-9 a\\-é]{1,14}") {
                prop_assert_eq!(check_identifier(IdentifierKind::Vehicle, &s).is_ok(), plain_vehicle(&s));
            }
        }
    }

    #[test]
    fn text_limits() {
        assert!(check_text(&"x".repeat(MAX_TEXT), MAX_TEXT).is_ok());
        assert!(check_text(&"x".repeat(MAX_TEXT + 1), MAX_TEXT).unwrap_err().contains("more than"));
        assert!(check_text("a\u{0}b", 10).unwrap_err().contains("U+0000"));
        assert!(check_text("é\u{85}", 10).unwrap_err().contains("U+0085"));
        assert!(check_text(&"é".repeat(11), 10).unwrap_err().contains("11 characters"));
        assert!(check_text(&"é".repeat(10), 10).is_ok());
        assert!(check_ref(" C1").is_err());
        assert!(check_name_part("J0hn").is_err());
        assert!(check_name_part("O'Brien-Smith").is_ok());
        assert!(quote(&"y".repeat(100)).ends_with('…'));
    }

    proptest::proptest! {
        /// Any text as any identifier, postcode or date: judged without panicking, and its
        /// normal form as an identifier is computed without panicking either.
        #[test]
        fn any_text_is_judged_without_panicking(v in "\\PC{0,24}|.{0,24}|[0-9/A-Z®€]{0,14}") {
            use crate::IdentifierKind::*;
            for kind in [Phone, Email, Vehicle, SocialHandle, PncId, Passport, NationalId] {
                // Normal forms are also taken of what investigators search for: unchecked text.
                let _ = check_identifier(kind, &v);
                let _ = crate::resolution::normalise_identifier(kind, &v);
            }
            let _ = check_uk_postcode(&v);
            let _ = parse_partial_date(&v);
        }
    }
}
