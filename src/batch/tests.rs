//! The batch stage against a scripted API with paused time: polling intervals, line
//! checks, waves and hints.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use super::download::line_check;
use super::*;
use crate::api::{ApiError, BatchApi, BatchInfo, BatchPage, BatchStatus, FileInfo, RequestCounts};
use crate::store::RunDir;

/// A scripted API: batches walk through `statuses`, one per retrieve.
struct Scripted {
    statuses: RefCell<VecDeque<BatchStatus>>,
    creates: Cell<u32>,
}

fn batch(status: BatchStatus) -> BatchInfo {
    let done = status == BatchStatus::Completed;
    BatchInfo {
        id: "batch_1".into(),
        status,
        input_file_id: "file-1".into(),
        output_file_id: done.then(|| "file-out".into()),
        error_file_id: None,
        request_counts: RequestCounts {
            total: 2,
            completed: if done { 2 } else { 0 },
            failed: 0,
        },
        errors: Vec::new(),
        metadata: BTreeMap::new(),
        created_at: 1,
        in_progress_at: None,
        finalizing_at: None,
        completed_at: None,
        failed_at: None,
        expired_at: None,
        cancelling_at: None,
        cancelled_at: None,
    }
}

impl BatchApi for Scripted {
    async fn upload_file(&self, _path: &Path, filename: &str) -> Result<FileInfo, ApiError> {
        Ok(FileInfo {
            id: "file-1".into(),
            bytes: None,
            filename: filename.into(),
            purpose: "batch".into(),
            created_at: 1,
        })
    }
    async fn list_batch_files(&self) -> Result<Vec<FileInfo>, ApiError> {
        Ok(Vec::new())
    }
    async fn delete_file(&self, _file_id: &str) -> Result<(), ApiError> {
        Ok(())
    }
    async fn create_batch(
        &self,
        _input_file_id: &str,
        _metadata: &BTreeMap<String, String>,
    ) -> Result<BatchInfo, ApiError> {
        self.creates.set(self.creates.get() + 1);
        Ok(batch(BatchStatus::Validating))
    }
    async fn retrieve_batch(&self, _batch_id: &str) -> Result<BatchInfo, ApiError> {
        let status = self
            .statuses
            .borrow_mut()
            .pop_front()
            .unwrap_or(BatchStatus::Completed);
        Ok(batch(status))
    }
    async fn list_batches(&self, _after: Option<&str>, _limit: u32) -> Result<BatchPage, ApiError> {
        Ok(BatchPage {
            batches: Vec::new(),
            has_more: false,
        })
    }
    async fn cancel_batch(&self, _batch_id: &str) -> Result<BatchInfo, ApiError> {
        Ok(batch(BatchStatus::Cancelling))
    }
    async fn download_file(&self, _file_id: &str, destination: &Path) -> Result<u64, ApiError> {
        let text = "{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n";
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        std::fs::write(destination, text).unwrap();
        Ok(text.len() as u64)
    }
}

/// A real planned run of one pair (two requests) in a temp folder.
fn planned_run() -> (tempfile::TempDir, RunDir) {
    let project = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.jsonl");
    std::fs::write(
        &input,
        "{\"note_id\":\"n-1\",\"correct_note\":\"Aspirin 81 mg daily.\",\"incorrect_note\":\"Aspirin 810 mg daily.\",\"error_type\":\"pharmacotherapy\"}\n",
    )
    .unwrap();
    let prompts_path = project.join("configs/prompts/gpt4o_medec_safe_augmentation.json");
    let pricing_path = project.join("configs/pricing.toml");
    let settings = crate::plan::PlanSettings {
        input,
        read_options: crate::medec::ReadOptions::default(),
        prompts: crate::plan::LoadedPrompts::load(&prompts_path).unwrap(),
        pricing: crate::money::PricingTable::load(&pricing_path).unwrap(),
        model: "gpt-4o".into(),
        reasoning: true,
        verify: None,
        num_pairs: None,
        fewer_pairs_allowed: false,
        limits: crate::plan::ShardLimits::default(),
        budget: None,
        output_model: crate::plan::OutputModel::default(),
        batches_dir: dir.path().join("batches"),
        run: "r".into(),
        force: false,
        jobs: Some(1),
    };
    crate::plan::plan(&settings, &|_| {}).unwrap();
    let run = RunDir::open(&dir.path().join("batches/r")).unwrap();
    (dir, run)
}

