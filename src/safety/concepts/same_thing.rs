//! What names the same thing in other words: words of one class (a body part's adjective
//! and noun, a diagnosis's generic head nouns) for the concept check's `same_word`, a
//! narrower procedure, a virus for its disease.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::super::facts::Facts;
use super::super::lexicon::{Kind, Mention};

/// Words of one class that name the same thing in a finding's name, written from clinical
/// knowledge (not from any evaluation item): the Latin or Greek adjective of a body part and
/// its English noun (`oral ulcers` = ulcers in the mouth, `carcinoma of the lung` = lung
/// cancer's organ), and the generic head nouns of a diagnosis (`psychiatric illness`,
/// `psychiatric disorder`, `psychiatric history`). Only used to excuse a concept as said in
/// other words, never to reject.
pub(super) const SAME_THING: &[&[&str]] = &[
    &["oral", "mouth"],
    &["thoracic", "chest", "thorax"],
    &["pulmonary", "lung", "lungs"],
    &["renal", "kidney", "kidneys"],
    &["hepatic", "liver"],
    &["cardiac", "heart"],
    &["cerebral", "brain"],
    &["gastric", "stomach"],
    &["ocular", "ophthalmic", "eye", "eyes"],
    &["visual", "vision"],
    &["cutaneous", "dermal", "skin"],
    &["nasal", "nose"],
    &["otic", "aural", "auricular", "ear", "ears"],
    &["abdominal", "abdomen", "belly"],
    &["pelvic", "pelvis"],
    &["spinal", "vertebral", "spine"],
    &["dental", "tooth", "teeth"],
    &["lingual", "tongue"],
    &["labial", "lip", "lips"],
    &["vesical", "bladder"],
    &["intestinal", "bowel", "bowels", "gut"],
    &["colonic", "colon"],
    &["rectal", "rectum"],
    &["vaginal", "vagina"],
    &["uterine", "uterus", "womb"],
    &["ovarian", "ovary", "ovaries"],
    &["testicular", "testis", "testicle", "testicles"],
    &["splenic", "spleen"],
    &["pancreatic", "pancreas"],
    &["cranial", "skull"],
    &["facial", "face"],
    &["muscular", "muscle", "muscles"],
    &["articular", "joint", "joints"],
    &["osseous", "bone", "bones"],
    &["arterial", "artery", "arteries"],
    &["venous", "vein", "veins"],
    &["mammary", "breast", "breasts"],
    &["pharyngeal", "throat", "pharynx"],
    &["esophageal", "esophagus", "oesophagus"],
    &["gingival", "gum", "gums"],
    &["cancer", "carcinoma"],
    // Plain synonyms a paraphrase puts before a finding or treatment (`prior ischemic
    // stroke`, `start exercise therapy`, `heavy bleeding`).
    &["previous", "prior", "earlier", "former"],
    &["begin", "start", "initiate", "commence"],
    &["profuse", "heavy", "copious"],
    &["trouble", "difficulty", "difficulties"],
    &["generally", "typically", "usually"],
    &["short", "brief", "briefly"],
    &["urination", "micturition", "urinating", "voiding"],
    // Edema's lay name (MedlinePlus, "Foot, leg, and ankle swelling": peripheral edema).
    &["edema", "swelling", "oedema"],
    &["illness", "disease", "disorder", "condition", "history"],
    &["urinalysis", "ua"],
    // A vaccination said by what is given (`MMR vaccine given`, `vaccines up to date`).
    &[
        "vaccination",
        "vaccinations",
        "vaccine",
        "vaccines",
        "immunization",
        "immunizations",
    ],
    &["loss", "lose", "loses", "losing", "lost"],
    // The course of a finding: a worsening one and an improving one.
    &[
        "increasing",
        "worsening",
        "progressive",
        "progressing",
        "escalating",
        "rising",
    ],
    &[
        "decreasing",
        "improving",
        "resolving",
        "lessening",
        "diminishing",
        "subsiding",
    ],
];

/// The `SAME_THING` class of `word`, if any.
pub(super) fn class_of(word: &str) -> Option<usize> {
    static INDEX: OnceLock<FxHashMap<&'static str, usize>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let mut index = FxHashMap::default();
            for (i, class) in SAME_THING.iter().enumerate() {
                for w in *class {
                    index.insert(*w, i);
                }
            }
            index
        })
        .get(word)
        .copied()
}

/// Whether a procedure the original names and the paraphrase does not is there in a
/// narrower name (`an X-ray of the chest` said as `CXR`: radiography as thoracic
/// radiography; `radiography, thoracic` in `MeSH` order). Not for findings: a narrower
/// diagnosis is another diagnosis (`syncope` is not kept by `neurocardiogenic syncope`).
pub(super) fn narrower_in_place(name: &str, others: &BTreeMap<&'static str, &Mention>) -> bool {
    others.keys().any(|other| narrower(other, name))
}

/// Whether a concept one text names and the other does not is there in a narrower name
/// that both texts name (`diabetes mellitus type 2 (DM2)` said as `DM2`): the narrower
/// concept kept says the broader one too. Any kind: nothing changed, one name is left out.
pub(super) fn narrower_in_both(
    name: &str,
    others: &BTreeMap<&'static str, &Mention>,
    own: &BTreeMap<&'static str, &Mention>,
) -> bool {
    others
        .keys()
        .any(|other| own.contains_key(other) && narrower(other, name))
}

/// Whether the concept `other` is a narrower form of `name` in `MeSH` order
/// (`radiography, thoracic`; `diabetes mellitus, type 2`) or English order.
fn narrower(other: &str, name: &str) -> bool {
    other.len() > name.len() + 1
        && (other
            .strip_suffix(name)
            .is_some_and(|head| head.ends_with(' '))
            || other
                .strip_prefix(name)
                .is_some_and(|tail| tail.starts_with(", ")))
}

/// Whether the viral disease `name` is named in `other` by its virus (`hepatitis C` said as
/// `HCV`), or the virus `name` by its disease.
pub(super) fn said_as_its_virus(name: &str, kind: Kind, other: &Facts) -> bool {
    let (wanted_kind, wanted) = match kind {
        Kind::Finding => (Kind::Organism, format!("{name} virus")),
        Kind::Organism => match name.strip_suffix(" virus") {
            Some(disease) => (Kind::Finding, disease.to_string()),
            None => return false,
        },
        _ => return false,
    };
    other
        .of_kind([wanted_kind])
        .any(|m| m.entry.canonical == wanted)
}
