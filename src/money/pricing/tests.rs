//! Tests of the pricing table: exact costs, dated rows, snapshots priced as themselves.

use super::*;

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

#[test]
fn cost_is_exact() {
    let prices = TierPrices {
        input: dec("1.25"),
        cached_input: None,
        output: dec("5.00"),
    };
    let usage = TokenUse {
        prompt_tokens: 123_457,
        cached_tokens: 0,
        output_tokens: 1,
    };
    // 123457 × 1.25 / 1e6 + 1 × 5 / 1e6 = 0.15432125 + 0.000005
    assert_eq!(prices.cost(usage).exact(), "0.15432625");
}

#[test]
fn cached_tokens_use_the_cached_price_or_the_input_price() {
    let mut prices = TierPrices {
        input: dec("0.625"),
        cached_input: Some(dec("0.0625")),
        output: dec("5"),
    };
    let usage = TokenUse {
        prompt_tokens: 2_000_000,
        cached_tokens: 1_000_000,
        output_tokens: 0,
    };
    assert_eq!(prices.cost(usage), Usd(dec("0.6875")));
    prices.cached_input = None;
    assert_eq!(prices.cost(usage), Usd(dec("1.25")));
}

#[test]
fn sums_of_many_small_costs_do_not_drift() {
    let price = dec("0.075");
    let total: Usd = (0..100_000).map(|_| Usd::for_tokens(1, price)).sum();
    assert_eq!(total, Usd::for_tokens(100_000, price));
    assert_eq!(total.exact(), "0.0075");
}

#[test]
fn display_rounds_only_for_people() {
    let value = Usd(dec("2.345"));
    assert_eq!(value.cents(), "2.35");
    assert_eq!(value.exact(), "2.345");
    assert_eq!(Usd(dec("3")).exact(), "3.00");
    assert_eq!(Usd::parse("$10.5"), Some(Usd(dec("10.5"))));
    assert_eq!(Usd::parse("-1"), None);
}

#[test]
fn the_shipped_table_loads_and_prices_every_known_family() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/pricing.toml");
    let table = PricingTable::load(&path).unwrap();
    let gpt4o = table.for_model("gpt-4o", "gpt-4o").unwrap().prices;
    assert_eq!(gpt4o.batch.input, dec("1.25"));
    assert_eq!(gpt4o.batch.output, dec("5.00"));
    assert!(gpt4o.batch_cached_price_assumed());
    let gpt5 = table.for_model("gpt-5", "gpt-5").unwrap().prices;
    assert_eq!(gpt5.batch.cached_input, Some(dec("0.0625")));
    for (model, row) in &table.models {
        let family = crate::plan::family_of(model).unwrap();
        assert!(row.source_url.starts_with("https://"), "{model}");
        for snapshot in &row.snapshots {
            assert_eq!(crate::plan::family_of(snapshot).unwrap().name, family.name);
        }
    }
}

#[test]
fn bad_tables_name_the_model_and_field() {
    let path = Path::new("pricing.toml");
    let text = "currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models.gpt-4o]\nchecked = \"last year\"\nsource_url = \"https://x\"\nstandard = { input = \"1\", output = \"2\" }\nbatch = { input = \"1\", output = \"2\" }\n";
    let error = PricingTable::parse(text, path).unwrap_err().to_string();
    assert!(error.contains("model `gpt-4o`: field `checked`"), "{error}");
    let error = PricingTable::parse("currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models.x]\nchecked = \"2025-07\"\nstandard = { input = \"1\" }\n", path)
        .unwrap_err()
        .to_string();
    assert!(error.contains("output"), "{error}");
    let table = PricingTable::parse(
        "currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models]\n",
        path,
    )
    .unwrap();
    let error = table.for_model("gpt-4o", "gpt-4o").unwrap_err().to_string();
    assert!(error.starts_with("no price for model `gpt-4o`"), "{error}");
}

#[test]
fn a_snapshot_is_priced_as_itself_never_as_its_family() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/pricing.toml");
    let table = PricingTable::load(&path).unwrap();
    // The first gpt-4o snapshot costs twice what the family costs.
    let may = table.for_model("gpt-4o-2024-05-13", "gpt-4o").unwrap();
    assert_eq!(may.row, "gpt-4o-2024-05-13");
    assert_eq!(
        (may.prices.standard.input, may.prices.standard.output),
        (dec("5.00"), dec("15.00"))
    );
    assert_eq!(
        (may.prices.batch.input, may.prices.batch.output),
        (dec("2.50"), dec("7.50"))
    );
    assert!(may.prices.source_url.starts_with("https://"));
    // A snapshot listed under its family's row costs what the family costs.
    let august = table.for_model("gpt-4o-2024-08-06", "gpt-4o").unwrap();
    assert_eq!(august.row, "gpt-4o");
    assert_eq!(august.prices.batch.input, dec("1.25"));
    // An unknown snapshot of a known family is an error naming its priced snapshots.
    let error = table
        .for_model("gpt-4o-2099-01-01", "gpt-4o")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("`gpt-4o-2099-01-01` is a snapshot of `gpt-4o` with no price"),
        "{error}"
    );
    assert!(
        error.contains("gpt-4o, gpt-4o-2024-05-13, gpt-4o-2024-08-06, gpt-4o-2024-11-20;"),
        "{error}"
    );
    assert!(!error.contains("gpt-4o-mini"), "{error}");
}

#[test]
fn a_row_without_its_source_url_is_refused() {
    let text = "currency = \"USD\"\nunit = \"per_1m_tokens\"\n[models.gpt-4o]\nchecked = \"2025-07\"\nstandard = { input = \"1\", output = \"2\" }\nbatch = { input = \"1\", output = \"2\" }\n";
    let error = PricingTable::parse(text, Path::new("p.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("model `gpt-4o`: field `source_url`"),
        "{error}"
    );
}
