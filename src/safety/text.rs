//! Text utilities every check shares: words, sentences, stopwords, content words and a
//! light stem, all borrowing from a lower-cased copy of the text.

/// Word tokens (letters, digits, inner hyphens, apostrophes and slashes) of an already
/// lower-cased text, borrowed from it.
pub(super) fn words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\'' || c == '/'))
        .map(|w| w.trim_matches(['-', '\'', '/']))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Sentences: split after `.`, `!`, `?`, `;` or a newline that ends a sentence (not the
/// point of a decimal number).
pub(super) fn sentences(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let ends = match b {
            b'!' | b'?' | b';' | b'\n' => true,
            b'.' => bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace),
            _ => false,
        };
        if ends {
            if !text[start..=i].trim().is_empty() {
                out.push(&text[start..=i]);
            }
            start = i + 1;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
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

/// A word of four letters or more that is neither a stopword nor a negation cue.
pub(super) fn is_content_word(word: &str) -> bool {
    word.len() >= 4
        && word.chars().any(char::is_alphabetic)
        && !STOPWORDS.contains(&word)
        && !NEGATION_CUES.contains(&word)
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
