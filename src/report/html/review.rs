//! The paraphrase review of a run, from `rejected.jsonl` and `sft_correct.jsonl`: each
//! rejected paraphrase with its reasons, and a sample of kept ones for a spot check.
//! Rejection records are read tolerantly: a reason is the text `check: detail` or an
//! object `{check, detail, original_span, paraphrase_span}` (spans optional), and the
//! record may carry its original note or not (it is then looked up by note id).

use std::collections::BTreeMap;

use serde_json::Value;

/// How many kept paraphrases the page samples for a spot check.
pub const SPOT_CHECK: usize = 20;
/// The most rejected paraphrases the page shows (the counts cover them all).
pub const MAX_REJECTED_SHOWN: usize = 300;

/// Why an answer was not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub check: String,
    pub detail: String,
    /// The text at fault in the original and in the paraphrase, when recorded.
    pub original_span: Option<String>,
    pub paraphrase_span: Option<String>,
}

/// One paraphrase to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub note_id: String,
    pub attempt: u64,
    /// The correct note it rewrites (`None` when it could not be found).
    pub original: Option<String>,
    pub paraphrase: Option<String>,
    pub reasons: Vec<Reason>,
}

/// What the page shows of a run's paraphrases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    pub rejected: Vec<ReviewItem>,
    /// Rejected paraphrases in all (the page shows at most [`MAX_REJECTED_SHOWN`]).
    pub rejected_total: usize,
    /// Requests of either kind not kept, per check (or error), for the filter.
    pub by_check: BTreeMap<String, usize>,
    /// Other requests not kept (reasoning answers, failures, expiries): kind and reason.
    pub other_not_kept: BTreeMap<(String, String), usize>,
    pub kept_sample: Vec<ReviewItem>,
    pub kept_total: usize,
}

/// A span as recorded: text, or `{start, end}` / `[start, end]` byte offsets into `text`.
fn span(value: Option<&Value>, text: Option<&str>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get("text") {
                return Some(s.clone());
            }
            let start = map.get("start")?.as_u64()?;
            let end = map.get("end")?.as_u64()?;
            slice(text?, start, end)
        }
        Value::Array(items) if items.len() == 2 => {
            slice(text?, items[0].as_u64()?, items[1].as_u64()?)
        }
        _ => None,
    }
}

fn slice(text: &str, start: u64, end: u64) -> Option<String> {
    let start = usize::try_from(start).ok()?;
    let end = usize::try_from(end).ok()?;
    text.get(start..end).map(str::to_string)
}

/// One reason as recorded, in either shape.
fn reason(value: &Value, original: Option<&str>, paraphrase: Option<&str>) -> Reason {
    match value {
        Value::Object(map) => Reason {
            check: map
                .get("check")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            detail: map
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            original_span: span(map.get("original_span"), original),
            paraphrase_span: span(map.get("paraphrase_span"), paraphrase),
        },
        other => {
            let text = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_string);
            let (check, detail) = text.split_once(": ").unwrap_or((&text, ""));
            Reason {
                check: check.to_string(),
                detail: detail.to_string(),
                original_span: None,
                paraphrase_span: None,
            }
        }
    }
}

/// The original note a record carries, under whichever name it has.
fn carried_original(record: &Value) -> Option<String> {
    ["original_note", "correct_note", "original"]
        .iter()
        .find_map(|key| record.get(*key).and_then(Value::as_str))
        .map(str::to_string)
}

/// Builds the review from the lines of `rejected.jsonl` and `sft_correct.jsonl`;
/// `original` looks up a correct note by note id. Unreadable lines are skipped (the
/// files were written by `reconcile`; `validate` checks them).
pub fn review<R: AsRef<str>, C: AsRef<str>>(
    rejected_lines: impl Iterator<Item = R>,
    correct_lines: impl Iterator<Item = C>,
    original: &dyn Fn(&str) -> Option<String>,
) -> Review {
    let mut review = Review::default();
    for line in rejected_lines {
        let Ok(record) = serde_json::from_str::<Value>(line.as_ref()) else {
            continue;
        };
        let kind = record.get("kind").and_then(Value::as_str).unwrap_or("");
        let note_id = record
            .get("note_id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let paraphrase = record
            .get("text")
            .or_else(|| record.get("paraphrase"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let original_note = carried_original(&record).or_else(|| original(&note_id));
        let reasons: Vec<Reason> = record
            .get("reasons")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|r| reason(r, original_note.as_deref(), paraphrase.as_deref()))
                    .collect()
            })
            .unwrap_or_default();
        let mut checks: Vec<&str> = reasons.iter().map(|r| r.check.as_str()).collect();
        checks.dedup();
        for check in &checks {
            *review.by_check.entry((*check).to_string()).or_default() += 1;
        }
        if kind == "paraphrase" && paraphrase.is_some() {
            review.rejected_total += 1;
            if review.rejected.len() < MAX_REJECTED_SHOWN {
                review.rejected.push(ReviewItem {
                    note_id,
                    attempt: record.get("attempt").and_then(Value::as_u64).unwrap_or(1),
                    original: original_note,
                    paraphrase,
                    reasons,
                });
            }
        } else {
            let first = checks.first().copied().unwrap_or("no reason given");
            *review
                .other_not_kept
                .entry((kind.to_string(), first.to_string()))
                .or_default() += 1;
        }
    }
    let (kept, total) = spread_sample(
        correct_lines
            .filter_map(|line| serde_json::from_str::<Value>(line.as_ref()).ok())
            .filter(|r| {
                r.get("source").and_then(Value::as_str) == Some(crate::sft::SOURCE_PARAPHRASED)
            }),
    );
    review.kept_total = total;
    review.kept_sample = kept
        .iter()
        .map(|record| {
            let note_id = record
                .get("original_note_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            ReviewItem {
                original: original(&note_id),
                paraphrase: record
                    .get("note")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                attempt: record
                    .pointer("/metadata/attempt")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
                note_id,
                reasons: Vec::new(),
            }
        })
        .collect();
    review
}

