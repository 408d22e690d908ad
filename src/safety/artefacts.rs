//! Answer artefacts: an empty answer, a finish reason other than `stop`, a refusal, a
//! preamble, a markdown fence or a line explaining the paraphrase instead of being it.

use super::{Check, Finding};

/// A finish reason other than `stop`: the answer was cut short or filtered.
pub(super) fn unfinished(finish_reason: Option<&str>) -> Option<Finding> {
    finish_reason
        .filter(|reason| *reason != "stop")
        .map(|reason| Finding {
            check: Check::FinishReason,
            detail: format!("finish_reason is `{reason}`, not `stop` (truncated or filtered)"),
            original_span: None,
            paraphrase_span: None,
        })
}

/// An answer with nothing but white space.
pub(super) fn empty(paraphrase: &str) -> Option<Finding> {
    paraphrase.trim().is_empty().then(|| Finding {
        check: Check::Empty,
        detail: "the paraphrase is empty".into(),
        original_span: None,
        paraphrase_span: None,
    })
}

const REFUSALS: [&str; 8] = [
    "i'm sorry",
    "i am sorry",
    "i cannot",
    "i can't",
    "i can not",
    "i'm unable",
    "i am unable",
    "as an ai",
];

const PREAMBLES: [&str; 12] = [
    "here is",
    "here's",
    "here are",
    "sure",
    "certainly",
    "of course",
    "below is",
    "paraphrased note",
    "paraphrased version",
    "paraphrase:",
    "rewritten note",
    "the paraphrased",
];

const EXPLANATIONS: [&str; 8] = [
    "note:",
    "explanation:",
    "changes made",
    "i have ",
    "i've ",
    "this paraphrase",
    "in this paraphrase",
    "all numerical values",
];

/// Rejects a refusal, a preamble, a markdown fence and a line explaining the paraphrase.
pub(super) fn find_artefacts(paraphrase: &str, rejections: &mut Vec<Finding>) {
    // ASCII lowering: every phrase below is ASCII, and it is much cheaper.
    let lower = paraphrase.trim_start().to_ascii_lowercase();
    let first_line = lower
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches(['*', '#', ' ']);
    // The lines split once, not once per phrase.
    let lines: Vec<&str> = lower.lines().map(str::trim_start).collect();
    if let Some(phrase) = REFUSALS
        .iter()
        .find(|p| lines.iter().any(|line| line.starts_with(*p)))
    {
        rejections.push(Finding {
            check: Check::Refusal,
            detail: format!("the answer is a refusal (“{phrase}…”)"),
            original_span: None,
            paraphrase_span: None,
        });
    }
    if PREAMBLES.iter().any(|p| first_line.starts_with(p)) {
        rejections.push(Finding {
            check: Check::Preamble,
            detail: format!(
                "the answer opens with a preamble (“{}”)",
                first_line
                    .chars()
                    .take(60)
                    .collect::<String>()
                    .trim_end_matches(|c: char| c.is_whitespace())
                    .to_string()
                    + if first_line.len() > 60 { "…" } else { "" }
            ),
            original_span: None,
            paraphrase_span: None,
        });
    }
    if paraphrase.contains("```") {
        rejections.push(Finding {
            check: Check::MarkdownFence,
            detail: "the answer holds a markdown code fence".into(),
            original_span: None,
            paraphrase_span: None,
        });
    }
    for line in lower.lines().skip(1).chain(std::iter::once(first_line)) {
        let line = line.trim_start_matches(['*', '#', ' ', '-', '(']);
        if let Some(phrase) = EXPLANATIONS.iter().find(|p| line.starts_with(*p)) {
            rejections.push(Finding {
                check: Check::Explanation,
                detail: format!(
                    "the answer explains itself (a line starting “{}”)",
                    phrase.trim()
                ),
                original_span: None,
                paraphrase_span: None,
            });
            break;
        }
    }
}
