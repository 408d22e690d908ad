//! The run folder (`batches/<run>/`): atomic file writes, the manifest, and the plan step
//! that streams pairs into request shards. The only planning code that touches files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::estimate::{Estimate, OutputModel, TokenTotals};
use crate::medec::{self, ImportSummary, InputFormat, Pair, ReadOptions};
use crate::model::{self, Encoding};
use crate::pricing::{ModelPricing, PricingTable, Usd};
use crate::prompts::LoadedPrompts;
use crate::request::{PlannedRequest, RequestBuilder, RequestKind, ShardLimits, Sharder};

/// The manifest's format version; bump it when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const PAIRS_FILE: &str = "pairs.jsonl";
pub const REQUESTS_DIR: &str = "requests";
pub const INDEX_FILE: &str = "requests/index.jsonl";

/// Lower-case hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Writes a file whole or not at all: a temp file in the same folder, fsync, rename.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create folder `{}`", parent.display()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Readable like any file the user writes; the default temp mode is 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder
        .tempfile_in(parent)
        .with_context(|| format!("cannot create a temp file in `{}`", parent.display()))?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        write(&mut writer).with_context(|| format!("cannot write `{}`", path.display()))?;
        writer
            .flush()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot sync `{}`", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    write_atomic(path, |writer| {
        serde_json::to_writer_pretty(&mut *writer, value)?;
        writer.write_all(b"\n")
    })
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Flushes and returns the inner writer, the sha256 and the byte count.
    pub fn finish(mut self) -> std::io::Result<(W, String, u64)> {
        self.inner.flush()?;
        Ok((
            self.inner,
            format!("{:x}", self.hasher.finalize()),
            self.bytes,
        ))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A file of the run, with its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Relative to the run folder for files of the run; as given for inputs.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The input the run was planned from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub sha256: String,
    pub format: InputFormat,
    pub pairs_available: u64,
    pub pairs_planned: u64,
    pub import: ImportSummary,
}

/// The prices used, copied so the run can be re-priced or audited after the table changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingRecord {
    pub path: String,
    pub sha256: String,
    pub model_family: String,
    pub prices: ModelPricing,
}

/// One request file of the run. `remote` is filled by `submit` and `wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub index: usize,
    pub file: FileRecord,
    pub model: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    #[serde(default)]
    pub remote: RemoteState,
}

/// What has happened to a shard at the API, each step written down before and after
/// its call so a crashed run resumes without doing anything twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteState {
    /// Set before the upload: if no file id follows, the upload may have happened.
    pub upload_started_at: Option<u64>,
    pub input_file_id: Option<String>,
    /// Set before creating the batch: if no batch id follows, look it up by metadata.
    pub create_started_at: Option<u64>,
    pub batch_id: Option<String>,
    /// The batch as last seen.
    pub batch: Option<crate::api::BatchInfo>,
    /// Cancelled before it was ever submitted: never submit it.
    #[serde(default)]
    pub withdrawn: bool,
    /// The output file, once downloaded whole.
    pub output: Option<FileRecord>,
    /// The error file, once downloaded whole.
    pub errors: Option<FileRecord>,
    /// Output and error lines against the batch's request counts.
    pub line_check: Option<LineCheck>,
}

impl RemoteState {
    /// Submitted and not yet finished.
    pub fn in_flight(&self) -> bool {
        self.batch_id.is_some() && !self.batch.as_ref().is_some_and(|b| b.status.is_terminal())
    }
}

/// Whether the downloaded files hold a line for every request the batch counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCheck {
    pub output_lines: u64,
    pub error_lines: u64,
    pub counted_total: u64,
    pub counted_completed: u64,
    pub counted_failed: u64,
    pub planned_requests: u64,
    /// Empty when every line is where the counts say.
    pub problems: Vec<String>,
}

