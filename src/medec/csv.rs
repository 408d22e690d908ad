//! The MEDEC release CSV (`Text ID, Text, …, Corrected Text`): its header, its rows, and
//! the line and column of anything broken in them.

use std::io::BufRead;
use std::path::Path;

use ::csv::{ByteRecord, Position, ReaderBuilder};

use super::error::{MedecError, RowError};
use super::quirks::{self, is_missing};
use super::{ErrorType, Pair, Tally};

/// The release CSV's columns, in the order MEDEC ships them.
const CSV_COLUMNS: [&str; 9] = [
    "Text ID",
    "Text",
    "Sentences",
    "Error Flag",
    "Error Type",
    "Error Sentence ID",
    "Error Sentence",
    "Corrected Sentence",
    "Corrected Text",
];

// Places in `CSV_COLUMNS` of the columns a pair is made from.
const TEXT_ID: usize = 0;
const TEXT: usize = 1;
const ERROR_FLAG: usize = 3;
const ERROR_TYPE: usize = 4;
const ERROR_SENTENCE: usize = 6;
const CORRECTED_SENTENCE: usize = 7;
const CORRECTED_TEXT: usize = 8;

/// Reads the release CSV from `reader` (named `path` in errors), handing each pair to
/// `on_pair` with the line it starts on.
pub(super) fn read_csv<E: From<MedecError>>(
    path: &Path,
    mut reader: impl BufRead,
    tally: &mut Tally,
    mut on_pair: impl FnMut(Pair, u64) -> Result<(), E>,
) -> Result<(), E> {
    let crlf = quirks::uses_crlf(&mut reader).map_err(MedecError::read(path))?;
    let mut csv = ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let names = csv
        .byte_headers()
        .map_err(|error| record_error(path, error, crlf))?;
    let header = Header::find(path, names)?;
    let mut record = ByteRecord::new();
    // The csv reader does not stop at a malformed record (an unclosed quote runs to the
    // end of the file), so an error here is an I/O one: fatal even with --skip-invalid.
    while csv
        .read_byte_record(&mut record)
        .map_err(|error| record_error(path, error, crlf))?
    {
        tally.summary.rows += 1;
        // With CRLF endings the csv reader puts a record's start on the `\n` that ends the
        // line before it, one line early.
        let start_line = record.position().map_or(0, Position::line) + u64::from(crlf);
        if record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
        {
            tally.summary.blank_rows += 1;
            continue;
        }
        let row = CsvRow {
            path,
            record: &record,
            header: &header,
            start_line,
        };
        match row.to_pair() {
            Ok(None) => tally.summary.unpaired_correct_rows += 1,
            Ok(Some(pair)) => {
                let duplicate = |id: &str| row.error(TEXT_ID, format!("duplicate Text ID `{id}`"));
                if let Some(pair) = tally.admit(pair, duplicate)? {
                    on_pair(pair, start_line)?;
                }
            }
            Err(error) => tally.reject(error)?,
        }
    }
    Ok(())
}

/// A record the csv reader could not read, at the line it reached.
fn record_error(path: &Path, source: ::csv::Error, crlf: bool) -> MedecError {
    MedecError::CsvRecord {
        path: path.to_path_buf(),
        line: source.position().map_or(0, Position::line) + u64::from(crlf),
        source,
    }
}

/// Where each of [`CSV_COLUMNS`] is in this file's header, and how many fields it has.
struct Header {
    at: [usize; 9],
    len: usize,
}

impl Header {
    /// Finds every column by name, in any order; fails on an empty header or a missing
    /// column.
    fn find(path: &Path, names: &ByteRecord) -> Result<Header, MedecError> {
        if names.is_empty() {
            return Err(MedecError::Empty {
                path: path.to_path_buf(),
            });
        }
        let mut at = [0usize; 9];
        for (slot, column) in at.iter_mut().zip(CSV_COLUMNS) {
            *slot = names
                .iter()
                .position(|name| String::from_utf8_lossy(name).trim() == column)
                .ok_or_else(|| MedecError::MissingColumn {
                    path: path.to_path_buf(),
                    column,
                    expected: CSV_COLUMNS
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        }
        Ok(Header {
            at,
            len: names.len(),
        })
    }
}

/// One CSV record, with enough context to name the line of any of its fields.
struct CsvRow<'a> {
    path: &'a Path,
    record: &'a ByteRecord,
    header: &'a Header,
    start_line: u64,
}

impl CsvRow<'_> {
    /// The line a field starts on: a record spans lines when its notes hold newlines.
    fn line_of(&self, index: usize) -> u64 {
        let newlines: usize = self
            .record
            .iter()
            .take(index)
            .map(|field| field.iter().filter(|&&b| b == b'\n').count())
            .sum();
        self.start_line + newlines as u64
    }