/// [`SPOT_CHECK`] items spread evenly through `items` (the same ones every time), and how
/// many there were, holding at most twice that many at once: every `step`-th item is
/// kept, and `step` doubles (every other kept one dropped) whenever the buffer fills.
fn spread_sample<T>(items: impl Iterator<Item = T>) -> (Vec<T>, usize) {
    let mut kept: Vec<T> = Vec::with_capacity(2 * SPOT_CHECK);
    let (mut step, mut total) = (1, 0);
    for item in items {
        if total % step == 0 {
            if kept.len() == 2 * SPOT_CHECK {
                kept = kept.into_iter().step_by(2).collect();
                step *= 2;
            }
            if total % step == 0 {
                kept.push(item);
            }
        }
        total += 1;
    }
    let len = kept.len();
    if len <= SPOT_CHECK {
        return (kept, total);
    }
    let wanted: Vec<usize> = (0..SPOT_CHECK).map(|i| i * len / SPOT_CHECK).collect();
    let sample = kept
        .into_iter()
        .enumerate()
        .filter(|(i, _)| wanted.binary_search(i).is_ok())
        .map(|(_, item)| item)
        .collect();
    (sample, total)
}

/// The note ids the review needs the original of: rejected paraphrases that do not carry
/// theirs, and the kept sample's (so the pairs file is read once, for those alone).
pub fn notes_needed<R: AsRef<str>, C: AsRef<str>>(
    rejected_lines: impl Iterator<Item = R>,
    correct_lines: impl Iterator<Item = C>,
) -> std::collections::HashSet<String> {
    let probe = review(rejected_lines, correct_lines, &|_| None);
    probe
        .rejected
        .iter()
        .filter(|item| item.original.is_none())
        .chain(&probe.kept_sample)
        .map(|item| item.note_id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_rejection_shapes_are_read() {
        let rejected = [
            r#"{"custom_id":"a|paraphrase|1","note_id":"a","kind":"paraphrase","attempt":1,"outcome":"rejected","reasons":["numbers: `81 mg` missing","preamble: starts with `Here is`"],"text":"Here is 810 mg."}"#,
            r#"{"note_id":"b","kind":"paraphrase","attempt":2,"reasons":[{"check":"negation","detail":"`no fever` asserted","original_span":{"start":0,"end":8},"paraphrase_span":"fever"}],"text":"Fever.","original_note":"No fever today."}"#,
            r#"{"note_id":"c","kind":"reasoning","reasons":["reasoning_json: not JSON"]}"#,
            r#"{"note_id":"d","kind":"paraphrase","reasons":["batch_expired: not run"]}"#,
            "not json",
        ];
        let correct = [
            r#"{"note":"Kept paraphrase.","label":"CORRECT","original_note_id":"k","source":"medec_correct_paraphrased"}"#,
            r#"{"note":"Original kept.","label":"CORRECT","original_note_id":"o","source":"medec_correct_verified"}"#,
        ];
        let notes = |id: &str| (id != "b").then(|| format!("original of {id}"));
        let review = review(rejected.into_iter(), correct.into_iter(), &notes);
        assert_eq!(review.rejected_total, 2);
        let a = &review.rejected[0];
        assert_eq!(a.original.as_deref(), Some("original of a"));
        assert_eq!(a.reasons[0].check, "numbers");
        assert_eq!(a.reasons[1].detail, "starts with `Here is`");
        let b = &review.rejected[1];
        assert_eq!(b.original.as_deref(), Some("No fever today."), "carried");
        assert_eq!(b.reasons[0].original_span.as_deref(), Some("No fever"));
        assert_eq!(b.reasons[0].paraphrase_span.as_deref(), Some("fever"));
        assert_eq!(review.by_check["batch_expired"], 1);
        assert_eq!(review.by_check["numbers"], 1);
        assert_eq!(
            review.other_not_kept[&("reasoning".to_string(), "reasoning_json".to_string())],
            1
        );
        assert_eq!(review.kept_total, 1);
        assert_eq!(review.kept_sample[0].note_id, "k");
        assert_eq!(
            review.kept_sample[0].original.as_deref(),
            Some("original of k")
        );
    }

    #[test]
    fn the_spot_check_takes_twenty_spread_through_the_file() {
        let lines: Vec<String> = (0..95)
            .map(|i| format!(r#"{{"note":"p{i}","original_note_id":"n{i}","source":"medec_correct_paraphrased"}}"#))
            .collect();
        let review = review(
            std::iter::empty::<&str>(),
            lines.iter().map(String::as_str),
            &|_| None,
        );
        assert_eq!(review.kept_sample.len(), SPOT_CHECK);
        assert_eq!(review.kept_sample[1].note_id, "n4");
        assert_eq!(review.kept_sample[19].note_id, "n88", "spread to the end");
        assert_eq!(review.kept_total, 95);
        let (few, total) = spread_sample(0..7);
        assert_eq!((few, total), ((0..7).collect(), 7));
        let (many, total) = spread_sample(0..100_000);
        assert_eq!(total, 100_000);
        assert_eq!(many.len(), SPOT_CHECK);
        assert!(many.windows(2).all(|w| w[1] - w[0] > 4_000), "{many:?}");
    }
}
