//! Money: exact US dollars and the dated pricing table that turns tokens into them.

mod pricing;
mod usd;

pub use pricing::{ModelPricing, PricedModel, PricingError, PricingTable, TierPrices, TokenUse};
pub use usd::Usd;
