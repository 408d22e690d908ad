//! The word lists the checks look every token up in (stopwords, triggers, units,
//! qualifiers, relations), as hash sets and maps behind a one-bit test that turns most
//! words away before any hashing: most tokens of a note are in none of these short lists.

use std::borrow::Borrow;
use std::hash::Hash;

use rustc_hash::{FxHashMap, FxHashSet};

/// One bit per class of word (its length, first and last byte): a word whose bit is clear
/// is surely not listed. A listed word always finds its bit set, so a test behind this
/// one answers exactly as the test alone does.
#[derive(Debug)]
pub(super) struct WordFilter {
    bits: [u64; 64],
}

impl WordFilter {
    /// The filter of these words.
    pub(super) fn new<'w>(words: impl IntoIterator<Item = &'w str>) -> WordFilter {
        let mut bits = [0; 64];
        for word in words {
            let slot = slot(word);
            bits[slot >> 6] |= 1 << (slot & 63);
        }
        WordFilter { bits }
    }

    /// False when `word` is surely not listed; true when it may be.
    #[inline]
    pub(super) fn may_hold(&self, word: &str) -> bool {
        let slot = slot(word);
        self.bits[slot >> 6] & (1 << (slot & 63)) != 0
    }
}

/// The bit of a word's class (one of 4,096).
#[inline]
fn slot(word: &str) -> usize {
    let bytes = word.as_bytes();
    let (first, last) = match bytes {
        [] => (0, 0),
        [only] => (*only, *only),
        [first, .., last] => (*first, *last),
    };
    let length = u64::try_from(bytes.len().min(255)).unwrap_or(255);
    let class = length << 16 | u64::from(first) << 8 | u64::from(last);
    usize::try_from(class.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52).unwrap_or(0)
}

/// A set of words behind their `WordFilter`.
#[derive(Debug)]
pub(super) struct WordSet {
    filter: WordFilter,
    set: FxHashSet<&'static str>,
}

impl WordSet {
    /// The set of these words.
    pub(super) fn new(words: impl IntoIterator<Item = &'static str>) -> WordSet {
        let set: FxHashSet<&'static str> = words.into_iter().collect();
        WordSet {
            filter: WordFilter::new(set.iter().copied()),
            set,
        }
    }

    /// Whether `word` is one of the words.
    #[inline]
    pub(super) fn contains(&self, word: &str) -> bool {
        self.filter.may_hold(word) && self.set.contains(word)
    }
}

/// A map from words behind their `WordFilter`.
#[derive(Debug)]
pub(super) struct WordMap<K, V> {
    filter: WordFilter,
    map: FxHashMap<K, V>,
}

impl<K: Borrow<str> + Hash + Eq, V> WordMap<K, V> {
    /// The map, behind the filter of its keys.
    pub(super) fn new(map: FxHashMap<K, V>) -> WordMap<K, V> {
        WordMap {
            filter: WordFilter::new(map.keys().map(Borrow::borrow)),
            map,
        }
    }

    /// The value of `word`.
    #[inline]
    pub(super) fn get(&self, word: &str) -> Option<&V> {
        if self.filter.may_hold(word) {
            self.map.get(word)
        } else {
            None
        }
    }

    /// Whether `word` is a key.
    #[inline]
    pub(super) fn contains_key(&self, word: &str) -> bool {
        self.get(word).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_words_pass_and_most_others_do_not() {
        let set = WordSet::new(["no", "not", "denies", "without", "a", ""]);
        for word in ["no", "not", "denies", "without", "a", ""] {
            assert!(set.contains(word), "`{word}`");
        }
        let others = [
            "fever", "pain", "the", "patient", "cough", "nausea", "chest",
        ];
        assert!(others.iter().all(|w| !set.contains(w)));
        let filter = WordFilter::new(["no", "not", "denies"]);
        assert!(others.iter().filter(|w| filter.may_hold(w)).count() <= 1);
    }
}
