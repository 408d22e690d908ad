//! Numbers and their units: digits, decimals, ratios and number words read with the unit
//! after them, and the check that the paraphrase keeps every value with its units.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use units::{units_by_first_byte, UNITS};

use super::text::{spelling_index, whole_words};
use super::word_filter::WordMap;
use super::{Check, Finding};

mod units;

/// A number in a note: its canonical value and the unit right after it, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct NumberMention {
    pub(super) value: String,
    pub(super) unit: Option<&'static str>,
    /// Where it stands in the text (bytes), unit included.
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Number words a paraphrase may use for digits (and the reverse): cardinals, and the
/// ordinals (`the third postoperative day` = `POD 3`; `first` is a lone 1, never compared).
/// `twice`/`thrice` count events (`seen twice` = `2 visits`); before a frequency word
/// (`twice daily`) they are a drug's frequency instead (`drugs.rs`), not a number.
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("zero", "0"),
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
    ("second", "2"),
    ("third", "3"),
    ("fourth", "4"),
    ("fifth", "5"),
    ("sixth", "6"),
    ("seventh", "7"),
    ("eighth", "8"),
    ("ninth", "9"),
    ("tenth", "10"),
    ("eleventh", "11"),
    ("twelfth", "12"),
    ("twice", "2"),
    ("thrice", "3"),
];

/// The time unit a word names (`weeks`, `wks` → `week`), as the number check reads it:
/// the unit of the first row of the table with that spelling, when it is a time. This
/// runs for every token of both texts: one hash lookup (a scan of the whole table cost a
/// sixth of a check).
pub(super) fn time_unit(word: &str) -> Option<&'static str> {
    const TIME: &[&str] = &["minute", "hour", "day", "week", "month", "year"];
    static INDEX: OnceLock<WordMap<&'static str, usize>> = OnceLock::new();
    // Every spelling of a time unit in the table starts with one of these letters: the
    // other words (most) need no lookup.
    if !matches!(
        word.as_bytes().first(),
        Some(b'y' | b'm' | b'w' | b'd' | b'h')
    ) {
        return None;
    }
    INDEX
        .get_or_init(|| spelling_index(UNITS, |(spelling, _)| spelling))
        .get(word)
        .map(|&place| UNITS[place].1)
        .filter(|unit| TIME.contains(unit))
}

/// The digits of a number word (`seven`, `seventh`), if it is one. This runs for every
/// word of a note: words of another length or first letter are turned away first, the
/// others are looked up in a hash map (a scan of the table cost more than the rest of
/// the number reading: `the`, `she`, `for` pass the first test).
fn number_word(word: &str) -> Option<&'static str> {
    static INDEX: OnceLock<WordMap<&'static str, usize>> = OnceLock::new();
    if !(3..=9).contains(&word.len())
        || !matches!(
            word.as_bytes()[0],
            b'z' | b'o' | b't' | b'f' | b's' | b'e' | b'n' | b'h'
        )
    {
        return None;
    }
    INDEX
        .get_or_init(|| spelling_index(NUMBER_WORDS, |(w, _)| w))
        .get(word)
        .map(|&place| NUMBER_WORDS[place].1)
}

/// Words after `twice`/`thrice` that make it a frequency (`twice daily`, `twice a day`).
const FREQUENCY_AFTER: &[&str] = &[
    "daily", "a day", "per day", "a week", "per week", "weekly", "a month", "monthly", "nightly",
    "an hour", "per hour", "hourly", "a year", "yearly",
];

