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

/// The checker's verdict on one pair.
fn verdict(original: &str, paraphrase: &str) -> Verdict {
    checker().check(original, paraphrase, Some("stop"))
}

/// Asserts `verdict` holds no rejection by any of `checks`, showing every rejection if not.
#[track_caller]
fn assert_not_by(verdict: &Verdict, checks: &[Check]) {
    for check in checks {
        assert!(
            !verdict.rejected_by(*check),
            "{check}: {:#?}",
            verdict.rejections
        );
    }
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
    // With the stricter thresholds of v1 (the defaults are looser since the fact checks
    // catch dropped facts, issue 8).
    let strict = SafetyChecker::new(SafetyConfig {
        min_sentence_coverage: 0.4,
        min_sentence_words: 3,
        ..SafetyConfig::default()
    });
    let paraphrase = GOOD.replace("She reports no prior major medical illness. ", "");
    let verdict = strict.check(NOTE, &paraphrase, Some("stop"));
    assert_rejected_by(&verdict, Check::ContentDropped);
}

#[test]
fn issue_8_false_rejections_pass() {
    let original = "Her pulse is 100/min and blood pressure is 120/80 mm Hg. She received intravenous fluids. Examination shows bilateral conjunctival injection. She has a heart attack history. Urinalysis:\nNitrites Negative\nBacteria Negative\nProtein 2+";
    let paraphrase = "BP 120/80 mm Hg with a heart rate of 100/min. IV fluids were given. Exam reveals conjunctival injection in both eyes. She has a history of myocardial infarction. Urinalysis: Nitrites Negative Bacteria Negative Protein 2+";
    let verdict = checker().check(original, paraphrase, Some("stop"));
    let facts: Vec<&Finding> = verdict
        .rejections
        .iter()
        .filter(|f| f.check.is_fact())
        .collect();
    assert!(facts.is_empty(), "{facts:#?}");
}

#[test]
fn issue_8_misses_are_caught_with_spans() {
    let check = |original: &str, paraphrase: &str, expected: Check| {
        let verdict = checker().check(original, paraphrase, Some("stop"));
        let finding = verdict.rejections.iter().find(|f| f.check == expected);
        assert!(finding.is_some(), "{expected}: {:#?}", verdict.rejections);
        let finding = finding.unwrap();
        assert!(finding.original_span.is_some() || finding.paraphrase_span.is_some());
    };
    check(
        "Fever of 102.2 F (39 C).",
        "Fever of 102.2 F (39 F).",
        Check::UnitChanged,
    );
    check(
        "He takes warfarin 2.5 mg orally daily.",
        "He takes warfarin 2.5 mg orally twice daily.",
        Check::DoseRouteFrequency,
    );
    check(
        "He takes warfarin 2.5 mg orally daily.",
        "He takes warfarin 2.5 mg intravenously daily.",
        Check::DoseRouteFrequency,
    );
    check(
        "Norovirus is suspected.",
        "Rotavirus is suspected.",
        Check::OrganismDropped,
    );
    check(
        "Suspected of asthma.",
        "Suspected of croup.",
        Check::FindingDropped,
    );
    check(
        "A 30-year-old woman with a cough.",
        "A 30-year-old man with a cough.",
        Check::Demographic,
    );
    check(
        "She has mild chest pain.",
        "She has severe chest pain.",
        Check::Severity,
    );
    check(
        "She denies chest pain.",
        "She reports mild chest pain.",
        Check::NegationLost,
    );
    check(
        "There is no crepitus.",
        "There is crepitus.",
        Check::NegationLost,
    );
    check(
        "Swelling of the left knee.",
        "Swelling of the right knee.",
        Check::Laterality,
    );
}

#[test]
fn a_swapped_procedure_is_rejected_and_its_synonyms_pass() {
    let note = "He was admitted. A CT scan of the abdomen is scheduled.";
    let swapped = checker().check(
        note,
        "The patient was admitted, and a diagnostic laparoscopy is planned.",
        Some("stop"),
    );
    assert_rejected_by(&swapped, Check::ProcedureDropped);
    assert_rejected_by(&swapped, Check::ProcedureAdded);
    let synonym = checker().check(
        note,
        "Following admission, abdominal computed tomography has been scheduled for him.",
        Some("stop"),
    );
    assert!(
        !synonym.rejected_by(Check::ProcedureDropped)
            && !synonym.rejected_by(Check::ProcedureAdded),
        "{:#?}",
        synonym.rejections
    );
}

#[test]
fn a_side_swapped_where_the_note_names_both_sides_is_rejected() {
    let note = "Her right eye is red. Drops are given in the left eye. The right eye is painful.";
    let swapped = checker().check(
        note,
        "The right eye looks red. She gets drops in the right eye, and the right eye hurts.",
        Some("stop"),
    );
    assert_rejected_by(&swapped, Check::Laterality);
    let merged = checker().check(
        note,
        "Drops go into her left eye; her right eye is red and sore.",
        Some("stop"),
    );
    assert!(
        !merged.rejected_by(Check::Laterality),
        "{:#?}",
        merged.rejections
    );
}

