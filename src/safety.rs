//! Paraphrase fact-preservation checks: an original note and its paraphrase (and the
//! answer's finish reason) in, a verdict with every failed check and the text at fault
//! out. Pure: no files, network or clock; the drug lexicon is compiled into the binary.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

/// The drug lexicon (`variant<TAB>canonical`), made by `configs/lexicons/make_drug_lexicon.py`.
const DRUG_LEXICON: &str = include_str!("../configs/lexicons/drugs.tsv");

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Empty,
    FinishReason,
    Refusal,
    Preamble,
    MarkdownFence,
    Explanation,
    NumberDropped,
    NumberAdded,
    UnitChanged,
    DrugDropped,
    DrugAdded,
    DoseRouteFrequency,
    NegationLost,
    NegationAdded,
    Laterality,
    Length,
    ContentDropped,
    NearCopy,
    /// A warning only: diagnoses may use synonyms, so a model should look.
    DiagnosisDiffers,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Empty => "empty",
            Check::FinishReason => "finish_reason",
            Check::Refusal => "refusal",
            Check::Preamble => "preamble",
            Check::MarkdownFence => "markdown_fence",
            Check::Explanation => "explanation",
            Check::NumberDropped => "number_dropped",
            Check::NumberAdded => "number_added",
            Check::UnitChanged => "unit_changed",
            Check::DrugDropped => "drug_dropped",
            Check::DrugAdded => "drug_added",
            Check::DoseRouteFrequency => "dose_route_frequency",
            Check::NegationLost => "negation_lost",
            Check::NegationAdded => "negation_added",
            Check::Laterality => "laterality",
            Check::Length => "length",
            Check::ContentDropped => "content_dropped",
            Check::NearCopy => "near_copy",
            Check::DiagnosisDiffers => "diagnosis_differs",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed check (or warning) and the text at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    pub detail: String,
}

/// The outcome for one paraphrase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: bool,
    pub rejections: Vec<Finding>,
    /// Diagnosis terms that differ: allowed (synonyms), but worth a model's look.
    pub warnings: Vec<Finding>,
    /// Word-level ROUGE-L F1 between original and paraphrase.
    pub similarity: f64,
}

impl Verdict {
    pub fn rejected_by(&self, check: Check) -> bool {
        self.rejections.iter().any(|f| f.check == check)
    }
}

/// Thresholds, with the defaults the mutation benchmark was measured with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SafetyConfig {
    /// Reject paraphrases at least this similar to the original (ROUGE-L F1 on words).
    pub max_similarity: f64,
    /// The paraphrase's word count must be within these multiples of the original's.
    pub min_length_ratio: f64,
    pub max_length_ratio: f64,
    /// An original sentence with at least `min_sentence_words` content words must keep
    /// this share of them somewhere in the paraphrase.
    pub min_sentence_coverage: f64,
    pub min_sentence_words: usize,
}

impl Default for SafetyConfig {
    fn default() -> SafetyConfig {
        SafetyConfig {
            max_similarity: 0.9,
            min_length_ratio: 0.5,
            max_length_ratio: 1.8,
            min_sentence_coverage: 0.4,
            min_sentence_words: 3,
        }
    }
}

/// The seam for a later model-based check of diagnoses that string rules cannot judge
/// (synonyms are allowed). Returns rejections to add, if any.
pub trait DiagnosisVerifier {
    fn verify(&self, original: &str, paraphrase: &str, differing: &[String]) -> Vec<Finding>;
}

/// Builds once and checks many pairs.
pub struct SafetyChecker {
    config: SafetyConfig,
    drugs: &'static DrugMatcher,
}

struct DrugMatcher {
    automaton: AhoCorasick,
}

fn drug_matcher() -> &'static DrugMatcher {
    static MATCHER: OnceLock<DrugMatcher> = OnceLock::new();
    MATCHER.get_or_init(|| {
        let variants: Vec<&str> = DRUG_LEXICON
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next())
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&variants)
            .unwrap_or_else(|error| unreachable!("the lexicon compiles: {error}"));
        DrugMatcher { automaton }
    })
}

impl Default for SafetyChecker {
    fn default() -> SafetyChecker {
        SafetyChecker::new(SafetyConfig::default())
    }
}

/// A drug named in a text, with what stands next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DrugMention {
    name: String,
    start: usize,
    end: usize,
}

impl SafetyChecker {
    pub fn new(config: SafetyConfig) -> SafetyChecker {
        SafetyChecker {
            config,
            drugs: drug_matcher(),
        }
    }

    pub fn config(&self) -> &SafetyConfig {
        &self.config
    }

    /// Every drug name in `text` as (byte start, byte end, lower-case name).
    pub fn drug_mentions(&self, text: &str) -> Vec<(usize, usize, String)> {
        self.drugs_in(text)
            .into_iter()
            .map(|m| (m.start, m.end, m.name))
            .collect()
    }

    /// Every drug name in `text` (lower case), on word boundaries, in order.
    fn drugs_in(&self, text: &str) -> Vec<DrugMention> {
        let bytes = text.as_bytes();
        let is_word = |b: u8| b.is_ascii_alphanumeric();
        self.drugs
            .automaton
            .find_iter(text)
            .filter(|m| {
                (m.start() == 0 || !is_word(bytes[m.start() - 1]))
                    && (m.end() == bytes.len() || !is_word(bytes[m.end()]))
            })
            .map(|m| DrugMention {
                name: text[m.start()..m.end()].to_ascii_lowercase(),
                start: m.start(),
                end: m.end(),
            })
            .collect()
    }

