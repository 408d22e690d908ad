//! Relative time expressions (`13 days after`, `a few months ago`): an amount, a time unit
//! and a direction, and the check that the paraphrase does not turn one into the other
//! direction or another unit. Only a conflict rejects: a paraphrase that words the time
//! another way (`a 3-day history`) is left to the number check. Also opposed time words
//! (`initially` / `subsequently`, `persisted` / `coming and going`), by conflict only.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::facts::Facts;
use super::numbers::time_unit;
use super::text::Gap;
use super::word_filter::WordMap;
use super::{Check, Finding};

/// Words before an amount and unit that look back from now (`for the past year`, `over
/// the last 2 weeks`, `last year`): the time lies before, as `ago` says.
const LOOKING_BACK: &[&str] = &["past", "last", "previous", "preceding"];
/// Direction words right after the unit → canonical direction.
const DIRECTIONS: &[(&str, &str)] = &[
    ("ago", "before"),
    ("before", "before"),
    ("earlier", "before"),
    ("prior", "before"),
    ("previously", "before"),
    ("after", "after"),
    ("later", "after"),
    ("afterwards", "after"),
    ("following", "after"),
];
/// Amounts written as words that are no number (`a few months ago`).
const VAGUE: &[&str] = &["few", "several", "couple", "many", "some"];

/// Opposed ways of telling when or how long, as classes of phrases: a text that says the
/// first class and not the second, against one that says the second and not the first, is
/// a change (a conflict only: a paraphrase that leaves the time out is left alone).
const CONTRASTS: &[(&[&str], &[&str])] = &[
    (
        &["initially", "originally", "at first", "at onset"],
        &[
            "subsequently",
            "afterwards",
            "afterward",
            "eventually",
            "later on",
        ],
    ),
    (
        &[
            "persisted",
            "persists",
            "persisting",
            "persistent",
            "persistently",
            "constant",
            "constantly",
            "continuous",
            "continuously",
        ],
        &[
            "intermittent",
            "intermittently",
            "coming and going",
            "come and go",
            "comes and goes",
            "on and off",
            "off and on",
            "episodic",
            "waxing and waning",
        ],
    ),
    // Time of day of a recurring symptom.
    (
        &[
            "in the morning",
            "in the mornings",
            "early morning",
            "on waking",
            "upon waking",
        ],
        &[
            "at night",
            "at nighttime",
            "during the night",
            "in the evening",
            "in the evenings",
            "at bedtime",
            "nocturnal",
        ],
    ),
    // Sequence: one event after or before another.
    (&["after", "following"], &["before", "prior to"]),
];

/// What a text says of one class of a contrast: how many times, and the tokens of the
/// first.
#[derive(Clone, Copy, Default)]
struct Said {
    times: usize,
    first: Option<(usize, usize)>,
}

/// Per contrast and side: how often the text says a phrase of that class and where first,
/// in one pass over the tokens (a hash lookup each, by the phrases' first words).
fn said(facts: &Facts) -> Vec<[Said; 2]> {
    type Phrases = Vec<(usize, usize, Vec<&'static str>)>;
    static INDEX: OnceLock<WordMap<&'static str, Phrases>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut index: FxHashMap<&'static str, Phrases> = FxHashMap::default();
        for (c, (first, second)) in CONTRASTS.iter().enumerate() {
            for (side, class) in [first, second].into_iter().enumerate() {
                for phrase in *class {
                    let mut words = phrase.split(' ');
                    let head = words.next().unwrap_or("");
                    index
                        .entry(head)
                        .or_default()
                        .push((c, side, words.collect()));
                }
            }
        }
        WordMap::new(index)
    });
    let tokens = &facts.tokens;
    let mut out = vec![[Said::default(); 2]; CONTRASTS.len()];
    for (i, token) in tokens.iter().enumerate() {
        let Some(candidates) = index.get(token.lower.as_ref()) else {
            continue;
        };
        for (c, side, rest) in candidates {
            let fits = rest.len() < tokens.len() - i
                && rest
                    .iter()
                    .zip(&tokens[i + 1..])
                    .all(|(w, t)| t.lower == *w);
            if fits {
                let said = &mut out[*c][*side];
                said.times += 1;
                said.first.get_or_insert((i, i + 1 + rest.len()));
            }
        }
    }
    out
}

