//! The command line: clap arguments (`args`), turned into the library's plain settings
//! (`settings`), one file per command (`commands/`), output and progress on the
//! terminal. The only place that knows about exit codes and `anyhow`.

pub mod args;
mod commands;
mod output;
mod progress;
mod settings;

pub use args::Cli;

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

/// Runs a parsed command line; an error is printed with its causes, once each.
pub fn execute(cli: Cli) -> ExitStatus {
    let status = commands::dispatch(cli.command).unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitStatus::Error
    });
    output::flush_warnings();
    status
}
