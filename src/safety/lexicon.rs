//! The compiled-in lexicons (drugs, diseases and findings, organisms, the synonyms the
//! prompt allows, lab analytes) in one hash map, and the longest-match lookup of a text's
//! words in it. `build.rs` lays the tables out as hash tables read in place: nothing is
//! built at start-up.

use super::static_table::StaticTable;
use super::text::{is_stopword, Gap, Token};

/// What a lexicon entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Kind {
    Drug,
    Finding,
    Organism,
    Vital,
    Route,
    Lab,
    /// A procedure or test (`colonoscopy`, `CT`, `lumbar puncture`).
    Procedure,
}

/// One entry: its kind and canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) kind: Kind,
    pub(super) canonical: &'static str,
    /// A finding only the HPO sign table names (`signs.tsv`: `tenesmus`, `knee pain`): its
    /// words may stand apart in the other text (`pain in the knee`).
    pub(super) sign: bool,
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

/// Clinical abbreviations and their senses (`configs/lexicons/abbreviations.tsv`), laid out
/// as the lexicon's tables.
static SENSES: StaticTable = StaticTable::new(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/abbreviation_senses.bin"
)));
static SENSE_LISTS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/abbreviation_sense_lists.bin"));

/// The list of `key` in a table and blob `build.rs` wrote (items one a line).
pub(super) fn list(table: &StaticTable, blob: &'static [u8], key: &str) -> &'static str {
    table
        .get(key)
        .and_then(|start| blob.get(start as usize..))
        .map_or("", |rest| {
            let end = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
            std::str::from_utf8(&rest[..end]).unwrap_or("")
        })
}

/// The senses of a clinical abbreviation (`bx`: biopsy), one a line; empty for a word that
/// is none or a stopword.
pub(super) fn senses(word: &str) -> &'static str {
    if word.len() > 5 || is_stopword(word) {
        return "";
    }
    list(&SENSES, SENSE_LISTS, word)
}

/// Every clinical abbreviation the senses are listed for.
pub(super) fn abbreviations() -> impl Iterator<Item = &'static str> {
    SENSES.keys()
}

/// Every variant (lower case, words joined by one space) → its kind (top four bits) and
/// canonical name's index, as `build.rs` laid them out from `configs/lexicons/*.tsv`.
static VARIANTS: StaticTable = StaticTable::new(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/lexicon_variants.bin"
)));
/// Per first word of a variant: the most words a variant starting with it has, and in the
/// top bit whether the word alone is a variant.
static FIRST_WORDS: StaticTable = StaticTable::new(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/lexicon_first_words.bin"
)));
/// Every run of two or more leading words of a multi-word variant (the variant included).
static PREFIXES: StaticTable = StaticTable::new(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/lexicon_prefixes.bin"
)));
/// The canonical names, by index.
static CANONICALS: StaticTable = StaticTable::new(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/lexicon_canonicals.bin"
)));

/// The lexicons: drugs, diseases and findings, organisms, lab analytes and the allowed
/// synonyms, later tables winning (a disease name is no drug, a lab analyte is no drug,
/// the hand-made synonyms decide last); see `build.rs`.
pub(super) struct Lexicon {
    variants: &'static StaticTable,
    first_words: &'static StaticTable,
}

/// The shared lexicon: compiled in, nothing to build.
pub(super) fn lexicon() -> &'static Lexicon {
    static LEXICON: Lexicon = Lexicon {
        variants: &VARIANTS,
        first_words: &FIRST_WORDS,
    };
    &LEXICON
}

impl Lexicon {
    /// The entry for exactly these words, if any.
    pub(super) fn get(&self, words: &str) -> Option<Entry> {
        let value = self.variants.get(words)?;
        let kind = match value >> 28 {
            0 => Kind::Drug,
            // 8: a sign of the HPO table (`sign` below), a finding too.
            1 | 8 => Kind::Finding,
            2 => Kind::Organism,
            3 => Kind::Vital,
            4 => Kind::Route,
            6 => Kind::Procedure,
            _ => Kind::Lab,
        };
        let canonical = CANONICALS.key((value & 0x0fff_ffff) as usize);
        Some(Entry {
            kind,
            canonical,
            sign: value >> 28 == 8,
        })
    }

    /// The most words a variant starting with `first` has, if any starts with it, and
    /// whether `first` alone is a variant.
    fn longest(&self, first: &str) -> Option<(usize, bool)> {
        self.first_words
            .get(first)
            .map(|n| ((n & 0x7fff_ffff) as usize, n >> 31 == 1))
    }

    /// Every lexicon match among `tokens`, longest first, left to right, never across a
    /// comma, clause or sentence break. A last word in the plural (`murmurs`) also
    /// matches its singular.
    pub(super) fn mentions(&self, tokens: &[Token]) -> Vec<Mention> {
        let mut found = Vec::new();
        let mut key = String::new();
        let mut i = 0;
        while i < tokens.len() {
            // `alone`: the word itself is a variant (a word found only by its singular is
            // not: every variant is among the first words).
            let Some((most, alone)) = self.longest(tokens[i].lower.as_ref()).or_else(|| {
                singular(&tokens[i].lower)
                    .and_then(|s| self.longest(s))
                    .map(|(most, _)| (most, false))
            }) else {
                i += 1;
                continue;
            };
            // Grow the window one word at a time while some variant starts with it (a
            // last word in the plural may stand for the singular of a whole variant).
            let mut reach = 1;
            key.clear();
            key.push_str(&tokens[i].lower);
            while reach < most && i + reach < tokens.len() && tokens[i + reach].gap <= Gap::Joiner {
                let next = &tokens[i + reach].lower;
                let kept = key.len();
                key.push(' ');
                key.push_str(next);
                let grows = PREFIXES.get(&key).is_some()
                    || singular(next).is_some_and(|stem| {
                        key.truncate(key.len() - next.len());
                        key.push_str(stem);
                        self.get(&key).is_some()
                    });
                if !grows {
                    key.truncate(kept);
                    break;
                }
                key.truncate(kept);
                key.push(' ');
                key.push_str(next);
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
                // Most first words are no variant alone: no lookup of them alone.
                if let Some(entry) = (n > 1 || alone).then(|| self.get(&key)).flatten() {
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
        let lower = text.to_ascii_lowercase();
        let tokens = tokens(text, &lower);
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
    fn abbreviations_and_exam_signs_meet_their_spelled_out_forms() {
        for (short, long) in [
            ("OCD", "obsessive-compulsive disorder"),
            ("TIA", "transient ischemic attack"),
            ("JVD", "jugular venous distension"),
            ("blurry vision", "blurred vision"),
            ("RSV", "respiratory syncytial virus"),
        ] {
            assert_eq!(found(short), found(long), "{short} / {long}");
            assert!(!found(short).is_empty(), "{short}");
        }
        assert_ne!(found("OCD"), found("OCPD"));
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
