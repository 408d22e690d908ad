//! `safesft validate`: check an SFT file (labels, sources, format, duplicates, MEDEC
//! identity) and write `validation_report.json`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::cli::args::ValidateArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::ExitStatus;
use crate::medec::{self, ReadOptions};
use crate::sft::validate::{validate as check_file, MedecSource};
use crate::store::fs::write_json_atomic;

pub(super) fn validate(args: &ValidateArgs) -> anyhow::Result<ExitStatus> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read `{}`", args.file.display()))?;
    let medec_pairs = match &args.medec {
        Some(source) => Some(medec::read_all_pairs(source, ReadOptions::default())?.0),
        None => None,
    };
    let source_name = args
        .medec
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let source = medec_pairs.as_deref().map(|pairs| MedecSource {
        name: &source_name,
        pairs,
    });
    let report = check_file(&text, source.as_ref());
    let json = json!({
        "file": args.file,
        "total": report.total,
        "label_counts": {"CORRECT": report.correct, "INCORRECT": report.incorrect},
        "checks": report.checks,
        "passed": report.passed,
    });
    let path = args.output_report.clone().unwrap_or_else(|| {
        args.file
            .parent()
            .unwrap_or(Path::new("."))
            .join("validation_report.json")
    });
    write_json_atomic(&path, &json)?;
    if args.json {
        stdout_json(&json)?;
    } else {
        let mut out = String::new();
        for check in &report.checks {
            let _ = writeln!(
                out,
                "{} {}: {}",
                if check.passed { "ok  " } else { "FAIL" },
                check.name,
                check.detail
            );
        }
        let _ = writeln!(out, "report written to {}", path.display());
        stdout_text(&out)?;
    }
    Ok(if report.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
