//! The cost per dataset size and model: exact token counts of the first N real pairs,
//! scaled up at their mean per pair for sizes beyond the pairs at hand; both stages
//! (the verify stage at the verifier's prices) when verification is on.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::custom_id::RequestKind;
use super::estimate::{Estimate, TokenTotals, VerifyEstimate};
use super::kept::KeptRate;
use super::model::family_of;
use super::output::OutputModel;
use super::prompts::LoadedPrompts;
use super::request::{RequestBuilder, RequestCost};
use super::verify::{VerifyBuilder, VerifySettings};
use super::{pipeline, PlanError};
use crate::medec::{ImportSummary, Pair, ReadOptions};
use crate::money::{ModelPricing, Usd};

/// Token totals of `measured` pairs scaled to `size` pairs (rounded up): the estimate
/// for a dataset larger than the pairs at hand, at their mean per pair.
pub fn scale_totals(totals: &TokenTotals, measured: u64, size: u64) -> TokenTotals {
    let scale = |value: u64| -> u64 {
        if measured == 0 {
            return 0;
        }
        let scaled = (u128::from(value) * u128::from(size)).div_ceil(u128::from(measured));
        u64::try_from(scaled).unwrap_or(u64::MAX)
    };
    TokenTotals {
        requests: scale(totals.requests),
        prompt_tokens: scale(totals.prompt_tokens),
        expected_cached_tokens: scale(totals.expected_cached_tokens),
        expected_output_tokens: scale(totals.expected_output_tokens),
        worst_output_tokens: scale(totals.worst_output_tokens),
        content_tokens: scale(totals.content_tokens),
    }
}

/// One row of the cost-per-dataset-size table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeEstimate {
    pub size: u64,
    pub model: String,
    /// Pairs whose tokens were counted: `size`, or every pair available when fewer.
    pub measured_pairs: u64,
    /// True when `size` exceeds the pairs available and totals were scaled up.
    pub extrapolated: bool,
    pub estimate: Estimate,
    /// The kept rate assumed for this model, once known (see [`SizeEstimate::keep`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_rate: Option<KeptRate>,
    /// Pairs expected to be kept at that rate.
    #[serde(default)]
    pub expected_kept_pairs: u64,
    /// Batch expected dollars per kept pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_usd_per_kept_pair: Option<Usd>,
    /// Set on the row of the size planned for `--target-kept N`: N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_kept: Option<u64>,
}

impl SizeEstimate {
    /// Adds what `rate` expects this size to keep, and the cost per kept pair.
    pub fn keep(&mut self, rate: &KeptRate) {
        self.expected_kept_pairs = rate.expected_kept(self.size);
        self.expected_usd_per_kept_pair =
            rate.usd_per_kept_pair(self.estimate.batch_all().expected, self.size);
        self.kept_rate = Some(rate.clone());
    }

    /// Batch expected dollars per pair, both stages (rounded to 1e-10 dollars, for
    /// display).
    pub fn expected_per_pair(&self) -> Usd {
        if self.size == 0 {
            return Usd::ZERO;
        }
        Usd(
            (self.estimate.batch_all().expected.0 / rust_decimal::Decimal::from(self.size))
                .round_dp(10),
        )
    }
}

/// A model to estimate, with its prices and expected output (calibrated per model).
pub struct SizeModel<'a> {
    pub model: &'a str,
    pub pricing: &'a ModelPricing,
    pub output_model: OutputModel,
    /// The verify stage priced beside this model's requests, when verification is on.
    pub verify: Option<&'a VerifySettings>,
}

/// The verify stage's (worst, expected) token totals.
type VerifyTotals = (TokenTotals, TokenTotals);

/// Token totals of one model as pairs are counted, kept at each size asked for.
struct SizeCounter<'a> {
    model: &'a SizeModel<'a>,
    counted: u64,
    totals: BTreeMap<RequestKind, TokenTotals>,
    verify_totals: VerifyTotals,
    at_size: BTreeMap<u64, (BTreeMap<RequestKind, TokenTotals>, VerifyTotals)>,
}

/// What one pair costs a model: its requests and, with verification, its verify request.
type PairCosts = (Vec<RequestCost>, Option<(RequestCost, RequestCost)>);

