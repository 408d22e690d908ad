//! Downloads of a finished shard's output and error files, the check that their lines
//! add up to what the batch counted and the shard planned, and the check that files
//! downloaded earlier are still the ones recorded (fetched again when not).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{BatchError, Event, Observer, OUTPUTS_DIR};
use crate::api::{BatchApi, BatchInfo, BatchStatus};
use crate::store::{FileRecord, LineCheck, RunDir, StoreError};

/// The non-blank lines and sha256 of a downloaded file, in one read.
fn count_and_hash(path: &Path) -> Result<(u64, String), StoreError> {
    use sha2::{Digest, Sha256};
    let file = File::open(path).map_err(StoreError::read(path))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut hasher = Sha256::new();
    let mut lines = 0u64;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(StoreError::read(path))?;
        if read == 0 {
            return Ok((lines, format!("{:x}", hasher.finalize())));
        }
        hasher.update(&buffer);
        if buffer.iter().any(|b| !b.is_ascii_whitespace()) {
            lines += 1;
        }
    }
}

/// Downloads a finished shard's output and error files and checks their lines against
/// the batch's request counts.
pub(crate) async fn download_results<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    index: usize,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    let batch = run
        .shard(index)
        .remote
        .batch
        .clone()
        .expect("only a shard with a finished batch is downloaded");
    remove_stale_downloads(&run.path.join(OUTPUTS_DIR))?;
    let mut lines = [0u64; 2];
    for (slot, (file_id, suffix)) in [
        (batch.output_file_id.clone(), "output"),
        (batch.error_file_id.clone(), "errors"),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(file_id) = file_id else { continue };
        let relative = format!("{OUTPUTS_DIR}/shard-{index:03}.{suffix}.jsonl");
        let path = run.path.join(&relative);
        let bytes = api.download_file(&file_id, &path).await?;
        let (count, sha256) = count_and_hash(&path)?;
        lines[slot] = count;
        let record = FileRecord {
            sha256,
            path: relative.clone(),
            bytes,
        };
        let remote = &mut run.shard_mut(index).remote;
        if slot == 0 {
            remote.output = Some(record);
        } else {
            remote.errors = Some(record);
        }
        run.save()?;
        observer.event(&Event::Downloaded {
            shard: index,
            path: relative,
            bytes,
        });
    }
    let check = line_check(&batch, run.shard(index).requests, lines[0], lines[1]);
    run.shard_mut(index).remote.line_check = Some(check);
    run.save()?;
    Ok(())
}

/// Why a downloaded file is no longer the one recorded, if it is not.
fn damage(run: &RunDir, record: &FileRecord) -> Result<Option<String>, StoreError> {
    let path = run.path.join(&record.path);
    let Ok(metadata) = std::fs::metadata(&path) else {
        return Ok(Some(format!("`{}` is missing", record.path)));
    };
    if metadata.len() != record.bytes {
        return Ok(Some(format!(
            "`{}` has {} bytes, {} were downloaded",
            record.path,
            metadata.len(),
            record.bytes
        )));
    }
    let (_, sha256) = count_and_hash(&path)?;
    if sha256 != record.sha256 {
        return Ok(Some(format!(
            "`{}` changed since it was downloaded (sha256 {} ≠ {})",
            record.path,
            &sha256[..12],
            &record.sha256[..12.min(record.sha256.len())]
        )));
    }
    Ok(None)
}

/// Shards whose downloaded output or error file is missing or is not the one recorded
/// (size and sha256), each with why.
pub fn damaged_downloads(run: &RunDir) -> Result<Vec<(usize, String)>, StoreError> {
    let mut damaged = Vec::new();
    for shard in &run.manifest.shards {
        if shard.remote.line_check.is_none() {
            continue;
        }
        let batch = shard.remote.batch.as_ref();
        for (record, file_id) in [
            (
                &shard.remote.output,
                batch.and_then(|b| b.output_file_id.as_ref()),
            ),
            (
                &shard.remote.errors,
                batch.and_then(|b| b.error_file_id.as_ref()),
            ),
        ] {
            let why = match record {
                Some(record) => damage(run, record)?,
                None if file_id.is_some() => Some("a result file was never recorded".into()),
                None => None,
            };
            if let Some(why) = why {
                damaged.push((shard.index, why));
                break;
            }
        }
    }
    Ok(damaged)
}

/// Forgets the downloads of the damaged shards, so the next poll fetches them again from
/// their file ids; returns how many there were.
pub(crate) fn forget_damaged(
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<usize, BatchError> {
    let damaged = damaged_downloads(run)?;
    for (index, why) in &damaged {
        let remote = &mut run.shard_mut(*index).remote;
        remote.output = None;
        remote.errors = None;
        remote.line_check = None;
        run.save()?;
        observer.event(&Event::Damaged {
            shard: *index,
            why: why.clone(),
        });
    }
    Ok(damaged.len())
}

/// Fetches again every downloaded file that is missing or not the one recorded; returns
/// how many shards were fetched again.
pub async fn repair_downloads<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<usize, BatchError> {
    let damaged = damaged_downloads(run)?;
    forget_damaged(run, observer)?;
    for (index, _) in &damaged {
        download_results(api, run, *index, observer).await?;
    }
    Ok(damaged.len())
}

/// Removes temp files of downloads a killed process left behind (we hold the run lock,
/// so no other process is writing them).
fn remove_stale_downloads(outputs: &Path) -> Result<(), StoreError> {
    let Ok(entries) = std::fs::read_dir(outputs) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".download-")
        {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(StoreError::remove(&path))?;
        }
    }
    Ok(())
}

/// Compares downloaded lines with what the batch counted and what was planned.
pub fn line_check(
    batch: &BatchInfo,
    planned: u64,
    output_lines: u64,
    error_lines: u64,
) -> LineCheck {
    let counts = batch.request_counts;
    let mut problems = Vec::new();
    if batch.status == BatchStatus::Failed {
        problems.push(format!(
            "the batch failed before running: none of its {planned} requests ran"
        ));
    } else {
        if output_lines != counts.completed {
            problems.push(format!(
                "{output_lines} output lines for {} completed requests",
                counts.completed
            ));
        }
        if output_lines + error_lines != counts.total {
            problems.push(format!(
                "{output_lines} output + {error_lines} error lines for {} requests in the batch",
                counts.total
            ));
        }
        if counts.total != planned {
            problems.push(format!(
                "the batch counted {} requests, the shard holds {planned}",
                counts.total
            ));
        }
        if batch.status == BatchStatus::Completed && batch.output_file_id.is_none() {
            problems.push("completed without an output file: every request failed".into());
        }
    }
    LineCheck {
        output_lines,
        error_lines,
        counted_total: counts.total,
        counted_completed: counts.completed,
        counted_failed: counts.failed,
        planned_requests: planned,
        problems,
    }
}
