//! Back-off after a 429: reading `Retry-After`, the wait each IdP makes, and saturating time arithmetic, so that
//! no value a server sends can overflow an `Instant` (`Retry-After: 18446744073709551615` is a valid
//! `delay-seconds`, RFC 9110 §10.2.3, and used to crash the simulator).
//!
//! Every wait is capped at `--max-wait`, [`DEFAULT_MAX_WAIT`] when it is not given; a wait of
//! [`LONG_WAIT`] or more is announced on stderr with what it waits for.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::idp::Dialect;

/// The cap of one wait when `--max-wait` is not given: 15 minutes. Okta's own first wait without
/// `Retry-After` (5 minutes) and its first doubling stay whole; a server's day-long `Retry-After` does not
/// stall a test run.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// A wait this long or longer is announced on stderr.
pub const LONG_WAIT: Duration = Duration::from_secs(5);

/// Okta's first wait when a 429 carries no `Retry-After`: 5 minutes.
pub const OKTA_DEFAULT_WAIT: Duration = Duration::from_secs(300);

/// A `Retry-After` value (RFC 9110 §10.2.3): `delay-seconds` (any number of digits; one too large for a `u64`
/// saturates) or an HTTP-date (a date in the past is no wait). `None` for anything else.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.parse::<u64>().map(Duration::from_secs).unwrap_or(Duration::MAX));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds().max(0);
    Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

/// The wait before the next attempt, already capped at `cap`, or `None` when the IdP does not retry: Entra
/// waits `Retry-After` and treats a 429 without it as a failure; Okta waits `Retry-After` (5 minutes without
/// one), then at least double its previous wait. `previous` is Okta's previous wait of this request.
pub fn wait_for(
    dialect: Dialect,
    given: Option<Duration>,
    previous: Option<Duration>,
    cap: Duration,
) -> Option<Duration> {
    let wait = match dialect {
        Dialect::Entra(_) => given?,
        Dialect::Okta(_) => match previous {
            None => given.unwrap_or(OKTA_DEFAULT_WAIT),
            Some(prev) => {
                let doubled = prev.saturating_mul(2);
                given.map_or(doubled, |g| g.max(doubled))
            }
        },
    };
    Some(wait.min(cap))
}

/// `now + wait`, saturating at a day past the longest wait allowed instead of overflowing.
pub fn deadline(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait).or_else(|| now.checked_add(crate::options::MAX_TIMEOUT)).unwrap_or(now)
}

/// Announces long waits on stderr, once per pause (concurrent requests hitting the same pause are not
/// repeated).
#[derive(Debug, Default)]
pub struct Announcer {
    until: Mutex<Option<Instant>>,
}

impl Announcer {
    /// Prints what the wait until `until` is for, when it is [`LONG_WAIT`] or longer and not already announced.
    pub fn announce(&self, until: Instant, wait: Duration, what: &str, given: Option<Duration>, cap: Duration) {
        if wait < LONG_WAIT {
            return;
        }
        let mut last = self.until.lock().expect("not poisoned");
        if last.is_some_and(|t| t >= until) {
            return;
        }
        *last = Some(until);
        eprintln!("{}", describe(wait, what, given, cap));
    }
}

/// The line announcing a long wait: how long, for which request, and why (the server's `Retry-After`, the
/// IdP's default, the cap).
pub fn describe(wait: Duration, what: &str, given: Option<Duration>, cap: Duration) -> String {
    let why = match given {
        Some(g) if g > cap => format!(
            "the server answered 429 with Retry-After {}; capped at {:.0} s (--max-wait)",
            seconds(g),
            cap.as_secs_f64()
        ),
        Some(g) => format!("the server answered 429 with Retry-After {}", seconds(g)),
        None => "the server answered 429 without Retry-After (the IdP's own back-off)".to_string(),
    };
    format!("simulate: waiting {:.1} s before retrying {what}: {why}", wait.as_secs_f64())
}

fn seconds(d: Duration) -> String {
    if d == Duration::MAX {
        "beyond any clock".to_string()
    } else {
        format!("{} s", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::{EntraDialect, OktaAppKind};

    const OKTA: Dialect = Dialect::Okta(OktaAppKind::Oin);
    const ENTRA: Dialect = Dialect::Entra(EntraDialect::Default);

    #[test]
    fn any_retry_after_a_server_sends_gives_a_capped_wait_without_overflow() {
        let huge = parse_retry_after("18446744073709551615").unwrap();
        assert_eq!(huge, Duration::from_secs(u64::MAX));
        assert_eq!(parse_retry_after("99999999999999999999999999"), Some(Duration::MAX));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after(""), None);
        for d in [OKTA, ENTRA] {
            assert_eq!(wait_for(d, Some(huge), None, DEFAULT_MAX_WAIT), Some(DEFAULT_MAX_WAIT));
            assert_eq!(wait_for(d, Some(Duration::MAX), Some(Duration::MAX), DEFAULT_MAX_WAIT), Some(DEFAULT_MAX_WAIT));
        }
        assert_eq!(wait_for(ENTRA, None, None, DEFAULT_MAX_WAIT), None, "Entra fails a 429 without Retry-After");
        assert_eq!(wait_for(OKTA, None, None, DEFAULT_MAX_WAIT), Some(OKTA_DEFAULT_WAIT));
        assert_eq!(
            wait_for(OKTA, Some(Duration::from_secs(1)), Some(Duration::from_secs(4)), DEFAULT_MAX_WAIT),
            Some(Duration::from_secs(8))
        );
        let now = Instant::now();
        assert!(deadline(now, Duration::MAX) > now);
        assert_eq!(deadline(now, Duration::from_secs(3)), now + Duration::from_secs(3));
    }

    #[test]
    fn a_long_wait_says_what_it_waits_for() {
        let line = describe(DEFAULT_MAX_WAIT, "POST /Users", Some(Duration::from_secs(u64::MAX)), DEFAULT_MAX_WAIT);
        assert_eq!(
            line,
            "simulate: waiting 900.0 s before retrying POST /Users: the server answered 429 with Retry-After 18446744073709551615 s; capped at 900 s (--max-wait)"
        );
    }
}
