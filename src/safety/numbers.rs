//! Numbers and their units: digits, decimals, ratios and number words read with the unit
//! after them, and the check that the paraphrase keeps every value with its units.

use std::collections::BTreeSet;

use super::text::whole_words;
use super::{Check, Finding};

/// A number in a note: its canonical value and the unit right after it, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct NumberMention {
    pub(super) value: String,
    pub(super) unit: Option<&'static str>,
    /// Where it stands in the text (bytes), unit included.
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Unit spellings (lower case, longest first within a prefix) → canonical unit.
const UNITS: &[(&str, &str)] = &[
    ("beats per minute", "/min"),
    ("beats/minute", "/min"),
    ("beats/min", "/min"),
    ("breaths per minute", "/min"),
    ("breaths/minute", "/min"),
    ("breaths/min", "/min"),
    ("per minute", "/min"),
    ("/minute", "/min"),
    ("/min", "/min"),
    ("bpm", "/min"),
    ("per hour", "/h"),
    ("/hour", "/h"),
    ("/hr", "/h"),
    ("/h", "/h"),
    ("mm hg", "mmHg"),
    ("mmhg", "mmHg"),
    ("cm h2o", "cmH2O"),
    ("cmh2o", "cmH2O"),
    ("degrees fahrenheit", "°F"),
    ("degrees celsius", "°C"),
    ("degrees f", "°F"),
    ("degrees c", "°C"),
    ("°f", "°F"),
    ("°c", "°C"),
    ("° f", "°F"),
    ("° c", "°C"),
    ("percent", "%"),
    ("%", "%"),
    ("per mille", "‰"),
    ("‰", "‰"),
    ("mg/dl", "mg/dL"),
    ("g/dl", "g/dL"),
    ("mg/l", "mg/L"),
    ("g/l", "g/L"),
    ("mmol/l", "mmol/L"),
    ("meq/l", "mEq/L"),
    ("ng/ml", "ng/mL"),
    ("pg/ml", "pg/mL"),
    ("μu/ml", "µU/mL"),
    ("µu/ml", "µU/mL"),
    ("mu/l", "mU/L"),
    ("iu/l", "IU/L"),
    ("u/l", "U/L"),
    ("mosm/kg", "mOsm/kg"),
    ("mg/kg", "mg/kg"),
    ("/mm3", "/mm3"),
    ("/mm^3", "/mm3"),
    ("/μl", "/µL"),
    ("/µl", "/µL"),
    ("/hpf", "/hpf"),
    ("micrograms", "mcg"),
    ("microgram", "mcg"),
    ("milligrams", "mg"),
    ("milligram", "mg"),
    ("kilograms", "kg"),
    ("kilogram", "kg"),
    ("grams", "g"),
    ("gram", "g"),
    ("mcg", "mcg"),
    ("μg", "mcg"),
    ("µg", "mcg"),
    ("mg", "mg"),
    ("kg", "kg"),
    ("g", "g"),
    ("pounds", "lb"),
    ("pound", "lb"),
    ("lbs", "lb"),
    ("lb", "lb"),
    ("milliliters", "mL"),
    ("milliliter", "mL"),
    ("ml", "mL"),
    ("cc", "mL"),
    ("liters", "L"),
    ("liter", "L"),
    ("l", "L"),
    ("centimeters", "cm"),
    ("centimeter", "cm"),
    ("cm", "cm"),
    ("millimeters", "mm"),
    ("millimeter", "mm"),
    ("mm", "mm"),
    ("inches", "in"),
    ("inch", "in"),
    ("feet", "ft"),
    ("ft", "ft"),
    ("meters", "m"),
    ("years", "year"),
    ("y/o", "year"),
    ("y.o.", "year"),
    ("yo", "year"),
    ("year", "year"),
    ("yrs", "year"),
    ("yr", "year"),
    ("months", "month"),
    ("month", "month"),
    ("mo", "month"),
    ("weeks", "week"),
    ("week", "week"),
    ("wk", "week"),
    ("days", "day"),
    ("day", "day"),
    ("hours", "hour"),
    ("hour", "hour"),
    ("hrs", "hour"),
    ("hr", "hour"),
    ("h", "hour"),
    ("minutes", "minute"),
    ("minute", "minute"),
    ("mins", "minute"),
    ("min", "minute"),
    ("seconds", "second"),
    ("second", "second"),
    ("sec", "second"),
    ("units", "unit"),
    ("unit", "unit"),
    ("iu", "unit"),
    ("mEq", "mEq"),
];

