//! Overnight robustness (issue 10) against the fake Batch API: damaged downloads fetched
//! again and never paid twice, outages ridden out, `status` beside `wait`, `cancel`
//! that never creates, tampered plan files refused, malformed answers reported, the
//! key never printed.

use std::time::Duration;

use crate::fake_api::{FakeApi, Fault, Route};
use crate::{plan_args, read_json, read_jsonl, wait_now as wait, Test};

pub use crate::KEY;

/// A planned run `r` of the first `pairs` pairs, talking to `fake`.
pub fn planned(fake: &FakeApi, pairs: &str, extra: &[&str]) -> Test {
    // Stage-1 mechanics: the verify stage (tests/it/verify.rs) is off here.
    let mut flags = vec!["--num-pairs", pairs, "--no-verify"];
    flags.extend_from_slice(extra);
    let test = Test::new().args(plan_args("r", &flags));
    test.success();
    crate::talking_to(test, fake)
}

/// A run `r` of `pairs` pairs, submitted and waited for (every batch completed).
pub fn finished(fake: &FakeApi, pairs: &str) -> Test {
    let test = planned(fake, pairs, &[]).args(["submit", "r"]);
    test.success();
    let test = wait(test);
    test.success();
    test
}

pub fn manifest(test: &Test) -> serde_json::Value {
    read_json(&test.path("batches/r/manifest.json"))
}

fn sha256(path: &std::path::Path) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

const OUTPUT: &str = "batches/r/outputs/shard-000.output.jsonl";