#[test]
fn a_unit_moved_beside_a_bare_number_of_the_same_value_is_rejected() {
    let note = "She has had a 1-hour history of headache. She is G1P0.";
    let verdict = checker().check(
        note,
        "A 1-day history of headache in a G1P0 woman.",
        Some("stop"),
    );
    assert_rejected_by(&verdict, Check::UnitChanged);
}

#[test]
fn size_and_frequency_qualifiers_are_compared() {
    let note = "Examination shows large purpura. He has occasional headaches.";
    let smaller = checker().check(
        note,
        "Small purpura are seen; headaches occur occasionally.",
        Some("stop"),
    );
    assert_rejected_by(&smaller, Check::Severity);
    let oftener = checker().check(
        note,
        "Large purpura are seen; he has frequent headaches.",
        Some("stop"),
    );
    assert_rejected_by(&oftener, Check::Temporal);
}

/// Helper C, round 4: concepts said in other words, telegraphic style and qualifiers that
/// belong to a name.
mod concepts_round4 {
    use super::*;

    #[test]
    fn telegraphic_abbreviations_and_lay_words_keep_the_facts() {
        let note = "A 49-year-old man comes to the emergency department because of recurrent \
                    abdominal pain for 1 week. He did not lose consciousness. He has multiple \
                    sclerosis and chronic obstructive lung disease. He has vomited blood twice.";
        let verdict = checker().check(
            note,
            "49 y/o M to ED w/ recurrent abd pain x 1 wk. No LOC. PMH: MS, COPD. Hematemesis x2.",
            Some("stop"),
        );
        for check in [
            Check::FindingDropped,
            Check::FindingAdded,
            Check::Temporal,
            Check::NegationLost,
        ] {
            assert!(
                !verdict.rejected_by(check),
                "{check}: {:?}",
                verdict.rejections
            );
        }
    }

    #[test]
    fn a_negation_dropped_in_telegraphic_style_is_still_caught() {
        let verdict = checker().check(
            "Angioplasty was done without stent placement. No organisms are seen.",
            "Angioplasty w/o stent placement. Gram stain shows organisms.",
            Some("stop"),
        );
        assert_rejected_by(&verdict, Check::NegationLost);
    }
}

/// Round 6: rewordings a paraphrasing model makes that earlier rounds read as changes, each
/// beside the change of the same place that must still be caught.
mod round6 {
    use super::*;

    #[test]
    fn management_statements_read_through_abbreviations_and_filler() {
        let note = "A 70-year-old woman is admitted to the coronary care unit for chest pain. \
                    Laboratory studies are ordered as shown below. She says she has taken her \
                    inhaler as prescribed. A cardiology consult is requested.";
        let kept = verdict(
            note,
            "70 y/o F admitted to CCU for chest pain. Labs ordered. Reports using her inhaler \
             as prescribed. Cardiology consult requested.",
        );
        assert_not_by(&kept, &[Check::Management]);
        // Another unit of care is still another plan.
        let moved = verdict(
            note,
            "70 y/o F admitted to the general medical ward for chest pain. Labs ordered. \
             Reports using her inhaler as prescribed. Cardiology consult requested.",
        );
        assert_rejected_by(&moved, Check::Management);
    }

    #[test]
    fn scopes_end_at_exceptions_and_set_phrases_and_read_more_negations() {
        // `besides`, `other than`: what follows is asserted.
        let verdict1 = verdict(
            "He has no complaints other than a dry cough.",
            "He has no complaints except a dry cough.",
        );
        assert_not_by(&verdict1, &[Check::NegationLost, Check::NegationAdded]);
        // `in no acute distress, alert and oriented`: alert is found, not denied.
        let verdict2 = verdict(
            "She is in no acute distress. She is alert and oriented.",
            "In no acute distress, alert and oriented.",
        );
        assert_not_by(&verdict2, &[Check::NegationLost, Check::NegationAdded]);
        // `fail to`, `cannot be detected` negate as `do not` and `not detected` do.
        let verdict3 = verdict(
            "Platelets do not aggregate with collagen. Femoral pulses are not detected.",
            "Platelets fail to aggregate with collagen. Femoral pulses cannot be detected.",
        );
        assert_not_by(&verdict3, &[Check::NegationLost, Check::NegationAdded]);
        let flipped = verdict(
            "Platelets do not aggregate with collagen. Femoral pulses are not detected.",
            "Platelets fail to aggregate with collagen. Femoral pulses are detected.",
        );
        assert!(
            flipped.rejected_by(Check::NegationLost) || flipped.rejected_by(Check::NegationAdded),
            "{:#?}",
            flipped.rejections
        );
    }