/// Number words a paraphrase may use for digits (and the reverse).
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("thirteen", "13"),
    ("fourteen", "14"),
    ("fifteen", "15"),
    ("sixteen", "16"),
    ("seventeen", "17"),
    ("eighteen", "18"),
    ("nineteen", "19"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("seventy", "70"),
    ("eighty", "80"),
    ("ninety", "90"),
    ("hundred", "100"),
];

/// `38.90` → `38.9`, `1,500` → `1500`, `.5` → `0.5`, `007` → `7`.
fn canonical_number(text: &str) -> String {
    let plain: String = text.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// The unit right after position `at` in `lower` (skipping spaces and one hyphen), a bare
/// `C` or `F` included.
fn unit_after(lower: &str, at: usize) -> (Option<&'static str>, usize) {
    let rest = &lower[at..];
    let trimmed = rest.trim_start_matches([' ', '-']);
    let skipped = rest.len() - trimmed.len();
    if skipped > 2 {
        return (None, at);
    }
    let boundary = |after: &str| {
        after
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphanumeric())
    };
    for (spelling, canonical) in UNITS {
        if let Some(after) = trimmed.strip_prefix(spelling) {
            // A unit that is a single letter must not be the start of a word.
            if boundary(after) {
                return (Some(canonical), at + skipped + spelling.len());
            }
        }
    }
    // `38.5 C (101.3 F)`: the letters are units after a number (issue 8: `(39 C)` →
    // `(39 F)` must not pass as a bare number), as `°C`/`°F` are.
    for (letter, canonical) in [("c", "°C"), ("f", "°F")] {
        if let Some(after) = trimmed.strip_prefix(letter) {
            if boundary(after) && !after.starts_with(['\'', '.']) {
                return (Some(canonical), at + skipped + 1);
            }
        }
    }
    (None, at)
}

