//! Batch API output and error files for a planned run, in the real line format (the shape
//! `tests/it/fake_api.rs` serves), and the manifest's `remote` state of finished batches,
//! so `safesft reconcile` reads them as it reads a real download.
//!
//! The answers mix accepted and rejected ones so every check runs. By pair, paraphrases
//! are 55 % faithful rule-made rewrites (mostly kept) and 5 % each: a number changed, a
//! sentence with a number or drug dropped, a drug swapped, a negation flipped, a
//! near-verbatim copy, an answer cut off (`finish_reason: length`), a preamble and a
//! refusal. Reasoning answers are 80 % valid JSON, 5 % each fenced JSON (kept), broken
//! JSON, two clues only and cut off. Every 97th request fails with HTTP 400 (error file).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use safesft::medec::Pair;
use safesft::safety::SafetyChecker;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::mutations::{self, Kind};

/// A planned request, as the harness needs it.
struct Request {
    custom_id: String,
    note_id: String,
    reasoning: bool,
    prompt_tokens: u64,
}

/// The first `1 / part` of `text`, as an answer cut off would be.
fn cut(text: &str, part: usize) -> String {
    let mut at = text.len() / part;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].to_string()
}

/// The paraphrase answer of pair number `number` and its finish reason, or `None` for
/// a refusal.
fn paraphrase(
    number: usize,
    note: &str,
    faithful: &str,
    _checker: &SafetyChecker,
    rng: &mut fastrand::Rng,
) -> Option<(String, &'static str)> {
    let mutated = |kinds: &[Kind], rng: &mut fastrand::Rng| {
        kinds
            .iter()
            .find_map(|kind| mutations::mutate(*kind, note, faithful, rng))
            .unwrap_or_else(|| faithful.to_string())
    };
    Some(match number % 20 {
        11 => (mutated(&[Kind::Number], rng), "stop"),
        12 => (mutated(&[Kind::DroppedSentence], rng), "stop"),
        13 => (mutated(&[Kind::Drug, Kind::Number], rng), "stop"),
        14 => (mutated(&[Kind::Negation, Kind::Laterality], rng), "stop"),
        15 => (mutated(&[Kind::NearCopy], rng), "stop"),
        16 => (cut(faithful, 2), "length"),
        17 => (
            format!("Here is the paraphrased note:\n\n{faithful}"),
            "stop",
        ),
        18 => return None,
        _ => (faithful.to_string(), "stop"),
    })
}

/// The reasoning answer of pair number `number` and its finish reason.
fn reasoning(number: usize, pair: &Pair) -> (String, &'static str) {
    let clues: Vec<String> = pair
        .incorrect_note
        .split(". ")
        .filter(|s| !s.trim().is_empty())
        .take(3)
        .map(|s| s.chars().take(90).collect())
        .collect();
    let mut explanation = json!({
        "error_identified": pair.error_sentence.clone().unwrap_or_else(|| "The diagnosis does not fit the findings.".into()),
        "why_wrong": format!("The {} named in the note does not follow from the history, the examination and the results reported, which point elsewhere; acting on it would delay the right care.", pair.error_type),
        "key_clues": clues,
        "correct_answer": pair.corrected_sentence.clone().unwrap_or_else(|| "The finding that fits the presentation.".into()),
        "clinical_impact": "A wrong answer here changes what is done next for the patient: the wrong test, the wrong drug or a missed diagnosis, with harm that could have been avoided.",
    });
    let text = explanation.to_string();
    match (number * 7 + 3) % 20 {
        16 => (format!("```json\n{text}\n```"), "stop"),
        17 => (cut(&text, 3), "stop"),
        18 => {
            explanation["key_clues"] = json!(["one clue", "another clue"]);
            (explanation.to_string(), "stop")
        }
        19 => (cut(&text, 2), "length"),
        _ => (text, "stop"),
    }
}

fn output_line(index: usize, request: &Request, answer: Option<(String, &str)>) -> Value {
    let (content, refusal, finish) = match answer {
        Some((text, finish)) => (json!(text), Value::Null, finish),
        None => (
            Value::Null,
            json!("I'm sorry, but I can't help with that."),
            "stop",
        ),
    };
    let written = content.as_str().map_or(10, str::len) as u64;
    let prompt_tokens = request.prompt_tokens;
    let completion_tokens = written / 4 + 1;
    let cached_tokens = if index.is_multiple_of(3) {
        prompt_tokens.min(1024)
    } else {
        0
    };
    json!({
        "id": format!("batch_req_{index:06}"),
        "custom_id": request.custom_id,
        "response": {"status_code": 200, "request_id": format!("req_{index:06}"), "body": {
            "id": format!("chatcmpl-{index:08}"),
            "object": "chat.completion",
            "created": 1_764_000_000 + index,
            "model": "gpt-4o-2024-08-06",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": null,
                "finish_reason": finish
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
            },
            "service_tier": "default",
            "system_fingerprint": "fp_bench"
        }},
        "error": null
    })
}

