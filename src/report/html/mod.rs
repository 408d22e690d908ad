//! The HTML page of a run (`reports/<run>.html`): its cost against the estimates, every
//! run's cost from the ledger, and a review of its paraphrases. One self-contained file:
//! inline CSS and SVG, a few lines of plain script for the filter, nothing fetched.
//! Rendered with `maud`, which escapes every value it is given.

// Counts and dollars become screen coordinates here: a float's 52-bit mantissa is more
// than a chart 640 points wide can show. Every figure people read is written exactly.
#![allow(clippy::cast_precision_loss)]

mod charts;
pub mod diff;
pub mod review;

use maud::{html, Markup, PreEscaped, DOCTYPE};
use rust_decimal::prelude::ToPrimitive;

use self::charts::{Bar, Point};
use self::review::{Review, ReviewItem};
use super::cost::{CostLine, CostReport};
use super::cost_view::duration_text;
use super::history::{ledger_groups, run_usd_per_kept_pair};
use super::ledger::LedgerRow;
use super::tables::thousands;
use crate::money::Usd;

/// What the page shows.
pub struct PageData<'a> {
    pub cost: &'a CostReport,
    pub ledger: &'a [LedgerRow],
    pub review: &'a Review,
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#1b1b1b}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.stat{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:140px}.stat b{display:block;font-size:20px}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}tr.retries td{color:#666;font-style:italic}tr.total td{font-weight:600}
figure{margin:8px 0}figcaption{font-weight:600;font-size:13px}svg.chart{width:100%;max-width:660px;height:auto;display:block;margin:4px 0}svg text{font-size:11px;fill:#333}
svg .axis{stroke:#999}svg .value{font-size:10px}svg .tick{font-size:9px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px}
.card{border:1px solid #ddd;border-radius:6px;margin:12px 0;padding:8px 12px}.card.kept{border-color:#9c9}
.card h3{font-size:14px;margin:0 0 6px}.sides{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.sides div{white-space:pre-wrap;background:#fafafa;padding:6px;border-radius:4px;font-size:13px}
mark.gone{background:#fdd;text-decoration:line-through}mark.new{background:#dfd}
ul.reasons{margin:6px 0;padding-left:18px;color:#822}.check{font-family:monospace;font-weight:600}
.filter{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #eee}
"#;

/// Hides the cards that do not fail the chosen check; says how many are shown.
const SCRIPT: &str = r"
(function(){
  var select=document.getElementById('check-filter');
  var cards=document.querySelectorAll('.card.rejected');
  function apply(){
    var check=select.value, shown=0;
    cards.forEach(function(card){
      var show=check===''||card.dataset.checks.split(' ').indexOf(check)>=0;
      card.style.display=show?'':'none'; if(show){shown++;}
    });
    document.getElementById('shown-count').textContent=shown+' of '+cards.length+' shown';
  }
  if(select){select.addEventListener('change',apply);apply();}
})();
";

fn dollars_f64(usd: Usd) -> f64 {
    usd.0.to_f64().unwrap_or(0.0)
}

/// The whole page.
pub fn page(data: &PageData<'_>) -> String {
    let cost = data.cost;
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "safesft: run " (cost.run) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (header(cost))
                (run_cost(cost))
                (history(data.ledger))
                (review_section(data.review))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    markup.into_string()
}

fn header(cost: &CostReport) -> Markup {
    let total = &cost.total;
    html! {
        h1 { "Run " (cost.run) ": " (cost.model) }
        p.meta {
            (thousands(cost.pairs)) " pairs of " code { (cost.dataset) } ". "
            @if let (Some(start), Some(end), Some(seconds)) = (&cost.timing.started_at, &cost.timing.ended_at, cost.timing.duration_seconds) {
                "Batches ran " (start) " to " (end) " (" (duration_text(seconds)) "). "
            }
            "Batch prices checked " (cost.pricing_checked)
            @if !cost.pricing_source_url.is_empty() {
                " against " a href=(cost.pricing_source_url) { (cost.pricing_source_url) }
            }
            "."
        }
        div.cards {
            div.stat { "actual cost" b #total-actual { (total.actual_usd.dollars()) } }
            div.stat { "expected (plan)" b #total-expected { (total.estimated_expected_usd.dollars()) } }
            div.stat { "worst case (plan)" b #total-worst { (total.estimated_worst_usd.dollars()) } }
            div.stat { "Batch saved" b #batch-saving { (total.batch_saving_usd.dollars()) } }
            div.stat { "kept pairs" b #kept-pairs { (thousands(cost.kept_pairs)) } }
            div.stat { "per kept pair" b #per-kept-pair {
                (cost.usd_per_kept_pair.map_or_else(|| "none kept".to_string(), Usd::unit_price))
            } }
        }
    }
}

fn cost_row(kind: &str, line: &CostLine, class: &str) -> Markup {
    let first = &line.first_attempts;
    let retries = &line.retries;
    let percent =
        |p: Option<rust_decimal::Decimal>| p.map(|p| format!("{p:+} %")).unwrap_or_default();
    html! {
        tr class=(class) data-kind=(kind) {
            td { (kind) } td { (thousands(first.answers)) } td { (thousands(first.usage.prompt_tokens)) }
            td { (thousands(first.usage.completion_tokens)) } td { (line.estimated_expected_usd.dollars()) }
            td { (line.estimated_worst_usd.dollars()) } td.actual { (first.actual_usd.dollars()) }
            td { (percent(first.expected_error_percent)) }
        }
        @if retries.requests > 0 {
            tr.retries data-kind=(format!("{kind}-retries")) {
                td { (kind) " retries" } td { (thousands(retries.answers)) } td { (thousands(retries.usage.prompt_tokens)) }
                td { (thousands(retries.usage.completion_tokens)) } td { (retries.estimated_expected_usd.dollars()) }
                td {} td.actual { (retries.actual_usd.dollars()) } td { (percent(retries.expected_error_percent)) }
            }
        }
    }
}

fn run_cost(cost: &CostReport) -> Markup {
    let series = ["expected", "worst case", "actual"];
    let groups: Vec<(String, Vec<Bar>)> = cost
        .kinds
        .iter()
        .map(|(kind, line)| {
            let actual = line.actual_usd;
            (
                kind.to_string(),
                [
                    line.estimated_expected_usd,
                    line.estimated_worst_usd,
                    actual,
                ]
                .into_iter()
                .map(|usd| Bar {
                    value: dollars_f64(usd),
                    label: usd.dollars(),
                })
                .collect(),
            )
        })
        .collect();
    html! {
        h2 { "What this run cost" }
        table #cost-table {
            thead { tr { th { "kind" } th { "answers" } th { "prompt tokens" } th { "completion tokens" }
                th { "expected" } th { "worst case" } th { "actual" } th { "vs expected" } } }
            tbody {
                @for (kind, line) in &cost.kinds { (cost_row(&kind.to_string(), line, "kind")) }
                (cost_row("total", &cost.total, "total"))
            }
        }
        p.meta {
            "First attempts are compared with the plan's estimate; retries with the plan's mean cost per request. "
            "At standard prices the same tokens would have cost " (cost.total.standard_usd.dollars())
            ", so the Batch API saved " (cost.total.batch_saving_usd.dollars()) ". "
            "Exact amounts: " code { "reports/" (cost.run) ".json" } "."
        }
        div.charts {
            (charts::grouped_bars("Estimate against actual, per kind (Batch prices)", &series, &groups))
            @for (kind, bins) in &cost.completion_histogram {
                (charts::histogram(
                    &format!("Completion tokens per {kind} answer"),
                    &bins.iter().map(|b| (format!("{}–{}", b.from, b.to), b.answers)).collect::<Vec<_>>(),
                ))
            }
        }
    }
}

fn history(rows: &[LedgerRow]) -> Markup {
    let groups = ledger_groups(rows);
    let mut models: Vec<String> = groups.iter().map(|g| g.model.clone()).collect();
    models.dedup();
    let size_series: Vec<(String, Vec<Point>)> = models
        .iter()
        .map(|model| {
            let points = groups
                .iter()
                .filter(|g| &g.model == model)
                .map(|g| Point {
                    x: g.pairs as f64,
                    y: dollars_f64(Usd(
                        g.actual_usd.0 / rust_decimal::Decimal::from(g.runs.max(1))
                    )),
                    label: Usd(g.actual_usd.0 / rust_decimal::Decimal::from(g.runs.max(1)))
                        .dollars(),
                })
                .collect();
            (model.clone(), points)
        })
        .collect();
    let size_ticks: Vec<(f64, String)> = groups
        .iter()
        .map(|g| (g.pairs as f64, thousands(g.pairs)))
        .collect();
    let mut dated: Vec<&LedgerRow> = rows.iter().collect();
    dated.sort_by(|a, b| (&a.date, &a.started_at).cmp(&(&b.date, &b.started_at)));
    let time_series: Vec<(String, Vec<Point>)> = models
        .iter()
        .map(|model| {
            let points = dated
                .iter()
                .enumerate()
                .filter(|(_, r)| &r.model == model)
                .filter_map(|(i, r)| {
                    run_usd_per_kept_pair(r).map(|usd| Point {
                        x: i as f64,
                        y: dollars_f64(usd),
                        label: usd.unit_price(),
                    })
                })
                .collect();
            (model.clone(), points)
        })
        .collect();
    let time_ticks: Vec<(f64, String)> = dated
        .iter()
        .enumerate()
        .map(|(i, r)| (i as f64, r.date.clone()))
        .collect();
    html! {
        h2 { "Every run (reports/ledger.csv)" }
        div.charts {
            (charts::lines("Cost per run by dataset size and model", "$ per run", &size_ticks, &size_series))
            (charts::lines("Dollars per kept pair over time", "$ per kept pair", &time_ticks, &time_series))
        }
        table #runs-table {
            thead { tr { th { "run" } th { "date" } th { "took" } th { "pairs" } th { "model" } th { "expected" }
                th { "actual" } th { "of it retries" } th { "kept pairs" } th { "per kept pair" } } }
            tbody {
                @for row in rows {
                    tr data-run=(row.run) {
                        td { (row.run) } td { (row.date) } td { (row.duration_seconds.map(duration_text).unwrap_or_default()) }
                        td { (thousands(row.pairs)) } td { (row.model) } td { (row.estimated_expected_usd.dollars()) }
                        td { (row.actual_usd.dollars()) } td { (row.retry_usd.dollars()) }
                        td { (thousands(row.kept_sample().pairs_kept)) }
                        td { (run_usd_per_kept_pair(row).map(Usd::unit_price).unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// One side of a card: the text with the words the other side lacks marked.
fn sides(item: &ReviewItem) -> Markup {
    let original = item.original.as_deref();
    let paraphrase = item.paraphrase.as_deref().unwrap_or("");
    let diffed = original.and_then(|o| diff::word_diff(o, paraphrase));
    html! {
        div.sides {
            @match (&diffed, original) {
                (Some((left, right)), _) => {
                    div.original { @for p in left { @if p.changed { mark.gone { (p.text) } } @else { (p.text) } } }
                    div.paraphrase { @for p in right { @if p.changed { mark.new { (p.text) } } @else { (p.text) } } }
                }
                (None, Some(original)) => { div.original { (original) } div.paraphrase { (paraphrase) } }
                (None, None) => { div.original { em { "original note not found" } } div.paraphrase { (paraphrase) } }
            }
        }
    }
}

fn review_section(review: &Review) -> Markup {
    html! {
        h2 { "Paraphrase review" }
        p.meta {
            (review.rejected_total) " paraphrases rejected"
            @if review.rejected.len() < review.rejected_total { " (the first " (review.rejected.len()) " shown)" }
            "; " (review.kept_total) " kept, " (review.kept_sample.len()) " of them below for a spot check. "
            "Struck-out words are in the original only; green words in the paraphrase only."
        }
        @if !review.other_not_kept.is_empty() {
            table #not-kept {
                thead { tr { th { "other requests not kept" } th { "first reason" } th { "count" } } }
                tbody { @for ((kind, check), count) in &review.other_not_kept { tr { td { (kind) } td.check { (check) } td { (count) } } } }
            }
        }
        div.filter {
            label for="check-filter" { "Show rejections by check: " }
            select #check-filter {
                option value="" { "every check" }
                @for (check, count) in &review.by_check { option value=(check) { (check) " (" (count) ")" } }
            }
            " " span #shown-count {}
        }
        @for item in &review.rejected {
            @let checks: Vec<&str> = item.reasons.iter().map(|r| r.check.as_str()).collect();
            div.card.rejected data-checks=(checks.join(" ")) data-note=(item.note_id) {
                h3 { "Rejected: " (item.note_id) @if item.attempt > 1 { " (attempt " (item.attempt) ")" } }
                ul.reasons {
                    @for reason in &item.reasons {
                        li { span.check { (reason.check) } ": " (reason.detail)
                            @if let Some(span) = &reason.original_span { " — original: «" (span) "»" }
                            @if let Some(span) = &reason.paraphrase_span { " — paraphrase: «" (span) "»" }
                        }
                    }
                }
                (sides(item))
            }
        }
        h2 { "Spot check: kept paraphrases" }
        @for item in &review.kept_sample {
            div.card.kept data-note=(item.note_id) { h3 { "Kept: " (item.note_id) } (sides(item)) }
        }
    }
}
