//! `safesft validate`: check an SFT file, record or `messages` form (labels, sources or
//! roles, format, duplicates, tokens, MEDEC identity) and write its own report,
//! `<file stem>.validation_report.json`, beside it (or where asked).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;

use crate::cli::args::ValidateArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::ExitStatus;
use crate::medec::{self, ReadOptions};
use crate::sft::validate::{is_messages_form, validate as check_file, MedecSource};
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
        "form": if is_messages_form(&text) { "messages" } else { "records" },
        "total": report.total,
        "label_counts": {"CORRECT": report.correct, "INCORRECT": report.incorrect},
        "checks": report.checks,
        "passed": report.passed,
    });
    let path = args
        .output_report
        .clone()
        .unwrap_or_else(|| default_report_path(&args.file));
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

/// `<dir>/<file stem>.validation_report.json`: each file its own report, so validating
/// the `messages` file never replaces the record file's report (issue 11).
fn default_report_path(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(|| "sft".into(), |s| s.to_string_lossy().into_owned());
    file.parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}.validation_report.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_gets_its_own_report() {
        assert_eq!(
            default_report_path(Path::new("sft/sft_combined_safe.jsonl")),
            Path::new("sft/sft_combined_safe.validation_report.json")
        );
        assert_eq!(
            default_report_path(Path::new("sft/sft_combined_safe.messages.jsonl")),
            Path::new("sft/sft_combined_safe.messages.validation_report.json")
        );
        assert_eq!(
            default_report_path(Path::new("bad.jsonl")),
            Path::new("bad.validation_report.json")
        );
    }
}
