//! [`HttpBatchApi`]: the Files and Batches calls over reqwest, each through the one retry
//! loop, with downloads streamed to a temp file and renamed into place only when whole.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use reqwest::{RequestBuilder, Response, Url};
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;

use super::error::{error_chain, redact};
use super::retry::{retry_after, with_retry, Failure, RetryRule};
use super::wire::{
    decode, error_details, CreateBatchBody, WireBatch, WireDeleted, WireFile, WireList,
};
use super::{
    ApiError, ApiSettings, BatchApi, BatchInfo, BatchPage, FileInfo, CHAT_COMPLETIONS_ENDPOINT,
};

/// The HTTP implementation of [`BatchApi`].
#[derive(Debug)]
pub struct HttpBatchApi {
    settings: ApiSettings,
    http: reqwest::Client,
}

impl HttpBatchApi {
    /// A client for `settings`; every request carries the auth and organisation headers.
    pub fn new(settings: ApiSettings) -> Result<HttpBatchApi, ApiError> {
        let http = reqwest::Client::builder()
            .default_headers(settings.headers())
            .user_agent(concat!("safesft/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(300))
            .build()
            .map_err(|error| ApiError::Transport {
                call: "building the HTTP client".into(),
                message: error_chain(&error),
                ambiguous: false,
            })?;
        Ok(HttpBatchApi { settings, http })
    }

    /// `{base}/{segments…}`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.settings.base_url.clone();
        url.path_segments_mut()
            .expect("an http(s) URL always has a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    fn secret(&self) -> &str {
        self.settings.api_key.expose()
    }

    /// A transport failure as ours: a connection never made proves nothing was sent.
    fn transport(&self, call: &str, error: &reqwest::Error) -> ApiError {
        ApiError::Transport {
            call: call.into(),
            ambiguous: !error.is_connect(),
            message: redact(&error_chain(error), self.secret()),
        }
    }

    /// Sends once; a non-2xx answer is a [`Failure`] with the API's message and the
    /// wait it asked for.
    async fn send(&self, call: &str, request: RequestBuilder) -> Result<Response, Failure> {
        let response = request
            .send()
            .await
            .map_err(|error| self.transport(call, &error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let wait = retry_after(response.headers(), SystemTime::now());
        // The body of an error is only for the message: a broken one still is the status.
        let body = response.bytes().await.unwrap_or_default();
        let (message, code) = error_details(&body, self.secret());
        Err(Failure {
            error: ApiError::Status {
                call: call.into(),
                status: status.as_u16(),
                message,
                code,
            },
            retry_after: wait,
        })
    }

    /// One JSON call under `rule`: `request` builds each attempt afresh.
    async fn call<T: DeserializeOwned>(
        &self,
        call: &str,
        rule: RetryRule,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<T, ApiError> {
        with_retry(&self.settings.retry, rule, async || {
            let response = self.send(call, request()).await?;
            // A body that breaks off after a 200 may follow a change on the server.
            let body = response
                .bytes()
                .await
                .map_err(|error| ApiError::Transport {
                    call: call.into(),
                    ambiguous: true,
                    message: redact(&error_chain(&error), self.secret()),
                })?;
            Ok(decode(call, &body, self.secret())?)
        })
        .await
    }

    /// One streamed download into a temp file beside `destination`, renamed into place
    /// only when the whole body (as long as `Content-Length` said) has arrived.
    async fn download_once(
        &self,
        call: &str,
        url: &Url,
        destination: &Path,
    ) -> Result<u64, Failure> {
        let io = |source: std::io::Error| ApiError::Io {
            action: "write",
            path: destination.to_path_buf(),
            source,
        };
        let mut response = self.send(call, self.http.get(url.clone())).await?;
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
                    let cause = redact(&error_chain(&error), self.secret());
                    return Err(ApiError::Transport {
                        call: call.into(),
                        ambiguous: false,
                        message: format!("the download broke off after {written} bytes: {cause}"),
                    }
                    .into());
                }
            }
        }
        if let Some(expected) = expected_length.filter(|expected| *expected != written) {
            return Err(ApiError::Transport {
                call: call.into(),
                ambiguous: false,
                message: format!("got {written} of {expected} bytes"),
            }
            .into());
        }
        file.flush().await.map_err(io)?;
        file.sync_all().await.map_err(io)?;
        drop(file);
        temp_path.persist(destination).map_err(|e| io(e.error))?;
        Ok(written)
    }
}

impl BatchApi for HttpBatchApi {
    async fn upload_file(&self, path: &Path, filename: &str) -> Result<FileInfo, ApiError> {
        let call = "uploading a request file";
        let bytes =
            bytes::Bytes::from(tokio::fs::read(path).await.map_err(|source| ApiError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            })?);
        let url = self.url(&["files"]);
        // A lost answer may hide a finished upload: the caller looks it up by name and
        // size before sending it again, so only provably failed attempts retry here.
        let file: WireFile = self
            .call(call, RetryRule::ProvablyNotApplied, || {
                // `Bytes` clones share the buffer: a retry re-sends without copying.
                let part = reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::from(bytes.clone()),
                    bytes.len() as u64,
                )
                .file_name(filename.to_string())
                .mime_str("application/jsonl")
                .expect("a valid MIME type");
                let form = reqwest::multipart::Form::new()
                    .text("purpose", "batch")
                    .part("file", part);
                self.http.post(url.clone()).multipart(form)
            })
            .await?;
        Ok(file.into())
    }

