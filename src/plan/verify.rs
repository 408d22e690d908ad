//! Stage 2 requests (issue 9): one verify request per rule-passing paraphrase, to a
//! cheaper verifier model that lists every fact that differs from the original. What the
//! manifest records of the verifier, the strict JSON schema of its answer, its chat body,
//! and its cost: priced up front per pair (the paraphrase at its output cap for the worst
//! case, at its expected length for the expected case) and exactly once built.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::chat::{ChatMessage, Role};
use super::custom_id::{CustomId, RequestKind};
use super::model::{family_of, Encoding, ModelFamily, UnknownModel};
use super::output::OutputModel;
use super::prompts::{Template, VerifyPrompt};
use super::request::{BatchRequestLine, ChatBody, PlannedRequest, RequestCost};
use super::request::{PROMPT_CACHE_MIN_TOKENS, PROMPT_CACHE_STEP_TOKENS};
use super::tokens::{TokenCounter, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE};
use crate::medec::Pair;
use crate::money::PricingRecord;

/// The verifier's two answers.
pub const VERDICT_SAME: &str = "same";
pub const VERDICT_CHANGED: &str = "changed";

/// The JSON schema of a verifier's answer, for structured outputs (strict mode: every
/// key required, no others).
pub fn verify_response_format() -> Value {
    let text = json!({"type": "string"});
    json!({
        "type": "json_schema",
        "json_schema": {
            "name": "paraphrase_fact_check",
            "strict": true,
            "schema": {
                "type": "object",
                "properties": {
                    "differences": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "kind": text,
                                "original": text,
                                "paraphrase": text,
                            },
                            "required": ["kind", "original", "paraphrase"],
                            "additionalProperties": false,
                        }
                    },
                    "verdict": {"type": "string", "enum": [VERDICT_SAME, VERDICT_CHANGED]},
                },
                "required": ["differences", "verdict"],
                "additionalProperties": false,
            }
        }
    })
}

/// What the manifest records of the verifier: everything stage 2 is built from, so the
/// verify shards are the same whenever (and however often) they are built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifySettings {
    pub model: String,
    pub encoding: Encoding,
    /// The verifier's own prices (it usually costs less than the stage-1 model).
    pub pricing: PricingRecord,
    pub system: String,
    pub user_template: String,
    pub temperature: serde_json::Number,
    /// The verifier's output cap.
    pub max_output_tokens: u32,
    /// The paraphrase's output cap: the longest paraphrase a verify prompt can hold.
    pub paraphrase_max_output_tokens: u32,
    /// Tokens added to each verify prompt for its structured-output schema.
    pub schema_allowance_tokens: u64,
    /// Where the verifier's prompt came from (the prompt config, or the bundled one).
    pub prompt_source: String,
    /// What becomes of a paraphrase only the concept checks reject (older manifests:
    /// rejected, as they were). Not written when `reject`, so plans made before the
    /// setting existed hash as they did.
    #[serde(default, skip_serializing_if = "Doubts::is_reject")]
    pub doubts: Doubts,
}

/// What becomes of a paraphrase that only concept-level rule checks reject (no hard
/// check: numbers, units, drugs with dose/route/frequency, near copy, answer artefacts;
/// see [`crate::safety::Check::is_hard`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Doubts {
    /// Rejected, as by any rule check: the safe default.
    #[default]
    Reject,
    /// Sent to the verifier like a paraphrase the rules passed: kept only when it answers
    /// `same`. Fewer paid paraphrases thrown away; the concept-level catches then rest on
    /// the verifier.
    Verify,
}

