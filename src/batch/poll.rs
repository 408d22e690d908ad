//! Polling: look at every submitted shard, record what changed, download what finished,
//! and wait with a growing interval, submitting later waves as room frees up.

use std::time::Duration;

use super::download::download_results;
use super::submit::submit_ready;
use super::{BatchError, Event, Observer};
use crate::api::BatchApi;
use crate::store::RunDir;

/// Looks at every submitted shard once and records what it sees; downloads the files of
/// shards that have finished.
pub async fn poll_once<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    for index in 0..run.manifest.shards.len() {
        let shard = run.shard(index);
        let Some(batch_id) = shard.remote.batch_id.clone() else {
            continue;
        };
        let terminal = shard
            .remote
            .batch
            .as_ref()
            .is_some_and(|b| b.status.is_terminal());
        if !terminal {
            let batch = api.retrieve_batch(&batch_id).await?;
            if run.shard(index).remote.batch.as_ref() != Some(&batch) {
                run.shard_mut(index).remote.batch = Some(batch.clone());
                run.save()?;
            }
            observer.event(&Event::Polled {
                shard: index,
                batch: Box::new(batch),
            });
        }
        if run
            .shard(index)
            .remote
            .batch
            .as_ref()
            .is_some_and(|b| b.status.is_terminal())
            && run.shard(index).remote.line_check.is_none()
        {
            download_results(api, run, index, observer).await?;
        }
    }
    Ok(())
}

/// How often to look: seconds at first, minutes later.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollSchedule {
    pub initial: Duration,
    pub max: Duration,
    /// Each wait is this many times the one before.
    pub growth: f64,
}

impl Default for PollSchedule {
    fn default() -> PollSchedule {
        PollSchedule {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(300),
            growth: 1.5,
        }
    }
}

impl PollSchedule {
    pub fn next(&self, current: Duration) -> Duration {
        current.mul_f64(self.growth).min(self.max)
    }
}

/// Polls until every shard is finished and downloaded, submitting later waves as room
/// frees up under the enqueued-token limit. Interrupting it at any await point leaves a
/// resumable run.
pub async fn wait<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    schedule: PollSchedule,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    let mut interval = schedule.initial;
    loop {
        submit_ready(api, run, observer).await?;
        poll_once(api, run, observer).await?;
        if run.finished() {
            return Ok(());
        }
        // A wave may have room now that a shard finished: submit before sleeping.
        if !run.pending().is_empty() && submit_ready(api, run, observer).await? > 0 {
            interval = schedule.initial;
            continue;
        }
        observer.event(&Event::Sleeping {
            seconds: interval.as_secs_f64(),
        });
        tokio::time::sleep(interval).await;
        interval = schedule.next(interval);
    }
}
