//! `safesft retry`: send again, as a new attempt, what a new answer may fix; answers cut
//! off by their output cap only with a raised cap (`--truncated-cap`), never as they were.

use std::collections::BTreeMap;

use anyhow::bail;
use serde_json::json;

use crate::batch;
use crate::cli::args::RetryArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::progress::Progress;
use crate::cli::settings::run_dir;
use crate::cli::ExitStatus;
use crate::job::reconcile_results;
use crate::money::Usd;
use crate::plan::Stage;
use crate::reconcile::collect::RunFiles;
use crate::reconcile::{AnswerSource, Outcome, Reconciled, Resolved};
use crate::report::cost::cost_report;
use crate::report::status_table;
use crate::store::RunDir;

use super::{http_api, runtime};

/// What a retry resends.
struct Picked {
    retryable: Vec<Resolved>,
    /// Raised output caps, by the `custom_id` of the answer cut off.
    caps: BTreeMap<String, u32>,
    /// Answers cut off by their cap and not resent (no `--truncated-cap`).
    truncated_skipped: usize,
}

/// The requests a new answer may fix. An answer cut off by its output cap is resent
/// only with `truncated_cap`: the same cap would cut the same answer off again.
fn pick(
    files: &RunFiles,
    reconciled: &Reconciled,
    truncated_cap: Option<u32>,
) -> anyhow::Result<Picked> {
    let mut picked = Picked {
        retryable: Vec::new(),
        caps: BTreeMap::new(),
        truncated_skipped: 0,
    };
    for attempt in reconciled
        .finals()
        .filter(|a| a.outcome != Outcome::Kept && a.retryable)
    {
        let resolved = reconciled.resolved(attempt, (None, None));
        let truncated = match attempt.answer {
            Some(at) => files
                .line(at)?
                .response
                .is_some_and(|r| r.body.finish_reason.as_deref() == Some("length")),
            None => false,
        };
        if truncated {
            let Some(cap) = truncated_cap else {
                picked.truncated_skipped += 1;
                continue;
            };
            picked.caps.insert(resolved.custom_id.clone(), cap);
        }
        picked.retryable.push(resolved);
    }
    Ok(picked)
}

/// The retry attempts, one per stage with requests to resend: a shard holds one
/// stage's requests, and verify requests are priced at the verifier's prices.
fn plan_by_stage(
    run: &RunDir,
    to_retry: &[&Resolved],
    caps: &BTreeMap<String, u32>,
) -> anyhow::Result<Vec<batch::RetryPlan>> {
    let mut plans = Vec::new();
    for stage in [Stage::Generate, Stage::Verify] {
        let of_stage: Vec<&Resolved> = to_retry
            .iter()
            .copied()
            .filter(|r| r.kind.stage() == stage)
            .collect();
        if !of_stage.is_empty() {
            plans.push(batch::plan_retry(run, stage, &of_stage, caps)?);
        }
    }
    Ok(plans)
}

/// The worst case of verifying the paraphrases among `to_retry` once rewritten: the
/// plan's verify worst case per pair (a paraphrase at its cap, the verifier at its
/// cap), or nothing without a verify stage.
fn verify_reserve(run: &RunDir, to_retry: &[&Resolved]) -> Usd {
    let paraphrases = to_retry
        .iter()
        .filter(|r| r.kind == crate::plan::RequestKind::Paraphrase)
        .count();
    let Some(verify) = &run.manifest.estimate.verify else {
        return Usd::ZERO;
    };
    let requests = verify.worst_tokens.requests;
    if requests == 0 {
        return Usd::ZERO;
    }
    let per_pair = verify.batch.worst.0 / rust_decimal::Decimal::from(requests);
    Usd(per_pair * rust_decimal::Decimal::from(paraphrases as u64))
}

