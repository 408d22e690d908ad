//! Pair → Batch API request lines (`/v1/chat/completions`), their `custom_id`s, and the
//! cutting of request lines into shards under every Batch API limit at once.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::estimate::OutputModel;
use crate::medec::Pair;
use crate::model::ModelFamily;
use crate::prompts::{KindPrompt, LoadedPrompts, Template};
use crate::tokens::TokenCounter;

/// The Batch API's limits on one input file.
pub const MAX_REQUESTS_PER_FILE: u64 = 50_000;
/// 200 MB, counted in decimal megabytes to stay on the safe side of the limit.
pub const MAX_BYTES_PER_FILE: u64 = 200_000_000;

/// The endpoint every request line targets.
pub const CHAT_COMPLETIONS_URL: &str = "/v1/chat/completions";

/// The five keys every reasoning answer must have.
pub const REASONING_KEYS: [&str; 5] = [
    "error_identified",
    "why_wrong",
    "key_clues",
    "correct_answer",
    "clinical_impact",
];

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

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
            let mut prompt_tokens = crate::tokens::REPLY_PRIMING_TOKENS
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
                url: CHAT_COMPLETIONS_URL.into(),
                body,
            };
            let mut text = serde_json::to_string(&line).unwrap_or_else(|_| unreachable!());
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

/// Limits one shard must stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLimits {
    pub max_requests: u64,
    pub max_bytes: u64,
    /// The enqueued prompt-token limit of the organisation for this model, if set.
    pub max_prompt_tokens: Option<u64>,
}

impl Default for ShardLimits {
    fn default() -> ShardLimits {
        ShardLimits {
            max_requests: MAX_REQUESTS_PER_FILE,
            max_bytes: MAX_BYTES_PER_FILE,
            max_prompt_tokens: None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("request `{custom_id}` alone is {bytes} bytes, over the shard limit of {limit} bytes")]
    LineTooLarge {
        custom_id: String,
        bytes: u64,
        limit: u64,
    },
    #[error("request `{custom_id}` alone has {tokens} prompt tokens, over the enqueued-token limit of {limit}\nhint: raise `--enqueued-token-limit` to your organisation's real limit for this model")]
    TooManyTokens {
        custom_id: String,
        tokens: u64,
        limit: u64,
    },
}

/// What one shard holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFill {
    pub model: String,
    pub requests: u64,
    pub bytes: u64,
    pub prompt_tokens: u64,
}

/// Decides, line by line, which shard a request goes into. Streaming: it keeps only the
/// fill of the current shard.
#[derive(Debug)]
pub struct Sharder {
    limits: ShardLimits,
    current: Option<ShardFill>,
    index: usize,
}

impl Sharder {
    pub fn new(limits: ShardLimits) -> Sharder {
        Sharder {
            limits,
            current: None,
            index: 0,
        }
    }

    /// Places one line; returns the shard index and the finished previous shard, if this
    /// line starts a new one.
    pub fn place(
        &mut self,
        custom_id: &str,
        model: &str,
        bytes: u64,
        prompt_tokens: u64,
    ) -> Result<(usize, Option<ShardFill>), ShardError> {
        if bytes > self.limits.max_bytes {
            return Err(ShardError::LineTooLarge {
                custom_id: custom_id.into(),
                bytes,
                limit: self.limits.max_bytes,
            });
        }
        if let Some(limit) = self.limits.max_prompt_tokens {
            if prompt_tokens > limit {
                return Err(ShardError::TooManyTokens {
                    custom_id: custom_id.into(),
                    tokens: prompt_tokens,
                    limit,
                });
            }
        }
        let fits = self.current.as_ref().is_some_and(|fill| {
            fill.model == model
                && fill.requests < self.limits.max_requests
                && fill.bytes + bytes <= self.limits.max_bytes
                && self
                    .limits
                    .max_prompt_tokens
                    .is_none_or(|limit| fill.prompt_tokens + prompt_tokens <= limit)
        });
        let mut finished = None;
        if !fits {
            if let Some(done) = self.current.take() {
                finished = Some(done);
                self.index += 1;
            }
            self.current = Some(ShardFill {
                model: model.to_string(),
                ..ShardFill::default()
            });
        }
        let fill = self.current.as_mut().unwrap_or_else(|| unreachable!());
        fill.requests += 1;
        fill.bytes += bytes;
        fill.prompt_tokens += prompt_tokens;
        Ok((self.index, finished))
    }

