//! `reports/ledger.csv`: one row per reconciled run, for finance and for calibrating the
//! next plan (its expected output and kept rate). Reconciling a run again replaces its
//! row. The README documents every column and its unit.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cost::CostReport;
use super::ReportError;
use crate::money::Usd;
use crate::plan::calibrate::RunSample;
use crate::plan::kept::KeptSample;
use crate::plan::{RequestKind, Stage};
use crate::reconcile::Reconciled;
use crate::store::fs::write_atomic;
use crate::store::{Manifest, StoreError};

/// The ledger's file name inside the reports folder.
pub const LEDGER_FILE: &str = "ledger.csv";

/// One run. Columns missing from older ledgers read as empty or 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerRow {
    pub date: String,
    pub run: String,
    pub started_at: String,
    pub ended_at: String,
    pub duration_seconds: Option<u64>,
    pub dataset: String,
    pub dataset_sha256: String,
    pub pairs: u64,
    pub model: String,
    pub prompt_sha256: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
    pub estimated_expected_usd: Usd,
    pub estimated_worst_usd: Usd,
    pub actual_usd: Usd,
    pub first_attempt_usd: Usd,
    pub retry_usd: Usd,
    pub kept_examples: u64,
    pub kept_pairs: u64,
    pub usd_per_kept_pair: Option<Usd>,
    /// Every paraphrase answer (retries included), hidden reasoning included.
    pub paraphrase_completion_tokens: u64,
    pub paraphrase_hidden_tokens: u64,
    /// For calibration: first-attempt paraphrases that came back, the tokens of their
    /// user messages' content and what they wrote (visible, then hidden).
    pub first_paraphrase_content_tokens: u64,
    pub first_paraphrase_written_tokens: u64,
    pub first_paraphrase_hidden_tokens: u64,
    pub reasoning_answers: u64,
    pub reasoning_completion_tokens: u64,
    pub reasoning_hidden_tokens: u64,
    pub pricing_checked: String,
    /// Stage 1 (paraphrase + reasoning) at the run's model's Batch prices (issue 9).
    pub stage1_estimated_expected_usd: Usd,
    pub stage1_estimated_worst_usd: Usd,
    pub stage1_actual_usd: Usd,
    /// Stage 2 (verify) at the verifier's Batch prices; empty model when it was off.
    pub verify_model: String,
    pub stage2_estimated_expected_usd: Usd,
    pub stage2_estimated_worst_usd: Usd,
    pub stage2_actual_usd: Usd,
    /// Verify requests planned (one per rule-passing paraphrase) and their verdicts:
    /// `same` (kept), `changed` (the paraphrase rejected), no verdict (failed, expired
    /// or missing).
    pub verify_requests: u64,
    pub verify_same: u64,
    pub verify_changed: u64,
    pub verify_no_verdict: u64,
    pub verify_completion_tokens: u64,
}

/// What the ledger row needs besides the manifest, the decisions and the cost report.
pub struct RunFacts<'a> {
    /// The day of the reconcile (`YYYY-MM-DD`).
    pub date: String,
    /// The dataset's path as found on disk (absolute when it could be resolved).
    pub dataset: String,
    /// The content tokens of each first-attempt paraphrase, by note id (from the plan's
    /// index; empty for plans made before it was recorded).
    pub paraphrase_content_tokens: &'a HashMap<String, u64>,
}

impl LedgerRow {
    /// The row of a reconciled run.
    pub fn for_run(
        facts: &RunFacts<'_>,
        manifest: &Manifest,
        reconciled: &Reconciled,
        cost: &CostReport,
    ) -> LedgerRow {
        let mut row = LedgerRow {
            date: facts.date.clone(),
            run: manifest.run.clone(),
            started_at: cost.timing.started_at.clone().unwrap_or_default(),
            ended_at: cost.timing.ended_at.clone().unwrap_or_default(),
            duration_seconds: cost.timing.duration_seconds,
            dataset: facts.dataset.clone(),
            dataset_sha256: manifest.input.sha256.clone(),
            pairs: manifest.input.pairs_planned,
            model: manifest.model.clone(),
            prompt_sha256: manifest.prompt_config.sha256.clone(),
            requests: cost.total.answers,
            prompt_tokens: cost.total.usage.prompt_tokens,
            cached_tokens: cost.total.usage.cached_tokens,
            completion_tokens: cost.total.usage.completion_tokens,
            reasoning_tokens: cost.total.usage.reasoning_tokens,
            estimated_expected_usd: cost.total.estimated_expected_usd,
            estimated_worst_usd: cost.total.estimated_worst_usd,
            actual_usd: cost.total.actual_usd,
            first_attempt_usd: cost.total.first_attempts.actual_usd,
            retry_usd: cost.total.retries.actual_usd,
            kept_examples: cost.kept_examples,
            kept_pairs: cost.kept_pairs,
            usd_per_kept_pair: cost.usd_per_kept_pair,
            pricing_checked: cost.pricing_checked.clone(),
            ..LedgerRow::default()
        };
        if let Some(stage) = cost.stages.get(&Stage::Generate) {
            row.stage1_estimated_expected_usd = stage.estimated_expected_usd;
            row.stage1_estimated_worst_usd = stage.estimated_worst_usd;
            row.stage1_actual_usd = stage.actual_usd;
        }
        if let Some(stage) = cost.stages.get(&Stage::Verify) {
            row.verify_model.clone_from(&stage.model);
            row.stage2_estimated_expected_usd = stage.estimated_expected_usd;
            row.stage2_estimated_worst_usd = stage.estimated_worst_usd;
            row.stage2_actual_usd = stage.actual_usd;
        }
        if let Some(verify) = reconciled.accounting.get(&RequestKind::Verify) {
            row.verify_requests = verify.planned;
            row.verify_same = verify.kept;
            row.verify_changed = verify.rejected;
            row.verify_no_verdict = verify.failed + verify.expired + verify.missing;
        }
        for attempt in &reconciled.attempts {
            let usage = attempt.usage;
            if usage.completion_tokens == 0 {
                continue;
            }
            let visible = usage
                .completion_tokens
                .saturating_sub(usage.reasoning_tokens);
            match attempt.kind {
                RequestKind::Paraphrase => {
                    row.paraphrase_completion_tokens += usage.completion_tokens;
                    row.paraphrase_hidden_tokens += usage.reasoning_tokens;
                    // Answered: the rules decided it (the verifier's verdict comes after).
                    let answered = attempt.answer.is_some();
                    let content = facts
                        .paraphrase_content_tokens
                        .get(reconciled.notes.id(attempt.note))
                        .copied()
                        .unwrap_or(0);
                    if attempt.attempt == 1 && answered && content > 0 {
                        row.first_paraphrase_content_tokens += content;
                        row.first_paraphrase_written_tokens += visible;
                        row.first_paraphrase_hidden_tokens += usage.reasoning_tokens;
                    }
                }
                RequestKind::Reasoning => {
                    row.reasoning_answers += 1;
                    row.reasoning_completion_tokens += usage.completion_tokens;
                    row.reasoning_hidden_tokens += usage.reasoning_tokens;
                }
                RequestKind::Verify => row.verify_completion_tokens += usage.completion_tokens,
            }
        }
        row
    }

