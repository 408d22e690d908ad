//! A note's fact table: its tokens, the lexicon concepts in them with their negation, and
//! its numbers with units. Every check compares two of these, never raw words.

use std::cell::OnceCell;

use rustc_hash::FxHashSet;

use super::lexicon::{lexicon, Kind, Mention};
use super::numbers::{numbers, NumberMention};
use super::scope;
use super::text::{tokens, whole_words, Token};

/// What one note says, read once.
pub(super) struct Facts<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token>,
    /// Lexicon concepts (drugs, findings, organisms, vitals, routes, lab analytes).
    pub(super) mentions: Vec<Mention>,
    /// Per token: whether a negation trigger's scope covers it.
    pub(super) negated: Vec<bool>,
    /// Per token: whether it belongs to a negation trigger itself.
    pub(super) trigger: Vec<bool>,
    pub(super) numbers: Vec<NumberMention>,
    /// Every token's lower-case word (and its singular), for quick membership tests:
    /// built on the first test, as most pairs never ask.
    words: OnceCell<FxHashSet<String>>,
}

impl<'a> Facts<'a> {
    /// Reads `text` into its fact table.
    pub(super) fn read(text: &'a str) -> Facts<'a> {
        let tokens = tokens(text);
        let mentions = lexicon().mentions(&tokens);
        let (negated, trigger) = scope::scopes(&tokens);
        Facts {
            words: OnceCell::new(),
            text,
            numbers: numbers(text),
            tokens,
            mentions,
            negated,
            trigger,
        }
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

    /// Whether the text holds this word (lower case, or its singular) anywhere.
    pub(super) fn has_word(&self, word: &str) -> bool {
        self.words
            .get_or_init(|| {
                let mut words = FxHashSet::default();
                for t in &self.tokens {
                    if let Some(singular) = t.lower.strip_suffix('s') {
                        words.insert(singular.to_string());
                    }
                    words.insert(t.lower.clone());
                }
                words
            })
            .contains(word)
    }
}
