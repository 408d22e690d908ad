//! Round 9 of the checker (heldout4 handed to tuning): findings the MeSH-derived lexicon
//! lacks, from the HPO sign table (`signs.tsv`), and symptom words in their verb forms —
//! each dropped or added one rejected, each said in other words kept.

use super::*;

#[test]
fn a_sign_only_one_text_names_is_dropped_or_added() {
    let dropped = verdict(
        "Exam shows ptosis, proptosis, chemosis, and periorbital swelling of both eyes.",
        "On exam there is ptosis, proptosis, and swelling around both eyes.",
    );
    assert_rejected_by(&dropped, Check::FindingDropped);
    let added = verdict(
        "She has had a 3-day history of diarrhea and abdominal pain.",
        "She reports 3 days of diarrhea and abdominal pain, accompanied by tenesmus.",
    );
    assert_rejected_by(&added, Check::FindingAdded);
}

#[test]
fn a_sign_said_apart_is_kept_but_not_another_site() {
    let note = "He reports pain in his right knee when he climbs stairs.";
    let kept = verdict(note, "Right knee pain on climbing stairs.");
    assert_not_by(&kept, &[Check::FindingAdded, Check::FindingDropped]);
    let changed = verdict(note, "Right hip pain on climbing stairs.");
    assert_rejected_by(&changed, Check::FindingAdded);
    // A hyphenated word of a sign said as two words.
    let kept = verdict(
        "ECG shows diffuse T wave inversion in the lateral leads.",
        "ECG: diffuse T-wave inversion, lateral leads.",
    );
    assert_not_by(&kept, &[Check::FindingAdded, Check::FindingDropped]);
}

#[test]
fn a_sign_said_in_plain_words_is_kept() {
    let kept = verdict(
        "He states that he feels full after eating only a small amount.",
        "He reports early satiety.",
    );
    assert_not_by(&kept, &[Check::FindingAdded]);
    let added = verdict(
        "He states that he eats only a small amount at lunch.",
        "He reports early satiety and eats little at lunch.",
    );
    assert_rejected_by(&added, Check::FindingAdded);
}

#[test]
fn symptom_words_in_verb_forms_are_findings() {
    let note = "He vomited twice and says his skin is itchy.";
    let kept = verdict(note, "Two episodes of vomiting; skin pruritus.");
    assert_not_by(&kept, &[Check::FindingAdded, Check::FindingDropped]);
    let dropped = verdict(
        note,
        "Two episodes of vomiting; skin otherwise unremarkable.",
    );
    assert_rejected_by(&dropped, Check::FindingDropped);
    let dropped = verdict(
        "She felt faint, then vomited several times.",
        "She felt faint several times.",
    );
    assert_rejected_by(&dropped, Check::FindingDropped);
}

#[test]
fn an_abbreviation_of_two_findings_keeps_both() {
    let note = "She denies any nausea, vomiting, or abdominal pain.";
    let kept = verdict(note, "Denies N/V or abd pain.");
    assert_not_by(&kept, &[Check::FindingDropped]);
    let dropped = verdict(note, "Denies nausea or abd pain.");
    assert_rejected_by(&dropped, Check::FindingDropped);
}

#[test]
fn unremarkable_for_denies_and_a_telegraphic_participle_ends_a_denial() {
    let note = "Auscultation of his lungs and heart is unremarkable for any rales or murmurs.";
    let kept = verdict(note, "Lung and heart auscultation: no rales or murmurs.");
    assert_not_by(&kept, &[Check::NegationAdded, Check::NegationLost]);
    let changed = verdict(note, "Lung and heart auscultation: rales and murmurs.");
    assert_rejected_by(&changed, Check::NegationLost);
    let note = "He has no significant past medical history. His parents bring him to the \
                pediatrician for a new rash.";
    let kept = verdict(
        note,
        "No significant PMH, brought to pediatrician by parents for new rash.",
    );
    assert_not_by(&kept, &[Check::NegationAdded]);
    let changed = verdict(
        note,
        "No significant PMH or new rash, seen by the pediatrician with his parents.",
    );
    assert_rejected_by(&changed, Check::NegationAdded);
}

