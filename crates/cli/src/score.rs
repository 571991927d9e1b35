//! Pairwise scoring of a resolution against a labelled truth: every pair of records put in one
//! person is a predicted match; precision, recall and F1 over pairs, as Splink and the record
//! linkage literature report them.

use std::collections::HashMap;
use std::hash::Hash;

/// Pair counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairScore {
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
}

impl PairScore {
    pub fn precision(&self) -> f64 {
        if self.predicted_pairs == 0 {
            1.0
        } else {
            self.correct_pairs as f64 / self.predicted_pairs as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.true_pairs == 0 {
            1.0
        } else {
            self.correct_pairs as f64 / self.true_pairs as f64
        }
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores `predicted` (record → predicted cluster) against `truth` (record → true entity);
/// records without a truth label are left out.
pub fn pairwise<K: Hash + Eq>(predicted: &[(K, String)], truth: impl Fn(&K) -> Option<String>) -> PairScore {
    let mut by_pred: HashMap<&str, u64> = HashMap::new();
    let mut by_truth: HashMap<String, u64> = HashMap::new();
    let mut by_both: HashMap<(&str, String), u64> = HashMap::new();
    for (k, p) in predicted {
        let Some(t) = truth(k) else { continue };
        *by_pred.entry(p.as_str()).or_default() += 1;
        *by_truth.entry(t.clone()).or_default() += 1;
        *by_both.entry((p.as_str(), t)).or_default() += 1;
    }
    PairScore {
        true_pairs: by_truth.values().map(|&n| pairs(n)).sum(),
        predicted_pairs: by_pred.values().map(|&n| pairs(n)).sum(),
        correct_pairs: by_both.values().map(|&n| pairs(n)).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs() {
        // Truth: {a,b,c} {d}; predicted: {a,b} {c,d}.
        let predicted: Vec<(&str, String)> =
            vec![("a", "1".into()), ("b", "1".into()), ("c", "2".into()), ("d", "2".into())];
        let truth = |k: &&str| Some(if *k == "d" { "y" } else { "x" }.to_string());
        let s = pairwise(&predicted, truth);
        assert_eq!(s, PairScore { true_pairs: 3, predicted_pairs: 2, correct_pairs: 1 });
        assert!((s.precision() - 0.5).abs() < 1e-9);
        assert!((s.recall() - 1.0 / 3.0).abs() < 1e-9);
    }
}
