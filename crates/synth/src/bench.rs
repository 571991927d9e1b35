//! Repetitions of a scenario for benchmarks: the same events under other case references and
//! other event ids, so that a benchmark can have millions of valid events without generating
//! millions of people.

use beaconport_domain::{Body, Event, EventId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Appends `events` again, as repetition `round` (1 and up): every case reference moved to an
/// unused number, every event id (and every reference to one) changed in its random bits only, so
/// it stays a UUID v7 of the same time.
pub fn repeat(events: &[Event], seed: u64, round: u64, out: &mut Vec<Event>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut mask = [0u8; 16];
    rng.fill(&mut mask[6..]);
    // Keep the version (high nibble of byte 6) and the variant (top bits of byte 8).
    mask[6] &= 0x0F;
    mask[8] &= 0x3F;
    let remap = |id: EventId| {
        let mut b = *id.as_bytes();
        for (x, m) in b.iter_mut().zip(mask) {
            *x ^= m;
        }
        EventId::from_bytes(b)
    };
    for e in events {
        let mut body = e.body.clone();
        match &mut body {
            Body::RecordCorrected(c) => c.corrected_event_id = remap(c.corrected_event_id),
            Body::RecordRetracted(r) => r.retracted_event_id = remap(r.retracted_event_id),
            _ => {}
        }
        out.push(Event {
            id: remap(e.id),
            force: e.force,
            case_ref: renumber(&e.case_ref, round),
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            schema_version: e.schema_version,
            recorded_by: e.recorded_by.clone(),
            body,
        });
    }
}

/// `GMP-2014-003812` in round 2 is `GMP-2014-20003812`.
fn renumber(case_ref: &str, round: u64) -> String {
    match case_ref.rsplit_once('-').and_then(|(head, n)| Some((head, n.parse::<u64>().ok()?))) {
        Some((head, n)) => format!("{head}-{}", round * 10_000_000 + n),
        None => format!("{case_ref}-{round}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_refs_move_to_unused_numbers() {
        assert_eq!(renumber("GMP-2014-003812", 2), "GMP-2014-20003812");
        assert_eq!(renumber("X", 1), "X-1");
    }
}
