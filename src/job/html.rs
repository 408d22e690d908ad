//! The HTML page of a run, `reports/<run>.html`: reads its cost report, the ledger and
//! its review files (`rejected.jsonl`, `sft_correct.jsonl`, the run's `pairs.jsonl`),
//! renders the page (`report::html`) and writes it atomically.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::medec::Pair;
use crate::report::cost::CostReport;
use crate::report::html::review::{notes_needed, review};
use crate::report::html::{page, PageData};
use crate::report::ledger::{self, LEDGER_FILE};
use crate::report::ReportError;
use crate::store::fs::write_atomic;
use crate::store::StoreError;

/// Why the page could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// A text file's lines, read one at a time (none when it does not exist; reading stops
/// at a line that cannot be read, as the review skips unreadable lines).
fn optional_lines(path: &Path) -> Result<Box<dyn Iterator<Item = String>>, StoreError> {
    match std::fs::File::open(path) {
        Ok(file) => Ok(Box::new(BufReader::new(file).lines().map_while(Result::ok))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Ok(Box::new(std::iter::empty()))
        }
        Err(error) => Err(StoreError::read(path)(error)),
    }
}

/// The correct notes of `wanted` from a `pairs.jsonl` file, read line by line.
fn correct_notes(
    path: &Path,
    wanted: &std::collections::HashSet<String>,
) -> Result<HashMap<String, String>, StoreError> {
    let mut notes = HashMap::new();
    if wanted.is_empty() {
        return Ok(notes);
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(notes),
        Err(error) => return Err(StoreError::read(path)(error)),
    };
    for (number, line) in (1..).zip(BufReader::new(file).lines()) {
        let line = line.map_err(StoreError::read(path))?;
        let pair: Pair = serde_json::from_str(&line).map_err(|source| StoreError::BadLine {
            path: path.to_path_buf(),
            line: number,
            what: "not a pair",
            source,
        })?;
        if wanted.contains(&pair.note_id) {
            notes.insert(pair.note_id, pair.correct_note);
        }
    }
    Ok(notes)
}

/// The page of a run from its cost report (and the files it names) and the ledger.
pub fn render_html_report(cost: &CostReport, reports_dir: &Path) -> Result<String, HtmlError> {
    let rows = ledger::read(&reports_dir.join(LEDGER_FILE))?;
    let sft_dir = PathBuf::from(&cost.sft_dir);
    // Streamed twice (the originals to look up, then the review): memory stays flat
    // whatever the run's size.
    let (rejected, correct) = (
        sft_dir.join("rejected.jsonl"),
        sft_dir.join("sft_correct.jsonl"),
    );
    let wanted = notes_needed(optional_lines(&rejected)?, optional_lines(&correct)?);
    let notes = correct_notes(Path::new(&cost.pairs_file), &wanted)?;
    let review = review(
        optional_lines(&rejected)?,
        optional_lines(&correct)?,
        &|id| notes.get(id).cloned(),
    );
    Ok(page(&PageData {
        cost,
        ledger: &rows,
        review: &review,
    }))
}

/// Writes the page of `run` (to `output`, or `<reports_dir>/<run>.html`) from its cost
/// report `<reports_dir>/<run>.json`; returns where.
pub fn write_html_report(
    reports_dir: &Path,
    run: &str,
    output: Option<&Path>,
) -> Result<PathBuf, HtmlError> {
    let report_path = reports_dir.join(format!("{run}.json"));
    let text = std::fs::read_to_string(&report_path).map_err(StoreError::read(&report_path))?;
    let cost: CostReport = serde_json::from_str(&text).map_err(|source| StoreError::BadLine {
        path: report_path.clone(),
        line: 1,
        what: "not a cost report",
        source,
    })?;
    let html = render_html_report(&cost, reports_dir)?;
    let path = output.map_or_else(
        || reports_dir.join(format!("{run}.html")),
        Path::to_path_buf,
    );
    write_atomic(&path, |w| w.write_all(html.as_bytes()))?;
    Ok(path)
}
