//! Round 7 of the checker (heldout6 and earlier tuning splits): each way of saying a fact
//! in other words that is now kept, beside the change of the same place that must still be
//! rejected.

use super::*;

#[test]
fn a_drug_abbreviation_alone_is_no_drug_named() {
    // Reading `MTX` as methotrexate was taken back (a fresh dose change went through): a
    // drug said only by its abbreviation counts as dropped, so its dose is never unseen.
    let note = "She takes methotrexate 15 mg orally weekly.";
    let abbreviated = verdict(note, "On MTX 15 mg PO weekly.");
    assert_rejected_by(&abbreviated, Check::DrugDropped);
    let changed = verdict(note, "On methotrexate 15 mg PO daily.");
    assert_rejected_by(&changed, Check::DoseRouteFrequency);
}

#[test]
fn a_lexicon_drug_that_notes_use_for_something_else_is_no_drug() {
    // `CTAB`: clear to auscultation bilaterally, not cetrimonium.
    let kept = verdict(
        "The lungs are clear to auscultation bilaterally. She takes lisinopril.",
        "Lungs CTAB. On lisinopril.",
    );
    assert_not_by(&kept, &[Check::DrugAdded]);
}

#[test]
fn a_drug_named_as_its_lab_test_is_kept() {
    let note = "Thyroid stimulating hormone is 4.5 U/mL and aspartate transaminase is elevated.";
    let kept = verdict(note, "TSH 4.5 U/mL; AST elevated.");
    assert_not_by(&kept, &[Check::DrugDropped]);
    let dropped = verdict(note, "AST elevated, 4.5 U/mL.");
    assert_rejected_by(&dropped, Check::DrugDropped);
}

#[test]
fn a_broader_concept_is_kept_by_a_narrower_one_both_name() {
    let note = "He was diagnosed with diabetes mellitus type 2 (DM2) 5 years ago and has \
                hypertension.";
    let kept = verdict(note, "DM2 dx 5 yrs ago; also HTN.");
    assert_not_by(&kept, &[Check::FindingDropped]);
    let dropped = verdict(
        "He has diabetes mellitus and hypertension.",
        "He has hypertension, nothing else.",
    );
    assert_rejected_by(&dropped, Check::FindingDropped);
}

#[test]
fn a_finding_said_as_its_adjective_or_lay_name_is_kept() {
    let obese = verdict(
        "She is morbidly obese and has a cough.",
        "She has morbid obesity and a cough.",
    );
    assert_not_by(&obese, &[Check::FindingAdded, Check::FindingDropped]);
    let hypotensive = verdict(
        "A 34-year-old woman in the intensive care unit has persistent hypotension.",
        "A 34-year-old woman in the intensive care unit remains persistently hypotensive.",
    );
    assert_not_by(&hypotensive, &[Check::FindingDropped]);
    let swelling = verdict(
        "There is 2+ pitting edema of both legs.",
        "Both legs show 2+ pitting swelling.",
    );
    assert_not_by(&swelling, &[Check::FindingDropped]);
    let dropped = verdict(
        "There is 2+ pitting edema of both legs and a rash.",
        "Both legs are examined; there is a rash, 2+.",
    );
    assert_rejected_by(&dropped, Check::FindingDropped);
}

#[test]
fn a_side_or_a_plain_synonym_before_a_finding_is_no_other_qualifier() {
    let kept = verdict(
        "He has left-sided weakness after a previous ischemic stroke; he had profuse bleeding.",
        "He has L-sided weakness after a prior ischemic stroke; he had heavy bleeding.",
    );
    assert_not_by(&kept, &[Check::FindingAdded]);
    let changed = verdict(
        "She has superficial spreading melanoma.",
        "She has nodular melanoma.",
    );
    assert_rejected_by(&changed, Check::FindingAdded);
}

#[test]
fn an_abbreviation_keeps_the_words_it_stands_for() {
    let kept = verdict(
        "A 30-year-old woman presents to the obstetric emergency room for an evaluation after \
         being involved in a motor vehicle accident.",
        "30 y/o F p/w to OB ER for eval after MVA.",
    );
    assert_not_by(&kept, &[Check::ContentDropped]);
}

#[test]
fn a_new_clause_after_a_comma_and_ends_a_negation() {
    let note = "She has no abdominal pain or diarrhea and takes mesalazine as maintenance therapy.";
    let kept = verdict(
        note,
        "She has no abdominal pain or diarrhea, and her maintenance therapy consists of \
         mesalazine.",
    );
    assert_not_by(&kept, &[Check::NegationAdded, Check::NegationLost]);
    let listed = verdict(
        "She has no fever, chills, and night sweats.",
        "She has fever, no chills, and no night sweats.",
    );
    assert_rejected_by(&listed, Check::NegationLost);
}

