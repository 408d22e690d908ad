//! The plan-level cost estimate (worst case and expected, Batch and standard prices) of
//! both stages — generation, then verification at the verifier's own prices — and the
//! budget guard over both. Pure: token totals and prices in, exact dollars out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::custom_id::RequestKind;
use super::output::OutputModel;
use super::request::{PlannedRequest, RequestCost};
use crate::money::{ModelPricing, TierPrices, TokenUse, Usd};

/// Token totals of one kind of request (or of all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTotals {
    pub requests: u64,
    pub prompt_tokens: u64,
    pub expected_cached_tokens: u64,
    pub expected_output_tokens: u64,
    pub worst_output_tokens: u64,
    /// Tokens of the user messages' content (notes and instructions), for calibration.
    #[serde(default)]
    pub content_tokens: u64,
}

impl TokenTotals {
    pub fn add(&mut self, request: &PlannedRequest) {
        self.add_cost(&request.cost());
    }

    pub fn add_cost(&mut self, cost: &RequestCost) {
        self.merge(&TokenTotals {
            requests: 1,
            prompt_tokens: cost.prompt_tokens,
            expected_cached_tokens: cost.expected_cached_tokens,
            expected_output_tokens: cost.expected_output_tokens,
            worst_output_tokens: cost.max_output_tokens,
            content_tokens: cost.content_tokens,
        });
    }

    pub fn merge(&mut self, other: &TokenTotals) {
        self.requests += other.requests;
        self.prompt_tokens += other.prompt_tokens;
        self.expected_cached_tokens += other.expected_cached_tokens;
        self.expected_output_tokens += other.expected_output_tokens;
        self.worst_output_tokens += other.worst_output_tokens;
        self.content_tokens += other.content_tokens;
    }

    /// The expected use: cached tokens as forecast.
    pub fn expected_use(&self) -> TokenUse {
        TokenUse {
            prompt_tokens: self.prompt_tokens,
            cached_tokens: self.expected_cached_tokens,
            output_tokens: self.expected_output_tokens,
        }
    }

    /// The worst case: nothing cached, every cap spent.
    pub fn worst_use(&self) -> TokenUse {
        TokenUse {
            prompt_tokens: self.prompt_tokens,
            cached_tokens: 0,
            output_tokens: self.worst_output_tokens,
        }
    }
}

/// Dollars of one scenario at one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scenarios {
    pub expected: Usd,
    pub worst: Usd,
}

impl Scenarios {
    fn price(totals: &TokenTotals, prices: &TierPrices) -> Scenarios {
        Scenarios {
            expected: prices.cost(totals.expected_use()),
            worst: prices.cost(totals.worst_use()),
        }
    }
}

/// Tokens and dollars of one kind of request, or of the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub tokens: TokenTotals,
    /// At Batch prices: what the run costs.
    pub batch: Scenarios,
    /// At standard prices: what the same requests would cost without the Batch API.
    pub standard: Scenarios,
}

impl Line {
    pub fn price(tokens: TokenTotals, pricing: &ModelPricing) -> Line {
        Line {
            tokens,
            batch: Scenarios::price(&tokens, &pricing.batch),
            standard: Scenarios::price(&tokens, &pricing.standard),
        }
    }
}

/// The estimate of a run: per kind and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    pub model: String,
    pub pricing_checked: String,
    /// Batch cached input has no published price: cached tokens priced as uncached.
    pub batch_cached_price_assumed: bool,
    pub output_model: OutputModel,
    pub pairs: u64,
    pub kinds: BTreeMap<RequestKind, Line>,
    /// Stage 1 (generation) alone: what `kinds` adds up to.
    pub total: Line,
    /// Stage 2, priced up front (issue 9); absent with `--no-verify` and in plans made
    /// before verification existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyEstimate>,
}

/// The verify stage, priced before any paraphrase exists: the worst case verifies every
/// pair's paraphrase, each at the paraphrase's output cap, the verifier spending its own
/// cap; the expected case verifies every pair's paraphrase at its expected length with
/// the verifier's expected answer. Both at the verifier model's prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyEstimate {
    pub model: String,
    pub encoding: super::model::Encoding,
    pub pricing_checked: String,
    pub batch_cached_price_assumed: bool,
    /// Tokens of the worst case (its `prompt_tokens` hold paraphrases at their cap).
    pub worst_tokens: TokenTotals,
    /// Tokens of the expected case (paraphrases at their expected length).
    pub expected_tokens: TokenTotals,
    pub batch: Scenarios,
    pub standard: Scenarios,
}

