use clap::Parser;

fn main() -> std::process::ExitCode {
    safesft::cli::execute(safesft::cli::Cli::parse()).into()
}
