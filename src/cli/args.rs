//! The command line, and only that: clap definitions. Nothing outside `cli/` imports
//! clap; `settings` turns these into the library's plain settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::money::Usd;
use crate::plan::shard::{MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE};

pub const DEFAULT_BATCHES_DIR: &str = "batches";
pub const DEFAULT_REPORTS_DIR: &str = "reports";

/// Turn MEDEC into safe, balanced SFT data through the OpenAI Batch API, with the cost
/// known before and after.
#[derive(Debug, Parser)]
#[command(
    name = "safesft",
    version,
    about,
    after_help = "Example (a dry run on the bundled sample, no key or network needed):\n  safesft run --dry-run --input data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Import(ImportArgs),
    Plan(PlanArgs),
    Estimate(EstimateArgs),
    Submit(SubmitArgs),
    /// One look at every shard of a run: status, request counts, files (`--json` too).
    #[command(after_help = "Example:\n  safesft status val-4o --json")]
    Status(RunRef),
    Wait(WaitArgs),
    /// Cancel a run's unfinished batches; shards not yet submitted never will be.
    ///
    /// A cancelled batch keeps what finished before the cancel: `safesft wait` then
    /// downloads it, with the rest listed as `batch_cancelled` in the error file.
    #[command(after_help = "Example:\n  safesft cancel val-4o\n  safesft wait val-4o")]
    Cancel(RunRef),
    Run(RunArgs),
    Reconcile(ReconcileArgs),
    Report(ReportArgs),
    Retry(RetryArgs),
    Validate(ValidateArgs),
    Check(CheckArgs),
}

/// How reconcile writes the dataset.
#[derive(Debug, Args, Clone)]
pub struct SftArgs {
    /// Where the SFT files go [default: batches/<run>/sft].
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// A pair whose paraphrase was not kept: `drop` it whole, or keep the MEDEC correct
    /// note as is (`original`).
    #[arg(long, value_enum, default_value_t = FallbackArg::Drop)]
    pub fallback: FallbackArg,
    /// Also write the chat `messages` form (TRL SFTTrainer, OpenAI fine-tuning).
    #[arg(long, value_enum)]
    pub format: Option<SftFormat>,
    /// Seed of the combined file's shuffle.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FallbackArg {
    Drop,
    Original,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SftFormat {
    Messages,
}

/// Turn a run's downloaded results into balanced SFT files and its cost report.
///
/// Joins every line to the plan by `custom_id`; every planned request ends kept,
/// rejected, failed, expired or missing, and the table adds up. INCORRECT examples are
/// MEDEC's notes byte for byte; CORRECT ones are paraphrases that passed every safety
/// check. Writes `sft_correct.jsonl`, `sft_incorrect.jsonl`, `sft_combined_safe.jsonl`,
/// `generation_stats_safe.json` and `rejected.jsonl`, then `reports/<run>.json` and .csv and
/// the run's row of `reports/ledger.csv`. Running it again gives the same files.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  safesft reconcile val-4o --format messages")]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub target: RunRef,
    #[command(flatten)]
    pub sft: SftArgs,
    /// Where cost reports and the ledger live.
    #[arg(long, default_value = DEFAULT_REPORTS_DIR)]
    pub reports_dir: PathBuf,
}

/// Cost per run and per dataset size and model, from `reports/ledger.csv`.
///
/// As a table (dollars and cents), `--format csv` or `--json` (exact values). With
/// `--html`, the page of a run: its cost, every run's cost, and a review of its
/// paraphrases. The page is self-contained (inline SVG charts, no network) and written to
/// `reports/<run>.html` (`reconcile` writes it too).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  safesft report --format csv\n  safesft report --html --run val-4o"
)]
pub struct ReportArgs {
    /// Where cost reports and the ledger live.
    #[arg(long, default_value = DEFAULT_REPORTS_DIR)]
    pub reports_dir: PathBuf,
    /// Write the HTML page of a run (`--run`, default: the ledger's latest) and print
    /// its path.
    #[arg(long)]
    pub html: bool,
    /// The run whose page `--html` writes.
    #[arg(long, requires = "html")]
    pub run: Option<String>,
    /// Where `--html` writes the page [default: `<reports-dir>/<run>.html`].
    #[arg(long, requires = "html")]
    pub output: Option<PathBuf>,
    /// Print as JSON (the same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// `table` for people (dollars and cents), `csv` or `json` (exact values).
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
}

