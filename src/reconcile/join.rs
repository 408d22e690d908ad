//! The join: result lines streamed in, each matched to its planned request by
//! `custom_id` and decided (paraphrase checks on worker threads, which read the line and
//! the note again), then every planned request's final attempt and the accounting. Only
//! compact records are kept per request; answer texts stay in the result files (see
//! [`LineRef`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use super::line::ResultLine;
use super::resolve::{needs_original, resolve, Decision, LineRef, ParaphraseCheck, Resolved};
use super::{Accounting, LineProblems, Outcome, Usage};
use crate::plan::{CustomId, RequestKind};
use crate::safety::SafetyChecker;

/// Note ids, each stored once and named by a number.
#[derive(Debug, Clone, Default)]
pub struct NoteIds {
    ids: Vec<Arc<str>>,
    numbers: HashMap<Arc<str>, u32>,
}

impl NoteIds {
    /// The number of `id`, added when new.
    pub fn intern(&mut self, id: &str) -> u32 {
        if let Some(number) = self.numbers.get(id) {
            return *number;
        }
        let number = u32::try_from(self.ids.len()).expect("fewer than 2^32 notes");
        let id: Arc<str> = id.into();
        self.ids.push(id.clone());
        self.numbers.insert(id, number);
        number
    }

    pub fn get(&self, id: &str) -> Option<u32> {
        self.numbers.get(id).copied()
    }

    pub fn id(&self, number: u32) -> &str {
        &self.ids[number as usize]
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Every note number, in the order of the ids (as text).
    pub fn sorted(&self) -> Vec<u32> {
        let mut numbers: Vec<u32> = (0..).take(self.ids.len()).collect();
        numbers.sort_by(|a, b| self.ids[*a as usize].cmp(&self.ids[*b as usize]));
        numbers
    }
}

/// Every planned request (all attempts), in plan order, and why some cannot have a line.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    pub notes: NoteIds,
    /// The run has a verify stage: a paraphrase is kept only once the verifier says
    /// `same` (issue 9).
    pub verify_on: bool,
    /// A paraphrase only concept-level checks reject goes to the verifier too
    /// (`--doubts verify`): kept only when it answers `same`.
    pub doubts_to_verifier: bool,
    requests: Vec<PlannedRequest>,
    not_run: Vec<(Outcome, String)>,
    by_id: HashMap<(u32, RequestKind, u32), u32>,
}

#[derive(Debug, Clone, Copy)]
struct PlannedRequest {
    note: u32,
    kind: RequestKind,
    attempt: u32,
    /// Why it has no line, when its shard never ran (an index into `not_run`).
    not_run: Option<u32>,
    /// A verify request: the attempt of the note's paraphrase it reads.
    verifies: Option<u32>,
}

impl Planned {
    /// An empty plan, with a verify stage or not.
    pub fn with_verify(verify_on: bool) -> Planned {
        Planned {
            verify_on,
            ..Planned::default()
        }
    }

    /// Records why requests have no line (e.g. their shard never ran); returns the
    /// number to pass to [`Planned::push`].
    pub fn not_run_reason(&mut self, outcome: Outcome, why: String) -> u32 {
        self.not_run.push((outcome, why));
        u32::try_from(self.not_run.len() - 1).expect("fewer than 2^32 reasons")
    }

    /// Adds a planned request; `not_run` says why it cannot have a line.
    #[cfg(test)]
    pub fn push(&mut self, id: &CustomId, not_run: Option<u32>) {
        self.push_verify(id, not_run, None);
    }

    /// Adds a planned request that may verify a paraphrase attempt (`verifies`).
    pub fn push_verify(&mut self, id: &CustomId, not_run: Option<u32>, verifies: Option<u32>) {
        let note = self.notes.intern(&id.note_id);
        let number = u32::try_from(self.requests.len()).expect("fewer than 2^32 requests");
        // A custom_id planned twice: its line goes to the first (the second is missing).
        self.by_id
            .entry((note, id.kind, id.attempt))
            .or_insert(number);
        self.requests.push(PlannedRequest {
            note,
            kind: id.kind,
            attempt: id.attempt,
            not_run,
            verifies,
        });
    }

    /// The planned request a line's `custom_id` names, exactly as planned.
    fn find(&self, custom_id: &str) -> Option<u32> {
        let id = CustomId::parse(custom_id)?;
        let number = *self
            .by_id
            .get(&(self.notes.get(&id.note_id)?, id.kind, id.attempt))?;
        // `|01` parses as attempt 1, but only `|1` was planned.
        (id.to_string() == custom_id).then_some(number)
    }
}

