//! The expected output of the next plan, calibrated per model family from what earlier
//! runs of it wrote (rows of `reports/ledger.csv`): measured tokens over the tokens of
//! what they were asked to rewrite, never over an earlier estimate (issue 11).

use super::model::family_of;
use super::output::OutputModel;

/// What one reconciled run measured, for calibration. "Written" tokens are the visible
/// answer (completion tokens less hidden reasoning tokens); "hidden" are the reasoning
/// tokens o-series and gpt-5 bill inside completion tokens. Each is counted once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSample {
    /// The model that ran (a family or a dated snapshot).
    pub model: String,
    /// First-attempt paraphrases that came back: the tokens of their user messages'
    /// content (the note and its instruction), and what they wrote.
    pub paraphrase_content_tokens: u64,
    pub paraphrase_written_tokens: u64,
    pub paraphrase_hidden_tokens: u64,
    /// Reasoning answers that came back, and what they wrote.
    pub reasoning_answers: u64,
    pub reasoning_written_tokens: u64,
    pub reasoning_hidden_tokens: u64,
}

/// `numerator / denominator` in thousandths, rounded up; `None` when nothing was measured.
fn permille(numerator: u64, denominator: u64) -> Option<u64> {
    (denominator > 0).then(|| {
        (u128::from(numerator) * 1000)
            .div_ceil(u128::from(denominator))
            .try_into()
            .unwrap_or(u64::MAX)
    })
}

/// The output model of `model`, measured by earlier runs of its family when there are
/// any (other families' runs are left out): the paraphrase ratio is what first attempts
/// wrote over their content tokens; reasoning answers their mean visible size; hidden
/// reasoning what was billed as reasoning over what was written. Whatever no run
/// measured keeps its default.
pub fn calibrated(model: &str, samples: &[RunSample], default: &OutputModel) -> OutputModel {
    let Ok(family) = family_of(model) else {
        return default.clone();
    };
    let runs: Vec<&RunSample> = samples
        .iter()
        .filter(|s| family_of(&s.model).is_ok_and(|f| f.name == family.name))
        .filter(|s| s.paraphrase_content_tokens > 0 || s.reasoning_answers > 0)
        .collect();
    if runs.is_empty() {
        return default.clone();
    }
    let sum = |field: fn(&RunSample) -> u64| -> u64 { runs.iter().map(|s| field(s)).sum() };
    let content = sum(|s| s.paraphrase_content_tokens);
    let written = sum(|s| s.paraphrase_written_tokens);
    let answers = sum(|s| s.reasoning_answers);
    let reasoning_written = sum(|s| s.reasoning_written_tokens);
    let hidden = sum(|s| s.paraphrase_hidden_tokens) + sum(|s| s.reasoning_hidden_tokens);
    let mut model = default.clone();
    if let Some(ratio) = permille(written, content) {
        model.paraphrase_output_permille = ratio;
    }
    if answers > 0 {
        model.reasoning_output_tokens = reasoning_written.div_ceil(answers);
    }
    if family.reasoning_model {
        let visible = sum(|s| {
            if s.paraphrase_content_tokens > 0 {
                s.paraphrase_written_tokens
            } else {
                0
            }
        }) + reasoning_written;
        if let Some(ratio) = permille(hidden, visible) {
            model.hidden_reasoning_permille = ratio;
        }
    }
    model.source = format!(
        "ledger ({} run{} of {})",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        family.name
    );
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::RequestKind;

    fn sample(model: &str, content: u64, written: u64) -> RunSample {
        RunSample {
            model: model.into(),
            paraphrase_content_tokens: content,
            paraphrase_written_tokens: written,
            ..RunSample::default()
        }
    }

    #[test]
    fn two_runs_give_the_exact_ratio_of_what_was_written_to_the_notes() {
        let default = OutputModel::default();
        assert_eq!(calibrated("gpt-4o", &[], &default), default);
        // The two runs: each wrote 84,000 tokens for notes of 100,000. Scaling
        // the default by written/expected drifted to 934‰; the truth is 840‰.
        let runs = [
            sample("gpt-4o", 100_000, 84_000),
            sample("gpt-4o-2024-08-06", 100_000, 84_000),
        ];
        let model = calibrated("gpt-4o", &runs, &default);
        assert_eq!(model.paraphrase_output_permille, 840);
        assert_eq!(model.reasoning_output_tokens, 350, "not measured: default");
        assert_eq!(model.source, "ledger (2 runs of gpt-4o)");
        // Unequal runs weigh by their tokens: (84,000 + 10,000) / (100,000 + 20,000).
        let runs = [
            sample("gpt-4o", 100_000, 84_000),
            sample("gpt-4o", 20_000, 10_000),
        ];
        assert_eq!(
            calibrated("gpt-4o", &runs, &default).paraphrase_output_permille,
            784
        );
    }

    #[test]
    fn other_families_runs_are_left_out() {
        let default = OutputModel::default();
        let runs = [
            sample("gpt-4o-mini", 100_000, 50_000),
            sample("gpt-4o", 100_000, 90_000),
        ];
        assert_eq!(
            calibrated("gpt-4o", &runs, &default).paraphrase_output_permille,
            900
        );
        assert_eq!(
            calibrated("gpt-4o-mini", &runs, &default).paraphrase_output_permille,
            500
        );
        assert_eq!(calibrated("gpt-4.1", &runs, &default), default);
    }

    #[test]
    fn hidden_reasoning_is_counted_once() {
        // A gpt-5 run: paraphrases of notes of 1,000 tokens billed 3,000 completion
        // tokens of which 2,000 were hidden reasoning; 10 reasoning answers billed 8,000
        // of which 4,000 hidden.
        let run = RunSample {
            model: "gpt-5".into(),
            paraphrase_content_tokens: 1_000,
            paraphrase_written_tokens: 1_000,
            paraphrase_hidden_tokens: 2_000,
            reasoning_answers: 10,
            reasoning_written_tokens: 4_000,
            reasoning_hidden_tokens: 4_000,
        };
        let model = calibrated("gpt-5", &[run], &OutputModel::default());
        assert_eq!(model.paraphrase_output_permille, 1000);
        assert_eq!(model.reasoning_output_tokens, 400, "visible tokens only");
        assert_eq!(model.hidden_reasoning_permille, 1200, "6,000 over 5,000");
        // The next plan then expects what was billed, not the hidden part twice:
        // the notes' 1,000 tokens → 1,000 + 1,200 = 2,200 per 1,000 (3,000 billed for
        // paraphrases, 8,000 for reasoning: 11,000 over 5,000 visible overall).
        let paraphrase = model.expected_output_tokens(RequestKind::Paraphrase, 1000, 100_000, true);
        let reasoning = model.expected_output_tokens(RequestKind::Reasoning, 1000, 100_000, true);
        assert_eq!(paraphrase + 10 * reasoning, 2_200 + 10 * 880);
        assert_eq!(
            paraphrase + 10 * reasoning,
            11_000,
            "exactly what was billed"
        );
    }
}
