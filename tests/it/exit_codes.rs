//! Exit codes and output as a contract scripts can rely on (issue 10, README "Exit codes
//! and output"): a key is needed for real work, `--num-pairs` never silently shrinks,
//! every `--json` is exactly one JSON document, Ctrl-C names the command to run again,
//! truncated answers are never resent with the same cap.

use std::io::Read;
use std::time::Duration;

use crate::fake_api::{FakeApi, Fault, Route};
use crate::robust::{finished, manifest, planned, KEY};
use crate::{plan_args, read_jsonl, sample, Test};

fn run_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "run",
        "--input",
        sample().to_str().unwrap(),
        "--run",
        "r",
        "--num-pairs",
        "3",
        "--quiet",
        "--poll-initial-seconds",
        "0",
        "--poll-max-seconds",
        "0",
    ]
    .iter()
    .map(|a| (*a).to_string())
    .collect();
    args.extend(extra.iter().map(|a| (*a).to_string()));
    args
}

#[test]
fn run_without_a_key_is_an_error_before_anything_is_planned() {
    let test = Test::new().args(run_args(&[]));
    test.expect(2)
        .stderr_has("missing `OPENAI_API_KEY`")
        .stderr_has("hint:")
        .stderr_has("--dry-run");
    assert!(!test.path("batches/r").exists());
    let dry = Test::new().args(run_args(&["--dry-run"]));
    dry.success();
}

#[test]
fn num_pairs_above_what_the_input_holds_is_an_error_and_all_takes_every_pair() {
    let test = Test::new().args(plan_args("r", &["--num-pairs", "1000"]));
    test.expect(2)
        .stderr_has("`--num-pairs 1000`")
        .stderr_has("(319)")
        .stderr_has("`--num-pairs all`");
    let leftovers: Vec<_> = std::fs::read_dir(test.path("batches"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "nothing written: {leftovers:?}");
    let all = Test::new().args(plan_args("r", &["--num-pairs", "all", "--json"]));
    let out = all.success().json();
    assert_eq!(out["manifest"]["input"]["pairs_planned"], 319);
    Test::new()
        .args(plan_args("r", &["--num-pairs", "0"]))
        .expect(2);
    // `--target-kept` asks for what is expected to be kept: an input too small for it is
    // planned whole, and the shortfall said, not refused.
    let target = Test::new().args(plan_args("r", &["--target-kept", "1000"]));
    target
        .success()
        .stdout_has("but the input holds 319: all of them are planned");
}

#[test]
fn an_unchanged_replan_writes_nothing() {
    let test = Test::new().args(plan_args("r", &["--num-pairs", "5"]));
    test.success();
    let path = test.path("batches/r/manifest.json");
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    test.success().stdout_has("Already planned");
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    let entries: Vec<_> = std::fs::read_dir(test.path("batches"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, ["r"], "no staging folder left");
}

/// Asserts stdout is exactly one JSON document (and returns it), and the exit code
/// (unless `code` is -1).
fn one_json(test: &Test, code: i32) -> serde_json::Value {
    let done = if code == -1 {
        let output = test.output();
        crate::Done {
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    } else {
        test.expect(code)
    };
    let mut documents =
        serde_json::Deserializer::from_str(&done.stdout).into_iter::<serde_json::Value>();
    let first = documents
        .next()
        .unwrap_or_else(|| panic!("no JSON on stdout: {}", done.stdout))
        .unwrap_or_else(|e| panic!("{e}: {}", done.stdout));
    assert!(
        documents.next().is_none(),
        "more than one document on stdout:\n{}",
        done.stdout
    );
    first
}

#[test]
fn every_json_flag_prints_exactly_one_document() {
    let fake = FakeApi::start();
    let mut test = planned(&fake, "3", &[]);
    test.write("a.txt", "The patient takes aspirin 81 mg daily.");
    let sample = sample();
    let sample = sample.to_str().unwrap();
    let mut plan = plan_args("r", &["--num-pairs", "3", "--no-verify", "--json"]);
    let plan: Vec<&str> = plan.iter_mut().map(|a| a.as_str()).collect();
    let wait_args: Vec<&str> = crate::WAIT_NOW.into_iter().chain(["--json"]).collect();
    let validate = [
        "validate",
        "batches/r/sft/sft_combined_safe.jsonl",
        "--json",
    ];
    let check = [
        "check",
        "--original",
        "a.txt",
        "--paraphrase",
        "a.txt",
        "--json",
    ];
    // -1: any exit code (the verdict is not the point here).
    let import = ["import", sample, "--output-dir", "pairs", "--json"];
    let estimate = [
        "estimate", "--input", sample, "--sizes", "10", "--format", "json",
    ];
    let commands: Vec<(&[&str], i32)> = vec![
        (&plan, 0),
        (&import, 0),
        (&estimate, 0),
        (&["submit", "r", "--json"], 0),
        (&["status", "r", "--json"], 0),
        (&wait_args, 0),
        (&["reconcile", "r", "--json"], -1),
        (&["retry", "r", "--no-submit", "--json"], 0),
        (&["report", "--json"], 0),
        (&validate, -1),
        (&check, 1),
        (&["cancel", "r", "--json"], 0),
    ];
    for (args, code) in commands {
        test = test.args(args);
        one_json(&test, code);
    }

    let run = Test::new()
        .args(run_args(&["--json"]))
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &fake.url)
        .env("SAFESFT_NO_RETRY_DELAY", "1");
    let out = one_json(&run, 0);
    assert!(out["reconcile"]["stats"].is_object(), "{out}");
    one_json(&Test::new().args(run_args(&["--json", "--dry-run"])), 0);
}

#[test]
fn ctrl_c_during_run_names_the_run_command_to_resume() {
    let fake = FakeApi::start();
    fake.fault(Route::Content, Fault::HangBeforeApply);
    let test = Test::new()
        .args(run_args(&[]))
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &fake.url)
        .env("SAFESFT_NO_RETRY_DELAY", "1");
    let mut child = test.spawn_with_stderr();
    fake.wait_until("the download", |f| f.calls(Route::Content) == 1);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("Run `safesft run --input"), "{stderr}");
    assert!(!stderr.contains("safesft wait"), "{stderr}");
}

