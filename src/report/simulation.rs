//! The simulator's HTML page (`scimcheck simulate --html FILE`): one self-contained file, like the run report
//! (inline CSS, no script, no network), rendered with minijinja from the simulator's JSON summary
//! ([`crate::simulate::SimReport`]).
//!
//! Shown: the header figures (IdP, target, users, groups, requests, requests/s, exit code), throughput over time
//! as an inline SVG line (requests completed per second in each bucket, `throughputPerSecond`), latency percentiles per request
//! kind (p50/p90/p99/max, ms) as bars, latency over time (p50, p99 and max of every kind together, per bucket,
//! `latencyOverTime`) as inline SVG lines on the throughput chart's time axis, the cycles, errors, retries, the
//! quarantine verdict and the reconciliation: its verdict in words, the differences by kind, and the first
//! [`LISTED_DIFFERENCES`] differences (the rest counted) in pages of [`PAGE`], each a `<details>` element (the
//! first open), so a long list is paged without a script. The time axis is in the summary's buckets
//! (`bucketSeconds`, chosen from the run's length: 10 ms for a short run); a provisioning with fewer than
//! [`MIN_BUCKETS`] buckets is said to be too short to chart over time.

use std::fmt::Write as _;
use std::io::{self, Write};

use minijinja::{context, Environment};
use serde_json::Value;

const TEMPLATE: &str = include_str!("simulation.html.j2");

/// Differences listed on the page at most (the rest are counted), so the file stays bounded (about 0.3 KB each).
pub const LISTED_DIFFERENCES: usize = 2_000;

/// Differences on one page of the list.
pub const PAGE: usize = 100;

/// Buckets a chart over time needs to be drawn; fewer (a run under 0.1 s) and the page says it is too short.
pub const MIN_BUCKETS: usize = 10;

/// Chart width and height in SVG units.
const W: f64 = 900.0;
const H: f64 = 220.0;

/// The throughput line: SVG points for requests per second, bucket by bucket, and the y-axis maximum (rounded up
/// to a whole request per second).
fn throughput_points(per_second: &[f64]) -> (String, u64) {
    let max = per_second.iter().copied().fold(0.0_f64, f64::max).ceil().max(1.0);
    let n = per_second.len().max(2) - 1;
    let mut points = String::new();
    for (i, v) in per_second.iter().enumerate() {
        let x = i as f64 * W / n as f64;
        let y = H - v * H / max;
        let _ = write!(points, "{x:.1},{y:.1} ");
    }
    (points.trim_end().to_string(), max as u64)
}

/// The latency-over-time lines: SVG points of p50, p99 and max (ms) at each point's `bucket`, on a time axis of
/// `buckets` buckets (the throughput chart's), and the y-axis maximum (the highest p99, so one slow request does
/// not flatten the trend; max is clipped to the top of the chart).
fn latency_lines(series: &[Value], buckets: usize) -> ([String; 3], f64) {
    let top = series.iter().filter_map(|p| p["p99Ms"].as_f64()).fold(0.0_f64, f64::max).max(0.001);
    let last = series.iter().filter_map(|p| p["bucket"].as_u64()).max().unwrap_or(0) as usize;
    let n = buckets.max(last + 1).max(2) - 1;
    let mut lines: [String; 3] = Default::default();
    for p in series {
        let Some(at) = p["bucket"].as_u64() else { continue };
        let x = at as f64 * W / n as f64;
        for (line, key) in lines.iter_mut().zip(["p50Ms", "p99Ms", "maxMs"]) {
            let v = p[key].as_f64().unwrap_or(0.0).clamp(0.0, top);
            let _ = write!(line, "{x:.1},{:.1} ", H - v * H / top);
        }
    }
    (lines.map(|l| l.trim_end().to_string()), top)
}

/// Whether `v` is a simulate report (`scimcheck simulate --json`): an object with `reconciliation`,
/// `throughputPerSecond` and `quarantine`, and no `scenarios` (a run report's).
pub fn is_simulation(v: &Value) -> bool {
    v.is_object()
        && v.get("scenarios").is_none()
        && ["reconciliation", "throughputPerSecond", "quarantine"].iter().all(|k| v.get(k).is_some())
}

