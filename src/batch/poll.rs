//! Polling: look at every submitted shard, record what changed, download what finished,
//! and wait with a growing interval, submitting later waves as room frees up and riding
//! out outages of the API.

use std::time::Duration;

use super::download::{download_results, forget_damaged};
use super::submit::submit_ready;
use super::{unix_now, BatchError, Event, Observer};
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

/// The batches' completion window: past it, every batch has ended one way or another.
const BATCH_WINDOW_SECONDS: u64 = 24 * 3600;
/// Slack after the window for the API to finish writing expired batches.
const WINDOW_SLACK_SECONDS: u64 = 3600;

/// What one round of waiting found.
enum Round {
    Finished,
    /// A later wave went out: look again at once.
    Submitted,
    Waiting,
}

/// One round: submit what has room, look at every shard, download what finished.
async fn round<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<Round, BatchError> {
    submit_ready(api, run, observer).await?;
    poll_once(api, run, observer).await?;
    if run.finished() {
        return Ok(Round::Finished);
    }
    // A wave may have room now that a shard finished: submit before sleeping.
    if !run.pending().is_empty() && submit_ready(api, run, observer).await? > 0 {
        return Ok(Round::Submitted);
    }
    Ok(Round::Waiting)
}

/// Until when an outage that began at `since` is ridden out: the end of the latest
/// unfinished batch's 24 h window (plus slack), or a whole window from `since` when no
/// batch is running (submitting or downloading).
fn outage_deadline(run: &RunDir, since: u64) -> u64 {
    run.manifest
        .shards
        .iter()
        .filter(|s| s.remote.in_flight())
        .filter_map(|s| s.remote.batch.as_ref().map(|b| b.created_at))
        .max()
        .map_or(since, |created| created.max(since))
        + BATCH_WINDOW_SECONDS
        + WINDOW_SLACK_SECONDS
}

/// Polls until every shard is finished and downloaded, submitting later waves as room
/// frees up under the enqueued-token limit. Files downloaded before and since damaged
/// are fetched again. Transient API errors (network, 5xx, 429 after the retry helper's
/// attempts) are shown and ridden out on the poll schedule for as long as the batches'
/// 24 h window lasts; other errors (401, 403, a batch not found) end it. Interrupting
/// it at any await point leaves a resumable run.
pub async fn wait<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    schedule: PollSchedule,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    forget_damaged(run, observer)?;
    let mut interval = schedule.initial;
    let mut outage_since: Option<u64> = None;
    loop {
        match round(api, run, observer).await {
            Ok(Round::Finished) => return Ok(()),
            Ok(Round::Submitted) => {
                outage_since = None;
                interval = schedule.initial;
                continue;
            }
            Ok(Round::Waiting) => outage_since = None,
            Err(BatchError::Api(error)) if error.transient() => {
                let since = *outage_since.get_or_insert_with(unix_now);
                if unix_now() > outage_deadline(run, since) {
                    return Err(BatchError::Outage { since, error });
                }
                observer.event(&Event::Outage {
                    message: error.to_string(),
                    seconds: interval.as_secs_f64(),
                    since,
                });
            }
            Err(error) => return Err(error),
        }
        observer.event(&Event::Sleeping {
            seconds: interval.as_secs_f64(),
        });
        tokio::time::sleep(interval).await;
        interval = schedule.next(interval);
    }
}
