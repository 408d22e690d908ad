//! Unit tests of `concepts`, and of a concept said in other words (other names,
//! abbreviations, typos).

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

#[test]
fn a_concept_said_through_another_variant_or_an_abbreviation_is_kept() {
    for (original, paraphrase) in [
        // Another lexicon variant, its words apart (`muscle pain`).
        (
            "She has had muscle and joint pain for a week.",
            "One week of myalgias and arthralgias.",
        ),
        // A body part's adjective for its noun.
        (
            "Examination shows three painful ulcers in the mouth.",
            "Exam: three painful oral ulcers.",
        ),
        // A clinical abbreviation with the concept among its senses.
        (
            "A skin biopsy showed spindle cells.",
            "Skin bx: spindle cells.",
        ),
        (
            "He was brought in after a gunshot wound to the neck.",
            "Brought in after GSW to neck.",
        ),
        // A finding said as a verb.
        (
            "He did not lose consciousness.",
            "No loss of consciousness.",
        ),
        // A typo in the original (a letter dropped).
        (
            "Patient is diagnosed with posttaumatic stress disorder.",
            "Diagnosis: posttraumatic stress disorder.",
        ),
    ] {
        assert!(
            compared(original, paraphrase).is_empty(),
            "{original} / {paraphrase}: {:?}",
            compared(original, paraphrase)
        );
    }
}

#[test]
fn another_concept_is_still_a_change() {
    // One letter changed is no typo: another finding.
    assert!(!compared("She reports dysphagia.", "She reports dysphasia.").is_empty());
    // A numeral of a variant must stand: type 1 is not type 2.
    assert!(!compared(
        "He was diagnosed with type 2 diabetes two months ago.",
        "He was diagnosed with type 1 diabetes two months ago."
    )
    .is_empty());
    // A genus's initial must stand: another organism with the same species name.
    assert!(compared(
        "Pathology confirms Mycoplasma pneumoniae is the causal organism.",
        "Pathology confirms Streptococcus pneumoniae is the causal organism."
    )
    .contains(&Check::OrganismDropped));
    // A one-word variant (`syncope`) is no stand-in inside another concept's longer
    // name, and a hyphenated variant's part (`c-section`) is no stand-in for it.
    assert!(compared(
        "Situational syncope is confirmed.",
        "Neurocardiogenic syncope is confirmed."
    )
    .contains(&Check::FindingDropped));
    assert!(compared(
        "Scheduled cesarean delivery at 38 weeks. Section of the report follows.",
        "Vaginal delivery is suggested at 38 weeks. Section of the report follows."
    )
    .contains(&Check::ProcedureDropped));
    // An abbreviation whose senses hold no such concept excuses nothing.
    assert_eq!(
        compared(
            "A skin biopsy showed spindle cells.",
            "Skin CT: spindle cells."
        ),
        vec![Check::ProcedureDropped, Check::ProcedureAdded]
    );
}

#[test]
fn words_meet_through_their_forms() {
    let same = |a: &str, b: &str| same_word(&Key::new(a), &Key::new(b));
    assert!(same("hepatojugular", "hepato-jugular"));
    assert!(same("crepitus", "crepitation"));
    assert!(same("vomiting", "vomited"));
    assert!(same("redness", "red") && same("dizziness", "dizzy"));
    assert!(same("abdominal", "abd"));
    assert!(!same("dysphagia", "dysphasia"));
    assert!(!same("hypertension", "hypotension"));
}
