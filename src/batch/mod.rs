//! Both stages at the API: submit, poll, download and cancel a planned run through any
//! [`BatchApi`], writing every step into the manifest before and after its call so that
//! a run that crashed at any point resumes without uploading or creating anything twice.
//! Retry attempts (and stage 2's verify shards, built the same way) are written here
//! too, beside the submission they feed.

mod cancel;
mod download;
mod poll;
mod retry;
mod submit;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use cancel::{cancel, failure_hint};
pub use download::{damaged_downloads, repair_downloads};
pub use poll::{wait, PollSchedule};
pub use retry::{apply_retry, plan_retry, NewShards, RetryPlan};
pub use submit::submit_ready;

use crate::api::{ApiError, BatchInfo};
use crate::money::Usd;
use crate::plan::ShardError;
use crate::store::{RunDir, StoreError};

/// Where downloads go inside the run folder.
pub const OUTPUTS_DIR: &str = "outputs";
/// Metadata keys put on every batch (the API allows 16 keys of up to 64 characters).
pub const META_RUN: &str = "safesft_run";
pub const META_SHARD: &str = "safesft_shard";
pub const META_PLAN: &str = "safesft_plan";
/// Attempts at creating one batch when the answer is lost.
const CREATE_ATTEMPTS: u32 = 5;
/// How far back (seconds) before our first create attempt a listed batch may have been
/// created and still be ours (clock skew between us and the API).
const CREATE_LOOKBACK_SECONDS: u64 = 3600;
/// Pages of 100 batches looked through at most when finding a batch by metadata.
const LOOKUP_MAX_PAGES: usize = 50;

/// Something the lifecycle did, for progress displays and logs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Uploaded {
        shard: usize,
        file_id: String,
    },
    UploadReused {
        shard: usize,
        file_id: String,
    },
    Created {
        shard: usize,
        batch_id: String,
    },
    Found {
        shard: usize,
        batch_id: String,
    },
    Deferred {
        shard: usize,
        in_flight_tokens: u64,
        limit: u64,
    },
    Polled {
        shard: usize,
        batch: Box<BatchInfo>,
    },
    Downloaded {
        shard: usize,
        path: String,
        bytes: u64,
    },
    Sleeping {
        seconds: f64,
    },
    /// A downloaded file is missing or changed: it is fetched again.
    Damaged {
        shard: usize,
        why: String,
    },
    /// The API could not be reached (network, 5xx, 429): polling goes on.
    Outage {
        message: String,
        seconds: f64,
        /// When the outage began (Unix seconds).
        since: u64,
    },
    /// Other uploads of a shard's file (orphans of lost answers) were deleted.
    OrphansDeleted {
        shard: usize,
        files: usize,
    },
    /// A shard's unfinished submission was looked up and nothing was found: withdrawn.
    Withdrawn {
        shard: usize,
    },
    /// Stage 2 was built: verify requests for rule-passing paraphrases, in new shards.
    VerifyBuilt {
        requests: usize,
        shards: usize,
    },
}

/// Receives [`Event`]s.
pub trait Observer {
    fn event(&mut self, event: &Event);
}

/// Seconds since the Unix epoch (0 before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why a batch step stopped. Every step before it is saved: running the command again
/// resumes from there.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Budget(#[from] BudgetExceeded),
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("request `{custom_id}` is not in the run's plan")]
    NotInPlan { custom_id: String },
    /// The API stayed unreachable past the batches' own 24 h window.
    #[error("the API has not answered since {since} (Unix time), past the batches' 24 h window")]
    Outage {
        since: u64,
        #[source]
        error: ApiError,
    },
}

/// The worst case is over the budget: nothing is submitted.
#[derive(Debug, thiserror::Error)]
#[error("the worst case {worst} is over the budget {budget} by {over}: nothing was submitted")]
pub struct BudgetExceeded {
    pub worst: Usd,
    pub budget: Usd,
    pub over: Usd,
}

/// What the batch stage asks of a run folder.
impl RunDir {
    /// The metadata that identifies a shard's batch.
    pub fn metadata(&self, index: usize) -> BTreeMap<String, String> {
        BTreeMap::from([
            (META_RUN.to_string(), self.manifest.run.clone()),
            (META_SHARD.to_string(), format!("{index:03}")),
            (
                META_PLAN.to_string(),
                self.manifest.plan_hash[..16].to_string(),
            ),
        ])
    }

    /// The file name a shard is uploaded under: run, shard and plan, so a lost upload is
    /// recognisable in the file list.
    pub fn upload_name(&self, index: usize) -> String {
        format!(
            "safesft-{}-shard-{index:03}-{}.jsonl",
            self.manifest.run,
            &self.manifest.plan_hash[..12]
        )
    }

    /// Checks the budget set at plan time (or given now) against the worst case of both
    /// stages.
    pub fn check_budget(&self, budget: Option<Usd>) -> Result<(), BudgetExceeded> {
        let Some(budget) = budget.or(self.manifest.budget_usd) else {
            return Ok(());
        };
        let worst = self.manifest.estimate.batch_all().worst;
        self.manifest
            .estimate
            .check_budget(budget)
            .map_err(|over| BudgetExceeded {
                worst,
                budget,
                over,
            })
    }

    /// Prompt tokens of `model`'s shards submitted and not yet finished: the
    /// enqueued-token limit is per model (a verifier's queue is its own).
    pub(crate) fn in_flight_tokens(&self, model: &str) -> u64 {
        self.manifest
            .shards
            .iter()
            .filter(|s| s.remote.in_flight() && s.model == model)
            .map(|s| s.prompt_tokens)
            .sum()
    }

    pub(crate) fn pending(&self) -> Vec<usize> {
        self.manifest
            .shards
            .iter()
            .filter(|s| s.remote.batch_id.is_none() && !s.remote.withdrawn)
            .map(|s| s.index)
            .collect()
    }

    /// True when every shard is finished and its files are on disk (or withdrawn).
    pub fn finished(&self) -> bool {
        self.manifest.shards.iter().all(|s| {
            s.remote.withdrawn
                || (s
                    .remote
                    .batch
                    .as_ref()
                    .is_some_and(|b| b.status.is_terminal())
                    && s.remote.line_check.is_some())
        })
    }
}
