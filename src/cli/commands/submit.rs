//! `safesft submit`: upload a planned run's shards and create their batches.

use serde_json::json;

use crate::batch;
use crate::cli::args::SubmitArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::progress::Progress;
use crate::cli::settings::run_dir;
use crate::cli::ExitStatus;
use crate::report::status_table;
use crate::store::RunDir;

use super::{http_api, interruptible, runtime};

pub(super) fn submit(args: &SubmitArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = RunDir::open(&dir)?;
    if let Err(error) = run.check_budget(args.budget_usd) {
        eprintln!("error: {error:#}");
        return Ok(ExitStatus::Failure);
    }
    run.verify_plan_files()?;
    let api = http_api()?;
    let mut progress = Progress::new(false);
    let outcome = runtime()?.block_on(interruptible(batch::submit_ready(
        &api,
        &mut run,
        &mut progress,
    )))?;
    let Some(submitted) = outcome else {
        eprintln!(
            "\ninterrupted: nothing is lost. Run `safesft submit {}` again to resume.",
            run.manifest.run
        );
        return Ok(ExitStatus::Interrupted);
    };
    if args.target.json {
        stdout_json(
            &json!({"run": run.manifest.run, "submitted": submitted, "shards": run.manifest.shards}),
        )?;
    } else {
        stdout_text(&status_table(&run.manifest))?;
        let pending = run
            .manifest
            .shards
            .iter()
            .filter(|s| s.remote.batch_id.is_none() && !s.remote.withdrawn)
            .count();
        if pending > 0 {
            eprintln!("{pending} shard(s) wait for room under the enqueued-token limit: `safesft wait {}` submits them as earlier ones finish", run.manifest.run);
        }
        eprintln!(
            "next: `safesft wait {}` polls until every batch is done and downloads the results",
            run.manifest.run
        );
    }
    Ok(ExitStatus::Success)
}
