//! SFT records in the guide's format, built pair by pair from reconciled outcomes so the
//! dataset is exactly 50/50 by construction, and the seeded order of the combined file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::medec::Pair;
use crate::reconcile::{Outcome, Resolved};

pub const SOURCE_PARAPHRASED: &str = "medec_correct_paraphrased";
pub const SOURCE_CORRECT_VERIFIED: &str = "medec_correct_verified";
pub const SOURCE_INCORRECT_VERIFIED: &str = "medec_incorrect_verified";

/// What to do with a pair whose paraphrase was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Drop the pair whole (both examples), keeping the 50/50 balance.
    #[default]
    Drop,
    /// Keep the pair with MEDEC's correct note as is (`medec_correct_verified`).
    Original,
}

/// One SFT example, with the guide's fields (so downstream scripts keep working).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SftRecord {
    pub note: String,
    pub label: String,
    pub original_note_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
    pub source: String,
    pub metadata: Value,
    pub reasoning: Option<Value>,
}

/// The guide's counts, and ours.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    pub total_pairs_processed: u64,
    pub pairs_kept: u64,
    pub pairs_dropped: u64,
    pub correct_paraphrases_generated: u64,
    pub correct_fallback_original: u64,
    pub incorrect_used_as_is: u64,
    pub reasoning_added: u64,
    pub reasoning_failed: u64,
    pub total_examples: u64,
    pub label_counts: BTreeMap<String, u64>,
    /// Rejected paraphrases per safety check that failed (a paraphrase failing several
    /// checks counts once for each).
    #[serde(default)]
    pub rejections_by_check: BTreeMap<String, u64>,
    /// Kept paraphrases only concept checks had rejected, cleared by the verifier
    /// (`--doubts verify`), per check (a paraphrase counts once for each).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub doubts_cleared_by_check: BTreeMap<String, u64>,
}

/// The names of the checks among `findings`, each once.
fn check_names(findings: &[crate::safety::Finding]) -> std::collections::BTreeSet<&'static str> {
    findings.iter().map(|f| f.check.as_str()).collect()
}

fn token_metadata(resolved: &Resolved, generation_type: &str) -> Value {
    let usage = resolved.usage;
    json!({
        "generation_type": generation_type,
        "model": resolved.model,
        "custom_id": resolved.custom_id,
        "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": usage.cached_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        // The guide's field name, kept for downstream scripts: total tokens of the answer.
        "gpt4o_tokens": usage.prompt_tokens + usage.completion_tokens,
    })
}

/// A kept paraphrase's metadata: its tokens, and the rule findings the verifier cleared
/// when only concept checks had rejected it (`--doubts verify`), so that a reader of the
/// SFT file sees which examples rest on the verifier's word.
fn correct_metadata(resolved: &Resolved) -> Value {
    let mut metadata = token_metadata(resolved, "correct_paraphrase");
    if !resolved.cleared.is_empty() {
        metadata["rule_doubts_cleared_by_verifier"] = json!(resolved
            .cleared
            .iter()
            .map(|f| json!({"check": f.check.as_str(), "detail": f.detail}))
            .collect::<Vec<_>>());
    }
    metadata
}

