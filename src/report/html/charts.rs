//! Inline SVG charts for the HTML page: grouped bars, a histogram and a chart of points
//! joined per series. Geometry only: labels are passed in already written for people.

use maud::{html, Markup};

/// Series colours, in order (colour-blind safe: Okabe–Ito).
pub const COLOURS: [&str; 6] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
];

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 34.0;

/// One bar: its value (for its height) and its label (shown above it).
pub struct Bar {
    pub value: f64,
    pub label: String,
}

fn scale(value: f64, max: f64) -> f64 {
    if max <= 0.0 {
        0.0
    } else {
        (value / max) * (HEIGHT - TOP - BOTTOM)
    }
}

fn legend(series: &[&str]) -> Markup {
    html! {
        @for (i, name) in series.iter().enumerate() {
            @let x = LEFT + 130.0 * i as f64;
            rect x=(x) y="2" width="10" height="10" fill=(COLOURS[i % COLOURS.len()]) {}
            text x=(x + 14.0) y="11" class="legend" { (name) }
        }
    }
}

/// Bars in groups (e.g. per kind: expected, worst case, actual), one colour per series.
pub fn grouped_bars(title: &str, series: &[&str], groups: &[(String, Vec<Bar>)]) -> Markup {
    let max = groups
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|b| b.value))
        .fold(0.0, f64::max);
    let slot = (WIDTH - LEFT) / groups.len().max(1) as f64;
    let bar_width = (slot * 0.8 / series.len().max(1) as f64).min(60.0);
    html! {
        figure { figcaption { (title) }
        svg class="chart" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            (legend(series))
            line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) class="axis" {}
            @for (g, (name, bars)) in groups.iter().enumerate() {
                @let x0 = LEFT + slot * g as f64 + slot * 0.1;
                @for (i, bar) in bars.iter().enumerate() {
                    @let h = scale(bar.value, max);
                    @let x = x0 + bar_width * i as f64;
                    rect x=(x) y=(HEIGHT - BOTTOM - h) width=(bar_width - 2.0) height=(h)
                        fill=(COLOURS[i % COLOURS.len()]) { title { (series.get(i).copied().unwrap_or("")) ": " (bar.label) } }
                    text x=(x + bar_width / 2.0 - 1.0) y=(HEIGHT - BOTTOM - h - 4.0) class="value" text-anchor="middle" { (bar.label) }
                }
                text x=(x0 + bar_width * bars.len() as f64 / 2.0) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" { (name) }
            }
        }
        }
    }
}

/// A histogram: one bar per bin, labelled below with the bin's range.
pub fn histogram(title: &str, bins: &[(String, u64)]) -> Markup {
    let max = bins.iter().map(|(_, n)| *n).max().unwrap_or(0) as f64;
    let slot = (WIDTH - LEFT) / bins.len().max(1) as f64;
    html! {
        figure { figcaption { (title) }
        svg class="chart" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) class="axis" {}
            text x="4" y=(TOP - 6.0) class="legend" { "answers" }
            @for (i, (label, count)) in bins.iter().enumerate() {
                @let h = scale(*count as f64, max);
                @let x = LEFT + slot * i as f64;
                rect x=(x + 1.0) y=(HEIGHT - BOTTOM - h) width=(slot - 2.0) height=(h) fill=(COLOURS[0]) {
                    title { (label) " tokens: " (count) " answers" }
                }
                text x=(x + slot / 2.0) y=(HEIGHT - BOTTOM - h - 4.0) class="value" text-anchor="middle" { (count) }
                text x=(x + slot / 2.0) y=(HEIGHT - BOTTOM + 14.0) class="tick" text-anchor="middle" { (label) }
            }
            text x=(WIDTH - 4.0) y=(HEIGHT - 4.0) class="legend" text-anchor="end" { "completion tokens per answer" }
        }
        }
    }
}

/// A point: where it goes and what it says.
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// Points joined per series (e.g. cost per dataset size, a line per model), axes from
/// zero, `x_ticks` labelled under the axis at their values.
pub fn lines(
    title: &str,
    y_label: &str,
    x_ticks: &[(f64, String)],
    series: &[(String, Vec<Point>)],
) -> Markup {
    let max_x = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.x))
        .chain(x_ticks.iter().map(|t| t.0))
        .fold(0.0, f64::max);
    let max_y = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|p| p.y))
        .fold(0.0, f64::max);
    let px = |x: f64| {
        if max_x <= 0.0 {
            LEFT
        } else {
            LEFT + 20.0 + x / max_x * (WIDTH - LEFT - 90.0)
        }
    };
    let py = |y: f64| HEIGHT - BOTTOM - scale(y, max_y);
    let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
    html! {
        figure { figcaption { (title) }
        svg class="chart" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title) {
            title { (title) }
            (legend(&names))
            line x1=(LEFT) y1=(HEIGHT - BOTTOM) x2=(WIDTH) y2=(HEIGHT - BOTTOM) class="axis" {}
            line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(HEIGHT - BOTTOM) class="axis" {}
            text x="4" y=(TOP + 10.0) class="legend" { (y_label) }
            @for (x, label) in x_ticks {
                text x=(px(*x)) y=(HEIGHT - BOTTOM + 14.0) class="tick" text-anchor="middle" { (label) }
            }
            @for (i, (_, points)) in series.iter().enumerate() {
                @let colour = COLOURS[i % COLOURS.len()];
                @let path = points.iter().map(|p| format!("{:.1},{:.1}", px(p.x), py(p.y))).collect::<Vec<_>>().join(" ");
                polyline points=(path) fill="none" stroke=(colour) stroke-width="2" {}
                @for point in points {
                    circle cx=(px(point.x)) cy=(py(point.y)) r="4" fill=(colour) { title { (point.label) } }
                    text x=(px(point.x) + 6.0) y=(py(point.y) - 6.0) class="value" { (point.label) }
                }
            }
        }
        }
    }
}
