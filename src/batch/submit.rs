//! Submission: upload each pending shard (or reuse an upload a crash left behind) and
//! create its batch (or find the one a lost answer hid), under the enqueued-token limit.

use std::collections::BTreeMap;

use super::{
    unix_now, BatchError, Event, Observer, CREATE_ATTEMPTS, CREATE_LOOKBACK_SECONDS,
    LOOKUP_MAX_PAGES,
};
use crate::api::{ApiError, BatchApi, BatchInfo};
use crate::store::RunDir;

/// Submits every pending shard the enqueued-token limit of its model lets through now
/// (all of them without a limit). Shards already submitted are left alone; a shard interrupted
/// mid-submission resumes where it stopped.
pub async fn submit_ready<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    observer: &mut dyn Observer,
) -> Result<usize, BatchError> {
    let limit = run.manifest.limits.max_prompt_tokens;
    let mut submitted = 0;
    // Models whose queue is full: their later shards wait too (waves keep their order);
    // another model's shards (the verifier's) have a queue of their own.
    let mut full: Vec<String> = Vec::new();
    for index in run.pending() {
        let model = run.shard(index).model.clone();
        if full.contains(&model) {
            continue;
        }
        if let Some(limit) = limit {
            let in_flight = run.in_flight_tokens(&model);
            if in_flight > 0 && in_flight + run.shard(index).prompt_tokens > limit {
                observer.event(&Event::Deferred {
                    shard: index,
                    in_flight_tokens: in_flight,
                    limit,
                });
                full.push(model);
                continue;
            }
        }
        submit_shard(api, run, index, observer).await?;
        submitted += 1;
    }
    Ok(submitted)
}

/// Uploads (or reuses) one shard's file and creates (or finds) its batch.
pub(crate) async fn submit_shard<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    index: usize,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    let name = run.upload_name(index);
    let mut uncertain = run.shard(index).remote.upload_started_at.is_some();
    if run.shard(index).remote.input_file_id.is_none() {
        let reused = if run.shard(index).remote.upload_started_at.is_some() {
            find_upload(api, &name, run.shard(index).file.bytes).await?
        } else {
            None
        };
        let file_id = if let Some(file_id) = reused {
            observer.event(&Event::UploadReused {
                shard: index,
                file_id: file_id.clone(),
            });
            file_id
        } else {
            run.shard_mut(index).remote.upload_started_at = Some(unix_now());
            run.save()?;
            let (file_id, doubted) = upload(api, run, index, &name, observer).await?;
            uncertain |= doubted;
            file_id
        };
        run.shard_mut(index).remote.input_file_id = Some(file_id);
        run.save()?;
    }
    let metadata = run.metadata(index);
    submit_batch(api, run, index, &metadata, observer).await?;
    // Uploads of this shard other than the one its batch reads are orphans of lost
    // answers (or of a crash): delete them, so nothing of the run is left behind. Only
    // looked for when an upload's outcome was ever in doubt.
    let keep = run
        .shard(index)
        .remote
        .input_file_id
        .clone()
        .unwrap_or_default();
    if !uncertain {
        return Ok(());
    }
    if let Ok(removed) = delete_orphans(api, &name, &keep).await {
        if removed > 0 {
            observer.event(&Event::OrphansDeleted {
                shard: index,
                files: removed,
            });
        }
    }
    Ok(())
}