    /// Checks `paraphrase` against `original`. `finish_reason` is the API's, when known.
    pub fn check(&self, original: &str, paraphrase: &str, finish_reason: Option<&str>) -> Verdict {
        let mut rejections = Vec::new();
        let reject = |rejections: &mut Vec<Finding>, check: Check, detail: String| {
            rejections.push(Finding { check, detail });
        };
        if let Some(reason) = finish_reason {
            if reason != "stop" {
                reject(
                    &mut rejections,
                    Check::FinishReason,
                    format!("finish_reason is `{reason}`, not `stop` (truncated or filtered)"),
                );
            }
        }
        if paraphrase.trim().is_empty() {
            reject(
                &mut rejections,
                Check::Empty,
                "the paraphrase is empty".into(),
            );
            return Verdict {
                accepted: false,
                rejections,
                warnings: Vec::new(),
                similarity: 0.0,
            };
        }
        artefacts(paraphrase, &mut rejections);

        let original_numbers = numbers(original);
        let paraphrase_numbers = numbers(paraphrase);
        compare_numbers(&original_numbers, &paraphrase_numbers, &mut rejections);

        let original_drugs = self.drugs_in(original);
        let paraphrase_drugs = self.drugs_in(paraphrase);
        compare_drugs(
            original,
            &original_drugs,
            paraphrase,
            &paraphrase_drugs,
            &mut rejections,
        );

        // One lower-cased copy of each text; every word below borrows from it. ASCII
        // lowering keeps byte offsets, so sentences line up with the original.
        let original_lower = original.to_ascii_lowercase();
        let paraphrase_lower = paraphrase.to_ascii_lowercase();
        let original_words = words(&original_lower);
        let paraphrase_words = words(&paraphrase_lower);
        compare_negations(&original_lower, &paraphrase_lower, &mut rejections);
        compare_laterality(&original_words, &paraphrase_words, &mut rejections);

        #[allow(clippy::cast_precision_loss)]
        let ratio = paraphrase_words.len() as f64 / original_words.len().max(1) as f64;
        if ratio < self.config.min_length_ratio || ratio > self.config.max_length_ratio {
            reject(
                &mut rejections,
                Check::Length,
                format!(
                    "{} words for {} in the original ({ratio:.2}×, allowed {}–{}×)",
                    paraphrase_words.len(),
                    original_words.len(),
                    self.config.min_length_ratio,
                    self.config.max_length_ratio
                ),
            );
        }
        self.compare_coverage(
            original,
            &original_lower,
            &paraphrase_words,
            &mut rejections,
        );

        let similarity = rouge_l(&original_words, &paraphrase_words);
        if similarity >= self.config.max_similarity {
            reject(
                &mut rejections,
                Check::NearCopy,
                format!(
                    "a near-verbatim copy: ROUGE-L {similarity:.3} ≥ {} (the guide asks for substantial variation)",
                    self.config.max_similarity
                ),
            );
        }
        let warnings = diagnosis_warnings(&original_words, &paraphrase_words);
        Verdict {
            accepted: rejections.is_empty(),
            rejections,
            warnings,
            similarity,
        }
    }

    /// With a model-based verifier for the diagnoses the rules leave open.
    pub fn check_with(
        &self,
        original: &str,
        paraphrase: &str,
        finish_reason: Option<&str>,
        verifier: &dyn DiagnosisVerifier,
    ) -> Verdict {
        let mut verdict = self.check(original, paraphrase, finish_reason);
        let differing: Vec<String> = verdict
            .warnings
            .iter()
            .filter(|w| w.check == Check::DiagnosisDiffers)
            .map(|w| w.detail.clone())
            .collect();
        if !differing.is_empty() {
            verdict
                .rejections
                .extend(verifier.verify(original, paraphrase, &differing));
            verdict.accepted = verdict.rejections.is_empty();
        }
        verdict
    }

    fn compare_coverage(
        &self,
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
            if content.len() < self.config.min_sentence_words {
                continue;
            }
            let kept = content.iter().filter(|w| present.contains(*w)).count();
            #[allow(clippy::cast_precision_loss)]
            let coverage = kept as f64 / content.len() as f64;
            if coverage < self.config.min_sentence_coverage {
                rejections.push(Finding {
                    check: Check::ContentDropped,
                    detail: format!(
                        "only {kept} of {} content words of “{}” are in the paraphrase",
                        content.len(),
                        original_sentence(original, original_lower, sentence).trim()
                    ),
                });
            }
        }
    }
}

// ---------------------------------------------------------------- artefacts

const REFUSALS: [&str; 8] = [
    "i'm sorry",
    "i am sorry",
    "i cannot",
    "i can't",
    "i can not",
    "i'm unable",
    "i am unable",
    "as an ai",
];

const PREAMBLES: [&str; 12] = [
    "here is",
    "here's",
    "here are",
    "sure",
    "certainly",
    "of course",
    "below is",
    "paraphrased note",
    "paraphrased version",
    "paraphrase:",
    "rewritten note",
    "the paraphrased",
];

const EXPLANATIONS: [&str; 8] = [
    "note:",
    "explanation:",
    "changes made",
    "i have ",
    "i've ",
    "this paraphrase",
    "in this paraphrase",
    "all numerical values",
];

