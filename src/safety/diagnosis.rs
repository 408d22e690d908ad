//! Diagnosis terms (by suffix or a head noun such as `disease`) that the paraphrase does
//! not repeat: warnings only, since a diagnosis may be named by a synonym.

use std::collections::{BTreeSet, HashSet};

use super::text::is_content_word;
use super::{Check, Finding};

const DIAGNOSIS_SUFFIXES: &[&str] = &[
    "itis", "osis", "emia", "aemia", "oma", "pathy", "plasia", "trophy", "algia",
];
const DIAGNOSIS_HEADS: &[&str] = &[
    "disease",
    "syndrome",
    "disorder",
    "infection",
    "deficiency",
    "fracture",
    "carcinoma",
    "cancer",
    "failure",
    "insufficiency",
    "stenosis",
    "injury",
    "palsy",
];

/// Diagnosis-like terms among lower-case `tokens`.
fn diagnosis_terms(tokens: &[&str]) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.len() > 5 && DIAGNOSIS_SUFFIXES.iter().any(|s| token.ends_with(s)) {
            terms.insert((*token).to_string());
        }
        if DIAGNOSIS_HEADS.contains(token) && i > 0 && is_content_word(tokens[i - 1]) {
            terms.insert(format!("{} {token}", tokens[i - 1]));
        }
    }
    terms
}

/// A warning for each diagnosis term of the original whose words the paraphrase lacks.
pub(super) fn diagnosis_warnings(
    original_words: &[&str],
    paraphrase_words: &[&str],
) -> Vec<Finding> {
    let in_paraphrase: HashSet<&str> = paraphrase_words.iter().copied().collect();
    diagnosis_terms(original_words)
        .into_iter()
        .filter(|term| !term.split(' ').all(|w| in_paraphrase.contains(w)))
        .map(|term| Finding {
            check: Check::DiagnosisDiffers,
            detail: term,
        })
        .collect()
}
