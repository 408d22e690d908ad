//! How much of the original the paraphrase keeps and how much it copies: the length
//! ratio, per-sentence content-word coverage and the ROUGE-L near-copy check.

use rustc_hash::{FxHashMap, FxHashSet};

use super::facts::Facts;
use super::lexicon::senses;
use super::text::{is_content_word, stem};
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
/// paraphrase mostly lacks. `original_lower` is `original` lower-cased (ASCII) and
/// `original_words` its `words`, borrowed from it: a sentence's words are those that
/// stand in it (a sentence ends at a character no word holds, so no word crosses two),
/// not read again per sentence.
/// A word of the original also counts as kept when it belongs to a lexicon concept the
/// paraphrase names in other words (`coronary artery disease` said as `CAD`), or a word
/// of what an abbreviation of the paraphrase stands for.
pub(super) fn compare_coverage(
    config: &SafetyConfig,
    (original, original_lower, original_words, before): (&str, &str, &[&str], &Facts),
    paraphrase_words: &[&str],
    after: &Facts,
    rejections: &mut Vec<Finding>,
) {
    // Room for every word up front: no rehash while the set grows (a filtered iterator
    // gives `collect` no size to reserve).
    let mut present: FxHashSet<&str> =
        FxHashSet::with_capacity_and_hasher(paraphrase_words.len(), rustc_hash::FxBuildHasher);
    present.extend(
        paraphrase_words
            .iter()
            .filter(|w| is_content_word(w))
            .map(|w| stem(w)),
    );
    let mut named: Option<FxHashSet<&str>> = None;
    let mut spelled: Option<FxHashSet<&'static str>> = None;
    let offset = |part: &str| part.as_ptr() as usize - original_lower.as_ptr() as usize;
    let mut words_left = original_words;
    let mut content: FxHashSet<&str> = FxHashSet::default();
    for sentence in sentences(original_lower) {
        let (start, end) = (offset(sentence), offset(sentence) + sentence.len());
        let before_sentence = words_left.iter().take_while(|w| offset(w) < start).count();
        words_left = &words_left[before_sentence..];
        let in_sentence = words_left.iter().take_while(|w| offset(w) < end).count();
        let (sentence_words, rest) = words_left.split_at(in_sentence);
        words_left = rest;
        content.clear();
        content.extend(
            sentence_words
                .iter()
                .filter(|w| is_content_word(w))
                .map(|w| stem(w)),
        );
        if content.len() < config.min_sentence_words {
            continue;
        }
        let mut kept = content.iter().filter(|w| present.contains(*w)).count();
        #[allow(clippy::cast_precision_loss)]
        if (kept as f64) < config.min_sentence_coverage * content.len() as f64 {
            // Short of words: count those of concepts the paraphrase names otherwise.
            let named = named
                .get_or_insert_with(|| after.mentions.iter().map(|m| m.entry.canonical).collect());
            let start = sentence.as_ptr() as usize - original_lower.as_ptr() as usize;
            let end = start + sentence.len();
            let by_concept: FxHashSet<&str> = before
                .mentions
                .iter()
                .filter(|m| m.start >= start && m.end <= end && named.contains(m.entry.canonical))
                .flat_map(|m| &before.tokens[m.first..m.last])
                .map(|t| stem(&original_lower[t.start..t.end]))
                .collect();
            // And the words an abbreviation of the paraphrase stands for (`MVA`: motor
            // vehicle accident; `ER`: emergency room), as the prompt allows abbreviations.
            let spelled = spelled.get_or_insert_with(|| {
                paraphrase_words
                    .iter()
                    .flat_map(|w| senses(w).split(['\n', ' ']))
                    .filter(|w| is_content_word(w))
                    .map(stem)
                    .collect()
            });
            kept = content
                .iter()
                .filter(|w| present.contains(*w) || by_concept.contains(*w) || spelled.contains(*w))
                .count();
        }
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

/// Sentences: split after `.`, `!`, `?`, `;` or a newline that ends a sentence (not the
/// point of a decimal number).
fn sentences(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    // From one byte that may end a sentence to the next, one table test a byte between.
    while let Some(found) = bytes[i..]
        .iter()
        .position(|&b| SENTENCE_BYTES[usize::from(b)])
    {
        i += found;
        let ends = bytes[i] != b'.' || bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace);
        if ends {
            if !text[start..=i].trim().is_empty() {
                out.push(&text[start..=i]);
            }
            start = i + 1;
        }
        i += 1;
    }
    if !text[start..].trim().is_empty() {
        out.push(&text[start..]);
    }
    out
}

/// Per byte: whether it may end a sentence (`.`, `!`, `?`, `;`, a newline).
static SENTENCE_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    table[b'.' as usize] = true;
    table[b'!' as usize] = true;
    table[b'?' as usize] = true;
    table[b';' as usize] = true;
    table[b'\n' as usize] = true;
    table
};

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
fn word_ids<'a>(words: &[&'a str], ids: &mut FxHashMap<&'a str, u32>) -> Vec<u32> {
    words
        .iter()
        .map(|w| {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry(*w).or_insert(next)
        })
        .collect()
}

