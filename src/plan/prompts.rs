//! The prompt config (`configs/prompts/*.json`): system prompts, user templates, model,
//! temperature and output caps for the two stage-1 request kinds and the verifier
//! (stage 2, optional in a config), validated on load.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::medec::Pair;

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptConfig {
    /// Default model of a run (`--model` overrides it).
    pub model: String,
    pub paraphrase: KindPrompt,
    pub reasoning: KindPrompt,
    /// The verifier (issue 9). A config without it still loads: the command line then
    /// uses the bundled config's verifier prompt (or none, with `--no-verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyPrompt>,
}

/// The verifier's prompt: its own default model, and a template that shows the original
/// note (`{correct_note}`) and the paraphrase (`{paraphrase}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyPrompt {
    /// Default verifier model (`--verify-model` overrides it).
    pub model: String,
    pub system: String,
    pub user_template: String,
    pub temperature: f64,
    pub max_output_tokens: u32,
}

impl VerifyPrompt {
    /// Its prompt fields, as the other kinds have them.
    pub fn kind_prompt(&self) -> KindPrompt {
        KindPrompt {
            system: self.system.clone(),
            user_template: self.user_template.clone(),
            temperature: self.temperature,
            max_output_tokens: self.max_output_tokens,
        }
    }
}

/// The prompt of one request kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindPrompt {
    pub system: String,
    /// Text with placeholders: `{correct_note}`, `{incorrect_note}`, `{error_type}`,
    /// `{error_sentence}`, `{corrected_sentence}`, `{note_id}`; `{{` and `}}` for braces.
    pub user_template: String,
    /// Sampling temperature for models that take one (o-series and gpt-5 do not).
    pub temperature: f64,
    /// The output cap sent as `max_tokens` / `max_completion_tokens`; the worst-case
    /// estimate assumes every request spends it.
    pub max_output_tokens: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read the prompt config `{path}`")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// A value a template can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    CorrectNote,
    IncorrectNote,
    ErrorType,
    ErrorSentence,
    CorrectedSentence,
    NoteId,
    /// The paraphrase a verifier reads (verify templates only).
    Paraphrase,
}

impl Field {
    const ALL: [(&'static str, Field); 7] = [
        ("correct_note", Field::CorrectNote),
        ("incorrect_note", Field::IncorrectNote),
        ("error_type", Field::ErrorType),
        ("error_sentence", Field::ErrorSentence),
        ("corrected_sentence", Field::CorrectedSentence),
        ("note_id", Field::NoteId),
        ("paraphrase", Field::Paraphrase),
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Field(Field),
}

/// A parsed user template, rendered once per pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// Shown where a template names a sentence the pair does not have.
pub const NOT_GIVEN: &str = "(not given)";

impl Template {
    /// Parses `{name}` placeholders; `{{`/`}}` are literal braces.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("unclosed `{{` at byte {at}"))?;
                    let name = &rest[..end];
                    let field = Field::ALL
                        .iter()
                        .find(|(known, _)| *known == name)
                        .map(|&(_, field)| field)
                        .ok_or_else(|| {
                            format!(
                                "unknown placeholder `{{{name}}}` (known: {})",
                                Field::ALL.map(|(n, _)| format!("{{{n}}}")).join(", ")
                            )
                        })?;
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Field(field));
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                '}' => return Err(format!("lone `}}` at byte {at} (write `}}}}` for a brace)")),
                other => literal.push(other),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Template { segments })
    }

    pub fn uses(&self, field: Field) -> bool {
        self.segments.contains(&Segment::Field(field))
    }

    /// True when the template renders to nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// When the template is literal text (maybe none) then `{correct_note}` then the
    /// rest: that text and a template of the rest. What lets the note be counted once.
    pub(crate) fn split_at_correct_note(&self) -> Option<(String, Template)> {
        let at = self
            .segments
            .iter()
            .position(|s| *s == Segment::Field(Field::CorrectNote))?;
        let mut prefix = String::new();
        for segment in &self.segments[..at] {
            match segment {
                Segment::Literal(text) => prefix.push_str(text),
                Segment::Field(_) => return None,
            }
        }
        let rest = Template {
            segments: self.segments[at + 1..].to_vec(),
        };
        Some((prefix, rest))
    }

    /// Fills the template from a pair; notes go in byte for byte.
    pub fn render(&self, pair: &Pair) -> String {
        let mut out = String::with_capacity(pair.correct_note.len() * 2 + 256);
        self.render_into(pair, &mut out);
        out
    }

    /// Fills a verify template from a pair and a paraphrase, byte for byte.
    pub fn render_with_paraphrase(&self, pair: &Pair, paraphrase: &str) -> String {
        let mut out = String::with_capacity(pair.correct_note.len() + paraphrase.len() + 512);
        self.render_fields(pair, paraphrase, &mut out);
        out
    }

    /// [`Template::render`], appended to `out`.
    pub(crate) fn render_into(&self, pair: &Pair, out: &mut String) {
        self.render_fields(pair, "", out);
    }

    fn render_fields(&self, pair: &Pair, paraphrase: &str, out: &mut String) {
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Field(Field::CorrectNote) => out.push_str(&pair.correct_note),
                Segment::Field(Field::IncorrectNote) => out.push_str(&pair.incorrect_note),
                Segment::Field(Field::ErrorType) => out.push_str(pair.error_type.as_str()),
                Segment::Field(Field::NoteId) => out.push_str(&pair.note_id),
                Segment::Field(Field::Paraphrase) => out.push_str(paraphrase),
                Segment::Field(Field::ErrorSentence) => {
                    out.push_str(pair.error_sentence.as_deref().unwrap_or(NOT_GIVEN));
                }
                Segment::Field(Field::CorrectedSentence) => {
                    out.push_str(pair.corrected_sentence.as_deref().unwrap_or(NOT_GIVEN));
                }
            }
        }
    }
}

