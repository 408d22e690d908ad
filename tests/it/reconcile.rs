//! `reconcile`, `report`, `retry` and `validate` end to end on the fake API, with
//! defective answers mixed in: balanced files, every request accounted for, INCORRECT
//! notes identical to MEDEC, and a bill equal to the sum of `usage` × prices.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::fake_api::{FakeApi, Scenario};
use crate::{plan_args, read_json, read_jsonl, sample, Test};

use crate::NO_POLL_DELAY as FAST;

/// A run `r` of 40 pairs in 3 shards, submitted and waited for, with defects, an
/// expired shard and in-batch errors.
pub(crate) fn finished_run() -> (FakeApi, Test) {
    let fake = FakeApi::start();
    fake.defective_answers();
    fake.scenario("001", Scenario::ExpireHalf);
    fake.scenario(
        "002",
        Scenario::Complete {
            error_every: Some(6),
        },
    );
    let test = Test::new().args(plan_args(
        "r",
        &[
            "--num-pairs",
            "40",
            "--max-requests-per-shard",
            "30",
            "--budget-usd",
            "5",
            // Stage 1 alone: the verify stage has its own tests (verify.rs).
            "--no-verify",
        ],
    ));
    test.success();
    let test = test
        .env("OPENAI_API_KEY", "sk-test")
        .env("OPENAI_BASE_URL", &fake.url)
        .env("SAFESFT_NO_RETRY_DELAY", "1")
        .args(["submit", "r"]);
    test.success();
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    test.expect(1); // one shard expired
    (fake, test)
}

pub(crate) fn dec(value: &serde_json::Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap()).unwrap()
}

/// Σ usage × Batch prices over every result line, computed here from the files.
fn bill_from_lines(test: &Test) -> Decimal {
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    let prices = &manifest["pricing"]["prices"]["batch"];
    let (input, output) = (dec(&prices["input"]), dec(&prices["output"]));
    let cached_price = prices.get("cached_input").map_or(input, dec);
    let million = Decimal::from(1_000_000);
    let mut total = Decimal::ZERO;
    for shard in manifest["shards"].as_array().unwrap() {
        for key in ["output", "errors"] {
            let Some(path) = shard["remote"][key]["path"].as_str() else {
                continue;
            };
            for line in read_jsonl(&test.path(&format!("batches/r/{path}"))) {
                let usage = &line["response"]["body"]["usage"];
                if usage.is_null() {
                    continue;
                }
                let prompt = Decimal::from(usage["prompt_tokens"].as_u64().unwrap());
                let cached = Decimal::from(
                    usage["prompt_tokens_details"]["cached_tokens"]
                        .as_u64()
                        .unwrap(),
                );
                let completion = Decimal::from(usage["completion_tokens"].as_u64().unwrap());
                total += ((prompt - cached) * input + cached * cached_price + completion * output)
                    / million;
            }
        }
    }
    total
}