/// Every number in a text, with its unit: digits (decimals, thousands, ratios such as
/// `102/73`, `X over Y`) and number words. `type 2` is part of a name, not a number.
/// Digits glued after letters (`B12`, `HbA1c`) are names, not numbers.
pub(super) fn numbers(text: &str) -> Vec<NumberMention> {
    // ASCII lowering keeps byte offsets, so spans index the original text.
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_number = (c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'.');
        if starts_number && lower[..i].trim_end().ends_with("type") {
            i = scan_number(bytes, i);
            continue;
        }
        if starts_number {
            let start = i;
            i = scan_number(bytes, i);
            let mut value = canonical_number(&lower[start..i]);
            // A ratio: 102/73, 120 / 80, 102 over 73.
            let rest = &lower[i..];
            for separator in ["/", " / ", " over "] {
                if let Some(after) = rest.strip_prefix(separator) {
                    if after.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                        let second_start = i + separator.len();
                        let end = scan_number(bytes, second_start);
                        value = format!("{value}/{}", canonical_number(&lower[second_start..end]));
                        i = end;
                        break;
                    }
                }
            }
            let (unit, end) = unit_after(&lower, i);
            found.push(NumberMention {
                value,
                unit,
                start,
                end: end.max(i),
            });
            i = end.max(i);
            continue;
        }
        if c.is_ascii_alphabetic() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = bytes[i..]
                .iter()
                .position(|b| !b.is_ascii_alphabetic())
                .map_or(bytes.len(), |p| i + p);
            let word = &lower[i..end];
            let digits = NUMBER_WORDS
                .iter()
                .find(|(w, _)| *w == word)
                .map(|(_, d)| *d);
            if let Some(digits) = digits {
                let (unit, unit_end) = unit_after(&lower, end);
                {
                    found.push(NumberMention {
                        value: digits.to_string(),
                        unit,
                        start: i,
                        end: unit_end.max(end),
                    });
                    i = unit_end.max(end);
                    continue;
                }
            }
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// The end of a number starting at `i`: digits, one decimal point, thousands commas.
fn scan_number(bytes: &[u8], mut i: usize) -> usize {
    let mut seen_point = false;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            i += 1;
        } else if c == b'.' && !seen_point && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            seen_point = true;
            i += 1;
        } else if c == b','
            && !seen_point
            && bytes.len() >= i + 4
            && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
            && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit())
        {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// Rejects a value the paraphrase drops or adds and a unit it changes. Values are compared
/// as sets (a passage said twice and paraphrased once drops nothing); a value written
/// without a unit on either side matches it with any unit.
pub(super) fn compare_numbers(
    original: &str,
    original_numbers: &[NumberMention],
    paraphrase: &str,
    paraphrase_numbers: &[NumberMention],
    rejections: &mut Vec<Finding>,
) {
    let shown = |text: &str, m: &NumberMention| whole_words(text, m.start, m.end).to_string();
    let with_value = |mentions: &'_ [NumberMention], value: &str| -> Vec<NumberMention> {
        mentions
            .iter()
            .filter(|m| m.value == value)
            .cloned()
            .collect()
    };
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for m in original_numbers {
        if !reported.insert(format!("{}|{:?}", m.value, m.unit)) {
            continue;
        }
        let same = with_value(paraphrase_numbers, &m.value);
        // "one week" is as often "a week": a lone 1 is not compared.
        if same.is_empty() {
            if m.value == "1" {
                continue;
            }
            let text = shown(original, m);
            rejections.push(Finding::new(
                Check::NumberDropped,
                format!("`{text}` is not in the paraphrase"),
                Some(text),
                None,
            ));
            continue;
        }
        let Some(unit) = m.unit else { continue };
        let exact = same.iter().any(|p| p.unit == Some(unit));
        // A bare number with the value may stand for it, unless the value now carries a
        // unit the original never gives it (`1-hour` became `1-day`).
        let moved = same.iter().find(|p| {
            p.unit.is_some_and(|u| {
                u != unit
                    && !original_numbers
                        .iter()
                        .any(|o| o.value == m.value && o.unit == Some(u))
            })
        });
        let kept = exact || (moved.is_none() && same.iter().any(|p| p.unit.is_none()));
        if !kept {
            let other = moved.unwrap_or(&same[0]);
            rejections.push(Finding::new(
                Check::UnitChanged,
                format!(
                    "`{}`: {unit} became {}",
                    shown(original, m),
                    other.unit.unwrap_or_default()
                ),
                Some(shown(original, m)),
                Some(shown(paraphrase, other)),
            ));
        }
    }
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for p in paraphrase_numbers {
        if !reported.insert(format!("{}|{:?}", p.value, p.unit)) {
            continue;
        }
        let same = with_value(original_numbers, &p.value);
        if same.is_empty() {
            if p.value == "1" {
                continue;
            }
            let text = shown(paraphrase, p);
            rejections.push(Finding::new(
                Check::NumberAdded,
                format!("`{text}` is not in the original"),
                None,
                Some(text),
            ));
            continue;
        }
        let Some(unit) = p.unit else { continue };
        let known = same
            .iter()
            .any(|o| o.unit == Some(unit) || o.unit.is_none());
        // A unit the original has for the value elsewhere was already reported above.
        if !known && !same.iter().any(|o| o.unit.is_some()) {
            rejections.push(Finding::new(
                Check::UnitChanged,
                format!("`{}` has a unit the original lacks", shown(paraphrase, p)),
                Some(shown(original, &same[0])),
                Some(shown(paraphrase, p)),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_units_are_read_with_their_spellings() {
        let found = numbers("BP 102/73 mm Hg, pulse 106/min, T 38.90°C, Na 135 mEq/L, 1,500 mL, two weeks, a 24-year-old, vitamin B12, .5 mg, 102.2 F (39 C), 14 y/o, type 2 diabetes");
        let pairs: Vec<(String, Option<&str>)> =
            found.into_iter().map(|n| (n.value, n.unit)).collect();
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
}
