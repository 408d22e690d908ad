#!/usr/bin/env python3
"""Clinical abbreviations and their senses (`abd` abdomen, `bx` biopsy, `gsw` gunshot wound)
into configs/lexicons/abbreviations.tsv, reproducibly, from the two Vanderbilt sense
inventories (abbreviations found in clinic notes and in discharge summaries, with each
sense's frequency) as kept by the Medical Abbreviation and Acronym Meta-Inventory
(GitHub lisavirginia/clinical-abbreviations, CC BY 4.0; Grossman Liu et al. 2021,
"A deep database of medical abbreviations and acronyms for natural language processing",
Scientific Data 8:149, doi:10.1038/s41597-021-00929-4), folder `sources/4-vanderbilt/`
at commit c2530a6519ec02246a4f577bf073e4dfe9428518. The source inventories: "Recognition
and Disambiguation of Clinical Abbreviations at Vanderbilt" (UTHealth SBMI).

    python3 configs/lexicons/make_abbreviation_lexicon.py vanderbilt_clinic_notes.txt \\
        vanderbilt_discharge_sums.txt > configs/lexicons/abbreviations.tsv

The two files are checked against their pinned sha256 first. Output: one line per
(abbreviation, sense), `abbreviation<TAB>sense`, lower case, words as the checker splits
them, sorted by bytes. Left out: abbreviations under two characters or without a letter,
and senses whose punctuation the word split drops. The checker uses them only to excuse
a concept said as an abbreviation (never to reject), so every sense is kept.
"""
import hashlib
import re
import sys

PINNED = {
    "vanderbilt_clinic_notes.txt": "70824585e716d868e918635efb48da5864e4ba48015d56cfe4d8803749b1f957",
    "vanderbilt_discharge_sums.txt": "6b09e107f7298180e6e69b6074926c59a19ce1e2773368b99a2a9ed29e23ec10",
}
WORD = re.compile(r"[0-9a-z]+(?:['\-][0-9a-z]+)*")


def normalise(text: str) -> str | None:
    lower = text.lower().replace("\u2019", "'")
    words = WORD.findall(lower)
    if not words or " ".join(words) != " ".join(lower.split()):
        return None
    return " ".join(words)


def main() -> None:
    rows = set()
    for path in sys.argv[1:]:
        name = path.rsplit("/", 1)[-1]
        data = open(path, "rb").read()
        digest = hashlib.sha256(data).hexdigest()
        if PINNED.get(name) != digest:
            sys.exit(f"{path}: sha256 {digest} is not the pinned {PINNED.get(name)}")
        for line in data.decode("utf-8").splitlines()[1:]:
            fields = line.split("\t")
            if len(fields) < 2:
                continue
            abbreviation, sense = normalise(fields[0]), normalise(fields[1])
            if abbreviation is None or sense is None or len(abbreviation) < 2 or " " in abbreviation:
                continue
            if not any(c.isalpha() for c in abbreviation) or abbreviation == sense:
                continue
            rows.add((abbreviation, sense))
    if len(sys.argv) != 3:
        sys.exit("usage: make_abbreviation_lexicon.py vanderbilt_clinic_notes.txt vanderbilt_discharge_sums.txt")
    out = sys.stdout
    out.write("# Clinical abbreviations and their senses from the Vanderbilt clinic-note and discharge-summary\n")
    out.write("# sense inventories, as kept by the Medical Abbreviation and Acronym Meta-Inventory\n")
    out.write("# (lisavirginia/clinical-abbreviations, CC BY 4.0, commit c2530a6519ec02246a4f577bf073e4dfe9428518;\n")
    out.write("# Grossman Liu et al. 2021, doi:10.1038/s41597-021-00929-4).\n")
    for name, digest in PINNED.items():
        out.write(f"# sources/4-vanderbilt/{name}: sha256 {digest}\n")
    out.write("# Made by configs/lexicons/make_abbreviation_lexicon.py. abbreviation<TAB>sense\n")
    for abbreviation, sense in sorted(rows, key=lambda r: (r[0].encode(), r[1].encode())):
        out.write(f"{abbreviation}\t{sense}\n")
    print(f"{len(rows)} abbreviation senses written", file=sys.stderr)


if __name__ == "__main__":
    main()
