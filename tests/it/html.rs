//! The HTML page of a run (`reports/<run>.html`) end to end on the fake API: the totals
//! and rows it shows are the cost report's, every rejected paraphrase is on it with its
//! reasons, and (with Chromium, as `.ci/run` installs it) it renders in a browser.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::reconcile::finished_run;
use crate::{read_json, read_jsonl, Test};

/// `$1,234.57` from an exact decimal string, as the page shows dollars.
fn dollars(exact: &serde_json::Value) -> String {
    let value: rust_decimal::Decimal = exact.as_str().unwrap().parse().unwrap();
    let cents =
        value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("${cents:.2}")
}

/// A reconciled run `r` with its page written.
fn reconciled_run() -> Test {
    let (_fake, test) = finished_run();
    let test = test.args(["reconcile", "r"]);
    test.expect(1).stdout_has("reports/r.html");
    test
}

/// Rejected paraphrases that came back with a text: each must be on the page.
fn rejected_paraphrases(test: &Test) -> usize {
    read_jsonl(&test.path("batches/r/sft/rejected.jsonl"))
        .iter()
        .filter(|r| r["kind"] == "paraphrase" && r["text"].is_string())
        .count()
}

/// What the page must show, checked on its HTML (as written or as a browser left it).
fn check_page(html: &str, test: &Test) {
    let report = read_json(&test.path("reports/r.json"));
    let total = &report["total"];
    for (id, value) in [
        ("total-actual", &total["actual_usd"]),
        ("total-expected", &total["estimated_expected_usd"]),
        ("total-worst", &total["estimated_worst_usd"]),
    ] {
        let shown = format!("id=\"{id}\">{}<", dollars(value));
        assert!(html.contains(&shown), "want {shown} in the page");
    }
    for kind in ["paraphrase", "reasoning", "total"] {
        assert!(
            html.contains(&format!("data-kind=\"{kind}\"")),
            "row {kind}"
        );
    }
    assert!(
        html.contains("data-run=\"r\""),
        "the ledger's row of the run"
    );
    let cards = html.matches("class=\"card rejected\"").count();
    assert_eq!(cards, rejected_paraphrases(test));
    assert!(cards > 0);
    let kept = html.matches("class=\"card kept\"").count();
    let kept_pairs = usize::try_from(report["kept_pairs"].as_u64().unwrap()).unwrap();
    assert_eq!(kept, kept_pairs.min(20), "every kept paraphrase, up to 20");
    assert!(
        html.contains("<mark class=\"gone\">"),
        "differences highlighted"
    );
    assert!(html.contains("<svg"), "charts inline");
    assert!(
        !html.contains("http://") || !html.contains("<script src"),
        "nothing fetched"
    );
}

#[test]
fn the_page_shows_the_cost_report_and_every_rejected_paraphrase() {
    let test = reconciled_run();
    let html = std::fs::read_to_string(test.path("reports/r.html")).unwrap();
    check_page(&html, &test);
    assert!(!html.contains("<script src"), "no script is fetched");
    assert!(!html.contains("<link"), "no style sheet is fetched");
    // `report --html` writes the same page again, where asked.
    let test = test.args(["report", "--html", "--run", "r", "--output", "again.html"]);
    test.success().stdout_has("again.html");
    assert_eq!(
        std::fs::read_to_string(test.path("again.html")).unwrap(),
        html
    );
}

/// Chromium, where `.ci/run` installs it.
fn chromium() -> PathBuf {
    let path = PathBuf::from("/usr/bin/chromium");
    assert!(
        path.exists(),
        "`/usr/bin/chromium` is missing\nhint: `apt-get install -y chromium` (as `.ci/run` does)"
    );
    path
}

/// Chromium, headless, in a profile of its own, never reaching out.
fn headless(profile: &Path) -> Command {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
#[ignore = "needs Chromium: `.ci/run` installs it and runs this test"]
fn the_page_renders_in_headless_chromium() {
    let test = reconciled_run();
    let page = test.path("reports/r.html");
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().unwrap();
    let output = headless(profile.path())
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8(output.stdout).unwrap();
    check_page(&dom, &test);
    // The filter's script ran: it says how many cards it shows.
    let cards = rejected_paraphrases(&test);
    let shown = format!("id=\"shown-count\">{cards} of {cards} shown<");
    assert!(dom.contains(&shown), "want {shown} in the rendered page");
    // A screenshot, for people (the README shows docs/report-html.png).
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-html.png");
    let profile = tempfile::tempdir().unwrap();
    let output = headless(profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1200,2200", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "a PNG at {}",
        shot.display()
    );
    if std::env::var_os("SAFESFT_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(crate::project().join("docs/report-html.png"), &png).unwrap();
    }
}
