//! The JSON the Files and Batches API sends and takes, as typed `serde` structs (nulls
//! where the real API sends them), and their conversion into the shapes in [`super`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{redact, scrub_credentials};
use super::{ApiError, BatchErrorItem, BatchInfo, BatchStatus, FileInfo, RequestCounts};

/// The body of `POST /batches`: exactly these four fields (the API refuses a `null`
/// `output_expires_after`, so nothing optional is sent).
#[derive(Debug, Serialize)]
pub(crate) struct CreateBatchBody<'a> {
    pub input_file_id: &'a str,
    pub endpoint: &'a str,
    pub completion_window: &'a str,
    pub metadata: &'a BTreeMap<String, String>,
}

/// A batch object. Only what we read is declared; other fields (`model`, `usage`, …)
/// are ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct WireBatch {
    id: String,
    /// Kept raw: an unknown status is an error showing it, never a default.
    status: String,
    input_file_id: String,
    output_file_id: Option<String>,
    error_file_id: Option<String>,
    #[serde(default)]
    request_counts: Option<RequestCounts>,
    #[serde(default)]
    errors: Option<WireBatchErrors>,
    /// Values are strings in the API; anything else is ignored.
    #[serde(default)]
    metadata: Option<BTreeMap<String, Value>>,
    created_at: u64,
    in_progress_at: Option<u64>,
    finalizing_at: Option<u64>,
    completed_at: Option<u64>,
    failed_at: Option<u64>,
    expired_at: Option<u64>,
    cancelling_at: Option<u64>,
    cancelled_at: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireBatchErrors {
    #[serde(default)]
    data: Vec<BatchErrorItem>,
}

