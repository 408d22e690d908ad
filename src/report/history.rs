//! Every run of the ledger for finance: a row per run, then per dataset size, model and
//! verifier, each with its dollars per stage (1 generate, 2 verify), as text (dollars
//! and cents), CSV (exact) and JSON groups.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;

use super::cost::error_percent;
use super::cost_view::{duration_text, per_kept_pair};
use super::ledger::LedgerRow;
use super::tables::{csv_text, table, thousands};
use crate::money::Usd;

/// The runs of one dataset size and model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerGroup {
    pub pairs: u64,
    pub model: String,
    /// The verifier (empty: no verify stage).
    pub verify_model: String,
    pub runs: usize,
    /// Stage 1 (generate) and stage 2 (verify) spend; 0 for rows made before stages.
    pub stage1_actual_usd: Usd,
    pub stage2_actual_usd: Usd,
    pub actual_usd: Usd,
    pub estimated_expected_usd: Usd,
    pub estimated_worst_usd: Usd,
    /// First attempts against the plans' expected estimates, in percent.
    pub expected_error_percent: Option<Decimal>,
    pub kept_examples: u64,
    pub kept_pairs: u64,
    pub usd_per_kept_example: Option<Usd>,
    pub usd_per_kept_pair: Option<Usd>,
}

/// Ledger rows grouped by dataset size (pairs) and model.
pub fn ledger_groups(rows: &[LedgerRow]) -> Vec<LedgerGroup> {
    let mut groups: BTreeMap<(u64, String, String), Vec<&LedgerRow>> = BTreeMap::new();
    for row in rows {
        groups
            .entry((row.pairs, row.model.clone(), row.verify_model.clone()))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((pairs, model, verify_model), rows)| {
            let actual: Usd = rows.iter().map(|r| r.actual_usd).sum();
            let first: Usd = rows.iter().map(|r| first_attempt_usd(r)).sum();
            let expected: Usd = rows.iter().map(|r| r.estimated_expected_usd).sum();
            let kept_examples: u64 = rows.iter().map(|r| r.kept_examples).sum();
            let kept_pairs: u64 = rows.iter().map(|r| r.kept_sample().pairs_kept).sum();
            LedgerGroup {
                pairs,
                model,
                verify_model,
                runs: rows.len(),
                stage1_actual_usd: rows.iter().map(|r| r.stage1_actual_usd).sum(),
                stage2_actual_usd: rows.iter().map(|r| r.stage2_actual_usd).sum(),
                actual_usd: actual,
                estimated_expected_usd: expected,
                estimated_worst_usd: rows.iter().map(|r| r.estimated_worst_usd).sum(),
                expected_error_percent: error_percent(first, expected),
                kept_examples,
                kept_pairs,
                usd_per_kept_example: per_kept_pair(actual, kept_examples),
                usd_per_kept_pair: per_kept_pair(actual, kept_pairs),
            }
        })
        .collect()
}

/// First-attempt spend (all spend in rows written before retries were split out).
fn first_attempt_usd(row: &LedgerRow) -> Usd {
    if row.first_attempt_usd == Usd::ZERO && row.retry_usd == Usd::ZERO {
        row.actual_usd
    } else {
        row.first_attempt_usd
    }
}

/// Dollars per kept pair of one run.
pub fn run_usd_per_kept_pair(row: &LedgerRow) -> Option<Usd> {
    row.usd_per_kept_pair
        .or_else(|| per_kept_pair(row.actual_usd, row.kept_sample().pairs_kept))
}

/// The header of `report --format csv`: a row per run, exact.
pub const LEDGER_CSV_HEADER: [&str; 18] = [
    "run",
    "date",
    "started_at",
    "ended_at",
    "duration_seconds",
    "pairs",
    "model",
    "estimated_expected_usd",
    "estimated_worst_usd",
    "first_attempt_usd",
    "retry_usd",
    "actual_usd",
    "expected_error_percent",
    "kept_pairs",
    "usd_per_kept_pair",
    "stage1_actual_usd",
    "verify_model",
    "stage2_actual_usd",
];

