//! Steps of the whole job that span several domains: building stage 2 from stage 1's
//! rule-checked answers (reconcile + plan + batch), and reconciling a run folder into the
//! dataset, its cost report and its ledger row (reconcile + sft + report + store).

mod dataset;
mod finish;
mod html;
mod verify;

pub use finish::{reconcile_results, reconcile_run, Finished, SftOptions};
pub use html::write_html_report;
pub use verify::prepare_verify;
