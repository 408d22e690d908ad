//! The dated pricing table (`configs/pricing.toml`): standard and Batch prices per 1M
//! tokens as decimal strings (a TOML float is refused), and the exact cost of token use.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Usd;

/// Prices of one tier in dollars per 1M tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierPrices {
    #[serde(deserialize_with = "price")]
    pub input: Decimal,
    /// `None` where no price is published: cached tokens are then priced as uncached
    /// input (an upper bound), and reports say so.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "optional_price"
    )]
    pub cached_input: Option<Decimal>,
    #[serde(deserialize_with = "price")]
    pub output: Decimal,
}

/// A price must be a decimal string (`"1.25"`): a TOML float would pass through binary
/// floating point on its way in.
fn price<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(deserializer)?;
    Decimal::from_str_exact(text.trim()).map_err(|_| {
        serde::de::Error::custom(format!("`{text}` is not a decimal price such as \"1.25\""))
    })
}

fn optional_price<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Decimal>, D::Error> {
    price(deserializer).map(Some)
}

/// Tokens of one kind of use, as priced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUse {
    /// All prompt tokens, cached ones included (as the API's `prompt_tokens`).
    pub prompt_tokens: u64,
    /// The part of `prompt_tokens` read from the prompt cache.
    pub cached_tokens: u64,
    /// Completion tokens, hidden reasoning tokens included (as the API bills them).
    pub output_tokens: u64,
}

impl AddAssign for TokenUse {
    fn add_assign(&mut self, other: TokenUse) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.output_tokens += other.output_tokens;
    }
}

impl TierPrices {
    /// The exact cost of `usage` at these prices.
    pub fn cost(&self, usage: TokenUse) -> Usd {
        let cached = usage.cached_tokens.min(usage.prompt_tokens);
        let cached_price = self.cached_input.unwrap_or(self.input);
        Usd::for_tokens(usage.prompt_tokens - cached, self.input)
            + Usd::for_tokens(cached, cached_price)
            + Usd::for_tokens(usage.output_tokens, self.output)
    }
}

/// One model's prices, standard and Batch, and when they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPricing {
    /// `YYYY-MM` or `YYYY-MM-DD`: when these prices were checked against the price list.
    pub checked: String,
    pub standard: TierPrices,
    pub batch: TierPrices,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ModelPricing {
    /// True when Batch cached tokens are priced as uncached for want of a published price.
    pub fn batch_cached_price_assumed(&self) -> bool {
        self.batch.cached_input.is_none()
    }
}

/// The whole table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingTable {
    pub currency: String,
    pub unit: String,
    pub models: BTreeMap<String, ModelPricing>,
    /// Where it came from (a path, or the bundled table's name), recorded in the manifest.
    #[serde(skip)]
    pub source: String,
    /// sha256 of the table's text, recorded in the manifest.
    #[serde(skip)]
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("cannot read the pricing table `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: model `{model}`: {message}")]
    Invalid {
        path: PathBuf,
        model: String,
        message: String,
    },
    #[error("no price for model `{model}` in `{path}`\nhint: priced models: {priced}")]
    Unpriced {
        path: PathBuf,
        model: String,
        priced: String,
    },
}

