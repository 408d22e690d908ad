//! Cancelling a run: unfinished batches are cancelled, shards never submitted are
//! withdrawn (a submission cut short is looked up, never finished); and hints for the
//! error codes of failed batches.

use super::submit::find_batch;
use super::{BatchError, Event, Observer};
use crate::api::{BatchApi, BatchStatus};
use crate::store::RunDir;

/// Cancels every unfinished batch and withdraws shards never submitted, and records the
/// cancel, so that `wait` builds no verify stage for the run afterwards. Nothing is
/// uploaded or created: a shard whose submission was cut short is looked up by its
/// metadata, cancelled when its batch exists, withdrawn when it does not.
pub async fn cancel<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    // Said first: no stage 2 is built for a cancelled run (until a retry).
    run.manifest.cancelled_at = Some(super::unix_now());
    run.save()?;
    for index in 0..run.manifest.shards.len() {
        let remote = &run.shard(index).remote;
        if remote.batch_id.is_none() {
            if remote.upload_started_at.is_none() && remote.create_started_at.is_none() {
                run.shard_mut(index).remote.withdrawn = true;
                run.save()?;
                continue;
            }
            // Interrupted mid-submission: its batch may exist; look, never create.
            let found = match remote.create_started_at {
                Some(started) => find_batch(api, &run.metadata(index), started).await?,
                None => None,
            };
            let Some(batch) = found else {
                run.shard_mut(index).remote.withdrawn = true;
                run.save()?;
                observer.event(&Event::Withdrawn { shard: index });
                continue;
            };
            let batch_id = batch.id.clone();
            let remote = &mut run.shard_mut(index).remote;
            remote.batch_id = Some(batch_id.clone());
            remote.batch = Some(batch);
            run.save()?;
            observer.event(&Event::Found {
                shard: index,
                batch_id,
            });
        }
        let remote = &run.shard(index).remote;
        if remote
            .batch
            .as_ref()
            .is_some_and(|b| b.status.is_terminal() || b.status == BatchStatus::Cancelling)
        {
            continue;
        }
        let batch_id = remote.batch_id.clone().unwrap_or_default();
        let batch = api.cancel_batch(&batch_id).await?;
        run.shard_mut(index).remote.batch = Some(batch.clone());
        run.save()?;
        observer.event(&Event::Polled {
            shard: index,
            batch: Box::new(batch),
        });
    }
    Ok(())
}

/// A hint for a failed batch's error codes, when the user can act on it.
pub fn failure_hint(code: &str) -> Option<&'static str> {
    match code {
        "token_limit_exceeded" => Some(
            "the organisation's enqueued-token limit for this model was reached: plan again with `--enqueued-token-limit` set to that limit, so shards go in waves",
        ),
        "invalid_json_line" | "invalid_request" => {
            Some("a request line was refused: check the prompt config and plan again")
        }
        _ => None,
    }
}
