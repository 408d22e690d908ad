//! A reasoning answer as the SFT record needs it: a JSON object with the five keys the
//! guide names, read strictly (a code fence tolerated, nothing else guessed).

use serde_json::Value;

use crate::plan::request::REASONING_KEYS;

/// Parses a reasoning answer: a JSON object with all five keys, `key_clues` a list of
/// at least three strings. A code fence around it is tolerated; nothing else is guessed.
pub fn parse_reasoning(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```JSON"))
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .unwrap_or(trimmed);
    let value: Value =
        serde_json::from_str(unfenced.trim()).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    for key in REASONING_KEYS {
        match object.get(key) {
            None => return Err(format!("missing `{key}`")),
            Some(Value::String(s)) if key != "key_clues" && s.trim().is_empty() => {
                return Err(format!("`{key}` is empty"))
            }
            Some(Value::String(_)) if key != "key_clues" => {}
            Some(Value::Array(clues)) if key == "key_clues" => {
                let texts = clues
                    .iter()
                    .filter(|c| c.as_str().is_some_and(|s| !s.trim().is_empty()))
                    .count();
                if texts < 3 || texts != clues.len() {
                    return Err(format!("`key_clues` needs at least 3 clues, has {texts}"));
                }
            }
            Some(_) => return Err(format!("`{key}` has the wrong type")),
        }
    }
    Ok(value)
}
