//! Laterality per body part: each side word (`left`, `right`, `bilateral`, `both`, a
//! telegraphic `L`/`R`) is attached to the body part next to it, and the check that every
//! body part keeps its side (`bilateral` = "both eyes").

use std::collections::BTreeSet;
use std::sync::OnceLock;

use rustc_hash::FxHashSet;

use super::facts::Facts;
use super::text::{cardiac_sentence, Gap};
use super::{Check, Finding};

/// Body parts a side attaches to (singular, lower case).
const BODY_PARTS: &[&str] = &[
    "eye",
    "ear",
    "knee",
    "ankle",
    "leg",
    "arm",
    "hand",
    "foot",
    "feet",
    "lung",
    "kidney",
    "breast",
    "hip",
    "shoulder",
    "elbow",
    "wrist",
    "groin",
    "flank",
    "heel",
    "thigh",
    "calf",
    "chest",
    "quadrant",
    "side",
    "ventricle",
    "ventricular",
    "atrium",
    "atrial",
    "sternal",
    "lobe",
    "testis",
    "testicle",
    "ovary",
    "adnexa",
    "adnexal",
    "extremity",
    "extremitie",
    "limb",
    "face",
    "cheek",
    "temple",
    "temporal",
    "frontal",
    "parietal",
    "occipital",
    "hemisphere",
    "neck",
    "axilla",
    "axillary",
    "clavicle",
    "costal",
    "base",
    "pleural",
    "carotid",
    "femoral",
    "radial",
    "tympanic",
    "nostril",
    "tonsil",
    "tonsillar",
    "pupil",
    "toe",
    "finger",
    "thumb",
    "buttock",
    "gluteal",
    "parotid",
    "jaw",
    "scrotum",
    "hemiscrotum",
    "inguinal",
    "popliteal",
    "conjunctiva",
    "conjunctival",
    "cornea",
    "retina",
    "optic",
    "facial",
    "forearm",
    "palm",
    "rib",
    "hemithorax",
    "thorax",
    "decubitus",
    "lateral",
    "joint",
    "nerve",
    "vein",
    "artery",
    "lymph",
    "cervical",
    "malleolus",
    "hemiparesis",
    "weakness",
    "sided",
    "shin",
    "knees",
    "heels",
    "mastoid",
    "nare",
    "naris",
    "ovarian",
    "renal",
    "orbit",
    "orbital",
];

/// Capitalised clinical abbreviations that carry a side and a body part (`RUQ` = right
/// upper quadrant), read as written in capitals only. Forms from the standard abbreviation
/// lists (Wikipedia "List of medical abbreviations", letters L and R; Davis's Pocket
/// Clinical Abbreviations): abdominal quadrants, limbs, lung lobes, coronary arteries,
/// ventricles, bundle branches and the lungs clear on both sides.
const SIDED_ABBREVIATIONS: &[(&str, &str, &str)] = &[
    ("RUQ", "right", "quadrant"),
    ("RLQ", "right", "quadrant"),
    ("LUQ", "left", "quadrant"),
    ("LLQ", "left", "quadrant"),
    ("RUE", "right", "extremity"),
    ("RLE", "right", "extremity"),
    ("LUE", "left", "extremity"),
    ("LLE", "left", "extremity"),
    ("BLE", "bilateral", "extremity"),
    ("RUL", "right", "lobe"),
    ("RML", "right", "lobe"),
    ("RLL", "right", "lobe"),
    ("LUL", "left", "lobe"),
    ("LLL", "left", "lobe"),
    ("RCA", "right", "artery"),
    ("LAD", "left", "artery"),
    ("LCA", "left", "artery"),
    ("LCX", "left", "artery"),
    ("LCx", "left", "artery"),
    ("LV", "left", "ventricle"),
    ("RV", "right", "ventricle"),
    ("LVH", "left", "ventricle"),
    ("RVH", "right", "ventricle"),
    // The sternal borders where a murmur is heard best.
    ("LUSB", "left", "sternal"),
    ("LLSB", "left", "sternal"),
    ("RUSB", "right", "sternal"),
    ("RLSB", "right", "sternal"),
    ("LBBB", "left", ""),
    ("RBBB", "right", ""),
    // Clear to auscultation bilaterally: the lungs' examination.
    ("CTAB", "bilateral", ""),
];

