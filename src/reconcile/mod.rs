//! Joins every output and error line back to the plan by `custom_id` and decides each
//! request's outcome (kept, rejected, failed, expired, missing), with an accounting in
//! which the numbers add up. Pure: parsed lines and the plan in, outcomes out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod collect;
mod reasoning;

pub use reasoning::parse_reasoning;

use crate::money::TokenUse;
use crate::plan::{CustomId, RequestKind};
use crate::safety::{Finding, SafetyChecker};

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An answer that passed every check.
    Kept,
    /// An answer that came back but failed a check (safety, JSON, truncation, refusal).
    Rejected,
    /// The API answered with an error (or the batch failed before running).
    Failed,
    /// Not run before the batch expired or was cancelled.
    Expired,
    /// No line came back, or the request was never submitted.
    Missing,
}

/// One line of a Batch API output or error file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultLine {
    pub custom_id: String,
    pub response: Option<ResultResponse>,
    pub error: Option<ResultError>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultResponse {
    pub status_code: u16,
    #[serde(default)]
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultError {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Tokens of one answer, from its `usage` (the API's field names).
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn from_body(body: &Value) -> Usage {
        let number = |pointer: &str| body.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
        Usage {
            prompt_tokens: number("/usage/prompt_tokens"),
            cached_tokens: number("/usage/prompt_tokens_details/cached_tokens"),
            completion_tokens: number("/usage/completion_tokens"),
            reasoning_tokens: number("/usage/completion_tokens_details/reasoning_tokens"),
        }
    }

    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.completion_tokens += other.completion_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
    }

    /// As priced: reasoning tokens are billed inside completion tokens.
    pub fn priced(self) -> TokenUse {
        TokenUse {
            prompt_tokens: self.prompt_tokens,
            cached_tokens: self.cached_tokens,
            output_tokens: self.completion_tokens,
        }
    }
}

/// The answer to one request, read from its line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolved {
    pub custom_id: String,
    pub note_id: String,
    pub kind: RequestKind,
    pub attempt: u32,
    pub outcome: Outcome,
    /// Why it was not kept (check names and details).
    pub reasons: Vec<String>,
    /// Whether a new answer may fix it (truncation, refusal, bad JSON, a failed check,
    /// an API failure, expiry).
    pub retryable: bool,
    /// The paraphrase text, or the reasoning object, when one came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Value>,
    pub usage: Usage,
    /// The model that answered (from the response body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Problems with the lines themselves: reported, never ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineProblems {
    /// `custom_ids` in the files that the plan does not have.
    pub unknown: Vec<String>,
    /// `custom_ids` with more than one line (the first is used).
    pub duplicated: Vec<String>,
    /// Lines that are not JSON of a result.
    pub unreadable: Vec<String>,
}

