//! Findings, diagnoses, organisms and procedures compared as canonical concepts: a synonym resolves to
//! the same concept and passes ("heart attack" = myocardial infarction); a concept one
//! text names and the other does not is a change (a swapped diagnosis is one dropped and
//! one added).

use std::collections::BTreeMap;

use super::facts::Facts;
use super::lexicon::{Kind, Mention};
use super::text::{is_stopword, Gap};
use super::{Check, Finding};

/// The first mention of each concept of `kind`, by canonical name.
fn concepts<'f>(facts: &'f Facts, kind: Kind) -> BTreeMap<&'static str, &'f Mention> {
    let mut out = BTreeMap::new();
    for m in facts.of_kind([kind]) {
        out.entry(m.entry.canonical).or_insert(m);
    }
    out
}

/// Whether every word of the mention stands in `other` (the concept is there, read as a
/// part of a longer or different match).
fn words_kept(facts: &Facts, mention: &Mention, other: &Facts) -> bool {
    facts.tokens[mention.first..mention.last]
        .iter()
        .all(|t| other.has_word(&t.lower) || other.has_word_like(&t.lower))
}

/// Whether `name` (a concept one text names and the other does not) is excused by a
/// broader concept the other text names in its place ("diabetes mellitus, type 2" said as
/// "diabetes mellitus"): the broader concept must be one the first text does not name
/// itself (else it stands for itself), and its mention must not carry a qualifying word
/// the first text lacks ("epidural hematoma" is no stand-in for "subdural hematoma").
fn broader_in_place(
    name: &str,
    others: &BTreeMap<&'static str, &Mention>,
    own: &BTreeMap<&'static str, &Mention>,
    other_facts: &Facts,
    own_facts: &Facts,
) -> bool {
    others.iter().any(|(o, m)| {
        o.len() >= 6
            && name.len() > o.len()
            && name.starts_with(o)
            && !own.contains_key(o)
            && !new_qualifier(other_facts, m, own_facts)
    })
}

/// Whether the word right before a mention (in the same phrase) is a content word the
/// other text has nowhere: the mention is qualified in a way the other text is not.
fn new_qualifier(facts: &Facts, mention: &Mention, other: &Facts) -> bool {
    let Some(before) = mention.first.checked_sub(1) else {
        return false;
    };
    if facts.tokens[mention.first].gap > Gap::Joiner {
        return false;
    }
    let word = facts.tokens[before].lower.as_str();
    word.len() >= 4
        && word.chars().all(|c| c.is_alphabetic() || c == '-')
        && !is_stopword(word)
        && !other.has_word(word)
        && !other.has_word_like(word)
}

/// Whether a concept the paraphrase adds is a broader form of one the original names
/// ("diabetes mellitus" for "diabetes mellitus, type 2"): less exact, not new.
fn narrower_kept(name: &str, original: &BTreeMap<&'static str, &Mention>) -> bool {
    name.len() >= 6
        && original
            .keys()
            .any(|o| o.len() > name.len() && o.starts_with(name))
}

/// Rejects a finding, diagnosis, organism, procedure or test one text names and the
/// other does not.
pub(super) fn compare_concepts(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    for (kind, dropped, added, what) in [
        (
            Kind::Finding,
            Check::FindingDropped,
            Check::FindingAdded,
            "finding or diagnosis",
        ),
        (
            Kind::Organism,
            Check::OrganismDropped,
            Check::OrganismAdded,
            "organism",
        ),
        (
            Kind::Procedure,
            Check::ProcedureDropped,
            Check::ProcedureAdded,
            "procedure or test",
        ),
    ] {
        let original = concepts(before, kind);
        let paraphrase = concepts(after, kind);
        for (name, m) in &original {
            if !paraphrase.contains_key(name)
                && !words_kept(before, m, after)
                && !broader_in_place(name, &paraphrase, &original, after, before)
            {
                let span = before.span(m.start, m.end);
                rejections.push(Finding::new(
                    dropped,
                    format!("the {what} `{span}` ({name}) is not in the paraphrase"),
                    Some(span),
                    None,
                ));
            }
        }
        for (name, m) in &paraphrase {
            if !original.contains_key(name)
                && !words_kept(after, m, before)
                && !broader_in_place(name, &original, &paraphrase, before, after)
                && !narrower_kept(name, &original)
            {
                let span = after.span(m.start, m.end);
                rejections.push(Finding::new(
                    added,
                    format!("the {what} `{span}` ({name}) is not in the original"),
                    None,
                    Some(span),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(original: &str, paraphrase: &str) -> Vec<Check> {
        let mut out = Vec::new();
        compare_concepts(&Facts::read(original), &Facts::read(paraphrase), &mut out);
        out.into_iter().map(|f| f.check).collect()
    }

    #[test]
    fn a_broader_name_passes_and_a_differently_qualified_one_does_not() {
        // Less exact: the broader concept in place of the narrower one.
        assert!(compared(
            "She has type 2 diabetes mellitus.",
            "She has diabetes mellitus."
        )
        .is_empty());
        // The broader concept carries a qualifier the original lacks: another diagnosis.
        assert_eq!(
            compared(
                "Patient is diagnosed with a subdural hematoma.",
                "Patient is diagnosed with an epidural hematoma."
            ),
            vec![Check::FindingDropped]
        );
        // A broader concept the original names itself stands for itself.
        assert_eq!(
            compared(
                "A hematoma of the scalp and a subdural hematoma.",
                "A hematoma of the scalp and a hematoma."
            ),
            vec![Check::FindingDropped]
        );
    }
}
