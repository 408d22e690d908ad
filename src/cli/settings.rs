//! Arguments → the library's plain settings: the bundled prompt config and pricing table
//! (compiled in, so the binary runs from any folder) or the files given instead, shard
//! limits, the calibrated output model, poll schedule and dataset options.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use super::args::{
    DoubtsArg, FallbackArg, NumPairs, PlanArgs, PollArgs, RunRef, SftArgs, SftFormat, VerifyArgs,
};
use crate::batch::PollSchedule;
use crate::job::SftOptions;
use crate::medec::ReadOptions;
use crate::money::PricingTable;
use crate::plan::calibrate::calibrated;
use crate::plan::kept::KeptRate;
use crate::plan::prompts::VerifyPrompt;
use crate::plan::shard::{MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE};
use crate::plan::{
    default_run_name, family_and_prices, Doubts, LoadedPrompts, OutputModel, PlanSettings,
    ShardLimits, VerifySettings,
};
use crate::report::ledger::{self, LEDGER_FILE};
use crate::sft::Fallback;
use crate::store::validate_run_name;
use crate::store::PricingRecord;

/// The bundled prompt config, and the name the manifest records for it.
const BUNDLED_PROMPTS: &str =
    include_str!("../../configs/prompts/gpt4o_medec_safe_augmentation.json");
const BUNDLED_PROMPTS_NAME: &str = "configs/prompts/gpt4o_medec_safe_augmentation.json";
/// The bundled pricing table, and the name the manifest records for it.
const BUNDLED_PRICING: &str = include_str!("../../configs/pricing.toml");
const BUNDLED_PRICING_NAME: &str = "configs/pricing.toml";

/// The prompt config given with `--prompts`, or the bundled one.
pub(crate) fn load_prompts(flag: Option<&Path>) -> anyhow::Result<LoadedPrompts> {
    match flag {
        Some(path) => LoadedPrompts::load(path).with_context(|| {
            format!(
                "`--prompts {}` is not a usable prompt config",
                path.display()
            )
        }),
        None => LoadedPrompts::parse(BUNDLED_PROMPTS.as_bytes(), Path::new(BUNDLED_PROMPTS_NAME))
            .context("the bundled prompt config is not usable"),
    }
}

/// The pricing table given with `--pricing`, or the bundled one.
pub(crate) fn load_pricing(flag: Option<&Path>) -> anyhow::Result<PricingTable> {
    match flag {
        Some(path) => PricingTable::load(path).with_context(|| {
            format!(
                "`--pricing {}` is not a usable pricing table",
                path.display()
            )
        }),
        None => PricingTable::parse(BUNDLED_PRICING, Path::new(BUNDLED_PRICING_NAME))
            .context("the bundled pricing table is not usable"),
    }
}

/// The verify stage's settings, or `None` with `--no-verify`. A prompt config without a
/// `verify` section gets the bundled config's verifier prompt: verification stays on
/// unless it is turned off, whoever wrote the prompts.
pub(crate) fn verify_settings(
    args: &VerifyArgs,
    prompts: &LoadedPrompts,
    pricing: &PricingTable,
) -> anyhow::Result<Option<VerifySettings>> {
    if args.no_verify {
        return Ok(None);
    }
    let (prompt, source): (VerifyPrompt, String) = if let Some(prompt) = &prompts.config.verify {
        (prompt.clone(), prompts.source.clone())
    } else {
        let bundled = load_prompts(None)?;
        let prompt = bundled
            .config
            .verify
            .context("the bundled prompt config has no `verify` section")?;
        let source = format!(
            "{BUNDLED_PROMPTS_NAME} (`{}` has no `verify` section)",
            prompts.source
        );
        (prompt, source)
    };
    let model = args
        .verify_model
        .clone()
        .unwrap_or_else(|| prompt.model.clone());
    let (family, prices) = family_and_prices(pricing, &model)
        .with_context(|| format!("`--verify-model {model}` cannot be priced"))?;
    let record = PricingRecord {
        path: pricing.source.clone(),
        sha256: pricing.sha256.clone(),
        model_family: family.name.into(),
        prices: prices.clone(),
    };
    let mut settings = VerifySettings::new(
        &model,
        &prompt,
        &source,
        record,
        prompts.config.paraphrase.max_output_tokens,
    )?;
    settings.doubts = match args.doubts {
        DoubtsArg::Reject => Doubts::Reject,
        DoubtsArg::Verify => Doubts::Verify,
    };
    Ok(Some(settings))
}

/// The expected-output model of `model`, calibrated from the ledger's runs of its
/// family when there are any.
pub(crate) fn output_model(reports_dir: &Path, model: &str) -> anyhow::Result<OutputModel> {
    let rows = ledger::read(&reports_dir.join(LEDGER_FILE))?;
    let samples: Vec<_> = rows.iter().map(ledger::LedgerRow::sample).collect();
    Ok(calibrated(model, &samples, &OutputModel::default()))
}

