//! Drugs: names resolved to canonical drugs (lab analytes and lab values left out), and
//! the dose, route and frequency written in the same sentence, each attached to the
//! nearest drug; the check that every drug keeps its name and what stands next to it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::facts::{sense_entry, Facts};
use super::lexicon::{lexicon, senses, Kind, Mention};
use super::text::PhraseTable;
use super::{Check, Finding};

/// Frequency spellings (lower-case words) → canonical frequency, longest first.
const FREQUENCIES: &[(&str, &str)] = &[
    ("two times a day", "2/day"),
    ("two times daily", "2/day"),
    ("three times a day", "3/day"),
    ("three times daily", "3/day"),
    ("four times a day", "4/day"),
    ("four times daily", "4/day"),
    ("every 4 hours", "q4h"),
    ("every 6 hours", "q6h"),
    ("every 8 hours", "q8h"),
    ("every 12 hours", "q12h"),
    ("every 24 hours", "1/day"),
    ("twice a day", "2/day"),
    ("twice daily", "2/day"),
    ("twice a week", "2/week"),
    ("twice weekly", "2/week"),
    ("thrice a day", "3/day"),
    ("thrice daily", "3/day"),
    ("three times a week", "3/week"),
    ("three times weekly", "3/week"),
    ("every other day", "q48h"),
    ("every 2 hours", "q2h"),
    ("every 3 hours", "q3h"),
    ("every 48 hours", "q48h"),
    ("once a day", "1/day"),
    ("once daily", "1/day"),
    ("once a week", "1/week"),
    ("at bedtime", "night"),
    ("as needed", "prn"),
    ("every day", "1/day"),
    ("everyday", "1/day"),
    ("b i d", "2/day"),
    ("t i d", "3/day"),
    ("q i d", "4/day"),
    ("twice", "2/day"),
    ("thrice", "3/day"),
    ("bid", "2/day"),
    ("tid", "3/day"),
    ("qid", "4/day"),
    ("daily", "1/day"),
    ("qd", "1/day"),
    ("nightly", "night"),
    ("qhs", "night"),
    ("prn", "prn"),
    ("weekly", "1/week"),
    ("monthly", "1/month"),
    ("q4h", "q4h"),
    ("q6h", "q6h"),
    ("q8h", "q8h"),
    ("q12h", "q12h"),
    ("q2h", "q2h"),
    ("q3h", "q3h"),
    ("q24h", "1/day"),
    ("qod", "q48h"),
];
/// Routes the lexicon does not list, as words.
const MORE_ROUTES: &[(&str, &str)] = &[
    ("topical", "topical"),
    ("topically", "topical"),
    ("inhaled", "inhaled"),
    ("nebulized", "inhaled"),
    ("sublingual", "sublingual"),
    ("sublingually", "sublingual"),
    ("sl", "sublingual"),
    ("rectal", "rectal"),
    ("rectally", "rectal"),
    ("transdermal", "transdermal"),
    ("intranasal", "intranasal"),
    ("peroral", "oral"),
    ("vaginal", "vaginal"),
    ("vaginally", "vaginal"),
    ("intravaginal", "vaginal"),
    ("intravaginally", "vaginal"),
    ("intra-arterial", "intra-arterial"),
    ("intra-arterially", "intra-arterial"),
    ("intraarterial", "intra-arterial"),
    ("intrathecal", "intrathecal"),
    ("intrathecally", "intrathecal"),
    ("intravesical", "intravesical"),
    ("intraosseous", "intraosseous"),
];
/// Route words written before the drug they belong to ("intravenous immunoglobulin").
const ROUTE_ADJECTIVES: &[&str] = &[
    "iv",
    "intravenous",
    "oral",
    "subcutaneous",
    "intramuscular",
    "im",
    "sc",
    "sq",
    "subq",
    "topical",
    "inhaled",
    "nebulized",
    "sublingual",
    "sl",
    "rectal",
    "transdermal",
    "intranasal",
    "peroral",
    "vaginal",
    "intravaginal",
    "intra-arterial",
    "intraarterial",
    "intrathecal",
    "intravesical",
    "intraosseous",
];
/// Units of a dose.
const DOSE_UNITS: &[&str] = &["mg", "g", "mcg", "mL", "L", "unit", "mg/kg", "mEq"];

/// A dose, route or frequency: its canonical text and where it stands (bytes).
struct Attribute {
    what: String,
    start: usize,
    end: usize,
    /// Written before the drug it belongs to.
    leads: bool,
}

