//! Our prompt-token counts against Python tiktoken's, request by request, on the MEDEC
//! validation set (reference made by `tests/reference/make_token_reference.py`).

use safesft::medec::{read_all_pairs, ReadOptions};
use safesft::plan::tokens::TokenCounter;
use safesft::plan::{
    family_of, BatchRequestLine, Encoding, LoadedPrompts, OutputModel, RequestBuilder, RequestKind,
};
use sha2::{Digest, Sha256};

use crate::{project, sample};

fn messages_sha256(line: &BatchRequestLine) -> String {
    let mut hasher = Sha256::new();
    for message in &line.body.messages {
        hasher.update(message.role.as_str());
        hasher.update([0]);
        hasher.update(&message.content);
        hasher.update([0]);
    }
    format!("{:x}", hasher.finalize())
}

fn reference() -> serde_json::Value {
    let path = project().join("tests/reference/tiktoken_medec_ms_val.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn every_request_matches_python_tiktoken() {
    let reference = reference();
    let requests = reference["requests"].as_object().unwrap();
    let prompts =
        LoadedPrompts::load(&project().join("configs/prompts/gpt4o_medec_safe_augmentation.json"))
            .unwrap();
    let (pairs, _) = read_all_pairs(&sample(), ReadOptions::default()).unwrap();
    let family = family_of("gpt-4o").unwrap();
    let builder = RequestBuilder::new(&prompts, "gpt-4o", family, OutputModel::default(), true);
    let o200k = TokenCounter::new(Encoding::O200kBase);
    let cl100k = TokenCounter::new(Encoding::Cl100kBase);
    let mut compared = 0;
    for pair in &pairs {
        for (text, planned) in builder.build(pair, true) {
            let line: BatchRequestLine = serde_json::from_str(&text).unwrap();
            let expected = &requests[&planned.custom_id];
            assert_eq!(
                expected["messages_sha256"].as_str().unwrap(),
                messages_sha256(&line),
                "{}: the prompts changed since the reference was made: run tests/reference/make_token_reference.py again",
                planned.custom_id
            );
            let ours = o200k.count_chat(&line.body.messages).prompt_tokens;
            assert_eq!(
                ours,
                expected["o200k_base"].as_u64().unwrap(),
                "{} o200k_base",
                planned.custom_id
            );
            let ours_cl100k = cl100k.count_chat(&line.body.messages).prompt_tokens;
            assert_eq!(
                ours_cl100k,
                expected["cl100k_base"].as_u64().unwrap(),
                "{} cl100k_base",
                planned.custom_id
            );
            // The plan's count is the chat rule plus, for reasoning, the schema allowance.
            let allowance = if planned.kind == RequestKind::Reasoning {
                builder.schema_allowance_tokens()
            } else {
                0
            };
            assert_eq!(planned.prompt_tokens, ours + allowance);
            compared += 1;
        }
    }
    assert_eq!(compared, 638);
    assert_eq!(requests.len(), 638);
}

#[test]
fn tricky_texts_match_python_tiktoken() {
    let reference = reference();
    let o200k = TokenCounter::new(Encoding::O200kBase);
    let cl100k = TokenCounter::new(Encoding::Cl100kBase);
    for entry in reference["texts"].as_array().unwrap() {
        let text = entry["text"].as_str().unwrap();
        assert_eq!(
            o200k.count_text(text),
            entry["o200k_base"].as_u64().unwrap(),
            "{text:?}"
        );
        assert_eq!(
            cl100k.count_text(text),
            entry["cl100k_base"].as_u64().unwrap(),
            "{text:?}"
        );
    }
}
