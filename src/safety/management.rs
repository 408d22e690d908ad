//! Management statements: the sentences that say what was done for the patient or is
//! planned (a test ordered, a treatment given, a referral, a disposition), found by their
//! action words (`recommended`, `administered`, `scheduled`, `referred`, …), and the check
//! that each one the original states is still stated and that the paraphrase adds none.
//! MEDEC's "management" errors swap one plan for another in a short sentence that names
//! no drug or lexicon procedure ("Ethics committee was consulted"), which the per-concept
//! checks and the sentence coverage check (five content words at least) cannot see.
//!
//! A statement is its action word's clause (a reason after `after`, `because`, … is left
//! out). It is kept when at least half of its content words (not the action word) stand
//! together in one sentence of the other text: the same word, the same word with another
//! ending, or a word of a lexicon concept that sentence names in other words (`US` for
//! ultrasonography).

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use super::facts::Facts;
use super::lexicon::senses;
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

/// The most content words a statement may have and still need them in one sentence.
const LONG: usize = 6;

/// Words that open a subordinate clause: the reason or time of a plan, not the plan.
const SUBORDINATORS: &[&str] = &[
    "after", "because", "since", "when", "once", "if", "until", "while", "due",
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
    // Where the results stand and who said it: no part of the plan.
    "seen",
    "below",
    "shown",
    "following",
    "follows",
    "values",
    "results",
    "says",
    "states",
    "reports",
    "admits",
    "notes",
    "currently",
    "having",
    "undergo",
    // Who the patient is (the demographics check compares it).
    "man",
    "woman",
    "boy",
    "girl",
    "male",
    "female",
    "infant",
];

/// `ACTIONS` and `GENERIC` as hash sets (tested for every token of every note).
fn sets() -> &'static (FxHashSet<&'static str>, FxHashSet<&'static str>) {
    static SETS: OnceLock<(FxHashSet<&'static str>, FxHashSet<&'static str>)> = OnceLock::new();
    SETS.get_or_init(|| {
        (
            ACTIONS.iter().copied().collect(),
            GENERIC.iter().copied().collect(),
        )
    })
}

/// One management statement: its content words (token indices) and its byte range.
struct Statement {
    words: Vec<usize>,
    start: usize,
    end: usize,
}