fn artefacts(paraphrase: &str, rejections: &mut Vec<Finding>) {
    let lower = paraphrase.trim_start().to_lowercase();
    let first_line = lower
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches(['*', '#', ' ']);
    if let Some(phrase) = REFUSALS
        .iter()
        .find(|p| lower.lines().any(|line| line.trim_start().starts_with(*p)))
    {
        rejections.push(Finding {
            check: Check::Refusal,
            detail: format!("the answer is a refusal (“{phrase}…”)"),
        });
    }
    if PREAMBLES.iter().any(|p| first_line.starts_with(p)) {
        rejections.push(Finding {
            check: Check::Preamble,
            detail: format!(
                "the answer opens with a preamble (“{}”)",
                first_line
                    .chars()
                    .take(60)
                    .collect::<String>()
                    .trim_end_matches(|c: char| c.is_whitespace())
                    .to_string()
                    + if first_line.len() > 60 { "…" } else { "" }
            ),
        });
    }
    if paraphrase.contains("```") {
        rejections.push(Finding {
            check: Check::MarkdownFence,
            detail: "the answer holds a markdown code fence".into(),
        });
    }
    for line in lower.lines().skip(1).chain(std::iter::once(first_line)) {
        let line = line.trim_start_matches(['*', '#', ' ', '-', '(']);
        if let Some(phrase) = EXPLANATIONS.iter().find(|p| line.starts_with(*p)) {
            rejections.push(Finding {
                check: Check::Explanation,
                detail: format!(
                    "the answer explains itself (a line starting “{}”)",
                    phrase.trim()
                ),
            });
            break;
        }
    }
}

// ---------------------------------------------------------------- numbers and units

/// A number in a note: its canonical value and the unit right after it, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NumberMention {
    value: String,
    unit: Option<&'static str>,
    /// The text as written, for messages.
    shown: String,
}

/// Unit spellings (lower case, longest first within a prefix) → canonical unit.
const UNITS: &[(&str, &str)] = &[
    ("beats per minute", "/min"),
    ("beats/minute", "/min"),
    ("beats/min", "/min"),
    ("breaths per minute", "/min"),
    ("breaths/minute", "/min"),
    ("breaths/min", "/min"),
    ("per minute", "/min"),
    ("/minute", "/min"),
    ("/min", "/min"),
    ("bpm", "/min"),
    ("per hour", "/h"),
    ("/hour", "/h"),
    ("/hr", "/h"),
    ("/h", "/h"),
    ("mm hg", "mmHg"),
    ("mmhg", "mmHg"),
    ("cm h2o", "cmH2O"),
    ("cmh2o", "cmH2O"),
    ("degrees fahrenheit", "°F"),
    ("degrees celsius", "°C"),
    ("degrees f", "°F"),
    ("degrees c", "°C"),
    ("°f", "°F"),
    ("°c", "°C"),
    ("° f", "°F"),
    ("° c", "°C"),
    ("percent", "%"),
    ("%", "%"),
    ("per mille", "‰"),
    ("‰", "‰"),
    ("mg/dl", "mg/dL"),
    ("g/dl", "g/dL"),
    ("mg/l", "mg/L"),
    ("g/l", "g/L"),
    ("mmol/l", "mmol/L"),
    ("meq/l", "mEq/L"),
    ("ng/ml", "ng/mL"),
    ("pg/ml", "pg/mL"),
    ("μu/ml", "µU/mL"),
    ("µu/ml", "µU/mL"),
    ("mu/l", "mU/L"),
    ("iu/l", "IU/L"),
    ("u/l", "U/L"),
    ("mosm/kg", "mOsm/kg"),
    ("mg/kg", "mg/kg"),
    ("/mm3", "/mm3"),
    ("/mm^3", "/mm3"),
    ("/μl", "/µL"),
    ("/µl", "/µL"),
    ("/hpf", "/hpf"),
    ("micrograms", "mcg"),
    ("microgram", "mcg"),
    ("milligrams", "mg"),
    ("milligram", "mg"),
    ("kilograms", "kg"),
    ("kilogram", "kg"),
    ("grams", "g"),
    ("gram", "g"),
    ("mcg", "mcg"),
    ("μg", "mcg"),
    ("µg", "mcg"),
    ("mg", "mg"),
    ("kg", "kg"),
    ("g", "g"),
    ("pounds", "lb"),
    ("pound", "lb"),
    ("lbs", "lb"),
    ("lb", "lb"),
    ("milliliters", "mL"),
    ("milliliter", "mL"),
    ("ml", "mL"),
    ("cc", "mL"),
    ("liters", "L"),
    ("liter", "L"),
    ("l", "L"),
    ("centimeters", "cm"),
    ("centimeter", "cm"),
    ("cm", "cm"),
    ("millimeters", "mm"),
    ("millimeter", "mm"),
    ("mm", "mm"),
    ("inches", "in"),
    ("inch", "in"),
    ("feet", "ft"),
    ("ft", "ft"),
    ("meters", "m"),
    ("years", "year"),
    ("year", "year"),
    ("yrs", "year"),
    ("yr", "year"),
    ("months", "month"),
    ("month", "month"),
    ("mo", "month"),
    ("weeks", "week"),
    ("week", "week"),
    ("wk", "week"),
    ("days", "day"),
    ("day", "day"),
    ("hours", "hour"),
    ("hour", "hour"),
    ("hrs", "hour"),
    ("hr", "hour"),
    ("h", "hour"),
    ("minutes", "minute"),
    ("minute", "minute"),
    ("mins", "minute"),
    ("min", "minute"),
    ("seconds", "second"),
    ("second", "second"),
    ("sec", "second"),
    ("units", "unit"),
    ("unit", "unit"),
    ("iu", "unit"),
    ("mEq", "mEq"),
];

/// Number words a paraphrase may use for digits (and the reverse).
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("thirteen", "13"),
    ("fourteen", "14"),
    ("fifteen", "15"),
    ("sixteen", "16"),
    ("seventeen", "17"),
    ("eighteen", "18"),
    ("nineteen", "19"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("seventy", "70"),
    ("eighty", "80"),
    ("ninety", "90"),
    ("hundred", "100"),
];