/// The drugs of a note: mentions that are not lab analytes or lab values.
fn drug_mentions<'f>(facts: &'f Facts) -> Vec<&'f Mention> {
    facts
        .of_kind([Kind::Drug])
        .filter(|m| {
            let before = m
                .first
                .checked_sub(1)
                .map(|i| facts.tokens[i].lower.as_ref());
            let specimen = matches!(before, Some("serum" | "plasma" | "urine" | "blood"));
            // A lab value: a concentration right after the name (`glucose 123 mg/dL`).
            let sentence = facts.tokens[m.first].sentence;
            let lab_value = facts.numbers.iter().any(|n| {
                n.start >= m.end
                    && n.start <= m.end + 24
                    && facts.tokens[facts.token_at(n.start).min(facts.tokens.len() - 1)].sentence
                        == sentence
                    && n.unit
                        .is_some_and(|u| u.contains('/') && u != "mg/kg" || u == "%")
            });
            !specimen && !lab_value
        })
        .collect()
}

/// The frequency spellings, then the extra route words, indexed by first word.
fn spellings() -> &'static PhraseTable {
    static SPELLINGS: OnceLock<PhraseTable> = OnceLock::new();
    SPELLINGS.get_or_init(|| {
        PhraseTable::new(
            FREQUENCIES
                .iter()
                .chain(MORE_ROUTES)
                .map(|(spelling, _)| *spelling),
        )
    })
}

/// The doses, routes and frequencies of a note.
fn attributes(facts: &Facts) -> Vec<Attribute> {
    let mut out = Vec::new();
    for n in &facts.numbers {
        if let Some(unit) = n.unit.filter(|u| DOSE_UNITS.contains(u)) {
            out.push(Attribute {
                what: format!("dose {} {unit}", n.value),
                start: n.start,
                end: n.end,
                leads: false,
            });
        }
    }
    for m in facts.of_kind([Kind::Route]) {
        let word = facts.tokens[m.first].lower.as_ref();
        out.push(Attribute {
            what: format!("route {}", m.entry.canonical),
            start: m.start,
            end: m.end,
            leads: ROUTE_ADJECTIVES.contains(&word),
        });
    }
    let tokens = &facts.tokens;
    let spellings = spellings();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((index, n)) = spellings.at(tokens, i, None) {
            let (spelling, canonical, route) = match index.checked_sub(FREQUENCIES.len()) {
                None => (FREQUENCIES[index].0, FREQUENCIES[index].1, false),
                Some(r) => (MORE_ROUTES[r].0, MORE_ROUTES[r].1, true),
            };
            out.push(Attribute {
                what: format!("{} {canonical}", if route { "route" } else { "frequency" }),
                start: tokens[i].start,
                end: tokens[i + n - 1].end,
                leads: route && ROUTE_ADJECTIVES.contains(&spelling),
            });
            i += n;
        } else {
            i += 1;
        }
    }
    out
}

/// Per canonical drug: its first mention and the attributes attached to any of its
/// mentions (what → the attribute's span and the drug mention's).
type Table<'f> = BTreeMap<&'static str, (&'f Mention, BTreeMap<String, (usize, usize)>)>;

fn table<'f>(facts: &'f Facts) -> Table<'f> {
    let drugs = drug_mentions(facts);
    let mut out: Table = BTreeMap::new();
    for d in &drugs {
        out.entry(d.entry.canonical).or_insert((d, BTreeMap::new()));
    }
    let sentence_of = |at: usize| {
        let t = facts.token_at(at).min(facts.tokens.len().saturating_sub(1));
        facts.tokens.get(t).map_or(0, |t| t.sentence)
    };
    for attribute in attributes(facts) {
        let sentence = sentence_of(attribute.start);
        let candidates = drugs
            .iter()
            .filter(|d| facts.tokens[d.first].sentence == sentence);
        let distance = |d: &&&Mention| {
            if d.start >= attribute.end {
                let gap = d.start - attribute.end;
                if attribute.leads {
                    gap / 4
                } else {
                    gap + 1
                }
            } else {
                attribute.start.saturating_sub(d.end)
            }
        };
        let near = |d: &&&Mention| {
            if attribute.leads {
                // `IV immunoglobulin`: the drug right after it (or, failing that, before).
                (d.start >= attribute.end && d.start - attribute.end <= 3)
                    || (d.end <= attribute.start && attribute.start - d.end <= 40)
            } else {
                distance(d) <= 60
            }
        };
        if let Some(drug) = candidates.filter(near).min_by_key(distance) {
            let span = (drug.start.min(attribute.start), drug.end.max(attribute.end));
            if let Some((_, attrs)) = out.get_mut(drug.entry.canonical) {
                attrs.entry(attribute.what).or_insert(span);
            }
        }
    }
    out
}

