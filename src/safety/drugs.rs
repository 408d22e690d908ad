//! Drugs: the compiled-in lexicon and its matcher, and the check that every drug keeps
//! its name and the dose, route and frequency written next to it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::numbers::numbers;
use super::{Check, Finding};

/// The drug lexicon (`variant<TAB>canonical`), made by `configs/lexicons/make_drug_lexicon.py`.
const DRUG_LEXICON: &str = include_str!("../../configs/lexicons/drugs.tsv");

/// The lexicon's spellings in one automaton, built once per process.
pub(super) struct DrugMatcher {
    automaton: AhoCorasick,
}

/// The shared matcher, built on first use.
pub(super) fn drug_matcher() -> &'static DrugMatcher {
    static MATCHER: OnceLock<DrugMatcher> = OnceLock::new();
    MATCHER.get_or_init(|| {
        let variants: Vec<&str> = DRUG_LEXICON
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').next())
            .collect();
        // The variants are lower case, so matching them case-sensitively in ASCII-lowered
        // text finds what `ascii_case_insensitive` would, at about half the build time
        // (one transition per letter instead of two).
        debug_assert!(variants
            .iter()
            .all(|v| !v.bytes().any(|b| b.is_ascii_uppercase())));
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&variants)
            .expect("the compiled-in lexicon builds an automaton");
        DrugMatcher { automaton }
    })
}

/// A drug named in a text, with what stands next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DrugMention {
    pub(super) name: String,
    pub(super) start: usize,
    pub(super) end: usize,
}

impl DrugMatcher {
    /// Every drug name in `text` (lower case), on word boundaries, in order.
    pub(super) fn mentions(&self, text: &str) -> Vec<DrugMention> {
        let bytes = text.as_bytes();
        let is_word = |b: u8| b.is_ascii_alphanumeric();
        let lower = text.to_ascii_lowercase();
        self.automaton
            .find_iter(&lower)
            .filter(|m| {
                (m.start() == 0 || !is_word(bytes[m.start() - 1]))
                    && (m.end() == bytes.len() || !is_word(bytes[m.end()]))
            })
            .map(|m| DrugMention {
                name: text[m.start()..m.end()].to_ascii_lowercase(),
                start: m.start(),
                end: m.end(),
            })
            .collect()
    }
}

/// Route spellings → canonical route.
const ROUTES: &[(&str, &str)] = &[
    ("by mouth", "oral"),
    ("orally", "oral"),
    ("oral", "oral"),
    ("po", "oral"),
    ("intravenously", "iv"),
    ("intravenous", "iv"),
    ("iv", "iv"),
    ("intramuscularly", "im"),
    ("intramuscular", "im"),
    ("im", "im"),
    ("subcutaneously", "subcutaneous"),
    ("subcutaneous", "subcutaneous"),
    ("subq", "subcutaneous"),
    ("sc", "subcutaneous"),
    ("sublingually", "sublingual"),
    ("sublingual", "sublingual"),
    ("topically", "topical"),
    ("topical", "topical"),
    ("inhaled", "inhaled"),
    ("nebulized", "inhaled"),
    ("rectally", "rectal"),
    ("rectal", "rectal"),
    ("intranasal", "intranasal"),
    ("transdermal", "transdermal"),
];

/// Frequency spellings → canonical frequency.
const FREQUENCIES: &[(&str, &str)] = &[
    ("twice daily", "2/day"),
    ("twice a day", "2/day"),
    ("two times a day", "2/day"),
    ("two times daily", "2/day"),
    ("bid", "2/day"),
    ("b.i.d.", "2/day"),
    ("three times daily", "3/day"),
    ("three times a day", "3/day"),
    ("tid", "3/day"),
    ("t.i.d.", "3/day"),
    ("four times daily", "4/day"),
    ("four times a day", "4/day"),
    ("qid", "4/day"),
    ("once daily", "1/day"),
    ("once a day", "1/day"),
    ("daily", "1/day"),
    ("qd", "1/day"),
    ("every day", "1/day"),
    ("nightly", "night"),
    ("at bedtime", "night"),
    ("qhs", "night"),
    ("as needed", "prn"),
    ("prn", "prn"),
    ("weekly", "1/week"),
    ("once a week", "1/week"),
    ("monthly", "1/month"),
    ("every 4 hours", "q4h"),
    ("q4h", "q4h"),
    ("every 6 hours", "q6h"),
    ("q6h", "q6h"),
    ("every 8 hours", "q8h"),
    ("q8h", "q8h"),
    ("every 12 hours", "q12h"),
    ("q12h", "q12h"),
];

