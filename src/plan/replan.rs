//! An unchanged re-plan recognised before any counting: the manifest records a hash of
//! everything a plan is made from, and the same inputs make the same plan.

use std::path::Path;

use serde::Serialize;

use super::output::OutputModel;
use super::settings::PlanSettings;
use super::shard::ShardLimits;
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
    /// Absent with `--no-verify`, so plans without a verify stage hash as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<&'a super::verify::VerifySettings>,
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
        verify: settings.verify.as_ref(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ReadOptions;
    use crate::money::PricingTable;
    use crate::plan::{plan, LoadedPrompts, PlanOutcome};

    const PAIR: &str = r#"{"note_id":"n-1","correct_note":"Aspirin 81 mg daily.","incorrect_note":"Aspirin 810 mg daily.","error_type":"pharmacotherapy"}"#;

    fn settings(dir: &Path) -> PlanSettings {
        let project = Path::new(env!("CARGO_MANIFEST_DIR"));
        let input = dir.join("pairs.jsonl");
        std::fs::write(&input, format!("{PAIR}\n")).unwrap();
        PlanSettings {
            input,
            read_options: ReadOptions::default(),
            prompts: LoadedPrompts::load(
                &project.join("configs/prompts/gpt4o_medec_safe_augmentation.json"),
            )
            .unwrap(),
            pricing: PricingTable::load(&project.join("configs/pricing.toml")).unwrap(),
            model: "gpt-4o".into(),
            reasoning: true,
            verify: None,
            num_pairs: None,
            fewer_pairs_allowed: false,
            limits: ShardLimits::default(),
            budget: None,
            output_model: OutputModel::default(),
            batches_dir: dir.join("batches"),
            run: "r".into(),
            force: false,
            jobs: Some(2),
        }
    }

    type Change = fn(&mut PlanSettings);

    #[test]
    fn the_same_inputs_are_recognised_and_any_change_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        let run_dir = settings.batches_dir.join("r");
        assert!(
            unchanged_plan(&settings, &run_dir).unwrap().is_none(),
            "no plan yet"
        );
        let PlanOutcome::Planned(planned) = plan(&settings, &|_| {}).unwrap() else {
            panic!("expected a new plan")
        };
        assert!(planned.plan_inputs_sha256.is_some());
        let same = unchanged_plan(&settings, &run_dir).unwrap().unwrap();
        assert_eq!(same, *planned);

        let changes: [(&str, Change); 8] = [
            ("model", |s| s.model = "gpt-4o-mini".into()),
            ("reasoning", |s| s.reasoning = false),
            ("num_pairs", |s| s.num_pairs = Some(1)),
            ("limits", |s| s.limits.max_requests = 1),
            ("skip_invalid", |s| s.read_options.skip_invalid = true),
            ("output model", |s| {
                s.output_model.reasoning_output_tokens += 1;
            }),
            ("prompts", |s| s.prompts.sha256 = "other".into()),
            ("pricing", |s| s.pricing.sha256 = "other".into()),
        ];
        for (what, change) in changes {
            let mut other = super::tests::settings(dir.path());
            change(&mut other);
            assert!(
                unchanged_plan(&other, &run_dir).unwrap().is_none(),
                "{what} changed"
            );
        }
        // The input is hashed again every time: one byte more is another plan.
        std::fs::write(&settings.input, format!("{PAIR}\n\n")).unwrap();
        assert!(unchanged_plan(&settings, &run_dir).unwrap().is_none());
    }

    #[test]
    fn an_unchanged_plan_is_kept_without_writing_and_the_budget_still_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path());
        plan(&settings, &|_| {}).unwrap();
        let manifest = std::fs::read(settings.batches_dir.join("r/manifest.json")).unwrap();
        let counted = std::cell::Cell::new(0);
        let again = plan(&settings, &|_| counted.set(counted.get() + 1)).unwrap();
        assert!(matches!(again, PlanOutcome::Unchanged(_)));
        assert_eq!(counted.get(), 0, "no pair was planned again");
        assert_eq!(
            std::fs::read(settings.batches_dir.join("r/manifest.json")).unwrap(),
            manifest
        );
        settings.budget = Some("0.000001".parse().unwrap());
        assert!(matches!(
            plan(&settings, &|_| {}).unwrap(),
            PlanOutcome::OverBudget { .. }
        ));
    }

    #[test]
    fn a_manifest_without_an_inputs_hash_is_planned_again_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        plan(&settings, &|_| {}).unwrap();
        let run_dir = settings.batches_dir.join("r");
        let mut old = Manifest::load(&run_dir).unwrap();
        old.plan_inputs_sha256 = None;
        old.save(&run_dir).unwrap();
        let written = std::fs::read(run_dir.join("manifest.json")).unwrap();
        assert!(!String::from_utf8_lossy(&written).contains("plan_inputs_sha256"));
        assert!(unchanged_plan(&settings, &run_dir).unwrap().is_none());
        let counted = std::cell::Cell::new(0);
        let again = plan(&settings, &|_| counted.set(counted.get() + 1)).unwrap();
        assert!(matches!(again, PlanOutcome::Unchanged(_)));
        assert_eq!(counted.get(), 1, "planned in full, found the same");
        assert_eq!(
            std::fs::read(run_dir.join("manifest.json")).unwrap(),
            written
        );
    }
}