/// The management statements of a note, sentence by sentence.
fn statements(facts: &Facts) -> Vec<Statement> {
    let tokens = &facts.tokens;
    let (actions, generic) = sets();
    let mut out = Vec::new();
    let mut first = 0;
    while first < tokens.len() {
        let sentence = tokens[first].sentence;
        let last = (first..tokens.len())
            .find(|&t| tokens[t].sentence != sentence)
            .unwrap_or(tokens.len());
        let range = first..last;
        first = last;
        // `as prescribed`, `as indicated`: how something was taken, not a plan.
        let Some(action) = range.clone().find(|&t| {
            actions.contains(tokens[t].lower.as_ref())
                && !(t > range.start && tokens[t - 1].lower == "as")
        }) else {
            continue;
        };
        // The clause of the action word: a subordinate clause (`after the fluid shows
        // …`) says why, not what was done.
        let clause_start = (range.start..action)
            .rev()
            .find(|&t| SUBORDINATORS.contains(&tokens[t].lower.as_ref()))
            .map_or(range.start, |t| t + 1);
        let clause_end = (action + 1..range.end)
            .find(|&t| SUBORDINATORS.contains(&tokens[t].lower.as_ref()))
            .unwrap_or(range.end);
        let words: Vec<usize> = (clause_start..clause_end)
            .filter(|&t| {
                let w = tokens[t].lower.as_ref();
                w.len() >= 3
                    && w.chars().all(|c| c.is_alphabetic() || c == '-')
                    && !actions.contains(w)
                    && !generic.contains(w)
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

/// Whether the statement's words mostly stand in one sentence of `other` (the same word,
/// the same word with another ending, or a word of a concept `other` names there).
/// A long statement (more than `LONG` content words: a lab table after `ordered`, which a
/// paraphrase may reflow into other sentences) needs its words anywhere in `other`.
fn kept(facts: &Facts, statement: &Statement, other: &Facts) -> bool {
    // Each statement word with the canonical concept it belongs to, if any.
    let words: Vec<(&str, Option<&str>)> = statement
        .words
        .iter()
        .map(|&t| {
            let concept = facts
                .mentions
                .iter()
                .find(|m| m.first <= t && t < m.last)
                .map(|m| m.entry.canonical);
            (facts.tokens[t].lower.as_ref(), concept)
        })
        .collect();
    // Whether each word of `other` is hyphenated, tested once, not once per word pair.
    let hyphenated: Vec<bool> = other.tokens.iter().map(|t| t.lower.contains('-')).collect();
    // The abbreviation senses of each word of `other`, looked up once, not once per word
    // pair.
    let abbreviations: Vec<[&str; 2]> = other.tokens.iter().map(|t| senses_of(&t.lower)).collect();
    let found_in = |range: std::ops::Range<usize>| {
        let tokens = &other.tokens[range.clone()];
        let found = words
            .iter()
            .filter(|(w, concept)| {
                concept.is_some_and(|c| {
                    other
                        .mentions
                        .iter()
                        .any(|m| range.contains(&m.first) && m.entry.canonical == c)
                }) || tokens
                    .iter()
                    .zip(&hyphenated[range.clone()])
                    .zip(&abbreviations[range.clone()])
                    .any(|((o, &hyphen), senses)| {
                        same_word(w, &o.lower, hyphen) || abbreviates(senses, w)
                    })
                    || spelled_out(&senses_of(w), tokens, &hyphenated[range.clone()])
            })
            .count();
        found * 2 >= words.len()
    };
    if statement.words.len() > LONG {
        return found_in(0..other.tokens.len());
    }
    let mut start = 0;
    while start < other.tokens.len() {
        let sentence = other.tokens[start].sentence;
        let end = start
            + other.tokens[start..]
                .iter()
                .take_while(|t| t.sentence == sentence)
                .count();
        if found_in(start..end) {
            return true;
        }
        start = end;
    }
    false
}

/// The same word, a part of a hyphenated one, or the same but for its ending (`reassurance`
/// and `reassured`: all but the last three letters of the shorter, five at least).
/// `other_hyphenated`: whether `other` holds a `-`.
fn same_word(word: &str, other: &str, other_hyphenated: bool) -> bool {
    let common = word
        .bytes()
        .zip(other.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    if common == word.len() && common == other.len() {
        return true;
    }
    if common >= 5 && common >= word.len().min(other.len()).saturating_sub(3) {
        return true;
    }
    other_hyphenated && other.split('-').any(|p| p == word)
}

/// The senses of `short` as a clinical abbreviation and of its singular (`labs`: lab), one
/// a line; empty strings when it is none.
fn senses_of(short: &str) -> [&'static str; 2] {
    let singular = short.strip_suffix('s').filter(|s| s.len() >= 2);
    [senses(short), singular.map_or("", senses)]
}

/// Whether an abbreviation with these senses (`senses_of`) holds `word` in one of them
/// (`ccu`: coronary care unit; `labs`: laboratory).
fn abbreviates(senses: &[&str; 2], word: &str) -> bool {
    senses
        .iter()
        .flat_map(|s| s.lines())
        .flat_map(|sense| sense.split([' ', '-']))
        .any(|part| part.len() >= 3 && same_word(word, part, false))
}

/// Whether an abbreviation with these senses stands spelled out in `tokens`: every word of
/// one of its senses is there (`labs`: laboratory; `bipap` needs all of bilevel positive
/// airway pressure).
fn spelled_out(senses: &[&str; 2], tokens: &[super::text::Token], hyphenated: &[bool]) -> bool {
    senses.iter().flat_map(|s| s.lines()).any(|sense| {
        sense
            .split([' ', '-'])
            .filter(|part| part.len() >= 3)
            .all(|part| {
                tokens
                    .iter()
                    .zip(hyphenated)
                    .any(|(o, &hyphen)| same_word(part, &o.lower, hyphen))
            })
    })
}

/// Rejects a management statement of the original the paraphrase no longer makes, and
/// one the paraphrase makes that the original does not.
pub(super) fn compare_management(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    for s in statements(before) {
        if !kept(before, &s, after) {
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
        if !kept(after, &s, before) {
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
        super::super::facts::compared_by(compare_management, original, paraphrase).len()
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
        // The reason after the plan is no part of it.
        assert_eq!(
            compared(
                "Chest tube placement is performed after the fluid shows a low pH.",
                "Pleural decortication is performed after the fluid shows a low pH."
            ),
            2
        );
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
