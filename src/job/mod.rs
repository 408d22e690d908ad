//! Steps of the whole job that span several domains: reconciling a run folder into the
//! dataset, its cost report and its ledger row (reconcile + sft + report + store).

mod dataset;
mod finish;
mod html;

pub use finish::{reconcile_results, reconcile_run, Finished, SftOptions};
pub use html::write_html_report;