impl WireBatch {
    /// Our shape; an unknown status is [`ApiError::UnknownStatus`] with the raw value.
    pub(crate) fn into_info(self) -> Result<BatchInfo, ApiError> {
        let Some(status) = BatchStatus::parse(&self.status) else {
            return Err(ApiError::UnknownStatus {
                batch_id: self.id,
                raw: self.status,
            });
        };
        let metadata = self
            .metadata
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(key, value)| match value {
                Value::String(text) => Some((key, text)),
                _ => None,
            })
            .collect();
        Ok(BatchInfo {
            id: self.id,
            status,
            input_file_id: self.input_file_id,
            output_file_id: self.output_file_id,
            error_file_id: self.error_file_id,
            request_counts: self.request_counts.unwrap_or_default(),
            // Server text that is stored and shown: no credential may ride along.
            errors: self
                .errors
                .map(|e| e.data)
                .unwrap_or_default()
                .into_iter()
                .map(|item| BatchErrorItem {
                    message: item.message.as_deref().map(scrub_credentials),
                    ..item
                })
                .collect(),
            metadata,
            created_at: self.created_at,
            in_progress_at: self.in_progress_at,
            finalizing_at: self.finalizing_at,
            completed_at: self.completed_at,
            failed_at: self.failed_at,
            expired_at: self.expired_at,
            cancelling_at: self.cancelling_at,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// A file object (`expires_at` and `status_details` may be null; neither is read).
#[derive(Debug, Deserialize)]
pub(crate) struct WireFile {
    id: String,
    bytes: Option<u64>,
    filename: String,
    purpose: String,
    created_at: u64,
}

impl From<WireFile> for FileInfo {
    fn from(file: WireFile) -> FileInfo {
        FileInfo {
            id: file.id,
            bytes: file.bytes,
            filename: file.filename,
            purpose: file.purpose,
            created_at: file.created_at,
        }
    }
}

/// The answer to `DELETE /files/{id}` (`object` and `deleted` are not read).
#[derive(Debug, Deserialize)]
pub(crate) struct WireDeleted {
    #[allow(dead_code)] // read to check the answer's shape
    pub id: String,
}

/// One page of a list (`first_id`/`last_id`, null on an empty page, are not read).
#[derive(Debug, Deserialize)]
pub(crate) struct WireList<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

/// The body of an error answer: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Deserialize)]
struct WireErrorBody {
    error: WireError,
}

#[derive(Debug, Deserialize)]
struct WireError {
    message: Option<String>,
    /// A string in practice; kept loose so an odd code never hides the message.
    #[serde(default)]
    code: Option<Value>,
}

/// The message and code of an error answer, or the body's start when it is not the
/// API's JSON (a proxy's page); the key is redacted from either.
pub(crate) fn error_details(body: &[u8], secret: &str) -> (String, Option<String>) {
    let (message, code) = match serde_json::from_slice::<WireErrorBody>(body) {
        Ok(WireErrorBody { error }) => (
            error.message.unwrap_or_default(),
            error.code.and_then(|code| match code {
                Value::String(text) => Some(text),
                Value::Null => None,
                other => Some(other.to_string()),
            }),
        ),
        Err(_) => (excerpt(body), None),
    };
    (
        redact(&message, secret),
        code.map(|code| redact(&code, secret)),
    )
}

/// Decodes a 200 answer into `T`; the error names the call and shows the body's start.
pub(crate) fn decode<T: DeserializeOwned>(
    call: &str,
    body: &[u8],
    secret: &str,
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::Decode {
        call: call.into(),
        message: redact(&format!("{error}: `{}`", excerpt(body)), secret),
    })
}

/// The first 300 characters of a body, for messages.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A batch as the real API sends it while validating: nulls for everything not
    /// reached yet, `model` and `usage` (batches since September 2025).
    #[test]
    fn a_failed_batchs_error_messages_are_scrubbed_of_credentials() {
        let mut object = batch_json("failed");
        object["errors"] = json!({"object": "list", "data": [
            {"code": "invalid_request", "message": "bad header Authorization: Bearer sk-live-ABCDEF0123456789xyz", "param": null, "line": null}
        ]});
        let batch: WireBatch = serde_json::from_value(object).unwrap();
        let info = batch.into_info().unwrap();
        assert_eq!(
            info.errors[0].message.as_deref(),
            Some("bad header Authorization: Bearer [redacted]")
        );
    }

    fn batch_json(status: &str) -> Value {
        json!({
            "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
            "model": "gpt-4o-2024-08-06",
            "errors": null, "input_file_id": "file-1", "completion_window": "24h",
            "status": status, "output_file_id": null, "error_file_id": null,
            "created_at": 1_700_000_000u64, "in_progress_at": null, "expires_at": 1_700_086_400u64,
            "finalizing_at": null, "completed_at": null, "failed_at": null, "expired_at": null,
            "cancelling_at": null, "cancelled_at": null,
            "request_counts": {"total": 3, "completed": 1, "failed": 1},
            "usage": {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": 0},
            "metadata": {"safesft_run": "r", "other": 5}
        })
    }

    fn read_batch(value: &Value) -> Result<BatchInfo, ApiError> {
        decode::<WireBatch>("test", value.to_string().as_bytes(), "sk-k")?.into_info()
    }

    #[test]
    fn every_real_status_reads_and_an_unknown_one_is_an_error_with_its_value() {
        for status in BatchStatus::ALL {
            let batch = read_batch(&batch_json(status.as_str())).unwrap();
            assert_eq!(batch.status, status);
        }
        let error = read_batch(&batch_json("paused")).unwrap_err();
        assert!(
            matches!(&error, ApiError::UnknownStatus { raw, batch_id } if raw == "paused" && batch_id == "batch_1")
        );
        assert!(error.to_string().contains("`paused`"));
    }

    #[test]
    fn nulls_and_counts_read_as_the_real_api_sends_them() {
        let batch = read_batch(&batch_json("in_progress")).unwrap();
        assert_eq!(batch.output_file_id, None);
        assert_eq!(batch.in_progress_at, None);
        assert_eq!(batch.created_at, 1_700_000_000);
        assert_eq!(
            batch.request_counts,
            RequestCounts {
                total: 3,
                completed: 1,
                failed: 1
            }
        );
        assert_eq!(
            batch.metadata.get("safesft_run").map(String::as_str),
            Some("r")
        );
        assert!(
            !batch.metadata.contains_key("other"),
            "non-string metadata is ignored"
        );
        assert!(batch.errors.is_empty());

        let mut failed = batch_json("failed");
        failed["errors"] = json!({"object": "list", "data": [{"code": "token_limit_exceeded", "message": "Enqueued token limit reached", "param": null, "line": null}]});
        failed["failed_at"] = json!(1_700_000_100u64);
        failed["metadata"] = Value::Null;
        failed["request_counts"] = Value::Null;
        let batch = read_batch(&failed).unwrap();
        assert_eq!(
            batch.errors[0].code.as_deref(),
            Some("token_limit_exceeded")
        );
        assert_eq!(batch.failed_at, Some(1_700_000_100));
        assert!(batch.metadata.is_empty());
        assert_eq!(batch.request_counts, RequestCounts::default());

        let mut done = batch_json("completed");
        done["output_file_id"] = json!("file-out");
        done["error_file_id"] = json!("file-err");
        let batch = read_batch(&done).unwrap();
        assert_eq!(batch.output_file_id.as_deref(), Some("file-out"));
        assert_eq!(batch.error_file_id.as_deref(), Some("file-err"));
    }

    #[test]
    fn a_batch_without_an_id_or_status_is_a_decode_error() {
        let mut value = batch_json("completed");
        value.as_object_mut().unwrap().remove("status");
        let error = read_batch(&value).unwrap_err();
        assert!(matches!(error, ApiError::Decode { .. }), "{error}");
        assert!(error.to_string().contains("missing field `status`"));
    }

    #[test]
    fn file_objects_and_list_pages_read_with_their_nulls() {
        let page = json!({
            "object": "list",
            "data": [{
                "id": "file-1", "object": "file", "bytes": 120, "created_at": 1_700_000_000u64,
                "expires_at": null, "filename": "safesft-r-shard-000-abc.jsonl",
                "purpose": "batch", "status": "processed", "status_details": null
            }],
            "first_id": "file-1", "last_id": "file-1", "has_more": false
        });
        let list: WireList<WireFile> = decode("test", page.to_string().as_bytes(), "").unwrap();
        let files: Vec<FileInfo> = list.data.into_iter().map(FileInfo::from).collect();
        assert_eq!(
            files,
            vec![FileInfo {
                id: "file-1".into(),
                bytes: Some(120),
                filename: "safesft-r-shard-000-abc.jsonl".into(),
                purpose: "batch".into(),
                created_at: 1_700_000_000,
            }]
        );
        assert!(!list.has_more);

        let empty = json!({"object": "list", "data": [], "first_id": null, "last_id": null, "has_more": false});
        let list: WireList<WireBatch> = decode("test", empty.to_string().as_bytes(), "").unwrap();
        assert!(list.data.is_empty());
        let more = json!({"object": "list", "data": [batch_json("validating")], "first_id": "batch_1", "last_id": "batch_1", "has_more": true});
        let list: WireList<WireBatch> = decode("test", more.to_string().as_bytes(), "").unwrap();
        assert!(list.has_more);
        assert_eq!(list.data.len(), 1);
    }

    #[test]
    fn error_bodies_give_message_and_code_without_the_key() {
        let body = json!({"error": {"message": "Incorrect API key provided: sk-secret-1.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
        let (message, code) = error_details(body.to_string().as_bytes(), "sk-secret-1");
        assert_eq!(message, "Incorrect API key provided: [redacted].");
        assert_eq!(code.as_deref(), Some("invalid_api_key"));

        let proxy =
            b"<html>400 Bad Request: header Authorization: Bearer sk-secret-1 refused</html>";
        let (message, code) = error_details(proxy, "sk-secret-1");
        assert_eq!(
            message,
            "<html>400 Bad Request: header Authorization: Bearer [redacted] refused</html>"
        );
        assert_eq!(code, None);

        let unreadable = decode::<WireBatch>("test", b"echo: Bearer sk-secret-1", "sk-secret-1")
            .unwrap_err()
            .to_string();
        assert!(!unreadable.contains("sk-secret-1"), "{unreadable}");
        assert!(unreadable.contains("[redacted]"), "{unreadable}");
    }

    #[test]
    fn the_create_body_is_exactly_the_four_fields() {
        let metadata = BTreeMap::from([("safesft_run".to_string(), "r".to_string())]);
        let body = CreateBatchBody {
            input_file_id: "file-1",
            endpoint: crate::api::CHAT_COMPLETIONS_ENDPOINT,
            completion_window: "24h",
            metadata: &metadata,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"safesft_run": "r"}})
        );
    }
}
