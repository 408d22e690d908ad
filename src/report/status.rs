//! What the lifecycle commands print: the import summary, the per-shard status table,
//! a safety verdict and the reconcile accounting.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::tables::{table, thousands};

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

/// One line per stage: its model, shards, requests and how many shards finished.
fn stage_lines(manifest: &crate::store::Manifest) -> String {
    use crate::plan::Stage;
    let mut out = String::new();
    for stage in [Stage::Generate, Stage::Verify] {
        let shards: Vec<_> = manifest
            .shards
            .iter()
            .filter(|s| s.stage == stage)
            .collect();
        let model = match stage {
            Stage::Generate => manifest.model.as_str(),
            Stage::Verify => {
                let Some(verify) = &manifest.verify else {
                    let _ = writeln!(out, "stage 2 (verify): off");
                    continue;
                };
                verify.model.as_str()
            }
        };
        if shards.is_empty() && manifest.cancelled_at.is_some() {
            let _ = writeln!(
                out,
                "stage {} ({}, {model}): not built: the run was cancelled (`safesft retry` goes on)",
                stage.number(),
                stage.as_str()
            );
            continue;
        }
        if shards.is_empty() {
            let _ = writeln!(
                out,
                "stage {} ({}, {model}): not built yet (built once stage 1's answers are in and rule-checked)",
                stage.number(),
                stage.as_str()
            );
            continue;
        }
        let finished = shards
            .iter()
            .filter(|s| s.remote.line_check.is_some() || s.remote.withdrawn)
            .count();
        let _ = writeln!(
            out,
            "stage {} ({}, {model}): {} shard(s), {} requests, {finished} finished",
            stage.number(),
            stage.as_str(),
            shards.len(),
            thousands(shards.iter().map(|s| s.requests).sum()),
        );
    }
    out
}

/// A Unix time as a table shows it (`-` when unknown).
fn when(seconds: Option<u64>) -> String {
    seconds
        .and_then(|s| i64::try_from(s).ok())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
}

/// One row per shard: where it is at the API, its counts and its files.
pub fn status_table(manifest: &crate::store::Manifest) -> String {
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
                format!("{} {}", shard.stage.number(), shard.stage.as_str()),
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
        "run {} ({} shards, model {})",
        manifest.run,
        manifest.shards.len(),
        manifest.model
    );
    out.push_str(&stage_lines(manifest));
    out.push('\n');
    out.push_str(&table(
        &[
            "shard",
            "stage",
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
            if let Some(hint) = crate::batch::failure_hint(code) {
                let _ = writeln!(out, "hint: {hint}");
            }
        }
    }
    out
}

/// A safety verdict for people: accepted or not, every failed check with its spans.
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
        let side =
            |span: &Option<String>| span.as_deref().map_or("—".into(), |s| format!("“{s}”"));
        if finding.original_span.is_some() || finding.paraphrase_span.is_some() {
            let _ = writeln!(
                out,
                "      original {} · paraphrase {}",
                side(&finding.original_span),
                side(&finding.paraphrase_span)
            );
        }
    }
    out
}

/// The reconcile accounting: planned = kept + rejected + failed + expired + missing.
pub fn accounting_table(
    accounting: &BTreeMap<crate::plan::RequestKind, crate::reconcile::Accounting>,
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