#[test]
fn the_object_of_a_negated_verb_is_what_is_denied() {
    let note = "His physical exam does not reveal any significant abnormality except for mild \
                splenomegaly. A blood smear shows morulae.";
    let kept = verdict(
        note,
        "PE unremarkable except mild splenomegaly. Blood smear reveals morulae.",
    );
    assert_not_by(&kept, &[Check::NegationLost, Check::NegationAdded]);
    let flipped = verdict(
        "Since then he has had periods when he did not feel that way.",
        "Since then he has had periods when he did feel that way.",
    );
    assert_rejected_by(&flipped, Check::NegationLost);
    let occur = verdict(
        "He has no diarrhea when he does not have breakfast.",
        "The diarrhea does not occur on days he skips breakfast.",
    );
    assert_not_by(&occur, &[Check::NegationLost, Check::NegationAdded]);
}

#[test]
fn relatives_and_sex_said_in_shorthand() {
    let note = "An 18-month-old boy is brought in by his parents. His parent's insurance lapsed. \
                Maternal history is positive for type 2 diabetes mellitus.";
    let kept = verdict(
        note,
        "18-mo-old M brought in by parents; parents' insurance lapsed. The mother has type 2 \
         diabetes mellitus.",
    );
    assert_not_by(&kept, &[Check::Demographic]);
    let changed = verdict(
        note,
        "18-mo-old F brought in by parents; parents' insurance lapsed. The mother has type 2 \
         diabetes mellitus.",
    );
    assert_rejected_by(&changed, Check::Demographic);
}

#[test]
fn no_acute_distress_and_a_persisting_finding_in_other_words() {
    let note = "He is in no acute distress. Her hacking cough persists.";
    let kept = verdict(note, "NAD. Persistent hacking cough.");
    assert_not_by(&kept, &[Check::Temporal]);
    let changed = verdict(note, "NAD. Intermittent hacking cough.");
    assert_rejected_by(&changed, Check::Temporal);
}

#[test]
fn lung_shorthand_urination_words_and_virus_types() {
    let note = "Her lungs are clear to auscultation bilaterally. She has painful micturition and \
                an upper respiratory tract infection. Herpes simplex virus type 2 is the cause.";
    let kept = verdict(
        note,
        "Lungs CTAB. Painful urination; URI. Cause: herpes simplex virus type 2.",
    );
    assert_not_by(
        &kept,
        &[
            Check::Laterality,
            Check::FindingAdded,
            Check::FindingDropped,
            Check::OrganismDropped,
        ],
    );
    let changed = verdict(
        note,
        "Lungs CTAB. Painful urination; URI. Cause: herpes simplex virus type 1.",
    );
    assert_rejected_by(&changed, Check::OrganismDropped);
    assert_rejected_by(&changed, Check::OrganismAdded);
    let side = verdict(
        note,
        "Lungs clear on the left. Painful urination; URI. Cause: HSV-2.",
    );
    assert_rejected_by(&side, Check::Laterality);
}

#[test]
fn peroral_and_vaginal_routes_and_a_smoker_said_as_a_verb() {
    let note = "Peroral metronidazole is prescribed. He denies smoking and alcohol use.";
    let kept = verdict(
        note,
        "Oral metronidazole is prescribed. No smoking or alcohol use per the patient.",
    );
    assert_not_by(
        &kept,
        &[
            Check::DoseRouteFrequency,
            Check::NegationLost,
            Check::NegationAdded,
        ],
    );
    let route = verdict(
        note,
        "Intravaginal metronidazole is prescribed. No smoking or alcohol use per the patient.",
    );
    assert_rejected_by(&route, Check::DoseRouteFrequency);
    let smokes = verdict(
        note,
        "Oral metronidazole is prescribed. He smokes but denies alcohol use.",
    );
    assert_rejected_by(&smokes, Check::NegationLost);
}

#[test]
fn a_colon_ratio_is_one_number() {
    let note =
        "She received 2 units of blood. Plasma, platelets and red cells are transfused in a \
                1:1:1 ratio.";
    let kept = verdict(
        note,
        "Got 2 units of blood; plasma, platelets and red cells transfused 1:1:1.",
    );
    assert_not_by(&kept, &[Check::NumberAdded, Check::NumberDropped]);
    let changed = verdict(
        note,
        "Got 2 units of blood; plasma, platelets and red cells transfused 2:1:1.",
    );
    assert_rejected_by(&changed, Check::NumberAdded);
}
