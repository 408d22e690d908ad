//! Text utilities every check shares: words, stopwords, content words and a
//! light stem, all borrowing from a lower-cased copy of the text; and the tokens with
//! their places that the fact tables are read from.

use std::borrow::Cow;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::word_filter::{WordMap, WordSet};

/// Word tokens (letters, digits, inner hyphens, apostrophes and slashes) of an already
/// lower-cased text, borrowed from it. Read byte by byte, a run of ASCII word bytes in one
/// tight loop: only a non-ASCII character is decoded.
pub(super) fn words(lower: &str) -> Vec<&str> {
    let bytes = lower.as_bytes();
    let mut out = Vec::with_capacity(lower.len() / 6);
    let mut start = 0;
    let mut pos = 0;
    loop {
        pos += bytes[pos..]
            .iter()
            .position(|&b| !WORD_BYTES[usize::from(b)])
            .unwrap_or(bytes.len() - pos);
        if pos >= bytes.len() {
            break;
        }
        let (inside, width) = if bytes[pos].is_ascii() {
            (false, 1)
        } else {
            let c = lower[pos..].chars().next().unwrap_or(' ');
            (c.is_alphanumeric(), c.len_utf8())
        };
        if !inside {
            if start < pos {
                let word = trim_joiners(&lower[start..pos]);
                if !word.is_empty() {
                    out.push(word);
                }
            }
            start = pos + width;
        }
        pos += width;
    }
    let word = trim_joiners(&lower[start..]);
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Per byte: whether it is an ASCII byte a word holds (a letter, a digit, `-`, `'`, `/`).
static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)] // below 128
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'\'' | b'/');
        b += 1;
    }
    table
};

/// `piece` without the `-`, `'` and `/` at either end (`trim_matches` on bytes: they are
/// ASCII, so no other character holds their bytes).
fn trim_joiners(piece: &str) -> &str {
    let joiner = |b: &u8| matches!(b, b'-' | b'\'' | b'/');
    let bytes = piece.as_bytes();
    let start = bytes.iter().position(|b| !joiner(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !joiner(b))
        .map_or(start, |p| p + 1);
    &piece[start..end]
}

/// Words too common to say what a sentence is about.
pub(super) const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "with",
    "that",
    "this",
    "from",
    "have",
    "has",
    "had",
    "were",
    "was",
    "are",
    "been",
    "being",
    "for",
    "his",
    "her",
    "hers",
    "him",
    "she",
    "they",
    "them",
    "their",
    "there",
    "then",
    "than",
    "into",
    "onto",
    "over",
    "under",
    "also",
    "after",
    "before",
    "during",
    "which",
    "who",
    "whom",
    "whose",
    "what",
    "when",
    "where",
    "while",
    "since",
    "because",
    "about",
    "shows",
    "show",
    "showed",
    "reveals",
    "revealed",
    "patient",
    "patients",
    "year-old",
    "years",
    "year",
    "comes",
    "came",
    "presents",
    "presented",
    "some",
    "such",
    "both",
    "each",
    "other",
    "more",
    "most",
    "very",
    "will",
    "would",
    "could",
    "should",
    "does",
    "did",
    "done",
    "upon",
    "within",
    "without",
    "your",
    "ago",
    "past",
    "days",
    "weeks",
    "hours",
    "months",
    "history",
    "these",
    "those",
    "well",
    "only",
    "just",
    "still",
    "physical",
    "examination",
    "exam",
    "today",
    "currently",
    "recent",
    "recently",
];

/// Words that open a negation's scope.
pub(super) const NEGATION_CUES: &[&str] = &[
    "no", "not", "denies", "denied", "deny", "without", "never", "neither", "nor", "negative",
    "absent", "absence", "free", "none", "cannot", "nothing",
];

/// Vital-sign and lab-report words a paraphrase may abbreviate or leave out (`BP`,
/// `HR`, "vitals normal"): not counted as content by the coverage check (issue 8).
const REPORT_WORDS: &[&str] = &[
    "temperature",
    "pulse",
    "blood",
    "pressure",
    "respirations",
    "respiratory",
    "rate",
    "oxygen",
    "saturation",
    "room",
    "vital",
    "signs",
    "limits",
    "normal",
    "within",
    "laboratory",
    "studies",
    "show",
    "count",
    "concentration",
    "serum",
    "heart",
];

