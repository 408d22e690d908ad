//! The plan table (what a dry run prints) and the cost-per-dataset-size table, as text
//! and CSV.

use std::fmt::Write as _;

use super::tables::{csv_text, table, thousands};
use crate::money::Usd;
use crate::plan::estimate::{Estimate, Line};
use crate::plan::sizes::SizeEstimate;

/// What the plan table shows beside the estimate.
pub struct PlanView<'a> {
    pub run: &'a str,
    pub model: &'a str,
    pub encoding: &'a str,
    pub pairs_planned: u64,
    pub pairs_available: u64,
    pub shards: usize,
    pub reasoning: bool,
    pub schema_allowance_tokens: u64,
    pub budget: Option<Usd>,
    pub estimate: &'a Estimate,
}

fn kind_rows(estimate: &Estimate, cells: impl Fn(&Line) -> Vec<String>) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = estimate
        .kinds
        .iter()
        .map(|(kind, line)| {
            let mut row = vec![kind.to_string()];
            row.extend(cells(line));
            row
        })
        .collect();
    let mut total = vec!["total".to_string()];
    total.extend(cells(&estimate.total));
    rows.push(total);
    rows
}

/// The plan table: tokens and exact dollars per kind, the Batch saving and the budget.
pub fn plan_table(view: &PlanView<'_>) -> String {
    let estimate = view.estimate;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}: {} pairs of {} available, {} requests in {} shard{}, model {} ({}), reasoning {}",
        view.run,
        thousands(view.pairs_planned),
        thousands(view.pairs_available),
        thousands(estimate.total.tokens.requests),
        view.shards,
        if view.shards == 1 { "" } else { "s" },
        view.model,
        view.encoding,
        if view.reasoning { "on" } else { "off" },
    );
    out.push('\n');
    out.push_str(&table(
        &[
            "tokens",
            "requests",
            "prompt",
            "cached (expected)",
            "output (expected)",
            "output (worst)",
        ],
        &kind_rows(estimate, |line| {
            let t = &line.tokens;
            vec![
                thousands(t.requests),
                thousands(t.prompt_tokens),
                thousands(t.expected_cached_tokens),
                thousands(t.expected_output_tokens),
                thousands(t.worst_output_tokens),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&table(
        &[
            "US dollars",
            "Batch expected",
            "Batch worst",
            "standard expected",
            "standard worst",
        ],
        &kind_rows(estimate, |line| {
            vec![
                line.batch.expected.exact(),
                line.batch.worst.exact(),
                line.standard.expected.exact(),
                line.standard.worst.exact(),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&plan_notes(view));
    out
}

/// The sentences under the plan table: saving, assumptions, caveats and the budget.
fn plan_notes(view: &PlanView<'_>) -> String {
    let estimate = view.estimate;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Batch saves {} against standard prices (expected case). Prices checked {}.",
        estimate.batch_saving(),
        estimate.pricing_checked
    );
    let _ = writeln!(
        out,
        "Worst case: every request spends its output cap. Expected: paraphrase output {}‰ of the note's tokens, reasoning {} tokens{} (source: {}).",
        estimate.output_model.paraphrase_output_permille,
        estimate.output_model.reasoning_output_tokens,
        if view.model_is_reasoning() {
            format!(", plus {}‰ hidden reasoning", estimate.output_model.hidden_reasoning_permille)
        } else {
            String::new()
        },
        estimate.output_model.source,
    );
    if view.schema_allowance_tokens > 0 {
        let _ = writeln!(
            out,
            "Reasoning prompts include {} tokens each for the structured-output schema (an allowance: the API does not document its count).",
            view.schema_allowance_tokens
        );
    }
    if estimate.batch_cached_price_assumed {
        let _ = writeln!(
            out,
            "No Batch price for cached input is published for {}: cached tokens are priced as uncached.",
            view.model
        );
    }
    if let Some(budget) = view.budget {
        match estimate.check_budget(budget) {
            Ok(()) => {
                let _ = writeln!(
                    out,
                    "Budget {budget}: the worst case {} is within it ({} to spare).",
                    estimate.total.batch.worst,
                    budget.saturating_sub(estimate.total.batch.worst)
                );
            }
            Err(over) => {
                let _ = writeln!(
                    out,
                    "Budget {budget}: the worst case {} is over it by {over}.",
                    estimate.total.batch.worst
                );
            }
        }
    }
    out
}

impl PlanView<'_> {
    fn model_is_reasoning(&self) -> bool {
        crate::plan::family_of(self.model).is_ok_and(|f| f.reasoning_model)
    }
}

/// The header of the cost-per-size CSV.
pub const SIZE_CSV_HEADER: [&str; 14] = [
    "size",
    "model",
    "measured_pairs",
    "extrapolated",
    "requests",
    "prompt_tokens",
    "expected_output_tokens",
    "worst_output_tokens",
    "batch_expected_usd",
    "batch_worst_usd",
    "standard_expected_usd",
    "standard_worst_usd",
    "batch_expected_usd_per_pair",
    "pricing_checked",
];

fn size_cells(row: &SizeEstimate) -> Vec<String> {
    let total = &row.estimate.total;
    vec![
        row.size.to_string(),
        row.model.clone(),
        row.measured_pairs.to_string(),
        row.extrapolated.to_string(),
        total.tokens.requests.to_string(),
        total.tokens.prompt_tokens.to_string(),
        total.tokens.expected_output_tokens.to_string(),
        total.tokens.worst_output_tokens.to_string(),
        total.batch.expected.exact(),
        total.batch.worst.exact(),
        total.standard.expected.exact(),
        total.standard.worst.exact(),
        row.expected_per_pair().exact(),
        row.estimate.pricing_checked.clone(),
    ]
}

/// The cost-per-size table as CSV.
pub fn size_csv(rows: &[SizeEstimate]) -> String {
    csv_text(&SIZE_CSV_HEADER, rows.iter().map(size_cells))
}

/// The cost-per-size table for people, with a note on every extrapolated row.
pub fn size_table(rows: &[SizeEstimate], reasoning: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cost per dataset size, from exact token counts of the real pairs (Batch prices; reasoning {}).\n",
        if reasoning { "on" } else { "off" }
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let total = &row.estimate.total;
            vec![
                format!(
                    "{}{}",
                    thousands(row.size),
                    if row.extrapolated { "*" } else { "" }
                ),
                row.model.clone(),
                thousands(total.tokens.prompt_tokens),
                thousands(total.tokens.expected_output_tokens),
                total.batch.expected.cents(),
                total.batch.worst.cents(),
                total.standard.expected.cents(),
                format!("{:.4}", row.expected_per_pair().0),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "pairs",
            "model",
            "prompt tokens",
            "output (expected)",
            "expected $",
            "worst $",
            "standard $",
            "$ per pair",
        ],
        &cells,
    ));
    if let Some(row) = rows.iter().find(|r| r.extrapolated) {
        let _ = writeln!(
            out,
            "\n* more pairs than the {} available: tokens scaled up from the mean of the {} pairs counted.",
            thousands(row.measured_pairs),
            thousands(row.measured_pairs)
        );
    }
    let _ = writeln!(
        out,
        "Dollars rounded to the cent here; exact values with --format csv or json."
    );
    out
}
