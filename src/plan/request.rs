//! Pair → Batch API request lines (`/v1/chat/completions`): the chat body for each
//! model family, its exact prompt-token count and its output cap.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::chat::{ChatMessage, Role};
use super::custom_id::{CustomId, RequestKind};
use super::model::ModelFamily;
use super::output::OutputModel;
use super::prompts::{KindPrompt, LoadedPrompts, Template};
use super::tokens::TokenCounter;
use crate::api::CHAT_COMPLETIONS_ENDPOINT;
use crate::medec::Pair;

/// The five keys every reasoning answer must have.
pub const REASONING_KEYS: [&str; 5] = [
    "error_identified",
    "why_wrong",
    "key_clues",
    "correct_answer",
    "clinical_impact",
];

/// The body of a chat completion request, with only the parameters the model family takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatBody {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
}

impl ChatBody {
    /// The output cap, whichever parameter carries it.
    pub fn output_cap(&self) -> u32 {
        self.max_completion_tokens.or(self.max_tokens).unwrap_or(0)
    }
}

/// One line of a Batch API input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRequestLine {
    pub custom_id: String,
    pub method: String,
    pub url: String,
    pub body: ChatBody,
}

/// The JSON schema of a reasoning answer, for structured outputs (strict mode needs every
/// key required and no others).
pub fn reasoning_response_format() -> Value {
    let text = json!({"type": "string"});
    json!({
        "type": "json_schema",
        "json_schema": {
            "name": "medec_error_explanation",
            "strict": true,
            "schema": {
                "type": "object",
                "properties": {
                    "error_identified": text,
                    "why_wrong": text,
                    "key_clues": {"type": "array", "items": {"type": "string"}},
                    "correct_answer": text,
                    "clinical_impact": text,
                },
                "required": REASONING_KEYS,
                "additionalProperties": false,
            }
        }
    })
}

/// A request as planned: its line and what it will cost in tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRequest {
    pub custom_id: String,
    pub kind: RequestKind,
    /// Prompt tokens by the chat rule, plus the structured-output schema allowance.
    pub prompt_tokens: u64,
    /// The output cap: what the worst case assumes is spent.
    pub max_output_tokens: u64,
    /// The expected output, from [`OutputModel`].
    pub expected_output_tokens: u64,
    /// Prompt tokens expected to be read from the prompt cache.
    pub expected_cached_tokens: u64,
}

/// Builds every request of a pair for one model. Pure apart from the tokenizer.
pub struct RequestBuilder<'a> {
    prompts: &'a LoadedPrompts,
    model: String,
    family: ModelFamily,
    counter: TokenCounter,
    output_model: OutputModel,
    include_reasoning: bool,
    reasoning_format: Value,
    /// Tokens the structured-output schema adds to each reasoning prompt. The API does
    /// not document how it renders the schema, so its serialised JSON is counted: an
    /// allowance, kept apart from the chat-rule count.
    schema_allowance_tokens: u64,
    /// Prompt tokens a request may read from the cache (its shared system prefix), per kind.
    cacheable_prefix_tokens: [u64; 2],
    /// Tokens the (constant) system message adds to every prompt, per kind: counted once.
    system_message_tokens: [u64; 2],
}

/// OpenAI caches prompt prefixes of at least 1,024 tokens, in steps of 128.
pub const PROMPT_CACHE_MIN_TOKENS: u64 = 1024;
pub const PROMPT_CACHE_STEP_TOKENS: u64 = 128;

