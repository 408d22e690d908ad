//! The cost report of a run: actual tokens and dollars from every answer's `usage`, at
//! the Batch prices the run was planned with, beside the plan's two estimates. Like is
//! compared with like: first attempts with the plan, retries on their own line with an
//! estimate of their own (issue 11). Each kind is priced at its own model's Batch prices
//! (verify requests at the verifier's), and each stage has its own line (issue 9).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{ModelPricing, Usd};
use crate::plan::{RequestKind, Stage};
use crate::reconcile::{Accounting, LineProblems, Reconciled, Usage};
use crate::store::Manifest;

/// Answers of one kind of attempt (first or retry), with what was expected of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttemptCost {
    /// Requests sent (answered or not).
    pub requests: u64,
    /// Answers billed.
    pub answers: u64,
    pub usage: Usage,
    pub actual_usd: Usd,
    /// First attempts: the plan's expected cost. Retries: the plan's mean expected cost
    /// per request of the kind, times the requests resent.
    pub estimated_expected_usd: Usd,
    /// (actual − expected) / expected, in percent, to one decimal.
    pub expected_error_percent: Option<Decimal>,
}

/// Tokens and dollars of one kind of request (or all), actual beside estimated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// Answers billed (every attempt that came back with a usage).
    pub answers: u64,
    pub usage: Usage,
    /// Every attempt at Batch prices, cached input at its price where one is published.
    pub actual_usd: Usd,
    /// What the same tokens cost at standard prices.
    pub standard_usd: Usd,
    pub batch_saving_usd: Usd,
    /// The plan's estimates (first attempts: the plan knows of no retry).
    pub estimated_expected_usd: Usd,
    pub estimated_worst_usd: Usd,
    /// First attempts against the plan's expected estimate, in percent, to one decimal:
    /// retry spend is not estimation error.
    pub expected_error_percent: Option<Decimal>,
    pub first_attempts: AttemptCost,
    pub retries: AttemptCost,
}

/// One bar of a histogram: answers whose completion tokens are in `from..to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bin {
    pub from: u64,
    pub to: u64,
    pub answers: u64,
}

/// When the run's batches ran: the first created, the last finished (RFC 3339, UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTiming {
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_seconds: Option<u64>,
}

/// One stage's actual dollars beside its estimate, at its own model's prices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageCost {
    pub model: String,
    pub pricing_checked: String,
    /// Answers billed, and their tokens.
    pub answers: u64,
    pub usage: Usage,
    pub actual_usd: Usd,
    pub standard_usd: Usd,
    pub estimated_expected_usd: Usd,
    pub estimated_worst_usd: Usd,
    /// First attempts against the stage's expected estimate, in percent, to one decimal.
    pub expected_error_percent: Option<Decimal>,
    /// Every attempt of the stage's kinds, and how it ended.
    pub accounting: BTreeMap<RequestKind, Accounting>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    pub run: String,
    pub model: String,
    pub dataset: String,
    pub dataset_sha256: String,
    /// sha256 of the prompt config the run was planned with.
    #[serde(default)]
    pub prompt_sha256: String,
    pub pairs: u64,
    pub pricing_checked: String,
    #[serde(default)]
    pub pricing_source_url: String,
    pub batch_cached_price_assumed: bool,
    #[serde(default)]
    pub timing: RunTiming,
    pub kinds: BTreeMap<RequestKind, CostLine>,
    /// Both stages together: dollars are the sum of the kinds', each at its prices.
    pub total: CostLine,
    /// Per stage (1 generate, 2 verify); empty in reports made before stages existed.
    #[serde(default)]
    pub stages: BTreeMap<Stage, StageCost>,
    pub kept_examples: u64,
    pub usd_per_kept_example: Option<Usd>,
    /// Pairs kept (a CORRECT and an INCORRECT example each) and what each cost.
    #[serde(default)]
    pub kept_pairs: u64,
    #[serde(default)]
    pub usd_per_kept_pair: Option<Usd>,
    pub accounting: BTreeMap<RequestKind, Accounting>,
    /// Read back as empty (the page does not show them; the JSON file has them).
    #[serde(skip_deserializing)]
    pub line_problems: LineProblems,
    /// Completion tokens per answer, per kind, in up to 12 equal bins.
    #[serde(default)]
    pub completion_histogram: BTreeMap<RequestKind, Vec<Bin>>,
    /// Where the run's SFT files (and `rejected.jsonl`) were written.
    #[serde(default)]
    pub sft_dir: String,
    /// The run's `pairs.jsonl` (the notes the paraphrases rewrite).
    #[serde(default)]
    pub pairs_file: String,
}

/// (actual − expected) / expected in percent, to one decimal.
pub fn error_percent(actual: Usd, expected: Usd) -> Option<Decimal> {
    (!expected.0.is_zero())
        .then(|| ((actual.0 - expected.0) * Decimal::from(100) / expected.0).round_dp(1))
}