#[test]
fn defective_answers_give_balanced_files_and_an_exact_bill() {
    let (_fake, test) = finished_run();
    let test = test.args(["reconcile", "r", "--format", "messages"]);
    let done = test.expect(1); // some requests expired or failed: said, and exit 1
    done.stdout_has("adds up");
    done.stdout_has("got no answer");
    let sft = |name: &str| read_jsonl(&test.path(&format!("batches/r/sft/{name}")));
    let correct = sft("sft_correct.jsonl");
    let incorrect = sft("sft_incorrect.jsonl");
    let combined = sft("sft_combined_safe.jsonl");
    assert_eq!(correct.len(), incorrect.len(), "exactly 50/50");
    assert_eq!(combined.len(), correct.len() * 2);
    assert!(
        correct.len() >= 10 && correct.len() < 40,
        "some pairs were dropped: {}",
        correct.len()
    );
    assert_eq!(
        sft("sft_combined_safe.messages.jsonl").len(),
        combined.len()
    );
    let correct_ids: BTreeSet<_> = correct
        .iter()
        .map(|r| r["original_note_id"].to_string())
        .collect();
    let incorrect_ids: BTreeSet<_> = incorrect
        .iter()
        .map(|r| r["original_note_id"].to_string())
        .collect();
    assert_eq!(
        correct_ids, incorrect_ids,
        "pairs are kept or dropped whole"
    );
    for record in &correct {
        assert_eq!(record["source"], "medec_correct_paraphrased");
        assert_eq!(record["label"], "CORRECT");
        assert!(record["metadata"]["completion_tokens"].as_u64().unwrap() > 0);
    }

    // Every planned request is accounted for, per kind.
    let stats = read_json(&test.path("batches/r/sft/generation_stats_safe.json"));
    for kind in ["paraphrase", "reasoning"] {
        let a = &stats["accounting"][kind];
        let sum: u64 = ["kept", "rejected", "failed", "expired", "missing"]
            .iter()
            .map(|k| a[k].as_u64().unwrap())
            .sum();
        assert_eq!(a["planned"].as_u64().unwrap(), 40);
        assert_eq!(sum, 40, "{kind}: {a}");
        assert!(
            a["rejected"].as_u64().unwrap() > 0 && a["expired"].as_u64().unwrap() > 0,
            "{kind}: {a}"
        );
    }
    assert!(stats["generation"]["reasoning_failed"].as_u64().unwrap() > 0);
    assert_eq!(
        stats["generation"]["pairs_kept"].as_u64().unwrap(),
        correct.len() as u64
    );
    let rejected = sft("rejected.jsonl");
    let reasons: String = rejected.iter().map(|r| r["reasons"].to_string()).collect();
    for expected in [
        "finish_reason",
        "refusal",
        "preamble",
        "reasoning_json",
        "batch_expired",
        "HTTP 400",
    ] {
        assert!(
            reasons.contains(expected),
            "no `{expected}` among the rejections"
        );
    }

    // INCORRECT notes are MEDEC's, byte for byte, and the files validate.
    let test = test.args([
        "validate",
        "batches/r/sft/sft_combined_safe.jsonl",
        "--medec",
        sample().to_str().unwrap(),
    ]);
    test.success()
        .stdout_has("ok   incorrect_identical_to_medec");
    let report = test.path("batches/r/sft/sft_combined_safe.validation_report.json");
    assert_eq!(read_json(&report)["passed"], true);
    let records_report = std::fs::read(&report).unwrap();
    // The messages form validates too, into a report of its own.
    let test = test.args([
        "validate",
        "batches/r/sft/sft_combined_safe.messages.jsonl",
        "--medec",
        sample().to_str().unwrap(),
        "--json",
    ]);
    let messages = test.success().json();
    assert_eq!(messages["form"], "messages");
    assert_eq!(messages["total"].as_u64().unwrap(), combined.len() as u64);
    let names: Vec<&str> = messages["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "record_format",
            "label_balance",
            "duplicate_examples",
            "tokens_per_example",
            "incorrect_identical_to_medec"
        ]
    );
    assert!(test
        .path("batches/r/sft/sft_combined_safe.messages.validation_report.json")
        .exists());
    assert_eq!(
        std::fs::read(&report).unwrap(),
        records_report,
        "not overwritten"
    );

    // The bill is Σ usage × prices, exactly.
    let report = read_json(&test.path("reports/r.json"));
    assert_eq!(dec(&report["total"]["actual_usd"]), bill_from_lines(&test));
    let kinds_sum: Decimal = ["paraphrase", "reasoning"]
        .iter()
        .map(|k| dec(&report["kinds"][k]["actual_usd"]))
        .sum();
    assert_eq!(kinds_sum, dec(&report["total"]["actual_usd"]));
    assert!(report["total"]["usage"]["cached_tokens"].as_u64().unwrap() > 0);
    assert!(test.path("reports/r.csv").exists());

    // Reconciling again gives the same files and keeps one ledger row.
    let before = std::fs::read(test.path("batches/r/sft/sft_combined_safe.jsonl")).unwrap();
    let test = test.args(["reconcile", "r"]);
    test.expect(1);
    assert_eq!(
        std::fs::read(test.path("batches/r/sft/sft_combined_safe.jsonl")).unwrap(),
        before
    );
    let ledger = std::fs::read_to_string(test.path("reports/ledger.csv")).unwrap();
    assert_eq!(ledger.lines().count(), 2, "a header and one row:\n{ledger}");
}

