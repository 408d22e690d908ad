//! MEDEC input: the release CSV and the paired JSONL form, read into [`Pair`]s.
//! This is the only code that knows MEDEC's columns; notes are kept byte for byte.

mod csv;
mod error;
mod jsonl;
mod quirks;
mod split;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use error::{MedecError, RowError};
pub use split::split_pairs;

use quirks::CorrectedText;

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
    pub pairs_by_error_type: BTreeMap<ErrorType, u64>,
}

impl ImportSummary {
    /// Counts a pair by its error type and by how its `Corrected Text` compares.
    fn count_pair(&mut self, pair: &Pair) {
        self.pairs += 1;
        *self.pairs_by_error_type.entry(pair.error_type).or_insert(0) += 1;
        match quirks::compare_corrected_text(pair) {
            None => {}
            Some(CorrectedText::Exact) => self.corrected_text_exact += 1,
            Some(CorrectedText::WhitespaceOnly) => self.corrected_text_whitespace_only += 1,
            Some(CorrectedText::Other) => self.corrected_text_other.push(pair.note_id.clone()),
        }
    }
}

/// Reads every pair of `path` (form chosen from its name) and hands each to `on_pair`,
/// streaming: only the note ids seen so far are kept, to catch duplicates. `on_pair`'s
/// own error type is kept, so it may fail in the caller's terms; a MEDEC error is turned
/// into it with `From`.
pub fn read_pairs<E: From<MedecError>>(
    path: &Path,
    options: ReadOptions,
    mut on_pair: impl FnMut(Pair) -> Result<(), E>,
) -> Result<ImportSummary, E> {
    let format = InputFormat::from_path(path)?;
    let file = std::fs::File::open(path).map_err(MedecError::read(path))?;
    let reader = BufReader::with_capacity(1 << 16, file);
    read_from(path, format, reader, options, |pair, _| on_pair(pair))
}

/// The line each of `note_ids` starts on in `path` (a second pass, for messages that
/// name `file:line` about pairs already read).
pub fn note_lines(
    path: &Path,
    options: ReadOptions,
    note_ids: &[String],
) -> Result<std::collections::HashMap<String, u64>, MedecError> {
    let note_ids: HashSet<&str> = note_ids.iter().map(String::as_str).collect();
    let format = InputFormat::from_path(path)?;
    let file = std::fs::File::open(path).map_err(MedecError::read(path))?;
    let reader = BufReader::with_capacity(1 << 16, file);
    let mut lines = std::collections::HashMap::new();
    read_from(path, format, reader, options, |pair: Pair, line| {
        if note_ids.contains(pair.note_id.as_str()) {
            lines.insert(pair.note_id, line);
        }
        Ok::<(), MedecError>(())
    })?;
    Ok(lines)
}

/// [`read_pairs`], also giving the sha256 of the file's bytes, hashed as they are read:
/// one pass over the input for both.
pub fn read_pairs_hashed<E: From<MedecError>>(
    path: &Path,
    options: ReadOptions,
    mut on_pair: impl FnMut(Pair) -> Result<(), E>,
) -> Result<(ImportSummary, String), E> {
    let format = InputFormat::from_path(path)?;
    let file = std::fs::File::open(path).map_err(MedecError::read(path))?;
    let mut reader = BufReader::with_capacity(1 << 16, HashingReader::new(file));
    let summary = read_from(path, format, &mut reader, options, |pair, _| on_pair(pair))?;
    // The readers stop at the end of the data: anything after it is hashed too.
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(MedecError::read(path))?;
    Ok((summary, reader.into_inner().finish()))
}

