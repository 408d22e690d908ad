//! `submit`, `wait`, `status`, `cancel` and `run` against the fake Batch API: faults,
//! every terminal state, crashes at each step, waves under the enqueued-token limit.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use crate::fake_api::{FakeApi, Fault, Route, Scenario};
use crate::{read_json, read_jsonl, sample, wait_now as wait, Test};

use crate::robust::planned;
use crate::KEY;

const FAST: [&str; 4] = ["--poll-initial-seconds", "0", "--poll-max-seconds", "0"];

fn manifest(test: &Test) -> serde_json::Value {
    read_json(&test.path("batches/r/manifest.json"))
}

/// Every custom_id in the run's output and error files, each once.
fn results(test: &Test) -> Vec<String> {
    let manifest = manifest(test);
    let mut ids = Vec::new();
    for shard in manifest["shards"].as_array().unwrap() {
        for key in ["output", "errors"] {
            if let Some(path) = shard["remote"][key]["path"].as_str() {
                for line in read_jsonl(&test.path(&format!("batches/r/{path}"))) {
                    ids.push(line["custom_id"].as_str().unwrap().to_string());
                }
            }
        }
    }
    ids
}

fn planned_ids(test: &Test) -> BTreeSet<String> {
    read_jsonl(&test.path("batches/r/requests/index.jsonl"))
        .iter()
        .map(|e| e["custom_id"].as_str().unwrap().to_string())
        .collect()
}

