//! `reports/ledger.csv`: one row per reconciled run, for finance and for calibrating the
//! next plan's expected output. Reconciling a run again replaces its row.

use std::path::Path;

use anyhow::Context;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::estimate::OutputModel;
use crate::pricing::Usd;

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

/// Every row of the ledger (none if it does not exist yet).
pub fn read(path: &Path) -> anyhow::Result<Vec<LedgerRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.with_context(|| format!("{}:{}: not a ledger row", path.display(), i + 2))
        })
        .collect()
}

/// Adds `row`, replacing any row of the same run; written atomically.
pub fn upsert(path: &Path, row: LedgerRow) -> anyhow::Result<()> {
    let mut rows: Vec<LedgerRow> = read(path)?
        .into_iter()
        .filter(|r| r.run != row.run)
        .collect();
    rows.push(row);
    crate::run::write_atomic(path, |writer| {
        let mut csv = csv::Writer::from_writer(writer);
        for row in &rows {
            csv.serialize(row).map_err(std::io::Error::other)?;
        }
        csv.flush()
    })
}

/// The output model measured by earlier runs, if the ledger has any: paraphrase output
/// scaled by what was written against what was expected, reasoning answers at their
/// measured mean size.
pub fn calibrated(rows: &[LedgerRow], default: &OutputModel) -> OutputModel {
    let expected: u64 = rows
        .iter()
        .map(|r| r.paraphrase_expected_output_tokens)
        .sum();
    let written: u64 = rows.iter().map(|r| r.paraphrase_completion_tokens).sum();
    let answers: u64 = rows.iter().map(|r| r.reasoning_answers).sum();
    let reasoning: u64 = rows.iter().map(|r| r.reasoning_completion_tokens).sum();
    if expected == 0 && answers == 0 {
        return default.clone();
    }
    let mut model = default.clone();
    if expected > 0 {
        model.paraphrase_output_permille = (u128::from(default.paraphrase_output_permille)
            * u128::from(written))
        .div_ceil(u128::from(expected))
        .try_into()
        .unwrap_or(u64::MAX);
    }
    if answers > 0 {
        model.reasoning_output_tokens = reasoning.div_ceil(answers);
    }
    model.source = format!("ledger ({} runs)", rows.len());
    model
}

/// Mean estimate error over rows, in percent (for the report command).
pub fn error_percent(rows: &[&LedgerRow]) -> Option<Decimal> {
    let expected: Decimal = rows.iter().map(|r| r.estimated_expected_usd.0).sum();
    let actual: Decimal = rows.iter().map(|r| r.actual_usd.0).sum();
    (!expected.is_zero()).then(|| ((actual - expected) * Decimal::from(100) / expected).round_dp(1))
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
    fn calibration_scales_the_defaults_by_what_was_measured() {
        let default = OutputModel::default();
        assert_eq!(calibrated(&[], &default), default);
        let model = calibrated(&[row("a", 1000, 800)], &default);
        assert_eq!(model.paraphrase_output_permille, 840);
        assert_eq!(model.reasoning_output_tokens, 400);
        assert_eq!(model.source, "ledger (1 runs)");
        let rows = [row("a", 1000, 800)];
        let refs: Vec<&LedgerRow> = rows.iter().collect();
        assert_eq!(error_percent(&refs).unwrap().to_string(), "20.0");
    }
}
