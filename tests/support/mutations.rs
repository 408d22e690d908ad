//! The safety checker's mutation benchmark, shared by `tests/it/safety_benchmark.rs`
//! (which asserts the targets on a fixed seed) and `benches/safety.rs` (which prints
//! the table and the throughput). From each MEDEC-MS validation note it makes a faithful
//! rewrite by rules, then unsafe variants with exactly one change each.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use safesft::safety::SafetyChecker;

/// The kinds of rewrite measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Faithful,
    Number,
    Unit,
    Drug,
    DroppedSentence,
    Negation,
    Laterality,
    NearCopy,
}

impl Kind {
    pub const UNSAFE: [Kind; 7] = [
        Kind::Number,
        Kind::Unit,
        Kind::Drug,
        Kind::DroppedSentence,
        Kind::Negation,
        Kind::Laterality,
        Kind::NearCopy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Faithful => "faithful rewrite (kept)",
            Kind::Number => "number changed",
            Kind::Unit => "unit swapped",
            Kind::Drug => "drug swapped",
            Kind::DroppedSentence => "sentence with number/drug dropped",
            Kind::Negation => "negation flipped",
            Kind::Laterality => "left/right swapped",
            Kind::NearCopy => "near-verbatim copy",
        }
    }

    /// The share required: of faithful rewrites kept, of unsafe ones caught. A stress
    /// test only since issue 8 (its rewrites are rule-made): the floors are what checker
    /// v2 measures (faithful 99.1 %, number 94.7 %, unit 97.8 %, drug 96.9 %, dropped
    /// 98.4 %, left/right 95.4 %, near copy 100 %), rounded down, so that a regression
    /// shows; the honest figures come from the hand-written sets (`benches/safety.rs`).
    /// Negation: 66.1 % in v2, 79.9 % since `no abnormalities` is a concept of its own
    /// (round 3), floor 0.75; rule-made flips still land on numbers (`pulse is not
    /// 84/min`), which no concept holds.
    pub fn target(self) -> f64 {
        match self {
            Kind::Faithful | Kind::NearCopy | Kind::Drug | Kind::DroppedSentence | Kind::Unit => {
                0.95
            }
            // A lone 1 is not compared ("one week" is as often "a week").
            Kind::Number | Kind::Laterality => 0.9,
            Kind::Negation => 0.75,
        }
    }
}

/// One case: the original note and a rewrite of it.
pub struct Case {
    pub kind: Kind,
    pub original: String,
    pub rewrite: String,
}

/// Counts per kind: cases, and cases where the checker did the right thing (kept a
/// faithful rewrite, rejected an unsafe one).
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub cases: usize,
    pub right: usize,
}

impl Tally {
    pub fn share(&self) -> f64 {
        if self.cases == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let share = self.right as f64 / self.cases as f64;
        share
    }
}

/// Reads the correct notes of the bundled MEDEC-MS validation set.
pub fn medec_notes() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv");
    let (pairs, _) =
        safesft::medec::read_all_pairs(&path, safesft::medec::ReadOptions::default()).unwrap();
    pairs.into_iter().map(|p| p.correct_note).collect()
}

const ABBREVIATIONS: &[(&str, &str)] = &[
    ("emergency department", "ED"),
    ("blood pressure", "BP"),
    ("computed tomography", "CT"),
    ("magnetic resonance imaging", "MRI"),
    ("electrocardiogram", "ECG"),
    ("intravenous", "IV"),
    ("complete blood count", "CBC"),
    ("intensive care unit", "ICU"),
    ("white blood cell", "WBC"),
];

const SYNONYMS: &[(&str, &str)] = &[
    ("comes to", "presents to"),
    ("because of", "due to"),
    ("shows", "reveals"),
    ("showed", "revealed"),
    ("physician", "doctor"),
    ("started", "initiated"),
    ("complains of", "reports"),
    ("diagnosed with", "found to have"),
    ("appears", "seems"),
    ("admitted", "hospitalized"),
    ("brought", "taken"),
    ("states", "says"),
    ("notes", "mentions"),
    ("is given", "receives"),
    ("currently", "at present"),
];

const NUMBER_WORDS: &[(&str, &str)] = &[
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
];

