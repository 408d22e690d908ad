//! What identifies a request: its kind (paraphrase or reasoning in stage 1, verify in
//! stage 2) and its `custom_id` (`note_id|kind|attempt`), which joins a result back to its pair.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Correct note → a paraphrase, the CORRECT example.
    Paraphrase,
    /// Correct + incorrect note → a JSON explanation for the INCORRECT example.
    Reasoning,
    /// Stage 2 (issue 9): a second model reads a rule-passing paraphrase against its
    /// original and lists every fact that differs.
    Verify,
}

/// The two stages of a run: generation (paraphrase and reasoning), then verification.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Stage 1: paraphrase and reasoning requests, planned up front.
    #[default]
    Generate,
    /// Stage 2: verify requests, built once stage 1's paraphrases passed the rule checks.
    Verify,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Generate => "generate",
            Stage::Verify => "verify",
        }
    }

    /// `1` or `2`, as tables show it.
    pub fn number(self) -> u8 {
        match self {
            Stage::Generate => 1,
            Stage::Verify => 2,
        }
    }
}

impl RequestKind {
    /// Every kind, stage 1's first.
    pub const ALL: [RequestKind; 3] = [
        RequestKind::Paraphrase,
        RequestKind::Reasoning,
        RequestKind::Verify,
    ];
    /// The kinds planned up front, per pair (stage 1).
    pub const GENERATION: [RequestKind; 2] = [RequestKind::Paraphrase, RequestKind::Reasoning];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Paraphrase => "paraphrase",
            RequestKind::Reasoning => "reasoning",
            RequestKind::Verify => "verify",
        }
    }

    /// The stage its requests belong to.
    pub fn stage(self) -> Stage {
        match self {
            RequestKind::Paraphrase | RequestKind::Reasoning => Stage::Generate,
            RequestKind::Verify => Stage::Verify,
        }
    }

    pub fn parse(text: &str) -> Option<RequestKind> {
        RequestKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `note_id|kind|attempt`: joins a result back to its pair whatever order results come
/// in; a retry is a new attempt. The note id may itself contain `|`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomId {
    pub note_id: String,
    pub kind: RequestKind,
    pub attempt: u32,
}

impl fmt::Display for CustomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}|{}", self.note_id, self.kind, self.attempt)
    }
}

impl CustomId {
    pub fn parse(text: &str) -> Option<CustomId> {
        let mut parts = text.rsplitn(3, '|');
        let attempt = parts.next()?.parse().ok()?;
        let kind = RequestKind::parse(parts.next()?)?;
        let note_id = parts.next()?;
        (!note_id.is_empty()).then(|| CustomId {
            note_id: note_id.to_string(),
            kind,
            attempt,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_id_round_trips_even_with_pipes_in_the_note_id() {
        for text in [
            "ms-val-0|paraphrase|1",
            "a|b|reasoning|12",
            "ms-val-0|verify|2",
        ] {
            let id = CustomId::parse(text).unwrap();
            assert_eq!(id.to_string(), text);
        }
        assert_eq!(CustomId::parse("a|b|reasoning|12").unwrap().note_id, "a|b");
        assert!(CustomId::parse("x|rewrite|1").is_none());
        assert!(CustomId::parse("|paraphrase|1").is_none());
        assert!(CustomId::parse("x|paraphrase|one").is_none());
    }
}
