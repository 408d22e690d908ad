//! Tests of the negation check.

use super::*;

fn compared(original: &str, paraphrase: &str) -> Vec<Check> {
    super::super::facts::compared_by(compare_negations, original, paraphrase)
        .into_iter()
        .map(|f| f.check)
        .collect()
}

#[test]
fn plain_words_moved_out_of_a_scope_by_word_order_are_no_flip() {
    assert!(compared(
        "There is no medial or lateral malleolus point tenderness.",
        "No point tenderness is present over the medial or lateral malleolus."
    )
    .is_empty());
    // A word negated in one place and asserted in another of the paraphrase.
    assert!(compared(
        "No abnormalities in behavior. Cognitive behavioral therapy is advised.",
        "No behavioral abnormalities. Cognitive behavioral therapy is advised."
    )
    .is_empty());
    // A real flip of a plain word is still one.
    assert_eq!(
        compared(
            "The knee shows no crepitations.",
            "The knee shows crepitations."
        ),
        vec![Check::NegationLost]
    );
}

#[test]
fn a_scope_opened_past_auxiliaries_or_by_a_list_item_names_its_word() {
    assert_eq!(
        compared(
            "Since surgery he has not had a bowel movement.",
            "Since surgery he has had a bowel movement."
        ),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared(
            "He has no dizziness, ear discharge, ringing noise, or ear pain.",
            "He reports a ringing noise but has no dizziness, ear discharge, or ear pain."
        ),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared(
            "There is no personal or family history of serious illness.",
            "There is a personal or family history of serious illness."
        ),
        vec![Check::NegationLost]
    );
    // `and` may join a new clause the scope runs on into: not an item.
    assert!(compared(
        "The eye had no redness, and slit lamp examination was unremarkable.",
        "No redness of the eye; the slit lamp exam was unremarkable."
    )
    .is_empty());
    // The same list reordered is no flip.
    assert!(compared(
        "He has no dizziness, ear discharge, ringing noise, or ear pain.",
        "No ear pain, ringing noise, ear discharge or dizziness."
    )
    .is_empty());
}

#[test]
fn adjectival_negations_deny_their_adjective() {
    assert_eq!(
        compared("The abdomen is nontender.", "The abdomen is tender."),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared("Abdomen soft, non-tender.", "Abdomen soft, tender."),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared(
            "The neurological exam is within normal limits.",
            "The neurological exam is abnormal."
        ),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared(
            "Neurological exam shows abnormalities.",
            "Neurological exam is normal."
        ),
        vec![Check::NegationAdded]
    );
    // The paraphrase also says the word negated elsewhere (`normal` vital signs): the
    // counts still moved.
    assert_eq!(
        compared(
            "Physical examination reveals no abnormalities. Vital signs are normal.",
            "Physical examination reveals abnormalities. Vital signs are normal."
        ),
        vec![Check::NegationLost]
    );
    // Said the same way, or negated in other words, no flip.
    assert!(compared("The abdomen is nontender.", "Abdomen is not tender.").is_empty());
    assert!(compared(
        "The exam is unremarkable.",
        "The exam reveals no abnormalities."
    )
    .is_empty());
    assert!(compared(
        "The abdomen is nontender; the right knee is tender.",
        "Right knee tender; abdomen nontender."
    )
    .is_empty());
}

#[test]
fn word_forms_and_un_and_free_forms_compare() {
    assert_eq!(
        compared("She has never smoked.", "She is a smoker."),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared("Breathing is unlabored.", "Breathing is labored."),
        vec![Check::NegationLost]
    );
    assert_eq!(
        compared("She has been pain-free since.", "She has had pain since."),
        vec![Check::NegationLost]
    );
    assert!(compared("She has never smoked.", "She is a nonsmoker.").is_empty());
}

#[test]
fn a_backward_scope_without_a_concept_names_its_first_word() {
    assert_eq!(
        compared("Bowel sounds are present.", "Bowel sounds are absent."),
        vec![Check::NegationAdded]
    );
    assert_eq!(
        compared(
            "Pulses are palpable in all extremities.",
            "Pulses are not palpable in the legs."
        ),
        vec![Check::NegationAdded]
    );
    assert!(compared("Bowel sounds are absent.", "No bowel sounds are heard.").is_empty());
}

#[test]
fn a_concept_said_both_ways_flips_when_its_counts_move() {
    assert_eq!(
        compared(
            "She had a fever last week. She denies fever today.",
            "She had a fever last week. She reports fever today."
        ),
        vec![Check::NegationLost]
    );
    // A plain word said both ways is left alone.
    assert!(compared(
        "The fork is placed on the mastoid. Once the tone is no longer heard, the fork is held over the ear.",
        "Fork placed on the mastoid; fork held over the ear once tone no longer heard."
    )
    .is_empty());
    // Reordered, each mention keeps its polarity.
    assert!(compared(
        "She had a fever last week. She denies fever today.",
        "She denies fever today; last week she had a fever."
    )
    .is_empty());
}

#[test]
fn a_negative_test_before_its_name_is_negated() {
    assert_eq!(
        compared(
            "She had a negative Spurling test.",
            "Spurling test was positive."
        ),
        vec![Check::NegationLost]
    );
    assert!(compared(
        "She had a negative Spurling test.",
        "Spurling test was negative."
    )
    .is_empty());
}