impl Doubts {
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` lends it
    fn is_reject(&self) -> bool {
        *self == Doubts::Reject
    }
}

/// Why the verifier's settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Model(#[from] UnknownModel),
    #[error("the verify prompt's `user_template`: {0}")]
    Template(String),
    #[error("the verify prompt's temperature {0} is not a number JSON can hold")]
    Temperature(f64),
}

impl VerifySettings {
    /// The settings of a verifier `model` with `prompt`, priced by `pricing`.
    pub fn new(
        model: &str,
        prompt: &VerifyPrompt,
        prompt_source: &str,
        pricing: PricingRecord,
        paraphrase_max_output_tokens: u32,
    ) -> Result<VerifySettings, VerifyError> {
        let family = family_of(model)?;
        let counter = TokenCounter::new(family.encoding);
        let schema_allowance_tokens = if family.structured_outputs {
            counter.count_text(&verify_response_format().to_string())
        } else {
            0
        };
        Ok(VerifySettings {
            model: model.to_string(),
            encoding: family.encoding,
            pricing,
            system: prompt.system.clone(),
            user_template: prompt.user_template.clone(),
            temperature: serde_json::Number::from_f64(prompt.temperature)
                .ok_or(VerifyError::Temperature(prompt.temperature))?,
            max_output_tokens: prompt.max_output_tokens,
            paraphrase_max_output_tokens,
            schema_allowance_tokens,
            prompt_source: prompt_source.to_string(),
            doubts: Doubts::Reject,
        })
    }
}

/// Builds and prices verify requests. Pure apart from the tokenizer.
pub struct VerifyBuilder<'a> {
    settings: &'a VerifySettings,
    family: ModelFamily,
    counter: TokenCounter,
    template: Template,
    /// The chat rule's constant part: reply priming, the system message, the user
    /// message's overhead and role, and the schema allowance.
    fixed_tokens: u64,
    cacheable_prefix_tokens: u64,
    output_model: OutputModel,
}

impl<'a> VerifyBuilder<'a> {
    pub fn new(
        settings: &'a VerifySettings,
        output_model: OutputModel,
    ) -> Result<VerifyBuilder<'a>, VerifyError> {
        let family = family_of(&settings.model)?;
        let counter = TokenCounter::new(family.encoding);
        let template = Template::parse(&settings.user_template).map_err(VerifyError::Template)?;
        let system_tokens = counter
            .count_message(&ChatMessage {
                role: Role::System,
                content: settings.system.clone(),
                name: None,
            })
            .0;
        let fixed_tokens = REPLY_PRIMING_TOKENS
            + system_tokens
            + TOKENS_PER_MESSAGE
            + counter.count_text(Role::User.as_str())
            + settings.schema_allowance_tokens;
        let cacheable_prefix_tokens = if system_tokens >= PROMPT_CACHE_MIN_TOKENS {
            system_tokens - system_tokens % PROMPT_CACHE_STEP_TOKENS
        } else {
            0
        };
        Ok(VerifyBuilder {
            settings,
            family,
            counter,
            template,
            fixed_tokens,
            cacheable_prefix_tokens,
            output_model,
        })
    }

    fn cost(&self, content_tokens: u64, first: bool) -> RequestCost {
        let cap = u64::from(self.settings.max_output_tokens);
        RequestCost {
            kind: RequestKind::Verify,
            prompt_tokens: self.fixed_tokens + content_tokens,
            max_output_tokens: cap,
            expected_output_tokens: self.output_model.expected_output_tokens(
                RequestKind::Verify,
                content_tokens,
                cap,
                self.family.reasoning_model,
            ),
            expected_cached_tokens: if first {
                0
            } else {
                self.cacheable_prefix_tokens
            },
            content_tokens,
        }
    }

    /// What the verify request of `pair` will cost, priced before its paraphrase exists:
    /// `(worst, expected)`, the worst with a paraphrase of `paraphrase_cap` tokens, the
    /// expected with one of `paraphrase_expected` tokens. The note and the template are
    /// counted exactly in the verifier's encoding; the paraphrase is counted as the
    /// paraphrase model's tokens (the same encoding for every default model).
    pub fn planned_costs(
        &self,
        pair: &Pair,
        paraphrase_expected: u64,
        first: bool,
    ) -> (RequestCost, RequestCost) {
        let without = self
            .counter
            .count_text(&self.template.render_with_paraphrase(pair, ""));
        let cap = u64::from(self.settings.paraphrase_max_output_tokens);
        (
            self.cost(without + cap, first),
            self.cost(without + paraphrase_expected.min(cap), first),
        )
    }

    /// The chat body of a verify request.
    pub fn body(&self, pair: &Pair, paraphrase: &str) -> ChatBody {
        let cap = self.settings.max_output_tokens;
        let (max_tokens, max_completion_tokens, temperature) = if self.family.reasoning_model {
            (None, Some(cap), None)
        } else {
            (Some(cap), None, self.settings.temperature.as_f64())
        };
        ChatBody {
            model: self.settings.model.clone(),
            messages: vec![
                ChatMessage {
                    role: Role::System,
                    content: self.settings.system.clone(),
                    name: None,
                },
                ChatMessage {
                    role: Role::User,
                    content: self.template.render_with_paraphrase(pair, paraphrase),
                    name: None,
                },
            ],
            temperature,
            max_tokens,
            max_completion_tokens,
            response_format: Some(if self.family.structured_outputs {
                verify_response_format()
            } else {
                json!({"type": "json_object"})
            }),
        }
    }

    /// The verify request of a paraphrase, as its line (with a newline) and as planned,
    /// its prompt counted exactly.
    pub fn build(
        &self,
        pair: &Pair,
        paraphrase: &str,
        attempt: u32,
        first: bool,
    ) -> (String, PlannedRequest) {
        let body = self.body(pair, paraphrase);
        let content_tokens = self.counter.count_text(&body.messages[1].content);
        let cost = self.cost(content_tokens, first);
        let custom_id = CustomId {
            note_id: pair.note_id.clone(),
            kind: RequestKind::Verify,
            attempt,
        }
        .to_string();
        let text = BatchRequestLine::chat(custom_id.clone(), body).to_jsonl();
        (text, PlannedRequest::with_cost(custom_id, &cost))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;
    use crate::money::PricingTable;
    use std::path::Path;

    pub(crate) fn settings(model: &str) -> VerifySettings {
        let prompt = VerifyPrompt {
            model: model.into(),
            system: "Compare the notes.".into(),
            user_template: "ORIGINAL:\n{correct_note}\n\nPARAPHRASE:\n{paraphrase}".into(),
            temperature: 0.0,
            max_output_tokens: 300,
        };
        let table = PricingTable::parse(
            include_str!("../../configs/pricing.toml"),
            Path::new("pricing.toml"),
        )
        .unwrap();
        let family = family_of(model).unwrap();
        let prices = table.for_model(model, family.name).unwrap().prices.clone();
        let pricing = PricingRecord {
            path: "pricing.toml".into(),
            sha256: table.sha256.clone(),
            model_family: family.name.into(),
            prices,
        };
        VerifySettings::new(model, &prompt, "test", pricing, 1000).unwrap()
    }

    fn pair() -> Pair {
        Pair {
            note_id: "n-1".into(),
            correct_note: "A 45-year-old man on aspirin 81 mg daily.".into(),
            incorrect_note: "A 45-year-old man on warfarin.".into(),
            error_type: ErrorType::Pharmacotherapy,
            error_sentence: None,
            corrected_sentence: None,
        }
    }

    #[test]
    fn the_schema_is_strict_with_a_two_word_verdict() {
        let format = verify_response_format();
        let schema = &format["json_schema"]["schema"];
        assert_eq!(format["json_schema"]["strict"], true);
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(
            schema["properties"]["verdict"]["enum"],
            json!(["same", "changed"])
        );
        let item = &schema["properties"]["differences"]["items"];
        assert_eq!(item["required"], json!(["kind", "original", "paraphrase"]));
    }

    #[test]
    fn a_built_request_is_counted_exactly_by_the_chat_rule() {
        let settings = settings("gpt-4o-mini");
        let builder = VerifyBuilder::new(&settings, OutputModel::default()).unwrap();
        let paraphrase = "Man, 45, takes aspirin 81 mg once a day.";
        let (line, planned) = builder.build(&pair(), paraphrase, 1, true);
        assert_eq!(planned.custom_id, "n-1|verify|1");
        let parsed: BatchRequestLine = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed.body.model, "gpt-4o-mini");
        assert_eq!(parsed.body.temperature, Some(0.0));
        assert_eq!(parsed.body.max_tokens, Some(300));
        assert!(parsed.body.messages[1].content.contains(paraphrase));
        let counter = TokenCounter::new(Encoding::O200kBase);
        let chat = counter.count_chat(&parsed.body.messages);
        assert_eq!(
            planned.prompt_tokens,
            chat.prompt_tokens + settings.schema_allowance_tokens
        );
        assert_eq!(planned.max_output_tokens, 300);
        assert_eq!(planned.expected_output_tokens, 40);
    }

    #[test]
    fn the_planned_worst_case_holds_a_paraphrase_at_its_cap() {
        let settings = settings("gpt-4o-mini");
        let builder = VerifyBuilder::new(&settings, OutputModel::default()).unwrap();
        let (worst, expected) = builder.planned_costs(&pair(), 20, true);
        let (_, built) = builder.build(&pair(), "", 1, true);
        assert_eq!(worst.prompt_tokens, built.prompt_tokens + 1000);
        assert_eq!(expected.prompt_tokens, built.prompt_tokens + 20);
        assert_eq!(worst.max_output_tokens, 300);
    }

    #[test]
    fn a_reasoning_verifier_gets_max_completion_tokens_and_no_temperature() {
        let settings = settings("o4-mini");
        let builder = VerifyBuilder::new(&settings, OutputModel::default()).unwrap();
        let body = builder.body(&pair(), "x");
        assert_eq!(body.max_completion_tokens, Some(300));
        assert_eq!((body.max_tokens, body.temperature), (None, None));
    }
}
