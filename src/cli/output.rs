//! Output on the terminal: data to stdout (text or `--json`), warnings to stderr.

use std::io::Write;
use std::sync::Mutex;

use crate::medec::ImportSummary;

/// Warnings said once each, at the end of the command (issue 11: a warning that opens
/// every command's output is read as noise).
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps `text` to be said at the end (once, however often it is given).
pub(crate) fn warn(text: String) {
    let mut warnings = WARNINGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !warnings.contains(&text) {
        warnings.push(text);
    }
}

/// Says every warning kept, on stderr, and forgets them.
pub(crate) fn flush_warnings() {
    let warnings = std::mem::take(
        &mut *WARNINGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    for text in warnings {
        eprintln!("warning: {text}");
    }
}

/// Prices older than this get a warning.
const PRICING_STALE_DAYS: i64 = 180;

pub(crate) fn stdout_text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

pub(crate) fn stdout_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    stdout_text(&text)
}

/// Warnings about the input that do not stop the work.
pub(crate) fn warn_about_import(summary: &ImportSummary) {
    for row in &summary.invalid_rows {
        warn(format!("skipped {row}"));
    }
    if !summary.corrected_text_other.is_empty() {
        warn(format!(
            "{} pair(s) whose `Corrected Text` is not `Text` with the error sentence swapped (kept as released): {}",
            summary.corrected_text_other.len(),
            summary.corrected_text_other.join(", ")
        ));
    }
}

/// Warns when the prices used were checked long ago. Uses the clock: glue only.
pub(crate) fn warn_if_prices_stale(model: &str, checked: &str) {
    let date = chrono::NaiveDate::parse_from_str(checked, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{checked}-01"), "%Y-%m-%d"));
    if let Ok(date) = date {
        let age = chrono::Utc::now().date_naive() - date;
        if age.num_days() > PRICING_STALE_DAYS {
            warn(format!(
                "the prices of `{model}` were checked {checked}, {} days ago\nhint: compare them with the page in the row's `source_url` and update `checked` in the pricing table",
                age.num_days()
            ));
        }
    }
}
