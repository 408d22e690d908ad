//! Findings, diagnoses, organisms and procedures compared as canonical concepts: a synonym resolves to
//! the same concept and passes ("heart attack" = myocardial infarction); a concept one
//! text names and the other does not is a change (a swapped diagnosis is one dropped and
//! one added).

use std::collections::BTreeMap;

use super::facts::Facts;
use super::lexicon::{Kind, Mention};
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

/// Whether `name` is a narrower or broader form of a concept in `others` ("diabetes
/// mellitus, type 2" and "diabetes mellitus"): a paraphrase may name it less exactly.
fn related(name: &str, others: &BTreeMap<&'static str, &Mention>) -> bool {
    others
        .keys()
        .any(|o| o.len() >= 6 && name.len() >= 6 && (name.starts_with(o) || o.starts_with(name)))
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
                && !related(name, &paraphrase)
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
                && !related(name, &original)
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
