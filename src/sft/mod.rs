//! The dataset: SFT records in the guide's format (exactly 50/50 by construction), their
//! chat `messages` form, and the checks `validate` runs on a finished file.

mod checks;
mod messages;
mod records;
pub mod validate;
pub mod validate_messages;

pub use messages::as_messages;
pub use records::{
    combined_order, pair_records, Fallback, GenerationStats, SftRecord, SOURCE_CORRECT_VERIFIED,
    SOURCE_INCORRECT_VERIFIED, SOURCE_PARAPHRASED,
};