/// ROUGE-L F1 between two word sequences. The LCS length is computed bit-parallel
/// (Hyyrö 2004, "Bit-parallel LCS-length computation revisited"): one bit per word of
/// `a`, 64 words per machine word, one pass over `b`.
fn rouge_l(a: &[&str], b: &[&str]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    // Room for every word up front: no rehash while the ids are handed out.
    let mut ids: FxHashMap<&str, u32> =
        FxHashMap::with_capacity_and_hasher(a.len() + b.len(), rustc_hash::FxBuildHasher);
    let a = word_ids(a, &mut ids);
    // The words of `a` have the ids below `known`; a word only `b` has is looked up, not
    // added, and gets `known` (it matches no word of `a`).
    let known = ids.len();
    let unknown = u32::try_from(known).unwrap_or(u32::MAX);
    let b: Vec<u32> = b
        .iter()
        .map(|w| ids.get(w).copied().unwrap_or(unknown))
        .collect();
    let blocks = a.len().div_ceil(64);
    // Per word id of `a`: the bit mask of its places in `a`, `blocks` words each, in one
    // table (not one allocation per word).
    let mut matches = vec![0u64; known * blocks];
    for (i, &x) in a.iter().enumerate() {
        matches[x as usize * blocks + i / 64] |= 1 << (i % 64);
    }
    // A zero bit marks a word of `a` in the LCS so far.
    let mut unmatched = vec![u64::MAX; blocks];
    for &word in &b {
        let word = word as usize;
        if word >= known {
            continue;
        }
        let places = &matches[word * blocks..(word + 1) * blocks];
        let mut carry = false;
        for (block, &place) in unmatched.iter_mut().zip(places) {
            let hits = *block & place;
            let (sum, first_carry) = block.overflowing_add(hits);
            let (sum, second_carry) = sum.overflowing_add(u64::from(carry));
            carry = first_carry || second_carry;
            *block = sum | (*block & !place);
        }
    }
    let unused = blocks * 64 - a.len();
    let ones: usize = unmatched
        .iter()
        .map(|w| w.count_ones() as usize)
        .sum::<usize>()
        - unused;
    let lcs = f64::from(u32::try_from(a.len() - ones).unwrap_or(u32::MAX));
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
    use super::super::text::words;
    use super::*;

    #[test]
    fn rouge_l_is_one_for_a_copy_and_lower_for_a_reorder() {
        let a = words("the cat sat on the mat today");
        assert!((rouge_l(&a, &a) - 1.0).abs() < 1e-12);
        let b = words("today the mat was sat on by the cat");
        assert!(rouge_l(&a, &b) < 0.7);
        // The bit-parallel LCS agrees with the textbook one across block edges.
        let long: Vec<String> = (0..150).map(|i| format!("w{}", i % 37)).collect();
        let long: Vec<&str> = long.iter().map(String::as_str).collect();
        let other: Vec<&str> = long.iter().rev().step_by(2).copied().collect();
        for (x, y) in [(&long, &other), (&other, &long), (&long, &long)] {
            let lcs = plain_lcs(x, y);
            #[allow(clippy::cast_precision_loss)]
            let f1 = {
                let (p, r) = (lcs as f64 / y.len() as f64, lcs as f64 / x.len() as f64);
                2.0 * p * r / (p + r)
            };
            assert!((rouge_l(x, y) - f1).abs() < 1e-12);
        }
    }

    #[test]
    fn a_sentence_said_in_abbreviations_is_covered_by_its_concepts() {
        let original =
            "He has type 2 diabetes mellitus, coronary artery disease, and hypertension.";
        let paraphrase = "PMH: T2DM, CAD, HTN.";
        let config = SafetyConfig::default();
        let mut out = Vec::new();
        let lower = original.to_ascii_lowercase();
        let paraphrase_lower = paraphrase.to_ascii_lowercase();
        let (before, after) = (
            Facts::read(original, &lower),
            Facts::read(paraphrase, &paraphrase_lower),
        );
        compare_coverage(
            &config,
            (original, &lower, &words(&lower), &before),
            &words(&paraphrase_lower),
            &after,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        // Without the concepts, the sentence is dropped.
        let after = Facts::read("PMH: asthma.", "pmh: asthma.");
        compare_coverage(
            &config,
            (original, &lower, &words(&lower), &before),
            &words("pmh: asthma."),
            &after,
            &mut out,
        );
        assert_eq!(out.len(), 1);
    }

    fn plain_lcs(a: &[&str], b: &[&str]) -> usize {
        let mut previous = vec![0usize; b.len() + 1];
        let mut current = vec![0usize; b.len() + 1];
        for x in a {
            for (j, y) in b.iter().enumerate() {
                current[j + 1] = if x == y {
                    previous[j] + 1
                } else {
                    previous[j + 1].max(current[j])
                };
            }
            std::mem::swap(&mut previous, &mut current);
        }
        previous[b.len()]
    }
}
