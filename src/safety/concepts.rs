//! Findings, diagnoses, organisms and procedures compared as canonical concepts: a synonym resolves to
//! the same concept and passes ("heart attack" = myocardial infarction); a concept one
//! text names and the other does not is a change (a swapped diagnosis is one dropped and
//! one added).

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::facts::Facts;
use super::lexicon::{lexicon, list, senses, Kind, Mention};
use super::qualifiers::is_qualifier;
use super::static_table::StaticTable;
use super::text::{is_stopword, Gap};
use super::{Check, Finding};
use plain_words::said_plainly;
use same_thing::{class_of, narrower_in_both, narrower_in_place, said_as_its_virus, SAME_THING};
use signs::said_apart;
use typos::typo_of;

/// The first mention of each concept of `kind`, by canonical name.
fn concepts<'f>(facts: &'f Facts, kind: Kind) -> BTreeMap<&'static str, &'f Mention> {
    let mut out = BTreeMap::new();
    for m in facts.of_kind([kind]) {
        out.entry(m.entry.canonical).or_insert(m);
    }
    out
}

/// Every variant of a finding, organism or procedure concept, by its canonical name, as
/// `build.rs` wrote them (one a line, each list ending in a zero byte).
static VARIANTS_OF: StaticTable = StaticTable::new(include_bytes!(concat!(
    env!("OUT_DIR"),
    "/lexicon_variants_of.bin"
)));
static VARIANT_LISTS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/lexicon_variant_lists.bin"));

/// The lexicon's variants of the concept `canonical` (none for a drug, vital or route).
fn variants_of(canonical: &str) -> impl Iterator<Item = &'static str> {
    list(&VARIANTS_OF, VARIANT_LISTS, canonical)
        .split('\n')
        .filter(|v| !v.is_empty())
}

/// Derivational endings of a finding's name and its adjective (`crepitus`, `crepitation`;
/// `hypoxia`, `hypoxic`; `tachycardia`, `tachycardic`; `hypotension`, `hypotensive`), longest first: two words with one
/// stem of at least five letters name one finding.
const ENDINGS: &[&str] = &[
    "ations", "ation", "atous", "otic", "osis", "ous", "ion", "ive", "ia", "ic", "us", "a", "y",
];

/// `word` without one of `ENDINGS`, when a stem of five letters or more is left.
fn finding_stem(word: &str) -> &str {
    // Five letters and an ending: a shorter word (many are) keeps its form.
    if word.len() < 6 {
        return word;
    }
    ENDINGS
        .iter()
        .find_map(|e| word.strip_suffix(e).filter(|stem| stem.len() >= 5))
        .unwrap_or(word)
}

/// A word with what `same_word` compares, worked out once: `same_word` runs for a
/// variant's word against every word of the other text, so nothing it needs of one word
/// alone is worked out per pair.
struct Key<'a> {
    word: &'a str,
    stem: &'a str,
    class: Option<usize>,
    /// The senses when the word is a clinical abbreviation, one a line.
    senses: &'static str,
    /// The concept of the longer (multi-word) mention the word is a part of, if any.
    part_of: Option<&'static str>,
    /// The word without its verb ending (`inflected`).
    verb: &'a str,
    /// The word without `ness` or `ity`, when three letters or more are left (`inflected`).
    noun_of: Option<&'a str>,
    /// The start `like` looks for in another word, when the word is long enough.
    like_prefix: Option<&'a str>,
    hyphenated: bool,
    /// Hyphenated, of a class, with senses or empty: `same_word` may hold without a shared
    /// first letter.
    loose: bool,
}

impl<'a> Key<'a> {
    fn new(word: &'a str) -> Key<'a> {
        let (class, senses, hyphenated) = (class_of(word), senses(word), word.contains('-'));
        Key {
            word,
            stem: finding_stem(word),
            class,
            senses,
            part_of: None,
            verb: verb_stem(word),
            noun_of: word
                .strip_suffix("ness")
                .or_else(|| word.strip_suffix("ity"))
                .filter(|stem| stem.len() >= 3),
            like_prefix: like_prefix(word),
            hyphenated,
            loose: hyphenated || class.is_some() || !senses.is_empty() || word.is_empty(),
        }
    }
}

/// The other text's words as `words_kept` reads them: their keys in token order, and
/// worked out on first use, where each word asked about stands among them and the
/// concepts its abbreviations name. The variants of one concept (and of the next) share
/// words, so each word is compared with the text's words once per check, not once per
/// variant.
struct OtherWords<'f> {
    keys: Vec<Key<'f>>,
    /// Per word asked about: the places of the words `same_word` finds it in, ascending.
    places: RefCell<FxHashMap<&'f str, Vec<usize>>>,
    /// The lexicon concepts the senses of the text's abbreviations name.
    sense_concepts: OnceCell<FxHashSet<&'static str>>,
}

