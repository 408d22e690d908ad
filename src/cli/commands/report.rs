//! `safesft report`: cost per run and per dataset size and model, from the ledger.

use anyhow::bail;
use serde_json::json;

use crate::cli::args::ReportArgs;
use crate::cli::output::{stdout_json, stdout_text};
use crate::cli::ExitStatus;
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
    if args.json {
        let groups = ledger::ledger_groups(&rows);
        stdout_json(&json!({"runs": rows, "by_size_and_model": groups}))?;
    } else {
        stdout_text(&ledger::ledger_text(&rows))?;
    }
    Ok(ExitStatus::Success)
}