/// Builds and prices one model's requests (and verify requests).
struct SizeBuilder<'a> {
    requests: RequestBuilder<'a>,
    verify: Option<VerifyBuilder<'a>>,
}

impl SizeBuilder<'_> {
    fn costs(&self, pair: &Pair, first: bool) -> PairCosts {
        let costs = self.requests.costs(pair, first);
        let verify = self.verify.as_ref().map(|verify| {
            let paraphrase = costs
                .iter()
                .find(|c| c.kind == RequestKind::Paraphrase)
                .map_or(0, |c| c.expected_output_tokens);
            verify.planned_costs(pair, paraphrase, first)
        });
        (costs, verify)
    }
}

impl<'a> SizeCounter<'a> {
    /// The counter and the request builder of `model`.
    fn new(
        prompts: &'a LoadedPrompts,
        model: &'a SizeModel<'a>,
        reasoning: bool,
    ) -> Result<(SizeCounter<'a>, SizeBuilder<'a>), PlanError> {
        let family = family_of(model.model)?;
        let requests = RequestBuilder::new(
            prompts,
            model.model,
            family,
            model.output_model.clone(),
            reasoning,
        );
        let verify = model
            .verify
            .map(|settings| VerifyBuilder::new(settings, model.output_model.clone()))
            .transpose()?;
        let counter = SizeCounter {
            model,
            counted: 0,
            verify_totals: VerifyTotals::default(),
            totals: requests
                .kinds()
                .iter()
                .map(|&k| (k, TokenTotals::default()))
                .collect(),
            at_size: BTreeMap::new(),
        };
        Ok((counter, SizeBuilder { requests, verify }))
    }

    /// Adds the next pair's request costs; keeps the totals when a size is reached.
    fn add(&mut self, (costs, verify): &PairCosts, sizes: &[u64]) {
        for cost in costs {
            self.totals.entry(cost.kind).or_default().add_cost(cost);
        }
        if let Some((worst, expected)) = verify {
            self.verify_totals.0.add_cost(worst);
            self.verify_totals.1.add_cost(expected);
        }
        self.counted += 1;
        if sizes.contains(&self.counted) {
            self.at_size
                .insert(self.counted, (self.totals.clone(), self.verify_totals));
        }
    }

    /// The rows of every size, once `available` pairs were seen in all.
    fn finish(self, available: u64, sizes: &[u64]) -> Vec<SizeEstimate> {
        let SizeModel {
            model,
            pricing,
            ref output_model,
            verify,
        } = *self.model;
        sizes
            .iter()
            .map(|&size| {
                let (measured, kinds, verify_totals) = match self.at_size.get(&size) {
                    Some((kinds, verify_totals)) => (size, kinds.clone(), *verify_totals),
                    None => (
                        available,
                        self.totals
                            .iter()
                            .map(|(&k, t)| (k, scale_totals(t, available, size)))
                            .collect(),
                        (
                            scale_totals(&self.verify_totals.0, available, size),
                            scale_totals(&self.verify_totals.1, available, size),
                        ),
                    ),
                };
                let mut estimate = Estimate::new(model, pricing, output_model, size, &kinds);
                estimate.verify = verify.map(|settings| {
                    VerifyEstimate::new(
                        &settings.model,
                        settings.encoding,
                        &settings.pricing.prices,
                        verify_totals.0,
                        verify_totals.1,
                    )
                });
                SizeEstimate {
                    size,
                    model: model.to_string(),
                    measured_pairs: measured,
                    extrapolated: size > available,
                    estimate,
                    kept_rate: None,
                    expected_kept_pairs: 0,
                    expected_usd_per_kept_pair: None,
                    target_kept: None,
                }
            })
            .collect()
    }
}

/// Cost estimates of `sizes` pairs for one model, from the per-kind token totals of the
/// first pairs of `pairs` (all of them, scaled, for sizes beyond them).
pub fn size_estimates(
    pairs: &[Pair],
    prompts: &LoadedPrompts,
    model_pricing: &ModelPricing,
    model: &str,
    reasoning: bool,
    sizes: &[u64],
    output_model: &OutputModel,
) -> Result<Vec<SizeEstimate>, PlanError> {
    let size_model = SizeModel {
        model,
        pricing: model_pricing,
        output_model: output_model.clone(),
        verify: None,
    };
    let (mut counter, builder) = SizeCounter::new(prompts, &size_model, reasoning)?;
    let largest = sizes.iter().copied().max().unwrap_or(0);
    for pair in pairs
        .iter()
        .take(usize::try_from(largest).unwrap_or(usize::MAX))
    {
        counter.add(&builder.costs(pair, counter.counted == 0), sizes);
    }
    Ok(counter.finish(pairs.len() as u64, sizes))
}

