//! The content tokens of a pair's user messages, the correct note counted once and shared
//! by every kind whose template puts it after fixed text, where `boundary` proves the cut
//! exact; any other layout is rendered and counted whole.

use super::boundary::{joins_cleanly, last_clean_cut};
use super::custom_id::RequestKind;
use super::prompts::{LoadedPrompts, Template};
use super::tokens::TokenCounter;
use crate::medec::Pair;

/// How one kind's user message is counted.
enum Layout {
    /// Fixed `prefix` (counted once, here), the correct note, then `rest`.
    NoteAfterPrefix {
        prefix: String,
        prefix_tokens: u64,
        rest: Template,
    },
    /// Anything else: rendered and counted whole.
    Whole,
}

/// Counts the user messages of a pair for each kind, by the prompt config's templates.
pub(crate) struct ContentCounter<'a> {
    counter: TokenCounter,
    templates: [&'a Template; 2],
    layouts: [Layout; 2],
}

impl<'a> ContentCounter<'a> {
    pub(crate) fn new(prompts: &'a LoadedPrompts, counter: TokenCounter) -> ContentCounter<'a> {
        let templates = [&prompts.paraphrase_template, &prompts.reasoning_template];
        let layouts = templates.map(|template| match template.split_at_correct_note() {
            Some((prefix, rest)) => Layout::NoteAfterPrefix {
                prefix_tokens: counter.count_text(&prefix),
                prefix,
                rest,
            },
            None => Layout::Whole,
        });
        ContentCounter {
            counter,
            templates,
            layouts,
        }
    }

    /// Content tokens of the user message of each of `kinds`, indexed by kind (0 for a
    /// kind not asked for). Exactly `count_text(template.render(pair))` for each.
    pub(crate) fn count(&self, pair: &Pair, kinds: &[RequestKind]) -> [u64; 2] {
        let note = pair.correct_note.as_str();
        // Everything before the note's last clean cut tokenizes the same whatever comes
        // after the note: its tokens are counted once for every kind.
        let (head, tail) = note.split_at(last_clean_cut(note).unwrap_or(0));
        let mut head_tokens = None;
        let mut tail_tokens = None;
        let mut counts = [0; 2];
        for &kind in kinds {
            let at = kind as usize;
            counts[at] = match &self.layouts[at] {
                Layout::NoteAfterPrefix {
                    prefix,
                    prefix_tokens,
                    rest,
                } if !note.is_empty() && joins_cleanly(prefix, note) => {
                    let head = *head_tokens.get_or_insert_with(|| self.counter.count_text(head));
                    let after = if rest.is_empty() {
                        *tail_tokens.get_or_insert_with(|| self.counter.count_text(tail))
                    } else {
                        // The note's last words may merge with what follows: counted with it.
                        let mut text = String::with_capacity(tail.len() + 2 * note.len() + 256);
                        text.push_str(tail);
                        rest.render_into(pair, &mut text);
                        self.counter.count_text(&text)
                    };
                    prefix_tokens + head + after
                }
                _ => self.counter.count_text(&self.templates[at].render(pair)),
            };
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::medec::ErrorType;
    use crate::plan::model::Encoding;
    use std::path::Path;

    fn prompts(paraphrase: &str, reasoning: &str) -> LoadedPrompts {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("configs/prompts/gpt4o_medec_safe_augmentation.json");
        let mut config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        config["paraphrase"]["user_template"] = paraphrase.into();
        config["reasoning"]["user_template"] = reasoning.into();
        LoadedPrompts::parse(config.to_string().as_bytes(), Path::new("p.json")).unwrap()
    }

    fn pair(note: &str) -> Pair {
        Pair {
            note_id: "n-1".into(),
            correct_note: note.into(),
            incorrect_note: format!("{note} Not so."),
            error_type: ErrorType::Diagnosis,
            error_sentence: Some("Not so.".into()),
            corrected_sentence: None,
        }
    }

    /// Notes whose first and last characters sit on every kind of boundary.
    const NOTES: [&str; 14] = [
        "A 45-year-old man is given aspirin.",
        " starts with a space and ends with one. ",
        "\nstarts with a newline\n",
        "\r\nCRLF all through.\r\n",
        "/slash first and last/",
        ".punctuation first!",
        "'s a contraction, isn't it",
        "éclair, non-ASCII first: café",
        "\u{301}a combining mark",
        "中文 note 中文",
        "7 tablets, 12 mg",
        "\u{a0}no-break space\u{a0}",
        "oneword",
        "",
    ];

    #[test]
    fn the_shared_count_equals_counting_each_prompt_whole() {
        let shipped_paraphrase = "Paraphrase the following clinical note.\n\n{correct_note}";
        let shipped_reasoning = "CORRECT NOTE:\n{correct_note}\n\nINCORRECT NOTE (one {error_type} error):\n{incorrect_note}\n\nError sentence: {error_sentence}";
        let layouts = [
            (shipped_paraphrase, shipped_reasoning),
            ("{correct_note}", "{correct_note}{incorrect_note}"),
            (
                "Note:{correct_note} (id {note_id})",
                "x {correct_note}\n{incorrect_note} {correct_note}",
            ),
            (
                "{note_id}: {correct_note}",
                "{error_type}\n{correct_note}\n{incorrect_note}",
            ),
            (
                "Rewrite this note \n{correct_note}",
                "Notes:/{correct_note}/{incorrect_note}",
            ),
        ];
        for (paraphrase, reasoning) in layouts {
            let prompts = prompts(paraphrase, reasoning);
            for encoding in [Encoding::O200kBase, Encoding::Cl100kBase] {
                let counter = TokenCounter::new(encoding);
                let content = ContentCounter::new(&prompts, counter);
                for note in NOTES {
                    let pair = pair(note);
                    let counts = content.count(&pair, &RequestKind::GENERATION);
                    let whole = [
                        counter.count_text(&prompts.paraphrase_template.render(&pair)),
                        counter.count_text(&prompts.reasoning_template.render(&pair)),
                    ];
                    assert_eq!(counts, whole, "{paraphrase:?} / {reasoning:?}, {note:?}");
                }
            }
        }
    }

    #[test]
    fn a_kind_not_asked_for_is_not_counted() {
        let prompts = prompts("{correct_note}", "{correct_note}{incorrect_note}");
        let content = ContentCounter::new(&prompts, TokenCounter::new(Encoding::O200kBase));
        let counts = content.count(&pair("Given aspirin."), &RequestKind::GENERATION[..1]);
        assert!(counts[0] > 0);
        assert_eq!(counts[1], 0);
    }
}
