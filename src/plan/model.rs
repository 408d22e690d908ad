//! What the tool knows of each OpenAI model family: tokenizer, which request parameters
//! it accepts, whether it supports structured outputs, and its context window. Unknown
//! models are errors.

use serde::{Deserialize, Serialize};

/// The tiktoken encodings the chat models use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    O200kBase,
    Cl100kBase,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }
}

/// One model family, matched by name or dated snapshot (`gpt-4o-2024-08-06`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFamily {
    /// The family's base name, as in the pricing table.
    pub name: &'static str,
    pub encoding: Encoding,
    /// o-series and gpt-5 reason before answering: they take `max_completion_tokens`
    /// (which also bounds their hidden reasoning tokens) and no `temperature`.
    pub reasoning_model: bool,
    /// Accepts `response_format: {type: json_schema, strict: true}`.
    pub structured_outputs: bool,
    /// Tokens a request may hold in all, prompt and output together (OpenAI's model
    /// pages): a prompt plus output cap over it is refused by the API.
    pub context_window: u64,
}

/// Longest names first, so `gpt-4o-mini` wins over `gpt-4o` and `gpt-4.1-nano` over `gpt-4.1`.
const FAMILIES: &[ModelFamily] = &[
    family("gpt-4.1-nano", Encoding::O200kBase, false, true, 1_047_576),
    family("gpt-4.1-mini", Encoding::O200kBase, false, true, 1_047_576),
    family("gpt-4o-mini", Encoding::O200kBase, false, true, 128_000),
    family("gpt-5-nano", Encoding::O200kBase, true, true, 400_000),
    family("gpt-5-mini", Encoding::O200kBase, true, true, 400_000),
    family("gpt-4.1", Encoding::O200kBase, false, true, 1_047_576),
    family("gpt-4o", Encoding::O200kBase, false, true, 128_000),
    family("o4-mini", Encoding::O200kBase, true, true, 200_000),
    family("o3-mini", Encoding::O200kBase, true, true, 200_000),
    family("gpt-5", Encoding::O200kBase, true, true, 400_000),
    family("o3", Encoding::O200kBase, true, true, 200_000),
    family("o1", Encoding::O200kBase, true, true, 200_000),
    family("gpt-4-turbo", Encoding::Cl100kBase, false, false, 128_000),
    family("gpt-4", Encoding::Cl100kBase, false, false, 8_192),
    family("gpt-3.5-turbo", Encoding::Cl100kBase, false, false, 16_385),
];

const fn family(
    name: &'static str,
    encoding: Encoding,
    reasoning_model: bool,
    structured_outputs: bool,
    context_window: u64,
) -> ModelFamily {
    ModelFamily {
        name,
        encoding,
        reasoning_model,
        structured_outputs,
        context_window,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown model `{model}`\nhint: known model families: {known}")]
pub struct UnknownModel {
    pub model: String,
    pub known: String,
}

/// Finds the family of `model`: its exact name, or the name followed by a dated
/// snapshot suffix (`-2024-08-06`) or `-latest`.
pub fn family_of(model: &str) -> Result<ModelFamily, UnknownModel> {
    FAMILIES
        .iter()
        .find(|family| {
            model == family.name
                || model
                    .strip_prefix(family.name)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(is_snapshot_suffix)
        })
        .copied()
        .ok_or_else(|| UnknownModel {
            model: model.to_string(),
            known: known_models().join(", "),
        })
}

/// `2024-08-06`, `0613`, `preview`, `latest`: the suffixes OpenAI puts after a family name.
fn is_snapshot_suffix(rest: &str) -> bool {
    rest == "latest"
        || rest == "preview"
        || rest.chars().all(|c| c.is_ascii_digit() || c == '-')
            && rest.starts_with(|c: char| c.is_ascii_digit())
}

/// Every family name, sorted, for error messages.
pub fn known_models() -> Vec<&'static str> {
    let mut names: Vec<_> = FAMILIES.iter().map(|f| f.name).collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_family_wins() {
        assert_eq!(family_of("gpt-4o-mini").unwrap().name, "gpt-4o-mini");
        assert_eq!(family_of("gpt-4o").unwrap().name, "gpt-4o");
        assert_eq!(family_of("gpt-4.1-nano").unwrap().name, "gpt-4.1-nano");
        assert_eq!(family_of("gpt-5-mini").unwrap().name, "gpt-5-mini");
    }

    #[test]
    fn snapshots_resolve_to_their_family() {
        assert_eq!(family_of("gpt-4o-2024-08-06").unwrap().name, "gpt-4o");
        assert_eq!(
            family_of("gpt-4o-mini-2024-07-18").unwrap().name,
            "gpt-4o-mini"
        );
        assert_eq!(
            family_of("gpt-4-0613").unwrap().encoding,
            Encoding::Cl100kBase
        );
        assert_eq!(
            family_of("gpt-3.5-turbo").unwrap().encoding,
            Encoding::Cl100kBase
        );
    }

    #[test]
    fn families_split_by_request_shape() {
        assert!(family_of("o4-mini").unwrap().reasoning_model);
        assert!(family_of("gpt-5").unwrap().reasoning_model);
        assert!(!family_of("gpt-4.1").unwrap().reasoning_model);
        assert!(!family_of("gpt-4").unwrap().structured_outputs);
    }

    #[test]
    fn unknown_model_lists_the_known_ones() {
        let error = family_of("gpt-4o-ultra").unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("unknown model `gpt-4o-ultra`"));
        assert!(
            text.contains("gpt-4o-mini") && text.contains("o4-mini"),
            "{text}"
        );
        assert!(family_of("claude-3").is_err());
    }
}