/// Builds the CORRECT and INCORRECT examples of one pair (in input order, pair by pair)
/// from its final paraphrase and reasoning attempts, with their texts (the paraphrase
/// text when kept, the reasoning object when kept), and counts it in `stats`. A pair
/// whose paraphrase was not kept is dropped whole (or falls back to the original).
pub fn pair_records(
    pair: Pair,
    paraphrase: Option<&Resolved>,
    reasoning: Option<&Resolved>,
    options: (bool, Fallback),
    stats: &mut GenerationStats,
) -> Option<(SftRecord, SftRecord)> {
    let (reasoning_on, fallback) = options;
    stats.total_pairs_processed += 1;
    if let Some(rejected) = paraphrase.filter(|r| r.outcome == Outcome::Rejected) {
        for check in check_names(&rejected.rejections) {
            *stats
                .rejections_by_check
                .entry(check.to_string())
                .or_default() += 1;
        }
    }
    if let Some(kept) = paraphrase.filter(|r| r.outcome == Outcome::Kept) {
        for check in check_names(&kept.cleared) {
            *stats
                .doubts_cleared_by_check
                .entry(check.to_string())
                .or_default() += 1;
        }
    }
    let correct_record = match paraphrase {
        Some(resolved) if resolved.outcome == Outcome::Kept => {
            stats.correct_paraphrases_generated += 1;
            SftRecord {
                note: resolved.text.clone().unwrap_or_default(),
                label: "CORRECT".into(),
                original_note_id: pair.note_id.clone(),
                error_type: None,
                error_location: None,
                correction: None,
                source: SOURCE_PARAPHRASED.into(),
                metadata: correct_metadata(resolved),
                reasoning: None,
            }
        }
        _ if fallback == Fallback::Original => {
            stats.correct_fallback_original += 1;
            SftRecord {
                note: pair.correct_note,
                label: "CORRECT".into(),
                original_note_id: pair.note_id.clone(),
                error_type: None,
                error_location: None,
                correction: None,
                source: SOURCE_CORRECT_VERIFIED.into(),
                metadata: json!({
                    "generation_type": "medec_verified_correct",
                    "fallback_reason": paraphrase.map(|r| r.reasons.join("; ")),
                }),
                reasoning: None,
            }
        }
        _ => {
            stats.pairs_dropped += 1;
            return None;
        }
    };
    stats.pairs_kept += 1;
    let mut metadata = json!({"generation_type": "medec_verified_error"});
    let mut reasoning_value = None;
    if reasoning_on {
        match reasoning {
            Some(resolved) if resolved.outcome == Outcome::Kept => {
                stats.reasoning_added += 1;
                reasoning_value.clone_from(&resolved.reasoning);
                metadata = token_metadata(resolved, "medec_verified_error");
            }
            other => {
                stats.reasoning_failed += 1;
                metadata["reasoning_failed"] =
                    json!(other.map(|r| r.reasons.join("; ")).unwrap_or_default());
            }
        }
    }
    let incorrect_record = SftRecord {
        note: pair.incorrect_note,
        label: "INCORRECT".into(),
        original_note_id: pair.note_id,
        error_type: Some(pair.error_type.to_string()),
        error_location: pair.error_sentence,
        correction: pair.corrected_sentence,
        source: SOURCE_INCORRECT_VERIFIED.into(),
        metadata,
        reasoning: reasoning_value,
    };
    stats.incorrect_used_as_is += 1;
    Some((correct_record, incorrect_record))
}

impl GenerationStats {
    /// Sets the totals once every pair is counted.
    pub fn finish(&mut self) {
        let examples = self.pairs_kept;
        self.total_examples = 2 * examples;
        self.label_counts.insert("CORRECT".into(), examples);
        self.label_counts.insert("INCORRECT".into(), examples);
    }
}

