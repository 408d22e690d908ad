//! Progress on stderr: a spinner while planning, and a bar per shard (or a line per
//! change when stderr is not a terminal) while batches run.

use std::collections::BTreeMap;

use crate::api::BatchStatus;
use crate::batch::{Event, Observer};

/// The planning spinner (hidden with `--quiet`).
pub(crate) fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
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

/// Progress on stderr: a bar per shard on a terminal, a line per change otherwise.
pub(crate) struct Progress {
    multi: indicatif::MultiProgress,
    bars: BTreeMap<usize, indicatif::ProgressBar>,
    last: BTreeMap<usize, (BatchStatus, u64)>,
    terminal: bool,
    quiet: bool,
}

impl Progress {
    pub(crate) fn new(quiet: bool) -> Progress {
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

    /// A warning: printed even when progress is quiet.
    fn warn(&self, text: &str) {
        if self.terminal && !self.quiet {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    pub(crate) fn clear(&self) {
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
            // Warnings: shown even with `--quiet`.
            Event::Damaged { shard, why } => {
                self.warn(&format!("warning: shard {shard:03}: {why}: fetching it again"));
            }
            Event::Outage { message, seconds, since } => {
                let down = crate::batch::unix_now().saturating_sub(*since);
                self.warn(&format!(
                    "warning: {message}\n  the API has not answered for {down} s; the batches keep running: looking again in {seconds:.0} s"
                ));
            }
            Event::OrphansDeleted { shard, files } => {
                self.say(&format!("shard {shard:03}: deleted {files} earlier upload(s) of the same file"));
            }
            Event::VerifyBuilt { requests, shards } => self.say(&format!(
                "stage 2: {requests} rule-passing paraphrase(s) to verify, in {shards} new shard(s)"
            )),
            Event::Withdrawn { shard } => {
                self.say(&format!("shard {shard:03}: withdrawn (its submission was cut short and no batch of it exists)"));
            }
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
