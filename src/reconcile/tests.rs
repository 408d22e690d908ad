//! The join and the decisions, on lines made in memory.

use serde_json::json;

use super::join::{Planned, ReadLine};
use super::line::ResultLine;
use super::resolve::{needs_original, resolve, LineRef, ParaphraseCheck};
use super::*;
use crate::plan::{CustomId, RequestKind};
use crate::safety::SafetyChecker;

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

fn planned(ids: &[&str]) -> Planned {
    let mut planned = Planned::default();
    for id in ids {
        planned.push(&CustomId::parse(id).unwrap(), None);
    }
    planned
}

/// Result lines in memory: a line's `LineRef` offset is its position; every pair's
/// correct note is `NOTE`.
struct Memory(Vec<ResultLine>);

impl AnswerSource for Memory {
    type Error = &'static str;

    fn original(&self, _: u32) -> Result<Option<String>, &'static str> {
        Ok(Some(NOTE.to_string()))
    }

    fn line(&self, at: LineRef) -> Result<ResultLine, &'static str> {
        Ok(self.0[usize::try_from(at.offset).unwrap()].clone())
    }
}

fn at(offset: u64) -> LineRef {
    LineRef {
        file: 0,
        offset,
        len: 1,
    }
}

/// Joins `lines` (each line's `LineRef` offset is its position).
fn join(planned: Planned, lines: &[Result<ResultLine, String>]) -> Reconciled {
    let memory = Memory(
        lines
            .iter()
            .map(|l| {
                l.clone()
                    .unwrap_or_else(|_| answer("unreadable", "", "stop"))
            })
            .collect(),
    );
    let read = (0..).zip(lines).map(|(offset, line)| {
        Ok(match line {
            Ok(line) => ReadLine::Line(line.clone(), at(offset)),
            Err(problem) => ReadLine::Unreadable(problem.clone()),
        })
    });
    reconcile(planned, read, &memory, SafetyChecker::default).unwrap()
}

fn final_of<'a>(reconciled: &'a Reconciled, note: &str, kind: RequestKind) -> &'a Attempt {
    reconciled
        .final_of(reconciled.notes.get(note).unwrap(), kind)
        .unwrap()
}

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
    let planned = planned(&[
        "a|paraphrase|1",
        "a|reasoning|1",
        "b|paraphrase|1",
        "b|reasoning|1",
        "c|paraphrase|1",
        "c|reasoning|1",
    ]);
    let lines = vec![
        Ok(answer("a|paraphrase|1", PARAPHRASE, "stop")),
        Ok(answer("a|reasoning|1", REASONING, "stop")),
        Ok(answer("b|paraphrase|1", NOTE, "stop")), // a copy: rejected
        Ok(answer("b|reasoning|1", "{broken", "stop")),
        Ok(answer("b|reasoning|1", REASONING, "stop")), // duplicate: ignored, reported
        Ok(serde_json::from_value(json!({"custom_id": "c|paraphrase|1", "response": null, "error": {"code": "batch_expired", "message": "expired"}})).unwrap()),
        Ok(answer("zzz|paraphrase|1", PARAPHRASE, "stop")),
        Ok(answer("a|paraphrase|01", PARAPHRASE, "stop")), // not the planned spelling
        Err("line 9: not JSON".into()),
    ];
    let reconciled = join(planned, &lines);
    assert_eq!(
        reconciled.problems.unknown,
        vec![
            "zzz|paraphrase|1".to_string(),
            "a|paraphrase|01".to_string()
        ]
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
    let copy = final_of(&reconciled, "b", RequestKind::Paraphrase);
    assert!(
        copy.reasons.iter().any(|r| r.starts_with("near_copy")),
        "{:?}",
        copy.reasons
    );
    assert_eq!(copy.answer.unwrap().offset, 2, "the line with the answer");
    assert_eq!(
        reconciled
            .attempts
            .iter()
            .map(|r| r.usage.prompt_tokens)
            .sum::<u64>(),
        400
    );
    let missing = final_of(&reconciled, "c", RequestKind::Reasoning);
    let shown = reconciled.resolved(missing, (None, None));
    assert_eq!(shown.custom_id, "c|reasoning|1");
    assert_eq!(shown.reasons, ["no line came back for it"]);
    let finals: Vec<String> = reconciled
        .finals()
        .map(|a| reconciled.resolved(a, (None, None)).custom_id)
        .collect();
    assert_eq!(
        finals,
        [
            "a|paraphrase|1",
            "a|reasoning|1",
            "b|paraphrase|1",
            "b|reasoning|1",
            "c|paraphrase|1",
            "c|reasoning|1"
        ]
    );
}

