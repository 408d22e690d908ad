//! The MEDEC release's known quirks: a UTF-8 byte order mark, CRLF line ends, `NA` for
//! absent values, and a `Corrected Text` that sometimes differs from the swap by whitespace.

use std::io::{self, BufRead};

use super::Pair;

/// Removes a leading UTF-8 byte order mark; says whether there was one.
pub(super) fn skip_byte_order_mark(reader: &mut impl BufRead) -> io::Result<bool> {
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
        return Ok(true);
    }
    Ok(false)
}

/// Whether the first line ends in CRLF (the MEDEC releases do).
pub(super) fn uses_crlf(reader: &mut impl BufRead) -> io::Result<bool> {
    let head = reader.fill_buf()?;
    Ok(head
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|at| at > 0 && head[at - 1] == b'\r'))
}

/// MEDEC writes `NA` where a value does not apply.
pub(super) fn is_missing(value: &str) -> bool {
    let trimmed = value.trim();
    trimmed.is_empty() || trimmed == "NA"
}

/// How a pair's `Corrected Text` compares with `Text` after the error sentence is swapped
/// for the corrected one. The notes themselves are never changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CorrectedText {
    /// Byte for byte the swap.
    Exact,
    /// The swap up to whitespace (the release sometimes drops or adds the space after a
    /// swapped sentence).
    WhitespaceOnly,
    /// Different beyond whitespace, or the error sentence is not in `Text`.
    Other,
}

/// Compares the pair's notes through its sentences; `None` when it lacks either sentence.
pub(super) fn compare_corrected_text(pair: &Pair) -> Option<CorrectedText> {
    let (Some(error_sentence), Some(corrected_sentence)) =
        (&pair.error_sentence, &pair.corrected_sentence)
    else {
        return None;
    };
    let Some(start) = pair.incorrect_note.find(error_sentence.as_str()) else {
        return Some(CorrectedText::Other);
    };
    let mut swapped = String::with_capacity(pair.incorrect_note.len() + 64);
    swapped.push_str(&pair.incorrect_note[..start]);
    swapped.push_str(corrected_sentence);
    swapped.push_str(&pair.incorrect_note[start + error_sentence.len()..]);
    Some(if swapped == pair.correct_note {
        CorrectedText::Exact
    } else if same_but_whitespace(&swapped, &pair.correct_note) {
        CorrectedText::WhitespaceOnly
    } else {
        CorrectedText::Other
    })
}

/// Equal once every whitespace character is removed.
fn same_but_whitespace(a: &str, b: &str) -> bool {
    let visible = |text: &str| {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<Vec<_>>()
    };
    visible(a) == visible(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;
    use std::io::Cursor;

    fn pair(incorrect: &str, correct: &str, sentences: Option<(&str, &str)>) -> Pair {
        Pair {
            note_id: "n-1".into(),
            correct_note: correct.into(),
            incorrect_note: incorrect.into(),
            error_type: ErrorType::Diagnosis,
            error_sentence: sentences.map(|(error, _)| error.into()),
            corrected_sentence: sentences.map(|(_, corrected)| corrected.into()),
        }
    }

    #[test]
    fn corrected_text_is_compared_with_the_swap() {
        let swap = Some(("Flu.", "Strep."));
        let compare = |incorrect, correct| compare_corrected_text(&pair(incorrect, correct, swap));
        assert_eq!(
            compare("A. Flu. B.", "A. Strep. B."),
            Some(CorrectedText::Exact)
        );
        assert_eq!(
            compare("A. Flu.B.", "A. Strep. B."),
            Some(CorrectedText::WhitespaceOnly)
        );
        assert_eq!(
            compare("A. Flu. B.", "A. Cold. B."),
            Some(CorrectedText::Other)
        );
        assert_eq!(
            compare("A. Cold. B.", "A. Strep. B."),
            Some(CorrectedText::Other)
        );
        assert_eq!(compare_corrected_text(&pair("A.", "B.", None)), None);
    }

    #[test]
    fn byte_order_mark_and_crlf_are_seen_at_the_start_only() {
        let mut reader = Cursor::new(b"\xEF\xBB\xBFa,b\r\nc\n".to_vec());
        assert!(skip_byte_order_mark(&mut reader).unwrap());
        assert!(uses_crlf(&mut reader).unwrap());
        let mut reader = Cursor::new(b"a,b\nc\r\n".to_vec());
        assert!(!skip_byte_order_mark(&mut reader).unwrap());
        assert!(!uses_crlf(&mut reader).unwrap());
    }

    #[test]
    fn na_and_blank_are_missing() {
        assert!(is_missing(" NA "));
        assert!(is_missing(" \t"));
        assert!(!is_missing("N/A note"));
    }
}
