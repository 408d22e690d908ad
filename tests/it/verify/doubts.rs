//! `--doubts verify`: a paraphrase only concept-level checks reject goes to the verifier
//! instead of being thrown away; `same` keeps it (its rule findings recorded as cleared),
//! `changed` rejects it with both. The default (`reject`) throws it away as before. The
//! fake adds a finding the original never states to every 2nd paraphrase; its verifier
//! flags every 2nd of those.

use std::collections::BTreeSet;

use super::{manifest, planned, planned_ids, result_lines, FAST};
use crate::fake_api::FakeApi;
use crate::{read_json, read_jsonl, Test};

/// Run `r` of 16 pairs with `doubts` flags, through both stages and reconcile.
fn doubtful_run(doubts: &[&str]) -> (FakeApi, Test, String) {
    let fake = FakeApi::start();
    fake.doubtful_paraphrases(2, Some(2));
    let mut flags = vec!["--num-pairs", "16", "--no-reasoning"];
    flags.extend_from_slice(doubts);
    let test = planned(&fake, &flags).args(["submit", "r"]);
    test.success();
    let mut args = vec!["wait", "r"];
    args.extend_from_slice(&FAST);
    let test = test.args(args);
    test.success();
    let test = test.args(["reconcile", "r", "--reports-dir", "reports"]);
    let stdout = test.success().stdout.clone();
    (fake, test, stdout)
}

fn notes_of(records: &[serde_json::Value], key: &str) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

