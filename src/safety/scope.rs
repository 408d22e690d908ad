//! NegEx/ConText negation scopes over a note's tokens: trigger phrases open a scope
//! forward (`denies`, `no`, `negative for`) or backward (`… is negative`, `… absent`),
//! pseudo triggers (`no change`, `gram-negative`) open none, and a scope ends at a
//! termination term (`but`, `however`, a new verb), a clause or sentence break or after
//! `MAX_SCOPE` words.
//!
//! The trigger and termination lists follow the categories of `NegEx` (Chapman et al. 2001,
//! `doi:10.1006/jbin.2001.1029`), `ConText` (Harkema et al. 2009, `doi:10.1016/j.jbi.2009.05.002`)
//! and the `en_clinical` termset of negspacy (`negspacy/termsets.py`, MIT), trimmed to what
//! clinical vignettes write.

use std::sync::OnceLock;

use super::text::{is_stopword, Gap, PhraseTable, Token};
use super::word_filter::WordSet;

/// Forward triggers (pre-negations), longest first where one starts another; `refrain
/// from` and `withhold` (a treatment not given) in `ConText`'s sense of negated actions.
const FORWARD: &[&str] = &[
    "no evidence of",
    "no history of",
    "no signs of",
    "no sign of",
    "negative for",
    // `neg for` (telegraphic `negative for`); `unresponsive to X` denies the response to
    // X as `does not respond to X` does.
    "neg for",
    "unresponsive to",
    // "auscultation unremarkable for any rales": none heard.
    "unremarkable for",
    "absence of",
    "free of",
    "fails to reveal",
    "failed to reveal",
    "fail to",
    "fails to",
    "failed to",
    "ruled out",
    "rules out",
    "unable to",
    "denies",
    "denied",
    "deny",
    "denying",
    "without",
    "never",
    "neither",
    "nor",
    "not",
    "no",
    "none",
    "cannot",
    "lack of",
    "lacks",
    "refrain from",
    "refrained from",
    "withhold",
    "withheld",
    // negspacy `en_clinical` preceding negations (its contractions `doesn't`, `didn't`,
    // … match `not` already: `PhraseTable::at`).
    "without indication of",
    "without signs of",
    "without sign of",
    "no complaints of",
];
/// Backward triggers (post-negations): the scope runs back over the clause.
const BACKWARD: &[&str] = &[
    "is negative",
    "are negative",
    "was negative",
    "were negative",
    "negative",
    // `HIV neg`, `UA neg`: the shorthand of telegraphic notes.
    "neg",
    "is absent",
    "are absent",
    "was absent",
    "were absent",
    "absent",
    "was ruled out",
    "were ruled out",
    "not seen",
    "not present",
    // `the diarrhea does not occur`: a finding said not to happen.
    "not occur",
    // NegEx/negspacy post-negations, and the `not` + finding verb forms of NegEx's
    // `not appreciated`, `not demonstrated`: a finding looked for and not found.
    "unlikely",
    "not appreciated",
    "not noted",
    "not detected",
    "not identified",
    "not found",
    "not observed",
    "not heard",
    "not palpable",
    "not palpated",
    "not visualized",
    "not visualised",
    "not elicited",
    "not demonstrated",
    "cannot be detected",
    "could not be detected",
    "cannot be palpated",
    "could not be palpated",
    "cannot be felt",
    "could not be felt",
    "not felt",
    "cannot be appreciated",
    "could not be appreciated",
    "cannot be heard",
    "could not be heard",
    "cannot be seen",
    "could not be seen",
    "cannot be visualized",
    "could not be visualized",
    "cannot be elicited",
    "could not be elicited",
];
/// Phrases that look like triggers and negate nothing.
const PSEUDO: &[&str] = &[
    "no change",
    "no significant change",
    "no increase",
    "no further",
    "not only",
    "not necessarily",
    "not certain",
    "without difficulty",
    "gram negative",
    "gram-negative",
    "not cause",
    // negspacy `en_clinical` pseudo negations.
    "not able to be",
    "not certain if",
    "not certain whether",
    "without any further",
    "without further",
    "might not",
    "no definite change",
    "not extend",
    "not rule out",
    "not ruled out",
    "not been ruled out",
    "not drain",
    "no suspicious change",
    "no interval change",
    "no significant interval change",
];
/// Conjunctions that turn a sentence from what a trigger before them denies to what is
/// said after them (`denies weakness but reports numbness`): `NegEx`'s termination terms
/// of that kind. They end a scope, and the negation check's loose counts stop at them.
pub(super) const CONTRASTS: &[&str] = &[
    "but",
    "however",
    "although",
    "though",
    "yet",
    "except",
    "whereas",
    "besides",
    "apart",
    "aside",
    "nevertheless",
];
/// Words that end a scope besides `CONTRASTS` (`ConText` termination terms and the verbs that open a new
/// predicate: "denies chest pain and is on metoprolol").
const TERMINATION: &[&str] = &[
    "than",
    "which",
    "who",
    "whose",
    "where",
    "while",
    "because",
    "since",
    "despite",
    "after",
    "until",
    "when",
    "is",
    "was",
    "are",
    "were",
    "has",
    "had",
    "takes",
    "took",
    "presents",
    "presented",
    "reports",
    "reported",
    "complains",
    "states",
    "says",
    "admits",
    "endorses",
    "shows",
    "showed",
    "reveals",
    "revealed",
    "appears",
    "underwent",
    "received",
    "started",
    "began",
    "uses",
    "drinks",
    "smokes",
    "lives",
    "works",
    "positive",
    // negspacy termination terms.
    "still",
    "involving",
    // A telegraphic clause after denials: "no PMH, brought to the ED by parents for a rash".
    "brought",
    "referred",
];
/// Verbs that, right after a forward trigger (and its auxiliaries), are the negated
/// predicate, not a new one: "has never received an influenza vaccine", "does not take any
/// medications", "does not smoke". The scope takes the verb in and runs on to its object.
const PREDICATES: &[&str] = &[
    "take",
    "takes",
    "took",
    "taken",
    "taking",
    "receive",
    "received",
    "receives",
    "use",
    "used",
    "uses",
    "drink",
    "drinks",
    "drank",
    "smoke",
    "smoked",
    "smokes",
    "report",
    "reported",
    "reports",
    "show",
    "showed",
    "shows",
    "shown",
    "reveal",
    "revealed",
    "undergo",
    "underwent",
    "undergone",
    "start",
    "started",
    "get",
    "got",
    "gotten",
    "need",
    "needed",
    "require",
    "required",
    "have",
    "had",
    "has",
    "experience",
    "experienced",
    "notice",
    "noticed",
    "complain",
    "complained",
    "endorse",
    "endorsed",
    "admit",
    "admitted",
    "present",
    "presented",
    "demonstrate",
    "demonstrated",
    "exhibit",
    "exhibited",
    "develop",
    "developed",
    "recall",
    "remember",
    "feel",
    "felt",
    "see",
    "seen",
    "find",
    "found",
];
/// Whether `word` is a negated predicate whose object is what the scope denies (`does not
/// reveal any abnormality`, `does not take any medications`), not the thing itself as
/// `does not smoke` or `does not drink` are.
pub(super) fn is_object_verb(word: &str) -> bool {
    triggers().predicates.contains(word)
        && !matches!(
            word,
            "smoke" | "smoked" | "smokes" | "drink" | "drinks" | "drank" | "use" | "used" | "uses"
        )
}
/// Verbs that may follow a trigger inside its scope ("has not had", "no … is").
const AUXILIARIES: &[&str] = &[
    "has", "had", "have", "been", "be", "is", "was", "are", "were", "any",
    // `does not appear to recognize`: what is denied is the next verb's.
    "appear", "appears", "seem", "seems",
];
/// How many words a forward scope reaches at most (a list of findings after one `denies`
/// runs long: `ConText` lets a scope run to the end of its clause).
const MAX_SCOPE: usize = 15;
/// How many words a backward scope reaches at most.
const MAX_BACKWARD: usize = 6;

