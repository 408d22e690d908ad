//! The SFT files of a reconciled run, written as each pair is decided: the CORRECT and
//! INCORRECT files in input order, then the combined file (and its `messages` form) in
//! the seeded order, read back from them line by line, and `rejected.jsonl`. Only
//! positions are held in memory, never the records.

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::finish::{JobError, SftOptions};
use crate::plan::RequestKind;
use crate::reconcile::collect::{CollectError, RunFiles};
use crate::reconcile::{answer_texts, AnswerSource, Attempt, Outcome, Reconciled, Resolved};
use crate::sft::{self, GenerationStats, SftRecord};
use crate::store::fs::{read_exact_at, AtomicFile};
use crate::store::StoreError;

/// The texts of an attempt's answer, read again from its result line.
fn texts(
    files: &RunFiles,
    attempt: &Attempt,
) -> Result<(Option<String>, Option<Value>), CollectError> {
    match attempt.answer {
        Some(at) => Ok(answer_texts(
            attempt.kind,
            attempt.outcome,
            &files.line(at)?,
        )),
        None => Ok((None, None)),
    }
}

/// A note's final attempt of `kind` as a record needs it: texts only when it was kept.
fn shown(
    files: &RunFiles,
    reconciled: &Reconciled,
    note: Option<u32>,
    kind: RequestKind,
) -> Result<Option<Resolved>, CollectError> {
    let Some(attempt) = note.and_then(|note| reconciled.final_of(note, kind)) else {
        return Ok(None);
    };
    let texts = if attempt.outcome == Outcome::Kept {
        texts(files, attempt)?
    } else {
        (None, None)
    };
    Ok(Some(reconciled.resolved(attempt, texts)))
}

/// A JSON-lines file being written, with where each of its lines is when they are to be
/// read back.
struct LinesFile {
    file: AtomicFile,
    /// Offset and length of every line written, when kept.
    lines: Option<Vec<(u64, u32)>>,
    written: u64,
}

impl LinesFile {
    /// A file whose lines are written once.
    fn create(path: &Path) -> Result<LinesFile, StoreError> {
        Ok(LinesFile {
            file: AtomicFile::create(path)?,
            lines: None,
            written: 0,
        })
    }

    /// A file whose lines are read back once it is written.
    fn create_indexed(path: &Path) -> Result<LinesFile, StoreError> {
        Ok(LinesFile {
            lines: Some(Vec::new()),
            ..LinesFile::create(path)?
        })
    }

    /// Appends `value` as one line (serialised through `buffer`).
    fn push(&mut self, value: &impl Serialize, buffer: &mut Vec<u8>) -> Result<(), StoreError> {
        buffer.clear();
        serde_json::to_writer(&mut *buffer, value).expect("a record serialises to JSON");
        self.push_bytes(buffer)
    }

    fn push_bytes(&mut self, line: &[u8]) -> Result<(), StoreError> {
        let len = u32::try_from(line.len()).expect("a record under 4 GiB");
        if let Some(lines) = &mut self.lines {
            lines.push((self.written, len));
        }
        self.file.write_all(line)?;
        self.file.write_all(b"\n")?;
        self.written += u64::from(len) + 1;
        Ok(())
    }

    /// Renames the file into place and opens it for reading lines back.
    fn commit(self) -> Result<WrittenLines, StoreError> {
        let path = self.file.path().to_path_buf();
        self.file.commit()?;
        let file = File::open(&path).map_err(StoreError::read(&path))?;
        Ok(WrittenLines {
            path,
            file,
            lines: self.lines.unwrap_or_default(),
        })
    }
}

/// A written JSON-lines file, open to read its lines back.
struct WrittenLines {
    path: PathBuf,
    file: File,
    lines: Vec<(u64, u32)>,
}

impl WrittenLines {
    fn line(&self, number: usize) -> Result<Vec<u8>, StoreError> {
        let (offset, len) = self.lines[number];
        read_exact_at(&self.file, &self.path, offset, len as usize)
    }
}

/// What writing the dataset counted.
pub struct Dataset {
    pub stats: GenerationStats,
    /// CORRECT examples (as many INCORRECT ones).
    pub pairs_kept: usize,
}

