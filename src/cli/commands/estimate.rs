//! `safesft estimate`: the cost per dataset size and model, from exact token counts of
//! the real pairs, streamed and counted on every core. Writes nothing.

use anyhow::bail;
use serde_json::json;

use crate::cli::args::{EstimateArgs, TableFormat};
use crate::cli::output::{stdout_json, stdout_text, warn_about_import, warn_if_prices_stale};
use crate::cli::settings::{load_pricing, load_prompts, output_model};
use crate::cli::ExitStatus;
use crate::medec::ReadOptions;
use crate::plan::family_and_prices;
use crate::plan::sizes::{size_estimates_streamed, SizeModel};
use crate::report;

pub(super) fn estimate(args: &EstimateArgs) -> anyhow::Result<ExitStatus> {
    let mut sizes = args.sizes.clone();
    if sizes.contains(&0) {
        bail!("`--sizes` must be whole numbers of pairs above 0");
    }
    sizes.sort_unstable();
    sizes.dedup();
    let prompts = load_prompts(args.prompts.as_deref())?;
    let pricing = load_pricing(args.pricing.as_deref())?;
    let models = if args.models.is_empty() {
        vec![prompts.config.model.clone()]
    } else {
        args.models.clone()
    };
    let mut models_priced = Vec::new();
    for model in &models {
        let (_, prices) = family_and_prices(&pricing, model)?;
        warn_if_prices_stale(model, &prices.checked);
        models_priced.push(SizeModel {
            model,
            pricing: prices,
        });
    }
    let output_model = output_model(&args.reports_dir)?;
    let (mut rows, summary) = size_estimates_streamed(
        &args.input,
        ReadOptions {
            skip_invalid: args.skip_invalid,
        },
        args.jobs,
        &prompts,
        &models_priced,
        args.reasoning.enabled(),
        &sizes,
        &output_model,
    )?;
    warn_about_import(&summary);
    if summary.pairs == 0 {
        bail!("`{}` holds no pairs to estimate from", args.input.display());
    }
    rows.sort_by_key(|row| row.size);
    match args.format {
        TableFormat::Table => stdout_text(&report::size_table(&rows, args.reasoning.enabled()))?,
        TableFormat::Csv => stdout_text(&report::size_csv(&rows))?,
        TableFormat::Json => stdout_json(&json!({
            "input": args.input,
            "pairs_available": summary.pairs,
            "reasoning": args.reasoning.enabled(),
            "rows": rows,
        }))?,
    }
    Ok(ExitStatus::Success)
}
