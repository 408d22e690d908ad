//! Where a text can be cut so that its tokens are exactly the tokens of the two parts:
//! what lets the plan count a note once and reuse the count in every prompt holding it.
//!
//! tiktoken splits text into pieces with a regex, then byte-pair-encodes each piece on its
//! own. Both encodings' regexes (`o200k_base`, `cl100k_base`) have no look-behind, no `^` and
//! no `\b`, every match is non-empty, and every character falls in some match, so the
//! pieces tile the text and the match at a position depends only on the text from there
//! on. Hence `tokens(a + b) == tokens(a) ++ tokens(b)` as soon as the matches of `a + b`
//! that start inside `a` are the matches of `a` alone: a piece then ends exactly at the
//! cut, and from the cut on the pieces are those of `b`.
//!
//! Those matches are the same when no match attempt starting inside `a` consumes the first
//! character `y` of `b` or reaches a zero-width assertion (`$`, `(?!\S)`) at the cut,
//! where `a` alone (end of text) and `a + b` could answer differently. [`is_clean_cut`]
//! accepts two cases, proved for each alternative of both regexes (`x` is the last
//! character of `a`):
//!
//! 1. `x` is not whitespace and `y` is a space (U+0020). What can consume `x` and then
//!    test `y`: letter runs (test a letter, a mark or `'`), the optional leading
//!    `[^\r\n\p{L}\p{N}]` of a letter piece (tests a letter or mark), contractions after
//!    `'` (test a letter), digit runs (test a digit), punctuation runs
//!    `[^\s\p{L}\p{N}]+[\r\n/]*` (test punctuation, `\r`, `\n`, `/`). A space fails every
//!    one of these tests, as the end of text does. Every whitespace alternative (the only
//!    ones followed by `$` or `(?!\S)`) would have to consume `x`, which is not whitespace.
//! 2. `x` is `\r` or `\n` and `y` is neither whitespace nor `/`. What can consume `x` and
//!    then test `y`: the `[\r\n/]*` / `[\r\n]*+` tail of a punctuation piece and the
//!    whitespace alternatives (test whitespace, `\r`, `\n`, `/`): `y` fails them all.
//!    The zero-width assertions: o200k's `\s+(?!\S)` is never tried from inside the
//!    whitespace run that ends in `x`, because `\s*[\r\n]+` comes first and matches from
//!    any position in that run up to the cut (the run ends in a newline). In cl100k,
//!    `\s++$` matches such a run up to the end of `a` alone; in `a + b` it fails and the
//!    next alternative, `\s*[\r\n]`, matches the very same span (the run ends in a
//!    newline): the same piece either way.
//!
//! The unit tests check both encodings on every pair of short strings over an alphabet
//! of awkward characters, and on MEDEC's notes, token for token.

/// True when cutting between `left` (the last character before the cut) and `right` (the
/// first after it) cannot change the tokens, for `o200k_base` and `cl100k_base`: the
/// tokens of the whole are the tokens of the part before the cut followed by those of
/// the part after it, whatever else the two parts hold.
pub fn is_clean_cut(left: char, right: char) -> bool {
    if left == '\r' || left == '\n' {
        !right.is_whitespace() && right != '/'
    } else {
        !left.is_whitespace() && right == ' '
    }
}

/// True when `prefix` followed by `text` tokenizes as `prefix`'s tokens then `text`'s.
/// An empty side always joins cleanly.
pub fn joins_cleanly(prefix: &str, text: &str) -> bool {
    match (prefix.chars().next_back(), text.chars().next()) {
        (Some(left), Some(right)) => is_clean_cut(left, right),
        _ => true,
    }
}

/// The last byte offset inside `text` (neither 0 nor its length) where it can be cut
/// cleanly ([`is_clean_cut`]), if any: everything before it tokenizes the same whatever
/// follows `text`.
pub fn last_clean_cut(text: &str) -> Option<usize> {
    let mut after: Option<(usize, char)> = None;
    for (at, c) in text.char_indices().rev() {
        if let Some((cut, right)) = after {
            if is_clean_cut(c, right) {
                return Some(cut);
            }
        }
        after = Some((at, c));
    }
    None
}

#[cfg(test)]
mod tests;