#[derive(Default)]
struct Recorder(Vec<Event>);

impl Observer for Recorder {
    fn event(&mut self, event: &Event) {
        self.0.push(event.clone());
    }
}

#[tokio::test(start_paused = true)]
async fn wait_polls_every_few_seconds_at_first_and_minutes_later() {
    let (_dir, mut run) = planned_run();
    let mut statuses = vec![BatchStatus::Validating];
    statuses.extend([BatchStatus::InProgress; 14]);
    statuses.extend([BatchStatus::Finalizing; 2]);
    let api = Scripted {
        statuses: RefCell::new(statuses.into()),
        creates: Cell::new(0),
    };
    let mut recorder = Recorder::default();
    let started = tokio::time::Instant::now();
    wait(&api, &mut run, PollSchedule::default(), &mut recorder)
        .await
        .unwrap();
    let sleeps: Vec<f64> = recorder
        .0
        .iter()
        .filter_map(|e| match e {
            Event::Sleeping { seconds } => Some(*seconds),
            _ => None,
        })
        .collect();
    assert_eq!(sleeps.len(), 17);
    assert!((sleeps[0] - 5.0).abs() < 1e-9);
    assert!((sleeps[1] - 7.5).abs() < 1e-9);
    assert!(sleeps.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        (sleeps[16] - 300.0).abs() < 1e-9,
        "capped at five minutes: {sleeps:?}"
    );
    let slept: f64 = sleeps.iter().sum();
    assert!((started.elapsed().as_secs_f64() - slept).abs() < 1.0);
    assert_eq!(api.creates.get(), 1);
    // Finalizing is reported as it is, not folded into in_progress.
    assert!(recorder.0.iter().any(
        |e| matches!(e, Event::Polled { batch, .. } if batch.status == BatchStatus::Finalizing)
    ));
    assert!(run.finished());
    let check = run.manifest.shards[0].remote.line_check.clone().unwrap();
    assert_eq!((check.output_lines, check.problems.len()), (2, 0));
}

#[test]
fn line_check_names_every_mismatch() {
    let mut finished = batch(BatchStatus::Completed);
    finished.request_counts = RequestCounts {
        total: 10,
        completed: 8,
        failed: 2,
    };
    assert!(line_check(&finished, 10, 8, 2).problems.is_empty());
    let check = line_check(&finished, 10, 7, 2);
    assert_eq!(check.problems.len(), 2, "{:?}", check.problems);
    assert!(line_check(&finished, 12, 8, 2).problems[0].contains("shard holds 12"));
    finished.output_file_id = None;
    assert!(line_check(&finished, 10, 8, 2)
        .problems
        .iter()
        .any(|p| p.contains("without an output file")));
    let failed = batch(BatchStatus::Failed);
    assert!(line_check(&failed, 10, 0, 0).problems[0].contains("none of its 10 requests ran"));
}

#[test]
fn poll_schedule_grows_and_caps() {
    let schedule = PollSchedule::default();
    assert_eq!(
        schedule.next(Duration::from_secs(4)),
        Duration::from_secs(6)
    );
    assert_eq!(
        schedule.next(Duration::from_secs(299)),
        Duration::from_secs(300)
    );
}

#[test]
fn token_limit_failures_get_a_hint() {
    assert!(failure_hint("token_limit_exceeded")
        .unwrap()
        .contains("--enqueued-token-limit"));
    assert!(failure_hint("something_new").is_none());
}
