//! The staging folder of a plan being written: pairs, shards and request index filled in
//! input order as the counting threads hand pairs back, each file hashed as it is written.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::custom_id::{CustomId, RequestKind, Stage};
use super::estimate::TokenTotals;
use super::request::{PlannedRequest, RequestBuilder, RequestCost};
use super::settings::PlanSettings;
use super::shard::{ShardFill, ShardLimits, Sharder};
use super::verify::{VerifyBuilder, VerifySettings};
use super::{OverContext, PlanError};
use crate::medec::{Pair, ReadOptions, RowError};
use crate::store::fs::HashingWriter;
use crate::store::manifest::{INDEX_FILE, PAIRS_FILE, REQUESTS_DIR};
use crate::store::{FileRecord, IndexEntry, RemoteState, ShardRecord, StoreError};

/// A pair made ready on a counting thread: its `pairs.jsonl` line and its requests.
pub(super) struct PairLines {
    pair: String,
    requests: Vec<(String, PlannedRequest)>,
    /// The verify request this pair's paraphrase will need: (worst, expected) costs.
    verify: Option<(RequestCost, RequestCost)>,
}

impl PairLines {
    /// Serialises `pair` and builds its requests (`first`: the first pair of the run).
    /// With `verify`, the pair's verify request is priced too (it is built in stage 2).
    pub(super) fn new(
        builder: &RequestBuilder<'_>,
        verify: Option<&VerifyBuilder<'_>>,
        pair: &Pair,
        first: bool,
    ) -> PairLines {
        let mut line = serde_json::to_string(pair)
            .expect("a pair is plain JSON: strings and an enum with string names");
        line.push('\n');
        let requests = builder.build(pair, first);
        let verify = verify.map(|verify| {
            let paraphrase = requests
                .iter()
                .find(|(_, r)| r.kind == RequestKind::Paraphrase)
                .map_or(0, |(_, r)| r.expected_output_tokens);
            verify.planned_costs(pair, paraphrase, first)
        });
        PairLines {
            pair: line,
            requests,
            verify,
        }
    }
}

/// A request of a pair whose prompt and output cap together exceed the context window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TooLong {
    pub custom_id: String,
    pub prompt_tokens: u64,
    pub output_cap: u64,
}

impl PairLines {
    /// The first request of the pair that cannot fit in a `window`-token context.
    pub(super) fn over_context(&self, window: u64) -> Option<TooLong> {
        self.requests
            .iter()
            .map(|(_, request)| request)
            .find(|request| request.prompt_tokens + request.max_output_tokens > window)
            .map(|request| TooLong {
                custom_id: request.custom_id.clone(),
                prompt_tokens: request.prompt_tokens,
                output_cap: request.max_output_tokens,
            })
    }
}

/// Keeps pairs whose requests cannot fit in the model's context window out of the plan:
/// an error (the first one), or with `--skip-invalid` skipped and listed.
pub(super) struct ContextGuard<'a> {
    pub input: &'a Path,
    pub model: &'a str,
    pub window: u64,
    pub skip: bool,
    pub skipped: Vec<TooLong>,
}

