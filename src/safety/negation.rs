//! Negation: cues, their NegEx-like scope, how often each word is said negated and
//! asserted, and the check that no finding flips between the two.

use std::collections::HashMap;

use super::text::{sentences, stem, words, NEGATION_CUES, STOPWORDS};
use super::{Check, Finding};

/// Words that close a negation's scope.
const SCOPE_ENDS: &[&str] = &[
    "but", "however", "although", "though", "except", "which", "who", "whereas", "while", "after",
    "because", "since", "until",
];
/// Verbs that open a new predicate: once a negation has reached a word, one of these
/// ends its scope ("denies chest pain and is on metoprolol").
const CLAUSE_VERBS: &[&str] = &[
    "is",
    "was",
    "are",
    "were",
    "has",
    "have",
    "had",
    "takes",
    "took",
    "reports",
    "reported",
    "shows",
    "showed",
    "reveals",
    "revealed",
    "appears",
    "presents",
    "complains",
    "underwent",
    "receives",
    "received",
    "started",
    "began",
    "uses",
    "drinks",
    "smokes",
    "lives",
    "works",
];
/// Negatable words a negation reaches (a NegEx-like window; measured, see benches/safety.rs).
const SCOPE_WORDS: usize = 5;

/// A word that can be negated: a content word of three letters or more, or a number.
fn negatable(word: &str) -> bool {
    (word.len() >= 3
        && word.chars().all(|c| c.is_alphabetic() || c == '-')
        && !STOPWORDS.contains(&word)
        && !NEGATION_CUES.contains(&word))
        || word.chars().any(|c| c.is_ascii_digit())
}

/// How often each stem is said negated (first) and asserted (second).
type Counts<'a> = (HashMap<&'a str, usize>, HashMap<&'a str, usize>);

/// How often each word is said inside and outside negation scopes. A scope opens at a
/// cue and covers the next `SCOPE_WORDS` negatable words, closing early at a clause break.
/// `lower` is the lower-cased text.
fn negation_counts(lower: &str) -> Counts<'_> {
    let mut negated = HashMap::new();
    let mut asserted = HashMap::new();
    for clause in lower.split([',', ':', '(', ')']).flat_map(sentences) {
        let mut scope = 0usize;
        for token in words(clause) {
            if NEGATION_CUES.contains(&token) || token.ends_with("n't") {
                scope = SCOPE_WORDS;
                continue;
            }
            let reached = scope < SCOPE_WORDS;
            if SCOPE_ENDS.contains(&token) || (reached && CLAUSE_VERBS.contains(&token)) {
                scope = 0;
            }
            if !negatable(token) {
                continue;
            }
            let side = if scope > 0 {
                scope -= 1;
                &mut negated
            } else {
                &mut asserted
            };
            *side.entry(stem(token)).or_insert(0) += 1;
        }
    }
    (negated, asserted)
}

/// Rejects a finding the original negates and the paraphrase asserts, and the reverse.
pub(super) fn compare_negations(original: &str, paraphrase: &str, rejections: &mut Vec<Finding>) {
    let original = negation_counts(original);
    let paraphrase = negation_counts(paraphrase);
    for (check, from, to, what) in [
        (
            Check::NegationLost,
            &original,
            &paraphrase,
            "negated in the original, asserted in the paraphrase",
        ),
        (
            Check::NegationAdded,
            &paraphrase,
            &original,
            "asserted in the original, negated in the paraphrase",
        ),
    ] {
        let mut flipped = flipped(from, to);
        if !flipped.is_empty() {
            rejections.push(Finding {
                check,
                detail: format!("{what}: {}", join(&mut flipped)),
            });
        }
    }
}

/// The words `from` negates that `to` says less often negated and more often asserted:
/// their negation was lost on the way from `from` to `to`.
fn flipped<'a>(from: &Counts<'a>, to: &Counts<'_>) -> Vec<&'a str> {
    let count = |map: &HashMap<&str, usize>, w: &str| map.get(w).copied().unwrap_or(0);
    let ((from_negated, from_asserted), (to_negated, to_asserted)) = (from, to);
    from_negated
        .keys()
        .copied()
        .filter(|w| {
            count(to_negated, w) < count(from_negated, w)
                && count(to_asserted, w) > count(from_asserted, w)
        })
        .collect()
}

/// Sorted, in backticks (hash maps have no order of their own).
fn join(words: &mut [&str]) -> String {
    words.sort_unstable();
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