impl VerifyEstimate {
    /// Prices the two token totals at the verifier's prices.
    pub fn new(
        model: &str,
        encoding: super::model::Encoding,
        pricing: &ModelPricing,
        worst_tokens: TokenTotals,
        expected_tokens: TokenTotals,
    ) -> VerifyEstimate {
        let scenarios = |prices: &TierPrices| Scenarios {
            expected: prices.cost(expected_tokens.expected_use()),
            worst: prices.cost(worst_tokens.worst_use()),
        };
        VerifyEstimate {
            model: model.to_string(),
            encoding,
            pricing_checked: pricing.checked.clone(),
            batch_cached_price_assumed: pricing.batch_cached_price_assumed(),
            worst_tokens,
            expected_tokens,
            batch: scenarios(&pricing.batch),
            standard: scenarios(&pricing.standard),
        }
    }
}

impl Estimate {
    /// Prices per-kind token totals. The total is priced from the summed tokens, which
    /// equals the sum of the per-kind dollars exactly (prices are linear, sums exact).
    pub fn new(
        model: &str,
        pricing: &ModelPricing,
        output_model: &OutputModel,
        pairs: u64,
        totals: &BTreeMap<RequestKind, TokenTotals>,
    ) -> Estimate {
        let mut all = TokenTotals::default();
        let kinds = totals
            .iter()
            .map(|(&kind, tokens)| {
                all.merge(tokens);
                (kind, Line::price(*tokens, pricing))
            })
            .collect();
        Estimate {
            model: model.to_string(),
            pricing_checked: pricing.checked.clone(),
            batch_cached_price_assumed: pricing.batch_cached_price_assumed(),
            output_model: output_model.clone(),
            pairs,
            kinds,
            total: Line::price(all, pricing),
            verify: None,
        }
    }

    /// Both stages at Batch prices: stage 1 plus the verify stage, if planned.
    pub fn batch_all(&self) -> Scenarios {
        let verify = self.verify.as_ref().map(|v| v.batch).unwrap_or_default();
        Scenarios {
            expected: self.total.batch.expected + verify.expected,
            worst: self.total.batch.worst + verify.worst,
        }
    }

    /// Both stages at standard prices.
    pub fn standard_all(&self) -> Scenarios {
        let verify = self.verify.as_ref().map(|v| v.standard).unwrap_or_default();
        Scenarios {
            expected: self.total.standard.expected + verify.expected,
            worst: self.total.standard.worst + verify.worst,
        }
    }

    /// What the Batch API saves against standard prices, expected case, both stages.
    pub fn batch_saving(&self) -> Usd {
        self.standard_all()
            .expected
            .saturating_sub(self.batch_all().expected)
    }

