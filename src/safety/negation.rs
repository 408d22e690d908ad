//! Negation per concept: which concepts a note says negated and which asserted (scopes
//! from `scope.rs`), compared between the two notes. The concepts are the lexicon's, plus,
//! where a scope holds none, the whole word right after a forward trigger (`no crepitus`).

use std::collections::BTreeMap;

use super::facts::Facts;
use super::lexicon::Kind;
use super::text::is_stopword;
use super::{Check, Finding};

/// Words that qualify what a trigger negates, not the thing itself.
const MODIFIERS: &[&str] = &[
    "history",
    "evidence",
    "signs",
    "sign",
    "major",
    "serious",
    "significant",
    "prior",
    "previous",
    "known",
    "other",
    "any",
    "recent",
    "obvious",
    "acute",
    "further",
    "personal",
    "family",
    "current",
    "apparent",
    "visible",
    "palpable",
    "abnormal",
];

/// The concepts a text states, each with whether it is said negated and asserted, and
/// the words of a mention for each polarity: lexicon concepts by canonical name, and the
/// first content word of a forward scope that holds no concept.
fn polarities(facts: &Facts) -> BTreeMap<String, [Option<(usize, usize)>; 2]> {
    let mut out: BTreeMap<String, [Option<(usize, usize)>; 2]> = BTreeMap::new();
    let kinds = [Kind::Finding, Kind::Organism, Kind::Drug];
    let mut covered = vec![false; facts.tokens.len()];
    for m in facts.of_kind(kinds) {
        let side = usize::from(!facts.is_negated(m));
        covered[m.first..m.last].iter_mut().for_each(|c| *c = true);
        out.entry(m.entry.canonical.to_string()).or_default()[side]
            .get_or_insert((m.first, m.last));
    }
    // A forward scope without a concept: the word right after the trigger (past
    // determiners and modifiers), when it is a content word (`no crepitus`).
    let tokens = &facts.tokens;
    for i in 0..tokens.len() {
        let starts_scope = facts.negated[i] && i > 0 && facts.trigger[i - 1];
        if !starts_scope {
            continue;
        }
        let mut j = i;
        while j < tokens.len()
            && facts.negated[j]
            && (MODIFIERS.contains(&tokens[j].lower.as_str())
                || [
                    "of", "a", "an", "the", "any", "to", "have", "has", "had", "been", "be", "is",
                    "was",
                ]
                .contains(&tokens[j].lower.as_str()))
        {
            j += 1;
        }
        if j >= tokens.len() || !facts.negated[j] || covered[j] {
            continue;
        }
        let word = tokens[j].lower.as_str();
        if word.len() >= 4 && word.chars().all(char::is_alphabetic) && !is_stopword(word) {
            let word = singular(word);
            out.entry(format!("word:{word}")).or_default()[0].get_or_insert((j, j + 1));
        }
    }
    // Words found negated also count where the text says them asserted.
    let words: Vec<String> = out
        .keys()
        .filter_map(|k| k.strip_prefix("word:").map(str::to_string))
        .collect();
    for word in words {
        if let Some(t) =
            (0..tokens.len()).find(|&t| !facts.negated[t] && singular(&tokens[t].lower) == word)
        {
            out.entry(format!("word:{word}")).or_default()[1].get_or_insert((t, t + 1));
        }
    }
    out
}