impl<'f> OtherWords<'f> {
    /// The words of `facts`.
    fn new(facts: &'f Facts) -> OtherWords<'f> {
        let mut keys: Vec<Key> = facts.tokens.iter().map(|t| Key::new(&t.lower)).collect();
        for m in facts.mentions.iter().filter(|m| m.last > m.first + 1) {
            for key in &mut keys[m.first..m.last] {
                key.part_of = Some(m.entry.canonical);
            }
        }
        OtherWords {
            keys,
            places: RefCell::new(FxHashMap::default()),
            sense_concepts: OnceCell::new(),
        }
    }

    /// Works out where `word` stands, unless already known.
    fn learn(&self, word: &'f str) {
        if self.places.borrow().contains_key(word) {
            return;
        }
        let key = Key::new(word);
        let places = (0..self.keys.len())
            .filter(|&t| may_be_same(&key, &self.keys[t]) && same_word(&key, &self.keys[t]))
            .collect();
        self.places.borrow_mut().insert(word, places);
    }

    /// Whether an abbreviation of the text has the concept `name` among its senses
    /// (`bx`, `GSW`).
    fn abbreviates(&self, name: &str) -> bool {
        self.sense_concepts
            .get_or_init(|| {
                self.keys
                    .iter()
                    .flat_map(|k| k.senses.split('\n'))
                    .filter(|s| !s.is_empty())
                    .filter_map(|s| lexicon().get(s))
                    .map(|e| e.canonical)
                    .collect()
            })
            .contains(name)
    }
}

/// Whether `a` and `b` are one word for this check: equal; equal but for a hyphen
/// (`hepato-jugular`, `hepatojugular`); `a` a part of the hyphenated `b` (never the reverse:
/// `c-section` is not any `section`); one the
/// other's plural or with another ending (`allergy`, `allergic`); of one `SAME_THING` class;
/// or, both long, one the other with a letter dropped (a typo: `posttaumatic`) — never a
/// letter changed (`dysphagia`, `dysphasia` differ).
fn same_word(a: &Key, b: &Key) -> bool {
    let (x, y) = (a.word, b.word);
    if x == y
        || y.strip_suffix('s') == Some(x)
        || x.strip_suffix('s') == Some(y)
        || (a.class.is_some() && a.class == b.class)
        || (a.stem.len() >= 5 && a.stem == b.stem && (a.stem != x || b.stem != y))
        || like(a, y)
    {
        return true;
    }
    if (a.hyphenated || b.hyphenated)
        && (y.split('-').any(|part| part == x)
            || x.bytes()
                .filter(|&c| c != b'-')
                .eq(y.bytes().filter(|&c| c != b'-')))
    {
        return true;
    }
    // No senses: `split` yields one empty line.
    let sense_of = |senses: &str, word: &str| {
        if senses.is_empty() {
            word.is_empty()
        } else {
            senses.split('\n').any(|s| s == word)
        }
    };
    if sense_of(b.senses, x) || sense_of(a.senses, y) {
        return true;
    }
    if inflected(a, b) || inflected(b, a) {
        return true;
    }
    typo_of(x, y)
}

/// A cheap, exact pre-test of `same_word`: every rule of it but a class, senses, a hyphen,
/// an empty word or a typo (`typo_of`: a dropped letter) needs the two words' first letter.
fn may_be_same(a: &Key, b: &Key) -> bool {
    let (x, y) = (a.word.as_bytes(), b.word.as_bytes());
    x.first() == y.first() || a.loose || b.loose || x.len().abs_diff(y.len()) == 1
}

/// The start of `word` that another word must begin with to share all but its ending
/// with it: all but the last letter, and at least five (`allergy` and `allergic`), as
/// `Facts::has_word_like` tests them; `None` for a word under six bytes.
fn like_prefix(word: &str) -> Option<&str> {
    if word.len() < 6 {
        return None;
    }
    let letters = word.chars().count();
    word.char_indices()
        .nth(5.max(letters.saturating_sub(1)))
        .map(|(cut, _)| &word[..cut])
}

/// Whether two words share all but their endings (`allergy` and `allergic`).
fn like(word: &Key, other: &str) -> bool {
    other.len() >= 6
        && word
            .like_prefix
            .is_some_and(|prefix| other.starts_with(prefix))
}

/// A word without its verb ending (`vomited`, `vomiting`, `vomits` → `vomit`), at least
/// four letters left.
fn verb_stem(w: &str) -> &str {
    // Four letters and an ending: a shorter word keeps its form.
    if w.len() < 5 {
        return w;
    }
    let stem = ["ing", "ed", "es", "s"]
        .iter()
        .find_map(|e| w.strip_suffix(e).filter(|s| s.len() >= 4))
        .unwrap_or(w);
    stem.strip_suffix('e')
        .filter(|s| s.len() >= 4)
        .unwrap_or(stem)
}

/// Whether one word is the other inflected or made a noun: `vomited`, `vomiting`,
/// `vomits` and `vomit`; `redness` and `red`, `dizziness` and `dizzy`, `obesity` and
/// `obese` (a finding said as a verb or an adjective).
fn inflected(word: &Key, base: &Key) -> bool {
    let (a, b) = (word.verb, base.verb);
    (a.len() >= 4 && a == b && (a != word.word || b != base.word))
        || word.noun_of.is_some_and(|stem| {
            stem == base.word
                || base.word.strip_suffix('e') == Some(stem)
                || stem
                    .strip_suffix('i')
                    .is_some_and(|s| base.word.strip_suffix('y') == Some(s))
        })
}

/// Whether `words` stand in `other` close together: the first somewhere, each other one
/// within a few words of it (`diabetes … type 2` counts, `major` in one sentence and
/// `depressive disorder` in another does not). Stopwords and short prepositions (`of`,
/// `in`) of a variant need not stand; numbers, roman numerals and a genus's initial do
/// (`type 1`, `type ii`, `m pneumoniae`).
fn phrase_in<'f>(words: impl Iterator<Item = &'f str>, other: &OtherWords<'f>) -> bool {
    phrase_of(words, other, None)
}

