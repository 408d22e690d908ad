//! `safesft check`: one paraphrase against its original note, with the verdict; or, with
//! `--batch`, every pair of a JSON Lines file, one verdict line each.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use rayon::prelude::*;

use crate::cli::args::CheckArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::ExitStatus;
use crate::report;
use crate::safety::{parse_batch, SafetyChecker, SafetyConfig, Verdict};

pub(super) fn check(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    if !(0.0..=1.0).contains(&args.max_similarity) {
        bail!("`--max-similarity` must be from 0 to 1");
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let checker = SafetyChecker::new(SafetyConfig {
        max_similarity: args.max_similarity,
        ..SafetyConfig::default()
    });
    if let Some(batch) = &args.batch {
        return check_batch(&checker, &read(batch)?, batch, args.json);
    }
    let (Some(original), Some(paraphrase)) = (&args.original, &args.paraphrase) else {
        bail!("`--original` and `--paraphrase` are needed without `--batch`");
    };
    let original = read(original)?;
    let paraphrase = read(paraphrase)?;
    let verdict = checker.check(&original, &paraphrase, args.finish_reason.as_deref());
    if args.json {
        stdout_json(&Line {
            id: None,
            verdict: &verdict,
            doubt_only: verdict.doubt_only(),
        })?;
    } else {
        let mut text = report::verdict_text(&verdict);
        if verdict.doubt_only() {
            text.push_str(
                "Only concept checks object (no number, unit, drug, dose, route, frequency, near copy or artefact): a run with `--doubts verify` sends it to the verifier instead of rejecting it.\n",
            );
        }
        stdout_text(&text)?;
    }
    Ok(exit_status(verdict.accepted))
}

/// A verdict as `--json` prints it: the pair's id (with `--batch`), the verdict, and
/// whether only concept checks object (`--doubts verify` would send it to the verifier).
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(flatten)]
    verdict: &'a Verdict,
    doubt_only: bool,
}

/// One verdict line per pair, in file order: `{id, …verdict, doubt_only}` with `--json`, else
/// `id<TAB>accepted` or `id<TAB>rejected<TAB>check: detail; …`.
fn check_batch(
    checker: &SafetyChecker,
    text: &str,
    path: &Path,
    json: bool,
) -> anyhow::Result<ExitStatus> {
    let pairs = parse_batch(&path.display().to_string(), text)?;
    let verdicts: Vec<Verdict> = pairs
        .par_iter()
        .map(|p| checker.check(&p.original, &p.paraphrase, p.finish_reason.as_deref()))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (pair, verdict) in pairs.iter().zip(&verdicts) {
        if json {
            serde_json::to_writer(
                &mut out,
                &Line {
                    id: Some(&pair.id),
                    verdict,
                    doubt_only: verdict.doubt_only(),
                },
            )?;
            writeln!(out)?;
        } else if verdict.accepted {
            writeln!(out, "{}\taccepted", pair.id)?;
        } else {
            let reasons: Vec<String> = verdict
                .rejections
                .iter()
                .map(|f| format!("{}: {}", f.check, f.detail.replace(['\n', '\t'], " ")))
                .collect();
            writeln!(out, "{}\trejected\t{}", pair.id, reasons.join("; "))?;
        }
    }
    out.flush()?;
    Ok(exit_status(verdicts.iter().all(|v| v.accepted)))
}

fn exit_status(accepted: bool) -> ExitStatus {
    if accepted {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
