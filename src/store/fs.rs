//! Files written whole or not at all (temp file, fsync, rename, folder fsync), sha256 of
//! bytes and files, a hashing writer, and JSON-lines reading and writing.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StoreError;

/// Temp files of [`AtomicFile`]: `.tmp-<pid>-…`.
pub const TEMP_PREFIX: &str = ".tmp-";
/// Staging folders of a plan being written: `.plan-<pid>-…`.
pub const STAGING_PREFIX: &str = ".plan-";
/// A replaced plan set aside until the new one is in place: `.replaced-<pid>-<run>`.
pub const REPLACED_PREFIX: &str = ".replaced-";

/// True unless the process `pid` is known to be gone (known on Linux; elsewhere every
/// process is taken as alive, so nothing of it is removed).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Removes what processes that are gone left in `folder`: entries named
/// `<prefix><pid>-…` for one of `prefixes`, whose process no longer runs. Entries of
/// live processes, and names without a pid, are left alone.
pub fn remove_stale(folder: &Path, prefixes: &[&str]) -> Result<usize, StoreError> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(pid) = prefixes.iter().find_map(|prefix| {
            let rest = name.strip_prefix(prefix)?;
            rest.split_once('-')?.0.parse::<u32>().ok()
        }) else {
            continue;
        };
        if process_alive(pid) {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match gone {
            Ok(()) => removed += 1,
            // Another process cleaning up at the same time got there first.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(StoreError::remove(&path)(error)),
        }
    }
    Ok(removed)
}

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

/// A file written whole or not at all: written into a temp file in the same folder,
/// which [`AtomicFile::commit`] syncs and renames into place (then syncs the folder).
/// Dropped without a commit, the temp file is removed and the target left as it was.
pub struct AtomicFile {
    path: PathBuf,
    writer: BufWriter<tempfile::NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path` (its folder is created when missing).
    pub fn create(path: &Path) -> Result<AtomicFile, StoreError> {
        let parent = parent_of(path);
        std::fs::create_dir_all(parent).map_err(StoreError::create_dir(parent))?;
        let mut builder = tempfile::Builder::new();
        let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Readable like any file the user writes; the default temp mode is 0600.
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let temp = builder
            .tempfile_in(parent)
            .map_err(StoreError::write(path))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            writer: BufWriter::with_capacity(1 << 16, temp),
        })
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.writer
            .write_all(bytes)
            .map_err(StoreError::write(&self.path))
    }

    /// The writer, for serialisers; its errors are the caller's to map (see [`Self::path`]).
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.writer
    }

    /// The file this becomes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the file into place, then syncs its folder.
    pub fn commit(self) -> Result<(), StoreError> {
        let path = self.path;
        let temp = self
            .writer
            .into_inner()
            .map_err(|error| StoreError::write(&path)(error.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(StoreError::write(&path))?;
        temp.persist(&path)
            .map_err(|error| StoreError::write(&path)(error.error))?;
        sync_dir(parent_of(&path))
    }
}

/// Writes a file whole or not at all: a temp file in the same folder, fsync, rename,
/// fsync of the folder.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let mut file = AtomicFile::create(path)?;
    write(file.writer()).map_err(StoreError::write(path))?;
    file.commit()
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
    let mut lines = LineReader::open(path)?;
    while let Some(line) = lines.next_line()? {
        each(line.number, line.text)?;
    }
    Ok(())
}

/// One non-blank line of a file: its 1-based number, where its text starts and the text
/// (without the line end).
pub struct Line<'a> {
    pub number: usize,
    pub offset: u64,
    pub text: &'a str,
}

/// Reads a text file line by line, keeping where each line starts, so a line can be
/// read again later with [`read_exact_at`]. Lines end at `\n` (a `\r` before it is
/// dropped too); blank lines are skipped; bytes that are not UTF-8 are a read error.
pub struct LineReader {
    path: PathBuf,
    reader: BufReader<File>,
    buffer: Vec<u8>,
    offset: u64,
    number: usize,
}

impl LineReader {
    pub fn open(path: &Path) -> Result<LineReader, StoreError> {
        let file = File::open(path).map_err(StoreError::read(path))?;
        Ok(LineReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 16, file),
            buffer: Vec::new(),
            offset: 0,
            number: 0,
        })
    }

    /// The next non-blank line, or `None` at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, StoreError> {
        let (start, end) = loop {
            self.buffer.clear();
            let read = self
                .reader
                .read_until(b'\n', &mut self.buffer)
                .map_err(StoreError::read(&self.path))?;
            if read == 0 {
                return Ok(None);
            }
            let start = self.offset;
            self.offset += read as u64;
            self.number += 1;
            let mut end = self.buffer.len();
            if self.buffer[..end].ends_with(b"\n") {
                end -= 1;
                if self.buffer[..end].ends_with(b"\r") {
                    end -= 1;
                }
            }
            let blank = std::str::from_utf8(&self.buffer[..end])
                .map_err(|_| {
                    StoreError::read(&self.path)(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "stream did not contain valid UTF-8",
                    ))
                })?
                .trim()
                .is_empty();
            if !blank {
                break (start, end);
            }
        };
        Ok(Some(Line {
            number: self.number,
            offset: start,
            text: std::str::from_utf8(&self.buffer[..end]).expect("checked in the loop"),
        }))
    }
}

/// Reads `len` bytes of `file` (opened from `path`) at `offset`, without moving any
/// shared cursor, so threads may read one file at once.
pub fn read_exact_at(
    file: &File,
    path: &Path,
    offset: u64,
    len: usize,
) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![0; len];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut bytes, offset)
            .map_err(StoreError::read(path))?;
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < len {
            match file.seek_read(&mut bytes[done..], offset + done as u64) {
                Ok(0) => {
                    return Err(StoreError::read(path)(
                        std::io::ErrorKind::UnexpectedEof.into(),
                    ))
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StoreError::read(path)(e)),
            }
        }
    }
    Ok(bytes)
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
    fn only_leftovers_of_processes_that_are_gone_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mine = format!(".tmp-{}-abc", std::process::id());
        // Above the kernel's pid limit (2^22): never a running process.
        let gone = ".tmp-4194399-abc";
        for name in [mine.as_str(), gone, ".tmp-nopid", "data.jsonl"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join(".plan-4194399-x")).unwrap();
        std::fs::write(dir.path().join(".plan-4194399-x/manifest.json"), "{}").unwrap();
        let removed = remove_stale(dir.path(), &[TEMP_PREFIX, STAGING_PREFIX]).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        if cfg!(target_os = "linux") {
            assert_eq!(removed, 2);
            assert_eq!(left, [mine.as_str(), ".tmp-nopid", "data.jsonl"]);
        } else {
            assert_eq!(removed, 0);
        }
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