/// Routes and frequencies named in `text` (lower case), as canonical terms. Longer
/// spellings win where they overlap (`twice daily` is not also `daily`).
fn terms_in(lower: &str, table: &[(&str, &'static str)]) -> BTreeSet<&'static str> {
    let mut spans: Vec<(usize, usize, &'static str)> = Vec::new();
    for (spelling, canonical) in table {
        let mut from = 0;
        while let Some(at) = lower[from..].find(spelling) {
            let start = from + at;
            let end = start + spelling.len();
            let before = lower[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let after = lower[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if before && after {
                spans.push((start, end, canonical));
            }
            from = end;
        }
    }
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut found = BTreeSet::new();
    let mut covered = 0;
    for (start, end, canonical) in spans {
        if start >= covered {
            found.insert(canonical);
            covered = end;
        }
    }
    found
}

/// The doses (value and unit), routes and frequencies written in a drug's window.
struct Beside {
    doses: BTreeSet<(String, Option<&'static str>)>,
    routes: BTreeSet<&'static str>,
    frequencies: BTreeSet<&'static str>,
}

impl Beside {
    fn read(window: &str) -> Beside {
        Beside {
            doses: numbers(window)
                .into_iter()
                .map(|n| (n.value, n.unit))
                .collect(),
            routes: terms_in(window, ROUTES),
            frequencies: terms_in(window, FREQUENCIES),
        }
    }

    fn is_empty(&self) -> bool {
        self.doses.is_empty() && self.routes.is_empty() && self.frequencies.is_empty()
    }

    /// What is written here and not in `found`, for a message (a dose written without a
    /// unit is kept by the same value with any unit).
    fn missing_from(&self, found: &Beside) -> Vec<String> {
        let mut missing: Vec<String> = self
            .doses
            .iter()
            .filter(|(value, unit)| {
                !found
                    .doses
                    .iter()
                    .any(|(v, u)| v == value && (unit.is_none() || u == unit))
            })
            .map(|(value, unit)| {
                format!(
                    "{value}{}",
                    unit.map(|u| format!(" {u}")).unwrap_or_default()
                )
            })
            .collect();
        missing.extend(
            self.routes
                .difference(&found.routes)
                .map(|r| format!("route {r}")),
        );
        missing.extend(
            self.frequencies
                .difference(&found.frequencies)
                .map(|f| format!("frequency {f}")),
        );
        missing
    }
}

/// The text a drug's dose, route and frequency are read from: after the drug, to the
/// next drug or the end of the sentence (in the original); around it in the paraphrase,
/// where a dose may come first ("81 mg of aspirin").
fn window(text: &str, start: usize, end: usize, next_drug: Option<usize>, before: usize) -> String {
    let sentence_end = text[end..]
        .find(['.', ';', '\n'])
        .map_or(text.len(), |p| end + p);
    let stop = next_drug
        .map_or(sentence_end, |n| n.min(sentence_end))
        .max(end);
    let mut from = start.saturating_sub(before);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let sentence_start = text[from..start]
        .rfind(['.', ';', '\n'])
        .map_or(from, |p| from + p + 1);
    text[sentence_start..stop.min(text.len())].to_lowercase()
}

/// Rejects a drug the paraphrase drops or adds, and a dose, route or frequency it no
/// longer writes next to a drug.
pub(super) fn compare_drugs(
    original: &str,
    original_drugs: &[DrugMention],
    paraphrase: &str,
    paraphrase_drugs: &[DrugMention],
    rejections: &mut Vec<Finding>,
) {
    let names = |mentions: &[DrugMention]| {
        mentions
            .iter()
            .map(|m| m.name.clone())
            .collect::<BTreeSet<_>>()
    };
    let original_names = names(original_drugs);
    let paraphrase_names = names(paraphrase_drugs);
    for name in original_names.difference(&paraphrase_names) {
        rejections.push(Finding {
            check: Check::DrugDropped,
            detail: format!("`{name}` is not named in the paraphrase"),
        });
    }
    for name in paraphrase_names.difference(&original_names) {
        rejections.push(Finding {
            check: Check::DrugAdded,
            detail: format!("`{name}` is not in the original"),
        });
    }
    // What stands next to each drug in the original must stand next to it in the paraphrase.
    for (index, mention) in original_drugs.iter().enumerate() {
        let next = original_drugs.get(index + 1).map(|m| m.start);
        let after = window(original, mention.end, mention.end, next, 0);
        let wanted = Beside::read(&after);
        if wanted.is_empty() {
            continue;
        }
        let mut around = String::new();
        for (i, m) in paraphrase_drugs
            .iter()
            .enumerate()
            .filter(|(_, m)| m.name == mention.name)
        {
            let next = paraphrase_drugs.get(i + 1).map(|n| n.start);
            around.push_str(&window(paraphrase, m.start, m.end, next, 40));
            around.push('\n');
        }
        if around.is_empty() {
            continue; // already reported as dropped
        }
        let missing = wanted.missing_from(&Beside::read(&around));
        if !missing.is_empty() {
            rejections.push(Finding {
                check: Check::DoseRouteFrequency,
                detail: format!(
                    "next to `{}` the paraphrase lacks {}",
                    mention.name,
                    missing.join(", ")
                ),
            });
        }
    }
}
