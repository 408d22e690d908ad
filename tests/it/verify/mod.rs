//! The verify stage (issue 9) end to end: priced up front in the dry run and covered by
//! the budget guard; two stages against the fake Batch API (whose verifier knows which
//! paraphrases it altered, and misses some on purpose) under injected faults and a kill
//! between the stages; every planned custom_id of both stages accounted for; dollars
//! exact per stage; balance 50/50; a flagged paraphrase in `rejected.jsonl`, never in
//! `sft_correct.jsonl`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rust_decimal::Decimal;

use crate::fake_api::{FakeApi, Fault, Route};
use crate::reconcile::dec;
use crate::{plan_args, read_json, read_jsonl, talking_to, Test};

use crate::NO_POLL_DELAY as FAST;

fn manifest(test: &Test) -> serde_json::Value {
    read_json(&test.path("batches/r/manifest.json"))
}

/// Every result line of the run (output and error files), with its shard's stage.
fn result_lines(test: &Test) -> Vec<(String, serde_json::Value)> {
    let manifest = manifest(test);
    let mut lines = Vec::new();
    for shard in manifest["shards"].as_array().unwrap() {
        let stage = shard["stage"].as_str().unwrap().to_string();
        for key in ["output", "errors"] {
            if let Some(path) = shard["remote"][key]["path"].as_str() {
                for line in read_jsonl(&test.path(&format!("batches/r/{path}"))) {
                    lines.push((stage.clone(), line));
                }
            }
        }
    }
    lines
}

/// Σ usage × Batch prices per stage, from the result lines: stage 1 at the run's model's
/// prices, stage 2 at the verifier's.
fn bill_per_stage(test: &Test) -> BTreeMap<String, Decimal> {
    let manifest = manifest(test);
    let million = Decimal::from(1_000_000);
    let mut bill = BTreeMap::new();
    for (stage, line) in result_lines(test) {
        let prices = if stage == "verify" {
            &manifest["verify"]["pricing"]["prices"]["batch"]
        } else {
            &manifest["pricing"]["prices"]["batch"]
        };
        let (input, output) = (dec(&prices["input"]), dec(&prices["output"]));
        let cached_price = prices.get("cached_input").map_or(input, dec);
        let usage = &line["response"]["body"]["usage"];
        if usage.is_null() {
            continue;
        }
        let number = |value: &serde_json::Value| Decimal::from(value.as_u64().unwrap());
        let prompt = number(&usage["prompt_tokens"]);
        let cached = number(&usage["prompt_tokens_details"]["cached_tokens"]);
        let completion = number(&usage["completion_tokens"]);
        *bill.entry(stage).or_insert(Decimal::ZERO) +=
            ((prompt - cached) * input + cached * cached_price + completion * output) / million;
    }
    bill
}

fn planned_ids(test: &Test) -> BTreeSet<String> {
    read_jsonl(&test.path("batches/r/requests/index.jsonl"))
        .iter()
        .map(|e| e["custom_id"].as_str().unwrap().to_string())
        .collect()
}

/// A stage's counts (`generation_stats_safe.json`): planned = kept + rejected (by the
/// rules or the verifier) + failed + expired + missing.
fn assert_stage_adds_up(counts: &serde_json::Value) {
    let n = |k: &str| counts[k].as_u64().unwrap();
    let ends = [
        "kept",
        "rejected_by_rules",
        "rejected_by_verifier",
        "failed",
        "expired",
        "missing",
    ];
    assert_eq!(
        n("planned"),
        ends.iter().map(|k| n(k)).sum::<u64>(),
        "{counts}"
    );
}

mod doubts;
mod priced;

/// A run `r` planned with `flags` (the verify stage on), talking to `fake`.
fn planned(fake: &FakeApi, flags: &[&str]) -> Test {
    let test = Test::new().args(plan_args("r", flags));
    test.success();
    talking_to(test, fake)
}

