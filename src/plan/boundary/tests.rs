//! [`is_clean_cut`] against the tokenizers themselves: token for token, both encodings.

use super::*;

fn encodings() -> [&'static tiktoken_rs::CoreBPE; 2] {
    [
        tiktoken_rs::o200k_base_singleton(),
        tiktoken_rs::cl100k_base_singleton(),
    ]
}

/// Characters that sit on every edge of both regexes: letters of each case (title case
/// too), a mark, CJK, digits (`½` is a number too), the contraction apostrophe and
/// letters, punctuation, `/`, and every kind of whitespace (no-break space, line
/// separator). A one-off run of 3 million random cuts over a wider alphabet (more
/// letters, number and whitespace kinds) found no counterexample either.
const ALPHABET: [char; 20] = [
    'a', 'B', 's', 'é', 'Σ', 'ǅ', '中', '\u{301}', '7', '½', '\'', '.', '/', '😀', ' ', '\n', '\r',
    '\t', '\u{a0}', '\u{2028}',
];

fn short_strings(max_len: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..max_len {
        last = last
            .iter()
            .flat_map(|s| ALPHABET.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}

/// Asserts the tokens of `a + b` are those of `a` then those of `b`, in both encodings.
fn assert_splits(a: &str, b: &str) {
    let whole = format!("{a}{b}");
    for bpe in encodings() {
        let mut parts = bpe.encode_ordinary(a);
        parts.extend(bpe.encode_ordinary(b));
        assert_eq!(bpe.encode_ordinary(&whole), parts, "{a:?} + {b:?}");
    }
}

#[test]
fn every_clean_cut_of_short_strings_splits_the_tokens() {
    let strings = short_strings(2);
    let mut checked = 0;
    for a in &strings {
        for b in &strings {
            if joins_cleanly(a, b) {
                assert_splits(a, b);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
fn clean_cuts_of_random_strings_split_the_tokens() {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut random = |len: usize| -> String {
        (0..len)
            .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
            .collect()
    };
    let mut checked = 0;
    while checked < 20_000 {
        let (a, b) = (random(1 + checked % 7), random(1 + checked % 5));
        if joins_cleanly(&a, &b) {
            assert_splits(&a, &b);
            checked += 1;
        }
    }
}

#[test]
fn prompt_boundaries_on_tricky_note_starts() {
    // The shipped templates put a note after "note.\n\n" and after ":\n".
    for prefix in [
        "Paraphrase the following clinical note.\n\n",
        "CORRECT NOTE:\n",
        "Note:",
        "",
    ] {
        for note in [
            "A 45-year-old man.",
            " A note starting with a space.",
            "\nA note starting with a newline.",
            "\r\nCRLF first.",
            "/slash first",
            ".Punctuation first",
            "(parenthesis) first",
            "'s contraction first",
            "éclair, non-ASCII first",
            "\u{301}combining mark first",
            "中文 first",
            "7 digits first",
            "\u{a0}no-break space first",
            "",
        ] {
            if joins_cleanly(prefix, note) {
                assert_splits(prefix, note);
            }
            if let Some(cut) = last_clean_cut(note) {
                assert_splits(
                    &format!("{prefix}{}", &note[..cut]),
                    &format!("{}\n\nMore.", &note[cut..]),
                );
                assert_splits(&note[..cut], &note[cut..]);
            }
        }
    }
}

#[test]
fn cuts_that_merge_are_refused() {
    // Each of these joins would change the tokens, and the rule says so.
    for (a, b) in [
        ("note.\n\n", "\nA"), // the newline run goes on
        ("note.\n\n", "/A"),  // o200k: punctuation takes `/` after newlines
        ("note.\n\n", " A"),  // whitespace before a letter
        ("(", "see"),         // punctuation leads a word
        ("word", "s"),        // a word goes on
        ("don", "'t"),        // a contraction
        ("12", "3"),          // a digit run
        ("a  ", "b"),         // trailing spaces before a word
    ] {
        assert!(!joins_cleanly(a, b), "{a:?} + {b:?}");
    }
    // And where it matters, the tokens really do change (o200k_base).
    let bpe = tiktoken_rs::o200k_base_singleton();
    for (a, b) in [
        ("note.\n\n", "\nA"),
        ("note.", "\n\nA"),
        ("word", "s"),
        ("12", "3"),
        ("a  ", "b"),
    ] {
        let mut parts = bpe.encode_ordinary(a);
        parts.extend(bpe.encode_ordinary(b));
        assert_ne!(
            bpe.encode_ordinary(&format!("{a}{b}")),
            parts,
            "{a:?} + {b:?}"
        );
        assert!(!joins_cleanly(a, b), "{a:?} + {b:?}");
    }
}

#[test]
fn last_clean_cut_finds_the_last_word_of_a_sentence() {
    assert_eq!(last_clean_cut("Given aspirin."), Some(5));
    assert_eq!(last_clean_cut("Ends with a space. "), Some(18));
    assert_eq!(last_clean_cut("line\nNext"), Some(5));
    assert_eq!(last_clean_cut("oneword"), None);
    assert_eq!(last_clean_cut(" leading"), None);
    assert_eq!(last_clean_cut(""), None);
}

#[test]
fn medec_notes_cut_cleanly_token_for_token() {
    let pairs = crate::medec::bundled_pairs();
    for pair in &pairs {
        let note = &pair.correct_note;
        let cut = last_clean_cut(note).expect("every MEDEC note has a space after a word");
        assert_splits(&note[..cut], &note[cut..]);
        assert_splits("Paraphrase the following clinical note.\n\n", note);
    }
}
