//! Reconciling a run folder: read its results, decide every request, write the SFT
//! files and `rejected.jsonl` (see `dataset.rs`), `generation_stats_safe.json`, the cost
//! report and the ledger row. Deterministic: the same results give the same files.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::dataset::write_dataset;
use super::html::{render_html_report, HtmlError};
use crate::plan::{CustomId, RequestKind};
use crate::reconcile::collect::{collect, CollectError, RunFiles};
use crate::reconcile::stages::stage_counts;
use crate::reconcile::{reconcile, Reconciled};
use crate::report::cost::{cost_report, CostReport};
use crate::report::cost_view::{cost_csv, cost_text};
use crate::report::ledger::{self, LedgerRow, RunFacts, LEDGER_FILE};
use crate::report::{accounting_table, ReportError};
use crate::safety::SafetyChecker;
use crate::sft::{Fallback, GenerationStats};
use crate::store::fs::{remove_stale, write_atomic, write_json_atomic, TEMP_PREFIX};
use crate::store::manifest::{IndexEntry, INDEX_FILE};
use crate::store::{RunDir, StoreError};

/// Why a run could not be reconciled.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Html(#[from] HtmlError),
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Shard(#[from] crate::plan::ShardError),
    #[error(transparent)]
    Batch(#[from] crate::batch::BatchError),
}

/// How the dataset is written.
#[derive(Debug, Clone)]
pub struct SftOptions {
    /// Where the SFT files go (default: `<run>/sft`).
    pub output_dir: Option<PathBuf>,
    pub fallback: Fallback,
    /// Also write the chat `messages` form.
    pub messages: bool,
    /// Seed of the combined file's shuffle.
    pub seed: u64,
}

/// What reconciling a run produced.
pub struct Finished {
    pub text: String,
    pub json: Value,
    /// False when a request got no answer (failed, expired, missing) or lines were bad.
    pub complete: bool,
}

/// Reads a run's results and decides every request's outcome; the files stay open to
/// read the answers' texts again.
pub fn reconcile_results(run: &RunDir) -> Result<(RunFiles, Reconciled), CollectError> {
    std::thread::scope(|scope| {
        // The drug lexicon takes a while to build: start it while the plan is read (the
        // checkers below wait for it).
        scope.spawn(|| {
            let _ = SafetyChecker::default();
        });
        let (files, planned) = collect(&run.path, &run.manifest)?;
        let reconciled = reconcile(planned, files.lines(), &files, SafetyChecker::default)?;
        Ok((files, reconciled))
    })
}

/// Reconciles a run: SFT files, stats, rejected answers, the cost report and the
/// ledger row (dated `today`).
pub fn reconcile_run(
    run: &RunDir,
    options: &SftOptions,
    reports_dir: &Path,
    today: &str,
) -> Result<Finished, JobError> {
    let manifest = &run.manifest;
    let (files, reconciled) = reconcile_results(run)?;
    let output_dir = options
        .output_dir
        .clone()
        .unwrap_or_else(|| run.path.join("sft"));
    // Temp files of writers killed mid-write (their process is gone): never read, only
    // in the way. Failing to remove one does not stop the reconcile.
    for folder in [output_dir.as_path(), reports_dir] {
        let _ = remove_stale(folder, &[TEMP_PREFIX]);
    }
    let dataset = write_dataset(
        &files,
        &reconciled,
        manifest.reasoning,
        options,
        &output_dir,
    )?;
    drop(files);
    let stats = dataset.stats;
    let mut cost = cost_report(manifest, &reconciled, dataset.pairs_kept as u64);
    cost.sft_dir = output_dir.display().to_string();
    cost.pairs_file = run
        .path
        .join(&manifest.pairs_file.path)
        .display()
        .to_string();
    let stats_json = json!({
        "run": manifest.run,
        "model": manifest.model,
        "generation": stats,
        "accounting": reconciled.accounting,
        "stages": stage_counts(&reconciled),
        "verify_model": manifest.verify.as_ref().map(|v| &v.model),
        "line_problems": reconciled.problems,
        "tokens": cost.total.usage,
        "actual_usd": cost.total.actual_usd,
        "fallback": options.fallback,
        "seed": options.seed,
    });
    write_json_atomic(&output_dir.join("generation_stats_safe.json"), &stats_json)?;
    let report_json = reports_dir.join(format!("{}.json", manifest.run));
    write_json_atomic(&report_json, &cost)?;
    let csv_text = cost_csv(&cost);
    write_atomic(&reports_dir.join(format!("{}.csv", manifest.run)), |w| {
        w.write_all(csv_text.as_bytes())
    })?;
    let content_tokens = paraphrase_content_tokens(run)?;
    let facts = RunFacts {
        date: today.to_string(),
        dataset: absolute(&manifest.input.path),
        paraphrase_content_tokens: &content_tokens,
    };
    ledger::upsert(
        &reports_dir.join(LEDGER_FILE),
        LedgerRow::for_run(&facts, manifest, &reconciled, &cost),
    )?;

    let html = render_html_report(&cost, reports_dir)?;
    let report_html = reports_dir.join(format!("{}.html", manifest.run));
    write_atomic(&report_html, |w| w.write_all(html.as_bytes()))?;

    let text = summary_text(
        &reconciled,
        &stats,
        (dataset.pairs_kept, dataset.pairs_kept),
        &output_dir,
        &report_json,
        &cost,
        &manifest.run,
    );
    let text = text.replacen(
        "; cost report in ",
        &format!("; page {}; cost report in ", report_html.display()),
        1,
    );
    let unanswered = unanswered(&reconciled);
    let problems = &reconciled.problems;
    let complete = unanswered == 0
        && problems.unknown.is_empty()
        && problems.duplicated.is_empty()
        && problems.unreadable.is_empty();
    Ok(Finished {
        text,
        json: json!({"stats": stats_json, "cost": cost, "output_dir": output_dir}),
        complete,
    })
}

/// The dataset's path made absolute when it can be resolved, as written otherwise.
fn absolute(path: &str) -> String {
    std::fs::canonicalize(path).map_or_else(|_| path.to_string(), |p| p.display().to_string())
}

/// The content tokens of every first-attempt paraphrase, by note id, from the plan's
/// `requests/index.jsonl` (none for plans made before they were recorded).
fn paraphrase_content_tokens(run: &RunDir) -> Result<HashMap<String, u64>, StoreError> {
    let path = run.path.join(INDEX_FILE);
    let file = std::fs::File::open(&path).map_err(StoreError::read(&path))?;
    let mut tokens = HashMap::new();
    for (number, line) in (1..).zip(BufReader::new(file).lines()) {
        let line = line.map_err(StoreError::read(&path))?;
        let entry: IndexEntry =
            serde_json::from_str(&line).map_err(|source| StoreError::BadLine {
                path: path.clone(),
                line: number,
                what: "not an index entry",
                source,
            })?;
        let request = entry.request;
        if request.kind != RequestKind::Paraphrase || request.content_tokens == 0 {
            continue;
        }
        if let Some(id) = CustomId::parse(&request.custom_id).filter(|id| id.attempt == 1) {
            tokens.insert(id.note_id, request.content_tokens);
        }
    }
    Ok(tokens)
}

/// Requests with no answer (failed, expired, missing): something failed. Rejected
/// answers are the checker doing its job, not a failure of the run.
fn unanswered(reconciled: &Reconciled) -> u64 {
    reconciled
        .accounting
        .values()
        .map(|a| a.failed + a.expired + a.missing)
        .sum()
}

/// What `reconcile` prints: the accounting, the pairs kept, line problems, where the
/// files are, the bill, and what to do about unanswered requests.
fn summary_text(
    reconciled: &Reconciled,
    stats: &GenerationStats,
    examples: (usize, usize),
    output_dir: &Path,
    report_json: &Path,
    cost: &CostReport,
    run: &str,
) -> String {
    let mut text = accounting_table(&reconciled.accounting);
    let stages = stage_counts(reconciled);
    if let Some(verify) = stages
        .get(&crate::plan::Stage::Verify)
        .and_then(|kinds| kinds.get(&RequestKind::Verify))
    {
        let paraphrase = stages
            .get(&crate::plan::Stage::Generate)
            .and_then(|kinds| kinds.get(&RequestKind::Paraphrase))
            .cloned()
            .unwrap_or_default();
        let _ = writeln!(
            text,
            "\nstage 1: {} paraphrases, {} rejected by a rule check; stage 2: {} verified, {} `same`, {} `changed` (rejected by the verifier), {} without a verdict (failed {}, expired {}, missing {}).",
            paraphrase.planned,
            paraphrase.rejected_by_rules,
            verify.planned,
            verify.kept,
            verify.rejected_by_verifier,
            verify.failed + verify.expired + verify.missing,
            verify.failed,
            verify.expired,
            verify.missing,
        );
        if paraphrase.kept_after_doubt > 0 {
            let _ = writeln!(
                text,
                "{} kept paraphrases only concept checks had rejected were cleared by the verifier (`--doubts verify`; see `rule_doubts_cleared_by_verifier` in their metadata).",
                paraphrase.kept_after_doubt
            );
        }
    }
    let _ = writeln!(
        text,
        "\n{} pairs: {} kept ({} CORRECT + {} INCORRECT examples), {} dropped; reasoning added {}, failed {}.",
        stats.total_pairs_processed,
        stats.pairs_kept,
        examples.0,
        examples.1,
        stats.pairs_dropped,
        stats.reasoning_added,
        stats.reasoning_failed
    );
    let problems = &reconciled.problems;
    for (what, list) in [
        ("unknown custom_ids", &problems.unknown),
        ("duplicated custom_ids", &problems.duplicated),
        ("unreadable lines", &problems.unreadable),
    ] {
        if !list.is_empty() {
            let _ = writeln!(
                text,
                "warning: {} {what}: {}",
                list.len(),
                list.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let _ = writeln!(
        text,
        "SFT files in {}; cost report in {}\n",
        output_dir.display(),
        report_json.display()
    );
    text.push_str(&cost_text(cost));
    let unanswered = unanswered(reconciled);
    if unanswered > 0 {
        let _ = writeln!(
            text,
            "\n{unanswered} request(s) got no answer (failed, expired or missing): see rejected.jsonl; `safesft retry {run}` resends those a new attempt may fix"
        );
    }
    text
}