/// Why a kind's template must not name a field it names, if it does.
fn forbidden_field(kind: &str, template: &Template) -> Option<&'static str> {
    if kind != "verify" && template.uses(Field::Paraphrase) {
        return Some("must not contain `{paraphrase}`: only the verifier reads a paraphrase");
    }
    if kind == "verify" && template.uses(Field::IncorrectNote) {
        // The verifier compares the paraphrase with the note it was made from.
        return Some("must not contain `{incorrect_note}`: the verifier compares the paraphrase with the correct note");
    }
    if kind == "paraphrase" && template.uses(Field::IncorrectNote) {
        // The paraphrase model must never see the note with the error in it.
        return Some(
            "must not contain `{incorrect_note}`: a paraphrase is made from the correct note only",
        );
    }
    None
}

/// A validated config with its templates parsed.
#[derive(Debug, Clone)]
pub struct LoadedPrompts {
    pub config: PromptConfig,
    pub paraphrase_template: Template,
    pub reasoning_template: Template,
    /// The verifier's template, when the config has a `verify` section.
    pub verify_template: Option<Template>,
    /// Where it came from (a path, or the bundled config's name), recorded in the manifest.
    pub source: String,
    /// sha256 and size of the file's bytes, recorded in the manifest.
    pub sha256: String,
    pub bytes: u64,
}

