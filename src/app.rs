//! Command glue: turns parsed arguments into settings, calls the library, prints results
//! (data to stdout, progress and warnings to stderr) and picks the exit status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::json;

use crate::api::{ApiSettings, BatchApi, BatchStatus, HttpBatchApi};
use crate::cli::{
    CheckArgs, Command, EstimateArgs, FallbackArg, ImportArgs, PlanArgs, PollArgs, ReconcileArgs,
    ReportArgs, RetryArgs, RunArgs, RunRef, SftArgs, SftFormat, SubmitArgs, TableFormat,
    ValidateArgs, WaitArgs,
};
use crate::estimate::{scale_totals, Estimate, OutputModel, SizeEstimate, TokenTotals};
use crate::lifecycle::{self, Event, Observer, PollSchedule, Run};
use crate::medec::{self, ImportSummary, Pair, ReadOptions};
use crate::pricing::PricingTable;
use crate::prompts::LoadedPrompts;
use crate::report::{self, PlanView};
use crate::request::{
    RequestBuilder, RequestKind, ShardLimits, MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE,
};
use crate::run::{self, Manifest, PlanOutcome, PlanSettings};
use crate::ExitStatus;

/// Prices older than this get a warning.
const PRICING_STALE_DAYS: i64 = 180;

pub fn dispatch(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Import(args) => import(&args),
        Command::Plan(args) => plan(&args).map(|(status, _)| status),
        Command::Estimate(args) => estimate(&args),
        Command::Submit(args) => submit(&args),
        Command::Status(args) => status(&args),
        Command::Wait(args) => wait(&args),
        Command::Cancel(args) => cancel(&args),
        Command::Run(args) => run_job(&args),
        Command::Check(args) => check(&args),
        Command::Reconcile(args) => reconcile_command(&args),
        Command::Report(args) => report_command(&args),
        Command::Retry(args) => retry(&args),
        Command::Validate(args) => validate(&args),
    }
}

fn stdout_text(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn stdout_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    stdout_text(&text)
}

/// Warnings about the input that do not stop the work.
fn warn_about_import(summary: &ImportSummary) {
    for row in &summary.invalid_rows {
        eprintln!("warning: skipped {row}");
    }
    if !summary.corrected_text_other.is_empty() {
        eprintln!(
            "warning: {} pair(s) whose `Corrected Text` is not `Text` with the error sentence swapped (kept as released): {}",
            summary.corrected_text_other.len(),
            summary.corrected_text_other.join(", ")
        );
    }
}

fn write_pairs(path: &Path, pairs: &[Pair]) -> anyhow::Result<()> {
    run::write_atomic(path, |writer| {
        for pair in pairs {
            serde_json::to_writer(&mut *writer, pair)?;
            writer.write_all(b"\n")?;
        }
        Ok(())
    })
}

fn import(args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let options = ReadOptions {
        skip_invalid: args.skip_invalid,
    };
    let (pairs, summary) = medec::read_all_pairs(&args.input, options)?;
    warn_about_import(&summary);
    let mut written = Vec::new();
    if let Some(fraction) = args.val_fraction {
        let (train, val) = medec::split_pairs(pairs, fraction, args.seed);
        for (name, part) in [("pairs_train.jsonl", &train), ("pairs_val.jsonl", &val)] {
            let path = args.output_dir.join(name);
            write_pairs(&path, part)?;
            written.push(json!({"path": path, "pairs": part.len()}));
        }
    } else {
        let path = args.output_dir.join("pairs.jsonl");
        write_pairs(&path, &pairs)?;
        written.push(json!({"path": path, "pairs": pairs.len()}));
    }
    if args.json {
        stdout_json(&json!({
            "input": args.input,
            "summary": summary,
            "written": written,
            "split": args.val_fraction.map(|f| json!({"val_fraction": f, "seed": args.seed})),
        }))?;
    } else {
        let mut text = report::import_summary_text(&args.input, &summary);
        for file in &written {
            let _ = writeln!(
                text,
                "wrote {} ({} pairs)",
                file["path"].as_str().unwrap_or_default(),
                file["pairs"]
            );
        }
        stdout_text(&text)?;
    }
    Ok(ExitStatus::Success)
}

fn load_prompts(path: &Path) -> anyhow::Result<LoadedPrompts> {
    LoadedPrompts::load(path).map_err(|error| {
        anyhow::Error::new(error).context(format!(
            "the prompt config `{}` is not usable",
            path.display()
        ))
    })
}

fn load_pricing(path: &Path) -> anyhow::Result<PricingTable> {
    PricingTable::load(path).map_err(|error| {
        anyhow::Error::new(error).context(format!(
            "the pricing table `{}` is not usable",
            path.display()
        ))
    })
}

/// Warns when the prices used were checked long ago. Uses the clock: glue only.
fn warn_if_prices_stale(model_family: &str, checked: &str) {
    let date = chrono::NaiveDate::parse_from_str(checked, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(&format!("{checked}-01"), "%Y-%m-%d"));
    if let Ok(date) = date {
        let age = chrono::Utc::now().date_naive() - date;
        if age.num_days() > PRICING_STALE_DAYS {
            eprintln!(
                "warning: the prices of `{model_family}` were checked {checked}, {} days ago\nhint: compare them with OpenAI's price list and update `checked` in the pricing table",
                age.num_days()
            );
        }
    }
}

fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} planning: {human_pos} pairs ({per_sec}, {elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar
}

fn plan_settings(args: &PlanArgs) -> anyhow::Result<PlanSettings> {
    if args.max_requests_per_shard == 0 || args.max_requests_per_shard > MAX_REQUESTS_PER_FILE {
        bail!(
            "`--max-requests-per-shard` must be from 1 to {MAX_REQUESTS_PER_FILE} (the Batch API's limit)"
        );
    }
    if args.max_shard_bytes == 0 || args.max_shard_bytes > MAX_BYTES_PER_FILE {
        bail!("`--max-shard-bytes` must be from 1 to {MAX_BYTES_PER_FILE} (the Batch API's limit)");
    }
    if args.enqueued_token_limit == Some(0) {
        bail!("`--enqueued-token-limit` must be above 0");
    }
    let prompts = load_prompts(&args.prompts)?;
    let pricing = load_pricing(&args.pricing)?;
    let model = args
        .model
        .clone()
        .unwrap_or_else(|| prompts.config.model.clone());
    let run = args
        .run
        .clone()
        .unwrap_or_else(|| run::default_run_name(&args.input, &model, args.num_pairs));
    Ok(PlanSettings {
        input: args.input.clone(),
        read_options: ReadOptions {
            skip_invalid: args.skip_invalid,
        },
        prompts_path: args.prompts.clone(),
        prompts,
        pricing_path: args.pricing.clone(),
        pricing,
        model,
        reasoning: args.reasoning.enabled(),
        num_pairs: args.num_pairs,
        limits: ShardLimits {
            max_requests: args.max_requests_per_shard,
            max_bytes: args.max_shard_bytes,
            max_prompt_tokens: args.enqueued_token_limit,
        },
        budget: args.budget_usd,
        output_model: crate::report::ledger::calibrated(
            &crate::report::ledger::read(&args.reports_dir.join(crate::cli::LEDGER_FILE))?,
            &OutputModel::default(),
        ),
        batches_dir: args.batches_dir.clone(),
        run,
        force: args.force,
    })
}

fn manifest_view(manifest: &Manifest) -> PlanView<'_> {
    PlanView {
        run: &manifest.run,
        model: &manifest.model,
        encoding: manifest.encoding.as_str(),
        pairs_planned: manifest.input.pairs_planned,
        pairs_available: manifest.input.pairs_available,
        shards: manifest.shards.len(),
        reasoning: manifest.reasoning,
        schema_allowance_tokens: manifest.schema_allowance_tokens,
        budget: manifest.budget_usd,
        estimate: &manifest.estimate,
    }
}

