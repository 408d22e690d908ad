//! What can go wrong reading MEDEC input: [`MedecError`] for what stops an import, and
//! [`RowError`] for one broken row or line, which `--skip-invalid` may list and pass over.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why an import stopped. Every variant names the file; row errors also the line and column.
#[derive(Debug, thiserror::Error)]
pub enum MedecError {
    /// The file could not be opened or read (the OS cause is the source).
    #[error("cannot read `{path}`")]
    Read { path: PathBuf, source: io::Error },
    /// The file name says neither `.csv` nor `.jsonl`.
    #[error("`{path}`: cannot tell the input form from the file name\nhint: name the MEDEC release `*.csv` or the paired form `*.jsonl`")]
    UnknownFormat { path: PathBuf },
    /// The release CSV's header lacks one of the nine MEDEC columns.
    #[error("{path}:1: column `{column}` is missing from the header\nhint: the MEDEC release CSV has the columns {expected}")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        expected: String,
    },
    /// The csv reader failed on a record (in practice an I/O error: it does not stop at
    /// malformed records); fatal even with `--skip-invalid`.
    #[error("{path}:{line}: cannot read the CSV record")]
    CsvRecord {
        path: PathBuf,
        line: u64,
        source: ::csv::Error,
    },
    /// The file holds no header (CSV) or no line (JSONL).
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    /// A broken row or line, without `--skip-invalid`.
    #[error("{0}")]
    Row(RowError),
}

impl MedecError {
    /// Turns an I/O error on `path` into [`MedecError::Read`], for `map_err`.
    pub(super) fn read(path: &Path) -> impl FnOnce(io::Error) -> MedecError + '_ {
        |source| MedecError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(error: &dyn std::error::Error) -> Vec<String> {
        std::iter::successors(Some(error), |e| e.source())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn an_io_error_prints_its_cause_once_in_the_chain() {
        let error = MedecError::Read {
            path: "x.csv".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        let links = chain(&error);
        assert_eq!(links[0], "cannot read `x.csv`");
        assert_eq!(links.len(), 2);
        assert!(!links[0].contains(&links[1]), "{links:?}");
    }

    #[test]
    fn a_row_error_names_file_line_and_column() {
        let row = RowError {
            path: "medec.csv".into(),
            line: 6,
            column: Some("Corrected Text".into()),
            message: "is missing".into(),
        };
        assert_eq!(
            MedecError::Row(row.clone()).to_string(),
            "medec.csv:6: column `Corrected Text`: is missing"
        );
        let whole_line = RowError {
            column: None,
            ..row
        };
        assert_eq!(whole_line.to_string(), "medec.csv:6: is missing");
    }
}
