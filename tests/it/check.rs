//! `safesft check`: one paraphrase against its original, from files.

use crate::Test;

/// `safesft check` of `paraphrase` against NOTE, plus `extra` flags.
fn check(paraphrase: &str, extra: &[&str]) -> Test {
    let test = Test::new();
    test.write("note.txt", NOTE);
    test.write("paraphrase.txt", paraphrase);
    let mut args = vec![
        "check",
        "--original",
        "note.txt",
        "--paraphrase",
        "paraphrase.txt",
    ];
    args.extend_from_slice(extra);
    test.args(args)
}

const NOTE: &str = "A 58-year-old man takes metoprolol 50 mg orally twice daily. He has no chest pain. His blood pressure is 150/90 mm Hg. Examination shows edema of the left ankle.";

#[test]
fn a_faithful_paraphrase_is_accepted() {
    let test = check(
        "Left ankle edema is seen on examination. BP 150/90 mmHg. This 58-year-old male denies chest pain and is on metoprolol 50 mg by mouth twice a day.",
        &["--finish-reason", "stop"],
    );
    test.success().stdout_has("accepted");
}

#[test]
fn an_unsafe_paraphrase_is_rejected_with_reasons() {
    let test = check(
        "Here is the paraphrased note:\nRight ankle edema is seen on examination. BP 150/90 mmHg. This 58-year-old male reports chest pain and is on metoprolol 500 mg by mouth twice a day.",
        &["--json"],
    );
    let verdict = test.expect(1).json();
    assert_eq!(verdict["accepted"], false);
    let checks: Vec<&str> = verdict["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    for expected in [
        "preamble",
        "number_dropped",
        "number_added",
        "laterality",
        "negation_lost",
    ] {
        assert!(
            checks.contains(&expected),
            "{expected} missing from {checks:?}"
        );
    }
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let test = Test::new().args([
        "check",
        "--original",
        "nope.txt",
        "--paraphrase",
        "nope.txt",
    ]);
    test.expect(2).stderr_has("cannot read `nope.txt`");
}

#[test]
fn a_batch_gives_one_verdict_line_per_pair() {
    let line = |id: &str, paraphrase: &str| {
        serde_json::json!({"id": id, "original": NOTE, "paraphrase": paraphrase, "finish_reason": "stop"})
            .to_string()
    };
    let test = Test::new();
    test.write(
        "pairs.jsonl",
        format!(
            "{}\n\n{}\n",
            line(
                "kept",
                "Left ankle edema is seen on examination. BP 150/90 mmHg. This 58-year-old male denies chest pain and is on metoprolol 50 mg by mouth twice a day."
            ),
            line(
                "dose",
                "Left ankle edema is seen on examination. BP 150/90 mmHg. This 58-year-old male denies chest pain and is on metoprolol 500 mg by mouth twice a day."
            )
        ),
    );
    let done = test
        .args(["check", "--batch", "pairs.jsonl", "--json"])
        .expect(1);
    let lines: Vec<serde_json::Value> = done
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "kept");
    assert_eq!(lines[0]["accepted"], true);
    assert_eq!(lines[1]["id"], "dose");
    assert_eq!(lines[1]["accepted"], false);
    assert_eq!(
        lines[1]["doubt_only"], false,
        "a dose change is a hard check's"
    );
    assert_eq!(lines[0]["doubt_only"], false);
}

#[test]
fn a_rejection_by_concept_checks_alone_is_called_a_doubt() {
    // The same facts, with a finding the note never states: no number, unit or drug.
    let added = "Left ankle edema and a mild cough are seen on examination. BP 150/90 mmHg. This 58-year-old male denies chest pain and is on metoprolol 50 mg by mouth twice a day.";
    let done = check(added, &["--finish-reason", "stop", "--json"]).expect(1);
    let verdict = done.json();
    assert_eq!(verdict["accepted"], false);
    assert_eq!(verdict["doubt_only"], true, "{verdict}");
    check(added, &["--finish-reason", "stop"])
        .expect(1)
        .stdout_has("`--doubts verify` sends it to the verifier");
    // A hard check among the rejections: no doubt.
    let verdict = check(&added.replace("50 mg", "25 mg"), &["--json"])
        .expect(1)
        .json();
    assert_eq!(verdict["doubt_only"], false, "{verdict}");
}

#[test]
fn a_bad_batch_line_names_file_line_and_field() {
    let test = Test::new();
    test.write(
        "pairs.jsonl",
        "{\"id\": 1, \"original\": \"a\", \"paraphrase\": \"b\"}\n{\"id\": 2, \"original\": \"a\"}\n",
    );
    test.args(["check", "--batch", "pairs.jsonl"])
        .expect(2)
        .stderr_has("pairs.jsonl:2: field `paraphrase` is missing or not a string");
}
