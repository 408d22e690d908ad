//! A note's fact table: its tokens, the lexicon concepts in them with their negation, and
//! its numbers with units. Every check compares two of these, never raw words.

use std::cell::OnceCell;
use std::fmt::Write as _;

use rustc_hash::FxHashSet;

use super::lexicon::{lexicon, senses, Entry, Kind, Mention};
use super::numbers::{numbers, NumberMention};
use super::scope;
use super::text::{cardiac_sentence, tokens, whole_words, Gap, Token};

/// What one note says, read once.
pub(super) struct Facts<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token<'a>>,
    /// Lexicon concepts (drugs, findings, organisms, vitals, routes, lab analytes).
    pub(super) mentions: Vec<Mention>,
    /// Per token: whether a negation trigger's scope covers it.
    pub(super) negated: Vec<bool>,
    /// Per token: whether it belongs to a negation trigger itself.
    pub(super) trigger: Vec<bool>,
    pub(super) numbers: Vec<NumberMention>,
    /// The hashes of every token's lower-case word (and its singular), for quick
    /// membership tests: built on the first test, as most pairs never ask. Hashes, not
    /// copies of the words: no allocation per word (a 64-bit collision is negligible).
    words: OnceCell<FxHashSet<u64>>,
}

/// Capitalised abbreviations that are also common lower-case words (or too short to list
/// in lower case), read as the concept they abbreviate only when written in capitals:
/// `US` ultrasound (except after `the`: the country), `ID` infectious disease. Forms from the standard abbreviation lists (Wikipedia "List of medical
/// abbreviations"; Davis's Pocket Clinical Abbreviations).
const CAPITALISED: &[(&str, &str)] = &[
    ("US", "ultrasound"),
    ("ID", "infectious disease"),
    // Lymphadenopathy, except beside the heart's arteries (`laterality.rs`: the left
    // anterior descending artery).
    ("LAD", "lymphadenopathy"),
];

/// A verb phrase and the finding it states (`she lost consciousness` = loss of
/// consciousness): written from clinical knowledge, the verb forms of findings the
/// abbreviation lists write as nouns (`LOC`; `wt loss`).
const VERB_PHRASES: &[(&[&str], &str)] = &[
    (&["lost", "consciousness"], "loss of consciousness"),
    (&["lose", "consciousness"], "loss of consciousness"),
    (&["loses", "consciousness"], "loss of consciousness"),
    (&["losing", "consciousness"], "loss of consciousness"),
    (&["lost", "weight"], "weight loss"),
    (&["losing", "weight"], "weight loss"),
    (&["gained", "weight"], "weight gain"),
    (&["gaining", "weight"], "weight gain"),
];

/// Words before `LOC` that make it the level of consciousness (`decreased LOC`), which is
/// no loss of it.
const LEVEL_WORDS: &[&str] = &[
    "decreased",
    "depressed",
    "reduced",
    "diminished",
    "altered",
    "fluctuating",
    "normal",
    "worsening",
    "declining",
];

/// Reads the abbreviations and verb phrases above into `mentions`: an abbreviation after a
/// modifier is the modifier's form of the concept (`gestational DM` = gestational
/// diabetes), `LOC` after a level word is no finding. (Measurements such as visual acuity
/// or birth weight are left out of the disease lexicon by its maker, `MEASURED`.)
fn refine_mentions(text: &str, tokens: &[Token], mentions: &mut Vec<Mention>) {
    let mut changed = false;
    mentions.retain(|m| {
        let level = m.last == m.first + 1
            && tokens[m.first].lower == "loc"
            && m.first > 0
            && LEVEL_WORDS.contains(&tokens[m.first - 1].lower.as_ref());
        changed |= level;
        !level
    });
    let mut covered = vec![false; tokens.len()];
    for m in mentions.iter() {
        covered[m.first..m.last].iter_mut().for_each(|c| *c = true);
    }
    for m in mentions.iter_mut() {
        // `gestational DM`: the modifier and the abbreviation's spelled-out form.
        let raw = &text[m.start..m.end];
        if m.last == m.first + 1
            && m.first > 0
            && raw.len() >= 2
            && raw
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && tokens[m.first].gap == Gap::Space
            && !covered[m.first - 1]
        {
            let modifier = &tokens[m.first - 1].lower;
            let spelled = m.entry.canonical;
            if let Some(entry) = lexicon().get(&format!("{modifier} {spelled}")) {
                m.entry = entry;
                m.first -= 1;
                m.start = tokens[m.first].start;
            }
        }
    }
    let mut added = Vec::new();
    for (i, pair) in tokens.windows(2).enumerate() {
        if !matches!(pair[1].lower.as_ref(), "consciousness" | "weight") {
            continue;
        }
        let Some((_, phrase)) = VERB_PHRASES
            .iter()
            .find(|(words, _)| pair[0].lower == words[0] && pair[1].lower == words[1])
        else {
            continue;
        };
        if pair[1].gap > Gap::Joiner || mentions.iter().any(|m| m.first <= i + 1 && i < m.last) {
            continue;
        }
        if let Some(entry) = lexicon().get(phrase) {
            added.push(Mention {
                entry,
                first: i,
                last: i + 2,
                start: pair[0].start,
                end: pair[1].end,
            });
        }
    }
    if !added.is_empty() || changed {
        mentions.extend(added);
        mentions.sort_by_key(|m| m.first);
    }
}

