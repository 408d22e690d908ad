//! Typos a note or a paraphrase makes in a long word, read as the same word: one letter
//! left out (`posttaumatic`) or two neighbouring letters swapped (`psuedocyst`), never a
//! letter changed (`dysphagia` and `dysphasia` are two findings). MEDEC notes carry such
//! typos and a model writes the word right, so without this a corrected spelling reads as
//! a new concept.

/// Whether `x` and `y` (both eight letters or more) are one word but for a typo.
pub(super) fn typo_of(x: &str, y: &str) -> bool {
    let (short, long) = if x.len() < y.len() { (x, y) } else { (y, x) };
    if short.len() < 8 {
        return false;
    }
    if long.len() == short.len() + 1 {
        return one_dropped(short, long);
    }
    long.len() == short.len() && swapped(short.as_bytes(), long.as_bytes())
}

/// Whether `short` is `long` with one character left out.
fn one_dropped(short: &str, long: &str) -> bool {
    let at = short
        .bytes()
        .zip(long.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(short.len());
    short.as_bytes()[at..] == long.as_bytes()[at + 1..]
}

/// Whether `a` is `b` with two neighbouring letters swapped.
fn swapped(a: &[u8], b: &[u8]) -> bool {
    let Some(at) = a.iter().zip(b).position(|(x, y)| x != y) else {
        return false;
    };
    at + 1 < a.len() && a[at] == b[at + 1] && a[at + 1] == b[at] && a[at + 2..] == b[at + 2..]
}

#[cfg(test)]
mod tests {
    use super::typo_of;

    #[test]
    fn a_dropped_or_swapped_letter_is_a_typo_a_changed_one_is_not() {
        assert!(typo_of("posttaumatic", "posttraumatic"));
        assert!(typo_of("psuedocyst", "pseudocyst"));
        assert!(!typo_of("dysphagia", "dysphasia"));
        assert!(!typo_of("pseudocyst", "pseudocyst"));
        // Short words are left alone (`ileum`, `ilium`; `form`, `from`).
        assert!(!typo_of("form", "from"));
    }
}