/// Plans a run; returns the exit status and the run folder when a plan is in place.
fn plan(args: &PlanArgs) -> anyhow::Result<(ExitStatus, Option<PathBuf>)> {
    let settings = plan_settings(args)?;
    let family = crate::model::family_of(&settings.model)?;
    if let Ok(pricing) = settings
        .pricing
        .for_model(family.name, &settings.pricing_path)
    {
        warn_if_prices_stale(family.name, &pricing.checked);
    }
    if family.reasoning_model
        && (settings.prompts.config.paraphrase.max_output_tokens < 4096
            || settings.reasoning && settings.prompts.config.reasoning.max_output_tokens < 4096)
    {
        eprintln!(
            "warning: `{}` spends hidden reasoning tokens inside `max_completion_tokens`: caps under 4096 may truncate answers\nhint: raise `max_output_tokens` in the prompt config for this model",
            settings.model
        );
    }
    let bar = progress_bar(args.quiet);
    let outcome = run::plan(&settings, &|pairs| bar.set_position(pairs));
    bar.finish_and_clear();
    let run_dir = settings.batches_dir.join(&settings.run);
    match outcome? {
        PlanOutcome::Planned(manifest) | PlanOutcome::Unchanged(manifest) if args.json => {
            warn_about_import(&manifest.input.import);
            stdout_json(&json!({
                "status": "planned",
                "run_dir": run_dir,
                "manifest": manifest,
            }))?;
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::Planned(manifest) => {
            warn_about_import(&manifest.input.import);
            let mut text = report::plan_table(&manifest_view(&manifest));
            let _ = write!(text, "\nPlanned into {}\n", run_dir.display());
            stdout_text(&text)?;
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::Unchanged(manifest) => {
            let mut text = report::plan_table(&manifest_view(&manifest));
            let _ = write!(
                text,
                "\nAlready planned, identical: {} is unchanged\n",
                run_dir.display()
            );
            stdout_text(&text)?;
            Ok((ExitStatus::Success, Some(run_dir)))
        }
        PlanOutcome::OverBudget {
            estimate,
            budget,
            over,
            import,
        } => {
            warn_about_import(&import);
            if args.json {
                stdout_json(&json!({
                    "status": "over_budget",
                    "run_dir": null,
                    "budget_usd": budget,
                    "over_budget_usd": over,
                    "estimate": estimate,
                }))?;
            } else {
                let view = PlanView {
                    run: &settings.run,
                    model: &settings.model,
                    encoding: family.encoding.as_str(),
                    pairs_planned: estimate.pairs,
                    pairs_available: import.pairs,
                    shards: 0,
                    reasoning: settings.reasoning,
                    schema_allowance_tokens: 0,
                    budget: Some(budget),
                    estimate: &estimate,
                };
                stdout_text(&report::plan_table(&view))?;
            }
            eprintln!(
                "error: the worst case {} is over the budget {budget} by {over}: nothing was written\nhint: plan fewer pairs (`--num-pairs`), drop reasoning (`--no-reasoning`), pick a cheaper model (`--model gpt-4o-mini`) or lower the output caps",
                estimate.total.batch.worst
            );
            Ok((ExitStatus::Failure, None))
        }
    }
}

fn run_job(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    let (status, run_dir) = plan(&args.plan)?;
    let Some(run_dir) = run_dir else {
        return Ok(status);
    };
    let has_key = std::env::var_os("OPENAI_API_KEY").is_some_and(|k| !k.is_empty());
    if args.dry_run || !has_key {
        let reason = if args.dry_run {
            "--dry-run"
        } else {
            "no OPENAI_API_KEY in the environment"
        };
        eprintln!(
            "\nstopped after the plan ({reason}): nothing was sent, nothing was spent.\nTo generate for real: export OPENAI_API_KEY, then run the same command without --dry-run (it resumes from {}).",
            run_dir.display()
        );
        return Ok(status);
    }
    let api = http_api()?;
    runtime()?.block_on(async {
        let mut run = Run::open(&run_dir)?;
        run.check_budget(None)?;
        run.verify_shard_files()?;
        let mut progress = Progress::new(args.plan.quiet);
        let outcome = interruptible(async {
            lifecycle::submit_ready(&api, &mut run, &mut progress).await?;
            lifecycle::wait(&api, &mut run, schedule(args.poll)?, &mut progress).await
        })
        .await?;
        progress.clear();
        let waited = finish_wait(&run, outcome, false)?;
        if waited == ExitStatus::Interrupted {
            return Ok(waited);
        }
        // The dataset decides: a batch that expired but whose requests a retry answered
        // is not a failure any more.
        let reconciled = reconcile_run(&run, &args.sft, &args.plan.reports_dir)?;
        stdout_text(&reconciled.text)?;
        Ok(reconciled.status)
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn http_api() -> anyhow::Result<HttpBatchApi> {
    let settings = ApiSettings::from_env()?;
    Ok(HttpBatchApi::new(settings)?)
}

fn run_dir(target: &RunRef) -> anyhow::Result<PathBuf> {
    run::validate_run_name(&target.run)?;
    Ok(target.batches_dir.join(&target.run))
}

fn schedule(poll: PollArgs) -> anyhow::Result<PollSchedule> {
    let seconds = |value: f64, flag: &str| {
        Duration::try_from_secs_f64(value)
            .map_err(|_| anyhow::anyhow!("`{flag}` must be a number of seconds, 0 or more"))
    };
    let initial = seconds(poll.poll_initial_seconds, "--poll-initial-seconds")?;
    let max = seconds(poll.poll_max_seconds, "--poll-max-seconds")?.max(initial);
    Ok(PollSchedule {
        initial,
        max,
        ..PollSchedule::default()
    })
}

/// Runs `work` until it ends or Ctrl-C arrives. Every manifest write is atomic, so
/// stopping at any await point leaves a run that resumes.
async fn interruptible<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<Option<T>> {
    tokio::select! {
        result = work => result.map(Some),
        _ = tokio::signal::ctrl_c() => Ok(None),
    }
}

/// The exit status after `wait` (or `run`): 0 when every request has its line, 1 when
/// any shard failed, expired, was cancelled or its files do not add up.
fn finish_wait(run: &Run, outcome: Option<()>, json: bool) -> anyhow::Result<ExitStatus> {
    if outcome.is_none() {
        eprintln!(
            "\ninterrupted: nothing is lost. Run `safesft wait {}` to resume.",
            run.manifest.run
        );
        return Ok(ExitStatus::Interrupted);
    }
    if json {
        stdout_json(&json!({"run": run.manifest.run, "shards": run.manifest.shards}))?;
    } else {
        stdout_text(&report::status_table(&run.manifest))?;
    }
    let all_good = run.manifest.shards.iter().all(|s| {
        s.remote.withdrawn
            || (s
                .remote
                .batch
                .as_ref()
                .is_some_and(|b| b.status == BatchStatus::Completed)
                && s.remote
                    .line_check
                    .as_ref()
                    .is_some_and(|c| c.problems.is_empty()))
    });
    if all_good {
        eprintln!(
            "every shard finished; results are in {}",
            run.dir.join(lifecycle::OUTPUTS_DIR).display()
        );
        Ok(ExitStatus::Success)
    } else {
        eprintln!("some requests did not complete: see the table above; their lines are in the error files");
        Ok(ExitStatus::Failure)
    }
}

fn submit(args: &SubmitArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = Run::open(&dir)?;
    if let Err(error) = run.check_budget(args.budget_usd) {
        eprintln!("error: {error:#}");
        return Ok(ExitStatus::Failure);
    }
    run.verify_shard_files()?;
    let api = http_api()?;
    let mut progress = Progress::new(false);
    let outcome = runtime()?.block_on(interruptible(lifecycle::submit_ready(
        &api,
        &mut run,
        &mut progress,
    )))?;
    let Some(submitted) = outcome else {
        eprintln!(
            "\ninterrupted: nothing is lost. Run `safesft submit {}` again to resume.",
            run.manifest.run
        );
        return Ok(ExitStatus::Interrupted);
    };
    if args.target.json {
        stdout_json(
            &json!({"run": run.manifest.run, "submitted": submitted, "shards": run.manifest.shards}),
        )?;
    } else {
        stdout_text(&report::status_table(&run.manifest))?;
        let pending = run
            .manifest
            .shards
            .iter()
            .filter(|s| s.remote.batch_id.is_none() && !s.remote.withdrawn)
            .count();
        if pending > 0 {
            eprintln!("{pending} shard(s) wait for room under the enqueued-token limit: `safesft wait {}` submits them as earlier ones finish", run.manifest.run);
        }
        eprintln!(
            "next: `safesft wait {}` polls until every batch is done and downloads the results",
            run.manifest.run
        );
    }
    Ok(ExitStatus::Success)
}

fn status(args: &RunRef) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(args)?;
    let mut run = Run::open(&dir)?;
    let live = run.manifest.shards.iter().any(|s| s.remote.in_flight());
    if live {
        let api = http_api()?;
        runtime()?.block_on(async {
            for index in 0..run.manifest.shards.len() {
                let shard = &run.manifest.shards[index];
                let Some(batch_id) = shard.remote.batch_id.clone() else {
                    continue;
                };
                if shard
                    .remote
                    .batch
                    .as_ref()
                    .is_some_and(|b| b.status.is_terminal())
                {
                    continue;
                }
                let batch = api.retrieve_batch(&batch_id).await?;
                run.manifest.shards[index].remote.batch = Some(batch);
                run.manifest.save(&run.dir)?;
            }
            anyhow::Ok(())
        })?;
    }
    if args.json {
        stdout_json(&json!({"run": run.manifest.run, "shards": run.manifest.shards}))?;
    } else {
        stdout_text(&report::status_table(&run.manifest))?;
    }
    Ok(ExitStatus::Success)
}

fn wait(args: &WaitArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = Run::open(&dir)?;
    let api = http_api()?;
    let schedule = schedule(args.poll)?;
    let mut progress = Progress::new(args.quiet);
    let outcome = runtime()?.block_on(interruptible(lifecycle::wait(
        &api,
        &mut run,
        schedule,
        &mut progress,
    )))?;
    progress.clear();
    finish_wait(&run, outcome, args.target.json)
}

fn cancel(args: &RunRef) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(args)?;
    let mut run = Run::open(&dir)?;
    let api = http_api()?;
    let mut progress = Progress::new(true);
    runtime()?.block_on(lifecycle::cancel(&api, &mut run, &mut progress))?;
    if args.json {
        stdout_json(&json!({"run": run.manifest.run, "shards": run.manifest.shards}))?;
    } else {
        stdout_text(&report::status_table(&run.manifest))?;
        eprintln!(
            "cancelling: `safesft wait {}` downloads whatever finished before the cancel",
            run.manifest.run
        );
    }
    Ok(ExitStatus::Success)
}

/// Progress on stderr: a bar per shard on a terminal, a line per change otherwise.
struct Progress {
    multi: indicatif::MultiProgress,
    bars: BTreeMap<usize, indicatif::ProgressBar>,
    last: BTreeMap<usize, (BatchStatus, u64)>,
    terminal: bool,
    quiet: bool,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        use std::io::IsTerminal;
        let terminal = std::io::stderr().is_terminal();
        Progress {
            multi: indicatif::MultiProgress::with_draw_target(if quiet || !terminal {
                indicatif::ProgressDrawTarget::hidden()
            } else {
                indicatif::ProgressDrawTarget::stderr()
            }),
            bars: BTreeMap::new(),
            last: BTreeMap::new(),
            terminal,
            quiet,
        }
    }

    fn say(&self, text: &str) {
        if self.quiet {
            return;
        }
        if self.terminal {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
}

/// A status as people should read it: a full bar that is `finalizing` is not a hang.
fn status_label(status: BatchStatus) -> &'static str {
    match status {
        BatchStatus::Validating => "validating",
        BatchStatus::InProgress => "in progress",
        BatchStatus::Finalizing => "finalizing (all requests done, writing the results)",
        BatchStatus::Completed => "completed",
        BatchStatus::Failed => "failed",
        BatchStatus::Expired => "expired",
        BatchStatus::Cancelling => "cancelling",
        BatchStatus::Cancelled => "cancelled",
    }
}

impl Observer for Progress {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Uploaded { shard, file_id } => self.say(&format!("shard {shard:03}: uploaded as {file_id}")),
            Event::UploadReused { shard, file_id } => {
                self.say(&format!("shard {shard:03}: reusing the earlier upload {file_id}"));
            }
            Event::Created { shard, batch_id } => self.say(&format!("shard {shard:03}: batch {batch_id} created")),
            Event::Found { shard, batch_id } => {
                self.say(&format!("shard {shard:03}: found batch {batch_id} created before an interruption"));
            }
            Event::Deferred { shard, in_flight_tokens, limit } => self.say(&format!(
                "shard {shard:03}: waiting for room ({in_flight_tokens} of {limit} enqueued prompt tokens in flight)"
            )),
            Event::Downloaded { shard, path, bytes } => {
                self.say(&format!("shard {shard:03}: downloaded {path} ({bytes} bytes)"));
            }
            Event::Sleeping { .. } => {}
            Event::Polled { shard, batch } => {
                let counts = batch.request_counts;
                let done = counts.completed + counts.failed;
                let label = status_label(batch.status);
                let message = if counts.failed > 0 {
                    format!("{label}, {} failed", counts.failed)
                } else {
                    label.to_string()
                };
                if self.terminal && !self.quiet {
                    let multi = &self.multi;
                    let bar = self.bars.entry(*shard).or_insert_with(|| {
                        let bar = multi.add(indicatif::ProgressBar::new(counts.total.max(1)));
                        bar.set_style(
                            indicatif::ProgressStyle::with_template(
                                "shard {prefix} [{bar:30}] {pos}/{len} {msg}",
                            )
                            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                        );
                        bar.set_prefix(format!("{shard:03}"));
                        bar
                    });
                    bar.set_length(counts.total.max(1));
                    bar.set_position(done);
                    bar.set_message(message);
                } else if self.last.get(shard) != Some(&(batch.status, done)) {
                    self.say(&format!("shard {shard:03}: {message}, {done}/{} requests", counts.total));
                }
                self.last.insert(*shard, (batch.status, done));
            }
        }
    }
}

/// Per-kind token totals of the first `sizes` pairs, for one model.
fn size_estimates(
    pairs: &[Pair],
    prompts: &LoadedPrompts,
    model_pricing: &crate::pricing::ModelPricing,
    model: &str,
    reasoning: bool,
    sizes: &[u64],
    output_model: &OutputModel,
) -> anyhow::Result<Vec<SizeEstimate>> {
    let family = crate::model::family_of(model)?;
    let output_model = output_model.clone();
    let builder = RequestBuilder::new(prompts, model, family, output_model.clone(), reasoning);
    let available = pairs.len() as u64;
    let largest = sizes.iter().copied().max().unwrap_or(0).min(available);
    let mut totals: BTreeMap<RequestKind, TokenTotals> = builder
        .kinds()
        .iter()
        .map(|&k| (k, TokenTotals::default()))
        .collect();
    let mut at_size: BTreeMap<u64, BTreeMap<RequestKind, TokenTotals>> = BTreeMap::new();
    for (counted, pair) in (1u64..).zip(pairs.iter().take(usize::try_from(largest)?)) {
        for (_, request) in builder.build(pair, counted == 1) {
            totals.entry(request.kind).or_default().add(&request);
        }
        if sizes.contains(&counted) {
            at_size.insert(counted, totals.clone());
        }
    }
    Ok(sizes
        .iter()
        .map(|&size| {
            let (measured, kinds) = match at_size.get(&size) {
                Some(kinds) => (size, kinds.clone()),
                None => (
                    available,
                    totals
                        .iter()
                        .map(|(&k, t)| (k, scale_totals(t, available, size)))
                        .collect(),
                ),
            };
            SizeEstimate {
                size,
                model: model.to_string(),
                measured_pairs: measured,
                extrapolated: size > available,
                estimate: Estimate::new(model, model_pricing, &output_model, size, &kinds),
            }
        })
        .collect())
}

fn estimate(args: &EstimateArgs) -> anyhow::Result<ExitStatus> {
    let mut sizes = args.sizes.clone();
    if sizes.contains(&0) {
        bail!("`--sizes` must be whole numbers of pairs above 0");
    }
    sizes.sort_unstable();
    sizes.dedup();
    let prompts = load_prompts(&args.prompts)?;
    let pricing = load_pricing(&args.pricing)?;
    let models = if args.models.is_empty() {
        vec![prompts.config.model.clone()]
    } else {
        args.models.clone()
    };
    for model in &models {
        let family = crate::model::family_of(model)?;
        let priced = pricing.for_model(family.name, &args.pricing)?;
        warn_if_prices_stale(family.name, &priced.checked);
    }
    let (pairs, summary) = medec::read_all_pairs(
        &args.input,
        ReadOptions {
            skip_invalid: args.skip_invalid,
        },
    )?;
    warn_about_import(&summary);
    if pairs.is_empty() {
        bail!("`{}` holds no pairs to estimate from", args.input.display());
    }
    let output_model = crate::report::ledger::calibrated(
        &crate::report::ledger::read(&args.reports_dir.join(crate::cli::LEDGER_FILE))?,
        &OutputModel::default(),
    );
    let mut rows = Vec::new();
    for model in &models {
        let family = crate::model::family_of(model)?;
        rows.extend(size_estimates(
            &pairs,
            &prompts,
            pricing.for_model(family.name, &args.pricing)?,
            model,
            args.reasoning.enabled(),
            &sizes,
            &output_model,
        )?);
    }
    rows.sort_by_key(|row| row.size);
    match args.format {
        TableFormat::Table => stdout_text(&report::size_table(&rows, args.reasoning.enabled()))?,
        TableFormat::Csv => stdout_text(&report::size_csv(&rows)?)?,
        TableFormat::Json => stdout_json(&json!({
            "input": args.input,
            "pairs_available": pairs.len(),
            "reasoning": args.reasoning.enabled(),
            "rows": rows,
        }))?,
    }
    Ok(ExitStatus::Success)
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    if !(0.0..=1.0).contains(&args.max_similarity) {
        bail!("`--max-similarity` must be from 0 to 1");
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let original = read(&args.original)?;
    let paraphrase = read(&args.paraphrase)?;
    let checker = crate::safety::SafetyChecker::new(crate::safety::SafetyConfig {
        max_similarity: args.max_similarity,
        ..crate::safety::SafetyConfig::default()
    });
    let verdict = checker.check(&original, &paraphrase, args.finish_reason.as_deref());
    if args.json {
        stdout_json(&verdict)?;
    } else {
        stdout_text(&report::verdict_text(&verdict))?;
    }
    Ok(if verdict.accepted {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// Reads a run's results and decides every request's outcome.
fn reconcile_results(run: &Run) -> anyhow::Result<(Vec<Pair>, crate::reconcile::Reconciled)> {
    let results = crate::collect::collect(&run.dir, &run.manifest)?;
    let originals: std::collections::HashMap<&str, &str> = results
        .pairs
        .iter()
        .map(|p| (p.note_id.as_str(), p.correct_note.as_str()))
        .collect();
    let checker = crate::safety::SafetyChecker::default();
    let reconciled = crate::reconcile::reconcile(
        &results.planned,
        results.lines,
        |id| originals.get(id).copied(),
        &checker,
    );
    drop(originals);
    Ok((results.pairs, reconciled))
}

/// What `reconcile` produced, for printing.
struct ReconcileDone {
    text: String,
    json: serde_json::Value,
    status: ExitStatus,
}

/// Reconciles a run: SFT files, stats, rejected answers, the cost report and the
/// ledger row. Deterministic: the same results give the same files.
#[allow(clippy::too_many_lines)] // one straight sequence of writes, in the order they land
fn reconcile_run(
    run: &Run,
    sft_args: &SftArgs,
    reports_dir: &Path,
) -> anyhow::Result<ReconcileDone> {
    use crate::sft;
    let manifest = &run.manifest;
    let (pairs, reconciled) = reconcile_results(run)?;
    let fallback = match sft_args.fallback {
        FallbackArg::Drop => sft::Fallback::Drop,
        FallbackArg::Original => sft::Fallback::Original,
    };
    let (correct, incorrect, stats) =
        sft::build_records(&pairs, &reconciled, manifest.reasoning, fallback);
    let combined = sft::combined(&correct, &incorrect, sft_args.seed);
    let kept_examples = combined.len() as u64;
    let cost = crate::report::cost::cost_report(manifest, &reconciled, kept_examples);
    let output_dir = sft_args
        .output_dir
        .clone()
        .unwrap_or_else(|| run.dir.join("sft"));
    sft::write_jsonl(&output_dir.join("sft_correct.jsonl"), &correct)?;
    sft::write_jsonl(&output_dir.join("sft_incorrect.jsonl"), &incorrect)?;
    sft::write_jsonl(&output_dir.join("sft_combined_safe.jsonl"), &combined)?;
    if sft_args.format == Some(SftFormat::Messages) {
        let messages: Vec<serde_json::Value> = combined.iter().map(sft::as_messages).collect();
        sft::write_jsonl(
            &output_dir.join("sft_combined_safe.messages.jsonl"),
            &messages,
        )?;
    }
    let not_kept: Vec<&crate::reconcile::Resolved> = reconciled
        .finals
        .values()
        .filter(|r| r.outcome != crate::reconcile::Outcome::Kept)
        .collect();
    sft::write_jsonl(&output_dir.join("rejected.jsonl"), &not_kept)?;
    let stats_json = json!({
        "run": manifest.run,
        "model": manifest.model,
        "generation": stats,
        "accounting": reconciled.accounting,
        "line_problems": reconciled.problems,
        "tokens": cost.total.usage,
        "actual_usd": cost.total.actual_usd,
        "fallback": format!("{:?}", sft_args.fallback).to_lowercase(),
        "seed": sft_args.seed,
    });
    run::write_json_atomic(&output_dir.join("generation_stats_safe.json"), &stats_json)?;
    run::write_json_atomic(&reports_dir.join(format!("{}.json", manifest.run)), &cost)?;
    let csv_text = crate::report::cost::cost_csv(&cost)?;
    run::write_atomic(&reports_dir.join(format!("{}.csv", manifest.run)), |w| {
        w.write_all(csv_text.as_bytes())
    })?;
    // Calibration compares first-attempt paraphrases with what the plan expected of
    // them, so it only counts when every first attempt came back with an answer.
    let first_paraphrases: Vec<&crate::reconcile::Resolved> = reconciled
        .attempts
        .iter()
        .filter(|a| a.kind == RequestKind::Paraphrase && a.attempt == 1)
        .collect();
    let calibratable = first_paraphrases.iter().all(|a| {
        matches!(
            a.outcome,
            crate::reconcile::Outcome::Kept | crate::reconcile::Outcome::Rejected
        )
    });
    let paraphrase_written: u64 = first_paraphrases
        .iter()
        .map(|a| a.usage.completion_tokens)
        .sum();
    let paraphrase_expected = manifest
        .estimate
        .kinds
        .get(&RequestKind::Paraphrase)
        .map_or(0, |k| k.tokens.expected_output_tokens);
    let reasoning_answers: Vec<&crate::reconcile::Resolved> = reconciled
        .attempts
        .iter()
        .filter(|a| a.kind == RequestKind::Reasoning && a.usage.completion_tokens > 0)
        .collect();
    crate::report::ledger::upsert(
        &reports_dir.join(crate::cli::LEDGER_FILE),
        crate::report::ledger::LedgerRow {
            date: chrono::Utc::now().date_naive().to_string(),
            run: manifest.run.clone(),
            dataset: manifest.input.path.clone(),
            dataset_sha256: manifest.input.sha256.clone(),
            pairs: manifest.input.pairs_planned,
            model: manifest.model.clone(),
            requests: cost.total.answers,
            prompt_tokens: cost.total.usage.prompt_tokens,
            cached_tokens: cost.total.usage.cached_tokens,
            completion_tokens: cost.total.usage.completion_tokens,
            reasoning_tokens: cost.total.usage.reasoning_tokens,
            estimated_expected_usd: cost.total.estimated_expected_usd,
            estimated_worst_usd: cost.total.estimated_worst_usd,
            actual_usd: cost.total.actual_usd,
            kept_examples,
            paraphrase_expected_output_tokens: if calibratable { paraphrase_expected } else { 0 },
            paraphrase_completion_tokens: if calibratable { paraphrase_written } else { 0 },
            reasoning_answers: reasoning_answers.len() as u64,
            reasoning_completion_tokens: reasoning_answers
                .iter()
                .map(|a| a.usage.completion_tokens)
                .sum(),
            pricing_checked: cost.pricing_checked.clone(),
        },
    )?;
    let mut text = report::accounting_table(&reconciled.accounting);
    let _ = writeln!(
        text,
        "\n{} pairs: {} kept ({} CORRECT + {} INCORRECT examples), {} dropped; reasoning added {}, failed {}.",
        stats.total_pairs_processed,
        stats.pairs_kept,
        correct.len(),
        incorrect.len(),
        stats.pairs_dropped,
        stats.reasoning_added,
        stats.reasoning_failed
    );
    let problems = &reconciled.problems;
    for (what, list) in [
        ("unknown custom_ids", &problems.unknown),
        ("duplicated custom_ids", &problems.duplicated),
        ("unreadable lines", &problems.unreadable),
    ] {
        if !list.is_empty() {
            let _ = writeln!(
                text,
                "warning: {} {what}: {}",
                list.len(),
                list.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let _ = writeln!(
        text,
        "SFT files in {}; cost report in {}\n",
        output_dir.display(),
        reports_dir.join(format!("{}.json", manifest.run)).display()
    );
    text.push_str(&crate::report::cost::cost_text(&cost));
    // Something failed: a request with no answer (failed, expired, missing) or bad lines.
    // Rejected answers are the checker doing its job, not a failure of the run.
    let unanswered: u64 = reconciled
        .accounting
        .values()
        .map(|a| a.failed + a.expired + a.missing)
        .sum();
    if unanswered > 0 {
        let _ = writeln!(
            text,
            "\n{unanswered} request(s) got no answer (failed, expired or missing): see rejected.jsonl; `safesft retry {}` resends those a new attempt may fix",
            manifest.run
        );
    }
    let exit = if unanswered > 0
        || !problems.unknown.is_empty()
        || !problems.duplicated.is_empty()
        || !problems.unreadable.is_empty()
    {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    Ok(ReconcileDone {
        text,
        json: json!({"stats": stats_json, "cost": cost, "output_dir": output_dir}),
        status: exit,
    })
}

fn reconcile_command(args: &ReconcileArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let run = Run::open(&dir)?;
    let done = reconcile_run(&run, &args.sft, &args.reports_dir)?;
    if args.target.json {
        stdout_json(&done.json)?;
    } else {
        stdout_text(&done.text)?;
    }
    Ok(done.status)
}

fn report_command(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let rows = crate::report::ledger::read(&args.reports_dir.join(crate::cli::LEDGER_FILE))?;
    if rows.is_empty() {
        bail!(
            "`{}` holds no runs yet\nhint: `safesft reconcile <run>` adds a run's row",
            args.reports_dir.join(crate::cli::LEDGER_FILE).display()
        );
    }
    if args.json {
        let groups = crate::report::ledger_groups(&rows);
        stdout_json(&json!({"runs": rows, "by_size_and_model": groups}))?;
    } else {
        stdout_text(&crate::report::ledger_text(&rows))?;
    }
    Ok(ExitStatus::Success)
}

/// One check of `validate`.
#[derive(serde::Serialize)]
struct ValidationCheck {
    name: &'static str,
    passed: bool,
    detail: String,
}

impl ValidationCheck {
    /// Passed when `problems` is empty (then `ok` says what was checked); else the first
    /// ten problems.
    fn from_problems(name: &'static str, problems: &[String], ok: String) -> ValidationCheck {
        ValidationCheck {
            name,
            passed: problems.is_empty(),
            detail: if problems.is_empty() {
                ok
            } else {
                problems
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        }
    }
}

#[allow(clippy::too_many_lines)] // one check after another, each short
fn validate(args: &ValidateArgs) -> anyhow::Result<ExitStatus> {
    use crate::sft::{
        SftRecord, SOURCE_CORRECT_VERIFIED, SOURCE_INCORRECT_VERIFIED, SOURCE_PARAPHRASED,
    };
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read `{}`", args.file.display()))?;
    let mut records = Vec::new();
    let mut format_errors = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<SftRecord>(line) {
            Ok(record) if record.note.trim().is_empty() => {
                format_errors.push(format!("line {}: empty `note`", number + 1));
            }
            Ok(record) if record.label != "CORRECT" && record.label != "INCORRECT" => {
                format_errors.push(format!(
                    "line {}: label `{}` is neither CORRECT nor INCORRECT",
                    number + 1,
                    record.label
                ));
            }
            Ok(record) => records.push((number + 1, record)),
            Err(error) => format_errors.push(format!("line {}: {error}", number + 1)),
        }
    }
    let correct = records.iter().filter(|(_, r)| r.label == "CORRECT").count();
    let incorrect = records.len() - correct;
    let mut checks = vec![ValidationCheck::from_problems(
        "record_format",
        &format_errors,
        format!("{} records", records.len()),
    )];
    #[allow(clippy::cast_precision_loss)]
    let share = if records.is_empty() {
        0.0
    } else {
        correct as f64 / records.len() as f64
    };
    checks.push(ValidationCheck {
        name: "label_balance",
        passed: !records.is_empty() && (share - 0.5).abs() <= 0.01,
        detail: format!(
            "{correct} CORRECT, {incorrect} INCORRECT ({:.1}% CORRECT; 50% ± 1% required)",
            share * 100.0
        ),
    });
    let bad_sources: Vec<String> = records
        .iter()
        .filter(|(_, r)| match r.label.as_str() {
            "CORRECT" => r.source != SOURCE_PARAPHRASED && r.source != SOURCE_CORRECT_VERIFIED,
            _ => r.source != SOURCE_INCORRECT_VERIFIED,
        })
        .map(|(line, r)| format!("line {line}: {} with source `{}`", r.label, r.source))
        .collect();
    checks.push(ValidationCheck::from_problems(
        "sources",
        &bad_sources,
        "CORRECT from paraphrases (or verified originals), INCORRECT from MEDEC".into(),
    ));
    let mut seen = std::collections::HashSet::new();
    let duplicates: Vec<String> = records
        .iter()
        .filter(|(_, r)| !seen.insert((r.original_note_id.clone(), r.label.clone())))
        .map(|(line, r)| format!("line {line}: {} {} again", r.original_note_id, r.label))
        .collect();
    checks.push(ValidationCheck::from_problems(
        "duplicate_ids",
        &duplicates,
        "each note id once per label".into(),
    ));
    if let Some(source) = &args.medec {
        let (pairs, _) = medec::read_all_pairs(source, ReadOptions::default())?;
        let notes: std::collections::HashMap<&str, &str> = pairs
            .iter()
            .map(|p| (p.note_id.as_str(), p.incorrect_note.as_str()))
            .collect();
        let mismatches: Vec<String> = records
            .iter()
            .filter(|(_, r)| r.label == "INCORRECT")
            .filter(|(_, r)| notes.get(r.original_note_id.as_str()) != Some(&r.note.as_str()))
            .map(|(line, r)| {
                format!(
                    "line {line}: {} differs from MEDEC (or is not in it)",
                    r.original_note_id
                )
            })
            .collect();
        checks.push(ValidationCheck::from_problems(
            "incorrect_identical_to_medec",
            &mismatches,
            format!(
                "{incorrect} INCORRECT notes byte-identical to {}",
                source.display()
            ),
        ));
    }
    let passed = checks.iter().all(|c| c.passed);
    let report = json!({
        "file": args.file,
        "total": records.len(),
        "label_counts": {"CORRECT": correct, "INCORRECT": incorrect},
        "checks": checks,
        "passed": passed,
    });
    let path = args.output_report.clone().unwrap_or_else(|| {
        args.file
            .parent()
            .unwrap_or(Path::new("."))
            .join("validation_report.json")
    });
    run::write_json_atomic(&path, &report)?;
    if args.json {
        stdout_json(&report)?;
    } else {
        let mut out = String::new();
        for check in &checks {
            let _ = writeln!(
                out,
                "{} {}: {}",
                if check.passed { "ok  " } else { "FAIL" },
                check.name,
                check.detail
            );
        }
        let _ = writeln!(out, "report written to {}", path.display());
        stdout_text(&out)?;
    }
    Ok(if passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn retry(args: &RetryArgs) -> anyhow::Result<ExitStatus> {
    let dir = run_dir(&args.target)?;
    let mut run = Run::open(&dir)?;
    if run
        .manifest
        .shards
        .iter()
        .any(|s| !s.remote.withdrawn && s.remote.line_check.is_none())
    {
        bail!(
            "run `{}` still has shards without results\nhint: `safesft wait {}` first; a retry is built from finished results",
            run.manifest.run,
            run.manifest.run
        );
    }
    let (_, reconciled) = reconcile_results(&run)?;
    let spent = crate::report::cost::cost_report(&run.manifest, &reconciled, 0)
        .total
        .actual_usd;
    let to_retry: Vec<&crate::reconcile::Resolved> = reconciled
        .finals
        .values()
        .filter(|r| r.outcome != crate::reconcile::Outcome::Kept && r.retryable)
        .collect();
    if to_retry.is_empty() {
        stdout_text("nothing to retry: every request was kept, or failed in a way a new answer cannot fix\n")?;
        return Ok(ExitStatus::Success);
    }
    let retry_plan = crate::lifecycle::plan_retry(&run, &to_retry)?;
    let new_worst = retry_plan.worst_usd;
    let budget = args.budget_usd.or(run.manifest.budget_usd);
    if let Some(budget) = budget {
        if spent + new_worst > budget {
            eprintln!(
                "error: spent {spent} + this retry's worst case {new_worst} = {} is over the budget {budget}: nothing was added",
                spent + new_worst
            );
            return Ok(ExitStatus::Failure);
        }
    }
    let shards = retry_plan.shards.len();
    crate::lifecycle::apply_retry(&mut run, retry_plan)?;
    eprintln!("retrying {} requests in {shards} new shard(s); worst case {new_worst}, spent so far {spent}", to_retry.len());
    if args.no_submit {
        stdout_text(&report::status_table(&run.manifest))?;
        return Ok(ExitStatus::Success);
    }
    let api = http_api()?;
    let mut progress = Progress::new(false);
    runtime()?.block_on(lifecycle::submit_ready(&api, &mut run, &mut progress))?;
    stdout_text(&report::status_table(&run.manifest))?;
    eprintln!(
        "next: `safesft wait {0}`, then `safesft reconcile {0}`",
        run.manifest.run
    );
    Ok(ExitStatus::Success)
}
