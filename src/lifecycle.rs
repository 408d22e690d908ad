//! Submit, poll, download and cancel a planned run through any [`BatchApi`], writing
//! every step into the manifest before and after its call so that a run that crashed at
//! any point resumes without uploading or creating anything twice.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::api::{ApiError, BatchApi, BatchInfo, BatchStatus};
use crate::pricing::Usd;
use crate::run::{FileRecord, LineCheck, Manifest, ShardRecord};

/// Where downloads go inside the run folder.
pub const OUTPUTS_DIR: &str = "outputs";
/// The lock file that keeps two processes off one run.
pub const LOCK_FILE: &str = ".lock";
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
}

/// Receives [`Event`]s.
pub trait Observer {
    fn event(&mut self, event: &Event);
}

/// Discards every event.
pub struct Quiet;

impl Observer for Quiet {
    fn event(&mut self, _event: &Event) {}
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Holds the run folder's lock for as long as it lives.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Locks `run_dir` for this process, or says another process has it.
    pub fn acquire(run_dir: &Path) -> anyhow::Result<RunLock> {
        let path = run_dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open `{}`", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "run `{}` is in use by another safesft process\nhint: wait for it to finish, or stop it; its progress is kept",
                run_dir.display()
            ),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock `{}`", path.display()))
            }
        }
    }
}

/// A run folder opened for lifecycle work: its manifest, saved after every change.
pub struct Run {
    pub dir: PathBuf,
    pub manifest: Manifest,
    _lock: RunLock,
}

impl Run {
    pub fn open(dir: &Path) -> anyhow::Result<Run> {
        if !dir.join(crate::run::MANIFEST_FILE).exists() {
            bail!(
                "`{}` holds no planned run\nhint: plan it first with `safesft plan --run {}`",
                dir.display(),
                dir.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            );
        }
        let lock = RunLock::acquire(dir)?;
        let manifest = Manifest::load(dir)?;
        Ok(Run {
            dir: dir.to_path_buf(),
            manifest,
            _lock: lock,
        })
    }

    fn save(&self) -> anyhow::Result<()> {
        self.manifest.save(&self.dir)
    }

    fn shard(&self, index: usize) -> &ShardRecord {
        &self.manifest.shards[index]
    }

    fn shard_mut(&mut self, index: usize) -> &mut ShardRecord {
        &mut self.manifest.shards[index]
    }

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

    /// Checks the budget set at plan time (or given now) against the worst case.
    pub fn check_budget(&self, budget: Option<Usd>) -> anyhow::Result<()> {
        let Some(budget) = budget.or(self.manifest.budget_usd) else {
            return Ok(());
        };
        let worst = self.manifest.estimate.total.batch.worst;
        if let Err(over) = self.manifest.estimate.check_budget(budget) {
            bail!(BudgetExceeded {
                worst,
                budget,
                over
            });
        }
        Ok(())
    }

    /// Checks every shard file is still the one planned (size and sha256).
    pub fn verify_shard_files(&self) -> anyhow::Result<()> {
        for shard in &self.manifest.shards {
            let path = self.dir.join(&shard.file.path);
            let sha256 = crate::run::sha256_file(&path)?;
            if sha256 != shard.file.sha256 {
                bail!(
                    "`{}` changed since it was planned (sha256 {} ≠ {})\nhint: plan the run again with `--force` (before anything is submitted)",
                    path.display(),
                    &sha256[..12],
                    &shard.file.sha256[..12]
                );
            }
        }
        Ok(())
    }

    /// Prompt tokens of shards submitted and not yet finished.
    fn in_flight_tokens(&self) -> u64 {
        self.manifest
            .shards
            .iter()
            .filter(|s| s.remote.in_flight())
            .map(|s| s.prompt_tokens)
            .sum()
    }

