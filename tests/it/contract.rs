//! Contract check: the client and the fake talk through Stoplight Prism in proxy mode
//! with `--errors`, which validates every request the client sends and every response
//! the fake returns against the OpenAI spec's Files and Batches part vendored in
//! `tests/contract/openapi.batch-files.json` (see `tests/contract/README.md`). Any
//! violation fails the test. It needs Prism (npm `@stoplight/prism-cli` 5.16), so a plain
//! `cargo test` skips it as ignored; run with `--ignored` it fails when Prism is missing.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fake_api::{FakeApi, Fault, Route, Scenario};
use crate::{project, read_json, read_jsonl, sample, Test};

const PRISM_VERSION: &str = "5.16";

/// How to run this test, for the `#[ignore]` reason and for the failure without Prism.
const HOW_TO_RUN: &str = "needs Prism: run `cargo test --test it contract -- --ignored` after Prism is installed (e.g. by `bash .ci/run`, which installs @stoplight/prism-cli 5.16 under target/prism; or set PRISM_BIN)";

/// The vendored spec, inside the repository.
fn spec() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/contract/openapi.batch-files.json")
}

/// Prism's binary: `$PRISM_BIN`, or installed under `target/prism` (by `.ci/run`, or
/// here on first use through npm). Panics with [`HOW_TO_RUN`] when neither works: this
/// test never passes without having checked anything.
fn prism_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PRISM_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "PRISM_BIN={} does not exist\n{HOW_TO_RUN}",
            path.display()
        );
        return path;
    }
    let prefix = project().join("target/prism");
    let binary = prefix.join("node_modules/.bin/prism");
    if binary.exists() {
        return binary;
    }
    let npm = Command::new("npm").arg("--version").output();
    assert!(
        npm.is_ok_and(|o| o.status.success()),
        "Prism is not installed, and npm is absent to install it\n{HOW_TO_RUN}"
    );
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg(format!("@stoplight/prism-cli@{PRISM_VERSION}"))
        .status();
    assert!(
        status.is_ok_and(|s| s.success()) && binary.exists(),
        "npm could not install Prism\n{HOW_TO_RUN}"
    );
    binary
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Prism {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prism {
    fn start(binary: &PathBuf, upstream: &str, log_dir: &std::path::Path) -> Prism {
        let spec = spec();
        assert!(
            spec.exists(),
            "the vendored spec is missing: {}",
            spec.display()
        );
        let port = free_port();
        let log = log_dir.join("prism.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .args([
                "proxy",
                "--errors",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .arg(&spec)
            .arg(upstream)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        let prism = Prism {
            child,
            log,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while !prism.log_text().contains("Prism is listening on")
            || std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "Prism did not start:\n{}",
                prism.log_text()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        prism
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

#[test]
#[ignore = "needs Prism: run `cargo test --test it contract -- --ignored` after Prism is installed (e.g. by `bash .ci/run`)"]
fn every_call_and_answer_matches_the_openai_spec() {
    let binary = prism_binary();
    let fake = FakeApi::start();
    let scratch = tempfile::tempdir().unwrap();
    let prism = Prism::start(&binary, &fake.url, scratch.path());
    fake.scenario("001", Scenario::ExpireHalf);
    fake.scenario(
        "002",
        Scenario::Complete {
            error_every: Some(3),
        },
    );
    // A create whose answer is lost: the client must list batches to find it.
    fake.fault(Route::Create, Fault::DropAfterApply);

    let plan = |run: &str| {
        vec![
            "plan".to_string(),
            "--input".into(),
            sample().to_str().unwrap().into(),
            "--run".into(),
            run.into(),
            "--quiet".into(),
            "--num-pairs".into(),
            "6".into(),
            "--max-requests-per-shard".into(),
            "4".into(),
        ]
    };
    let test = Test::new().args(plan("r"));
    test.success();
    let test = test
        .env("OPENAI_API_KEY", "sk-contract-test")
        .env("OPENAI_BASE_URL", &prism.url)
        .env("SAFESFT_NO_RETRY_DELAY", "1");
    let test = test.args(["submit", "r"]);
    let submitted = test.output();
    let test = test.args(["status", "r", "--json"]);
    let status = test.output();
    let test = test.args(crate::WAIT_NOW);
    let waited = test.output();
    // A second run, cancelled mid-way.
    let test = test.args(plan("c"));
    test.success();
    let test = test.args(["submit", "c"]);
    let cancel_submit = test.output();
    let test = test.args(["cancel", "c"]);
    let cancelled = test.output();

    let log = prism.log_text();
    // Prism marks refused requests and responses with ✖ and an error URI
    // (`…#VIOLATIONS`, `…#UNPROCESSABLE_ENTITY`, …). The one expected ✖ is the create
    // whose connection the fake drops on purpose (a `FetchError` from upstream).
    let violations: Vec<&str> = log
        .lines()
        .filter(|l| l.contains('✖') && !l.contains("FetchError"))
        .collect();
    assert!(
        violations.is_empty(),
        "contract violations:\n{}",
        violations.join("\n")
    );
    let show = |o: &std::process::Output| {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    assert_eq!(
        submitted.status.code(),
        Some(0),
        "{}\n{log}",
        show(&submitted)
    );
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
    assert_eq!(
        waited.status.code(),
        Some(1),
        "shard 001 expired: {}",
        show(&waited)
    );
    assert_eq!(
        cancel_submit.status.code(),
        Some(0),
        "{}",
        show(&cancel_submit)
    );
    assert_eq!(cancelled.status.code(), Some(0), "{}", show(&cancelled));
    assert!(
        fake.calls(Route::ListBatches) >= 1,
        "the lost create was looked up"
    );
    // Run r's stage 2 (verify requests for the paraphrases that came back) went through
    // Prism too; run c was cancelled, so it has none.
    let manifest = read_json(&test.path("batches/r/manifest.json"));
    let verify_shards: Vec<&serde_json::Value> = manifest["shards"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["stage"] == "verify")
        .collect();
    assert!(!verify_shards.is_empty(), "run r has a verify stage");
    let verify_requests: u64 = verify_shards
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(
        fake.batches_created(),
        6 + verify_shards.len(),
        "3 stage-1 shards per run and run r's verify shards, each created once"
    );
    let outputs = test.path("batches/r/outputs");
    let lines: usize = std::fs::read_dir(&outputs)
        .unwrap()
        .map(|e| read_jsonl(&e.unwrap().path()).len())
        .sum();
    assert_eq!(
        lines as u64,
        12 + verify_requests,
        "every request of run r, both stages, has its line"
    );
}
