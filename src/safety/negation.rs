//! Negation per concept: which concepts a note says negated and which asserted (scopes
//! from `scope.rs`), compared between the two notes. The concepts are the lexicon's, plus,
//! where a scope holds none, the whole word that opens a forward scope or an item of a
//! list in it (`no crepitus`, `no dizziness, ringing, or ear pain`), and the word an
//! adjectival negation denies (`nontender`, `afebrile`, `within normal limits`).

use std::collections::BTreeMap;

use super::demographics::is_person;
use super::facts::Facts;
use super::lexicon::Kind;
use super::scope::{is_auxiliary, is_object_verb, CONTRASTS};
use super::text::{is_stopword, Gap};
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

/// Adjectives that deny a finding by their prefix (`a-`: without), read as the finding's
/// adjective negated: `afebrile` → `febrile`. `non-`/`non` forms (`nontender`,
/// `non-distended`) are read by rule in [`denied_word`]. The `a-` forms are those of the
/// physical-examination shorthand in Bickley, *Bates' Guide to Physical Examination*
/// (afebrile, atraumatic, anicteric, acyanotic, asymptomatic).
const DENYING_ADJECTIVES: &[(&str, &str)] = &[
    ("afebrile", "febrile"),
    ("atraumatic", "traumatic"),
    ("anicteric", "icteric"),
    ("acyanotic", "cyanotic"),
    ("asymptomatic", "symptomatic"),
    // `un-` forms of the same shorthand (`unlabored breathing`, `pupils unequal`).
    ("unresponsive", "responsive"),
    ("unreactive", "reactive"),
    ("unlabored", "labored"),
    ("unlaboured", "laboured"),
    ("uncomplicated", "complicated"),
    ("unconscious", "conscious"),
    ("unequal", "equal"),
    ("unsteady", "steady"),
    ("unvaccinated", "vaccinated"),
    ("unimmunized", "immunized"),
    ("uninjured", "injured"),
    ("unprotected", "protected"),
];
/// Words that say an examination or test found nothing abnormal: each reads as
/// `abnormal` negated, so `within normal limits` → `abnormal` is a flip.
const NORMAL: &[&str] = &["normal", "unremarkable", "wnl"];

/// The word a single-word negation denies: `nontender`/`non-tender` → `tender`,
/// `afebrile` → `febrile`, `normal` → `abnormal`.
fn denied_word(lower: &str) -> Option<&str> {
    // Every form starts with `a`, `n`, `u` or `w`, or ends in `-free`: most words stop here
    // (this runs for every token).
    if !matches!(lower.as_bytes().first(), Some(b'a' | b'n' | b'u' | b'w'))
        && !lower.ends_with("-free")
    {
        return None;
    }
    // Every form below is six letters or more but `wnl`: the short words that pass the
    // test above (`and`, `a`, `no`, `was`, `with`) stop here.
    if lower.len() < 6 {
        return (lower == "wnl").then_some("abnormal");
    }
    if let Some(&(_, word)) = DENYING_ADJECTIVES.iter().find(|(w, _)| *w == lower) {
        return Some(word);
    }
    if NORMAL.contains(&lower) {
        return Some("abnormal");
    }
    // `pain-free`, `symptom-free`: the thing before `-free`.
    if let Some(thing) = lower.strip_suffix("-free") {
        return (thing.len() >= 4 && thing.chars().all(char::is_alphabetic)).then_some(thing);
    }
    let rest = lower.strip_prefix("non")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    (rest.len() >= 4 && rest.chars().all(char::is_alphabetic) && !is_stopword(rest)).then_some(rest)
}

