//! Plan throughput on synthetic inputs 10× and 100× the MEDEC-MS validation set, beside
//! raw tiktoken-rs counting speed on the same text, per core used. A benchmark: it prints
//! figures and asserts nothing. Run with `cargo bench --bench plan_throughput`
//! (`RAYON_NUM_THREADS=N` to plan on N threads).
//!
//! Peak memory is the process's high-water mark (`VmHWM`) after each size: the plan
//! streams, so the 100× run should leave it where the 10× run did. CPU time is the
//! process's (every thread), so MB/s per core compares the plan's work with the
//! tokenizer's alone, whatever the number of cores.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use safesft::medec::{read_all_pairs, Pair, ReadOptions};
use safesft::money::PricingTable;
use safesft::plan::tokens::TokenCounter;
use safesft::plan::{
    plan, Encoding, LoadedPrompts, OutputModel, PlanOutcome, PlanSettings, ShardLimits,
};

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Peak resident memory of this process so far, in MiB (Linux only).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds this process has used so far, every thread (Linux only; `/proc` counts in
/// 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces) start after its `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Writes `copies` copies of the pairs as JSONL with fresh note ids, streamed.
fn synthetic_input(pairs: &[Pair], copies: usize, path: &Path) -> u64 {
    let mut writer = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut note_bytes = 0;
    for copy in 0..copies {
        for pair in pairs {
            let mut pair = pair.clone();
            pair.note_id = format!("{}-r{copy}", pair.note_id);
            note_bytes += (pair.correct_note.len() + pair.incorrect_note.len()) as u64;
            serde_json::to_writer(&mut writer, &pair).unwrap();
            writer.write_all(b"\n").unwrap();
        }
    }
    writer.flush().unwrap();
    note_bytes
}

fn main() {
    let sample =
        project().join("data/medec/MEDEC-MS-ValidationSet-with-GroundTruth-and-ErrorType.csv");
    let prompts_path = project().join("configs/prompts/gpt4o_medec_safe_augmentation.json");
    let pricing_path = project().join("configs/pricing.toml");
    let (pairs, _) = read_all_pairs(&sample, ReadOptions::default()).unwrap();
    let scratch = tempfile::tempdir().unwrap();

    // Load the tokenizer before measuring anything.
    let counter = TokenCounter::new(Encoding::O200kBase);
    counter.count_text("warm up");
    println!(
        "plan throughput (gpt-4o, reasoning on: 2 requests per pair), {} threads",
        rayon::current_num_threads()
    );
    println!(
        "{:>6} {:>8} {:>10} {:>9} {:>10} {:>9} {:>7} {:>14} {:>14}",
        "input",
        "pairs",
        "note MB",
        "seconds",
        "note MB/s",
        "pairs/s",
        "cores",
        "MB/s per core",
        "peak RSS MiB"
    );
    let mut per_core = f64::NAN;
    for copies in [10usize, 100] {
        let input = scratch.path().join(format!("pairs-{copies}x.jsonl"));
        let note_bytes = synthetic_input(&pairs, copies, &input);
        let settings = PlanSettings {
            input,
            read_options: ReadOptions::default(),
            prompts: LoadedPrompts::load(&prompts_path).unwrap(),
            pricing: PricingTable::load(&pricing_path).unwrap(),
            model: "gpt-4o".into(),
            reasoning: true,
            verify: None,
            num_pairs: None,
            fewer_pairs_allowed: false,
            limits: ShardLimits::default(),
            budget: None,
            output_model: OutputModel::default(),
            batches_dir: scratch.path().join("batches"),
            run: format!("bench-{copies}x"),
            force: true,
            jobs: None,
        };
        let cpu_before = cpu_seconds().unwrap_or(f64::NAN);
        let started = Instant::now();
        let outcome = plan(&settings, &|_| {}).unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds().unwrap_or(f64::NAN) - cpu_before;
        let PlanOutcome::Planned(manifest) = outcome else {
            panic!("expected a new plan")
        };
        let planned = manifest.input.pairs_planned;
        #[allow(clippy::cast_precision_loss)]
        let megabytes = note_bytes as f64 / 1e6;
        #[allow(clippy::cast_precision_loss)]
        let pairs_per_second = planned as f64 / seconds;
        per_core = megabytes / cpu;
        println!(
            "{:>5}× {planned:>8} {megabytes:>10.1} {seconds:>9.2} {:>10.2} {pairs_per_second:>9.0} {:>7.2} {per_core:>14.2} {:>14.1}",
            copies,
            megabytes / seconds,
            cpu / seconds,
            peak_rss_mib().unwrap_or(f64::NAN)
        );
        std::fs::remove_dir_all(scratch.path().join("batches")).unwrap();
    }

    // Raw counting of the same note text (both notes of every pair, 10 passes) on one
    // thread, with tiktoken-rs itself: no templates, JSON or files. The ceiling per core.
    let bpe = tiktoken_rs::o200k_base_singleton();
    bpe.count_ordinary("warm up");
    let started = Instant::now();
    let mut tokens = 0u64;
    let mut bytes = 0u64;
    for _ in 0..10 {
        for pair in &pairs {
            tokens += bpe.count_ordinary(std::hint::black_box(&pair.correct_note)) as u64;
            tokens += bpe.count_ordinary(std::hint::black_box(&pair.incorrect_note)) as u64;
            bytes += (pair.correct_note.len() + pair.incorrect_note.len()) as u64;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let (megabytes, tokens_per_second) = (bytes as f64 / 1e6, tokens as f64 / seconds);
    let raw = megabytes / seconds;
    println!(
        "\nraw tiktoken-rs count_ordinary (o200k_base), one thread, on the same notes: {raw:.2} MB/s, {tokens_per_second:.0} tokens/s ({megabytes:.1} MB in {seconds:.2} s)"
    );
    println!(
        "the 100× plan per core used: {per_core:.2} MB/s of notes = {:.0} % of raw counting",
        100.0 * per_core / raw
    );
}
