//! The expected output of a request: a paraphrase about as long as its note, a reasoning
//! answer of a typical size, hidden reasoning for o-series and gpt-5. Defaults until the
//! ledger calibrates them (`calibrate`).

use serde::{Deserialize, Serialize};

use super::custom_id::RequestKind;

/// How many output tokens a request is expected to spend (not the hard bound: that is
/// its cap). Ratios are in thousandths so the arithmetic stays in integers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputModel {
    /// A paraphrase is about as long as the note it rewrites: output tokens are this many
    /// thousandths of the user message's tokens (the note plus a one-line instruction).
    pub paraphrase_output_permille: u64,
    /// A reasoning answer (five short JSON fields) has a typical size, whatever the note.
    pub reasoning_output_tokens: u64,
    /// A verifier's answer (`{differences, verdict}`): short when nothing differs, which
    /// is the common case. Absent from plans made before verification existed.
    #[serde(default = "default_verify_output_tokens")]
    pub verify_output_tokens: u64,
    /// o-series and gpt-5 also bill hidden reasoning tokens: this many thousandths of the
    /// visible output are added for them.
    pub hidden_reasoning_permille: u64,
    /// Where these numbers come from (`default` until runs are measured).
    pub source: String,
}

fn default_verify_output_tokens() -> u64 {
    40
}

impl Default for OutputModel {
    /// Assumptions until the ledger has measured runs: a paraphrase 5% longer than its
    /// prompt's note, a reasoning answer of 350 tokens, a verdict of 40, hidden reasoning as long again as
    /// the visible answer.
    fn default() -> OutputModel {
        OutputModel {
            paraphrase_output_permille: 1050,
            reasoning_output_tokens: 350,
            verify_output_tokens: default_verify_output_tokens(),
            hidden_reasoning_permille: 1000,
            source: "default".into(),
        }
    }
}

impl OutputModel {
    /// Expected output tokens of one request, never above its cap.
    pub fn expected_output_tokens(
        &self,
        kind: RequestKind,
        user_content_tokens: u64,
        cap: u64,
        reasoning_model: bool,
    ) -> u64 {
        let visible = match kind {
            RequestKind::Paraphrase => {
                (user_content_tokens * self.paraphrase_output_permille).div_ceil(1000)
            }
            RequestKind::Reasoning => self.reasoning_output_tokens,
            RequestKind::Verify => self.verify_output_tokens,
        };
        let hidden = if reasoning_model {
            (visible * self.hidden_reasoning_permille).div_ceil(1000)
        } else {
            0
        };
        (visible + hidden).min(cap)
    }
}
