//! The plan step that touches files: streams pairs into request shards in a staging
//! folder, prices them, checks the budget, and only then swaps the folder into place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::custom_id::RequestKind;
use super::estimate::{Estimate, TokenTotals};
use super::model::{self, ModelFamily};
use super::output::OutputModel;
use super::prompts::LoadedPrompts;
use super::request::RequestBuilder;
use super::shard::{ShardFill, ShardLimits, Sharder};
use super::PlanError;
use crate::medec::{self, ImportSummary, InputFormat, Pair, ReadOptions};
use crate::money::{ModelPricing, PricingTable, Usd};
use crate::store::fs::{sha256_file, sync_dir, write_json_atomic, HashingWriter};
use crate::store::manifest::{
    INDEX_FILE, MANIFEST_FILE, MANIFEST_VERSION, PAIRS_FILE, REQUESTS_DIR,
};
use crate::store::{
    validate_run_name, FileRecord, IndexEntry, InputRecord, Manifest, PricingRecord, RemoteState,
    ShardRecord, StoreError,
};

/// Everything `plan` needs, resolved from the command line.
pub struct PlanSettings {
    pub input: PathBuf,
    pub read_options: ReadOptions,
    pub prompts: LoadedPrompts,
    pub pricing: PricingTable,
    pub model: String,
    pub reasoning: bool,
    pub num_pairs: Option<u64>,
    pub limits: ShardLimits,
    pub budget: Option<Usd>,
    pub output_model: OutputModel,
    pub batches_dir: PathBuf,
    pub run: String,
    pub force: bool,
}

/// What `plan` did.
#[derive(Debug)]
pub enum PlanOutcome {
    /// A new plan was written.
    Planned(Box<Manifest>),
    /// The run already had this exact plan; nothing was written.
    Unchanged(Box<Manifest>),
    /// The worst case is over the budget; nothing was written.
    OverBudget {
        estimate: Box<Estimate>,
        budget: Usd,
        over: Usd,
        import: Box<ImportSummary>,
    },
}

/// The default run name: the input file's stem and the model, as a slug.
pub fn default_run_name(input: &Path, model: &str, num_pairs: Option<u64>) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut slug: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.truncate(40);
    let mut name = format!("{}-{model}", slug.trim_matches('-'));
    if let Some(n) = num_pairs {
        let _ = write!(name, "-n{n}");
    }
    name
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

/// The staging folder being filled: pairs, shards and index, written as pairs stream in.
struct Staging<'a> {
    root: PathBuf,
    builder: RequestBuilder<'a>,
    model: &'a str,
    pairs: HashingWriter<BufWriter<File>>,
    index: HashingWriter<BufWriter<File>>,
    sharder: Sharder,
    open: Option<OpenShard>,
    shards: Vec<ShardRecord>,
    totals: BTreeMap<RequestKind, TokenTotals>,
    planned: u64,
}

impl<'a> Staging<'a> {
    /// Opens the staging files in `root` (a fresh folder).
    fn new(
        settings: &'a PlanSettings,
        family: ModelFamily,
        root: &Path,
    ) -> Result<Staging<'a>, StoreError> {
        let requests_dir = root.join(REQUESTS_DIR);
        std::fs::create_dir_all(&requests_dir).map_err(StoreError::create_dir(&requests_dir))?;
        let builder = RequestBuilder::new(
            &settings.prompts,
            &settings.model,
            family,
            settings.output_model.clone(),
            settings.reasoning,
        );
        Ok(Staging {
            totals: builder
                .kinds()
                .iter()
                .map(|&k| (k, TokenTotals::default()))
                .collect(),
            builder,
            model: &settings.model,
            pairs: create(&root.join(PAIRS_FILE))?,
            index: create(&root.join(INDEX_FILE))?,
            sharder: Sharder::new(settings.limits),
            open: None,
            shards: Vec::new(),
            planned: 0,
            root: root.to_path_buf(),
        })
    }

    fn write_error(&self, relative: &str) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = self.root.join(relative);
        move |source| StoreError::Write { path, source }
    }

    /// Writes one pair and its requests.
    fn add(&mut self, pair: &Pair) -> Result<(), PlanError> {
        serde_json::to_writer(&mut self.pairs, pair)
            .map_err(std::io::Error::from)
            .and_then(|()| self.pairs.write_all(b"\n"))
            .map_err(self.write_error(PAIRS_FILE))?;
        for (line, request) in self.builder.build(pair, self.planned == 0) {
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
                move |source| StoreError::Write { path, source }
            };
            open.writer.write_all(line.as_bytes()).map_err(error)?;
            self.totals.entry(request.kind).or_default().add(&request);
            serde_json::to_writer(
                &mut self.index,
                &IndexEntry {
                    request,
                    shard: index,
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
            remote: RemoteState::default(),
        });
        Ok(())
    }
}