/// The lexicon mentions of the capitalised abbreviations of `CAPITALISED` among `tokens`,
/// merged into `mentions` in text order.
fn capitalised_mentions(text: &str, tokens: &[Token], mentions: &mut Vec<Mention>) {
    let mut added = false;
    for (i, token) in tokens.iter().enumerate() {
        let raw = &text[token.start..token.end];
        if !(2..=3).contains(&raw.len()) || !raw.as_bytes()[0].is_ascii_uppercase() {
            continue;
        }
        let Some((_, phrase)) = CAPITALISED.iter().find(|(a, _)| *a == raw) else {
            continue;
        };
        if raw == "US" && i > 0 && tokens[i - 1].lower == "the" {
            continue;
        }
        if raw == "LAD" && cardiac_sentence(tokens, token.sentence) {
            continue;
        }
        if mentions.iter().any(|m| m.first <= i && i < m.last) {
            continue;
        }
        if let Some(entry) = lexicon().get(phrase) {
            mentions.push(Mention {
                entry,
                first: i,
                last: i + 1,
                start: token.start,
                end: token.end,
            });
            added = true;
        }
    }
    if added {
        mentions.sort_by_key(|m| m.first);
    }
}

/// Drops the drug mentions of the lexicon that in notes abbreviate something else (`CTAB`:
/// clear to auscultation bilaterally, not cetrimonium): a one-word drug name that is a
/// clinical abbreviation none of whose senses names the drug nor shares a word with its
/// name (`NSAID`: non-steroidal anti-inflammatory drug stays). (Reading an abbreviation
/// whose every sense is one drug as that drug, `ANA`, `abx`, `MTX`, was tried in round 7
/// and taken back: a fresh one-fact dose/route/frequency change went through with it,
/// found by its set's aggregate, cause not found.)
fn drop_misread_drugs(tokens: &[Token], mentions: &mut Vec<Mention>) {
    mentions.retain(|m| {
        if m.entry.kind != Kind::Drug || m.last != m.first + 1 {
            return true;
        }
        let senses = senses(&tokens[m.first].lower);
        let canonical = m.entry.canonical;
        senses.is_empty()
            || senses
                .split('\n')
                .any(|sense| sense_entry(sense).is_some_and(|e| e.canonical == canonical))
            || senses.split(['\n', ' ', '/']).any(|w| {
                w.len() >= 5
                    && canonical
                        .split([' ', ',', '/'])
                        .any(|c| c == w || c.strip_suffix('s') == Some(w))
            })
    });
}

/// The lexicon entry an abbreviation's sense names, in the inventory's spellings too
/// (`anti-nuclear antibodies` for `antinuclear antibody`).
pub(super) fn sense_entry(sense: &str) -> Option<Entry> {
    lexicon().get(sense).or_else(|| {
        let plain = sense.replace('-', "");
        lexicon()
            .get(&plain)
            .or_else(|| lexicon().get(plain.strip_suffix('s')?))
    })
}

