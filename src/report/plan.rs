//! The plan table (what a dry run prints) and the cost-per-dataset-size table, as text
//! and CSV.

use std::fmt::Write as _;

use super::tables::{csv_text, table, thousands};
use crate::money::Usd;
use crate::plan::estimate::{Estimate, Line, Scenarios, TokenTotals, VerifyEstimate};
use crate::plan::kept::{KeptRate, TargetKept};
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
    /// The kept rate the cost per kept pair is forecast with.
    pub kept_rate: Option<&'a KeptRate>,
    /// What `--target-kept N` planned.
    pub target: Option<&'a TargetKept>,
}

/// One row per stage-1 kind and their total; with a verify stage, its row (worst-case
/// tokens, both scenarios' dollars at the verifier's prices) and the total of both.
fn kind_rows(
    estimate: &Estimate,
    cells: impl Fn(&TokenTotals, &Scenarios, &Scenarios) -> Vec<String>,
) -> Vec<Vec<String>> {
    let line_cells = |line: &Line| cells(&line.tokens, &line.batch, &line.standard);
    let mut rows: Vec<Vec<String>> = estimate
        .kinds
        .iter()
        .map(|(kind, line)| {
            let mut row = vec![kind.to_string()];
            row.extend(line_cells(line));
            row
        })
        .collect();
    let Some(verify) = &estimate.verify else {
        let mut total = vec!["total".to_string()];
        total.extend(line_cells(&estimate.total));
        rows.push(total);
        return rows;
    };
    let mut stage_one = vec!["stage 1 total".to_string()];
    stage_one.extend(line_cells(&estimate.total));
    rows.push(stage_one);
    let mut row = vec![format!("verify (stage 2, {})", verify.model)];
    row.extend(cells(
        &verify_tokens(verify),
        &verify.batch,
        &verify.standard,
    ));
    rows.push(row);
    let mut both = estimate.total.tokens;
    both.merge(&verify_tokens(verify));
    let mut total = vec!["total, both stages".to_string()];
    total.extend(cells(
        &both,
        &estimate.batch_all(),
        &estimate.standard_all(),
    ));
    rows.push(total);
    rows
}

/// The verify stage's tokens as one row: prompts of the worst case (paraphrases at
/// their cap), cached and output tokens expected, and the verifier's caps.
fn verify_tokens(verify: &VerifyEstimate) -> TokenTotals {
    TokenTotals {
        expected_cached_tokens: verify.expected_tokens.expected_cached_tokens,
        expected_output_tokens: verify.expected_tokens.expected_output_tokens,
        ..verify.worst_tokens
    }
}

