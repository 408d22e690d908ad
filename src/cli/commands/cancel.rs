//! `safesft cancel`: cancel a run's unfinished batches, withdraw unsubmitted shards
//! (looking batches up, never uploading or creating one).

use serde_json::json;

use crate::batch;
use crate::cli::args::RunRef;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::progress::Progress;
use crate::cli::settings::run_dir;
use crate::cli::ExitStatus;
use crate::report::status_table;
use crate::store::RunDir;

use super::{http_api, runtime};

pub(super) fn cancel(args: &RunRef) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(args)?;
    let mut run = RunDir::open(&dir)?;
    let api = http_api()?;
    let mut progress = Progress::new(args.json);
    runtime()?.block_on(batch::cancel(&api, &mut run, &mut progress))?;
    if args.json {
        stdout_json(&json!({"run": run.manifest.run, "shards": run.manifest.shards}))?;
    } else {
        stdout_text(&status_table(&run.manifest))?;
        eprintln!(
            "cancelling: `safesft wait {}` downloads whatever finished before the cancel",
            run.manifest.run
        );
    }
    Ok(ExitStatus::Success)
}