/// Whether the hyphenated word at token `i` names a combination of drugs
/// (`amoxicillin-clavulanate`, `amoxicillin-clavulanic acid`): a part after the first is a
/// drug too, or the word is part of a drug the lexicon names. `lactose-fermenting`,
/// `steroid-induced` are no combination.
fn combination(facts: &Facts, i: usize) -> bool {
    let drug = |name: &str| lexicon().get(name).is_some_and(|e| e.kind == Kind::Drug);
    let next = facts.tokens.get(i + 1).map_or("", |t| t.lower.as_ref());
    facts.tokens[i]
        .lower
        .split('-')
        .skip(1)
        .any(|part| drug(part) || drug(&format!("{part} {next}")))
        || facts
            .mentions
            .iter()
            .any(|m| m.entry.kind == Kind::Drug && m.first <= i && i < m.last)
}

/// Whether every word of a drug mention stands in the other text, the same or with only
/// its ending changed (`hormonal replacement therapy` and `hormone replacement therapy`):
/// the other text names the drug in words the lexicon does not list.
/// A word inside a hyphenated combination (`amoxicillin-clavulanic acid`) does not count:
/// the combination is another drug.
fn words_kept(facts: &Facts, mention: &Mention, other: &Facts) -> bool {
    facts.tokens[mention.first..mention.last].iter().all(|t| {
        let letters = t.lower.chars().count();
        let cut = t
            .lower
            .char_indices()
            .nth(5.max(letters.saturating_sub(1)))
            .map_or(t.lower.len(), |(i, _)| i);
        let prefix = &t.lower[..cut];
        other.tokens.iter().enumerate().any(|(i, o)| {
            o.lower == t.lower
                || (letters >= 6
                    && o.lower.starts_with(prefix)
                    && !(o.lower.contains('-') && combination(other, i)))
        })
    })
}

/// Whether the other text names the drug in another way than the lexicon lists: in the same
/// words with other endings ([`words_kept`]), or spelled right where the mention is
/// misspelled (or the reverse): a word of six letters or more that no lexicon entry
/// matches, with the same first letter, within one edit of the name (two for eight letters
/// or more: `artovastatin` for atorvastatin, `amdiodarone` for amiodarone). A drug swapped
/// for another of a near spelling (`prednisone` for `prednisolone`) is no such word: the
/// lexicon names both. A misspelling excuses only a `bare` mention (no dose, route or
/// frequency beside it): it is no mention of the table, so its dose, route and frequency
/// would go uncompared; so does a lab test of the synonym table that names the same
/// substance (`TSH`), or a clinical abbreviation with the substance among its senses
/// (`ANA`, bare only: round 7 excused drugs with a dose this way, and a fresh
/// dose/route/frequency change went through; so did reading them as drug mentions).
fn named_otherwise(facts: &Facts, mention: &Mention, bare: bool, other: &Facts) -> bool {
    if words_kept(facts, mention, other) {
        return true;
    }
    // An abbreviation or a misspelling is no lexicon mention, so no dose, route or frequency
    // would be compared beside it: a drug that carries one is not excused this way.
    if !bare {
        return false;
    }
    // The same substance named as the lab test the synonym table knows (`thyroid
    // stimulating hormone` as `TSH`, `aspartate transaminase` as `AST`).
    let canonical = mention.entry.canonical;
    if other.of_kind([Kind::Lab]).any(|m| {
        m.entry.canonical == canonical || canonical.strip_suffix('s') == Some(m.entry.canonical)
    }) {
        return true;
    }
    // A substance without dose, route or frequency named by a clinical abbreviation of
    // the other text (`ANA`, `RF`, `tPA`): bare only, so no dose goes uncompared.
    if other.tokens.iter().any(|t| {
        senses(&t.lower)
            .split('\n')
            .filter(|s| !s.is_empty())
            .any(|s| sense_entry(s).is_some_and(|e| e.canonical == canonical))
    }) {
        return true;
    }
    let name = facts.span(mention.start, mention.end).to_lowercase();
    if mention.last != mention.first + 1 || name.chars().count() < 6 {
        return false;
    }
    let most = if name.chars().count() >= 8 { 2 } else { 1 };
    other.tokens.iter().enumerate().any(|(i, t)| {
        t.lower.chars().count() >= 6
            && t.lower.chars().next() == name.chars().next()
            && t.lower.chars().all(char::is_alphabetic)
            && !other.mentions.iter().any(|m| m.first <= i && i < m.last)
            && strsim::damerau_levenshtein(&t.lower, &name) <= most
    })
}

