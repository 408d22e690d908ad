//! The plan's and the estimate's engine: pairs read on a thread of their own (the input
//! hashed in the same pass), mapped in chunks on a rayon pool, handed back in input order.
//! Memory is bounded by the chunks in flight, whatever the input's size.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::PlanError;
use crate::medec::{self, ImportSummary, MedecError, Pair, ReadOptions};

/// Pairs per chunk: a few milliseconds of counting, so the pool stays busy and the
/// results come back in small steps.
const CHUNK_PAIRS: usize = 32;
/// Chunks read ahead, waiting for a thread.
const CHUNKS_QUEUED: usize = 2;
/// Chunks being mapped or waiting to be handed back, per thread of the pool.
const CHUNKS_IN_FLIGHT_PER_THREAD: usize = 4;

/// What the reading thread saw: the import summary and the input's sha256.
pub(crate) struct ReadInput {
    pub summary: ImportSummary,
    pub sha256: String,
}

/// Why the reading thread stopped early.
enum ReadStop {
    Medec(MedecError),
    /// The consumer stopped (its own error is the one to report).
    ConsumerGone,
}

impl From<MedecError> for ReadStop {
    fn from(error: MedecError) -> ReadStop {
        ReadStop::Medec(error)
    }
}

/// The thread pool of `jobs` threads (every core, or `RAYON_NUM_THREADS`, without).
pub(crate) fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, PlanError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .thread_name(|index| format!("safesft-count-{index}"))
        .build()
        .map_err(|error| PlanError::Threads(Box::new(error)))
}