/// How many times `word` stands negated (in a negation scope, or after a negation trigger
/// of its sentence) and how many times not.
fn loose_counts(facts: &Facts, word: &str) -> (usize, usize) {
    let tokens = &facts.tokens;
    let mut counts = (0, 0);
    for t in 0..tokens.len() {
        if singular(&tokens[t].lower) != word {
            continue;
        }
        // `takes no medications`, `has never smoked`: a verb right before a trigger is
        // what the trigger negates.
        let negated = facts.negated[t]
            || facts.trigger.get(t + 1).is_some_and(|&next| next)
                && tokens[t + 1].sentence == tokens[t].sentence
            || (0..t)
                .rev()
                .take_while(|&j| tokens[j].sentence == tokens[t].sentence)
                .any(|j| facts.trigger[j]);
        if negated {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
    counts
}

fn singular(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 && !word.ends_with("ss") && !word.ends_with("us") => stem,
        _ => word,
    }
}

/// Rejects a concept the original only negates and the paraphrase asserts, and the reverse.
/// A word concept (no lexicon entry) is compared only where both texts hold the word.
pub(super) fn compare_negations(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let original = polarities(before);
    let mut paraphrase = polarities(after);
    // Word concepts found negated in one text: look for their polarity in the other.
    for (key, sides) in &original {
        if let Some(word) = key.strip_prefix("word:") {
            if !paraphrase.contains_key(key) && after.has_word(word) {
                let t = (0..after.tokens.len())
                    .find(|&t| singular(&after.tokens[t].lower) == word)
                    .unwrap_or(0);
                let side = usize::from(!after.negated[t]);
                paraphrase.entry(key.clone()).or_default()[side] = Some((t, t + 1));
            }
        }
        let _ = sides;
    }
    let mut extra: BTreeMap<String, [Option<(usize, usize)>; 2]> = BTreeMap::new();
    for key in paraphrase.keys() {
        if let Some(word) = key.strip_prefix("word:") {
            if !original.contains_key(key) && before.has_word(word) {
                let t = (0..before.tokens.len())
                    .find(|&t| singular(&before.tokens[t].lower) == word)
                    .unwrap_or(0);
                let side = usize::from(!before.negated[t]);
                extra.entry(key.clone()).or_default()[side] = Some((t, t + 1));
            }
        }
    }
    let mut original = original;
    original.extend(extra);
    for (key, [o_neg, o_pos]) in &original {
        let Some([p_neg, p_pos]) = paraphrase.get(key) else {
            continue;
        };
        let word = key.strip_prefix("word:");
        let name = word.unwrap_or(key);
        // A word concept (no lexicon entry) flips only when the other text says it
        // negated fewer times and asserted more times, counting a word after a trigger of
        // its sentence as negated: word order moves plain words in and out of scopes ("no
        // medial tenderness" / "no tenderness over the medial malleolus"), and a note
        // may say a word in both ways.
        let moved = |from: &Facts, to: &Facts| {
            word.is_none_or(|w| {
                let (from_negated, from_asserted) = loose_counts(from, w);
                let (to_negated, to_asserted) = loose_counts(to, w);
                to_negated < from_negated && to_asserted > from_asserted
            })
        };
        let flip = match (o_neg, o_pos, p_neg, p_pos) {
            (Some(o), None, _, Some(p))
                if (word.is_none() || p_neg.is_none()) && moved(before, after) =>
            {
                Some((
                    Check::NegationLost,
                    *o,
                    *p,
                    "negated in the original, asserted in the paraphrase",
                ))
            }
            (None, Some(o), Some(p), _) if moved(after, before) => Some((
                Check::NegationAdded,
                *o,
                *p,
                "asserted in the original, negated in the paraphrase",
            )),
            _ => None,
        };
        if let Some((check, o, p, what)) = flip {
            rejections.push(Finding::new(
                check,
                format!("`{name}` is {what}"),
                Some(before.token_span(o.0, o.1)),
                Some(after.token_span(p.0, p.1)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(original: &str, paraphrase: &str) -> Vec<Check> {
        super::super::facts::compared_by(compare_negations, original, paraphrase)
            .into_iter()
            .map(|f| f.check)
            .collect()
    }

    #[test]
    fn plain_words_moved_out_of_a_scope_by_word_order_are_no_flip() {
        assert!(compared(
            "There is no medial or lateral malleolus point tenderness.",
            "No point tenderness is present over the medial or lateral malleolus."
        )
        .is_empty());
        // A word negated in one place and asserted in another of the paraphrase.
        assert!(compared(
            "No abnormalities in behavior. Cognitive behavioral therapy is advised.",
            "No behavioral abnormalities. Cognitive behavioral therapy is advised."
        )
        .is_empty());
        // A real flip of a plain word is still one.
        assert_eq!(
            compared(
                "The knee shows no crepitations.",
                "The knee shows crepitations."
            ),
            vec![Check::NegationLost]
        );
    }
}