/// The message content, finish reason and refusal of a chat completion body.
fn completion_parts(body: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let choice = body.pointer("/choices/0");
    let content = choice
        .and_then(|c| c.pointer("/message/content"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let finish = choice
        .and_then(|c| c.get("finish_reason"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let refusal = choice
        .and_then(|c| c.pointer("/message/refusal"))
        .and_then(Value::as_str)
        .map(str::to_string);
    (content, finish, refusal)
}

/// Decides one request's outcome from its line. `original` is the pair's correct note
/// (for the paraphrase checks).
pub fn resolve(
    id: &CustomId,
    line: &ResultLine,
    original: &str,
    checker: &SafetyChecker,
) -> Resolved {
    let mut resolved = Resolved {
        custom_id: id.to_string(),
        note_id: id.note_id.clone(),
        kind: id.kind,
        attempt: id.attempt,
        outcome: Outcome::Failed,
        reasons: Vec::new(),
        retryable: true,
        text: None,
        reasoning: None,
        usage: Usage::default(),
        model: None,
    };
    if let Some(error) = &line.error {
        let code = error.code.clone().unwrap_or_else(|| "error".into());
        resolved.outcome = if code == "batch_expired" || code == "batch_cancelled" {
            Outcome::Expired
        } else {
            Outcome::Failed
        };
        resolved.reasons.push(format!(
            "{code}: {}",
            error.message.clone().unwrap_or_default()
        ));
        return resolved;
    }
    let Some(response) = &line.response else {
        resolved
            .reasons
            .push("a line with neither response nor error".into());
        return resolved;
    };
    resolved.usage = Usage::from_body(&response.body);
    resolved.model = response
        .body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string);
    if response.status_code != 200 {
        let message = response
            .body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        resolved
            .reasons
            .push(format!("HTTP {}: {message}", response.status_code));
        // 4xx other than rate limits will fail again as they are.
        resolved.retryable = response.status_code == 429 || response.status_code >= 500;
        return resolved;
    }
    let (content, finish, refusal) = completion_parts(&response.body);
    resolved.outcome = Outcome::Rejected;
    if let Some(refusal) = refusal {
        resolved.reasons.push(format!("refusal: {refusal}"));
        resolved.text = content;
        return resolved;
    }
    let text = content.unwrap_or_default();
    match id.kind {
        RequestKind::Paraphrase => {
            let verdict = checker.check(original, &text, finish.as_deref());
            resolved.reasons = verdict.rejections.iter().map(describe).collect();
            if verdict.accepted {
                resolved.outcome = Outcome::Kept;
            }
            resolved.text = Some(text);
        }
        RequestKind::Reasoning => {
            if finish.as_deref().is_some_and(|f| f != "stop") {
                resolved
                    .reasons
                    .push(format!("finish_reason: `{}`", finish.unwrap_or_default()));
            } else {
                match parse_reasoning(&text) {
                    Ok(value) => {
                        resolved.outcome = Outcome::Kept;
                        resolved.reasoning = Some(value);
                    }
                    Err(why) => resolved.reasons.push(format!("reasoning_json: {why}")),
                }
            }
            if resolved.outcome != Outcome::Kept {
                resolved.text = Some(text);
            }
        }
    }
    resolved
}

fn describe(finding: &Finding) -> String {
    format!("{}: {}", finding.check, finding.detail)
}

/// Per kind: how many logical requests ended how. planned = the sum of the outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounting {
    pub planned: u64,
    pub kept: u64,
    pub rejected: u64,
    pub failed: u64,
    pub expired: u64,
    pub missing: u64,
    /// Attempts beyond the first (retries) that came back.
    pub retried: u64,
}

impl Accounting {
    pub fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Kept => self.kept += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Expired => self.expired += 1,
            Outcome::Missing => self.missing += 1,
        }
    }

    pub fn adds_up(&self) -> bool {
        self.planned == self.kept + self.rejected + self.failed + self.expired + self.missing
    }
}

/// Every request's final outcome, the line problems and the accounting.
#[derive(Debug, Clone, Default)]
pub struct Reconciled {
    /// The chosen attempt per (note id, kind): the latest kept one, else the latest.
    pub finals: BTreeMap<(String, RequestKind), Resolved>,
    /// Every attempt's resolution (for costs: every answer is billed).
    pub attempts: Vec<Resolved>,
    pub problems: LineProblems,
    pub accounting: BTreeMap<RequestKind, Accounting>,
}