/// What the staging folder holds once every pair is in.
struct Staged {
    planned: u64,
    totals: BTreeMap<RequestKind, TokenTotals>,
    shards: Vec<ShardRecord>,
    pairs_file: FileRecord,
    request_index: FileRecord,
}

impl Staging<'_> {
    /// Closes the last shard, the pairs file and the index.
    fn finish(mut self) -> Result<Staged, StoreError> {
        if let Some(fill) = self.sharder.finish() {
            self.close_shard(&fill)?;
        }
        Ok(Staged {
            planned: self.planned,
            totals: self.totals,
            shards: self.shards,
            pairs_file: finish_file(self.pairs, &self.root.join(PAIRS_FILE), PAIRS_FILE)?,
            request_index: finish_file(self.index, &self.root.join(INDEX_FILE), INDEX_FILE)?,
        })
    }
}

/// sha256 over the model, the pairs file and every shard: equal hashes, equal requests.
fn plan_hash(model: &str, pairs_file: &FileRecord, shards: &[ShardRecord]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update(pairs_file.sha256.as_bytes());
    for record in shards {
        hasher.update(record.file.sha256.as_bytes());
    }
    format!("{:x}", hasher.finalize())
}

/// Streams the input into request shards in a staging folder, prices the plan, checks
/// the budget, and only then moves the whole folder into `batches/<run>` at once.
/// `progress` is called with the number of pairs planned so far.
pub fn plan(settings: &PlanSettings, progress: &dyn Fn(u64)) -> Result<PlanOutcome, PlanError> {
    validate_run_name(&settings.run)?;
    let family = model::family_of(&settings.model)?;
    let pricing = settings.pricing.for_model(family.name)?;
    let batches_dir = &settings.batches_dir;
    std::fs::create_dir_all(batches_dir).map_err(StoreError::create_dir(batches_dir))?;
    let staging_dir = tempfile::Builder::new()
        .prefix(".plan-")
        .tempdir_in(batches_dir)
        .map_err(StoreError::create_dir(batches_dir))?;
    let root = staging_dir.path().to_path_buf();
    let mut staging = Staging::new(settings, family, &root)?;
    let limit = settings.num_pairs.unwrap_or(u64::MAX);
    let import = medec::read_pairs(&settings.input, settings.read_options, |pair: Pair| {
        if staging.planned < limit {
            staging.add(&pair)?;
            progress(staging.planned);
        }
        Ok::<(), PlanError>(())
    })?;
    let allowance = schema_allowance(&staging.builder, settings.reasoning);
    let staged = staging.finish()?;
    if staged.planned == 0 {
        return Err(PlanError::NoPairs {
            input: settings.input.clone(),
            rows: import.rows,
            unpaired: import.unpaired_correct_rows,
            blank: import.blank_rows,
        });
    }
    let estimate = Estimate::new(
        &settings.model,
        pricing,
        &settings.output_model,
        staged.planned,
        &staged.totals,
    );
    if let Some(budget) = settings.budget {
        if let Err(over) = estimate.check_budget(budget) {
            return Ok(PlanOutcome::OverBudget {
                estimate: Box::new(estimate),
                budget,
                over,
                import: Box::new(import),
            });
        }
    }
    let plan_hash = plan_hash(&settings.model, &staged.pairs_file, &staged.shards);
    let run_dir = batches_dir.join(&settings.run);
    let replaced = match existing_plan(settings, &run_dir, &plan_hash)? {
        Existing::Same(manifest) => return Ok(PlanOutcome::Unchanged(manifest)),
        Existing::Replace => true,
        Existing::None => false,
    };
    let manifest = Manifest {
        schema_allowance_tokens: allowance,
        ..new_manifest(
            settings, family, pricing, staged, import, plan_hash, estimate,
        )?
    };
    write_json_atomic(&root.join(MANIFEST_FILE), &manifest)?;
    swap_into_place(&staging_dir.keep(), &run_dir, replaced, settings)?;
    Ok(PlanOutcome::Planned(Box::new(manifest)))
}

