//! Pair → Batch API request lines (`/v1/chat/completions`): the chat body for each
//! model family, its exact prompt-token count and its output cap.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::chat::{ChatMessage, Role};
use super::count::ContentCounter;
use super::custom_id::{CustomId, RequestKind};
use super::model::ModelFamily;
use super::output::OutputModel;
use super::prompts::{KindPrompt, LoadedPrompts, Template};
use super::tokens::{TokenCounter, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE};
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

impl BatchRequestLine {
    /// A chat completion request under `custom_id`.
    pub fn chat(custom_id: String, body: ChatBody) -> BatchRequestLine {
        BatchRequestLine {
            custom_id,
            method: "POST".into(),
            url: CHAT_COMPLETIONS_ENDPOINT.into(),
            body,
        }
    }

    /// The line as a shard file holds it: its JSON and a newline.
    pub fn to_jsonl(&self) -> String {
        let mut text = serde_json::to_string(self)
            .expect("a request line is plain JSON: strings, numbers and maps with string keys");
        text.push('\n');
        text
    }
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
    /// Tokens of the user message's content (the note and its instruction): what the
    /// expected output is a ratio of, and what calibration measures against. 0 in plans
    /// made before it was recorded.
    #[serde(default)]
    pub content_tokens: u64,
}

/// What one request costs in tokens: a [`PlannedRequest`] without its id or line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestCost {
    pub kind: RequestKind,
    pub prompt_tokens: u64,
    pub max_output_tokens: u64,
    pub expected_output_tokens: u64,
    pub expected_cached_tokens: u64,
    pub content_tokens: u64,
}

impl PlannedRequest {
    /// The request `custom_id` planned at `cost`.
    pub fn with_cost(custom_id: String, cost: &RequestCost) -> PlannedRequest {
        PlannedRequest {
            custom_id,
            kind: cost.kind,
            prompt_tokens: cost.prompt_tokens,
            max_output_tokens: cost.max_output_tokens,
            expected_output_tokens: cost.expected_output_tokens,
            expected_cached_tokens: cost.expected_cached_tokens,
            content_tokens: cost.content_tokens,
        }
    }

    /// Its costs alone.
    pub fn cost(&self) -> RequestCost {
        RequestCost {
            kind: self.kind,
            prompt_tokens: self.prompt_tokens,
            max_output_tokens: self.max_output_tokens,
            expected_output_tokens: self.expected_output_tokens,
            expected_cached_tokens: self.expected_cached_tokens,
            content_tokens: self.content_tokens,
        }
    }
}

/// Builds every request of a pair for one model. Pure apart from the tokenizer.
pub struct RequestBuilder<'a> {
    prompts: &'a LoadedPrompts,
    model: String,
    family: ModelFamily,
    content: ContentCounter<'a>,
    /// Tokens of the user message's role (`user`).
    user_role_tokens: u64,
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
            content: ContentCounter::new(prompts, counter),
            user_role_tokens: counter.count_text(Role::User.as_str()),
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
            &RequestKind::GENERATION
        } else {
            &RequestKind::GENERATION[..1]
        }
    }

    fn prompt(&self, kind: RequestKind) -> (&'a KindPrompt, &'a Template) {
        let prompts = self.prompts;
        match kind {
            RequestKind::Paraphrase => (&prompts.config.paraphrase, &prompts.paraphrase_template),
            RequestKind::Reasoning => (&prompts.config.reasoning, &prompts.reasoning_template),
            RequestKind::Verify => {
                unreachable!("verify requests are built from stage-1 answers by `VerifyBuilder`")
            }
        }
    }

    fn body(&self, kind: RequestKind, pair: &Pair) -> ChatBody {
        let (prompt, template) = self.prompt(kind);
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
            response_format: (kind == RequestKind::Reasoning)
                .then(|| self.reasoning_format.clone()),
        }
    }

    /// The cost of one request whose user message holds `content_tokens`.
    fn cost(&self, kind: RequestKind, content_tokens: u64, first_of_kind: bool) -> RequestCost {
        let (prompt, _) = self.prompt(kind);
        // The chat rule: the system message's constant count, the user message's.
        let mut prompt_tokens = REPLY_PRIMING_TOKENS
            + self.system_message_tokens[kind as usize]
            + TOKENS_PER_MESSAGE
            + self.user_role_tokens
            + content_tokens;
        if kind == RequestKind::Reasoning {
            prompt_tokens += self.schema_allowance_tokens;
        }
        let max_output_tokens = u64::from(prompt.max_output_tokens);
        RequestCost {
            kind,
            prompt_tokens,
            max_output_tokens,
            expected_output_tokens: self.output_model.expected_output_tokens(
                kind,
                content_tokens,
                max_output_tokens,
                self.family.reasoning_model,
            ),
            expected_cached_tokens: if first_of_kind {
                0
            } else {
                self.cacheable_prefix_tokens[kind as usize]
            },
            content_tokens,
        }
    }

    /// The costs of a pair's requests (paraphrase first), counted without building
    /// their lines. `first_of_kind` as for [`RequestBuilder::build`].
    pub fn costs(&self, pair: &Pair, first_of_kind: bool) -> Vec<RequestCost> {
        let content = self.content.count(pair, self.kinds());
        self.kinds()
            .iter()
            .map(|&kind| self.cost(kind, content[kind as usize], first_of_kind))
            .collect()
    }

    /// The request lines of one pair (paraphrase first), serialised, with their costs.
    /// `first_of_kind` says whether these are the first requests of the run, which cannot
    /// be read from the prompt cache.
    pub fn build(&self, pair: &Pair, first_of_kind: bool) -> Vec<(String, PlannedRequest)> {
        let content = self.content.count(pair, self.kinds());
        self.kinds()
            .iter()
            .map(|&kind| {
                let cost = self.cost(kind, content[kind as usize], first_of_kind);
                let custom_id = CustomId {
                    note_id: pair.note_id.clone(),
                    kind,
                    attempt: 1,
                }
                .to_string();
                let text =
                    BatchRequestLine::chat(custom_id.clone(), self.body(kind, pair)).to_jsonl();
                (text, PlannedRequest::with_cost(custom_id, &cost))
            })
            .collect()
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