/// `phrase_in` for a variant of the concept `name`: a variant of one word does not stand in
/// a longer name of another concept (`syncope` is not kept by `neurocardiogenic syncope`).
fn phrase_of<'f>(
    words: impl Iterator<Item = &'f str>,
    other: &OtherWords<'f>,
    name: Option<&str>,
) -> bool {
    let function_word = |w: &str| {
        is_stopword(w)
            || matches!(
                w,
                "of" | "in" | "on" | "to" | "at" | "by" | "or" | "an" | "as"
            )
    };
    let words: Vec<&str> = words.filter(|w| !function_word(w)).collect();
    let Some((&first, rest)) = words.split_first() else {
        return false;
    };
    let keys = &other.keys;
    let reach = words.len() + 3;
    let alone = |t: usize| {
        rest.is_empty() && name.is_some() && keys[t].part_of.is_some_and(|c| Some(c) != name)
    };
    other.learn(first);
    let anchors: Vec<usize> = other.places.borrow()[first]
        .iter()
        .copied()
        .filter(|&t| !alone(t))
        .collect();
    if anchors.is_empty() {
        return false;
    }
    for &w in rest {
        other.learn(w);
    }
    let places = other.places.borrow();
    anchors.into_iter().any(|anchor| {
        let (from, to) = (
            anchor.saturating_sub(reach),
            (anchor + reach).min(keys.len()),
        );
        rest.iter()
            .all(|w| places[w].iter().any(|&t| from <= t && t < to))
    })
}

/// Whether the concept of `mention` stands in the other text (`other`, its words) in
/// other words: its own words close together (read as a part of a longer or different
/// match), or the words of another of its lexicon variants (`muscle and joint pain` holds
/// `muscle pain`, a variant of myalgia; `an x-ray of the chest` holds `chest x-ray`).
fn words_kept<'f>(facts: &'f Facts, mention: &Mention, other: &OtherWords<'f>) -> bool {
    let own = facts.tokens[mention.first..mention.last]
        .iter()
        .map(|t| t.lower.as_ref());
    let name = mention.entry.canonical;
    phrase_in(own, other)
        || variants_of(name).any(|v| phrase_of(v.split(' '), other, Some(name)))
        // An abbreviation in the other text with the concept as a sense (`bx`, `GSW`).
        || other.abbreviates(name)
        // The mention is itself an abbreviation, and another of its senses stands in the
        // other text (`CTA`: clear to auscultation, not CT angiography).
        || (mention.last == mention.first + 1
            && senses(&facts.tokens[mention.first].lower)
                .split('\n')
                .any(|s| !s.is_empty() && phrase_in(s.split(' '), other)))
}