/// The pseudo, backward and forward trigger lists and the termination and auxiliary
/// words, indexed once per process.
struct Triggers {
    pseudo: PhraseTable,
    backward: PhraseTable,
    forward: PhraseTable,
    termination: WordSet,
    auxiliaries: WordSet,
    predicates: WordSet,
}

fn triggers() -> &'static Triggers {
    static TRIGGERS: OnceLock<Triggers> = OnceLock::new();
    TRIGGERS.get_or_init(|| Triggers {
        pseudo: PhraseTable::new(PSEUDO.iter().copied()),
        backward: PhraseTable::new(BACKWARD.iter().copied()),
        forward: PhraseTable::new(FORWARD.iter().copied()),
        termination: WordSet::new(TERMINATION.iter().chain(CONTRASTS).copied()),
        auxiliaries: WordSet::new(AUXILIARIES.iter().copied()),
        predicates: WordSet::new(PREDICATES.iter().copied()),
    })
}

/// Whether `word` is one of the auxiliaries a forward scope passes right after its trigger
/// (`has not had`, `does not have any`).
pub(super) fn is_auxiliary(word: &str) -> bool {
    triggers().auxiliaries.contains(word)
}

/// The length of the first phrase of `table` at token `at` (words after the first
/// separated by spaces only).
fn first_phrase(tokens: &[Token], at: usize, table: &PhraseTable) -> Option<usize> {
    table.at(tokens, at, Some(Gap::Space)).map(|(_, n)| n)
}