/// The prices a kind of request is billed at: the verifier's for verify requests.
pub fn prices_of(manifest: &Manifest, kind: RequestKind) -> &ModelPricing {
    match (kind, &manifest.verify) {
        (RequestKind::Verify, Some(verify)) => &verify.pricing.prices,
        _ => &manifest.pricing.prices,
    }
}

fn finish(line: &mut CostLine, prices: &ModelPricing) {
    line.actual_usd = prices.batch.cost(line.usage.priced());
    line.standard_usd = prices.standard.cost(line.usage.priced());
    line.batch_saving_usd = line.standard_usd.saturating_sub(line.actual_usd);
    for part in [&mut line.first_attempts, &mut line.retries] {
        part.actual_usd = prices.batch.cost(part.usage.priced());
        part.expected_error_percent = error_percent(part.actual_usd, part.estimated_expected_usd);
    }
    line.expected_error_percent = line.first_attempts.expected_error_percent;
}

/// `answers` split into up to 12 bins of equal width (a multiple of 10 tokens).
pub fn histogram(mut tokens: Vec<u64>) -> Vec<Bin> {
    tokens.sort_unstable();
    let Some(&max) = tokens.last() else {
        return Vec::new();
    };
    let width = (max / 12 + 1).div_ceil(10) * 10;
    let mut bins: Vec<Bin> = (0..=max / width)
        .map(|i| Bin {
            from: i * width,
            to: (i + 1) * width,
            answers: 0,
        })
        .collect();
    for value in tokens {
        let slot = usize::try_from(value / width).expect("fewer bins than addresses");
        bins[slot].answers += 1;
    }
    bins
}