/// A word as the word concepts compare it: singular, without an `-ing`, `-ed` or `-er`
/// ending and then an `e` that leave four letters or more (`smoked` / `smoker` / `smokes`,
/// `vomiting` / `vomited`), and `abnormality`/`abnormalities` as `abnormal` (what `normal` denies).
fn canonical(word: &str) -> &str {
    // No rule below changes a word under four letters (this runs for every token).
    if word.len() < 4 {
        return word;
    }
    if matches!(word, "abnormality" | "abnormalities") {
        return "abnormal";
    }
    let word = singular(word);
    let stem = ["ing", "ed", "er"]
        .iter()
        .find_map(|ending| word.strip_suffix(ending).filter(|stem| stem.len() >= 4))
        .unwrap_or(word);
    // `smokes` (singular `smoke`) as `smoking` (`smok`).
    stem.strip_suffix('e')
        .filter(|s| s.len() >= 4)
        .unwrap_or(stem)
}

/// A fact table with the [`canonical`] form of each token's word, worked out once per
/// check: the word concepts are looked for among all the tokens, once per word.
struct Canonical<'a> {
    facts: &'a Facts<'a>,
    words: Vec<&'a str>,
}

impl<'a> Canonical<'a> {
    fn new(facts: &'a Facts<'a>) -> Canonical<'a> {
        Canonical {
            facts,
            words: facts.tokens.iter().map(|t| canonical(&t.lower)).collect(),
        }
    }
}

/// Whether the negated run ending before token `end` is a backward scope: a trigger
/// follows it, past the auxiliaries it carries (`A murmur was not appreciated`).
fn closed_by_trigger(facts: &Facts, end: usize) -> bool {
    let mut k = end;
    while k < facts.tokens.len() && !facts.trigger[k] && is_auxiliary(&facts.tokens[k].lower) {
        k += 1;
    }
    k < facts.tokens.len() && facts.trigger[k] && !(k > 0 && facts.trigger[k - 1])
}

/// A word that can name what a scope negates: four letters or more, all letters, not a
/// stopword nor a modifier.
fn is_content(word: &str) -> bool {
    word.len() >= 4
        && word.chars().all(|c| c.is_alphabetic() || c == '-')
        && word.starts_with(char::is_alphabetic)
        && word.ends_with(char::is_alphabetic)
        && !is_stopword(word)
        && !MODIFIERS.contains(&word)
        // A person: "neither parent smokes" denies the smoking, not the parents.
        && !is_person(word)
}

/// Whether token `i` opens a forward scope (right after its trigger and the auxiliaries
/// that follow it: `has not had a bowel movement`) or an item of a list in one (after a
/// comma, `or` or `nor`: `no dizziness, ringing, or ear pain`).
fn opens_item(facts: &Facts, i: usize) -> bool {
    if !facts.negated[i] || i == 0 {
        return false;
    }
    let tokens = &facts.tokens;
    let mut k = i - 1;
    while k > 0 && !facts.trigger[k] && is_auxiliary(&tokens[k].lower) {
        k -= 1;
    }
    if facts.trigger[k] {
        return true;
    }
    // Not after `and` (nor `, and`): it also joins a new predicate or clause the scope
    // runs on into (`does not have any friends and spends her time alone`, `no redness,
    // and slit lamp examination was unremarkable`).
    facts.negated[i - 1]
        && (tokens[i].gap == Gap::Comma && tokens[i].lower != "and"
            || ["or", "nor"].contains(&tokens[i - 1].lower.as_ref()))
}