/// Reads every pair of `input`, maps the first `limit` of them with `map` (given each
/// pair's place in the input, from 0) on `pool`, and hands the results to `sink` in
/// input order on the calling thread. Pairs after the first `limit` are read, counted
/// and hashed, not mapped. A `sink` error stops the reading and is returned.
pub(crate) fn map_pairs_in_order<R: Send>(
    input: &Path,
    options: ReadOptions,
    limit: u64,
    pool: &rayon::ThreadPool,
    map: impl Fn(u64, &Pair) -> R + Sync,
    mut sink: impl FnMut(R) -> Result<(), PlanError>,
) -> Result<ReadInput, PlanError> {
    let in_flight = pool.current_num_threads().max(1) * CHUNKS_IN_FLIGHT_PER_THREAD;
    std::thread::scope(|scope| {
        let (chunks, queued) = sync_channel::<Vec<Pair>>(CHUNKS_QUEUED);
        let reader = std::thread::Builder::new()
            .name("safesft-read".into())
            .spawn_scoped(scope, move || read_chunks(input, options, limit, &chunks))
            .map_err(|error| PlanError::Threads(Box::new(error)))?;
        let mapped = pool.in_place_scope(|tasks| {
            let map = &map;
            let mut pending: VecDeque<Receiver<Vec<R>>> = VecDeque::new();
            let mut next = 0u64;
            // `queued` is dropped when this closure returns, early or not: the reader
            // then stops at its next chunk.
            for chunk in queued {
                let first = next;
                next += chunk.len() as u64;
                let (done, results) = sync_channel(1);
                tasks.spawn(move |_| {
                    let mapped = chunk
                        .into_iter()
                        .zip(first..)
                        .map(|(pair, index)| map(index, &pair))
                        .collect();
                    // Nobody waits any more only when the consumer already failed.
                    let _ = done.send(mapped);
                });
                pending.push_back(results);
                while pending.len() >= in_flight {
                    hand_back(&mut pending, &mut sink)?;
                }
            }
            while !pending.is_empty() {
                hand_back(&mut pending, &mut sink)?;
            }
            Ok::<(), PlanError>(())
        });
        let read = match reader.join() {
            Ok(read) => read,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        mapped?;
        match read {
            Ok((summary, sha256)) => Ok(ReadInput { summary, sha256 }),
            Err(ReadStop::Medec(error)) => Err(error.into()),
            Err(ReadStop::ConsumerGone) => {
                unreachable!("the consumer only hangs up early on an error, returned above")
            }
        }
    })
}

/// Waits for the oldest chunk in flight and hands its results to `sink`.
fn hand_back<R>(
    pending: &mut VecDeque<Receiver<Vec<R>>>,
    sink: &mut impl FnMut(R) -> Result<(), PlanError>,
) -> Result<(), PlanError> {
    let results = pending
        .pop_front()
        .expect("called with a chunk in flight")
        .recv()
        .expect("a mapping task sends its results unless it panicked, and a panic stops the plan");
    results.into_iter().try_for_each(sink)
}

/// The reading thread: pairs in chunks of [`CHUNK_PAIRS`], the first `limit` of them.
fn read_chunks(
    input: &Path,
    options: ReadOptions,
    limit: u64,
    chunks: &SyncSender<Vec<Pair>>,
) -> Result<(ImportSummary, String), ReadStop> {
    let mut chunk = Vec::with_capacity(CHUNK_PAIRS);
    let mut taken = 0u64;
    let read = medec::read_pairs_hashed(input, options, |pair| {
        if taken < limit {
            taken += 1;
            chunk.push(pair);
            if chunk.len() == CHUNK_PAIRS {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_PAIRS));
                chunks.send(full).map_err(|_| ReadStop::ConsumerGone)?;
            }
        }
        Ok::<(), ReadStop>(())
    })?;
    if !chunk.is_empty() {
        chunks.send(chunk).map_err(|_| ReadStop::ConsumerGone)?;
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A paired JSONL input of `pairs` pairs, a broken line after the first `broken_at`.
    fn input(dir: &Path, pairs: usize, broken_at: Option<usize>) -> std::path::PathBuf {
        let path = dir.join("pairs.jsonl");
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for at in 0..pairs {
            if broken_at == Some(at) {
                writeln!(file, "{{not json").unwrap();
            }
            writeln!(
                file,
                r#"{{"note_id":"n-{at}","correct_note":"Note {at}.","incorrect_note":"Not {at}.","error_type":"diagnosis"}}"#
            )
            .unwrap();
        }
        file.flush().unwrap();
        path
    }

    #[test]
    fn results_come_back_in_input_order_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = input(dir.path(), 1000, None);
        for (jobs, limit) in [(1, u64::MAX), (3, u64::MAX), (2, 517)] {
            let pool = thread_pool(Some(jobs)).unwrap();
            let mut seen = Vec::new();
            let read = map_pairs_in_order(
                &path,
                ReadOptions::default(),
                limit,
                &pool,
                |index, pair| (index, pair.note_id.clone()),
                |result| {
                    seen.push(result);
                    Ok(())
                },
            )
            .unwrap();
            let expected = limit.min(1000);
            assert_eq!(read.summary.pairs, 1000, "every pair is read and counted");
            assert_eq!(seen.len() as u64, expected);
            for (at, (index, note_id)) in seen.iter().enumerate() {
                assert_eq!(
                    (*index, note_id.as_str()),
                    (at as u64, format!("n-{at}").as_str())
                );
            }
            assert_eq!(
                read.sha256,
                crate::store::fs::sha256_file(&path).unwrap(),
                "the input is hashed whole"
            );
        }
    }

    #[test]
    fn a_sink_error_stops_the_reading_and_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let path = input(dir.path(), 5000, None);
        let pool = thread_pool(Some(2)).unwrap();
        let mut handed = 0;
        let error = map_pairs_in_order(
            &path,
            ReadOptions::default(),
            u64::MAX,
            &pool,
            |index, _| index,
            |_| {
                handed += 1;
                if handed == 100 {
                    return Err(PlanError::NoPairs {
                        input: "stop".into(),
                        rows: 0,
                        unpaired: 0,
                        blank: 0,
                    });
                }
                Ok(())
            },
        )
        .err()
        .unwrap();
        assert!(matches!(error, PlanError::NoPairs { .. }), "{error}");
        assert_eq!(handed, 100);
    }

    #[test]
    fn a_broken_input_line_is_the_error_after_the_pairs_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = input(dir.path(), 300, Some(200));
        let pool = thread_pool(Some(2)).unwrap();
        let mut handed = 0;
        let error = map_pairs_in_order(
            &path,
            ReadOptions::default(),
            u64::MAX,
            &pool,
            |index, _| index,
            |_| {
                handed += 1;
                Ok(())
            },
        )
        .err()
        .unwrap();
        assert!(matches!(error, PlanError::Medec(_)), "{error}");
        assert!(handed <= 200, "{handed}");
    }
}
