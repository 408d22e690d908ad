//! Paraphrase fact-preservation checks: an original note and its paraphrase (and the
//! answer's finish reason) in, a verdict with every failed check and the text at fault on
//! each side out. Pure: no files, network or clock; the lexicons are compiled in.
//!
//! Each text is read into a fact table (`facts.rs`) and the two tables are compared fact
//! by fact on canonical forms (issue 8). This file owns the public types and the order the
//! checks run in; each family lives in its own file:
//! - `batch.rs`: the JSON Lines input of `safesft check --batch`;
//! - `artefacts.rs`: empty answer, finish reason, refusal, preamble, fence, explanation;
//! - `numbers.rs`: numbers, number words and units (temperature `C`/`F` included);
//! - `lexicon.rs`: drugs, diseases/findings, organisms, allowed synonyms, lab analytes;
//! - `drugs.rs`: drug names and the dose, route and frequency in their sentence;
//! - `concepts.rs`: findings, diagnoses, organisms and procedures as canonical concepts;
//! - `scope.rs`: NegEx/ConText triggers and their scopes;
//! - `management.rs`: management statements (what was done or is planned);
//! - `negation.rs`: negation per concept;
//! - `laterality.rs`: left, right and bilateral per body part;
//! - `qualifiers.rs`: severity and temporal qualifiers attached to findings;
//! - `timing.rs`: relative times (`13 days after`, `a few months ago`);
//! - `demographics.rs`: the patient's sex and the relatives named;
//! - `coverage.rs`: length, per-sentence content coverage (sentences split there) and the
//!   ROUGE-L near-copy check;
//! - `text.rs`: words, tokens with places and stopwords;
//! - `static_table.rs`: the compile-time hash tables the lexicons are read from;
//! - `word_filter.rs`: the short word lists looked up per token, behind a one-bit test.

mod artefacts;
mod batch;
mod concepts;
mod coverage;
mod demographics;
mod drugs;
mod facts;
mod laterality;
mod lexicon;
mod management;
mod negation;
mod numbers;
mod qualifiers;
mod scope;
mod static_table;
mod table_hash;
#[cfg(test)]
mod tests;
mod text;
mod timing;
mod word_filter;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use batch::{parse_batch, BatchError, BatchPair};
use facts::Facts;

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
    FindingDropped,
    FindingAdded,
    OrganismDropped,
    OrganismAdded,
    ProcedureDropped,
    ProcedureAdded,
    Management,
    NegationLost,
    NegationAdded,
    Laterality,
    Severity,
    Temporal,
    Demographic,
    Length,
    ContentDropped,
    NearCopy,
    /// Not a rule: the verifier model (stage 2, issue 9) found a fact that differs.
    Verifier,
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
            Check::FindingDropped => "finding_dropped",
            Check::FindingAdded => "finding_added",
            Check::OrganismDropped => "organism_dropped",
            Check::OrganismAdded => "organism_added",
            Check::ProcedureDropped => "procedure_dropped",
            Check::ProcedureAdded => "procedure_added",
            Check::Management => "management",
            Check::NegationLost => "negation_lost",
            Check::NegationAdded => "negation_added",
            Check::Laterality => "laterality",
            Check::Severity => "severity",
            Check::Temporal => "temporal",
            Check::Demographic => "demographic",
            Check::Length => "length",
            Check::ContentDropped => "content_dropped",
            Check::NearCopy => "near_copy",
            Check::Verifier => "verifier",
        }
    }

    /// Whether the check is a hard one: an exact fact (numbers, units, drugs with dose,
    /// route and frequency), a near copy or an answer artefact. Its rejection is final.
    /// The other rule checks compare concepts (findings, procedures, organisms, negation,
    /// laterality, qualifiers, timing, demographics, management, length, coverage): on
    /// fresh text most of their rejections of faithful paraphrases are false (README,
    /// "How well it works"), so a run may send a paraphrase only they reject to the
    /// verifier instead (`--doubts verify`).
    pub fn is_hard(self) -> bool {
        matches!(
            self,
            Check::NumberDropped
                | Check::NumberAdded
                | Check::UnitChanged
                | Check::DrugDropped
                | Check::DrugAdded
                | Check::DoseRouteFrequency
                | Check::NearCopy
                | Check::Empty
                | Check::FinishReason
                | Check::Refusal
                | Check::Preamble
                | Check::MarkdownFence
                | Check::Explanation
                | Check::Verifier
        )
    }

    /// Whether the check compares a clinical fact of the two fact tables (not an answer
    /// artefact, the length, the coverage or the near-copy check).
    pub fn is_fact(self) -> bool {
        matches!(
            self,
            Check::NumberDropped
                | Check::NumberAdded
                | Check::UnitChanged
                | Check::DrugDropped
                | Check::DrugAdded
                | Check::DoseRouteFrequency
                | Check::FindingDropped
                | Check::FindingAdded
                | Check::OrganismDropped
                | Check::OrganismAdded
                | Check::ProcedureDropped
                | Check::ProcedureAdded
                | Check::Management
                | Check::NegationLost
                | Check::NegationAdded
                | Check::Laterality
                | Check::Severity
                | Check::Temporal
                | Check::Demographic
        )
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed check and the text at fault on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The check that failed.
    pub check: Check,
    /// What failed, quoting the text at fault (whole words).
    pub detail: String,
    /// The words of the original the finding is about (`None` when the original has none).
    pub original_span: Option<String>,
    /// The words of the paraphrase the finding is about (`None` when it has none).
    pub paraphrase_span: Option<String>,
}

