//! Cost per kept pair: the share of planned pairs that earlier runs of a model and prompt
//! config kept (from the ledger, or a stated default), the pairs to plan for a number of
//! kept pairs, and the dollars each kept pair is expected to cost. Pure, exact.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::family_of;
use crate::money::Usd;

/// The kept rate assumed when no run of the model and prompt config is in the ledger.
pub const DEFAULT_KEPT_PERCENT: u64 = 50;

/// What one reconciled run kept, for the kept rate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptSample {
    pub model: String,
    /// sha256 of the prompt config the run used (empty in older ledger rows).
    pub prompt_sha256: String,
    pub pairs_planned: u64,
    pub pairs_kept: u64,
}

/// The share of planned pairs expected to be kept, as a ratio of whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptRate {
    pub pairs_kept: u64,
    pub pairs_planned: u64,
    /// Where the rate comes from: the ledger runs, or the default.
    pub source: String,
}

impl KeptRate {
    /// The stated default, [`DEFAULT_KEPT_PERCENT`] %.
    pub fn default_rate() -> KeptRate {
        KeptRate {
            pairs_kept: DEFAULT_KEPT_PERCENT,
            pairs_planned: 100,
            source: format!(
                "default {DEFAULT_KEPT_PERCENT} %: no run of this model and prompt config in the ledger"
            ),
        }
    }

    /// The rate observed over the ledger's runs of `model`'s family with the prompt
    /// config `prompt_sha256`, or the default when there are none.
    pub fn observed(model: &str, prompt_sha256: &str, samples: &[KeptSample]) -> KeptRate {
        let Ok(family) = family_of(model) else {
            return KeptRate::default_rate();
        };
        let runs: Vec<&KeptSample> = samples
            .iter()
            .filter(|s| s.prompt_sha256 == prompt_sha256 && s.pairs_planned > 0)
            .filter(|s| family_of(&s.model).is_ok_and(|f| f.name == family.name))
            .collect();
        let kept: u64 = runs.iter().map(|s| s.pairs_kept).sum();
        let planned: u64 = runs.iter().map(|s| s.pairs_planned).sum();
        if runs.is_empty() || kept == 0 {
            return KeptRate::default_rate();
        }
        KeptRate {
            pairs_kept: kept,
            pairs_planned: planned,
            source: format!(
                "ledger: {kept} of {planned} pairs kept in {} run{} of {} with this prompt config",
                runs.len(),
                if runs.len() == 1 { "" } else { "s" },
                family.name
            ),
        }
    }

    /// The rate in percent, to one decimal (for people).
    pub fn percent(&self) -> Decimal {
        if self.pairs_planned == 0 {
            return Decimal::ZERO;
        }
        (Decimal::from(self.pairs_kept) * Decimal::from(100) / Decimal::from(self.pairs_planned))
            .round_dp(1)
    }

    /// Pairs expected to be kept out of `pairs` planned (rounded down: a forecast that
    /// does not promise a pair it may not get).
    pub fn expected_kept(&self, pairs: u64) -> u64 {
        if self.pairs_planned == 0 {
            return 0;
        }
        let kept = u128::from(pairs) * u128::from(self.pairs_kept) / u128::from(self.pairs_planned);
        u64::try_from(kept).unwrap_or(u64::MAX)
    }

    /// The fewest pairs to plan so that `target` kept pairs are expected, rounded up
    /// (`None` when nothing is ever kept).
    pub fn pairs_for(&self, target: u64) -> Option<u64> {
        (self.pairs_kept > 0).then(|| {
            let pairs = (u128::from(target) * u128::from(self.pairs_planned))
                .div_ceil(u128::from(self.pairs_kept));
            u64::try_from(pairs).unwrap_or(u64::MAX)
        })
    }

    /// Dollars per kept pair when `pairs` planned pairs cost `usd`: `usd` over the kept
    /// pairs expected of them, exact to 1e-10 dollars (`None` when none is expected).
    pub fn usd_per_kept_pair(&self, usd: Usd, pairs: u64) -> Option<Usd> {
        let expected_kept = Decimal::from(pairs) * Decimal::from(self.pairs_kept)
            / Decimal::from(self.pairs_planned.max(1));
        (!expected_kept.is_zero()).then(|| Usd((usd.0 / expected_kept).round_dp(10)))
    }
}

