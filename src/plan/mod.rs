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
pub mod verify;
mod write;

pub use chat::{ChatMessage, Role};
pub use custom_id::{CustomId, RequestKind, Stage};
pub use estimate::{Estimate, TokenTotals};
pub use model::{family_of, Encoding, ModelFamily, UnknownModel};
pub use output::OutputModel;
pub use prompts::{LoadedPrompts, PromptError};
pub use request::{BatchRequestLine, PlannedRequest, RequestBuilder, RequestCost};
pub use settings::PlanSettings;
pub use shard::{ShardError, ShardFill, ShardLimits, Sharder};
pub use verify::{Doubts, VerifyBuilder, VerifyError, VerifySettings};
pub use write::{default_run_name, family_and_prices, plan, PlanOutcome};

use std::path::PathBuf;

use crate::medec::MedecError;
use crate::money::PricingError;
use crate::store::StoreError;

/// A request whose prompt and output cap together exceed the model's context window.
#[derive(Debug, thiserror::Error)]
#[error("{input}:{line}: note `{note_id}`: its {kind} prompt of {prompt_tokens} tokens + the output cap of {output_cap} is over the {limit}-token context window of `{model}`\nhint: shorten the note, lower `max_output_tokens` in the prompt config, or pass `--skip-invalid` to skip such pairs")]
pub struct OverContext {
    pub input: PathBuf,
    /// 0 when the line could not be found again.
    pub line: u64,
    pub note_id: String,
    pub kind: String,
    pub prompt_tokens: u64,
    pub output_cap: u64,
    pub limit: u64,
    pub model: String,
}

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
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("`{input}` holds no pairs to plan ({rows} rows read, {unpaired} with Error Flag 0, {blank} blank)")]
    NoPairs {
        input: PathBuf,
        rows: u64,
        unpaired: u64,
        blank: u64,
    },
    #[error("`--num-pairs {wanted}` asks for more pairs than `{input}` holds ({available})\nhint: ask for at most {available}, or `--num-pairs all`")]
    TooFewPairs {
        input: PathBuf,
        wanted: u64,
        available: u64,
    },
    #[error(transparent)]
    OverContext(Box<OverContext>),
    #[error("run `{run}` was already submitted with another plan; it is never replaced\nhint: plan under another `--run` name")]
    AlreadySubmitted { run: String },
    #[error("cannot start the threads that read and count the input")]
    Threads(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("run `{run}` already exists at `{dir}` with another plan\nhint: pass `--force` to replace it, or choose another `--run` name")]
    Exists { run: String, dir: PathBuf },
}
