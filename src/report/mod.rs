//! What people and scripts read: the plan and size tables, the status of a run, the cost
//! report of a run and the ledger of every run. Renderers only turn values into text;
//! the command line decides where it goes.

pub mod cost;
pub mod cost_view;
pub mod history;
pub mod html;
pub mod ledger;
mod plan;
mod status;
mod tables;

pub use plan::{plan_table, size_csv, size_table, PlanView};
pub use status::{accounting_table, import_summary_text, status_table, verdict_text};

use crate::store::StoreError;

/// Why a report could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}:{line}: not a ledger row")]
    LedgerRow {
        path: std::path::PathBuf,
        line: u64,
        source: csv::Error,
    },
}
