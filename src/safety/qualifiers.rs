//! Severity (`mild`, `severe`) and temporal (`acute`, `chronic`, `sudden`, `yesterday`)
//! qualifiers, each attached to the word it qualifies, and the check that no finding
//! changes or loses its qualifier.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use super::facts::Facts;
use super::text::{is_stopword, spelling_index, Gap};
use super::word_filter::WordMap;
use super::{Check, Finding};

/// Qualifier spelling → (check, canonical value).
const QUALIFIERS: &[(&str, Check, &str)] = &[
    ("mild", Check::Severity, "mild"),
    ("mildly", Check::Severity, "mild"),
    ("slight", Check::Severity, "mild"),
    ("slightly", Check::Severity, "mild"),
    ("minimal", Check::Severity, "mild"),
    ("low-grade", Check::Severity, "mild"),
    ("minor", Check::Severity, "mild"),
    ("moderate", Check::Severity, "moderate"),
    ("moderately", Check::Severity, "moderate"),
    ("severe", Check::Severity, "severe"),
    ("severely", Check::Severity, "severe"),
    ("marked", Check::Severity, "severe"),
    ("markedly", Check::Severity, "severe"),
    ("significantly", Check::Severity, "severe"),
    ("considerably", Check::Severity, "severe"),
    ("substantially", Check::Severity, "severe"),
    ("extreme", Check::Severity, "severe"),
    ("excruciating", Check::Severity, "severe"),
    ("intense", Check::Severity, "severe"),
    ("high-grade", Check::Severity, "severe"),
    ("massive", Check::Severity, "severe"),
    ("prominent", Check::Severity, "severe"),
    ("pronounced", Check::Severity, "severe"),
    ("profound", Check::Severity, "severe"),
    ("low-amplitude", Check::Severity, "small"),
    ("high-amplitude", Check::Severity, "large"),
    ("small", Check::Severity, "small"),
    ("tiny", Check::Severity, "small"),
    ("large", Check::Severity, "large"),
    ("big", Check::Severity, "large"),
    ("occasional", Check::Temporal, "occasional"),
    ("occasionally", Check::Temporal, "occasional"),
    ("frequent", Check::Temporal, "frequent"),
    ("frequently", Check::Temporal, "frequent"),
    ("often", Check::Temporal, "frequent"),
    ("acute", Check::Temporal, "acute"),
    ("subacute", Check::Temporal, "subacute"),
    ("chronic", Check::Temporal, "chronic"),
    ("long-standing", Check::Temporal, "chronic"),
    ("recurrent", Check::Temporal, "recurrent"),
    ("recurring", Check::Temporal, "recurrent"),
    ("intermittent", Check::Temporal, "intermittent"),
    ("episodic", Check::Temporal, "intermittent"),
    ("persistent", Check::Temporal, "persistent"),
    ("constant", Check::Temporal, "persistent"),
    ("sudden", Check::Temporal, "sudden"),
    ("suddenly", Check::Temporal, "sudden"),
    ("abrupt", Check::Temporal, "sudden"),
    ("gradual", Check::Temporal, "gradual"),
    ("gradually", Check::Temporal, "gradual"),
    ("insidious", Check::Temporal, "gradual"),
    ("acutely", Check::Temporal, "acute"),
    ("chronically", Check::Temporal, "chronic"),
    ("recurrently", Check::Temporal, "recurrent"),
    ("intermittently", Check::Temporal, "intermittent"),
    ("episodically", Check::Temporal, "intermittent"),
    ("persistently", Check::Temporal, "persistent"),
    // The verbs (`her cough persists`, `the episodes recur`).
    ("persists", Check::Temporal, "persistent"),
    ("persisted", Check::Temporal, "persistent"),
    ("persisting", Check::Temporal, "persistent"),
    ("recur", Check::Temporal, "recurrent"),
    ("recurs", Check::Temporal, "recurrent"),
    ("recurred", Check::Temporal, "recurrent"),
    ("constantly", Check::Temporal, "persistent"),
    ("abruptly", Check::Temporal, "sudden"),
    ("progressive", Check::Temporal, "progressive"),
    ("progressively", Check::Temporal, "progressive"),
    ("yesterday", Check::Temporal, "yesterday"),
    ("today", Check::Temporal, "today"),
    ("tonight", Check::Temporal, "tonight"),
    ("overnight", Check::Temporal, "overnight"),
    ("recent", Check::Temporal, "recent"),
    ("recently", Check::Temporal, "recent"),
    ("newly", Check::Temporal, "recent"),
];

