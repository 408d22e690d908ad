//! safesft: MEDEC → safe, balanced SFT data through the OpenAI Batch API, with exact
//! cost accounting. The data flows through the folders in this order:
//! `medec` (import) → `plan` (requests, tokens, estimate; `money` prices them) →
//! `store` (the run folder) → `batch` over `api` (submit, wait, download) →
//! `safety` and `reconcile` (decide every answer) → `sft` (the dataset) → `report`
//! (cost reports, ledger); `job` joins the last steps and `cli` is the command line.

pub(crate) mod api;
pub(crate) mod batch;
pub mod cli;
pub(crate) mod job;
pub mod medec;
pub mod money;
pub mod plan;
pub(crate) mod reconcile;
pub(crate) mod report;
pub mod safety;
pub(crate) mod sft;
pub(crate) mod store;
