//! One line of a Batch API output or error file, read straight into the few fields
//! reconcile uses (content, refusal, finish reason, model, usage, error message) instead
//! of a whole JSON tree. The texts are as lenient as `Value::pointer` + `as_str` (a
//! field of another type counts as absent; a repeated key's last value wins); what is
//! billed is strict: a body that is not an object, or a `usage` count that is not a
//! plausible whole number of tokens, makes the line unreadable, never 0 tokens.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::Usage;

/// One line of a Batch API output or error file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultLine {
    pub custom_id: String,
    pub response: Option<ResultResponse>,
    pub error: Option<ResultError>,
}

/// The `response` of a line: the HTTP status and what reconcile reads of the body.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultResponse {
    pub status_code: u16,
    #[serde(default)]
    pub body: Completion,
}

/// The `error` of a line (a request the batch never ran, or could not).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResultError {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// What reconcile reads of a response body: `model`, `choices[0].message.content`,
/// `choices[0].message.refusal`, `choices[0].finish_reason`, `usage` and
/// `error.message`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Completion {
    pub model: Option<String>,
    pub content: Option<String>,
    pub refusal: Option<String>,
    pub finish_reason: Option<String>,
    pub usage: Usage,
    /// False when the body had no `usage` (or a null one): a 200 answer without it
    /// cannot be billed, and is reported as unreadable by the reader of the files.
    pub has_usage: bool,
    pub error_message: Option<String>,
}

/// More tokens than any model's context window holds many times over: a count this
/// large is a broken line, not a bill.
pub const MAX_PLAUSIBLE_TOKENS: u64 = 100_000_000;

/// The fields of one JSON object that are read; any other JSON value reads as
/// `Default`, as a JSON pointer into it would find nothing.
trait Fields: Default {
    const KEYS: &'static [&'static str];
    /// Reads the value of `KEYS[key]` into `self`.
    fn field<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error>;
}

/// A key, as its position in a list of wanted keys (`None` for any other key).
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|k| *k == key))
    }
}

/// Any JSON value, kept when it is what `T`'s visitor reads (a string, a number, an
/// object); anything else is skipped and reads as `Default`.
struct Lenient<T>(T);

/// The visitor of a [`Fields`] object.
struct ObjectVisitor<T>(PhantomData<T>);

/// Skips any JSON value a lenient visitor does not read; `$out` is what it reads as.
macro_rules! read_anything_else_as {
    ($out:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($out)
        }
    };
}

impl<'de, T: Fields> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    read_anything_else_as!(T::default());
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key_seed(Key(T::KEYS))? {
            match key {
                Some(key) => out.field(key, &mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

impl<'de, T: Fields> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ObjectVisitor(PhantomData))
            .map(Lenient)
    }
}

/// An object read into `T`, or `None` for `null`; any other JSON value is an error
/// naming `what` (the fields billed on must not be guessed).
struct Strict<T, const WHAT: u8>(Option<T>);

/// What a [`Strict`] value is, for its error message.
const BODY: u8 = 0;
const USAGE: u8 = 1;
const DETAILS: u8 = 2;

fn strict_name(what: u8) -> &'static str {
    match what {
        BODY => "the response `body` is not an object",
        USAGE => "`usage` is not an object",
        _ => "a `usage` details field is not an object",
    }
}

impl<'de, T: Fields, const WHAT: u8> Deserialize<'de> for Strict<T, WHAT> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrictVisitor<T, const WHAT: u8>(PhantomData<T>);
        impl<'de, T: Fields, const WHAT: u8> Visitor<'de> for StrictVisitor<T, WHAT> {
            type Value = Strict<T, WHAT>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(strict_name(WHAT))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Strict(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                ObjectVisitor::<T>(PhantomData)
                    .visit_map(map)
                    .map(|value| Strict(Some(value)))
            }
        }
        deserializer.deserialize_any(StrictVisitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Completion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Strict::<Completion, BODY>::deserialize(deserializer)?.0 {
            Some(body) => Ok(body),
            None => Err(de::Error::custom(strict_name(BODY))),
        }
    }
}

