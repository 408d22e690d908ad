//! Paraphrase fact-preservation checks: an original note and its paraphrase (and the
//! answer's finish reason) in, a verdict with every failed check and the text at fault
//! out. Pure: no files, network or clock; the drug lexicon is compiled into the binary.
//!
//! This file owns the public types and the order the checks run in; each check family
//! lives in its own file:
//! - `artefacts.rs`: empty answer, finish reason, refusal, preamble, fence, explanation;
//! - `numbers.rs`: numbers, number words and units;
//! - `drugs.rs`: the drug lexicon, drug names and the dose, route and frequency next to them;
//! - `negation.rs`: negation cues, their scope and flipped findings;
//! - `laterality.rs`: left, right and bilateral;
//! - `coverage.rs`: length, per-sentence content coverage and the ROUGE-L near-copy check;
//! - `diagnosis.rs`: diagnosis terms that differ (warnings only);
//! - `text.rs`: the words, sentences, stopwords and stems they share.

mod artefacts;
mod coverage;
mod diagnosis;
mod drugs;
mod laterality;
mod negation;
mod numbers;
#[cfg(test)]
mod tests;
mod text;

use std::fmt;

use serde::{Deserialize, Serialize};

use drugs::DrugMatcher;

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
    /// The check's name in reports and JSON (`number_dropped`).
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
    /// The check that failed.
    pub check: Check,
    /// What failed, quoting the text at fault.
    pub detail: String,
}

/// The outcome for one paraphrase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when no check rejected the paraphrase (warnings do not count).
    pub accepted: bool,
    /// Every failed check, in the order the checks ran.
    pub rejections: Vec<Finding>,
    /// Diagnosis terms that differ: allowed (synonyms), but worth a model's look.
    pub warnings: Vec<Finding>,
    /// Word-level ROUGE-L F1 between original and paraphrase.
    pub similarity: f64,
}

impl Verdict {
    /// Whether `check` is among the rejections.
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
    /// See `min_length_ratio`.
    pub max_length_ratio: f64,
    /// An original sentence with at least `min_sentence_words` content words must keep
    /// this share of them somewhere in the paraphrase.
    pub min_sentence_coverage: f64,
    /// See `min_sentence_coverage`.
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
    /// Rejections for the diagnosis terms in `differing` (as found in the original).
    fn verify(&self, original: &str, paraphrase: &str, differing: &[String]) -> Vec<Finding>;
}

/// Builds once and checks many pairs.
pub struct SafetyChecker {
    config: SafetyConfig,
    drugs: &'static DrugMatcher,
}

impl Default for SafetyChecker {
    fn default() -> SafetyChecker {
        SafetyChecker::new(SafetyConfig::default())
    }
}

impl SafetyChecker {
    /// A checker with these thresholds (the drug lexicon is built once per process).
    pub fn new(config: SafetyConfig) -> SafetyChecker {
        SafetyChecker {
            config,
            drugs: drugs::drug_matcher(),
        }
    }

    /// The thresholds this checker applies.
    pub fn config(&self) -> &SafetyConfig {
        &self.config
    }

    /// Every drug name in `text` as (byte start, byte end, lower-case name).
    pub fn drug_mentions(&self, text: &str) -> Vec<(usize, usize, String)> {
        self.drugs
            .mentions(text)
            .into_iter()
            .map(|m| (m.start, m.end, m.name))
            .collect()
    }

    /// Checks `paraphrase` against `original`. `finish_reason` is the API's, when known.
    pub fn check(&self, original: &str, paraphrase: &str, finish_reason: Option<&str>) -> Verdict {
        let mut rejections: Vec<Finding> =
            artefacts::unfinished(finish_reason).into_iter().collect();
        if let Some(empty) = artefacts::empty(paraphrase) {
            rejections.push(empty);
            return Verdict {
                accepted: false,
                rejections,
                warnings: Vec::new(),
                similarity: 0.0,
            };
        }
        artefacts::find_artefacts(paraphrase, &mut rejections);

        let original_numbers = numbers::numbers(original);
        let paraphrase_numbers = numbers::numbers(paraphrase);
        numbers::compare_numbers(&original_numbers, &paraphrase_numbers, &mut rejections);

        let original_drugs = self.drugs.mentions(original);
        let paraphrase_drugs = self.drugs.mentions(paraphrase);
        drugs::compare_drugs(
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
        let original_words = text::words(&original_lower);
        let paraphrase_words = text::words(&paraphrase_lower);
        negation::compare_negations(&original_lower, &paraphrase_lower, &mut rejections);
        laterality::compare_laterality(&original_words, &paraphrase_words, &mut rejections);

        coverage::compare_length(
            &self.config,
            &original_words,
            &paraphrase_words,
            &mut rejections,
        );
        coverage::compare_coverage(
            &self.config,
            original,
            &original_lower,
            &paraphrase_words,
            &mut rejections,
        );
        let similarity = coverage::compare_similarity(
            &self.config,
            &original_words,
            &paraphrase_words,
            &mut rejections,
        );
        let warnings = diagnosis::diagnosis_warnings(&original_words, &paraphrase_words);
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
}
