//! Demographics: the patient's sex (the first sex word, else the pronouns) and the
//! relatives and companions a note names, and the check that neither changes. Ages are
//! numbers (`numbers.rs`).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::facts::Facts;
use super::text::spelling_index;
use super::word_filter::WordMap;
use super::{Check, Finding};

const MALE: &[&str] = &["man", "male", "boy", "gentleman", "m"];
const FEMALE: &[&str] = &["woman", "female", "girl", "lady", "f"];
/// Relation words → canonical relation.
const RELATIONS: &[(&str, &str)] = &[
    ("mother", "mother"),
    ("mom", "mother"),
    ("father", "father"),
    ("dad", "father"),
    ("brother", "brother"),
    ("sister", "sister"),
    ("son", "son"),
    ("daughter", "daughter"),
    ("wife", "wife"),
    ("husband", "husband"),
    ("grandmother", "grandmother"),
    ("grandfather", "grandfather"),
    ("granddaughter", "granddaughter"),
    ("grandson", "grandson"),
    ("grandparents", "grandparents"),
    ("aunt", "aunt"),
    ("uncle", "uncle"),
    ("cousin", "cousin"),
    ("niece", "niece"),
    ("nephew", "nephew"),
    ("parents", "parents"),
    ("parent", "parents"),
    ("boyfriend", "boyfriend"),
    ("girlfriend", "girlfriend"),
    ("neighbor", "neighbor"),
    ("roommate", "roommate"),
    ("sibling", "sibling"),
    ("siblings", "sibling"),
    ("twin", "twin"),
];
/// People a note names who are no relation (`the patient`, `his children`).
const PEOPLE: &[&str] = &["patient", "child", "children", "partner", "relatives"];

/// Whether `word` names a person: a relation (`mother`, `parents`, `sisters`) or one of
/// `PEOPLE`. The negation check never takes one for what a scope denies.
pub(super) fn is_person(word: &str) -> bool {
    PEOPLE.contains(&word) || relation(word).is_some()
}

/// The `RELATIONS` row of `word` or of its singular (`sisters`), by a hash lookup.
fn relation(word: &str) -> Option<&'static (&'static str, &'static str)> {
    static INDEX: OnceLock<WordMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| spelling_index(RELATIONS, |(w, _)| w));
    index
        .get(word)
        .or_else(|| word.strip_suffix('s').and_then(|w| index.get(w)))
        .map(|&r| &RELATIONS[r])
}

const RELATION_MODIFIERS: &[&str] = &["younger", "older", "elder", "maternal", "paternal", "twin"];

/// The patient's sex and the token that says it.
fn sex(facts: &Facts) -> Option<(&'static str, usize)> {
    let tokens = &facts.tokens;
    for (i, t) in tokens.iter().enumerate() {
        let raw = &facts.text[t.start..t.end];
        // `M`/`F` only as written after an age (`14 y/o F`, `18-mo-old M`, `32 yo M`).
        let letter = raw.len() == 1;
        let after_age = i > 0 && {
            let age = tokens[i - 1].lower.as_ref();
            ["o", "yo"].contains(&age) || age.ends_with("-old")
        };
        if letter && !after_age {
            continue;
        }
        let previous = i.checked_sub(1).map(|p| tokens[p].lower.as_ref());
        // "his mother's friend": a sex word after a possessive is someone else.
        if matches!(previous, Some("his" | "her" | "their")) {
            continue;
        }
        if MALE.contains(&t.lower.as_ref()) {
            return Some(("male", i));
        }
        if FEMALE.contains(&t.lower.as_ref()) {
            return Some(("female", i));
        }
    }
    let (mut he, mut she) = ((0, None), (0, None));
    for (i, t) in tokens.iter().enumerate() {
        match t.lower.as_ref() {
            "he" | "his" | "him" => {
                he.0 += 1;
                he.1.get_or_insert(i);
            }
            "she" | "her" | "hers" => {
                she.0 += 1;
                she.1.get_or_insert(i);
            }
            _ => {}
        }
    }
    match (he, she) {
        ((h, Some(i)), (s, _)) if h > s * 2 => Some(("male", i)),
        ((h, _), (s, Some(i))) if s > h * 2 => Some(("female", i)),
        _ => None,
    }
}