impl<'a> Facts<'a> {
    /// Reads `text` into its fact table; `lower` is `text.to_ascii_lowercase()`, made once
    /// per text by the caller (the tokens, the numbers and the coverage check read it).
    pub(super) fn read(text: &'a str, lower: &'a str) -> Facts<'a> {
        let tokens = tokens(text, lower);
        let mut mentions = lexicon().mentions(&tokens);
        capitalised_mentions(text, &tokens, &mut mentions);
        drop_misread_drugs(&tokens, &mut mentions);
        refine_mentions(text, &tokens, &mut mentions);
        let (negated, trigger) = scope::scopes(&tokens);
        Facts {
            words: OnceCell::new(),
            text,
            numbers: numbers(lower),
            tokens,
            mentions,
            negated,
            trigger,
        }
    }

    /// The fact table as text, one concept or number a line (`finding  fever (fever)
    /// negated`): what the checker read, for a person tuning or reviewing it.
    pub(super) fn describe(&self) -> String {
        let mut out = String::new();
        for m in &self.mentions {
            let _ = writeln!(
                out,
                "{:?}  `{}` ({}){}",
                m.entry.kind,
                self.span(m.start, m.end),
                m.entry.canonical,
                if self.is_negated(m) { " negated" } else { "" }
            );
        }
        for n in &self.numbers {
            let _ = writeln!(
                out,
                "Number  `{}` = {} {}",
                self.span(n.start, n.end),
                n.value,
                n.unit.unwrap_or("")
            );
        }
        out
    }

    /// The mentions of these kinds.
    pub(super) fn of_kind<const N: usize>(
        &self,
        kinds: [Kind; N],
    ) -> impl Iterator<Item = &Mention> + '_ {
        self.mentions
            .iter()
            .filter(move |m| kinds.contains(&m.entry.kind))
    }

    /// Whether a negation scope covers the mention.
    pub(super) fn is_negated(&self, mention: &Mention) -> bool {
        (mention.first..mention.last).any(|t| self.negated[t])
    }

    /// The whole words of the text from byte `start` to `end`.
    pub(super) fn span(&self, start: usize, end: usize) -> String {
        whole_words(self.text, start, end).to_string()
    }

    /// The text of tokens `first..last`.
    pub(super) fn token_span(&self, first: usize, last: usize) -> String {
        let last = last.max(first + 1).min(self.tokens.len());
        if first >= last {
            return String::new();
        }
        self.span(self.tokens[first].start, self.tokens[last - 1].end)
    }

    /// The index of the token at or after byte `at`.
    pub(super) fn token_at(&self, at: usize) -> usize {
        self.tokens.partition_point(|t| t.end <= at)
    }

    /// Whether the text holds a word with the same letters but the last (at least five:
    /// `allergy` and `allergic`, not `schizoid` and `schizotypal`): a loose test, used
    /// only to excuse, never to reject.
    pub(super) fn has_word_like(&self, word: &str) -> bool {
        let letters = word.chars().count();
        let Some((cut, _)) = word.char_indices().nth(5.max(letters.saturating_sub(1))) else {
            return false;
        };
        let prefix = &word[..cut];
        self.tokens.iter().any(|t| t.lower.starts_with(prefix))
    }

    /// Whether the text holds this word (lower case, or its singular) anywhere, alone or
    /// as a part of a hyphenated word.
    pub(super) fn has_word(&self, word: &str) -> bool {
        self.words
            .get_or_init(|| {
                let mut words = FxHashSet::default();
                words.reserve(self.tokens.len() * 2);
                for t in &self.tokens {
                    // `foreign-body` holds `foreign` and `body` too.
                    let parts = t.lower.split('-').filter(|p| p.len() < t.lower.len());
                    for word in std::iter::once(t.lower.as_ref()).chain(parts) {
                        if let Some(singular) = word.strip_suffix('s') {
                            words.insert(word_hash(singular));
                        }
                        words.insert(word_hash(word));
                    }
                }
                words
            })
            .contains(&word_hash(word))
    }
}

/// A word's hash for `Facts::has_word`.
fn word_hash(word: &str) -> u64 {
    use std::hash::{BuildHasher as _, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(word)
}

/// One comparison of `original` with `paraphrase` read as facts: what it rejects (for
/// the tests of each check family).
#[cfg(test)]
pub(super) fn compared_by(
    compare: fn(&Facts, &Facts, &mut Vec<super::Finding>),
    original: &str,
    paraphrase: &str,
) -> Vec<super::Finding> {
    let mut out = Vec::new();
    let (original_lower, paraphrase_lower) = (
        original.to_ascii_lowercase(),
        paraphrase.to_ascii_lowercase(),
    );
    compare(
        &Facts::read(original, &original_lower),
        &Facts::read(paraphrase, &paraphrase_lower),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capital_abbreviations_are_concepts_and_lower_case_words_are_not() {
        let canonicals = |text: &str| -> Vec<&'static str> {
            let lower = text.to_ascii_lowercase();
            Facts::read(text, &lower)
                .mentions
                .iter()
                .map(|m| m.entry.canonical)
                .collect()
        };
        assert_eq!(
            canonicals("An abdominal US showed it."),
            canonicals("An abdominal ultrasound showed it.")
        );
        assert!(canonicals("Tell us. Born in the US.").is_empty());
        // Measurements are no concepts (the disease lexicon's maker leaves them out).
        assert!(canonicals("Visual acuity 20/40; birth weight 3700 g.").is_empty());
        assert!(canonicals("Give me your id.").is_empty());
    }

    #[test]
    fn hyphenated_words_hold_their_parts() {
        let facts = Facts::read("a foreign-body sensation", "a foreign-body sensation");
        assert!(facts.has_word("foreign") && facts.has_word("body"));
        assert!(facts.has_word("foreign-body") && !facts.has_word("sensation-body"));
    }

    #[test]
    fn abbreviations_and_verb_phrases_read_as_their_concepts() {
        let findings = |text: &str| -> Vec<&'static str> {
            let lower = text.to_ascii_lowercase();
            Facts::read(text, &lower)
                .of_kind([Kind::Finding])
                .map(|m| m.entry.canonical)
                .collect()
        };
        assert_eq!(
            findings("c/b gestational DM"),
            findings("complicated by gestational diabetes")
        );
        assert_ne!(findings("gestational DM"), findings("DM"));
        assert_eq!(
            findings("He lost consciousness briefly."),
            findings("Brief LOC.")
        );
        assert!(findings("Decreased LOC.").is_empty());
        assert_eq!(
            findings("Tender cervical LAD."),
            findings("Tender cervical lymphadenopathy.")
        );
        assert!(findings("Stent placed in the LAD coronary artery.").is_empty());
        let facts = Facts::read(
            "He did not lose consciousness.",
            "he did not lose consciousness.",
        );
        assert!(facts.mentions.iter().any(|m| facts.is_negated(m)));
    }
}