/// Send again the requests a new answer may fix, as a new attempt.
///
/// Failed (other than a final 4xx), expired and rejected answers (truncated, refused,
/// bad JSON, a failed safety check) get new `custom_ids` (`…|2`) in new shards. Refused
/// when the money already spent plus the new worst case exceeds the run's budget.
/// Then `safesft wait` and `safesft reconcile`, which uses the latest good attempt.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  safesft retry val-4o --budget-usd 5\n  safesft wait val-4o\n  safesft reconcile val-4o"
)]
pub struct RetryArgs {
    #[command(flatten)]
    pub target: RunRef,
    /// The budget (default: the one set at plan time).
    #[arg(long, value_parser = parse_usd)]
    pub budget_usd: Option<Usd>,
    /// Write the new attempt but do not submit it.
    #[arg(long)]
    pub no_submit: bool,
    /// Resend answers cut off by their output cap (`finish_reason: length`) with this
    /// cap in tokens (priced and budget-checked); without it they are not resent.
    #[arg(long, value_name = "TOKENS", value_parser = clap::value_parser!(u32).range(1..))]
    pub truncated_cap: Option<u32>,
}

/// Check an SFT file: 50/50 labels (±1%), sources, record format, duplicates, and with
/// `--medec` every INCORRECT note byte-identical to its MEDEC source.
///
/// Reads the record form and the chat `messages` form (roles, non-empty content, no
/// extra keys, tokens per example). Writes `<file stem>.validation_report.json` beside
/// the file (or `--output-report`), so each file keeps its own report; exit 1 when a
/// check fails.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  safesft validate batches/val-4o/sft/sft_combined_safe.jsonl --medec data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv"
)]
pub struct ValidateArgs {
    /// The SFT JSONL file.
    pub file: PathBuf,
    /// The MEDEC source (release CSV or paired JSONL) the INCORRECT notes must match.
    #[arg(long)]
    pub medec: Option<PathBuf>,
    /// Where to write the report [default: `<file stem>.validation_report.json` beside
    /// the file].
    #[arg(long)]
    pub output_report: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Check one paraphrase against its original note: the verdict and what differs.
///
/// Numbers and units, medications (with dose, route and frequency), findings, diagnoses
/// and organisms (synonyms allowed), negations, laterality, severity and temporal
/// qualifiers, demographics, dropped content, length, near-verbatim copies and answer
/// artefacts (preambles, refusals, code fences, explanations, truncation). With `--batch`,
/// one verdict line per pair of a JSON Lines file. Exit 0 accepted, 1 rejected.
#[derive(Debug, Args)]
#[command(
    override_usage = "safesft check [OPTIONS] --original <ORIGINAL> --paraphrase <PARAPHRASE>\n       safesft check [OPTIONS] --batch <FILE.jsonl>",
    after_help = "Examples:\n  safesft check --original note.txt --paraphrase paraphrase.txt --finish-reason stop\n  safesft check --batch pairs.jsonl --json\n    (each line: {\"id\": \"ms-val-1\", \"original\": \"…\", \"paraphrase\": \"…\", \"finish_reason\": \"stop\"})"
)]
pub struct CheckArgs {
    /// The original note (a text file, read as is).
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pub original: Option<PathBuf>,
    /// The paraphrase to check.
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pub paraphrase: Option<PathBuf>,
    /// A JSON Lines file of pairs (`id`, `original`, `paraphrase`, optional
    /// `finish_reason`): one verdict line per pair on stdout, in file order.
    #[arg(long, value_name = "FILE.jsonl")]
    pub batch: Option<PathBuf>,
    /// The answer's `finish_reason`, when known (`stop`, `length`, `content_filter`).
    #[arg(long, conflicts_with = "batch")]
    pub finish_reason: Option<String>,
    /// Reject paraphrases at least this similar to the original (word ROUGE-L, 0 to 1).
    #[arg(long, default_value_t = 0.9)]
    pub max_similarity: f64,
    /// Print the verdict as JSON (with `--batch`: one JSON object per line).
    #[arg(long)]
    pub json: bool,
}