/// The relations named, with a modifier (`younger brother`), and their token spans.
fn relations(facts: &Facts) -> BTreeMap<String, (usize, usize)> {
    let tokens = &facts.tokens;
    let mut out = BTreeMap::new();
    for (i, t) in tokens.iter().enumerate() {
        // `mother's`, `parents'`, `parent's`. Each ending ends in `s`, `'` or the last
        // byte of `’`: most words end otherwise and try none of them.
        let lower: &str = &t.lower;
        // Every relation has three letters or more (`mom`, `son`): shorter words are none.
        if lower.len() < 3 {
            continue;
        }
        let word = if matches!(lower.as_bytes().last(), Some(b's' | b'\'' | 0x99)) {
            ["'s", "\u{2019}s", "'", "\u{2019}"]
                .iter()
                .find_map(|e| lower.strip_suffix(e))
                .unwrap_or(lower)
        } else {
            lower
        };
        // `maternal history`, `paternal history`: the mother's, the father's.
        let word = match (word, tokens.get(i + 1).map(|n| n.lower.as_ref())) {
            ("maternal", Some("history" | "hx")) => "mother",
            ("paternal", Some("history" | "hx")) => "father",
            _ => word,
        };
        let Some((_, canonical)) = relation(word) else {
            continue;
        };
        // `little brother` = `younger brother`, `big sister` = `older sister`.
        let modifier = i
            .checked_sub(1)
            .map(|p| match tokens[p].lower.as_ref() {
                "little" | "baby" => "younger",
                "big" => "older",
                m => m,
            })
            .filter(|m| RELATION_MODIFIERS.contains(m));
        let (key, first) = match modifier {
            Some(m) => (format!("{m} {canonical}"), i - 1),
            None => ((*canonical).to_string(), i),
        };
        out.entry(key).or_insert((first, i + 1));
    }
    out
}

/// Relations of one sex (the others are of either).
const MALE_RELATIONS: &[&str] = &[
    "father",
    "brother",
    "son",
    "husband",
    "grandfather",
    "grandson",
    "uncle",
    "nephew",
    "boyfriend",
];
const FEMALE_RELATIONS: &[&str] = &[
    "mother",
    "sister",
    "daughter",
    "wife",
    "grandmother",
    "granddaughter",
    "aunt",
    "niece",
    "girlfriend",
];

/// Whether the relation `key` at token `at`, after a possessive, may be the patient seen
/// by the one who brings them (`concerned about her son's behavior`, `her husband woke up
/// with the symptoms`): a relation of the patient's sex, which a paraphrase may call the
/// patient (`he`). Only excuses a relation the paraphrase leaves out when it names none
/// of its own.
fn the_patient(facts: &Facts, key: &str, at: usize, patient: Option<&str>) -> bool {
    let possessive = at
        .checked_sub(1)
        .is_some_and(|p| matches!(facts.tokens[p].lower.as_ref(), "her" | "his" | "their"));
    let of_sex = match patient {
        Some("male") => MALE_RELATIONS.contains(&key),
        Some("female") => FEMALE_RELATIONS.contains(&key),
        _ => false,
    };
    possessive && of_sex
}

/// Rejects a change of the patient's sex and a relative one text names and the other not.
pub(super) fn compare_demographics(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let patient_sex = sex(before);
    if let (Some((a, i)), Some((b, j))) = (patient_sex, sex(after)) {
        if a != b {
            rejections.push(Finding::new(
                Check::Demographic,
                format!("the patient is {a} in the original, {b} in the paraphrase"),
                Some(before.token_span(i, i + 1)),
                Some(after.token_span(j, j + 1)),
            ));
        }
    }
    let original = relations(before);
    let paraphrase = relations(after);
    let base = |k: &str| k.rsplit(' ').next().unwrap_or(k).to_string();
    let none_new = paraphrase
        .keys()
        .all(|k| original.contains_key(k) || original.keys().any(|o| base(o) == base(k)));
    for (key, span) in &original {
        let kept = paraphrase.contains_key(key)
            || (!key.contains(' ') && paraphrase.keys().any(|p| base(p) == *key))
            || none_new && the_patient(before, key, span.0, patient_sex.map(|(s, _)| s));
        if !kept {
            let counterpart = paraphrase
                .iter()
                .find(|(p, _)| !original.contains_key(*p))
                .map(|(_, s)| after.token_span(s.0, s.1));
            rejections.push(Finding::new(
                Check::Demographic,
                format!(
                    "`{}` is not in the paraphrase",
                    before.token_span(span.0, span.1)
                ),
                Some(before.token_span(span.0, span.1)),
                counterpart,
            ));
        }
    }
    for (key, span) in &paraphrase {
        let known = original.contains_key(key)
            || (!key.contains(' ') && original.keys().any(|o| base(o) == *key));
        if !known {
            rejections.push(Finding::new(
                Check::Demographic,
                format!(
                    "`{}` is not in the original",
                    after.token_span(span.0, span.1)
                ),
                None,
                Some(after.token_span(span.0, span.1)),
            ));
        }
    }
}