/// The `rejected.jsonl` line of `note`'s paraphrase, and the checks it names.
fn rejected_paraphrase<'a>(
    rejected: &'a [serde_json::Value],
    note: &str,
) -> (&'a serde_json::Value, BTreeSet<&'a str>) {
    let line = rejected
        .iter()
        .find(|r| r["note_id"] == note && r["kind"] == "paraphrase")
        .unwrap_or_else(|| panic!("{note} is not in rejected.jsonl"));
    let checks = line["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    (line, checks)
}

#[test]
fn doubted_paraphrases_go_to_the_verifier_which_keeps_or_rejects_them() {
    let (fake, test, stdout) = doubtful_run(&["--doubts", "verify"]);
    assert_eq!(manifest(&test)["verify"]["doubts"], "verify");
    let verifier = fake.verifier();
    let doubted: BTreeSet<String> = verifier.doubted_notes.iter().cloned().collect();
    let flagged: BTreeSet<String> = verifier.doubted_flagged.iter().cloned().collect();
    assert_eq!(doubted.len(), 8, "every 2nd of 16 paraphrases");
    assert_eq!(flagged.len(), 4, "every 2nd of those");

    // Each doubted paraphrase was read by a verify request, as a rule-passing one is.
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    let read_by_verifier: BTreeSet<String> = index
        .iter()
        .filter(|e| e["kind"] == "verify")
        .map(|e| {
            let id = e["custom_id"].as_str().unwrap();
            id.split('|').next().unwrap().to_string()
        })
        .collect();
    assert!(
        doubted.is_subset(&read_by_verifier),
        "{doubted:?} ⊄ {read_by_verifier:?}"
    );
    let ids: BTreeSet<String> = result_lines(&test)
        .iter()
        .map(|(_, l)| l["custom_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        planned_ids(&test),
        "every planned request has its line"
    );

    let sft = test.path("batches/r/sft");
    let correct = read_jsonl(&sft.join("sft_correct.jsonl"));
    let incorrect = read_jsonl(&sft.join("sft_incorrect.jsonl"));
    assert_eq!(correct.len(), incorrect.len(), "balance stays 50/50");
    let kept = notes_of(&correct, "original_note_id");
    // Cleared doubts are kept, and their record says the rules doubted them.
    let cleared: BTreeSet<String> = doubted.difference(&flagged).cloned().collect();
    assert!(cleared.is_subset(&kept), "{cleared:?} ⊄ {kept:?}");
    for record in &correct {
        let note = record["original_note_id"].as_str().unwrap();
        let doubts = &record["metadata"]["rule_doubts_cleared_by_verifier"];
        if cleared.contains(note) {
            let checks: Vec<&str> = doubts
                .as_array()
                .unwrap_or_else(|| panic!("{note}: no cleared doubts in {record}"))
                .iter()
                .map(|d| d["check"].as_str().unwrap())
                .collect();
            assert!(checks.contains(&"finding_added"), "{note}: {checks:?}");
            assert!(record["note"]
                .as_str()
                .unwrap()
                .ends_with(crate::fake_api::DOUBT));
        } else {
            assert!(doubts.is_null(), "{note} was never doubted: {record}");
        }
    }
    // Flagged doubts never reach the dataset: rejected with the rules' findings and the
    // verifier's.
    let rejected = read_jsonl(&sft.join("rejected.jsonl"));
    for note in &flagged {
        assert!(!kept.contains(note), "{note} was flagged but kept");
        let (line, checks) = rejected_paraphrase(&rejected, note);
        assert!(
            checks.contains("verifier") && checks.contains("finding_added"),
            "{line}"
        );
        assert_eq!(line["retryable"], true, "a new paraphrase may pass");
    }

    // The stats say how many rest on the verifier's word, and add up.
    let stats = read_json(&sft.join("generation_stats_safe.json"));
    let paraphrase = &stats["stages"]["generate"]["paraphrase"];
    let n = |k: &str| paraphrase[k].as_u64().unwrap();
    assert_eq!(n("kept_after_doubt"), cleared.len() as u64);
    assert!(
        stdout.contains(&format!(
            "{} kept paraphrases only concept checks had rejected were cleared by the verifier",
            cleared.len()
        )),
        "{stdout}"
    );
    assert_eq!(n("rejected_by_verifier"), flagged.len() as u64);
    assert_eq!(
        n("rejected_by_rules"),
        0,
        "no paraphrase fails a hard check here"
    );
    super::assert_stage_adds_up(paraphrase);
    assert_eq!(n("kept"), correct.len() as u64);
    assert_eq!(
        stats["generation"]["doubts_cleared_by_check"]["finding_added"],
        cleared.len() as u64
    );
}

#[test]
fn by_default_a_doubted_paraphrase_is_rejected_without_a_verify_request() {
    let (fake, test, stdout) = doubtful_run(&[]);
    assert!(!stdout.contains("cleared by the verifier"), "{stdout}");
    assert!(manifest(&test)["verify"].get("doubts").is_none());
    let doubted: BTreeSet<String> = fake.verifier().doubted_notes.into_iter().collect();
    assert_eq!(doubted.len(), 8);
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    for entry in index.iter().filter(|e| e["kind"] == "verify") {
        let note = entry["custom_id"]
            .as_str()
            .unwrap()
            .split('|')
            .next()
            .unwrap();
        assert!(!doubted.contains(note), "{note} was doubted, yet verified");
    }
    let sft = test.path("batches/r/sft");
    let kept = notes_of(
        &read_jsonl(&sft.join("sft_correct.jsonl")),
        "original_note_id",
    );
    assert!(kept.is_disjoint(&doubted));
    let rejected = read_jsonl(&sft.join("rejected.jsonl"));
    for note in &doubted {
        let (line, checks) = rejected_paraphrase(&rejected, note);
        assert!(
            checks.contains("finding_added") && !checks.contains("verifier"),
            "{line}"
        );
    }
    let stats = read_json(&sft.join("generation_stats_safe.json"));
    let paraphrase = &stats["stages"]["generate"]["paraphrase"];
    assert_eq!(paraphrase["kept_after_doubt"], 0);
    assert_eq!(paraphrase["rejected_by_rules"], doubted.len() as u64);
    assert!(stats["generation"].get("doubts_cleared_by_check").is_none());
}

#[test]
fn doubts_need_a_verifier() {
    let test = Test::new().args(crate::plan_args(
        "r",
        &["--no-verify", "--doubts", "verify"],
    ));
    test.expect(2).stderr_has("--doubts");
}
