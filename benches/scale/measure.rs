//! One command measured as a child process: wall time, user + system CPU time and peak
//! resident memory, read with `wait4` for that child alone (Linux: `ru_maxrss` in KiB).
//!
//! Linux carries a parent's memory high-water mark into a child it spawns (the child's
//! `ru_maxrss` starts at the parent's when it execs), and the harness itself holds large
//! inputs. So the harness starts a copy of itself in a small "measure" mode, which spawns
//! the command, waits for it and prints the figures.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The argument that puts the benchmark binary in measure mode.
pub const MEASURE: &str = "--measure-child";

/// What one command cost.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
}

#[allow(clippy::cast_precision_loss)] // seconds, printed to two decimals
fn seconds(time: libc::timeval) -> f64 {
    time.tv_sec as f64 + time.tv_usec as f64 / 1e6
}

/// Runs `program args` in `dir`, stdout and stderr into `<log>.stdout` / `<log>.stderr`,
/// and measures it (through a small copy of this binary). Panics, showing stderr, when
/// the exit code is not in `allowed`.
pub fn run<S: AsRef<OsStr>>(
    dir: &Path,
    log: &Path,
    program: impl AsRef<OsStr>,
    args: &[S],
    allowed: &[i32],
) -> Measured {
    let stderr_path = log.with_extension("stderr");
    let output = Command::new(std::env::current_exe().expect("the benchmark's own path"))
        .arg(MEASURE)
        .arg(dir)
        .arg(log.with_extension("stdout"))
        .arg(&stderr_path)
        .arg(program.as_ref())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the benchmark can start itself");
    let text = String::from_utf8_lossy(&output.stdout);
    let figures: Vec<f64> = text
        .split_whitespace()
        .map(|f| f.parse().expect("measure mode prints numbers"))
        .collect();
    let [wall_seconds, cpu_seconds, peak_rss_kib, exit_code] = figures[..] else {
        panic!(
            "measure mode failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )
    };
    #[allow(clippy::cast_possible_truncation)] // an exit code
    let exit_code = exit_code as i32;
    assert!(
        allowed.contains(&exit_code),
        "{} {:?} exited with {exit_code}\n{}",
        Path::new(program.as_ref()).display(),
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    Measured {
        wall_seconds,
        cpu_seconds,
        peak_rss_mib: peak_rss_kib / 1024.0,
    }
}

/// Measure mode: `DIR STDOUT STDERR PROGRAM ARGS…` runs the program and prints its wall
/// seconds, CPU seconds, peak RSS in KiB and exit code (-1 when killed by a signal).
pub fn measure_main(mut args: impl Iterator<Item = OsString>) {
    let mut next = || {
        args.next()
            .expect("measure mode: DIR STDOUT STDERR PROGRAM ARGS…")
    };
    let (dir, stdout, stderr, program) = (next(), next(), next(), next());
    let started = Instant::now();
    let child = Command::new(&program)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(stdout).expect("the scratch folder is writable"))
        .stderr(File::create(stderr).expect("the scratch folder is writable"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", Path::new(&program).display()));
    let pid = libc::pid_t::try_from(child.id()).expect("a process id fits pid_t");
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (`Child` is never waited on);
    // both pointers are to live locals of the right types.
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let wall = started.elapsed().as_secs_f64();
    drop(child);
    let exit_code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    println!(
        "{wall} {} {} {exit_code}",
        seconds(usage.ru_utime) + seconds(usage.ru_stime),
        usage.ru_maxrss
    );
}