impl PricingTable {
    pub fn load(path: &Path) -> Result<PricingTable, PricingError> {
        let text = std::fs::read_to_string(path).map_err(|source| PricingError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        PricingTable::parse(&text, path)
    }

    /// Parses and validates; `path` names the file in errors and in the manifest.
    pub fn parse(text: &str, path: &Path) -> Result<PricingTable, PricingError> {
        let mut table: PricingTable =
            toml::from_str(text).map_err(|error| PricingError::Parse {
                path: path.to_path_buf(),
                message: error.to_string().trim_end().to_string(),
            })?;
        if table.currency != "USD" || table.unit != "per_1m_tokens" {
            return Err(PricingError::Parse {
                path: path.to_path_buf(),
                message: "expected `currency = \"USD\"` and `unit = \"per_1m_tokens\"`".into(),
            });
        }
        for (model, pricing) in &table.models {
            let invalid = |message: String| PricingError::Invalid {
                path: path.to_path_buf(),
                model: model.clone(),
                message,
            };
            if !is_checked_date(&pricing.checked) {
                return Err(invalid(format!(
                    "field `checked`: `{}` is not a date (YYYY-MM or YYYY-MM-DD)",
                    pricing.checked
                )));
            }
            for (tier, prices) in [("standard", &pricing.standard), ("batch", &pricing.batch)] {
                let all = [Some(prices.input), prices.cached_input, Some(prices.output)];
                if all.iter().flatten().any(Decimal::is_sign_negative) {
                    return Err(invalid(format!("field `{tier}`: a price is negative")));
                }
            }
        }
        table.source = path.display().to_string();
        table.sha256 = crate::store::fs::sha256_hex(text.as_bytes());
        Ok(table)
    }

    /// Prices of a model family (see [`crate::plan::family_of`]).
    pub fn for_model(&self, family: &str) -> Result<&ModelPricing, PricingError> {
        self.models
            .get(family)
            .ok_or_else(|| PricingError::Unpriced {
                path: PathBuf::from(&self.source),
                model: family.to_string(),
                priced: self.models.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }
}

/// `YYYY-MM-DD`, or `YYYY-MM` where only the month is known.
fn is_checked_date(text: &str) -> bool {
    let full = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    let month = chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok()
        && text.len() == 7;
    full || month
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn cost_is_exact() {
        let prices = TierPrices {
            input: dec("1.25"),
            cached_input: None,
            output: dec("5.00"),
        };
        let usage = TokenUse {
            prompt_tokens: 123_457,
            cached_tokens: 0,
            output_tokens: 1,
        };
        // 123457 × 1.25 / 1e6 + 1 × 5 / 1e6 = 0.15432125 + 0.000005
        assert_eq!(prices.cost(usage).exact(), "0.15432625");
    }

    #[test]
    fn cached_tokens_use_the_cached_price_or_the_input_price() {
        let mut prices = TierPrices {
            input: dec("0.625"),
            cached_input: Some(dec("0.0625")),
            output: dec("5"),
        };
        let usage = TokenUse {
            prompt_tokens: 2_000_000,
            cached_tokens: 1_000_000,
            output_tokens: 0,
        };
        assert_eq!(prices.cost(usage), Usd(dec("0.6875")));
        prices.cached_input = None;
        assert_eq!(prices.cost(usage), Usd(dec("1.25")));
    }

    #[test]
    fn sums_of_many_small_costs_do_not_drift() {
        let price = dec("0.075");
        let total: Usd = (0..100_000).map(|_| Usd::for_tokens(1, price)).sum();
        assert_eq!(total, Usd::for_tokens(100_000, price));
        assert_eq!(total.exact(), "0.0075");
    }

    #[test]
    fn display_rounds_only_for_people() {
        let value = Usd(dec("2.345"));
        assert_eq!(value.cents(), "2.35");
        assert_eq!(value.exact(), "2.345");
        assert_eq!(Usd(dec("3")).exact(), "3.00");
        assert_eq!(Usd::parse("$10.5"), Some(Usd(dec("10.5"))));
        assert_eq!(Usd::parse("-1"), None);
    }

    #[test]
    fn the_shipped_table_loads_and_prices_every_known_family() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/pricing.toml");
        let table = PricingTable::load(&path).unwrap();
        let gpt4o = table.for_model("gpt-4o").unwrap();
        assert_eq!(gpt4o.batch.input, dec("1.25"));
        assert_eq!(gpt4o.batch.output, dec("5.00"));
        assert!(gpt4o.batch_cached_price_assumed());
        let gpt5 = table.for_model("gpt-5").unwrap();
        assert_eq!(gpt5.batch.cached_input, Some(dec("0.0625")));
        for model in table.models.keys() {
            crate::plan::family_of(model).unwrap();
        }
    }

    #[test]
    fn bad_tables_name_the_model_and_field() {
        let path = Path::new("pricing.toml");
        let text = "currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models.gpt-4o]\nchecked = \"last year\"\nstandard = { input = \"1\", output = \"2\" }\nbatch = { input = \"1\", output = \"2\" }\n";
        let error = PricingTable::parse(text, path).unwrap_err().to_string();
        assert!(error.contains("model `gpt-4o`: field `checked`"), "{error}");
        let error = PricingTable::parse("currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models.x]\nchecked = \"2025-07\"\nstandard = { input = \"1\" }\n", path)
            .unwrap_err()
            .to_string();
        assert!(error.contains("output"), "{error}");
        let table = PricingTable::parse(
            "currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models]\n",
            path,
        )
        .unwrap();
        let error = table.for_model("gpt-4o").unwrap_err().to_string();
        assert!(error.starts_with("no price for model `gpt-4o`"), "{error}");
    }
}
