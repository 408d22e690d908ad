//! `safesft reconcile`: a run's downloaded results → balanced SFT files, the cost report
//! and the run's ledger row.

use std::path::Path;

use crate::cli::args::{ReconcileArgs, SftArgs};
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::settings::{run_dir, sft_options};
use crate::cli::ExitStatus;
use crate::job::{reconcile_run, Finished};
use crate::store::RunDir;

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

pub(super) fn reconcile_command(args: &ReconcileArgs) -> anyhow::Result<ExitStatus> {
    let run = RunDir::open(&run_dir(&args.target)?)?;
    let (finished, status) = reconcile_and_report(&run, &args.sft, &args.reports_dir)?;
    if args.target.json {
        stdout_json(&finished.json)?;
    } else {
        stdout_text(&finished.text)?;
    }
    Ok(status)
}