/// The concepts a text states, each with whether it is said negated and asserted, and
/// the words of a mention for each polarity: lexicon concepts by canonical name, and the
/// first content word of a forward scope that holds no concept.
fn polarities(read: &Canonical) -> BTreeMap<String, [Option<(usize, usize)>; 2]> {
    let facts = read.facts;
    let mut out: BTreeMap<String, [Option<(usize, usize)>; 2]> = BTreeMap::new();
    let kinds = [Kind::Finding, Kind::Organism, Kind::Drug];
    let mut covered = vec![false; facts.tokens.len()];
    for m in facts.of_kind(kinds) {
        let side = usize::from(!facts.is_negated(m));
        covered[m.first..m.last].iter_mut().for_each(|c| *c = true);
        out.entry(m.entry.canonical.to_string()).or_default()[side]
            .get_or_insert((m.first, m.last));
    }
    // A forward scope without a concept: the word right after the trigger or a list
    // item's start (past determiners and modifiers), when it is a content word (`no
    // crepitus`).
    let tokens = &facts.tokens;
    for i in 0..tokens.len() {
        if let Some(word) = denied_word(&tokens[i].lower).map(canonical) {
            if !covered[i] {
                out.entry(format!("word:{word}")).or_default()[0].get_or_insert((i, i + 1));
            }
            continue;
        }
        if !opens_item(facts, i) {
            continue;
        }
        let mut j = i;
        // The negated verb whose object is denied (`does not reveal any abnormality`):
        // the object names what is denied, the verb only when no object follows (`did not
        // feel that way`, `is not required`).
        let mut verb = None;
        while j < tokens.len() && facts.negated[j] {
            let word = tokens[j].lower.as_ref();
            if verb.is_none() && is_object_verb(word) {
                verb = Some(j);
            } else if !MODIFIERS.contains(&word)
                && ![
                    "of", "a", "an", "the", "any", "to", "have", "has", "had", "been", "be", "is",
                    "was", "or", "and", "nor", "his", "her", "their", "its",
                ]
                .contains(&word)
            {
                break;
            }
            j += 1;
        }
        let object = j < tokens.len()
            && facts.negated[j]
            && !facts.trigger[j]
            && (covered[j] || is_content(&tokens[j].lower));
        let j = match verb {
            Some(v) if !object => v,
            _ => j,
        };
        if j >= tokens.len() || !facts.negated[j] || covered[j] || facts.trigger[j] {
            continue;
        }
        let word = tokens[j].lower.as_ref();
        if is_content(word) {
            let word = canonical(word);
            out.entry(format!("word:{word}")).or_default()[0].get_or_insert((j, j + 1));
        }
    }
    // A backward scope without a concept (`Pulses are not palpable`, `Bowel sounds are
    // absent`): its first content word.
    let mut start = 0;
    while start < tokens.len() {
        if !facts.negated[start] || facts.trigger[start] {
            start += 1;
            continue;
        }
        // One clause's run: a forward scope that ends a sentence right before this
        // clause's words is another scope (`do not aggregate. Pulses are not detected`).
        let mut end = start;
        while end < tokens.len()
            && facts.negated[end]
            && !facts.trigger[end]
            && (end == start || tokens[end].gap < Gap::Clause)
        {
            end += 1;
        }
        if closed_by_trigger(facts, end) && !covered[start..end].contains(&true) {
            if let Some(j) = (start..end).find(|&j| is_content(&tokens[j].lower)) {
                let word = canonical(&tokens[j].lower);
                out.entry(format!("word:{word}")).or_default()[0].get_or_insert((j, j + 1));
            }
        }
        start = end;
    }
    // Words found negated also count where the text says them asserted.
    let words: Vec<String> = out
        .keys()
        .filter_map(|k| k.strip_prefix("word:").map(str::to_string))
        .collect();
    for word in words {
        if let Some(t) = (0..tokens.len()).find(|&t| !facts.negated[t] && read.words[t] == word) {
            out.entry(format!("word:{word}")).or_default()[1].get_or_insert((t, t + 1));
        }
    }
    out
}