#[test]
fn the_latest_good_attempt_wins() {
    let planned = planned(&["a|paraphrase|1", "a|paraphrase|2", "b|reasoning|1"]);
    let lines = vec![
        Ok(answer("a|paraphrase|1", PARAPHRASE, "length")),
        Ok(answer("a|paraphrase|2", PARAPHRASE, "stop")),
    ];
    let reconciled = join(planned, &lines);
    let chosen = final_of(&reconciled, "a", RequestKind::Paraphrase);
    assert_eq!((chosen.attempt, chosen.outcome), (2, Outcome::Kept));
    let accounting = &reconciled.accounting[&RequestKind::Paraphrase];
    assert_eq!(
        (accounting.planned, accounting.kept, accounting.retried),
        (1, 1, 1)
    );
    // Neither kept: the latest attempt stands.
    let planned = self::planned(&["a|paraphrase|1", "a|paraphrase|2"]);
    let lines = vec![Ok(answer("a|paraphrase|1", PARAPHRASE, "length"))];
    let reconciled = join(planned, &lines);
    let chosen = final_of(&reconciled, "a", RequestKind::Paraphrase);
    assert_eq!((chosen.attempt, chosen.outcome), (2, Outcome::Missing));
}

#[test]
fn a_request_planned_twice_gets_its_line_once() {
    let planned = planned(&["a|paraphrase|1", "a|paraphrase|1"]);
    let lines = vec![Ok(answer("a|paraphrase|1", PARAPHRASE, "stop"))];
    let reconciled = join(planned, &lines);
    let outcomes: Vec<Outcome> = reconciled.attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(outcomes, [Outcome::Kept, Outcome::Missing]);
}