/// Rejects a paraphrase that says one of two opposed time classes fewer times and the
/// other more times than the original (a note may say both: `continuous nebulizers` and
/// symptoms that `have persisted`, paraphrased as `coming and going`).
/// Returns the original's token spans it reported.
fn compare_contrasts(
    before: &Facts,
    after: &Facts,
    rejections: &mut Vec<Finding>,
) -> Vec<(usize, usize)> {
    let mut reported = Vec::new();
    let (said_before, said_after) = (said(before), said(after));
    for (original, paraphrase) in said_before.iter().zip(&said_after) {
        for (from, to) in [(0, 1), (1, 0)] {
            if original[from].times <= paraphrase[from].times
                || paraphrase[to].times <= original[to].times
            {
                continue;
            }
            let (Some(o), Some(p)) = (original[from].first, paraphrase[to].first) else {
                continue;
            };
            reported.push(o);
            let from = before.token_span(o.0, o.1);
            let to = after.token_span(p.0, p.1);
            rejections.push(Finding::new(
                Check::Temporal,
                format!("time changed: `{from}` became `{to}`"),
                Some(from),
                Some(to),
            ));
        }
    }
    reported
}

/// One relative time expression and its tokens.
struct Timing {
    amount: String,
    unit: &'static str,
    direction: &'static str,
    span: (usize, usize),
}

