//! safesft: MEDEC → safe, balanced SFT data through the OpenAI Batch API, with exact
//! cost accounting. The library holds all logic; `main.rs` only calls [`run`].

pub mod api;
pub mod app;
pub mod cli;
pub mod collect;
pub mod estimate;
pub mod lifecycle;
pub mod medec;
pub mod model;
pub mod pricing;
pub mod prompts;
pub mod reconcile;
pub mod report;
pub mod request;
pub mod run;
pub mod safety;
pub mod sft;
pub mod tokens;

/// How a command ended: 0 success, 1 some work refused or failed, 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// The command ran but refused or failed part of the work (e.g. over budget).
    Failure,
    /// Bad input, configuration or environment: nothing was done.
    Error,
    /// Stopped by Ctrl-C; the run is saved and resumes when the command runs again.
    Interrupted,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> std::process::ExitCode {
        match status {
            ExitStatus::Success => std::process::ExitCode::SUCCESS,
            ExitStatus::Failure => std::process::ExitCode::from(1),
            ExitStatus::Error => std::process::ExitCode::from(2),
            ExitStatus::Interrupted => std::process::ExitCode::from(130),
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitStatus> {
    app::dispatch(cli.command)
}
