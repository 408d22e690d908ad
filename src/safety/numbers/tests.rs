//! Unit tests of `numbers`.

use super::*;

/// `numbers` of a text not yet lower-cased.
fn numbers(text: &str) -> Vec<NumberMention> {
    super::numbers(&text.to_ascii_lowercase())
}

#[test]
fn numbers_and_units_are_read_with_their_spellings() {
    let found = numbers("BP 102/73 mm Hg, pulse 106/min, T 38.90°C, Na 135 mEq/L, 1,500 mL, two weeks, a 24-year-old, vitamin B12, .5 mg, 102.2 F (39 C), 14 y/o, type 2 diabetes");
    let pairs: Vec<(String, Option<&str>)> = found.into_iter().map(|n| (n.value, n.unit)).collect();
    assert_eq!(
        pairs,
        vec![
            ("102/73".into(), Some("mmHg")),
            ("106".into(), Some("/min")),
            ("38.9".into(), Some("°C")),
            ("135".into(), Some("mEq/L")),
            ("1500".into(), Some("mL")),
            ("2".into(), Some("week")),
            ("24".into(), Some("year")),
            ("0.5".into(), Some("mg")),
            ("102.2".into(), Some("°F")),
            ("39".into(), Some("°C")),
            ("14".into(), Some("year")),
        ]
    );
}

fn values(text: &str) -> Vec<String> {
    numbers(text).into_iter().map(|n| n.value).collect()
}

fn rejected(original: &str, paraphrase: &str) -> Vec<Check> {
    let mut out = Vec::new();
    compare_numbers(
        original,
        &numbers(original),
        paraphrase,
        &numbers(paraphrase),
        &mut out,
    );
    out.into_iter().map(|f| f.check).collect()
}

#[test]
fn clinical_number_shorthands_are_read() {
    assert_eq!(
        values("G2P1, G3P2012, G1 P0"),
        ["2", "1", "3", "2", "0", "1", "2", "1", "0"]
    );
    assert_eq!(
        values("menses q28 days, vomited x2, twenty-five, two hundred"),
        ["28", "2", "25", "200"]
    );
    assert_eq!(
        values("8 out of 10, 7 on a 10-point scale, 9/10"),
        ["8/10", "7/10", "9/10"]
    );
    // `twice daily` is a frequency; `second-hand` no ordinal; `B12` a name.
    assert_eq!(
        values("twice daily, second-hand smoke, vitamin B12, HbA1c"),
        Vec::<String>::new()
    );
    let units: Vec<_> = numbers("450/mm3, 450/mL, 22 pmol/L, 10 ng/dL, 109/80 mm/Hg")
        .into_iter()
        .map(|n| n.unit.unwrap_or_default())
        .collect();
    assert_eq!(units, ["/mm3", "/mL", "pmol/L", "ng/dL", "mmHg"]);
}

#[test]
fn number_forms_a_paraphrase_may_use_are_kept() {
    for (original, paraphrase) in [
        (
            "A woman, gravida 4, para 3, at 35 weeks.",
            "G4P3 at 35 wks.",
        ),
        ("On the third postoperative day.", "POD 3."),
        (
            "She was seen twice in the past month.",
            "2 visits in the past month.",
        ),
        ("Pain is 8 out of 10.", "Pain 8/10."),
        (
            "Menses occur at regular 28-day intervals.",
            "Menses q28 days.",
        ),
        (
            "Initial 295 285\nLater 305 310",
            "Initial: 295 / 285; later: 305 / 310",
        ),
        (
            "He smoked twenty-five cigarettes.",
            "He smoked 25 cigarettes.",
        ),
    ] {
        assert!(
            rejected(original, paraphrase).is_empty(),
            "{original} / {paraphrase}"
        );
        assert!(
            rejected(paraphrase, original).is_empty(),
            "{paraphrase} / {original}"
        );
    }
}

#[test]
fn changed_values_in_those_forms_still_fail() {
    for (original, paraphrase, check) in [
        ("A woman, gravida 4, para 3.", "G4P2.", Check::NumberDropped),
        ("Pain is 8 out of 10.", "Pain 9/10.", Check::NumberDropped),
        ("Initial 295 285", "Initial: 295 / 288", Check::NumberAdded),
        (
            "Platelets 450/mm3.",
            "Platelets 450/mL.",
            Check::UnitChanged,
        ),
        (
            "The second half of pregnancy; red eyes for 2 days.",
            "The second half of pregnancy; red eyes for 2 weeks.",
            Check::UnitChanged,
        ),
    ] {
        assert!(
            rejected(original, paraphrase).contains(&check),
            "{original} / {paraphrase}"
        );
    }
}

#[test]
fn every_time_unit_spelling_starts_with_a_letter_time_unit_looks_up() {
    // `time_unit` turns away words of other first letters before its lookup.
    for (spelling, unit) in UNITS {
        if ["minute", "hour", "day", "week", "month", "year"].contains(unit) {
            assert!(
                matches!(spelling.as_bytes()[0], b'y' | b'm' | b'w' | b'd' | b'h'),
                "`{spelling}`"
            );
            assert_eq!(time_unit(spelling), Some(*unit), "`{spelling}`");
        }
    }
}
