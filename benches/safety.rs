//! The safety checker's benchmark on honest evaluation sets, per split (see
//! `tests/data/safety/README.md`):
//! MEDEC-MS errors rejected (overall and per error type; a rejection counts when a fact
//! check names the error sentence), hand-written faithful paraphrases kept (near-copy
//! rejections apart), hand-written one-fact changes rejected per kind (and for the right
//! reason), the rule-made mutation stress test, and the speed in pairs per second on one
//! core. Run with `cargo bench --bench safety`; `SAFETY_MISSES=1` also prints what the
//! checker got wrong on every split already spent for tuning (never on a fresh one, see
//! `FRESH`). `SAFETY_SPLIT=<split>` skips every other item and MEDEC pair entirely (they are
//! neither checked, counted nor timed). `SAFETY_DESCRIBE=FILE` (an original, a
//! line `----`, a paraphrase) prints the two fact tables and the verdict, nothing else.

#[path = "safety/evalsets.rs"]
mod evalsets;
#[path = "../tests/support/mutations.rs"]
mod mutations;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use evalsets::{right_reason, share, Table, Tally};
use safesft::safety::{Check, Finding, SafetyChecker, Verdict};

/// Splits measured once and never inspected: `SAFETY_MISSES` never prints their items.
const FRESH: &[&str] = &["heldout7", "heldout8", "heldout9", "test"];

