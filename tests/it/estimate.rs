//! `safesft estimate`: cost per dataset size from exact counts, extrapolation said aloud.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::{plan_args, read_json, sample, Test};

fn estimate(extra: &[&str]) -> Test {
    let mut args = vec![
        "estimate",
        "--input",
        sample().to_str().unwrap().to_owned().leak(),
    ];
    args.extend_from_slice(extra);
    Test::new().args(args)
}

#[test]
fn sizes_and_models_in_csv() {
    let done = estimate(&[
        "--sizes",
        "100,500,1000",
        "--models",
        "gpt-4o,gpt-4o-mini",
        "--format",
        "csv",
    ])
    .success();
    let mut reader = csv::Reader::from_reader(done.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    let header = reader.headers().unwrap().clone();
    let get = |row: &csv::StringRecord, name: &str| {
        row[header.iter().position(|h| h == name).unwrap()].to_string()
    };
    for row in &rows {
        let size: u64 = get(row, "size").parse().unwrap();
        assert_eq!(get(row, "extrapolated"), (size > 319).to_string());
        assert_eq!(get(row, "measured_pairs"), size.min(319).to_string());
    }
    let price = |model: &str, size: &str| {
        let row = rows
            .iter()
            .find(|r| get(r, "model") == model && get(r, "size") == size)
            .unwrap();
        Decimal::from_str(&get(row, "batch_expected_usd")).unwrap()
    };
    assert!(price("gpt-4o-mini", "100") < price("gpt-4o", "100"));
    assert!(price("gpt-4o", "100") < price("gpt-4o", "500"));
}

#[test]
fn table_says_when_it_extrapolates() {
    let done = estimate(&["--sizes", "100,1000"]).success();
    done.stdout_has("1,000*");
    done.stdout_has("more pairs than the 319 available");
}

#[test]
fn an_exact_size_matches_the_plan_to_the_token_and_cent() {
    let out = estimate(&["--sizes", "319", "--format", "json"])
        .success()
        .json();
    let row = &out["rows"][0];
    assert_eq!(row["extrapolated"], false);
    let test = Test::new().args(plan_args("r", &[]));
    test.success();
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    assert_eq!(row["estimate"]["total"], manifest["estimate"]["total"]);
    assert_eq!(row["estimate"]["kinds"], manifest["estimate"]["kinds"]);
}

#[test]
fn zero_or_unknown_sizes_and_models_are_errors() {
    let done = estimate(&["--sizes", "0"]).expect(2);
    done.stderr_has("above 0");
    let done = estimate(&["--sizes", "10", "--models", "gpt-4o,llama"]).expect(2);
    done.stderr_has("unknown model `llama`");
}

#[test]
fn a_snapshot_is_priced_as_itself_and_an_unknown_one_is_an_error() {
    let out = estimate(&[
        "--sizes",
        "10",
        "--models",
        "gpt-4o,gpt-4o-2024-05-13,gpt-4o-2024-08-06",
        "--format",
        "json",
    ])
    .success()
    .json();
    let worst = |model: &str| {
        let row = out["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == model)
            .unwrap();
        let total = &row["estimate"]["total"];
        (
            Decimal::from_str(total["batch"]["worst"].as_str().unwrap()).unwrap(),
            total["tokens"]["worst_output_tokens"].as_u64().unwrap(),
            total["tokens"]["prompt_tokens"].as_u64().unwrap(),
        )
    };
    let (family, output, prompt) = worst("gpt-4o");
    let (may, _, _) = worst("gpt-4o-2024-05-13");
    assert_eq!(worst("gpt-4o-2024-08-06").0, family);
    // $2.50 / $7.50 per 1M at Batch prices, against the family's $1.25 / $5.00.
    let million = Decimal::from(1_000_000);
    let at = |input: &str, output_price: &str| {
        (Decimal::from(prompt) * Decimal::from_str(input).unwrap()
            + Decimal::from(output) * Decimal::from_str(output_price).unwrap())
            / million
    };
    assert_eq!(family, at("1.25", "5.00"));
    assert_eq!(may, at("2.50", "7.50"));
    let done = estimate(&["--sizes", "10", "--models", "gpt-4o-2099-01-01"]).expect(2);
    done.stderr_has("`gpt-4o-2099-01-01` is a snapshot of `gpt-4o` with no price");
    done.stderr_has("gpt-4o-2024-05-13");
}