/// When the run's batches ran, from the manifest's last look at each.
pub fn run_timing(manifest: &Manifest) -> RunTiming {
    let batches = manifest
        .shards
        .iter()
        .filter_map(|s| s.remote.batch.as_ref());
    let started = batches.clone().map(|b| b.created_at).min();
    let ended = batches
        .filter_map(|b| {
            b.completed_at
                .or(b.failed_at)
                .or(b.expired_at)
                .or(b.cancelled_at)
        })
        .max();
    let text = |seconds: u64| {
        i64::try_from(seconds)
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    RunTiming {
        started_at: started.and_then(text),
        ended_at: ended.and_then(text),
        duration_seconds: started
            .zip(ended)
            .map(|(start, end)| end.saturating_sub(start)),
    }
}

/// Per kind: the plan's (expected, worst) dollars and its expected dollars per request
/// (the verify stage's from its own estimate).
fn planned_per_kind(manifest: &Manifest) -> BTreeMap<RequestKind, (Usd, Usd, Decimal)> {
    let mut planned: BTreeMap<RequestKind, (Usd, Usd, Decimal)> = manifest
        .estimate
        .kinds
        .iter()
        .map(|(kind, line)| {
            let per_request = if line.tokens.requests > 0 {
                line.batch.expected.0 / Decimal::from(line.tokens.requests)
            } else {
                Decimal::ZERO
            };
            (*kind, (line.batch.expected, line.batch.worst, per_request))
        })
        .collect();
    if let Some(verify) = &manifest.estimate.verify {
        let requests = verify.expected_tokens.requests;
        let per_request = if requests > 0 {
            verify.batch.expected.0 / Decimal::from(requests)
        } else {
            Decimal::ZERO
        };
        planned.insert(
            RequestKind::Verify,
            (verify.batch.expected, verify.batch.worst, per_request),
        );
    }
    planned
}

/// Builds the report from every attempt's usage (every answer is billed, kept or not).
pub fn cost_report(manifest: &Manifest, reconciled: &Reconciled, kept_pairs: u64) -> CostReport {
    let mut kinds: BTreeMap<RequestKind, CostLine> = BTreeMap::new();
    let planned = planned_per_kind(manifest);
    for (kind, (expected, worst, _)) in &planned {
        let entry = kinds.entry(*kind).or_default();
        entry.estimated_expected_usd = *expected;
        entry.estimated_worst_usd = *worst;
        entry.first_attempts.estimated_expected_usd = *expected;
    }
    let mut completion: BTreeMap<RequestKind, Vec<u64>> = BTreeMap::new();
    for attempt in &reconciled.attempts {
        let entry = kinds.entry(attempt.kind).or_default();
        let part = if attempt.attempt > 1 {
            &mut entry.retries
        } else {
            &mut entry.first_attempts
        };
        part.requests += 1;
        if attempt.usage == Usage::default() {
            continue;
        }
        part.answers += 1;
        part.usage.add(attempt.usage);
        entry.answers += 1;
        entry.usage.add(attempt.usage);
        completion
            .entry(attempt.kind)
            .or_default()
            .push(attempt.usage.completion_tokens);
    }
    let all = manifest.estimate.batch_all();
    let mut total = CostLine {
        estimated_expected_usd: all.expected,
        estimated_worst_usd: all.worst,
        ..CostLine::default()
    };
    total.first_attempts.estimated_expected_usd = total.estimated_expected_usd;
    for (kind, line) in &mut kinds {
        let per_request = planned.get(kind).map_or(Decimal::ZERO, |p| p.2);
        line.retries.estimated_expected_usd =
            Usd((per_request * Decimal::from(line.retries.requests)).round_dp(10));
        finish(line, prices_of(manifest, *kind));
        // Kinds are priced at their own models' prices: the total adds their dollars.
        total.answers += line.answers;
        total.usage.add(line.usage);
        total.actual_usd += line.actual_usd;
        total.standard_usd += line.standard_usd;
        for (sum, part) in [
            (&mut total.first_attempts, &line.first_attempts),
            (&mut total.retries, &line.retries),
        ] {
            sum.requests += part.requests;
            sum.answers += part.answers;
            sum.usage.add(part.usage);
            sum.actual_usd += part.actual_usd;
        }
        total.retries.estimated_expected_usd += line.retries.estimated_expected_usd;
    }
    total.batch_saving_usd = total.standard_usd.saturating_sub(total.actual_usd);
    for part in [&mut total.first_attempts, &mut total.retries] {
        part.expected_error_percent = error_percent(part.actual_usd, part.estimated_expected_usd);
    }
    total.expected_error_percent = total.first_attempts.expected_error_percent;
    let stages = stage_costs(manifest, &kinds, reconciled);
    let per = |count: u64| {
        (count > 0).then(|| Usd((total.actual_usd.0 / Decimal::from(count)).round_dp(8)))
    };
    let prices = &manifest.pricing.prices;
    CostReport {
        run: manifest.run.clone(),
        model: manifest.model.clone(),
        dataset: manifest.input.path.clone(),
        dataset_sha256: manifest.input.sha256.clone(),
        prompt_sha256: manifest.prompt_config.sha256.clone(),
        pairs: manifest.input.pairs_planned,
        pricing_checked: prices.checked.clone(),
        pricing_source_url: prices.source_url.clone(),
        batch_cached_price_assumed: prices.batch_cached_price_assumed(),
        timing: run_timing(manifest),
        kinds,
        stages,
        kept_examples: 2 * kept_pairs,
        usd_per_kept_example: per(2 * kept_pairs),
        kept_pairs,
        usd_per_kept_pair: per(kept_pairs),
        total,
        accounting: reconciled.accounting.clone(),
        line_problems: reconciled.problems.clone(),
        completion_histogram: completion
            .into_iter()
            .map(|(kind, tokens)| (kind, histogram(tokens)))
            .collect(),
        sft_dir: String::new(),
        pairs_file: String::new(),
    }
}

/// Per stage: its kinds' dollars added up, beside the stage's estimate.
fn stage_costs(
    manifest: &Manifest,
    kinds: &BTreeMap<RequestKind, CostLine>,
    reconciled: &Reconciled,
) -> BTreeMap<Stage, StageCost> {
    let mut stages = BTreeMap::new();
    let estimate = &manifest.estimate;
    let mut add = |stage: Stage, model: &str, prices: &ModelPricing, expected: Usd, worst: Usd| {
        let mut cost = StageCost {
            model: model.to_string(),
            pricing_checked: prices.checked.clone(),
            estimated_expected_usd: expected,
            estimated_worst_usd: worst,
            ..StageCost::default()
        };
        let mut first_attempts = Usd::ZERO;
        for (kind, line) in kinds.iter().filter(|(k, _)| k.stage() == stage) {
            cost.answers += line.answers;
            cost.usage.add(line.usage);
            cost.actual_usd += line.actual_usd;
            cost.standard_usd += line.standard_usd;
            first_attempts += line.first_attempts.actual_usd;
            if let Some(accounting) = reconciled.accounting.get(kind) {
                cost.accounting.insert(*kind, accounting.clone());
            }
        }
        cost.expected_error_percent = error_percent(first_attempts, expected);
        stages.insert(stage, cost);
    };
    add(
        Stage::Generate,
        &manifest.model,
        &manifest.pricing.prices,
        estimate.total.batch.expected,
        estimate.total.batch.worst,
    );
    if let (Some(verify), Some(planned)) = (&manifest.verify, &estimate.verify) {
        add(
            Stage::Verify,
            &verify.model,
            &verify.pricing.prices,
            planned.batch.expected,
            planned.batch.worst,
        );
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_have_equal_bins_that_hold_every_answer() {
        assert!(histogram(Vec::new()).is_empty());
        let bins = histogram(vec![0, 5, 119, 120, 240]);
        assert_eq!(bins[0].to - bins[0].from, 30);
        assert_eq!(bins.iter().map(|b| b.answers).sum::<u64>(), 5);
        assert_eq!(bins.last().unwrap().answers, 1);
        assert!(bins.len() <= 12);
        assert_eq!(histogram(vec![7]).len(), 1);
    }

    #[test]
    fn error_percent_is_relative_to_the_estimate() {
        let usd = |s: &str| Usd::parse(s).unwrap();
        assert_eq!(
            error_percent(usd("1.2"), usd("1")).unwrap().to_string(),
            "20.0"
        );
        assert_eq!(error_percent(usd("1"), Usd::ZERO), None);
    }
}