/// Joins lines to the plan. `planned` lists every planned `custom_id` (all attempts) with
/// why it has no line when its shard never ran (`None` when a line is expected);
/// `lines` are the parsed lines of every output and error file; `original_of` gives a
/// pair's correct note.
pub fn reconcile<'a>(
    planned: &[(CustomId, Option<(Outcome, String)>)],
    lines: impl IntoIterator<Item = Result<ResultLine, String>>,
    original_of: impl Fn(&str) -> Option<&'a str>,
    checker: &SafetyChecker,
) -> Reconciled {
    let mut reconciled = Reconciled::default();
    let known: BTreeMap<String, &CustomId> =
        planned.iter().map(|(id, _)| (id.to_string(), id)).collect();
    let mut seen: BTreeMap<String, Resolved> = BTreeMap::new();
    let mut duplicated = BTreeSet::new();
    for line in lines {
        let line = match line {
            Ok(line) => line,
            Err(problem) => {
                reconciled.problems.unreadable.push(problem);
                continue;
            }
        };
        let Some(id) = known.get(&line.custom_id) else {
            reconciled.problems.unknown.push(line.custom_id.clone());
            continue;
        };
        if seen.contains_key(&line.custom_id) {
            duplicated.insert(line.custom_id.clone());
            continue;
        }
        let original = original_of(&id.note_id).unwrap_or_default();
        seen.insert(
            line.custom_id.clone(),
            resolve(id, &line, original, checker),
        );
    }
    reconciled.problems.duplicated = duplicated.into_iter().collect();
    for (id, not_run) in planned {
        let key = id.to_string();
        let resolved = seen.remove(&key).unwrap_or_else(|| {
            let (outcome, why) = not_run
                .clone()
                .unwrap_or((Outcome::Missing, "no line came back for it".into()));
            Resolved {
                custom_id: key.clone(),
                note_id: id.note_id.clone(),
                kind: id.kind,
                attempt: id.attempt,
                outcome,
                reasons: vec![why],
                retryable: true,
                text: None,
                reasoning: None,
                usage: Usage::default(),
                model: None,
            }
        });
        reconciled.attempts.push(resolved);
    }
    for resolved in &reconciled.attempts {
        let slot = (resolved.note_id.clone(), resolved.kind);
        let better = match reconciled.finals.get(&slot) {
            None => true,
            Some(current) => {
                let kept = |r: &Resolved| r.outcome == Outcome::Kept;
                (kept(resolved) && !kept(current))
                    || (kept(resolved) == kept(current) && resolved.attempt > current.attempt)
            }
        };
        if better {
            reconciled.finals.insert(slot, resolved.clone());
        }
    }
    for ((_, kind), resolved) in &reconciled.finals {
        let accounting = reconciled.accounting.entry(*kind).or_default();
        accounting.planned += 1;
        accounting.count(resolved.outcome);
    }
    for resolved in &reconciled.attempts {
        if resolved.attempt > 1 && resolved.outcome != Outcome::Missing {
            reconciled
                .accounting
                .entry(resolved.kind)
                .or_default()
                .retried += 1;
        }
    }
    reconciled
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(text: &str) -> CustomId {
        CustomId::parse(text).unwrap()
    }

    fn answer(custom_id: &str, content: &str, finish: &str) -> ResultLine {
        serde_json::from_value(json!({
            "custom_id": custom_id,
            "response": {"status_code": 200, "body": {
                "model": "gpt-4o-2024-08-06",
                "choices": [{"message": {"role": "assistant", "content": content, "refusal": null}, "finish_reason": finish}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 40, "prompt_tokens_details": {"cached_tokens": 10}, "completion_tokens_details": {"reasoning_tokens": 0}}
            }},
            "error": null
        }))
        .unwrap()
    }

    const NOTE: &str =
        "A 24-year-old woman has a 4-hour history of headaches. She takes aspirin 81 mg daily.";
    const PARAPHRASE: &str = "For 4 hours, this 24-year-old woman has had headaches. She takes aspirin 81 mg daily as her only medicine.";
    const REASONING: &str = r#"{"error_identified":"a","why_wrong":"b","key_clues":["c","d","e"],"correct_answer":"f","clinical_impact":"g"}"#;

    #[test]
    fn reasoning_json_needs_every_key_and_three_clues() {
        assert!(parse_reasoning(REASONING).is_ok());
        assert!(parse_reasoning(&format!("```json\n{REASONING}\n```")).is_ok());
        assert!(parse_reasoning(&REASONING.replace(r#","e""#, ""))
            .unwrap_err()
            .contains("at least 3"));
        assert!(parse_reasoning(&REASONING.replace("why_wrong", "why"))
            .unwrap_err()
            .contains("missing `why_wrong`"));
        assert!(parse_reasoning("Here it is: {}")
            .unwrap_err()
            .contains("not JSON"));
    }

    #[test]
    fn every_planned_request_is_accounted_for() {
        let planned: Vec<(CustomId, Option<(Outcome, String)>)> = [
            "a|paraphrase|1",
            "a|reasoning|1",
            "b|paraphrase|1",
            "b|reasoning|1",
            "c|paraphrase|1",
            "c|reasoning|1",
        ]
        .iter()
        .map(|s| (id(s), None))
        .collect();
        let lines = vec![
            Ok(answer("a|paraphrase|1", PARAPHRASE, "stop")),
            Ok(answer("a|reasoning|1", REASONING, "stop")),
            Ok(answer("b|paraphrase|1", NOTE, "stop")), // a copy: rejected
            Ok(answer("b|reasoning|1", "{broken", "stop")),
            Ok(answer("b|reasoning|1", REASONING, "stop")), // duplicate: ignored, reported
            Ok(serde_json::from_value(json!({"custom_id": "c|paraphrase|1", "response": null, "error": {"code": "batch_expired", "message": "expired"}})).unwrap()),
            Ok(answer("zzz|paraphrase|1", PARAPHRASE, "stop")),
            Err("line 9: not JSON".into()),
        ];
        let checker = SafetyChecker::default();
        let reconciled = reconcile(&planned, lines, |_| Some(NOTE), &checker);
        assert_eq!(
            reconciled.problems.unknown,
            vec!["zzz|paraphrase|1".to_string()]
        );
        assert_eq!(
            reconciled.problems.duplicated,
            vec!["b|reasoning|1".to_string()]
        );
        assert_eq!(reconciled.problems.unreadable.len(), 1);
        let paraphrase = &reconciled.accounting[&RequestKind::Paraphrase];
        assert_eq!(
            (
                paraphrase.planned,
                paraphrase.kept,
                paraphrase.rejected,
                paraphrase.expired
            ),
            (3, 1, 1, 1)
        );
        let reasoning = &reconciled.accounting[&RequestKind::Reasoning];
        assert_eq!(
            (
                reasoning.planned,
                reasoning.kept,
                reasoning.rejected,
                reasoning.missing
            ),
            (3, 1, 1, 1)
        );
        assert!(paraphrase.adds_up() && reasoning.adds_up());
        let copy = &reconciled.finals[&("b".to_string(), RequestKind::Paraphrase)];
        assert!(
            copy.reasons.iter().any(|r| r.starts_with("near_copy")),
            "{:?}",
            copy.reasons
        );
        assert_eq!(
            reconciled
                .attempts
                .iter()
                .map(|r| r.usage.prompt_tokens)
                .sum::<u64>(),
            400
        );
    }

    #[test]
    fn the_latest_good_attempt_wins() {
        let planned: Vec<(CustomId, Option<(Outcome, String)>)> =
            ["a|paraphrase|1", "a|paraphrase|2"]
                .iter()
                .map(|s| (id(s), None))
                .collect();
        let lines = vec![
            Ok(answer("a|paraphrase|1", PARAPHRASE, "length")),
            Ok(answer("a|paraphrase|2", PARAPHRASE, "stop")),
        ];
        let reconciled = reconcile(&planned, lines, |_| Some(NOTE), &SafetyChecker::default());
        let chosen = &reconciled.finals[&("a".to_string(), RequestKind::Paraphrase)];
        assert_eq!((chosen.attempt, chosen.outcome), (2, Outcome::Kept));
        let accounting = &reconciled.accounting[&RequestKind::Paraphrase];
        assert_eq!(
            (accounting.planned, accounting.kept, accounting.retried),
            (1, 1, 1)
        );
    }

    #[test]
    fn api_errors_and_refusals_are_failures_with_reasons() {
        let error: ResultLine = serde_json::from_value(json!({"custom_id": "a|paraphrase|1", "response": {"status_code": 400, "body": {"error": {"message": "Invalid request."}}}, "error": null})).unwrap();
        let resolved = resolve(
            &id("a|paraphrase|1"),
            &error,
            NOTE,
            &SafetyChecker::default(),
        );
        assert_eq!(resolved.outcome, Outcome::Failed);
        assert!(!resolved.retryable);
        let mut refusal = answer("a|paraphrase|1", "", "stop");
        refusal.response.as_mut().unwrap().body["choices"][0]["message"]["refusal"] =
            json!("I can't help with that.");
        let resolved = resolve(
            &id("a|paraphrase|1"),
            &refusal,
            NOTE,
            &SafetyChecker::default(),
        );
        assert_eq!(resolved.outcome, Outcome::Rejected);
        assert!(resolved.reasons[0].starts_with("refusal"));
    }
}
