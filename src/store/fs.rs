//! Files written whole or not at all (temp file, fsync, rename, folder fsync), sha256 of
//! bytes and files, a hashing writer, and JSON-lines reading and writing.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StoreError;

/// Lower-case hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, StoreError> {
    let mut file = File::open(path).map_err(StoreError::read(path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(StoreError::read(path))?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// The folder a path is in (`.` for a bare file name).
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Makes a rename inside `folder` durable: on Unix, fsync the folder itself.
pub(crate) fn sync_dir(folder: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(StoreError::write(folder))?;
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

/// Writes a file whole or not at all: a temp file in the same folder, fsync, rename,
/// fsync of the folder.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let parent = parent_of(path);
    std::fs::create_dir_all(parent).map_err(StoreError::create_dir(parent))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Readable like any file the user writes; the default temp mode is 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut temp = builder
        .tempfile_in(parent)
        .map_err(StoreError::write(path))?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        write(&mut writer)
            .and_then(|()| writer.flush())
            .map_err(StoreError::write(path))?;
    }
    temp.as_file().sync_all().map_err(StoreError::write(path))?;
    temp.persist(path)
        .map_err(|error| StoreError::write(path)(error.error))?;
    sync_dir(parent)
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    write_atomic(path, |writer| {
        serde_json::to_writer_pretty(&mut *writer, value)?;
        writer.write_all(b"\n")
    })
}

/// Writes records as JSON lines, atomically.
pub fn write_jsonl<T: Serialize>(path: &Path, records: &[T]) -> Result<(), StoreError> {
    write_atomic(path, |writer| {
        for record in records {
            serde_json::to_writer(&mut *writer, record)?;
            writer.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Reads every non-blank line of a JSON-lines file; a bad line is an error naming the
/// file, the line and `what` the line should have been.
pub fn read_jsonl<T: DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for_each_line(path, |number, line| {
        let value = serde_json::from_str(line).map_err(|source| StoreError::BadLine {
            path: path.to_path_buf(),
            line: number,
            what,
            source,
        })?;
        out.push(value);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `each` with the 1-based number and text of every non-blank line of a file.
pub fn for_each_line(
    path: &Path,
    mut each: impl FnMut(usize, &str) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let file = File::open(path).map_err(StoreError::read(path))?;
    for (number, line) in BufReader::with_capacity(1 << 16, file).lines().enumerate() {
        let line = line.map_err(StoreError::read(path))?;
        if !line.trim().is_empty() {
            each(number + 1, &line)?;
        }
    }
    Ok(())
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Flushes and returns the inner writer, the sha256 and the byte count.
    pub fn finish(mut self) -> std::io::Result<(W, String, u64)> {
        self.inner.flush()?;
        Ok((
            self.inner,
            format!("{:x}", self.hasher.finalize()),
            self.bytes,
        ))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, |w| w.write_all(b"first")).unwrap();
        let failed = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the temp file is removed");
    }

    #[test]
    fn hashing_writer_matches_sha256_of_the_bytes() {
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"hello ").unwrap();
        writer.write_all(b"world").unwrap();
        let (bytes, sha, count) = writer.finish().unwrap();
        assert_eq!(sha, sha256_hex(b"hello world"));
        assert_eq!(count, 11);
        assert_eq!(bytes, b"hello world");
    }

    #[test]
    fn a_bad_json_line_names_the_file_and_line_and_a_missing_file_says_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "{\"a\":1}\n\n{broken\n").unwrap();
        let error = read_jsonl::<serde_json::Value>(&path, "not a line").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("{}:3: not a line", path.display())
        );
        let missing = dir.path().join("missing.jsonl");
        let error = read_jsonl::<serde_json::Value>(&missing, "x").unwrap_err();
        let shown = error.to_string();
        assert!(shown.starts_with("cannot read `"), "{shown}");
        assert!(
            !shown.contains("os error"),
            "the cause is the source, not the text: {shown}"
        );
    }
}
