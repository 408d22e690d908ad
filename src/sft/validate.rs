//! Checks of an SFT file before training: record format, 50/50 labels (±1 %), sources,
//! duplicates, and optionally every INCORRECT note byte-identical to its MEDEC source.
//! Pure: the file's text (and the MEDEC pairs) in, a report out.

use std::collections::{HashMap, HashSet};

use super::checks::{label_balance, medec_identity};
pub use super::checks::{MedecSource, ValidationCheck, ValidationReport};
pub use super::validate_messages::is_messages_form;
use super::{SftRecord, SOURCE_CORRECT_VERIFIED, SOURCE_INCORRECT_VERIFIED, SOURCE_PARAPHRASED};

/// Reads the records of an SFT file, with the 1-based line of each and the problems
/// of the lines that are not records.
fn records(text: &str) -> (Vec<(usize, SftRecord)>, Vec<String>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in (1..).zip(text.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<SftRecord>(line) {
            Ok(record) if record.note.trim().is_empty() => {
                problems.push(format!("line {number}: empty `note`"));
            }
            Ok(record) if record.label != "CORRECT" && record.label != "INCORRECT" => {
                problems.push(format!(
                    "line {number}: label `{}` is neither CORRECT nor INCORRECT",
                    record.label
                ));
            }
            Ok(record) => records.push((number, record)),
            Err(error) => problems.push(format!("line {number}: {error}")),
        }
    }
    (records, problems)
}

/// Validates the text of an SFT file, in the record form or the chat `messages` form
/// (told apart by its first record).
pub fn validate(text: &str, medec: Option<&MedecSource<'_>>) -> ValidationReport {
    if super::validate_messages::is_messages_form(text) {
        return super::validate_messages::validate_messages(text, medec);
    }
    let (records, format_errors) = records(text);
    let correct = records.iter().filter(|(_, r)| r.label == "CORRECT").count();
    let incorrect = records.len() - correct;
    let mut checks = vec![
        ValidationCheck::from_problems(
            "record_format",
            &format_errors,
            format!("{} records", records.len()),
        ),
        label_balance(correct, records.len()),
    ];
    let bad_sources: Vec<String> = records
        .iter()
        .filter(|(_, r)| match r.label.as_str() {
            "CORRECT" => r.source != SOURCE_PARAPHRASED && r.source != SOURCE_CORRECT_VERIFIED,
            _ => r.source != SOURCE_INCORRECT_VERIFIED,
        })
        .map(|(line, r)| format!("line {line}: {} with source `{}`", r.label, r.source))
        .collect();
    checks.push(ValidationCheck::from_problems(
        "sources",
        &bad_sources,
        "CORRECT from paraphrases (or verified originals), INCORRECT from MEDEC".into(),
    ));
    let mut seen = HashSet::new();
    let duplicates: Vec<String> = records
        .iter()
        .filter(|(_, r)| !seen.insert((r.original_note_id.as_str(), r.label.as_str())))
        .map(|(line, r)| format!("line {line}: {} {} again", r.original_note_id, r.label))
        .collect();
    checks.push(ValidationCheck::from_problems(
        "duplicate_ids",
        &duplicates,
        "each note id once per label".into(),
    ));
    if let Some(source) = medec {
        let notes: HashMap<&str, &str> = source
            .pairs
            .iter()
            .map(|p| (p.note_id.as_str(), p.incorrect_note.as_str()))
            .collect();
        let mismatches: Vec<String> = records
            .iter()
            .filter(|(_, r)| r.label == "INCORRECT")
            .filter(|(_, r)| notes.get(r.original_note_id.as_str()) != Some(&r.note.as_str()))
            .map(|(line, r)| {
                format!(
                    "line {line}: {} differs from MEDEC (or is not in it)",
                    r.original_note_id
                )
            })
            .collect();
        checks.push(medec_identity(&mismatches, incorrect, source));
    }
    ValidationReport::new(records.len(), correct, checks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::Pair;

    fn line(id: &str, label: &str, source: &str, note: &str) -> String {
        serde_json::json!({
            "note": note, "label": label, "original_note_id": id, "source": source,
            "error_type": null, "error_location": null, "correction": null, "metadata": {},
        })
        .to_string()
    }

    fn check<'a>(report: &'a ValidationReport, name: &str) -> &'a ValidationCheck {
        report.checks.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn a_balanced_file_from_the_right_sources_passes() {
        let text = [
            line("a", "CORRECT", SOURCE_PARAPHRASED, "Fine note."),
            line("a", "INCORRECT", SOURCE_INCORRECT_VERIFIED, "Bad note."),
        ]
        .join("\n");
        let pair = Pair {
            note_id: "a".into(),
            correct_note: "Good note.".into(),
            incorrect_note: "Bad note.".into(),
            error_type: crate::medec::ErrorType::Diagnosis,
            error_sentence: None,
            corrected_sentence: None,
        };
        let source = MedecSource {
            name: "medec.csv",
            pairs: std::slice::from_ref(&pair),
        };
        let report = validate(&text, Some(&source));
        assert!(report.passed, "{report:?}");
        assert_eq!((report.correct, report.incorrect), (1, 1));
        let changed = text.replace("Bad note.", "Bad note!");
        let report = validate(&changed, Some(&source));
        assert!(!check(&report, "incorrect_identical_to_medec").passed);
    }

    #[test]
    fn every_problem_names_its_line() {
        let text = [
            line("a", "CORRECT", "made_up", "x"),
            line("a", "CORRECT", SOURCE_PARAPHRASED, "y"),
            "{not json".to_string(),
            line("b", "MAYBE", SOURCE_PARAPHRASED, "z"),
        ]
        .join("\n");
        let report = validate(&text, None);
        assert!(!report.passed);
        assert!(check(&report, "sources")
            .detail
            .contains("line 1: CORRECT with source `made_up`"));
        assert!(check(&report, "duplicate_ids")
            .detail
            .contains("line 2: a CORRECT again"));
        let format = &check(&report, "record_format").detail;
        assert!(
            format.contains("line 3:") && format.contains("line 4: label `MAYBE`"),
            "{format}"
        );
        assert!(
            !check(&report, "label_balance").passed,
            "2 CORRECT, 0 INCORRECT"
        );
    }

    #[test]
    fn the_balance_allows_one_percent_either_way() {
        assert!(label_balance(50, 100).passed);
        assert!(label_balance(51, 100).passed);
        assert!(!label_balance(52, 100).passed);
        assert!(!label_balance(0, 0).passed);
    }
}