#[test]
fn retry_fixes_what_a_new_answer_can_fix() {
    let (fake, test) = finished_run();
    let test = test.args(["reconcile", "r"]);
    test.expect(1);
    let before = read_json(&test.path("batches/r/sft/generation_stats_safe.json"));
    let kept_before = before["generation"]["pairs_kept"].as_u64().unwrap();
    let created = fake.batches_created();

    // Answers cut off by their cap are resent only with a raised one.
    let test = test.args(["retry", "r", "--truncated-cap", "3000"]);
    test.success().stderr_has("retrying");
    assert!(fake.batches_created() > created, "the retry was submitted");
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    assert!(manifest["shards"].as_array().unwrap().len() > 3);
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    test.expect(1); // shard 001 stays expired; its requests were retried elsewhere
                    // Only the in-batch 400s remain unanswered (final: a new attempt would fail too).
    let test = test.args(["reconcile", "r"]);
    test.expect(1)
        .stdout_has("retried")
        .stdout_has("paraphrase retries");
    let after = read_json(&test.path("batches/r/sft/generation_stats_safe.json"));
    let kept_after = after["generation"]["pairs_kept"].as_u64().unwrap();
    assert!(kept_after > kept_before, "{kept_before} → {kept_after}");
    // Only the in-batch 400 errors (final) may remain; everything else was fixed.
    let paraphrase = &after["accounting"]["paraphrase"];
    assert_eq!(paraphrase["expired"], 0);
    assert_eq!(paraphrase["rejected"], 0, "{paraphrase}");
    assert!(paraphrase["retried"].as_u64().unwrap() > 0);
    let ledger = std::fs::read_to_string(test.path("reports/ledger.csv")).unwrap();
    assert_eq!(ledger.lines().count(), 2, "one row for the run:\n{ledger}");
    // The retry's tokens are billed too.
    let report = read_json(&test.path("reports/r.json"));
    assert_eq!(dec(&report["total"]["actual_usd"]), bill_from_lines(&test));
    // First attempts are compared with the plan; retries have a line of their own.
    let total = &report["total"];
    assert!(total["retries"]["answers"].as_u64().unwrap() > 0);
    assert_eq!(
        dec(&total["first_attempts"]["actual_usd"]) + dec(&total["retries"]["actual_usd"]),
        dec(&total["actual_usd"])
    );
    assert_eq!(
        total["expected_error_percent"],
        total["first_attempts"]["expected_error_percent"]
    );
    assert!(dec(&total["retries"]["estimated_expected_usd"]) > Decimal::ZERO);
}

#[test]
fn retry_refuses_to_go_over_the_budget() {
    let (fake, test) = finished_run();
    let created = fake.batches_created();
    let test = test.args(["retry", "r", "--budget-usd", "0.01"]);
    test.expect(1).stderr_has("is over the budget $0.01");
    assert_eq!(fake.batches_created(), created);
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    assert_eq!(
        manifest["shards"].as_array().unwrap().len(),
        3,
        "nothing was added"
    );
}

