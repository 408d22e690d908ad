//! `safesft report`: cost per run and per dataset size and model, from the ledger, as a
//! table, CSV or JSON; with `--html`, the page of one run.

use anyhow::bail;
use serde_json::json;

use crate::cli::args::{ReportArgs, TableFormat};
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::ExitStatus;
use crate::job::write_html_report;
use crate::report::history::{ledger_csv, ledger_groups, ledger_text};
use crate::report::ledger::{self, LEDGER_FILE};

pub(super) fn report_command(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let path = args.reports_dir.join(LEDGER_FILE);
    let rows = ledger::read(&path)?;
    if rows.is_empty() {
        bail!(
            "`{}` holds no runs yet\nhint: `safesft reconcile <run>` adds a run's row",
            path.display()
        );
    }
    if args.html {
        let run = match &args.run {
            Some(run) => run.clone(),
            None => rows.last().expect("the ledger has rows").run.clone(),
        };
        let written = write_html_report(&args.reports_dir, &run, args.output.as_deref())?;
        stdout_text(&format!("{}\n", written.display()))?;
        return Ok(ExitStatus::Success);
    }
    match args.format.with_json(args.json) {
        TableFormat::Json => {
            stdout_json(&json!({"runs": rows, "by_size_and_model": ledger_groups(&rows)}))?;
        }
        TableFormat::Csv => stdout_text(&ledger_csv(&rows))?,
        TableFormat::Table => stdout_text(&ledger_text(&rows))?,
    }
    Ok(ExitStatus::Success)
}
