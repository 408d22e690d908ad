//! The paired JSONL form: one JSON object a line (`note_id, correct_note, incorrect_note,
//! error_type`, optional sentences), checked field by field.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::error::{MedecError, RowError};
use super::quirks::is_missing;
use super::{ErrorType, Pair, Tally};

/// A line of the paired JSONL form, before validation.
#[derive(Deserialize)]
struct JsonPair {
    note_id: Option<serde_json::Value>,
    correct_note: Option<String>,
    incorrect_note: Option<String>,
    error_type: Option<String>,
    error_sentence: Option<String>,
    corrected_sentence: Option<String>,
}

/// Reads the paired form from `reader` (named `path` in errors), handing each pair to
/// `on_pair` with the line it starts on. Blank lines are passed over.
pub(super) fn read_jsonl<E: From<MedecError>>(
    path: &Path,
    mut reader: impl BufRead,
    tally: &mut Tally,
    mut on_pair: impl FnMut(Pair, u64) -> Result<(), E>,
) -> Result<(), E> {
    let mut buffer = Vec::new();
    let mut line_number = 0u64;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(MedecError::read(path))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        tally.summary.rows += 1;
        let error = |column: Option<&str>, message: String| RowError {
            path: path.to_path_buf(),
            line: line_number,
            column: column.map(str::to_string),
            message,
        };
        match parse_line(&buffer, &error) {
            Ok(pair) => {
                let duplicate =
                    |id: &str| error(Some("note_id"), format!("duplicate note_id `{id}`"));
                if let Some(pair) = tally.admit(pair, duplicate)? {
                    on_pair(pair, line_number)?;
                }
            }
            Err(row_error) => tally.reject(row_error)?,
        }
    }
    if line_number == 0 {
        return Err(MedecError::Empty {
            path: path.to_path_buf(),
        }
        .into());
    }
    Ok(())
}

/// One line as a pair; `error` makes a located error from a field name and a problem.
fn parse_line(
    line: &[u8],
    error: &impl Fn(Option<&str>, String) -> RowError,
) -> Result<Pair, RowError> {
    let text = std::str::from_utf8(line).map_err(|e| {
        error(
            None,
            format!(
                "is not valid UTF-8 (invalid byte at column {})",
                e.valid_up_to() + 1
            ),
        )
    })?;
    let raw = serde_json::from_str::<JsonPair>(text)
        .map_err(|e| error(None, format!("is not a JSON object of a pair: {e}")))?;
    json_to_pair(raw, error)
}

fn json_to_pair(
    raw: JsonPair,
    error: &impl Fn(Option<&str>, String) -> RowError,
) -> Result<Pair, RowError> {
    let note_id = match raw.note_id {
        Some(serde_json::Value::String(id)) if !id.trim().is_empty() => id,
        Some(serde_json::Value::Number(id)) => id.to_string(),
        _ => return Err(error(Some("note_id"), "is missing or empty".into())),
    };
    let required = |value: Option<String>, field: &str| -> Result<String, RowError> {
        match value {
            Some(text) if !text.trim().is_empty() => Ok(text),
            _ => Err(error(Some(field), "is missing or empty".into())),
        }
    };
    let correct_note = required(raw.correct_note, "correct_note")?;
    let incorrect_note = required(raw.incorrect_note, "incorrect_note")?;
    let raw_type = required(raw.error_type, "error_type")?;
    let error_type = ErrorType::parse(&raw_type).ok_or_else(|| {
        error(
            Some("error_type"),
            format!("unknown error type `{raw_type}` (expected one of diagnosis, management, treatment, pharmacotherapy, causal_organism)"),
        )
    })?;
    if correct_note == incorrect_note {
        return Err(error(
            Some("incorrect_note"),
            "is identical to correct_note: a pair needs one injected error".into(),
        ));
    }
    Ok(Pair {
        note_id,
        correct_note,
        incorrect_note,
        error_type,
        error_sentence: raw.error_sentence.filter(|s| !is_missing(s)),
        corrected_sentence: raw.corrected_sentence.filter(|s| !is_missing(s)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::testing::{collect, row_error, Collected};
    use crate::medec::ReadOptions;

    fn jsonl(text: &str, options: ReadOptions) -> Collected {
        collect("pairs.jsonl", text, options)
    }

    #[test]
    fn jsonl_form_reads_required_and_optional_fields() {
        let text = concat!(
            r#"{"note_id":"ms-train-418","correct_note":"Huntington disease.","incorrect_note":"CJD.","error_type":"diagnosis","error_sentence":"CJD.","corrected_sentence":"Huntington disease.","extra":1}"#,
            "\n\n",
            r#"{"note_id":7,"correct_note":"a ","incorrect_note":"b ","error_type":"causalOrganism"}"#,
            "\n"
        );
        let (pairs, summary) = jsonl(text, ReadOptions::default()).unwrap();
        assert_eq!(summary.pairs, 2);
        assert_eq!(
            pairs[0].corrected_sentence.as_deref(),
            Some("Huntington disease.")
        );
        assert_eq!(pairs[1].note_id, "7");
        assert_eq!(pairs[1].correct_note, "a ");
        assert_eq!(pairs[1].error_type, ErrorType::CausalOrganism);
    }

    #[test]
    fn jsonl_errors_name_line_and_field() {
        let text = "{\"note_id\":\"a\",\"correct_note\":\"x\",\"incorrect_note\":\"y\",\"error_type\":\"diagnosis\"}\n{\"note_id\":\"b\",\"correct_note\":\"x\",\"error_type\":\"diagnosis\"}\n";
        let error = row_error(jsonl(text, ReadOptions::default()));
        assert_eq!(error.line, 2);
        assert_eq!(error.column.as_deref(), Some("incorrect_note"));
        let error = row_error(jsonl("not json\n", ReadOptions::default()));
        assert_eq!(error.line, 1);
        assert!(error.message.contains("JSON"));
    }

    #[test]
    fn duplicate_note_ids_are_skipped_when_asked() {
        let line = "{\"note_id\":\"a\",\"correct_note\":\"x\",\"incorrect_note\":\"y\",\"error_type\":\"diagnosis\"}\n";
        let (pairs, summary) =
            jsonl(&format!("{line}{line}"), ReadOptions { skip_invalid: true }).unwrap();
        assert_eq!((pairs.len(), summary.rows), (1, 2));
        assert_eq!(
            summary.invalid_rows[0].to_string(),
            "pairs.jsonl:2: column `note_id`: duplicate note_id `a`"
        );
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let error = jsonl("", ReadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "pairs.jsonl: the file is empty");
    }
}
