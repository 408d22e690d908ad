//! The accounting per stage (issue 9): stage 1's paraphrases and reasoning, stage 2's
//! verify requests, each planned = kept + rejected + failed + expired + missing, with the
//! rejections split by who rejected: a rule check, or the verifier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Outcome, Reconciled};
use crate::plan::{RequestKind, Stage};
use crate::safety::Check;

/// How one kind's requests ended, rejections split by rule check and by verifier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCounts {
    pub planned: u64,
    pub kept: u64,
    /// Of `kept`: paraphrases only concept checks rejected that the verifier cleared
    /// (`--doubts verify`).
    #[serde(default)]
    pub kept_after_doubt: u64,
    pub rejected_by_rules: u64,
    pub rejected_by_verifier: u64,
    pub failed: u64,
    pub expired: u64,
    pub missing: u64,
}

impl StageCounts {
    /// planned = kept + rejected (both ways) + failed + expired + missing.
    #[cfg(test)]
    pub fn adds_up(&self) -> bool {
        self.planned
            == self.kept
                + self.rejected_by_rules
                + self.rejected_by_verifier
                + self.failed
                + self.expired
                + self.missing
    }
}

/// Per stage, per kind: the final attempts' outcomes. A paraphrase the verifier flagged
/// is rejected by the verifier; a verify answer `changed` is the verifier's rejection.
pub fn stage_counts(
    reconciled: &Reconciled,
) -> BTreeMap<Stage, BTreeMap<RequestKind, StageCounts>> {
    let mut stages: BTreeMap<Stage, BTreeMap<RequestKind, StageCounts>> = BTreeMap::new();
    for attempt in reconciled.finals() {
        let counts = stages
            .entry(attempt.kind.stage())
            .or_default()
            .entry(attempt.kind)
            .or_default();
        counts.planned += 1;
        match attempt.outcome {
            Outcome::Kept => {
                counts.kept += 1;
                counts.kept_after_doubt += u64::from(!attempt.cleared.is_empty());
            }
            Outcome::Rejected
                if attempt.kind == RequestKind::Verify
                    || attempt
                        .rejections
                        .iter()
                        .any(|f| f.check == Check::Verifier) =>
            {
                counts.rejected_by_verifier += 1;
            }
            Outcome::Rejected => counts.rejected_by_rules += 1,
            Outcome::Failed => counts.failed += 1,
            Outcome::Expired => counts.expired += 1,
            Outcome::Missing => counts.missing += 1,
        }
    }
    stages
}
