//! Management statements: the sentences that say what was done for the patient or is
//! planned (a test ordered, a treatment given, a referral, a disposition), found by their
//! action words (`recommended`, `administered`, `scheduled`, `referred`, …), and the check
//! that each one the original states is still stated and that the paraphrase adds none.
//! MEDEC's "management" errors swap one plan for another in a short sentence that names
//! no drug or lexicon procedure ("Ethics committee was consulted"), which the per-concept
//! checks and the sentence coverage check (five content words at least) cannot see.
//!
//! A statement is kept when at least half of its content words (not its action word)
//! stand in the other text: the same word, the same word with another ending, or a word
//! of a lexicon concept the other text names in other words (`US` for ultrasonography).

use rustc_hash::FxHashSet;

use super::facts::Facts;
use super::text::is_stopword;
use super::{Check, Finding};

/// Action words that make a sentence a management statement (a plan, an order, a
/// treatment given, a disposition), in the passive and plan forms clinical notes use.
const ACTIONS: &[&str] = &[
    "recommended",
    "recommend",
    "recommends",
    "administered",
    "started",
    "initiated",
    "begun",
    "performed",
    "scheduled",
    "referred",
    "consulted",
    "notified",
    "instructed",
    "advised",
    "prescribed",
    "ordered",
    "planned",
    "plan",
    "required",
    "indicated",
    "discharged",
    "admitted",
    "reassured",
    "counseled",
    "measured",
    "removed",
    "placed",
    "inserted",
    "evaluated",
    "obtained",
    "given",
    "hospitalized",
];

/// Words of a statement that say nothing about which plan it is.
const GENERIC: &[&str] = &[
    "patient",
    "pt",
    "was",
    "were",
    "is",
    "are",
    "be",
    "been",
    "the",
    "for",
    "and",
    "with",
    "this",
    "that",
    "his",
    "her",
    "their",
    "then",
    "further",
    "next",
    "steps",
    "help",
    "determine",
    "dose",
    "doses",
    "to",
    "of",
    "a",
    "an",
    "in",
    "on",
    "at",
    "by",
    "as",
];

/// One management statement: its content words (token indices) and its byte range.
struct Statement {
    words: Vec<usize>,
    start: usize,
    end: usize,
}

/// The management statements of a note, sentence by sentence.
fn statements(facts: &Facts) -> Vec<Statement> {
    let tokens = &facts.tokens;
    let mut out = Vec::new();
    let mut first = 0;
    while first < tokens.len() {
        let sentence = tokens[first].sentence;
        let last = (first..tokens.len())
            .find(|&t| tokens[t].sentence != sentence)
            .unwrap_or(tokens.len());
        let range = first..last;
        first = last;
        if !range
            .clone()
            .any(|t| ACTIONS.contains(&tokens[t].lower.as_str()))
        {
            continue;
        }
        let words: Vec<usize> = range
            .clone()
            .filter(|&t| {
                let w = tokens[t].lower.as_str();
                w.len() >= 3
                    && w.chars().all(|c| c.is_alphabetic() || c == '-')
                    && !ACTIONS.contains(&w)
                    && !GENERIC.contains(&w)
                    && !is_stopword(w)
            })
            .collect();
        if words.is_empty() {
            continue;
        }
        out.push(Statement {
            words,
            start: tokens[range.start].start,
            end: tokens[range.end - 1].end,
        });
    }
    out
}

/// Whether the statement's words mostly stand in `other`.
fn kept(facts: &Facts, statement: &Statement, other: &Facts, named: &FxHashSet<&str>) -> bool {
    let by_concept: FxHashSet<usize> = facts
        .mentions
        .iter()
        .filter(|m| named.contains(m.entry.canonical))
        .flat_map(|m| m.first..m.last)
        .collect();
    let found = statement
        .words
        .iter()
        .filter(|&&t| {
            let w = facts.tokens[t].lower.as_str();
            by_concept.contains(&t) || other.has_word(w) || other.has_word_like(w)
        })
        .count();
    found * 2 >= statement.words.len()
}

/// Rejects a management statement of the original the paraphrase no longer makes, and
/// one the paraphrase makes that the original does not.
pub(super) fn compare_management(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let canonicals = |facts: &Facts| -> FxHashSet<&'static str> {
        facts.mentions.iter().map(|m| m.entry.canonical).collect()
    };
    let (in_original, in_paraphrase) = (canonicals(before), canonicals(after));
    for s in statements(before) {
        if !kept(before, &s, after, &in_paraphrase) {
            let span = before.span(s.start, s.end);
            rejections.push(Finding::new(
                Check::Management,
                format!("the management statement `{span}` is not in the paraphrase"),
                Some(span),
                None,
            ));
        }
    }
    for s in statements(after) {
        if !kept(after, &s, before, &in_original) {
            let span = after.span(s.start, s.end);
            rejections.push(Finding::new(
                Check::Management,
                format!("the management statement `{span}` is not in the original"),
                None,
                Some(span),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(original: &str, paraphrase: &str) -> usize {
        let mut out = Vec::new();
        compare_management(&Facts::read(original), &Facts::read(paraphrase), &mut out);
        out.len()
    }

    #[test]
    fn a_swapped_plan_is_rejected_and_a_reworded_one_passes() {
        let note = "She has pain in the neck. The ethics committee was consulted.";
        assert_eq!(
            compared(
                note,
                "She has pain in the neck. The ventilator was removed."
            ),
            2
        );
        assert_eq!(compared(note, "Neck pain. Ethics committee consulted."), 0);
        // The same plan said with an abbreviation of its test.
        assert_eq!(
            compared(
                "Follow-up ultrasound was scheduled.",
                "Follow-up US scheduled."
            ),
            0
        );
    }
}
