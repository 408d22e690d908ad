//! `reports/ledger.csv`: one row per reconciled run, for finance and for calibrating the
//! next plan's expected output. Reconciling a run again replaces its row.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::cost::CostReport;
use super::tables::{table, thousands};
use super::ReportError;
use crate::money::Usd;
use crate::plan::calibrate::RunSample;
use crate::plan::RequestKind;
use crate::reconcile::{Outcome, Reconciled};
use crate::store::fs::write_atomic;
use crate::store::{Manifest, StoreError};

/// The ledger's file name inside the reports folder.
pub const LEDGER_FILE: &str = "ledger.csv";

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub date: String,
    pub run: String,
    pub dataset: String,
    pub dataset_sha256: String,
    pub pairs: u64,
    pub model: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    pub estimated_expected_usd: Usd,
    pub estimated_worst_usd: Usd,
    pub actual_usd: Usd,
    pub kept_examples: u64,
    /// For calibration: what the plan expected the paraphrases to write, and what they wrote.
    pub paraphrase_expected_output_tokens: u64,
    pub paraphrase_completion_tokens: u64,
    pub reasoning_answers: u64,
    pub reasoning_completion_tokens: u64,
    pub pricing_checked: String,
}

impl LedgerRow {
    /// The row of a reconciled run. Calibration compares first-attempt paraphrases with
    /// what the plan expected of them, so it only counts when every first attempt came
    /// back with an answer.
    pub fn for_run(
        date: String,
        manifest: &Manifest,
        reconciled: &Reconciled,
        cost: &CostReport,
        kept_examples: u64,
    ) -> LedgerRow {
        let first_paraphrases: Vec<_> = reconciled
            .attempts
            .iter()
            .filter(|a| a.kind == RequestKind::Paraphrase && a.attempt == 1)
            .collect();
        let calibratable = first_paraphrases
            .iter()
            .all(|a| matches!(a.outcome, Outcome::Kept | Outcome::Rejected));
        let paraphrase_written: u64 = first_paraphrases
            .iter()
            .map(|a| a.usage.completion_tokens)
            .sum();
        let paraphrase_expected = manifest
            .estimate
            .kinds
            .get(&RequestKind::Paraphrase)
            .map_or(0, |k| k.tokens.expected_output_tokens);
        let reasoning_answers: Vec<_> = reconciled
            .attempts
            .iter()
            .filter(|a| a.kind == RequestKind::Reasoning && a.usage.completion_tokens > 0)
            .collect();
        LedgerRow {
            date,
            run: manifest.run.clone(),
            dataset: manifest.input.path.clone(),
            dataset_sha256: manifest.input.sha256.clone(),
            pairs: manifest.input.pairs_planned,
            model: manifest.model.clone(),
            requests: cost.total.answers,
            prompt_tokens: cost.total.usage.prompt_tokens,
            cached_tokens: cost.total.usage.cached_tokens,
            completion_tokens: cost.total.usage.completion_tokens,
            reasoning_tokens: cost.total.usage.reasoning_tokens,
            estimated_expected_usd: cost.total.estimated_expected_usd,
            estimated_worst_usd: cost.total.estimated_worst_usd,
            actual_usd: cost.total.actual_usd,
            kept_examples,
            paraphrase_expected_output_tokens: if calibratable { paraphrase_expected } else { 0 },
            paraphrase_completion_tokens: if calibratable { paraphrase_written } else { 0 },
            reasoning_answers: reasoning_answers.len() as u64,
            reasoning_completion_tokens: reasoning_answers
                .iter()
                .map(|a| a.usage.completion_tokens)
                .sum(),
            pricing_checked: cost.pricing_checked.clone(),
        }
    }

    /// What this run measured, for calibrating the next plan.
    pub fn sample(&self) -> RunSample {
        RunSample {
            paraphrase_expected_output_tokens: self.paraphrase_expected_output_tokens,
            paraphrase_completion_tokens: self.paraphrase_completion_tokens,
            reasoning_answers: self.reasoning_answers,
            reasoning_completion_tokens: self.reasoning_completion_tokens,
        }
    }
}

/// Every row of the ledger (none if it does not exist yet).
pub fn read(path: &Path) -> Result<Vec<LedgerRow>, ReportError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(StoreError::read(path)(error).into()),
    };
    csv::Reader::from_reader(file)
        .deserialize()
        .zip(2u64..)
        .map(|(row, line)| {
            row.map_err(|source| ReportError::LedgerRow {
                path: path.to_path_buf(),
                line,
                source,
            })
        })
        .collect()
}

/// Adds `row`, replacing any row of the same run; written atomically.
pub fn upsert(path: &Path, row: LedgerRow) -> Result<(), ReportError> {
    let mut rows: Vec<LedgerRow> = read(path)?
        .into_iter()
        .filter(|r| r.run != row.run)
        .collect();
    rows.push(row);
    write_atomic(path, |writer| {
        let mut csv = csv::Writer::from_writer(writer);
        for row in &rows {
            csv.serialize(row).map_err(std::io::Error::other)?;
        }
        csv.flush()
    })?;
    Ok(())
}

/// Mean estimate error over rows, in percent (for the report command).
pub fn error_percent(rows: &[&LedgerRow]) -> Option<Decimal> {
    let expected: Decimal = rows.iter().map(|r| r.estimated_expected_usd.0).sum();
    let actual: Decimal = rows.iter().map(|r| r.actual_usd.0).sum();
    (!expected.is_zero()).then(|| ((actual - expected) * Decimal::from(100) / expected).round_dp(1))
}

