//! The mutation benchmark's targets, asserted on a fixed seed over the MEDEC-MS
//! validation notes (the table itself: `cargo bench --bench safety`).

#[path = "../support/mutations.rs"]
pub mod mutations;

use safesft::safety::SafetyChecker;

#[test]
fn the_checker_meets_its_targets_on_medec_mutations() {
    let checker = SafetyChecker::default();
    let notes = mutations::medec_notes();
    let cases = mutations::cases(&notes, 20_261_129);
    let (tallies, misses) = mutations::run(&cases, &checker);
    let table = mutations::table(&tallies);
    println!("{table}");
    for (kind, tally) in &tallies {
        assert!(
            tally.cases >= 30,
            "too few cases for {}: {}",
            kind.name(),
            tally.cases
        );
        let shown: Vec<&String> = misses
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, m)| m)
            .take(3)
            .collect();
        assert!(
            tally.share() >= kind.target(),
            "{}: {:.1}% < {:.0}%\n{table}\nexamples:\n{}",
            kind.name(),
            tally.share() * 100.0,
            kind.target() * 100.0,
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
