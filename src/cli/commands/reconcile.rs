//! `safesft reconcile`: a run's downloaded results → balanced SFT files, the cost report
//! and the run's ledger row; the plan files and downloads are checked first.

use std::path::Path;

use anyhow::Context;

use crate::batch;
use crate::cli::args::{ReconcileArgs, SftArgs};
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::progress::Progress;
use crate::cli::settings::{run_dir, sft_options};
use crate::cli::ExitStatus;
use crate::job::{reconcile_run, Finished};
use crate::store::{RunDir, StoreError};

use super::{http_api, runtime};

/// Reconciles `run` and says whether every request got an answer.
pub(super) fn reconcile_and_report(
    run: &RunDir,
    sft: &SftArgs,
    reports_dir: &Path,
) -> anyhow::Result<(Finished, ExitStatus)> {
    let today = chrono::Utc::now().date_naive().to_string();
    let finished = reconcile_run(run, &sft_options(sft), reports_dir, &today)?;
    let status = if finished.complete {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    Ok((finished, status))
}

/// Opens a run to reconcile: under its lock, or without it when the lock file cannot
/// be opened (a read-only run folder; the outputs then go wherever `--output-dir` and
/// `--reports-dir` say). Checks the plan files and fetches again any download that is
/// missing or damaged (this needs the API key).
pub(super) fn open_checked(dir: &Path, quiet: bool) -> anyhow::Result<RunDir> {
    let mut run = match RunDir::open(dir) {
        Err(StoreError::Lock { .. }) => RunDir::open_to_read(dir)?,
        other => other?,
    };
    run.verify_plan_files()?;
    let damaged = batch::damaged_downloads(&run)?;
    if let Some((shard, why)) = damaged.first() {
        eprintln!("shard {shard:03}: {why}: fetching it again");
        let api = http_api().context("cannot fetch the damaged download again")?;
        let mut progress = Progress::new(quiet);
        runtime()?.block_on(batch::repair_downloads(&api, &mut run, &mut progress))?;
    }
    Ok(run)
}

pub(super) fn reconcile_command(args: &ReconcileArgs) -> anyhow::Result<ExitStatus> {
    let run = open_checked(&run_dir(&args.target)?, args.target.json)?;
    let (finished, status) = reconcile_and_report(&run, &args.sft, &args.reports_dir)?;
    if args.target.json {
        stdout_json(&finished.json)?;
    } else {
        stdout_text(&finished.text)?;
    }
    Ok(status)
}
