//! The seeded train/validation split: which pairs `import --val-fraction` holds out,
//! decided by a hash of the seed and the note id, so it is the same on every machine.

use sha2::{Digest, Sha256};

use super::Pair;

/// Splits pairs into train and validation, deterministically: pairs are ordered by the
/// sha256 of `seed` and their note id, and the first `round(n × fraction)` are held out.
/// Each note id lands in exactly one part; input order is kept within each part.
pub fn split_pairs(pairs: Vec<Pair>, val_fraction: f64, seed: u64) -> (Vec<Pair>, Vec<Pair>) {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let val_count = ((pairs.len() as f64) * val_fraction).round() as usize;
    let mut keyed: Vec<(Vec<u8>, usize)> = pairs
        .iter()
        .enumerate()
        .map(|(position, pair)| {
            let mut hasher = Sha256::new();
            hasher.update(seed.to_le_bytes());
            hasher.update(pair.note_id.as_bytes());
            (hasher.finalize().to_vec(), position)
        })
        .collect();
    keyed.sort_unstable();
    let mut held_out = vec![false; pairs.len()];
    for &(_, position) in keyed.iter().take(val_count) {
        held_out[position] = true;
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (pair, out) in pairs.into_iter().zip(held_out) {
        if out {
            val.push(pair);
        } else {
            train.push(pair);
        }
    }
    (train, val)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;
    use std::collections::HashSet;

    fn numbered(n: usize) -> Vec<Pair> {
        (0..n)
            .map(|i| Pair {
                note_id: format!("n-{i}"),
                correct_note: "a".into(),
                incorrect_note: "b".into(),
                error_type: ErrorType::Diagnosis,
                error_sentence: None,
                corrected_sentence: None,
            })
            .collect()
    }

    #[test]
    fn split_is_deterministic_disjoint_and_sized() {
        let (train, val) = split_pairs(numbered(100), 0.2, 7);
        assert_eq!((train.len(), val.len()), (80, 20));
        let ids = |part: &[Pair]| {
            part.iter()
                .map(|p| p.note_id.clone())
                .collect::<HashSet<_>>()
        };
        assert!(ids(&train).is_disjoint(&ids(&val)));
        let (train_again, val_again) = split_pairs(numbered(100), 0.2, 7);
        assert_eq!((train, val.clone()), (train_again, val_again));
        let (_, other_seed) = split_pairs(numbered(100), 0.2, 8);
        assert_ne!(ids(&val), ids(&other_seed));
    }
}
