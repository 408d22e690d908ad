//! The Batch API over HTTP: async-openai for Files and Batches (typed requests, our own
//! response shapes so an unknown status keeps its raw value), a retry policy with
//! exponential backoff, jitter and `Retry-After`, and a streamed download written by hand.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use async_openai::config::{Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::middleware::{HttpRequestFactory, ReqwestService};
use async_openai::traits::{AsyncTryFrom, RequestOptionsBuilder};
use async_openai::Client;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::retry::{Policy, RetryLayer};
use tower::util::rng::HasherRng;

use super::{ApiError, BatchApi, BatchInfo, BatchPage, BatchStatus, FileInfo, RequestCounts};

/// The default API base, as OpenAI's own clients have it.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Set to `1` to make every retry immediate (tests).
pub const NO_RETRY_DELAY_ENV: &str = "SAFESFT_NO_RETRY_DELAY";

/// Where and as whom to call the API, read the way OpenAI's clients read it. The key is
/// held only inside async-openai's config (a secret that never prints).
#[derive(Clone)]
pub struct ApiSettings {
    config: OpenAIConfig,
    base_url: String,
    pub retry: RetrySettings,
}

impl fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl ApiSettings {
    /// From `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`.
    pub fn from_env() -> Result<ApiSettings, ApiError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let key = var("OPENAI_API_KEY").ok_or(ApiError::MissingKey)?;
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::MalformedKey);
        }
        let base_url = var("OPENAI_BASE_URL")
            .unwrap_or_else(|| DEFAULT_BASE_URL.into())
            .trim_end_matches('/')
            .to_string();
        // Every field set here, so nothing async-openai reads from the environment itself
        // is left to chance.
        let config = OpenAIConfig::new()
            .with_api_key(key)
            .with_api_base(base_url.clone())
            .with_org_id(var("OPENAI_ORG_ID").unwrap_or_default())
            .with_project_id(var("OPENAI_PROJECT_ID").unwrap_or_default());
        Ok(ApiSettings {
            config,
            base_url,
            retry: RetrySettings::from_env(),
        })
    }
}

/// How hard to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrySettings {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured as given.
    pub max_retry_after: Duration,
    /// No waiting at all between attempts (tests).
    pub no_delay: bool,
}

impl RetrySettings {
    pub fn from_env() -> RetrySettings {
        RetrySettings {
            max_attempts: 8,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(600),
            no_delay: std::env::var(NO_RETRY_DELAY_ENV).is_ok_and(|v| v == "1"),
        }
    }
}

/// Which failures a request may be sent again after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reads and idempotent writes: 429, 5xx, and any network failure.
    Transient,
    /// Creating a batch: only failures that prove nothing happened (429, a refused
    /// connection). The caller looks the batch up before trying again otherwise.
    ProvablyNotApplied,
}

/// A tower retry policy: exponential backoff with jitter, `Retry-After` (seconds) when
/// the server sends it, a bounded number of attempts.
#[derive(Clone)]
struct RetryPolicy {
    settings: RetrySettings,
    kind: Retry,
    attempts: u32,
    backoff: ExponentialBackoff<HasherRng>,
}

impl RetryPolicy {
    fn new(settings: RetrySettings, kind: Retry) -> RetryPolicy {
        let backoff = ExponentialBackoffMaker::new(
            settings.min_delay,
            settings.max_delay.max(settings.min_delay),
            0.5,
            HasherRng::default(),
        )
        .map_or_else(
            |_| unreachable!("min ≤ max and a finite jitter are always valid"),
            |mut maker| maker.make_backoff(),
        );
        RetryPolicy {
            settings,
            kind,
            attempts: 1,
            backoff,
        }
    }

    fn should_retry(&self, result: &Result<reqwest::Response, OpenAIError>) -> bool {
        match result {
            Ok(response) => {
                let status = response.status();
                status.as_u16() == 429
                    || (status.is_server_error() && self.kind == Retry::Transient)
            }
            Err(OpenAIError::Reqwest(error)) => {
                error.is_connect()
                    || (self.kind == Retry::Transient
                        && (error.is_timeout() || error.is_request() || error.is_body()))
            }
            Err(_) => false,
        }
    }
}

