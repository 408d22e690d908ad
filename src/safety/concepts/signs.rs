//! Signs of the HPO table (`signs.tsv`: `knee pain`, `tenesmus`, `T-wave inversion`): a
//! finding with its site or manner in its name, which a paraphrase often says apart
//! (`pain in the left knee`). A sign one text names and the other does not is excused only
//! when every word of it stands in the other text.

use std::collections::BTreeMap;

use super::super::facts::Facts;
use super::super::lexicon::{lexicon, Mention};
use super::super::text::is_stopword;
use super::OtherWords;

/// Whether a sign's words (`knee pain`, `T-wave inversion`) all stand somewhere in the
/// other text, each as itself (`same_word`: `knee`), its hyphen's parts (`T wave`), or a
/// concept the other text names in other words; a sign none of whose words the other text
/// has (`tenesmus`, `chemosis`) is still added or dropped.
pub(super) fn said_apart<'f>(
    facts: &'f Facts,
    mention: &Mention,
    other: &OtherWords<'f>,
    other_concepts: &BTreeMap<&'static str, &Mention>,
) -> bool {
    mention.entry.sign
        && facts.tokens[mention.first..mention.last].iter().all(|t| {
            let word: &'f str = t.lower.as_ref();
            let stands = |w: &'f str| {
                other.learn(w);
                !other.places.borrow()[w].is_empty()
            };
            is_stopword(word)
                || stands(word)
                // `T-wave` said `T wave`.
                || word.contains('-') && word.split('-').all(|part| part.is_empty() || stands(part))
                || lexicon()
                    .get(word)
                    .is_some_and(|e| other_concepts.contains_key(e.canonical))
        })
}
