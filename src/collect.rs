//! Reads what reconcile needs from a run folder: the pairs, every planned request (with
//! why it has no line when its shard never ran), and every downloaded result line.

use std::io::BufRead;
use std::path::Path;

use anyhow::Context;

use crate::api::BatchStatus;
use crate::medec::Pair;
use crate::reconcile::{Outcome, ResultLine};
use crate::request::CustomId;
use crate::run::{IndexEntry, Manifest, ShardRecord, INDEX_FILE, PAIRS_FILE};

/// The inputs of [`crate::reconcile::reconcile`], read from disk.
pub struct RunResults {
    pub pairs: Vec<Pair>,
    pub planned: Vec<(CustomId, Option<(Outcome, String)>)>,
    pub lines: Vec<Result<ResultLine, String>>,
}

fn jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut out = Vec::new();
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read `{}`", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a valid line", path.display(), number + 1))?,
        );
    }
    Ok(out)
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
pub fn collect(run_dir: &Path, manifest: &Manifest) -> anyhow::Result<RunResults> {
    let pairs: Vec<Pair> = jsonl(&run_dir.join(PAIRS_FILE))?;
    let index: Vec<IndexEntry> = jsonl(&run_dir.join(INDEX_FILE))?;
    let mut planned = Vec::with_capacity(index.len());
    for entry in &index {
        let id = CustomId::parse(&entry.request.custom_id).with_context(|| {
            format!(
                "`{}` in the request index is not a safesft custom_id",
                entry.request.custom_id
            )
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
            let path = run_dir.join(&file.path);
            let handle = std::fs::File::open(&path)
                .with_context(|| format!("cannot read `{}`", path.display()))?;
            for (number, line) in std::io::BufReader::new(handle).lines().enumerate() {
                let line = line.with_context(|| format!("cannot read `{}`", path.display()))?;
                if line.trim().is_empty() {
                    continue;
                }
                lines.push(
                    serde_json::from_str::<ResultLine>(&line)
                        .map_err(|e| format!("{}:{}: {e}", file.path, number + 1)),
                );
            }
        }
    }
    Ok(RunResults {
        pairs,
        planned,
        lines,
    })
}