/// Writes the page for `summary` (the simulator's JSON summary) to `w`.
///
/// Errors: the summary is not an object, the template fails, or `w` cannot be written.
pub fn write(summary: &Value, w: impl Write) -> io::Result<()> {
    if !summary.is_object() {
        return Err(io::Error::other("the simulator summary is not a JSON object"));
    }
    let per_second: Vec<f64> = summary["throughputPerSecond"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let bucket_seconds = summary["bucketSeconds"].as_f64().filter(|w| *w > 0.0).unwrap_or(1.0);
    let seconds = ((per_second.len() as f64 * bucket_seconds) * 100.0).round() / 100.0;
    let (points, max_rps) = throughput_points(&per_second);
    let series: Vec<Value> = summary["latencyOverTime"].as_array().cloned().unwrap_or_default();
    let ([p50_points, p99_points, max_points], latency_top) = latency_lines(&series, per_second.len());
    let latency_max = summary["latencyMs"]
        .as_object()
        .map(|m| m.values().filter_map(|l| l["max"].as_f64()).fold(0.0_f64, f64::max))
        .unwrap_or(0.0)
        .max(0.001);
    let all = summary["reconciliation"]["differences"].as_array().map(Vec::as_slice).unwrap_or_default();
    let listed = &all[..all.len().min(LISTED_DIFFERENCES)];
    // pages of PAGE: (first number, last number, the differences)
    let pages: Vec<(usize, usize, &[Value])> =
        listed.chunks(PAGE).enumerate().map(|(i, c)| (i * PAGE + 1, i * PAGE + c.len(), c)).collect();
    let total = summary["reconciliation"]["drift"].as_u64().unwrap_or(all.len() as u64) as usize;
    let more = total.saturating_sub(listed.len());
    let mut env = Environment::new();
    env.add_template("simulation.html", TEMPLATE).map_err(io::Error::other)?;
    let tmpl = env.get_template("simulation.html").map_err(io::Error::other)?;
    let mut w = io::BufWriter::new(w);
    tmpl.render_captured_to(
        context! {
            s => summary,
            listed => listed,
            pages => pages,
            more => more,
            cap => LISTED_DIFFERENCES,
            points => points,
            seconds => seconds,
            buckets => per_second.len(),
            bucket_ms => (bucket_seconds * 1000.0).round() as u64,
            min_buckets => MIN_BUCKETS,
            max_rps => max_rps,
            latency_max => latency_max,
            latency_top => latency_top,
            latency_buckets => series.len(),
            p50_points => p50_points,
            p99_points => p99_points,
            max_points => max_points,
            width => W,
            height => H,
            version => env!("CARGO_PKG_VERSION"),
        },
        &mut w,
    )
    .map_err(io::Error::other)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_points_span_the_chart() {
        let (points, max) = throughput_points(&[0.0, 50.0, 100.0]);
        assert_eq!(max, 100);
        assert_eq!(points, "0.0,220.0 450.0,110.0 900.0,0.0");
        assert_eq!(throughput_points(&[]), (String::new(), 1));
    }

    #[test]
    fn latency_lines_share_the_time_axis_and_clip_max_at_the_highest_p99() {
        let series = vec![
            serde_json::json!({"bucket": 0, "p50Ms": 1.0, "p99Ms": 2.0, "maxMs": 3.0}),
            serde_json::json!({"bucket": 2, "p50Ms": 2.0, "p99Ms": 4.0, "maxMs": 40.0}),
        ];
        let ([p50, p99, max], top) = latency_lines(&series, 3);
        assert_eq!(top, 4.0);
        assert_eq!(p50, "0.0,165.0 900.0,110.0");
        assert_eq!(p99, "0.0,110.0 900.0,0.0");
        assert_eq!(max, "0.0,55.0 900.0,0.0");
        let (empty, _) = latency_lines(&[], 0);
        assert!(empty.iter().all(String::is_empty));
    }

    /// The page names the verdict (never "drift or quarantine"), lists the differences up to
    /// [`LISTED_DIFFERENCES`] in pages of [`PAGE`] with a count of the rest, escapes what the server sent, and says
    /// when the run is too short to chart.
    #[test]
    fn the_page_lists_capped_differences_in_pages_and_names_the_verdict() {
        let diffs: Vec<Value> = (0..LISTED_DIFFERENCES + 50)
            .map(|k| {
                serde_json::json!({"kind": "missing", "object": format!("User <b>u{k}</b>"),
                                        "expected": "present", "actual": null, "requests": []})
            })
            .collect();
        let summary = serde_json::json!({
            "exitCode": 1, "throughputPerSecond": [12], "latencyOverTime": [], "latencyMs": {}, "cycles": [],
            "elapsedSeconds": 0.8, "requestsPerSecond": 15.0, "reconcileSeconds": 0.1, "operations": 12,
            "errors": {}, "retries": {}, "errorsByScimType": {},
            "quarantine": {"wouldQuarantine": false, "reason": "none"},
            "reconciliation": {"checked": 3000, "drift": LISTED_DIFFERENCES + 100, "unverified": 0, "strangers": 4,
                               "byKind": {"missing": LISTED_DIFFERENCES + 90, "membership": 10}, "differences": diffs}
        });
        let mut page = Vec::new();
        write(&summary, &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(!page.contains("drift or quarantine"), "the verdict is named");
        assert!(page.contains(&format!("NOT CLEAN: {} difference(s)", LISTED_DIFFERENCES + 100)));
        let section = &page[page.find("id=\"differences\"").unwrap()..page.find("<h2>Errors").unwrap()];
        assert_eq!(section.matches("<tr><td>missing</td>").count(), LISTED_DIFFERENCES);
        assert!(section.contains("… and 100 more"));
        assert!(section.contains(&format!("By kind: membership: 10, missing: {}.", LISTED_DIFFERENCES + 90)));
        // paged: one <details> per PAGE differences, the first open, each naming its range
        let pages = LISTED_DIFFERENCES / PAGE;
        assert_eq!(section.matches("<details class=\"page\"").count(), pages);
        assert_eq!(section.matches("<details class=\"page\" open>").count(), 1);
        assert!(section.contains(&format!("<summary>Differences 1–{PAGE} of {}</summary>", LISTED_DIFFERENCES + 100)));
        let last = format!("<summary>Differences {}–{LISTED_DIFFERENCES} of", LISTED_DIFFERENCES - PAGE + 1);
        assert!(section.contains(&last), "{last}");
        assert!(section.contains("4 object(s) on the server were not the simulator's"));
        assert!(section.contains("User &lt;b&gt;u0") && !section.contains("<b>u0"), "escaped");
        assert!(page.contains("id=\"too-short\""), "a 1 s run says it is too short to chart");
    }
}
