//! Money: exact US dollars and the dated pricing table that turns tokens into them.

mod pricing;
mod usd;

pub use pricing::{ModelPricing, PricedModel, PricingError, PricingTable, TierPrices, TokenUse};
pub use usd::Usd;

/// The prices a run used (of its model, or of its verifier), copied into the manifest so
/// the run can be re-priced or audited after the table changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PricingRecord {
    /// The pricing table they came from, and its sha256.
    pub path: String,
    pub sha256: String,
    pub model_family: String,
    pub prices: ModelPricing,
}