/// The manifest of a new plan (its schema allowance is filled in by the caller).
fn new_manifest(
    settings: &PlanSettings,
    family: ModelFamily,
    prices: &ModelPricing,
    staged: Staged,
    import: ImportSummary,
    plan_hash: String,
    estimate: Estimate,
) -> Result<Manifest, PlanError> {
    let requests = staged.shards.iter().map(|s| s.requests).sum();
    Ok(Manifest {
        manifest_version: MANIFEST_VERSION,
        run: settings.run.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        planned_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        plan_hash,
        input: InputRecord {
            path: settings.input.display().to_string(),
            sha256: sha256_file(&settings.input)?,
            format: InputFormat::from_path(&settings.input)?,
            pairs_available: import.pairs,
            pairs_planned: staged.planned,
            import,
        },
        pairs_file: staged.pairs_file,
        prompt_config: FileRecord {
            path: settings.prompts.source.clone(),
            sha256: settings.prompts.sha256.clone(),
            bytes: settings.prompts.bytes,
        },
        pricing: PricingRecord {
            path: settings.pricing.source.clone(),
            sha256: settings.pricing.sha256.clone(),
            model_family: family.name.into(),
            prices: prices.clone(),
        },
        model: settings.model.clone(),
        encoding: family.encoding,
        reasoning: settings.reasoning,
        limits: settings.limits,
        budget_usd: settings.budget,
        schema_allowance_tokens: 0,
        shards: staged.shards,
        request_index: staged.request_index,
        requests,
        estimate,
    })
}

fn schema_allowance(builder: &RequestBuilder<'_>, reasoning: bool) -> u64 {
    if reasoning {
        builder.schema_allowance_tokens()
    } else {
        0
    }
}

/// What is already at the run's folder.
enum Existing {
    None,
    Same(Box<Manifest>),
    Replace,
}

/// Compares the new plan with the one already in `run_dir`, if any: the same plan is
/// kept; another one is replaced only with `--force` and never once submitted.
fn existing_plan(
    settings: &PlanSettings,
    run_dir: &Path,
    plan_hash: &str,
) -> Result<Existing, PlanError> {
    if !run_dir.exists() {
        return Ok(Existing::None);
    }
    match Manifest::load(run_dir) {
        Ok(existing) if existing.plan_hash == plan_hash => Ok(Existing::Same(Box::new(existing))),
        Ok(existing) if existing.submitted() => Err(PlanError::AlreadySubmitted {
            run: settings.run.clone(),
        }),
        _ if !settings.force => Err(PlanError::Exists {
            run: settings.run.clone(),
            dir: run_dir.to_path_buf(),
        }),
        _ => Ok(Existing::Replace),
    }
}

/// Moves the finished staging folder to `run_dir` (the old plan set aside and removed
/// when `replaced`): the run folder is never half-written.
fn swap_into_place(
    staged: &Path,
    run_dir: &Path,
    replaced: bool,
    settings: &PlanSettings,
) -> Result<(), StoreError> {
    if replaced {
        let aside =
            settings
                .batches_dir
                .join(format!(".replaced-{}-{}", settings.run, std::process::id()));
        std::fs::rename(run_dir, &aside).map_err(StoreError::rename(run_dir, &aside))?;
        std::fs::rename(staged, run_dir).map_err(StoreError::rename(staged, run_dir))?;
        std::fs::remove_dir_all(&aside).map_err(StoreError::remove(&aside))?;
    } else {
        std::fs::rename(staged, run_dir).map_err(StoreError::rename(staged, run_dir))?;
    }
    sync_dir(&settings.batches_dir)
}

/// The family of a model the plan can price, for callers that check before planning.
pub fn family_and_prices<'a>(
    pricing: &'a PricingTable,
    model: &str,
) -> Result<(ModelFamily, &'a ModelPricing), PlanError> {
    let family = model::family_of(model)?;
    Ok((family, pricing.for_model(family.name)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_run_names_are_plain_folder_names() {
        let name = default_run_name(Path::new("data/MEDEC MS.csv"), "gpt-4o", Some(10));
        assert_eq!(name, "medec-ms-gpt-4o-n10");
        validate_run_name(&name).unwrap();
    }
}
