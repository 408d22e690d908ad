//! Turns the lexicon TSVs of `configs/lexicons/` into two open-addressing hash tables
//! (`OUT_DIR/lexicon_*.bin`) that the safety checker reads in place through
//! `include_bytes!`, so a process starts with its lexicons ready (issue 8: `safesft check`
//! on one pair within 50 ms). The layout is described in `src/safety/static_table.rs`.

use std::collections::HashMap;
use std::path::Path;

#[path = "src/safety/table_hash.rs"]
mod table_hash;
use table_hash::hash;

/// Kinds as the bytes `src/safety/lexicon.rs` reads back.
const DRUG: u8 = 0;
const FINDING: u8 = 1;
const ORGANISM: u8 = 2;
const VITAL: u8 = 3;
const ROUTE: u8 = 4;
const LAB: u8 = 5;
const PROCEDURE: u8 = 6;
/// A finding only the HPO sign table names (`signs.tsv`): read as a finding whose words
/// may be said apart (`src/safety/concepts/signs.rs`).
const SIGN: u8 = 8;

#[allow(clippy::too_many_lines)] // the tables read in the order they apply, one after another
fn main() {
    let dir = Path::new("configs/lexicons");
    let read = |name: &str| {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    };
    let drugs = read("drugs.tsv");
    let diseases = read("diseases.tsv");
    let organisms = read("organisms.tsv");
    let labs = read("lab_analytes.tsv");
    let procedures = read("procedures.tsv");
    let synonyms = read("synonyms.tsv");
    let lay = read("lay.tsv");
    let signs = read("signs.tsv");
    let abbreviations: &'static str = read("abbreviations.tsv").leak();

    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (drugs, diseases, organisms, labs, procedures, synonyms, lay, signs) = (
        leak(drugs),
        leak(diseases),
        leak(organisms),
        leak(labs),
        leak(procedures),
        leak(synonyms),
        leak(lay),
        leak(signs),
    );
    // A sign mapped onto a concept another table has is that concept's variant; a sign of
    // its own concept is kind SIGN.
    let known: std::collections::HashSet<&str> =
        [drugs, diseases, organisms, procedures, synonyms, lay]
            .into_iter()
            .flat_map(|table| rows(table).map(|[_, canonical, _]| canonical))
            .collect();
    // Variant → (kind, canonical), later tables winning, in the order the checker has
    // always applied them: a disease name is no drug, a lab analyte is no drug, and the
    // hand-made synonyms decide last.
    let mut order: Vec<&str> = Vec::new();
    let mut entries: HashMap<&str, (u8, &str)> = HashMap::new();
    let mut put = |variant: &'static str, kind: u8, canonical: &'static str, replace: bool| {
        if !replace && entries.contains_key(variant) {
            return;
        }
        if entries.insert(variant, (kind, canonical)).is_none() {
            order.push(variant);
        }
    };
    // Procedures first: a name that is also a drug, finding or organism stays that.
    for [variant, canonical, _] in rows(procedures) {
        put(variant, PROCEDURE, canonical, true);
    }
    for [variant, canonical, _] in rows(drugs) {
        put(variant, DRUG, canonical, true);
    }
    for [variant, canonical, _] in rows(diseases) {
        put(variant, FINDING, canonical, true);
    }
    for [variant, canonical, _] in rows(organisms) {
        put(variant, ORGANISM, canonical, true);
    }
    for [name, _, _] in rows(labs) {
        put(name, LAB, name, true);
    }
    for [variant, canonical, kind] in rows(synonyms) {
        // The checker's tokens split at `/` (`N/V` is `n`, `v`), as its lookups join words.
        let variant = if variant.contains('/') {
            leak(variant.replace('/', " "))
        } else {
            variant
        };
        let kind = match kind {
            "finding" => FINDING,
            "organism" => ORGANISM,
            "drug" => DRUG,
            "vital" => VITAL,
            "route" => ROUTE,
            "procedure" => PROCEDURE,
            _ => LAB,
        };
        put(variant, kind, canonical, true);
    }
    // Lay names of findings (HPO layperson synonyms) only where no table names the words.
    for [variant, canonical, _] in rows(lay) {
        put(variant, FINDING, canonical, false);
    }
    // Signs of the HPO the other tables lack (tenesmus, chemosis), last and only
    // where no table names the words.
    for [variant, canonical, _] in rows(signs) {
        let kind = if known.contains(canonical) {
            FINDING
        } else {
            SIGN
        };
        put(variant, kind, canonical, false);
    }

    // Canonical names, each stored once.
    let mut canonical_ids: HashMap<&str, u32> = HashMap::new();
    let mut canonicals: Vec<&str> = Vec::new();
    let mut variant_values: Vec<(&str, u32)> = Vec::new();
    for variant in &order {
        let (kind, canonical) = entries[variant];
        let id = *canonical_ids.entry(canonical).or_insert_with(|| {
            canonicals.push(canonical);
            u32::try_from(canonicals.len() - 1).expect("fewer than 2^32 names")
        });
        assert!(id < 1 << 28, "too many canonical names");
        variant_values.push((variant, u32::from(kind) << 28 | id));
    }
    let (mut first_values, prefixes) = first_words_and_prefixes(&order);
    // The top bit: the first word is a variant alone too (most first words only start
    // longer variants), so a one-word match is looked up only for those.
    for (first, value) in &mut first_values {
        if entries.contains_key(first) {
            *value |= 1 << 31;
        }
    }
    let canonical_values: Vec<(&str, u32)> = canonicals.iter().map(|c| (*c, 0)).collect();

    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out);
    write(&out.join("lexicon_variants.bin"), &variant_values);
    write(&out.join("lexicon_first_words.bin"), &first_values);
    write(&out.join("lexicon_canonicals.bin"), &canonical_values);
    write(&out.join("lexicon_prefixes.bin"), &prefixes);
    write_lists(out, &order, &entries, abbreviations);
}