#[test]
fn a_concept_said_by_its_head_or_a_common_spelling_is_kept() {
    let note = "She was diagnosed with trigeminal neuralgia and type-II diabetes mellitus.";
    let kept = verdict(
        note,
        "Dx: neuralgia, which her neurologist says involves a facial nerve; T2DM.",
    );
    assert_not_by(&kept, &[Check::FindingDropped, Check::FindingAdded]);
    let changed = verdict(
        note,
        "Dx: postherpetic neuralgia, which her neurologist says involves a facial \
         nerve; T2DM.",
    );
    assert_rejected_by(&changed, Check::FindingDropped);
    let changed = verdict(
        note,
        "Dx: neuralgia, which her neurologist says involves a facial nerve; T1DM.",
    );
    assert_rejected_by(&changed, Check::FindingDropped);
    let kept = verdict(
        "CT scan does not show positive lymph nodes or distant metastases.",
        "CT: no positive lymph nodes or distant mets.",
    );
    assert_not_by(&kept, &[Check::FindingDropped]);
}

#[test]
fn everyday_notions_are_no_findings() {
    // MeSH lists `behaviors`, `feelings`, `caring` and `mental health` among its
    // descriptors; a note's "caring for her children" names no finding.
    let kept = verdict(
        "Her condition makes caring for her two young children very difficult. She is \
         seeking mental health treatment.",
        "Her condition makes looking after her two young children very hard. She sees an \
         outpatient psychiatrist.",
    );
    assert_not_by(&kept, &[Check::FindingDropped]);
}

#[test]
fn an_onset_is_no_treatment_started() {
    let kept = verdict(
        "The episode started while he was sitting in class for an exam.",
        "It came on during a class exam.",
    );
    assert_not_by(&kept, &[Check::Management]);
    let changed = verdict(
        "She was started on a low-carbohydrate diet by her physician.",
        "Her physician advised her to walk for half an hour every day.",
    );
    assert_rejected_by(&changed, Check::Management);
}

#[test]
fn sl_is_sublingual_and_everyday_is_daily() {
    let note = "After 2 doses of sublingual nitroglycerin there is no improvement. He takes \
                an antibiotic everyday.";
    let kept = verdict(
        note,
        "No improvement after 2 doses of SL nitroglycerin. Takes an antibiotic every day.",
    );
    assert_not_by(&kept, &[Check::DoseRouteFrequency]);
    let changed = verdict(
        note,
        "No improvement after 2 doses of IV nitroglycerin. Takes an antibiotic every day.",
    );
    assert_rejected_by(&changed, Check::DoseRouteFrequency);
}

#[test]
fn a_vaccination_said_by_the_vaccine_is_kept() {
    let note = "She is brought in for a checkup and vaccinations.";
    let kept = verdict(note, "Brought in for checkup + vaccines.");
    assert_not_by(&kept, &[Check::ProcedureDropped]);
    let changed = verdict(note, "Brought in for checkup + blood transfusion.");
    assert_rejected_by(&changed, Check::ProcedureDropped);
}

#[test]
fn minor_and_prominent_are_degrees() {
    let note = "Pulmonary exam is notable for minor bibasilar crackles and a low-amplitude \
                tremor of her hands.";
    let kept = verdict(
        note,
        "Lungs: minor bibasilar crackles. Low-amplitude hand tremor.",
    );
    assert_not_by(&kept, &[Check::Severity]);
    let changed = verdict(
        note,
        "Lungs: prominent bibasilar crackles. Low-amplitude hand tremor.",
    );
    assert_rejected_by(&changed, Check::Severity);
    let changed = verdict(
        note,
        "Lungs: minor bibasilar crackles. High-amplitude hand tremor.",
    );
    assert_rejected_by(&changed, Check::Severity);
}

#[test]
fn a_person_is_not_what_a_scope_denies() {
    let note = "Both parents are nonsmokers. The child was born at term.";
    let kept = verdict(note, "Neither parent smokes. The child was born at term.");
    assert_not_by(&kept, &[Check::NegationAdded, Check::NegationLost]);
    let changed = verdict(note, "Both parents smoke. The child was born at term.");
    assert_rejected_by(&changed, Check::NegationLost);
}

#[test]
fn a_misspelling_written_right_is_the_same_concept() {
    let note = "Imaging shows a pancreatic psuedocyst after his bout of pancreatitis.";
    let kept = verdict(note, "Imaging: pancreatic pseudocyst after pancreatitis.");
    assert_not_by(&kept, &[Check::FindingAdded]);
    let changed = verdict(note, "Imaging: pancreatic abscess after pancreatitis.");
    assert_rejected_by(&changed, Check::FindingAdded);
}

#[test]
fn a_denial_passes_over_seem_and_appear_to_the_verb_denied() {
    let note = "The patient does not seem to recall the event.";
    let kept = verdict(note, "The patient cannot recall the event.");
    assert_not_by(&kept, &[Check::NegationAdded, Check::NegationLost]);
    let changed = verdict(note, "The patient can recall the event.");
    assert_rejected_by(&changed, Check::NegationLost);
}
