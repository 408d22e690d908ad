//! `safesft import`: the real MEDEC release, every CSV quirk and broken row.

use std::collections::HashSet;

use crate::{read_jsonl, sample, Test};

const HEADER: &str = "Text ID,Text,Sentences,Error Flag,Error Type,Error Sentence ID,Error Sentence,Corrected Sentence,Corrected Text\r\n";

#[test]
fn medec_ms_validation_set_gives_319_pairs() {
    let test = Test::new().args([
        "import",
        sample().to_str().unwrap(),
        "--json",
        "--output-dir",
        "out",
    ]);
    let summary = test.success().json();
    assert_eq!(summary["summary"]["pairs"], 319);
    assert_eq!(summary["summary"]["unpaired_correct_rows"], 255);
    assert_eq!(summary["summary"]["rows"], 574);
    assert_eq!(summary["summary"]["blank_rows"], 0);
    assert_eq!(summary["summary"]["corrected_text_exact"], 277);
    assert_eq!(summary["summary"]["corrected_text_whitespace_only"], 42);
    assert_eq!(
        summary["summary"]["corrected_text_other"],
        serde_json::json!([])
    );
    let by_type = &summary["summary"]["pairs_by_error_type"];
    assert_eq!(by_type["management"], 168);
    assert_eq!(by_type["causal_organism"], 13);

    // Every note is in the release byte for byte (as a CSV field: quotes doubled).
    let raw = std::fs::read_to_string(sample()).unwrap();
    let pairs = read_jsonl(&test.path("out/pairs.jsonl"));
    assert_eq!(pairs.len(), 319);
    for pair in &pairs {
        for field in ["incorrect_note", "correct_note"] {
            let note = pair[field].as_str().unwrap();
            let quoted = format!("\"{}\"", note.replace('"', "\"\""));
            let bare = !note.contains(['"', ',', '\n', '\r'])
                && (raw.contains(&format!(",{note},")) || raw.contains(&format!(",{note}\r\n")));
            assert!(
                raw.contains(&quoted) || bare,
                "{} {field} is not byte for byte",
                pair["note_id"]
            );
        }
    }
    assert_eq!(pairs[0]["note_id"], "ms-val-0");
    assert!(pairs[0]["incorrect_note"]
        .as_str()
        .unwrap()
        .ends_with("sweating. "));
}

