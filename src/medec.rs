//! MEDEC input: the release CSV and the paired JSONL form, read into [`Pair`]s.
//! This is the only code that knows MEDEC's columns; notes are kept byte for byte.

use std::collections::HashSet;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One doctor-verified MEDEC pair: the same note with and without one injected error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    pub note_id: String,
    /// The note without the error (`Corrected Text` in the CSV), exactly as released.
    pub correct_note: String,
    /// The note with the error (`Text` in the CSV), exactly as released.
    pub incorrect_note: String,
    pub error_type: ErrorType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_sentence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrected_sentence: Option<String>,
}

/// MEDEC's five error types, normalised (`causalOrganism` → `causal_organism`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    Diagnosis,
    Management,
    Treatment,
    Pharmacotherapy,
    CausalOrganism,
}

impl ErrorType {
    pub const ALL: [ErrorType; 5] = [
        ErrorType::Diagnosis,
        ErrorType::Management,
        ErrorType::Treatment,
        ErrorType::Pharmacotherapy,
        ErrorType::CausalOrganism,
    ];

    /// Parses any spelling MEDEC releases use: `causalOrganism`, `Causal Organism`,
    /// `causal_organism`, any case.
    pub fn parse(raw: &str) -> Option<ErrorType> {
        let folded: String = raw
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match folded.as_str() {
            "diagnosis" => Some(ErrorType::Diagnosis),
            "management" => Some(ErrorType::Management),
            "treatment" => Some(ErrorType::Treatment),
            "pharmacotherapy" => Some(ErrorType::Pharmacotherapy),
            "causalorganism" => Some(ErrorType::CausalOrganism),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Diagnosis => "diagnosis",
            ErrorType::Management => "management",
            ErrorType::Treatment => "treatment",
            ErrorType::Pharmacotherapy => "pharmacotherapy",
            ErrorType::CausalOrganism => "causal_organism",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two input forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// The MEDEC release CSV (`Text ID, Text, …, Corrected Text`).
    MedecCsv,
    /// One JSON pair per line (`note_id, correct_note, incorrect_note, error_type`, …).
    PairsJsonl,
}

impl InputFormat {
    /// Chooses the form from the file name: `.csv` is the release CSV, `.jsonl`/`.json`
    /// the paired form.
    pub fn from_path(path: &Path) -> Result<InputFormat, MedecError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("csv") => Ok(InputFormat::MedecCsv),
            Some("jsonl" | "json" | "ndjson") => Ok(InputFormat::PairsJsonl),
            _ => Err(MedecError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MedecError {
    #[error("cannot read `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}`: cannot tell the input form from the file name\nhint: name the MEDEC release `*.csv` or the paired form `*.jsonl`")]
    UnknownFormat { path: PathBuf },
    #[error("{path}:1: column `{column}` is missing from the header\nhint: the MEDEC release CSV has the columns {expected}")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        expected: String,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{0}")]
    Row(RowError),
}

/// A broken row or line: where it is and what is wrong. Fatal unless `--skip-invalid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub path: PathBuf,
    pub line: u64,
    /// The CSV column or JSON field at fault, when one is.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        if let Some(column) = &self.column {
            write!(f, "column `{column}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// How to treat broken rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Skip broken rows and list them in the summary instead of stopping.
    pub skip_invalid: bool,
}

/// What an import saw, row by row. Every data row read lands in exactly one count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub format: Option<InputFormat>,
    /// Data rows (CSV records after the header, or non-empty JSONL lines).
    pub rows: u64,
    pub pairs: u64,
    /// Rows whose every field is empty (the MEDEC test release has hundreds).
    pub blank_rows: u64,
    /// Error Flag 0 rows: correct notes with no pair.
    pub unpaired_correct_rows: u64,
    /// Broken rows skipped with `--skip-invalid`.
    pub invalid_rows: Vec<RowError>,
    /// The file started with a UTF-8 byte order mark (removed from the header only).
    pub byte_order_mark: bool,
    /// Pairs whose `Corrected Text` is `Text` with the error sentence swapped, byte for byte.
    pub corrected_text_exact: u64,
    /// Pairs where the swap matches only up to whitespace (kept as released).
    pub corrected_text_whitespace_only: u64,
    /// Pairs where `Corrected Text` differs from the swap beyond whitespace, or the error
    /// sentence is not found in `Text` (kept as released; worth a look).
    pub corrected_text_other: Vec<String>,
    pub pairs_by_error_type: std::collections::BTreeMap<ErrorType, u64>,
}

impl ImportSummary {
    fn count_pair(&mut self, pair: &Pair) {
        self.pairs += 1;
        *self.pairs_by_error_type.entry(pair.error_type).or_insert(0) += 1;
    }
}

/// The release CSV's columns, in the order MEDEC ships them.
pub const CSV_COLUMNS: [&str; 9] = [
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

/// Reads every pair of `path` (form chosen from its name) and hands each to `on_pair`,
/// streaming: only the note ids seen so far are kept, to catch duplicates.
pub fn read_pairs(
    path: &Path,
    options: ReadOptions,
    on_pair: impl FnMut(Pair) -> anyhow::Result<()>,
) -> anyhow::Result<ImportSummary> {
    let format = InputFormat::from_path(path)?;
    let file = std::fs::File::open(path).map_err(|source| MedecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = BufReader::with_capacity(1 << 16, file);
    match format {
        InputFormat::MedecCsv => read_csv(path, reader, options, on_pair),
        InputFormat::PairsJsonl => read_jsonl(path, reader, options, on_pair),
    }
}

/// Collects every pair of `path` in memory (for import, which may split them).
pub fn read_all_pairs(
    path: &Path,
    options: ReadOptions,
) -> anyhow::Result<(Vec<Pair>, ImportSummary)> {
    let mut pairs = Vec::new();
    let summary = read_pairs(path, options, |pair| {
        pairs.push(pair);
        Ok(())
    })?;
    Ok((pairs, summary))
}

/// Decides what to do with a broken row: stop, or note it and go on.
fn reject(
    summary: &mut ImportSummary,
    options: ReadOptions,
    error: RowError,
) -> Result<(), MedecError> {
    if options.skip_invalid {
        summary.invalid_rows.push(error);
        Ok(())
    } else {
        Err(MedecError::Row(error))
    }
}

/// Removes a leading UTF-8 byte order mark; says whether there was one.
fn skip_byte_order_mark(reader: &mut impl BufRead, path: &Path) -> Result<bool, MedecError> {
    let head = reader.fill_buf().map_err(|source| MedecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
        return Ok(true);
    }
    Ok(false)
}

fn read_csv<R: BufRead>(
    path: &Path,
    mut reader: R,
    options: ReadOptions,
    mut on_pair: impl FnMut(Pair) -> anyhow::Result<()>,
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary {
        format: Some(InputFormat::MedecCsv),
        byte_order_mark: skip_byte_order_mark(&mut reader, path)?,
        ..ImportSummary::default()
    };
    let crlf = uses_crlf(&mut reader, path)?;
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let header = csv
        .byte_headers()
        .map_err(|error| csv_error(path, &error, crlf))?
        .clone();
    if header.is_empty() {
        return Err(MedecError::Empty {
            path: path.to_path_buf(),
        }
        .into());
    }
    let mut index = [0usize; 9];
    for (slot, column) in index.iter_mut().zip(CSV_COLUMNS) {
        *slot = header
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
    let [id_col, text_col, _, flag_col, type_col, _, error_sentence_col, corrected_sentence_col, corrected_text_col] =
        index;
    let mut seen_ids = HashSet::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                // A malformed record (e.g. an unclosed quote): the reader cannot resync
                // reliably, so this is fatal even with --skip-invalid.
                return Err(csv_error(path, &error, crlf).into());
            }
        }
        summary.rows += 1;
        // With CRLF endings the csv reader puts a record's start on the `\n` that ends the
        // line before it, one line early.
        let start_line = record.position().map_or(0, csv::Position::line) + u64::from(crlf);
        if record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
        {
            summary.blank_rows += 1;
            continue;
        }
        let row = CsvRow {
            path,
            record: &record,
            start_line,
        };
        match row.to_pair(
            id_col,
            text_col,
            flag_col,
            type_col,
            error_sentence_col,
            corrected_sentence_col,
            corrected_text_col,
            header.len(),
        ) {
            Ok(None) => summary.unpaired_correct_rows += 1,
            Ok(Some(pair)) => {
                if !seen_ids.insert(pair.note_id.clone()) {
                    reject(
                        &mut summary,
                        options,
                        row.error(id_col, format!("duplicate Text ID `{}`", pair.note_id)),
                    )?;
                    continue;
                }
                summary.count_pair(&pair);
                check_corrected_text(&mut summary, &pair);
                on_pair(pair)?;
            }
            Err(error) => reject(&mut summary, options, error)?,
        }
    }
    Ok(summary)
}

/// Whether the first line ends in CRLF (the MEDEC releases do).
fn uses_crlf(reader: &mut impl BufRead, path: &Path) -> Result<bool, MedecError> {
    let head = reader.fill_buf().map_err(|source| MedecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(head
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|at| at > 0 && head[at - 1] == b'\r'))
}

fn csv_error(path: &Path, error: &csv::Error, crlf: bool) -> MedecError {
    let line = error.position().map_or(0, csv::Position::line) + u64::from(crlf);
    MedecError::Row(RowError {
        path: path.to_path_buf(),
        line,
        column: None,
        message: format!("malformed CSV: {error}"),
    })
}

/// One CSV record, with enough context to name the line of any of its fields.
struct CsvRow<'a> {
    path: &'a Path,
    record: &'a csv::ByteRecord,
    start_line: u64,
}

impl CsvRow<'_> {
    /// The line a field starts on: a record spans lines when its notes hold newlines.
    fn line_of(&self, column: usize) -> u64 {
        let newlines: usize = self
            .record
            .iter()
            .take(column)
            .map(|field| field.iter().filter(|&&b| b == b'\n').count())
            .sum();
        self.start_line + newlines as u64
    }

    fn error(&self, column: usize, message: String) -> RowError {
        RowError {
            path: self.path.to_path_buf(),
            line: self.line_of(column),
            column: CSV_COLUMNS
                .get(column)
                .map(|c| (*c).to_string())
                .or_else(|| Some(format!("#{}", column + 1))),
            message,
        }
    }

    fn text(&self, column: usize) -> Result<&str, RowError> {
        let bytes = self.record.get(column).unwrap_or_default();
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

    /// `None` for an Error Flag 0 row; the pair for an Error Flag 1 row.
    #[allow(clippy::too_many_arguments)]
    fn to_pair(
        &self,
        id_col: usize,
        text_col: usize,
        flag_col: usize,
        type_col: usize,
        error_sentence_col: usize,
        corrected_sentence_col: usize,
        corrected_text_col: usize,
        header_len: usize,
    ) -> Result<Option<Pair>, RowError> {
        if self.record.len() != header_len {
            return Err(RowError {
                path: self.path.to_path_buf(),
                line: self.start_line,
                column: None,
                message: format!(
                    "expected {header_len} fields like the header, found {}",
                    self.record.len()
                ),
            });
        }
        let note_id = self.text(id_col)?.trim();
        if note_id.is_empty() {
            return Err(self.error(id_col, "is empty".into()));
        }
        let flag = self.text(flag_col)?.trim();
        match flag {
            "0" | "0.0" => return Ok(None),
            "1" | "1.0" => {}
            other => {
                return Err(self.error(
                    flag_col,
                    format!("unknown value `{other}` (expected 0 or 1)"),
                ))
            }
        }
        let text = self.text(text_col)?;
        if text.trim().is_empty() {
            return Err(self.error(text_col, "is empty on an Error Flag 1 row".into()));
        }
        let corrected_text = self.text(corrected_text_col)?;
        if is_missing(corrected_text) {
            return Err(self.error(
                corrected_text_col,
                "is missing on an Error Flag 1 row (a pair needs the corrected note)".into(),
            ));
        }
        let raw_type = self.text(type_col)?.trim();
        let error_type = ErrorType::parse(raw_type).ok_or_else(|| {
            self.error(
                type_col,
                format!(
                    "unknown error type `{raw_type}` (expected one of diagnosis, management, treatment, pharmacotherapy, causalOrganism)"
                ),
            )
        })?;
        let optional = |column: usize| -> Result<Option<String>, RowError> {
            let value = self.text(column)?;
            Ok((!is_missing(value)).then(|| value.to_string()))
        };
        Ok(Some(Pair {
            note_id: note_id.to_string(),
            correct_note: corrected_text.to_string(),
            incorrect_note: text.to_string(),
            error_type,
            error_sentence: optional(error_sentence_col)?,
            corrected_sentence: optional(corrected_sentence_col)?,
        }))
    }
}

/// MEDEC writes `NA` where a value does not apply.
fn is_missing(value: &str) -> bool {
    let trimmed = value.trim();
    trimmed.is_empty() || trimmed == "NA"
}

/// Compares `Corrected Text` with `Text` after the sentence swap, to count the release's
/// whitespace quirks. The notes themselves are never changed.
fn check_corrected_text(summary: &mut ImportSummary, pair: &Pair) {
    let (Some(error_sentence), Some(corrected_sentence)) =
        (&pair.error_sentence, &pair.corrected_sentence)
    else {
        return;
    };
    if let Some(start) = pair.incorrect_note.find(error_sentence.as_str()) {
        let mut swapped = String::with_capacity(pair.incorrect_note.len() + 64);
        swapped.push_str(&pair.incorrect_note[..start]);
        swapped.push_str(corrected_sentence);
        swapped.push_str(&pair.incorrect_note[start + error_sentence.len()..]);
        if swapped == pair.correct_note {
            summary.corrected_text_exact += 1;
            return;
        }
        if same_but_whitespace(&swapped, &pair.correct_note) {
            summary.corrected_text_whitespace_only += 1;
            return;
        }
    }
    summary.corrected_text_other.push(pair.note_id.clone());
}

/// Equal once every whitespace character is removed (the release sometimes drops or adds
/// the space after a swapped sentence).
fn same_but_whitespace(a: &str, b: &str) -> bool {
    let visible = |text: &str| {
        text.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<Vec<_>>()
    };
    visible(a) == visible(b)
}

/// Splits pairs into train and validation, deterministically: pairs are ordered by the
/// sha256 of `seed` and their note id, and the first `round(n × fraction)` are held out.
/// Each note id lands in exactly one part; input order is kept within each part.
pub fn split_pairs(pairs: Vec<Pair>, val_fraction: f64, seed: u64) -> (Vec<Pair>, Vec<Pair>) {
    use sha2::{Digest, Sha256};
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let val_count = ((pairs.len() as f64) * val_fraction).round() as usize;
    let mut keyed: Vec<(Vec<u8>, usize)> = pairs
        .iter()
        .enumerate()
        .map(|(position, pair)| {
            let mut hasher = Sha256::new();
            hasher.update(seed.to_le_bytes());
            hasher.update(pair.note_id.as_bytes());
            (hasher.finalize().to_vec(), position)
        })
        .collect();
    keyed.sort_unstable();
    let mut held_out = vec![false; pairs.len()];
    for &(_, position) in keyed.iter().take(val_count) {
        held_out[position] = true;
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for (pair, out) in pairs.into_iter().zip(held_out) {
        if out {
            val.push(pair);
        } else {
            train.push(pair);
        }
    }
    (train, val)
}

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

fn read_jsonl<R: BufRead>(
    path: &Path,
    mut reader: R,
    options: ReadOptions,
    mut on_pair: impl FnMut(Pair) -> anyhow::Result<()>,
) -> anyhow::Result<ImportSummary> {
    let mut summary = ImportSummary {
        format: Some(InputFormat::PairsJsonl),
        byte_order_mark: skip_byte_order_mark(&mut reader, path)?,
        ..ImportSummary::default()
    };
    let mut seen_ids = HashSet::new();
    let mut buffer = Vec::new();
    let mut line_number = 0u64;
    loop {
        buffer.clear();
        let read = reader
            .by_ref()
            .read_until(b'\n', &mut buffer)
            .map_err(|source| MedecError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            break;
        }
        line_number += 1;
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        summary.rows += 1;
        let error = |column: Option<&str>, message: String| RowError {
            path: path.to_path_buf(),
            line: line_number,
            column: column.map(str::to_string),
            message,
        };
        let parsed = std::str::from_utf8(&buffer)
            .map_err(|e| {
                error(
                    None,
                    format!(
                        "is not valid UTF-8 (invalid byte at column {})",
                        e.valid_up_to() + 1
                    ),
                )
            })
            .and_then(|text| {
                serde_json::from_str::<JsonPair>(text)
                    .map_err(|e| error(None, format!("is not a JSON object of a pair: {e}")))
            })
            .and_then(|raw| json_to_pair(raw, &error));
        match parsed {
            Ok(pair) => {
                if !seen_ids.insert(pair.note_id.clone()) {
                    reject(
                        &mut summary,
                        options,
                        error(
                            Some("note_id"),
                            format!("duplicate note_id `{}`", pair.note_id),
                        ),
                    )?;
                    continue;
                }
                summary.count_pair(&pair);
                check_corrected_text(&mut summary, &pair);
                on_pair(pair)?;
            }
            Err(row_error) => reject(&mut summary, options, row_error)?,
        }
    }
    if line_number == 0 {
        return Err(MedecError::Empty {
            path: path.to_path_buf(),
        }
        .into());
    }
    Ok(summary)
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
    use std::io::Cursor;

    const HEADER: &str = "Text ID,Text,Sentences,Error Flag,Error Type,Error Sentence ID,Error Sentence,Corrected Sentence,Corrected Text\r\n";

    fn csv_rows(body: &str) -> anyhow::Result<(Vec<Pair>, ImportSummary)> {
        csv_bytes(
            format!("{HEADER}{body}").into_bytes(),
            ReadOptions::default(),
        )
    }

    fn csv_bytes(
        bytes: Vec<u8>,
        options: ReadOptions,
    ) -> anyhow::Result<(Vec<Pair>, ImportSummary)> {
        let mut pairs = Vec::new();
        let summary = read_csv(Path::new("medec.csv"), Cursor::new(bytes), options, |p| {
            pairs.push(p);
            Ok(())
        })?;
        Ok((pairs, summary))
    }

    fn row_error(result: anyhow::Result<(Vec<Pair>, ImportSummary)>) -> RowError {
        match result.unwrap_err().downcast::<MedecError>().unwrap() {
            MedecError::Row(error) => error,
            other => panic!("expected a row error, got {other}"),
        }
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
    fn error_types_are_normalised() {
        assert_eq!(
            ErrorType::parse("causalOrganism"),
            Some(ErrorType::CausalOrganism)
        );
        assert_eq!(
            ErrorType::parse("Causal Organism"),
            Some(ErrorType::CausalOrganism)
        );
        assert_eq!(
            ErrorType::parse("causal_organism"),
            Some(ErrorType::CausalOrganism)
        );
        assert_eq!(
            ErrorType::parse("Pharmacotherapy"),
            Some(ErrorType::Pharmacotherapy)
        );
        assert_eq!(ErrorType::parse("NA"), None);
    }

    fn numbered(n: usize) -> Vec<Pair> {
        (0..n)
            .map(|i| Pair {
                note_id: format!("n-{i}"),
                correct_note: "a".into(),
                incorrect_note: "b".into(),
                error_type: ErrorType::Diagnosis,
                error_sentence: None,
                corrected_sentence: None,
            })
            .collect()
    }

    #[test]
    fn split_is_deterministic_disjoint_and_sized() {
        let (train, val) = split_pairs(numbered(100), 0.2, 7);
        assert_eq!((train.len(), val.len()), (80, 20));
        let ids = |part: &[Pair]| {
            part.iter()
                .map(|p| p.note_id.clone())
                .collect::<HashSet<_>>()
        };
        assert!(ids(&train).is_disjoint(&ids(&val)));
        let (train_again, val_again) = split_pairs(numbered(100), 0.2, 7);
        assert_eq!((train, val.clone()), (train_again, val_again));
        let (_, other_seed) = split_pairs(numbered(100), 0.2, 8);
        assert_ne!(ids(&val), ids(&other_seed));
    }

    fn jsonl(text: &str, options: ReadOptions) -> anyhow::Result<(Vec<Pair>, ImportSummary)> {
        let mut pairs = Vec::new();
        let summary = read_jsonl(
            Path::new("pairs.jsonl"),
            Cursor::new(text.as_bytes().to_vec()),
            options,
            |p| {
                pairs.push(p);
                Ok(())
            },
        )?;
        Ok((pairs, summary))
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
}