impl Finding {
    /// A finding with its spans.
    pub fn new(
        check: Check,
        detail: impl Into<String>,
        original_span: Option<String>,
        paraphrase_span: Option<String>,
    ) -> Finding {
        Finding {
            check,
            detail: detail.into(),
            original_span,
            paraphrase_span,
        }
    }
}

/// The outcome for one paraphrase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when no check rejected the paraphrase.
    pub accepted: bool,
    /// Every failed check, in the order the checks ran.
    pub rejections: Vec<Finding>,
    /// Word-level ROUGE-L F1 between original and paraphrase.
    pub similarity: f64,
}

impl Verdict {
    /// Whether `check` is among the rejections.
    pub fn rejected_by(&self, check: Check) -> bool {
        self.rejections.iter().any(|f| f.check == check)
    }

    /// Rejected, and only by checks that are not hard ([`Check::is_hard`]): a doubt the
    /// verifier may clear.
    pub fn doubt_only(&self) -> bool {
        doubt_only(&self.rejections)
    }
}

/// Whether `rejections` are some, and none of them from a hard check.
pub fn doubt_only(rejections: &[Finding]) -> bool {
    !rejections.is_empty() && rejections.iter().all(|f| !f.check.is_hard())
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
            min_sentence_coverage: 0.2,
            min_sentence_words: 5,
        }
    }
}

/// Builds once and checks many pairs.
pub struct SafetyChecker {
    config: SafetyConfig,
}

impl Default for SafetyChecker {
    fn default() -> SafetyChecker {
        SafetyChecker::new(SafetyConfig::default())
    }
}

impl SafetyChecker {
    /// A checker with these thresholds (the lexicons are compiled in: nothing to build).
    pub fn new(config: SafetyConfig) -> SafetyChecker {
        SafetyChecker { config }
    }

    /// The thresholds this checker applies.
    pub fn config(&self) -> &SafetyConfig {
        &self.config
    }

    /// The fact table the checker reads from `text`, as lines of text (lexicon concepts
    /// with their kind, canonical name and negation; numbers with their units).
    pub fn describe(text: &str) -> String {
        Facts::read(text, &text.to_ascii_lowercase()).describe()
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
                similarity: 0.0,
            };
        }
        artefacts::find_artefacts(paraphrase, &mut rejections);

        // One lower-cased copy of each text, read by the fact tables and the words below.
        // ASCII lowering keeps byte offsets, so sentences line up with the original.
        let original_lower = original.to_ascii_lowercase();
        let paraphrase_lower = paraphrase.to_ascii_lowercase();
        let before = Facts::read(original, &original_lower);
        let after = Facts::read(paraphrase, &paraphrase_lower);
        numbers::compare_numbers(
            original,
            &before.numbers,
            paraphrase,
            &after.numbers,
            &mut rejections,
        );
        drugs::compare_drugs(&before, &after, &mut rejections);
        concepts::compare_concepts(&before, &after, &mut rejections);
        management::compare_management(&before, &after, &mut rejections);
        negation::compare_negations(&before, &after, &mut rejections);
        laterality::compare_laterality(&before, &after, &mut rejections);
        qualifiers::compare_qualifiers(&before, &after, &mut rejections);
        timing::compare_timings(&before, &after, &mut rejections);
        demographics::compare_demographics(&before, &after, &mut rejections);

        let original_words = text::words(&original_lower);
        let paraphrase_words = text::words(&paraphrase_lower);
        coverage::compare_length(
            &self.config,
            &original_words,
            &paraphrase_words,
            &mut rejections,
        );
        coverage::compare_coverage(
            &self.config,
            (original, &original_lower, &original_words, &before),
            &paraphrase_words,
            &after,
            &mut rejections,
        );
        let similarity = coverage::compare_similarity(
            &self.config,
            &original_words,
            &paraphrase_words,
            &mut rejections,
        );
        Verdict {
            accepted: rejections.is_empty(),
            rejections,
            similarity,
        }
    }
}