/// One result line as read: a line, or a problem that made it unreadable.
#[allow(clippy::large_enum_variant)] // passed one at a time: a box would cost an allocation a line
pub enum ReadLine {
    Line(ResultLine, LineRef),
    Unreadable(String),
}

/// One attempt at a request and what became of it.
#[allow(clippy::struct_field_names)] // `attempt`: the attempt number, as in the custom_id
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub note: u32,
    pub kind: RequestKind,
    pub attempt: u32,
    pub outcome: Outcome,
    pub reasons: Vec<String>,
    /// The safety checks a paraphrase failed, with their spans.
    pub rejections: Vec<crate::safety::Finding>,
    pub retryable: bool,
    pub usage: Usage,
    /// The model that answered, as a number into [`Reconciled::models`].
    pub model: Option<u32>,
    /// The line with the answer's text, when a 200 response came back.
    pub answer: Option<LineRef>,
    /// A paraphrase the rule checks accepted (whatever the verifier said after).
    pub rules_passed: bool,
    /// A paraphrase only concept-level checks rejected, in a run that sends such doubts
    /// to the verifier (`--doubts verify`): it waits for the verifier like one the rules
    /// passed.
    pub rules_doubted: bool,
    /// The rule findings the verifier cleared (it answered `same` on a doubted
    /// paraphrase, now kept): kept for the record, no longer rejections.
    pub cleared: Vec<crate::safety::Finding>,
    /// A verify request: the attempt of the note's paraphrase it reads.
    pub verifies: Option<u32>,
}

/// Every request's final outcome, the line problems and the accounting.
#[derive(Debug, Clone, Default)]
pub struct Reconciled {
    pub notes: NoteIds,
    /// Every attempt, in plan order (for costs: every answer is billed).
    pub attempts: Vec<Attempt>,
    /// Per note number, per kind: the chosen attempt (the latest kept, else the latest;
    /// for verify, the one that read the chosen paraphrase).
    finals: Vec<[Option<u32>; 3]>,
    pub models: Vec<String>,
    pub problems: LineProblems,
    pub accounting: BTreeMap<RequestKind, Accounting>,
}

fn kind_slot(kind: RequestKind) -> usize {
    match kind {
        RequestKind::Paraphrase => 0,
        RequestKind::Reasoning => 1,
        RequestKind::Verify => 2,
    }
}

impl Reconciled {
    /// The chosen attempt of a note's request of `kind`.
    pub fn final_of(&self, note: u32, kind: RequestKind) -> Option<&Attempt> {
        let slot = self.finals.get(note as usize)?[kind_slot(kind)]?;
        Some(&self.attempts[slot as usize])
    }

    /// Every chosen attempt, by note id (as text) then kind.
    pub fn finals(&self) -> impl Iterator<Item = &Attempt> + '_ {
        self.notes.sorted().into_iter().flat_map(move |note| {
            RequestKind::ALL
                .into_iter()
                .filter_map(move |kind| self.final_of(note, kind))
        })
    }

    /// An attempt as `rejected.jsonl` shows it, with the texts given.
    pub fn resolved(
        &self,
        attempt: &Attempt,
        texts: (Option<String>, Option<serde_json::Value>),
    ) -> Resolved {
        let note_id = self.notes.id(attempt.note).to_string();
        Resolved {
            custom_id: CustomId {
                note_id: note_id.clone(),
                kind: attempt.kind,
                attempt: attempt.attempt,
            }
            .to_string(),
            note_id,
            kind: attempt.kind,
            attempt: attempt.attempt,
            outcome: attempt.outcome,
            reasons: attempt.reasons.clone(),
            rejections: attempt.rejections.clone(),
            cleared: attempt.cleared.clone(),
            retryable: attempt.retryable,
            text: texts.0,
            reasoning: texts.1,
            original: None,
            usage: attempt.usage,
            model: attempt.model.map(|m| self.models[m as usize].clone()),
        }
    }
}

/// Where the join reads what it does not keep: a pair's correct note, and a result line
/// again (a paraphrase's line, read back by the worker that checks it). Called from
/// worker threads.
pub trait AnswerSource: Sync {
    type Error: Send;
    /// The correct note of the pair with this note number (`None` when no pair has it).
    fn original(&self, note: u32) -> Result<Option<String>, Self::Error>;
    /// The result line at `at`.
    fn line(&self, at: LineRef) -> Result<ResultLine, Self::Error>;
}

/// A paraphrase for a worker to check: only where its line is, so that however far the
/// reading runs ahead of the checks, the queue stays small.
struct Job {
    request: u32,
    note: u32,
    at: LineRef,
}