impl ContextGuard<'_> {
    /// A guard for the model and input of `settings`, whose window is `window` tokens.
    pub(super) fn new(settings: &PlanSettings, window: u64) -> ContextGuard<'_> {
        ContextGuard {
            input: &settings.input,
            model: &settings.model,
            window,
            skip: settings.read_options.skip_invalid,
            skipped: Vec::new(),
        }
    }

    /// True when the pair fits; false when it is skipped; an error (without its line,
    /// see [`ContextGuard::locate`]) when it does not fit and is not to be skipped.
    pub(super) fn admit(&mut self, lines: &PairLines) -> Result<bool, PlanError> {
        let Some(over) = lines.over_context(self.window) else {
            return Ok(true);
        };
        if self.skip {
            self.skipped.push(over);
            return Ok(false);
        }
        Err(self.error(&over, 0))
    }

    fn error(&self, over: &TooLong, line: u64) -> PlanError {
        let (note_id, kind) = CustomId::parse(&over.custom_id).map_or_else(
            || (over.custom_id.clone(), "request".to_string()),
            |id| (id.note_id, id.kind.to_string()),
        );
        PlanError::OverContext(Box::new(OverContext {
            input: self.input.to_path_buf(),
            line,
            note_id,
            kind,
            prompt_tokens: over.prompt_tokens,
            output_cap: over.output_cap,
            limit: self.window,
            model: self.model.to_string(),
        }))
    }

    /// The line of the pair an over-context error is about (a second read of the input,
    /// only on this error's path); other errors as they are.
    pub(super) fn locate(&self, error: PlanError, options: ReadOptions) -> PlanError {
        match error {
            PlanError::OverContext(mut over) => {
                over.line = self
                    .lines_of(std::slice::from_ref(&over.note_id), options)
                    .get(&over.note_id)
                    .copied()
                    .unwrap_or(0);
                PlanError::OverContext(over)
            }
            other => other,
        }
    }

    /// The pairs skipped, as rows skipped with `--skip-invalid` (each with its line).
    pub(super) fn skipped_rows(&self, options: ReadOptions) -> Vec<RowError> {
        if self.skipped.is_empty() {
            return Vec::new();
        }
        let ids: Vec<String> = self
            .skipped
            .iter()
            .map(|over| {
                CustomId::parse(&over.custom_id)
                    .map_or_else(|| over.custom_id.clone(), |id| id.note_id)
            })
            .collect();
        let lines = self.lines_of(&ids, options);
        self.skipped
            .iter()
            .zip(&ids)
            .map(|(over, note_id)| {
                let line = lines.get(note_id).copied().unwrap_or(0);
                let kind = CustomId::parse(&over.custom_id)
                    .map_or_else(|| "request".to_string(), |id| id.kind.to_string());
                RowError {
                    path: self.input.to_path_buf(),
                    line,
                    column: None,
                    message: format!(
                        "note `{note_id}`: its {kind} prompt of {} tokens + the output cap of {} is over the {}-token context window of `{}`",
                        over.prompt_tokens, over.output_cap, self.window, self.model
                    ),
                }
            })
            .collect()
    }

    /// Where the pairs of `note_ids` start in the input (none found: an empty map).
    fn lines_of(&self, note_ids: &[String], options: ReadOptions) -> HashMap<String, u64> {
        crate::medec::note_lines(self.input, options, note_ids).unwrap_or_default()
    }
}

fn create(path: &Path) -> Result<HashingWriter<BufWriter<File>>, StoreError> {
    let file = File::create(path).map_err(StoreError::write(path))?;
    Ok(HashingWriter::new(BufWriter::with_capacity(1 << 16, file)))
}

/// Flushes, syncs and closes a file written through a [`HashingWriter`].
fn finish_file(
    writer: HashingWriter<BufWriter<File>>,
    path: &Path,
    relative: &str,
) -> Result<FileRecord, StoreError> {
    let (writer, sha256, bytes) = writer.finish().map_err(StoreError::write(path))?;
    writer
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::write(path))?;
    Ok(FileRecord {
        path: relative.to_string(),
        sha256,
        bytes,
    })
}

/// An open shard file.
struct OpenShard {
    index: usize,
    relative: String,
    writer: HashingWriter<BufWriter<File>>,
}

/// The staging folder being filled: pairs, shards and index, written as pairs come in.
pub(super) struct Staging<'a> {
    root: PathBuf,
    model: &'a str,
    pairs: HashingWriter<BufWriter<File>>,
    index: HashingWriter<BufWriter<File>>,
    sharder: Sharder,
    open: Option<OpenShard>,
    shards: Vec<ShardRecord>,
    totals: BTreeMap<RequestKind, TokenTotals>,
    /// The verify stage's (worst, expected) tokens.
    verify_totals: (TokenTotals, TokenTotals),
    planned: u64,
}

