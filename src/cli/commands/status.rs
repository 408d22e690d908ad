//! `safesft status`: one look at every shard of a run. Needs no lock: it works while
//! `wait` runs and on a read-only run folder (then it records nothing).

use serde_json::json;

use crate::api::BatchApi;
use crate::cli::args::RunRef;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::settings::run_dir;
use crate::cli::ExitStatus;
use crate::report::status_table;
use crate::store::RunDir;

use super::{http_api, runtime};

pub(super) fn status(args: &RunRef) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(args)?;
    let mut run = RunDir::open_to_read(&dir)?;
    let live = run.manifest.shards.iter().any(|s| s.remote.in_flight());
    if live {
        let api = http_api()?;
        runtime()?.block_on(async {
            for index in 0..run.manifest.shards.len() {
                let shard = &run.manifest.shards[index];
                let Some(batch_id) = shard.remote.batch_id.clone() else {
                    continue;
                };
                if shard
                    .remote
                    .batch
                    .as_ref()
                    .is_some_and(|b| b.status.is_terminal())
                {
                    continue;
                }
                let batch = api.retrieve_batch(&batch_id).await?;
                run.manifest.shards[index].remote.batch = Some(batch);
                // Only the holder of the lock writes the manifest; a look without it
                // (`wait` is running, or the folder is read-only) records nothing.
                if run.locked() {
                    run.save()?;
                }
            }
            anyhow::Ok(())
        })?;
    }
    if args.json {
        stdout_json(&json!({"run": run.manifest.run, "shards": run.manifest.shards}))?;
    } else {
        stdout_text(&status_table(&run.manifest))?;
    }
    Ok(ExitStatus::Success)
}
