//! `safesft check`: one paraphrase against its original note, with the verdict.

use std::path::Path;

use anyhow::{bail, Context};

use crate::cli::args::CheckArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::ExitStatus;
use crate::report;
use crate::safety::{SafetyChecker, SafetyConfig};

pub(super) fn check(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    if !(0.0..=1.0).contains(&args.max_similarity) {
        bail!("`--max-similarity` must be from 0 to 1");
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let original = read(&args.original)?;
    let paraphrase = read(&args.paraphrase)?;
    let checker = SafetyChecker::new(SafetyConfig {
        max_similarity: args.max_similarity,
        ..SafetyConfig::default()
    });
    let verdict = checker.check(&original, &paraphrase, args.finish_reason.as_deref());
    if args.json {
        stdout_json(&verdict)?;
    } else {
        stdout_text(&report::verdict_text(&verdict))?;
    }
    Ok(if verdict.accepted {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
