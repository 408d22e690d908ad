//! What both forms of `validate` share: a check and its outcome, the report of a file,
//! the MEDEC source to compare with, and the 50/50 label balance.

use serde::Serialize;

use crate::medec::Pair;

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationCheck {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

impl ValidationCheck {
    /// Passed when `problems` is empty (then `ok` says what was checked); else the first
    /// ten problems.
    pub(crate) fn from_problems(
        name: &'static str,
        problems: &[String],
        ok: String,
    ) -> ValidationCheck {
        ValidationCheck {
            name,
            passed: problems.is_empty(),
            detail: if problems.is_empty() {
                ok
            } else {
                problems
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        }
    }
}

/// Every check of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    pub total: usize,
    pub correct: usize,
    pub incorrect: usize,
    pub checks: Vec<ValidationCheck>,
    pub passed: bool,
}

impl ValidationReport {
    /// The report of `total` examples, `correct` of them CORRECT: passed when every
    /// check passed.
    pub(crate) fn new(
        total: usize,
        correct: usize,
        checks: Vec<ValidationCheck>,
    ) -> ValidationReport {
        ValidationReport {
            total,
            correct,
            incorrect: total - correct,
            passed: checks.iter().all(|c| c.passed),
            checks,
        }
    }
}

/// The check that each of the `incorrect` INCORRECT notes is `source`'s byte for byte;
/// `mismatches` names the ones that are not.
pub(crate) fn medec_identity(
    mismatches: &[String],
    incorrect: usize,
    source: &MedecSource<'_>,
) -> ValidationCheck {
    ValidationCheck::from_problems(
        "incorrect_identical_to_medec",
        mismatches,
        format!(
            "{incorrect} INCORRECT notes byte-identical to {}",
            source.name
        ),
    )
}

/// The MEDEC source the INCORRECT notes must match: its name (for messages) and pairs.
pub struct MedecSource<'a> {
    pub name: &'a str,
    pub pairs: &'a [Pair],
}

pub(crate) fn label_balance(correct: usize, total: usize) -> ValidationCheck {
    // Whole numbers only: 50 % ± 1 % is |200·correct − 100·total| ≤ 2·total.
    let off = (200 * correct).abs_diff(100 * total);
    #[allow(clippy::cast_precision_loss)] // shown to one decimal only
    let percent = if total == 0 {
        0.0
    } else {
        correct as f64 * 100.0 / total as f64
    };
    ValidationCheck {
        name: "label_balance",
        passed: total > 0 && off <= 2 * total,
        detail: format!(
            "{correct} CORRECT, {} INCORRECT ({percent:.1}% CORRECT; 50% ± 1% required)",
            total - correct
        ),
    }
}
