//! The expected output of the next plan, calibrated from what earlier runs wrote (rows
//! of `reports/ledger.csv`), instead of the default ratios.

use super::output::OutputModel;

/// What one reconciled run measured, for calibration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSample {
    /// What the plan expected the first-attempt paraphrases to write, and what they wrote
    /// (both 0 when some first attempt got no answer).
    pub paraphrase_expected_output_tokens: u64,
    pub paraphrase_completion_tokens: u64,
    pub reasoning_answers: u64,
    pub reasoning_completion_tokens: u64,
}

/// The output model measured by earlier runs, if there are any: paraphrase output
/// scaled by what was written against what was expected, reasoning answers at their
/// measured mean size.
pub fn calibrated(samples: &[RunSample], default: &OutputModel) -> OutputModel {
    let expected: u64 = samples
        .iter()
        .map(|r| r.paraphrase_expected_output_tokens)
        .sum();
    let written: u64 = samples.iter().map(|r| r.paraphrase_completion_tokens).sum();
    let answers: u64 = samples.iter().map(|r| r.reasoning_answers).sum();
    let reasoning: u64 = samples.iter().map(|r| r.reasoning_completion_tokens).sum();
    if expected == 0 && answers == 0 {
        return default.clone();
    }
    let mut model = default.clone();
    if expected > 0 {
        model.paraphrase_output_permille = (u128::from(default.paraphrase_output_permille)
            * u128::from(written))
        .div_ceil(u128::from(expected))
        .try_into()
        .unwrap_or(u64::MAX);
    }
    if answers > 0 {
        model.reasoning_output_tokens = reasoning.div_ceil(answers);
    }
    model.source = format!("ledger ({} runs)", samples.len());
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_scales_the_defaults_by_what_was_measured() {
        let default = OutputModel::default();
        assert_eq!(calibrated(&[], &default), default);
        let sample = RunSample {
            paraphrase_expected_output_tokens: 1000,
            paraphrase_completion_tokens: 800,
            reasoning_answers: 10,
            reasoning_completion_tokens: 4000,
        };
        let model = calibrated(&[sample], &default);
        assert_eq!(model.paraphrase_output_permille, 840);
        assert_eq!(model.reasoning_output_tokens, 400);
        assert_eq!(model.source, "ledger (1 runs)");
    }
}