/// A word of four letters or more that is neither a stopword, a negation cue nor a
/// vital-sign or lab-report word.
pub(super) fn is_content_word(word: &str) -> bool {
    static NOT_CONTENT: OnceLock<WordSet> = OnceLock::new();
    let not_content = NOT_CONTENT.get_or_init(|| {
        WordSet::new(
            STOPWORDS
                .iter()
                .chain(NEGATION_CUES)
                .chain(REPORT_WORDS)
                .copied(),
        )
    });
    word.len() >= 4 && word.chars().any(char::is_alphabetic) && !not_content.contains(word)
}

/// Whether `word` is a stopword (a hash-set test: this runs for every token).
pub(super) fn is_stopword(word: &str) -> bool {
    static SET: OnceLock<WordSet> = OnceLock::new();
    SET.get_or_init(|| WordSet::new(STOPWORDS.iter().copied()))
        .contains(word)
}

/// A light stem so `lesions`/`lesion`, `treated`/`treat` meet.
pub(super) fn stem(word: &str) -> &str {
    for suffix in ["ies", "es", "s", "ed", "ing", "ly"] {
        if let Some(base) = word.strip_suffix(suffix) {
            if base.len() >= 4 {
                return base;
            }
        }
    }
    word
}

/// What separates a token from the one before it: nothing but spaces, a comma, a clause
/// break (`:`, `;`, brackets, a dash) or a sentence end (`.`, `!`, `?`, a line break).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Gap {
    Space,
    /// A `/` or a `.` after a one-letter word (`n/v`, `E. coli`): still one phrase.
    Joiner,
    Comma,
    Clause,
    Sentence,
}

/// A word of the text: where it stands (bytes) and its lower-case form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub(super) start: usize,
    pub(super) end: usize,
    /// Lower case, curly apostrophes made straight: borrowed from the lower-cased text
    /// when the word is ASCII (most are), so reading a note allocates only for the others.
    pub(super) lower: Cow<'a, str>,
    /// What separates it from the token before.
    pub(super) gap: Gap,
    /// The sentence it belongs to (counting from 0).
    pub(super) sentence: usize,
}

/// Whether `c` may stand inside a word between two letters or digits.
fn inner_joiner(c: char) -> bool {
    matches!(c, '-' | '\'' | '\u{2019}')
}

/// The words of `text` with their places: runs of letters and digits, with inner `-` and
/// apostrophes (`right-to-left`, `crohn's`) and decimal points (`2.5`) kept inside.
/// `lower` is `text` lower-cased (ASCII: the same byte offsets), which an ASCII word's
/// lower-case form borrows from: only a word with other characters allocates.
pub(super) fn tokens<'a>(text: &'a str, lower: &'a str) -> Vec<Token<'a>> {
    debug_assert_eq!(text.len(), lower.len());
    let bytes = text.as_bytes();
    // The character at byte `pos` (a char boundary), ASCII read directly.
    let char_at = |pos: usize| -> Option<char> {
        match bytes.get(pos) {
            None => None,
            Some(&b) if b.is_ascii() => Some(char::from(b)),
            Some(_) => text[pos..].chars().next(),
        }
    };
    let mut out: Vec<Token> = Vec::with_capacity(text.len() / 5);
    let mut sentence = 0usize;
    let mut pos = 0;
    let mut gap_start = 0;
    loop {
        // Spaces and punctuation, the most of what lies between words, byte by byte.
        while bytes
            .get(pos)
            .is_some_and(|&b| BYTE_CLASS[usize::from(b)] == ASCII_OTHER)
        {
            pos += 1;
        }
        let Some(c) = char_at(pos) else { break };
        if !c.is_alphanumeric() {
            pos += c.len_utf8();
            continue;
        }
        let start = pos;
        let mut previous = c;
        let mut j = pos + c.len_utf8();
        // Whether the word is all ASCII, noted while it is read (not read again).
        let mut ascii = c.is_ascii();
        loop {
            // ASCII letters and digits, the most of every word, one table test a byte (the
            // last of them is the character before what follows).
            let run = bytes[j..]
                .iter()
                .position(|&b| BYTE_CLASS[usize::from(b)] != ASCII_ALNUM)
                .unwrap_or(bytes.len() - j);
            if run > 0 {
                j += run;
                previous = char::from(bytes[j - 1]);
            }
            // An ASCII byte that is no joiner nor a decimal point ends the word (most
            // words end so): no look at the character after it.
            if bytes
                .get(j)
                .is_none_or(|b| b.is_ascii() && !matches!(b, b'-' | b'\'' | b'.'))
            {
                break;
            }
            let Some(c) = char_at(j) else { break };
            let width = c.len_utf8();
            if c.is_alphanumeric() {
                ascii &= c.is_ascii();
                previous = c;
                j += width;
                continue;
            }
            let next = char_at(j + width);
            let next_is_alnum = next.is_some_and(char::is_alphanumeric);
            let decimal =
                c == '.' && previous.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_digit());
            if (inner_joiner(c) || decimal) && next_is_alnum {
                ascii &= c.is_ascii();
                previous = c;
                j += width;
            } else {
                break;
            }
        }
        let end = j;
        let between = &text[gap_start..start];
        let previous_single = out.last().is_some_and(|t| t.end - t.start == 1);
        // Most words follow one space.
        let gap = if between == " " {
            Gap::Space
        } else {
            classify_gap(between, previous_single)
        };
        if gap == Gap::Sentence && !out.is_empty() {
            sentence += 1;
        }
        let lower = if ascii {
            Cow::Borrowed(&lower[start..end])
        } else {
            Cow::Owned(text[start..end].to_lowercase().replace('\u{2019}', "'"))
        };
        out.push(Token {
            start,
            end,
            lower,
            gap,
            sentence,
        });
        gap_start = end;
        pos = j;
    }
    out
}

