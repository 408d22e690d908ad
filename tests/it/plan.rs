//! `safesft plan` and `safesft run`: the manifest, exact dollars, sharding at each limit,
//! the budget guard, and every configuration error.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use rust_decimal::Decimal;
use sha2::Digest;

use crate::{plan_args, read_json, read_jsonl, sample, Test};

fn plan(extra: &[&str]) -> Test {
    Test::new().args(plan_args("r", extra))
}

fn dec(value: &serde_json::Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap()).unwrap()
}

fn usd_for(tokens: u64, price_per_million: &str) -> Decimal {
    Decimal::from(tokens) * Decimal::from_str(price_per_million).unwrap() / Decimal::from(1_000_000)
}

#[test]
fn medec_validation_plan_is_complete_and_priced_exactly() {
    let test = plan(&["--json"]);
    let out = test.success().json();
    assert_eq!(out["status"], "planned");
    let run = test.path("batches/r");
    let manifest = read_json(&run.join("manifest.json"));
    assert_eq!(manifest, out["manifest"]);
    assert_eq!(manifest["input"]["pairs_planned"], 319);
    assert_eq!(manifest["input"]["import"]["unpaired_correct_rows"], 255);
    assert_eq!(manifest["requests"], 638);
    assert_eq!(manifest["model"], "gpt-4o");
    assert_eq!(manifest["encoding"], "o200k_base");
    assert_eq!(manifest["pricing"]["prices"]["checked"], "2025-07");
    assert_eq!(manifest["input"]["sha256"].as_str().unwrap().len(), 64);

    // Every request line is a well-formed Batch API line, once.
    let lines = read_jsonl(&run.join("requests/shard-000.jsonl"));
    assert_eq!(lines.len(), 638);
    let ids: HashSet<_> = lines
        .iter()
        .map(|l| l["custom_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 638);
    assert!(ids.contains("ms-val-0|paraphrase|1") && ids.contains("ms-val-0|reasoning|1"));
    for line in &lines {
        assert_eq!(line["method"], "POST");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert_eq!(line["body"]["model"], "gpt-4o");
        assert!(line["body"]["max_tokens"].is_u64());
        assert!(line["body"].get("max_completion_tokens").is_none());
    }
    let reasoning = lines
        .iter()
        .find(|l| l["custom_id"] == "ms-val-0|reasoning|1")
        .unwrap();
    assert_eq!(reasoning["body"]["response_format"]["type"], "json_schema");
    let paraphrase = lines
        .iter()
        .find(|l| l["custom_id"] == "ms-val-0|paraphrase|1")
        .unwrap();
    assert!(paraphrase["body"].get("response_format").is_none());
    // The paraphrase model sees the correct note only.
    let user = paraphrase["body"]["messages"][1]["content"]
        .as_str()
        .unwrap();
    assert!(user.contains("Culture tests indicate Trichomonas vaginalis."));
    assert!(!user.contains("Neisseria gonorrhoeae"));

    // Dollars are tokens × prices exactly: recomputed here from the request index.
    let index = read_jsonl(&run.join("requests/index.jsonl"));
    assert_eq!(index.len(), 638);
    let mut sums: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for entry in &index {
        let sum = sums.entry(entry["kind"].as_str().unwrap()).or_default();
        sum[0] += entry["prompt_tokens"].as_u64().unwrap();
        sum[1] += entry["expected_output_tokens"].as_u64().unwrap();
        sum[2] += entry["max_output_tokens"].as_u64().unwrap();
    }
    let estimate = &manifest["estimate"];
    let mut worst_total = Decimal::ZERO;
    for (kind, [prompt, expected, worst]) in &sums {
        let line = &estimate["kinds"][kind];
        assert_eq!(line["tokens"]["prompt_tokens"], *prompt);
        let batch_worst = usd_for(*prompt, "1.25") + usd_for(*worst, "5.00");
        let batch_expected = usd_for(*prompt, "1.25") + usd_for(*expected, "5.00");
        let standard_worst = usd_for(*prompt, "2.50") + usd_for(*worst, "10.00");
        assert_eq!(dec(&line["batch"]["worst"]), batch_worst, "{kind}");
        assert_eq!(dec(&line["batch"]["expected"]), batch_expected, "{kind}");
        assert_eq!(dec(&line["standard"]["worst"]), standard_worst, "{kind}");
        worst_total += batch_worst;
    }
    assert_eq!(dec(&estimate["total"]["batch"]["worst"]), worst_total);
    assert_eq!(sums["paraphrase"][2], 319 * 1024);
    assert_eq!(sums["reasoning"][2], 319 * 700);

    // The pairs of the run are kept beside it, byte for byte as imported.
    let pairs = read_jsonl(&run.join("pairs.jsonl"));
    assert_eq!(pairs.len(), 319);
}

#[test]
fn plan_table_matches_the_snapshot() {
    let done = plan(&["--num-pairs", "5", "--budget-usd", "1"]).success();
    insta::assert_snapshot!("plan_table_5_pairs", done.stdout);
}

#[test]
fn printed_dollars_equal_tokens_times_prices() {
    let test = plan(&["--num-pairs", "20", "--no-reasoning"]);
    let done = test.success();
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    let prompt: u64 = index
        .iter()
        .map(|e| e["prompt_tokens"].as_u64().unwrap())
        .sum();
    let worst: u64 = index
        .iter()
        .map(|e| e["max_output_tokens"].as_u64().unwrap())
        .sum();
    let batch_worst = (usd_for(prompt, "1.25") + usd_for(worst, "5.00")).normalize();
    // People read dollars and cents; the manifest keeps the exact value.
    let cents =
        batch_worst.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    assert!(
        done.stdout.contains(&format!("${cents:.2}")),
        "{cents}\n{}",
        done.stdout
    );
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    assert_eq!(
        Decimal::from_str(
            manifest["estimate"]["total"]["batch"]["worst"]
                .as_str()
                .unwrap()
        )
        .unwrap(),
        batch_worst
    );
    assert!(!done.stdout.contains("reasoning  "), "{}", done.stdout);
}

#[test]
fn over_budget_writes_nothing_and_exits_1() {
    let test = plan(&["--budget-usd", "0.50"]);
    let done = test.expect(1);
    done.stderr_has("is over the budget $0.50 by $");
    assert!(
        done.stdout.contains("Batch worst"),
        "the estimate is still shown: {}",
        done.stdout
    );
    let leftovers: Vec<_> = std::fs::read_dir(test.path("batches")).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "nothing submittable is written: {leftovers:?}"
    );

    let test = plan(&["--budget-usd", "0.50", "--json"]);
    let out = test.expect(1).json();
    assert_eq!(out["status"], "over_budget");
    // The budget guard covers both stages: stage 1 and the verify stage.
    let worst = dec(&out["estimate"]["total"]["batch"]["worst"])
        + dec(&out["estimate"]["verify"]["batch"]["worst"]);
    assert_eq!(
        dec(&out["over_budget_usd"]),
        worst - Decimal::from_str("0.50").unwrap()
    );
}

fn shard_index(test: &Test) -> (serde_json::Value, Vec<serde_json::Value>) {
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    let index = read_jsonl(&test.path("batches/r/requests/index.jsonl"));
    (manifest, index)
}

/// Every planned request is in exactly one shard, and shards add up to the plan.
fn assert_shards_cover_the_plan(test: &Test, manifest: &serde_json::Value) {
    let mut ids = HashSet::new();
    let mut total = 0;
    for shard in manifest["shards"].as_array().unwrap() {
        let path = test.path(&format!(
            "batches/r/{}",
            shard["file"]["path"].as_str().unwrap()
        ));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, shard["file"]["bytes"].as_u64().unwrap());
        let lines = read_jsonl(&path);
        assert_eq!(lines.len() as u64, shard["requests"].as_u64().unwrap());
        for line in lines {
            assert!(ids.insert(line["custom_id"].as_str().unwrap().to_string()));
        }
        total += shard["requests"].as_u64().unwrap();
    }
    assert_eq!(total, 638);
    assert_eq!(manifest["requests"], 638);
}