/// The runs as CSV, exact.
pub fn ledger_csv(rows: &[LedgerRow]) -> String {
    csv_text(
        &LEDGER_CSV_HEADER,
        rows.iter().map(|r| {
            vec![
                r.run.clone(),
                r.date.clone(),
                r.started_at.clone(),
                r.ended_at.clone(),
                r.duration_seconds
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                r.pairs.to_string(),
                r.model.clone(),
                r.estimated_expected_usd.exact(),
                r.estimated_worst_usd.exact(),
                first_attempt_usd(r).exact(),
                r.retry_usd.exact(),
                r.actual_usd.exact(),
                error_percent(first_attempt_usd(r), r.estimated_expected_usd)
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                r.kept_sample().pairs_kept.to_string(),
                run_usd_per_kept_pair(r).map(Usd::exact).unwrap_or_default(),
                r.stage1_actual_usd.exact(),
                r.verify_model.clone(),
                r.stage2_actual_usd.exact(),
            ]
        }),
    )
}

fn signed(percent: Option<Decimal>) -> String {
    percent.map(|p| format!("{p:+} %")).unwrap_or_default()
}

/// The ledger for finance: every run, then per dataset size and model, then totals.
pub fn ledger_text(rows: &[LedgerRow]) -> String {
    let mut out = String::new();
    let run_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.run.clone(),
                r.date.clone(),
                r.duration_seconds.map(duration_text).unwrap_or_default(),
                thousands(r.pairs),
                r.model.clone(),
                r.estimated_expected_usd.dollars(),
                r.estimated_worst_usd.dollars(),
                r.actual_usd.dollars(),
                r.retry_usd.dollars(),
                signed(error_percent(
                    first_attempt_usd(r),
                    r.estimated_expected_usd,
                )),
                thousands(r.kept_sample().pairs_kept),
                run_usd_per_kept_pair(r)
                    .map(Usd::unit_price)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "run",
            "date",
            "took",
            "pairs",
            "model",
            "expected",
            "worst case",
            "actual",
            "of it retries",
            "first vs expected",
            "kept pairs",
            "per kept pair",
        ],
        &run_rows,
    ));
    out.push('\n');
    let group_rows: Vec<Vec<String>> = ledger_groups(rows)
        .iter()
        .map(|g| {
            vec![
                thousands(g.pairs),
                g.model.clone(),
                if g.verify_model.is_empty() {
                    "off".to_string()
                } else {
                    g.verify_model.clone()
                },
                g.runs.to_string(),
                g.estimated_expected_usd.dollars(),
                g.stage1_actual_usd.dollars(),
                g.stage2_actual_usd.dollars(),
                g.actual_usd.dollars(),
                signed(g.expected_error_percent),
                g.usd_per_kept_pair.map(Usd::unit_price).unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "pairs",
            "model",
            "verifier",
            "runs",
            "expected",
            "stage 1",
            "stage 2",
            "actual",
            "first vs expected",
            "per kept pair",
        ],
        &group_rows,
    ));
    let actual: Usd = rows.iter().map(|r| r.actual_usd).sum();
    let expected: Usd = rows.iter().map(|r| r.estimated_expected_usd).sum();
    let _ = writeln!(
        out,
        "\ntotal: {} runs, actual {}, expected {}. Exact values with --json or --format csv.",
        rows.len(),
        actual.dollars(),
        expected.dollars(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, model: &str, actual: &str, kept_pairs: u64) -> LedgerRow {
        LedgerRow {
            run: name.into(),
            model: model.into(),
            pairs: 319,
            actual_usd: Usd::parse(actual).unwrap(),
            first_attempt_usd: Usd::parse(actual).unwrap(),
            estimated_expected_usd: Usd::parse("1").unwrap(),
            kept_pairs,
            kept_examples: 2 * kept_pairs,
            ..LedgerRow::default()
        }
    }

    #[test]
    fn groups_sum_runs_and_price_kept_pairs() {
        let rows = [
            run("a", "gpt-4o", "1.1529", 183),
            run("b", "gpt-4o", "1.0", 200),
            run("c", "gpt-4o-mini", "0.1", 150),
        ];
        let groups = ledger_groups(&rows);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].runs, 2);
        assert_eq!(groups[0].actual_usd, Usd::parse("2.1529").unwrap());
        assert_eq!(groups[0].kept_pairs, 383);
        assert_eq!(groups[0].expected_error_percent.unwrap().to_string(), "7.6");
        let text = ledger_text(&rows);
        assert!(text.contains("$0.0063"), "{text}");
        assert!(!text.contains("1.1529"), "cents only for people: {text}");
        assert!(ledger_csv(&rows).contains(",1.1529,"));
    }
}
