//! Negation per concept, NegEx/ConText style: trigger phrases open a scope forward
//! (`denies`, `no`, `negative for`) or backward (`… is negative`, `… absent`), pseudo
//! triggers (`no change`, `gram-negative`) open none, and a scope ends at a termination
//! term (`but`, `however`, a new verb), a clause or sentence break or after
//! `MAX_SCOPE` words. The concepts compared are the lexicon's, plus, where a scope holds
//! none, the first whole content word after a forward trigger (`no crepitus`).
//!
//! The trigger and termination lists follow the categories of NegEx (Chapman et al. 2001,
//! doi:10.1006/jbin.2001.1029), ConText (Harkema et al. 2009, doi:10.1016/j.jbi.2009.05.002)
//! and the `en_clinical` termset of negspacy (`negspacy/termsets.py`, MIT), trimmed to what
//! clinical vignettes write.

use std::collections::BTreeMap;

use super::facts::Facts;
use super::lexicon::Kind;
use super::text::{is_stopword, Gap, Token};
use super::{Check, Finding};

/// Forward triggers (pre-negations), longest first where one starts another.
const FORWARD: &[&str] = &[
    "no evidence of",
    "no history of",
    "no signs of",
    "no sign of",
    "negative for",
    "absence of",
    "free of",
    "fails to reveal",
    "failed to reveal",
    "ruled out",
    "rules out",
    "unable to",
    "denies",
    "denied",
    "deny",
    "denying",
    "without",
    "never",
    "neither",
    "nor",
    "not",
    "no",
    "none",
    "cannot",
    "lack of",
    "lacks",
];
/// Backward triggers (post-negations): the scope runs back over the clause.
const BACKWARD: &[&str] = &[
    "is negative",
    "are negative",
    "was negative",
    "were negative",
    "negative",
    "is absent",
    "are absent",
    "was absent",
    "were absent",
    "absent",
    "was ruled out",
    "were ruled out",
    "not seen",
    "not present",
];
/// Phrases that look like triggers and negate nothing.
const PSEUDO: &[&str] = &[
    "no change",
    "no significant change",
    "no increase",
    "no further",
    "not only",
    "not necessarily",
    "not certain",
    "without difficulty",
    "gram negative",
    "gram-negative",
    "not cause",
];
/// Words that end a scope (ConText termination terms and the verbs that open a new
/// predicate: "denies chest pain and is on metoprolol").
const TERMINATION: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "yet",
    "except",
    "apart",
    "aside",
    "which",
    "who",
    "whose",
    "where",
    "while",
    "whereas",
    "because",
    "since",
    "after",
    "until",
    "when",
    "is",
    "was",
    "are",
    "were",
    "has",
    "had",
    "takes",
    "took",
    "presents",
    "presented",
    "reports",
    "reported",
    "complains",
    "states",
    "says",
    "admits",
    "endorses",
    "shows",
    "showed",
    "reveals",
    "revealed",
    "appears",
    "underwent",
    "received",
    "started",
    "began",
    "uses",
    "drinks",
    "smokes",
    "lives",
    "works",
    "positive",
];
/// Verbs that may follow a trigger inside its scope ("has not had", "no … is").
const AUXILIARIES: &[&str] = &["has", "had", "have", "been", "be", "is", "was", "are", "were", "any"];
/// How many words a forward scope reaches at most.
const MAX_SCOPE: usize = 10;
/// How many words a backward scope reaches at most.
const MAX_BACKWARD: usize = 6;

/// Whether the phrase `words` (space separated) starts at token `at`.
fn phrase_at(tokens: &[Token], at: usize, phrase: &str) -> Option<usize> {
    // Most tokens start no phrase: a cheap test before the word-by-word one.
    let first = &tokens.get(at)?.lower;
    if !phrase.starts_with(first.as_str()) && !(first.ends_with("n't") && phrase.starts_with("not")) {
        return None;
    }
    let mut n = 0;
    for word in phrase.split(' ') {
        let token = tokens.get(at + n)?;
        if n > 0 && token.gap > Gap::Space {
            return None;
        }
        let same = token.lower == word || (word == "not" && token.lower.ends_with("n't"));
        if !same {
            return None;
        }
        n += 1;
    }
    Some(n)
}

fn first_phrase(tokens: &[Token], at: usize, list: &[&str]) -> Option<usize> {
    list.iter().find_map(|p| phrase_at(tokens, at, p))
}