#[test]
fn api_errors_and_refusals_are_failures_with_reasons() {
    let error: ResultLine = serde_json::from_value(json!({"custom_id": "a|paraphrase|1", "response": {"status_code": 400, "body": {"error": {"message": "Invalid request."}}}, "error": null})).unwrap();
    let decision = resolve(RequestKind::Paraphrase, &error, None);
    assert_eq!(decision.outcome, Outcome::Failed);
    assert_eq!(decision.reasons, ["HTTP 400: Invalid request."]);
    assert!(!decision.retryable && !decision.answered);
    // A gateway that echoes the request's headers never gets the key into the records.
    let echoed = "Invalid header: Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123";
    for line in [
        json!({"custom_id": "a|paraphrase|1", "response": {"status_code": 401, "body": {"error": {"message": echoed}}}, "error": null}),
        json!({"custom_id": "a|paraphrase|1", "response": null, "error": {"code": "invalid_request", "message": echoed}}),
    ] {
        let line: ResultLine = serde_json::from_value(line).unwrap();
        let reason = &resolve(RequestKind::Paraphrase, &line, None).reasons[0];
        assert!(!reason.contains("abcdefghij"), "{reason}");
        assert!(reason.contains("Invalid header"), "{reason}");
    }
    let refusal: ResultLine = serde_json::from_value(json!({"custom_id": "a|paraphrase|1", "response": {"status_code": 200, "body": {
        "choices": [{"message": {"content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}]
    }}})).unwrap();
    assert!(!needs_original(RequestKind::Paraphrase, &refusal));
    let decision = resolve(RequestKind::Paraphrase, &refusal, None);
    assert_eq!(decision.outcome, Outcome::Rejected);
    assert!(decision.reasons[0].starts_with("refusal"));
    assert_eq!(
        answer_texts(RequestKind::Paraphrase, decision.outcome, &refusal),
        (None, None)
    );
}

#[test]
fn texts_are_rebuilt_from_the_line_as_records_show_them() {
    let paraphrase = answer("a|paraphrase|1", PARAPHRASE, "stop");
    assert_eq!(
        answer_texts(RequestKind::Paraphrase, Outcome::Kept, &paraphrase),
        (Some(PARAPHRASE.to_string()), None)
    );
    let fenced = answer(
        "a|reasoning|1",
        &format!("```json\n{REASONING}\n```"),
        "stop",
    );
    let (text, reasoning) = answer_texts(RequestKind::Reasoning, Outcome::Kept, &fenced);
    assert_eq!(text, None);
    assert_eq!(reasoning.unwrap()["why_wrong"], "b");
    let broken = answer("a|reasoning|1", "{broken", "stop");
    assert_eq!(
        answer_texts(RequestKind::Reasoning, Outcome::Rejected, &broken),
        (Some("{broken".to_string()), None)
    );
}

#[test]
fn checks_on_worker_threads_decide_as_one_thread_would() {
    let checker = SafetyChecker::default();
    let texts = [
        PARAPHRASE,
        NOTE,
        "",
        "Here is the note: something else entirely.",
    ];
    let ids: Vec<String> = (0..300).map(|i| format!("n{i}|paraphrase|1")).collect();
    let planned = planned(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    let lines: Vec<Result<ResultLine, String>> = (0..300)
        .map(|i| Ok(answer(&ids[i], texts[i % texts.len()], "stop")))
        .collect();
    let reconciled = join(planned, &lines);
    for (i, attempt) in reconciled.attempts.iter().enumerate() {
        let line = lines[i].as_ref().unwrap();
        let check = ParaphraseCheck {
            original: NOTE,
            checker: &checker,
        };
        let alone = resolve(RequestKind::Paraphrase, line, Some(check));
        assert_eq!(
            (attempt.outcome, &attempt.reasons),
            (alone.outcome, &alone.reasons),
            "{i}"
        );
        assert_eq!(attempt.answer.unwrap().offset, i as u64);
    }
}

/// Fails reading the line or the note.
struct Broken;

impl AnswerSource for Broken {
    type Error = &'static str;

    fn original(&self, _: u32) -> Result<Option<String>, &'static str> {
        Err("pairs gone")
    }

    fn line(&self, _: LineRef) -> Result<ResultLine, &'static str> {
        Ok(answer("a|paraphrase|1", PARAPHRASE, "stop"))
    }
}

#[test]
fn a_read_error_stops_the_join() {
    let line = || ReadLine::Line(answer("a|paraphrase|1", PARAPHRASE, "stop"), at(0));
    let memory = Memory(vec![answer("a|paraphrase|1", PARAPHRASE, "stop")]);
    let lines = vec![Ok(line()), Err("disk gone")];
    let result = reconcile(
        planned(&["a|paraphrase|1"]),
        lines,
        &memory,
        SafetyChecker::default,
    );
    assert_eq!(result.err(), Some("disk gone"));
    let result = reconcile(
        planned(&["a|paraphrase|1"]),
        vec![Ok(line())],
        &Broken,
        SafetyChecker::default,
    );
    assert_eq!(result.err(), Some("pairs gone"));
}

/// Verify lines (issue 9): `id` verifies the note's paraphrase attempt `reads`.
fn planned_with_verify(ids: &[&str], verify: &[(&str, u32)]) -> Planned {
    let mut planned = planned(ids);
    planned.verify_on = true;
    for (id, reads) in verify {
        planned.push_verify(&CustomId::parse(id).unwrap(), None, Some(*reads));
    }
    planned
}

#[test]
fn a_paraphrase_is_kept_only_when_the_rules_pass_and_the_verifier_says_same() {
    let same = r#"{"differences": [], "verdict": "same"}"#;
    let changed = r#"{"differences": [{"kind": "relationship", "original": "mother", "paraphrase": "father"}], "verdict": "changed"}"#;
    let planned = planned_with_verify(
        &[
            "n1|paraphrase|1",
            "n2|paraphrase|1",
            "n2|paraphrase|2",
            "n3|paraphrase|1",
            "n4|paraphrase|1",
            "n5|paraphrase|1",
        ],
        &[
            ("n1|verify|1", 1),
            ("n2|verify|1", 1),
            ("n2|verify|2", 2),
            ("n3|verify|1", 1),
            ("n5|verify|1", 1),
        ],
    );
    let lines = [
        Ok(answer("n1|paraphrase|1", PARAPHRASE, "stop")),
        Ok(answer("n2|paraphrase|1", PARAPHRASE, "stop")),
        Ok(answer("n2|paraphrase|2", PARAPHRASE, "stop")),
        Ok(answer("n3|paraphrase|1", PARAPHRASE, "stop")),
        Ok(answer("n4|paraphrase|1", PARAPHRASE, "stop")),
        Ok(answer(
            "n5|paraphrase|1",
            "Here is the paraphrased note: x",
            "stop",
        )),
        Ok(answer("n1|verify|1", same, "stop")),
        Ok(answer("n2|verify|1", changed, "stop")),
        Ok(answer("n2|verify|2", same, "stop")),
        Ok(answer(
            "n3|verify|1",
            "Sure! {\"verdict\": \"same\"}",
            "stop",
        )),
        Ok(answer("n5|verify|1", same, "stop")),
    ];
    let reconciled = join(planned, &lines);
    let paraphrase = |note| final_of(&reconciled, note, RequestKind::Paraphrase);
    let verify = |note| final_of(&reconciled, note, RequestKind::Verify);
    assert_eq!(paraphrase("n1").outcome, Outcome::Kept);
    // Attempt 1 flagged `changed`; attempt 2 verified `same` is the one kept.
    assert_eq!(
        (paraphrase("n2").attempt, paraphrase("n2").outcome),
        (2, Outcome::Kept)
    );
    assert_eq!(
        (verify("n2").attempt, verify("n2").outcome),
        (2, Outcome::Kept)
    );
    let flagged = reconciled
        .attempts
        .iter()
        .find(|a| {
            a.kind == RequestKind::Paraphrase
                && a.note == reconciled.notes.get("n2").unwrap()
                && a.attempt == 1
        })
        .unwrap();
    assert_eq!(flagged.outcome, Outcome::Rejected);
    assert!(flagged.retryable, "a new paraphrase may pass the verifier");
    assert_eq!(flagged.rejections[0].check, crate::safety::Check::Verifier);
    assert_eq!(
        flagged.rejections[0].detail,
        "relationship: `mother` → `father`"
    );
    // An answer that cannot be read is no accept: the verify request is retried, not
    // the paraphrase.
    assert_eq!(verify("n3").outcome, Outcome::Failed);
    assert!(verify("n3").retryable);
    assert_eq!(paraphrase("n3").outcome, Outcome::Failed);
    assert!(!paraphrase("n3").retryable);
    assert!(paraphrase("n3").reasons[0].starts_with("not verified: `n3|verify|1` is failed"));
    // Rules passed, no verify request yet.
    assert_eq!(paraphrase("n4").outcome, Outcome::Missing);
    assert!(reconciled
        .final_of(reconciled.notes.get("n4").unwrap(), RequestKind::Verify)
        .is_none());
    // A verifier's `same` never rescues a paraphrase the rules rejected.
    assert_eq!(paraphrase("n5").outcome, Outcome::Rejected);
    let stages = stages::stage_counts(&reconciled);
    let generate = &stages[&crate::plan::Stage::Generate][&RequestKind::Paraphrase];
    assert_eq!(
        (
            generate.planned,
            generate.kept,
            generate.rejected_by_rules,
            generate.failed,
            generate.missing
        ),
        (5, 2, 1, 1, 1)
    );
    assert!(generate.adds_up());
    let verified = &stages[&crate::plan::Stage::Verify][&RequestKind::Verify];
    assert_eq!(
        (verified.planned, verified.kept, verified.failed),
        (4, 3, 1)
    );
    assert!(verified.adds_up());
    for accounting in reconciled.accounting.values() {
        assert!(accounting.adds_up());
    }
}

#[test]
fn a_changed_verdict_is_a_rejection_by_the_verifier_in_the_stage_counts() {
    let changed = r#"{"differences": [{"kind": "severity", "original": "mild", "paraphrase": "severe"}], "verdict": "changed"}"#;
    let planned = planned_with_verify(&["n1|paraphrase|1"], &[("n1|verify|1", 1)]);
    let reconciled = join(
        planned,
        &[
            Ok(answer("n1|paraphrase|1", PARAPHRASE, "stop")),
            Ok(answer("n1|verify|1", changed, "stop")),
        ],
    );
    let stages = stages::stage_counts(&reconciled);
    let paraphrase = &stages[&crate::plan::Stage::Generate][&RequestKind::Paraphrase];
    assert_eq!(
        (
            paraphrase.rejected_by_verifier,
            paraphrase.rejected_by_rules
        ),
        (1, 0)
    );
    let verify = &stages[&crate::plan::Stage::Verify][&RequestKind::Verify];
    assert_eq!((verify.rejected_by_verifier, verify.kept), (1, 0));
    let shown = final_of(&reconciled, "n1", RequestKind::Verify);
    assert!(!shown.retryable, "the same question gets the same verdict");
}

/// Only a concept check objects to it: a finding the note never states.
const DOUBTED: &str = "For 4 hours, this 24-year-old woman has had headaches and mild hemoptysis. She takes aspirin 81 mg daily as her only medicine.";

#[test]
fn with_doubts_to_the_verifier_a_doubted_paraphrase_waits_for_its_verdict() {
    let same = r#"{"differences": [], "verdict": "same"}"#;
    let changed = r#"{"differences": [{"kind": "finding", "original": "", "paraphrase": "hemoptysis"}], "verdict": "changed"}"#;
    let ids = [
        "n1|paraphrase|1",
        "n2|paraphrase|1",
        "n3|paraphrase|1",
        "n4|paraphrase|1",
    ];
    let verify = [("n1|verify|1", 1), ("n2|verify|1", 1), ("n4|verify|1", 1)];
    let lines = [
        Ok(answer("n1|paraphrase|1", DOUBTED, "stop")),
        Ok(answer("n2|paraphrase|1", DOUBTED, "stop")),
        Ok(answer("n3|paraphrase|1", DOUBTED, "stop")),
        Ok(answer(
            "n4|paraphrase|1",
            "Here is the paraphrased note: x",
            "stop",
        )),
        Ok(answer("n1|verify|1", same, "stop")),
        Ok(answer("n2|verify|1", changed, "stop")),
        Ok(answer("n4|verify|1", same, "stop")),
    ];
    let mut planned = planned_with_verify(&ids, &verify);
    planned.doubts_to_verifier = true;
    let reconciled = join(planned, &lines);
    let paraphrase = |note| final_of(&reconciled, note, RequestKind::Paraphrase);
    let checks = |attempt: &Attempt| -> Vec<crate::safety::Check> {
        attempt.rejections.iter().map(|f| f.check).collect()
    };
    // Cleared: kept, its rule findings kept apart as cleared.
    assert_eq!(paraphrase("n1").outcome, Outcome::Kept);
    assert!(paraphrase("n1").rejections.is_empty());
    assert!(paraphrase("n1")
        .cleared
        .iter()
        .any(|f| f.check == crate::safety::Check::FindingAdded));
    // Flagged: rejected with the rules' findings and the verifier's; a retry may pass.
    assert_eq!(paraphrase("n2").outcome, Outcome::Rejected);
    assert!(paraphrase("n2").retryable);
    let flagged = checks(paraphrase("n2"));
    assert!(
        flagged.contains(&crate::safety::Check::FindingAdded),
        "{flagged:?}"
    );
    assert!(
        flagged.contains(&crate::safety::Check::Verifier),
        "{flagged:?}"
    );
    // No verdict yet: not an accept, not a rejection.
    assert_eq!(paraphrase("n3").outcome, Outcome::Missing);
    assert!(paraphrase("n3").reasons[0].contains("only concept checks"));
    // A hard check's rejection is final, whatever the verifier says.
    assert_eq!(paraphrase("n4").outcome, Outcome::Rejected);
    assert!(!checks(paraphrase("n4")).contains(&crate::safety::Check::Verifier));
    let stages = stages::stage_counts(&reconciled);
    let generate = &stages[&crate::plan::Stage::Generate][&RequestKind::Paraphrase];
    assert_eq!(
        (
            generate.kept,
            generate.kept_after_doubt,
            generate.rejected_by_verifier,
            generate.rejected_by_rules,
            generate.missing
        ),
        (1, 1, 1, 1, 1)
    );
    assert!(generate.adds_up());

    // The same answers without `--doubts verify`: the rules' rejection stands.
    let reconciled = join(planned_with_verify(&ids, &verify), &lines);
    for note in ["n1", "n2", "n3"] {
        let attempt = final_of(&reconciled, note, RequestKind::Paraphrase);
        assert_eq!(attempt.outcome, Outcome::Rejected, "{note}");
        assert!(attempt.cleared.is_empty());
        assert!(!checks(attempt).contains(&crate::safety::Check::Verifier));
    }
}
