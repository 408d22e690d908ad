#!/usr/bin/env python3
"""Converts the list of 1,415 human pathogen species of Taylor, Latham and Woolhouse (2001)
into configs/lexicons/organisms.tsv, reproducibly, from a checksummed copy of the table.

    python3 configs/lexicons/make_organism_lexicon.py Taylor_01.tsv > configs/lexicons/organisms.tsv

Source table: `Woolhouse/Taylor_01.tsv` of the public GitHub repository
cstubben/pathogen-lists (commit 65ea985, "add vectors"; sha256 pinned below), a
tab-separated transcription of Appendix A of
  Taylor LH, Latham SM, Woolhouse ME (2001). Risk factors for human disease emergence.
  Phil. Trans. R. Soc. Lond. B 356:983-989. doi:10.1098/rstb.2001.0888
Only the species names (facts) are used.

Output: `variant<TAB>canonical`, lower case, sorted by bytes. Per species: the name
(`staphylococcus epidermidis`), its abbreviated form (`s. epidermidis` is written
`s epidermidis` by the checker's word split, so both are listed as `s epidermidis`), and
its genus alone (canonical `genus <name>`, so `Salmonella` is not `Salmonella typhi`). Per
virus: the name, and without a leading `human ` (`herpesvirus 8`).
"""
import hashlib
import re
import sys
from pathlib import Path

TABLE_SHA256 = "a1f280a8b8988cbd44aec2247eafcfb6b862b17ace07ae2c67d72ce7f4c05071"
WORD = re.compile(r"[0-9a-z]+(?:['\-][0-9a-z]+)*")


def words(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def main() -> None:
    data = Path(sys.argv[1]).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != TABLE_SHA256:
        sys.exit(f"{sys.argv[1]}: sha256 {digest} is not the pinned {TABLE_SHA256}")
    rows = {}
    genera = {}
    for line in data.decode("utf-8").splitlines()[1:]:
        group, name, *_ = line.split("\t")
        name = name.strip()
        if not name or name.endswith(" sp.") or " agent" in name:
            continue
        canonical = words(name)
        rows.setdefault(canonical, canonical)
        parts = canonical.split(" ")
        if group == "virus":
            if canonical.startswith("human "):
                rows.setdefault(canonical[len("human "):], canonical)
            continue
        if len(parts) == 2 and len(parts[0]) > 3:
            rows.setdefault(f"{parts[0][0]} {parts[1]}", canonical)
            genera[parts[0]] = f"genus {parts[0]}"
    for genus, canonical in genera.items():
        rows.setdefault(genus, canonical)
    out = sys.stdout
    out.write("# Human pathogen species from Taylor, Latham and Woolhouse (2001), Phil. Trans. R. Soc.\n")
    out.write("# Lond. B 356:983-989, Appendix A, as transcribed in cstubben/pathogen-lists\n")
    out.write(f"# (Woolhouse/Taylor_01.tsv, commit 65ea985, sha256 {TABLE_SHA256}).\n")
    out.write("# Made by configs/lexicons/make_organism_lexicon.py. variant<TAB>canonical\n")
    for name in sorted(rows, key=lambda s: s.encode()):
        out.write(f"{name}\t{rows[name]}\n")
    print(f"{len(rows)} variants written", file=sys.stderr)


if __name__ == "__main__":
    main()
