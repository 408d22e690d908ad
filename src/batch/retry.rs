//! Retry attempts: the requests a new answer may fix, sent again with the same bodies
//! under new `custom_id`s (attempt + 1) in new shards, priced before anything is written.

use std::collections::{BTreeMap, BTreeSet};

use super::BatchError;
use crate::money::{ModelPricing, Usd};
use crate::plan::{
    BatchRequestLine, CustomId, PlannedRequest, ShardFill, Sharder, Stage, TokenTotals,
};
use crate::reconcile::Resolved;
use crate::store::fs::{read_jsonl, sha256_hex, write_atomic};
use crate::store::manifest::{INDEX_FILE, REQUESTS_DIR};
use crate::store::{FileRecord, IndexEntry, RemoteState, RunDir, ShardRecord};

/// A retry attempt, built in memory before anything is written.
pub struct RetryPlan {
    /// New shards: their lines and fills.
    pub shards: Vec<(Vec<String>, ShardFill)>,
    pub index: Vec<IndexEntry>,
    /// The worst case of the new requests at Batch prices.
    pub worst_usd: Usd,
    /// The stage of every new shard.
    pub stage: Stage,
    /// The manifest's shard count when it was planned: the index lines name shards from
    /// there (moved up when another attempt was written in between).
    pub first_index: usize,
}

/// New shards being filled under the run's limits, request by request: their lines, their
/// index lines and their worst case. Shared by retries and stage 2's verify requests.
pub struct NewShards {
    sharder: Sharder,
    first_index: usize,
    shards: Vec<(Vec<String>, ShardFill)>,
    current: Vec<String>,
    index: Vec<IndexEntry>,
    worst: TokenTotals,
}

impl NewShards {
    /// Shards to be appended after those `run` has.
    pub fn new(run: &RunDir) -> NewShards {
        NewShards {
            sharder: Sharder::new(run.manifest.limits),
            first_index: run.manifest.shards.len(),
            shards: Vec::new(),
            current: Vec::new(),
            index: Vec::new(),
            worst: TokenTotals::default(),
        }
    }

    /// Places one request `line` (JSON and newline) for `model`, planned as `planned`.
    pub fn push(
        &mut self,
        line: String,
        model: &str,
        planned: PlannedRequest,
        verifies: Option<u32>,
    ) -> Result<(), BatchError> {
        let (shard, finished) = self.sharder.place(
            &planned.custom_id,
            model,
            line.len() as u64,
            planned.prompt_tokens,
        )?;
        if let Some(fill) = finished {
            self.shards.push((std::mem::take(&mut self.current), fill));
        }
        self.current.push(line);
        self.worst.add(&planned);
        self.index.push(IndexEntry {
            request: planned,
            shard: self.first_index + shard,
            verifies,
        });
        Ok(())
    }

    /// How many requests were placed.
    pub fn requests(&self) -> usize {
        self.index.len()
    }

    /// The attempt, its worst case at `prices`' Batch prices.
    pub fn into_plan(mut self, stage: Stage, prices: &ModelPricing) -> RetryPlan {
        if let Some(fill) = self.sharder.finish() {
            self.shards.push((self.current, fill));
        }
        RetryPlan {
            shards: self.shards,
            index: self.index,
            worst_usd: prices.batch.cost(self.worst.worst_use()),
            stage,
            first_index: self.first_index,
        }
    }
}

