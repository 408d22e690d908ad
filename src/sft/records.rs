//! SFT records in the guide's format, built from reconciled outcomes so the dataset is
//! exactly 50/50 by construction, and the seeded shuffle of the combined file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::medec::Pair;
use crate::plan::RequestKind;
use crate::reconcile::{Outcome, Reconciled, Resolved};

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

/// Builds the CORRECT and INCORRECT examples, pair by pair in input order. A pair
/// whose paraphrase was not kept is dropped whole (or falls back to the original).
pub fn build_records(
    pairs: &[Pair],
    reconciled: &Reconciled,
    reasoning_on: bool,
    fallback: Fallback,
) -> (Vec<SftRecord>, Vec<SftRecord>, GenerationStats) {
    let mut correct = Vec::new();
    let mut incorrect = Vec::new();
    let mut stats = GenerationStats::default();
    for pair in pairs {
        stats.total_pairs_processed += 1;
        let paraphrase = reconciled
            .finals
            .get(&(pair.note_id.clone(), RequestKind::Paraphrase));
        let correct_record = match paraphrase {
            Some(resolved) if resolved.outcome == Outcome::Kept => {
                stats.correct_paraphrases_generated += 1;
                Some(SftRecord {
                    note: resolved.text.clone().unwrap_or_default(),
                    label: "CORRECT".into(),
                    original_note_id: pair.note_id.clone(),
                    error_type: None,
                    error_location: None,
                    correction: None,
                    source: SOURCE_PARAPHRASED.into(),
                    metadata: token_metadata(resolved, "correct_paraphrase"),
                    reasoning: None,
                })
            }
            _ if fallback == Fallback::Original => {
                stats.correct_fallback_original += 1;
                Some(SftRecord {
                    note: pair.correct_note.clone(),
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
                })
            }
            _ => None,
        };
        let Some(correct_record) = correct_record else {
            stats.pairs_dropped += 1;
            continue;
        };
        stats.pairs_kept += 1;
        let mut metadata = json!({"generation_type": "medec_verified_error"});
        let mut reasoning = None;
        if reasoning_on {
            match reconciled
                .finals
                .get(&(pair.note_id.clone(), RequestKind::Reasoning))
            {
                Some(resolved) if resolved.outcome == Outcome::Kept => {
                    stats.reasoning_added += 1;
                    reasoning.clone_from(&resolved.reasoning);
                    metadata = token_metadata(resolved, "medec_verified_error");
                }
                other => {
                    stats.reasoning_failed += 1;
                    metadata["reasoning_failed"] =
                        json!(other.map(|r| r.reasons.join("; ")).unwrap_or_default());
                }
            }
        }
        incorrect.push(SftRecord {
            note: pair.incorrect_note.clone(),
            label: "INCORRECT".into(),
            original_note_id: pair.note_id.clone(),
            error_type: Some(pair.error_type.to_string()),
            error_location: pair.error_sentence.clone(),
            correction: pair.corrected_sentence.clone(),
            source: SOURCE_INCORRECT_VERIFIED.into(),
            metadata,
            reasoning,
        });
        stats.incorrect_used_as_is += 1;
        correct.push(correct_record);
    }
    stats.total_examples = (correct.len() + incorrect.len()) as u64;
    stats
        .label_counts
        .insert("CORRECT".into(), correct.len() as u64);
    stats
        .label_counts
        .insert("INCORRECT".into(), incorrect.len() as u64);
    (correct, incorrect, stats)
}

/// CORRECT and INCORRECT interleaved, then shuffled with `seed` (the same seed, the
/// same order).
pub fn combined(correct: &[SftRecord], incorrect: &[SftRecord], seed: u64) -> Vec<SftRecord> {
    let mut all: Vec<SftRecord> = correct.iter().chain(incorrect).cloned().collect();
    fastrand::Rng::with_seed(seed).shuffle(&mut all);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;
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
            retryable: true,
            text: Some(format!("{id} paraphrase")),
            reasoning: (kind == RequestKind::Reasoning && outcome == Outcome::Kept)
                .then(|| json!({"why_wrong": "because"})),
            usage: Usage::default(),
            model: Some("gpt-4o".into()),
        }
    }

    fn reconciled(outcomes: &[(&str, Outcome, Outcome)]) -> Reconciled {
        let mut reconciled = Reconciled::default();
        for (id, paraphrase, reasoning) in outcomes {
            for (kind, outcome) in [
                (RequestKind::Paraphrase, *paraphrase),
                (RequestKind::Reasoning, *reasoning),
            ] {
                reconciled
                    .finals
                    .insert(((*id).to_string(), kind), resolved(id, kind, outcome));
            }
        }
        reconciled
    }

    #[test]
    fn pairs_without_a_kept_paraphrase_are_dropped_whole() {
        let pairs = [pair("a"), pair("b"), pair("c")];
        let outcomes = reconciled(&[
            ("a", Outcome::Kept, Outcome::Kept),
            ("b", Outcome::Rejected, Outcome::Kept),
            ("c", Outcome::Kept, Outcome::Rejected),
        ]);
        let (correct, incorrect, stats) = build_records(&pairs, &outcomes, true, Fallback::Drop);
        assert_eq!((correct.len(), incorrect.len()), (2, 2));
        assert_eq!(
            (
                stats.pairs_dropped,
                stats.reasoning_added,
                stats.reasoning_failed
            ),
            (1, 1, 1)
        );
        assert_eq!(incorrect[0].note, "a incorrect ", "byte for byte");
        assert_eq!(incorrect[1].reasoning, None);
        assert_eq!(correct[0].source, SOURCE_PARAPHRASED);
    }

    #[test]
    fn fallback_keeps_the_original_correct_note() {
        let pairs = [pair("a"), pair("b")];
        let outcomes = reconciled(&[
            ("a", Outcome::Kept, Outcome::Kept),
            ("b", Outcome::Failed, Outcome::Kept),
        ]);
        let (correct, incorrect, stats) =
            build_records(&pairs, &outcomes, true, Fallback::Original);
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
    }

    #[test]
    fn combined_order_depends_only_on_the_seed() {
        let pairs: Vec<Pair> = (0..20).map(|i| pair(&format!("n{i}"))).collect();
        let outcomes: Vec<(String, Outcome, Outcome)> = (0..20)
            .map(|i| (format!("n{i}"), Outcome::Kept, Outcome::Kept))
            .collect();
        let refs: Vec<(&str, Outcome, Outcome)> = outcomes
            .iter()
            .map(|(a, b, c)| (a.as_str(), *b, *c))
            .collect();
        let (correct, incorrect, _) =
            build_records(&pairs, &reconciled(&refs), true, Fallback::Drop);
        assert_eq!(
            combined(&correct, &incorrect, 7),
            combined(&correct, &incorrect, 7)
        );
        assert_ne!(
            combined(&correct, &incorrect, 7),
            combined(&correct, &incorrect, 8)
        );
        let message = crate::sft::as_messages(&incorrect[0]);
        assert_eq!(
            message["messages"][2]["content"],
            "INCORRECT\nError sentence: bad\nCorrection: good\nWhy: because"
        );
    }
}