/// Paraphrase checks sent to the workers at a time.
const JOBS_PER_BATCH: usize = 64;

type Checked<E> = Result<(u32, Decision, LineRef), E>;

/// A worker: checks the paraphrases it is sent until the queue closes.
fn check_paraphrases<S: AnswerSource>(
    jobs: &Mutex<mpsc::Receiver<Vec<Job>>>,
    done: &mpsc::Sender<Checked<S::Error>>,
    source: &S,
    checker: &SafetyChecker,
) {
    let check = |job: &Job| -> Checked<S::Error> {
        let line = source.line(job.at)?;
        let original = source.original(job.note)?.unwrap_or_default();
        let check = ParaphraseCheck {
            original: &original,
            checker,
        };
        let decision = resolve(RequestKind::Paraphrase, &line, Some(check));
        Ok((job.request, decision, job.at))
    };
    loop {
        let batch = jobs.lock().map(|jobs| jobs.recv());
        let Ok(Ok(batch)) = batch else { return };
        for job in &batch {
            if done.send(check(job)).is_err() {
                return;
            }
        }
    }
}

/// Joins the result lines to the plan. `lines` streams every line of every output and
/// error file (an `Err` stops the join); paraphrases are checked on worker threads, each
/// with a checker from `checker` (which may wait for the drug lexicon to be built while
/// the lines are read). Deterministic: the outcome does not depend on which thread
/// checks what.
pub fn reconcile<S: AnswerSource>(
    planned: Planned,
    lines: impl IntoIterator<Item = Result<ReadLine, S::Error>>,
    source: &S,
    checker: impl Fn() -> SafetyChecker + Sync,
) -> Result<Reconciled, S::Error> {
    let mut decided = Decided {
        attempts: vec![None; planned.requests.len()],
        models: Vec::new(),
    };
    let mut problems = LineProblems::default();
    let mut duplicated = BTreeSet::new();
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (job_sender, job_receiver) = mpsc::channel::<Vec<Job>>();
    let job_receiver = Mutex::new(job_receiver);
    let (done_sender, done_receiver) = mpsc::channel::<Checked<S::Error>>();
    let store = |decided: &mut Decided, checked: Checked<S::Error>| {
        let (request, decision, at) = checked?;
        decided.keep(&planned, request, decision, Some(at));
        Ok(())
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (jobs, done, checker) = (&job_receiver, done_sender.clone(), &checker);
            scope.spawn(move || check_paraphrases(jobs, &done, source, &checker()));
        }
        drop(done_sender);
        let mut seen = vec![false; planned.requests.len()];
        let mut batch = Vec::with_capacity(JOBS_PER_BATCH);
        let mut outcome = Ok(());
        for read in lines {
            let (line, at) = match read {
                Ok(ReadLine::Line(line, at)) => (line, at),
                Ok(ReadLine::Unreadable(problem)) => {
                    problems.unreadable.push(problem);
                    continue;
                }
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            };
            let Some(request) = planned.find(&line.custom_id) else {
                problems.unknown.push(line.custom_id);
                continue;
            };
            if std::mem::replace(&mut seen[request as usize], true) {
                duplicated.insert(line.custom_id);
                continue;
            }
            let planned_request = planned.requests[request as usize];
            if needs_original(planned_request.kind, &line) {
                batch.push(Job {
                    request,
                    note: planned_request.note,
                    at,
                });
                if batch.len() == JOBS_PER_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(JOBS_PER_BATCH));
                    if job_sender.send(full).is_err() {
                        break;
                    }
                }
            } else {
                let decision = resolve(planned_request.kind, &line, None);
                let answer = decision.answered.then_some(at);
                decided.keep(&planned, request, decision, answer);
            }
            while let Ok(checked) = done_receiver.try_recv() {
                outcome = store(&mut decided, checked);
                if outcome.is_err() {
                    break;
                }
            }
            if outcome.is_err() {
                break;
            }
        }
        if outcome.is_ok() && !batch.is_empty() {
            let _ = job_sender.send(batch);
        }
        drop(job_sender);
        if outcome.is_err() {
            // Stop the workers early: what they still hold is not needed.
            if let Ok(jobs) = job_receiver.lock() {
                while jobs.try_recv().is_ok() {}
            }
        }
        for checked in done_receiver {
            if outcome.is_ok() {
                outcome = store(&mut decided, checked);
            }
        }
        outcome
    })?;
    problems.duplicated = duplicated.into_iter().collect();
    Ok(finish(planned, decided, problems))
}

