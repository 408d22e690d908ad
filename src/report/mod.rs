//! Rendering of estimates for people and scripts: the plan table and the cost-per-size
//! table (text, CSV). Renderers only turn values into text; callers decide where it goes.

pub mod cost;
pub mod ledger;

use std::fmt::Write as _;

use std::collections::BTreeMap;

use crate::estimate::{Estimate, Line, SizeEstimate};
use crate::pricing::Usd;

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

/// `12345678` → `12,345,678`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A plain text table: the first column left-aligned, the rest right-aligned.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate().take(columns) {
            if i == 0 {
                let _ = write!(text, "{cell:<width$}", width = widths[i]);
            } else {
                let _ = write!(text, "  {cell:>width$}", width = widths[i]);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header.iter().map(|h| (*h).to_string()).collect::<Vec<_>>());
    for row in rows {
        line(row);
    }
    out
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
        crate::model::family_of(self.model).is_ok_and(|f| f.reasoning_model)
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
pub fn size_csv(rows: &[SizeEstimate]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(SIZE_CSV_HEADER)?;
    for row in rows {
        writer.write_record(size_cells(row))?;
    }
    Ok(String::from_utf8(
        writer
            .into_inner()
            .map_err(csv::IntoInnerError::into_error)?,
    )?)
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

/// The import summary for people: every row read lands in one count.
pub fn import_summary_text(
    input: &std::path::Path,
    summary: &crate::medec::ImportSummary,
) -> String {
    let mut out = String::new();
    let by_type: Vec<String> = summary
        .pairs_by_error_type
        .iter()
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    let _ = writeln!(out, "read {}", input.display());
    let rows = [
        ("rows read", summary.rows, String::new()),
        ("pairs", summary.pairs, by_type.join(", ")),
        (
            "Error Flag 0 rows",
            summary.unpaired_correct_rows,
            "skipped: correct notes with no pair".into(),
        ),
        ("blank rows", summary.blank_rows, "skipped".into()),
        (
            "invalid rows",
            summary.invalid_rows.len() as u64,
            if summary.invalid_rows.is_empty() {
                String::new()
            } else {
                "skipped (--skip-invalid), listed above".into()
            },
        ),
    ];
    let width = rows
        .iter()
        .map(|(_, n, _)| thousands(*n).len())
        .max()
        .unwrap_or(1);
    for (label, count, note) in rows {
        let line = format!("  {label:<18} {:>width$}  {note}", thousands(count));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let checked = summary.corrected_text_exact
        + summary.corrected_text_whitespace_only
        + summary.corrected_text_other.len() as u64;
    if checked > 0 {
        let _ = writeln!(
            out,
            "  corrected text: {} exact sentence swaps, {} differ from the swap only in whitespace, {} otherwise (all kept as released)",
            summary.corrected_text_exact,
            summary.corrected_text_whitespace_only,
            summary.corrected_text_other.len()
        );
    }
    if summary.byte_order_mark {
        let _ = writeln!(
            out,
            "  the file starts with a UTF-8 byte order mark (ignored)"
        );
    }
    out
}

/// One row per shard: where it is at the API, its counts and its files.
pub fn status_table(manifest: &crate::run::Manifest) -> String {
    let mut out = String::new();
    let rows: Vec<Vec<String>> = manifest
        .shards
        .iter()
        .map(|shard| {
            let remote = &shard.remote;
            let state = match (&remote.batch, remote.withdrawn) {
                (_, true) => "withdrawn".to_string(),
                (Some(batch), _) => batch.status.to_string(),
                (None, _) if remote.create_started_at.is_some() => "creating".into(),
                (None, _) if remote.input_file_id.is_some() => "uploaded".into(),
                (None, _) if remote.upload_started_at.is_some() => "uploading".into(),
                (None, _) => "planned".into(),
            };
            let counts = remote
                .batch
                .as_ref()
                .map(|b| b.request_counts)
                .unwrap_or_default();
            let when = |seconds: Option<u64>| {
                seconds
                    .and_then(|s| i64::try_from(s).ok())
                    .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                    .map_or_else(
                        || "-".to_string(),
                        |t| t.format("%Y-%m-%d %H:%M").to_string(),
                    )
            };
            let created = when(remote.batch.as_ref().map(|b| b.created_at));
            let ended = when(remote.batch.as_ref().and_then(|b| {
                b.completed_at
                    .or(b.failed_at)
                    .or(b.expired_at)
                    .or(b.cancelled_at)
            }));
            let files = match (&remote.line_check, &remote.output, &remote.errors) {
                (Some(check), _, _) if !check.problems.is_empty() => check.problems.join("; "),
                (Some(check), _, _) => format!(
                    "{} output + {} error lines",
                    check.output_lines, check.error_lines
                ),
                _ => String::new(),
            };
            vec![
                format!("{:03}", shard.index),
                remote.batch_id.clone().unwrap_or_else(|| "-".into()),
                state,
                thousands(counts.completed),
                thousands(counts.failed),
                thousands(shard.requests),
                created,
                ended,
                files,
            ]
        })
        .collect();
    let _ = writeln!(
        out,
        "run {} ({} shards, model {})\n",
        manifest.run,
        manifest.shards.len(),
        manifest.model
    );
    out.push_str(&table(
        &[
            "shard",
            "batch",
            "status",
            "completed",
            "failed",
            "requests",
            "created (UTC)",
            "ended (UTC)",
            "files",
        ],
        &rows,
    ));
    for shard in &manifest.shards {
        let Some(batch) = &shard.remote.batch else {
            continue;
        };
        for error in &batch.errors {
            let code = error.code.as_deref().unwrap_or("error");
            let _ = writeln!(
                out,
                "shard {:03}: {code}{}: {}",
                shard.index,
                error
                    .line
                    .map(|l| format!(" (line {l})"))
                    .unwrap_or_default(),
                error.message.as_deref().unwrap_or("")
            );
            if let Some(hint) = crate::lifecycle::failure_hint(code) {
                let _ = writeln!(out, "hint: {hint}");
            }
        }
    }
    out
}

/// A safety verdict for people: accepted or not, every failed check, every warning.
pub fn verdict_text(verdict: &crate::safety::Verdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (similarity {:.3})",
        if verdict.accepted {
            "accepted"
        } else {
            "rejected"
        },
        verdict.similarity
    );
    for finding in &verdict.rejections {
        let _ = writeln!(out, "  ✗ {}: {}", finding.check, finding.detail);
    }
    for finding in &verdict.warnings {
        let _ = writeln!(
            out,
            "  ! {}: `{}` differs (synonyms are allowed: left for a model-based review)",
            finding.check, finding.detail
        );
    }
    out
}

/// The reconcile accounting: planned = kept + rejected + failed + expired + missing.
pub fn accounting_table(
    accounting: &BTreeMap<crate::request::RequestKind, crate::reconcile::Accounting>,
) -> String {
    let rows: Vec<Vec<String>> = accounting
        .iter()
        .map(|(kind, a)| {
            vec![
                kind.to_string(),
                thousands(a.planned),
                thousands(a.kept),
                thousands(a.rejected),
                thousands(a.failed),
                thousands(a.expired),
                thousands(a.missing),
                thousands(a.retried),
                if a.adds_up() {
                    "yes".into()
                } else {
                    "NO".into()
                },
            ]
        })
        .collect();
    table(
        &[
            "requests", "planned", "kept", "rejected", "failed", "expired", "missing", "retried",
            "adds up",
        ],
        &rows,
    )
}

/// Ledger rows grouped by dataset size (pairs) and model.
pub fn ledger_groups(rows: &[ledger::LedgerRow]) -> Vec<serde_json::Value> {
    let mut groups: BTreeMap<(u64, String), Vec<&ledger::LedgerRow>> = BTreeMap::new();
    for row in rows {
        groups
            .entry((row.pairs, row.model.clone()))
            .or_default()
            .push(row);
    }
    groups
        .into_iter()
        .map(|((pairs, model), rows)| {
            let actual: Usd = rows.iter().map(|r| r.actual_usd).sum();
            let expected: Usd = rows.iter().map(|r| r.estimated_expected_usd).sum();
            let worst: Usd = rows.iter().map(|r| r.estimated_worst_usd).sum();
            let kept: u64 = rows.iter().map(|r| r.kept_examples).sum();
            serde_json::json!({
                "pairs": pairs,
                "model": model,
                "runs": rows.len(),
                "actual_usd": actual,
                "estimated_expected_usd": expected,
                "estimated_worst_usd": worst,
                "expected_error_percent": ledger::error_percent(&rows),
                "kept_examples": kept,
                "usd_per_kept_example": (kept > 0).then(|| Usd((actual.0 / rust_decimal::Decimal::from(kept)).round_dp(8))),
            })
        })
        .collect()
}

/// The ledger for finance: every run, then per dataset size and model, then totals.
pub fn ledger_text(rows: &[ledger::LedgerRow]) -> String {
    let mut out = String::new();
    let run_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.run.clone(),
                r.date.clone(),
                thousands(r.pairs),
                r.model.clone(),
                r.estimated_expected_usd.cents(),
                r.estimated_worst_usd.cents(),
                r.actual_usd.cents(),
                ledger::error_percent(&[r])
                    .map(|p| format!("{p:+}%"))
                    .unwrap_or_default(),
                thousands(r.kept_examples),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "run",
            "date",
            "pairs",
            "model",
            "expected $",
            "worst $",
            "actual $",
            "error",
            "kept",
        ],
        &run_rows,
    ));
    out.push('\n');
    let group_rows: Vec<Vec<String>> = ledger_groups(rows)
        .iter()
        .map(|g| {
            let usd = |key: &str| {
                g[key]
                    .as_str()
                    .and_then(Usd::parse)
                    .map(Usd::cents)
                    .unwrap_or_default()
            };
            vec![
                g["pairs"].to_string(),
                g["model"].as_str().unwrap_or_default().to_string(),
                g["runs"].to_string(),
                usd("estimated_expected_usd"),
                usd("actual_usd"),
                g["expected_error_percent"]
                    .as_str()
                    .map(|p| format!("{p}%"))
                    .unwrap_or_default(),
                g["usd_per_kept_example"]
                    .as_str()
                    .and_then(Usd::parse)
                    .map(|u| format!("{:.4}", u.0))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "pairs",
            "model",
            "runs",
            "expected $",
            "actual $",
            "error",
            "$ per kept example",
        ],
        &group_rows,
    ));
    let actual: Usd = rows.iter().map(|r| r.actual_usd).sum();
    let expected: Usd = rows.iter().map(|r| r.estimated_expected_usd).sum();
    let _ = writeln!(
        out,
        "\ntotal: {} runs, actual {} (exact {}), expected {}",
        rows.len(),
        actual.cents(),
        actual.exact(),
        expected.cents()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn table_aligns_columns() {
        let text = table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(text, "a    bb\nxyz   1\n");
    }
}