/// Per byte: `ASCII_ALNUM` (an ASCII letter or digit), `ASCII_OTHER` (another ASCII byte)
/// or `NOT_ASCII` (a byte of a non-ASCII character), for the tokeniser's loops.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [NOT_ASCII; 256];
    let mut b = 0;
    while b < 128 {
        #[allow(clippy::cast_possible_truncation)] // below 128
        let alnum = (b as u8).is_ascii_alphanumeric();
        table[b] = if alnum { ASCII_ALNUM } else { ASCII_OTHER };
        b += 1;
    }
    table
};
const ASCII_ALNUM: u8 = 0;
const ASCII_OTHER: u8 = 1;
const NOT_ASCII: u8 = 2;

fn classify_gap(between: &str, previous_single: bool) -> Gap {
    let mut gap = Gap::Space;
    for c in between.chars() {
        let this = match c {
            '.' if previous_single && between.trim() == "." => Gap::Joiner,
            '.' | '!' | '?' | '\n' => Gap::Sentence,
            ';' | ':' | '(' | ')' | '[' | ']' | '>' | '—' | '–' | '→' | '⇒' => Gap::Clause, // → "then"
            '-' if between.trim() == "-" && between.len() > 1 => Gap::Clause,
            ',' => Gap::Comma,
            '/' => Gap::Joiner,
            _ => Gap::Space,
        };
        gap = gap.max(this);
    }
    gap
}

/// Whole words around a byte range: `text[start..end]` widened to word boundaries.
pub(super) fn whole_words(text: &str, start: usize, end: usize) -> &str {
    let is_word = |c: char| c.is_alphanumeric();
    let mut s = start.min(text.len());
    while s > 0 && !text.is_char_boundary(s) {
        s -= 1;
    }
    while s > 0 && text[..s].chars().next_back().is_some_and(is_word) {
        s -= text[..s].chars().next_back().map_or(1, char::len_utf8);
    }
    let mut e = end.min(text.len()).max(s);
    while e < text.len() && !text.is_char_boundary(e) {
        e += 1;
    }
    while e < text.len() && text[e..].chars().next().is_some_and(is_word) {
        e += text[e..].chars().next().map_or(1, char::len_utf8);
    }
    text[s..e].trim()
}

/// A list of phrases (lower-case words joined by one space) indexed by first word, so
/// a token is tested only against the phrases that start with it, in list order.
pub(super) struct PhraseTable {
    by_first: FxHashMap<&'static str, Vec<(usize, Vec<&'static str>)>>,
    /// The first bytes of the first words, as bits per word length (16 and more in the
    /// last row): most tokens are turned away by one bit test before any hashing.
    first_bytes: [[u64; 4]; 16],
    /// Whether a phrase starts with `not` (then any `-n't` word may start a match).
    has_not: bool,
}