/// Replaces whole-word `from` with `to` (first letter's case kept), every occurrence.
fn replace_words(text: &str, from: &str, to: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut search = 0;
    while let Some(at) = lower[search..].find(from) {
        let start = search + at;
        let end = start + from.len();
        let before = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = lower[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before && after && text.is_char_boundary(start) && text.is_char_boundary(end) {
            out.push_str(&text[last..start]);
            let capital = text[start..].chars().next().is_some_and(char::is_uppercase);
            if capital && to.chars().next().is_some_and(char::is_lowercase) {
                let mut chars = to.chars();
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(chars.as_str());
            } else {
                out.push_str(to);
            }
            last = end;
        }
        search = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Sentences as the note has them, trimmed.
fn sentences(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if (b == b'.' || b == b'?' || b == b'!')
            && bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace)
        {
            let sentence = text[start..=i].trim();
            if !sentence.is_empty() {
                out.push(sentence.to_string());
            }
            start = i + 1;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// Telegraphic style: "Her pulse is 106/min." → "Pulse 106/min."
fn telegraphic(sentence: &str) -> String {
    for opener in ["Her ", "His ", "The patient's "] {
        if let Some(rest) = sentence.strip_prefix(opener) {
            for verb in [" is ", " was ", " are ", " were "] {
                if let Some(at) = rest.find(verb) {
                    let subject = &rest[..at];
                    if subject.split_whitespace().count() <= 3 && !subject.contains(',') {
                        let mut chars = subject.chars();
                        let first = chars
                            .next()
                            .map(|c| c.to_ascii_uppercase())
                            .unwrap_or_default();
                        return format!("{first}{}: {}", chars.as_str(), &rest[at + verb.len()..]);
                    }
                }
            }
        }
    }
    sentence.to_string()
}

/// A rewrite that keeps every fact: sentences reordered (the opening one stays), then
/// abbreviations, synonyms, number words and telegraphic style.
pub fn faithful(note: &str) -> String {
    let mut parts = sentences(note);
    // The opening sentence (who and why) stays; the rest come in reverse order.
    if parts.len() >= 3 {
        parts[1..].reverse();
    } else {
        parts.reverse();
    }
    let mut text = parts
        .iter()
        .map(|s| telegraphic(s))
        .collect::<Vec<_>>()
        .join(" ");
    for (long, short) in ABBREVIATIONS {
        text = replace_words(&text, long, short);
    }
    for (from, to) in SYNONYMS.iter().chain(NUMBER_WORDS) {
        text = replace_words(&text, from, to);
    }
    text
}

/// Byte ranges of numbers written in digits (not glued after letters).
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Unit spellings a mutation may swap, and what each is swapped for.
const UNIT_SWAPS: &[(&str, &str)] = &[
    (" mg/dL", " mmol/L"),
    (" mEq/L", " mmol/L"),
    (" mm Hg", " cm H2O"),
    ("/min", "/h"),
    (" mcg", " mg"),
    (" mg", " g"),
    (" kg", " lb"),
    (" g", " mg"),
    (" mL", " L"),
    (" cm", " mm"),
    (" mm", " cm"),
    ("°F", "°C"),
    ("°C", "°F"),
    ("-year-old", "-month-old"),
    (" years", " months"),
    (" months", " years"),
    (" weeks", " days"),
    (" days", " weeks"),
    ("-day", "-week"),
    ("-week", "-month"),
    (" hours", " days"),
    ("-hour", "-day"),
    (" minutes", " hours"),
    ("%", " per mille"),
];

/// Where a drug of `OTHER_DRUGS` or `COMMON_DRUGS` is named in `text`, found by plain
/// case-insensitive word search (never with the checker's own extraction, issue 8).
fn drug_sites(text: &str) -> Vec<(usize, usize, String)> {
    let lower = text.to_ascii_lowercase();
    let mut sites = Vec::new();
    for name in OTHER_DRUGS.iter().chain(COMMON_DRUGS) {
        for (at, _) in lower.match_indices(name) {
            let end = at + name.len();
            let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
            if bounded(lower[..at].chars().next_back()) && bounded(lower[end..].chars().next()) {
                sites.push((at, end, (*name).to_string()));
            }
        }
    }
    sites.sort();
    sites
}

/// Drugs MEDEC-MS notes name often (a fixed list, not the checker's lexicon).
const COMMON_DRUGS: &[&str] = &[
    "aspirin",
    "ibuprofen",
    "acetaminophen",
    "lisinopril",
    "hydrochlorothiazide",
    "levothyroxine",
    "omeprazole",
    "albuterol",
    "fluticasone",
    "sertraline",
    "fluoxetine",
    "lithium",
    "haloperidol",
    "risperidone",
    "clonazepam",
    "lorazepam",
    "diazepam",
    "amoxicillin",
    "azithromycin",
    "doxycycline",
    "ciprofloxacin",
    "vancomycin",
    "penicillin",
    "nitrofurantoin",
    "methotrexate",
    "hydroxyurea",
    "heparin",
    "enoxaparin",
    "clopidogrel",
    "simvastatin",
    "glipizide",
    "glyburide",
    "allopurinol",
    "colchicine",
    "montelukast",
    "oral contraceptives",
    "naproxen",
    "morphine",
    "oxycodone",
];

const OTHER_DRUGS: &[&str] = &[
    "warfarin",
    "metoprolol",
    "amiodarone",
    "digoxin",
    "furosemide",
    "lisinopril",
    "amlodipine",
    "atorvastatin",
    "metformin",
    "insulin",
    "prednisone",
    "ceftriaxone",
    "vancomycin",
    "ciprofloxacin",
    "doxycycline",
    "fluoxetine",
    "sertraline",
    "haloperidol",
    "lorazepam",
    "morphine",
    "ibuprofen",
    "acetaminophen",
    "heparin",
    "clopidogrel",
    "levothyroxine",
    "omeprazole",
    "gabapentin",
    "lithium",
    "allopurinol",
    "methotrexate",
];

fn negation_flip(text: &str, rng: &mut fastrand::Rng) -> Option<String> {
    const REMOVE: &[(&str, &str)] = &[
        (" no ", " "),
        (" not ", " "),
        ("denies ", "reports "),
        ("denied ", "reported "),
        (" without ", " with "),
        ("negative for", "positive for"),
        ("No ", ""),
        (" never ", " "),
    ];
    const ADD: &[(&str, &str)] = &[
        (" shows ", " shows no "),
        (" reveals ", " reveals no "),
        (" has ", " has no "),
        (" had ", " had no "),
        (" is ", " is not "),
        (" was ", " was not "),
        (" reports ", " denies "),
    ];
    let present: Vec<&(&str, &str)> = REMOVE
        .iter()
        .filter(|(from, _)| text.contains(from))
        .collect();
    let choices: Vec<&(&str, &str)> = if present.is_empty() {
        ADD.iter().filter(|(from, _)| text.contains(from)).collect()
    } else {
        present
    };
    let (from, to) = choices.get(rng.usize(..choices.len().max(1)))?;
    let sites: Vec<usize> = text.match_indices(from).map(|(i, _)| i).collect();
    let at = sites[rng.usize(..sites.len())];
    Some(format!("{}{to}{}", &text[..at], &text[at + from.len()..]))
}

#[allow(clippy::too_many_lines)] // one arm per mutation kind, each short
/// One unsafe variant of `rewrite` (made from `note`), or `None` when the note has no
/// place for that kind of change.
pub fn mutate(kind: Kind, note: &str, rewrite: &str, rng: &mut fastrand::Rng) -> Option<String> {
    match kind {
        Kind::Faithful => Some(rewrite.to_string()),
        Kind::Number => {
            let spans = number_spans(rewrite);
            let (start, end) = *spans.get(rng.usize(..spans.len().max(1)))?;
            let number = &rewrite[start..end];
            let last = number.bytes().last()?;
            let changed_digit = if last == b'9' { b'8' } else { last + 1 };
            let mut changed = number.as_bytes().to_vec();
            *changed.last_mut()? = changed_digit;
            Some(format!(
                "{}{}{}",
                &rewrite[..start],
                String::from_utf8(changed).ok()?,
                &rewrite[end..]
            ))
        }
        Kind::Unit => {
            let mut sites = Vec::new();
            for (start, end) in number_spans(rewrite) {
                for (from, to) in UNIT_SWAPS {
                    if rewrite[end..].starts_with(from)
                        && rewrite[end + from.len()..]
                            .chars()
                            .next()
                            .is_none_or(|c| !c.is_alphanumeric())
                    {
                        sites.push((start, end, *from, *to));
                        break;
                    }
                }
            }
            let (_, end, from, to) = *sites.get(rng.usize(..sites.len().max(1)))?;
            Some(format!(
                "{}{to}{}",
                &rewrite[..end],
                &rewrite[end + from.len()..]
            ))
        }
        Kind::Drug => {
            let mentions = drug_sites(rewrite);
            let (start, end, _) = mentions.get(rng.usize(..mentions.len().max(1)))?.clone();
            let lower = rewrite.to_lowercase();
            let candidates: Vec<&&str> = OTHER_DRUGS
                .iter()
                .filter(|d| !lower.contains(**d))
                .collect();
            let other = candidates[rng.usize(..candidates.len())];
            Some(format!("{}{other}{}", &rewrite[..start], &rewrite[end..]))
        }
        Kind::DroppedSentence => {
            let parts = sentences(rewrite);
            let holding: Vec<usize> = (0..parts.len())
                .filter(|&i| {
                    !number_spans(&parts[i]).is_empty() || !drug_sites(&parts[i]).is_empty()
                })
                .collect();
            if parts.len() < 2 {
                return None;
            }
            let drop = *holding.get(rng.usize(..holding.len().max(1)))?;
            Some(
                parts
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != drop)
                    .map(|(_, s)| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
        Kind::Negation => negation_flip(rewrite, rng),
        Kind::Laterality => {
            let sites: Vec<(usize, &str, &str)> =
                ["left", "right", "Left", "Right", "bilateral", "Bilateral"]
                    .iter()
                    .flat_map(|word| {
                        rewrite.match_indices(word).filter_map(move |(i, _)| {
                            let before = rewrite[..i]
                                .chars()
                                .next_back()
                                .is_none_or(|c| !c.is_alphanumeric());
                            let after = rewrite[i + word.len()..]
                                .chars()
                                .next()
                                .is_none_or(|c| !c.is_alphanumeric());
                            let to = match *word {
                                "right" | "bilateral" => "left",
                                "left" => "right",
                                "Left" => "Right",
                                _ => "Left",
                            };
                            (before && after).then_some((i, *word, to))
                        })
                    })
                    .collect();
            let (at, from, to) = *sites.get(rng.usize(..sites.len().max(1)))?;
            Some(format!(
                "{}{to}{}",
                &rewrite[..at],
                &rewrite[at + from.len()..]
            ))
        }
        Kind::NearCopy => {
            let applicable: Vec<&(&str, &str)> = SYNONYMS
                .iter()
                .filter(|(from, _)| note.to_lowercase().contains(from))
                .collect();
            Some(match applicable.first() {
                Some((from, to)) => replace_words(note, from, to),
                None => note.to_string(),
            })
        }
    }
}

/// Builds every case from `notes` with a fixed seed.
pub fn cases(notes: &[String], seed: u64) -> Vec<Case> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut cases = Vec::new();
    for note in notes {
        let rewrite = faithful(note);
        for kind in std::iter::once(Kind::Faithful).chain(Kind::UNSAFE) {
            if let Some(mutated) = mutate(kind, note, &rewrite, &mut rng) {
                cases.push(Case {
                    kind,
                    original: note.clone(),
                    rewrite: mutated,
                });
            }
        }
    }
    cases
}

/// Runs the checker over every case; returns the tally per kind and the failures.
pub fn run(
    cases: &[Case],
    checker: &SafetyChecker,
) -> (BTreeMap<Kind, Tally>, Vec<(Kind, String)>) {
    let mut tallies: BTreeMap<Kind, Tally> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in cases {
        let verdict = checker.check(&case.original, &case.rewrite, Some("stop"));
        let right = if case.kind == Kind::Faithful {
            verdict.accepted
        } else {
            !verdict.accepted
        };
        let tally = tallies.entry(case.kind).or_default();
        tally.cases += 1;
        if right {
            tally.right += 1;
        } else {
            let why = verdict
                .rejections
                .iter()
                .map(|r| format!("{}: {}", r.check, r.detail))
                .collect::<Vec<_>>()
                .join(" | ");
            misses.push((
                case.kind,
                format!(
                    "{why}\n  original: {}\n  rewrite:  {}",
                    case.original, case.rewrite
                ),
            ));
        }
    }
    (tallies, misses)
}

/// The benchmark's table.
pub fn table(tallies: &BTreeMap<Kind, Tally>) -> String {
    let mut out = format!(
        "{:<36} {:>6} {:>8} {:>8} {:>8}\n",
        "rewrite", "cases", "right", "share", "target"
    );
    for (kind, tally) in tallies {
        let _ = writeln!(
            out,
            "{:<36} {:>6} {:>8} {:>7.1}% {:>7.0}%",
            kind.name(),
            tally.cases,
            tally.right,
            tally.share() * 100.0,
            kind.target() * 100.0
        );
    }
    out
}
