//! `safesft import`: a MEDEC release CSV or paired JSONL → `pairs.jsonl` (or a seeded
//! train/validation split).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use crate::cli::args::ImportArgs;
use crate::cli::output::{stdout_json, stdout_text, warn_about_import};
use crate::cli::ExitStatus;
use crate::medec::{self, Pair, ReadOptions};
use crate::report;
use crate::store::fs::write_jsonl;

fn write_pairs(path: &Path, pairs: &[Pair]) -> anyhow::Result<()> {
    Ok(write_jsonl(path, pairs)?)
}

pub(super) fn import(args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let options = ReadOptions {
        skip_invalid: args.skip_invalid,
    };
    let (pairs, summary) = medec::read_all_pairs(&args.input, options)?;
    warn_about_import(&summary);
    let mut written = Vec::new();
    if let Some(fraction) = args.val_fraction {
        let (train, val) = medec::split_pairs(pairs, fraction, args.seed);
        for (name, part) in [("pairs_train.jsonl", &train), ("pairs_val.jsonl", &val)] {
            let path = args.output_dir.join(name);
            write_pairs(&path, part)?;
            written.push(json!({"path": path, "pairs": part.len()}));
        }
    } else {
        let path = args.output_dir.join("pairs.jsonl");
        write_pairs(&path, &pairs)?;
        written.push(json!({"path": path, "pairs": pairs.len()}));
    }
    if args.json {
        stdout_json(&json!({
            "input": args.input,
            "summary": summary,
            "written": written,
            "split": args.val_fraction.map(|f| json!({"val_fraction": f, "seed": args.seed})),
        }))?;
    } else {
        let mut text = report::import_summary_text(&args.input, &summary);
        for file in &written {
            let _ = writeln!(
                text,
                "wrote {} ({} pairs)",
                file["path"].as_str().unwrap_or_default(),
                file["pairs"]
            );
        }
        stdout_text(&text)?;
    }
    Ok(ExitStatus::Success)
}
