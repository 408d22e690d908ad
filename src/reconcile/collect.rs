//! Reads what reconcile needs from a run folder, streamed: the plan (every planned
//! request, with why it has no line when its shard never ran), the result lines one at
//! a time, and later, by where they are, a pair's notes and an answer's line again.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::join::{AnswerSource, Planned, ReadLine};
use super::line::ResultLine;
use super::resolve::LineRef;
use super::Outcome;
use crate::api::BatchStatus;
use crate::medec::Pair;
use crate::plan::CustomId;
use crate::store::fs::{read_exact_at, LineReader};
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
    #[error("`{path}` changed while it was read (at byte {offset})\nhint: reconcile again once nothing else writes the run")]
    Changed { path: PathBuf, offset: u64 },
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

/// A file read again at known places.
struct OpenFile {
    /// As the manifest names it (relative to the run folder).
    name: String,
    path: PathBuf,
    file: File,
}

impl OpenFile {
    fn open(run_dir: &Path, name: &str) -> Result<OpenFile, StoreError> {
        let path = run_dir.join(name);
        let file = File::open(&path).map_err(StoreError::read(&path))?;
        Ok(OpenFile {
            name: name.to_string(),
            path,
            file,
        })
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, StoreError> {
        read_exact_at(&self.file, &self.path, offset, len as usize)
    }

    /// What bytes read back that no longer parse mean.
    fn changed(&self, offset: u64) -> CollectError {
        CollectError::Changed {
            path: self.path.clone(),
            offset,
        }
    }
}

/// A run folder opened for reconciling: where each pair and each result file is.
pub struct RunFiles {
    pairs: OpenFile,
    /// Per note number: where its pair's line is in `pairs.jsonl`.
    pair_lines: Vec<Option<(u64, u32)>>,
    /// Every output and error file, in manifest order (a [`LineRef`]'s `file`).
    results: Vec<OpenFile>,
}

fn line_len(text: &str) -> u32 {
    u32::try_from(text.len()).expect("a line under 4 GiB")
}

/// Reads the run's pairs (where each one is) and its plan.
pub fn collect(run_dir: &Path, manifest: &Manifest) -> Result<(RunFiles, Planned), CollectError> {
    let mut planned = Planned::with_verify(manifest.verify.is_some());
    planned.doubts_to_verifier = manifest
        .verify
        .as_ref()
        .is_some_and(|v| v.doubts == crate::plan::Doubts::Verify);
    let pairs_path = run_dir.join(PAIRS_FILE);
    let mut pair_lines: Vec<Option<(u64, u32)>> = Vec::new();
    let mut lines = LineReader::open(&pairs_path)?;
    while let Some(line) = lines.next_line()? {
        let pair: Pair = serde_json::from_str(line.text).map_err(|source| StoreError::BadLine {
            path: pairs_path.clone(),
            line: line.number,
            what: "not a pair",
            source,
        })?;
        let note = planned.notes.intern(&pair.note_id) as usize;
        if pair_lines.len() <= note {
            pair_lines.resize(note + 1, None);
        }
        // A note id twice: the last pair is the one read (as a map of pairs would).
        pair_lines[note] = Some((line.offset, line_len(line.text)));
    }
    let reasons: Vec<Option<u32>> = manifest
        .shards
        .iter()
        .map(|shard| not_run(shard).map(|(outcome, why)| planned.not_run_reason(outcome, why)))
        .collect();
    let index_path = run_dir.join(INDEX_FILE);
    let mut lines = LineReader::open(&index_path)?;
    while let Some(line) = lines.next_line()? {
        let entry: IndexEntry =
            serde_json::from_str(line.text).map_err(|source| StoreError::BadLine {
                path: index_path.clone(),
                line: line.number,
                what: "not an index line",
                source,
            })?;
        let id =
            CustomId::parse(&entry.request.custom_id).ok_or_else(|| CollectError::BadCustomId {
                path: index_path.clone(),
                line: line.number,
                custom_id: entry.request.custom_id.clone(),
            })?;
        // A line for a shard the manifest lacks is left by a retry interrupted between
        // writing the index and the manifest: that attempt never existed.
        let Some(reason) = reasons.get(entry.shard) else {
            continue;
        };
        planned.push_verify(&id, *reason, entry.verifies);
    }
    let mut results = Vec::new();
    for shard in &manifest.shards {
        for file in [&shard.remote.output, &shard.remote.errors]
            .into_iter()
            .flatten()
        {
            results.push(OpenFile::open(run_dir, &file.path)?);
        }
    }
    let files = RunFiles {
        pairs: OpenFile::open(run_dir, PAIRS_FILE)?,
        pair_lines,
        results,
    };
    Ok((files, planned))
}

/// The correct note alone, read from a pair's line.
#[derive(Deserialize)]
struct CorrectNote {
    correct_note: String,
}

impl RunFiles {
    /// Every line of every output and error file, in manifest order, read one at a time.
    pub fn lines(&self) -> impl Iterator<Item = Result<ReadLine, CollectError>> + '_ {
        let mut file = 0;
        let mut reader: Option<LineReader> = None;
        std::iter::from_fn(move || loop {
            let open = &self.results.get(file)?;
            let lines = match &mut reader {
                Some(lines) => lines,
                None => match LineReader::open(&open.path) {
                    Ok(lines) => reader.insert(lines),
                    Err(error) => {
                        file = self.results.len();
                        return Some(Err(error.into()));
                    }
                },
            };
            match lines.next_line() {
                Ok(Some(line)) => {
                    let at = LineRef {
                        file: u32::try_from(file).expect("fewer than 2^32 files"),
                        offset: line.offset,
                        len: line_len(line.text),
                    };
                    return Some(Ok(match serde_json::from_str::<ResultLine>(line.text) {
                        // An answer is billed: without `usage` its tokens are unknown.
                        Ok(parsed)
                            if parsed
                                .response
                                .as_ref()
                                .is_some_and(|r| r.status_code == 200 && !r.body.has_usage) =>
                        {
                            ReadLine::Unreadable(format!(
                                "{}:{}: an answer (HTTP 200) without `usage`",
                                open.name, line.number
                            ))
                        }
                        Ok(parsed) => ReadLine::Line(parsed, at),
                        Err(e) => {
                            ReadLine::Unreadable(format!("{}:{}: {e}", open.name, line.number))
                        }
                    }));
                }
                Ok(None) => {
                    file += 1;
                    reader = None;
                }
                Err(error) => {
                    file = self.results.len();
                    return Some(Err(error.into()));
                }
            }
        })
    }

    /// Calls `each` with every pair of the run, in order.
    pub fn for_each_pair<E: From<CollectError>>(
        &self,
        mut each: impl FnMut(Pair) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut lines = LineReader::open(&self.pairs.path).map_err(CollectError::from)?;
        while let Some(line) = lines.next_line().map_err(CollectError::from)? {
            let pair =
                serde_json::from_str(line.text).map_err(|_| self.pairs.changed(line.offset))?;
            each(pair)?;
        }
        Ok(())
    }
}

impl AnswerSource for RunFiles {
    type Error = CollectError;

    fn original(&self, note: u32) -> Result<Option<String>, CollectError> {
        let Some(Some((offset, len))) = self.pair_lines.get(note as usize) else {
            return Ok(None);
        };
        let bytes = self.pairs.read(*offset, *len)?;
        let pair: CorrectNote =
            serde_json::from_slice(&bytes).map_err(|_| self.pairs.changed(*offset))?;
        Ok(Some(pair.correct_note))
    }

    fn line(&self, at: LineRef) -> Result<ResultLine, CollectError> {
        let file = &self.results[at.file as usize];
        let bytes = file.read(at.offset, at.len)?;
        serde_json::from_slice(&bytes).map_err(|_| file.changed(at.offset))
    }
}