/// `batches/<run>/manifest.json`: the single source of truth of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub run: String,
    pub tool_version: String,
    pub planned_at: String,
    /// sha256 over the model, the pairs file and every shard: equal hashes, equal requests.
    pub plan_hash: String,
    pub input: InputRecord,
    pub pairs_file: FileRecord,
    pub prompt_config: FileRecord,
    pub pricing: PricingRecord,
    pub model: String,
    pub encoding: Encoding,
    pub reasoning: bool,
    pub limits: ShardLimits,
    pub budget_usd: Option<Usd>,
    /// Tokens added to each reasoning prompt for its structured-output schema.
    pub schema_allowance_tokens: u64,
    pub shards: Vec<ShardRecord>,
    /// One line per request: `custom_id`, kind, shard and token counts.
    pub request_index: FileRecord,
    pub requests: u64,
    pub estimate: Estimate,
}

impl Manifest {
    pub fn load(run_dir: &Path) -> anyhow::Result<Manifest> {
        let path = run_dir.join(MANIFEST_FILE);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("`{}` is not a valid manifest", path.display()))
    }

    /// True once any shard may have been sent to the API.
    pub fn submitted(&self) -> bool {
        self.shards.iter().any(|s| {
            s.remote.upload_started_at.is_some()
                || s.remote.input_file_id.is_some()
                || s.remote.batch_id.is_some()
        })
    }

    /// Writes the manifest back into its run folder, atomically.
    pub fn save(&self, run_dir: &Path) -> anyhow::Result<()> {
        write_json_atomic(&run_dir.join(MANIFEST_FILE), self)
    }
}

/// One line of `requests/index.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    #[serde(flatten)]
    pub request: PlannedRequest,
    pub shard: usize,
}

/// Everything `plan` needs, resolved from the command line.
pub struct PlanSettings {
    pub input: PathBuf,
    pub read_options: ReadOptions,
    pub prompts_path: PathBuf,
    pub prompts: LoadedPrompts,
    pub pricing_path: PathBuf,
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

/// Checks a run name is a plain folder name.
pub fn validate_run_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        bail!("run name `{name}` is not a plain folder name\nhint: use letters, digits, `-`, `_` and `.`, not starting with `.`");
    }
    Ok(())
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

/// An open shard file.
struct OpenShard {
    index: usize,
    path: PathBuf,
    writer: HashingWriter<BufWriter<File>>,
}

fn create(path: &Path) -> anyhow::Result<BufWriter<File>> {
    let file = File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}

fn shard_file_name(index: usize) -> String {
    format!("{REQUESTS_DIR}/shard-{index:03}.jsonl")
}

/// Closes a shard and records it; `staging` is the run folder being built.
fn close_shard(
    shard: OpenShard,
    fill: &crate::request::ShardFill,
    staging: &Path,
) -> anyhow::Result<ShardRecord> {
    let relative = shard
        .path
        .strip_prefix(staging)
        .unwrap_or(&shard.path)
        .to_string_lossy()
        .into_owned();
    let record = finish_file(shard.writer, &shard.path, &relative)?;
    debug_assert_eq!(record.bytes, fill.bytes);
    Ok(ShardRecord {
        index: shard.index,
        file: record,
        model: fill.model.clone(),
        requests: fill.requests,
        prompt_tokens: fill.prompt_tokens,
        remote: RemoteState::default(),
    })
}

/// Flushes, syncs and closes a file written through a [`HashingWriter`].
fn finish_file(
    writer: HashingWriter<BufWriter<File>>,
    path: &Path,
    relative: &str,
) -> anyhow::Result<FileRecord> {
    let (writer, sha256, bytes) = writer
        .finish()
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    writer
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(FileRecord {
        path: relative.to_string(),
        sha256,
        bytes,
    })
}