#[test]
fn import_text_summary_counts_every_row() {
    let test = Test::new().args(["import", sample().to_str().unwrap()]);
    let done = test.success();
    let count = |label: &str| -> String {
        let line = done
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        line[label.len() + 2..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(count("rows read"), "574", "{}", done.stdout);
    assert_eq!(count("pairs"), "319", "{}", done.stdout);
    assert_eq!(count("Error Flag 0 rows"), "255", "{}", done.stdout);
    assert_eq!(count("blank rows"), "0", "{}", done.stdout);
    done.stdout_has("wrote ./pairs.jsonl (319 pairs)");
}

#[test]
fn split_is_disjoint_and_repeatable() {
    let run = |dir: &str| {
        let test = Test::new().args([
            "import",
            sample().to_str().unwrap(),
            "--output-dir",
            dir,
            "--val-fraction",
            "0.2",
            "--seed",
            "7",
        ]);
        test.success();
        let ids = |name: &str| -> Vec<String> {
            read_jsonl(&test.path(&format!("{dir}/{name}")))
                .iter()
                .map(|p| p["note_id"].as_str().unwrap().to_string())
                .collect()
        };
        (ids("pairs_train.jsonl"), ids("pairs_val.jsonl"))
    };
    let (train, val) = run("a");
    assert_eq!((train.len(), val.len()), (255, 64));
    let train_set: HashSet<_> = train.iter().collect();
    assert!(val.iter().all(|id| !train_set.contains(id)));
    assert_eq!(run("b"), (train, val));
}

#[test]
fn blank_rows_and_byte_order_mark_are_handled() {
    let test = Test::new();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(HEADER.as_bytes());
    bytes.extend_from_slice(b",,,,,,,,\r\n,,,,,,,,\r\nx-1,\"Flu. \",s,1,diagnosis,0,Flu.,Strep.,\"Strep. \"\r\n,,,,,,,,\r\n");
    let input = test.write("test.csv", bytes);
    let test = test.args(["import", input.to_str().unwrap(), "--json"]);
    let summary = test.success().json();
    assert_eq!(summary["summary"]["blank_rows"], 3);
    assert_eq!(summary["summary"]["pairs"], 1);
    assert_eq!(summary["summary"]["byte_order_mark"], true);
}

#[test]
fn broken_rows_stop_with_file_line_and_column() {
    let cases: [(&str, &str); 4] = [
        (
            "x-1,\"A\nB. \",s,1,diagnosis,0,B.,C.,NA\r\n",
            "test.csv:3: column `Corrected Text`",
        ),
        (
            "x-1,A,s,yes,diagnosis,0,A,B,B\r\n",
            "test.csv:2: column `Error Flag`: unknown value `yes`",
        ),
        (
            "x-1,A,s,1,dosage,0,A,B,B\r\n",
            "test.csv:2: column `Error Type`: unknown error type `dosage`",
        ),
        (
            "x-1,A,s,1,diagnosis,0,A,B,B\r\nx-1,A,s,1,diagnosis,0,A,B,B\r\n",
            "test.csv:3: column `Text ID`: duplicate Text ID `x-1`",
        ),
    ];
    for (body, expected) in cases {
        let test = Test::new();
        let input = test.write("test.csv", format!("{HEADER}{body}"));
        let test = test.args(["import", input.to_str().unwrap(), "--output-dir", "out"]);
        let done = test.expect(2);
        assert!(
            done.stderr.contains(expected),
            "want {expected:?}\n{}",
            done.stderr
        );
        assert!(
            !test.path("out/pairs.jsonl").exists(),
            "nothing half-written"
        );
    }
}

#[test]
fn non_utf8_bytes_are_an_error_unless_skipped() {
    let with_latin1_row = || {
        let test = Test::new();
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(
            b"x-1,A,s,1,diagnosis,0,A,B,B\r\nx-2,caf\xe9,s,1,diagnosis,0,A,B,B\r\n",
        );
        let input = test.write("test.csv", bytes);
        (test, input.to_str().unwrap().to_string())
    };
    let (test, input) = with_latin1_row();
    let test = test.args(["import", &input]);
    test.expect(2)
        .stderr_has("test.csv:3: column `Text`: is not valid UTF-8");

    let (test, input) = with_latin1_row();
    let test = test.args(["import", &input, "--skip-invalid", "--json"]);
    let done = test.success();
    assert_eq!(done.json()["summary"]["pairs"], 1);
    assert_eq!(done.json()["summary"]["invalid_rows"][0]["line"], 3);
    done.stderr_has("warning: skipped");
}

#[test]
fn jsonl_form_is_read_and_its_errors_are_located() {
    let test = Test::new();
    let input = test.write(
        "pairs.jsonl",
        "{\"note_id\":\"a\",\"correct_note\":\"x \",\"incorrect_note\":\"y \",\"error_type\":\"causalOrganism\"}\n{\"note_id\":\"b\",\"correct_note\":\"x\",\"incorrect_note\":\"z\",\"error_type\":\"surgery\"}\n",
    );
    let test = test.args(["import", input.to_str().unwrap(), "--output-dir", "out"]);
    let done = test.expect(2);
    done.stderr_has("pairs.jsonl:2: column `error_type`: unknown error type `surgery`");
}

#[test]
fn a_missing_input_names_the_file_and_its_cause_once() {
    let test = Test::new().args(["import", "nowhere.csv"]);
    let cause = std::fs::File::open(test.path("nowhere.csv"))
        .unwrap_err()
        .to_string();
    let done = test.expect(2);
    assert_eq!(
        done.stderr.trim_end(),
        format!("error: cannot read `nowhere.csv`: {cause}"),
        "the OS cause is printed once"
    );
    assert_eq!(done.stderr.matches(&cause).count(), 1, "{}", done.stderr);
}