/// The attempts decided so far, by planned request, and the models named in them.
struct Decided {
    attempts: Vec<Option<Attempt>>,
    models: Vec<String>,
}

impl Decided {
    /// Keeps the decision of a planned request (compactly: the model by number).
    fn keep(
        &mut self,
        planned: &Planned,
        request: u32,
        decision: Decision,
        answer: Option<LineRef>,
    ) {
        let model = decision.model.map(|name| {
            let found = self.models.iter().position(|m| *m == name);
            let number = found.unwrap_or_else(|| {
                self.models.push(name);
                self.models.len() - 1
            });
            u32::try_from(number).expect("fewer than 2^32 models")
        });
        let planned_request = planned.requests[request as usize];
        self.attempts[request as usize] = Some(Attempt {
            note: planned_request.note,
            kind: planned_request.kind,
            attempt: planned_request.attempt,
            rules_passed: planned_request.kind == RequestKind::Paraphrase
                && decision.outcome == Outcome::Kept,
            rules_doubted: planned.doubts_to_verifier
                && planned_request.kind == RequestKind::Paraphrase
                && decision.outcome == Outcome::Rejected
                && crate::safety::doubt_only(&decision.rejections),
            cleared: Vec::new(),
            verifies: planned_request.verifies,
            outcome: decision.outcome,
            reasons: decision.reasons,
            rejections: decision.rejections,
            retryable: decision.retryable,
            usage: decision.usage,
            model,
            answer,
        });
    }
}

/// Every planned request's attempt (a line's decision, or why it has none), the final
/// attempt per note and kind, and the accounting.
fn finish(planned: Planned, decided: Decided, problems: LineProblems) -> Reconciled {
    let mut reconciled = Reconciled {
        problems,
        finals: vec![[None; 3]; planned.notes.len()],
        models: decided.models,
        ..Reconciled::default()
    };
    // Over the decided attempts themselves, so the vector is reused in place.
    reconciled.attempts = decided
        .attempts
        .into_iter()
        .enumerate()
        .map(|(request, attempt)| {
            attempt.unwrap_or_else(|| {
                let planned_request = planned.requests[request];
                let (outcome, why) = planned_request.not_run.map_or_else(
                    || (Outcome::Missing, "no line came back for it".to_string()),
                    |reason| planned.not_run[reason as usize].clone(),
                );
                Attempt {
                    note: planned_request.note,
                    kind: planned_request.kind,
                    attempt: planned_request.attempt,
                    outcome,
                    reasons: vec![why],
                    rejections: Vec::new(),
                    retryable: true,
                    usage: Usage::default(),
                    model: None,
                    answer: None,
                    rules_passed: false,
                    rules_doubted: false,
                    cleared: Vec::new(),
                    verifies: planned_request.verifies,
                }
            })
        })
        .collect();
    let links = if planned.verify_on {
        super::verdict::apply_verification(&mut reconciled.attempts, &planned.notes)
    } else {
        std::collections::HashMap::new()
    };
    for (number, attempt) in (0..).zip(&reconciled.attempts) {
        let slot = &mut reconciled.finals[attempt.note as usize][kind_slot(attempt.kind)];
        let better = match *slot {
            None => true,
            Some(current) => {
                let current = &reconciled.attempts[current as usize];
                let kept = |a: &Attempt| a.outcome == Outcome::Kept;
                (kept(attempt) && !kept(current))
                    || (kept(attempt) == kept(current) && attempt.attempt > current.attempt)
            }
        };
        if better {
            *slot = Some(number);
        }
    }
    // The verify request shown for a note is the one that read its chosen paraphrase.
    for slots in &mut reconciled.finals {
        let paraphrase = slots[kind_slot(RequestKind::Paraphrase)]
            .map(|number| &reconciled.attempts[number as usize]);
        if let Some(link) = paraphrase.and_then(|p| links.get(&(p.note, p.attempt))) {
            slots[kind_slot(RequestKind::Verify)] = Some(*link);
        }
    }
    reconciled.notes = planned.notes;
    for slots in &reconciled.finals {
        for number in slots.iter().flatten() {
            let attempt = &reconciled.attempts[*number as usize];
            let accounting = reconciled.accounting.entry(attempt.kind).or_default();
            accounting.planned += 1;
            accounting.count(attempt.outcome);
        }
    }
    for attempt in &reconciled.attempts {
        if attempt.attempt > 1 && attempt.outcome != Outcome::Missing {
            reconciled
                .accounting
                .entry(attempt.kind)
                .or_default()
                .retried += 1;
        }
    }
    reconciled
}
