//! The safety checker's evaluation sets, read as the benchmark needs them: MEDEC-MS error
//! pairs (the incorrect note offered as a paraphrase of the corrected one) and the
//! hand-written faithful and one-fact sets of `tests/data/safety/`, each item with its
//! split (`dev` = even MEDEC-MS validation pair index, `heldout` = odd, `test` = a pair of
//! the MEDEC-MS test set, kept in `tests/data/medec/` for measuring only).

use std::collections::BTreeMap;
use std::path::Path;

use safesft::safety::Finding;

/// One MEDEC row, as the sets use it.
pub struct MedecRow {
    pub text_id: String,
    pub text: String,
    pub corrected_text: String,
    pub error_flag: bool,
    pub error_type: String,
    pub error_sentence: String,
    pub corrected_sentence: String,
}

/// The bundled MEDEC-MS validation CSV (the tool's sample).
pub const VALIDATION: &str = "data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv";
/// The MEDEC-MS test CSV, bundled for the benchmark only (never tuned on).
pub const TEST: &str = "tests/data/medec/MEDEC-MS-TestSet-with-GroundTruth-and-ErrorType.csv";

/// Every row with a `Text ID` of one MEDEC-MS CSV (`VALIDATION` or `TEST`), in file order.
pub fn medec_rows(root: &Path, file: &str) -> Vec<MedecRow> {
    let path = root.join(file);
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{} opens: {e}", path.display()));
    let headers = reader.headers().expect("the CSV has headers").clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column `{name}` in the MEDEC CSV"))
    };
    let (id, text, flag, kind, error, corrected, corrected_text) = (
        column("Text ID"),
        column("Text"),
        column("Error Flag"),
        column("Error Type"),
        column("Error Sentence"),
        column("Corrected Sentence"),
        column("Corrected Text"),
    );
    reader
        .records()
        .map(|r| r.expect("a readable MEDEC row"))
        .filter(|r| !r[id].trim().is_empty())
        .map(|r| MedecRow {
            text_id: r[id].to_string(),
            text: r[text].to_string(),
            corrected_text: if r[corrected_text].trim().is_empty() {
                r[text].to_string()
            } else {
                r[corrected_text].to_string()
            },
            error_flag: r[flag].trim() == "1",
            error_type: r[kind].to_string(),
            error_sentence: r[error].to_string(),
            corrected_sentence: r[corrected].to_string(),
        })
        .collect()
}

/// A hand-written item: its header fields, `from`/`to` (one-fact items) and paraphrase.
pub struct Item {
    pub id: String,
    pub note: String,
    /// `style` of a faithful item, `kind` of a one-fact item.
    pub label: String,
    pub split: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub paraphrase: String,
}

/// The items of one set file (format: see `tests/data/safety/README.md`).
pub fn items(path: &Path) -> Vec<Item> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    for block in text.split("\n=== ").map(|b| b.trim_start_matches("=== ")) {
        let Some((header, body)) = block.split_once('\n') else {
            continue;
        };
        let field = |name: &str| {
            header
                .split('|')
                .filter_map(|f| f.trim().split_once(':'))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let (Some(id), Some(note), Some(split)) = (field("id"), field("note"), field("split"))
        else {
            continue;
        };
        let label = field("style").or_else(|| field("kind")).unwrap_or_default();
        let mut from = None;
        let mut to = None;
        let mut lines = Vec::new();
        for line in body.lines() {
            if let Some(f) = line
                .strip_prefix("from: ")
                .filter(|_| from.is_none() && lines.is_empty())
            {
                from = Some(f.to_string());
            } else if let Some(t) = line
                .strip_prefix("to: ")
                .filter(|_| to.is_none() && lines.is_empty())
            {
                to = Some(t.to_string());
            } else {
                lines.push(line);
            }
        }
        out.push(Item {
            id,
            note,
            label,
            split,
            from,
            to,
            paraphrase: lines.join("\n").trim().to_string(),
        });
    }
    out
}

/// The byte ranges where `needle` stands in `text` (spaces and line breaks alike).
fn places(text: &str, needle: &str) -> Vec<(usize, usize)> {
    let squash = |s: &str| -> (String, Vec<usize>) {
        let mut out = String::new();
        let mut at = Vec::new();
        let mut space = false;
        for (i, c) in s.char_indices() {
            if c.is_whitespace() {
                if !space {
                    out.push(' ');
                    at.push(i);
                }
                space = true;
            } else {
                space = false;
                for _ in 0..c.len_utf8() {
                    at.push(i);
                }
                out.push(c);
            }
        }
        at.push(s.len());
        (out, at)
    };
    let (hay, map) = squash(text);
    let (needle, _) = squash(needle.trim());
    if needle.is_empty() {
        return Vec::new();
    }
    hay.match_indices(&needle)
        .map(|(i, m)| (map[i], map[(i + m.len()).min(map.len() - 1)]))
        .collect()
}

/// Whether `span` stands in `text` where `target` does (their places overlap).
pub fn overlaps(text: &str, span: Option<&str>, target: Option<&str>) -> bool {
    let (Some(span), Some(target)) = (span, target) else {
        return false;
    };
    let targets = places(text, target);
    places(text, span)
        .iter()
        .any(|(a, b)| targets.iter().any(|(c, d)| a < d && c < b))
}

/// Whether a rejection is "for the right reason": its original span overlaps `from` in
/// the original or its paraphrase span overlaps `to` in the paraphrase.
pub fn right_reason(
    finding: &Finding,
    original: &str,
    from: Option<&str>,
    paraphrase: &str,
    to: Option<&str>,
) -> bool {
    overlaps(original, finding.original_span.as_deref(), from)
        || overlaps(paraphrase, finding.paraphrase_span.as_deref(), to)
}

/// Counts per label: items, and items the checker judged right (and, for rejections,
/// right for the right reason).
#[derive(Default, Clone, Copy)]
pub struct Tally {
    pub items: usize,
    pub right: usize,
    pub right_reason: usize,
    pub near_copy: usize,
    /// Items the hard checks alone judge right (kept, or rejected).
    pub hard: usize,
}

/// Per split, per label.
pub type Table = BTreeMap<String, BTreeMap<String, Tally>>;

/// `12/13 (92.3 %)`.
pub fn share(part: usize, whole: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let percent = if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    };
    format!("{part}/{whole} ({percent:.1} %)")
}