/// `38.90` → `38.9`, `1,500` → `1500`, `.5` → `0.5`, `007` → `7`.
fn canonical_number(text: &str) -> String {
    let plain: String = text.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// The unit right after position `at` in `lower` (skipping spaces and one hyphen).
fn unit_after(lower: &str, at: usize) -> (Option<&'static str>, usize) {
    let rest = &lower[at..];
    let trimmed = rest.trim_start_matches([' ', '-']);
    let skipped = rest.len() - trimmed.len();
    if skipped > 2 {
        return (None, at);
    }
    for (spelling, canonical) in UNITS {
        if let Some(after) = trimmed.strip_prefix(spelling) {
            let boundary = after
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            // A unit that is a single letter must not be the start of a word.
            if boundary {
                return (Some(canonical), at + skipped + spelling.len());
            }
        }
    }
    (None, at)
}

/// Every number in a text, with its unit: digits (decimals, thousands, ratios such as
/// `102/73`, `X over Y`) and number words. Digits glued after letters (`B12`, `HbA1c`)
/// are names, not numbers.
fn numbers(text: &str) -> Vec<NumberMention> {
    // ASCII lowering keeps byte offsets, so `shown` slices the original text.
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_number = (c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'.');
        if starts_number {
            let start = i;
            i = scan_number(bytes, i);
            let mut value = canonical_number(&lower[start..i]);
            // A ratio: 102/73, 120 / 80, 102 over 73.
            let rest = &lower[i..];
            for separator in ["/", " / ", " over "] {
                if let Some(after) = rest.strip_prefix(separator) {
                    if after.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                        let second_start = i + separator.len();
                        let end = scan_number(bytes, second_start);
                        value = format!("{value}/{}", canonical_number(&lower[second_start..end]));
                        i = end;
                        break;
                    }
                }
            }
            let (unit, end) = unit_after(&lower, i);
            found.push(NumberMention {
                value,
                unit,
                shown: text.get(start..end).unwrap_or_default().trim().to_string(),
            });
            i = end.max(i);
            continue;
        }
        if c.is_ascii_alphabetic() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = bytes[i..]
                .iter()
                .position(|b| !b.is_ascii_alphabetic())
                .map_or(bytes.len(), |p| i + p);
            let word = &lower[i..end];
            if let Some((_, digits)) = NUMBER_WORDS.iter().find(|(w, _)| *w == word) {
                let (unit, unit_end) = unit_after(&lower, end);
                found.push(NumberMention {
                    value: (*digits).to_string(),
                    unit,
                    shown: text.get(i..unit_end).unwrap_or_default().trim().to_string(),
                });
                i = unit_end.max(end);
                continue;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// The end of a number starting at `i`: digits, one decimal point, thousands commas.
fn scan_number(bytes: &[u8], mut i: usize) -> usize {
    let mut seen_point = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            i += 1;
        } else if c == b'.' && !seen_point && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            seen_point = true;
            i += 1;
        } else if c == b','
            && !seen_point
            && bytes.len() >= i + 4
            && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
            && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit())
        {
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn compare_numbers(
    original: &[NumberMention],
    paraphrase: &[NumberMention],
    rejections: &mut Vec<Finding>,
) {
    /// Per value: how often it is written, with which units (and how often), and how
    /// it was first written.
    #[derive(Default)]
    struct Seen {
        count: usize,
        units: BTreeMap<Option<&'static str>, usize>,
        shown: String,
    }
    let tally = |mentions: &[NumberMention]| {
        let mut map: BTreeMap<String, Seen> = BTreeMap::new();
        for m in mentions {
            let seen = map.entry(m.value.clone()).or_default();
            if seen.count == 0 {
                seen.shown.clone_from(&m.shown);
            }
            seen.count += 1;
            *seen.units.entry(m.unit).or_insert(0) += 1;
        }
        map
    };
    let before = tally(original);
    let after = tally(paraphrase);
    for (value, seen) in &before {
        let Some(found) = after.get(value) else {
            rejections.push(Finding {
                check: Check::NumberDropped,
                detail: format!("`{}` is not in the paraphrase", seen.shown),
            });
            continue;
        };
        if found.count < seen.count {
            rejections.push(Finding {
                check: Check::NumberDropped,
                detail: format!(
                    "`{value}` is written {} times in the original, {} in the paraphrase",
                    seen.count, found.count
                ),
            });
        }
        // Every unit the original puts after the value must follow it in the paraphrase,
        // and the paraphrase must put no other unit after it.
        for (unit, times) in seen.units.iter().filter(|(u, _)| u.is_some()) {
            let kept = found.units.get(unit).copied().unwrap_or(0);
            if kept < *times {
                let instead = found
                    .units
                    .keys()
                    .flatten()
                    .find(|u| !seen.units.contains_key(&Some(**u)));
                let unit = unit.unwrap_or_default();
                rejections.push(Finding {
                    check: Check::UnitChanged,
                    detail: match instead {
                        Some(other) => format!("`{}`: {unit} became {other}", seen.shown),
                        None => format!("`{}`: the unit {unit} is gone", seen.shown),
                    },
                });
            }
        }
        for unit in found.units.keys().flatten() {
            if !seen.units.contains_key(&Some(*unit)) && seen.units.keys().any(Option::is_some) {
                rejections.push(Finding {
                    check: Check::UnitChanged,
                    detail: format!(
                        "`{value} {unit}` is not in the original (it has `{}`)",
                        seen.shown
                    ),
                });
            }
        }
    }
    for (value, seen) in &after {
        if !before.contains_key(value) {
            rejections.push(Finding {
                check: Check::NumberAdded,
                detail: format!("`{}` is not in the original", seen.shown),
            });
        }
    }
}

// ---------------------------------------------------------------- drugs, doses, routes

/// Route spellings → canonical route.
const ROUTES: &[(&str, &str)] = &[
    ("by mouth", "oral"),
    ("orally", "oral"),
    ("oral", "oral"),
    ("po", "oral"),
    ("intravenously", "iv"),
    ("intravenous", "iv"),
    ("iv", "iv"),
    ("intramuscularly", "im"),
    ("intramuscular", "im"),
    ("im", "im"),
    ("subcutaneously", "subcutaneous"),
    ("subcutaneous", "subcutaneous"),
    ("subq", "subcutaneous"),
    ("sc", "subcutaneous"),
    ("sublingually", "sublingual"),
    ("sublingual", "sublingual"),
    ("topically", "topical"),
    ("topical", "topical"),
    ("inhaled", "inhaled"),
    ("nebulized", "inhaled"),
    ("rectally", "rectal"),
    ("rectal", "rectal"),
    ("intranasal", "intranasal"),
    ("transdermal", "transdermal"),
];

/// Frequency spellings → canonical frequency.
const FREQUENCIES: &[(&str, &str)] = &[
    ("twice daily", "2/day"),
    ("twice a day", "2/day"),
    ("two times a day", "2/day"),
    ("two times daily", "2/day"),
    ("bid", "2/day"),
    ("b.i.d.", "2/day"),
    ("three times daily", "3/day"),
    ("three times a day", "3/day"),
    ("tid", "3/day"),
    ("t.i.d.", "3/day"),
    ("four times daily", "4/day"),
    ("four times a day", "4/day"),
    ("qid", "4/day"),
    ("once daily", "1/day"),
    ("once a day", "1/day"),
    ("daily", "1/day"),
    ("qd", "1/day"),
    ("every day", "1/day"),
    ("nightly", "night"),
    ("at bedtime", "night"),
    ("qhs", "night"),
    ("as needed", "prn"),
    ("prn", "prn"),
    ("weekly", "1/week"),
    ("once a week", "1/week"),
    ("monthly", "1/month"),
    ("every 4 hours", "q4h"),
    ("q4h", "q4h"),
    ("every 6 hours", "q6h"),
    ("q6h", "q6h"),
    ("every 8 hours", "q8h"),
    ("q8h", "q8h"),
    ("every 12 hours", "q12h"),
    ("q12h", "q12h"),
];

/// Routes and frequencies named in `text` (lower case), as canonical terms. Longer
/// spellings win where they overlap (`twice daily` is not also `daily`).
fn terms_in(lower: &str, table: &[(&str, &'static str)]) -> BTreeSet<&'static str> {
    let mut spans: Vec<(usize, usize, &'static str)> = Vec::new();
    for (spelling, canonical) in table {
        let mut from = 0;
        while let Some(at) = lower[from..].find(spelling) {
            let start = from + at;
            let end = start + spelling.len();
            let before = lower[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let after = lower[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if before && after {
                spans.push((start, end, canonical));
            }
            from = end;
        }
    }
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut found = BTreeSet::new();
    let mut covered = 0;
    for (start, end, canonical) in spans {
        if start >= covered {
            found.insert(canonical);
            covered = end;
        }
    }
    found
}

/// The text a drug's dose, route and frequency are read from: after the drug, to the
/// next drug or the end of the sentence (in the original); around it in the paraphrase,
/// where a dose may come first ("81 mg of aspirin").
fn window(text: &str, start: usize, end: usize, next_drug: Option<usize>, before: usize) -> String {
    let sentence_end = text[end..]
        .find(['.', ';', '\n'])
        .map_or(text.len(), |p| end + p);
    let stop = next_drug
        .map_or(sentence_end, |n| n.min(sentence_end))
        .max(end);
    let mut from = start.saturating_sub(before);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let sentence_start = text[from..start]
        .rfind(['.', ';', '\n'])
        .map_or(from, |p| from + p + 1);
    text[sentence_start..stop.min(text.len())].to_lowercase()
}

fn compare_drugs(
    original: &str,
    original_drugs: &[DrugMention],
    paraphrase: &str,
    paraphrase_drugs: &[DrugMention],
    rejections: &mut Vec<Finding>,
) {
    let names = |mentions: &[DrugMention]| {
        mentions
            .iter()
            .map(|m| m.name.clone())
            .collect::<BTreeSet<_>>()
    };
    let original_names = names(original_drugs);
    let paraphrase_names = names(paraphrase_drugs);
    for name in original_names.difference(&paraphrase_names) {
        rejections.push(Finding {
            check: Check::DrugDropped,
            detail: format!("`{name}` is not named in the paraphrase"),
        });
    }
    for name in paraphrase_names.difference(&original_names) {
        rejections.push(Finding {
            check: Check::DrugAdded,
            detail: format!("`{name}` is not in the original"),
        });
    }
    // What stands next to each drug in the original must stand next to it in the paraphrase.
    for (index, mention) in original_drugs.iter().enumerate() {
        let next = original_drugs.get(index + 1).map(|m| m.start);
        let after = window(original, mention.end, mention.end, next, 0);
        let doses: BTreeSet<(String, Option<&str>)> = numbers(&after)
            .into_iter()
            .map(|n| (n.value, n.unit))
            .collect();
        let routes = terms_in(&after, ROUTES);
        let frequencies = terms_in(&after, FREQUENCIES);
        if doses.is_empty() && routes.is_empty() && frequencies.is_empty() {
            continue;
        }
        let mut around = String::new();
        for (i, m) in paraphrase_drugs
            .iter()
            .enumerate()
            .filter(|(_, m)| m.name == mention.name)
        {
            let next = paraphrase_drugs.get(i + 1).map(|n| n.start);
            around.push_str(&window(paraphrase, m.start, m.end, next, 40));
            around.push('\n');
        }
        if around.is_empty() {
            continue; // already reported as dropped
        }
        let found_doses: BTreeSet<(String, Option<&str>)> = numbers(&around)
            .into_iter()
            .map(|n| (n.value, n.unit))
            .collect();
        let found_routes = terms_in(&around, ROUTES);
        let found_frequencies = terms_in(&around, FREQUENCIES);
        let mut missing: Vec<String> = doses
            .iter()
            .filter(|(value, unit)| {
                !found_doses
                    .iter()
                    .any(|(v, u)| v == value && (unit.is_none() || u == unit))
            })
            .map(|(value, unit)| {
                format!(
                    "{value}{}",
                    unit.map(|u| format!(" {u}")).unwrap_or_default()
                )
            })
            .collect();
        missing.extend(
            routes
                .difference(&found_routes)
                .map(|r| format!("route {r}")),
        );
        missing.extend(
            frequencies
                .difference(&found_frequencies)
                .map(|f| format!("frequency {f}")),
        );
        if !missing.is_empty() {
            rejections.push(Finding {
                check: Check::DoseRouteFrequency,
                detail: format!(
                    "next to `{}` the paraphrase lacks {}",
                    mention.name,
                    missing.join(", ")
                ),
            });
        }
    }
}

// ---------------------------------------------------------------- negation, laterality

/// Words that open a negation's scope.
const NEGATION_CUES: &[&str] = &[
    "no", "not", "denies", "denied", "deny", "without", "never", "neither", "nor", "negative",
    "absent", "absence", "free", "none", "cannot", "nothing",
];
/// Words that close a negation's scope.
const SCOPE_ENDS: &[&str] = &[
    "but", "however", "although", "though", "except", "which", "who", "whereas", "while", "after",
    "because", "since", "until",
];
/// Verbs that open a new predicate: once a negation has reached a word, one of these
/// ends its scope ("denies chest pain and is on metoprolol").
const CLAUSE_VERBS: &[&str] = &[
    "is",
    "was",
    "are",
    "were",
    "has",
    "have",
    "had",
    "takes",
    "took",
    "reports",
    "reported",
    "shows",
    "showed",
    "reveals",
    "revealed",
    "appears",
    "presents",
    "complains",
    "underwent",
    "receives",
    "received",
    "started",
    "began",
    "uses",
    "drinks",
    "smokes",
    "lives",
    "works",
];
/// Negatable words a negation reaches (a NegEx-like window; measured, see benches/safety.rs).
const SCOPE_WORDS: usize = 5;

/// A word that can be negated: a content word of three letters or more, or a number.
fn negatable(word: &str) -> bool {
    (word.len() >= 3
        && word.chars().all(|c| c.is_alphabetic() || c == '-')
        && !STOPWORDS.contains(&word)
        && !NEGATION_CUES.contains(&word))
        || word.chars().any(|c| c.is_ascii_digit())
}

/// How often each word is said inside and outside negation scopes. A scope opens at a
/// cue and covers the next three negatable words, closing early at a clause break.
/// `lower` is the lower-cased text.
fn negation_counts(lower: &str) -> (HashMap<&str, usize>, HashMap<&str, usize>) {
    let mut negated = HashMap::new();
    let mut asserted = HashMap::new();
    for clause in lower.split([',', ':', '(', ')']).flat_map(sentences) {
        let mut scope = 0usize;
        for token in words(clause) {
            if NEGATION_CUES.contains(&token) || token.ends_with("n't") {
                scope = SCOPE_WORDS;
                continue;
            }
            let reached = scope < SCOPE_WORDS;
            if SCOPE_ENDS.contains(&token) || (reached && CLAUSE_VERBS.contains(&token)) {
                scope = 0;
            }
            if !negatable(token) {
                continue;
            }
            let side = if scope > 0 {
                scope -= 1;
                &mut negated
            } else {
                &mut asserted
            };
            *side.entry(stem(token)).or_insert(0) += 1;
        }
    }
    (negated, asserted)
}

fn compare_negations(original: &str, paraphrase: &str, rejections: &mut Vec<Finding>) {
    let (original_negated, original_asserted) = negation_counts(original);
    let (paraphrase_negated, paraphrase_asserted) = negation_counts(paraphrase);
    let count = |map: &HashMap<&str, usize>, w: &str| map.get(w).copied().unwrap_or(0);
    // Said less often negated and more often asserted: the negation was lost.
    let mut lost: Vec<&str> = original_negated
        .keys()
        .copied()
        .filter(|w| {
            count(&paraphrase_negated, w) < count(&original_negated, w)
                && count(&paraphrase_asserted, w) > count(&original_asserted, w)
        })
        .collect();
    if !lost.is_empty() {
        rejections.push(Finding {
            check: Check::NegationLost,
            detail: format!(
                "negated in the original, asserted in the paraphrase: {}",
                join(&mut lost)
            ),
        });
    }
    let mut added: Vec<&str> = paraphrase_negated
        .keys()
        .copied()
        .filter(|w| {
            count(&paraphrase_negated, w) > count(&original_negated, w)
                && count(&paraphrase_asserted, w) < count(&original_asserted, w)
        })
        .collect();
    if !added.is_empty() {
        rejections.push(Finding {
            check: Check::NegationAdded,
            detail: format!(
                "asserted in the original, negated in the paraphrase: {}",
                join(&mut added)
            ),
        });
    }
}

/// Sorted, in backticks (hash maps have no order of their own).
fn join(words: &mut [&str]) -> String {
    words.sort_unstable();
    words
        .iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn laterality_counts(words: &[&str]) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    // `right-to-left` names two sides.
    for word in words.iter().flat_map(|w| w.split('-')) {
        let side = match word {
            "left" => "left",
            "right" => "right",
            "bilateral" | "bilaterally" => "bilateral",
            _ => continue,
        };
        *counts.entry(side).or_insert(0) += 1;
    }
    counts
}

fn compare_laterality(original: &[&str], paraphrase: &[&str], rejections: &mut Vec<Finding>) {
    let before = laterality_counts(original);
    let after = laterality_counts(paraphrase);
    if before != after {
        let show = |counts: &BTreeMap<&str, usize>| {
            counts
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        rejections.push(Finding {
            check: Check::Laterality,
            detail: format!(
                "sides changed: original {{{}}}, paraphrase {{{}}}",
                show(&before),
                show(&after)
            ),
        });
    }
}

// ---------------------------------------------------------------- diagnoses (warnings)

const DIAGNOSIS_SUFFIXES: &[&str] = &[
    "itis", "osis", "emia", "aemia", "oma", "pathy", "plasia", "trophy", "algia",
];
const DIAGNOSIS_HEADS: &[&str] = &[
    "disease",
    "syndrome",
    "disorder",
    "infection",
    "deficiency",
    "fracture",
    "carcinoma",
    "cancer",
    "failure",
    "insufficiency",
    "stenosis",
    "injury",
    "palsy",
];

/// Diagnosis-like terms among lower-case `tokens`.
fn diagnosis_terms(tokens: &[&str]) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.len() > 5 && DIAGNOSIS_SUFFIXES.iter().any(|s| token.ends_with(s)) {
            terms.insert((*token).to_string());
        }
        if DIAGNOSIS_HEADS.contains(token) && i > 0 && is_content_word(tokens[i - 1]) {
            terms.insert(format!("{} {token}", tokens[i - 1]));
        }
    }
    terms
}

fn diagnosis_warnings(original_words: &[&str], paraphrase_words: &[&str]) -> Vec<Finding> {
    let in_paraphrase: HashSet<&str> = paraphrase_words.iter().copied().collect();
    diagnosis_terms(original_words)
        .into_iter()
        .filter(|term| !term.split(' ').all(|w| in_paraphrase.contains(w)))
        .map(|term| Finding {
            check: Check::DiagnosisDiffers,
            detail: term,
        })
        .collect()
}

// ---------------------------------------------------------------- text helpers

/// Word tokens (letters, digits, inner hyphens, apostrophes and slashes) of an already
/// lower-cased text, borrowed from it.
fn words(lower: &str) -> Vec<&str> {
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\'' || c == '/'))
        .map(|w| w.trim_matches(['-', '\'', '/']))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Sentences: split after `.`, `!`, `?`, `;` or a newline that ends a sentence (not the
/// point of a decimal number).
fn sentences(text: &str) -> Vec<&str> {
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

const STOPWORDS: &[&str] = &[
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

fn is_content_word(word: &str) -> bool {
    word.len() >= 4
        && word.chars().any(char::is_alphabetic)
        && !STOPWORDS.contains(&word)
        && !NEGATION_CUES.contains(&word)
}

/// A light stem so `lesions`/`lesion`, `treated`/`treat` meet.
fn stem(word: &str) -> &str {
    for suffix in ["ies", "es", "s", "ed", "ing", "ly"] {
        if let Some(base) = word.strip_suffix(suffix) {
            if base.len() >= 4 {
                return base;
            }
        }
    }
    word
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

    const NOTE: &str = "A 24-year-old woman comes to the emergency department because of a 4-hour history of headaches. She has no history of major medical illness. She takes aspirin 81 mg orally daily. Her pulse is 106/min and blood pressure is 102/73 mm Hg. Examination shows swelling of the left knee.";
    const GOOD: &str = "Examination reveals swelling in the left knee. This 24-year-old woman presents to the ED due to headaches for 4 hours. She reports no prior major medical illness. Her medications include aspirin 81 mg by mouth once daily. Pulse 106 beats per minute; blood pressure 102/73 mmHg.";

    fn checker() -> SafetyChecker {
        SafetyChecker::default()
    }

    fn rejected(paraphrase: &str) -> Verdict {
        let verdict = checker().check(NOTE, paraphrase, Some("stop"));
        assert!(!verdict.accepted, "should be rejected: {paraphrase}");
        verdict
    }

    #[test]
    fn a_faithful_paraphrase_passes() {
        let verdict = checker().check(NOTE, GOOD, Some("stop"));
        assert!(verdict.accepted, "{:#?}", verdict.rejections);
        assert!(verdict.similarity < 0.9);
    }

    #[test]
    fn numbers_and_units_are_read_with_their_spellings() {
        let found = numbers("BP 102/73 mm Hg, pulse 106/min, T 38.90°C, Na 135 mEq/L, 1,500 mL, two weeks, a 24-year-old, vitamin B12, .5 mg");
        let pairs: Vec<(String, Option<&str>)> =
            found.into_iter().map(|n| (n.value, n.unit)).collect();
        assert_eq!(
            pairs,
            vec![
                ("102/73".into(), Some("mmHg")),
                ("106".into(), Some("/min")),
                ("38.9".into(), Some("°C")),
                ("135".into(), Some("mEq/L")),
                ("1500".into(), Some("mL")),
                ("2".into(), Some("week")),
                ("24".into(), Some("year")),
                ("0.5".into(), Some("mg")),
            ]
        );
    }

    #[test]
    fn changed_dropped_and_added_numbers_are_rejected() {
        assert!(rejected(&GOOD.replace("106", "116")).rejected_by(Check::NumberDropped));
        assert!(rejected(&GOOD.replace("106", "116")).rejected_by(Check::NumberAdded));
        assert!(rejected(&GOOD.replace("102/73", "120/73")).rejected_by(Check::NumberDropped));
        assert!(rejected(&format!("{GOOD} Temperature 38.2°C.")).rejected_by(Check::NumberAdded));
    }

    #[test]
    fn swapped_units_are_rejected() {
        let verdict = rejected(&GOOD.replace("81 mg", "81 g"));
        assert!(
            verdict.rejected_by(Check::UnitChanged),
            "{:#?}",
            verdict.rejections
        );
        assert!(rejected(&GOOD.replace("4 hours", "4 days")).rejected_by(Check::UnitChanged));
    }

    #[test]
    fn drugs_must_match_by_name() {
        let verdict = rejected(&GOOD.replace("aspirin", "warfarin"));
        assert!(verdict.rejected_by(Check::DrugDropped) && verdict.rejected_by(Check::DrugAdded));
        let verdict = rejected(&GOOD.replace("by mouth", "intravenously"));
        assert!(
            verdict.rejected_by(Check::DoseRouteFrequency),
            "{:#?}",
            verdict.rejections
        );
        let verdict = rejected(&GOOD.replace("once daily", "twice daily"));
        assert!(
            verdict.rejected_by(Check::DoseRouteFrequency),
            "{:#?}",
            verdict.rejections
        );
    }

    #[test]
    fn negation_and_laterality_flips_are_rejected() {
        let verdict = rejected(&GOOD.replace("reports no prior", "reports a prior"));
        assert!(
            verdict.rejected_by(Check::NegationLost),
            "{:#?}",
            verdict.rejections
        );
        let verdict = rejected(&GOOD.replace(
            "Examination reveals swelling",
            "Examination reveals no swelling",
        ));
        assert!(
            verdict.rejected_by(Check::NegationAdded),
            "{:#?}",
            verdict.rejections
        );
        assert!(rejected(&GOOD.replace("left knee", "right knee")).rejected_by(Check::Laterality));
        let shunt = "Echocardiography shows a right-to-left shunt.";
        let verdict = checker().check(
            shunt,
            "A right-to-right shunt is seen on echocardiography.",
            None,
        );
        assert!(
            verdict.rejected_by(Check::Laterality),
            "{:#?}",
            verdict.rejections
        );
    }

    #[test]
    fn artefacts_are_rejected() {
        assert!(rejected("").rejected_by(Check::Empty));
        assert!(
            rejected(&format!("Here is the paraphrased note:\n\n{GOOD}"))
                .rejected_by(Check::Preamble)
        );
        assert!(rejected(&format!("```\n{GOOD}\n```")).rejected_by(Check::MarkdownFence));
        assert!(
            rejected(&format!("{GOOD}\n\nNote: all values were preserved."))
                .rejected_by(Check::Explanation)
        );
        assert!(rejected("I'm sorry, but I can't help with that.").rejected_by(Check::Refusal));
        let verdict = checker().check(NOTE, GOOD, Some("length"));
        assert!(verdict.rejected_by(Check::FinishReason));
    }

    #[test]
    fn copies_and_truncations_are_rejected() {
        assert!(rejected(&NOTE.replace("shows", "reveals")).rejected_by(Check::NearCopy));
        let half: String = GOOD.split(". ").take(2).collect::<Vec<_>>().join(". ");
        let verdict = rejected(&half);
        assert!(verdict.rejected_by(Check::Length) || verdict.rejected_by(Check::ContentDropped));
    }

    #[test]
    fn dropped_sentences_without_numbers_are_caught_by_content() {
        let verdict = rejected(&GOOD.replace("She reports no prior major medical illness. ", ""));
        assert!(
            verdict.rejected_by(Check::ContentDropped),
            "{:#?}",
            verdict.rejections
        );
    }

    #[test]
    fn diagnoses_that_differ_are_warnings_with_a_seam_for_a_model() {
        struct Strict;
        impl DiagnosisVerifier for Strict {
            fn verify(&self, _: &str, _: &str, differing: &[String]) -> Vec<Finding> {
                differing
                    .iter()
                    .map(|d| Finding {
                        check: Check::DiagnosisDiffers,
                        detail: d.clone(),
                    })
                    .collect()
            }
        }
        let original = "Suspected of Huntington disease. Mild gastritis.";
        let paraphrase = "Huntington chorea is suspected. Mild gastritis noted.";
        let verdict = checker().check(original, paraphrase, None);
        assert_eq!(verdict.warnings.len(), 1, "{:#?}", verdict.warnings);
        assert_eq!(verdict.warnings[0].detail, "huntington disease");
        assert!(
            !checker()
                .check_with(original, paraphrase, None, &Strict)
                .accepted
        );
    }

    #[test]
    fn rouge_l_is_one_for_a_copy_and_lower_for_a_reorder() {
        let a = words("the cat sat on the mat today");
        assert!((rouge_l(&a, &a) - 1.0).abs() < 1e-12);
        let b = words("today the mat was sat on by the cat");
        assert!(rouge_l(&a, &b) < 0.7);
    }
}
