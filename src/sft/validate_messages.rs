//! Checks of an SFT file in the chat `messages` form (TRL SFTTrainer, OpenAI
//! fine-tuning): record format (roles in order, non-empty content, no extra keys),
//! 50/50 labels from the assistant's answer, duplicates, tokens per example, and
//! optionally every INCORRECT note byte-identical to a MEDEC note.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::checks::{
    label_balance, medec_identity, MedecSource, ValidationCheck, ValidationReport,
};
use crate::plan::tokens::TokenCounter;
use crate::plan::{ChatMessage, Encoding, Role};

/// The most tokens one training example may hold (OpenAI's limit for fine-tuning
/// gpt-4o and gpt-4o-mini).
pub const MAX_EXAMPLE_TOKENS: u64 = 65_536;

/// True when the text's first record is in the `messages` form.
pub fn is_messages_form(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .is_some_and(|v| v.get("messages").is_some())
}

/// One example: its user note, its label (the assistant's first line), its messages.
struct Example {
    line: usize,
    note: String,
    label: String,
    messages: Vec<ChatMessage>,
}

/// The role of a message, if it is one a training example may hold.
fn role(text: &str) -> Option<Role> {
    match text {
        "system" => Some(Role::System),
        "user" => Some(Role::User),
        "assistant" => Some(Role::Assistant),
        _ => None,
    }
}

/// Reads one message, or says what is wrong with it.
fn message(value: &Value) -> Result<ChatMessage, String> {
    let map: &Map<String, Value> = value.as_object().ok_or("a message is not an object")?;
    if let Some(extra) = map.keys().find(|k| *k != "role" && *k != "content") {
        return Err(format!("a message has the extra key `{extra}`"));
    }
    let role_text = map
        .get("role")
        .and_then(Value::as_str)
        .ok_or("a message without a `role`")?;
    let role = role(role_text)
        .ok_or_else(|| format!("role `{role_text}` is not system, user or assistant"))?;
    let content = map
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the {role_text} message has no text `content`"))?;
    if content.trim().is_empty() {
        return Err(format!("the {role_text} message's `content` is empty"));
    }
    Ok(ChatMessage {
        role,
        content: content.to_string(),
        name: None,
    })
}

/// Reads one line as an example, or says what is wrong with it.
fn example(line: usize, text: &str) -> Result<Example, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let map = value.as_object().ok_or("not a JSON object")?;
    if let Some(extra) = map.keys().find(|k| *k != "messages") {
        return Err(format!("extra key `{extra}` (only `messages` is allowed)"));
    }
    let list = map
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("`messages` is not a list")?;
    let messages: Vec<ChatMessage> = list.iter().map(message).collect::<Result<_, _>>()?;
    let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
    let turns = roles.strip_prefix(&[Role::System]).unwrap_or(&roles);
    if turns != [Role::User, Role::Assistant] {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        return Err(format!(
            "roles `{}`, expected an optional system message, then user, then assistant",
            names.join(", ")
        ));
    }
    let note = messages[messages.len() - 2].content.clone();
    let answer = &messages[messages.len() - 1].content;
    let label = answer.lines().next().unwrap_or("").trim().to_string();
    if label != "CORRECT" && label != "INCORRECT" {
        return Err(format!(
            "the answer starts with `{label}`, neither CORRECT nor INCORRECT"
        ));
    }
    Ok(Example {
        line,
        note,
        label,
        messages,
    })
}

/// Validates the text of an SFT file in the `messages` form.
pub fn validate_messages(text: &str, medec: Option<&MedecSource<'_>>) -> ValidationReport {
    let mut examples = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in (1..).zip(text.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        match example(number, line) {
            Ok(example) => examples.push(example),
            Err(problem) => problems.push(format!("line {number}: {problem}")),
        }
    }
    let correct = examples.iter().filter(|e| e.label == "CORRECT").count();
    let mut checks = vec![
        ValidationCheck::from_problems(
            "record_format",
            &problems,
            format!(
                "{} examples: system (optional), user, assistant; non-empty content; no extra keys",
                examples.len()
            ),
        ),
        label_balance(correct, examples.len()),
    ];
    let mut seen = HashSet::new();
    let duplicates: Vec<String> = examples
        .iter()
        .filter(|e| !seen.insert((e.note.as_str(), e.label.as_str())))
        .map(|e| format!("line {}: the same note and label again", e.line))
        .collect();
    checks.push(ValidationCheck::from_problems(
        "duplicate_examples",
        &duplicates,
        "each note once per label".into(),
    ));
    checks.push(tokens_per_example(&examples));
    if let Some(source) = medec {
        let notes: HashSet<&str> = source
            .pairs
            .iter()
            .map(|p| p.incorrect_note.as_str())
            .collect();
        let mismatches: Vec<String> = examples
            .iter()
            .filter(|e| e.label == "INCORRECT" && !notes.contains(e.note.as_str()))
            .map(|e| {
                format!(
                    "line {}: the INCORRECT note is not a MEDEC note byte for byte",
                    e.line
                )
            })
            .collect();
        let incorrect = examples.len() - correct;
        checks.push(medec_identity(&mismatches, incorrect, source));
    }
    ValidationReport::new(examples.len(), correct, checks)
}