impl<'a> Staging<'a> {
    /// Opens the staging files in `root` (a fresh folder), with a total for each of `kinds`.
    pub(super) fn new(
        root: &Path,
        model: &'a str,
        limits: ShardLimits,
        kinds: &[RequestKind],
    ) -> Result<Staging<'a>, StoreError> {
        let requests_dir = root.join(REQUESTS_DIR);
        std::fs::create_dir_all(&requests_dir).map_err(StoreError::create_dir(&requests_dir))?;
        Ok(Staging {
            totals: kinds.iter().map(|&k| (k, TokenTotals::default())).collect(),
            model,
            pairs: create(&root.join(PAIRS_FILE))?,
            index: create(&root.join(INDEX_FILE))?,
            sharder: Sharder::new(limits),
            open: None,
            shards: Vec::new(),
            verify_totals: (TokenTotals::default(), TokenTotals::default()),
            planned: 0,
            root: root.to_path_buf(),
        })
    }

    /// Pairs written so far.
    pub(super) fn planned(&self) -> u64 {
        self.planned
    }

    fn write_error(&self, relative: &str) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = self.root.join(relative);
        move |source| StoreError::Io {
            action: "write",
            path,
            source,
        }
    }

    /// Writes one pair and its requests, in the shard each request falls in.
    pub(super) fn add(&mut self, lines: PairLines) -> Result<(), PlanError> {
        self.pairs
            .write_all(lines.pair.as_bytes())
            .map_err(self.write_error(PAIRS_FILE))?;
        if let Some((worst, expected)) = &lines.verify {
            self.verify_totals.0.add_cost(worst);
            self.verify_totals.1.add_cost(expected);
        }
        for (line, request) in lines.requests {
            let (index, finished) = self.sharder.place(
                &request.custom_id,
                self.model,
                line.len() as u64,
                request.prompt_tokens,
            )?;
            if let Some(fill) = finished {
                self.close_shard(&fill)?;
            }
            if self.open.as_ref().is_none_or(|open| open.index != index) {
                let relative = format!("{REQUESTS_DIR}/shard-{index:03}.jsonl");
                self.open = Some(OpenShard {
                    index,
                    writer: create(&self.root.join(&relative))?,
                    relative,
                });
            }
            let open = self.open.as_mut().expect("a shard was opened just above");
            let error = {
                let path = self.root.join(&open.relative);
                move |source| StoreError::Io {
                    action: "write",
                    path,
                    source,
                }
            };
            open.writer.write_all(line.as_bytes()).map_err(error)?;
            self.totals.entry(request.kind).or_default().add(&request);
            serde_json::to_writer(
                &mut self.index,
                &IndexEntry {
                    request,
                    shard: index,
                    verifies: None,
                },
            )
            .map_err(std::io::Error::from)
            .and_then(|()| self.index.write_all(b"\n"))
            .map_err(self.write_error(INDEX_FILE))?;
        }
        self.planned += 1;
        Ok(())
    }

    /// Closes the open shard and records it.
    fn close_shard(&mut self, fill: &ShardFill) -> Result<(), StoreError> {
        let open = self.open.take().expect("a finished shard was open");
        let record = finish_file(open.writer, &self.root.join(&open.relative), &open.relative)?;
        debug_assert_eq!(record.bytes, fill.bytes);
        self.shards.push(ShardRecord {
            index: open.index,
            file: record,
            model: fill.model.clone(),
            requests: fill.requests,
            prompt_tokens: fill.prompt_tokens,
            stage: Stage::Generate,
            remote: RemoteState::default(),
        });
        Ok(())
    }

    /// Closes the last shard, the pairs file and the index.
    pub(super) fn finish(mut self) -> Result<Staged, StoreError> {
        if let Some(fill) = self.sharder.finish() {
            self.close_shard(&fill)?;
        }
        Ok(Staged {
            planned: self.planned,
            totals: self.totals,
            verify_totals: self.verify_totals,
            shards: self.shards,
            pairs_file: finish_file(self.pairs, &self.root.join(PAIRS_FILE), PAIRS_FILE)?,
            request_index: finish_file(self.index, &self.root.join(INDEX_FILE), INDEX_FILE)?,
        })
    }
}

/// What the staging folder holds once every pair is in.
pub(super) struct Staged {
    pub planned: u64,
    pub totals: BTreeMap<RequestKind, TokenTotals>,
    /// The verify stage's (worst, expected) tokens, when it is planned.
    pub verify_totals: (TokenTotals, TokenTotals),
    pub shards: Vec<ShardRecord>,
    pub pairs_file: FileRecord,
    pub request_index: FileRecord,
}

impl Staged {
    /// sha256 over the model, the pairs file and every shard (and, when stage 2 is
    /// planned, its settings): equal hashes, equal requests.
    pub(super) fn plan_hash(&self, model: &str, verify: Option<&VerifySettings>) -> String {
        let mut hasher = Sha256::new();
        hasher.update(model.as_bytes());
        if let Some(verify) = verify {
            hasher.update(serde_json::to_vec(verify).expect("verify settings are plain JSON"));
        }
        hasher.update(self.pairs_file.sha256.as_bytes());
        for record in &self.shards {
            hasher.update(record.file.sha256.as_bytes());
        }
        format!("{:x}", hasher.finalize())
    }
}