/// `custom_id`s whose answer was cut off by its cap, in a run's output files.
fn truncated_ids(test: &Test) -> Vec<String> {
    let mut ids = Vec::new();
    for shard in manifest(test)["shards"].as_array().unwrap() {
        if let Some(path) = shard["remote"]["output"]["path"].as_str() {
            for line in read_jsonl(&test.path(&format!("batches/r/{path}"))) {
                if line["response"]["body"]["choices"][0]["finish_reason"] == "length" {
                    ids.push(line["custom_id"].as_str().unwrap().to_string());
                }
            }
        }
    }
    ids
}

/// The retry's request lines (shards after the first), by `custom_id`.
fn retried(test: &Test) -> Vec<serde_json::Value> {
    read_jsonl(&test.path("batches/r/requests/shard-001.jsonl"))
}

#[test]
fn truncated_answers_are_resent_only_with_a_raised_cap() {
    for cap in [None, Some("3000")] {
        let fake = FakeApi::start();
        fake.defective_answers();
        let test = finished(&fake, "10");
        let truncated = truncated_ids(&test);
        assert!(!truncated.is_empty());
        let mut args = vec!["retry", "r", "--no-submit", "--json"];
        if let Some(cap) = cap {
            args.extend(["--truncated-cap", cap]);
        }
        let test = test.args(args);
        let out = one_json(&test, 0);
        let lines = retried(&test);
        let again = |id: &str| {
            let next = id.replace("|1", "|2");
            lines
                .iter()
                .find(|l| l["custom_id"] == next.as_str())
                .cloned()
        };
        if cap.is_none() {
            assert_eq!(out["truncated_not_retried"], truncated.len());
            assert!(truncated.iter().all(|id| again(id).is_none()));
        } else {
            assert_eq!(out["raised_caps"], truncated.len());
            for id in &truncated {
                let line = again(id).unwrap();
                assert_eq!(line["body"]["max_tokens"], 3000, "{line}");
            }
        }
    }
}

#[test]
fn a_prompt_over_the_context_window_is_refused_naming_file_and_line() {
    let test = Test::new();
    let small = serde_json::json!({
        "note_id": "a",
        "correct_note": "The patient takes aspirin 81 mg daily.",
        "incorrect_note": "The patient takes aspirin 81 g daily.",
        "error_type": "pharmacotherapy",
    });
    let note = "word ".repeat(130_000);
    let big = serde_json::json!({
        "note_id": "big",
        "correct_note": note,
        "incorrect_note": format!("{note}an error"),
        "error_type": "diagnosis",
    });
    test.write("pairs.jsonl", format!("{small}\n\n{big}\n"));
    let plan = ["plan", "--input", "pairs.jsonl", "--run", "r", "--quiet"];
    let test = test.args(plan);
    test.expect(2)
        .stderr_has("pairs.jsonl:3: note `big`")
        .stderr_has("over the 128000-token context window of `gpt-4o`")
        .stderr_has("--skip-invalid");
    assert!(!test.path("batches/r").exists());

    let mut skipping = plan.to_vec();
    skipping.extend(["--skip-invalid", "--json"]);
    let test = test.args(skipping);
    let done = test.success();
    done.stderr_has("skipped pairs.jsonl:3: note `big`");
    let out = done.json();
    assert_eq!(out["manifest"]["input"]["pairs_planned"], 1);
}
