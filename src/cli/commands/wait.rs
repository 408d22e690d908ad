//! `safesft wait`: poll until every batch is done, then download its files.

use crate::batch;
use crate::cli::args::WaitArgs;
use crate::cli::progress::Progress;
use crate::cli::settings::{run_dir, schedule};
use crate::cli::ExitStatus;
use crate::store::RunDir;

use super::{finish_wait, http_api, interruptible, runtime};

pub(super) fn wait(args: &WaitArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = RunDir::open(&dir)?;
    let api = http_api()?;
    let schedule = schedule(args.poll)?;
    let mut progress = Progress::new(args.quiet);
    let outcome = runtime()?.block_on(interruptible(batch::wait(
        &api,
        &mut run,
        schedule,
        &mut progress,
    )))?;
    progress.clear();
    finish_wait(&run, outcome, args.target.json)
}