    /// `Err(over)` when the worst case of both stages exceeds the budget, with the
    /// amount over.
    pub fn check_budget(&self, budget: Usd) -> Result<(), Usd> {
        let worst = self.batch_all().worst;
        if worst > budget {
            Err(Usd(worst.0 - budget.0))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn pricing() -> ModelPricing {
        let dec = |s: &str| Decimal::from_str_exact(s).unwrap();
        ModelPricing {
            checked: "2025-07".into(),
            source_url: "https://platform.openai.com/docs/pricing".into(),
            snapshots: Vec::new(),
            standard: TierPrices {
                input: dec("2.50"),
                cached_input: Some(dec("1.25")),
                output: dec("10.00"),
            },
            batch: TierPrices {
                input: dec("1.25"),
                cached_input: None,
                output: dec("5.00"),
            },
            note: None,
        }
    }

    fn totals(prompt: u64, expected: u64, worst: u64) -> TokenTotals {
        TokenTotals {
            requests: 10,
            prompt_tokens: prompt,
            expected_cached_tokens: 0,
            expected_output_tokens: expected,
            worst_output_tokens: worst,
            content_tokens: prompt / 2,
        }
    }

    #[test]
    fn expected_output_follows_the_model_and_stays_under_the_cap() {
        let model = OutputModel::default();
        assert_eq!(
            model.expected_output_tokens(RequestKind::Paraphrase, 200, 1024, false),
            210
        );
        assert_eq!(
            model.expected_output_tokens(RequestKind::Paraphrase, 201, 1024, false),
            212
        );
        assert_eq!(
            model.expected_output_tokens(RequestKind::Reasoning, 5000, 1024, false),
            350
        );
        assert_eq!(
            model.expected_output_tokens(RequestKind::Reasoning, 1, 1024, true),
            700
        );
        assert_eq!(
            model.expected_output_tokens(RequestKind::Paraphrase, 2000, 1024, false),
            1024
        );
    }

    #[test]
    fn estimate_prices_both_scenarios_and_both_tiers_exactly() {
        let mut by_kind = BTreeMap::new();
        by_kind.insert(RequestKind::Paraphrase, totals(100_000, 50_000, 200_000));
        by_kind.insert(RequestKind::Reasoning, totals(150_000, 20_000, 100_000));
        let estimate = Estimate::new("gpt-4o", &pricing(), &OutputModel::default(), 10, &by_kind);
        // Batch worst: 250k × 1.25 + 300k × 5 per 1M = 0.3125 + 1.5
        assert_eq!(estimate.total.batch.worst.exact(), "1.8125");
        // Batch expected: 0.3125 + 70k × 5 / 1M = 0.3125 + 0.35
        assert_eq!(estimate.total.batch.expected.exact(), "0.6625");
        assert_eq!(estimate.total.standard.expected.exact(), "1.325");
        assert_eq!(estimate.batch_saving().exact(), "0.6625");
        let sum: Usd = estimate.kinds.values().map(|l| l.batch.worst).sum();
        assert_eq!(sum, estimate.total.batch.worst);
        assert!(estimate.batch_cached_price_assumed);
    }

    #[test]
    fn budget_guard_uses_the_worst_case() {
        let mut by_kind = BTreeMap::new();
        by_kind.insert(RequestKind::Paraphrase, totals(100_000, 50_000, 200_000));
        let estimate = Estimate::new("gpt-4o", &pricing(), &OutputModel::default(), 10, &by_kind);
        // worst = 0.125 + 1.0 = 1.125; expected = 0.375
        assert_eq!(estimate.check_budget(Usd::parse("1.125").unwrap()), Ok(()));
        assert_eq!(
            estimate.check_budget(Usd::parse("1").unwrap()),
            Err(Usd::parse("0.125").unwrap())
        );
    }

    #[test]
    fn the_budget_guard_covers_the_verify_stage_at_the_verifiers_prices() {
        let mut by_kind = BTreeMap::new();
        by_kind.insert(RequestKind::Paraphrase, totals(100_000, 50_000, 200_000));
        let mut estimate =
            Estimate::new("gpt-4o", &pricing(), &OutputModel::default(), 10, &by_kind);
        let dec = |s: &str| Decimal::from_str_exact(s).unwrap();
        let mini = ModelPricing {
            standard: TierPrices {
                input: dec("0.15"),
                cached_input: Some(dec("0.075")),
                output: dec("0.60"),
            },
            batch: TierPrices {
                input: dec("0.075"),
                cached_input: None,
                output: dec("0.30"),
            },
            ..pricing()
        };
        // worst: 400k prompt × 0.075 + 100k output × 0.30 per 1M = 0.03 + 0.03
        // expected: 300k × 0.075 + 4k × 0.30 per 1M = 0.0225 + 0.0012
        let worst = totals(400_000, 0, 100_000);
        let expected = totals(300_000, 4_000, 100_000);
        estimate.verify = Some(VerifyEstimate::new(
            "gpt-4o-mini",
            super::super::model::Encoding::O200kBase,
            &mini,
            worst,
            expected,
        ));
        let verify = estimate.verify.as_ref().unwrap();
        assert_eq!(verify.batch.worst.exact(), "0.06");
        assert_eq!(verify.batch.expected.exact(), "0.0237");
        // stage 1 worst 1.125 + stage 2 worst 0.06
        assert_eq!(estimate.batch_all().worst.exact(), "1.185");
        assert_eq!(
            estimate.check_budget(Usd::parse("1.125").unwrap()),
            Err(Usd::parse("0.06").unwrap())
        );
        assert_eq!(estimate.check_budget(Usd::parse("1.185").unwrap()), Ok(()));
    }
}