fn lookup(table: &[(&str, &'static str)], word: &str) -> Option<&'static str> {
    table.iter().find(|(w, _)| *w == word).map(|(_, c)| *c)
}

/// The token of a [`LOOKING_BACK`] word right before the unit at `unit` or before its
/// amount (`past 2 weeks`, `last few months`; one word of amount at most).
fn looking_back(facts: &Facts, unit: usize) -> Option<usize> {
    let tokens = &facts.tokens;
    (unit.saturating_sub(2)..unit).rev().find(|&j| {
        tokens[j + 1..=unit].iter().all(|t| t.gap == Gap::Space)
            && LOOKING_BACK.contains(&tokens[j].lower.as_ref())
    })
}

fn timings(facts: &Facts) -> Vec<Timing> {
    let tokens = &facts.tokens;
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(1) {
        let Some(unit) = time_unit(&token.lower) else {
            continue;
        };
        let after_unit = tokens
            .get(i + 1)
            .filter(|t| t.gap == Gap::Space)
            .and_then(|t| lookup(DIRECTIONS, &t.lower));
        let back = looking_back(facts, i);
        let Some(direction) = after_unit.or_else(|| back.map(|_| "before")) else {
            continue;
        };
        // `the past year`, `last week`: one unit, no amount written.
        if after_unit.is_none() && back == Some(i - 1) {
            out.push(Timing {
                amount: "1".to_string(),
                unit,
                direction,
                span: (i - 1, i + 1),
            });
            continue;
        }
        let end = if after_unit.is_some() { i + 2 } else { i + 1 };
        // The amount: a number ending right before the unit, else a vague word (`a few`,
        // `a couple of`).
        let number = facts
            .numbers
            .iter()
            .find(|n| n.end == token.end || (n.end <= token.start && token.start - n.end <= 2));
        let mut first = i - 1;
        let amount = if let Some(n) = number {
            first = facts.token_at(n.start);
            n.value.clone()
        } else {
            let mut j = i - 1;
            if tokens[j].lower == "of" && j > 0 {
                j -= 1;
            }
            let word = tokens[j].lower.as_ref();
            // `a week ago`, `an hour later`: one unit.
            let one = matches!(word, "a" | "an") && j + 1 == i;
            if !one && !VAGUE.contains(&word) {
                continue;
            }
            first = first.min(j);
            if one {
                "1".to_string()
            } else {
                word.to_string()
            }
        };
        out.push(Timing {
            amount,
            unit,
            direction,
            span: (first, end),
        });
    }
    out
}

/// Rejects a relative time the paraphrase turns around (`after` → `before`) or moves to
/// another unit (`a few months ago` → `a few days ago`).
pub(super) fn compare_timings(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let reported = compare_contrasts(before, after, rejections);
    let original = timings(before);
    let paraphrase = timings(after);
    for o in &original {
        // Its direction word already reported as an opposed sequence (`after` → `before`).
        let overlaps = |&(start, end): &(usize, usize)| start < o.span.1 && o.span.0 < end;
        if reported.iter().any(overlaps) {
            continue;
        }
        let kept = paraphrase
            .iter()
            .any(|p| p.amount == o.amount && p.unit == o.unit && p.direction == o.direction);
        if kept {
            continue;
        }
        // A paraphrase time that says another time of the original is that time, not a
        // change of this one (`3 days` and `3 months ago` both in the note).
        let conflict = paraphrase.iter().find(|p| {
            !original
                .iter()
                .any(|q| q.amount == p.amount && q.unit == p.unit && q.direction == p.direction)
                && p.amount == o.amount
                && ((p.unit == o.unit && p.direction != o.direction)
                    || (p.unit != o.unit && p.direction == o.direction))
        });
        if let Some(p) = conflict {
            let from = before.token_span(o.span.0, o.span.1);
            let to = after.token_span(p.span.0, p.span.1);
            rejections.push(Finding::new(
                Check::Temporal,
                format!("time changed: `{from}` became `{to}`"),
                Some(from),
                Some(to),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(original: &str, paraphrase: &str) -> Vec<Finding> {
        super::super::facts::compared_by(compare_timings, original, paraphrase)
    }

    #[test]
    fn turned_or_moved_times_are_rejected_and_rewordings_pass() {
        assert_eq!(
            compared("Thirteen days after the shot.", "13 days before the shot.").len(),
            1
        );
        assert_eq!(
            compared(
                "She took a test a few months ago.",
                "A test a few days ago."
            )
            .len(),
            1
        );
        assert!(compared(
            "Pain began 3 days ago.",
            "Pain for 3 days, since 3 days prior."
        )
        .is_empty());
        assert!(compared("Pain began 3 days ago.", "A 3-day history of pain.").is_empty());
        // One unit said with `a`: another unit is a change, the number 1 is not.
        assert_eq!(
            compared(
                "The rash dissipated a week ago.",
                "The rash resolved a month ago."
            )
            .len(),
            1
        );
        assert!(compared(
            "The rash dissipated a week ago.",
            "Rash resolved 1 week ago."
        )
        .is_empty());
        // Opposed classes conflict; leaving the time out does not.
        assert_eq!(
            compared(
                "Initially, she had a cough.",
                "Subsequently, she developed a cough."
            )
            .len(),
            1
        );
        assert_eq!(
            compared(
                "Symptoms started 1 hour ago and have persisted.",
                "Symptoms began 1 hour ago and have been coming and going."
            )
            .len(),
            1
        );
        assert!(compared("Initially, she had a cough.", "She had a cough.").is_empty());
        assert_eq!(
            compared(
                "Symptoms are worse at night.",
                "Symptoms are worse in the morning."
            )
            .len(),
            1
        );
        assert_eq!(
            compared(
                "The headache started after the fall.",
                "The headache started before the fall."
            )
            .len(),
            1
        );
        assert!(compared(
            "The headache started after the fall, before lunch.",
            "Following the fall, and prior to lunch, the headache started."
        )
        .is_empty());
        // A class the note also says elsewhere: the counts move.
        assert_eq!(
            compared(
                "Symptoms started 1 hour ago and have persisted. He gets continuous nebulizers.",
                "Symptoms began 1 hour ago and come and go. He gets continuous nebulizers."
            )
            .len(),
            1
        );
        assert!(compared(
            "Pain is constant. Nausea is intermittent.",
            "Intermittent nausea; constant pain."
        )
        .is_empty());
    }

    #[test]
    fn looking_back_abbreviated_units_and_sequence_are_compared() {
        let checks = |o: &str, p: &str| -> Vec<Check> {
            compared(o, p).into_iter().map(|f| f.check).collect()
        };
        assert_eq!(
            checks("Cough for the past year.", "Cough for the past week."),
            vec![Check::Temporal]
        );
        assert_eq!(
            checks(
                "Four months ago, she was in a car accident.",
                "MVC 4 wks ago."
            ),
            vec![Check::Temporal]
        );
        assert_eq!(
            checks(
                "The vomiting started shortly after the pain.",
                "Vomiting began shortly before the pain."
            ),
            vec![Check::Temporal]
        );
        // The same time said another way passes.
        assert!(checks("Cough for the past 3 days.", "Cough that began 3 days ago.").is_empty());
        assert!(checks("Cough for the past year.", "A cough over the last year.").is_empty());
        assert!(checks("Cough for 4 weeks.", "Cough for the past 4 wks.").is_empty());
        // A time the original says elsewhere is no conflict.
        assert!(checks(
            "Diarrhea for the past 3 days. She was in Brazil 3 months ago.",
            "Diarrhea x 3 days. 3 mo ago in Brazil."
        )
        .is_empty());
    }
}
