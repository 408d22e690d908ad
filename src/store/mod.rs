//! What a run keeps on disk: the run folder and its manifest (the single source of truth),
//! atomic writes and checksums, JSONL lines, and the lock that keeps two processes apart.

mod error;
pub mod fs;
mod lock;
pub mod manifest;
mod run_dir;

pub use error::StoreError;
pub use lock::RunLock;
pub use manifest::{
    FileRecord, IndexEntry, InputRecord, LineCheck, Manifest, PricingRecord, RemoteState,
    ShardRecord,
};
pub use run_dir::{validate_run_name, RunDir};