impl<'a> RequestBuilder<'a> {
    pub fn new(
        prompts: &'a LoadedPrompts,
        model: &str,
        family: ModelFamily,
        output_model: OutputModel,
        include_reasoning: bool,
    ) -> RequestBuilder<'a> {
        let counter = TokenCounter::new(family.encoding);
        let reasoning_format = if family.structured_outputs {
            reasoning_response_format()
        } else {
            json!({"type": "json_object"})
        };
        let schema_allowance_tokens = if family.structured_outputs {
            counter.count_text(&reasoning_format.to_string())
        } else {
            0
        };
        let system_tokens = |prompt: &KindPrompt| {
            counter
                .count_message(&ChatMessage {
                    role: Role::System,
                    content: prompt.system.clone(),
                    name: None,
                })
                .0
        };
        let system_message_tokens = [
            system_tokens(&prompts.config.paraphrase),
            system_tokens(&prompts.config.reasoning),
        ];
        let cacheable = |tokens: u64| {
            if tokens >= PROMPT_CACHE_MIN_TOKENS {
                tokens - tokens % PROMPT_CACHE_STEP_TOKENS
            } else {
                0
            }
        };
        RequestBuilder {
            prompts,
            model: model.to_string(),
            family,
            counter,
            output_model,
            include_reasoning,
            reasoning_format,
            schema_allowance_tokens,
            cacheable_prefix_tokens: system_message_tokens.map(cacheable),
            system_message_tokens,
        }
    }

    pub fn family(&self) -> ModelFamily {
        self.family
    }

    pub fn schema_allowance_tokens(&self) -> u64 {
        self.schema_allowance_tokens
    }

    pub fn kinds(&self) -> &'static [RequestKind] {
        if self.include_reasoning {
            &RequestKind::ALL
        } else {
            &RequestKind::ALL[..1]
        }
    }

    fn body(&self, prompt: &KindPrompt, template: &Template, pair: &Pair) -> ChatBody {
        let cap = prompt.max_output_tokens;
        let (max_tokens, max_completion_tokens, temperature) = if self.family.reasoning_model {
            (None, Some(cap), None)
        } else {
            (Some(cap), None, Some(prompt.temperature))
        };
        ChatBody {
            model: self.model.clone(),
            messages: vec![
                ChatMessage {
                    role: Role::System,
                    content: prompt.system.clone(),
                    name: None,
                },
                ChatMessage {
                    role: Role::User,
                    content: template.render(pair),
                    name: None,
                },
            ],
            temperature,
            max_tokens,
            max_completion_tokens,
            response_format: None,
        }
    }

    /// The request lines of one pair (paraphrase first), serialised, with their costs.
    /// `first_of_kind` says whether these are the first requests of the run, which cannot
    /// be read from the prompt cache.
    pub fn build(&self, pair: &Pair, first_of_kind: bool) -> Vec<(String, PlannedRequest)> {
        let config = &self.prompts.config;
        let mut out = Vec::with_capacity(2);
        for &kind in self.kinds() {
            let (prompt, template) = match kind {
                RequestKind::Paraphrase => (&config.paraphrase, &self.prompts.paraphrase_template),
                RequestKind::Reasoning => (&config.reasoning, &self.prompts.reasoning_template),
            };
            let mut body = self.body(prompt, template, pair);
            // The chat rule, with the system message's constant count reused.
            let (user_message_tokens, user_content_tokens) =
                self.counter.count_message(&body.messages[1]);
            let mut prompt_tokens = super::tokens::REPLY_PRIMING_TOKENS
                + self.system_message_tokens[kind as usize]
                + user_message_tokens;
            if kind == RequestKind::Reasoning {
                body.response_format = Some(self.reasoning_format.clone());
                prompt_tokens += self.schema_allowance_tokens;
            }
            let max_output_tokens = u64::from(body.output_cap());
            let expected_output_tokens = self.output_model.expected_output_tokens(
                kind,
                user_content_tokens,
                max_output_tokens,
                self.family.reasoning_model,
            );
            let expected_cached_tokens = if first_of_kind {
                0
            } else {
                self.cacheable_prefix_tokens[kind as usize]
            };
            let custom_id = CustomId {
                note_id: pair.note_id.clone(),
                kind,
                attempt: 1,
            }
            .to_string();
            let line = BatchRequestLine {
                custom_id: custom_id.clone(),
                method: "POST".into(),
                url: CHAT_COMPLETIONS_ENDPOINT.into(),
                body,
            };
            let mut text = serde_json::to_string(&line)
                .expect("a request line is plain JSON: strings, numbers and maps with string keys");
            text.push('\n');
            out.push((
                text,
                PlannedRequest {
                    custom_id,
                    kind,
                    prompt_tokens,
                    max_output_tokens,
                    expected_output_tokens,
                    expected_cached_tokens,
                },
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_schema_is_strict_and_requires_every_key() {
        let format = reasoning_response_format();
        let schema = &format["json_schema"]["schema"];
        assert_eq!(format["json_schema"]["strict"], true);
        assert_eq!(schema["required"].as_array().unwrap().len(), 5);
        assert_eq!(schema["additionalProperties"], false);
    }
}
