//! What can go wrong talking to the Batch API, and which failures may have changed
//! something on the server (so a create is looked up before it is tried again).

use std::path::PathBuf;

/// An error from the Batch API, its transport, or the settings read to reach it. Never
/// holds the API key: error text from the server is redacted before it gets here.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing `OPENAI_API_KEY` in the environment\nhint: export OPENAI_API_KEY before submitting; a dry run (`safesft plan`) needs no key")]
    MissingKey,
    /// An environment variable the client reads cannot be used as it is.
    #[error("`{variable}` {problem}\nhint: {hint}")]
    InvalidSetting {
        variable: &'static str,
        problem: String,
        hint: &'static str,
    },
    #[error("the API answered {status} to {call}: {message}")]
    Status {
        call: String,
        status: u16,
        message: String,
        code: Option<String>,
    },
    #[error("{call} failed: {message}")]
    Transport {
        call: String,
        message: String,
        /// The request may have reached the server (a timeout or a dropped connection
        /// after sending), so a create may have happened.
        ambiguous: bool,
    },
    #[error("{call}: the API answered something unreadable: {message}")]
    Decode { call: String, message: String },
    #[error("batch `{batch_id}` has status `{raw}`, which this version of safesft does not know\nhint: upgrade safesft; nothing was changed")]
    UnknownStatus { batch_id: String, raw: String },
    #[error("cannot {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ApiError {
    /// True when the server may have acted on the request even though no answer came
    /// back (a 5xx, a timeout, a connection dropped after sending).
    pub fn maybe_applied(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => *status >= 500,
            ApiError::Transport { ambiguous, .. } => *ambiguous,
            _ => false,
        }
    }

    /// True for errors that a later attempt may not hit (rate limits, server errors,
    /// network trouble).
    pub fn transient(&self) -> bool {
        match self {
            ApiError::Status { status, .. } => *status == 429 || *status >= 500,
            ApiError::Transport { .. } => true,
            _ => false,
        }
    }
}

/// What a secret is replaced with.
const REDACTED: &str = "[redacted]";

/// `text` with every occurrence of `secret` replaced, and any other credential it shows
/// (`Bearer …`, an `sk-…` key), for text that came from elsewhere: a proxy may echo the
/// `Authorization` header, whole or cut short, into an error page.
pub(crate) fn redact(text: &str, secret: &str) -> String {
    let text = if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, REDACTED)
    };
    scrub_credentials(&text)
}

/// A character of a bearer token or an API key.
fn token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~+/=".contains(&byte)
}

/// `text` with the token after every `Bearer ` and every `sk-…` key replaced.
pub(crate) fn scrub_credentials(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let word_start = at == 0 || !token_byte(bytes[at - 1]);
        let bearer = word_start
            && bytes.len() >= at + 7
            && bytes[at..at + 6].eq_ignore_ascii_case(b"bearer")
            && bytes[at + 6].is_ascii_whitespace();
        let key = word_start && bytes[at..].starts_with(b"sk-");
        if !bearer && !key {
            at += 1;
            continue;
        }
        let mut start = if bearer { at + 6 } else { at };
        while bearer && start < bytes.len() && bytes[start].is_ascii_whitespace() {
            start += 1;
        }
        let end = start
            + bytes[start..]
                .iter()
                .take_while(|b| token_byte(**b))
                .count();
        // `sk-` alone or a short word (`sk-learn`) is no key; any bearer token is.
        if end > start && (bearer || end - start >= 20) {
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = end;
        }
        at = end.max(at + 1);
    }
    out.push_str(&text[copied..]);
    out
}

/// An error with its sources, as one line (a transport error's cause is the useful part).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_classes_decide_what_is_retried_and_looked_up() {
        let status = |status| ApiError::Status {
            call: "x".into(),
            status,
            message: String::new(),
            code: None,
        };
        assert!(status(429).transient() && !status(429).maybe_applied());
        assert!(status(503).transient() && status(503).maybe_applied());
        assert!(!status(400).transient() && !status(400).maybe_applied());
        let dropped = ApiError::Transport {
            call: "x".into(),
            message: String::new(),
            ambiguous: true,
        };
        assert!(dropped.transient() && dropped.maybe_applied());
        let refused = ApiError::Transport {
            call: "x".into(),
            message: String::new(),
            ambiguous: false,
        };
        assert!(refused.transient() && !refused.maybe_applied());
    }

    #[test]
    fn redaction_removes_every_copy_of_the_secret() {
        let text = "bad header: Authorization: Bearer sk-abc; again sk-abc";
        assert_eq!(
            redact(text, "sk-abc"),
            "bad header: Authorization: Bearer [redacted]; again [redacted]"
        );
        assert_eq!(redact("x", ""), "x");
    }

    #[test]
    fn any_bearer_token_or_api_key_is_scrubbed_even_cut_short() {
        let cases = [
            (
                "Invalid header: Authorization: Bearer sk-test-NEVER-PRI…",
                "Invalid header: Authorization: Bearer [redacted]…",
            ),
            (
                "authorization: bearer   abc.def-123",
                "authorization: bearer   [redacted]",
            ),
            (
                "key sk-proj-0123456789abcdefghij was refused",
                "key [redacted] was refused",
            ),
            ("uses sk-learn and task-sk-x", "uses sk-learn and task-sk-x"),
            ("Bearer [redacted] already", "Bearer [redacted] already"),
            ("no secrets here", "no secrets here"),
            ("ends with Bearer", "ends with Bearer"),
        ];
        for (text, want) in cases {
            assert_eq!(redact(text, "sk-the-real-key"), want, "{text}");
        }
    }

    #[test]
    fn io_errors_print_their_cause_once() {
        let error = ApiError::Io {
            action: "write",
            path: "out/a.jsonl".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(error.to_string(), "cannot write `out/a.jsonl`");
        assert!(std::error::Error::source(&error).is_some());
    }
}
