//! The cost report of a run as people read it (dollars and cents, retries on their own
//! line, a table per stage) and as CSV (exact values, a row per kind and attempt, and
//! per stage).

use std::fmt::Write as _;

use super::cost::{AttemptCost, CostLine, CostReport};
use super::tables::{csv_text, table, thousands};
use crate::money::Usd;
use crate::plan::RequestKind;

/// The header of the cost report's CSV.
pub const COST_CSV_HEADER: [&str; 16] = [
    "run",
    "kind",
    "attempts",
    "requests",
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

/// Every kind's line, then the total.
fn lines(report: &CostReport) -> impl Iterator<Item = (String, &CostLine)> {
    report
        .kinds
        .iter()
        .map(|(kind, line)| (kind.to_string(), line))
        .chain(std::iter::once(("total".to_string(), &report.total)))
}

fn percent(value: Option<rust_decimal::Decimal>) -> String {
    value.map(|p| p.to_string()).unwrap_or_default()
}

/// The report as CSV, exact: per kind (and in total) a row of first attempts, one of
/// retries and one of all attempts.
pub fn cost_csv(report: &CostReport) -> String {
    let mut rows = Vec::new();
    for (kind, line) in lines(report) {
        let part = |attempts: &str, part: &AttemptCost| {
            vec![
                report.run.clone(),
                kind.clone(),
                attempts.to_string(),
                part.requests.to_string(),
                part.answers.to_string(),
                part.usage.prompt_tokens.to_string(),
                part.usage.cached_tokens.to_string(),
                part.usage.completion_tokens.to_string(),
                part.usage.reasoning_tokens.to_string(),
                part.actual_usd.exact(),
                part.estimated_expected_usd.exact(),
                String::new(),
                percent(part.expected_error_percent),
                String::new(),
                String::new(),
                report.pricing_checked.clone(),
            ]
        };
        rows.push(part("first", &line.first_attempts));
        rows.push(part("retry", &line.retries));
        rows.push(vec![
            report.run.clone(),
            kind.clone(),
            "all".into(),
            (line.first_attempts.requests + line.retries.requests).to_string(),
            line.answers.to_string(),
            line.usage.prompt_tokens.to_string(),
            line.usage.cached_tokens.to_string(),
            line.usage.completion_tokens.to_string(),
            line.usage.reasoning_tokens.to_string(),
            line.actual_usd.exact(),
            (line.estimated_expected_usd + line.retries.estimated_expected_usd).exact(),
            line.estimated_worst_usd.exact(),
            String::new(),
            line.standard_usd.exact(),
            line.batch_saving_usd.exact(),
            report.pricing_checked.clone(),
        ]);
    }
    for (stage, cost) in &report.stages {
        rows.push(vec![
            report.run.clone(),
            format!("stage {} ({})", stage.number(), stage.as_str()),
            "all".into(),
            cost.accounting
                .values()
                .map(|a| a.planned)
                .sum::<u64>()
                .to_string(),
            cost.answers.to_string(),
            cost.usage.prompt_tokens.to_string(),
            cost.usage.cached_tokens.to_string(),
            cost.usage.completion_tokens.to_string(),
            cost.usage.reasoning_tokens.to_string(),
            cost.actual_usd.exact(),
            cost.estimated_expected_usd.exact(),
            cost.estimated_worst_usd.exact(),
            percent(cost.expected_error_percent),
            cost.standard_usd.exact(),
            cost.standard_usd.saturating_sub(cost.actual_usd).exact(),
            cost.pricing_checked.clone(),
        ]);
    }
    csv_text(&COST_CSV_HEADER, rows)
}

/// One line per stage: its model, what it spent against its estimate.
fn stage_text(report: &CostReport) -> String {
    let mut out = String::new();
    if report.stages.len() < 2 {
        return out;
    }
    let rows: Vec<Vec<String>> = report
        .stages
        .iter()
        .map(|(stage, cost)| {
            vec![
                format!("{} {}", stage.number(), stage.as_str()),
                cost.model.clone(),
                thousands(cost.answers),
                cost.actual_usd.dollars(),
                cost.estimated_expected_usd.dollars(),
                signed_percent(cost.expected_error_percent),
                cost.estimated_worst_usd.dollars(),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&table(
        &[
            "stage",
            "model",
            "answers",
            "actual",
            "expected",
            "vs expected",
            "worst case",
        ],
        &rows,
    ));
    out
}

fn signed_percent(value: Option<rust_decimal::Decimal>) -> String {
    value.map(|p| format!("{p:+} %")).unwrap_or_default()
}

/// A duration for people: `1 h 02 min`, `3 min 20 s`, `45 s`.
pub fn duration_text(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60),
    }
}

/// The report for people: dollars and cents, first attempts against the plan, retries
/// on their own line against their own estimate.
pub fn cost_text(report: &CostReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}: {} pairs, model {}, Batch prices checked {}",
        report.run,
        thousands(report.pairs),
        report.model,
        report.pricing_checked
    );
    if let (Some(start), Some(end), Some(seconds)) = (
        &report.timing.started_at,
        &report.timing.ended_at,
        report.timing.duration_seconds,
    ) {
        let _ = writeln!(
            out,
            "batches ran from {start} to {end} ({})",
            duration_text(seconds)
        );
    }
    out.push('\n');
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (kind, line) in lines(report) {
        let accounting = RequestKind::parse(&kind).and_then(|k| report.accounting.get(&k));
        let first = &line.first_attempts;
        rows.push(vec![
            kind.clone(),
            accounting
                .map(|a| format!("{}/{}", a.kept, a.planned))
                .unwrap_or_default(),
            thousands(first.answers),
            thousands(first.usage.prompt_tokens),
            thousands(first.usage.completion_tokens),
            first.actual_usd.dollars(),
            line.estimated_expected_usd.dollars(),
            signed_percent(first.expected_error_percent),
            line.estimated_worst_usd.dollars(),
        ]);
        let retries = &line.retries;
        if retries.requests > 0 {
            rows.push(vec![
                format!("  {kind} retries"),
                String::new(),
                thousands(retries.answers),
                thousands(retries.usage.prompt_tokens),
                thousands(retries.usage.completion_tokens),
                retries.actual_usd.dollars(),
                retries.estimated_expected_usd.dollars(),
                signed_percent(retries.expected_error_percent),
                String::new(),
            ]);
        }
    }
    out.push_str(&table(
        &[
            "kind",
            "kept",
            "answers",
            "prompt",
            "completion",
            "actual",
            "expected",
            "vs expected",
            "worst case",
        ],
        &rows,
    ));
    out.push_str(&stage_text(report));
    let total = &report.total;
    let _ = writeln!(
        out,
        "\nSpent {} in all ({} on retries); the same tokens at standard prices: {}, so Batch saved {}.",
        total.actual_usd.dollars(),
        total.retries.actual_usd.dollars(),
        total.standard_usd.dollars(),
        total.batch_saving_usd.dollars(),
    );
    let _ = writeln!(
        out,
        "{} pairs kept ({} examples){}.",
        thousands(report.kept_pairs),
        thousands(report.kept_examples),
        report
            .usd_per_kept_pair
            .map(|u| format!(": {} per kept pair", u.unit_price()))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "First attempts are compared with the plan; retries with the plan's mean cost per request. Exact values: reports/{}.json and .csv.",
        report.run
    );
    if report.batch_cached_price_assumed && total.usage.cached_tokens > 0 {
        let _ = writeln!(out, "No Batch price for cached input is published for {}: cached tokens priced as uncached.", report.model);
    }
    out
}

/// Dollars per kept pair over a list of runs, for the history table.
pub fn per_kept_pair(actual: Usd, kept_pairs: u64) -> Option<Usd> {
    (kept_pairs > 0).then(|| Usd((actual.0 / rust_decimal::Decimal::from(kept_pairs)).round_dp(8)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(duration_text(200), "3 min 20 s");
        assert_eq!(duration_text(3720), "1 h 02 min");
    }
}
