//! A run folder (`batches/<run>/`) opened for work (its manifest, held under the run's
//! lock and saved after every change) or to look at, and the check that its files are
//! the ones planned.

use std::path::{Path, PathBuf};

use super::fs::{remove_stale, sha256_file, TEMP_PREFIX};
use super::manifest::{FileRecord, Manifest, ShardRecord, MANIFEST_FILE};
use super::{RunLock, StoreError};

/// Checks a run name is a plain folder name.
pub fn validate_run_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadRunName { name: name.into() })
    }
}

/// A run folder with its manifest, locked for this process while it lives (or opened
/// to read only, without the lock: see [`RunDir::open_to_read`]).
pub struct RunDir {
    pub path: PathBuf,
    pub manifest: Manifest,
    lock: Option<RunLock>,
}

impl RunDir {
    /// Opens a planned run folder: takes its lock, then reads its manifest.
    pub fn open(path: &Path) -> Result<RunDir, StoreError> {
        check_planned(path)?;
        let lock = RunLock::acquire(path)?;
        // Under the lock: a manifest temp file is a killed process's leftover.
        remove_stale(path, &[TEMP_PREFIX])?;
        let manifest = Manifest::load(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            manifest,
            lock: Some(lock),
        })
    }

    /// Opens a planned run folder to look at it: with its lock when it is free, else
    /// (another process works on the run, or the folder is read-only) without it, and
    /// then [`RunDir::save`] refuses to write.
    pub fn open_to_read(path: &Path) -> Result<RunDir, StoreError> {
        check_planned(path)?;
        let lock = RunLock::acquire(path).ok();
        let manifest = Manifest::load(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            manifest,
            lock,
        })
    }

    /// True when this process holds the run's lock (and may write the manifest).
    pub fn locked(&self) -> bool {
        self.lock.is_some()
    }

    /// Writes the manifest back, atomically; refused when opened without the lock.
    pub fn save(&self) -> Result<(), StoreError> {
        if self.lock.is_none() {
            return Err(StoreError::NotLocked {
                dir: self.path.clone(),
            });
        }
        self.manifest.save(&self.path)
    }

    pub fn shard(&self, index: usize) -> &ShardRecord {
        &self.manifest.shards[index]
    }

    pub fn shard_mut(&mut self, index: usize) -> &mut ShardRecord {
        &mut self.manifest.shards[index]
    }

    /// Checks every file of the plan is still the one recorded (sha256): the pairs, the
    /// request index and every shard.
    pub fn verify_plan_files(&self) -> Result<(), StoreError> {
        let manifest = &self.manifest;
        for record in [&manifest.pairs_file, &manifest.request_index]
            .into_iter()
            .chain(manifest.shards.iter().map(|s| &s.file))
        {
            verify_file(&self.path, record)?;
        }
        Ok(())
    }
}

/// Checks a file of the run against its record (sha256).
fn verify_file(run_dir: &Path, record: &FileRecord) -> Result<(), StoreError> {
    let path = run_dir.join(&record.path);
    let sha256 = sha256_file(&path)?;
    if sha256 != record.sha256 {
        return Err(StoreError::Changed {
            path,
            found: sha256[..12].to_string(),
            expected: record.sha256[..12.min(record.sha256.len())].to_string(),
        });
    }
    Ok(())
}

/// A folder without a manifest is no planned run: say how to plan it.
fn check_planned(path: &Path) -> Result<(), StoreError> {
    if !path.join(MANIFEST_FILE).exists() {
        return Err(StoreError::NotPlanned {
            dir: path.to_path_buf(),
            name: path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_are_plain_folder_names() {
        assert!(validate_run_name("medec-val_gpt-4o.1").is_ok());
        for bad in ["", "../x", ".hidden", "a/b", "a b"] {
            assert!(validate_run_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_folder_without_a_manifest_says_how_to_plan_it() {
        let dir = tempfile::tempdir().unwrap();
        let error = RunDir::open(&dir.path().join("val-4o"))
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("holds no planned run"), "{error}");
        assert!(error.contains("safesft plan --run val-4o"), "{error}");
    }
}