    #[test]
    fn a_finding_after_a_contrast_is_asserted_and_hyphenated_words_are_concepts() {
        let note = "He denies any leg weakness or tingling. She has had no recent flare-ups.";
        let moved = verdict(
            note,
            "He denies leg weakness but reports tingling. She has had no recent flare-ups.",
        );
        assert_rejected_by(&moved, Check::NegationLost);
        let flipped = verdict(
            note,
            "He denies any leg weakness or tingling. She had a recent flare-up.",
        );
        assert_rejected_by(&flipped, Check::NegationLost);
        let kept = verdict(
            note,
            "Denies leg weakness or tingling. No recent flare-ups.",
        );
        assert_not_by(&kept, &[Check::NegationLost, Check::NegationAdded]);
    }

    #[test]
    fn right_now_is_no_side() {
        let verdict1 = verdict(
            "She currently feels weak in her left arm.",
            "She feels weak in her left arm right now.",
        );
        assert_not_by(&verdict1, &[Check::Laterality]);
        let swapped = verdict(
            "She currently feels weak in her left arm.",
            "She feels weak in her right arm right now.",
        );
        assert_rejected_by(&swapped, Check::Laterality);
    }

    #[test]
    fn hyphenated_and_adverb_time_qualifiers_compare_by_value() {
        let note = "He has acute onset chest pain. He became suddenly dizzy. She is \
                    persistently hypotensive.";
        let verdict1 = verdict(
            note,
            "Acute-onset chest pain. Abruptly dizzy. Persistent hypotension.",
        );
        assert_not_by(&verdict1, &[Check::Temporal]);
        let changed = verdict(
            note,
            "Chronic chest pain. Abruptly dizzy. Persistent hypotension.",
        );
        assert_rejected_by(&changed, Check::Temporal);
    }

    #[test]
    fn the_visit_day_may_go_unsaid_but_not_another_day() {
        let verdict1 = verdict(
            "A 30-year-old man presents today with a painful rash on his back.",
            "A 30-year-old man presents with a painful rash on his back.",
        );
        assert_not_by(&verdict1, &[Check::Temporal]);
        let moved = verdict(
            "A 30-year-old man has a rash. A skin biopsy was performed today.",
            "A 30-year-old man has a rash. A skin biopsy was performed at his last visit.",
        );
        assert_rejected_by(&moved, Check::Temporal);
    }

    #[test]
    fn drugs_spelled_right_are_kept_when_bare() {
        let note = "Her medications are atrovastatin and metformin.";
        let verdict1 = verdict(note, "Meds: atorvastatin, metformin.");
        assert_not_by(&verdict1, &[Check::DrugDropped, Check::DrugAdded]);
        // With a dose or frequency beside it, the misspelled word is no mention whose
        // frequency could be compared: not excused (`daily` → `twice daily` would pass).
        let dosed = verdict(
            "She takes atrovastatin 20 mg daily.",
            "She takes atorvastatin 20 mg twice daily.",
        );
        assert_rejected_by(&dosed, Check::DrugAdded);
        // A drug of a near spelling that the lexicon knows is another drug.
        let swapped = verdict(
            "She takes prednisone 20 mg daily.",
            "She takes prednisolone 20 mg daily.",
        );
        assert_rejected_by(&swapped, Check::DrugAdded);
    }

    #[test]
    fn a_narrower_procedure_and_a_virus_for_its_disease_pass() {
        let note = "An X-ray of the chest is normal. She has hepatitis C.";
        let kept = verdict(note, "CXR nl. Hx of HCV.");
        assert_not_by(
            &kept,
            &[
                Check::ProcedureDropped,
                Check::FindingDropped,
                Check::OrganismAdded,
            ],
        );
        // Another virus, another procedure are still changes.
        let changed = verdict(note, "Chest CT nl. Hx of HBV.");
        assert_rejected_by(&changed, Check::ProcedureAdded);
        assert_rejected_by(&changed, Check::FindingDropped);
    }

    #[test]
    fn canonical_drug_names_hyphenated_words_and_combinations() {
        let swapped = verdict(
            "The rash improved. He was treated with niacin.",
            "The rash improved. He was treated with thiamine.",
        );
        assert_rejected_by(&swapped, Check::DrugDropped);
        let combination = verdict(
            "She was prescribed amoxicillin-clavulanic acid for otitis media.",
            "She was prescribed amoxicillin for otitis media.",
        );
        assert_rejected_by(&combination, Check::DrugAdded);
        let kept = verdict(
            "Cultures grow gram-negative rods that ferment lactose.",
            "Cultures grow lactose-fermenting gram-negative rods.",
        );
        assert_not_by(&kept, &[Check::DrugDropped, Check::DrugAdded]);
    }

    #[test]
    fn an_abbreviated_qualifier_is_the_same_qualifier() {
        let verdict1 = verdict(
            "An abdominal ultrasound shows gallstones.",
            "Abd US shows gallstones.",
        );
        assert_not_by(&verdict1, &[Check::FindingAdded, Check::FindingDropped]);
    }
}

mod round7;
mod round8;
mod round9;