/// Ledger rows grouped by dataset size (pairs) and model.
pub fn ledger_groups(rows: &[LedgerRow]) -> Vec<serde_json::Value> {
    let mut groups: BTreeMap<(u64, String), Vec<&LedgerRow>> = BTreeMap::new();
    for row in rows {
        groups
            .entry((row.pairs, row.model.clone()))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((pairs, model), rows)| {
            let actual: Usd = rows.iter().map(|r| r.actual_usd).sum();
            let expected: Usd = rows.iter().map(|r| r.estimated_expected_usd).sum();
            let worst: Usd = rows.iter().map(|r| r.estimated_worst_usd).sum();
            let kept: u64 = rows.iter().map(|r| r.kept_examples).sum();
            serde_json::json!({
                "pairs": pairs,
                "model": model,
                "runs": rows.len(),
                "actual_usd": actual,
                "estimated_expected_usd": expected,
                "estimated_worst_usd": worst,
                "expected_error_percent": error_percent(&rows),
                "kept_examples": kept,
                "usd_per_kept_example": (kept > 0).then(|| Usd((actual.0 / rust_decimal::Decimal::from(kept)).round_dp(8))),
            })
        })
        .collect()
}

/// The ledger for finance: every run, then per dataset size and model, then totals.
pub fn ledger_text(rows: &[LedgerRow]) -> String {
    let mut out = String::new();
    let run_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.run.clone(),
                r.date.clone(),
                thousands(r.pairs),
                r.model.clone(),
                r.estimated_expected_usd.cents(),
                r.estimated_worst_usd.cents(),
                r.actual_usd.cents(),
                error_percent(&[r])
                    .map(|p| format!("{p:+}%"))
                    .unwrap_or_default(),
                thousands(r.kept_examples),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "run",
            "date",
            "pairs",
            "model",
            "expected $",
            "worst $",
            "actual $",
            "error",
            "kept",
        ],
        &run_rows,
    ));
    out.push('\n');
    let group_rows: Vec<Vec<String>> = ledger_groups(rows)
        .iter()
        .map(|g| {
            let usd = |key: &str| {
                g[key]
                    .as_str()
                    .and_then(Usd::parse)
                    .map(Usd::cents)
                    .unwrap_or_default()
            };
            vec![
                g["pairs"].to_string(),
                g["model"].as_str().unwrap_or_default().to_string(),
                g["runs"].to_string(),
                usd("estimated_expected_usd"),
                usd("actual_usd"),
                g["expected_error_percent"]
                    .as_str()
                    .map(|p| format!("{p}%"))
                    .unwrap_or_default(),
                g["usd_per_kept_example"]
                    .as_str()
                    .and_then(Usd::parse)
                    .map(|u| format!("{:.4}", u.0))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "pairs",
            "model",
            "runs",
            "expected $",
            "actual $",
            "error",
            "$ per kept example",
        ],
        &group_rows,
    ));
    let actual: Usd = rows.iter().map(|r| r.actual_usd).sum();
    let expected: Usd = rows.iter().map(|r| r.estimated_expected_usd).sum();
    let _ = writeln!(
        out,
        "\ntotal: {} runs, actual {} (exact {}), expected {}",
        rows.len(),
        actual.cents(),
        actual.exact(),
        expected.cents()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run: &str, expected: u64, written: u64) -> LedgerRow {
        LedgerRow {
            date: "2026-11-29".into(),
            run: run.into(),
            dataset: "d.csv".into(),
            dataset_sha256: "ab".into(),
            pairs: 10,
            model: "gpt-4o".into(),
            requests: 20,
            prompt_tokens: 1000,
            cached_tokens: 0,
            completion_tokens: 500,
            reasoning_tokens: 0,
            estimated_expected_usd: Usd::parse("0.01").unwrap(),
            estimated_worst_usd: Usd::parse("0.05").unwrap(),
            actual_usd: Usd::parse("0.012").unwrap(),
            kept_examples: 18,
            paraphrase_expected_output_tokens: expected,
            paraphrase_completion_tokens: written,
            reasoning_answers: 10,
            reasoning_completion_tokens: 4000,
            pricing_checked: "2025-07".into(),
        }
    }

    #[test]
    fn a_run_has_one_row_however_often_it_is_reconciled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.csv");
        upsert(&path, row("a", 100, 90)).unwrap();
        upsert(&path, row("b", 100, 90)).unwrap();
        upsert(&path, row("a", 100, 120)).unwrap();
        let rows = read(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].run, "a");
        assert_eq!(rows[1].paraphrase_completion_tokens, 120);
        assert_eq!(
            rows[1].actual_usd,
            Usd::parse("0.012").unwrap(),
            "money round-trips exactly"
        );
    }

    #[test]
    fn rows_give_their_calibration_sample_and_the_error_percent() {
        let sample = row("a", 1000, 800).sample();
        assert_eq!(sample.paraphrase_completion_tokens, 800);
        assert_eq!(sample.reasoning_answers, 10);
        let rows = [row("a", 1000, 800)];
        let refs: Vec<&LedgerRow> = rows.iter().collect();
        assert_eq!(error_percent(&refs).unwrap().to_string(), "20.0");
    }
}
