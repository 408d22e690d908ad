//! One command measured as a child process: wall time, user + system CPU time and peak
//! resident memory, read with `wait4` for that child alone (Linux: `ru_maxrss` in KiB).

use std::ffi::OsStr;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one command cost.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
}

#[allow(clippy::cast_precision_loss)] // seconds and MiB, printed to two decimals
fn seconds(time: libc::timeval) -> f64 {
    time.tv_sec as f64 + time.tv_usec as f64 / 1e6
}

/// Runs `program args` in `dir`, stdout and stderr into `<log>.stdout` / `<log>.stderr`,
/// and measures it. Panics, showing stderr, when the exit code is not in `allowed`.
pub fn run<S: AsRef<OsStr>>(
    dir: &Path,
    log: &Path,
    program: impl AsRef<OsStr>,
    args: &[S],
    allowed: &[i32],
) -> Measured {
    let stdout_path = log.with_extension("stdout");
    let stderr_path = log.with_extension("stderr");
    let mut command = Command::new(program.as_ref());
    command
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).expect("the scratch folder is writable"))
        .stderr(File::create(&stderr_path).expect("the scratch folder is writable"));
    let started = Instant::now();
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", program.as_ref()));
    let pid = libc::pid_t::try_from(child.id()).expect("a process id fits pid_t");
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (`Child` is never waited on);
    // both pointers are to live locals of the right types.
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let wall_seconds = started.elapsed().as_secs_f64();
    let exit_code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    drop(child);
    assert!(
        allowed.contains(&exit_code),
        "{:?} {:?} exited with {exit_code}\n{}",
        program.as_ref(),
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
    #[allow(clippy::cast_precision_loss)]
    let peak_rss_mib = usage.ru_maxrss as f64 / 1024.0;
    Measured {
        wall_seconds,
        cpu_seconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_mib,
    }
}
