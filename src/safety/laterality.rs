//! Laterality: how often a note names the left, the right or both sides, and the check
//! that the paraphrase names them as often.

use std::collections::BTreeMap;

use super::{Check, Finding};

/// How often each side is named.
fn laterality_counts(words: &[&str]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    // `right-to-left` names two sides.
    for word in words.iter().flat_map(|w| w.split('-')) {
        let side = match word {
            "left" => "left",
            "right" => "right",
            "bilateral" | "bilaterally" => "bilateral",
            _ => continue,
        };
        *counts.entry(side).or_insert(0) += 1;
    }
    counts
}

/// Rejects a paraphrase that names the sides a different number of times.
pub(super) fn compare_laterality(
    original: &[&str],
    paraphrase: &[&str],
    rejections: &mut Vec<Finding>,
) {
    let before = laterality_counts(original);
    let after = laterality_counts(paraphrase);
    if before != after {
        let show = |counts: &BTreeMap<&str, usize>| {
            counts
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        rejections.push(Finding {
            check: Check::Laterality,
            detail: format!(
                "sides changed: original {{{}}}, paraphrase {{{}}}",
                show(&before),
                show(&after)
            ),
        });
    }
}