/// Whether token `at` starts a noun phrase it qualifies: after a stopword (`a negative
/// Spurling test`, `with absent pulses`), or first in its sentence, with a word right after
/// it (a lab table's `Urine culture: Negative` ends its line; `Nitrites Negative Bacteria`
/// follows its analyte).
fn opens_noun_phrase(tokens: &[Token], at: usize) -> bool {
    let next_word = tokens
        .get(at + 1)
        .is_some_and(|next| next.gap == Gap::Space);
    next_word
        && (at == 0
            || tokens[at].gap == Gap::Sentence
            || tokens[at].gap == Gap::Space
                && (matches!(tokens[at - 1].lower.as_ref(), "a" | "an")
                    || is_stopword(&tokens[at - 1].lower)))
}

/// `w/o` (without, in telegraphic notes) at token `at`: its two tokens.
fn without(tokens: &[Token], at: usize) -> Option<usize> {
    (tokens[at].lower == "w"
        && tokens
            .get(at + 1)
            .is_some_and(|o| o.lower == "o" && o.gap == Gap::Joiner))
    .then_some(2)
}

/// Per token: whether a negation scope covers it, and whether it is part of a trigger.
pub(super) fn scopes(tokens: &[Token]) -> (Vec<bool>, Vec<bool>) {
    let t = triggers();
    let mut negated = vec![false; tokens.len()];
    let mut trigger = vec![false; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        if let Some(n) = first_phrase(tokens, i, &t.pseudo) {
            i += n;
            continue;
        }
        // A forward trigger longer than the backward one at the same place wins: `negative
        // for HER2` negates what follows, not the clause before it.
        let mut forward = first_phrase(tokens, i, &t.forward).or_else(|| without(tokens, i));
        let mut backward = first_phrase(tokens, i, &t.backward);
        // `a negative Spurling test`, `Negative pregnancy test`: a bare `negative` or
        // `absent` that opens its noun phrase negates what follows (`ConText`'s
        // bidirectional triggers).
        if forward.is_none() && backward == Some(1) && opens_noun_phrase(tokens, i) {
            (forward, backward) = (Some(1), None);
        }
        // `was not found to have hypertension`: a post-negation with an infinitive after
        // it negates what follows, as `not` alone does.
        if let Some(b) = backward.filter(|&b| b > 1 && forward == Some(1)) {
            if tokens.get(i + b).is_some_and(|next| next.lower == "to") {
                backward = None;
            }
        }
        // `are negative for HER2`: the copula's post-negation gives way to `negative for`.
        if let Some(b) = backward.filter(|&b| {
            b > 1
                && tokens[i + b - 1].lower == "negative"
                && tokens.get(i + b).is_some_and(|next| next.lower == "for")
        }) {
            i += b - 1;
            continue;
        }
        if let Some(n) = backward.filter(|&b| forward.is_none_or(|f| f <= b)) {
            trigger[i..i + n].iter_mut().for_each(|t| *t = true);
            // Back over the clause: stop at its start, a comma, another trigger or
            // MAX_BACKWARD. A trigger right after a comma negates nothing before it (`brisk
            // in the left eye, absent in the right`).
            let mut j = i;
            let mut reached = 0;
            while j > 0 && reached < MAX_BACKWARD && tokens[j].gap < Gap::Comma {
                j -= 1;
                // `A murmur was not appreciated`: the auxiliaries right before the trigger
                // belong to it (negspacy's `was not`, `were not`).
                if reached == 0
                    && !trigger[j]
                    && t.auxiliaries.contains(tokens[j].lower.as_ref())
                    && tokens[j + 1].gap == Gap::Space
                {
                    continue;
                }
                if trigger[j] || t.termination.contains(tokens[j].lower.as_ref()) {
                    break;
                }
                negated[j] = true;
                reached += 1;
                if tokens[j].gap >= Gap::Comma {
                    break;
                }
            }
            i += n;
            continue;
        }
        if let Some(n) = forward {
            trigger[i..i + n].iter_mut().for_each(|t| *t = true);
            let mut j = i + n;
            // "has not had nausea": auxiliaries right after the trigger end nothing.
            while j < tokens.len()
                && tokens[j].gap == Gap::Space
                && t.auxiliaries.contains(tokens[j].lower.as_ref())
            {
                j += 1;
            }
            // "never received a vaccine": the negated verb ends nothing either.
            let predicate = (j < tokens.len()
                && tokens[j].gap == Gap::Space
                && t.predicates.contains(tokens[j].lower.as_ref()))
            .then_some(j);
            let mut reached = 0;
            while j < tokens.len()
                && reached < MAX_SCOPE
                && tokens[j].gap < Gap::Clause
                && (Some(j) == predicate || !t.termination.contains(tokens[j].lower.as_ref()))
                && first_phrase(tokens, j, &t.backward).is_none()
                && !new_clause(tokens, j)
            {
                negated[j] = true;
                reached += 1;
                j += 1;
                // `in no acute distress, alert and oriented`: the examination's set phrase
                // ends with its noun; the list after it is what was found.
                if tokens[j - 1].lower == "distress" {
                    break;
                }
            }
            i += n;
            continue;
        }
        i += 1;
    }
    (negated, trigger)
}