impl PhraseTable {
    /// Indexes `phrases`; a match reports the phrase's place in the list.
    pub(super) fn new(phrases: impl IntoIterator<Item = &'static str>) -> PhraseTable {
        let mut by_first: FxHashMap<&'static str, Vec<(usize, Vec<&'static str>)>> =
            FxHashMap::default();
        let mut first_bytes = [[0u64; 4]; 16];
        for (index, phrase) in phrases.into_iter().enumerate() {
            let words: Vec<&'static str> = phrase.split(' ').collect();
            if let Some(&b) = words[0].as_bytes().first() {
                first_bytes[words[0].len().min(15)][usize::from(b >> 6)] |= 1 << (b & 63);
            }
            by_first.entry(words[0]).or_default().push((index, words));
        }
        let has_not = by_first.contains_key("not");
        PhraseTable {
            by_first,
            first_bytes,
            has_not,
        }
    }

    /// The first phrase (in list order) whose words are `tokens[at..]`, as its place in
    /// the list and its length in tokens. With `within` set, the tokens after the first
    /// must be separated by nothing more than that gap; `not` also matches a `-n't` word.
    /// Inlined up to the one-bit test, which turns most tokens away without a call.
    #[inline]
    pub(super) fn at(
        &self,
        tokens: &[Token],
        at: usize,
        within: Option<Gap>,
    ) -> Option<(usize, usize)> {
        let first = tokens.get(at)?.lower.as_bytes();
        let b = *first.first()?;
        if self.first_bytes[first.len().min(15)][usize::from(b >> 6)] & (1 << (b & 63)) == 0
            && !(self.has_not && first.ends_with(b"n't"))
        {
            return None;
        }
        self.matching(tokens, at, within)
    }

    /// `at` past its one-bit test.
    #[inline(never)]
    fn matching(&self, tokens: &[Token], at: usize, within: Option<Gap>) -> Option<(usize, usize)> {
        let first = tokens[at].lower.as_ref();
        let direct = self.by_first.get(first);
        let contracted = if first.ends_with("n't") {
            self.by_first.get("not")
        } else {
            None
        };
        let mut best: Option<(usize, usize)> = None;
        for (index, words) in direct.into_iter().chain(contracted).flatten() {
            if best.is_some_and(|(b, _)| b < *index) {
                continue;
            }
            let fits = at + words.len() <= tokens.len()
                && words
                    .iter()
                    .zip(&tokens[at..])
                    .enumerate()
                    .all(|(n, (word, token))| {
                        (n == 0 || within.is_none_or(|w| token.gap <= w))
                            && (token.lower == *word
                                || (*word == "not" && token.lower.ends_with("n't")))
                    });
            if fits {
                best = Some((*index, words.len()));
            }
        }
        best
    }
}

/// A table's spellings (the first field of each row) → the row's place, for a hash
/// lookup per token instead of a scan of the table. The first row with a spelling wins.
pub(super) fn spelling_index<T>(
    table: &'static [T],
    spelling: impl Fn(&'static T) -> &'static str,
) -> WordMap<&'static str, usize> {
    let mut index = FxHashMap::default();
    for (place, row) in table.iter().enumerate() {
        index.entry(spelling(row)).or_insert(place);
    }
    WordMap::new(index)
}

/// Words that make `LAD` the left anterior descending artery; elsewhere (`cervical LAD`,
/// `no LAD`) it is lymphadenopathy, as the abbreviation lists give both.
const CARDIAC_WORDS: &[&str] = &[
    "artery",
    "arteries",
    "coronary",
    "stent",
    "stenosis",
    "occlusion",
    "occluded",
    "lesion",
    "angiography",
    "angiogram",
    "catheterization",
    "pci",
    "stemi",
    "infarction",
    "mi",
    "descending",
    "territory",
    "ischemia",
    "ecg",
    "ekg",
    "st",
];

/// Whether sentence `sentence` of these tokens speaks of the heart's arteries.
pub(super) fn cardiac_sentence(tokens: &[Token], sentence: usize) -> bool {
    tokens
        .iter()
        .filter(|t| t.sentence == sentence)
        .any(|t| CARDIAC_WORDS.contains(&t.lower.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_as_a_split_on_characters_does() {
        let by_characters = |text: &str| -> Vec<String> {
            text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\'' || c == '/'))
                .map(|w| w.trim_matches(['-', '\'', '/']))
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        };
        for text in [
            "",
            "a",
            "-/'",
            "the patient's x-ray/ct showed 2.5 cm -- 'quoted' words.",
            "naïve café — 38.5 °c, µg/dl; crohn’s\nnext line/",
            "ends with a hyphen-",
            "größe ΑΒΓ 日本語 mixed-ünïcode/words'",
        ] {
            let lower = text.to_lowercase();
            assert_eq!(words(&lower), by_characters(&lower), "{text}");
        }
    }
}
