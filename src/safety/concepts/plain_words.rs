//! A finding said in plain words instead of its clinical term: `pain during sexual
//! intercourse` for dyspareunia, `urinating a lot … especially at night` for nocturia,
//! `becomes pale` for pallor. The lexicons name findings by noun phrases; a model (and a
//! note) as often says them with a verb or spread over a clause, which no phrase lexicon
//! matches. Hand-written from clinical knowledge (the lay glosses of the terms, as
//! `MedlinePlus` and the HPO layperson synonyms give them): each term with the groups of
//! words that say it, every group present, unnegated, close together in one sentence.

use super::super::facts::Facts;
use super::super::text::Gap;

/// Concept (its canonical lexicon name) → groups of word beginnings, one of each group
/// needed (`pain` covers `painful`; `red$` is the whole word only; a word ending in
/// `less` never counts). No gloss made of words that notes use for other things side by
/// side (`blood` + `urine`: "blood and urine cultures"), so no hematuria.
const PLAIN: &[(&str, &[&[&str]])] = &[
    ("dyspareunia", &[&["pain", "hurt"], &["intercourse", "sex"]]),
    (
        "nocturia",
        &[
            &["urinat", "void", "pee", "micturi"],
            &["night", "nocturnal"],
        ],
    ),
    (
        "polyuria",
        &[
            &["urinat", "void", "pee", "micturi"],
            &["lot$", "lots$", "excess", "increased", "frequent", "large"],
        ],
    ),
    (
        "polydipsia",
        &[
            &["drink", "thirst"],
            &["lot$", "lots$", "excess", "increased", "constant"],
        ],
    ),
    ("odynophagia", &[&["pain", "hurt"], &["swallow"]]),
    (
        "deglutition disorders",
        &[&["difficult", "trouble", "problem"], &["swallow"]],
    ),
    (
        "dysuria",
        &[
            &["pain", "burn", "hurt"],
            &["urinat", "void", "pee", "micturi"],
        ],
    ),
    ("pallor", &[&["pale"]]),
    ("erythema", &[&["red$", "redness", "redd"]]),
    ("edema", &[&["edematous", "oedematous", "swollen"]]),
    (
        "palpitations",
        &[&["heart"], &["racing", "pounding", "flutter", "skipp"]],
    ),
    ("pruritus", &[&["itch"]]),
    ("sweating", &[&["sweat", "diaphoretic"]]),
    (
        "arthralgia",
        &[&["joint"], &["pain", "ache", "aching", "hurt"]],
    ),
    (
        "myalgia",
        &[&["muscle"], &["pain", "ache", "aching", "hurt"]],
    ),
    (
        "headache",
        &[&["head$", "heads$"], &["pain", "ache", "aching", "hurt"]],
    ),
    ("fatigue", &[&["tired", "exhausted", "fatigued"]]),
    ("syncope", &[&["faint", "passed out", "passing out"]]),
    // Signs of the HPO table (`signs.tsv`) a note says with a verb.
    (
        "early satiety",
        &[
            &["full", "satiet"],
            &["small", "little", "early", "quick", "soon"],
        ],
    ),
    (
        "hypersomnia",
        &[
            &["sleep", "slept"],
            &["more$", "excess", "lot$", "increased"],
        ],
    ),
    ("sense of impending doom", &[&["doom"]]),
    ("slurred speech", &[&["slur"]]),
    (
        "easy fatigability",
        &[&["tire", "fatigu"], &["easy", "easily", "quick"]],
    ),
    ("nasal flaring", &[&["nasal", "nose", "nostril"], &["flar"]]),
    ("hyperactivity", &[&["hyperactiv", "overactiv"]]),
    (
        "knee pain",
        &[&["knee"], &["pain", "ache", "aching", "hurt"]],
    ),
];

/// Abbreviations that name two findings at once: the lexicon gives one spelling one
/// concept (`N/V` is nausea), so the second stands in it through this table, negated or
/// not as the abbreviation is (the negation check compares the first).
/// Each abbreviation as its two tokens (the tokens split at `/`).
const PAIRED: &[([&str; 2], &str)] = &[(["n", "v"], "vomiting")];

/// How many tokens apart the words of one gloss may stand.
const WINDOW: usize = 12;

/// Whether `other` says the finding `name` in plain words (`PLAIN`) or in an abbreviation
/// of two findings (`PAIRED`).
pub(super) fn said_plainly(name: &str, other: &Facts) -> bool {
    if PAIRED.iter().any(|([first, second], concept)| {
        *concept == name
            && other
                .tokens
                .windows(2)
                .any(|w| w[0].lower == *first && w[1].lower == *second && w[1].gap == Gap::Joiner)
    }) {
        return true;
    }
    let Some((_, groups)) = PLAIN.iter().find(|(n, _)| *n == name) else {
        return false;
    };
    let tokens = &other.tokens;
    let says = |j: usize, group: &[&str]| {
        let w = tokens[j].lower.as_ref();
        !other.negated[j]
            && !w.ends_with("less")
            && group.iter().any(|stem| match stem.split_once(' ') {
                // Two words (`passed out`): the next token must be the second.
                Some((first, second)) => {
                    w == first && tokens.get(j + 1).is_some_and(|t| t.lower == second)
                }
                None => match stem.strip_suffix('$') {
                    Some(whole) => w == whole,
                    None => w.starts_with(stem),
                },
            })
    };
    (0..tokens.len()).any(|i| {
        says(i, groups[0])
            && groups[1..].iter().all(|group| {
                (i.saturating_sub(WINDOW)..tokens.len().min(i + WINDOW + 1))
                    .any(|j| tokens[j].sentence == tokens[i].sentence && says(j, group))
            })
    })
}