/// Whether token `j` is `, and` opening a new clause with its own subject (`no pain or
/// diarrhea, and her therapy consists of …`): a list item after `, and` has no pronoun or
/// article of its own (`no fever, chills, and night sweats`).
fn new_clause(tokens: &[Token], j: usize) -> bool {
    tokens[j].lower == "and"
        && tokens[j].gap == Gap::Comma
        && tokens.get(j + 1).is_some_and(|next| {
            matches!(
                next.lower.as_ref(),
                "he" | "she" | "they" | "it" | "her" | "his" | "their" | "the" | "there" | "this"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::super::text::tokens;
    use super::*;

    fn negated_words(text: &str) -> Vec<String> {
        let lower = text.to_ascii_lowercase();
        let tokens = tokens(text, &lower);
        let (negated, _) = scopes(&tokens);
        tokens
            .iter()
            .zip(negated)
            .filter(|(_, n)| *n)
            .map(|(t, _)| t.lower.to_string())
            .collect()
    }

    #[test]
    fn scopes_end_at_terminations_and_breaks() {
        assert_eq!(
            negated_words("She denies chest pain but has a cough."),
            vec!["chest", "pain"]
        );
        assert_eq!(
            negated_words("He has no fever. He takes aspirin."),
            vec!["fever"]
        );
        assert_eq!(
            negated_words("Rapid influenza test is negative."),
            vec!["rapid", "influenza", "test"]
        );
        // A reflowed lab table: each `Negative` negates only the analyte before it.
        assert_eq!(
            negated_words("Nitrites Negative Bacteria Negative Protein 2+"),
            vec!["nitrites", "bacteria"]
        );
        assert!(negated_words("Gram-negative rods grew.").is_empty());
        assert_eq!(negated_words("HIV neg."), vec!["hiv"]);
        assert!(negated_words("Pupillary reflex brisk in L eye, absent in R eye.").is_empty());
        // A long list after one trigger stays in its scope to the last item.
        assert_eq!(
            negated_words("She denies any cough, shortness of breath, hemoptysis, weight loss, fatigue, fevers, or night sweats.").last().map(String::as_str),
            Some("sweats")
        );
        // Withholding a treatment negates it.
        assert_eq!(
            negated_words("Recommended to refrain from administering DTaP vaccine."),
            vec!["administering", "dtap", "vaccine"]
        );
    }

    #[test]
    fn a_negated_verb_keeps_its_object_in_scope() {
        // `received` ends a scope elsewhere; right after the trigger it is what is negated.
        assert_eq!(
            negated_words("He has never received an influenza vaccine."),
            vec!["received", "an", "influenza", "vaccine"]
        );
        assert_eq!(negated_words("She does not smoke."), vec!["smoke"]);
        // A verb later in the scope still ends it.
        assert_eq!(
            negated_words("No fever and received aspirin."),
            vec!["fever", "and"]
        );
    }

    #[test]
    fn contractions_and_post_negations_of_negspacy_negate() {
        assert_eq!(negated_words("She doesn't smoke."), vec!["smoke"]);
        assert_eq!(
            negated_words("A murmur was not appreciated."),
            vec!["a", "murmur"]
        );
        assert_eq!(negated_words("Pneumonia is unlikely."), vec!["pneumonia"]);
        assert_eq!(
            negated_words("Serum studies are negative for hepatitis C antibody."),
            vec!["hepatitis", "c", "antibody"]
        );
        assert_eq!(
            negated_words("Abdomen distended with absent bowel sounds."),
            vec!["bowel", "sounds"]
        );
        assert_eq!(
            negated_words("He was not found to have hypertension."),
            vec!["found", "to", "have", "hypertension"]
        );
        // `not ruled out` still holds the finding possible.
        assert!(negated_words("Appendicitis has not been ruled out.").is_empty());
    }

    #[test]
    fn negative_for_looks_forward_and_without_is_a_trigger() {
        assert_eq!(
            negated_words("Positive for estrogen receptors and negative for progesterone."),
            vec!["progesterone"]
        );
        assert_eq!(
            negated_words("Gram stain w/o organisms."),
            vec!["organisms"]
        );
        assert_eq!(
            negated_words("No improvement despite therapy sessions."),
            vec!["improvement"]
        );
    }
}