/// How many times `word` stands negated (in a negation scope, or after a negation trigger
/// of its sentence) and how many times not.
fn loose_counts(read: &Canonical, word: &str) -> (usize, usize) {
    let facts = read.facts;
    let tokens = &facts.tokens;
    let mut counts = (0, 0);
    for t in 0..tokens.len() {
        if denied_word(&tokens[t].lower).map(canonical) == Some(word) {
            counts.0 += 1;
            continue;
        }
        if read.words[t] != word {
            continue;
        }
        // `takes no medications`, `has never smoked`: a verb right before a trigger is
        // what the trigger negates.
        let negated = facts.negated[t]
            || facts.trigger.get(t + 1).is_some_and(|&next| next)
                && tokens[t + 1].sentence == tokens[t].sentence
            || (0..t)
                .rev()
                .take_while(|&j| {
                    tokens[j].sentence == tokens[t].sentence
                        && !CONTRASTS.contains(&tokens[j].lower.as_ref())
                })
                .any(|j| facts.trigger[j]);
        if negated {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
    }
    counts
}

/// How many mentions of the lexicon concept `canonical` a text says negated and how many
/// asserted.
fn concept_counts(facts: &Facts, canonical: &str) -> (usize, usize) {
    let mut counts = (0, 0);
    for m in facts.of_kind([Kind::Finding, Kind::Organism, Kind::Drug]) {
        if m.entry.canonical == canonical {
            if facts.is_negated(m) {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
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

/// The first token where `facts` holds `word` (as [`canonical`] reads it), or token 0
/// when it holds it only as a part of a hyphenated word.
fn holds(read: &Canonical, word: &str) -> Option<usize> {
    (0..read.words.len())
        .find(|&t| read.words[t] == word)
        .or_else(|| read.facts.has_word(word).then_some(0))
}

/// Rejects a concept the original only negates and the paraphrase asserts, and the reverse.
/// A word concept (no lexicon entry) is compared only where both texts hold the word.
pub(super) fn compare_negations(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let (read_before, read_after) = (Canonical::new(before), Canonical::new(after));
    let original = polarities(&read_before);
    let mut paraphrase = polarities(&read_after);
    // Word concepts found negated in one text: look for their polarity in the other.
    for key in original.keys() {
        if let Some(word) = key.strip_prefix("word:") {
            if let Some(t) = holds(&read_after, word).filter(|_| !paraphrase.contains_key(key)) {
                let side = usize::from(!after.negated[t]);
                paraphrase.entry(key.clone()).or_default()[side] = Some((t, t + 1));
            }
        }
    }
    let mut extra: BTreeMap<String, [Option<(usize, usize)>; 2]> = BTreeMap::new();
    for key in paraphrase.keys() {
        if let Some(word) = key.strip_prefix("word:") {
            if let Some(t) = holds(&read_before, word).filter(|_| !original.contains_key(key)) {
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
        // Whether `to` says the concept negated fewer times and asserted more times than
        // `from`. A word concept (no lexicon entry) counts loosely, a word after a trigger
        // of its sentence as negated: word order moves plain words in and out of scopes
        // ("no medial tenderness" / "no tenderness over the medial malleolus"), and a
        // note may say a word in both ways.
        let counts_moved = |from: &Canonical, to: &Canonical| {
            let counts = |read: &Canonical| match word {
                Some(w) => loose_counts(read, w),
                None => concept_counts(read.facts, key),
            };
            let ((from_negated, from_asserted), (to_negated, to_asserted)) =
                (counts(from), counts(to));
            to_negated < from_negated && to_asserted > from_asserted
        };
        // A word concept said one way flips only when its counts moved.
        let moved = |from: &Canonical, to: &Canonical| word.is_none() || counts_moved(from, to);
        // A lexicon concept the original says both ways flips when its mentions' counts
        // moved (`denies fever today` → `reports fever today` in a note that names a fever
        // last week). Not a word concept: its loose counts follow word order too closely
        // (`once the tone is no longer heard, the fork is held` / `fork held once tone no
        // longer heard`).
        let both_ways_moved =
            |from: &Canonical, to: &Canonical| word.is_none() && counts_moved(from, to);
        let flip = match (o_neg, o_pos, p_neg, p_pos) {
            (Some(o), Some(_), _, Some(p)) if both_ways_moved(&read_before, &read_after) => Some((
                Check::NegationLost,
                *o,
                *p,
                "negated in the original, asserted in the paraphrase",
            )),
            (Some(_), Some(o), Some(p), _) if both_ways_moved(&read_after, &read_before) => Some((
                Check::NegationAdded,
                *o,
                *p,
                "asserted in the original, negated in the paraphrase",
            )),
            (Some(o), None, _, Some(p)) if moved(&read_before, &read_after) => Some((
                Check::NegationLost,
                *o,
                *p,
                "negated in the original, asserted in the paraphrase",
            )),
            (None, Some(o), Some(p), _) if moved(&read_after, &read_before) => Some((
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
mod tests;