/// Builds the next attempt of `requests` (their latest attempt + 1), with the same bodies
/// as before, in new shards under the run's limits; a request in `caps` (by its old
/// `custom_id`) gets that output cap instead of its own, and is priced with it. Every
/// request is of `stage` (a shard holds one stage's requests); verify requests are
/// priced at the verifier's prices.
pub fn plan_retry(
    run: &RunDir,
    stage: Stage,
    requests: &[&Resolved],
    caps: &BTreeMap<String, u32>,
) -> Result<RetryPlan, BatchError> {
    debug_assert!(requests.iter().all(|r| r.kind.stage() == stage));
    let index_path = run.path.join(INDEX_FILE);
    let entries: BTreeMap<String, IndexEntry> =
        read_jsonl::<IndexEntry>(&index_path, "not an index line")?
            .into_iter()
            .map(|entry| (entry.request.custom_id.clone(), entry))
            .collect();
    let wanted: BTreeMap<&str, &Resolved> = requests
        .iter()
        .map(|r| (r.custom_id.as_str(), *r))
        .collect();
    let mut bodies: BTreeMap<String, BatchRequestLine> = BTreeMap::new();
    let shards_needed: BTreeSet<usize> = wanted
        .keys()
        .filter_map(|id| entries.get(*id))
        .map(|e| e.shard)
        .collect();
    for shard in shards_needed {
        let path = run.path.join(&run.manifest.shards[shard].file.path);
        for request in read_jsonl::<BatchRequestLine>(&path, "not a request line")? {
            if wanted.contains_key(request.custom_id.as_str()) {
                bodies.insert(request.custom_id.clone(), request);
            }
        }
    }
    let mut new_shards = NewShards::new(run);
    for (old_id, resolved) in &wanted {
        let (Some(entry), Some(request)) = (entries.get(*old_id), bodies.get(*old_id)) else {
            return Err(BatchError::NotInPlan {
                custom_id: (*old_id).to_string(),
            });
        };
        let new_id = CustomId {
            note_id: resolved.note_id.clone(),
            kind: resolved.kind,
            attempt: resolved.attempt + 1,
        }
        .to_string();
        let mut request = request.clone();
        request.custom_id.clone_from(&new_id);
        let cap = caps.get(*old_id).copied();
        if let Some(cap) = cap {
            let body = &mut request.body;
            if body.max_completion_tokens.is_some() {
                body.max_completion_tokens = Some(cap);
            } else {
                body.max_tokens = Some(cap);
            }
        }
        let mut planned = entry.request.clone();
        planned.custom_id = new_id;
        if let Some(cap) = cap {
            planned.max_output_tokens = u64::from(cap);
        }
        new_shards.push(
            request.to_jsonl(),
            &request.body.model,
            planned,
            entry.verifies,
        )?;
    }
    let prices = match (stage, &run.manifest.verify) {
        (Stage::Verify, Some(verify)) => &verify.pricing.prices,
        _ => &run.manifest.pricing.prices,
    };
    Ok(new_shards.into_plan(stage, prices))
}

/// Writes a retry attempt (or stage 2's verify requests) into the run: new shard files,
/// index lines, manifest entries. Written again after a crash, it gives the same files.
pub fn apply_retry(run: &mut RunDir, mut plan: RetryPlan) -> Result<(), BatchError> {
    let first_index = run.manifest.shards.len();
    for entry in &mut plan.index {
        entry.shard = entry.shard - plan.first_index + first_index;
    }
    for (offset, (lines, fill)) in plan.shards.into_iter().enumerate() {
        let index = first_index + offset;
        let relative = format!("{REQUESTS_DIR}/shard-{index:03}.jsonl");
        let path = run.path.join(&relative);
        let bytes: String = lines.concat();
        write_atomic(&path, |w| w.write_all(bytes.as_bytes()))?;
        run.manifest.shards.push(ShardRecord {
            index,
            file: FileRecord {
                path: relative,
                sha256: sha256_hex(bytes.as_bytes()),
                bytes: bytes.len() as u64,
            },
            model: fill.model.clone(),
            requests: fill.requests,
            prompt_tokens: fill.prompt_tokens,
            stage: plan.stage,
            remote: RemoteState::default(),
        });
    }
    let index_path = run.path.join(INDEX_FILE);
    // Keep only lines of shards the manifest has: a retry interrupted between writing
    // the index and the manifest left lines for shards that never existed.
    let mut text = String::new();
    for entry in read_jsonl::<IndexEntry>(&index_path, "not an index line")? {
        if entry.shard < first_index {
            text.push_str(&to_line(&entry));
        }
    }
    for entry in &plan.index {
        text.push_str(&to_line(entry));
    }
    write_atomic(&index_path, |w| w.write_all(text.as_bytes()))?;
    run.manifest.request_index.sha256 = sha256_hex(text.as_bytes());
    run.manifest.request_index.bytes = text.len() as u64;
    run.manifest.requests += plan.index.len() as u64;
    if plan.stage == Stage::Generate {
        // Sending again is a decision to go on: stage 2 may be built again.
        run.manifest.cancelled_at = None;
    }
    Ok(run.save()?)
}

/// One JSON line of a value that is plain JSON (strings, numbers, maps with string keys).
fn to_line<T: serde::Serialize>(value: &T) -> String {
    let mut line =
        serde_json::to_string(value).expect("index entries and request lines are plain JSON");
    line.push('\n');
    line
}
