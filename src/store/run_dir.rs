//! A run folder (`batches/<run>/`) opened for work: its manifest, held under the run's
//! lock and saved after every change, and the check that its files are the ones planned.

use std::path::{Path, PathBuf};

use super::fs::sha256_file;
use super::manifest::{Manifest, ShardRecord, MANIFEST_FILE};
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

/// A run folder with its manifest, locked for this process while it lives.
pub struct RunDir {
    pub path: PathBuf,
    pub manifest: Manifest,
    _lock: RunLock,
}

impl RunDir {
    /// Opens a planned run folder: takes its lock, then reads its manifest.
    pub fn open(path: &Path) -> Result<RunDir, StoreError> {
        if !path.join(MANIFEST_FILE).exists() {
            return Err(StoreError::NotPlanned {
                dir: path.to_path_buf(),
                name: path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            });
        }
        let lock = RunLock::acquire(path)?;
        let manifest = Manifest::load(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            manifest,
            _lock: lock,
        })
    }

    /// Writes the manifest back, atomically.
    pub fn save(&self) -> Result<(), StoreError> {
        self.manifest.save(&self.path)
    }

    pub fn shard(&self, index: usize) -> &ShardRecord {
        &self.manifest.shards[index]
    }

    pub fn shard_mut(&mut self, index: usize) -> &mut ShardRecord {
        &mut self.manifest.shards[index]
    }

    /// Checks every shard file is still the one planned (sha256).
    pub fn verify_shard_files(&self) -> Result<(), StoreError> {
        for shard in &self.manifest.shards {
            let path = self.path.join(&shard.file.path);
            let sha256 = sha256_file(&path)?;
            if sha256 != shard.file.sha256 {
                return Err(StoreError::Changed {
                    path,
                    found: sha256[..12].to_string(),
                    expected: shard.file.sha256[..12].to_string(),
                });
            }
        }
        Ok(())
    }
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
