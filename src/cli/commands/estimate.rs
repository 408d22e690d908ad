//! `safesft estimate`: the cost per dataset size and model, from exact token counts of
//! the real pairs, streamed and counted on every core, with the cost per kept pair and,
//! with `--target-kept N`, the size each model needs. Writes nothing.

use anyhow::bail;
use serde_json::json;

use crate::cli::args::{EstimateArgs, TableFormat};
use crate::cli::output::{stdout_json, stdout_text, warn_about_import, warn_if_prices_stale};
use crate::cli::settings::{kept_rate, load_pricing, load_prompts, output_model, verify_settings};
use crate::cli::ExitStatus;
use crate::medec::ReadOptions;
use crate::plan::family_and_prices;
use crate::plan::sizes::{size_estimates_streamed, SizeModel};
use crate::report;

pub(super) fn estimate(args: &EstimateArgs) -> anyhow::Result<ExitStatus> {
    if args.sizes.contains(&0) {
        bail!("`--sizes` must be whole numbers of pairs above 0");
    }
    let prompts = load_prompts(args.prompts.as_deref())?;
    let pricing = load_pricing(args.pricing.as_deref())?;
    let models = if args.models.is_empty() {
        vec![prompts.config.model.clone()]
    } else {
        args.models.clone()
    };
    let verify = verify_settings(&args.verify, &prompts, &pricing)?;
    let mut models_priced = Vec::new();
    let mut rates = Vec::new();
    let mut sizes = args.sizes.clone();
    for model in &models {
        let (_, prices) = family_and_prices(&pricing, model)?;
        warn_if_prices_stale(model, &prices.checked);
        models_priced.push(SizeModel {
            model,
            pricing: prices,
            output_model: output_model(&args.reports_dir, model)?,
            verify: verify.as_ref(),
        });
        let rate = kept_rate(&args.reports_dir, model, &prompts.sha256)?;
        let target_size = match args.target_kept {
            Some(target) => Some(rate.pairs_for(target).ok_or_else(|| {
                anyhow::anyhow!("the ledger's runs of `{model}` kept no pair: no size keeps {target}\nhint: estimate with `--sizes` instead")
            })?),
            None => None,
        };
        sizes.extend(target_size);
        rates.push((rate, target_size));
    }
    sizes.sort_unstable();
    sizes.dedup();
    let (rows, summary) = size_estimates_streamed(
        &args.input,
        ReadOptions {
            skip_invalid: args.skip_invalid,
        },
        args.jobs,
        &prompts,
        &models_priced,
        args.reasoning.enabled(),
        &sizes,
    )?;
    warn_about_import(&summary);
    if summary.pairs == 0 {
        bail!("`{}` holds no pairs to estimate from", args.input.display());
    }
    // Rows come model by model, each with every size: keep the sizes asked for and the
    // model's own target size.
    let mut rows: Vec<_> = rows
        .into_iter()
        .filter_map(|mut row| {
            let index = models.iter().position(|m| *m == row.model)?;
            let (rate, target_size) = &rates[index];
            let is_target = *target_size == Some(row.size);
            if !args.sizes.contains(&row.size) && !is_target {
                return None;
            }
            row.keep(rate);
            row.target_kept = args.target_kept.filter(|_| is_target);
            Some(row)
        })
        .collect();
    rows.sort_by_key(|row| row.size);
    match args.format.with_json(args.json) {
        TableFormat::Table => stdout_text(&report::size_table(&rows, args.reasoning.enabled()))?,
        TableFormat::Csv => stdout_text(&report::size_csv(&rows))?,
        TableFormat::Json => stdout_json(&json!({
            "input": args.input,
            "pairs_available": summary.pairs,
            "reasoning": args.reasoning.enabled(),
            "verify_model": verify.as_ref().map(|v| &v.model),
            "target_kept": args.target_kept,
            "rows": rows,
        }))?,
    }
    Ok(ExitStatus::Success)
}