pub(super) fn retry(args: &RetryArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = RunDir::open(&dir)?;
    let json = args.target.json;
    if run
        .manifest
        .shards
        .iter()
        .any(|s| !s.remote.withdrawn && s.remote.line_check.is_none())
    {
        bail!(
            "run `{}` still has shards without results\nhint: `safesft wait {}` first; a retry is built from finished results",
            run.manifest.run,
            run.manifest.run
        );
    }
    run.verify_plan_files()?;
    // A damaged download would make answered requests look missing: fetch it again
    // first, so nothing already answered is paid for twice.
    if !batch::damaged_downloads(&run)?.is_empty() {
        let api = http_api()?;
        let mut progress = Progress::new(json);
        runtime()?.block_on(batch::repair_downloads(&api, &mut run, &mut progress))?;
    }
    let (files, reconciled) = reconcile_results(&run)?;
    let spent = cost_report(&run.manifest, &reconciled, 0).total.actual_usd;
    let Picked {
        retryable,
        caps,
        truncated_skipped,
    } = pick(&files, &reconciled, args.truncated_cap)?;
    drop(files);
    if truncated_skipped > 0 {
        eprintln!(
            "{truncated_skipped} answer(s) were cut off by their output cap (`finish_reason: length`) and are not resent with the same cap\nhint: `--truncated-cap N` resends them with a cap of N tokens (priced and checked against the budget)"
        );
    }
    let to_retry: Vec<&Resolved> = retryable.iter().collect();
    if to_retry.is_empty() {
        if json {
            stdout_json(
                &json!({"run": run.manifest.run, "retried": 0, "truncated_not_retried": truncated_skipped, "shards": run.manifest.shards}),
            )?;
        } else {
            stdout_text("nothing to retry: every request was kept, or failed in a way a new answer cannot fix\n")?;
        }
        return Ok(ExitStatus::Success);
    }
    let retry_plans = plan_by_stage(&run, &to_retry, &caps)?;
    // A rewritten paraphrase is verified in its turn (stage 2): reserved now.
    let new_worst: Usd =
        retry_plans.iter().map(|p| p.worst_usd).sum::<Usd>() + verify_reserve(&run, &to_retry);
    let budget = args.budget_usd.or(run.manifest.budget_usd);
    if let Some(budget) = budget {
        if spent + new_worst > budget {
            eprintln!(
                "error: spent {spent} + this retry's worst case {new_worst} = {} is over the budget {budget}: nothing was added",
                spent + new_worst
            );
            if json {
                stdout_json(
                    &json!({"run": run.manifest.run, "retried": 0, "over_budget": true, "spent_usd": spent, "retry_worst_usd": new_worst, "budget_usd": budget}),
                )?;
            }
            return Ok(ExitStatus::Failure);
        }
    }
    let shards: usize = retry_plans.iter().map(|p| p.shards.len()).sum();
    for retry_plan in retry_plans {
        batch::apply_retry(&mut run, retry_plan)?;
    }
    eprintln!(
        "retrying {} requests in {shards} new shard(s); worst case {new_worst}, spent so far {spent}",
        to_retry.len()
    );
    if !args.no_submit {
        let api = http_api()?;
        let mut progress = Progress::new(json);
        runtime()?.block_on(batch::submit_ready(&api, &mut run, &mut progress))?;
    }
    if json {
        stdout_json(&json!({
            "run": run.manifest.run,
            "retried": to_retry.len(),
            "raised_caps": caps.len(),
            "truncated_not_retried": truncated_skipped,
            "new_shards": shards,
            "retry_worst_usd": new_worst,
            "spent_usd": spent,
            "submitted": !args.no_submit,
            "shards": run.manifest.shards,
        }))?;
    } else {
        stdout_text(&status_table(&run.manifest))?;
    }
    if !args.no_submit {
        eprintln!(
            "next: `safesft wait {0}`, then `safesft reconcile {0}`",
            run.manifest.run
        );
    }
    Ok(ExitStatus::Success)
}