/// Whether `name` (a concept one text names and the other does not) is excused by a
/// broader concept the other text names in its place ("diabetes mellitus, type 2" said as
/// "diabetes mellitus", "trigeminal neuralgia" as "neuralgia"): the broader concept must
/// be one the first text does not name itself (else it stands for itself), and its
/// mention must not carry a qualifying word the first text lacks ("epidural hematoma" is no stand-in for "subdural hematoma").
fn broader_in_place(
    name: &str,
    others: &BTreeMap<&'static str, &Mention>,
    own: &BTreeMap<&'static str, &Mention>,
    other_facts: &Facts,
    own_facts: &Facts,
) -> bool {
    others.iter().any(|(o, m)| {
        o.len() >= 6
            && name.len() > o.len()
            // MeSH's inverted names (`diabetes mellitus, type 2`) and names in English
            // order by their head (`trigeminal neuralgia` said as `neuralgia`).
            && (name.starts_with(o) || name.strip_suffix(o).is_some_and(|q| q.ends_with(' ')))
            && !own.contains_key(o)
            && !new_qualifier(other_facts, m, own_facts)
    })
}

/// Verbs that stand right before a finding they report (`appears lethargic`, `develops
/// fever`): no qualifier of it.
const VERBS: &[&str] = &[
    "appears",
    "appear",
    "seems",
    "seem",
    "looks",
    "look",
    "feels",
    "feel",
    "becomes",
    "become",
    "remains",
    "remain",
    "reports",
    "report",
    "notes",
    "note",
    "complains",
    "describes",
    "develops",
    "develop",
    "experiences",
    "endorses",
    "states",
    "having",
    "causing",
    "including",
    "suggesting",
    "showing",
    "revealing",
    "demonstrating",
];

/// The word right before a mention in the same phrase when it may qualify it: a word of
/// three letters or more, not a stopword, a side, a severity or time qualifier (their own
/// checks compare those) or a negation.
fn modifier(facts: &Facts, mention: &Mention) -> Option<usize> {
    let before = mention.first.checked_sub(1)?;
    if facts.tokens[mention.first].gap > Gap::Joiner {
        return None;
    }
    let word = facts.tokens[before].lower.as_ref();
    let plain = word.len() >= 3
        && word.chars().all(|c| c.is_alphabetic() || c == '-')
        && !is_stopword(word)
        && !facts.trigger[before]
        && !is_qualifier(word)
        // `noted bleeding`, `appears lethargic`: a verb tells what was done or seen, not
        // which finding.
        && (!word.ends_with("ed") || word.contains('-'))
        && !VERBS.contains(&word)
        // `right-sided`, `L-sided`: a side, which the laterality check compares.
        && !word.ends_with("-sided")
        && !matches!(
            word,
            "left" | "right" | "bilateral" | "both" | "new" | "any" | "all" | "her" | "his" | "their"
        );
    plain.then_some(before)
}

/// Whether the word right before a mention (in the same phrase) is a content word the
/// other text has nowhere: the mention is qualified in a way the other text is not.
fn new_qualifier(facts: &Facts, mention: &Mention, other: &Facts) -> bool {
    modifier(facts, mention).is_some_and(|t| absent(&facts.tokens[t].lower, other))
}

/// Whether `word` stands nowhere in `other`, in no form: not as itself, another ending,
/// a word of the same thing, nor an abbreviation of it either way (`abd` and `abdominal`).
fn absent(word: &str, other: &Facts) -> bool {
    !other.has_word(word)
        && !other.has_word_like(word)
        && !class_of(word).is_some_and(|c| SAME_THING[c].iter().any(|w| other.has_word(w)))
        && !senses(word).lines().any(|sense| other.has_word(sense))
        && !other
            .tokens
            .iter()
            .any(|t| senses(&t.lower).lines().any(|sense| sense == word))
}