/// Time qualifiers that say the opposite of each other (both ways). A time qualifier one
/// text has and the other has nowhere is a change only when the other says an opposite in
/// its place: a model words a course many ways (`intermittently` as `come and go`,
/// `progressively worsened` as `steadily worsened`, `persistent` as `remains`), while a
/// careless change swaps one course for another (`intermittent` → `constant`). Not for
/// `DAYS`.
const OPPOSITE_TIMES: &[(&str, &str)] = &[
    ("occasional", "frequent"),
    ("occasional", "persistent"),
    ("intermittent", "persistent"),
    ("acute", "chronic"),
    ("acute", "subacute"),
    ("subacute", "chronic"),
    ("sudden", "gradual"),
    ("sudden", "chronic"),
    ("recent", "chronic"),
    ("progressive", "intermittent"),
];

/// Day words: a day is one fact, said or not (`performed today` → `at his last visit` is a
/// change, though the other text has no day word), so the opposites above do not apply.
const DAYS: &[&str] = &["yesterday", "today", "tonight", "overnight"];

/// Whether two time values are opposites (`OPPOSITE_TIMES`).
fn opposite_times(a: &str, b: &str) -> bool {
    OPPOSITE_TIMES
        .iter()
        .any(|&(x, y)| (x == a && y == b) || (x == b && y == a))
}

/// Comparatives a degree word may qualify (`slightly better`, `a little better`): a degree
/// of change, not a finding's severity, so not compared.
const COMPARATIVES: &[&str] = &[
    "better", "worse", "more", "less", "improved", "higher", "lower", "greater", "smaller",
    "larger", "earlier", "later",
];

/// Whether `word` is a severity or time qualifier this file compares.
pub(super) fn is_qualifier(word: &str) -> bool {
    QUALIFIERS.iter().any(|(s, _, _)| *s == word)
}

/// A qualifier with what it qualifies (`""` when nothing follows) and its token span.
struct Qualified {
    check: Check,
    value: &'static str,
    head: String,
    span: (usize, usize),
    /// `today` right after the visit's verb (`presents today`, `is seen today`).
    visit_day: bool,
    /// A word of a concept's name (`chronic cholecystitis`): compared by the concept
    /// check, and here only as an opposite of the other text's qualifier.
    in_name: bool,
}

/// Verbs of a visit: `today` after one of them is the day the note was written.
const VISIT_VERBS: &[&str] = &[
    "presents",
    "presented",
    "comes",
    "came",
    "seen",
    "visits",
    "arrives",
    "returns",
];

