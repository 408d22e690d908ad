//! The plan step that touches files: streams pairs through the counting threads into
//! request shards in a staging folder, prices them, checks the budget, and only then
//! swaps the folder into place; an unchanged re-plan is recognised before any of that.

use std::fmt::Write as _;
use std::path::Path;

use super::estimate::{Estimate, VerifyEstimate};
use super::model::{self, ModelFamily};
use super::request::RequestBuilder;
use super::settings::PlanSettings;
use super::staging::{ContextGuard, PairLines, Staged, Staging};
use super::verify::VerifyBuilder;
use super::{pipeline, replan, PlanError};
use crate::medec::{ImportSummary, InputFormat};
use crate::money::{ModelPricing, PricingTable, Usd};
use crate::store::fs::{
    remove_stale, sync_dir, write_json_atomic, REPLACED_PREFIX, STAGING_PREFIX,
};
use crate::store::manifest::{MANIFEST_FILE, MANIFEST_VERSION};
use crate::store::{
    validate_run_name, FileRecord, InputRecord, Manifest, PricingRecord, StoreError,
};

/// What `plan` did.
#[derive(Debug)]
pub enum PlanOutcome {
    /// A new plan was written.
    Planned(Box<Manifest>),
    /// The run already had this exact plan; nothing was written.
    Unchanged(Box<Manifest>),
    /// The worst case is over the budget; nothing was written.
    OverBudget {
        estimate: Box<Estimate>,
        budget: Usd,
        over: Usd,
        import: Box<ImportSummary>,
    },
}

/// The default run name: the input file's stem and the model, as a slug.
pub fn default_run_name(input: &Path, model: &str, num_pairs: Option<u64>) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut slug: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    slug.truncate(40);
    let mut name = format!("{}-{model}", slug.trim_matches('-'));
    if let Some(n) = num_pairs {
        let _ = write!(name, "-n{n}");
    }
    name
}

/// Streams the input into request shards in a staging folder (the counting spread over
/// `settings.jobs` threads), prices the plan, checks the budget, and only then moves the
/// whole folder into `batches/<run>` at once. A run already planned from the same inputs
/// is recognised from its manifest first, without counting or writing anything.
/// `progress` is called with the number of pairs planned so far.
pub fn plan(settings: &PlanSettings, progress: &dyn Fn(u64)) -> Result<PlanOutcome, PlanError> {
    validate_run_name(&settings.run)?;
    let (family, pricing) = family_and_prices(&settings.pricing, &settings.model)?;
    let batches_dir = &settings.batches_dir;
    let run_dir = batches_dir.join(&settings.run);
    if let Some(unchanged) = unchanged(settings, &run_dir)? {
        return Ok(unchanged);
    }
    let staging_dir = staging_folder(batches_dir)?;
    let root = staging_dir.path().to_path_buf();
    let builder = RequestBuilder::new(
        &settings.prompts,
        &settings.model,
        family,
        settings.output_model.clone(),
        settings.reasoning,
    );
    let verify = settings
        .verify
        .as_ref()
        .map(|verify| VerifyBuilder::new(verify, settings.output_model.clone()))
        .transpose()?;
    let mut staging = Staging::new(&root, &settings.model, settings.limits, builder.kinds())?;
    let pool = pipeline::thread_pool(settings.jobs)?;
    let mut guard = ContextGuard::new(settings, family.context_window);
    let read = pipeline::map_pairs_in_order(
        &settings.input,
        settings.read_options,
        settings.num_pairs.unwrap_or(u64::MAX),
        &pool,
        |index, pair| PairLines::new(&builder, verify.as_ref(), pair, index == 0),
        |lines| {
            if guard.admit(&lines)? {
                staging.add(lines)?;
                progress(staging.planned());
            }
            Ok(())
        },
    )
    .map_err(|error| guard.locate(error, settings.read_options))?;
    drop(pool);
    let mut import = read.summary;
    import
        .invalid_rows
        .extend(guard.skipped_rows(settings.read_options));
    let allowance = schema_allowance(&builder, settings.reasoning);
    let staged = staging.finish()?;
    check_pairs(
        settings,
        &import,
        staged.planned,
        guard.skipped.len() as u64,
    )?;
    let estimate = both_stages(settings, pricing, &staged);
    if let Some(budget) = settings.budget {
        if let Err(over) = estimate.check_budget(budget) {
            return Ok(PlanOutcome::OverBudget {
                estimate: Box::new(estimate),
                budget,
                over,
                import: Box::new(import),
            });
        }
    }
    let plan_hash = staged.plan_hash(&settings.model, settings.verify.as_ref());
    let replaced = match existing_plan(settings, &run_dir, &plan_hash)? {
        Existing::Same(manifest) => return Ok(PlanOutcome::Unchanged(manifest)),
        Existing::Replace => true,
        Existing::None => false,
    };
    let plan_inputs_sha256 = replan::plan_inputs_sha256(settings, &read.sha256)?;
    let manifest = Manifest {
        schema_allowance_tokens: allowance,
        plan_inputs_sha256: Some(plan_inputs_sha256),
        ..new_manifest(
            settings,
            family,
            pricing,
            staged,
            Planned {
                import,
                input_sha256: read.sha256,
                plan_hash,
                estimate,
            },
        )?
    };
    write_json_atomic(&root.join(MANIFEST_FILE), &manifest)?;
    swap_into_place(&staging_dir.keep(), batches_dir, &settings.run, replaced)?;
    Ok(PlanOutcome::Planned(Box::new(manifest)))
}

