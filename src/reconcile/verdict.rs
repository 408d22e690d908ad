//! The verifier's answers (stage 2, issue 9): parsed strictly (`same` with no difference,
//! or `changed` with the differences), and joined back to the paraphrase each one read,
//! so that a paraphrase is kept only when the rules accepted it and the verifier says
//! `same`. An answer that cannot be read is a failure to retry, never an accept.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::join::{Attempt, NoteIds};
use super::Outcome;
use crate::plan::verify::{VERDICT_CHANGED, VERDICT_SAME};
use crate::plan::{CustomId, RequestKind};
use crate::safety::{Check, Finding};

/// One fact the verifier found changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    pub kind: String,
    pub original: String,
    pub paraphrase: String,
}

/// A verifier's answer, as its schema has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub differences: Vec<Difference>,
    pub verdict: String,
}

impl Verdict {
    /// True only for `same` with nothing listed: a `same` that lists a difference
    /// contradicts itself and is read as `changed` (never a silent accept).
    pub fn same(&self) -> bool {
        self.verdict == VERDICT_SAME && self.differences.is_empty()
    }
}

/// Parses a verifier's answer: strict JSON of the schema, a verdict of `same` or
/// `changed`. `Err` says why it cannot be read.
pub fn parse_verdict(text: &str) -> Result<Verdict, String> {
    let verdict: Verdict = serde_json::from_str(text.trim()).map_err(|e| e.to_string())?;
    if verdict.verdict != VERDICT_SAME && verdict.verdict != VERDICT_CHANGED {
        return Err(format!(
            "verdict `{}` is neither `{VERDICT_SAME}` nor `{VERDICT_CHANGED}`",
            verdict.verdict
        ));
    }
    Ok(verdict)
}

/// The findings of a `changed` verdict: one `verifier` finding per difference (one in
/// all when the verifier listed none, or said `same` while listing some).
pub fn findings(verdict: &Verdict) -> Vec<Finding> {
    if verdict.differences.is_empty() {
        return vec![Finding::new(
            Check::Verifier,
            format!("verdict `{}` without a difference listed", verdict.verdict),
            None,
            None,
        )];
    }
    let span = |text: &str| (!text.trim().is_empty()).then(|| text.to_string());
    verdict
        .differences
        .iter()
        .map(|d| {
            Finding::new(
                Check::Verifier,
                format!("{}: `{}` → `{}`", d.kind, d.original, d.paraphrase),
                span(&d.original),
                span(&d.paraphrase),
            )
        })
        .collect()
}

/// Applies the verifier's verdicts to the paraphrases they read: a paraphrase the rules
/// accepted is kept only when its verify request (the latest kept answer for that
/// paraphrase attempt, else the latest) says `same`. `changed` rejects it with the
/// verifier's findings (a new paraphrase may pass: retryable); no verdict yet (failed,
/// expired, missing, or never built) leaves it unaccepted with the verify request's own
/// outcome (not retryable itself: the verify request is what a retry resends). A
/// paraphrase the rules only doubted (`--doubts verify`) goes the same way: `same` keeps
/// it (its rule findings move to `cleared`), `changed` rejects it with the rules'
/// findings and the verifier's. Returns, per (note, paraphrase attempt), the verify
/// attempt that decided it.
pub fn apply_verification(attempts: &mut [Attempt], notes: &NoteIds) -> HashMap<(u32, u32), u32> {
    let mut links: HashMap<(u32, u32), u32> = HashMap::new();
    for (number, attempt) in (0..).zip(attempts.iter()) {
        let (RequestKind::Verify, Some(read)) = (attempt.kind, attempt.verifies) else {
            continue;
        };
        let slot = links.entry((attempt.note, read)).or_insert(number);
        let current = &attempts[*slot as usize];
        let kept = |a: &Attempt| a.outcome == Outcome::Kept;
        if (kept(attempt) && !kept(current))
            || (kept(attempt) == kept(current) && attempt.attempt > current.attempt)
        {
            *slot = number;
        }
    }
    for index in 0..attempts.len() {
        let paraphrase = &attempts[index];
        if !paraphrase.rules_passed && !paraphrase.rules_doubted {
            continue;
        }
        let doubted = paraphrase.rules_doubted;
        let Some(&link) = links.get(&(paraphrase.note, paraphrase.attempt)) else {
            let paraphrase = &mut attempts[index];
            let why = if doubted {
                "not verified yet: only concept checks rejected it (`--doubts verify`), its verify request is not built (`safesft wait` builds and sends it)"
            } else {
                "not verified yet: the rules passed it, its verify request is not built (`safesft wait` builds and sends it)"
            };
            paraphrase.outcome = Outcome::Missing;
            paraphrase.retryable = false;
            paraphrase.reasons = vec![why.into()];
            continue;
        };
        let verify = attempts[link as usize].clone();
        let verify_id = CustomId {
            note_id: notes.id(verify.note).to_string(),
            kind: RequestKind::Verify,
            attempt: verify.attempt,
        };
        let paraphrase = &mut attempts[index];
        match verify.outcome {
            Outcome::Kept => {
                if doubted {
                    paraphrase.outcome = Outcome::Kept;
                    paraphrase.retryable = false;
                    paraphrase.reasons.clear();
                    paraphrase.cleared = std::mem::take(&mut paraphrase.rejections);
                }
            }
            Outcome::Rejected => {
                paraphrase.outcome = Outcome::Rejected;
                paraphrase.retryable = true;
                if doubted {
                    paraphrase.reasons.extend(verify.reasons.iter().cloned());
                    paraphrase
                        .rejections
                        .extend(verify.rejections.iter().cloned());
                } else {
                    paraphrase.reasons.clone_from(&verify.reasons);
                    paraphrase.rejections.clone_from(&verify.rejections);
                }
            }
            other => {
                paraphrase.outcome = other;
                paraphrase.retryable = false;
                paraphrase.reasons = vec![format!(
                    "not verified: `{verify_id}` is {}: {}",
                    outcome_word(other),
                    verify.reasons.join("; ")
                )];
            }
        }
    }
    links
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Kept => "kept",
        Outcome::Rejected => "rejected",
        Outcome::Failed => "failed",
        Outcome::Expired => "expired",
        Outcome::Missing => "missing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_parse_strictly() {
        let same = parse_verdict(r#"{"differences": [], "verdict": "same"}"#).unwrap();
        assert!(same.same());
        let changed = parse_verdict(
            r#"{"differences": [{"kind": "diagnosis", "original": "pneumonia", "paraphrase": "bronchitis"}], "verdict": "changed"}"#,
        )
        .unwrap();
        assert!(!changed.same());
        assert_eq!(
            findings(&changed)[0].detail,
            "diagnosis: `pneumonia` → `bronchitis`"
        );
        assert_eq!(findings(&changed)[0].check, Check::Verifier);
        // `same` listing a difference contradicts itself: not an accept.
        let odd = parse_verdict(
            r#"{"differences": [{"kind": "x", "original": "a", "paraphrase": "b"}], "verdict": "same"}"#,
        )
        .unwrap();
        assert!(!odd.same());
        for bad in [
            r#"{"differences": [], "verdict": "maybe"}"#,
            r#"{"verdict": "same"}"#,
            r#"{"differences": [], "verdict": "same", "extra": 1}"#,
            "same",
            "",
        ] {
            assert!(parse_verdict(bad).is_err(), "{bad}");
        }
    }
}
