//! The chat `messages` form of an SFT record (TRL SFTTrainer, OpenAI fine-tuning): the
//! note as the user turn, the label with the error and its correction as the answer.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::SftRecord;

/// The task the fine-tuned model learns, for the chat `messages` form.
pub const MESSAGES_SYSTEM_PROMPT: &str = "You review clinical notes for medical errors. Answer CORRECT if the note has no error. Otherwise answer INCORRECT, quote the sentence with the error and give its correction.";

/// A record in the chat `messages` form read by TRL's SFTTrainer and OpenAI fine-tuning.
pub fn as_messages(record: &SftRecord) -> Value {
    let mut answer = record.label.clone();
    if record.label == "INCORRECT" {
        if let Some(location) = &record.error_location {
            let _ = write!(answer, "\nError sentence: {location}");
        }
        if let Some(correction) = &record.correction {
            let _ = write!(answer, "\nCorrection: {correction}");
        }
        if let Some(why) = record
            .reasoning
            .as_ref()
            .and_then(|r| r.get("why_wrong"))
            .and_then(Value::as_str)
        {
            let _ = write!(answer, "\nWhy: {why}");
        }
    }
    json!({
        "messages": [
            {"role": "system", "content": MESSAGES_SYSTEM_PROMPT},
            {"role": "user", "content": record.note},
            {"role": "assistant", "content": answer},
        ]
    })
}
