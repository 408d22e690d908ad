//! Reads what reconcile needs from a run folder: the pairs, every planned request (with
//! why it has no line when its shard never ran), and every downloaded result line.

use std::path::{Path, PathBuf};

use super::{Outcome, ResultLine};
use crate::api::BatchStatus;
use crate::medec::Pair;
use crate::plan::CustomId;
use crate::store::fs::{for_each_line, read_jsonl};
use crate::store::manifest::{INDEX_FILE, PAIRS_FILE};
use crate::store::{IndexEntry, Manifest, ShardRecord, StoreError};

/// Why a run's results could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}:{line}: `{custom_id}` in the request index is not a safesft custom_id")]
    BadCustomId {
        path: PathBuf,
        line: usize,
        custom_id: String,
    },
}

/// The inputs of [`super::reconcile`], read from disk.
pub struct RunResults {
    pub pairs: Vec<Pair>,
    pub planned: Vec<(CustomId, Option<(Outcome, String)>)>,
    pub lines: Vec<Result<ResultLine, String>>,
}

/// Why a shard's requests have no lines, when they cannot have any.
fn not_run(shard: &ShardRecord) -> Option<(Outcome, String)> {
    let remote = &shard.remote;
    if remote.withdrawn {
        return Some((Outcome::Missing, "withdrawn before it was submitted".into()));
    }
    let Some(batch) = &remote.batch else {
        return Some((
            Outcome::Missing,
            "never submitted: run `safesft submit`".into(),
        ));
    };
    if batch.status == BatchStatus::Failed {
        let errors: Vec<String> = batch
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e.code.as_deref().unwrap_or("error"),
                    e.message.as_deref().unwrap_or("")
                )
            })
            .collect();
        return Some((
            Outcome::Failed,
            format!("the batch failed before running ({})", errors.join("; ")),
        ));
    }
    if remote.line_check.is_none() {
        return Some((
            Outcome::Missing,
            format!(
                "batch {} is {}: run `safesft wait` first",
                batch.id, batch.status
            ),
        ));
    }
    None
}

/// Reads the run's pairs, plan and result lines.
pub fn collect(run_dir: &Path, manifest: &Manifest) -> Result<RunResults, CollectError> {
    let pairs: Vec<Pair> = read_jsonl(&run_dir.join(PAIRS_FILE), "not a pair")?;
    let index_path = run_dir.join(INDEX_FILE);
    let index: Vec<IndexEntry> = read_jsonl(&index_path, "not an index line")?;
    let mut planned = Vec::with_capacity(index.len());
    for (number, entry) in (1..).zip(&index) {
        let id =
            CustomId::parse(&entry.request.custom_id).ok_or_else(|| CollectError::BadCustomId {
                path: index_path.clone(),
                line: number,
                custom_id: entry.request.custom_id.clone(),
            })?;
        // A line for a shard the manifest lacks is left by a retry interrupted between
        // writing the index and the manifest: that attempt never existed.
        let Some(shard) = manifest.shards.get(entry.shard) else {
            continue;
        };
        planned.push((id, not_run(shard)));
    }
    let mut lines = Vec::new();
    for shard in &manifest.shards {
        for file in [&shard.remote.output, &shard.remote.errors]
            .into_iter()
            .flatten()
        {
            for_each_line(&run_dir.join(&file.path), |number, line| {
                lines.push(
                    serde_json::from_str::<ResultLine>(line)
                        .map_err(|e| format!("{}:{number}: {e}", file.path)),
                );
                Ok(())
            })?;
        }
    }
    Ok(RunResults {
        pairs,
        planned,
        lines,
    })
}
