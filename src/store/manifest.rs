//! `batches/<run>/manifest.json` and `requests/index.jsonl`: what was planned (input,
//! prices, shards, estimate) and what happened to each shard at the API.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fs::write_json_atomic;
use super::StoreError;
use crate::api::BatchInfo;
use crate::medec::{ImportSummary, InputFormat};
pub use crate::money::PricingRecord;
use crate::money::Usd;
use crate::plan::{Encoding, Estimate, PlannedRequest, ShardLimits, Stage, VerifySettings};

/// The manifest's format version; bump it when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const PAIRS_FILE: &str = "pairs.jsonl";
pub const REQUESTS_DIR: &str = "requests";
pub const INDEX_FILE: &str = "requests/index.jsonl";

/// A file of the run, with its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Relative to the run folder for files of the run; as given for inputs.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The input the run was planned from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub sha256: String,
    pub format: InputFormat,
    pub pairs_available: u64,
    pub pairs_planned: u64,
    pub import: ImportSummary,
}

/// One request file of the run. `remote` is filled by `submit` and `wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub index: usize,
    pub file: FileRecord,
    pub model: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    /// Stage 1 (generation) or stage 2 (verification); absent, as in manifests made
    /// before stage 2 existed, it is stage 1.
    #[serde(default)]
    pub stage: Stage,
    #[serde(default)]
    pub remote: RemoteState,
}

/// What has happened to a shard at the API, each step written down before and after
/// its call so a crashed run resumes without doing anything twice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteState {
    /// Set before the upload: if no file id follows, the upload may have happened.
    pub upload_started_at: Option<u64>,
    pub input_file_id: Option<String>,
    /// Set before creating the batch: if no batch id follows, look it up by metadata.
    pub create_started_at: Option<u64>,
    pub batch_id: Option<String>,
    /// The batch as last seen.
    pub batch: Option<BatchInfo>,
    /// Cancelled before it was ever submitted: never submit it.
    #[serde(default)]
    pub withdrawn: bool,
    /// The output file, once downloaded whole.
    pub output: Option<FileRecord>,
    /// The error file, once downloaded whole.
    pub errors: Option<FileRecord>,
    /// Output and error lines against the batch's request counts.
    pub line_check: Option<LineCheck>,
}

impl RemoteState {
    /// Submitted and not yet finished.
    pub fn in_flight(&self) -> bool {
        self.batch_id.is_some() && !self.batch.as_ref().is_some_and(|b| b.status.is_terminal())
    }
}

/// Whether the downloaded files hold a line for every request the batch counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCheck {
    pub output_lines: u64,
    pub error_lines: u64,
    pub counted_total: u64,
    pub counted_completed: u64,
    pub counted_failed: u64,
    pub planned_requests: u64,
    /// Empty when every line is where the counts say.
    pub problems: Vec<String>,
}

/// `batches/<run>/manifest.json`: the single source of truth of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_field_names)] // `manifest_version` is the file format's field name
pub struct Manifest {
    pub manifest_version: u32,
    pub run: String,
    pub tool_version: String,
    pub planned_at: String,
    /// sha256 over the model, the pairs file and every shard: equal hashes, equal requests.
    pub plan_hash: String,
    /// sha256 over everything the plan was made from (input, prompt config, pricing
    /// table, model, settings, tool version): planning again with the same value changes
    /// nothing. Absent from manifests written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_inputs_sha256: Option<String>,
    pub input: InputRecord,
    pub pairs_file: FileRecord,
    pub prompt_config: FileRecord,
    pub pricing: PricingRecord,
    pub model: String,
    pub encoding: Encoding,
    pub reasoning: bool,
    /// The verify stage's settings (issue 9): `None` with `--no-verify` and in manifests
    /// made before stage 2 existed, which load unchanged (no version bump: every new
    /// field has a default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySettings>,
    pub limits: ShardLimits,
    /// When `cancel` stopped the run (Unix seconds): no verify stage is built after it,
    /// until a `retry` sends requests again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<u64>,
    pub budget_usd: Option<Usd>,
    /// Tokens added to each reasoning prompt for its structured-output schema.
    pub schema_allowance_tokens: u64,
    pub shards: Vec<ShardRecord>,
    /// One line per request: `custom_id`, kind, shard and token counts.
    pub request_index: FileRecord,
    pub requests: u64,
    pub estimate: Estimate,
}

impl Manifest {
    /// Reads `manifest.json` from a run folder; a manifest of another format version is
    /// an error that says which, before any field is trusted.
    pub fn load(run_dir: &Path) -> Result<Manifest, StoreError> {
        #[derive(Deserialize)]
        struct Version {
            manifest_version: u32,
            #[serde(default)]
            tool_version: String,
        }
        let path = run_dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(StoreError::read(&path))?;
        let bad = |source| StoreError::BadManifest {
            path: path.clone(),
            source,
        };
        let version: Version = serde_json::from_slice(&bytes).map_err(bad)?;
        if version.manifest_version != MANIFEST_VERSION {
            return Err(StoreError::ManifestVersion {
                path,
                found: version.manifest_version,
                expected: MANIFEST_VERSION,
                tool_version: version.tool_version,
            });
        }
        serde_json::from_slice(&bytes).map_err(bad)
    }

    /// True once any shard may have been sent to the API.
    pub fn submitted(&self) -> bool {
        self.shards.iter().any(|s| {
            s.remote.upload_started_at.is_some()
                || s.remote.input_file_id.is_some()
                || s.remote.batch_id.is_some()
        })
    }

    /// Writes the manifest back into its run folder, atomically.
    pub fn save(&self, run_dir: &Path) -> Result<(), StoreError> {
        write_json_atomic(&run_dir.join(MANIFEST_FILE), self)
    }
}

/// One line of `requests/index.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    #[serde(flatten)]
    pub request: PlannedRequest,
    pub shard: usize,
    /// A verify request: the attempt of the note's paraphrase it reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifies: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_of_another_version_is_refused_naming_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"manifest_version": 99, "tool_version": "9.9.9", "run": "r"}"#,
        )
        .unwrap();
        let error = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("manifest version 99"), "{error}");
        assert!(
            error.contains(&format!("reads version {MANIFEST_VERSION}")),
            "{error}"
        );
        assert!(error.contains("9.9.9"), "{error}");
        std::fs::write(dir.path().join(MANIFEST_FILE), "{").unwrap();
        assert!(matches!(
            Manifest::load(dir.path()),
            Err(StoreError::BadManifest { .. })
        ));
    }
}
