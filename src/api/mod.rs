//! The Batch API seam: the Files and Batches calls the lifecycle makes, as a trait, and
//! the object shapes we read back. One HTTP implementation ([`HttpBatchApi`], over
//! reqwest); tests script fakes.

mod client;
mod error;
mod retry;
mod settings;
mod wire;

pub use client::HttpBatchApi;
pub(crate) use error::scrub_credentials;
pub use error::ApiError;
pub use settings::ApiSettings;

/// The endpoint every batch is created on (the `url` of each request line must match).
pub const CHAT_COMPLETIONS_ENDPOINT: &str = "/v1/chat/completions";

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Every status the real API reports for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Validating,
    Failed,
    InProgress,
    Finalizing,
    Completed,
    Expired,
    Cancelling,
    Cancelled,
}

impl BatchStatus {
    pub const ALL: [BatchStatus; 8] = [
        BatchStatus::Validating,
        BatchStatus::Failed,
        BatchStatus::InProgress,
        BatchStatus::Finalizing,
        BatchStatus::Completed,
        BatchStatus::Expired,
        BatchStatus::Cancelling,
        BatchStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Validating => "validating",
            BatchStatus::Failed => "failed",
            BatchStatus::InProgress => "in_progress",
            BatchStatus::Finalizing => "finalizing",
            BatchStatus::Completed => "completed",
            BatchStatus::Expired => "expired",
            BatchStatus::Cancelling => "cancelling",
            BatchStatus::Cancelled => "cancelled",
        }
    }

    /// The raw status, or `None` for one the tool does not know (never a silent default).
    pub fn parse(raw: &str) -> Option<BatchStatus> {
        BatchStatus::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// No further change will come: results (if any) can be downloaded.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BatchStatus::Failed
                | BatchStatus::Completed
                | BatchStatus::Expired
                | BatchStatus::Cancelled
        )
    }
}

impl fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCounts {
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
}

/// One entry of a failed batch's `errors.data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchErrorItem {
    pub code: Option<String>,
    pub message: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub line: Option<u64>,
}

/// A batch object, as far as the lifecycle reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchInfo {
    pub id: String,
    pub status: BatchStatus,
    pub input_file_id: String,
    pub output_file_id: Option<String>,
    pub error_file_id: Option<String>,
    pub request_counts: RequestCounts,
    pub errors: Vec<BatchErrorItem>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: u64,
    pub in_progress_at: Option<u64>,
    pub finalizing_at: Option<u64>,
    pub completed_at: Option<u64>,
    pub failed_at: Option<u64>,
    pub expired_at: Option<u64>,
    pub cancelling_at: Option<u64>,
    pub cancelled_at: Option<u64>,
}

/// One page of `GET /batches`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPage {
    pub batches: Vec<BatchInfo>,
    pub has_more: bool,
}

/// A file object, as far as the lifecycle reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub id: String,
    pub bytes: Option<u64>,
    pub filename: String,
    pub purpose: String,
    pub created_at: u64,
}

/// The calls the lifecycle makes. Implemented over HTTP by [`HttpBatchApi`] and by
/// scripted fakes in tests.
pub trait BatchApi {
    /// Uploads a request file with `purpose=batch`. Not retried when the outcome is
    /// unknown: the caller looks the file up by its name and size first.
    fn upload_file(
        &self,
        path: &Path,
        filename: &str,
    ) -> impl Future<Output = Result<FileInfo, ApiError>>;
    /// Deletes a file (one of ours uploaded twice); a file already gone is no error.
    fn delete_file(&self, file_id: &str) -> impl Future<Output = Result<(), ApiError>>;
    /// Every file with `purpose=batch` (all pages).
    fn list_batch_files(&self) -> impl Future<Output = Result<Vec<FileInfo>, ApiError>>;
    /// Creates a batch on `/v1/chat/completions` with a 24 h window. Not retried when the
    /// outcome is unknown: the caller looks the batch up by its metadata first.
    fn create_batch(
        &self,
        input_file_id: &str,
        metadata: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<BatchInfo, ApiError>>;
    fn retrieve_batch(&self, batch_id: &str) -> impl Future<Output = Result<BatchInfo, ApiError>>;
    /// One page of batches, newest first.
    fn list_batches(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = Result<BatchPage, ApiError>>;
    fn cancel_batch(&self, batch_id: &str) -> impl Future<Output = Result<BatchInfo, ApiError>>;
    /// Streams a file's content to `destination` (written whole or not at all); returns
    /// the number of bytes.
    fn download_file(
        &self,
        file_id: &str,
        destination: &Path,
    ) -> impl Future<Output = Result<u64, ApiError>>;
}