/// A string, or `None` for any other JSON value (`Value::as_str`).
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            read_anything_else_as!(Text(None));
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
                Ok(Text(Some(text.to_string())))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Text, E> {
                Ok(Text(Some(text)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A token count: a whole number from 0 to [`MAX_PLAUSIBLE_TOKENS`]; any other JSON
/// value is an error (never read as 0).
struct Count(Option<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        fn bad<E: de::Error>(what: &dyn fmt::Display) -> E {
            E::custom(format_args!(
                "a `usage` count is {what}, not a whole number of tokens from 0 to {MAX_PLAUSIBLE_TOKENS}"
            ))
        }
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number of tokens")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Count, E> {
                Err(bad(&value))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Count, E> {
                match u64::try_from(number) {
                    Ok(number) => self.visit_u64(number),
                    Err(_) => Err(bad(&number)),
                }
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Count, E> {
                if number > MAX_PLAUSIBLE_TOKENS {
                    return Err(bad(&number));
                }
                Ok(Count(Some(number)))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<Count, E> {
                Err(bad(&number))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Count, E> {
                Err(bad(&format_args!("the string {text:?}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Count, E> {
                Err(bad(&"null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Count, A::Error> {
                Err(bad(&"an array"))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Count, A::Error> {
                Err(bad(&"an object"))
            }
        }
        deserializer.deserialize_any(CountVisitor)
    }
}

/// `choices[0]`: the first element of an array, or the value of key `"0"` of an object
/// (as a JSON pointer reads `/choices/0`).
struct FirstChoice(Choice);

impl<'de> Deserialize<'de> for FirstChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor;
        impl<'de> Visitor<'de> for FirstVisitor {
            type Value = FirstChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<FirstChoice, E> {
                Ok(FirstChoice(Choice::default()))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<FirstChoice, E> {
                Ok(FirstChoice(Choice::default()))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<FirstChoice, E> {
                Ok(FirstChoice(Choice::default()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<FirstChoice, E> {
                Ok(FirstChoice(Choice::default()))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<FirstChoice, E> {
                Ok(FirstChoice(Choice::default()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<FirstChoice, E> {
                Ok(FirstChoice(Choice::default()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstChoice, A::Error> {
                let first = seq.next_element::<Lenient<Choice>>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstChoice(first.map(|c| c.0).unwrap_or_default()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstChoice, A::Error> {
                let mut first = Choice::default();
                while let Some(key) = map.next_key_seed(Key(&["0"]))? {
                    if key.is_some() {
                        first = map.next_value::<Lenient<Choice>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(FirstChoice(first))
            }
        }
        deserializer.deserialize_any(FirstVisitor)
    }
}

#[derive(Default)]
struct Choice {
    message: Message,
    finish_reason: Option<String>,
}

#[derive(Default)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[allow(clippy::struct_field_names)] // the API's field names
#[derive(Default)]
struct UsageFields {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    cached_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
}

/// `prompt_tokens_details` or `completion_tokens_details`: the one count read from it.
#[derive(Default)]
struct Details<const CACHED: bool>(Option<u64>);

#[derive(Default)]
struct ErrorFields {
    message: Option<String>,
}

impl Fields for Completion {
    const KEYS: &'static [&'static str] = &["model", "choices", "usage", "error"];
    fn field<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.model = map.next_value::<Text>()?.0,
            1 => {
                let choice = map.next_value::<FirstChoice>()?.0;
                self.content = choice.message.content;
                self.refusal = choice.message.refusal;
                self.finish_reason = choice.finish_reason;
            }
            2 => {
                let usage = map.next_value::<Strict<UsageFields, USAGE>>()?.0;
                self.has_usage = usage.is_some();
                let usage = usage.unwrap_or_default();
                self.usage = Usage {
                    prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                    cached_tokens: usage.cached_tokens.unwrap_or(0),
                    completion_tokens: usage.completion_tokens.unwrap_or(0),
                    reasoning_tokens: usage.reasoning_tokens.unwrap_or(0),
                };
            }
            _ => self.error_message = map.next_value::<Lenient<ErrorFields>>()?.0.message,
        }
        Ok(())
    }
}

impl Fields for Choice {
    const KEYS: &'static [&'static str] = &["message", "finish_reason"];
    fn field<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.message = map.next_value::<Lenient<Message>>()?.0,
            _ => self.finish_reason = map.next_value::<Text>()?.0,
        }
        Ok(())
    }
}

impl Fields for Message {
    const KEYS: &'static [&'static str] = &["content", "refusal"];
    fn field<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.content = map.next_value::<Text>()?.0,
            _ => self.refusal = map.next_value::<Text>()?.0,
        }
        Ok(())
    }
}

impl Fields for UsageFields {
    const KEYS: &'static [&'static str] = &[
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details",
        "completion_tokens_details",
    ];
    fn field<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error> {
        match key {
            0 => self.prompt_tokens = map.next_value::<Count>()?.0,
            1 => self.completion_tokens = map.next_value::<Count>()?.0,
            2 => {
                self.cached_tokens = map
                    .next_value::<Strict<Details<true>, DETAILS>>()?
                    .0
                    .and_then(|d| d.0);
            }
            _ => {
                self.reasoning_tokens = map
                    .next_value::<Strict<Details<false>, DETAILS>>()?
                    .0
                    .and_then(|d| d.0);
            }
        }
        Ok(())
    }
}

impl<const CACHED: bool> Fields for Details<CACHED> {
    const KEYS: &'static [&'static str] = if CACHED {
        &["cached_tokens"]
    } else {
        &["reasoning_tokens"]
    };
    fn field<'de, A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.0 = map.next_value::<Count>()?.0;
        Ok(())
    }
}

impl Fields for ErrorFields {
    const KEYS: &'static [&'static str] = &["message"];
    fn field<'de, A: MapAccess<'de>>(&mut self, _: usize, map: &mut A) -> Result<(), A::Error> {
        self.message = map.next_value::<Text>()?.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// What the old reader (a whole `Value` and JSON pointers) saw in a body.
    fn by_pointer(body: &Value) -> Completion {
        let text = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_string);
        let count = |p: &str| body.pointer(p).and_then(Value::as_u64).unwrap_or(0);
        Completion {
            model: body
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string),
            content: text("/choices/0/message/content"),
            refusal: text("/choices/0/message/refusal"),
            finish_reason: text("/choices/0/finish_reason"),
            usage: Usage {
                prompt_tokens: count("/usage/prompt_tokens"),
                cached_tokens: count("/usage/prompt_tokens_details/cached_tokens"),
                completion_tokens: count("/usage/completion_tokens"),
                reasoning_tokens: count("/usage/completion_tokens_details/reasoning_tokens"),
            },
            has_usage: body.get("usage").is_some_and(Value::is_object),
            error_message: text("/error/message"),
        }
    }

    #[test]
    fn reads_what_json_pointers_read_whatever_the_shape() {
        let bodies = [
            json!({
                "id": "chatcmpl-1", "model": "gpt-4o-2024-08-06",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "A note.\nWith \"quotes\" é", "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": "stop"}, {"message": {"content": "second"}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140, "prompt_tokens_details": {"cached_tokens": 10, "audio_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 7}},
                "service_tier": "default"
            }),
            json!({"choices": [{"message": {"content": null, "refusal": "I can't."}, "finish_reason": "stop"}]}),
            json!({"error": {"message": "Invalid request.", "type": "invalid_request_error"}}),
            json!({"model": 4, "choices": {"0": {"message": {"content": "keyed"}}}}),
            json!({"choices": "none", "usage": {"prompt_tokens": 3, "prompt_tokens_details": null}}),
            json!({"choices": [[1], {"message": {"content": "not first"}}], "error": "text"}),
            json!({"choices": [{"message": ["content"], "finish_reason": {"a": 1}}]}),
            json!({"model": "a", "model": "b", "usage": {"prompt_tokens": 1}, "usage": {"completion_tokens": 2}}),
            json!({"usage": null}),
            json!({}),
        ];
        for body in bodies {
            let text = body.to_string();
            let read: Completion = serde_json::from_str(&text).unwrap();
            // The JSON text, not the `Value`: a repeated key's last value wins in both.
            let reference: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(read, by_pointer(&reference), "{text}");
            let from_value: Completion = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(from_value, by_pointer(&body), "{text}");
        }
    }

    #[test]
    fn a_body_that_is_not_an_object_or_a_count_that_is_not_tokens_is_an_error() {
        let bad = [
            json!([1, 2, 3]),
            json!("a string"),
            json!(null),
            json!(7),
            json!({"usage": [1, 2]}),
            json!({"usage": "lots"}),
            json!({"usage": {"prompt_tokens": "lots"}}),
            json!({"usage": {"prompt_tokens": -500}}),
            json!({"usage": {"completion_tokens": 2.5}}),
            json!({"usage": {"completion_tokens": null}}),
            json!({"usage": {"prompt_tokens": u64::MAX}}),
            json!({"usage": {"prompt_tokens": MAX_PLAUSIBLE_TOKENS + 1}}),
            json!({"usage": {"prompt_tokens_details": {"cached_tokens": -1}}}),
            json!({"usage": {"completion_tokens_details": 5}}),
        ];
        for body in bad {
            let text = body.to_string();
            let error = serde_json::from_str::<Completion>(&text)
                .err()
                .unwrap_or_else(|| panic!("{text} was read"));
            let shown = error.to_string();
            assert!(
                shown.contains("not an object") || shown.contains("not a whole number"),
                "{text}: {shown}"
            );
        }
        let read: Completion = serde_json::from_str(&format!(
            "{{\"usage\": {{\"prompt_tokens\": {MAX_PLAUSIBLE_TOKENS}}}}}"
        ))
        .unwrap();
        assert_eq!(read.usage.prompt_tokens, MAX_PLAUSIBLE_TOKENS);
        assert!(read.has_usage);
    }

    #[test]
    fn repeated_keys_keep_the_last_value_like_a_json_tree() {
        let text = r#"{"model": "a", "model": "b", "usage": {"prompt_tokens": 1}, "usage": {"completion_tokens": 2}}"#;
        let read: Completion = serde_json::from_str(text).unwrap();
        assert_eq!(read.model.as_deref(), Some("b"));
        assert_eq!(
            (read.usage.prompt_tokens, read.usage.completion_tokens),
            (0, 2)
        );
    }

    #[test]
    fn a_whole_line_reads_with_or_without_a_body() {
        let line: ResultLine = serde_json::from_str(
            r#"{"id": "batch_req_1", "custom_id": "a|paraphrase|1", "response": {"status_code": 200, "request_id": "r", "body": {"choices": [{"message": {"content": "x"}, "finish_reason": "stop"}]}}, "error": null}"#,
        )
        .unwrap();
        let response = line.response.unwrap();
        assert_eq!(response.body.content.as_deref(), Some("x"));
        let line: ResultLine = serde_json::from_str(
            r#"{"custom_id": "a|paraphrase|1", "response": {"status_code": 500}, "error": null}"#,
        )
        .unwrap();
        assert_eq!(line.response.unwrap().body, Completion::default());
        assert!(serde_json::from_str::<ResultLine>(r#"{"response": null}"#).is_err());
    }
}
