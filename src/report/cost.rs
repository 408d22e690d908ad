//! The cost report of a run: actual tokens and dollars from every answer's `usage`, at
//! the Batch prices the run was planned with, beside the plan's two estimates.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::tables::csv_text;
use crate::money::Usd;
use crate::plan::RequestKind;
use crate::reconcile::{Accounting, LineProblems, Reconciled, Usage};
use crate::store::Manifest;

/// Tokens and dollars of one kind of request (or all), actual beside estimated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// Answers billed (every attempt that came back with a usage).
    pub answers: u64,
    pub usage: Usage,
    /// At Batch prices, cached input at its price where one is published.
    pub actual_usd: Usd,
    /// What the same tokens cost at standard prices.
    pub standard_usd: Usd,
    pub batch_saving_usd: Usd,
    pub estimated_expected_usd: Usd,
    pub estimated_worst_usd: Usd,
    /// (actual − expected) / expected, in percent, to one decimal.
    pub expected_error_percent: Option<Decimal>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub run: String,
    pub model: String,
    pub dataset: String,
    pub dataset_sha256: String,
    pub pairs: u64,
    pub pricing_checked: String,
    pub batch_cached_price_assumed: bool,
    pub kinds: BTreeMap<RequestKind, CostLine>,
    pub total: CostLine,
    pub kept_examples: u64,
    pub usd_per_kept_example: Option<Usd>,
    pub accounting: BTreeMap<RequestKind, Accounting>,
    pub line_problems: LineProblems,
}

fn error_percent(actual: Usd, expected: Usd) -> Option<Decimal> {
    (!expected.0.is_zero())
        .then(|| ((actual.0 - expected.0) * Decimal::from(100) / expected.0).round_dp(1))
}

fn finish(line: &mut CostLine, manifest: &Manifest) {
    let prices = &manifest.pricing.prices;
    line.actual_usd = prices.batch.cost(line.usage.priced());
    line.standard_usd = prices.standard.cost(line.usage.priced());
    line.batch_saving_usd = line.standard_usd.saturating_sub(line.actual_usd);
    line.expected_error_percent = error_percent(line.actual_usd, line.estimated_expected_usd);
}

/// Builds the report from every attempt's usage (every answer is billed, kept or not).
pub fn cost_report(manifest: &Manifest, reconciled: &Reconciled, kept_examples: u64) -> CostReport {
    let mut kinds: BTreeMap<RequestKind, CostLine> = BTreeMap::new();
    for (kind, line) in &manifest.estimate.kinds {
        let entry = kinds.entry(*kind).or_default();
        entry.estimated_expected_usd = line.batch.expected;
        entry.estimated_worst_usd = line.batch.worst;
    }
    for attempt in &reconciled.attempts {
        if attempt.usage == Usage::default() {
            continue;
        }
        let entry = kinds.entry(attempt.kind).or_default();
        entry.answers += 1;
        entry.usage.add(attempt.usage);
    }
    let mut total = CostLine {
        estimated_expected_usd: manifest.estimate.total.batch.expected,
        estimated_worst_usd: manifest.estimate.total.batch.worst,
        ..CostLine::default()
    };
    for line in kinds.values_mut() {
        finish(line, manifest);
        total.answers += line.answers;
        total.usage.add(line.usage);
    }
    finish(&mut total, manifest);
    let usd_per_kept_example = (kept_examples > 0)
        .then(|| Usd((total.actual_usd.0 / Decimal::from(kept_examples)).round_dp(8)));
    CostReport {
        run: manifest.run.clone(),
        model: manifest.model.clone(),
        dataset: manifest.input.path.clone(),
        dataset_sha256: manifest.input.sha256.clone(),
        pairs: manifest.input.pairs_planned,
        pricing_checked: manifest.pricing.prices.checked.clone(),
        batch_cached_price_assumed: manifest.pricing.prices.batch_cached_price_assumed(),
        kinds,
        total,
        kept_examples,
        usd_per_kept_example,
        accounting: reconciled.accounting.clone(),
        line_problems: reconciled.problems.clone(),
    }
}

/// The report as CSV: a row per kind and a total row.
pub fn cost_csv(report: &CostReport) -> String {
    const HEADER: [&str; 14] = [
        "run",
        "kind",
        "answers",
        "prompt_tokens",
        "cached_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "actual_usd",
        "estimated_expected_usd",
        "estimated_worst_usd",
        "expected_error_percent",
        "standard_usd",
        "batch_saving_usd",
        "pricing_checked",
    ];
    let rows = report
        .kinds
        .iter()
        .map(|(kind, line)| (kind.to_string(), line))
        .chain(std::iter::once(("total".to_string(), &report.total)));
    csv_text(
        &HEADER,
        rows.map(|(kind, line)| {
            vec![
                report.run.clone(),
                kind,
                line.answers.to_string(),
                line.usage.prompt_tokens.to_string(),
                line.usage.cached_tokens.to_string(),
                line.usage.completion_tokens.to_string(),
                line.usage.reasoning_tokens.to_string(),
                line.actual_usd.exact(),
                line.estimated_expected_usd.exact(),
                line.estimated_worst_usd.exact(),
                line.expected_error_percent
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                line.standard_usd.exact(),
                line.batch_saving_usd.exact(),
                report.pricing_checked.clone(),
            ]
        }),
    )
}

/// The report for people.
pub fn cost_text(report: &CostReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}: {} pairs, model {}, prices checked {}\n",
        report.run, report.pairs, report.model, report.pricing_checked
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (kind, line) in report
        .kinds
        .iter()
        .map(|(k, l)| (k.to_string(), l))
        .chain(std::iter::once(("total".to_string(), &report.total)))
    {
        let accounting = report
            .accounting
            .get(&RequestKind::parse(&kind).unwrap_or(RequestKind::Paraphrase));
        rows.push(vec![
            kind.clone(),
            if kind == "total" {
                String::new()
            } else {
                accounting
                    .map(|a| format!("{}/{}", a.kept, a.planned))
                    .unwrap_or_default()
            },
            super::thousands(line.usage.prompt_tokens),
            super::thousands(line.usage.cached_tokens),
            super::thousands(line.usage.completion_tokens),
            line.actual_usd.exact(),
            line.estimated_expected_usd.exact(),
            line.expected_error_percent
                .map(|p| format!("{p:+}%"))
                .unwrap_or_default(),
            line.estimated_worst_usd.exact(),
            line.standard_usd.exact(),
        ]);
    }
    out.push_str(&super::tables::table(
        &[
            "kind",
            "kept",
            "prompt",
            "cached",
            "completion",
            "actual $",
            "expected $",
            "error",
            "worst $",
            "standard $",
        ],
        &rows,
    ));
    let _ = writeln!(
        out,
        "\nBatch saved {} against standard prices. {} kept examples{}.",
        report.total.batch_saving_usd,
        report.kept_examples,
        report
            .usd_per_kept_example
            .map(|u| format!(", {u} each"))
            .unwrap_or_default()
    );
    if report.batch_cached_price_assumed && report.total.usage.cached_tokens > 0 {
        let _ = writeln!(out, "No Batch price for cached input is published for {}: cached tokens priced as uncached.", report.model);
    }
    out
}
