//! `safesft retry`: send again, as a new attempt, what a new answer may fix.

use anyhow::bail;

use crate::batch;
use crate::cli::args::RetryArgs;
use crate::cli::output::stdout_text;
use crate::cli::progress::Progress;
use crate::cli::settings::run_dir;
use crate::cli::ExitStatus;
use crate::job::reconcile_results;
use crate::reconcile::{Outcome, Resolved};
use crate::report::cost::cost_report;
use crate::report::status_table;
use crate::store::RunDir;

use super::{http_api, runtime};

pub(super) fn retry(args: &RetryArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = RunDir::open(&dir)?;
    if run
        .manifest
        .shards
        .iter()
        .any(|s| !s.remote.withdrawn && s.remote.line_check.is_none())
    {
        bail!(
            "run `{}` still has shards without results\nhint: `safesft wait {}` first; a retry is built from finished results",
            run.manifest.run,
            run.manifest.run
        );
    }
    let (_, reconciled) = reconcile_results(&run)?;
    let spent = cost_report(&run.manifest, &reconciled, 0).total.actual_usd;
    let retryable: Vec<Resolved> = reconciled
        .finals()
        .filter(|a| a.outcome != Outcome::Kept && a.retryable)
        .map(|a| reconciled.resolved(a, (None, None)))
        .collect();
    let to_retry: Vec<&Resolved> = retryable.iter().collect();
    if to_retry.is_empty() {
        stdout_text("nothing to retry: every request was kept, or failed in a way a new answer cannot fix\n")?;
        return Ok(ExitStatus::Success);
    }
    let retry_plan = batch::plan_retry(&run, &to_retry)?;
    let new_worst = retry_plan.worst_usd;
    let budget = args.budget_usd.or(run.manifest.budget_usd);
    if let Some(budget) = budget {
        if spent + new_worst > budget {
            eprintln!(
                "error: spent {spent} + this retry's worst case {new_worst} = {} is over the budget {budget}: nothing was added",
                spent + new_worst
            );
            return Ok(ExitStatus::Failure);
        }
    }
    let shards = retry_plan.shards.len();
    batch::apply_retry(&mut run, retry_plan)?;
    eprintln!("retrying {} requests in {shards} new shard(s); worst case {new_worst}, spent so far {spent}", to_retry.len());
    if args.no_submit {
        stdout_text(&status_table(&run.manifest))?;
        return Ok(ExitStatus::Success);
    }
    let api = http_api()?;
    let mut progress = Progress::new(false);
    runtime()?.block_on(batch::submit_ready(&api, &mut run, &mut progress))?;
    stdout_text(&status_table(&run.manifest))?;
    eprintln!(
        "next: `safesft wait {0}`, then `safesft reconcile {0}`",
        run.manifest.run
    );
    Ok(ExitStatus::Success)
}