fn truncate_half(test: &Test, relative: &str) {
    let path = test.path(relative);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn a_damaged_or_deleted_download_is_fetched_again_and_never_paid_twice() {
    let fake = FakeApi::start();
    let test = finished(&fake, "3");
    let recorded = manifest(&test)["shards"][0]["remote"]["output"]["sha256"].clone();
    let downloads = fake.calls(Route::Content);

    // Truncated: `wait` sees it and fetches it again from its file id.
    truncate_half(&test, OUTPUT);
    let test = wait(test);
    test.success().stderr_has("fetching it again");
    assert_eq!(sha256(&test.path(OUTPUT)), recorded.as_str().unwrap());
    assert!(fake.calls(Route::Content) > downloads);

    // Deleted: `reconcile` fetches it again before reading.
    std::fs::remove_file(test.path(OUTPUT)).unwrap();
    let test = test.args(["reconcile", "r"]);
    test.success();
    assert_eq!(sha256(&test.path(OUTPUT)), recorded.as_str().unwrap());

    // Truncated before a retry: nothing already answered is sent again.
    truncate_half(&test, OUTPUT);
    let index_before = read_jsonl(&test.path("batches/r/requests/index.jsonl")).len();
    let test = test.args(["retry", "r", "--no-submit"]);
    test.success().stdout_has("nothing to retry");
    assert_eq!(
        read_jsonl(&test.path("batches/r/requests/index.jsonl")).len(),
        index_before
    );
    assert_eq!(fake.batches_created(), 1, "one bill");
}

#[test]
fn wait_rides_out_an_outage_longer_than_the_retry_helper() {
    let fake = FakeApi::start();
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success();
    fake.outage(Duration::from_secs(3));
    let test = test.args([
        "wait",
        "r",
        "--quiet",
        "--poll-initial-seconds",
        "0.2",
        "--poll-max-seconds",
        "0.5",
    ]);
    let done = test.success();
    done.stderr_has("has not answered for");
    assert!(
        fake.outage_hits() > 8,
        "the outage outlasted the retry helper's 8 attempts"
    );
    assert!(
        manifest(&test)["shards"][0]["remote"]["line_check"]["problems"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_batch_the_api_does_not_know_ends_wait() {
    let fake = FakeApi::start();
    let test = planned(&fake, "2", &[]).args(["submit", "r"]);
    test.success();
    fake.fault(Route::Retrieve, Fault::Status(404));
    wait(test).expect(2).stderr_has("404");
}

#[test]
fn status_works_while_wait_runs_and_on_a_folder_it_cannot_lock() {
    let fake = FakeApi::start();
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success();
    fake.fault(Route::Retrieve, Fault::HangBeforeApply);
    let waiting = wait(test);
    let mut child = waiting.spawn();
    fake.wait_until("wait's first look", |f| f.calls(Route::Retrieve) == 1);
    let status = waiting.args(["status", "r", "--json"]);
    let out = status.success().json();
    assert_eq!(out["shards"].as_array().unwrap().len(), 1);
    child.kill().unwrap();
    child.wait().unwrap();
    let test = wait(status);
    test.success();

    // A lock file that cannot be opened for writing (as in a read-only folder).
    let lock = test.path("batches/r/.lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    let test = test.args(["status", "r"]);
    test.success().stdout_has("completed");
    let test = test.args([
        "reconcile",
        "r",
        "--output-dir",
        "elsewhere/sft",
        "--reports-dir",
        "elsewhere/reports",
    ]);
    test.success();
    assert!(test.path("elsewhere/sft/sft_combined_safe.jsonl").exists());
}

#[test]
fn cancel_of_an_interrupted_submission_never_creates_a_batch() {
    let fake = FakeApi::start();
    fake.fault(Route::Create, Fault::HangBeforeApply);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    let mut child = test.spawn();
    fake.wait_until("the create call", |f| f.calls(Route::Create) == 1);
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(fake.batches_created(), 0);

    let test = test.args(["cancel", "r"]);
    test.success().stdout_has("withdrawn");
    assert_eq!(fake.calls(Route::Create), 1, "no POST /batches from cancel");
    assert_eq!(fake.files_uploaded(), 1, "no upload from cancel");
    assert_eq!(manifest(&test)["shards"][0]["remote"]["withdrawn"], true);
}

#[test]
fn cancel_finds_a_batch_whose_creation_answer_was_lost() {
    let fake = FakeApi::start();
    fake.fault(Route::Create, Fault::HangAfterApply);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    let mut child = test.spawn();
    fake.wait_until("the create", |f| f.batches_created() == 1);
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let test = test.args(["cancel", "r"]);
    test.success().stdout_has("cancelling");
    assert_eq!(fake.batches_created(), 1);
    assert_eq!(fake.calls(Route::Create), 1);
    assert_eq!(fake.calls(Route::Cancel), 1);
}

#[test]
fn a_tampered_index_pairs_or_shard_file_is_refused() {
    let fake = FakeApi::start();
    let test = planned(&fake, "5", &[]);
    let index = test.path("batches/r/requests/index.jsonl");
    let original = std::fs::read_to_string(&index).unwrap();
    let shorter = original.lines().skip(3).collect::<Vec<_>>().join("\n") + "\n";
    std::fs::write(&index, shorter).unwrap();
    let submit = test.args(["submit", "r"]);
    submit
        .expect(2)
        .stderr_has("index.jsonl")
        .stderr_has("changed since it was planned");
    assert_eq!(fake.calls(Route::Upload), 0);
    std::fs::write(&index, original).unwrap();
    submit.success();
    let test = wait(submit);
    test.success();

    let pairs = test.path("batches/r/pairs.jsonl");
    let pairs_text = std::fs::read_to_string(&pairs).unwrap();
    std::fs::write(&pairs, pairs_text.replacen('a', "b", 1)).unwrap();
    let reconcile = test.args(["reconcile", "r"]);
    reconcile.expect(2).stderr_has("pairs.jsonl");
    let waited = wait(reconcile);
    waited.expect(2).stderr_has("pairs.jsonl");
}

#[test]
fn wait_checks_the_budget_before_it_submits_a_later_wave() {
    let fake = FakeApi::start();
    let test = planned(&fake, "20", &["--enqueued-token-limit", "6000"]);
    let path = test.path("batches/r/manifest.json");
    let mut edited = read_json(&path);
    edited["budget_usd"] = serde_json::json!("0.0001");
    std::fs::write(&path, edited.to_string()).unwrap();
    let waited = wait(test);
    waited.expect(1).stderr_has("over the budget");
    assert_eq!(fake.calls(Route::Upload), 0);
}

#[test]
fn malformed_answers_are_unreadable_lines_never_zero_tokens() {
    let fake = FakeApi::start();
    fake.malformed_answers();
    let test = finished(&fake, "3");
    let test = test.args(["reconcile", "r", "--json"]);
    let out = test.expect(1).json();
    let unreadable = out["stats"]["line_problems"]["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert_eq!(unreadable.len(), 3, "{unreadable:?}");
    for line in &unreadable {
        assert!(
            line.starts_with("outputs/shard-000.output.jsonl:"),
            "file:line: {line}"
        );
    }
    assert!(unreadable.iter().any(|l| l.contains("not an object")));
    assert!(unreadable.iter().any(|l| l.contains("\"lots\"")));
    assert!(unreadable.iter().any(|l| l.contains("-500")));
}

#[test]
fn an_echoing_gateway_never_gets_the_key_printed_or_stored() {
    let fake = FakeApi::start();
    let test = planned(&fake, "2", &[]).args(["submit", "r"]);
    test.success();
    fake.fault(Route::Retrieve, Fault::EchoAuthorization);
    let test = test.args(["status", "r"]);
    let done = test.expect(2);
    done.stderr_has("Authorization: Bearer [redacted]");
    for text in [&done.stdout, &done.stderr] {
        assert!(!text.contains("NEVER-PRINT"), "{text}");
    }
    let manifest_text = std::fs::read_to_string(test.path("batches/r/manifest.json")).unwrap();
    assert!(!manifest_text.contains("NEVER-PRINT"));
}

#[test]
fn an_upload_whose_answer_was_lost_is_looked_up_not_sent_again() {
    let fake = FakeApi::start();
    fake.fault(Route::Upload, Fault::DropAfterApply);
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    test.success().stderr_has("reusing the earlier upload");
    assert_eq!(fake.files_uploaded(), 1, "uploaded once");
    assert_eq!(fake.batches_created(), 1);
}

#[test]
fn orphaned_uploads_of_the_run_are_deleted() {
    let fake = FakeApi::start();
    let test = planned(&fake, "3", &[]).args(["submit", "r"]);
    // An earlier upload of the same shard whose answer was lost.
    let plan = manifest(&test)["plan_hash"].as_str().unwrap()[..12].to_string();
    let name = format!("safesft-r-shard-000-{plan}.jsonl");
    let bytes = std::fs::read(test.path("batches/r/requests/shard-000.jsonl")).unwrap();
    fake.plant_upload(&name, bytes);
    // This one's answer is lost too: the process is killed waiting for it.
    fake.fault(Route::Upload, Fault::HangAfterApply);
    let mut child = test.spawn();
    fake.wait_until("the upload", |f| f.files_uploaded() == 1);
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(fake.batch_file_names(), [name.clone(), name.clone()]);

    test.success().stderr_has("deleted 1 earlier upload");
    assert_eq!(fake.batch_file_names(), [name], "the orphan is deleted");
    assert_eq!(fake.calls(Route::DeleteFile), 1);
    assert_eq!(fake.batches_created(), 1);
}

#[test]
fn leftovers_of_killed_processes_are_removed_at_the_next_start() {
    let fake = FakeApi::start();
    let test = finished(&fake, "3");
    // What a `kill -9` leaves: a plan's staging folder, a set-aside plan, temp files of
    // the manifest, the SFT files and the reports (pid 4194399 never runs: over 2^22).
    let leftovers = [
        "batches/.plan-4194399-abc/requests/shard-000.jsonl",
        "batches/.replaced-4194399-r/manifest.json",
        "batches/r/.tmp-4194399-manifest",
        "batches/r/sft/.tmp-4194399-sft",
        "reports/.tmp-4194399-ledger",
    ];
    for path in leftovers {
        test.write(path, "half");
    }
    let test = test.args(plan_args("other", &["--num-pairs", "2"]));
    test.success();
    let test = test.args(["reconcile", "r"]);
    test.success();
    for path in leftovers {
        let top = path.split('/').take(2).collect::<Vec<_>>().join("/");
        let gone = if path.starts_with("batches/.") {
            top
        } else {
            path.to_string()
        };
        assert!(!test.path(&gone).exists(), "{gone} is left");
    }
}