/// [`size_estimates`] for every one of `models` (rows in their order), in one streaming
/// pass over `input` counted on `jobs` threads: no request line is built and memory
/// stays flat whatever the input's size. Also gives what the import saw.
pub fn size_estimates_streamed(
    input: &Path,
    options: ReadOptions,
    jobs: Option<usize>,
    prompts: &LoadedPrompts,
    models: &[SizeModel<'_>],
    reasoning: bool,
    sizes: &[u64],
) -> Result<(Vec<SizeEstimate>, ImportSummary), PlanError> {
    let (mut counters, builders): (Vec<_>, Vec<_>) = models
        .iter()
        .map(|model| SizeCounter::new(prompts, model, reasoning))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .unzip();
    let pool = pipeline::thread_pool(jobs)?;
    let read = pipeline::map_pairs_in_order(
        input,
        options,
        sizes.iter().copied().max().unwrap_or(0),
        &pool,
        |index, pair| {
            builders
                .iter()
                .map(|builder| builder.costs(pair, index == 0))
                .collect::<Vec<_>>()
        },
        |costs| {
            for (counter, costs) in counters.iter_mut().zip(&costs) {
                counter.add(costs, sizes);
            }
            Ok(())
        },
    )?;
    let rows = counters
        .into_iter()
        .flat_map(|counter| counter.finish(read.summary.pairs, sizes))
        .collect();
    Ok((rows, read.summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_rounds_up_and_keeps_exact_multiples() {
        let measured = TokenTotals {
            requests: 10,
            prompt_tokens: 1000,
            expected_cached_tokens: 0,
            expected_output_tokens: 333,
            worst_output_tokens: 2000,
            content_tokens: 500,
        };
        let scaled = scale_totals(&measured, 10, 30);
        assert_eq!(scaled.prompt_tokens, 3000);
        assert_eq!(scaled.expected_output_tokens, 999);
        assert_eq!(scaled.requests, 30);
        assert_eq!(scale_totals(&measured, 3, 10).expected_output_tokens, 1110);
        assert_eq!(scale_totals(&measured, 3, 10).prompt_tokens, 3334);
    }

    #[test]
    fn sizes_within_the_pairs_are_counted_and_beyond_them_scaled() {
        let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let prompts = LoadedPrompts::load(
            &project.join("configs/prompts/gpt4o_medec_safe_augmentation.json"),
        )
        .unwrap();
        let pricing =
            crate::money::PricingTable::load(&project.join("configs/pricing.toml")).unwrap();
        let pair = |id: &str, note: &str| Pair {
            note_id: id.into(),
            correct_note: note.into(),
            incorrect_note: format!("{note} Not."),
            error_type: crate::medec::ErrorType::Diagnosis,
            error_sentence: None,
            corrected_sentence: None,
        };
        let pairs = [
            pair("a", "Short note."),
            pair("b", "A somewhat longer clinical note about a patient."),
        ];
        let rows = size_estimates(
            &pairs,
            &prompts,
            pricing.for_model("gpt-4o", "gpt-4o").unwrap().prices,
            "gpt-4o",
            false,
            &[1, 2, 4],
            &OutputModel::default(),
        )
        .unwrap();
        let prompt = |i: usize| {
            rows[i].estimate.kinds[&RequestKind::Paraphrase]
                .tokens
                .prompt_tokens
        };
        assert_eq!((rows[0].measured_pairs, rows[0].extrapolated), (1, false));
        assert!(prompt(1) > 2 * prompt(0), "the second note is longer");
        assert_eq!((rows[2].measured_pairs, rows[2].extrapolated), (2, true));
        assert_eq!(prompt(2), 2 * prompt(1), "4 pairs = twice the 2 measured");
    }
}
