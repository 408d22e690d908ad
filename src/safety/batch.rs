//! `safesft check --batch`: the JSON Lines input (`{id, original, paraphrase,
//! finish_reason?}` per line) read into pairs, with errors naming file, line and field.

use serde_json::Value;

/// One pair of a batch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPair {
    /// The line's `id` (a string, or a number written as text).
    pub id: String,
    /// The original note.
    pub original: String,
    /// The paraphrase to check against it.
    pub paraphrase: String,
    /// The answer's finish reason, when the line gives one.
    pub finish_reason: Option<String>,
}

/// A batch line that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The line is not a JSON object.
    #[error("{path}:{line}: not a JSON object ({message})\nhint: each line is {{\"id\": \"…\", \"original\": \"…\", \"paraphrase\": \"…\", \"finish_reason\": \"stop\"}}, `finish_reason` optional")]
    NotAnObject {
        path: String,
        line: usize,
        message: String,
    },
    /// A field is missing or of the wrong type.
    #[error("{path}:{line}: field `{field}` is missing or not {expected}")]
    Field {
        path: String,
        line: usize,
        field: &'static str,
        expected: &'static str,
    },
}

/// Reads every non-blank line of `text` (the contents of `path`) into a pair.
///
/// # Errors
/// The first line that is not a JSON object with string `original` and `paraphrase`, a
/// string or number `id` and, when present, a string or null `finish_reason`.
pub fn parse_batch(path: &str, text: &str) -> Result<Vec<BatchPair>, BatchError> {
    let mut pairs = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(raw).map_err(|e| BatchError::NotAnObject {
            path: path.into(),
            line,
            message: e.to_string(),
        })?;
        let Value::Object(object) = value else {
            return Err(BatchError::NotAnObject {
                path: path.into(),
                line,
                message: "found another JSON value".into(),
            });
        };
        let field = |field: &'static str, expected: &'static str| BatchError::Field {
            path: path.into(),
            line,
            field,
            expected,
        };
        let id = match object.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(field("id", "a string or number")),
        };
        let text_field = |name: &'static str| match object.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(field(name, "a string")),
        };
        let original = text_field("original")?;
        let paraphrase = text_field("paraphrase")?;
        let finish_reason = match object.get("finish_reason") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(field("finish_reason", "a string or null")),
        };
        pairs.push(BatchPair {
            id,
            original,
            paraphrase,
            finish_reason,
        });
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_pairs_and_errors_name_the_line_and_field() {
        let text = "{\"id\": 7, \"original\": \"a\", \"paraphrase\": \"b\"}\n\n{\"id\": \"x\", \"original\": \"c\", \"paraphrase\": \"d\", \"finish_reason\": \"stop\"}\n";
        let pairs = parse_batch("in.jsonl", text).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].id, "7");
        assert_eq!(pairs[1].finish_reason.as_deref(), Some("stop"));

        let missing = parse_batch("in.jsonl", "{\"id\": 1, \"original\": \"a\"}").unwrap_err();
        assert_eq!(
            missing.to_string(),
            "in.jsonl:1: field `paraphrase` is missing or not a string"
        );
        let broken = parse_batch("in.jsonl", "{}\n[1]").unwrap_err();
        assert!(broken.to_string().starts_with("in.jsonl:1: field `id`"));
        let not_json = parse_batch(
            "in.jsonl",
            "{\"id\": 1, \"original\": \"a\", \"paraphrase\": \"b\"}\nnope",
        )
        .unwrap_err();
        assert!(not_json
            .to_string()
            .starts_with("in.jsonl:2: not a JSON object"));
    }
}