#[test]
fn report_reads_the_ledger_per_run_and_per_size() {
    let (_fake, test) = finished_run();
    let test = test.args(["reconcile", "r"]);
    test.expect(1);
    let test = test.args(["report"]);
    test.success().stdout_has("gpt-4o");
    let test = test.args(["report", "--json"]);
    let out = test.success().json();
    assert_eq!(out["runs"][0]["run"], "r");
    assert_eq!(out["by_size_and_model"][0]["pairs"], 40);
    let by_kind: BTreeMap<String, serde_json::Value> =
        serde_json::from_value(out["by_size_and_model"][0].clone()).unwrap();
    assert!(by_kind.contains_key("expected_error_percent"));
    // The ledger for finance: dollars and cents for people, exact values in CSV.
    let test = test.args(["report", "--format", "csv"]);
    let csv_out = test.success().stdout;
    assert!(
        csv_out.starts_with("run,date,started_at,ended_at,duration_seconds,"),
        "{csv_out}"
    );
    assert_eq!(csv_out.lines().count(), 2);
    // The next plan calibrates its expected output from the ledger: paraphrases from
    // what the first attempts that came back wrote over their notes' tokens, reasoning
    // answers at their measured mean size.
    let ledger = std::fs::read_to_string(test.path("reports/ledger.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(ledger.as_bytes());
    let header = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    let column = |name: &str| -> u64 { cell(name).parse().unwrap() };
    let mean = column("reasoning_completion_tokens").div_ceil(column("reasoning_answers"));
    let ratio = (column("first_paraphrase_written_tokens") * 1000)
        .div_ceil(column("first_paraphrase_content_tokens"));
    assert!(
        column("paraphrase_completion_tokens") > 0,
        "every answer counts"
    );
    assert!(
        column("first_paraphrase_written_tokens") > 0
            && column("first_paraphrase_written_tokens") <= column("paraphrase_completion_tokens"),
        "first attempts that came back calibrate"
    );
    assert!(std::path::Path::new(&cell("dataset")).is_absolute());
    assert!(!cell("started_at").is_empty() && !cell("ended_at").is_empty());
    assert_eq!(column("kept_pairs") * 2, column("kept_examples"));
    let test = test.args(plan_args("next", &["--num-pairs", "5", "--json"]));
    let plan = test.success().json();
    let model = &plan["manifest"]["estimate"]["output_model"];
    assert_eq!(model["source"], "ledger (1 run of gpt-4o)");
    assert_eq!(model["reasoning_output_tokens"].as_u64().unwrap(), mean);
    assert_ne!(mean, 350, "the default would hide a missing calibration");
    assert_eq!(model["paraphrase_output_permille"].as_u64().unwrap(), ratio);
    // The kept rate of the run: what it kept of the pairs planned.
    let kept = &plan["kept"]["kept_rate"];
    assert_eq!(kept["pairs_planned"], 40);
    assert_eq!(kept["pairs_kept"].as_u64().unwrap(), column("kept_pairs"));
    // --target-kept plans enough pairs to expect that many kept, and says so.
    let target = column("kept_pairs") * 2;
    let test = test.args(plan_args("target", &["--target-kept", &target.to_string()]));
    let done = test.success();
    done.stdout_has(&format!("--target-kept {target}: 80 pairs planned"));
    let manifest = read_json(&test.path("batches/target/manifest.json"));
    assert_eq!(manifest["input"]["pairs_planned"], 80);
}

#[test]
fn stats_and_report_match_their_snapshots() {
    let (_fake, test) = finished_run();
    let test = test.args(["reconcile", "r"]);
    test.expect(1);
    let sample_path = sample().to_str().unwrap().to_string();
    // When the batches ran is the clock's: kept out of the snapshot.
    let clean = |path: &str| {
        std::fs::read_to_string(test.path(path))
            .unwrap()
            .replace(&sample_path, "<sample>")
            .lines()
            .filter(|l| {
                !["\"started_at\"", "\"ended_at\"", "\"duration_seconds\""]
                    .iter()
                    .any(|k| l.contains(k))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!(
        "generation_stats",
        clean("batches/r/sft/generation_stats_safe.json")
    );
    insta::assert_snapshot!("cost_report", clean("reports/r.json"));
    insta::assert_snapshot!("cost_report_csv", clean("reports/r.csv"));
}

#[test]
fn validate_fails_on_imbalance_foreign_sources_and_altered_notes() {
    let test = Test::new();
    let record = |label: &str, source: &str, id: &str, note: &str| {
        serde_json::json!({"note": note, "label": label, "original_note_id": id, "source": source, "metadata": {}, "reasoning": null}).to_string()
    };
    let lines = [
        record("CORRECT", "medec_correct_paraphrased", "ms-val-0", "x"),
        record(
            "INCORRECT",
            "medec_incorrect_verified",
            "ms-val-0",
            "not the MEDEC note",
        ),
        record("INCORRECT", "gpt_generated", "ms-val-2", "y"),
    ];
    test.write("bad.jsonl", lines.join("\n"));
    let test = test.args([
        "validate",
        "bad.jsonl",
        "--medec",
        sample().to_str().unwrap(),
        "--json",
    ]);
    let report = test.expect(1).json();
    let failed: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        ["label_balance", "sources", "incorrect_identical_to_medec"]
    );
    assert!(test.path("bad.validation_report.json").exists());
}

#[test]
fn a_retry_interrupted_before_its_manifest_write_is_rebuilt_cleanly() {
    let (_fake, test) = finished_run();
    let test = test.args(["retry", "r", "--no-submit"]);
    test.success();
    // As if the process died after writing the index, before the manifest: drop the
    // new shards from the manifest, keep the index lines.
    let path = test.path("batches/r/manifest.json");
    let mut manifest = read_json(&path);
    let index_lines = read_jsonl(&test.path("batches/r/requests/index.jsonl")).len();
    manifest["shards"].as_array_mut().unwrap().truncate(3);
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let test = test.args(["reconcile", "r"]);
    test.expect(1);
    let test = test.args(["retry", "r", "--no-submit"]);
    test.success();
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    assert_eq!(
        index.len(),
        index_lines,
        "no duplicate lines from the interrupted attempt"
    );
    let ids: BTreeSet<String> = index.iter().map(|e| e["custom_id"].to_string()).collect();
    assert_eq!(ids.len(), index.len());
    let manifest = read_json(&path);
    let shards = manifest["shards"].as_array().unwrap().len() as u64;
    assert!(index.iter().all(|e| e["shard"].as_u64().unwrap() < shards));
}
