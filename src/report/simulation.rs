//! The simulator's HTML page (`scimcheck simulate --html FILE`): one self-contained file, like the run report
//! (inline CSS, no script, no network), rendered with minijinja from the simulator's JSON summary
//! ([`crate::simulate::SimReport`]).
//!
//! Shown: the header figures (IdP, target, users, groups, requests, requests/s, exit code), throughput over time
//! as an inline SVG line (requests completed per second, `throughputPerSecond`), latency percentiles per request
//! kind (p50/p90/p99/max, ms) as bars, the cycles, errors, retries, the quarantine verdict and the
//! reconciliation. The summary keeps latency as percentiles per kind, not over time, so latency is not charted
//! over time.

use std::fmt::Write as _;
use std::io::{self, Write};

use minijinja::{context, Environment};
use serde_json::Value;

const TEMPLATE: &str = include_str!("simulation.html.j2");

/// Chart width and height in SVG units.
const W: f64 = 900.0;
const H: f64 = 220.0;

/// The throughput line: SVG points for requests per second, second by second, and the y-axis maximum.
fn throughput_points(per_second: &[u64]) -> (String, u64) {
    let max = per_second.iter().copied().max().unwrap_or(0).max(1);
    let n = per_second.len().max(2) - 1;
    let mut points = String::new();
    for (i, v) in per_second.iter().enumerate() {
        let x = i as f64 * W / n as f64;
        let y = H - (*v as f64) * H / max as f64;
        let _ = write!(points, "{x:.1},{y:.1} ");
    }
    (points.trim_end().to_string(), max)
}

/// Writes the page for `summary` (the simulator's JSON summary) to `w`.
///
/// Errors: the summary is not an object, the template fails, or `w` cannot be written.
pub fn write(summary: &Value, w: impl Write) -> io::Result<()> {
    if !summary.is_object() {
        return Err(io::Error::other("the simulator summary is not a JSON object"));
    }
    let per_second: Vec<u64> = summary["throughputPerSecond"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let (points, max_rps) = throughput_points(&per_second);
    let latency_max = summary["latencyMs"]
        .as_object()
        .map(|m| m.values().filter_map(|l| l["max"].as_f64()).fold(0.0_f64, f64::max))
        .unwrap_or(0.0)
        .max(0.001);
    let mut env = Environment::new();
    env.add_template("simulation.html", TEMPLATE).map_err(io::Error::other)?;
    let tmpl = env.get_template("simulation.html").map_err(io::Error::other)?;
    let mut w = io::BufWriter::new(w);
    tmpl.render_captured_to(
        context! {
            s => summary,
            points => points,
            seconds => per_second.len(),
            max_rps => max_rps,
            latency_max => latency_max,
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
        let (points, max) = throughput_points(&[0, 50, 100]);
        assert_eq!(max, 100);
        assert_eq!(points, "0.0,220.0 450.0,110.0 900.0,0.0");
        assert_eq!(throughput_points(&[]), (String::new(), 1));
    }
}
