//! The one parser of numeric command-line options (durations, rates, counts), shared by every command, so that
//! every number is range-checked before it is used: a value out of range is a usage error (exit 2) naming the
//! option and its range, never a panic later (a `Duration` of `1e300` seconds cannot exist) or a process that
//! tries to hold a billion requests in flight.
//!
//! Durations are written `250ms`, `30s`, `5m`, `1h`, `2d`, or a bare number of seconds (`30`, `0.5`). Rates are
//! requests per second. The ranges are the constants below.

use std::time::Duration;

/// The longest per-request timeout and the longest single back-off wait: one day (RFC 9110 §10.2.3 puts no bound
/// on `Retry-After`; a wait longer than a day is no longer a test).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);

/// The longest `record --idle`: 30 days.
pub const MAX_IDLE: Duration = Duration::from_secs(30 * 86_400);

/// The lowest `--rate`: one request per hour.
pub const MIN_RATE: f64 = 1.0 / 3600.0;

/// The highest `--rate`: one million requests per second.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Parses a duration (`250ms`, `30s`, `5m`, `1h`, `2d`, or bare seconds) that must lie in `min..=max`.
///
/// Errors: not a number with a known unit, not finite, or out of range (the message names the range).
pub fn duration_in(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.' && c != 'e' && c != 'E' && c != '-' && c != '+');
    let (num, unit) = t.split_at(split.unwrap_or(t.len()));
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 5m, 1h)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => return Err(format!("unknown unit `{other}` in `{s}` (ms, s, m, h, d)")),
    };
    let secs = n * scale;
    if !secs.is_finite() || secs < min.as_secs_f64() || secs > max.as_secs_f64() {
        return Err(format!("`{s}` is out of range: between {} and {}", show(min), show(max)));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a number in `min..=max` (rates, sizes in MiB).
///
/// Errors: not a number, not finite, or out of range.
pub fn number_in(s: &str, min: f64, max: f64) -> Result<f64, String> {
    let n: f64 = s.trim().parse().map_err(|_| format!("`{s}` is not a number"))?;
    if !n.is_finite() || n < min || n > max {
        return Err(format!("`{s}` is out of range: between {min} and {max}"));
    }
    Ok(n)
}

/// Parses a whole number in `min..=max` (jobs, concurrency, counts, byte limits).
///
/// Errors: not a whole number, or out of range.
pub fn count_in(s: &str, min: usize, max: usize) -> Result<usize, String> {
    let n: u128 = s.trim().parse().map_err(|_| format!("`{s}` is not a whole number"))?;
    if n < min as u128 || n > max as u128 {
        return Err(format!("`{s}` is out of range: between {min} and {max}"));
    }
    Ok(n as usize)
}

fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 86_400.0 && s % 86_400.0 == 0.0 {
        format!("{}d", s / 86_400.0)
    } else if s >= 1.0 {
        format!("{s}s")
    } else {
        format!("{}ms", s * 1000.0)
    }
}

/// A per-request timeout in seconds (`run --timeout`, `simulate --timeout`): 1 ms to [`MAX_TIMEOUT`].
pub fn timeout_secs(s: &str) -> Result<f64, String> {
    duration_in(s, Duration::from_millis(1), MAX_TIMEOUT).map(|d| d.as_secs_f64())
}

/// A cap of one wait in seconds (`simulate --max-wait`): 0 to [`MAX_TIMEOUT`].
pub fn wait_secs(s: &str) -> Result<f64, String> {
    duration_in(s, Duration::ZERO, MAX_TIMEOUT).map(|d| d.as_secs_f64())
}

/// `record --idle`: 1 ms to [`MAX_IDLE`].
pub fn idle(s: &str) -> Result<Duration, String> {
    duration_in(s, Duration::from_millis(1), MAX_IDLE)
}

/// Requests per second (`simulate --rate`): [`MIN_RATE`] to [`MAX_RATE`].
pub fn rate(s: &str) -> Result<f64, String> {
    number_in(s, MIN_RATE, MAX_RATE)
}

/// Requests or scenarios at once (`run --jobs`, `simulate --concurrency`, `bench --jobs`): 1 to 1,024.
pub fn parallelism(s: &str) -> Result<usize, String> {
    count_in(s, 1, 1024)
}

/// A body limit in bytes (`--body-limit`): 1 byte to 1 GiB.
pub fn body_limit(s: &str) -> Result<usize, String> {
    count_in(s, 1, 1 << 30)
}

/// A number of objects (`simulate --users`, `--groups`): 0 to 10,000,000.
pub fn objects(s: &str) -> Result<usize, String> {
    count_in(s, 0, 10_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_are_range_checked() {
        let day = Duration::from_secs(86_400);
        assert_eq!(duration_in("5m", Duration::ZERO, day).unwrap(), Duration::from_secs(300));
        assert_eq!(duration_in("250ms", Duration::ZERO, day).unwrap(), Duration::from_millis(250));
        assert_eq!(duration_in("1.5", Duration::ZERO, day).unwrap(), Duration::from_millis(1500));
        assert_eq!(duration_in("1d", Duration::ZERO, day).unwrap(), day);
        for bad in ["1e300", "1e300s", "100000000000000000000000h", "-1", "NaN", "inf", "25h", "5 parsecs", "abc", ""] {
            assert!(duration_in(bad, Duration::ZERO, day).is_err(), "{bad}");
        }
        assert!(timeout_secs("0").is_err());
        assert!(idle("100000000000000000000000h").unwrap_err().contains("out of range"));
    }

    #[test]
    fn numbers_and_counts_are_range_checked() {
        assert_eq!(rate("10").unwrap(), 10.0);
        for bad in ["1e-300", "0", "-5", "1e300", "NaN", "inf"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
        assert_eq!(parallelism("4").unwrap(), 4);
        for bad in ["0", "1025", "100000000000000000000000000", "-1", "1.5"] {
            assert!(parallelism(bad).is_err(), "{bad}");
        }
    }
}