/// The plan table: tokens and exact dollars per kind, the Batch saving and the budget.
pub fn plan_table(view: &PlanView<'_>) -> String {
    let estimate = view.estimate;
    let mut out = String::new();
    let shards = match view.shards {
        0 => "not written".to_string(),
        1 => "in 1 shard".to_string(),
        n => format!("in {n} shards"),
    };
    let _ = writeln!(
        out,
        "run {}: {} pairs of {} available, {} requests {shards}, model {} ({}), reasoning {}",
        view.run,
        thousands(view.pairs_planned),
        thousands(view.pairs_available),
        thousands(estimate.total.tokens.requests),
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
        &kind_rows(estimate, |t, _, _| {
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
        &kind_rows(estimate, |_, batch, standard| {
            vec![
                batch.expected.dollars(),
                batch.worst.dollars(),
                standard.expected.dollars(),
                standard.worst.dollars(),
            ]
        }),
    ));
    out.push('\n');
    out.push_str(&plan_notes(view));
    out
}

/// `permille` thousandths as a ratio for people: `1.05×`.
pub fn times(permille: u64) -> String {
    let value = rust_decimal::Decimal::new(i64::try_from(permille).unwrap_or(i64::MAX), 3);
    format!("{value:.2}×")
}

/// The sentences under the plan table: saving, assumptions, caveats, the cost per kept
/// pair and the budget.
fn plan_notes(view: &PlanView<'_>) -> String {
    let estimate = view.estimate;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Batch saves {} against standard prices (expected case). Prices checked {}. Dollars rounded to the cent: exact values with --json.",
        estimate.batch_saving().dollars(),
        estimate.pricing_checked
    );
    let output = &estimate.output_model;
    let _ = writeln!(
        out,
        "Worst case: every request spends its output cap. Expected: a paraphrase {} the tokens of its note, a reasoning answer {} tokens{} (source: {}).",
        times(output.paraphrase_output_permille),
        output.reasoning_output_tokens,
        if view.model_is_reasoning() {
            format!(", plus {} as much in hidden reasoning", times(output.hidden_reasoning_permille))
        } else {
            String::new()
        },
        output.source,
    );
    if let Some(verify) = &estimate.verify {
        out.push_str(&verify_notes(verify, view.pairs_planned));
    }
    if let Some(rate) = view.kept_rate {
        if let Some(per) = rate.usd_per_kept_pair(estimate.batch_all().expected, view.pairs_planned)
        {
            let _ = writeln!(
                out,
                "Expected {} per kept pair, at a kept rate of {} % ({}).",
                per.unit_price(),
                rate.percent(),
                rate.source
            );
        }
    }
    if let Some(target) = view.target {
        let _ = writeln!(out, "{}.", target.sentence());
    }
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
        let worst = estimate.batch_all().worst;
        match estimate.check_budget(budget) {
            Ok(()) => {
                let _ = writeln!(
                    out,
                    "Budget {}: the worst case {} is within it ({} to spare).",
                    budget.dollars(),
                    worst.dollars(),
                    budget.saturating_sub(worst).dollars()
                );
            }
            Err(over) => {
                let _ = writeln!(
                    out,
                    "Budget {}: the worst case {} is over it by {}.",
                    budget.dollars(),
                    worst.dollars(),
                    over.dollars()
                );
            }
        }
    }
    out
}

/// What verification adds: per pair and per dataset size, expected and worst, and what
/// its worst case assumes.
fn verify_notes(verify: &VerifyEstimate, pairs: u64) -> String {
    let mut out = String::new();
    let per_pair = |usd: Usd| Usd(usd.0 / rust_decimal::Decimal::from(pairs.max(1)));
    let expected = per_pair(verify.batch.expected);
    let worst = per_pair(verify.batch.worst);
    let _ = writeln!(
        out,
        "Verification by {} ({}) adds {} expected, {} worst: {} per pair expected ({} worst); {} per 1,000 pairs, {} per 10,000 (expected). `--no-verify` turns it off.",
        verify.model,
        verify.encoding.as_str(),
        verify.batch.expected.dollars(),
        verify.batch.worst.dollars(),
        expected.unit_price(),
        worst.unit_price(),
        Usd(expected.0 * rust_decimal::Decimal::from(1000)).dollars(),
        Usd(expected.0 * rust_decimal::Decimal::from(10_000)).dollars(),
    );
    let _ = writeln!(
        out,
        "Verify worst case: every pair's paraphrase is verified, each at the paraphrase's output cap ({} prompt tokens in all; {} expected), the verifier spending its cap. Verifier prices checked {}.",
        thousands(verify.worst_tokens.prompt_tokens),
        thousands(verify.expected_tokens.prompt_tokens),
        verify.pricing_checked,
    );
    if verify.batch_cached_price_assumed {
        let _ = writeln!(
            out,
            "No Batch price for cached input is published for {}: cached tokens are priced as uncached.",
            verify.model
        );
    }
    out
}

impl PlanView<'_> {
    fn model_is_reasoning(&self) -> bool {
        crate::plan::family_of(self.model).is_ok_and(|f| f.reasoning_model)
    }
}

/// The header of the cost-per-size CSV.
pub const SIZE_CSV_HEADER: [&str; 22] = [
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
    "kept_rate_percent",
    "expected_kept_pairs",
    "batch_expected_usd_per_kept_pair",
    "target_kept",
    "kept_rate_source",
    "verify_model",
    "verify_batch_expected_usd",
    "verify_batch_worst_usd",
];

