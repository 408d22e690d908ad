//! One file per command: each parses nothing (clap did), calls the library and prints.
//! Shared here: the async runtime, the HTTP client from the environment, Ctrl-C, and the
//! exit status after waiting.

mod cancel;
mod check;
mod estimate;
mod import;
mod plan;
mod reconcile;
mod report;
mod retry;
mod run;
mod status;
mod submit;
mod validate;
mod wait;

use serde_json::json;

use super::args::Command;
use super::output::{stdout_json, stdout_text};
use super::ExitStatus;
use crate::api::{ApiSettings, BatchStatus, HttpBatchApi};
use crate::batch::OUTPUTS_DIR;
use crate::report::status_table;
use crate::store::RunDir;

pub(super) fn dispatch(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Import(args) => import::import(&args),
        Command::Plan(args) => plan::plan(&args, true).map(|(status, _)| status),
        Command::Estimate(args) => estimate::estimate(&args),
        Command::Submit(args) => submit::submit(&args),
        Command::Status(args) => status::status(&args),
        Command::Wait(args) => wait::wait(&args),
        Command::Cancel(args) => cancel::cancel(&args),
        Command::Run(args) => run::run_job(&args),
        Command::Check(args) => check::check(&args),
        Command::Reconcile(args) => reconcile::reconcile_command(&args),
        Command::Report(args) => report::report_command(&args),
        Command::Retry(args) => retry::retry(&args),
        Command::Validate(args) => validate::validate(&args),
    }
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub(super) fn http_api() -> anyhow::Result<HttpBatchApi> {
    let settings = ApiSettings::from_env()?;
    Ok(HttpBatchApi::new(settings)?)
}

/// The command line that ran this process, for a hint to run it again.
pub(super) fn this_command() -> String {
    let mut words = vec!["safesft".to_string()];
    for arg in std::env::args().skip(1) {
        let plain = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c));
        words.push(if plain {
            arg
        } else {
            format!("'{}'", arg.replace('\'', "'\\''"))
        });
    }
    words.join(" ")
}

/// Runs `work` until it ends or Ctrl-C arrives. Every manifest write is atomic, so
/// stopping at any await point leaves a run that resumes.
pub(super) async fn interruptible<T, E>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<Option<T>, E> {
    tokio::select! {
        result = work => result.map(Some),
        _ = tokio::signal::ctrl_c() => Ok(None),
    }
}

/// Waits for every shard; then, once stage 1's answers are in, builds stage 2 (a verify
/// request per rule-passing paraphrase not yet verified) and waits for it too. Verify
/// answers make no new paraphrase, so one build is all there is to do (another would run
/// the whole reconcile to find nothing). Resumable at any await point: building stage 2
/// again after a crash rebuilds the same shards, and a batch created before it is found by
/// its metadata.
pub(super) async fn wait_both_stages<A: crate::api::BatchApi>(
    api: &A,
    run: &mut RunDir,
    schedule: crate::batch::PollSchedule,
    progress: &mut crate::cli::progress::Progress,
) -> anyhow::Result<()> {
    use crate::batch::Observer as _;
    crate::batch::wait(api, run, schedule, progress).await?;
    let prepared = crate::job::prepare_verify(run)?;
    if prepared.requests > 0 {
        progress.event(&crate::batch::Event::VerifyBuilt {
            requests: prepared.requests,
            shards: prepared.shards,
        });
        crate::batch::wait(api, run, schedule, progress).await?;
    }
    Ok(())
}

/// How the shards are shown after waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    Table,
    Json,
    /// Not at all: the caller prints one document of its own.
    Nothing,
}

/// The exit status after `wait` (or `run`): 0 when every request has its line, 1 when
/// any shard failed, expired, was cancelled or its files do not add up. `resume` is the
/// command that resumes after Ctrl-C (`safesft wait r`, or the whole `run` again).
pub(super) fn finish_wait(
    run: &RunDir,
    outcome: Option<()>,
    shown: Shown,
    resume: &str,
) -> anyhow::Result<ExitStatus> {
    if outcome.is_none() {
        eprintln!("\ninterrupted: nothing is lost. Run `{resume}` again to resume.");
        return Ok(ExitStatus::Interrupted);
    }
    match shown {
        Shown::Json => {
            stdout_json(&json!({"run": run.manifest.run, "shards": run.manifest.shards}))?;
        }
        Shown::Table => stdout_text(&status_table(&run.manifest))?,
        Shown::Nothing => {}
    }
    let all_good = run.manifest.shards.iter().all(|s| {
        s.remote.withdrawn
            || (s
                .remote
                .batch
                .as_ref()
                .is_some_and(|b| b.status == BatchStatus::Completed)
                && s.remote
                    .line_check
                    .as_ref()
                    .is_some_and(|c| c.problems.is_empty()))
    });
    if all_good {
        eprintln!(
            "every shard finished; results are in {}",
            run.path.join(OUTPUTS_DIR).display()
        );
        Ok(ExitStatus::Success)
    } else {
        eprintln!("some requests did not complete: see the table above; their lines are in the error files");
        Ok(ExitStatus::Failure)
    }
}