/// Creates (or finds) the batch of a shard whose file is uploaded.
async fn submit_batch<A: BatchApi>(
    api: &A,
    run: &mut RunDir,
    index: usize,
    metadata: &BTreeMap<String, String>,
    observer: &mut dyn Observer,
) -> Result<(), BatchError> {
    let input_file_id = run
        .shard(index)
        .remote
        .input_file_id
        .clone()
        .unwrap_or_default();
    if let Some(started) = run.shard(index).remote.create_started_at {
        if let Some(batch) = find_batch(api, metadata, started).await? {
            return record_batch(run, index, batch, observer, true);
        }
    }
    run.shard_mut(index).remote.create_started_at = Some(unix_now());
    run.save()?;
    let started = run.shard(index).remote.create_started_at.unwrap_or(0);
    let mut attempt = 1;
    loop {
        match api.create_batch(&input_file_id, metadata).await {
            Ok(batch) => return record_batch(run, index, batch, observer, false),
            Err(error) if error.transient() && attempt < CREATE_ATTEMPTS => {
                // The batch may exist although the answer was lost: look before creating.
                if error.maybe_applied() {
                    if let Some(batch) = find_batch(api, metadata, started).await? {
                        return record_batch(run, index, batch, observer, true);
                    }
                }
                attempt += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Uploads a shard's file; true beside its id when an attempt's outcome was in doubt.
/// When the answer is lost (the upload may have happened), the file is looked up by its
/// name and size before it is sent again: never uploaded blind twice.
async fn upload<A: BatchApi>(
    api: &A,
    run: &RunDir,
    index: usize,
    name: &str,
    observer: &mut dyn Observer,
) -> Result<(String, bool), BatchError> {
    let path = run.path.join(&run.shard(index).file.path);
    let bytes = run.shard(index).file.bytes;
    let mut attempt = 1;
    let mut doubted = false;
    loop {
        match api.upload_file(&path, name).await {
            Ok(file) => {
                observer.event(&Event::Uploaded {
                    shard: index,
                    file_id: file.id.clone(),
                });
                return Ok((file.id, doubted));
            }
            Err(error) if error.transient() && attempt < CREATE_ATTEMPTS => {
                if error.maybe_applied() {
                    doubted = true;
                    if let Some(file_id) = find_upload(api, name, bytes).await? {
                        observer.event(&Event::UploadReused {
                            shard: index,
                            file_id: file_id.clone(),
                        });
                        return Ok((file_id, true));
                    }
                }
                attempt += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Deletes the run's other uploads of a shard (same name, not the file its batch
/// reads): orphans of uploads whose answers were lost. A failure only leaves them.
async fn delete_orphans<A: BatchApi>(api: &A, name: &str, keep: &str) -> Result<usize, ApiError> {
    let orphans: Vec<String> = api
        .list_batch_files()
        .await?
        .into_iter()
        .filter(|f| f.filename == name && f.id != keep)
        .map(|f| f.id)
        .collect();
    for id in &orphans {
        api.delete_file(id).await?;
    }
    Ok(orphans.len())
}

fn record_batch(
    run: &mut RunDir,
    index: usize,
    batch: BatchInfo,
    observer: &mut dyn Observer,
    found: bool,
) -> Result<(), BatchError> {
    let batch_id = batch.id.clone();
    let remote = &mut run.shard_mut(index).remote;
    remote.batch_id = Some(batch_id.clone());
    remote.batch = Some(batch);
    run.save()?;
    observer.event(&if found {
        Event::Found {
            shard: index,
            batch_id,
        }
    } else {
        Event::Created {
            shard: index,
            batch_id,
        }
    });
    Ok(())
}

/// A file uploaded under `name` with `bytes` bytes, if one is there.
async fn find_upload<A: BatchApi>(
    api: &A,
    name: &str,
    bytes: u64,
) -> Result<Option<String>, ApiError> {
    let files = api.list_batch_files().await?;
    Ok(files
        .into_iter()
        .filter(|f| f.filename == name && f.bytes.is_none_or(|b| b == bytes))
        .max_by_key(|f| f.created_at)
        .map(|f| f.id))
}

/// The batch carrying `metadata`, created since shortly before `started`, if any.
/// Lists newest first and stops at older batches.
pub(crate) async fn find_batch<A: BatchApi>(
    api: &A,
    metadata: &BTreeMap<String, String>,
    started: u64,
) -> Result<Option<BatchInfo>, ApiError> {
    let oldest = started.saturating_sub(CREATE_LOOKBACK_SECONDS);
    let mut after: Option<String> = None;
    for _ in 0..LOOKUP_MAX_PAGES {
        let page = api.list_batches(after.as_deref(), 100).await?;
        for batch in &page.batches {
            if metadata
                .iter()
                .all(|(k, v)| batch.metadata.get(k) == Some(v))
            {
                return Ok(Some(batch.clone()));
            }
        }
        let reached_older = page.batches.iter().any(|b| b.created_at < oldest);
        match page.batches.last() {
            Some(last) if page.has_more && !reached_older => after = Some(last.id.clone()),
            _ => break,
        }
    }
    Ok(None)
}
