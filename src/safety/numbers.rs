//! Numbers and their units: digits, decimals, ratios and number words read with the unit
//! after them, and the check that the paraphrase keeps every value with its units.

use std::collections::BTreeMap;

use super::{Check, Finding};

/// A number in a note: its canonical value and the unit right after it, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct NumberMention {
    pub(super) value: String,
    pub(super) unit: Option<&'static str>,
    /// The text as written, for messages.
    shown: String,
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

/// The unit right after position `at` in `lower` (skipping spaces and one hyphen).
fn unit_after(lower: &str, at: usize) -> (Option<&'static str>, usize) {
    let rest = &lower[at..];
    let trimmed = rest.trim_start_matches([' ', '-']);
    let skipped = rest.len() - trimmed.len();
    if skipped > 2 {
        return (None, at);
    }
    for (spelling, canonical) in UNITS {
        if let Some(after) = trimmed.strip_prefix(spelling) {
            let boundary = after
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            // A unit that is a single letter must not be the start of a word.
            if boundary {
                return (Some(canonical), at + skipped + spelling.len());
            }
        }
    }
    (None, at)
}

/// Every number in a text, with its unit: digits (decimals, thousands, ratios such as
/// `102/73`, `X over Y`) and number words. Digits glued after letters (`B12`, `HbA1c`)
/// are names, not numbers.
pub(super) fn numbers(text: &str) -> Vec<NumberMention> {
    // ASCII lowering keeps byte offsets, so `shown` slices the original text.
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let starts_number = (c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'.');
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
                shown: text.get(start..end).unwrap_or_default().trim().to_string(),
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
            if let Some((_, digits)) = NUMBER_WORDS.iter().find(|(w, _)| *w == word) {
                let (unit, unit_end) = unit_after(&lower, end);
                found.push(NumberMention {
                    value: (*digits).to_string(),
                    unit,
                    shown: text.get(i..unit_end).unwrap_or_default().trim().to_string(),
                });
                i = unit_end.max(end);
                continue;
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

/// Rejects a value the paraphrase drops, writes fewer times or adds, and a unit it
/// drops or changes.
pub(super) fn compare_numbers(
    original: &[NumberMention],
    paraphrase: &[NumberMention],
    rejections: &mut Vec<Finding>,
) {
    /// Per value: how often it is written, with which units (and how often), and how
    /// it was first written.
    #[derive(Default)]
    struct Seen {
        count: usize,
        units: BTreeMap<Option<&'static str>, usize>,
        shown: String,
    }
    let tally = |mentions: &[NumberMention]| {
        let mut map: BTreeMap<String, Seen> = BTreeMap::new();
        for m in mentions {
            let seen = map.entry(m.value.clone()).or_default();
            if seen.count == 0 {
                seen.shown.clone_from(&m.shown);
            }
            seen.count += 1;
            *seen.units.entry(m.unit).or_insert(0) += 1;
        }
        map
    };
    let before = tally(original);
    let after = tally(paraphrase);
    for (value, seen) in &before {
        let Some(found) = after.get(value) else {
            rejections.push(Finding {
                check: Check::NumberDropped,
                detail: format!("`{}` is not in the paraphrase", seen.shown),
            });
            continue;
        };
        if found.count < seen.count {
            rejections.push(Finding {
                check: Check::NumberDropped,
                detail: format!(
                    "`{value}` is written {} times in the original, {} in the paraphrase",
                    seen.count, found.count
                ),
            });
        }
        // Every unit the original puts after the value must follow it in the paraphrase,
        // and the paraphrase must put no other unit after it.
        for (unit, times) in seen.units.iter().filter(|(u, _)| u.is_some()) {
            let kept = found.units.get(unit).copied().unwrap_or(0);
            if kept < *times {
                let instead = found
                    .units
                    .keys()
                    .flatten()
                    .find(|u| !seen.units.contains_key(&Some(**u)));
                let unit = unit.unwrap_or_default();
                rejections.push(Finding {
                    check: Check::UnitChanged,
                    detail: match instead {
                        Some(other) => format!("`{}`: {unit} became {other}", seen.shown),
                        None => format!("`{}`: the unit {unit} is gone", seen.shown),
                    },
                });
            }
        }
        for unit in found.units.keys().flatten() {
            if !seen.units.contains_key(&Some(*unit)) && seen.units.keys().any(Option::is_some) {
                rejections.push(Finding {
                    check: Check::UnitChanged,
                    detail: format!(
                        "`{value} {unit}` is not in the original (it has `{}`)",
                        seen.shown
                    ),
                });
            }
        }
    }
    for (value, seen) in &after {
        if !before.contains_key(value) {
            rejections.push(Finding {
                check: Check::NumberAdded,
                detail: format!("`{}` is not in the original", seen.shown),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_units_are_read_with_their_spellings() {
        let found = numbers("BP 102/73 mm Hg, pulse 106/min, T 38.90°C, Na 135 mEq/L, 1,500 mL, two weeks, a 24-year-old, vitamin B12, .5 mg");
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
            ]
        );
    }
}