    /// An error in column `CSV_COLUMNS[column]`, at the line its field starts on.
    fn error(&self, column: usize, message: String) -> RowError {
        RowError {
            path: self.path.to_path_buf(),
            line: self.line_of(self.header.at[column]),
            column: Some(CSV_COLUMNS[column].to_string()),
            message,
        }
    }

    /// The field of column `CSV_COLUMNS[column]` as text.
    fn text(&self, column: usize) -> Result<&str, RowError> {
        let bytes = self.record.get(self.header.at[column]).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|error| {
            self.error(
                column,
                format!(
                    "is not valid UTF-8 (invalid byte at offset {} of the field)",
                    error.valid_up_to()
                ),
            )
        })
    }

    /// A field that may hold `NA`.
    fn optional(&self, column: usize) -> Result<Option<String>, RowError> {
        let value = self.text(column)?;
        Ok((!is_missing(value)).then(|| value.to_string()))
    }

    /// `None` for an Error Flag 0 row; the pair for an Error Flag 1 row.
    fn to_pair(&self) -> Result<Option<Pair>, RowError> {
        if self.record.len() != self.header.len {
            return Err(RowError {
                path: self.path.to_path_buf(),
                line: self.start_line,
                column: None,
                message: format!(
                    "expected {} fields like the header, found {}",
                    self.header.len,
                    self.record.len()
                ),
            });
        }
        let note_id = self.text(TEXT_ID)?.trim();
        if note_id.is_empty() {
            return Err(self.error(TEXT_ID, "is empty".into()));
        }
        match self.text(ERROR_FLAG)?.trim() {
            "0" | "0.0" => return Ok(None),
            "1" | "1.0" => {}
            other => {
                return Err(self.error(
                    ERROR_FLAG,
                    format!("unknown value `{other}` (expected 0 or 1)"),
                ))
            }
        }
        let text = self.text(TEXT)?;
        if text.trim().is_empty() {
            return Err(self.error(TEXT, "is empty on an Error Flag 1 row".into()));
        }
        let corrected_text = self.text(CORRECTED_TEXT)?;
        if is_missing(corrected_text) {
            return Err(self.error(
                CORRECTED_TEXT,
                "is missing on an Error Flag 1 row (a pair needs the corrected note)".into(),
            ));
        }
        let raw_type = self.text(ERROR_TYPE)?.trim();
        let error_type = ErrorType::parse(raw_type).ok_or_else(|| {
            self.error(
                ERROR_TYPE,
                format!(
                    "unknown error type `{raw_type}` (expected one of diagnosis, management, treatment, pharmacotherapy, causalOrganism)"
                ),
            )
        })?;
        Ok(Some(Pair {
            note_id: note_id.to_string(),
            correct_note: corrected_text.to_string(),
            incorrect_note: text.to_string(),
            error_type,
            error_sentence: self.optional(ERROR_SENTENCE)?,
            corrected_sentence: self.optional(CORRECTED_SENTENCE)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::testing::{collect, row_error, Collected};
    use crate::medec::ReadOptions;

    const HEADER: &str = "Text ID,Text,Sentences,Error Flag,Error Type,Error Sentence ID,Error Sentence,Corrected Sentence,Corrected Text\r\n";

    fn csv_rows(body: &str) -> Collected {
        csv_bytes(
            format!("{HEADER}{body}").into_bytes(),
            ReadOptions::default(),
        )
    }

    fn csv_bytes(bytes: Vec<u8>, options: ReadOptions) -> Collected {
        collect("medec.csv", bytes, options)
    }

    const GOOD: &str = "n-1,\"Pt on aspirin 81 mg.\nSuspected flu. \",\"0 Pt\",1,causalOrganism,1,Suspected flu.,Suspected strep.,\"Pt on aspirin 81 mg.\nSuspected strep. \"\r\n";

    #[test]
    fn pair_keeps_notes_byte_for_byte() {
        let (pairs, summary) = csv_rows(GOOD).unwrap();
        assert_eq!(pairs.len(), 1);
        let pair = &pairs[0];
        assert_eq!(pair.incorrect_note, "Pt on aspirin 81 mg.\nSuspected flu. ");
        assert_eq!(pair.correct_note, "Pt on aspirin 81 mg.\nSuspected strep. ");
        assert_eq!(pair.error_type, ErrorType::CausalOrganism);
        assert_eq!(pair.error_sentence.as_deref(), Some("Suspected flu."));
        assert_eq!(summary.corrected_text_exact, 1);
        assert!(!summary.byte_order_mark);
    }

    #[test]
    fn byte_order_mark_is_removed_from_the_header_only() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(HEADER.as_bytes());
        bytes.extend_from_slice(GOOD.as_bytes());
        let (pairs, summary) = csv_bytes(bytes, ReadOptions::default()).unwrap();
        assert!(summary.byte_order_mark);
        assert_eq!(pairs[0].note_id, "n-1");
    }

    #[test]
    fn blank_and_flag_zero_rows_are_counted_and_skipped() {
        let body = format!(
            ",,,,,,,,\r\n{GOOD},,,,,,,,\r\nn-2,Fine note.,0 Fine note.,0,NA,-1,NA,NA,NA\r\n"
        );
        let (pairs, summary) = csv_rows(&body).unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(summary.rows, 4);
        assert_eq!(summary.blank_rows, 2);
        assert_eq!(summary.unpaired_correct_rows, 1);
        assert_eq!(summary.pairs, 1);
    }

    #[test]
    fn whitespace_only_corrected_text_is_counted_not_changed() {
        let body = "n-1,\"A. Flu.B.\",x,1,diagnosis,1,Flu.,Strep.,\"A. Strep. B.\"\r\n";
        let (pairs, summary) = csv_rows(body).unwrap();
        assert_eq!(summary.corrected_text_whitespace_only, 1);
        assert_eq!(pairs[0].correct_note, "A. Strep. B.");
    }

    #[test]
    fn flag_one_without_corrected_text_names_line_and_column() {
        let body = format!("{GOOD}n-2,\"Bad\nnote.\",x,1,diagnosis,1,Bad,Good,NA\r\n");
        let error = row_error(csv_rows(&body));
        // GOOD spans lines 2-4 (two notes with a newline each); the broken record starts
        // on line 5 and its `Corrected Text` is on line 6, after the newline in `Text`.
        assert_eq!(error.line, 6);
        assert_eq!(error.column.as_deref(), Some("Corrected Text"));
        assert!(error
            .to_string()
            .starts_with("medec.csv:6: column `Corrected Text`"));
    }

    #[test]
    fn columns_are_found_and_named_in_any_order() {
        let header = "Corrected Text,Text ID,Error Flag,Text,Sentences,Error Type,Error Sentence ID,Error Sentence,Corrected Sentence\n";
        let body = "fixed,n-1,1,\"T\n\",x,surgery,1,a,b\n";
        let error = row_error(csv_bytes(
            format!("{header}{body}").into_bytes(),
            ReadOptions::default(),
        ));
        assert_eq!(error.column.as_deref(), Some("Error Type"));
        assert_eq!(error.line, 3, "after the newline in `Text`");
    }

    #[test]
    fn unknown_flag_value_is_an_error() {
        let error = row_error(csv_rows("n-1,T,x,2,diagnosis,1,a,b,c\r\n"));
        assert_eq!(error.column.as_deref(), Some("Error Flag"));
        assert!(error.message.contains("`2`"), "{}", error.message);
    }

    #[test]
    fn duplicate_text_id_is_an_error() {
        let error = row_error(csv_rows(&format!("{GOOD}{GOOD}")));
        assert_eq!(error.column.as_deref(), Some("Text ID"));
        assert_eq!(error.line, 5);
        assert!(error.message.contains("duplicate"));
    }

    #[test]
    fn non_utf8_is_an_error_naming_the_column() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"n-1,caf\xE9 note,x,1,diagnosis,1,a,b,fixed\r\n");
        let error = row_error(csv_bytes(bytes, ReadOptions::default()));
        assert_eq!(error.column.as_deref(), Some("Text"));
        assert_eq!(error.line, 2);
        assert!(error.message.contains("UTF-8"));
    }

    #[test]
    fn skip_invalid_lists_broken_rows_and_keeps_going() {
        let body = format!("n-0,T,x,7,diagnosis,1,a,b,c\r\n{GOOD}{GOOD}");
        let (pairs, summary) = csv_bytes(
            format!("{HEADER}{body}").into_bytes(),
            ReadOptions { skip_invalid: true },
        )
        .unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(summary.invalid_rows.len(), 2);
        assert_eq!(summary.invalid_rows[0].line, 2);
        assert_eq!(summary.invalid_rows[1].line, 6);
    }

    #[test]
    fn missing_column_is_fatal() {
        let bytes = b"Text ID,Text\r\nn-1,T\r\n".to_vec();
        let error = csv_bytes(bytes, ReadOptions { skip_invalid: true }).unwrap_err();
        assert!(
            error.to_string().contains("column `Sentences` is missing"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_file_is_an_error() {
        let error = csv_bytes(Vec::new(), ReadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "medec.csv: the file is empty");
    }
}
