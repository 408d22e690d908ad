//! An unchanged re-plan recognised before any counting: the manifest records a hash of
//! everything a plan is made from, and the same inputs make the same plan.

use std::path::Path;

use serde::Serialize;

use super::output::OutputModel;
use super::shard::ShardLimits;
use super::write::PlanSettings;
use super::PlanError;
use crate::medec::InputFormat;
use crate::store::fs::{sha256_file, sha256_hex};
use crate::store::Manifest;

/// Everything that decides a plan's files and estimate (not the budget, which only
/// decides whether it is written, and is checked again on every plan).
#[derive(Serialize)]
struct PlanInputs<'a> {
    tool_version: &'static str,
    run: &'a str,
    input_sha256: &'a str,
    input_format: InputFormat,
    skip_invalid: bool,
    prompts_sha256: &'a str,
    pricing_sha256: &'a str,
    model: &'a str,
    reasoning: bool,
    num_pairs: Option<u64>,
    limits: ShardLimits,
    output_model: &'a OutputModel,
}

/// sha256 of the plan's inputs: the input file's sha256 and every setting of `settings`
/// that shapes the plan, with the tool's version (a new version may count differently).
pub(super) fn plan_inputs_sha256(
    settings: &PlanSettings,
    input_sha256: &str,
) -> Result<String, PlanError> {
    let inputs = PlanInputs {
        tool_version: env!("CARGO_PKG_VERSION"),
        run: &settings.run,
        input_sha256,
        input_format: InputFormat::from_path(&settings.input)?,
        skip_invalid: settings.read_options.skip_invalid,
        prompts_sha256: &settings.prompts.sha256,
        pricing_sha256: &settings.pricing.sha256,
        model: &settings.model,
        reasoning: settings.reasoning,
        num_pairs: settings.num_pairs,
        limits: settings.limits,
        output_model: &settings.output_model,
    };
    let json = serde_json::to_vec(&inputs).expect("plan inputs are plain JSON");
    Ok(sha256_hex(&json))
}

/// The plan already in `run_dir` when it was made from exactly these inputs: the input
/// file is hashed again (one streaming read) and nothing is counted or written. `None`
/// when there is no plan there, it records no inputs hash (an older manifest), or any
/// input differs: the full plan then decides.
pub(super) fn unchanged_plan(
    settings: &PlanSettings,
    run_dir: &Path,
) -> Result<Option<Manifest>, PlanError> {
    let Ok(existing) = Manifest::load(run_dir) else {
        return Ok(None);
    };
    let Some(recorded) = existing.plan_inputs_sha256.as_deref() else {
        return Ok(None);
    };
    let input_sha256 = sha256_file(&settings.input)?;
    let same = existing.input.sha256 == input_sha256
        && recorded == plan_inputs_sha256(settings, &input_sha256)?;
    Ok(same.then_some(existing))
}
