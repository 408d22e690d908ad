//! Tests of the whole checker: one short note and a faithful paraphrase of it, and one
//! unsafe change per check family.

use super::*;

const NOTE: &str = "A 24-year-old woman comes to the emergency department because of a 4-hour history of headaches. She has no history of major medical illness. She takes aspirin 81 mg orally daily. Her pulse is 106/min and blood pressure is 102/73 mm Hg. Examination shows swelling of the left knee.";
const GOOD: &str = "Examination reveals swelling in the left knee. This 24-year-old woman presents to the ED due to headaches for 4 hours. She reports no prior major medical illness. Her medications include aspirin 81 mg by mouth once daily. Pulse 106 beats per minute; blood pressure 102/73 mmHg.";

fn checker() -> SafetyChecker {
    SafetyChecker::default()
}

fn rejected(paraphrase: &str) -> Verdict {
    let verdict = checker().check(NOTE, paraphrase, Some("stop"));
    assert!(!verdict.accepted, "should be rejected: {paraphrase}");
    verdict
}

/// Asserts `verdict` holds a rejection by `check`, showing every rejection if not.
#[track_caller]
fn assert_rejected_by(verdict: &Verdict, check: Check) {
    assert!(verdict.rejected_by(check), "{:#?}", verdict.rejections);
}

#[test]
fn a_faithful_paraphrase_passes() {
    let verdict = checker().check(NOTE, GOOD, Some("stop"));
    assert!(verdict.accepted, "{:#?}", verdict.rejections);
    assert!(verdict.similarity < 0.9);
}

#[test]
fn changed_dropped_and_added_numbers_are_rejected() {
    assert!(rejected(&GOOD.replace("106", "116")).rejected_by(Check::NumberDropped));
    assert!(rejected(&GOOD.replace("106", "116")).rejected_by(Check::NumberAdded));
    assert!(rejected(&GOOD.replace("102/73", "120/73")).rejected_by(Check::NumberDropped));
    assert!(rejected(&format!("{GOOD} Temperature 38.2°C.")).rejected_by(Check::NumberAdded));
}

#[test]
fn swapped_units_are_rejected() {
    let verdict = rejected(&GOOD.replace("81 mg", "81 g"));
    assert_rejected_by(&verdict, Check::UnitChanged);
    assert!(rejected(&GOOD.replace("4 hours", "4 days")).rejected_by(Check::UnitChanged));
}

#[test]
fn drugs_must_match_by_name() {
    let verdict = rejected(&GOOD.replace("aspirin", "warfarin"));
    assert!(verdict.rejected_by(Check::DrugDropped) && verdict.rejected_by(Check::DrugAdded));
    let verdict = rejected(&GOOD.replace("by mouth", "intravenously"));
    assert_rejected_by(&verdict, Check::DoseRouteFrequency);
    let verdict = rejected(&GOOD.replace("once daily", "twice daily"));
    assert_rejected_by(&verdict, Check::DoseRouteFrequency);
}

#[test]
fn negation_and_laterality_flips_are_rejected() {
    let verdict = rejected(&GOOD.replace("reports no prior", "reports a prior"));
    assert_rejected_by(&verdict, Check::NegationLost);
    let verdict = rejected(&GOOD.replace(
        "Examination reveals swelling",
        "Examination reveals no swelling",
    ));
    assert_rejected_by(&verdict, Check::NegationAdded);
    assert!(rejected(&GOOD.replace("left knee", "right knee")).rejected_by(Check::Laterality));
    let shunt = "Echocardiography shows a right-to-left shunt.";
    let verdict = checker().check(
        shunt,
        "A right-to-right shunt is seen on echocardiography.",
        None,
    );
    assert_rejected_by(&verdict, Check::Laterality);
}

#[test]
fn artefacts_are_rejected() {
    assert!(rejected("").rejected_by(Check::Empty));
    assert!(
        rejected(&format!("Here is the paraphrased note:\n\n{GOOD}")).rejected_by(Check::Preamble)
    );
    assert!(rejected(&format!("```\n{GOOD}\n```")).rejected_by(Check::MarkdownFence));
    assert!(
        rejected(&format!("{GOOD}\n\nNote: all values were preserved."))
            .rejected_by(Check::Explanation)
    );
    assert!(rejected("I'm sorry, but I can't help with that.").rejected_by(Check::Refusal));
    let verdict = checker().check(NOTE, GOOD, Some("length"));
    assert!(verdict.rejected_by(Check::FinishReason));
}

#[test]
fn copies_and_truncations_are_rejected() {
    assert!(rejected(&NOTE.replace("shows", "reveals")).rejected_by(Check::NearCopy));
    let half: String = GOOD.split(". ").take(2).collect::<Vec<_>>().join(". ");
    let verdict = rejected(&half);
    assert!(verdict.rejected_by(Check::Length) || verdict.rejected_by(Check::ContentDropped));
}

#[test]
fn dropped_sentences_without_numbers_are_caught_by_content() {
    let verdict = rejected(&GOOD.replace("She reports no prior major medical illness. ", ""));
    assert_rejected_by(&verdict, Check::ContentDropped);
}

#[test]
fn diagnoses_that_differ_are_warnings_with_a_seam_for_a_model() {
    struct Strict;
    impl DiagnosisVerifier for Strict {
        fn verify(&self, _: &str, _: &str, differing: &[String]) -> Vec<Finding> {
            differing
                .iter()
                .map(|d| Finding {
                    check: Check::DiagnosisDiffers,
                    detail: d.clone(),
                })
                .collect()
        }
    }
    let original = "Suspected of Huntington disease. Mild gastritis.";
    let paraphrase = "Huntington chorea is suspected. Mild gastritis noted.";
    let verdict = checker().check(original, paraphrase, None);
    assert_eq!(verdict.warnings.len(), 1, "{:#?}", verdict.warnings);
    assert_eq!(verdict.warnings[0].detail, "huntington disease");
    assert!(
        !checker()
            .check_with(original, paraphrase, None, &Strict)
            .accepted
    );
}