impl Policy<HttpRequestFactory, reqwest::Response, OpenAIError> for RetryPolicy {
    type Future = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

    fn retry(
        &mut self,
        _request: &mut HttpRequestFactory,
        result: &mut Result<reqwest::Response, OpenAIError>,
    ) -> Option<Self::Future> {
        if self.attempts >= self.settings.max_attempts || !self.should_retry(result) {
            return None;
        }
        self.attempts += 1;
        let retry_after = result
            .as_ref()
            .ok()
            .and_then(|response| response.headers().get(reqwest::header::RETRY_AFTER))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(|seconds| Duration::from_secs(seconds).min(self.settings.max_retry_after));
        if self.settings.no_delay {
            return Some(Box::pin(std::future::ready(())));
        }
        match retry_after {
            Some(delay) => Some(Box::pin(tokio::time::sleep(delay))),
            None => Some(Box::pin(self.backoff.next_backoff())),
        }
    }

    fn clone_request(&mut self, request: &HttpRequestFactory) -> Option<HttpRequestFactory> {
        Some(request.clone())
    }
}

/// The HTTP stack every call goes through: reqwest under our retry policy.
fn retrying(
    settings: &ApiSettings,
    http: &reqwest::Client,
    kind: Retry,
) -> tower::retry::Retry<RetryPolicy, ReqwestService> {
    tower::ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::new(settings.retry, kind)))
        .service(ReqwestService::new(http.clone()))
}

fn client(settings: &ApiSettings, http: &reqwest::Client, kind: Retry) -> Client<OpenAIConfig> {
    Client::with_config(settings.config.clone()).with_http_service(retrying(settings, http, kind))
}

/// The API's error message from an error body, or the body's start.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect())
}

/// The multipart body of a file upload. Ours rather than async-openai's so the file
/// part carries a `Content-Type` (as openai-python sends it; some multipart parsers
/// need one) and a retry re-sends the same bytes without copying them.
#[derive(Clone)]
struct UploadForm {
    filename: String,
    bytes: bytes::Bytes,
}

impl AsyncTryFrom<UploadForm> for reqwest::multipart::Form {
    type Error = OpenAIError;

    async fn try_from(form: UploadForm) -> Result<reqwest::multipart::Form, OpenAIError> {
        let part = reqwest::multipart::Part::stream(reqwest::Body::from(form.bytes))
            .file_name(form.filename)
            .mime_str("application/octet-stream")
            .map_err(OpenAIError::Reqwest)?;
        Ok(reqwest::multipart::Form::new()
            .text("purpose", "batch")
            .part("file", part))
    }
}

/// The HTTP implementation of [`BatchApi`].
pub struct HttpBatchApi {
    settings: ApiSettings,
    http: reqwest::Client,
    client: Client<OpenAIConfig>,
    create_client: Client<OpenAIConfig>,
}

impl HttpBatchApi {
    pub fn new(settings: ApiSettings) -> Result<HttpBatchApi, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|error| ApiError::Transport {
                call: "building the HTTP client".into(),
                message: error.to_string(),
                ambiguous: false,
            })?;
        Ok(HttpBatchApi {
            client: client(&settings, &http, Retry::Transient),
            create_client: client(&settings, &http, Retry::ProvablyNotApplied),
            settings,
            http,
        })
    }
}

/// Turns a client error into ours, keeping the status and the API's message.
fn api_error(call: &str, error: OpenAIError) -> ApiError {
    match error {
        OpenAIError::ApiError(response) => ApiError::Status {
            call: call.into(),
            status: response.status_code.as_u16(),
            message: response.api_error.message.clone(),
            code: response.api_error.code.clone(),
        },
        OpenAIError::Reqwest(error) => ApiError::Transport {
            call: call.into(),
            ambiguous: !error.is_connect(),
            message: error_chain(&error),
        },
        OpenAIError::JSONDeserialize(error, content) => ApiError::Decode {
            call: call.into(),
            message: format!("{error}: {}", content.chars().take(300).collect::<String>()),
        },
        other => ApiError::Transport {
            call: call.into(),
            message: other.to_string(),
            ambiguous: true,
        },
    }
}

