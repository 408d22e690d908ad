//! The verify stage priced up front: the dry run and `estimate` show both stages, and the
//! budget guard covers stage 1 + the verify stage's worst case.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::manifest;
use crate::reconcile::dec;
use crate::{plan_args, Test};

#[test]
fn the_dry_run_prices_both_stages_and_the_budget_covers_them() {
    let test = Test::new().args(plan_args("r", &["--num-pairs", "20"]));
    let done = test.success();
    done.stdout_has("verify (stage 2, gpt-4o-mini)")
        .stdout_has("total, both stages")
        .stdout_has("Verification by gpt-4o-mini (o200k_base) adds")
        .stdout_has("per 1,000 pairs")
        .stdout_has("`--no-verify` turns it off");
    let planned = manifest(&test);
    let verify = &planned["verify"];
    assert_eq!(verify["model"], "gpt-4o-mini");
    assert_eq!(verify["encoding"], "o200k_base");
    assert_eq!(verify["pricing"]["model_family"], "gpt-4o-mini");
    assert_eq!(verify["max_output_tokens"], 512);
    assert_eq!(verify["paraphrase_max_output_tokens"], 1024);
    let estimate = &planned["estimate"];
    let stage_one = dec(&estimate["total"]["batch"]["worst"]);
    let stage_two = dec(&estimate["verify"]["batch"]["worst"]);
    assert!(stage_two > Decimal::ZERO);
    // The verify worst case: 20 prompts, each with a paraphrase at its 1,024-token cap,
    // and 20 answers at the verifier's 512-token cap.
    assert_eq!(estimate["verify"]["worst_tokens"]["requests"], 20);
    assert_eq!(
        estimate["verify"]["worst_tokens"]["worst_output_tokens"],
        20 * 512
    );
    let worst_prompts = estimate["verify"]["worst_tokens"]["prompt_tokens"]
        .as_u64()
        .unwrap();
    let expected_prompts = estimate["verify"]["expected_tokens"]["prompt_tokens"]
        .as_u64()
        .unwrap();
    assert!(
        worst_prompts > expected_prompts + 20 * 500,
        "{worst_prompts} vs {expected_prompts}"
    );

    // A budget between stage 1's worst case and both stages' is refused, writing nothing.
    let budget = ((stage_one + stage_one + stage_two) / Decimal::from(2)).round_dp(6);
    assert!(budget > stage_one && budget < stage_one + stage_two);
    let budget = budget.to_string();
    let over = Test::new().args(plan_args(
        "r",
        &["--num-pairs", "20", "--budget-usd", &budget],
    ));
    over.expect(1).stderr_has("is over the budget");
    assert!(!over.path("batches/r").exists(), "nothing is written");
    // Without the verify stage, the same budget is enough.
    let off = Test::new().args(plan_args(
        "r",
        &["--num-pairs", "20", "--budget-usd", &budget, "--no-verify"],
    ));
    off.success();
    assert!(manifest(&off).get("verify").is_none());
    assert!(manifest(&off)["estimate"].get("verify").is_none());

    // Another verifier: its own prices; an unknown one is an error.
    let other = Test::new().args(plan_args(
        "r",
        &[
            "--num-pairs",
            "20",
            "--verify-model",
            "gpt-4.1-mini",
            "--json",
        ],
    ));
    let json = other.success().json();
    assert_eq!(
        json["manifest"]["verify"]["pricing"]["model_family"],
        "gpt-4.1-mini"
    );
    let unknown = Test::new().args(plan_args(
        "r",
        &["--num-pairs", "2", "--verify-model", "gpt-9"],
    ));
    unknown.expect(2).stderr_has("gpt-9");
}

#[test]
fn estimate_prices_the_verify_stage_per_size() {
    let args = |extra: &[&str]| {
        let mut args = vec![
            "estimate".to_string(),
            "--input".into(),
            crate::sample().to_str().unwrap().into(),
            "--sizes".into(),
            "100".into(),
            "--format".into(),
            "csv".into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_string()));
        args
    };
    let on = Test::new().args(args(&[])).success().stdout;
    let off = Test::new().args(args(&["--no-verify"])).success().stdout;
    let row = |csv: &str| -> BTreeMap<String, String> {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let values: Vec<&str> = lines.next().unwrap().split(',').collect();
        header
            .into_iter()
            .map(str::to_string)
            .zip(values.into_iter().map(str::to_string))
            .collect()
    };
    let (on, off) = (row(&on), row(&off));
    assert_eq!(on["verify_model"], "gpt-4o-mini");
    assert_eq!(off["verify_model"], "");
    let number = |s: &str| Decimal::from_str_exact(s).unwrap();
    assert_eq!(
        number(&on["batch_expected_usd"]),
        number(&off["batch_expected_usd"]) + number(&on["verify_batch_expected_usd"]),
        "both stages = stage 1 + the verify stage"
    );
    assert_eq!(
        number(&on["batch_worst_usd"]),
        number(&off["batch_worst_usd"]) + number(&on["verify_batch_worst_usd"])
    );
}