impl LoadedPrompts {
    pub fn load(path: &Path) -> Result<LoadedPrompts, PromptError> {
        let bytes = std::fs::read(path).map_err(|source| PromptError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        LoadedPrompts::parse(&bytes, path)
    }

    /// Parses and validates; `path` names the file in errors and in the manifest.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<LoadedPrompts, PromptError> {
        let config: PromptConfig =
            serde_json::from_slice(bytes).map_err(|error| PromptError::Parse {
                path: path.to_path_buf(),
                line: error.line(),
                column: error.column(),
                message: error.to_string(),
            })?;
        let invalid = |field: &str, message: String| PromptError::Invalid {
            path: path.to_path_buf(),
            field: field.to_string(),
            message,
        };
        if let Err(error) = super::model::family_of(&config.model) {
            return Err(invalid("model", error.to_string()));
        }
        if let Some(verify) = &config.verify {
            if let Err(error) = super::model::family_of(&verify.model) {
                return Err(invalid("verify.model", error.to_string()));
            }
        }
        let verify_prompt = config.verify.as_ref().map(VerifyPrompt::kind_prompt);
        let mut templates = Vec::new();
        let mut kinds = vec![
            ("paraphrase", &config.paraphrase, &[Field::CorrectNote][..]),
            (
                "reasoning",
                &config.reasoning,
                &[Field::CorrectNote, Field::IncorrectNote][..],
            ),
        ];
        if let Some(verify) = &verify_prompt {
            kinds.push((
                "verify",
                verify,
                &[Field::CorrectNote, Field::Paraphrase][..],
            ));
        }
        for (kind, prompt, required) in kinds {
            if prompt.system.trim().is_empty() {
                return Err(invalid(&format!("{kind}.system"), "is empty".into()));
            }
            let template = Template::parse(&prompt.user_template)
                .map_err(|message| invalid(&format!("{kind}.user_template"), message))?;
            for &field in required {
                if !template.uses(field) {
                    let name = Field::ALL
                        .iter()
                        .find(|(_, f)| *f == field)
                        .map_or("", |(n, _)| n);
                    return Err(invalid(
                        &format!("{kind}.user_template"),
                        format!("must contain `{{{name}}}`"),
                    ));
                }
            }
            if let Some(message) = forbidden_field(kind, &template) {
                return Err(invalid(&format!("{kind}.user_template"), message.into()));
            }
            if !(0.0..=2.0).contains(&prompt.temperature) {
                return Err(invalid(
                    &format!("{kind}.temperature"),
                    format!("{} is outside 0 to 2", prompt.temperature),
                ));
            }
            if prompt.max_output_tokens == 0 || prompt.max_output_tokens > 128_000 {
                return Err(invalid(
                    &format!("{kind}.max_output_tokens"),
                    format!("{} is outside 1 to 128000", prompt.max_output_tokens),
                ));
            }
            templates.push(template);
        }
        let verify_template = if config.verify.is_some() {
            templates.pop()
        } else {
            None
        };
        let reasoning_template = templates.pop().expect("two templates were pushed");
        let paraphrase_template = templates.pop().expect("two templates were pushed");
        Ok(LoadedPrompts {
            config,
            paraphrase_template,
            reasoning_template,
            verify_template,
            source: path.display().to_string(),
            sha256: crate::store::fs::sha256_hex(bytes),
            bytes: bytes.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;

    fn pair() -> Pair {
        Pair {
            note_id: "n-1".into(),
            correct_note: "Pt on {aspirin}.".into(),
            incorrect_note: "Pt on warfarin.".into(),
            error_type: ErrorType::Pharmacotherapy,
            error_sentence: Some("Pt on warfarin.".into()),
            corrected_sentence: None,
        }
    }

    #[test]
    fn template_renders_fields_and_escapes() {
        let template = Template::parse(
            "{{json}} {note_id}: {correct_note} [{error_type}] {corrected_sentence}",
        )
        .unwrap();
        assert_eq!(
            template.render(&pair()),
            "{json} n-1: Pt on {aspirin}. [pharmacotherapy] (not given)"
        );
    }

    #[test]
    fn template_errors_say_what_is_wrong() {
        assert!(Template::parse("{nope}")
            .unwrap_err()
            .contains("unknown placeholder `{nope}`"));
        assert!(Template::parse("{correct_note")
            .unwrap_err()
            .contains("unclosed"));
        assert!(Template::parse("a } b").unwrap_err().contains("lone"));
    }

    fn shipped() -> serde_json::Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("configs/prompts/gpt4o_medec_safe_augmentation.json");
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn parse(value: &serde_json::Value) -> Result<LoadedPrompts, PromptError> {
        LoadedPrompts::parse(value.to_string().as_bytes(), Path::new("p.json"))
    }

    #[test]
    fn shipped_config_is_valid() {
        let loaded = parse(&shipped()).unwrap();
        assert_eq!(loaded.config.model, "gpt-4o");
        assert!(loaded.paraphrase_template.uses(Field::CorrectNote));
        let verify = loaded.verify_template.unwrap();
        assert!(verify.uses(Field::CorrectNote) && verify.uses(Field::Paraphrase));
        assert!(loaded.config.verify.unwrap().temperature.abs() < f64::EPSILON);
    }

    #[test]
    fn a_config_without_a_verify_section_still_loads() {
        let mut config = shipped();
        config.as_object_mut().unwrap().remove("verify");
        let loaded = parse(&config).unwrap();
        assert!(loaded.config.verify.is_none() && loaded.verify_template.is_none());
    }

    #[test]
    fn verify_templates_are_checked() {
        let cases: [(&str, serde_json::Value, &str); 4] = [
            (
                "/verify/user_template",
                "{correct_note}".into(),
                "must contain `{paraphrase}`",
            ),
            (
                "/verify/user_template",
                "{correct_note} {paraphrase} {incorrect_note}".into(),
                "verify.user_template",
            ),
            (
                "/paraphrase/user_template",
                "{correct_note} {paraphrase}".into(),
                "only the verifier reads a paraphrase",
            ),
            ("/verify/model", "gpt-9".into(), "verify.model"),
        ];
        for (pointer, value, expected) in cases {
            let mut config = shipped();
            *config.pointer_mut(pointer).unwrap() = value;
            let error = parse(&config).unwrap_err().to_string();
            assert!(error.contains(expected), "{pointer}: {error}");
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: [(&str, serde_json::Value, &str); 5] = [
            (
                "/paraphrase/user_template",
                "Rewrite: {incorrect_note} {correct_note}".into(),
                "paraphrase.user_template",
            ),
            (
                "/reasoning/user_template",
                "{correct_note}".into(),
                "must contain `{incorrect_note}`",
            ),
            (
                "/paraphrase/temperature",
                3.5.into(),
                "paraphrase.temperature",
            ),
            (
                "/reasoning/max_output_tokens",
                0.into(),
                "reasoning.max_output_tokens",
            ),
            ("/model", "gpt-9".into(), "unknown model `gpt-9`"),
        ];
        for (pointer, value, expected) in cases {
            let mut config = shipped();
            *config.pointer_mut(pointer).unwrap() = value;
            let error = parse(&config).unwrap_err().to_string();
            assert!(error.contains(expected), "{pointer}: {error}");
        }
    }

    #[test]
    fn missing_and_unknown_fields_are_errors_with_a_position() {
        let mut config = shipped();
        config["paraphrase"]
            .as_object_mut()
            .unwrap()
            .remove("system");
        let error = parse(&config).unwrap_err().to_string();
        assert!(error.contains("missing field `system`"), "{error}");
        let mut config = shipped();
        config["reasoning"]["max_tokens"] = 5.into();
        let error = parse(&config).unwrap_err().to_string();
        assert!(
            error.starts_with("p.json:1:") && error.contains("unknown field `max_tokens`"),
            "{error}"
        );
    }
}
