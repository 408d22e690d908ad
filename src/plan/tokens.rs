//! Exact prompt-token counts of chat requests with tiktoken, by OpenAI's chat rule:
//! 3 tokens per message + each field's tokens (+1 for a name) + 3 to prime the reply.

use tiktoken_rs::CoreBPE;

use super::chat::ChatMessage;
use super::model::Encoding;

/// Tokens every message costs beyond its fields (OpenAI cookbook, gpt-3.5-turbo-0613 on).
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Extra token for a message that carries a `name`.
pub const TOKENS_PER_NAME: u64 = 1;
/// Every reply is primed with `<|start|>assistant<|message|>`.
pub const REPLY_PRIMING_TOKENS: u64 = 3;

/// Counts with one encoding. Cheap to copy: the tokenizer is a process-wide singleton,
/// loaded on first use.
#[derive(Clone, Copy)]
pub struct TokenCounter {
    bpe: &'static CoreBPE,
    encoding: Encoding,
}

/// The count of one chat prompt, with each message's content tokens kept for the
/// estimate (the expected paraphrase length follows the note's length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatCount {
    pub prompt_tokens: u64,
    pub content_tokens: Vec<u64>,
}

impl TokenCounter {
    pub fn new(encoding: Encoding) -> TokenCounter {
        let bpe = match encoding {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        };
        TokenCounter { bpe, encoding }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Tokens of plain text. Special-token text such as `<|endoftext|>` inside a note is
    /// counted as ordinary text, as the API does for message content.
    pub fn count_text(&self, text: &str) -> u64 {
        self.bpe.count_ordinary(text) as u64
    }

    /// Tokens one message adds to a prompt, and its content's tokens alone.
    pub fn count_message(&self, message: &ChatMessage) -> (u64, u64) {
        let content = self.count_text(&message.content);
        let mut tokens = TOKENS_PER_MESSAGE + self.count_text(message.role.as_str()) + content;
        if let Some(name) = &message.name {
            tokens += TOKENS_PER_NAME + self.count_text(name);
        }
        (tokens, content)
    }

    /// Prompt tokens of a chat request, by the chat rule.
    pub fn count_chat(&self, messages: &[ChatMessage]) -> ChatCount {
        let mut prompt_tokens = REPLY_PRIMING_TOKENS;
        let mut content_tokens = Vec::with_capacity(messages.len());
        for message in messages {
            let (tokens, content) = self.count_message(message);
            prompt_tokens += tokens;
            content_tokens.push(content);
        }
        ChatCount {
            prompt_tokens,
            content_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::chat::Role;

    fn message(role: Role, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.to_string(),
            name: None,
        }
    }

    /// The OpenAI cookbook's example prompt ("How to count tokens with tiktoken"): 124
    /// prompt tokens for gpt-4o, 129 for gpt-4 (as the API reported them).
    fn cookbook_example() -> Vec<ChatMessage> {
        let named = |name: &str, content: &str| ChatMessage {
            role: Role::System,
            content: content.to_string(),
            name: Some(name.to_string()),
        };
        vec![
            message(Role::System, "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."),
            named("example_user", "New synergies will help drive top-line growth."),
            named("example_assistant", "Things working well together will increase revenue."),
            named("example_user", "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."),
            named("example_assistant", "Let's talk later when we're less busy about how to do better."),
            message(Role::User, "This late pivot means we don't have time to boil the ocean for the client deliverable."),
        ]
    }

    #[test]
    fn cookbook_example_matches_the_api() {
        let messages = cookbook_example();
        assert_eq!(
            TokenCounter::new(Encoding::O200kBase)
                .count_chat(&messages)
                .prompt_tokens,
            124
        );
        assert_eq!(
            TokenCounter::new(Encoding::Cl100kBase)
                .count_chat(&messages)
                .prompt_tokens,
            129
        );
    }

    #[test]
    fn special_token_text_counts_as_ordinary_text() {
        let counter = TokenCounter::new(Encoding::O200kBase);
        // As one special token it would be 1; as text it is several.
        assert!(counter.count_text("<|endoftext|>") > 1);
    }

    #[test]
    fn content_tokens_are_reported_per_message() {
        let counter = TokenCounter::new(Encoding::O200kBase);
        let count = counter.count_chat(&[
            message(Role::System, "hello world"),
            message(Role::User, ""),
        ]);
        assert_eq!(count.content_tokens, vec![2, 0]);
        // 3 priming + (3 + "system" 1 + 2) + (3 + "user" 1 + 0)
        assert_eq!(count.prompt_tokens, 3 + 6 + 4);
    }
}