/// Tokens per example by the chat rule (`o200k_base`), against the fine-tuning limit.
fn tokens_per_example(examples: &[Example]) -> ValidationCheck {
    let counter = TokenCounter::new(Encoding::O200kBase);
    let counts: Vec<(usize, u64)> = examples
        .iter()
        .map(|e| (e.line, counter.count_chat(&e.messages).prompt_tokens))
        .collect();
    let over: Vec<String> = counts
        .iter()
        .filter(|(_, tokens)| *tokens > MAX_EXAMPLE_TOKENS)
        .map(|(line, tokens)| {
            format!("line {line}: {tokens} tokens (at most {MAX_EXAMPLE_TOKENS})")
        })
        .collect();
    let total: u64 = counts.iter().map(|(_, t)| t).sum();
    let max = counts.iter().map(|(_, t)| *t).max().unwrap_or(0);
    let mean = if counts.is_empty() {
        0
    } else {
        total / counts.len() as u64
    };
    ValidationCheck::from_problems(
        "tokens_per_example",
        &over,
        format!("mean {mean}, max {max}, total {total} tokens (o200k_base; at most {MAX_EXAMPLE_TOKENS} each)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sft::{as_messages, SftRecord};

    fn line(label: &str, note: &str) -> String {
        let record: SftRecord = serde_json::from_value(serde_json::json!({
            "note": note, "label": label, "original_note_id": "a",
            "source": if label == "CORRECT" { "medec_correct_paraphrased" } else { "medec_incorrect_verified" },
            "error_type": null, "error_location": "x", "correction": "y", "metadata": {},
        }))
        .unwrap();
        as_messages(&record).to_string()
    }

    #[test]
    fn the_files_reconcile_writes_pass() {
        let text = [
            line("CORRECT", "Fine note."),
            line("INCORRECT", "Bad note."),
        ]
        .join("\n");
        assert!(is_messages_form(&text));
        let report = validate_messages(&text, None);
        assert!(report.passed, "{report:?}");
        assert_eq!((report.correct, report.incorrect), (1, 1));
        let tokens = report
            .checks
            .iter()
            .find(|c| c.name == "tokens_per_example")
            .unwrap();
        assert!(tokens.detail.starts_with("mean "), "{}", tokens.detail);
    }

    #[test]
    fn roles_content_and_keys_are_checked_line_by_line() {
        let text = [
            r#"{"messages":[{"role":"user","content":"n"},{"role":"assistant","content":"CORRECT"}],"note_id":"a"}"#,
            r#"{"messages":[{"role":"assistant","content":"CORRECT"},{"role":"user","content":"n"}]}"#,
            r#"{"messages":[{"role":"user","content":" "},{"role":"assistant","content":"CORRECT"}]}"#,
            r#"{"messages":[{"role":"user","content":"n","weight":1},{"role":"assistant","content":"CORRECT"}]}"#,
            r#"{"messages":[{"role":"user","content":"n"},{"role":"assistant","content":"maybe"}]}"#,
            r#"{"messages":[{"role":"user","content":"m"},{"role":"assistant","content":"INCORRECT"}]}"#,
        ]
        .join("\n");
        let report = validate_messages(&text, None);
        assert!(!report.passed);
        let format = &report.checks[0].detail;
        for expected in [
            "line 1: extra key `note_id`",
            "line 2: roles `assistant, user`",
            "line 3: the user message's `content` is empty",
            "line 4: a message has the extra key `weight`",
            "line 5: the answer starts with `maybe`",
        ] {
            assert!(format.contains(expected), "want {expected} in {format}");
        }
        assert_eq!(report.total, 1);
    }
}
