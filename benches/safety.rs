//! The safety checker's mutation benchmark: per mutation type, the share of unsafe
//! rewrites caught and of faithful rewrites kept on the MEDEC-MS validation notes, and
//! the checking speed in note pairs per second on one core. A benchmark: it prints
//! figures; the targets are asserted by `tests/it/safety_benchmark.rs`.
//! Run with `cargo bench --bench safety`; `SAFETY_MISSES=1` also prints every case the
//! checker got wrong, with the text around the change.

#[path = "../tests/support/mutations.rs"]
mod mutations;

use std::time::Instant;

use safesft::safety::SafetyChecker;

fn main() {
    let started = Instant::now();
    let checker = SafetyChecker::default();
    // The lexicon is compiled on first use: count that apart from checking.
    checker.check("aspirin", "aspirin", None);
    println!(
        "drug lexicon built in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let notes = mutations::medec_notes();
    let cases = mutations::cases(&notes, &checker, 20_261_129);
    let (tallies, misses) = mutations::run(&cases, &checker);
    println!("\n{}", mutations::table(&tallies));
    if std::env::var_os("SAFETY_MISSES").is_some() {
        for case in &cases {
            let verdict = checker.check(&case.original, &case.rewrite, Some("stop"));
            let wrong = if case.kind == mutations::Kind::Faithful {
                !verdict.accepted
            } else {
                verdict.accepted
            };
            if wrong {
                let faithful = mutations::faithful(&case.original);
                let first = faithful
                    .bytes()
                    .zip(case.rewrite.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                let from = first.saturating_sub(60);
                let context = |t: &str| {
                    t.get(from..(first + 60).min(t.len()))
                        .unwrap_or("")
                        .replace('\n', " ")
                };
                println!(
                    "miss ({}): {:?}\n  faithful: …{}…\n  mutated:  …{}…\n",
                    case.kind.name(),
                    verdict
                        .rejections
                        .iter()
                        .map(|r| r.detail.clone())
                        .collect::<Vec<_>>(),
                    context(&faithful),
                    context(&case.rewrite)
                );
            }
        }
    }
    let _ = misses;

    // Throughput: every case checked, repeated, on this one thread.
    let rounds = 20;
    let started = Instant::now();
    let mut accepted = 0usize;
    for _ in 0..rounds {
        for case in &cases {
            accepted += usize::from(
                checker
                    .check(&case.original, &case.rewrite, Some("stop"))
                    .accepted,
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let total_checks = (cases.len() * rounds) as f64;
    println!(
        "throughput: {:.0} note pairs/s on one core ({} checks in {seconds:.2} s; {accepted} accepted)",
        total_checks / seconds,
        cases.len() * rounds
    );
}
