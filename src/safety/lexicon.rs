//! The compiled-in lexicons (drugs, diseases and findings, organisms, the synonyms the
//! prompt allows, lab analytes) in one hash map, and the longest-match lookup of a text's
//! words in it. Built once per process from `include_str!` tables in a few milliseconds.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::text::{Gap, Token};

/// What a lexicon entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Kind {
    Drug,
    Finding,
    Organism,
    Vital,
    Route,
    Lab,
}

/// One entry: its kind and canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) kind: Kind,
    pub(super) canonical: &'static str,
}

/// A lexicon match in a text: its tokens and entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mention {
    pub(super) entry: Entry,
    /// The first token and one past the last.
    pub(super) first: usize,
    pub(super) last: usize,
    /// Bytes in the text.
    pub(super) start: usize,
    pub(super) end: usize,
}

const DRUGS: &str = include_str!("../../configs/lexicons/drugs.tsv");
const DISEASES: &str = include_str!("../../configs/lexicons/diseases.tsv");
const ORGANISMS: &str = include_str!("../../configs/lexicons/organisms.tsv");
const SYNONYMS: &str = include_str!("../../configs/lexicons/synonyms.tsv");
const LAB_ANALYTES: &str = include_str!("../../configs/lexicons/lab_analytes.tsv");

/// Every variant (lower case, words joined by one space) → its entry, and per first word
/// the most words a variant starting with it has.
pub(super) struct Lexicon {
    entries: FxHashMap<&'static str, Entry>,
    longest: FxHashMap<&'static str, usize>,
}

/// The shared lexicon, built on first use.
pub(super) fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(Lexicon::build)
}

/// The first two (or three) tab-separated fields of each line that is not a comment.
fn rows(table: &'static str) -> impl Iterator<Item = [&'static str; 3]> {
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (variant, rest) = l.split_once('\t').unwrap_or((l, ""));
            let (canonical, kind) = rest.split_once('\t').unwrap_or((rest, ""));
            [variant, canonical, kind]
        })
}

impl Lexicon {
    fn build() -> Lexicon {
        let mut entries: FxHashMap<&'static str, Entry> = FxHashMap::default();
        entries.reserve(160_000);
        let mut add = |variant: &'static str, kind: Kind, canonical: &'static str| {
            entries.insert(variant, Entry { kind, canonical });
        };
        // Later tables win: a disease name is no drug, a lab analyte is no drug, and the
        // hand-made synonyms decide last.
        // Drug variants are lower case with single spaces; those with punctuation the word
        // split drops can never match and cost nothing.
        for [variant, canonical, _] in rows(DRUGS) {
            add(variant, Kind::Drug, canonical);
        }
        for [variant, canonical, _] in rows(DISEASES) {
            add(variant, Kind::Finding, canonical);
        }
        for [variant, canonical, _] in rows(ORGANISMS) {
            add(variant, Kind::Organism, canonical);
        }
        for [name, _, _] in rows(LAB_ANALYTES) {
            add(name, Kind::Lab, name);
        }
        for [variant, canonical, kind] in rows(SYNONYMS) {
            {
                let kind = match kind {
                    "finding" => Kind::Finding,
                    "organism" => Kind::Organism,
                    "drug" => Kind::Drug,
                    "vital" => Kind::Vital,
                    "route" => Kind::Route,
                    _ => Kind::Lab,
                };
                add(variant, kind, canonical);
            }
        }
        let mut longest: FxHashMap<&'static str, usize> = FxHashMap::default();
        for variant in entries.keys() {
            let first = variant.split_once(' ').map_or(*variant, |(f, _)| f);
            let count = 1 + variant.bytes().filter(|b| *b == b' ').count();
            let slot = longest.entry(first).or_insert(0);
            *slot = (*slot).max(count);
        }
        Lexicon { entries, longest }
    }

    /// The entry for exactly these words, if any.
    pub(super) fn get(&self, words: &str) -> Option<Entry> {
        self.entries.get(words).copied()
    }

    /// Every lexicon match among `tokens`, longest first, left to right, never across a
    /// comma, clause or sentence break. A last word in the plural (`murmurs`) also
    /// matches its singular.
    pub(super) fn mentions(&self, tokens: &[Token]) -> Vec<Mention> {
        let mut found = Vec::new();
        let mut key = String::new();
        let mut i = 0;
        while i < tokens.len() {
            let Some(&most) = self
                .longest
                .get(tokens[i].lower.as_str())
                .or_else(|| singular(&tokens[i].lower).and_then(|s| self.longest.get(s)))
            else {
                i += 1;
                continue;
            };
            let mut reach = 1;
            while reach < most && i + reach < tokens.len() && tokens[i + reach].gap <= Gap::Joiner {
                reach += 1;
            }
            let mut matched = None;
            for n in (1..=reach).rev() {
                key.clear();
                for (k, token) in tokens[i..i + n].iter().enumerate() {
                    if k > 0 {
                        key.push(' ');
                    }
                    key.push_str(&token.lower);
                }
                if let Some(entry) = self.get(&key) {
                    matched = Some((n, entry));
                    break;
                }
                let last = &tokens[i + n - 1].lower;
                if let Some(stem) = singular(last) {
                    key.truncate(key.len() - last.len());
                    key.push_str(stem);
                    if let Some(entry) = self.get(&key) {
                        matched = Some((n, entry));
                        break;
                    }
                }
            }
            if let Some((n, entry)) = matched {
                found.push(Mention {
                    entry,
                    first: i,
                    last: i + n,
                    start: tokens[i].start,
                    end: tokens[i + n - 1].end,
                });
                i += n;
            } else {
                i += 1;
            }
        }
        found
    }
}

/// `murmurs` → `murmur`, `fevers` → `fever` (not `-ss`, `-us`, `-is` words, nor short ones).
fn singular(word: &str) -> Option<&str> {
    if word.len() > 4
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        Some(&word[..word.len() - 1])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::tokens;
    use super::*;

    fn found(text: &str) -> Vec<(Kind, &'static str)> {
        let tokens = tokens(text);
        lexicon()
            .mentions(&tokens)
            .into_iter()
            .map(|m| (m.entry.kind, m.entry.canonical))
            .collect()
    }

    #[test]
    fn synonyms_meet_at_one_canonical_concept() {
        assert_eq!(found("a heart attack"), found("myocardial infarction"));
        assert_eq!(found("HTN"), vec![(Kind::Finding, "hypertension")]);
        assert_eq!(found("Norovirus"), vec![(Kind::Organism, "norwalk virus")],);
        assert_ne!(found("Norovirus"), found("Rotavirus"));
        assert_eq!(found("E. coli"), found("Escherichia coli"));
    }

    #[test]
    fn lab_analytes_are_not_drugs() {
        for lab in ["lactate dehydrogenase", "AST", "ALP", "creatine kinase"] {
            assert!(
                found(lab).iter().all(|(k, _)| *k == Kind::Lab),
                "{lab}: {:?}",
                found(lab)
            );
        }
        assert_eq!(found("warfarin"), vec![(Kind::Drug, "warfarin")]);
    }

    #[test]
    fn matches_stop_at_sentence_breaks() {
        assert!(found("chest. Pain").iter().all(|(_, c)| *c != "chest pain"));
        assert_eq!(found("murmurs"), vec![(Kind::Finding, "heart murmurs")]);
    }
}