/// Tokens are stage 1's; dollars are both stages' (the verify stage also on its own).
fn size_cells(row: &SizeEstimate) -> Vec<String> {
    let total = &row.estimate.total;
    let (batch, standard) = (row.estimate.batch_all(), row.estimate.standard_all());
    let verify = row.estimate.verify.as_ref();
    vec![
        row.size.to_string(),
        row.model.clone(),
        row.measured_pairs.to_string(),
        row.extrapolated.to_string(),
        total.tokens.requests.to_string(),
        total.tokens.prompt_tokens.to_string(),
        total.tokens.expected_output_tokens.to_string(),
        total.tokens.worst_output_tokens.to_string(),
        batch.expected.exact(),
        batch.worst.exact(),
        standard.expected.exact(),
        standard.worst.exact(),
        row.expected_per_pair().exact(),
        row.estimate.pricing_checked.clone(),
        row.kept_rate
            .as_ref()
            .map(|r| r.percent().to_string())
            .unwrap_or_default(),
        row.expected_kept_pairs.to_string(),
        row.expected_usd_per_kept_pair
            .map(Usd::exact)
            .unwrap_or_default(),
        row.target_kept.map(|t| t.to_string()).unwrap_or_default(),
        row.kept_rate
            .as_ref()
            .map(|r| r.source.clone())
            .unwrap_or_default(),
        verify.map(|v| v.model.clone()).unwrap_or_default(),
        verify.map(|v| v.batch.expected.exact()).unwrap_or_default(),
        verify.map(|v| v.batch.worst.exact()).unwrap_or_default(),
    ]
}

/// The cost-per-size table as CSV.
pub fn size_csv(rows: &[SizeEstimate]) -> String {
    csv_text(&SIZE_CSV_HEADER, rows.iter().map(size_cells))
}

/// The cost-per-size table for people (dollars and cents), with the pairs expected to
/// be kept and the cost of each, a note on every extrapolated row, and what
/// `--target-kept` needs of each model.
pub fn size_table(rows: &[SizeEstimate], reasoning: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cost per dataset size, from exact token counts of the real pairs (Batch prices; reasoning {}; {}).\n",
        if reasoning { "on" } else { "off" },
        match rows.first().and_then(|r| r.estimate.verify.as_ref()) {
            Some(verify) => format!("verification by {} included, its part in the `verify` column", verify.model),
            None => "verification off".to_string(),
        }
    );
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let total = &row.estimate.total;
            let (batch, standard) = (row.estimate.batch_all(), row.estimate.standard_all());
            vec![
                format!(
                    "{}{}",
                    thousands(row.size),
                    if row.extrapolated { "*" } else { "" }
                ),
                row.model.clone(),
                thousands(total.tokens.prompt_tokens),
                thousands(total.tokens.expected_output_tokens),
                batch.expected.dollars(),
                row.estimate
                    .verify
                    .as_ref()
                    .map_or_else(|| "off".to_string(), |v| v.batch.expected.dollars()),
                batch.worst.dollars(),
                standard.expected.dollars(),
                row.expected_per_pair().unit_price(),
                thousands(row.expected_kept_pairs),
                row.expected_usd_per_kept_pair
                    .map(Usd::unit_price)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "pairs",
            "model",
            "prompt tokens",
            "output (expected)",
            "expected",
            "verify",
            "worst case",
            "standard",
            "per pair",
            "kept pairs",
            "per kept pair",
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
    let mut seen = Vec::new();
    for row in rows {
        let Some(rate) = &row.kept_rate else { continue };
        if seen.contains(&&row.model) {
            continue;
        }
        seen.push(&row.model);
        let _ = writeln!(
            out,
            "Kept pairs of {}: {} % of those planned ({}).",
            row.model,
            rate.percent(),
            rate.source
        );
    }
    for row in rows {
        if let Some(target) = row.target_kept {
            let total = row.estimate.batch_all();
            let _ = writeln!(
                out,
                "{} kept pairs on {}: plan {} pairs, expected {} (worst case {}).",
                thousands(target),
                row.model,
                thousands(row.size),
                total.expected.dollars(),
                total.worst.dollars()
            );
        }
    }
    let _ = writeln!(
        out,
        "Dollars rounded to the cent here; exact values with --format csv or --json."
    );
    out
}
