//! `safesft wait`: poll until every batch is done, then download its files (and fetch
//! again any download that is missing or damaged); once stage 1 is in, build and wait
//! for stage 2 (the verify requests).

use crate::cli::args::WaitArgs;
use crate::cli::progress::Progress;
use crate::cli::settings::{run_dir, schedule};
use crate::cli::ExitStatus;
use crate::store::RunDir;

use super::{finish_wait, http_api, interruptible, runtime, wait_both_stages, Shown};

pub(super) fn wait(args: &WaitArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = RunDir::open(&dir)?;
    run.verify_plan_files()?;
    // Waiting submits shards never submitted (later waves): the same checks as `submit`.
    if !run.pending().is_empty() {
        if let Err(error) = run.check_budget(None) {
            eprintln!("error: {error:#}");
            return Ok(ExitStatus::Failure);
        }
    }
    let api = http_api()?;
    let schedule = schedule(args.poll)?;
    let mut progress = Progress::new(args.quiet);
    let outcome = runtime()?.block_on(interruptible(wait_both_stages(
        &api,
        &mut run,
        schedule,
        &mut progress,
    )))?;
    progress.clear();
    let shown = if args.target.json {
        Shown::Json
    } else {
        Shown::Table
    };
    let resume = format!("safesft wait {}", run.manifest.run);
    finish_wait(&run, outcome, shown, &resume)
}
