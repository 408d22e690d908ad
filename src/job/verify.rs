//! Between the stages (issue 9): once every shard has finished, the rule checks run on
//! the paraphrases, and one verify request per rule-passing paraphrase not yet verified
//! goes into new verify shards appended to the manifest (as a retry's are: shard files,
//! index lines, then the manifest, each written atomically). Deterministic: the same
//! results build the same files, and building again after a crash rebuilds them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::finish::{reconcile_results, JobError};
use crate::batch::{apply_retry, NewShards};
use crate::plan::{RequestKind, Stage, VerifyBuilder};
use crate::reconcile::{answer_texts, AnswerSource as _, Outcome};
use crate::store::RunDir;

/// What building the verify stage did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyPrepared {
    /// Verify requests added (0: every rule-passing paraphrase already has one).
    pub requests: usize,
    pub shards: usize,
}

/// Adds the verify requests the run's results call for: one per paraphrase attempt the
/// rule checks accepted (or, with `--doubts verify`, only concept-level checks rejected)
/// that no verify request reads yet. Nothing to do for a run
/// without a verify stage, while a shard is still running, or after a `cancel` (until a
/// retry).
pub fn prepare_verify(run: &mut RunDir) -> Result<VerifyPrepared, JobError> {
    let Some(settings) = run.manifest.verify.clone() else {
        return Ok(VerifyPrepared::default());
    };
    if !run.finished() || run.manifest.cancelled_at.is_some() {
        return Ok(VerifyPrepared::default());
    }
    let (files, reconciled) = reconcile_results(run)?;
    let mut verified: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut last_verify: HashMap<u32, u32> = HashMap::new();
    for attempt in &reconciled.attempts {
        if attempt.kind == RequestKind::Verify {
            if let Some(read) = attempt.verifies {
                verified.insert((attempt.note, read));
            }
            let last = last_verify.entry(attempt.note).or_default();
            *last = (*last).max(attempt.attempt);
        }
    }
    // By note id (as text), then paraphrase attempt: the same order every time.
    let mut wanted: BTreeMap<(String, u32), &crate::reconcile::Attempt> = BTreeMap::new();
    for attempt in &reconciled.attempts {
        let to_verify = attempt.rules_passed || attempt.rules_doubted;
        if to_verify && !verified.contains(&(attempt.note, attempt.attempt)) {
            let id = reconciled.notes.id(attempt.note).to_string();
            wanted.insert((id, attempt.attempt), attempt);
        }
    }
    if wanted.is_empty() {
        return Ok(VerifyPrepared::default());
    }
    let builder = VerifyBuilder::new(&settings, run.manifest.estimate.output_model.clone())
        .map_err(crate::plan::PlanError::from)?;
    let notes: BTreeSet<&str> = wanted.keys().map(|(id, _)| id.as_str()).collect();
    let mut pairs = HashMap::new();
    files.for_each_pair(|pair| -> Result<(), JobError> {
        if notes.contains(pair.note_id.as_str()) {
            pairs.insert(pair.note_id.clone(), pair);
        }
        Ok(())
    })?;
    let mut first = !reconciled
        .attempts
        .iter()
        .any(|a| a.kind == RequestKind::Verify);
    let mut new_shards = NewShards::new(run);
    for ((note_id, paraphrase_attempt), attempt) in &wanted {
        let (Some(pair), Some(at)) = (pairs.get(note_id), attempt.answer) else {
            continue;
        };
        let (text, _) = answer_texts(RequestKind::Paraphrase, Outcome::Kept, &files.line(at)?);
        let next = last_verify.entry(attempt.note).or_default();
        *next += 1;
        let (line, planned) = builder.build(pair, &text.unwrap_or_default(), *next, first);
        first = false;
        new_shards.push(line, &settings.model, planned, Some(*paraphrase_attempt))?;
    }
    drop(files);
    if new_shards.requests() == 0 {
        return Ok(VerifyPrepared::default());
    }
    let plan = new_shards.into_plan(Stage::Verify, &settings.pricing.prices);
    let prepared = VerifyPrepared {
        requests: plan.index.len(),
        shards: plan.shards.len(),
    };
    apply_retry(run, plan)?;
    Ok(prepared)
}