/// A reader that hashes every byte read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> HashingReader<R> {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The lower-case hex sha256 of what was read.
    fn finish(self) -> String {
        format!("{:x}", self.hasher.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
}

/// Reads `reader` (named `path` in errors) in the given form, after any byte order mark.
fn read_from<E: From<MedecError>>(
    path: &Path,
    format: InputFormat,
    mut reader: impl BufRead,
    options: ReadOptions,
    on_pair: impl FnMut(Pair, u64) -> Result<(), E>,
) -> Result<ImportSummary, E> {
    let byte_order_mark =
        quirks::skip_byte_order_mark(&mut reader).map_err(MedecError::read(path))?;
    let mut tally = Tally {
        summary: ImportSummary {
            format: Some(format),
            byte_order_mark,
            ..ImportSummary::default()
        },
        options,
        seen_ids: HashSet::new(),
    };
    match format {
        InputFormat::MedecCsv => csv::read_csv(path, reader, &mut tally, on_pair)?,
        InputFormat::PairsJsonl => jsonl::read_jsonl(path, reader, &mut tally, on_pair)?,
    }
    Ok(tally.summary)
}

/// Every pair of the bundled MEDEC-MS validation set, for tests that run over real notes.
#[cfg(test)]
pub(crate) fn bundled_pairs() -> Vec<Pair> {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let csv = "data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv";
    read_all_pairs(&project.join(csv), ReadOptions::default())
        .expect("the bundled MEDEC set reads")
        .0
}

/// Collects every pair of `path` in memory (for import, which may split them).
pub fn read_all_pairs(
    path: &Path,
    options: ReadOptions,
) -> Result<(Vec<Pair>, ImportSummary), MedecError> {
    let mut pairs = Vec::new();
    let summary = read_pairs(path, options, |pair| {
        pairs.push(pair);
        Ok::<(), MedecError>(())
    })?;
    Ok((pairs, summary))
}

/// What a reader keeps while it reads: the summary so far and the note ids already seen.
struct Tally {
    summary: ImportSummary,
    options: ReadOptions,
    seen_ids: HashSet<String>,
}

impl Tally {
    /// Decides what to do with a broken row: stop, or list it and go on.
    fn reject(&mut self, error: RowError) -> Result<(), MedecError> {
        if self.options.skip_invalid {
            self.summary.invalid_rows.push(error);
            Ok(())
        } else {
            Err(MedecError::Row(error))
        }
    }

    /// Counts a pair and hands it back, unless its note id came before: then the error
    /// `duplicate` makes of the id is rejected instead.
    fn admit(
        &mut self,
        pair: Pair,
        duplicate: impl FnOnce(&str) -> RowError,
    ) -> Result<Option<Pair>, MedecError> {
        if !self.seen_ids.insert(pair.note_id.clone()) {
            self.reject(duplicate(&pair.note_id))?;
            return Ok(None);
        }
        self.summary.count_pair(&pair);
        Ok(Some(pair))
    }
}

/// Helpers for the readers' unit tests.
#[cfg(test)]
mod testing {
    use super::{read_from, ImportSummary, InputFormat, MedecError, Pair, ReadOptions, RowError};
    use std::path::Path;

    /// What a reader gave: its pairs and summary, or why it stopped.
    pub(super) type Collected = Result<(Vec<Pair>, ImportSummary), MedecError>;

    /// Reads `bytes` as a file named `name` (whose ending picks the form), keeping every
    /// pair.
    pub(super) fn collect(name: &str, bytes: impl AsRef<[u8]>, options: ReadOptions) -> Collected {
        let path = Path::new(name);
        let mut pairs = Vec::new();
        let format = InputFormat::from_path(path)?;
        let reader = std::io::Cursor::new(bytes.as_ref());
        let summary = read_from(path, format, reader, options, |pair, _| {
            pairs.push(pair);
            Ok::<(), MedecError>(())
        })?;
        Ok((pairs, summary))
    }

    /// The row error a read stopped on; panics on success or another error.
    pub(super) fn row_error(result: Collected) -> RowError {
        match result {
            Err(MedecError::Row(error)) => error,
            Err(other) => panic!("expected a row error, got {other}"),
            Ok(_) => panic!("expected a row error, got success"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_are_normalised() {
        for spelling in ["causalOrganism", "Causal Organism", "causal_organism"] {
            assert_eq!(ErrorType::parse(spelling), Some(ErrorType::CausalOrganism));
        }
        assert_eq!(
            ErrorType::parse("Pharmacotherapy"),
            Some(ErrorType::Pharmacotherapy)
        );
        assert_eq!(ErrorType::parse("NA"), None);
    }

    #[test]
    fn the_form_follows_the_file_name() {
        let form = |name: &str| InputFormat::from_path(Path::new(name));
        assert_eq!(form("a/MEDEC.CSV").unwrap(), InputFormat::MedecCsv);
        assert_eq!(form("pairs.ndjson").unwrap(), InputFormat::PairsJsonl);
        assert!(matches!(
            form("notes.txt"),
            Err(MedecError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn the_hash_read_alongside_is_the_whole_file_s() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pairs.jsonl");
        let line =
            r#"{"note_id":"a","correct_note":"x.","incorrect_note":"y.","error_type":"diagnosis"}"#;
        // Blank lines after the last pair are hashed too.
        let text = format!("{line}\n\n\n");
        std::fs::write(&path, &text).unwrap();
        let mut pairs = 0;
        let (summary, sha256) = read_pairs_hashed(&path, ReadOptions::default(), |_| {
            pairs += 1;
            Ok::<(), MedecError>(())
        })
        .unwrap();
        assert_eq!((pairs, summary.pairs), (1, 1));
        assert_eq!(sha256, format!("{:x}", Sha256::digest(text.as_bytes())));
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let error =
            read_all_pairs(Path::new("nowhere/medec.csv"), ReadOptions::default()).unwrap_err();
        assert!(
            matches!(&error, MedecError::Read { path, source }
                if path == Path::new("nowhere/medec.csv")
                    && source.kind() == std::io::ErrorKind::NotFound),
            "{error:?}"
        );
    }
}