/// An error with its sources, as one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn decode<T>(call: &str, what: &str, value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::Decode {
        call: call.into(),
        message: format!("missing or malformed `{what}`"),
    })
}

/// Reads a batch object. Unknown statuses are errors carrying the raw value.
pub fn batch_from_json(call: &str, value: &Value) -> Result<BatchInfo, ApiError> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let time = |key: &str| value.get(key).and_then(Value::as_u64);
    let id = decode(call, "id", text("id"))?;
    let raw_status = decode(call, "status", text("status"))?;
    let status = BatchStatus::parse(&raw_status).ok_or_else(|| ApiError::UnknownStatus {
        batch_id: id.clone(),
        raw: raw_status.clone(),
    })?;
    let counts = value.get("request_counts");
    let count = |key: &str| {
        counts
            .and_then(|c| c.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let errors = value
        .get("errors")
        .and_then(|e| e.get("data"))
        .and_then(Value::as_array)
        .map(|data| {
            data.iter()
                .filter_map(|item| serde_json::from_value(item.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let metadata = value
        .get("metadata")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(BatchInfo {
        id,
        status,
        input_file_id: text("input_file_id").unwrap_or_default(),
        output_file_id: text("output_file_id"),
        error_file_id: text("error_file_id"),
        request_counts: RequestCounts {
            total: count("total"),
            completed: count("completed"),
            failed: count("failed"),
        },
        errors,
        metadata,
        created_at: time("created_at").unwrap_or(0),
        in_progress_at: time("in_progress_at"),
        finalizing_at: time("finalizing_at"),
        completed_at: time("completed_at"),
        failed_at: time("failed_at"),
        expired_at: time("expired_at"),
        cancelling_at: time("cancelling_at"),
        cancelled_at: time("cancelled_at"),
    })
}

fn file_from_json(call: &str, value: &Value) -> Result<FileInfo, ApiError> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(FileInfo {
        id: decode(call, "id", text("id"))?,
        bytes: value.get("bytes").and_then(Value::as_u64),
        filename: text("filename").unwrap_or_default(),
        purpose: text("purpose").unwrap_or_default(),
        created_at: value.get("created_at").and_then(Value::as_u64).unwrap_or(0),
    })
}

impl BatchApi for HttpBatchApi {
    async fn upload_file(&self, path: &Path, filename: &str) -> Result<FileInfo, ApiError> {
        let call = "uploading a request file";
        let bytes = tokio::fs::read(path).await.map_err(|source| ApiError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let request = UploadForm {
            filename: filename.to_string(),
            bytes: bytes::Bytes::from(bytes),
        };
        let value: Value = self
            .client
            .files()
            .create_byot(request)
            .await
            .map_err(|e| api_error(call, e))?;
        file_from_json(call, &value)
    }

    async fn list_batch_files(&self) -> Result<Vec<FileInfo>, ApiError> {
        let call = "listing files";
        let mut files = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![
                ("purpose", "batch".to_string()),
                ("limit", "10000".to_string()),
            ];
            if let Some(after) = &after {
                query.push(("after", after.clone()));
            }
            let value: Value = self
                .client
                .files()
                .query(&query)
                .map_err(|e| api_error(call, e))?
                .list_byot()
                .await
                .map_err(|e| api_error(call, e))?;
            let data = value
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for item in &data {
                files.push(file_from_json(call, item)?);
            }
            let has_more = value
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match (has_more, files.last()) {
                (true, Some(last)) => after = Some(last.id.clone()),
                _ => return Ok(files),
            }
        }
    }

    async fn create_batch(
        &self,
        input_file_id: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<BatchInfo, ApiError> {
        let call = "creating a batch";
        // Our own body: async-openai's `BatchRequest` would send
        // `"output_expires_after": null`, which the API's schema does not allow.
        let request = serde_json::json!({
            "input_file_id": input_file_id,
            "endpoint": crate::plan::CHAT_COMPLETIONS_URL,
            "completion_window": "24h",
            "metadata": metadata,
        });
        let value: Value = self
            .create_client
            .batches()
            .create_byot(request)
            .await
            .map_err(|e| api_error(call, e))?;
        batch_from_json(call, &value)
    }

    async fn retrieve_batch(&self, batch_id: &str) -> Result<BatchInfo, ApiError> {
        let call = format!("retrieving batch `{batch_id}`");
        let value: Value = self
            .client
            .batches()
            .retrieve_byot(batch_id)
            .await
            .map_err(|e| api_error(&call, e))?;
        batch_from_json(&call, &value)
    }

    async fn list_batches(&self, after: Option<&str>, limit: u32) -> Result<BatchPage, ApiError> {
        let call = "listing batches";
        let mut query = vec![("limit", limit.to_string())];
        if let Some(after) = after {
            query.push(("after", after.to_string()));
        }
        let value: Value = self
            .client
            .batches()
            .query(&query)
            .map_err(|e| api_error(call, e))?
            .list_byot()
            .await
            .map_err(|e| api_error(call, e))?;
        let batches = value
            .get("data")
            .and_then(Value::as_array)
            .map(|data| {
                data.iter()
                    .map(|item| batch_from_json(call, item))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(BatchPage {
            batches,
            has_more: value
                .get("has_more")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    async fn cancel_batch(&self, batch_id: &str) -> Result<BatchInfo, ApiError> {
        // By hand, through the same retry stack: async-openai's `cancel` posts a `{}` body,
        // and the endpoint takes none (the contract test caught it).
        let call = format!("cancelling batch `{batch_id}`");
        let url = self
            .settings
            .config
            .url(&format!("/batches/{batch_id}/cancel"));
        let headers = self.settings.config.headers();
        let http = self.http.clone();
        let factory = HttpRequestFactory::new(move || {
            let request = http.post(url.clone()).headers(headers.clone()).build();
            async move { request.map_err(OpenAIError::Reqwest) }
        });
        let response = tower::ServiceExt::oneshot(
            retrying(&self.settings, &self.http, Retry::Transient),
            factory,
        )
        .await
        .map_err(|e| api_error(&call, e))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| api_error(&call, OpenAIError::Reqwest(e)))?;
        if !status.is_success() {
            return Err(ApiError::Status {
                call,
                status: status.as_u16(),
                message: error_message(&body),
                code: None,
            });
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| ApiError::Decode {
            call: call.clone(),
            message: e.to_string(),
        })?;
        batch_from_json(&call, &value)
    }

    async fn download_file(&self, file_id: &str, destination: &Path) -> Result<u64, ApiError> {
        let call = format!("downloading file `{file_id}`");
        let mut attempt = 1;
        let mut backoff = RetryPolicy::new(self.settings.retry, Retry::Transient).backoff;
        loop {
            match self.download_once(file_id, destination, &call).await {
                Err(error) if error.transient() && attempt < self.settings.retry.max_attempts => {
                    attempt += 1;
                    if !self.settings.retry.no_delay {
                        backoff.next_backoff().await;
                    }
                }
                result => return result,
            }
        }
    }
}

impl HttpBatchApi {
    /// One streamed download into a temp file beside `destination`, renamed into place
    /// only when the whole body has arrived.
    async fn download_once(
        &self,
        file_id: &str,
        destination: &Path,
        call: &str,
    ) -> Result<u64, ApiError> {
        let io = |source: std::io::Error| ApiError::Io {
            path: destination.to_path_buf(),
            source,
        };
        let url = self
            .settings
            .config
            .url(&format!("/files/{file_id}/content"));
        let mut response = self
            .http
            .get(url)
            .headers(self.settings.config.headers())
            .send()
            .await
            .map_err(|error| ApiError::Transport {
                call: call.into(),
                ambiguous: false,
                message: error_chain(&error),
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| body.chars().take(300).collect());
            return Err(ApiError::Status {
                call: call.into(),
                status: status.as_u16(),
                message,
                code: None,
            });
        }
        // Read before the body: once consumed, the size hint is what is left (0).
        let expected_length = response.content_length();
        let parent = destination.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
        let temp = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(parent)
            .map_err(io)?;
        let (std_file, temp_path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut written = 0u64;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    file.write_all(&chunk).await.map_err(io)?;
                    written += chunk.len() as u64;
                }
                Ok(None) => break,
                Err(error) => {
                    return Err(ApiError::Transport {
                        call: call.into(),
                        ambiguous: false,
                        message: format!(
                            "the download broke off after {written} bytes: {}",
                            error_chain(&error)
                        ),
                    })
                }
            }
        }
        if let Some(expected) = expected_length {
            if expected != written {
                return Err(ApiError::Transport {
                    call: call.into(),
                    ambiguous: false,
                    message: format!("got {written} of {expected} bytes"),
                });
            }
        }
        file.flush().await.map_err(io)?;
        file.sync_all().await.map_err(io)?;
        drop(file);
        temp_path.persist(destination).map_err(|e| io(e.error))?;
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_json(status: &str) -> Value {
        serde_json::json!({
            "id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
            "errors": null, "input_file_id": "file-1", "completion_window": "24h",
            "status": status, "output_file_id": null, "error_file_id": null,
            "created_at": 1_700_000_000u64, "in_progress_at": null, "expires_at": 1_700_086_400u64,
            "finalizing_at": null, "completed_at": null, "failed_at": null, "expired_at": null,
            "cancelling_at": null, "cancelled_at": null,
            "request_counts": {"total": 3, "completed": 1, "failed": 1},
            "metadata": {"safesft_run": "r", "other": 5}
        })
    }

    #[test]
    fn every_real_status_reads_and_an_unknown_one_is_an_error_with_its_value() {
        for status in BatchStatus::ALL {
            let batch = batch_from_json("test", &batch_json(status.as_str())).unwrap();
            assert_eq!(batch.status, status);
        }
        let error = batch_from_json("test", &batch_json("paused")).unwrap_err();
        assert!(matches!(&error, ApiError::UnknownStatus { raw, .. } if raw == "paused"));
        assert!(error.to_string().contains("`paused`"));
    }

    #[test]
    fn nulls_and_counts_read_as_the_real_api_sends_them() {
        let batch = batch_from_json("test", &batch_json("in_progress")).unwrap();
        assert_eq!(batch.output_file_id, None);
        assert_eq!(batch.request_counts.failed, 1);
        assert_eq!(
            batch.metadata.get("safesft_run").map(String::as_str),
            Some("r")
        );
        assert!(
            !batch.metadata.contains_key("other"),
            "non-string metadata is ignored"
        );
        let mut failed = batch_json("failed");
        failed["errors"] = serde_json::json!({"object": "list", "data": [{"code": "token_limit_exceeded", "message": "Enqueued token limit reached", "param": null, "line": null}]});
        let batch = batch_from_json("test", &failed).unwrap();
        assert_eq!(
            batch.errors[0].code.as_deref(),
            Some("token_limit_exceeded")
        );
    }

    #[test]
    fn settings_never_show_the_key() {
        let settings = ApiSettings {
            config: OpenAIConfig::new().with_api_key("sk-secret-123"),
            base_url: DEFAULT_BASE_URL.into(),
            retry: RetrySettings::from_env(),
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(!format!("{:?}", settings.config).contains("sk-secret-123"));
    }

    #[test]
    fn error_classes_decide_what_is_retried_and_looked_up() {
        let status = |status| ApiError::Status {
            call: "x".into(),
            status,
            message: String::new(),
            code: None,
        };
        assert!(status(429).transient() && !status(429).maybe_applied());
        assert!(status(503).transient() && status(503).maybe_applied());
        assert!(!status(400).transient() && !status(400).maybe_applied());
        let dropped = ApiError::Transport {
            call: "x".into(),
            message: String::new(),
            ambiguous: true,
        };
        assert!(dropped.transient() && dropped.maybe_applied());
    }
}
