//! The CLI end to end: one test binary, driven by a small builder around `std::process`.

// Test code: long scenario functions and prose about API names are fine here.
#![allow(clippy::too_many_lines, clippy::doc_markdown)]

mod architecture;
mod check;
mod contract;
mod estimate;
mod exit_codes;
mod fake_api;
mod html;
mod import;
mod lifecycle;
mod plan;
mod reconcile;
mod robust;
mod safety_benchmark;
mod token_reference;
mod verify;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The project folder (configs, bundled sample).
pub fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled MEDEC-MS validation set.
pub fn sample() -> PathBuf {
    project().join("data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv")
}

/// `safesft plan` of the bundled sample into run `run`, without progress, plus `extra`.
pub fn plan_args(run: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "plan",
        "--input",
        sample().to_str().unwrap(),
        "--run",
        run,
        "--quiet",
    ]
    .iter()
    .map(|a| (*a).to_string())
    .collect();
    args.extend(extra.iter().map(|a| (*a).to_string()));
    args
}

/// Flags for `wait`, `run` or `retry` that poll at once (the fake answers at once), quietly.
pub const NO_POLL_DELAY: [&str; 5] = [
    "--quiet",
    "--poll-initial-seconds",
    "0",
    "--poll-max-seconds",
    "0",
];

/// `wait r` polling without delay, quiet.
pub const WAIT_NOW: [&str; 7] = [
    "wait",
    "r",
    "--quiet",
    "--poll-initial-seconds",
    "0",
    "--poll-max-seconds",
    "0",
];

/// The key every fake-API test uses: long enough to look real, so a leak is noticed.
pub const KEY: &str = "sk-test-NEVER-PRINT-THIS-0123456789";

/// `test` talking to `fake`: a key, its base URL, retries without delay.
pub fn talking_to(test: Test, fake: &fake_api::FakeApi) -> Test {
    test.env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &fake.url)
        .env("SAFESFT_NO_RETRY_DELAY", "1")
}

/// `test` with the command line `wait r`, polling without delay.
pub fn wait_now(test: Test) -> Test {
    test.args(WAIT_NOW)
}

/// A scratch folder where `safesft` runs. It holds no `configs/`: the binary uses the
/// prompt config and pricing table compiled into it, as an installed binary does.
pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, Option<String>)>,
}

impl Default for Test {
    fn default() -> Test {
        Test::new()
    }
}

impl Test {
    pub fn new() -> Test {
        let dir = tempfile::tempdir().unwrap();
        Test {
            dir,
            args: Vec::new(),
            env: vec![("OPENAI_API_KEY".into(), None)],
        }
    }

    /// Copies a file of the project (e.g. a config) into the scratch folder.
    pub fn copy_from_project(&self, relative: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(project().join(relative), &path).unwrap();
        path
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.args = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        self
    }

    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_safesft"));
        command.current_dir(self.dir.path()).args(&self.args);
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }

    pub fn output(&self) -> Output {
        self.command()
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// Starts the command without waiting for it (to kill it mid-way).
    pub fn spawn(&self) -> std::process::Child {
        self.command()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Starts the command with stderr piped (to read what it says when stopped).
    pub fn spawn_with_stderr(&self) -> std::process::Child {
        self.command()
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs and expects `code`; returns stdout.
    pub fn expect(&self, code: i32) -> Done {
        let output = self.output();
        let done = Done {
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        };
        assert_eq!(
            output.status.code(),
            Some(code),
            "safesft {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args,
            done.stdout,
            done.stderr
        );
        done
    }

    pub fn success(&self) -> Done {
        self.expect(0)
    }
}

pub struct Done {
    pub stdout: String,
    pub stderr: String,
}

impl Done {
    /// Asserts stderr holds `needle`, showing stderr when it does not.
    pub fn stderr_has(&self, needle: &str) -> &Done {
        assert!(
            self.stderr.contains(needle),
            "want {needle:?} in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// Asserts stdout holds `needle`, showing stdout when it does not.
    pub fn stdout_has(&self, needle: &str) -> &Done {
        assert!(
            self.stdout.contains(needle),
            "want {needle:?} in stdout:\n{}",
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}