/// The side and body part of a capitalised abbreviation (`RUQ`), if it is one. This runs
/// for every token: all of them are two to four letters starting with `R`, `L`, `B` or
/// `C`, so other words are turned away before the table is read.
fn sided_abbreviation(raw: &str) -> Option<(&'static str, &'static str)> {
    if !(2..=4).contains(&raw.len()) || !matches!(raw.as_bytes()[0], b'R' | b'L' | b'B' | b'C') {
        return None;
    }
    SIDED_ABBREVIATIONS
        .iter()
        .find(|(a, _, _)| *a == raw)
        .map(|(_, side, part)| (*side, *part))
}

/// A side word's canonical side.
fn side(word: &str, raw: &str) -> Option<&'static str> {
    Some(match word {
        "left" | "lt" => "left",
        "right" | "rt" => "right",
        "bilateral" | "bilaterally" | "bilat" | "both" => "bilateral",
        "right-to-left" => "right-to-left",
        "left-to-right" => "left-to-right",
        // Telegraphic `L knee`: only the capital letter.
        "l" if raw == "L" => "left",
        "r" if raw == "R" => "right",
        // Every hyphenated side starts with `l` or `r`: other words stop here (this runs
        // for every token).
        _ if !matches!(word.as_bytes().first(), Some(b'l' | b'r')) => return None,
        _ => {
            let (prefix, _) = word.split_once('-')?;
            // `L-sided`, `R-sided`: the capital letter only.
            return match prefix {
                "left" => Some("left"),
                "right" => Some("right"),
                "l" if raw.starts_with('L') => Some("left"),
                "r" if raw.starts_with('R') => Some("right"),
                _ => None,
            };
        }
    })
}

/// `BODY_PARTS` as a hash set (this runs for the words around every side).
fn body_parts() -> &'static FxHashSet<&'static str> {
    static SET: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| BODY_PARTS.iter().copied().collect())
}

fn body_part(word: &str) -> Option<&str> {
    let singular = word.strip_suffix('s').unwrap_or(word);
    let base = word.split_once('-').map_or(word, |(_, rest)| rest);
    [word, singular, base]
        .into_iter()
        .find(|w| body_parts().contains(w))
}

/// Each side with the body part it attaches to (`""` when none), and its token span.
fn sides(facts: &Facts) -> Vec<(&'static str, String, (usize, usize))> {
    let tokens = &facts.tokens;
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let raw = &facts.text[token.start..token.end];
        if let Some((side, part)) = sided_abbreviation(raw) {
            // `RV 115% predicted`: the residual volume of a lung function test.
            let volume = raw == "RV"
                && tokens
                    .get(i + 1)
                    .is_some_and(|n| n.lower.starts_with(|c: char| c.is_ascii_digit()));
            if !volume && (raw != "LAD" || cardiac_sentence(tokens, token.sentence)) {
                out.push((side, part.to_string(), (i, i + 1)));
            }
            continue;
        }
        let Some(side) = side(&token.lower, raw) else {
            continue;
        };
        // `right now`, `right away`, `all right`: an adverb, no side.
        if token.lower == "right"
            && (tokens.get(i + 1).is_some_and(|next| {
                next.gap == Gap::Space
                    && matches!(
                        next.lower.as_ref(),
                        "now" | "away" | "then" | "here" | "there" | "after" | "before" | "when"
                    )
            }) || i > 0 && tokens[i - 1].lower == "all" && token.gap == Gap::Space)
        {
            continue;
        }
        // `both` is a side only before a body part.
        let forward = (i + 1..tokens.len().min(i + 5))
            .take_while(|&j| tokens[j].gap < Gap::Comma)
            .find_map(|j| body_part(&tokens[j].lower).map(|p| (j, p)));
        // `right-sided` says "on the right side", whatever follows it.
        let sided = token.lower.ends_with("-sided");
        let inside = token
            .lower
            .split_once('-')
            .and_then(|(_, rest)| if sided { Some("side") } else { body_part(rest) })
            .map(|p| (i, p));
        let backward = (i.saturating_sub(3)..i)
            .rev()
            .take_while(|&j| tokens[j + 1].gap < Gap::Comma)
            .find_map(|j| body_part(&tokens[j].lower).map(|p| (j, p)));
        let found = if sided {
            inside
        } else {
            forward.or(inside).or(backward)
        };
        if token.lower == "both" && forward.is_none() {
            continue;
        }
        // A lone `L`/`R` stands before the words it qualifies (`L mastoid process`, `R
        // nare`): a word in the same phrase, not a `/` (`R/O`), and it is no side after a
        // number or a `/` (`2 L`, `U/L`, `mmol/L`: a litre, read before a reflowed line).
        if raw.len() == 1 && !lone_letter_side(facts, i, forward.is_some()) {
            continue;
        }
        let part = found.map_or(String::new(), |(_, p)| {
            match p.strip_suffix('s').unwrap_or(p) {
                "feet" => "foot".to_string(),
                "extremitie" => "extremity".to_string(),
                // The adjective as its noun (`left ventricular wall` = `LV wall`).
                "ventricular" => "ventricle".to_string(),
                "atrial" => "atrium".to_string(),
                "tonsillar" => "tonsil".to_string(),
                "conjunctival" => "conjunctiva".to_string(),
                "ovarian" => "ovary".to_string(),
                "axillary" => "axilla".to_string(),
                "orbital" => "orbit".to_string(),
                p => p.to_string(),
            }
        });
        let (a, b) = found.map_or((i, i + 1), |(j, _)| (i.min(j), i.max(j) + 1));
        out.push((side, part, (a, b)));
    }
    out
}