    async fn delete_file(&self, file_id: &str) -> Result<(), ApiError> {
        let call = format!("deleting file `{file_id}`");
        let url = self.url(&["files", file_id]);
        let deleted: Result<WireDeleted, ApiError> = self
            .call(&call, RetryRule::Transient, || {
                self.http.delete(url.clone())
            })
            .await;
        match deleted {
            Ok(_) | Err(ApiError::Status { status: 404, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn list_batch_files(&self) -> Result<Vec<FileInfo>, ApiError> {
        let call = "listing files";
        let mut files: Vec<FileInfo> = Vec::new();
        loop {
            let mut url = self.url(&["files"]);
            url.query_pairs_mut()
                .append_pair("purpose", "batch")
                .append_pair("limit", "10000");
            if let Some(last) = files.last() {
                url.query_pairs_mut().append_pair("after", &last.id);
            }
            let page: WireList<WireFile> = self
                .call(call, RetryRule::Transient, || self.http.get(url.clone()))
                .await?;
            let got_any = !page.data.is_empty();
            files.extend(page.data.into_iter().map(FileInfo::from));
            if !(page.has_more && got_any) {
                return Ok(files);
            }
        }
    }

    async fn create_batch(
        &self,
        input_file_id: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<BatchInfo, ApiError> {
        let call = "creating a batch";
        let body = CreateBatchBody {
            input_file_id,
            endpoint: CHAT_COMPLETIONS_ENDPOINT,
            completion_window: "24h",
            metadata,
        };
        let url = self.url(&["batches"]);
        let batch: WireBatch = self
            .call(call, RetryRule::ProvablyNotApplied, || {
                self.http.post(url.clone()).json(&body)
            })
            .await?;
        batch.into_info()
    }

    async fn retrieve_batch(&self, batch_id: &str) -> Result<BatchInfo, ApiError> {
        let call = format!("retrieving batch `{batch_id}`");
        let url = self.url(&["batches", batch_id]);
        let batch: WireBatch = self
            .call(&call, RetryRule::Transient, || self.http.get(url.clone()))
            .await?;
        batch.into_info()
    }

    async fn list_batches(&self, after: Option<&str>, limit: u32) -> Result<BatchPage, ApiError> {
        let call = "listing batches";
        let mut url = self.url(&["batches"]);
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        if let Some(after) = after {
            url.query_pairs_mut().append_pair("after", after);
        }
        let page: WireList<WireBatch> = self
            .call(call, RetryRule::Transient, || self.http.get(url.clone()))
            .await?;
        Ok(BatchPage {
            batches: page
                .data
                .into_iter()
                .map(WireBatch::into_info)
                .collect::<Result<_, _>>()?,
            has_more: page.has_more,
        })
    }

    async fn cancel_batch(&self, batch_id: &str) -> Result<BatchInfo, ApiError> {
        // No body at all: the endpoint takes none (the contract test caught a `{}`).
        let call = format!("cancelling batch `{batch_id}`");
        let url = self.url(&["batches", batch_id, "cancel"]);
        let batch: WireBatch = self
            .call(&call, RetryRule::Transient, || self.http.post(url.clone()))
            .await?;
        batch.into_info()
    }

    async fn download_file(&self, file_id: &str, destination: &Path) -> Result<u64, ApiError> {
        let call = format!("downloading file `{file_id}`");
        let url = self.url(&["files", file_id, "content"]);
        with_retry(&self.settings.retry, RetryRule::Transient, async || {
            self.download_once(&call, &url, destination).await
        })
        .await
    }
}

#[cfg(test)]
mod tests;
