//! Unit tests of `concepts`.

use super::*;

fn compared(original: &str, paraphrase: &str) -> Vec<Check> {
    super::super::facts::compared_by(compare_concepts, original, paraphrase)
        .into_iter()
        .map(|f| f.check)
        .collect()
}

#[test]
fn a_broader_name_passes_and_a_differently_qualified_one_does_not() {
    // Less exact: the broader concept in place of the narrower one.
    assert!(compared(
        "She has type 2 diabetes mellitus.",
        "She has diabetes mellitus."
    )
    .is_empty());
    // The broader concept carries a qualifier the original lacks: another diagnosis.
    assert_eq!(
        compared(
            "Patient is diagnosed with a subdural hematoma.",
            "Patient is diagnosed with an epidural hematoma."
        ),
        vec![Check::FindingDropped]
    );
    // The same concept qualified otherwise on both sides.
    assert_eq!(
        compared(
            "Suspected of superficial spreading melanoma.",
            "Suspected of nodular melanoma."
        ),
        vec![Check::FindingAdded]
    );
    assert!(compared(
        "Suspected of nodular melanoma.",
        "Nodular melanoma is suspected."
    )
    .is_empty());
    // A broader concept the original names itself stands for itself.
    assert_eq!(
        compared(
            "A hematoma of the scalp and a subdural hematoma.",
            "A hematoma of the scalp and a hematoma."
        ),
        vec![Check::FindingDropped]
    );
}
