//! tiktoken's pre-tokenizer split, on the `regex` crate: the encodings' split patterns
//! without their one look-ahead, `\s+(?!\S)`, whose effect is restored by hand.
//!
//! Both patterns end in `…|\s+(?!\S)|\s+` (`cl100k_base`: `…|\s+(?!\S)|\s`). A backtracking
//! engine matches a run of blanks that is followed by a non-blank as the run less its last
//! character when the run is longer than one (the last one then starts the next piece, such
//! as " word"), else as the one character. Every earlier alternative that can match blanks
//! alone ends the match at a line break (or at the end of the text), so a match made only
//! of blanks that ends before a non-blank and not on a line break came from those last two
//! alternatives. [`Splitter`] matches `\s+` there and gives the last character back,
//! which is what tiktoken-rs's `fancy-regex` pattern does, several times faster. The tests
//! hold the two to the same pieces on every MEDEC note and on random text.

use regex::Regex;

use super::model::Encoding;

/// `o200k_base`'s split pattern with `\s+(?!\S)|\s+` as `\s+` (tiktoken-rs's
/// `O200K_BASE_PAT_STR` otherwise; a test holds the two together).
const O200K_BASE: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n/]*",
    r"|\s*[\r\n]+",
    r"|\s+",
);

/// `cl100k_base`'s split pattern with `\s+(?!\S)|\s` as `\s+`, and its possessive
/// quantifiers as greedy ones: none of them can give anything back that a later part of
/// its alternative would take.
const CL100K_BASE: &str = concat!(
    r"'(?i:[sdmt]|ll|ve|re)",
    r"|[^\r\n\p{L}\p{N}]?\p{L}+",
    r"|\p{N}{1,3}",
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*",
    r"|\s+$",
    r"|\s*[\r\n]",
    r"|\s+",
);

/// Splits text into the pieces tiktoken byte-pair encodes one by one.
pub(crate) struct Splitter {
    regex: Regex,
}

impl Splitter {
    /// The splitter of `encoding`.
    pub(crate) fn new(encoding: Encoding) -> Splitter {
        let pattern = match encoding {
            Encoding::O200kBase => O200K_BASE,
            Encoding::Cl100kBase => CL100K_BASE,
        };
        Splitter {
            regex: Regex::new(pattern).expect("the split patterns compile"),
        }
    }

    /// Calls `piece` with every piece of `text`, in order.
    pub(crate) fn for_each_piece(&self, text: &str, mut piece: impl FnMut(&str)) {
        let mut at = 0;
        while let Some(found) = self.regex.find_at(text, at) {
            let mut end = found.end();
            let matched = found.as_str();
            if end < text.len() && matched.chars().all(char::is_whitespace) {
                let last = matched.char_indices().next_back();
                if let Some((offset, last)) = last {
                    if offset > 0 && last != '\n' && last != '\r' {
                        end = found.start() + offset;
                    }
                }
            }
            piece(&text[found.start()..end]);
            at = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tiktoken-rs's patterns, as `fancy-regex` runs them.
    fn reference(encoding: Encoding) -> fancy_regex::Regex {
        let pattern = match encoding {
            Encoding::O200kBase => tiktoken_rs::O200K_BASE_PAT_STR,
            Encoding::Cl100kBase => super::super::tokens::CL100K_BASE_PATTERN,
        };
        fancy_regex::Regex::new(pattern).unwrap()
    }

    fn pieces(splitter: &Splitter, text: &str) -> Vec<String> {
        let mut pieces = Vec::new();
        splitter.for_each_piece(text, |piece| pieces.push(piece.to_string()));
        pieces
    }

    fn reference_pieces(regex: &fancy_regex::Regex, text: &str) -> Vec<String> {
        regex
            .find_iter(text)
            .map(|piece| piece.unwrap().as_str().to_string())
            .collect()
    }

    #[test]
    fn o200k_pattern_is_tiktoken_rs_without_the_look_ahead() {
        let expected = tiktoken_rs::O200K_BASE_PAT_STR
            .strip_suffix(r"|\s+(?!\S)|\s+")
            .unwrap();
        assert_eq!(O200K_BASE.strip_suffix(r"|\s+").unwrap(), expected);
    }

    #[test]
    fn pieces_equal_fancy_regex_on_every_medec_note() {
        let pairs = crate::medec::bundled_pairs();
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let (splitter, regex) = (Splitter::new(encoding), reference(encoding));
            for pair in &pairs {
                for note in [&pair.correct_note, &pair.incorrect_note] {
                    assert_eq!(
                        pieces(&splitter, note),
                        reference_pieces(&regex, note),
                        "{encoding:?} {}",
                        pair.note_id
                    );
                }
            }
        }
    }

    #[test]
    fn pieces_equal_fancy_regex_on_random_text() {
        // Blanks of every kind next to letters, digits, marks, apostrophes and symbols.
        let alphabet = [
            " ", "  ", "\t", "\n", "\r", "\r\n", "\u{a0}", "\u{3000}", "\u{2028}", "a", "B", "Ab",
            "é", "e\u{301}", "中", "😀", "1", "234", "'", "'s", "'LL", "'ve", ".", ",", "/", "-",
            "\"", "(", "½", "µ",
        ];
        let mut rng = fastrand::Rng::with_seed(12);
        for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
            let (splitter, regex) = (Splitter::new(encoding), reference(encoding));
            for _ in 0..20_000 {
                let len = rng.usize(0..16);
                let text: String = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                assert_eq!(
                    pieces(&splitter, &text),
                    reference_pieces(&regex, &text),
                    "{encoding:?} {text:?}"
                );
            }
        }
    }

    #[test]
    fn a_run_of_blanks_gives_its_last_one_to_the_next_word() {
        let splitter = Splitter::new(Encoding::O200kBase);
        assert_eq!(pieces(&splitter, "a   b"), ["a", "  ", " b"]);
        assert_eq!(
            pieces(&splitter, "a \n  b  "),
            ["a", " \n", " ", " b", "  "]
        );
    }
}