/// The kept rate of `model` with the prompt config `prompt_sha256`, observed in the
/// ledger, or the stated default.
pub(crate) fn kept_rate(
    reports_dir: &Path,
    model: &str,
    prompt_sha256: &str,
) -> anyhow::Result<KeptRate> {
    let rows = ledger::read(&reports_dir.join(LEDGER_FILE))?;
    let samples: Vec<_> = rows.iter().map(ledger::LedgerRow::kept_sample).collect();
    Ok(KeptRate::observed(model, prompt_sha256, &samples))
}

pub(crate) fn plan_settings(args: &PlanArgs) -> anyhow::Result<PlanSettings> {
    if args.max_requests_per_shard == 0 || args.max_requests_per_shard > MAX_REQUESTS_PER_FILE {
        bail!(
            "`--max-requests-per-shard` must be from 1 to {MAX_REQUESTS_PER_FILE} (the Batch API's limit)"
        );
    }
    if args.max_shard_bytes == 0 || args.max_shard_bytes > MAX_BYTES_PER_FILE {
        bail!("`--max-shard-bytes` must be from 1 to {MAX_BYTES_PER_FILE} (the Batch API's limit)");
    }
    if args.enqueued_token_limit == Some(0) {
        bail!("`--enqueued-token-limit` must be above 0");
    }
    let prompts = load_prompts(args.prompts.as_deref())?;
    let pricing = load_pricing(args.pricing.as_deref())?;
    let model = args
        .model
        .clone()
        .unwrap_or_else(|| prompts.config.model.clone());
    let output_model = output_model(&args.reports_dir, &model)?;
    let verify = verify_settings(&args.verify, &prompts, &pricing)?;
    let num_pairs = match args.target_kept {
        Some(target) => Some(
            kept_rate(&args.reports_dir, &model, &prompts.sha256)?
                .pairs_for(target)
                .with_context(|| format!("the ledger's runs of `{model}` with this prompt config kept no pair: no number of pairs is expected to keep {target}\nhint: plan with `--num-pairs` instead"))?,
        ),
        None => args.num_pairs.and_then(NumPairs::limit),
    };
    let run = args
        .run
        .clone()
        .unwrap_or_else(|| default_run_name(&args.input, &model, num_pairs));
    Ok(PlanSettings {
        input: args.input.clone(),
        read_options: ReadOptions {
            skip_invalid: args.skip_invalid,
        },
        prompts,
        pricing,
        model,
        reasoning: args.reasoning.enabled(),
        verify,
        num_pairs,
        fewer_pairs_allowed: args.target_kept.is_some(),
        limits: ShardLimits {
            max_requests: args.max_requests_per_shard,
            max_bytes: args.max_shard_bytes,
            max_prompt_tokens: args.enqueued_token_limit,
        },
        budget: args.budget_usd,
        output_model,
        batches_dir: args.batches_dir.clone(),
        run,
        force: args.force,
        jobs: args.jobs,
    })
}

/// The folder of the run a command names.
pub(crate) fn run_dir(target: &RunRef) -> anyhow::Result<PathBuf> {
    validate_run_name(&target.run)?;
    Ok(target.batches_dir.join(&target.run))
}

pub(crate) fn schedule(poll: PollArgs) -> anyhow::Result<PollSchedule> {
    let seconds = |value: f64, flag: &str| {
        Duration::try_from_secs_f64(value)
            .map_err(|_| anyhow::anyhow!("`{flag}` must be a number of seconds, 0 or more"))
    };
    let initial = seconds(poll.poll_initial_seconds, "--poll-initial-seconds")?;
    let max = seconds(poll.poll_max_seconds, "--poll-max-seconds")?.max(initial);
    Ok(PollSchedule {
        initial,
        max,
        ..PollSchedule::default()
    })
}

pub(crate) fn sft_options(args: &SftArgs) -> SftOptions {
    SftOptions {
        output_dir: args.output_dir.clone(),
        fallback: match args.fallback {
            FallbackArg::Drop => Fallback::Drop,
            FallbackArg::Original => Fallback::Original,
        },
        messages: args.format == Some(SftFormat::Messages),
        seed: args.seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_configs_are_the_shipped_files_and_load() {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let prompts = load_prompts(None).unwrap();
        let file = std::fs::read(project.join(BUNDLED_PROMPTS_NAME)).unwrap();
        assert_eq!(prompts.sha256, crate::store::fs::sha256_hex(&file));
        assert_eq!(prompts.source, BUNDLED_PROMPTS_NAME);
        let pricing = load_pricing(None).unwrap();
        assert!(pricing.for_model("gpt-4o", "gpt-4o").is_ok());
        assert_eq!(pricing.source, BUNDLED_PRICING_NAME);
    }

    #[test]
    fn a_missing_override_names_its_flag() {
        let error = load_prompts(Some(Path::new("nowhere.json"))).unwrap_err();
        let shown = format!("{error:#}");
        assert!(
            shown
                .starts_with("`--prompts nowhere.json` is not a usable prompt config: cannot read"),
            "{shown}"
        );
        assert_eq!(
            shown.matches("os error").count(),
            1,
            "the cause once: {shown}"
        );
        let error = load_pricing(Some(Path::new("nowhere.toml"))).unwrap_err();
        assert!(format!("{error:#}").starts_with("`--pricing nowhere.toml`"));
    }
}