/// Streams the input into request shards in a staging folder, prices the plan, checks
/// the budget, and only then moves the whole folder into `batches/<run>` at once.
/// `progress` is called with the number of pairs planned so far.
#[allow(clippy::too_many_lines)]
pub fn plan(settings: &PlanSettings, progress: &dyn Fn(u64)) -> anyhow::Result<PlanOutcome> {
    validate_run_name(&settings.run)?;
    let family = model::family_of(&settings.model)?;
    let pricing = settings
        .pricing
        .for_model(family.name, &settings.pricing_path)?;
    std::fs::create_dir_all(&settings.batches_dir)
        .with_context(|| format!("cannot create folder `{}`", settings.batches_dir.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".plan-")
        .tempdir_in(&settings.batches_dir)
        .with_context(|| {
            format!(
                "cannot create a folder in `{}`",
                settings.batches_dir.display()
            )
        })?;
    let staging_path = staging.path().to_path_buf();
    std::fs::create_dir_all(staging_path.join(REQUESTS_DIR))?;

    let builder = RequestBuilder::new(
        &settings.prompts,
        &settings.model,
        family,
        settings.output_model.clone(),
        settings.reasoning,
    );
    let pairs_path = staging_path.join(PAIRS_FILE);
    let mut pairs_writer = HashingWriter::new(create(&pairs_path)?);
    let index_path = staging_path.join(INDEX_FILE);
    let mut index_writer = HashingWriter::new(create(&index_path)?);
    let mut sharder = Sharder::new(settings.limits);
    let mut shard: Option<OpenShard> = None;
    let mut shards = Vec::new();
    let mut totals: BTreeMap<RequestKind, TokenTotals> = builder
        .kinds()
        .iter()
        .map(|&k| (k, TokenTotals::default()))
        .collect();
    let mut planned = 0u64;
    let limit = settings.num_pairs.unwrap_or(u64::MAX);

    let import = medec::read_pairs(&settings.input, settings.read_options, |pair: Pair| {
        if planned >= limit {
            return Ok(());
        }
        serde_json::to_writer(&mut pairs_writer, &pair)?;
        pairs_writer.write_all(b"\n")?;
        for (line, request) in builder.build(&pair, planned == 0) {
            let (index, finished) = sharder.place(
                &request.custom_id,
                &settings.model,
                line.len() as u64,
                request.prompt_tokens,
            )?;
            if let Some(fill) = finished {
                let done = shard.take().unwrap_or_else(|| unreachable!());
                shards.push(close_shard(done, &fill, &staging_path)?);
            }
            let open = match &mut shard {
                Some(open) if open.index == index => open,
                slot => {
                    let path = staging_path.join(shard_file_name(index));
                    slot.insert(OpenShard {
                        index,
                        writer: HashingWriter::new(create(&path)?),
                        path,
                    })
                }
            };
            open.writer.write_all(line.as_bytes())?;
            totals.entry(request.kind).or_default().add(&request);
            serde_json::to_writer(
                &mut index_writer,
                &IndexEntry {
                    request,
                    shard: index,
                },
            )?;
            index_writer.write_all(b"\n")?;
        }
        planned += 1;
        progress(planned);
        Ok(())
    })?;
    if let (Some(open), Some(fill)) = (shard.take(), sharder.finish()) {
        shards.push(close_shard(open, &fill, &staging_path)?);
    }
    if planned == 0 {
        bail!(
            "`{}` holds no pairs to plan ({} rows read, {} with Error Flag 0, {} blank)",
            settings.input.display(),
            import.rows,
            import.unpaired_correct_rows,
            import.blank_rows
        );
    }
    let pairs_file = finish_file(pairs_writer, &pairs_path, PAIRS_FILE)?;
    let request_index = finish_file(index_writer, &index_path, INDEX_FILE)?;

    let estimate = Estimate::new(
        &settings.model,
        pricing,
        &settings.output_model,
        planned,
        &totals,
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

    let mut plan_hasher = Sha256::new();
    plan_hasher.update(settings.model.as_bytes());
    plan_hasher.update(pairs_file.sha256.as_bytes());
    for record in &shards {
        plan_hasher.update(record.file.sha256.as_bytes());
    }
    let plan_hash = format!("{:x}", plan_hasher.finalize());

    let run_dir = settings.batches_dir.join(&settings.run);
    let mut replaced = None;
    if run_dir.exists() {
        match Manifest::load(&run_dir) {
            Ok(existing) if existing.plan_hash == plan_hash => {
                return Ok(PlanOutcome::Unchanged(Box::new(existing)));
            }
            Ok(existing) if existing.submitted() => bail!(
                "run `{}` was already submitted with another plan; it is never replaced\nhint: plan under another `--run` name",
                settings.run
            ),
            _ if !settings.force => bail!(
                "run `{}` already exists at `{}` with another plan\nhint: pass `--force` to replace it, or choose another `--run` name",
                settings.run,
                run_dir.display()
            ),
            _ => replaced = Some(run_dir.clone()),
        }
    }

    let input_sha256 = sha256_file(&settings.input)?;
    let requests = shards.iter().map(|s| s.requests).sum();
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        run: settings.run.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        planned_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        plan_hash,
        input: InputRecord {
            path: settings.input.display().to_string(),
            sha256: input_sha256,
            format: InputFormat::from_path(&settings.input)?,
            pairs_available: import.pairs,
            pairs_planned: planned,
            import,
        },
        pairs_file,
        prompt_config: FileRecord {
            path: settings.prompts_path.display().to_string(),
            sha256: settings.prompts.sha256.clone(),
            bytes: std::fs::metadata(&settings.prompts_path).map_or(0, |m| m.len()),
        },
        pricing: PricingRecord {
            path: settings.pricing_path.display().to_string(),
            sha256: sha256_file(&settings.pricing_path)?,
            model_family: family.name.into(),
            prices: pricing.clone(),
        },
        model: settings.model.clone(),
        encoding: family.encoding,
        reasoning: settings.reasoning,
        limits: settings.limits,
        budget_usd: settings.budget,
        schema_allowance_tokens: if settings.reasoning {
            builder.schema_allowance_tokens()
        } else {
            0
        },
        shards,
        request_index,
        requests,
        estimate,
    };
    write_json_atomic(&staging_path.join(MANIFEST_FILE), &manifest)?;

    // Swap the finished folder into place: the run folder is never half-written.
    let staged = staging.keep();
    if let Some(old) = replaced {
        let aside =
            settings
                .batches_dir
                .join(format!(".replaced-{}-{}", settings.run, std::process::id()));
        std::fs::rename(&old, &aside)
            .with_context(|| format!("cannot move `{}` aside", old.display()))?;
        std::fs::rename(&staged, &run_dir)
            .with_context(|| format!("cannot move the plan into `{}`", run_dir.display()))?;
        std::fs::remove_dir_all(&aside)
            .with_context(|| format!("cannot remove `{}`", aside.display()))?;
    } else {
        std::fs::rename(&staged, &run_dir)
            .with_context(|| format!("cannot move the plan into `{}`", run_dir.display()))?;
    }
    Ok(PlanOutcome::Planned(Box::new(manifest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, |w| w.write_all(b"first")).unwrap();
        let failed = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the temp file is removed");
    }

    #[test]
    fn hashing_writer_matches_sha256_of_the_bytes() {
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"hello ").unwrap();
        writer.write_all(b"world").unwrap();
        let (bytes, sha, count) = writer.finish().unwrap();
        assert_eq!(sha, sha256_hex(b"hello world"));
        assert_eq!(count, 11);
        assert_eq!(bytes, b"hello world");
    }

    #[test]
    fn run_names_are_plain_folder_names() {
        assert!(validate_run_name("medec-val_gpt-4o.1").is_ok());
        for bad in ["", "../x", ".hidden", "a/b", "a b"] {
            assert!(validate_run_name(bad).is_err(), "{bad}");
        }
        let name = default_run_name(Path::new("data/MEDEC MS.csv"), "gpt-4o", Some(10));
        assert_eq!(name, "medec-ms-gpt-4o-n10");
        validate_run_name(&name).unwrap();
    }
}
