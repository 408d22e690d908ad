//! The `safesft` binary: parse the command line, run it, exit with its status.

use clap::Parser;

fn main() -> std::process::ExitCode {
    safesft::cli::execute(safesft::cli::Cli::parse()).into()
}