/// `38.90` → `38.9`, `1,500` → `1500`, `.5` → `0.5`, `007` → `7`.
fn canonical_number(text: &str) -> String {
    // Most numbers are plain digits with no leading zero, canonical as written: one copy,
    // not the copies and splits below.
    if !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_string();
    }
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
    let Some(&first) = trimmed.as_bytes().first() else {
        return (None, at);
    };
    // Only the spellings that start with this byte, in table order.
    for &place in &units_by_first_byte()[usize::from(first)] {
        let (spelling, canonical) = UNITS[place];
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
/// `102/73`, `X over Y`, scores `8 out of 10`) and number words (`twenty-five`, `third`).
/// `type 2` is part of a name, not a number. Digits glued after letters (`B12`, `HbA1c`)
/// are names, not numbers, except the clinical shorthands that put a number after one
/// letter: `q28 days`/`q6h` (every), `x2` (times) and the obstetric `G2P1` (gravida 2,
/// para 1; four para digits are term, preterm, abortions and living children).
/// `lower` is the text lower-cased (ASCII, which keeps byte offsets, so spans index the
/// original text), read once per text by the checker.
pub(super) fn numbers(lower: &str) -> Vec<NumberMention> {
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        // Spaces and punctuation, a good part of a text, start nothing: neither a number
        // (digits or a `.` before them) nor a word.
        if !c.is_ascii_alphanumeric() && c != b'.' {
            i += 1;
            continue;
        }
        let starts_number = (c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'.');
        if starts_number && lower[..i].trim_end().ends_with("type") {
            i = scan_number(bytes, i);
            continue;
        }
        if starts_number {
            let (mention, end) = digits_at(lower, i, i);
            found.push(mention);
            i = end;
            continue;
        }
        if c.is_ascii_alphabetic() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = bytes[i..]
                .iter()
                .position(|b| !b.is_ascii_alphabetic())
                .map_or(bytes.len(), |p| i + p);
            let word = &lower[i..end];
            let digit_after = bytes.get(end).is_some_and(u8::is_ascii_digit);
            if digit_after && (word == "q" || word == "x") {
                let (mention, next) = digits_at(lower, i, end);
                found.push(mention);
                i = next;
                continue;
            }
            if digit_after && word == "g" {
                if let Some(next) = obstetric(lower, i, &mut found) {
                    i = next;
                    continue;
                }
            }
            if let Some((value, word_end)) = number_words(lower, i, end) {
                let frequency = matches!(word, "twice" | "thrice") && {
                    let rest = lower[word_end..].trim_start();
                    FREQUENCY_AFTER.iter().any(|f| {
                        rest.strip_prefix(f)
                            .is_some_and(|r| !r.starts_with(|c: char| c.is_ascii_alphabetic()))
                    })
                };
                if !frequency {
                    let (unit, unit_end) = match word {
                        // An ordinal or a count is no bare number: a bare number matches
                        // the value with any unit.
                        "twice" | "thrice" => (Some("times"), word_end),
                        _ if word.ends_with("th")
                            || matches!(word, "second" | "third" | "twelfth") =>
                        {
                            (Some("th"), word_end)
                        }
                        _ => unit_after(lower, word_end),
                    };
                    found.push(NumberMention {
                        value,
                        unit,
                        start: i,
                        end: unit_end.max(word_end),
                    });
                    i = unit_end.max(word_end);
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

/// The number whose digits start at `digits` (the mention starting at `start`, before a
/// `q`/`x` prefix), with a second number after a ratio separator and the unit after it.
fn digits_at(lower: &str, start: usize, digits: usize) -> (NumberMention, usize) {
    let bytes = lower.as_bytes();
    let mut i = scan_number(bytes, digits);
    let mut value = canonical_number(&lower[digits..i]);
    // A ratio: 102/73, 120 / 80, 102 over 73, a score 8 out of 10.
    let rest = &lower[i..];
    for separator in ["/", " / ", " over ", " out of "] {
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
    // A ratio written with colons is one value: `1:1:1` (a transfusion ratio), `1:320` (a
    // titer), so that one changed part is a changed number however often its digits stand
    // elsewhere in the note.
    if value.bytes().all(|b| b.is_ascii_digit()) {
        while bytes.get(i) == Some(&b':') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let end = scan_number(bytes, i + 1);
            value = format!("{value}:{}", canonical_number(&lower[i + 1..end]));
            i = end;
        }
    }
    // `8 on a 10-point scale` is the score 8/10.
    if lower[i..].starts_with(" on a ") {
        let scale_end = scan_number(bytes, i + 6);
        if scale_end > i + 6 && lower[scale_end..].starts_with("-point scale") {
            value = format!("{value}/{}", canonical_number(&lower[i + 6..scale_end]));
            i = scale_end + "-point scale".len();
        }
    }
    let (unit, end) = unit_after(lower, i);
    let end = end.max(i);
    (
        NumberMention {
            value,
            unit,
            start,
            end,
        },
        end,
    )
}

/// `G2P1` / `G2 P1` / `G3P2012` at `i` (lower case): pushes gravida and para (or the four
/// para digits) and returns where the notation ends; `None` when it is no such notation.
fn obstetric(lower: &str, i: usize, found: &mut Vec<NumberMention>) -> Option<usize> {
    let bytes = lower.as_bytes();
    let gravida_end = scan_digits(bytes, i + 1);
    let mut p = gravida_end;
    if bytes.get(p) == Some(&b' ') {
        p += 1;
    }
    if bytes.get(p) != Some(&b'p') {
        return None;
    }
    let para_end = scan_digits(bytes, p + 1);
    let para = &lower[p + 1..para_end];
    if para.is_empty() || bytes.get(para_end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut push = |value: &str, start: usize, end: usize| {
        found.push(NumberMention {
            value: canonical_number(value),
            unit: None,
            start,
            end,
        });
    };
    push(&lower[i + 1..gravida_end], i, gravida_end);
    if para.len() == 4 {
        for k in 0..4 {
            push(&para[k..=k], p, para_end);
        }
    } else {
        push(para, p, para_end);
    }
    Some(para_end)
}

/// The end of a run of digits from `i`.
fn scan_digits(bytes: &[u8], i: usize) -> usize {
    bytes[i..]
        .iter()
        .position(|b| !b.is_ascii_digit())
        .map_or(bytes.len(), |p| i + p)
}

/// The number written in words from `i` (the first word ending at `end`): a number word,
/// a tens word with a units word (`twenty-five`, `twenty five`) or a units word before
/// `hundred`; its digits and where the words end.
fn number_words(lower: &str, i: usize, end: usize) -> Option<(String, usize)> {
    let first = number_word(&lower[i..end])?;
    // The next word after one space or hyphen, when it is all letters.
    let next_word = |from: usize| -> Option<(&str, usize)> {
        let rest = lower.get(from..)?;
        let rest = rest.strip_prefix([' ', '-'])?;
        let start = from + 1;
        let len = rest
            .bytes()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        (len > 0).then(|| (&lower[start..start + len], start + len))
    };
    let value: u32 = first.parse().ok()?;
    let cardinal = matches!(
        &lower[i..end],
        "one" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine"
    );
    if let Some((word, word_end)) = next_word(end) {
        let units = number_word(word).and_then(|d| d.parse::<u32>().ok());
        if (20..=90).contains(&value) && value.is_multiple_of(10) {
            if let Some(u) = units.filter(|u| (1..=9).contains(u)) {
                return Some(((value + u).to_string(), word_end));
            }
        }
        if cardinal && word == "hundred" {
            return Some(((value * 100).to_string(), word_end));
        }
    }
    // `second-hand` smoke is no number.
    if lower[i..end] == *"second" && lower[end..].starts_with("-hand") {
        return None;
    }
    Some((first.to_string(), end))
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

/// Whether `value`, missing from `other` as written, stands there split or joined: a
/// ratio whose every part is a value (or a ratio's part) of `other` (`295 / 285` written
/// as two table columns), or a value that is a part of a ratio of `other` whose every part
/// `own` has (the two columns joined into `295 / 285`). A changed part still fails: it is
/// in neither text.
fn split_or_joined(value: &str, own: &[NumberMention], other: &[NumberMention]) -> bool {
    let has_part = |list: &[NumberMention], part: &str| {
        list.iter().any(|n| n.value.split('/').any(|p| p == part))
    };
    if value.contains('/') {
        value.split('/').all(|part| has_part(other, part))
    } else {
        other.iter().any(|n| {
            n.value.contains('/')
                && n.value.split('/').any(|p| p == value)
                && n.value.split('/').all(|p| has_part(own, p))
        })
    }
}

/// Rejects a value the paraphrase drops or adds and a unit it changes. Values are compared
/// as sets (a passage said twice and paraphrased once drops nothing); a value written
/// without a unit on either side matches it with any unit.
pub(super) fn compare_numbers<'a>(
    original: &str,
    original_numbers: &'a [NumberMention],
    paraphrase: &str,
    paraphrase_numbers: &'a [NumberMention],
    rejections: &mut Vec<Finding>,
) {
    let shown = |text: &str, m: &NumberMention| whole_words(text, m.start, m.end).to_string();
    let with_value = |mentions: &'a [NumberMention], value: &str| -> Vec<&'a NumberMention> {
        mentions.iter().filter(|m| m.value == value).collect()
    };
    let mut reported: BTreeSet<(&str, Option<&str>)> = BTreeSet::new();
    for m in original_numbers {
        if !reported.insert((&m.value, m.unit)) {
            continue;
        }
        let same = with_value(paraphrase_numbers, &m.value);
        // "one week" is as often "a week": a lone 1 is not compared.
        if same.is_empty() {
            if m.value == "1" || split_or_joined(&m.value, original_numbers, paraphrase_numbers) {
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
    let mut reported: BTreeSet<(&str, Option<&str>)> = BTreeSet::new();
    for p in paraphrase_numbers {
        if !reported.insert((&p.value, p.unit)) {
            continue;
        }
        let same = with_value(original_numbers, &p.value);
        if same.is_empty() {
            if p.value == "1" || split_or_joined(&p.value, paraphrase_numbers, original_numbers) {
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
                Some(shown(original, same[0])),
                Some(shown(paraphrase, p)),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
