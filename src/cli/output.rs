//! Output on the terminal: data to stdout (text or `--json`), warnings to stderr.

use std::io::Write;

use crate::medec::ImportSummary;

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
        eprintln!("warning: skipped {row}");
    }
    if !summary.corrected_text_other.is_empty() {
        eprintln!(
            "warning: {} pair(s) whose `Corrected Text` is not `Text` with the error sentence swapped (kept as released): {}",
            summary.corrected_text_other.len(),
            summary.corrected_text_other.join(", ")
        );
    }
}

/// Warns when the prices used were checked long ago. Uses the clock: glue only.
pub(crate) fn warn_if_prices_stale(model_family: &str, checked: &str) {
    let date = chrono::NaiveDate::parse_from_str(checked, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{checked}-01"), "%Y-%m-%d"));
    if let Ok(date) = date {
        let age = chrono::Utc::now().date_naive() - date;
        if age.num_days() > PRICING_STALE_DAYS {
            eprintln!(
                "warning: the prices of `{model_family}` were checked {checked}, {} days ago\nhint: compare them with OpenAI's price list and update `checked` in the pricing table",
                age.num_days()
            );
        }
    }
}