/// A planned run, by name.
#[derive(Debug, Args)]
pub struct RunRef {
    /// The run's name (its folder under `--batches-dir`).
    pub run: String,
    /// Where run folders live.
    #[arg(long, default_value = DEFAULT_BATCHES_DIR)]
    pub batches_dir: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Upload a planned run's shards and create their batches (needs `OPENAI_API_KEY`).
///
/// Re-checks the budget first. Safe to run again: an uploaded file is reused and a
/// batch whose creation may have happened is found by its metadata, never created
/// twice. With an enqueued-token limit in the plan, only the first wave goes now;
/// `safesft wait` submits the rest as room frees up.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  export OPENAI_API_KEY=...\n  safesft submit val-4o")]
pub struct SubmitArgs {
    #[command(flatten)]
    pub target: RunRef,
    /// Refuse when the worst case exceeds this (default: the budget set at plan time).
    #[arg(long, value_parser = parse_usd)]
    pub budget_usd: Option<Usd>,
}

/// Poll until every shard is finished, then download its output and error files.
///
/// Shows progress per shard (`finalizing` is its own state). Polls every few seconds
/// at first and every few minutes later. Ctrl-C stops cleanly; run it again to resume.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  safesft wait val-4o")]
pub struct WaitArgs {
    #[command(flatten)]
    pub target: RunRef,
    #[command(flatten)]
    pub poll: PollArgs,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How often `wait` looks.
#[derive(Debug, Args, Clone, Copy)]
pub struct PollArgs {
    /// Seconds before the first look again.
    #[arg(long, default_value_t = 5.0)]
    pub poll_initial_seconds: f64,
    /// The longest wait between looks, in seconds.
    #[arg(long, default_value_t = 300.0)]
    pub poll_max_seconds: f64,
}

/// Read a MEDEC release CSV or paired JSONL file and write `pairs.jsonl`.
///
/// A pair comes from each Error Flag 1 row: the incorrect note is `Text`, the correct
/// note `Corrected Text`, both byte for byte. Blank rows and Error Flag 0 rows are
/// counted and skipped; a broken row stops the import (exit 2) unless `--skip-invalid`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  safesft import data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv --output-dir data/pairs --val-fraction 0.1 --seed 7"
)]
pub struct ImportArgs {
    /// The MEDEC release CSV (`*.csv`) or paired JSONL (`*.jsonl`).
    pub input: PathBuf,
    /// Where to write `pairs.jsonl` (or `pairs_train.jsonl` and `pairs_val.jsonl`).
    #[arg(long, default_value = ".")]
    pub output_dir: PathBuf,
    /// Hold out this share of pairs (0 to 1) as `pairs_val.jsonl`; no note id is in both.
    #[arg(long, value_parser = parse_fraction)]
    pub val_fraction: Option<f64>,
    /// Seed of the split: the same seed gives the same split.
    #[arg(long, default_value_t = 0, requires = "val_fraction")]
    pub seed: u64,
    /// Skip broken rows and list them instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Whether to ask for a reasoning explanation of each error.
#[derive(Debug, Args, Clone, Copy)]
#[group(multiple = false)]
pub struct ReasoningArgs {
    /// Add a reasoning request per pair (the default).
    #[arg(long)]
    pub add_reasoning: bool,
    /// Paraphrase requests only: INCORRECT examples carry no explanation.
    #[arg(long)]
    pub no_reasoning: bool,
}

impl ReasoningArgs {
    pub fn enabled(self) -> bool {
        !self.no_reasoning
    }
}

/// Whether a second model reads each rule-passing paraphrase against its original
/// (stage 2, issue 9) before it may become a CORRECT example.
#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// The verifier model [default: the prompt config's `verify.model`, `gpt-4o-mini` in
    /// the bundled one].
    #[arg(long, value_name = "MODEL", conflicts_with = "no_verify")]
    pub verify_model: Option<String>,
    /// No verify stage: a paraphrase that passes the rule checks is kept without a
    /// second model reading it.
    #[arg(long)]
    pub no_verify: bool,
    /// A paraphrase only concept-level checks reject (findings, negation, laterality,
    /// qualifiers, timing, demographics, management, coverage; no number, unit, drug,
    /// dose, route, frequency, near copy or artefact): `reject` it, or send it to the
    /// verifier, which keeps it only if it answers `same`.
    #[arg(long, value_enum, default_value_t = DoubtsArg::Reject, conflicts_with = "no_verify")]
    pub doubts: DoubtsArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoubtsArg {
    Reject,
    Verify,
}

/// Build Batch API request files and price them, without a key or network.
///
/// Writes `batches/<run>/requests/shard-NNN.jsonl`, `requests/index.jsonl` (every
/// request's token counts), `pairs.jsonl` and `manifest.json`, all at once or not at
/// all. With `--budget-usd`, a worst case over budget writes nothing and exits 1.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  safesft plan --input data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv --run val-4o --budget-usd 5"
)]
pub struct PlanArgs {
    /// The MEDEC release CSV or paired JSONL file.
    #[arg(long)]
    pub input: PathBuf,
    /// The run's name: its folder under `--batches-dir` [default: input stem + model].
    #[arg(long)]
    pub run: Option<String>,
    /// A prompt config of your own [default: the bundled
    /// `configs/prompts/gpt4o_medec_safe_augmentation.json`].
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// A dated pricing table of your own [default: the bundled `configs/pricing.toml`].
    #[arg(long)]
    pub pricing: Option<PathBuf>,
    /// The model [default: the prompt config's].
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub reasoning: ReasoningArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Plan only the first N pairs (`all`: every pair); more than the input holds is
    /// an error.
    #[arg(long, value_name = "N|all", value_parser = parse_num_pairs)]
    pub num_pairs: Option<NumPairs>,
    /// Plan enough pairs (within what the input holds) to expect N kept pairs, at the
    /// kept rate of this model and prompt config in the ledger (or the default 50 %).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "num_pairs")]
    pub target_kept: Option<u64>,
    /// Refuse to plan when the worst case costs more than this many US dollars.
    #[arg(long, value_parser = parse_usd)]
    pub budget_usd: Option<Usd>,
    /// At most this many requests per shard (the API allows 50000).
    #[arg(long, default_value_t = MAX_REQUESTS_PER_FILE)]
    pub max_requests_per_shard: u64,
    /// At most this many bytes per shard (the API allows 200 MB).
    #[arg(long, default_value_t = MAX_BYTES_PER_FILE)]
    pub max_shard_bytes: u64,
    /// At most this many prompt tokens per shard: your organisation's enqueued-token
    /// limit for the model (e.g. 90000 for gpt-4o at the lowest tier).
    #[arg(long)]
    pub enqueued_token_limit: Option<u64>,
    /// Where run folders live.
    #[arg(long, default_value = DEFAULT_BATCHES_DIR)]
    pub batches_dir: PathBuf,
    /// Where cost reports and the ledger live (the ledger calibrates the expected output).
    #[arg(long, default_value = DEFAULT_REPORTS_DIR)]
    pub reports_dir: PathBuf,
    /// Skip broken input rows and list them instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Replace an existing run's plan (never one already submitted).
    #[arg(long)]
    pub force: bool,
    /// Threads to count tokens on [default: every core, or `RAYON_NUM_THREADS`].
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Print the plan as JSON (the manifest) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The output form of a table: for people, or exact for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

impl TableFormat {
    /// The form asked for, `--json` counting as `--format json`.
    #[must_use]
    pub fn with_json(self, json: bool) -> TableFormat {
        if json {
            TableFormat::Json
        } else {
            self
        }
    }
}

/// The cost per dataset size and model, from exact token counts of the real pairs.
///
/// Sizes above the pairs available are scaled up from the mean of all pairs (marked
/// with `*`). Each row also shows the pairs expected to be kept and the dollars per kept
/// pair, at the kept rate of the model and prompt config in the ledger (or the default
/// 50 %). Nothing is written; no key or network is needed.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  safesft estimate --input data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv --sizes 100,500,1000 --model gpt-4o,gpt-4o-mini --format csv\n  safesft estimate --input data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv --target-kept 5000 --model gpt-4o --model gpt-4o-mini"
)]
pub struct EstimateArgs {
    /// The MEDEC release CSV or paired JSONL file.
    #[arg(long)]
    pub input: PathBuf,
    /// Dataset sizes in pairs, comma-separated.
    #[arg(long, value_delimiter = ',', required_unless_present = "target_kept")]
    pub sizes: Vec<u64>,
    /// Also the size each model needs to expect N kept pairs.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub target_kept: Option<u64>,
    /// Models, repeated or comma-separated [default: the prompt config's].
    #[arg(long = "model", visible_alias = "models", value_delimiter = ',')]
    pub models: Vec<String>,
    #[command(flatten)]
    pub reasoning: ReasoningArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// A prompt config of your own [default: the bundled
    /// `configs/prompts/gpt4o_medec_safe_augmentation.json`].
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// A dated pricing table of your own [default: the bundled `configs/pricing.toml`].
    #[arg(long)]
    pub pricing: Option<PathBuf>,
    /// Skip broken input rows instead of stopping.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where the ledger lives (it calibrates the expected output).
    #[arg(long, default_value = DEFAULT_REPORTS_DIR)]
    pub reports_dir: PathBuf,
    /// `table` for people (dollars and cents), `csv` or `json` (exact values).
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Print as JSON (the same as `--format json`).
    #[arg(long)]
    pub json: bool,
    /// Threads to count tokens on [default: every core, or `RAYON_NUM_THREADS`].
    #[arg(long, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
}