    /// What this run measured, for calibrating the next plan's expected output.
    pub fn sample(&self) -> RunSample {
        RunSample {
            model: self.model.clone(),
            paraphrase_content_tokens: self.first_paraphrase_content_tokens,
            paraphrase_written_tokens: self.first_paraphrase_written_tokens,
            paraphrase_hidden_tokens: self.first_paraphrase_hidden_tokens,
            reasoning_answers: self.reasoning_answers,
            reasoning_written_tokens: self
                .reasoning_completion_tokens
                .saturating_sub(self.reasoning_hidden_tokens),
            reasoning_hidden_tokens: self.reasoning_hidden_tokens,
        }
    }

    /// What this run kept, for the next plan's kept rate.
    pub fn kept_sample(&self) -> KeptSample {
        KeptSample {
            model: self.model.clone(),
            prompt_sha256: self.prompt_sha256.clone(),
            pairs_planned: self.pairs,
            pairs_kept: if self.kept_pairs > 0 {
                self.kept_pairs
            } else {
                self.kept_examples / 2
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn row(run: &str, content: u64, written: u64) -> LedgerRow {
        LedgerRow {
            date: "2026-11-29".into(),
            run: run.into(),
            dataset: "/data/d.csv".into(),
            dataset_sha256: "ab".into(),
            pairs: 10,
            model: "gpt-4o".into(),
            prompt_sha256: "p".into(),
            requests: 20,
            prompt_tokens: 1000,
            completion_tokens: 500,
            estimated_expected_usd: Usd::parse("0.01").unwrap(),
            estimated_worst_usd: Usd::parse("0.05").unwrap(),
            actual_usd: Usd::parse("0.012").unwrap(),
            kept_examples: 18,
            kept_pairs: 9,
            first_paraphrase_content_tokens: content,
            first_paraphrase_written_tokens: written,
            reasoning_answers: 10,
            reasoning_completion_tokens: 4000,
            pricing_checked: "2025-07".into(),
            ..LedgerRow::default()
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
        assert_eq!(rows[1].first_paraphrase_written_tokens, 120);
        assert_eq!(
            rows[1].actual_usd,
            Usd::parse("0.012").unwrap(),
            "money round-trips exactly"
        );
    }

    #[test]
    fn two_ledger_rows_calibrate_the_exact_ratio() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.csv");
        upsert(&path, row("a", 100_000, 84_000)).unwrap();
        upsert(&path, row("b", 100_000, 84_000)).unwrap();
        let samples: Vec<RunSample> = read(&path).unwrap().iter().map(LedgerRow::sample).collect();
        let model = crate::plan::calibrate::calibrated(
            "gpt-4o",
            &samples,
            &crate::plan::OutputModel::default(),
        );
        assert_eq!(model.paraphrase_output_permille, 840);
        assert_eq!(model.reasoning_output_tokens, 400);
    }

    #[test]
    fn an_older_ledger_reads_with_its_new_columns_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.csv");
        std::fs::write(
            &path,
            "date,run,dataset,dataset_sha256,pairs,model,requests,prompt_tokens,cached_tokens,completion_tokens,reasoning_tokens,estimated_expected_usd,estimated_worst_usd,actual_usd,kept_examples,paraphrase_expected_output_tokens,paraphrase_completion_tokens,reasoning_answers,reasoning_completion_tokens,pricing_checked\n2026-11-01,old,d.csv,ab,319,gpt-4o,638,1,0,1,0,0.1,0.2,0.15,366,105000,0,319,1000,2025-07\n",
        )
        .unwrap();
        let rows = read(&path).unwrap();
        assert_eq!(rows[0].kept_sample().pairs_kept, 183);
        assert_eq!(
            rows[0].sample().paraphrase_content_tokens,
            0,
            "not calibrated"
        );
        assert_eq!(rows[0].duration_seconds, None);
    }
}
