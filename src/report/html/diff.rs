//! A word diff of an original note and its paraphrase (longest common subsequence of
//! words), for the review page: which words of each side the other does not have.

use std::ops::Range;

/// A piece of one side of the diff: words (with the spaces after them) the other side
/// shares, or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece<'a> {
    pub text: &'a str,
    pub changed: bool,
}

/// Where each word is, with its trailing whitespace, so the pieces join into the text.
fn words(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(start..i);
            start = i;
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// Compared without case, surrounding whitespace or trailing punctuation.
fn key(word: &str) -> String {
    word.trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation())
        .to_lowercase()
}

/// Notes longer than this many words on either side are shown without a diff (the
/// table is words × words).
pub const MAX_WORDS: usize = 3000;

/// Both sides cut into pieces, the words the other side lacks marked `changed`
/// (`None` when a side is longer than [`MAX_WORDS`]).
pub fn word_diff<'a>(
    original: &'a str,
    paraphrase: &'a str,
) -> Option<(Vec<Piece<'a>>, Vec<Piece<'a>>)> {
    let left = words(original);
    let right = words(paraphrase);
    if left.len() > MAX_WORDS || right.len() > MAX_WORDS {
        return None;
    }
    let left_keys: Vec<String> = left.iter().map(|w| key(&original[w.clone()])).collect();
    let right_keys: Vec<String> = right.iter().map(|w| key(&paraphrase[w.clone()])).collect();
    // lengths[i][j]: the longest common subsequence of left[i..] and right[j..].
    let width = right.len() + 1;
    let mut lengths = vec![0u32; (left.len() + 1) * width];
    for i in (0..left.len()).rev() {
        for j in (0..right.len()).rev() {
            lengths[i * width + j] = if left_keys[i] == right_keys[j] {
                lengths[(i + 1) * width + j + 1] + 1
            } else {
                lengths[(i + 1) * width + j].max(lengths[i * width + j + 1])
            };
        }
    }
    let mut left_changed = vec![true; left.len()];
    let mut right_changed = vec![true; right.len()];
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if left_keys[i] == right_keys[j] {
            left_changed[i] = false;
            right_changed[j] = false;
            i += 1;
            j += 1;
        } else if lengths[(i + 1) * width + j] >= lengths[i * width + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    Some((
        pieces(original, &left, &left_changed),
        pieces(paraphrase, &right, &right_changed),
    ))
}

/// Runs of words with the same mark joined into one piece (text before the first word
/// and after the last stays in).
fn pieces<'a>(text: &'a str, words: &[Range<usize>], changed: &[bool]) -> Vec<Piece<'a>> {
    let mut runs: Vec<(Range<usize>, bool)> = Vec::new();
    for (word, &changed) in words.iter().zip(changed) {
        match runs.last_mut() {
            Some((range, mark)) if *mark == changed => range.end = word.end,
            _ => runs.push((word.clone(), changed)),
        }
    }
    if let Some((range, _)) = runs.first_mut() {
        range.start = 0;
    }
    if let Some((range, _)) = runs.last_mut() {
        range.end = text.len();
    }
    runs.into_iter()
        .map(|(range, changed)| Piece {
            text: &text[range],
            changed,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(pieces: &[Piece<'_>]) -> String {
        pieces
            .iter()
            .map(|p| {
                if p.changed {
                    format!("[{}]", p.text)
                } else {
                    p.text.to_string()
                }
            })
            .collect()
    }

    #[test]
    fn changed_words_are_marked_on_both_sides_and_the_texts_join_back() {
        let original = "Patient took 81 mg aspirin daily. No fever.";
        let paraphrase = "The patient took 810 mg aspirin each day. No fever.";
        let (left, right) = word_diff(original, paraphrase).unwrap();
        assert_eq!(
            marked(&left),
            "Patient took [81 ]mg aspirin [daily. ]No fever."
        );
        assert_eq!(
            marked(&right),
            "[The ]patient took [810 ]mg aspirin [each day. ]No fever."
        );
        let joined: String = right.iter().map(|p| p.text).collect();
        assert_eq!(joined, paraphrase);
        assert_eq!(word_diff("", "").unwrap().0, Vec::new());
    }
}