#[test]
fn shards_cut_at_the_request_limit() {
    let test = plan(&["--max-requests-per-shard", "100"]);
    test.success();
    let (manifest, _) = shard_index(&test);
    let shards = manifest["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 7);
    assert!(shards[..6].iter().all(|s| s["requests"] == 100));
    assert_eq!(shards[6]["requests"], 38);
    assert_shards_cover_the_plan(&test, &manifest);
}

#[test]
fn shards_cut_at_the_byte_limit() {
    let test = plan(&["--max-shard-bytes", "150000"]);
    test.success();
    let (manifest, _) = shard_index(&test);
    let shards = manifest["shards"].as_array().unwrap();
    assert!(shards.len() >= 10, "{}", shards.len());
    for shard in shards {
        assert!(shard["file"]["bytes"].as_u64().unwrap() <= 150_000);
    }
    assert_shards_cover_the_plan(&test, &manifest);
}

#[test]
fn shards_cut_at_the_enqueued_token_limit() {
    let test = plan(&["--enqueued-token-limit", "20000"]);
    test.success();
    let (manifest, index) = shard_index(&test);
    let mut per_shard: BTreeMap<u64, u64> = BTreeMap::new();
    for entry in &index {
        *per_shard
            .entry(entry["shard"].as_u64().unwrap())
            .or_default() += entry["prompt_tokens"].as_u64().unwrap();
    }
    let shards = manifest["shards"].as_array().unwrap();
    assert_eq!(per_shard.len(), shards.len());
    for shard in shards {
        let tokens = per_shard[&shard["index"].as_u64().unwrap()];
        assert_eq!(shard["prompt_tokens"], tokens);
        assert!(tokens <= 20_000);
    }
    assert!(shards.len() >= 15);
    assert_shards_cover_the_plan(&test, &manifest);
}

#[test]
fn shard_limits_above_the_api_are_refused() {
    let done = plan(&["--max-requests-per-shard", "50001"]).expect(2);
    done.stderr_has("from 1 to 50000");
    let done = plan(&["--enqueued-token-limit", "100"]).expect(2);
    done.stderr_has("over the enqueued-token limit of 100");
}

#[test]
fn unknown_model_lists_the_known_ones() {
    let done = plan(&["--model", "gpt-4o-turbo-max"]).expect(2);
    done.stderr_has("unknown model `gpt-4o-turbo-max`");
    assert!(
        done.stderr.contains("gpt-4o-mini") && done.stderr.contains("gpt-5"),
        "{}",
        done.stderr
    );
    // Known to the tokenizer but not priced: named as such.
    let done = plan(&["--model", "gpt-4"]).expect(2);
    done.stderr_has("no price for model `gpt-4`");
}

#[test]
fn reasoning_models_get_their_own_request_shape() {
    let test = plan(&["--model", "o4-mini", "--num-pairs", "2"]);
    let done = test.success();
    done.stderr_has("hidden reasoning tokens");
    for line in read_jsonl(&test.path("batches/r/requests/shard-000.jsonl")) {
        assert!(line["body"]["max_completion_tokens"].is_u64());
        assert!(line["body"].get("max_tokens").is_none());
        assert!(line["body"].get("temperature").is_none());
    }
}

#[test]
fn bad_prompt_config_names_the_field() {
    let prompts = "configs/prompts/gpt4o_medec_safe_augmentation.json";
    let test = plan(&["--prompts", prompts]);
    let path = test.copy_from_project(prompts);
    let mut config = read_json(&path);
    config["paraphrase"]["user_template"] = "Rewrite {note}".into();
    std::fs::write(&path, config.to_string()).unwrap();
    let done = test.expect(2);
    done.stderr_has("field `paraphrase.user_template`: unknown placeholder `{note}`");
    done.stderr_has("`--prompts configs/prompts/gpt4o_medec_safe_augmentation.json`");

    let test = plan(&["--prompts", prompts]);
    test.write(
        "configs/prompts/gpt4o_medec_safe_augmentation.json",
        "{\"model\": \"gpt-4o\",\n\"paraphrase\": 3}",
    );
    let done = test.expect(2);
    done.stderr_has("gpt4o_medec_safe_augmentation.json:2:");
}

#[test]
fn configs_come_from_the_binary_unless_given() {
    // The scratch folder has no `configs/`: as after `cargo install`, in any folder.
    let test = plan(&["--num-pairs", "2"]);
    assert!(!test.path("configs").exists());
    test.success();
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    let shipped = std::fs::read(crate::project().join("configs/pricing.toml")).unwrap();
    assert_eq!(manifest["pricing"]["path"], "configs/pricing.toml");
    assert_eq!(
        manifest["pricing"]["sha256"],
        format!("{:x}", sha2::Sha256::digest(&shipped))
    );
    assert_eq!(
        manifest["prompt_config"]["path"],
        "configs/prompts/gpt4o_medec_safe_augmentation.json"
    );

    let done = plan(&["--prompts", "mine.json"]).expect(2);
    done.stderr_has("`--prompts mine.json` is not a usable prompt config: cannot read the prompt config `mine.json`: ");
    assert_eq!(
        done.stderr.matches("os error").count(),
        1,
        "{}",
        done.stderr
    );
    plan(&["--pricing", "prices.toml"])
        .expect(2)
        .stderr_has("`--pricing prices.toml` is not a usable pricing table");
}

#[test]
fn bad_pricing_table_names_the_model() {
    let test = plan(&["--pricing", "configs/pricing.toml"]);
    let path = test.copy_from_project("configs/pricing.toml");
    let table = std::fs::read_to_string(&path)
        .unwrap()
        .replace("output = \"5.00\" }", "output = 5.0 }");
    std::fs::write(&path, table).unwrap();
    let done = test.expect(2);
    done.stderr_has("pricing.toml");
    done.stderr_has("output");
}

#[test]
fn planning_again_is_idempotent_and_never_silently_replaces() {
    let test = plan(&["--num-pairs", "3"]);
    test.success();
    let manifest = std::fs::read(test.path("batches/r/manifest.json")).unwrap();
    let again = test.success();
    assert!(
        again.stdout.contains("Already planned, identical"),
        "{}",
        again.stdout
    );
    assert_eq!(
        std::fs::read(test.path("batches/r/manifest.json")).unwrap(),
        manifest
    );

    let other = test.args(plan_args("r", &["--num-pairs", "4"]));
    let done = other.expect(2);
    assert!(
        done.stderr.contains("already exists") && done.stderr.contains("--force"),
        "{}",
        done.stderr
    );
    let forced = other.args(plan_args("r", &["--num-pairs", "4", "--force"]));
    forced.success();
    assert_eq!(
        read_json(&forced.path("batches/r/manifest.json"))["input"]["pairs_planned"],
        4
    );
    let entries: Vec<_> = std::fs::read_dir(forced.path("batches"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["r"], "no staging or replaced folders left behind");
}

#[test]
fn jsonl_input_plans_the_same_requests_as_the_csv() {
    let test = Test::new().args(["import", sample().to_str().unwrap(), "--output-dir", "in"]);
    test.success();
    let from_csv = test.args(plan_args("csv", &[]));
    from_csv.success();
    let from_jsonl = from_csv.args([
        "plan",
        "--input",
        "in/pairs.jsonl",
        "--run",
        "jsonl",
        "--quiet",
    ]);
    from_jsonl.success();
    let a = read_json(&from_jsonl.path("batches/csv/manifest.json"));
    let b = read_json(&from_jsonl.path("batches/jsonl/manifest.json"));
    assert_eq!(a["plan_hash"], b["plan_hash"]);
    assert_eq!(a["estimate"], b["estimate"]);
}

#[test]
fn a_dry_run_with_a_key_makes_no_call_and_never_prints_the_key() {
    // (Without `--dry-run`, a missing key is exit 2: `exit_codes.rs`.)
    let with_key = Test::new()
        .args([
            "run",
            "--dry-run",
            "--input",
            sample().to_str().unwrap(),
            "--run",
            "r",
            "--num-pairs",
            "3",
            "--quiet",
        ])
        .env("OPENAI_API_KEY", "sk-test-secret-value")
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
    let done = with_key.success();
    done.stderr_has("--dry-run");
    assert!(!done.stderr.contains("sk-test") && !done.stdout.contains("sk-test"));
}

#[test]
fn help_matches_the_snapshots() {
    for (name, args) in [
        ("help", vec!["--help"]),
        ("help_plan", vec!["plan", "--help"]),
        ("help_import", vec!["import", "--help"]),
        ("help_estimate", vec!["estimate", "--help"]),
        ("help_run", vec!["run", "--help"]),
        ("help_submit", vec!["submit", "--help"]),
        ("help_status", vec!["status", "--help"]),
        ("help_wait", vec!["wait", "--help"]),
        ("help_cancel", vec!["cancel", "--help"]),
        ("help_check", vec!["check", "--help"]),
        ("help_reconcile", vec!["reconcile", "--help"]),
        ("help_report", vec!["report", "--help"]),
        ("help_retry", vec!["retry", "--help"]),
        ("help_validate", vec!["validate", "--help"]),
    ] {
        let done = Test::new().args(args).success();
        assert!(
            done.stdout.contains("Example"),
            "{name}: every --help has an example"
        );
        insta::assert_snapshot!(name, done.stdout);
    }
}