/// The estimate of both stages: stage 1's requests at the model's prices, and the
/// verify stage (when on) at the verifier's.
fn both_stages(settings: &PlanSettings, pricing: &ModelPricing, staged: &Staged) -> Estimate {
    let mut estimate = Estimate::new(
        &settings.model,
        pricing,
        &settings.output_model,
        staged.planned,
        &staged.totals,
    );
    if let Some(verify) = &settings.verify {
        let (worst, expected) = staged.verify_totals;
        estimate.verify = Some(VerifyEstimate::new(
            &verify.model,
            verify.encoding,
            &verify.pricing.prices,
            worst,
            expected,
        ));
    }
    estimate
}

/// The outcome of planning again from the same inputs, recognised without counting or
/// writing anything (the budget is checked again), or `None` to plan.
fn unchanged(settings: &PlanSettings, run_dir: &Path) -> Result<Option<PlanOutcome>, PlanError> {
    let Some(existing) = replan::unchanged_plan(settings, run_dir)? else {
        return Ok(None);
    };
    if let Some(budget) = settings.budget {
        if let Err(over) = existing.estimate.check_budget(budget) {
            return Ok(Some(PlanOutcome::OverBudget {
                estimate: Box::new(existing.estimate),
                budget,
                over,
                import: Box::new(existing.input.import),
            }));
        }
    }
    Ok(Some(PlanOutcome::Unchanged(Box::new(existing))))
}

/// A fresh staging folder in `batches_dir`, named after this process
/// (`.plan-<pid>-…`), after removing the ones processes that are gone left behind.
fn staging_folder(batches_dir: &Path) -> Result<tempfile::TempDir, StoreError> {
    std::fs::create_dir_all(batches_dir).map_err(StoreError::create_dir(batches_dir))?;
    remove_stale(batches_dir, &[STAGING_PREFIX, REPLACED_PREFIX])?;
    tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
        .tempdir_in(batches_dir)
        .map_err(StoreError::create_dir(batches_dir))
}

/// Some pairs were planned, and as many as `--num-pairs` asked for: never silently
/// fewer. On an error nothing is written (the staging folder goes with it).
fn check_pairs(
    settings: &PlanSettings,
    import: &ImportSummary,
    planned: u64,
    skipped: u64,
) -> Result<(), PlanError> {
    if planned == 0 {
        return Err(PlanError::NoPairs {
            input: settings.input.clone(),
            rows: import.rows,
            unpaired: import.unpaired_correct_rows,
            blank: import.blank_rows,
        });
    }
    // Pairs skipped for `--skip-invalid` count as read: they are listed, not missing.
    if let Some(wanted) = settings
        .num_pairs
        .filter(|n| *n > planned + skipped && !settings.fewer_pairs_allowed)
    {
        return Err(PlanError::TooFewPairs {
            input: settings.input.clone(),
            wanted,
            available: planned + skipped,
        });
    }
    Ok(())
}

/// What planning found, for the manifest.
struct Planned {
    import: ImportSummary,
    input_sha256: String,
    plan_hash: String,
    estimate: Estimate,
}

