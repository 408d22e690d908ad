//! Joins every output and error line back to the plan by `custom_id` and decides each
//! request's outcome (kept, rejected, failed, expired, missing), with an accounting in
//! which the numbers add up. Pure apart from `collect`, which reads the run folder: the
//! join takes a stream of parsed lines, the plan and a way to read a note, and keeps a
//! small record per request (the answer texts stay in the result files).

use serde::{Deserialize, Serialize};

pub mod collect;
mod join;
mod line;
mod reasoning;
mod resolve;
pub mod stages;
#[cfg(test)]
mod tests;
pub mod verdict;

pub use join::{reconcile, AnswerSource, Attempt, Reconciled};
pub use reasoning::parse_reasoning;
pub use resolve::{answer_texts, Resolved};

use crate::money::TokenUse;

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An answer that passed every check.
    Kept,
    /// An answer that came back but failed a check (safety, JSON, truncation, refusal).
    Rejected,
    /// The API answered with an error (or the batch failed before running).
    Failed,
    /// Not run before the batch expired or was cancelled.
    Expired,
    /// No line came back, or the request was never submitted.
    Missing,
}

/// Tokens of one answer, from its `usage` (the API's field names).
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub cached_tokens: u64,
    pub completion_tokens: u64,
    pub reasoning_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.cached_tokens += other.cached_tokens;
        self.completion_tokens += other.completion_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
    }

    /// As priced: reasoning tokens are billed inside completion tokens.
    pub fn priced(self) -> TokenUse {
        TokenUse {
            prompt_tokens: self.prompt_tokens,
            cached_tokens: self.cached_tokens,
            output_tokens: self.completion_tokens,
        }
    }
}

/// Problems with the lines themselves: reported, never ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LineProblems {
    /// `custom_ids` in the files that the plan does not have.
    pub unknown: Vec<String>,
    /// `custom_ids` with more than one line (the first is used).
    pub duplicated: Vec<String>,
    /// Lines that are not JSON of a result.
    pub unreadable: Vec<String>,
}

/// Per kind: how many logical requests ended how. planned = the sum of the outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounting {
    pub planned: u64,
    pub kept: u64,
    pub rejected: u64,
    pub failed: u64,
    pub expired: u64,
    pub missing: u64,
    /// Attempts beyond the first (retries) that came back.
    pub retried: u64,
}

impl Accounting {
    pub fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Kept => self.kept += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Expired => self.expired += 1,
            Outcome::Missing => self.missing += 1,
        }
    }

    pub fn adds_up(&self) -> bool {
        self.planned == self.kept + self.rejected + self.failed + self.expired + self.missing
    }
}
