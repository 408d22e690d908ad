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

use rustc_hash::FxHashMap;

use super::facts::Facts;
use super::lexicon::{abbreviations, senses};
use super::text::{is_stopword, Token};
use super::word_filter::WordSet;
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
fn sets() -> &'static (WordSet, WordSet) {
    static SETS: OnceLock<(WordSet, WordSet)> = OnceLock::new();
    SETS.get_or_init(|| {
        (
            WordSet::new(ACTIONS.iter().copied()),
            WordSet::new(GENERIC.iter().copied()),
        )
    })
}

/// Whether `started` at `t` begins a treatment: after `is`/`was`/`been`… within two words,
/// or followed by `on` within two words (`started him on`).
fn treatment_started(tokens: &[Token], t: usize) -> bool {
    let passive = tokens[t.saturating_sub(2)..t].iter().any(|w| {
        matches!(
            w.lower.as_ref(),
            "is" | "was" | "are" | "were" | "been" | "be" | "being"
        )
    });
    passive
        || tokens[t + 1..(t + 3).min(tokens.len())]
            .iter()
            .any(|w| w.lower == "on")
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
        // `as prescribed`, `as indicated`: how something was taken, not a plan. `started`
        // is a treatment begun when passive or with `on` (`was started on insulin`), and
        // an onset otherwise (`the rash started several weeks earlier`).
        let Some(action) = range.clone().find(|&t| {
            actions.contains(tokens[t].lower.as_ref())
                && !(t > range.start && tokens[t - 1].lower == "as")
                && (tokens[t].lower != "started" || treatment_started(tokens, t))
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

/// The words of the other text as `kept` reads them, worked out once per text compared
/// (the words and their abbreviation senses were worked out again for every statement, and
/// every statement word compared with every word once per sentence): what each statement
/// word is found by is looked for once, and each sentence then only tests places.
struct OtherWords<'f> {
    facts: &'f Facts<'f>,
    /// Every word's `start_key`, in text order.
    start_keys: Vec<u64>,
    /// The places of the words, grouped by a hash of their key (`bucket`) and ascending
    /// within a group: a key's words are found in its group, which was laid out in one
    /// counting pass (a sort of the words by key cost a sixth of this check).
    by_bucket: Vec<usize>,
    /// Where each group starts in `by_bucket`, and where the last ends.
    bucket_starts: Vec<usize>,
    /// How far a key's hash is shifted right to leave its group (64 less the group bits).
    bucket_shift: u32,
    /// Whether each word holds a `-`, and the places of those that do.
    hyphenated: Vec<bool>,
    hyphenated_places: Vec<usize>,
}

/// The first five bytes of a word (the whole word when shorter) and their count, as one
/// number. `same_word` holds only for two words with one key (equal, or sharing their
/// first five letters) or for a part of a hyphenated word, so these are the only words it
/// is tried on.
fn start_key(word: &str) -> u64 {
    key_of(word.bytes())
}

/// The group of a `start_key` in `OtherWords`: the top bits of a multiplicative hash.
fn bucket(key: u64, shift: u32) -> usize {
    usize::try_from(key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift).unwrap_or(0)
}

/// The `start_key` of a word given as bytes.
fn key_of(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut key = [0u8; 8];
    let mut count = 0;
    for (slot, byte) in key.iter_mut().zip(bytes.take(5)) {
        *slot = byte;
        count += 1;
    }
    key[7] = count;
    u64::from_le_bytes(key)
}

/// The words (three letters or more) of the senses of every clinical abbreviation
/// `senses` reads, by their `start_key`, each with its abbreviation: a word `same_word`
/// finds in an abbreviation's senses shares the key, so a statement word's abbreviations
/// are looked up here, not by looking up the senses of every word of the other text.
fn sense_words() -> &'static FxHashMap<u64, Vec<(&'static str, &'static str)>> {
    static INDEX: OnceLock<FxHashMap<u64, Vec<(&'static str, &'static str)>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: FxHashMap<u64, Vec<(&str, &str)>> = FxHashMap::default();
        for abbreviation in abbreviations() {
            for part in senses(abbreviation)
                .lines()
                .flat_map(|sense| sense.split([' ', '-']))
                .filter(|part| part.len() >= 3)
            {
                index
                    .entry(start_key(part))
                    .or_default()
                    .push((part, abbreviation));
            }
        }
        index
    })
}