/// The manifest of a new plan (its schema allowance and inputs hash are filled in by
/// the caller).
fn new_manifest(
    settings: &PlanSettings,
    family: ModelFamily,
    prices: &ModelPricing,
    staged: Staged,
    planned: Planned,
) -> Result<Manifest, PlanError> {
    let Planned {
        import,
        input_sha256,
        plan_hash,
        estimate,
    } = planned;
    let requests = staged.shards.iter().map(|s| s.requests).sum();
    Ok(Manifest {
        manifest_version: MANIFEST_VERSION,
        run: settings.run.clone(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        planned_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        plan_hash,
        plan_inputs_sha256: None,
        input: InputRecord {
            path: settings.input.display().to_string(),
            sha256: input_sha256,
            format: InputFormat::from_path(&settings.input)?,
            pairs_available: import.pairs,
            pairs_planned: staged.planned,
            import,
        },
        pairs_file: staged.pairs_file,
        prompt_config: FileRecord {
            path: settings.prompts.source.clone(),
            sha256: settings.prompts.sha256.clone(),
            bytes: settings.prompts.bytes,
        },
        pricing: PricingRecord {
            path: settings.pricing.source.clone(),
            sha256: settings.pricing.sha256.clone(),
            model_family: family.name.into(),
            prices: prices.clone(),
        },
        model: settings.model.clone(),
        encoding: family.encoding,
        reasoning: settings.reasoning,
        verify: settings.verify.clone(),
        cancelled_at: None,
        limits: settings.limits,
        budget_usd: settings.budget,
        schema_allowance_tokens: 0,
        shards: staged.shards,
        request_index: staged.request_index,
        requests,
        estimate,
    })
}

fn schema_allowance(builder: &RequestBuilder<'_>, reasoning: bool) -> u64 {
    if reasoning {
        builder.schema_allowance_tokens()
    } else {
        0
    }
}

/// What is already at the run's folder.
enum Existing {
    None,
    Same(Box<Manifest>),
    Replace,
}

/// Compares the new plan with the one already in `run_dir`, if any: the same plan is
/// kept; another one is replaced only with `--force` and never once submitted.
fn existing_plan(
    settings: &PlanSettings,
    run_dir: &Path,
    plan_hash: &str,
) -> Result<Existing, PlanError> {
    if !run_dir.exists() {
        return Ok(Existing::None);
    }
    match Manifest::load(run_dir) {
        Ok(existing) if existing.plan_hash == plan_hash => Ok(Existing::Same(Box::new(existing))),
        Ok(existing) if existing.submitted() => Err(PlanError::AlreadySubmitted {
            run: settings.run.clone(),
        }),
        _ if !settings.force => Err(PlanError::Exists {
            run: settings.run.clone(),
            dir: run_dir.to_path_buf(),
        }),
        _ => Ok(Existing::Replace),
    }
}

/// Moves the finished staging folder to `run_dir` (the old plan set aside and removed
/// when `replaced`): the run folder is never half-written.
fn swap_into_place(
    staged: &Path,
    batches_dir: &Path,
    run: &str,
    replaced: bool,
) -> Result<(), StoreError> {
    let run_dir = batches_dir.join(run);
    let run_dir = run_dir.as_path();
    if replaced {
        let aside = batches_dir.join(format!("{REPLACED_PREFIX}{}-{run}", std::process::id()));
        std::fs::rename(run_dir, &aside).map_err(StoreError::rename(run_dir, &aside))?;
        std::fs::rename(staged, run_dir).map_err(StoreError::rename(staged, run_dir))?;
        std::fs::remove_dir_all(&aside).map_err(StoreError::remove(&aside))?;
    } else if let Err(error) = std::fs::rename(staged, run_dir) {
        // Another process planned the same run at the same instant and won the rename.
        let _ = std::fs::remove_dir_all(staged);
        return Err(if run_dir.join(MANIFEST_FILE).exists() {
            StoreError::Locked {
                dir: run_dir.to_path_buf(),
            }
        } else {
            StoreError::rename(staged, run_dir)(error)
        });
    }
    sync_dir(batches_dir)
}

/// The family of a model the plan can price and its prices (a dated snapshot's own
/// prices where they differ from its family's), for callers that check before planning.
pub fn family_and_prices<'a>(
    pricing: &'a PricingTable,
    model: &str,
) -> Result<(ModelFamily, &'a ModelPricing), PlanError> {
    let family = model::family_of(model)?;
    Ok((family, pricing.for_model(model, family.name)?.prices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losing_the_race_to_plan_a_run_says_it_is_in_use_and_leaves_nothing() {
        let batches = tempfile::tempdir().unwrap();
        let winner = batches.path().join("r");
        std::fs::create_dir(&winner).unwrap();
        std::fs::write(winner.join(MANIFEST_FILE), "{}").unwrap();
        let staged = batches.path().join(".plan-1-x");
        std::fs::create_dir(&staged).unwrap();
        std::fs::write(staged.join(MANIFEST_FILE), "{}").unwrap();
        let error = swap_into_place(&staged, batches.path(), "r", false).unwrap_err();
        assert!(matches!(error, StoreError::Locked { .. }), "{error:?}");
        assert!(error
            .to_string()
            .contains("in use by another safesft process"));
        assert!(!staged.exists(), "the loser's staging folder is removed");
    }

    #[test]
    fn staging_folders_of_processes_that_are_gone_are_removed_first() {
        let batches = tempfile::tempdir().unwrap();
        // Above the kernel's pid limit (2^22): never a running process.
        let stale = batches.path().join(".plan-4194399-abc");
        std::fs::create_dir_all(stale.join("requests")).unwrap();
        let staging = staging_folder(batches.path()).unwrap();
        let name = staging
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!(".plan-{}-", std::process::id())),
            "{name}"
        );
        assert_eq!(!stale.exists(), cfg!(target_os = "linux"));
    }

    #[test]
    fn default_run_names_are_plain_folder_names() {
        let name = default_run_name(Path::new("data/MEDEC MS.csv"), "gpt-4o", Some(10));
        assert_eq!(name, "medec-ms-gpt-4o-n10");
        validate_run_name(&name).unwrap();
    }
}