/// What `--target-kept N` decided: the pairs to plan and what they are expected to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetKept {
    pub target_kept_pairs: u64,
    /// Pairs needed at the kept rate.
    pub pairs_needed: u64,
    /// Pairs planned: those needed, or every pair the input holds when fewer.
    pub pairs_planned: u64,
    pub expected_kept_pairs: u64,
    pub kept_rate: KeptRate,
}

impl TargetKept {
    /// The plan for `target` kept pairs at `rate` from an input of `available` pairs.
    pub fn new(target: u64, rate: KeptRate, available: u64) -> TargetKept {
        let needed = rate.pairs_for(target).unwrap_or(u64::MAX);
        let planned = needed.min(available);
        TargetKept {
            target_kept_pairs: target,
            pairs_needed: needed,
            pairs_planned: planned,
            expected_kept_pairs: rate.expected_kept(planned),
            kept_rate: rate,
        }
    }

    /// The sentence that says what was planned and why.
    pub fn sentence(&self) -> String {
        let rate = format!(
            "at a kept rate of {} % ({})",
            self.kept_rate.percent(),
            self.kept_rate.source
        );
        if self.pairs_planned < self.pairs_needed {
            format!(
                "--target-kept {}: {} pairs are needed {rate}, but the input holds {}: all of them are planned, expecting {} kept pairs, {} short",
                self.target_kept_pairs,
                self.pairs_needed,
                self.pairs_planned,
                self.expected_kept_pairs,
                self.target_kept_pairs.saturating_sub(self.expected_kept_pairs)
            )
        } else {
            format!(
                "--target-kept {}: {} pairs planned {rate}, expecting {} kept pairs",
                self.target_kept_pairs, self.pairs_planned, self.expected_kept_pairs
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(model: &str, prompt: &str, planned: u64, kept: u64) -> KeptSample {
        KeptSample {
            model: model.into(),
            prompt_sha256: prompt.into(),
            pairs_planned: planned,
            pairs_kept: kept,
        }
    }

    #[test]
    fn the_rate_comes_from_runs_of_the_same_family_and_prompt() {
        let runs = [
            run("gpt-4o", "p1", 319, 183),
            run("gpt-4o-2024-08-06", "p1", 100, 60),
            run("gpt-4o", "p2", 100, 10),
            run("gpt-4o-mini", "p1", 100, 90),
        ];
        let rate = KeptRate::observed("gpt-4o", "p1", &runs);
        assert_eq!((rate.pairs_kept, rate.pairs_planned), (243, 419));
        assert!(rate.source.contains("2 runs of gpt-4o"), "{}", rate.source);
        assert_eq!(rate.percent().to_string(), "58.0");
        let default = KeptRate::observed("gpt-4.1", "p1", &runs);
        assert_eq!(default, KeptRate::default_rate());
        assert!(default.source.starts_with("default 50 %"));
    }

    #[test]
    fn target_kept_arithmetic() {
        // 183 of 319 kept: 5,000 kept pairs need ⌈5000 × 319 / 183⌉ = 8,716 pairs, which
        // are expected to keep ⌊8716 × 183 / 319⌋ = 5,000.
        let rate = KeptRate {
            pairs_kept: 183,
            pairs_planned: 319,
            source: "ledger".into(),
        };
        assert_eq!(rate.pairs_for(5000), Some(8716));
        assert_eq!(rate.expected_kept(8716), 5000);
        assert_eq!(rate.expected_kept(8715), 4999, "one pair fewer falls short");
        let plan = TargetKept::new(5000, rate.clone(), 20_000);
        assert_eq!((plan.pairs_planned, plan.expected_kept_pairs), (8716, 5000));
        assert!(
            plan.sentence().contains("8716 pairs planned"),
            "{}",
            plan.sentence()
        );
        // Within the input: 319 pairs available keep 183.
        let short = TargetKept::new(5000, rate.clone(), 319);
        assert_eq!((short.pairs_planned, short.expected_kept_pairs), (319, 183));
        assert!(
            short.sentence().contains("4817 short"),
            "{}",
            short.sentence()
        );
        // The run: $1.1529 for 183 kept pairs of 319 is $0.0063 each.
        let usd = Usd::parse("1.1529").unwrap();
        assert_eq!(
            rate.usd_per_kept_pair(usd, 319).unwrap(),
            Usd::parse("0.0063").unwrap()
        );
        let nothing = KeptRate {
            pairs_kept: 0,
            pairs_planned: 10,
            source: String::new(),
        };
        assert_eq!(nothing.pairs_for(1), None);
        assert_eq!(nothing.usd_per_kept_pair(usd, 10), None);
    }
}