/// Where one statement word stands in the other text: the places of the words it is found
/// by (`same_word`, an abbreviation with it in a sense, a mention of its concept), and, per
/// sense of the word as an abbreviation, the places of each word of the sense.
struct Found {
    places: Vec<usize>,
    spelled: Vec<Vec<Vec<usize>>>,
}

impl Found {
    /// Whether the word stands among the words `range` (`kept`'s test of one sentence).
    fn within(&self, range: &std::ops::Range<usize>) -> bool {
        let any_in = |places: &[usize]| places.iter().any(|t| range.contains(t));
        any_in(&self.places)
            || self
                .spelled
                .iter()
                .any(|parts| parts.iter().all(|places| any_in(places)))
    }
}

impl<'f> OtherWords<'f> {
    fn new(facts: &'f Facts<'f>) -> OtherWords<'f> {
        let start_keys: Vec<u64> = facts.tokens.iter().map(|t| start_key(&t.lower)).collect();
        // Groups of about one word each, two at least.
        let groups = start_keys.len().max(2).next_power_of_two();
        let bucket_shift = 64 - groups.trailing_zeros();
        let mut bucket_starts = vec![0; groups + 1];
        for &key in &start_keys {
            bucket_starts[bucket(key, bucket_shift) + 1] += 1;
        }
        for group in 0..groups {
            bucket_starts[group + 1] += bucket_starts[group];
        }
        let mut next = bucket_starts.clone();
        let mut by_bucket = vec![0; start_keys.len()];
        for (place, &key) in start_keys.iter().enumerate() {
            let slot = &mut next[bucket(key, bucket_shift)];
            by_bucket[*slot] = place;
            *slot += 1;
        }
        let hyphenated: Vec<bool> = facts.tokens.iter().map(|t| t.lower.contains('-')).collect();
        OtherWords {
            facts,
            start_keys,
            by_bucket,
            bucket_starts,
            bucket_shift,
            hyphenated_places: (0..hyphenated.len()).filter(|&t| hyphenated[t]).collect(),
            hyphenated,
        }
    }

    /// The places of the words with this `start_key`, ascending.
    fn starting(&self, key: u64) -> impl Iterator<Item = usize> + '_ {
        let group = bucket(key, self.bucket_shift);
        self.by_bucket[self.bucket_starts[group]..self.bucket_starts[group + 1]]
            .iter()
            .copied()
            .filter(move |&place| self.start_keys[place] == key)
    }

    /// The places of the words `same_word` finds `word` in.
    fn same_word_places(&self, word: &str) -> Vec<usize> {
        let tokens = &self.facts.tokens;
        self.starting(start_key(word))
            .chain(self.hyphenated_places.iter().copied())
            .filter(|&t| same_word(word, &tokens[t].lower, self.hyphenated[t]))
            .collect()
    }

    /// Where `word` (of the canonical concept `concept`, if any) stands.
    fn found(&self, word: &str, concept: Option<&str>) -> Found {
        let mut places = self.same_word_places(word);
        // An abbreviation with `word` in one of its senses (`ccu`: coronary care unit), or
        // its plural (`labs`: laboratory), as `senses_of` reads the words of the text.
        let abbreviations: Vec<&str> = sense_words()
            .get(&start_key(word))
            .into_iter()
            .flatten()
            .filter(|(part, _)| same_word(word, part, false))
            .map(|&(_, abbreviation)| abbreviation)
            .collect();
        let tokens = &self.facts.tokens;
        for abbreviation in abbreviations {
            // The abbreviation, or it with an `s`: found by its key, or by that of it with
            // an `s` (another when it is shorter than five letters).
            let key = start_key(abbreviation);
            let plural_key = key_of(abbreviation.bytes().chain([b's']));
            let mut candidates: Vec<usize> = self.starting(key).collect();
            if plural_key != key {
                candidates.extend(self.starting(plural_key));
            }
            places.extend(candidates.into_iter().filter(|&t| {
                let lower = tokens[t].lower.as_ref();
                lower == abbreviation
                    || lower.strip_suffix('s').filter(|s| s.len() >= 2) == Some(abbreviation)
            }));
        }
        if let Some(concept) = concept {
            places.extend(
                self.facts
                    .mentions
                    .iter()
                    .filter(|m| m.entry.canonical == concept)
                    .map(|m| m.first),
            );
        }
        // The word as an abbreviation spelled out in the text: every word of one of its
        // senses there (`labs`: laboratory; `bipap` needs all of bilevel positive airway
        // pressure).
        let spelled = senses_of(word)
            .iter()
            .flat_map(|s| s.lines())
            .map(|sense| {
                sense
                    .split([' ', '-'])
                    .filter(|part| part.len() >= 3)
                    .map(|part| self.same_word_places(part))
                    .collect()
            })
            .collect();
        Found { places, spelled }
    }
}