/// Writes the SFT files and `rejected.jsonl` into `output_dir`, each atomically (and in
/// that order; `rejected.jsonl` is made beside them, on another thread).
pub fn write_dataset(
    files: &RunFiles,
    reconciled: &Reconciled,
    reasoning_on: bool,
    options: &SftOptions,
    output_dir: &Path,
) -> Result<Dataset, JobError> {
    std::thread::scope(|scope| {
        let rejected = scope.spawn(|| write_rejected(files, reconciled, output_dir));
        let dataset = write_sft(files, reconciled, reasoning_on, options, output_dir);
        let rejected = rejected
            .join()
            .expect("writing rejected answers does not panic");
        let dataset = dataset?;
        rejected?.file.commit()?;
        Ok(dataset)
    })
}

/// `rejected.jsonl`: every final attempt not kept, with its reasons and texts (not yet
/// renamed into place).
fn write_rejected(
    files: &RunFiles,
    reconciled: &Reconciled,
    output_dir: &Path,
) -> Result<LinesFile, JobError> {
    let mut buffer = Vec::new();
    let mut rejected = LinesFile::create(&output_dir.join("rejected.jsonl"))?;
    for attempt in reconciled.finals() {
        if attempt.outcome != Outcome::Kept {
            let mut shown = reconciled.resolved(attempt, texts(files, attempt)?);
            // A rejected paraphrase is shown beside the note it was checked against.
            if attempt.kind == RequestKind::Paraphrase && attempt.outcome == Outcome::Rejected {
                shown.original = files.original(attempt.note)?;
            }
            rejected.push(&shown, &mut buffer)?;
        }
    }
    Ok(rejected)
}

/// The CORRECT and INCORRECT files pair by pair, then the combined file.
fn write_sft(
    files: &RunFiles,
    reconciled: &Reconciled,
    reasoning_on: bool,
    options: &SftOptions,
    output_dir: &Path,
) -> Result<Dataset, JobError> {
    let mut stats = GenerationStats::default();
    let mut buffer = Vec::new();
    let mut correct = LinesFile::create_indexed(&output_dir.join("sft_correct.jsonl"))?;
    let mut incorrect = LinesFile::create_indexed(&output_dir.join("sft_incorrect.jsonl"))?;
    files.for_each_pair(|pair| -> Result<(), JobError> {
        let note = reconciled.notes.get(&pair.note_id);
        let paraphrase = shown(files, reconciled, note, RequestKind::Paraphrase)?;
        let reasoning = if reasoning_on {
            shown(files, reconciled, note, RequestKind::Reasoning)?
        } else {
            None
        };
        let records = sft::pair_records(
            pair,
            paraphrase.as_ref(),
            reasoning.as_ref(),
            (reasoning_on, options.fallback),
            &mut stats,
        );
        if let Some((correct_record, incorrect_record)) = records {
            correct.push(&correct_record, &mut buffer)?;
            incorrect.push(&incorrect_record, &mut buffer)?;
        }
        Ok(())
    })?;
    stats.finish();
    let correct = correct.commit()?;
    let incorrect = incorrect.commit()?;
    let pairs_kept = correct.lines.len();
    write_combined(&correct, &incorrect, options, output_dir, &mut buffer)?;
    Ok(Dataset { stats, pairs_kept })
}

/// The combined file (and its `messages` form): every CORRECT then every INCORRECT
/// line, in the seeded order, copied byte for byte from the files just written.
fn write_combined(
    correct: &WrittenLines,
    incorrect: &WrittenLines,
    options: &SftOptions,
    output_dir: &Path,
    buffer: &mut Vec<u8>,
) -> Result<(), StoreError> {
    let mut combined = LinesFile::create(&output_dir.join("sft_combined_safe.jsonl"))?;
    let mut messages = if options.messages {
        Some(LinesFile::create(
            &output_dir.join("sft_combined_safe.messages.jsonl"),
        )?)
    } else {
        None
    };
    let first_incorrect = correct.lines.len();
    for position in sft::combined_order(first_incorrect + incorrect.lines.len(), options.seed) {
        let position = position as usize;
        let (from, number) = if position < first_incorrect {
            (correct, position)
        } else {
            (incorrect, position - first_incorrect)
        };
        let line = from.line(number)?;
        combined.push_bytes(&line)?;
        if let Some(messages) = &mut messages {
            let record: SftRecord =
                serde_json::from_slice(&line).map_err(|source| StoreError::BadLine {
                    path: from.path.clone(),
                    line: number + 1,
                    what: "not an SFT record",
                    source,
                })?;
            messages.push(&sft::as_messages(&record), buffer)?;
        }
    }
    combined.file.commit()?;
    if let Some(messages) = messages {
        messages.file.commit()?;
    }
    Ok(())
}
