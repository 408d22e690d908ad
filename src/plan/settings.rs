//! Everything one plan needs, resolved by the command line into plain values.

use std::path::PathBuf;

use super::output::OutputModel;
use super::prompts::LoadedPrompts;
use super::shard::ShardLimits;
use super::verify::VerifySettings;
use crate::medec::ReadOptions;
use crate::money::{PricingTable, Usd};

/// Everything `plan` needs, resolved from the command line.
pub struct PlanSettings {
    pub input: PathBuf,
    pub read_options: ReadOptions,
    pub prompts: LoadedPrompts,
    pub pricing: PricingTable,
    pub model: String,
    pub reasoning: bool,
    /// The verify stage (issue 9), or `None` with `--no-verify`.
    pub verify: Option<VerifySettings>,
    pub num_pairs: Option<u64>,
    /// `--target-kept`: `num_pairs` is a wish, and an input holding fewer pairs is planned
    /// whole instead of refused.
    pub fewer_pairs_allowed: bool,
    pub limits: ShardLimits,
    pub budget: Option<Usd>,
    pub output_model: OutputModel,
    pub batches_dir: PathBuf,
    pub run: String,
    pub force: bool,
    /// Threads to count tokens on [default: every core, or `RAYON_NUM_THREADS`].
    pub jobs: Option<usize>,
}
