#!/usr/bin/env python3
"""Reference prompt-token counts from Python tiktoken, for tests/token_reference.rs.

Counts every request of a plan with OpenAI's chat rule (cookbook, "How to count tokens
with tiktoken"): 3 tokens per message + the tokens of each field (+1 for a name) + 3 to
prime the reply. Text is encoded with `encode_ordinary`, as message content is never
read as special tokens. Both encodings are counted for every request.

Made with tiktoken 0.14.0 (https://github.com/openai/tiktoken), offline: TIKTOKEN_CACHE_DIR
points to a local cache already holding the o200k_base and cl100k_base encoding files
(tiktoken fills it on a first run with network access):

    cargo run -- plan --input data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv \
        --run tiktoken-reference --batches-dir /tmp/reference-plan --force --quiet
    TIKTOKEN_CACHE_DIR=/tmp/tiktoken_cache python3 tests/reference/make_token_reference.py \
        /tmp/reference-plan/tiktoken-reference/requests/shard-*.jsonl \
        > tests/reference/tiktoken_medec_ms_val.json
"""
import hashlib
import json
import sys

import tiktoken

ENCODINGS = ["o200k_base", "cl100k_base"]

# Texts that trip tokenizers: special-token text, odd whitespace, non-ASCII.
EXTRA_TEXTS = [
    "",
    "<|endoftext|> is text here, as is <|im_start|>user",
    "BP 102/73 mm Hg,  HR 106/min\r\n\tT 38.9\u00b0C (102\u00b0F)",
    "Na\u207a 135 mEq/L; \u03b2-blocker; caf\u00e9; \u6e29\u5ea6; \U0001f489",
    "   leading and trailing spaces   ",
    "a" * 3000,
]


def messages_sha256(messages):
    """The same digest tests/token_reference.rs computes: role NUL content NUL ..."""
    digest = hashlib.sha256()
    for message in messages:
        digest.update(message["role"].encode())
        digest.update(b"\0")
        digest.update(message["content"].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def chat_tokens(encoding, messages):
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(encoding.encode_ordinary(value))
            if key == "name":
                total += 1
    return total


def main(paths):
    encodings = {name: tiktoken.get_encoding(name) for name in ENCODINGS}
    requests = {}
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                request = json.loads(line)
                messages = request["body"]["messages"]
                entry = {"messages_sha256": messages_sha256(messages)}
                for name, encoding in encodings.items():
                    entry[name] = chat_tokens(encoding, messages)
                requests[request["custom_id"]] = entry
    texts = [
        {"text": text, **{name: len(enc.encode_ordinary(text)) for name, enc in encodings.items()}}
        for text in EXTRA_TEXTS
    ]
    json.dump(
        {
            "tiktoken_version": tiktoken.__version__,
            "rule": "3 per message + tokens of each field (+1 for a name) + 3 reply priming; encode_ordinary",
            "requests": requests,
            "texts": texts,
        },
        sys.stdout,
        indent=1,
        sort_keys=True,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
