use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = safesft::cli::Cli::parse();
    safesft::run(cli)
        .unwrap_or_else(|err| {
            eprintln!("error: {err:#}");
            safesft::ExitStatus::Error
        })
        .into()
}