/// The order of the combined file: every CORRECT example, then every INCORRECT one,
/// shuffled with `seed` (the same seed, the same order). Entry `k` is the position in
/// that concatenation of the `k`-th combined record.
pub fn combined_order(examples: usize, seed: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..).take(examples).collect();
    // The shuffle depends only on the length, so shuffling positions orders the records
    // exactly as shuffling the records themselves would.
    fastrand::Rng::with_seed(seed).shuffle(&mut order);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;
    use crate::plan::RequestKind;
    use crate::reconcile::Usage;

    fn pair(id: &str) -> Pair {
        Pair {
            note_id: id.into(),
            correct_note: format!("{id} correct"),
            incorrect_note: format!("{id} incorrect "),
            error_type: ErrorType::Diagnosis,
            error_sentence: Some("bad".into()),
            corrected_sentence: Some("good".into()),
        }
    }

    fn resolved(id: &str, kind: RequestKind, outcome: Outcome) -> Resolved {
        Resolved {
            custom_id: format!("{id}|{kind}|1"),
            note_id: id.into(),
            kind,
            attempt: 1,
            outcome,
            reasons: if outcome == Outcome::Kept {
                vec![]
            } else {
                vec!["near_copy: x".into()]
            },
            rejections: Vec::new(),
            cleared: Vec::new(),
            retryable: true,
            text: Some(format!("{id} paraphrase")),
            reasoning: (kind == RequestKind::Reasoning && outcome == Outcome::Kept)
                .then(|| json!({"why_wrong": "because"})),
            original: None,
            usage: Usage::default(),
            model: Some("gpt-4o".into()),
        }
    }

    /// The records of `outcomes` (note id, paraphrase, reasoning), pair by pair.
    fn records(
        outcomes: &[(&str, Outcome, Outcome)],
        fallback: Fallback,
    ) -> (Vec<SftRecord>, Vec<SftRecord>, GenerationStats) {
        let mut stats = GenerationStats::default();
        let (mut correct, mut incorrect) = (Vec::new(), Vec::new());
        for (id, paraphrase, reasoning) in outcomes {
            let paraphrase = resolved(id, RequestKind::Paraphrase, *paraphrase);
            let reasoning = resolved(id, RequestKind::Reasoning, *reasoning);
            let records = pair_records(
                pair(id),
                Some(&paraphrase),
                Some(&reasoning),
                (true, fallback),
                &mut stats,
            );
            if let Some((c, i)) = records {
                correct.push(c);
                incorrect.push(i);
            }
        }
        stats.finish();
        (correct, incorrect, stats)
    }

    #[test]
    fn pairs_without_a_kept_paraphrase_are_dropped_whole() {
        let (correct, incorrect, stats) = records(
            &[
                ("a", Outcome::Kept, Outcome::Kept),
                ("b", Outcome::Rejected, Outcome::Kept),
                ("c", Outcome::Kept, Outcome::Rejected),
            ],
            Fallback::Drop,
        );
        assert_eq!((correct.len(), incorrect.len()), (2, 2));
        assert_eq!(
            (
                stats.pairs_dropped,
                stats.reasoning_added,
                stats.reasoning_failed,
                stats.total_examples
            ),
            (1, 1, 1, 4)
        );
        assert_eq!(stats.label_counts["CORRECT"], 2);
        assert_eq!(incorrect[0].note, "a incorrect ", "byte for byte");
        assert_eq!(incorrect[1].reasoning, None);
        assert_eq!(correct[0].source, SOURCE_PARAPHRASED);
    }

    #[test]
    fn fallback_keeps_the_original_correct_note() {
        let (correct, incorrect, stats) = records(
            &[
                ("a", Outcome::Kept, Outcome::Kept),
                ("b", Outcome::Failed, Outcome::Kept),
            ],
            Fallback::Original,
        );
        assert_eq!(
            (
                correct.len(),
                incorrect.len(),
                stats.correct_fallback_original
            ),
            (2, 2, 1)
        );
        assert_eq!(correct[1].note, "b correct");
        assert_eq!(correct[1].source, SOURCE_CORRECT_VERIFIED);
        let mut stats = GenerationStats::default();
        let alone = pair_records(
            pair("c"),
            None,
            None,
            (true, Fallback::Original),
            &mut stats,
        );
        let (correct, incorrect) = alone.unwrap();
        assert_eq!(correct.metadata["fallback_reason"], serde_json::Value::Null);
        assert_eq!(incorrect.metadata["reasoning_failed"], "");
    }

    #[test]
    fn combined_order_depends_only_on_the_seed_and_shuffles_like_the_records() {
        let names: Vec<String> = (0..40).map(|i| format!("n{i}")).collect();
        let order = combined_order(names.len(), 7);
        assert_eq!(order, combined_order(names.len(), 7));
        assert_ne!(order, combined_order(names.len(), 8));
        let mut shuffled = names.clone();
        fastrand::Rng::with_seed(7).shuffle(&mut shuffled);
        let by_order: Vec<String> = order.iter().map(|k| names[*k as usize].clone()).collect();
        assert_eq!(by_order, shuffled);
        let (_, incorrect, _) = records(&[("a", Outcome::Kept, Outcome::Kept)], Fallback::Drop);
        let message = crate::sft::as_messages(&incorrect[0]);
        assert_eq!(
            message["messages"][2]["content"],
            "INCORRECT\nError sentence: bad\nCorrection: good\nWhy: because"
        );
    }
}
