//! Throughput and latency over time, in buckets whose width follows the run's length: a 0.5 s run is charted in
//! 10 ms buckets (50 of them), a ten-minute run in 10 s buckets, so a short run still has a meaningful chart and
//! a long one stays bounded.
//!
//! Requests are counted as they complete into buckets of [`WIDTHS_MS`]`[0]`; when a request completes beyond
//! [`MAX_BUCKETS`] buckets, adjacent buckets are merged into the next width of the ladder (each width a whole
//! multiple of the one before, so counts add and latency histograms merge exactly). The run's duration need not be
//! known in advance, and memory stays at most [`MAX_BUCKETS`] small histograms.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Bucket widths in milliseconds, each a whole multiple of the one before (×2, ×5, ×2, ×5, …).
pub const WIDTHS_MS: &[u64] = &[10, 20, 100, 200, 1_000, 2_000, 10_000, 20_000, 60_000, 120_000, 600_000, 1_200_000];

/// Buckets kept at most; beyond this the width grows. A run of `d` seconds ends with at least
/// `d / width` buckets, so any run of 0.1 s or more has at least 10 buckets.
pub const MAX_BUCKETS: usize = 240;

/// Completed requests and the latency of the provisioning ones, per bucket of the run.
#[derive(Debug, Default)]
pub struct Timeline {
    /// Index into [`WIDTHS_MS`].
    width: usize,
    /// Requests completed in each bucket (every kind, the read-back included).
    counts: Vec<u32>,
    /// Latency (µs) of the provisioning requests completed in each bucket: one small auto-resizing histogram
    /// (2 significant digits) per bucket, never a list of every request's latency.
    latency: Vec<Histogram<u32>>,
}

impl Timeline {
    /// The bucket width, in seconds.
    pub fn bucket_seconds(&self) -> f64 {
        WIDTHS_MS[self.width] as f64 / 1000.0
    }

    /// Counts a request completed `at` after the start; `latency_us` is its latency for the latency series, or
    /// `None` for a request left out of it (the reconciliation read-back).
    pub fn record(&mut self, at: Duration, latency_us: Option<u64>) {
        let ms = at.as_millis() as u64;
        while (ms / WIDTHS_MS[self.width]) as usize >= MAX_BUCKETS && self.width + 1 < WIDTHS_MS.len() {
            self.widen();
        }
        let i = ((ms / WIDTHS_MS[self.width]) as usize).min(MAX_BUCKETS.max(1) * 64);
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] = self.counts[i].saturating_add(1);
        if let Some(us) = latency_us {
            while self.latency.len() <= i {
                self.latency.push(Histogram::new(2).expect("2 significant digits are valid"));
            }
            let _ = self.latency[i].record(us.max(1));
        }
    }

    /// Merges adjacent buckets into the next width of the ladder.
    fn widen(&mut self) {
        let factor = (WIDTHS_MS[self.width + 1] / WIDTHS_MS[self.width]) as usize;
        self.width += 1;
        self.counts = self.counts.chunks(factor).map(|c| c.iter().fold(0u32, |a, b| a.saturating_add(*b))).collect();
        let old = std::mem::take(&mut self.latency);
        for chunk in old.chunks(factor) {
            let mut merged = Histogram::new(2).expect("2 significant digits are valid");
            for h in chunk {
                let _ = merged.add(h);
            }
            self.latency.push(merged);
        }
    }

    /// Requests completed in each bucket.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// The latency histograms (µs), one per bucket from the first (trailing empty buckets may be absent).
    pub fn latency(&self) -> &[Histogram<u32>] {
        &self.latency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_second_run_has_at_least_ten_buckets() {
        let mut t = Timeline::default();
        for ms in (0..500).step_by(5) {
            t.record(Duration::from_millis(ms), Some(1_000));
        }
        assert_eq!(t.bucket_seconds(), 0.01);
        assert!(t.counts().len() >= 10, "{}", t.counts().len());
        assert_eq!(t.counts().iter().map(|c| *c as u64).sum::<u64>(), 100);
    }

    #[test]
    fn a_long_run_widens_and_keeps_every_request() {
        let mut t = Timeline::default();
        for s in 0..600u64 {
            t.record(Duration::from_secs(s), if s % 2 == 0 { Some(2_000 + s) } else { None });
        }
        assert_eq!(t.bucket_seconds(), 10.0, "ten minutes in 10 s buckets");
        assert_eq!(t.counts().len(), 60);
        assert!(t.counts().len() <= MAX_BUCKETS);
        assert_eq!(t.counts().iter().map(|c| *c as u64).sum::<u64>(), 600);
        assert_eq!(t.latency().iter().map(Histogram::len).sum::<u64>(), 300, "histograms merge exactly");
        assert!(t.counts().iter().all(|c| *c == 10));
    }

    #[test]
    fn the_width_steps_through_whole_multiples() {
        assert!(WIDTHS_MS.windows(2).all(|w| w[1] % w[0] == 0 && w[1] > w[0]));
        let mut t = Timeline::default();
        t.record(Duration::from_secs(100_000_000), Some(1));
        assert_eq!(t.counts().iter().sum::<u32>(), 1, "a very late request is still counted, in a bounded bucket");
    }
}
