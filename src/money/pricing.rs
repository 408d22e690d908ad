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
    /// `YYYY-MM` or `YYYY-MM-DD`: when these prices were checked against `source_url`.
    pub checked: String,
    /// The page these prices were read from (`http://` or `https://`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_url: String,
    /// Dated snapshots that cost what this row costs (`gpt-4o-2024-08-06` under `gpt-4o`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<String>,
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
    #[error("`{model}` is a snapshot of `{family}` with no price of its own in `{path}`: snapshots do not always cost what their family costs\nhint: priced snapshots of `{family}`: {snapshots}; add a row for `{model}` (or list it under `snapshots` of the row whose prices it has)")]
    UnknownSnapshot {
        path: PathBuf,
        model: String,
        family: String,
        snapshots: String,
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
            let url = &pricing.source_url;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(format!(
                    "field `source_url`: `{url}` is not the URL of the page the prices come from"
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

    /// The prices of `model`, whose family (see [`crate::plan::family_of`]) is
    /// `family`: its own row, or the row listing it under `snapshots`. A dated snapshot
    /// that no row names is an error naming the family's priced snapshots, never priced
    /// as its family.
    pub fn for_model(&self, model: &str, family: &str) -> Result<PricedModel<'_>, PricingError> {
        let found = self.models.get_key_value(model).or_else(|| {
            self.models
                .iter()
                .find(|(_, pricing)| pricing.snapshots.iter().any(|s| s == model))
        });
        if let Some((row, prices)) = found {
            return Ok(PricedModel { row, prices });
        }
        let path = PathBuf::from(&self.source);
        let snapshots = self.snapshots_of(family);
        if model != family && !snapshots.is_empty() {
            return Err(PricingError::UnknownSnapshot {
                path,
                model: model.to_string(),
                family: family.to_string(),
                snapshots: snapshots.join(", "),
            });
        }
        Err(PricingError::Unpriced {
            path,
            model: model.to_string(),
            priced: self.models.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// Every priced name of `family`: its row, the snapshots it lists and the dated
    /// snapshots with rows of their own, sorted.
    fn snapshots_of(&self, family: &str) -> Vec<String> {
        let own_rows = self.models.keys().filter(|key| {
            key.strip_prefix(family)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        });
        let mut names: Vec<String> = own_rows.cloned().collect();
        if let Some(row) = self.models.get(family) {
            names.push(family.to_string());
            names.extend(row.snapshots.iter().cloned());
        }
        names.sort();
        names
    }
}

/// A model's prices and the row of the table they come from.
#[derive(Debug, Clone, Copy)]
pub struct PricedModel<'a> {
    /// The row's name: the family (`gpt-4o`) or a snapshot (`gpt-4o-2024-05-13`).
    pub row: &'a str,
    pub prices: &'a ModelPricing,
}

/// `YYYY-MM-DD`, or `YYYY-MM` where only the month is known.
fn is_checked_date(text: &str) -> bool {
    let full = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    let month = chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok()
        && text.len() == 7;
    full || month
}

#[cfg(test)]
mod tests;