/// Per token: whether a negation scope covers it, and whether it is part of a trigger.
pub(super) fn scopes(tokens: &[Token]) -> (Vec<bool>, Vec<bool>) {
    let mut negated = vec![false; tokens.len()];
    let mut trigger = vec![false; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        if let Some(n) = first_phrase(tokens, i, PSEUDO) {
            i += n;
            continue;
        }
        if let Some(n) = first_phrase(tokens, i, BACKWARD) {
            trigger[i..i + n].iter_mut().for_each(|t| *t = true);
            // Back over the clause: stop at its start, another trigger or MAX_BACKWARD.
            let mut j = i;
            let mut reached = 0;
            while j > 0 && reached < MAX_BACKWARD && tokens[j].gap < Gap::Clause {
                j -= 1;
                if trigger[j] || TERMINATION.contains(&tokens[j].lower.as_str()) {
                    break;
                }
                negated[j] = true;
                reached += 1;
                if tokens[j].gap >= Gap::Comma {
                    break;
                }
            }
            i += n;
            continue;
        }
        if let Some(n) = first_phrase(tokens, i, FORWARD) {
            trigger[i..i + n].iter_mut().for_each(|t| *t = true);
            let mut j = i + n;
            // "has not had nausea": auxiliaries right after the trigger end nothing.
            while j < tokens.len()
                && tokens[j].gap == Gap::Space
                && AUXILIARIES.contains(&tokens[j].lower.as_str())
            {
                j += 1;
            }
            let mut reached = 0;
            while j < tokens.len()
                && reached < MAX_SCOPE
                && tokens[j].gap < Gap::Clause
                && !TERMINATION.contains(&tokens[j].lower.as_str())
                && first_phrase(tokens, j, BACKWARD).is_none()
            {
                negated[j] = true;
                reached += 1;
                j += 1;
            }
            i += n;
            continue;
        }
        i += 1;
    }
    (negated, trigger)
}

/// Words that qualify what a trigger negates, not the thing itself.
const MODIFIERS: &[&str] = &[
    "history", "evidence", "signs", "sign", "major", "serious", "significant", "prior",
    "previous", "known", "other", "any", "recent", "obvious", "acute", "further", "personal",
    "family", "current", "apparent", "visible", "palpable", "abnormal", "abnormalities",
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
        out.entry(m.entry.canonical.to_string())
            .or_default()[side]
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
                || ["of", "a", "an", "the", "any", "to", "have", "has", "had", "been", "be", "is", "was"]
                    .contains(&tokens[j].lower.as_str()))
        {
            j += 1;
        }
        if j >= tokens.len() || !facts.negated[j] || covered[j] {
            continue;
        }
        let word = tokens[j].lower.as_str();
        if word.len() >= 4
            && word.chars().all(char::is_alphabetic)
            && !is_stopword(word)
        {
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
        if let Some(t) = (0..tokens.len())
            .find(|&t| !facts.negated[t] && singular(&tokens[t].lower) == word)
        {
            out.entry(format!("word:{word}")).or_default()[1].get_or_insert((t, t + 1));
        }
    }
    out
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
        let name = key.strip_prefix("word:").unwrap_or(key);
        let flip = match (o_neg, o_pos, p_neg, p_pos) {
            (Some(o), None, _, Some(p)) if p_neg.is_none() || !key.starts_with("word:") => {
                Some((Check::NegationLost, *o, *p, "negated in the original, asserted in the paraphrase"))
            }
            (None, Some(o), Some(p), _) => {
                Some((Check::NegationAdded, *o, *p, "asserted in the original, negated in the paraphrase"))
            }
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
    use super::super::text::tokens;
    use super::*;

    fn negated_words(text: &str) -> Vec<String> {
        let tokens = tokens(text);
        let (negated, _) = scopes(&tokens);
        tokens
            .iter()
            .zip(negated)
            .filter(|(_, n)| *n)
            .map(|(t, _)| t.lower.clone())
            .collect()
    }

    #[test]
    fn scopes_end_at_terminations_and_breaks() {
        assert_eq!(
            negated_words("She denies chest pain but has a cough."),
            vec!["chest", "pain"]
        );
        assert_eq!(
            negated_words("He has no fever. He takes aspirin."),
            vec!["fever"]
        );
        assert_eq!(
            negated_words("Rapid influenza test is negative."),
            vec!["rapid", "influenza", "test"]
        );
        // A reflowed lab table: each `Negative` negates only the analyte before it.
        assert_eq!(
            negated_words("Nitrites Negative Bacteria Negative Protein 2+"),
            vec!["nitrites", "bacteria"]
        );
        assert!(negated_words("Gram-negative rods grew.").is_empty());
    }
}