fn qualified(facts: &Facts) -> Vec<Qualified> {
    static INDEX: OnceLock<WordMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| spelling_index(QUALIFIERS, |(s, _, _)| s));
    let tokens = &facts.tokens;
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        // `acute-onset` as `acute onset`, `today's` as `today`.
        let lower: &str = token.lower.as_ref();
        // Every qualifier has three letters or more: shorter words (`a`, `of`) are none.
        if lower.len() < 3 {
            continue;
        }
        let found = index.get(lower).map(|&q| (q, None)).or_else(|| {
            // `split_once('-')` by bytes: a `-` is one byte, and this runs for every token.
            let hyphen = lower.bytes().position(|b| b == b'-');
            let (word, joined) = match hyphen.map(|at| (&lower[..at], &lower[at + 1..])) {
                Some((first, rest)) if !rest.is_empty() => (first, Some(rest)),
                _ => (
                    lower
                        .strip_suffix("'s")
                        .or_else(|| lower.strip_suffix("\u{2019}s"))?,
                    None,
                ),
            };
            index.get(word).map(|&q| (q, joined))
        });
        let Some(((_, check, value), joined)) = found.map(|(q, j)| (&QUALIFIERS[q], j)) else {
            continue;
        };
        // The first content word after it in the clause (or a concept there).
        let head = (i + 1..tokens.len().min(i + 4))
            .take_while(|&j| tokens[j].gap < Gap::Comma)
            .find(|&j| {
                let w = tokens[j].lower.as_ref();
                w.len() >= 3
                    && !is_stopword(w)
                    && !index.contains_key(w)
                    && w.chars().all(|c| c.is_alphabetic() || c == '-')
            });
        // A qualifier that is a word of a concept's name (`chronic obstructive lung disease`,
        // `minimal change disease`) belongs to the name, which the concept check compares.
        let in_name = facts
            .mentions
            .iter()
            .any(|m| m.last > m.first + 1 && m.first <= i && i < m.last);
        if *check == Check::Severity
            && tokens
                .get(i + 1)
                .is_some_and(|t| COMPARATIVES.contains(&t.lower.as_ref()))
        {
            continue;
        }
        let (word, last) = match (joined, head) {
            (Some(rest), _) => (rest.strip_suffix('s').unwrap_or(rest).to_string(), i + 1),
            (None, Some(j)) => {
                let w = &tokens[j].lower;
                (w.strip_suffix('s').unwrap_or(w).to_string(), j + 1)
            }
            (None, None) => (String::new(), i + 1),
        };
        // `no acute distress` (NAD): the examination's set phrase, whose negation the
        // negation check compares.
        if head.is_some_and(|j| tokens[j].lower == "distress") {
            continue;
        }
        let visit_day =
            *value == "today" && i > 0 && VISIT_VERBS.contains(&tokens[i - 1].lower.as_ref());
        out.push(Qualified {
            check: *check,
            value,
            head: word,
            span: (i, last),
            visit_day,
            in_name,
        });
    }
    out
}

/// Rejects a qualifier that changes on the same word, or that one text has and the other
/// has nowhere (a time qualifier only when the other text says an opposite, outside
/// `DAYS`).
pub(super) fn compare_qualifiers(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let (original_all, paraphrase_all) = (qualified(before), qualified(after));
    let original: Vec<&Qualified> = original_all.iter().filter(|q| !q.in_name).collect();
    let paraphrase: Vec<&Qualified> = paraphrase_all.iter().filter(|q| !q.in_name).collect();
    let mut reported = BTreeSet::new();
    for (list, other, other_all, from_original) in [
        (&original, &paraphrase, &paraphrase_all, true),
        (&paraphrase, &original, &original_all, false),
    ] {
        for q in list {
            let same = other.iter().any(|o| {
                o.value == q.value && (o.head == q.head || o.head.is_empty() || q.head.is_empty())
            });
            let anywhere = other.iter().any(|o| o.value == q.value);
            let changed = other.iter().find(|o| {
                o.check == q.check && o.value != q.value && !q.head.is_empty() && o.head == q.head
            });
            // `presents today with`: the day of the visit, which a paraphrase may leave
            // unsaid; only another day in its place is a change.
            if same || (anywhere || q.visit_day) && changed.is_none() {
                continue;
            }
            // A time qualifier the other text words another way: a change only when the
            // other says an opposite (in a concept's name too: `chronic cholecystitis`).
            let opposed = || other_all.iter().any(|o| opposite_times(q.value, o.value));
            if q.check == Check::Temporal
                && !DAYS.contains(&q.value)
                && changed.is_none()
                && !opposed()
            {
                continue;
            }
            if !reported.insert((q.check, q.head.clone())) {
                continue;
            }
            let (here, there) = if from_original {
                (before, after)
            } else {
                (after, before)
            };
            let here_span = here.token_span(q.span.0, q.span.1);
            let there_span = changed.map(|o| there.token_span(o.span.0, o.span.1));
            let kind = if q.check == Check::Severity {
                "severity"
            } else {
                "time qualifier"
            };
            let detail = match (&there_span, from_original) {
                (Some(other), true) => format!("{kind} changed: `{here_span}` became `{other}`"),
                (Some(other), false) => format!("{kind} changed: `{other}` became `{here_span}`"),
                (None, true) => format!("the {kind} `{here_span}` is not in the paraphrase"),
                (None, false) => format!("the {kind} `{here_span}` is not in the original"),
            };
            let (o, p) = if from_original {
                (Some(here_span), there_span)
            } else {
                (there_span, Some(here_span))
            };
            rejections.push(Finding::new(q.check, detail, o, p));
        }
    }
}
