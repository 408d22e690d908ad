//! `safesft plan`: the dry run. Builds and prices the requests, checks the budget and
//! writes the run folder (or nothing, when over budget).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::json;

use crate::cli::args::PlanArgs;
use crate::cli::output::{stdout_json, stdout_text, warn_about_import, warn_if_prices_stale};
use crate::cli::progress::progress_bar;
use crate::cli::settings::{kept_rate, plan_settings};
use crate::cli::ExitStatus;
use crate::plan::kept::{KeptRate, TargetKept};
use crate::plan::{self as planning, PlanOutcome};
use crate::report::{self, PlanView};
use crate::store::Manifest;

fn manifest_view<'a>(
    manifest: &'a Manifest,
    kept: &'a KeptRate,
    target: Option<&'a TargetKept>,
) -> PlanView<'a> {
    PlanView {
        run: &manifest.run,
        model: &manifest.model,
        encoding: manifest.encoding.as_str(),
        pairs_planned: manifest.input.pairs_planned,
        pairs_available: manifest.input.pairs_available,
        shards: manifest.shards.len(),
        reasoning: manifest.reasoning,
        schema_allowance_tokens: manifest.schema_allowance_tokens,
        budget: manifest.budget_usd,
        estimate: &manifest.estimate,
        kept_rate: Some(kept),
        target,
    }
}

/// What the JSON output adds to the manifest: the kept rate, the pairs expected to be
/// kept and the dollars per kept pair, and what `--target-kept` planned.
fn kept_json(
    kept: &KeptRate,
    target: Option<&TargetKept>,
    estimate: &crate::plan::Estimate,
) -> serde_json::Value {
    json!({
        "kept_rate": kept,
        "expected_kept_pairs": kept.expected_kept(estimate.pairs),
        "expected_usd_per_kept_pair": kept.usd_per_kept_pair(estimate.total.batch.expected, estimate.pairs),
        "target_kept": target,
    })
}

/// What `--target-kept n` planned, from the pairs the plan took.
fn target_kept(n: u64, kept: &KeptRate, outcome: &PlanOutcome) -> TargetKept {
    let planned = match outcome {
        PlanOutcome::Planned(m) | PlanOutcome::Unchanged(m) => m.input.pairs_planned,
        PlanOutcome::OverBudget { estimate, .. } => estimate.pairs,
    };
    TargetKept::new(n, kept.clone(), planned)
}

/// Plans a run; returns the exit status and the run folder when a plan is in place.
/// With `show_plan` false a plan in place is not printed (the caller prints one
/// document of its own); a refusal always is.
pub(super) fn plan(
    args: &PlanArgs,
    show_plan: bool,
) -> anyhow::Result<(ExitStatus, Option<PathBuf>)> {
    let settings = plan_settings(args)?;
    let family = crate::plan::family_of(&settings.model)?;
    if let Ok((_, pricing)) = planning::family_and_prices(&settings.pricing, &settings.model) {
        warn_if_prices_stale(&settings.model, &pricing.checked);
    }
    if family.reasoning_model
        && (settings.prompts.config.paraphrase.max_output_tokens < 4096
            || settings.reasoning && settings.prompts.config.reasoning.max_output_tokens < 4096)
    {
        eprintln!(
            "warning: `{}` spends hidden reasoning tokens inside `max_completion_tokens`: caps under 4096 may truncate answers\nhint: raise `max_output_tokens` in the prompt config for this model",
            settings.model
        );
    }
    let kept = kept_rate(&args.reports_dir, &settings.model, &settings.prompts.sha256)?;
    let bar = progress_bar(args.quiet);
    let outcome = planning::plan(&settings, &|pairs| bar.set_position(pairs));
    bar.finish_and_clear();
    let run_dir = settings.batches_dir.join(&settings.run);
    let outcome = outcome?;
    let target = args.target_kept.map(|n| target_kept(n, &kept, &outcome));
    let target = target.as_ref();
    match outcome {
        PlanOutcome::Planned(manifest) | PlanOutcome::Unchanged(manifest) if !show_plan => {
            warn_about_import(&manifest.input.import);
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::Planned(manifest) | PlanOutcome::Unchanged(manifest) if args.json => {
            warn_about_import(&manifest.input.import);
            stdout_json(&json!({
                "status": "planned",
                "run_dir": run_dir,
                "manifest": manifest,
                "kept": kept_json(&kept, target, &manifest.estimate),
            }))?;
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::Planned(manifest) => {
            warn_about_import(&manifest.input.import);
            let mut text = report::plan_table(&manifest_view(&manifest, &kept, target));
            let _ = write!(text, "\nPlanned into {}\n", run_dir.display());
            stdout_text(&text)?;
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::Unchanged(manifest) => {
            let mut text = report::plan_table(&manifest_view(&manifest, &kept, target));
            let _ = write!(
                text,
                "\nAlready planned, identical: {} is unchanged\n",
                run_dir.display()
            );
            stdout_text(&text)?;
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::OverBudget {
            estimate,
            budget,
            over,
            import,
        } => {
            warn_about_import(&import);
            if args.json {
                stdout_json(&json!({
                    "status": "over_budget",
                    "run_dir": null,
                    "budget_usd": budget,
                    "over_budget_usd": over,
                    "estimate": estimate,
                    "kept": kept_json(&kept, target, &estimate),
                }))?;
            } else {
                let view = PlanView {
                    run: &settings.run,
                    model: &settings.model,
                    encoding: family.encoding.as_str(),
                    pairs_planned: estimate.pairs,
                    pairs_available: import.pairs,
                    shards: 0,
                    reasoning: settings.reasoning,
                    schema_allowance_tokens: 0,
                    budget: Some(budget),
                    estimate: &estimate,
                    kept_rate: Some(&kept),
                    target,
                };
                stdout_text(&report::plan_table(&view))?;
            }
            eprintln!(
                "error: the worst case {} is over the budget {} by {}: nothing was written\nhint: plan fewer pairs (`--num-pairs`), drop reasoning (`--no-reasoning`), a cheaper verifier (`--verify-model`) or none (`--no-verify`), pick a cheaper model (`--model gpt-4o-mini`) or lower the output caps",
                estimate.batch_all().worst.dollars(),
                budget.dollars(),
                over.dollars()
            );
            Ok((ExitStatus::Failure, None))
        }
    }
}