/// Rejects a drug the paraphrase drops or adds, and a dose, route or frequency that no
/// longer stands next to the same drug.
pub(super) fn compare_drugs(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let original = table(before);
    let paraphrase = table(after);
    for (name, (m, attrs)) in &original {
        if !paraphrase.contains_key(name) && !named_otherwise(before, m, attrs.is_empty(), after) {
            let span = before.span(m.start, m.end);
            rejections.push(Finding::new(
                Check::DrugDropped,
                format!("`{span}` ({name}) is not named in the paraphrase"),
                Some(span),
                None,
            ));
        }
    }
    for (name, (m, attrs)) in &paraphrase {
        if !original.contains_key(name) && !named_otherwise(after, m, attrs.is_empty(), before) {
            let span = after.span(m.start, m.end);
            rejections.push(Finding::new(
                Check::DrugAdded,
                format!("`{span}` ({name}) is not in the original"),
                None,
                Some(span),
            ));
        }
    }
    for (name, (om, o_attrs)) in &original {
        let Some((pm, p_attrs)) = paraphrase.get(name) else {
            continue;
        };
        let lost: BTreeSet<&String> = o_attrs
            .keys()
            .filter(|a| !p_attrs.contains_key(*a))
            .collect();
        let gained: BTreeSet<&String> = p_attrs
            .keys()
            .filter(|a| !o_attrs.contains_key(*a))
            .collect();
        if lost.is_empty() && gained.is_empty() {
            continue;
        }
        let original_span = lost
            .iter()
            .next()
            .map(|a| o_attrs[*a])
            .map_or_else(|| before.span(om.start, om.end), |(s, e)| before.span(s, e));
        let paraphrase_span = gained
            .iter()
            .next()
            .map(|a| p_attrs[*a])
            .map_or_else(|| after.span(pm.start, pm.end), |(s, e)| after.span(s, e));
        let joined = |set: &BTreeSet<&String>| {
            set.iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !lost.is_empty() {
            parts.push(format!("the paraphrase lacks {}", joined(&lost)));
        }
        if !gained.is_empty() {
            parts.push(format!("the paraphrase adds {}", joined(&gained)));
        }
        let detail = format!("`{name}`: {}", parts.join("; "));
        rejections.push(Finding::new(
            Check::DoseRouteFrequency,
            detail,
            Some(original_span),
            Some(paraphrase_span),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compared(original: &str, paraphrase: &str) -> Vec<Check> {
        super::super::facts::compared_by(compare_drugs, original, paraphrase)
            .into_iter()
            .map(|f| f.check)
            .collect()
    }

    #[test]
    fn a_drug_named_in_unlisted_words_of_the_same_stems_is_kept() {
        assert!(compared(
            "She is on hormonal replacement therapy.",
            "She is on hormone replacement therapy."
        )
        .is_empty());
        // A part of a hyphenated combination is another drug.
        assert_eq!(
            compared(
                "He was prescribed amoxicillin-clavulanic acid.",
                "He was prescribed amoxicillin."
            ),
            vec![Check::DrugAdded]
        );
    }

    #[test]
    fn frequencies_compare_by_how_often_not_by_spelling() {
        for (original, paraphrase) in [
            (
                "metformin 500 mg three times daily",
                "metformin 500 mg thrice daily",
            ),
            ("metformin 500 mg three times a day", "metformin 500 mg TID"),
            ("enoxaparin 40 mg every 24 hours", "enoxaparin 40 mg q24h"),
            ("aspirin 325 mg every other day", "aspirin 325 mg QOD"),
            (
                "methotrexate 15 mg twice weekly",
                "methotrexate 15 mg twice a week",
            ),
        ] {
            assert!(
                compared(
                    &format!("She takes {original}."),
                    &format!("She takes {paraphrase}.")
                )
                .is_empty(),
                "{original} / {paraphrase}"
            );
        }
        for (original, paraphrase) in [
            (
                "metformin 500 mg twice daily",
                "metformin 500 mg thrice daily",
            ),
            (
                "methotrexate 15 mg twice weekly",
                "methotrexate 15 mg twice daily",
            ),
            ("aspirin 325 mg daily", "aspirin 325 mg every other day"),
            ("morphine 2 mg every 2 hours", "morphine 2 mg every 4 hours"),
        ] {
            assert_eq!(
                compared(
                    &format!("She takes {original}."),
                    &format!("She takes {paraphrase}.")
                ),
                vec![Check::DoseRouteFrequency],
                "{original} / {paraphrase}"
            );
        }
    }
}