    fn pending(&self) -> Vec<usize> {
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

/// The worst case is over the budget: nothing is submitted.
#[derive(Debug, thiserror::Error)]
#[error("the worst case {worst} is over the budget {budget} by {over}: nothing was submitted")]
pub struct BudgetExceeded {
    pub worst: Usd,
    pub budget: Usd,
    pub over: Usd,
}

/// Submits every pending shard the enqueued-token limit lets through now (all of them
/// without a limit). Shards already submitted are left alone; a shard interrupted
/// mid-submission resumes where it stopped.
pub async fn submit_ready<A: BatchApi>(
    api: &A,
    run: &mut Run,
    observer: &mut dyn Observer,
) -> anyhow::Result<usize> {
    let limit = run.manifest.limits.max_prompt_tokens;
    let mut submitted = 0;
    for index in run.pending() {
        if let Some(limit) = limit {
            let in_flight = run.in_flight_tokens();
            if in_flight > 0 && in_flight + run.shard(index).prompt_tokens > limit {
                observer.event(&Event::Deferred {
                    shard: index,
                    in_flight_tokens: in_flight,
                    limit,
                });
                break;
            }
        }
        submit_shard(api, run, index, observer).await?;
        submitted += 1;
    }
    Ok(submitted)
}

/// Uploads (or reuses) one shard's file and creates (or finds) its batch.
async fn submit_shard<A: BatchApi>(
    api: &A,
    run: &mut Run,
    index: usize,
    observer: &mut dyn Observer,
) -> anyhow::Result<()> {
    let name = run.upload_name(index);
    if run.shard(index).remote.input_file_id.is_none() {
        let reused = if run.shard(index).remote.upload_started_at.is_some() {
            find_upload(api, &name, run.shard(index).file.bytes).await?
        } else {
            None
        };
        let file_id = if let Some(file_id) = reused {
            observer.event(&Event::UploadReused {
                shard: index,
                file_id: file_id.clone(),
            });
            file_id
        } else {
            run.shard_mut(index).remote.upload_started_at = Some(unix_now());
            run.save()?;
            let path = run.dir.join(&run.shard(index).file.path);
            let file = api.upload_file(&path, &name).await?;
            observer.event(&Event::Uploaded {
                shard: index,
                file_id: file.id.clone(),
            });
            file.id
        };
        run.shard_mut(index).remote.input_file_id = Some(file_id);
        run.save()?;
    }
    let input_file_id = run
        .shard(index)
        .remote
        .input_file_id
        .clone()
        .unwrap_or_default();
    let metadata = run.metadata(index);
    if let Some(started) = run.shard(index).remote.create_started_at {
        if let Some(batch) = find_batch(api, &metadata, started).await? {
            return record_batch(run, index, batch, observer, true);
        }
    }
    run.shard_mut(index).remote.create_started_at = Some(unix_now());
    run.save()?;
    let started = run.shard(index).remote.create_started_at.unwrap_or(0);
    let mut attempt = 1;
    loop {
        match api.create_batch(&input_file_id, &metadata).await {
            Ok(batch) => return record_batch(run, index, batch, observer, false),
            Err(error) if error.transient() && attempt < CREATE_ATTEMPTS => {
                // The batch may exist although the answer was lost: look before creating.
                if error.maybe_applied() {
                    if let Some(batch) = find_batch(api, &metadata, started).await? {
                        return record_batch(run, index, batch, observer, true);
                    }
                }
                attempt += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn record_batch(
    run: &mut Run,
    index: usize,
    batch: BatchInfo,
    observer: &mut dyn Observer,
    found: bool,
) -> anyhow::Result<()> {
    let batch_id = batch.id.clone();
    let remote = &mut run.shard_mut(index).remote;
    remote.batch_id = Some(batch_id.clone());
    remote.batch = Some(batch);
    run.save()?;
    observer.event(&if found {
        Event::Found {
            shard: index,
            batch_id,
        }
    } else {
        Event::Created {
            shard: index,
            batch_id,
        }
    });
    Ok(())
}

/// A file uploaded under `name` with `bytes` bytes, if one is there.
async fn find_upload<A: BatchApi>(
    api: &A,
    name: &str,
    bytes: u64,
) -> Result<Option<String>, ApiError> {
    let files = api.list_batch_files().await?;
    Ok(files
        .into_iter()
        .filter(|f| f.filename == name && f.bytes.is_none_or(|b| b == bytes))
        .max_by_key(|f| f.created_at)
        .map(|f| f.id))
}

/// The batch carrying `metadata`, created since shortly before `started`, if any.
/// Lists newest first and stops at older batches.
async fn find_batch<A: BatchApi>(
    api: &A,
    metadata: &BTreeMap<String, String>,
    started: u64,
) -> Result<Option<BatchInfo>, ApiError> {
    let oldest = started.saturating_sub(CREATE_LOOKBACK_SECONDS);
    let mut after: Option<String> = None;
    for _ in 0..LOOKUP_MAX_PAGES {
        let page = api.list_batches(after.as_deref(), 100).await?;
        for batch in &page.batches {
            if metadata
                .iter()
                .all(|(k, v)| batch.metadata.get(k) == Some(v))
            {
                return Ok(Some(batch.clone()));
            }
        }
        let reached_older = page.batches.iter().any(|b| b.created_at < oldest);
        match page.batches.last() {
            Some(last) if page.has_more && !reached_older => after = Some(last.id.clone()),
            _ => break,
        }
    }
    Ok(None)
}

/// Looks at every submitted shard once and records what it sees; downloads the files of
/// shards that have finished.
pub async fn poll_once<A: BatchApi>(
    api: &A,
    run: &mut Run,
    observer: &mut dyn Observer,
) -> anyhow::Result<()> {
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

/// The non-blank lines and sha256 of a downloaded file, in one read.
fn count_and_hash(path: &Path) -> anyhow::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    let file = File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut hasher = Sha256::new();
    let mut lines = 0u64;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        if read == 0 {
            return Ok((lines, format!("{:x}", hasher.finalize())));
        }
        hasher.update(&buffer);
        if buffer.iter().any(|b| !b.is_ascii_whitespace()) {
            lines += 1;
        }
    }
}

/// Downloads a finished shard's output and error files and checks their lines against
/// the batch's request counts.
async fn download_results<A: BatchApi>(
    api: &A,
    run: &mut Run,
    index: usize,
    observer: &mut dyn Observer,
) -> anyhow::Result<()> {
    let batch = run
        .shard(index)
        .remote
        .batch
        .clone()
        .unwrap_or_else(|| unreachable!());
    remove_stale_downloads(&run.dir.join(OUTPUTS_DIR))?;
    let mut lines = [0u64; 2];
    for (slot, (file_id, suffix)) in [
        (batch.output_file_id.clone(), "output"),
        (batch.error_file_id.clone(), "errors"),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(file_id) = file_id else { continue };
        let relative = format!("{OUTPUTS_DIR}/shard-{index:03}.{suffix}.jsonl");
        let path = run.dir.join(&relative);
        let bytes = api.download_file(&file_id, &path).await?;
        let (count, sha256) = count_and_hash(&path)?;
        lines[slot] = count;
        let record = FileRecord {
            sha256,
            path: relative.clone(),
            bytes,
        };
        let remote = &mut run.shard_mut(index).remote;
        if slot == 0 {
            remote.output = Some(record);
        } else {
            remote.errors = Some(record);
        }
        run.save()?;
        observer.event(&Event::Downloaded {
            shard: index,
            path: relative,
            bytes,
        });
    }
    let check = line_check(&batch, run.shard(index).requests, lines[0], lines[1]);
    run.shard_mut(index).remote.line_check = Some(check);
    run.save()?;
    Ok(())
}

/// Removes temp files of downloads a killed process left behind (we hold the run lock,
/// so no other process is writing them).
fn remove_stale_downloads(outputs: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(outputs) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".download-")
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove `{}`", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Compares downloaded lines with what the batch counted and what was planned.
pub fn line_check(
    batch: &BatchInfo,
    planned: u64,
    output_lines: u64,
    error_lines: u64,
) -> LineCheck {
    let counts = batch.request_counts;
    let mut problems = Vec::new();
    if batch.status == BatchStatus::Failed {
        problems.push(format!(
            "the batch failed before running: none of its {planned} requests ran"
        ));
    } else {
        if output_lines != counts.completed {
            problems.push(format!(
                "{output_lines} output lines for {} completed requests",
                counts.completed
            ));
        }
        if output_lines + error_lines != counts.total {
            problems.push(format!(
                "{output_lines} output + {error_lines} error lines for {} requests in the batch",
                counts.total
            ));
        }
        if counts.total != planned {
            problems.push(format!(
                "the batch counted {} requests, the shard holds {planned}",
                counts.total
            ));
        }
        if batch.status == BatchStatus::Completed && batch.output_file_id.is_none() {
            problems.push("completed without an output file: every request failed".into());
        }
    }
    LineCheck {
        output_lines,
        error_lines,
        counted_total: counts.total,
        counted_completed: counts.completed,
        counted_failed: counts.failed,
        planned_requests: planned,
        problems,
    }
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
    run: &mut Run,
    schedule: PollSchedule,
    observer: &mut dyn Observer,
) -> anyhow::Result<()> {
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

/// Cancels every unfinished batch and withdraws shards never submitted.
pub async fn cancel<A: BatchApi>(
    api: &A,
    run: &mut Run,
    observer: &mut dyn Observer,
) -> anyhow::Result<()> {
    for index in 0..run.manifest.shards.len() {
        let remote = &run.shard(index).remote;
        if remote.batch_id.is_none() {
            if remote.upload_started_at.is_none() && remote.create_started_at.is_none() {
                run.shard_mut(index).remote.withdrawn = true;
                run.save()?;
                continue;
            }
            // Interrupted mid-submission: finish it so the batch can be found and cancelled.
            submit_shard(api, run, index, observer).await?;
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

/// A retry attempt, built in memory before anything is written.
pub struct RetryPlan {
    /// New shards: their lines and fills.
    pub shards: Vec<(Vec<String>, crate::request::ShardFill)>,
    pub index: Vec<crate::run::IndexEntry>,
    /// The worst case of the new requests at Batch prices.
    pub worst_usd: Usd,
}

/// Builds the next attempt of `requests` (their latest attempt + 1), with the same bodies
/// as before, in new shards under the run's limits.
pub fn plan_retry(
    run: &Run,
    requests: &[&crate::reconcile::Resolved],
) -> anyhow::Result<RetryPlan> {
    use crate::request::{BatchRequestLine, CustomId, Sharder};
    use crate::run::IndexEntry;
    let index_path = run.dir.join(crate::run::INDEX_FILE);
    let text = std::fs::read_to_string(&index_path)
        .with_context(|| format!("cannot read `{}`", index_path.display()))?;
    let mut entries: BTreeMap<String, IndexEntry> = BTreeMap::new();
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let entry: IndexEntry = serde_json::from_str(line).with_context(|| {
            format!("{}:{}: not an index line", index_path.display(), number + 1)
        })?;
        entries.insert(entry.request.custom_id.clone(), entry);
    }
    let wanted: BTreeMap<&str, &crate::reconcile::Resolved> = requests
        .iter()
        .map(|r| (r.custom_id.as_str(), *r))
        .collect();
    let mut bodies: BTreeMap<String, BatchRequestLine> = BTreeMap::new();
    let shards_needed: std::collections::BTreeSet<usize> = wanted
        .keys()
        .filter_map(|id| entries.get(*id))
        .map(|e| e.shard)
        .collect();
    for shard in shards_needed {
        let path = run.dir.join(&run.manifest.shards[shard].file.path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let request: BatchRequestLine = serde_json::from_str(line).with_context(|| {
                format!("`{}` holds a line that is not a request", path.display())
            })?;
            if wanted.contains_key(request.custom_id.as_str()) {
                bodies.insert(request.custom_id.clone(), request);
            }
        }
    }
    let first_index = run.manifest.shards.len();
    let mut sharder = Sharder::new(run.manifest.limits);
    let mut shards: Vec<(Vec<String>, crate::request::ShardFill)> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut index = Vec::new();
    let mut worst = crate::estimate::TokenTotals::default();
    for (old_id, resolved) in &wanted {
        let (Some(entry), Some(request)) = (entries.get(*old_id), bodies.get(*old_id)) else {
            bail!("request `{old_id}` is not in the run's plan");
        };
        let new_id = CustomId {
            note_id: resolved.note_id.clone(),
            kind: resolved.kind,
            attempt: resolved.attempt + 1,
        }
        .to_string();
        let mut request = request.clone();
        request.custom_id.clone_from(&new_id);
        let mut line = serde_json::to_string(&request)?;
        line.push('\n');
        let (shard, finished) = sharder.place(
            &new_id,
            &request.body.model,
            line.len() as u64,
            entry.request.prompt_tokens,
        )?;
        if let Some(fill) = finished {
            shards.push((std::mem::take(&mut current), fill));
        }
        current.push(line);
        let mut planned = entry.request.clone();
        planned.custom_id = new_id;
        worst.add(&planned);
        index.push(IndexEntry {
            request: planned,
            shard: first_index + shard,
        });
    }
    if let Some(fill) = sharder.finish() {
        shards.push((current, fill));
    }
    let worst_usd = run.manifest.pricing.prices.batch.cost(worst.worst_use());
    Ok(RetryPlan {
        shards,
        index,
        worst_usd,
    })
}

/// Writes a retry attempt into the run: new shard files, index lines, manifest entries.
pub fn apply_retry(run: &mut Run, plan: RetryPlan) -> anyhow::Result<()> {
    let first_index = run.manifest.shards.len();
    for (offset, (lines, fill)) in plan.shards.into_iter().enumerate() {
        let index = first_index + offset;
        let relative = format!("{}/shard-{index:03}.jsonl", crate::run::REQUESTS_DIR);
        let path = run.dir.join(&relative);
        let bytes: String = lines.concat();
        crate::run::write_atomic(&path, |w| w.write_all(bytes.as_bytes()))?;
        run.manifest.shards.push(ShardRecord {
            index,
            file: FileRecord {
                path: relative,
                sha256: crate::run::sha256_hex(bytes.as_bytes()),
                bytes: bytes.len() as u64,
            },
            model: fill.model.clone(),
            requests: fill.requests,
            prompt_tokens: fill.prompt_tokens,
            remote: crate::run::RemoteState::default(),
        });
    }
    let index_path = run.dir.join(crate::run::INDEX_FILE);
    let old = std::fs::read_to_string(&index_path)
        .with_context(|| format!("cannot read `{}`", index_path.display()))?;
    // Keep only lines of shards the manifest has: a retry interrupted between writing
    // the index and the manifest left lines for shards that never existed.
    let mut text = String::with_capacity(old.len());
    for line in old.lines().filter(|l| !l.trim().is_empty()) {
        let entry: crate::run::IndexEntry = serde_json::from_str(line).with_context(|| {
            format!(
                "`{}` holds a line that is not an index line",
                index_path.display()
            )
        })?;
        if entry.shard < first_index {
            text.push_str(line);
            text.push('\n');
        }
    }
    for entry in &plan.index {
        text.push_str(&serde_json::to_string(entry)?);
        text.push('\n');
    }
    crate::run::write_atomic(&index_path, |w| w.write_all(text.as_bytes()))?;
    run.manifest.request_index.sha256 = crate::run::sha256_hex(text.as_bytes());
    run.manifest.request_index.bytes = text.len() as u64;
    run.manifest.requests += plan.index.len() as u64;
    run.save()
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;

    use super::*;
    use crate::api::{BatchPage, FileInfo, RequestCounts};

    /// A scripted API: batches walk through `statuses`, one per retrieve.
    struct Scripted {
        statuses: RefCell<VecDeque<BatchStatus>>,
        creates: Cell<u32>,
    }

    fn batch(status: BatchStatus) -> BatchInfo {
        let done = status == BatchStatus::Completed;
        BatchInfo {
            id: "batch_1".into(),
            status,
            input_file_id: "file-1".into(),
            output_file_id: done.then(|| "file-out".into()),
            error_file_id: None,
            request_counts: RequestCounts {
                total: 2,
                completed: if done { 2 } else { 0 },
                failed: 0,
            },
            errors: Vec::new(),
            metadata: BTreeMap::new(),
            created_at: 1,
            in_progress_at: None,
            finalizing_at: None,
            completed_at: None,
            failed_at: None,
            expired_at: None,
            cancelling_at: None,
            cancelled_at: None,
        }
    }

    impl BatchApi for Scripted {
        async fn upload_file(&self, _path: &Path, filename: &str) -> Result<FileInfo, ApiError> {
            Ok(FileInfo {
                id: "file-1".into(),
                bytes: None,
                filename: filename.into(),
                purpose: "batch".into(),
                created_at: 1,
            })
        }
        async fn list_batch_files(&self) -> Result<Vec<FileInfo>, ApiError> {
            Ok(Vec::new())
        }
        async fn create_batch(
            &self,
            _input_file_id: &str,
            _metadata: &BTreeMap<String, String>,
        ) -> Result<BatchInfo, ApiError> {
            self.creates.set(self.creates.get() + 1);
            Ok(batch(BatchStatus::Validating))
        }
        async fn retrieve_batch(&self, _batch_id: &str) -> Result<BatchInfo, ApiError> {
            let status = self
                .statuses
                .borrow_mut()
                .pop_front()
                .unwrap_or(BatchStatus::Completed);
            Ok(batch(status))
        }
        async fn list_batches(
            &self,
            _after: Option<&str>,
            _limit: u32,
        ) -> Result<BatchPage, ApiError> {
            Ok(BatchPage {
                batches: Vec::new(),
                has_more: false,
            })
        }
        async fn cancel_batch(&self, _batch_id: &str) -> Result<BatchInfo, ApiError> {
            Ok(batch(BatchStatus::Cancelling))
        }
        async fn download_file(&self, _file_id: &str, destination: &Path) -> Result<u64, ApiError> {
            let text = "{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n";
            std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
            std::fs::write(destination, text).unwrap();
            Ok(text.len() as u64)
        }
    }

    /// A real planned run of one pair (two requests) in a temp folder.
    fn planned_run() -> (tempfile::TempDir, Run) {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("pairs.jsonl");
        std::fs::write(
            &input,
            "{\"note_id\":\"n-1\",\"correct_note\":\"Aspirin 81 mg daily.\",\"incorrect_note\":\"Aspirin 810 mg daily.\",\"error_type\":\"pharmacotherapy\"}\n",
        )
        .unwrap();
        let prompts_path = project.join("configs/prompts/gpt4o_medec_safe_augmentation.json");
        let pricing_path = project.join("configs/pricing.toml");
        let settings = crate::run::PlanSettings {
            input,
            read_options: crate::medec::ReadOptions::default(),
            prompts: crate::prompts::LoadedPrompts::load(&prompts_path).unwrap(),
            prompts_path,
            pricing: crate::pricing::PricingTable::load(&pricing_path).unwrap(),
            pricing_path,
            model: "gpt-4o".into(),
            reasoning: true,
            num_pairs: None,
            limits: crate::request::ShardLimits::default(),
            budget: None,
            output_model: crate::estimate::OutputModel::default(),
            batches_dir: dir.path().join("batches"),
            run: "r".into(),
            force: false,
        };
        crate::run::plan(&settings, &|_| {}).unwrap();
        let run = Run::open(&dir.path().join("batches/r")).unwrap();
        (dir, run)
    }

    #[derive(Default)]
    struct Recorder(Vec<Event>);

    impl Observer for Recorder {
        fn event(&mut self, event: &Event) {
            self.0.push(event.clone());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_polls_every_few_seconds_at_first_and_minutes_later() {
        let (_dir, mut run) = planned_run();
        let mut statuses = vec![BatchStatus::Validating];
        statuses.extend([BatchStatus::InProgress; 14]);
        statuses.extend([BatchStatus::Finalizing; 2]);
        let api = Scripted {
            statuses: RefCell::new(statuses.into()),
            creates: Cell::new(0),
        };
        let mut recorder = Recorder::default();
        let started = tokio::time::Instant::now();
        wait(&api, &mut run, PollSchedule::default(), &mut recorder)
            .await
            .unwrap();
        let sleeps: Vec<f64> = recorder
            .0
            .iter()
            .filter_map(|e| match e {
                Event::Sleeping { seconds } => Some(*seconds),
                _ => None,
            })
            .collect();
        assert_eq!(sleeps.len(), 17);
        assert!((sleeps[0] - 5.0).abs() < 1e-9);
        assert!((sleeps[1] - 7.5).abs() < 1e-9);
        assert!(sleeps.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            (sleeps[16] - 300.0).abs() < 1e-9,
            "capped at five minutes: {sleeps:?}"
        );
        let slept: f64 = sleeps.iter().sum();
        assert!((started.elapsed().as_secs_f64() - slept).abs() < 1.0);
        assert_eq!(api.creates.get(), 1);
        // Finalizing is reported as it is, not folded into in_progress.
        assert!(recorder.0.iter().any(
            |e| matches!(e, Event::Polled { batch, .. } if batch.status == BatchStatus::Finalizing)
        ));
        assert!(run.finished());
        let check = run.manifest.shards[0].remote.line_check.clone().unwrap();
        assert_eq!((check.output_lines, check.problems.len()), (2, 0));
    }

    #[test]
    fn line_check_names_every_mismatch() {
        let mut finished = batch(BatchStatus::Completed);
        finished.request_counts = RequestCounts {
            total: 10,
            completed: 8,
            failed: 2,
        };
        assert!(line_check(&finished, 10, 8, 2).problems.is_empty());
        let check = line_check(&finished, 10, 7, 2);
        assert_eq!(check.problems.len(), 2, "{:?}", check.problems);
        assert!(line_check(&finished, 12, 8, 2).problems[0].contains("shard holds 12"));
        finished.output_file_id = None;
        assert!(line_check(&finished, 10, 8, 2)
            .problems
            .iter()
            .any(|p| p.contains("without an output file")));
        let failed = batch(BatchStatus::Failed);
        assert!(line_check(&failed, 10, 0, 0).problems[0].contains("none of its 10 requests ran"));
    }

    #[test]
    fn poll_schedule_grows_and_caps() {
        let schedule = PollSchedule::default();
        assert_eq!(
            schedule.next(Duration::from_secs(4)),
            Duration::from_secs(6)
        );
        assert_eq!(
            schedule.next(Duration::from_secs(299)),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn token_limit_failures_get_a_hint() {
        assert!(failure_hint("token_limit_exceeded")
            .unwrap()
            .contains("--enqueued-token-limit"));
        assert!(failure_hint("something_new").is_none());
    }
}
