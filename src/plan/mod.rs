//! The dry run: pairs → Batch API request lines with exact prompt-token counts, cut into
//! shards, priced (worst case and expected) and checked against the budget. No key, no
//! network: `write`, `staging`, `pipeline` and `replan` are the parts that touch files.

pub mod boundary;
pub mod calibrate;
pub mod chat;
mod count;
pub mod custom_id;
pub mod estimate;
pub mod kept;
pub mod model;
pub mod output;
mod pipeline;
pub mod prompts;
mod replan;
pub mod request;
mod settings;
pub mod shard;
pub mod sizes;
mod split;
mod staging;
pub mod tokens;
mod write;

pub use chat::{ChatMessage, Role};
pub use custom_id::{CustomId, RequestKind};
pub use estimate::{Estimate, TokenTotals};
pub use model::{family_of, Encoding, ModelFamily, UnknownModel};
pub use output::OutputModel;
pub use prompts::{LoadedPrompts, PromptError};
pub use request::{BatchRequestLine, PlannedRequest, RequestBuilder, RequestCost};
pub use settings::PlanSettings;
pub use shard::{ShardError, ShardFill, ShardLimits, Sharder};
pub use write::{default_run_name, family_and_prices, plan, PlanOutcome};

use std::path::PathBuf;

use crate::medec::MedecError;
use crate::money::PricingError;
use crate::store::StoreError;

/// Why a plan could not be made. Nothing is written when planning fails.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Medec(#[from] MedecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Model(#[from] UnknownModel),
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error(transparent)]
    Shard(#[from] ShardError),
    #[error("`{input}` holds no pairs to plan ({rows} rows read, {unpaired} with Error Flag 0, {blank} blank)")]
    NoPairs {
        input: PathBuf,
        rows: u64,
        unpaired: u64,
        blank: u64,
    },
    #[error("run `{run}` was already submitted with another plan; it is never replaced\nhint: plan under another `--run` name")]
    AlreadySubmitted { run: String },
    #[error("cannot start the threads that read and count the input")]
    Threads(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("run `{run}` already exists at `{dir}` with another plan\nhint: pass `--force` to replace it, or choose another `--run` name")]
    Exists { run: String, dir: PathBuf },
}