#[allow(clippy::too_many_lines)] // one pass over four sets, printed in order
fn main() {
    let started = Instant::now();
    let checker = SafetyChecker::default();
    println!(
        "checker ready in {:.1} ms (lexicons compiled in)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    // `SAFETY_DESCRIBE=FILE`: an original, a line `----` and a paraphrase; prints what the
    // checker reads from each and its verdict, and nothing else.
    if let Some(path) = std::env::var_os("SAFETY_DESCRIBE") {
        let text = std::fs::read_to_string(&path).expect("SAFETY_DESCRIBE names a readable file");
        let (original, paraphrase) = text.split_once("\n----\n").unwrap_or((&text, ""));
        println!("original:\n{}", SafetyChecker::describe(original));
        println!("paraphrase:\n{}", SafetyChecker::describe(paraphrase));
        println!(
            "{}",
            reasons(&checker.check(original, paraphrase, Some("stop")))
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let show_misses = std::env::var_os("SAFETY_MISSES").is_some();
    let only = std::env::var("SAFETY_SPLIT").ok();
    let wanted = |split: &str| only.as_deref().is_none_or(|o| o == split);
    if let Some(o) = &only {
        println!("split: {o} only (SAFETY_SPLIT)");
    }
    let rows = evalsets::medec_rows(root, evalsets::VALIDATION);
    let test_rows = evalsets::medec_rows(root, evalsets::TEST);
    let originals: BTreeMap<&str, &str> = rows
        .iter()
        .chain(&test_rows)
        .map(|r| (r.text_id.as_str(), r.corrected_text.as_str()))
        .collect();
    let mut pairs = Vec::new();

    // MEDEC: the note with the injected error offered as a paraphrase of the corrected one;
    // validation pairs split by index, every test-set pair in `test`.
    let mut medec: Table = BTreeMap::new();
    let validation = rows
        .iter()
        .filter(|r| r.error_flag)
        .enumerate()
        .map(|(index, row)| (if index % 2 == 0 { "dev" } else { "heldout" }, row));
    let test = test_rows
        .iter()
        .filter(|r| r.error_flag)
        .map(|row| ("test", row));
    for (split, row) in validation.chain(test) {
        if !wanted(split) {
            continue;
        }
        let verdict = checker.check(&row.corrected_text, &row.text, Some("stop"));
        let names_error = |f: &&Finding| {
            f.check.is_fact()
                && right_reason(
                    f,
                    &row.corrected_text,
                    Some(&row.corrected_sentence),
                    &row.text,
                    Some(&row.error_sentence),
                )
        };
        let right = verdict.rejections.iter().any(|f| names_error(&f));
        // A MEDEC error note is a near copy by construction: only fact checks count here.
        let hard_right = verdict
            .rejections
            .iter()
            .any(|f| f.check.is_hard() && names_error(&f));
        for label in ["all", row.error_type.as_str()] {
            let tally = medec
                .entry(split.into())
                .or_default()
                .entry(label.into())
                .or_default();
            tally.items += 1;
            tally.right += usize::from(right);
            tally.near_copy += usize::from(verdict.rejections.iter().any(|f| f.check.is_fact()));
            tally.hard += usize::from(hard_right);
        }
        if show_misses && !FRESH.contains(&split) && !right {
            println!(
                "MEDEC miss {} ({}): {}\n  corrected: {}\n  error:     {}",
                row.text_id,
                row.error_type,
                reasons(&verdict),
                row.corrected_sentence,
                row.error_sentence
            );
        }
        pairs.push((row.corrected_text.clone(), row.text.clone()));
    }
    println!(
        "\nMEDEC-MS errors rejected by a fact check naming the error (any fact check in brackets)"
    );
    print_table(&medec, |t| {
        format!(
            "{}  [{}]  hard fact checks alone {}",
            share(t.right, t.items),
            share(t.near_copy, t.items),
            share(t.hard, t.items)
        )
    });

    // Faithful paraphrases: kept, near-copy rejections counted apart.
    let mut faithful: Table = BTreeMap::new();
    let mut faithful_checks: Table = BTreeMap::new();
    for item in evalsets::items(&root.join("tests/data/safety/faithful.txt"))
        .into_iter()
        .filter(|i| wanted(&i.split))
    {
        let Some(original) = originals.get(item.note.as_str()) else {
            println!("faithful {}: no MEDEC note `{}`", item.id, item.note);
            continue;
        };
        let verdict = checker.check(original, &item.paraphrase, Some("stop"));
        let near_copy_only = !verdict.accepted
            && verdict
                .rejections
                .iter()
                .all(|f| f.check == Check::NearCopy);
        for label in ["all", item.label.as_str()] {
            let tally = faithful
                .entry(item.split.clone())
                .or_default()
                .entry(label.into())
                .or_default();
            tally.items += 1;
            tally.right += usize::from(verdict.accepted);
            tally.near_copy += usize::from(near_copy_only);
            tally.hard += usize::from(!verdict.rejections.iter().any(|f| f.check.is_hard()));
        }
        let fired: std::collections::BTreeSet<&str> = verdict
            .rejections
            .iter()
            .map(|f| f.check.as_str())
            .collect();
        for check in fired {
            let tally = faithful_checks
                .entry(item.split.clone())
                .or_default()
                .entry(check.into())
                .or_default();
            tally.items += 1;
        }
        if show_misses && !FRESH.contains(&item.split.as_str()) && !verdict.accepted {
            println!(
                "faithful rejected {} ({}): {}",
                item.id,
                item.note,
                reasons(&verdict)
            );
        }
        pairs.push(((*original).to_string(), item.paraphrase.clone()));
    }
    println!("\nHand-written faithful paraphrases kept (rejected only as near copies in brackets)");
    print_table(&faithful, |t| {
        format!(
            "{}  [near copy {}]  hard checks alone (`--doubts verify`: reach the verifier) {}",
            share(t.right, t.items),
            t.near_copy,
            share(t.hard, t.items)
        )
    });
    println!(
        "\nFaithful paraphrases rejected, per check that fired (an item counts once per check)"
    );
    print_table(&faithful_checks, |t| t.items.to_string());

    // One-fact changes: rejected, and rejected for the right reason.
    let mut onefact: Table = BTreeMap::new();
    for item in evalsets::items(&root.join("tests/data/safety/onefact.txt"))
        .into_iter()
        .filter(|i| wanted(&i.split))
    {
        let Some(original) = originals.get(item.note.as_str()) else {
            println!("one-fact {}: no MEDEC note `{}`", item.id, item.note);
            continue;
        };
        let verdict = checker.check(original, &item.paraphrase, Some("stop"));
        let reason = verdict.rejections.iter().any(|f| {
            right_reason(
                f,
                original,
                item.from.as_deref(),
                &item.paraphrase,
                item.to.as_deref(),
            )
        });
        for label in ["all", item.label.as_str()] {
            let tally = onefact
                .entry(item.split.clone())
                .or_default()
                .entry(label.into())
                .or_default();
            tally.items += 1;
            tally.right += usize::from(!verdict.accepted);
            tally.right_reason += usize::from(reason);
            tally.hard += usize::from(verdict.rejections.iter().any(|f| f.check.is_hard()));
        }
        if show_misses && !FRESH.contains(&item.split.as_str()) && !reason {
            println!(
                "one-fact miss {} ({}, {}): {}\n  from: {}\n  to:   {}",
                item.id,
                item.note,
                item.label,
                reasons(&verdict),
                item.from.as_deref().unwrap_or(""),
                item.to.as_deref().unwrap_or("")
            );
        }
        pairs.push(((*original).to_string(), item.paraphrase.clone()));
    }
    println!("\nHand-written one-fact changes rejected (for the right reason in brackets)");
    print_table(&onefact, |t| {
        format!(
            "{}  [right reason {}]  hard checks alone (`--doubts verify`: rejected outright) {}",
            share(t.right, t.items),
            share(t.right_reason, t.items),
            share(t.hard, t.items)
        )
    });

    // The rule-made mutation stress test (sites picked by plain text rules).
    let notes = mutations::medec_notes();
    let cases = mutations::cases(&notes, 20_261_129);
    let (tallies, _) = mutations::run(&cases, &checker);
    if show_misses {
        // Stress-test misses on notes of no held-out pair, shown around the change.
        let heldout: std::collections::BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.error_flag)
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, r)| r.corrected_text.as_str())
            .collect();
        for case in cases
            .iter()
            .filter(|c| !heldout.contains(c.original.as_str()))
        {
            let verdict = checker.check(&case.original, &case.rewrite, Some("stop"));
            let faithful = case.kind == mutations::Kind::Faithful;
            if verdict.accepted == faithful {
                continue;
            }
            let base = mutations::faithful(&case.original);
            let (o, r) = (base.as_bytes(), case.rewrite.as_bytes());
            let mut at = o.iter().zip(r).take_while(|(a, b)| a == b).count();
            // Or around the paraphrase span of the first rejection, when there is one.
            if faithful {
                if let Some(span) = verdict
                    .rejections
                    .iter()
                    .find_map(|f| f.paraphrase_span.as_deref().or(f.original_span.as_deref()))
                {
                    at = case
                        .rewrite
                        .find(span)
                        .or_else(|| base.find(span))
                        .unwrap_or(at);
                }
            }
            let window = |t: &str| {
                let mut a = at.saturating_sub(70);
                while !t.is_char_boundary(a) {
                    a -= 1;
                }
                let mut b = (at + 70).min(t.len());
                while !t.is_char_boundary(b) {
                    b += 1;
                }
                t[a..b].replace('\n', " ")
            };
            println!(
                "stress miss ({}): {}\n  o: {}\n  r: {}",
                case.kind.name(),
                reasons(&verdict),
                window(&base),
                window(&case.rewrite)
            );
        }
    }
    println!(
        "\nRule-made mutation stress test\n{}",
        mutations::table(&tallies)
    );

    // Throughput: every pair above, repeated, on this one thread. The machine may be
    // shared, so the thread's CPU time is reported beside the wall time.
    let rounds = 10;
    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let mut accepted = 0usize;
    for _ in 0..rounds {
        for (original, paraphrase) in &pairs {
            accepted += usize::from(checker.check(original, paraphrase, Some("stop")).accepted);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds() - cpu_started;
    #[allow(clippy::cast_precision_loss)]
    let checks = (pairs.len() * rounds) as f64;
    println!(
        "\nthroughput: {:.0} note pairs/s on one core of CPU time, {:.0} pairs/s wall ({} checks in {cpu_seconds:.2} s CPU, {seconds:.2} s wall; {accepted} accepted)",
        checks / cpu_seconds,
        checks / seconds,
        pairs.len() * rounds
    );
}

/// The CPU time this thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut now) };
    #[allow(clippy::cast_precision_loss)]
    let seconds = now.tv_sec as f64 + now.tv_nsec as f64 / 1e9;
    seconds
}

/// The rejections of a verdict, one per line.
fn reasons(verdict: &Verdict) -> String {
    if verdict.accepted {
        return "accepted".into();
    }
    let mut out = String::new();
    for f in &verdict.rejections {
        let _ = write!(
            out,
            "\n    {}: {} [o: {:?} | p: {:?}]",
            f.check, f.detail, f.original_span, f.paraphrase_span
        );
    }
    out
}

/// One line per split and label, `all` first.
fn print_table(table: &Table, cell: impl Fn(&Tally) -> String) {
    for (split, labels) in table {
        if let Some(all) = labels.get("all") {
            println!("  {split:<8} {:<22} {}", "all", cell(all));
        }
        for (label, tally) in labels.iter().filter(|(l, _)| *l != "all") {
            println!("  {split:<8} {label:<22} {}", cell(tally));
        }
    }
}
