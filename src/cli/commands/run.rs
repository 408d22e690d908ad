//! `safesft run`: the whole job — plan, budget check, submit stage 1, wait, rule checks,
//! submit stage 2 (verify), wait, reconcile, report —
//! stopping after the plan with `--dry-run`, resuming where it stopped. Without a key
//! (and without `--dry-run`) it is an error before anything is planned.

use anyhow::bail;
use serde_json::json;

use crate::batch;
use crate::cli::args::RunArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::progress::Progress;
use crate::cli::settings::schedule;
use crate::cli::ExitStatus;
use crate::store::RunDir;

use super::plan::plan;
use super::reconcile::reconcile_and_report;
use super::{finish_wait, http_api, interruptible, runtime, this_command, wait_both_stages, Shown};

pub(super) fn run_job(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    let has_key = std::env::var_os("OPENAI_API_KEY").is_some_and(|k| !k.is_empty());
    if !args.dry_run && !has_key {
        // A cron job must not "succeed" doing nothing.
        bail!("missing `OPENAI_API_KEY` in the environment: nothing was planned or sent\nhint: export OPENAI_API_KEY, or add `--dry-run` to plan and price the run without sending anything");
    }
    let json = args.plan.json;
    let (status, run_dir) = plan(&args.plan, args.dry_run || !json)?;
    let Some(run_dir) = run_dir else {
        return Ok(status);
    };
    if args.dry_run {
        eprintln!(
            "\nstopped after the plan (--dry-run): nothing was sent, nothing was spent.\nTo generate for real: export OPENAI_API_KEY, then run the same command without --dry-run (it resumes from {}).",
            run_dir.display()
        );
        return Ok(status);
    }
    // The environment is checked before anything is recorded as started.
    let api = http_api()?;
    let schedule = schedule(args.poll)?;
    runtime()?.block_on(async {
        let mut run = RunDir::open(&run_dir)?;
        run.check_budget(None)?;
        run.verify_plan_files()?;
        let mut progress = Progress::new(args.plan.quiet);
        let outcome = interruptible(async {
            batch::submit_ready(&api, &mut run, &mut progress).await?;
            wait_both_stages(&api, &mut run, schedule, &mut progress).await
        })
        .await?;
        progress.clear();
        let shown = if json { Shown::Nothing } else { Shown::Table };
        let waited = finish_wait(&run, outcome, shown, &this_command())?;
        if waited == ExitStatus::Interrupted {
            return Ok(waited);
        }
        // `wait` has just checked every download: reconcile the run as it is. The
        // dataset decides: a batch that expired but whose requests a retry answered is
        // not a failure any more.
        let (finished, status) = reconcile_and_report(&run, &args.sft, &args.plan.reports_dir)?;
        if json {
            stdout_json(&json!({
                "run": run.manifest.run,
                "run_dir": run_dir,
                "manifest": run.manifest,
                "reconcile": finished.json,
            }))?;
        } else {
            stdout_text(&finished.text)?;
        }
        Ok(status)
    })
}
