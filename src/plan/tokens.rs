//! Exact prompt-token counts of chat requests with tiktoken, by OpenAI's chat rule:
//! 3 tokens per message + each field's tokens (+1 for a name) + 3 to prime the reply.
//!
//! Text is counted by tiktoken's own `encode_ordinary` loop (split into pieces, one token
//! for a piece in the vocabulary, else byte-pair merges with tiktoken-rs's
//! `byte_pair_split`), over the encoding's ranks and a splitter (`split.rs`) that each
//! thread compiles for itself: tiktoken-rs's `CoreBPE` shares one compiled regex between
//! threads, whose scratch space every piece then borrows from a locked pool, and counting
//! on every core scaled barely past one. The tests hold this count to tiktoken-rs's, token
//! for token.

use std::cell::OnceCell;
use std::collections::HashSet;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use tiktoken_rs::{CoreBPE, Rank};

use super::chat::ChatMessage;
use super::model::Encoding;
use super::split::Splitter;

/// Tokens every message costs beyond its fields (OpenAI cookbook, gpt-3.5-turbo-0613 on).
pub const TOKENS_PER_MESSAGE: u64 = 3;
/// Extra token for a message that carries a `name`.
pub const TOKENS_PER_NAME: u64 = 1;
/// Every reply is primed with `<|start|>assistant<|message|>`.
pub const REPLY_PRIMING_TOKENS: u64 = 3;

/// `cl100k_base`'s split regex, as tiktoken-rs (and OpenAI's tiktoken) define it.
#[cfg(test)]
pub(crate) const CL100K_BASE_PATTERN: &str = "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";

/// Ranks are read back from tiktoken-rs below this bound (both vocabularies, their
/// special tokens included, fit under it).
const RANK_SCAN_LIMIT: Rank = 1 << 18;

/// An encoding's ordinary vocabulary (special tokens left out).
struct Vocabulary {
    ranks: FxHashMap<Vec<u8>, Rank>,
}

impl Vocabulary {
    /// The vocabulary of `encoding`, read once per process from tiktoken-rs.
    fn of(encoding: Encoding) -> &'static Vocabulary {
        static O200K_BASE: OnceLock<Vocabulary> = OnceLock::new();
        static CL100K_BASE: OnceLock<Vocabulary> = OnceLock::new();
        match encoding {
            // tiktoken-rs's own instance is freed once read (on a thread of its own: it
            // takes a while): only the ranks are kept.
            Encoding::O200kBase => O200K_BASE.get_or_init(|| {
                let bpe = tiktoken_rs::o200k_base().expect("the bundled o200k_base loads");
                let vocabulary = Vocabulary::read(&bpe);
                std::thread::spawn(move || drop(bpe));
                vocabulary
            }),
            Encoding::Cl100kBase => CL100K_BASE.get_or_init(|| {
                let bpe = tiktoken_rs::cl100k_base().expect("the bundled cl100k_base loads");
                let vocabulary = Vocabulary::read(&bpe);
                std::thread::spawn(move || drop(bpe));
                vocabulary
            }),
        }
    }

    /// Reads every ordinary token's bytes back from `bpe`.
    fn read(bpe: &CoreBPE) -> Vocabulary {
        let special: HashSet<Rank> = bpe
            .special_tokens()
            .into_iter()
            .flat_map(|text| bpe.encode_with_special_tokens(text))
            .collect();
        let mut ranks = FxHashMap::with_capacity_and_hasher(
            RANK_SCAN_LIMIT as usize,
            rustc_hash::FxBuildHasher,
        );
        for rank in (0..RANK_SCAN_LIMIT).filter(|rank| !special.contains(rank)) {
            if let Ok(bytes) = bpe.decode_bytes(&[rank]) {
                ranks.insert(bytes, rank);
            }
        }
        Vocabulary { ranks }
    }

    /// Tokens of `text`: tiktoken's `encode_ordinary`, counted.
    fn count(&self, encoding: Encoding, text: &str) -> u64 {
        thread_local! {
            /// This thread's splitters, one per encoding, compiled on first use.
            static SPLITTERS: [OnceCell<Splitter>; 2] = const { [OnceCell::new(), OnceCell::new()] };
        }
        SPLITTERS.with(|splitters| {
            let splitter = splitters[encoding as usize].get_or_init(|| Splitter::new(encoding));
            let mut tokens = 0;
            splitter.for_each_piece(text, |piece| {
                let piece = piece.as_bytes();
                // Every single byte is a token, so a piece not in the vocabulary has two
                // bytes or more, as `byte_pair_split` needs.
                tokens += if self.ranks.contains_key(piece) {
                    1
                } else {
                    tiktoken_rs::byte_pair_split(piece, &self.ranks).len() as u64
                };
            });
            tokens
        })
    }
}

/// Counts with one encoding. Cheap to copy: the vocabulary is a process-wide singleton,
/// loaded on first use.
#[derive(Clone, Copy)]
pub struct TokenCounter {
    vocabulary: &'static Vocabulary,
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
        TokenCounter {
            vocabulary: Vocabulary::of(encoding),
            encoding,
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Tokens of plain text. Special-token text such as `<|endoftext|>` inside a note is
    /// counted as ordinary text, as the API does for message content.
    pub fn count_text(&self, text: &str) -> u64 {
        self.vocabulary.count(self.encoding, text)
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
    fn vocabularies_are_read_whole_without_special_tokens() {
        // o200k_base: 199,998 ordinary tokens; cl100k_base: 100,256.
        assert_eq!(Vocabulary::of(Encoding::O200kBase).ranks.len(), 199_998);
        assert_eq!(Vocabulary::of(Encoding::Cl100kBase).ranks.len(), 100_256);
    }

    #[test]
    fn counts_equal_tiktoken_rs_on_every_thread() {
        let texts = [
            "A 45-year-old man.\n\nHe denies chest pain; BP 120/80 mm Hg, HR 72/min.",
            "  leading and trailing  \r\n\t ",
            "don't WE'LL they've I'M 12345678 ½ 中文字 é\u{301} 😀😀 <|endoftext|>",
            "",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ];
        let check = || {
            for (encoding, bpe) in [
                (Encoding::O200kBase, tiktoken_rs::o200k_base_singleton()),
                (Encoding::Cl100kBase, tiktoken_rs::cl100k_base_singleton()),
            ] {
                let counter = TokenCounter::new(encoding);
                for text in texts {
                    assert_eq!(
                        counter.count_text(text),
                        bpe.count_ordinary(text) as u64,
                        "{encoding:?} {text:?}"
                    );
                }
            }
        };
        check();
        std::thread::scope(|scope| {
            scope.spawn(check);
            scope.spawn(check);
        });
    }

    #[test]
    fn counts_equal_tiktoken_rs_on_every_medec_note() {
        let pairs = crate::medec::bundled_pairs();
        let o200k = TokenCounter::new(Encoding::O200kBase);
        let cl100k = TokenCounter::new(Encoding::Cl100kBase);
        for pair in &pairs {
            for note in [&pair.correct_note, &pair.incorrect_note] {
                let expected = tiktoken_rs::o200k_base_singleton().count_ordinary(note);
                assert_eq!(o200k.count_text(note), expected as u64, "{}", pair.note_id);
                let expected = tiktoken_rs::cl100k_base_singleton().count_ordinary(note);
                assert_eq!(cl100k.count_text(note), expected as u64, "{}", pair.note_id);
            }
        }
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
