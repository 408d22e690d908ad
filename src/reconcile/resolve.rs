//! One answer decided: its outcome and reasons from its result line (the safety checks for
//! paraphrases, strict JSON for reasoning), and the texts a record or `rejected.jsonl`
//! shows, rebuilt from the same line when they are written.

use serde::Serialize;
use serde_json::Value;

use super::line::ResultLine;
use super::{parse_reasoning, Outcome, Usage};
use crate::api::scrub_credentials;
use crate::plan::RequestKind;
use crate::safety::{Finding, SafetyChecker};

/// Where a result line was read: which result file, where in it and how long. Set by
/// whoever reads the files, so the answer's text can be read again when it is written
/// instead of being held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineRef {
    pub file: u32,
    pub offset: u64,
    pub len: u32,
}

/// What became of one attempt, without its texts (see [`answer_texts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    /// Why it was not kept (check names and details).
    pub reasons: Vec<String>,
    /// The safety checks a paraphrase failed, with the spans at fault (issue 8).
    pub rejections: Vec<Finding>,
    /// Whether a new answer may fix it (truncation, refusal, bad JSON, a failed check,
    /// an API failure, expiry).
    pub retryable: bool,
    pub usage: Usage,
    /// The model that answered (from the response body).
    pub model: Option<String>,
    /// Whether the line carries an answer text (a 200 response).
    pub answered: bool,
}

/// Whether the answer to a request of `kind` in `line` needs the pair's correct note:
/// a paraphrase that came back (status 200, not refused) is checked against it.
pub fn needs_original(kind: RequestKind, line: &ResultLine) -> bool {
    kind == RequestKind::Paraphrase
        && line.error.is_none()
        && line
            .response
            .as_ref()
            .is_some_and(|r| r.status_code == 200 && r.body.refusal.is_none())
}

/// How a paraphrase is checked: against its pair's correct note, with the checker.
pub struct ParaphraseCheck<'a> {
    pub original: &'a str,
    pub checker: &'a SafetyChecker,
}

/// Decides one request's outcome from its line. `check` is needed for a paraphrase that
/// came back (see [`needs_original`]); any other line is decided without it.
pub fn resolve(kind: RequestKind, line: &ResultLine, check: Option<ParaphraseCheck>) -> Decision {
    let mut decision = Decision {
        outcome: Outcome::Failed,
        reasons: Vec::new(),
        rejections: Vec::new(),
        retryable: true,
        usage: Usage::default(),
        model: None,
        answered: false,
    };
    if let Some(error) = &line.error {
        let code = error.code.clone().unwrap_or_else(|| "error".into());
        decision.outcome = if code == "batch_expired" || code == "batch_cancelled" {
            Outcome::Expired
        } else {
            Outcome::Failed
        };
        // Server text goes into `rejected.jsonl`: never with a credential a gateway
        // echoed back.
        decision.reasons.push(scrub_credentials(&format!(
            "{code}: {}",
            error.message.as_deref().unwrap_or_default()
        )));
        return decision;
    }
    let Some(response) = &line.response else {
        decision
            .reasons
            .push("a line with neither response nor error".into());
        return decision;
    };
    let body = &response.body;
    decision.usage = body.usage;
    decision.model.clone_from(&body.model);
    if response.status_code != 200 {
        let message = body.error_message.as_deref().unwrap_or("no message");
        decision.reasons.push(scrub_credentials(&format!(
            "HTTP {}: {message}",
            response.status_code
        )));
        // 4xx other than rate limits will fail again as they are.
        decision.retryable = response.status_code == 429 || response.status_code >= 500;
        return decision;
    }
    decision.answered = true;
    decision.outcome = Outcome::Rejected;
    if let Some(refusal) = &body.refusal {
        decision.reasons.push(format!("refusal: {refusal}"));
        if kind == RequestKind::Verify {
            // A verifier that refuses gave no verdict: retry it, never count it.
            decision.outcome = Outcome::Failed;
        }
        return decision;
    }
    let text = body.content.as_deref().unwrap_or_default();
    let finish = body.finish_reason.as_deref();
    match kind {
        RequestKind::Paraphrase => {
            let check =
                check.expect("an answered paraphrase comes with its check (needs_original)");
            let verdict = check.checker.check(check.original, text, finish);
            decision.reasons = verdict.rejections.iter().map(describe).collect();
            decision.rejections = verdict.rejections;
            if verdict.accepted {
                decision.outcome = Outcome::Kept;
            }
        }
        RequestKind::Verify => {
            // An answer that cannot be read is retryable and never an accept; only a
            // readable `changed` rejects (the paraphrase, not this request: the same
            // question would get the same answer).
            if finish.is_some_and(|f| f != "stop") {
                decision.outcome = Outcome::Failed;
                decision
                    .reasons
                    .push(format!("finish_reason: `{}`", finish.unwrap_or_default()));
            } else {
                match super::verdict::parse_verdict(text) {
                    Ok(verdict) if verdict.same() => decision.outcome = Outcome::Kept,
                    Ok(verdict) => {
                        decision.rejections = super::verdict::findings(&verdict);
                        decision.reasons = decision.rejections.iter().map(describe).collect();
                        decision.retryable = false;
                    }
                    Err(why) => {
                        decision.outcome = Outcome::Failed;
                        decision.reasons.push(format!("verify_json: {why}"));
                    }
                }
            }
        }
        RequestKind::Reasoning => {
            if finish.is_some_and(|f| f != "stop") {
                decision
                    .reasons
                    .push(format!("finish_reason: `{}`", finish.unwrap_or_default()));
            } else {
                match parse_reasoning(text) {
                    Ok(_) => decision.outcome = Outcome::Kept,
                    Err(why) => decision.reasons.push(format!("reasoning_json: {why}")),
                }
            }
        }
    }
    decision
}

fn describe(finding: &Finding) -> String {
    format!("{}: {}", finding.check, finding.detail)
}

/// The texts of an answer that came back (a 200 response), as records and
/// `rejected.jsonl` show them: the paraphrase text (or, when refused, whatever content
/// came with the refusal); for reasoning, the parsed object when kept, else the text.
pub fn answer_texts(
    kind: RequestKind,
    outcome: Outcome,
    line: &ResultLine,
) -> (Option<String>, Option<Value>) {
    let Some(response) = &line.response else {
        return (None, None);
    };
    let body = &response.body;
    if body.refusal.is_some() {
        return (body.content.clone(), None);
    }
    let text = body.content.clone().unwrap_or_default();
    match (kind, outcome) {
        (RequestKind::Reasoning, Outcome::Kept) => (None, parse_reasoning(&text).ok()),
        _ => (Some(text), None),
    }
}

/// One attempt as `rejected.jsonl` (and `retry`) show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub custom_id: String,
    pub note_id: String,
    pub kind: RequestKind,
    pub attempt: u32,
    pub outcome: Outcome,
    /// Why it was not kept (check names and details).
    pub reasons: Vec<String>,
    /// The safety checks a paraphrase failed: `{check, detail, original_span,
    /// paraphrase_span}` each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejections: Vec<Finding>,
    /// A kept paraphrase's rule findings the verifier cleared (`--doubts verify`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared: Vec<Finding>,
    /// Whether a new answer may fix it.
    pub retryable: bool,
    /// The paraphrase text, or the reasoning object, when one came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Value>,
    /// The pair's correct note, beside a rejected paraphrase (set where it is written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    pub usage: Usage,
    /// The model that answered (from the response body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}