fn error_line(index: usize, request: &Request) -> Value {
    json!({
        "id": format!("batch_req_{index:06}"), "custom_id": request.custom_id,
        "response": {"status_code": 400, "request_id": format!("req_{index:06}"), "body": {"error": {"message": "Invalid request.", "type": "invalid_request_error", "param": null, "code": null}}},
        "error": null
    })
}

/// Writes `lines` as JSONL; returns the manifest's file record.
fn write_lines(run_dir: &Path, relative: &str, lines: &[String]) -> Value {
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    let path = run_dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("mkdir");
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(&bytes))
        .expect("the run folder is writable");
    let mut sha256 = String::new();
    for byte in Sha256::digest(&bytes) {
        let _ = write!(sha256, "{byte:02x}");
    }
    json!({"path": relative, "sha256": sha256, "bytes": bytes.len()})
}

/// Answers every request of the planned run in `run_dir`, as finished batches would,
/// and records them in its manifest. Returns the result lines written.
pub fn answer_run(run_dir: &Path, checker: &SafetyChecker) -> usize {
    let read = |name: &str| std::fs::read_to_string(run_dir.join(name)).expect("a planned run");
    let pairs_text = read("pairs.jsonl");
    let pairs: Vec<Pair> = pairs_text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a pair"))
        .collect();
    let number_of: HashMap<&str, usize> = (0..)
        .zip(&pairs)
        .map(|(i, p)| (p.note_id.as_str(), i))
        .collect();
    let mut manifest: Value = serde_json::from_str(&read("manifest.json")).expect("a manifest");
    let shard_count = manifest["shards"].as_array().map_or(0, Vec::len);
    let mut by_shard: Vec<Vec<Request>> = (0..shard_count).map(|_| Vec::new()).collect();
    for line in read("requests/index.jsonl").lines() {
        let entry: Value = serde_json::from_str(line).expect("an index line");
        let custom_id = entry["custom_id"]
            .as_str()
            .expect("a custom_id")
            .to_string();
        let note_id = custom_id
            .rsplitn(3, '|')
            .nth(2)
            .expect("note|kind|n")
            .into();
        by_shard[usize::try_from(entry["shard"].as_u64().expect("a shard")).expect("usize")].push(
            Request {
                custom_id,
                note_id,
                reasoning: entry["kind"] == "reasoning",
                prompt_tokens: entry["prompt_tokens"].as_u64().expect("prompt tokens"),
            },
        );
    }
    let mut faithful: HashMap<&str, String> = HashMap::new();
    let mut rng = fastrand::Rng::with_seed(20_261_201);
    let mut written = 0;
    let mut index: usize = 0;
    for (shard, requests) in by_shard.iter().enumerate() {
        let (mut outputs, mut errors) = (Vec::new(), Vec::new());
        for request in requests {
            index += 1;
            let number = number_of[request.note_id.as_str()];
            let pair = &pairs[number];
            if index.is_multiple_of(97) {
                errors.push(error_line(index, request).to_string());
                continue;
            }
            let answer = if request.reasoning {
                Some(reasoning(number, pair))
            } else {
                let rewrite = faithful
                    .entry(pair.correct_note.as_str())
                    .or_insert_with(|| mutations::faithful(&pair.correct_note));
                paraphrase(number, &pair.correct_note, rewrite, checker, &mut rng)
            };
            outputs.push(output_line(index, request, answer).to_string());
        }
        // Results come back in another order than asked, as from the real API.
        fastrand::Rng::with_seed(shard as u64).shuffle(&mut outputs);
        written += outputs.len() + errors.len();
        let remote = &mut manifest["shards"][shard]["remote"];
        let output = write_lines(
            run_dir,
            &format!("outputs/shard-{shard:03}.output.jsonl"),
            &outputs,
        );
        remote["output"] = output;
        remote["errors"] = if errors.is_empty() {
            Value::Null
        } else {
            write_lines(
                run_dir,
                &format!("outputs/shard-{shard:03}.errors.jsonl"),
                &errors,
            )
        };
        let id = format!("batch_bench{shard:03}");
        remote["input_file_id"] = json!(format!("file-in{shard:03}"));
        remote["batch_id"] = json!(id);
        remote["batch"] = json!({
            "id": id, "status": "completed", "input_file_id": format!("file-in{shard:03}"),
            "output_file_id": format!("file-out{shard:03}"),
            "error_file_id": (!errors.is_empty()).then(|| format!("file-err{shard:03}")),
            "request_counts": {"total": requests.len(), "completed": outputs.len(), "failed": errors.len()},
            "errors": [], "metadata": {"safesft_shard": format!("{shard:03}")},
            "created_at": 1_764_000_000, "in_progress_at": 1_764_000_010,
            "finalizing_at": 1_764_000_500, "completed_at": 1_764_000_600,
            "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null
        });
        remote["line_check"] = json!({
            "output_lines": outputs.len(), "error_lines": errors.len(),
            "counted_total": requests.len(), "counted_completed": outputs.len(),
            "counted_failed": errors.len(), "planned_requests": requests.len(), "problems": []
        });
    }
    let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
    std::fs::write(run_dir.join("manifest.json"), text + "\n").expect("write the manifest");
    written
}
