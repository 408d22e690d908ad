//! How much of the original the paraphrase keeps and how much it copies: the length
//! ratio, per-sentence content-word coverage and the ROUGE-L near-copy check.

use std::collections::{HashMap, HashSet};

use super::text::{is_content_word, sentences, stem, words};
use super::{Check, Finding, SafetyConfig};

/// Rejects a paraphrase whose word count is outside the configured multiples of the
/// original's.
pub(super) fn compare_length(
    config: &SafetyConfig,
    original_words: &[&str],
    paraphrase_words: &[&str],
    rejections: &mut Vec<Finding>,
) {
    #[allow(clippy::cast_precision_loss)]
    let ratio = paraphrase_words.len() as f64 / original_words.len().max(1) as f64;
    if ratio < config.min_length_ratio || ratio > config.max_length_ratio {
        rejections.push(Finding {
            check: Check::Length,
            detail: format!(
                "{} words for {} in the original ({ratio:.2}×, allowed {}–{}×)",
                paraphrase_words.len(),
                original_words.len(),
                config.min_length_ratio,
                config.max_length_ratio
            ),
            original_span: None,
            paraphrase_span: None,
        });
    }
}

/// Rejects every original sentence (with enough content words) whose content words the
/// paraphrase mostly lacks. `original_lower` is `original` lower-cased (ASCII).
pub(super) fn compare_coverage(
    config: &SafetyConfig,
    original: &str,
    original_lower: &str,
    paraphrase_words: &[&str],
    rejections: &mut Vec<Finding>,
) {
    let present: HashSet<&str> = paraphrase_words
        .iter()
        .filter(|w| is_content_word(w))
        .map(|w| stem(w))
        .collect();
    for sentence in sentences(original_lower) {
        let content: HashSet<&str> = words(sentence)
            .into_iter()
            .filter(|w| is_content_word(w))
            .map(stem)
            .collect();
        if content.len() < config.min_sentence_words {
            continue;
        }
        let kept = content.iter().filter(|w| present.contains(*w)).count();
        #[allow(clippy::cast_precision_loss)]
        let coverage = kept as f64 / content.len() as f64;
        if coverage < config.min_sentence_coverage {
            rejections.push(Finding {
                check: Check::ContentDropped,
                detail: format!(
                    "only {kept} of {} content words of “{}” are in the paraphrase",
                    content.len(),
                    original_sentence(original, original_lower, sentence).trim()
                ),
                original_span: Some(
                    original_sentence(original, original_lower, sentence)
                        .trim()
                        .to_string(),
                ),
                paraphrase_span: None,
            });
        }
    }
}

/// Rejects a near-verbatim copy; returns the ROUGE-L F1 it measured.
pub(super) fn compare_similarity(
    config: &SafetyConfig,
    original_words: &[&str],
    paraphrase_words: &[&str],
    rejections: &mut Vec<Finding>,
) -> f64 {
    let similarity = rouge_l(original_words, paraphrase_words);
    if similarity >= config.max_similarity {
        rejections.push(Finding {
            check: Check::NearCopy,
            detail: format!(
                "a near-verbatim copy: ROUGE-L {similarity:.3} ≥ {} (the guide asks for substantial variation)",
                config.max_similarity
            ),
            original_span: None,
            paraphrase_span: None,
        });
    }
    similarity
}

/// The original-case text of a sentence found in the lower-cased copy.
fn original_sentence<'a>(original: &'a str, lower: &str, sentence: &'a str) -> &'a str {
    let start = sentence.as_ptr() as usize - lower.as_ptr() as usize;
    original
        .get(start..start + sentence.len())
        .unwrap_or(sentence.trim())
}

/// Words as small integers, so the LCS compares numbers, not strings.
fn word_ids<'a>(words: &[&'a str], ids: &mut HashMap<&'a str, u32>) -> Vec<u32> {
    words
        .iter()
        .map(|w| {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(*w).or_insert(next)
        })
        .collect()
}

/// ROUGE-L F1 between two word sequences.
fn rouge_l(a: &[&str], b: &[&str]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let a = word_ids(a, &mut ids);
    let b = word_ids(b, &mut ids);
    let mut previous = vec![0u32; b.len() + 1];
    let mut current = vec![0u32; b.len() + 1];
    for &x in &a {
        for (j, &y) in b.iter().enumerate() {
            current[j + 1] = if x == y {
                previous[j] + 1
            } else {
                previous[j + 1].max(current[j])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let lcs = f64::from(previous[b.len()]);
    #[allow(clippy::cast_precision_loss)]
    let (precision, recall) = (lcs / b.len() as f64, lcs / a.len() as f64);
    if lcs == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouge_l_is_one_for_a_copy_and_lower_for_a_reorder() {
        let a = words("the cat sat on the mat today");
        assert!((rouge_l(&a, &a) - 1.0).abs() < 1e-12);
        let b = words("today the mat was sat on by the cat");
        assert!(rouge_l(&a, &b) < 0.7);
    }
}
