//! Scaling benchmark of the release binary: for MEDEC inputs 1×, 10× and 100× the bundled
//! validation set it measures `safesft plan`, `safesft estimate` and `safesft reconcile`
//! (wall time, CPU time, peak RSS of each process) and, when asked, the Python reference
//! plan. A benchmark: it prints figures and asserts nothing.
//!
//! Run with `cargo bench --bench scale` (it builds the optimised binary). Environment:
//! - `SAFESFT_BENCH_SCALES=1,10,100`: the scales (copies of every MEDEC row);
//! - `SAFESFT_BENCH_DIR=path`: work there and keep the files (default: a temp folder);
//! - `SAFESFT_PY_PLAN=/path/to/py_plan.py`: also time `python3 py_plan.py INPUT OUT` on the
//!   same input when `python3 -c 'import tiktoken'` works, and print the time ratio
//!   (offline, tiktoken needs `TIKTOKEN_CACHE_DIR`: see `tests/reference/`);
//! - `SAFESFT_BENCH_BIN=path`: measure another `safesft` binary (e.g. an older build).
//!
//! It reads nothing outside the repository: the inputs are made from the bundled CSV, and
//! the Batch API results from the plan (see `answers.rs` for their mix).

mod answers;
mod measure;
#[allow(dead_code)] // shared with the safety benchmark; only the rewrites are used here
#[path = "../../tests/support/mutations.rs"]
mod mutations;
mod scaler;

use std::path::{Path, PathBuf};
use std::process::Command;

use measure::Measured;
use safesft::safety::SafetyChecker;

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One row of the table.
struct Row {
    scale: usize,
    pairs: usize,
    command: &'static str,
    measured: Measured,
    rate: String,
}

fn scales() -> Vec<usize> {
    std::env::var("SAFESFT_BENCH_SCALES")
        .unwrap_or_else(|_| "1,10,100".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("SAFESFT_BENCH_SCALES is a list of whole numbers")
        })
        .collect()
}