/// A run `r` of 40 pairs (80 stage-1 requests in 3 shards), planned, submitted and
/// waited for through both stages, with defective answers, altered paraphrases (every
/// 2nd; the verifier misses every 3rd it reads) and faults at the API.
fn two_stage_run() -> (FakeApi, Test) {
    let fake = FakeApi::start();
    fake.defective_answers();
    fake.altered_paraphrases(2, Some(3));
    let test = planned(
        &fake,
        &[
            "--num-pairs",
            "40",
            "--max-requests-per-shard",
            "30",
            "--budget-usd",
            "5",
        ],
    )
    .args(["submit", "r"]);
    test.success();
    assert_eq!(fake.batches_created(), 3);
    // Faults met by stage 2: its upload and its create.
    fake.fault(Route::Upload, Fault::Status(500));
    fake.fault(Route::Create, Fault::DropAfterApply);
    fake.fault(Route::Retrieve, Fault::Status(502));
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    test.success();
    (fake, test)
}

#[test]
fn two_stages_keep_only_what_the_verifier_finds_unchanged() {
    let (fake, test) = two_stage_run();
    let manifest_now = manifest(&test);
    let shards = manifest_now["shards"].as_array().unwrap();
    let stage_two: Vec<_> = shards.iter().filter(|s| s["stage"] == "verify").collect();
    assert!(!stage_two.is_empty(), "stage 2 was built and sent");
    assert!(stage_two.iter().all(|s| s["model"] == "gpt-4o-mini"));
    assert_eq!(
        fake.batches_created(),
        shards.len(),
        "one batch per shard per stage, never two"
    );
    // Every planned custom_id of both stages has exactly one line.
    let lines = result_lines(&test);
    let ids: Vec<String> = lines
        .iter()
        .map(|(_, l)| l["custom_id"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len());
    assert_eq!(unique, planned_ids(&test));
    assert!(unique.iter().any(|id| id.contains("|verify|1")));
    // Verify requests read only paraphrases the rules passed: one per such paraphrase.
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    let verify_entries: Vec<_> = index.iter().filter(|e| e["kind"] == "verify").collect();
    assert!(verify_entries.iter().all(|e| e["verifies"] == 1));

    let test = test.args(["reconcile", "r", "--reports-dir", "reports"]);
    let done = test.expect(1); // some verify answers could not be read: retryable
    done.stdout_has("stage 2:")
        .stdout_has("`changed` (rejected by the verifier)");
    let sft = test.path("batches/r/sft");
    let correct = read_jsonl(&sft.join("sft_correct.jsonl"));
    let incorrect = read_jsonl(&sft.join("sft_incorrect.jsonl"));
    assert_eq!(correct.len(), incorrect.len(), "balance stays 50/50");
    assert!(!correct.is_empty());
    let kept_ids: BTreeSet<String> = correct
        .iter()
        .map(|r| r["original_note_id"].as_str().unwrap().to_string())
        .collect();
    let verifier = fake.verifier();
    let rejected = read_jsonl(&sft.join("rejected.jsonl"));
    assert!(
        !verifier.flagged.is_empty(),
        "the fake altered and flagged some: altered {:?}, answered {}, rejected {:?}",
        verifier.altered_notes,
        verifier.verify_answers,
        rejected
            .iter()
            .filter(|r| verifier
                .altered_notes
                .iter()
                .any(|n| r["note_id"] == n.as_str()))
            .map(|r| (r["custom_id"].clone(), r["reasons"].clone()))
            .collect::<Vec<_>>()
    );
    assert!(!verifier.missed.is_empty(), "and missed some on purpose");
    // A rule-passing paraphrase flagged `changed` never reaches sft_correct.jsonl, and
    // is in rejected.jsonl with the verifier's differences.
    for note in &verifier.flagged {
        assert!(!kept_ids.contains(note), "{note} was flagged but kept");
        let line = rejected
            .iter()
            .find(|r| r["note_id"] == note.as_str() && r["kind"] == "paraphrase")
            .unwrap_or_else(|| panic!("{note} is not in rejected.jsonl"));
        assert_eq!(line["outcome"], "rejected");
        assert_eq!(line["rejections"][0]["check"], "verifier");
        assert!(
            line["rejections"][0]["detail"]
                .as_str()
                .unwrap()
                .starts_with("course: `"),
            "{line}"
        );
        assert!(line["original"].is_string() && line["text"].is_string());
    }
    // A verifier miss is counted: the altered paraphrase it passed is in the dataset,
    // and the fake knows how many there are.
    let missed_kept = verifier
        .missed
        .iter()
        .filter(|note| kept_ids.contains(*note))
        .count();
    assert_eq!(missed_kept, verifier.missed.len());

    // The stats per stage add up; the verifier's rejections are its own.
    let stats = read_json(&sft.join("generation_stats_safe.json"));
    let paraphrase = &stats["stages"]["generate"]["paraphrase"];
    let verify = &stats["stages"]["verify"]["verify"];
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    for counts in [paraphrase, verify] {
        assert_stage_adds_up(counts);
    }
    assert_eq!(n(paraphrase, "planned"), 40);
    assert_eq!(
        n(paraphrase, "rejected_by_verifier"),
        verifier.flagged.len() as u64
    );
    assert_eq!(
        n(verify, "rejected_by_verifier"),
        verifier.flagged.len() as u64
    );
    assert_eq!(n(verify, "planned"), verify_entries.len() as u64);
    assert!(
        n(verify, "failed") > 0,
        "refused and preambled verdicts are failures"
    );
    assert_eq!(n(paraphrase, "kept"), correct.len() as u64);
    for accounting in stats["accounting"].as_object().unwrap().values() {
        assert_eq!(
            n(accounting, "planned"),
            ["kept", "rejected", "failed", "expired", "missing"]
                .iter()
                .map(|k| n(accounting, k))
                .sum::<u64>()
        );
    }

    // Dollars exact per stage: each stage's usage at its own model's Batch prices.
    let bill = bill_per_stage(&test);
    let report = read_json(&test.path("reports/r.json"));
    assert_eq!(
        dec(&report["stages"]["generate"]["actual_usd"]),
        bill["generate"]
    );
    assert_eq!(
        dec(&report["stages"]["verify"]["actual_usd"]),
        bill["verify"]
    );
    assert_eq!(
        dec(&report["total"]["actual_usd"]),
        bill["generate"] + bill["verify"]
    );
    assert_eq!(report["stages"]["verify"]["model"], "gpt-4o-mini");
    let ledger = std::fs::read_to_string(test.path("reports/ledger.csv")).unwrap();
    assert!(ledger.lines().next().unwrap().contains("stage2_actual_usd"));
    assert!(ledger.contains(&bill["verify"].normalize().to_string()));
    // `report` groups by verifier and shows each stage's dollars.
    let test = test.args(["report", "--format", "csv"]);
    let csv = test.success().stdout;
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with("stage1_actual_usd,verify_model,stage2_actual_usd"));
    assert!(csv.contains(&format!(
        "{},gpt-4o-mini,{}",
        bill["generate"].normalize(),
        bill["verify"].normalize()
    )));
    let test = test.args(["report"]);
    test.success().stdout_has("verifier").stdout_has("stage 2");

    // Retry: verify answers that could not be read are sent again (as verify requests),
    // paraphrases the verifier flagged are rewritten, and the new ones are verified.
    let index_before = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    let failed_verify: Vec<(String, serde_json::Value)> = rejected
        .iter()
        .filter(|r| r["kind"] == "verify" && r["outcome"] == "failed")
        .map(|r| {
            let id = r["custom_id"].as_str().unwrap().to_string();
            let entry = index_before
                .iter()
                .find(|e| e["custom_id"] == id.as_str())
                .unwrap();
            (id, entry["verifies"].clone())
        })
        .collect();
    assert!(!failed_verify.is_empty());
    let test = test.args(["retry", "r"]);
    test.success();
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    test.success();
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    assert!(index
        .iter()
        .any(|e| e["kind"] == "verify" && e["custom_id"].as_str().unwrap().ends_with("|verify|2")));
    // Paraphrases the verifier flagged were written again, and the new ones that pass
    // the rules are verified in their turn (before they may count).
    let mut rewritten = 0;
    let mut read_again = 0;
    for entry in index.iter().filter(|e| e["kind"] == "paraphrase") {
        let id = entry["custom_id"].as_str().unwrap();
        let (note, attempt) = id.rsplit_once("|paraphrase|").unwrap();
        if attempt != "1" && verifier.flagged.iter().any(|n| n == note) {
            rewritten += 1;
            let attempt: u64 = attempt.parse().unwrap();
            read_again += usize::from(index.iter().any(|e| {
                e["kind"] == "verify"
                    && e["custom_id"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{note}|verify|"))
                    && e["verifies"] == attempt
            }));
        }
    }
    assert!(
        rewritten > 0 && read_again > 0,
        "{rewritten} rewritten, {read_again} verified"
    );
    let test = test.args(["reconcile", "r", "--reports-dir", "reports"]);
    // Exit 1: answers the defective fake still withheld after the retry stay unanswered.
    test.expect(1).stdout_has("got no answer");
    let stats = read_json(&sft.join("generation_stats_safe.json"));
    assert_eq!(n(&stats["stages"]["generate"]["paraphrase"], "planned"), 40);
    // Every verify request that failed in the first round was sent again, reading
    // the same paraphrase attempt.
    for (id, reads) in &failed_verify {
        let (note, attempt) = id.rsplit_once("|verify|").unwrap();
        let next = format!("{note}|verify|{}", attempt.parse::<u32>().unwrap() + 1);
        let entry = index
            .iter()
            .find(|e| e["custom_id"] == next.as_str())
            .unwrap_or_else(|| panic!("{id} was not retried"));
        assert_eq!(&entry["verifies"], reads);
    }
    let correct = read_jsonl(&sft.join("sft_correct.jsonl"));
    let incorrect = read_jsonl(&sft.join("sft_incorrect.jsonl"));
    assert_eq!(correct.len(), incorrect.len());
    let bill = bill_per_stage(&test);
    let report = read_json(&test.path("reports/r.json"));
    assert_eq!(
        dec(&report["stages"]["verify"]["actual_usd"]),
        bill["verify"]
    );
}

#[test]
fn a_kill_between_the_stages_resumes_without_a_second_batch() {
    let fake = FakeApi::start();
    let test = planned(&fake, &["--num-pairs", "6"]).args(["submit", "r"]);
    test.success();
    assert_eq!(fake.batches_created(), 1);
    // Stage 2's batch is created, and the answer never comes: killed there.
    fake.fault(Route::Create, Fault::HangAfterApply);
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    let mut child = test.spawn();
    fake.wait_until("the verify batch", |f| f.batches_created() == 2);
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let before = manifest(&test);
    assert_eq!(
        before["shards"].as_array().unwrap().len(),
        2,
        "stage 2 was written"
    );
    assert!(before["shards"][1]["remote"]["batch_id"].is_null());
    // Resumed: the batch is found by its metadata, not created again.
    test.success();
    assert_eq!(fake.batches_created(), 2);
    assert_eq!(
        manifest(&test)["shards"][1]["remote"]["batch_id"],
        fake.batches()[1]["id"]
    );
    // And waiting again builds nothing new: the verify shards are the same files.
    let after = manifest(&test);
    test.success();
    assert_eq!(manifest(&test)["shards"], after["shards"]);
    assert_eq!(fake.batches_created(), 2);
    let test = test.args(["status", "r"]);
    test.success()
        .stdout_has("stage 1 (generate, gpt-4o): 1 shard(s)")
        .stdout_has("stage 2 (verify, gpt-4o-mini): 1 shard(s)");
}

#[test]
fn verify_shards_are_built_the_same_twice() {
    // Two runs of the same plan against two fakes give byte-identical verify shards.
    let shard_bytes = || {
        let fake = FakeApi::start();
        let test = planned(&fake, &["--num-pairs", "8"]);
        let mut args = vec!["wait", "r"];
        args.extend_from_slice(&FAST);
        let test = test.args(["submit", "r"]);
        test.success();
        let test = test.args(args);
        test.success();
        let manifest = manifest(&test);
        let verify = manifest["shards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == "verify")
            .unwrap()
            .clone();
        std::fs::read(test.path(&format!(
            "batches/r/{}",
            verify["file"]["path"].as_str().unwrap()
        )))
        .unwrap()
    };
    let first = shard_bytes();
    assert!(!first.is_empty());
    assert_eq!(first, shard_bytes());
}

#[test]
fn run_does_both_stages_and_running_it_again_sends_nothing() {
    let fake = FakeApi::start();
    let sample = crate::sample();
    let mut args = vec![
        "run",
        "--input",
        sample.to_str().unwrap(),
        "--run",
        "r",
        "--num-pairs",
        "5",
    ];
    args.extend_from_slice(&FAST);
    let test = talking_to(Test::new().args(args), &fake);
    let done = test.success();
    done.stdout_has("stage 2:");
    let ids: BTreeSet<String> = result_lines(&test)
        .iter()
        .map(|(_, l)| l["custom_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, planned_ids(&test));
    let verify_ids = ids.iter().filter(|id| id.contains("|verify|")).count();
    assert!(verify_ids > 0, "{ids:?}");
    assert_eq!(fake.batches_created(), 2, "one batch per stage");
    // The CORRECT examples are exactly the paraphrases the verifier read and passed.
    let stats = read_json(&test.path("batches/r/sft/generation_stats_safe.json"));
    let verify = &stats["stages"]["verify"]["verify"];
    assert_eq!(verify["planned"].as_u64().unwrap(), verify_ids as u64);
    let correct = read_jsonl(&test.path("batches/r/sft/sft_correct.jsonl"));
    assert_eq!(correct.len() as u64, verify["kept"].as_u64().unwrap());
    test.success();
    assert_eq!(fake.batches_created(), 2);
    assert_eq!(fake.files_uploaded(), 2);
}

#[test]
fn a_cancelled_run_builds_no_verify_stage_until_a_retry() {
    let fake = FakeApi::start();
    let test = planned(&fake, &["--num-pairs", "6"]).args(["submit", "r"]);
    test.success();
    let test = test.args(["cancel", "r"]);
    test.success();
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    test.expect(1); // cancelled: not every request ran
    let shards = manifest(&test)["shards"].as_array().unwrap().clone();
    assert!(
        shards.iter().all(|s| s["stage"] == "generate"),
        "{shards:?}"
    );
    assert_eq!(fake.batches_created(), 1, "nothing sent after the cancel");
    let test = test.args(["status", "r"]);
    test.success()
        .stdout_has("not built: the run was cancelled");
}

#[test]
fn a_manifest_from_before_the_verify_stage_still_loads_without_one() {
    let test = Test::new().args(plan_args("r", &["--num-pairs", "3", "--no-verify"]));
    test.success();
    // As an older tool wrote it: no `stage` on shards, no `verify`, no `verifies`.
    let path = test.path("batches/r/manifest.json");
    let mut old = read_json(&path);
    for shard in old["shards"].as_array_mut().unwrap() {
        shard.as_object_mut().unwrap().remove("stage");
    }
    assert!(old.get("verify").is_none() && old.get("cancelled_at").is_none());
    std::fs::write(&path, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
    let test = test.args(["status", "r", "--json"]);
    let status = test.success().json();
    assert_eq!(status["shards"][0]["stage"], "generate");
    let test = test.args(["status", "r"]);
    test.success().stdout_has("stage 2 (verify): off");
}