/// Keys of a table `write` lays out, each with its value.
type Keys = Vec<(&'static str, u32)>;

/// Per first word of a variant, the most words a variant starting with it has; and every
/// run of two or more leading words of a variant (the variant itself included), so a match
/// grows one word at a time only while some variant still starts that way.
fn first_words_and_prefixes(order: &[&'static str]) -> (Keys, Keys) {
    // Per first word: the most words a variant starting with it has.
    let mut longest: HashMap<&str, u32> = HashMap::new();
    let mut first_order: Vec<&str> = Vec::new();
    for variant in order {
        let first = variant.split_once(' ').map_or(*variant, |(f, _)| f);
        let count =
            1 + u32::try_from(variant.bytes().filter(|b| *b == b' ').count()).expect("short");
        let slot = longest.entry(first).or_insert_with(|| {
            first_order.push(first);
            0
        });
        *slot = (*slot).max(count);
    }
    // Every run of two or more leading words of a variant (the variant itself included),
    // so a match grows one word at a time only while some variant still starts that way.
    let mut prefix_seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut prefixes: Vec<(&str, u32)> = Vec::new();
    for variant in order {
        for (at, _) in variant.match_indices(' ').skip(1) {
            let prefix = &variant[..at];
            if prefix_seen.insert(prefix) {
                prefixes.push((prefix, 0));
            }
        }
        if variant.contains(' ') && prefix_seen.insert(variant) {
            prefixes.push((variant, 0));
        }
    }
    let first_values: Vec<(&str, u32)> = first_order.iter().map(|f| (*f, longest[f])).collect();
    (first_values, prefixes)
}

/// Writes the lists a check reads to find a concept said in other words: per canonical
/// concept of a finding, organism or procedure, all its variants (`muscle and joint pain`
/// holds `muscle pain`); per clinical abbreviation, its senses (`abd`: abdomen, abdominal).
fn write_lists(
    out: &Path,
    order: &[&'static str],
    entries: &HashMap<&'static str, (u8, &'static str)>,
    abbreviations: &'static str,
) {
    let mut variants_of: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut canonical_order: Vec<&str> = Vec::new();
    for variant in order {
        let (kind, canonical) = entries[variant];
        if matches!(kind, FINDING | SIGN | ORGANISM | PROCEDURE) {
            variants_of
                .entry(canonical)
                .or_insert_with(|| {
                    canonical_order.push(canonical);
                    Vec::new()
                })
                .push(variant);
        }
    }
    let (list_values, variant_lists) = lists(&canonical_order, &variants_of);
    let mut senses: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut abbreviation_order: Vec<&str> = Vec::new();
    for [abbreviation, sense, _] in rows(abbreviations) {
        senses
            .entry(abbreviation)
            .or_insert_with(|| {
                abbreviation_order.push(abbreviation);
                Vec::new()
            })
            .push(sense);
    }
    let (sense_values, sense_lists) = lists(&abbreviation_order, &senses);
    write(&out.join("lexicon_variants_of.bin"), &list_values);
    std::fs::write(out.join("lexicon_variant_lists.bin"), variant_lists)
        .unwrap_or_else(|e| panic!("cannot write the variant lists: {e}"));
    write(&out.join("abbreviation_senses.bin"), &sense_values);
    std::fs::write(out.join("abbreviation_sense_lists.bin"), sense_lists)
        .unwrap_or_else(|e| panic!("cannot write the sense lists: {e}"));
}

/// For each key in `order`: its list's start in the blob; the blob holds each list's
/// items one a line, each list ending in a zero byte.
fn lists<'a>(
    order: &[&'a str],
    items: &HashMap<&'a str, Vec<&'a str>>,
) -> (Vec<(&'a str, u32)>, Vec<u8>) {
    let mut blob: Vec<u8> = Vec::new();
    let mut values = Vec::new();
    for key in order {
        values.push((*key, u32::try_from(blob.len()).expect("lists under 4 GiB")));
        blob.extend_from_slice(items[key].join("\n").as_bytes());
        blob.push(0);
    }
    (values, blob)
}

/// The first two (or three) tab-separated fields of each line that is not a comment.
fn rows(table: &'static str) -> impl Iterator<Item = [&'static str; 3]> {
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (variant, rest) = l.split_once('\t').unwrap_or((l, ""));
            let (canonical, kind) = rest.split_once('\t').unwrap_or((rest, ""));
            [variant, canonical, kind]
        })
}

/// Layout, all little-endian `u32`: `n`, `slots`, then `n + 1` key offsets into the key
/// bytes, `n` values, `slots` slot words, then the key bytes. A slot word is 0 when empty,
/// else the key index + 1 in its low 24 bits and the top 8 bits of the key's hash above
/// them (a lookup compares keys only when those agree: most probes of a word that is no
/// key then touch no key bytes).
fn write(path: &Path, keys: &[(&str, u32)]) {
    let n = keys.len();
    assert!(n < (1 << 24) - 1, "a table holds fewer than 2^24 keys");
    let slots = (n * 2).next_power_of_two().max(2);
    let mut table = vec![0u32; slots];
    for (i, (key, _)) in keys.iter().enumerate() {
        let h = hash(key.as_bytes());
        let mut at = usize::try_from(h).expect("64-bit") & (slots - 1);
        while table[at] != 0 {
            at = (at + 1) & (slots - 1);
        }
        let fingerprint = u32::try_from(h >> 56).expect("8 bits");
        table[at] = u32::try_from(i + 1).expect("fewer than 2^24 keys") | (fingerprint << 24);
    }
    let mut bytes: Vec<u8> = Vec::new();
    let mut push = |v: u32| bytes.extend_from_slice(&v.to_le_bytes());
    push(u32::try_from(n).expect("small"));
    push(u32::try_from(slots).expect("small"));
    let mut offset = 0u32;
    for (key, _) in keys {
        push(offset);
        offset += u32::try_from(key.len()).expect("short key");
    }
    push(offset);
    for (_, value) in keys {
        push(*value);
    }
    for slot in &table {
        push(*slot);
    }
    for (key, _) in keys {
        bytes.extend_from_slice(key.as_bytes());
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