/// Whether the statement's words mostly stand in one sentence of `other` (the same word,
/// the same word with another ending, or a word of a concept `other` names there).
/// A long statement (more than `LONG` content words: a lab table after `ordered`, which a
/// paraphrase may reflow into other sentences) needs its words anywhere in `other`.
fn kept(facts: &Facts, statement: &Statement, other: &OtherWords) -> bool {
    // Each statement word with where it stands in `other`.
    let words: Vec<Found> = statement
        .words
        .iter()
        .map(|&t| {
            let concept = facts
                .mentions
                .iter()
                .find(|m| m.first <= t && t < m.last)
                .map(|m| m.entry.canonical);
            other.found(facts.tokens[t].lower.as_ref(), concept)
        })
        .collect();
    let found_in = |range: std::ops::Range<usize>| {
        let found = words.iter().filter(|w| w.within(&range)).count();
        found * 2 >= words.len()
    };
    let tokens = &other.facts.tokens;
    if statement.words.len() > LONG {
        return found_in(0..tokens.len());
    }
    let mut start = 0;
    while start < tokens.len() {
        let sentence = tokens[start].sentence;
        let end = start
            + tokens[start..]
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

/// Rejects a management statement of the original the paraphrase no longer makes, and
/// one the paraphrase makes that the original does not. The other text's words are
/// indexed only when a text makes a statement (most make none).
pub(super) fn compare_management(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let statements_before = statements(before);
    if !statements_before.is_empty() {
        let after_words = OtherWords::new(after);
        for s in &statements_before {
            if !kept(before, s, &after_words) {
                let span = before.span(s.start, s.end);
                rejections.push(Finding::new(
                    Check::Management,
                    format!("the management statement `{span}` is not in the paraphrase"),
                    Some(span),
                    None,
                ));
            }
        }
    }
    let statements_after = statements(after);
    if !statements_after.is_empty() {
        let before_words = OtherWords::new(before);
        for s in &statements_after {
            if !kept(after, s, &before_words) {
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

    #[test]
    fn the_word_index_finds_what_a_scan_of_every_word_finds() {
        let text = "Follow-up US and labs were ordered. CCU bed and a chest x-ray; the \
                    reassurance given. BiPAP started for bilevel positive airway pressure.";
        let lower = text.to_ascii_lowercase();
        let facts = Facts::read(text, &lower);
        let other = OtherWords::new(&facts);
        for word in [
            "ultrasound",
            "laboratory",
            "coronary",
            "care",
            "reassured",
            "x-ray",
            "ray",
            "follow",
            "chest",
            "bed",
            "bilevel",
            "pressure",
            "ordered",
            "us",
            "lab",
        ] {
            let scanned: Vec<usize> = (0..facts.tokens.len())
                .filter(|&t| {
                    let lower = facts.tokens[t].lower.as_ref();
                    let abbreviation = senses_of(lower)
                        .iter()
                        .flat_map(|s| s.lines())
                        .flat_map(|sense| sense.split([' ', '-']))
                        .any(|part| part.len() >= 3 && same_word(word, part, false));
                    same_word(word, lower, lower.contains('-')) || abbreviation
                })
                .collect();
            let mut found = other.found(word, None).places;
            found.sort_unstable();
            found.dedup();
            assert_eq!(found, scanned, "`{word}`");
        }
    }
}