/// No secret anywhere: output, manifest, any file of the run.
fn assert_no_key(test: &Test, texts: &[&str]) {
    for text in texts {
        assert!(!text.contains(KEY), "the key was printed");
    }
    for entry in walk(&test.path("batches/r")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(KEY),
            "the key is in {}",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn whole_validation_set_with_faults_ends_with_every_result_on_disk() {
    let fake = FakeApi::start();
    let test = planned(&fake, "319", &["--max-requests-per-shard", "200"]);
    fake.fault(Route::Upload, Fault::Status(500));
    fake.fault(Route::Create, Fault::RateLimited { retry_after: 0 });
    fake.fault(Route::Create, Fault::DropAfterApply);
    fake.fault(Route::Retrieve, Fault::DropBeforeApply);
    fake.fault(Route::Retrieve, Fault::Status(502));
    fake.fault(Route::Content, Fault::HalfBodyThenDrop);
    fake.fault(Route::ListBatches, Fault::Status(503));
    fake.scenario("001", Scenario::ExpireHalf);
    fake.scenario(
        "002",
        Scenario::Complete {
            error_every: Some(7),
        },
    );

    let test = test.args(["submit", "r"]);
    let submitted = test.success();
    assert_eq!(fake.batches_created(), 4, "one batch per shard, never two");
    assert_eq!(fake.files_uploaded(), 4);
    let test = wait(test);
    let done = test.expect(1);
    done.stdout_has("expired");
    assert_no_key(
        &test,
        &[
            &done.stdout,
            &done.stderr,
            &submitted.stdout,
            &submitted.stderr,
        ],
    );

    // Every planned request has exactly one line, in the output or the error file.
    let ids = results(&test);
    assert_eq!(ids.len(), 638);
    let unique: BTreeSet<String> = ids.into_iter().collect();
    assert_eq!(unique, planned_ids(&test));
    let manifest = manifest(&test);
    for shard in manifest["shards"].as_array().unwrap() {
        let check = &shard["remote"]["line_check"];
        assert_eq!(check["problems"], serde_json::json!([]), "{check}");
        assert_eq!(
            check["output_lines"].as_u64().unwrap() + check["error_lines"].as_u64().unwrap(),
            shard["requests"].as_u64().unwrap()
        );
    }
    assert_eq!(
        manifest["shards"][1]["remote"]["batch"]["status"],
        "expired"
    );
    assert_eq!(fake.batches_created(), 4);
}

#[test]
fn run_with_a_key_does_the_whole_job() {
    let fake = FakeApi::start();
    let mut args = vec![
        "run",
        "--input",
        sample().to_str().unwrap().to_owned().leak(),
        "--run",
        "r",
        "--num-pairs",
        "5",
        "--no-verify",
        "--quiet",
    ];
    args.extend_from_slice(&FAST);
    let test = Test::new()
        .args(args)
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &fake.url)
        .env("SAFESFT_NO_RETRY_DELAY", "1");
    let done = test.success();
    done.stdout_has("completed");
    assert_eq!(results(&test).len(), 10);
    // Run again: nothing is planned, uploaded or created twice.
    test.success();
    assert_eq!(fake.batches_created(), 1);
    assert_eq!(fake.files_uploaded(), 1);
}

#[test]
fn submit_rechecks_the_budget_and_needs_a_key() {
    let fake = FakeApi::start();
    let test = planned(&fake, "3", &[]).args(["submit", "r", "--budget-usd", "0.0001"]);
    test.expect(1).stderr_has("over the budget $0.0001");
    assert_eq!(fake.files_uploaded(), 0);

    let test = test.args(["submit", "r"]).env("OPENAI_API_KEY", "");
    test.expect(2).stderr_has("missing `OPENAI_API_KEY`");
    assert_eq!(fake.calls(Route::Upload), 0);
}

#[test]
fn a_stray_newline_in_the_organisation_is_an_error_before_anything_starts() {
    let fake = FakeApi::start();
    let test = planned(&fake, "2", &[])
        .args(["submit", "r"])
        .env("OPENAI_ORG_ID", "org-x\n");
    let done = test.expect(2);
    done.stderr_has("`OPENAI_ORG_ID` ends with a newline")
        .stderr_has("hint: ");
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(fake.calls(Route::Upload), 0);
    for shard in manifest(&test)["shards"].as_array().unwrap() {
        assert!(
            shard["remote"]["upload_started_at"].is_null(),
            "nothing started: {shard}"
        );
    }
    // Fixed, the same run submits.
    test.env("OPENAI_ORG_ID", "org-x").success();
    assert_eq!(fake.files_uploaded(), 1);
}

#[test]
fn a_batch_that_fails_validation_shows_its_errors_and_a_hint() {
    let fake = FakeApi::start();
    fake.scenario(
        "000",
        Scenario::FailValidation {
            code: "token_limit_exceeded",
        },
    );
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success();
    let done = wait(test).expect(1);
    done.stdout_has("failed");
    done.stdout_has("token_limit_exceeded");
    done.stdout_has("--enqueued-token-limit");
}

#[test]
fn completed_with_no_output_file_is_not_success() {
    let fake = FakeApi::start();
    fake.scenario("000", Scenario::AllFail);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success();
    let test = wait(test);
    test.expect(1)
        .stdout_has("completed without an output file");
    assert_eq!(
        results(&test).len(),
        6,
        "every request is in the error file"
    );
}

#[test]
fn cancel_keeps_partial_results_and_lists_the_rest() {
    let fake = FakeApi::start();
    let test = planned(&fake, "4", &[]).args(["submit", "r"]);
    test.success();
    let test = test.args(["cancel", "r"]);
    test.success().stdout_has("cancelling");
    let test = wait(test);
    test.expect(1).stdout_has("cancelled");
    let ids = results(&test);
    assert_eq!(ids.len(), 8);
    let errors = read_jsonl(&test.path("batches/r/outputs/shard-000.errors.jsonl"));
    assert!(errors
        .iter()
        .all(|e| e["error"]["code"] == "batch_cancelled"));
}

#[test]
fn status_reports_every_shard_as_json() {
    let fake = FakeApi::start();
    let test = planned(&fake, "6", &["--max-requests-per-shard", "4"]).args(["submit", "r"]);
    test.success();
    let test = test.args(["status", "r", "--json"]);
    let out = test.success().json();
    let shards = out["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    for shard in shards {
        assert_eq!(shard["remote"]["batch"]["status"], "in_progress");
    }
    let test = test.args(["status", "r"]);
    let done = test.success();
    done.stdout_has("created (UTC)");
    for shard in shards {
        let created = shard["remote"]["batch"]["created_at"].as_i64().unwrap();
        let shown = chrono::DateTime::from_timestamp(created, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M")
            .to_string();
        done.stdout_has(&shown);
    }
}

#[test]
fn waves_keep_enqueued_tokens_under_the_limit() {
    let fake = FakeApi::start();
    let test = planned(&fake, "20", &["--enqueued-token-limit", "6000"]);
    let shards = manifest(&test)["shards"].as_array().unwrap().len();
    assert!(shards >= 3, "{shards}");
    let test = test.args(["submit", "r"]);
    test.success().stderr_has("wait for room");
    assert_eq!(fake.batches_created(), 1, "the first wave only");
    let test = wait(test);
    test.success();
    assert_eq!(fake.batches_created(), shards);
    // Each batch was created only after the one before had finished.
    let batches = fake.batches();
    for pair in batches.windows(2) {
        let finished = pair[0]["completed_at"].as_u64().unwrap();
        assert!(pair[1]["created_at"].as_u64().unwrap() >= finished);
    }
    assert_eq!(results(&test).len(), 40);
}

#[test]
fn retry_after_is_honoured() {
    let fake = FakeApi::start();
    let test = planned(&fake, "2", &[]).args(["submit", "r"]);
    test.success();
    fake.fault(Route::Retrieve, Fault::RateLimited { retry_after: 1 });
    let test = test
        .args(["status", "r"])
        .env("SAFESFT_NO_RETRY_DELAY", "0");
    let started = Instant::now();
    test.success();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(fake.calls(Route::Retrieve), 2);
}

fn kill_when(test: &Test, fake: &FakeApi, what: &str, reached: impl Fn(&FakeApi) -> bool) {
    let mut child = test.spawn();
    fake.wait_until(what, reached);
    // Let the client get into its hung call, then kill it like a crash would.
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn crash_between_upload_and_create_reuses_the_upload() {
    let fake = FakeApi::start();
    fake.fault(Route::Upload, Fault::HangAfterApply);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    kill_when(&test, &fake, "the upload", |f| f.files_uploaded() == 1);
    assert_eq!(fake.batches_created(), 0);
    test.success().stderr_has("reusing the earlier upload");
    assert_eq!(fake.files_uploaded(), 1);
    assert_eq!(fake.batches_created(), 1);
}

#[test]
fn crash_between_create_and_the_manifest_write_finds_the_batch() {
    let fake = FakeApi::start();
    fake.fault(Route::Create, Fault::HangAfterApply);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    kill_when(&test, &fake, "the create", |f| f.batches_created() == 1);
    test.success().stderr_has("found batch");
    assert_eq!(fake.batches_created(), 1);
    let id = fake.batches()[0]["id"].clone();
    assert_eq!(manifest(&test)["shards"][0]["remote"]["batch_id"], id);
    let test = wait(test);
    test.success();
    assert_eq!(results(&test).len(), 6);
}

#[test]
fn crash_before_create_creates_exactly_once() {
    let fake = FakeApi::start();
    fake.fault(Route::Create, Fault::HangBeforeApply);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    kill_when(&test, &fake, "the create call", |f| {
        f.calls(Route::Create) == 1
    });
    assert_eq!(fake.batches_created(), 0);
    test.success().stderr_has("created");
    assert_eq!(fake.batches_created(), 1);
}

#[test]
fn crash_during_a_download_leaves_no_partial_file() {
    let fake = FakeApi::start();
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success();
    fake.fault(Route::Content, Fault::HalfBodyThenHang);
    let test = wait(test);
    kill_when(&test, &fake, "the download", |f| {
        f.calls(Route::Content) == 1
    });
    let outputs = test.path("batches/r/outputs");
    let finished: Vec<_> = std::fs::read_dir(&outputs)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    std::path::Path::new(n)
                        .extension()
                        .is_some_and(|e| e == "jsonl")
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        finished.is_empty(),
        "no file renamed into place before it was whole: {finished:?}"
    );
    test.success();
    let ids: HashSet<String> = results(&test).into_iter().collect();
    assert_eq!(ids.len(), 6);
    let leftovers: Vec<_> = std::fs::read_dir(&outputs)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "stale temp files cleaned: {leftovers:?}"
    );
}

#[test]
fn ambiguous_create_failures_never_create_twice() {
    let fake = FakeApi::start();
    fake.fault(Route::Create, Fault::DropAfterApply);
    fake.fault(Route::Create, Fault::Status(500));
    let test = planned(&fake, "4", &["--max-requests-per-shard", "4"]).args(["submit", "r"]);
    test.success();
    assert_eq!(fake.batches_created(), 2, "two shards, two batches");
    let ids: HashSet<_> = manifest(&test)["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["remote"]["batch_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
}

#[test]
fn a_second_process_on_the_same_run_is_refused() {
    let fake = FakeApi::start();
    fake.fault(Route::Upload, Fault::HangBeforeApply);
    let test = planned(&fake, "2", &[]).args(["submit", "r"]);
    let mut child = test.spawn();
    fake.wait_until("the upload call", |f| f.calls(Route::Upload) == 1);
    test.expect(2)
        .stderr_has("in use by another safesft process");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn ctrl_c_stops_cleanly_and_the_run_resumes() {
    let fake = FakeApi::start();
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success();
    fake.fault(Route::Content, Fault::HangBeforeApply);
    let test = wait(test);
    let mut child = test.spawn();
    fake.wait_until("the download", |f| f.calls(Route::Content) == 1);
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "Ctrl-C exits 130");
    let manifest = manifest(&test);
    assert!(
        manifest["shards"][0]["remote"]["output"].is_null(),
        "nothing half-recorded"
    );
    test.success();
    assert_eq!(results(&test).len(), 6);
    assert_eq!(fake.batches_created(), 1);
}
