//! The lock file (`batches/<run>/.lock`) that keeps two safesft processes off one run.

use std::fs::File;
use std::path::Path;

use super::StoreError;

/// The lock file's name inside the run folder.
pub const LOCK_FILE: &str = ".lock";

/// Holds the run folder's lock for as long as it lives.
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Locks `run_dir` for this process, or says another process has it.
    pub fn acquire(run_dir: &Path) -> Result<RunLock, StoreError> {
        let path = run_dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Lock {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked {
                dir: run_dir.to_path_buf(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock { path, source }),
        }
    }
}