/// The whole job: import, plan, budget check, submit, wait, reconcile, report.
///
/// With `--dry-run` it stops after the plan and says how to go on; without it, a
/// missing `OPENAI_API_KEY` is an error (exit 2) before anything is planned. Run again after an interruption, it continues where it stopped: the plan
/// is kept, uploads and batches are reused, never made twice.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  safesft run --dry-run --input data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv --budget-usd 5"
)]
pub struct RunArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub poll: PollArgs,
    #[command(flatten)]
    pub sft: SftArgs,
    /// Stop after the plan even when a key is set.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(jobs) if (1..=1024).contains(&jobs) => Ok(jobs),
        _ => Err(format!(
            "`{text}` is not a number of threads from 1 to 1024"
        )),
    }
}

/// `--num-pairs`: a number of pairs, or every pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumPairs {
    All,
    First(u64),
}

impl NumPairs {
    /// The number asked for, or `None` for every pair.
    pub fn limit(self) -> Option<u64> {
        match self {
            NumPairs::All => None,
            NumPairs::First(n) => Some(n),
        }
    }
}

fn parse_num_pairs(text: &str) -> Result<NumPairs, String> {
    if text == "all" {
        return Ok(NumPairs::All);
    }
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(NumPairs::First(n)),
        _ => Err(format!(
            "`{text}` is not a number of pairs above 0, or `all`"
        )),
    }
}

fn parse_usd(text: &str) -> Result<Usd, String> {
    text.parse()
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..1.0).contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a fraction from 0 up to (not including) 1"
        )),
    }
}