/// Whether the lone capital letter at token `i` is a side: never after a `/` (`U/L`); with
/// a body part after it in the same phrase (`body_part_after`), else with a lower-case word
/// right after it and neither a number before it (`2 L of saline`) nor a `/` after it.
fn lone_letter_side(facts: &Facts, i: usize, body_part_after: bool) -> bool {
    let tokens = &facts.tokens;
    let token = &tokens[i];
    let before = &facts.text[..token.start];
    if before.ends_with('/') {
        return false;
    }
    if body_part_after {
        return true;
    }
    let Some(next) = tokens.get(i + 1).filter(|n| n.gap == Gap::Space) else {
        return false;
    };
    let after_number = i > 0
        && tokens[i - 1].gap <= Gap::Joiner
        && tokens[i - 1]
            .lower
            .starts_with(|c: char| c.is_ascii_digit())
        && before.ends_with(|c: char| c == ' ' || c.is_ascii_digit());
    let next_raw = &facts.text[next.start..next.end];
    let word_after = body_part(&next.lower).is_some()
        || (next_raw.starts_with(|c: char| c.is_lowercase()) && next_raw.len() > 2);
    word_after && !after_number && !facts.text[token.end..].starts_with('/')
}

/// Rejects a body part whose side differs, and a side one text names and the other not.
pub(super) fn compare_laterality(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let original = sides(before);
    let paraphrase = sides(after);
    let any_side = |list: &[(&str, String, (usize, usize))], s: &str| {
        list.iter().any(|(side, _, _)| *side == s)
    };
    let pairs = |list: &[(&'static str, String, (usize, usize))]| {
        list.iter()
            .map(|(s, p, _)| (*s, p.clone()))
            .collect::<BTreeSet<_>>()
    };
    let original_pairs = pairs(&original);
    let paraphrase_pairs = pairs(&paraphrase);
    let mut reported = BTreeSet::new();
    for (list, other_list, other_pairs, from_original) in [
        (&original, &paraphrase, &paraphrase_pairs, true),
        (&paraphrase, &original, &original_pairs, false),
    ] {
        for (side, part, span) in list {
            // `bilateral conjunctival injection` = "injection in both eyes". A side the
            // other text gives another part for is not kept: same side, another place
            // (`right kidney` → `R knee`) is a change, and the checker has no table of
            // which places hold which (`the upper lobe of the right lung` = `the right
            // upper lobe` is rejected too).
            let kept = other_pairs.contains(&(*side, part.clone()))
                || (*side == "bilateral" && any_side(other_list, side))
                || ((part.is_empty() || other_pairs.contains(&(*side, String::new())))
                    && any_side(other_list, side));
            if kept || !reported.insert((*side, part.clone())) {
                continue;
            }
            let counterpart = other_list
                .iter()
                .find(|(s, p, _)| p == part && !part.is_empty() && s != side);
            let (here, there) = if from_original {
                (before, after)
            } else {
                (after, before)
            };
            let here_span = Some(here.token_span(span.0, span.1));
            let there_span = counterpart.map(|(_, _, s)| there.token_span(s.0, s.1));
            let detail = match counterpart {
                Some((other, _, _)) => format!("{part}: {side} became {other}"),
                None if from_original => format!(
                    "`{}` is not in the paraphrase",
                    here_span.clone().unwrap_or_default()
                ),
                None => format!(
                    "`{}` is not in the original",
                    here_span.clone().unwrap_or_default()
                ),
            };
            let (o, p) = if from_original {
                (here_span, there_span)
            } else {
                (there_span, here_span)
            };
            if counterpart.is_some() && !from_original {
                continue; // reported from the original's side
            }
            rejections.push(Finding::new(Check::Laterality, detail, o, p));
        }
    }
    compare_counts(before, &original, after, &paraphrase, &reported, rejections);
}

/// Rejects a body part named on one side fewer times and on the other side more times
/// than in the original (a swap that the two sets alone hide when the note names both
/// sides). Merged or dropped repeats only lower a count, so they pass.
fn compare_counts(
    before: &Facts,
    original: &[(&'static str, String, (usize, usize))],
    after: &Facts,
    paraphrase: &[(&'static str, String, (usize, usize))],
    reported: &BTreeSet<(&'static str, String)>,
    rejections: &mut Vec<Finding>,
) {
    let count = |list: &[(&'static str, String, (usize, usize))], side: &str, part: &str| {
        list.iter()
            .filter(|(s, p, _)| *s == side && p == part)
            .count()
    };
    let parts: BTreeSet<&str> = original
        .iter()
        .map(|(_, p, _)| p.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    for part in parts {
        for (from, to) in [("left", "right"), ("right", "left")] {
            let lost = count(original, from, part) > count(paraphrase, from, part);
            let gained = count(paraphrase, to, part) > count(original, to, part);
            if !lost || !gained || reported.contains(&(from, part.to_string())) {
                continue;
            }
            let span = |facts: &Facts, list: &[(&'static str, String, (usize, usize))], side| {
                list.iter()
                    .find(|(s, p, _)| *s == side && p == part)
                    .map(|(_, _, (a, b))| facts.token_span(*a, *b))
            };
            rejections.push(Finding::new(
                Check::Laterality,
                format!(
                    "{part}: named {from} fewer times and {to} more times than in the original"
                ),
                span(before, original, from),
                span(after, paraphrase, to),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(original: &str, paraphrase: &str) -> Vec<Finding> {
        super::super::facts::compared_by(compare_laterality, original, paraphrase)
    }

    #[test]
    fn sided_abbreviations_stand_for_their_side_and_part() {
        for (long, short) in [
            ("Tenderness in the right upper quadrant.", "RUQ tenderness."),
            ("Swelling of the left lower extremity.", "LLE swelling."),
            (
                "Consolidation of the right lower lobe.",
                "RLL consolidation.",
            ),
            ("Occlusion of the right coronary artery.", "RCA occlusion."),
        ] {
            assert!(compared(long, short).is_empty(), "{long} / {short}");
            assert!(compared(short, long).is_empty(), "{short} / {long}");
        }
        // The other side is still a change, and lower case `lad` is no artery.
        assert_eq!(
            compared("Tenderness in the right upper quadrant.", "LUQ tenderness.").len(),
            1
        );
        assert!(sided_abbreviation("lad").is_none());
        // The litre of a unit, reflowed before a finding, is no side.
        assert!(compared(
            "ALT: 15 U/L\nThe patient reports flank pain.",
            "ALT: 15 U/L The patient reports flank pain."
        )
        .is_empty());
    }

    #[test]
    fn telegraphic_sides_and_other_words_for_the_place_are_kept() {
        for (long, short) in [
            (
                "A fork is placed on the left mastoid process.",
                "Fork placed on L mastoid process.",
            ),
            (
                "Brisk bleeding from the right nare.",
                "Brisk bleeding from R nare.",
            ),
            (
                "Dull right-side abdominal pain.",
                "Dull R-sided abdominal pain.",
            ),
            ("Reflexes are 2+ bilaterally.", "DTRs 2+ bilat."),
            ("VA of 20/40 in the left eye.", "VA 20/40 L eye."),
        ] {
            assert!(compared(long, short).is_empty(), "{long} / {short}");
            assert!(compared(short, long).is_empty(), "{short} / {long}");
        }
        // Litres and `R/O` are no sides; a swapped side still fails.
        assert!(compared("Given 2 L of saline.", "Given 2 liters of saline.").is_empty());
        assert!(compared("R/O sepsis.", "Rule out sepsis.").is_empty());
        assert!(!compared("Pain in the right lung.", "Pain in the L upper lobe.").is_empty());
        // Same side, another place: a change.
        assert!(!compared("Pain in the right kidney.", "Pain in the R knee.").is_empty());

        assert_eq!(
            compared("Swelling of the right knee.", "L knee swelling.").len(),
            1
        );
    }

    #[test]
    fn lad_is_an_artery_only_beside_the_heart() {
        assert!(compared("Tender cervical lymphadenopathy.", "Tender cervical LAD.").is_empty());
        assert!(!compared(
            "Occlusion of the right coronary artery.",
            "LAD occlusion of the coronary artery."
        )
        .is_empty());
    }
}