/// Rejects a concept both texts name, qualified by a word in the original that the
/// paraphrase has nowhere and by another in the paraphrase that the original has nowhere
/// (`superficial spreading melanoma` became `nodular melanoma`).
fn compare_modifiers(before: &Facts, after: &Facts, rejections: &mut Vec<Finding>) {
    let kinds = [Kind::Finding, Kind::Organism, Kind::Procedure];
    let qualified: Vec<(&Mention, usize)> = after
        .of_kind(kinds)
        .filter_map(|p| modifier(after, p).map(|u| (p, u)))
        .collect();
    if qualified.is_empty() {
        return;
    }
    let mut reported = Vec::new();
    for m in before.of_kind(kinds) {
        let name = m.entry.canonical;
        if reported.contains(&name) || !qualified.iter().any(|(p, _)| p.entry.canonical == name) {
            continue;
        }
        let Some(t) = modifier(before, m).filter(|&t| absent(&before.tokens[t].lower, after))
        else {
            continue;
        };
        let other = qualified
            .iter()
            .find(|(p, u)| p.entry.canonical == name && absent(&after.tokens[*u].lower, before));
        if let Some((p, u)) = other {
            reported.push(name);
            let from = before.span(before.tokens[t].start, m.end);
            let to = after.span(after.tokens[*u].start, p.end);
            rejections.push(Finding::new(
                Check::FindingAdded,
                format!("`{from}` became `{to}` ({name} qualified otherwise)"),
                Some(from),
                Some(to),
            ));
        }
    }
}

/// Whether a concept the paraphrase adds is a broader form of one the original names
/// ("diabetes mellitus" for "diabetes mellitus, type 2"): less exact, not new.
fn narrower_kept(name: &str, original: &BTreeMap<&'static str, &Mention>) -> bool {
    name.len() >= 6
        && original
            .keys()
            .any(|o| o.len() > name.len() && o.starts_with(name))
}

/// Rejects a finding, diagnosis, organism, procedure or test one text names and the
/// other does not.
pub(super) fn compare_concepts<'f>(
    before: &'f Facts,
    after: &'f Facts,
    rejections: &mut Vec<Finding>,
) {
    compare_modifiers(before, after, rejections);
    let before_words = OnceCell::new();
    let after_words = OnceCell::new();
    for (kind, dropped, added, what) in [
        (
            Kind::Finding,
            Check::FindingDropped,
            Check::FindingAdded,
            "finding or diagnosis",
        ),
        (
            Kind::Organism,
            Check::OrganismDropped,
            Check::OrganismAdded,
            "organism",
        ),
        (
            Kind::Procedure,
            Check::ProcedureDropped,
            Check::ProcedureAdded,
            "procedure or test",
        ),
    ] {
        let original = concepts(before, kind);
        let paraphrase = concepts(after, kind);
        for (name, m) in &original {
            let kept = paraphrase.contains_key(name)
                || words_kept(
                    before,
                    m,
                    after_words.get_or_init(|| OtherWords::new(after)),
                )
                || broader_in_place(name, &paraphrase, &original, after, before)
                || kind == Kind::Procedure && narrower_in_place(name, &paraphrase)
                || narrower_in_both(name, &paraphrase, &original)
                || said_as_its_virus(name, kind, after)
                || kind == Kind::Finding && said_plainly(name, after)
                || said_apart(
                    before,
                    m,
                    after_words.get_or_init(|| OtherWords::new(after)),
                    &paraphrase,
                );
            if !kept {
                let span = before.span(m.start, m.end);
                rejections.push(Finding::new(
                    dropped,
                    format!("the {what} `{span}` ({name}) is not in the paraphrase"),
                    Some(span),
                    None,
                ));
            }
        }
        for (name, m) in &paraphrase {
            if !original.contains_key(name)
                && !words_kept(
                    after,
                    m,
                    before_words.get_or_init(|| OtherWords::new(before)),
                )
                && !broader_in_place(name, &original, &paraphrase, before, after)
                && !narrower_kept(name, &original)
                && !narrower_in_both(name, &original, &paraphrase)
                && !said_as_its_virus(name, kind, before)
                && !(kind == Kind::Finding && said_plainly(name, before))
                && !said_apart(
                    after,
                    m,
                    before_words.get_or_init(|| OtherWords::new(before)),
                    &original,
                )
            {
                let span = after.span(m.start, m.end);
                rejections.push(Finding::new(
                    added,
                    format!("the {what} `{span}` ({name}) is not in the original"),
                    None,
                    Some(span),
                ));
            }
        }
    }
}

mod plain_words;
mod same_thing;
mod signs;
#[cfg(test)]
mod tests;
mod typos;