/// The Python reference plan, when asked for and runnable.
fn python_plan() -> Option<PathBuf> {
    let script = PathBuf::from(std::env::var_os("SAFESFT_PY_PLAN")?);
    let works = Command::new("python3")
        .args(["-c", "import tiktoken"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        Some(script)
    } else {
        eprintln!("SAFESFT_PY_PLAN is set but `python3 -c 'import tiktoken'` fails: skipped");
        None
    }
}

/// A bundled config file, as the Python reference plan is given it.
fn config(relative: &str) -> String {
    project()
        .join("configs")
        .join(relative)
        .to_str()
        .expect("a UTF-8 project path")
        .to_string()
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!(
        "{cores} cores available, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[allow(clippy::cast_precision_loss)] // rates, printed rounded
fn per_second(count: usize, measured: &Measured) -> f64 {
    count as f64 / measured.wall_seconds
}

/// The Python reference plan of the same input.
fn python_plan_run(dir: &Path, script: &Path, input: &str) -> Measured {
    let out = dir.join("py-plan");
    let _ = std::fs::remove_dir_all(&out);
    measure::run(
        dir,
        &dir.join("py_plan.log"),
        "python3",
        &[
            script.to_str().expect("a UTF-8 script path"),
            input,
            out.to_str().expect("a UTF-8 scratch path"),
            "--prompts",
            &config("prompts/gpt4o_medec_safe_augmentation.json"),
            "--pricing",
            &config("pricing.toml"),
        ],
        &[0],
    )
}

fn bench_scale(
    binary: &Path,
    dir: &Path,
    scale: usize,
    checker: &SafetyChecker,
    python: Option<&Path>,
) -> Vec<Row> {
    // A kept folder from an earlier run holds a submitted run, which is never re-planned.
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("the scratch folder is writable");
    let input = dir.join(format!("medec-{scale}x.csv"));
    scaler::write_scaled(
        &project().join("data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv"),
        scale,
        &input,
    );
    let input_arg = input.to_str().expect("a UTF-8 scratch path").to_string();
    let log = |name: &str| dir.join(format!("{name}.log"));
    let plan = measure::run(
        dir,
        &log("plan"),
        binary,
        &[
            "plan",
            "--input",
            &input_arg,
            "--run",
            "bench",
            "--quiet",
            "--reports-dir",
            "reports",
        ],
        &[0],
    );
    let run_dir = dir.join("batches/bench");
    let pairs = std::fs::read_to_string(run_dir.join("pairs.jsonl"))
        .expect("the plan wrote its pairs")
        .lines()
        .count();
    let sizes = format!("1000,10000,{pairs}");
    let estimate = measure::run(
        dir,
        &log("estimate"),
        binary,
        &[
            "estimate",
            "--input",
            &input_arg,
            "--sizes",
            &sizes,
            "--reports-dir",
            "reports",
        ],
        &[0],
    );
    let answers = answers::answer_run(&run_dir, checker);
    // Exit 1 is expected: the mix has in-batch HTTP 400 errors (requests unanswered).
    let reconcile = measure::run(
        dir,
        &log("reconcile"),
        binary,
        &["reconcile", "bench", "--reports-dir", "reports"],
        &[0, 1],
    );
    let mut rows = vec![
        Row {
            scale,
            pairs,
            command: "plan",
            measured: plan,
            rate: format!("{:.0} pairs/s", per_second(pairs, &plan)),
        },
        Row {
            scale,
            pairs,
            command: "estimate",
            measured: estimate,
            rate: format!("{:.0} pairs/s", per_second(pairs, &estimate)),
        },
        Row {
            scale,
            pairs,
            command: "reconcile",
            measured: reconcile,
            rate: format!("{:.0} answers/s", per_second(answers, &reconcile)),
        },
    ];
    if let Some(script) = python {
        let measured = python_plan_run(dir, script, &input_arg);
        rows.push(Row {
            scale,
            pairs,
            command: "py_plan.py",
            measured,
            rate: format!(
                "plan/py time {:.2}",
                plan.wall_seconds / measured.wall_seconds
            ),
        });
    }
    rows
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_some_and(|a| a == measure::MEASURE) {
        measure::measure_main(args);
        return;
    }
    let binary = std::env::var_os("SAFESFT_BENCH_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_safesft")),
        PathBuf::from,
    );
    let kept = std::env::var_os("SAFESFT_BENCH_DIR").map(PathBuf::from);
    let temp = tempfile::tempdir().expect("a temp folder");
    let scratch = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let python = python_plan();
    let checker = SafetyChecker::default();
    println!("safesft scaling benchmark: {}", machine());
    println!("binary: {}", binary.display());
    let mut rows = Vec::new();
    for scale in scales() {
        eprintln!("{scale}×: plan, estimate, answers, reconcile…");
        rows.extend(bench_scale(
            &binary,
            &scratch.join(format!("{scale}x")),
            scale,
            &checker,
            python.as_deref(),
        ));
    }
    println!(
        "\n| {:>5} | {:>6} | {:<10} | {:>8} | {:>8} | {:>13} | {:<20} |",
        "scale", "pairs", "command", "wall s", "CPU s", "peak RSS MiB", "rate"
    );
    println!(
        "|------:|-------:|:-----------|---------:|---------:|--------------:|:---------------------|"
    );
    for row in &rows {
        println!(
            "| {:>4}× | {:>6} | {:<10} | {:>8.2} | {:>8.2} | {:>13.1} | {:<20} |",
            row.scale,
            row.pairs,
            row.command,
            row.measured.wall_seconds,
            row.measured.cpu_seconds,
            row.measured.peak_rss_mib,
            row.rate
        );
    }
    println!("\nreconcile answers/s = result lines (output + error files) / wall seconds");
    if let Some(dir) = kept {
        println!("files kept in {}", dir.display());
    }
}
