//! What identifies a request: its kind (paraphrase or reasoning) and its `custom_id`
//! (`note_id|kind|attempt`), which joins a result back to its pair.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Correct note → a paraphrase, the CORRECT example.
    Paraphrase,
    /// Correct + incorrect note → a JSON explanation for the INCORRECT example.
    Reasoning,
}

impl RequestKind {
    pub const ALL: [RequestKind; 2] = [RequestKind::Paraphrase, RequestKind::Reasoning];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Paraphrase => "paraphrase",
            RequestKind::Reasoning => "reasoning",
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
        for text in ["ms-val-0|paraphrase|1", "a|b|reasoning|12"] {
            let id = CustomId::parse(text).unwrap();
            assert_eq!(id.to_string(), text);
        }
        assert_eq!(CustomId::parse("a|b|reasoning|12").unwrap().note_id, "a|b");
        assert!(CustomId::parse("x|rewrite|1").is_none());
        assert!(CustomId::parse("|paraphrase|1").is_none());
        assert!(CustomId::parse("x|paraphrase|one").is_none());
    }
}
