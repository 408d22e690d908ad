//! The errors of the store: which file, and what could not be done with it. The cause
//! (an I/O or JSON error) is the error's source, printed once by the command line.

use std::path::PathBuf;

/// A file or folder of a run could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or folder could not be read, written, created, moved or removed.
    #[error("cannot {action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move `{from}` to `{to}`")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {what}")]
    BadLine {
        path: PathBuf,
        line: usize,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("`{path}` is not a valid manifest")]
    BadManifest {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("`{path}` has manifest version {found}; this safesft reads version {expected}\nhint: use the safesft version that planned the run ({tool_version})")]
    ManifestVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
        tool_version: String,
    },
    #[error("`{dir}` holds no planned run\nhint: plan it first with `safesft plan --run {name}`")]
    NotPlanned { dir: PathBuf, name: String },
    #[error("run `{dir}` is in use by another safesft process\nhint: wait for it to finish, or stop it; its progress is kept")]
    Locked { dir: PathBuf },
    #[error("run `{dir}` was opened to read only (another process holds it, or the folder is read-only)\nhint: run the command again once nothing else works on the run, from an account that can write the folder")]
    NotLocked { dir: PathBuf },
    #[error("cannot lock `{path}`")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("run name `{name}` is not a plain folder name\nhint: use letters, digits, `-`, `_` and `.`, not starting with `.`")]
    BadRunName { name: String },
    #[error("`{path}` changed since it was planned (sha256 {found} ≠ {expected})\nhint: plan the run again with `--force` (before anything is submitted)")]
    Changed {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

impl StoreError {
    /// A `map_err` helper that names the file and what could not be done with it.
    fn io<'a>(
        action: &'static str,
        path: &'a std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
        move |source| StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn read(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        StoreError::io("read", path)
    }

    pub fn write(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        StoreError::io("write", path)
    }

    pub fn create_dir(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        StoreError::io("create folder", path)
    }

    pub fn remove(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        StoreError::io("remove", path)
    }

    pub fn rename<'a>(
        from: &'a std::path::Path,
        to: &'a std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
        move |source| StoreError::Rename {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
            source,
        }
    }
}
