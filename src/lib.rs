//! safesft: MEDEC → safe, balanced SFT data through the OpenAI Batch API, with exact
//! cost accounting. The data flows through the folders in this order:
//! `medec` (import) → `plan` (requests, tokens, estimate; `money` prices them) →
//! `store` (the run folder) → `batch` over `api` (submit, wait, download) →
//! `safety` and `reconcile` (decide every answer) → `sft` (the dataset) → `report`
//! (cost reports, ledger); `job` joins the last steps and `cli` is the command line.

pub mod api;
pub mod batch;
pub mod cli;
pub mod job;
pub mod medec;
pub mod money;
pub mod plan;
pub mod reconcile;
pub mod report;
pub mod safety;
pub mod sft;
pub mod store;