    /// The last shard, once every line is placed.
    pub fn finish(self) -> Option<ShardFill> {
        self.current
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

    fn limits(requests: u64, bytes: u64, tokens: Option<u64>) -> ShardLimits {
        ShardLimits {
            max_requests: requests,
            max_bytes: bytes,
            max_prompt_tokens: tokens,
        }
    }

    fn shard_indexes(limits: ShardLimits, lines: &[(&str, u64, u64)]) -> Vec<usize> {
        let mut sharder = Sharder::new(limits);
        lines
            .iter()
            .map(|&(model, bytes, tokens)| sharder.place("id", model, bytes, tokens).unwrap().0)
            .collect()
    }

    #[test]
    fn shards_cut_at_the_request_limit() {
        let lines = [("m", 10, 1); 5];
        assert_eq!(
            shard_indexes(limits(2, 1000, None), &lines),
            [0, 0, 1, 1, 2]
        );
    }

    #[test]
    fn shards_cut_at_the_byte_limit_exactly() {
        let lines = [("m", 40, 1); 4];
        assert_eq!(shard_indexes(limits(100, 80, None), &lines), [0, 0, 1, 1]);
        assert_eq!(shard_indexes(limits(100, 79, None), &lines), [0, 1, 2, 3]);
    }

    #[test]
    fn shards_cut_at_the_token_limit() {
        let lines = [("m", 1, 30), ("m", 1, 30), ("m", 1, 50), ("m", 1, 10)];
        assert_eq!(
            shard_indexes(limits(100, 100, Some(100)), &lines),
            [0, 0, 1, 1]
        );
    }

    #[test]
    fn shards_hold_one_model_each() {
        let lines = [("a", 1, 1), ("a", 1, 1), ("b", 1, 1), ("a", 1, 1)];
        assert_eq!(shard_indexes(limits(100, 100, None), &lines), [0, 0, 1, 2]);
    }

    #[test]
    fn finished_shards_are_reported_with_their_fill() {
        let mut sharder = Sharder::new(limits(2, 100, None));
        assert_eq!(sharder.place("a", "m", 10, 5).unwrap(), (0, None));
        assert_eq!(sharder.place("b", "m", 11, 6).unwrap(), (0, None));
        let (index, finished) = sharder.place("c", "m", 12, 7).unwrap();
        assert_eq!(index, 1);
        assert_eq!(
            finished,
            Some(ShardFill {
                model: "m".into(),
                requests: 2,
                bytes: 21,
                prompt_tokens: 11
            })
        );
        assert_eq!(sharder.finish().unwrap().requests, 1);
    }

    #[test]
    fn a_request_over_a_limit_on_its_own_is_an_error() {
        let mut sharder = Sharder::new(limits(10, 100, Some(50)));
        assert!(matches!(
            sharder.place("x", "m", 101, 1),
            Err(ShardError::LineTooLarge { .. })
        ));
        let error = sharder.place("x", "m", 1, 51).unwrap_err();
        assert!(error.to_string().contains("--enqueued-token-limit"));
    }

    #[test]
    fn reasoning_schema_is_strict_and_requires_every_key() {
        let format = reasoning_response_format();
        let schema = &format["json_schema"]["schema"];
        assert_eq!(format["json_schema"]["strict"], true);
        assert_eq!(schema["required"].as_array().unwrap().len(), 5);
        assert_eq!(schema["additionalProperties"], false);
    }
}
