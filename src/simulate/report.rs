//! The simulation report: operations by kind, throughput, latency percentiles per kind, errors, retries, the
//! quarantine verdict and the reconciliation — as text for the terminal and as JSON (`--json FILE`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::idp::Dialect;

use super::engine::{CycleFigures, Engine};
use super::http::OpKind;
use super::model::Model;
use super::reconcile::{idp_name, Reconciliation};
use super::SimOptions;

/// Latency percentiles of one kind, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Requests.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

/// Latency of the provisioning requests (the reconciliation read-back left out) completed in one bucket of the run
/// (one point of `latencyOverTime`), in milliseconds. The buckets are those of `throughputPerSecond`: bucket
/// `bucket` holds the requests completed from `atSeconds` to `atSeconds + bucketSeconds` after the start. Buckets
/// without a completed provisioning request are left out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyPoint {
    /// Index of the bucket (into `throughputPerSecond` and `requestsPerBucket`).
    pub bucket: u64,
    /// Start of the bucket, seconds since the start of the run.
    pub at_seconds: f64,
    /// Provisioning requests completed in this bucket, every kind but `reconcileRead`.
    pub requests: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
}

/// The latency series from the per-bucket histograms (µs) of buckets `bucket_seconds` wide: empty buckets are
/// skipped.
pub fn latency_over_time(per_bucket: &[hdrhistogram::Histogram<u32>], bucket_seconds: f64) -> Vec<LatencyPoint> {
    let ms = |v: u64| (v as f64) / 1000.0;
    per_bucket
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.is_empty())
        .map(|(i, h)| LatencyPoint {
            bucket: i as u64,
            at_seconds: i as f64 * bucket_seconds,
            requests: h.len(),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        })
        .collect()
}

/// Whether Entra's engine would have quarantined the job, and why (docs/engines.md §A "Errors, escrow, quarantine").
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    /// The verdict.
    pub would_quarantine: bool,
    /// Why, or why not.
    pub reason: String,
}

/// Escrow thresholds of Entra's engine (ED:application-provisioning-quarantine-status, docs/engines.md §A).
pub mod escrow {
    /// Evaluation starts at this many failures.
    pub const EVALUATION_STARTS: u64 = 5_000;
    /// Quarantine above this share of failed operations.
    pub const PROPORTION: f64 = 0.40;
    /// Quarantine above this many failures (reference failures excluded).
    pub const FAILURES: u64 = 40_000;
    /// Quarantine above this many failures in total (reference failures included).
    pub const TOTAL_FAILURES: u64 = 60_000;
}

/// The quarantine verdict from the cycles' figures and the immediate (compliance) reasons seen.
pub fn quarantine(dialect: Dialect, cycles: &[CycleFigures], compliance: &[String]) -> Quarantine {
    if !dialect.is_entra() {
        let failed: u64 = cycles.iter().map(|c| c.object_failures + c.reference_failures).sum();
        return Quarantine {
            would_quarantine: false,
            reason: format!(
                "Okta has no job quarantine; failed tasks are listed for an administrator to retry ({failed} failed \
                 operations over all cycles)"
            ),
        };
    }
    if let Some(c) = compliance.first() {
        return Quarantine {
            would_quarantine: true,
            reason: format!("EncounteredQuarantineException: {c} (quarantined at once, whatever the failure rate)"),
        };
    }
    for c in cycles {
        let failures = c.object_failures;
        let total_failures = c.object_failures + c.reference_failures;
        let ops = c.object_operations.max(1);
        let share = failures as f64 / ops as f64;
        if total_failures >= escrow::EVALUATION_STARTS {
            if share > escrow::PROPORTION {
                return Quarantine {
                    would_quarantine: true,
                    reason: format!(
                        "EncounteredEscrowProportionThreshold: cycle {}: {failures} of {ops} operations failed \
                         ({:.0} % > 40 %, evaluated from 5,000 failures)",
                        c.cycle,
                        share * 100.0
                    ),
                };
            }
            if failures > escrow::FAILURES || total_failures > escrow::TOTAL_FAILURES {
                return Quarantine {
                    would_quarantine: true,
                    reason: format!(
                        "EncounteredEscrowProportionThreshold: cycle {}: {failures} failures ({total_failures} with \
                         reference updates) exceed 40,000 / 60,000",
                        c.cycle
                    ),
                };
            }
        }
    }
    let worst = cycles.iter().map(|c| c.object_failures + c.reference_failures).max().unwrap_or(0);
    Quarantine {
        would_quarantine: false,
        reason: format!(
            "no 401 and no 404 on a query; at most {worst} failures in one cycle (escrow evaluation starts at 5,000, \
             quarantine above 40 % failed or 40,000 failures)"
        ),
    }
}

/// The whole report (`--json FILE` writes it as is).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimReport {
    /// Differences of each kind shown in the terminal summary (`--show`, default 5); not in the JSON.
    #[serde(skip)]
    pub examples_per_kind: usize,
    /// `entra` or `okta`.
    pub idp: &'static str,
    /// The dialect, in words.
    pub dialect: String,
    /// The target (no credential).
    pub target: String,
    /// Source users at the end (hires included).
    pub users: usize,
    /// Source groups.
    pub groups: usize,
    /// Requests sent, retries and read-back included.
    pub operations: u64,
    /// Requests by kind.
    pub operations_by_kind: BTreeMap<String, u64>,
    /// Wall time of the provisioning cycles (read-back excluded), seconds.
    pub elapsed_seconds: f64,
    /// Provisioning requests per second over `elapsedSeconds`.
    pub requests_per_second: f64,
    /// Wall time of the reconciliation read-back, seconds.
    pub reconcile_seconds: f64,
    /// Time to build the source model, seconds.
    pub model_seconds: f64,
    /// Latency percentiles per kind, ms.
    pub latency_ms: BTreeMap<String, Latency>,
    /// Non-2xx answers by status (`0`: timeout or transport error).
    pub errors: BTreeMap<String, u64>,
    /// Non-2xx answers by `scimType`.
    pub errors_by_scim_type: BTreeMap<String, u64>,
    /// Retries by reason.
    pub retries: BTreeMap<String, u64>,
    /// Time spent honouring back-off, seconds.
    pub backoff_seconds: f64,
    /// Per cycle: operations, failures, source changes, wall time.
    pub cycles: Vec<CycleFigures>,
    /// Width of the time buckets of `requestsPerBucket`, `throughputPerSecond` and `latencyOverTime`, seconds:
    /// chosen from the run's length (10 ms for a run under 2.4 s, growing so a run has at most 240 buckets;
    /// [`super::timeline`]).
    pub bucket_seconds: f64,
    /// Requests completed in each bucket, every kind.
    pub requests_per_bucket: Vec<u32>,
    /// Throughput over time: requests completed per second in each bucket (`requestsPerBucket / bucketSeconds`).
    pub throughput_per_second: Vec<f64>,
    /// Latency over time, every provisioning kind together (`reconcileRead` left out): p50, p99 and max per bucket
    /// of the run (the buckets of `throughputPerSecond`), ms.
    pub latency_over_time: Vec<LatencyPoint>,
    /// The simulator's own time per request (building requests, reading answers, bookkeeping), µs.
    pub simulator_micros_per_request: f64,
    /// Process CPU time per request (client and, with `--reference`, the in-process server), µs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_cpu_micros_per_request: Option<f64>,
    /// The quarantine verdict.
    pub quarantine: Quarantine,
    /// The reconciliation.
    pub reconciliation: Reconciliation,
    /// Whether the run was interrupted (Ctrl-C): the figures are partial, no read-back ran, nothing is judged.
    pub interrupted: bool,
    /// What the target's discovery left out (no Groups endpoint, no enterprise extension), each once, with its
    /// rule ([`super::scope`]).
    pub notes: Vec<String>,
    /// 0 clean, 1 drift or quarantine, 130 interrupted.
    pub exit_code: i32,
}

/// What [`build`] needs.
pub struct Inputs<'a> {
    /// The PATCH dialect the engine spoke (Okta's, or Entra's with or without `aadOptscim062020`).
    pub dialect: Dialect,
    /// The options the run was started with.
    pub opts: &'a SimOptions,
    /// The source directory that was provisioned.
    pub model: &'a Model,
    /// The engine after its cycles: its counters, journal and the ids the server assigned.
    pub engine: &'a Engine,
    /// How long building the model took, in seconds.
    pub model_seconds: f64,
    /// How long the provisioning cycles took (wall time).
    pub provisioning: Duration,
    /// How long reading the server back and comparing took (wall time).
    pub reconcile_time: Duration,
    /// The comparison of the server's final state with the source directory.
    pub reconciliation: Reconciliation,
    /// The process's CPU time (user + system) for the whole run, where the platform reports it.
    pub cpu: Option<Duration>,
    /// Whether the run was interrupted (Ctrl-C).
    pub interrupted: bool,
    /// What the target's discovery left out of the simulation ([`super::scope::Scope::notes`]).
    pub notes: Vec<String>,
}

/// Process CPU time (user + system) from `/proc/self/stat`, where there is one.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Assembles the report.
pub fn build(i: Inputs<'_>) -> SimReport {
    let stats = &i.engine.http.stats;
    let mut by_kind = BTreeMap::new();
    let mut latency = BTreeMap::new();
    let mut operations = 0;
    let mut provisioning_ops = 0;
    for k in OpKind::ALL {
        let h = stats.histogram(k);
        if h.is_empty() {
            continue;
        }
        let n = h.len();
        operations += n;
        if k != OpKind::ReconcileRead {
            provisioning_ops += n;
        }
        by_kind.insert(k.name().to_string(), n);
        let ms = |v: u64| (v as f64) / 1000.0;
        latency.insert(
            k.name().to_string(),
            Latency {
                count: n,
                p50: ms(h.value_at_quantile(0.5)),
                p90: ms(h.value_at_quantile(0.9)),
                p99: ms(h.value_at_quantile(0.99)),
                max: ms(h.max()),
            },
        );
    }
    let elapsed = i.provisioning.as_secs_f64();
    let compliance = stats.compliance.lock().expect("not poisoned").clone();
    let mut q = quarantine(i.dialect, &i.engine.cycles, &compliance);
    let exit_code = if i.interrupted {
        q = Quarantine {
            would_quarantine: false,
            reason: format!("not judged: the run was {}", crate::simulate::interrupt::INTERRUPTED),
        };
        crate::simulate::interrupt::EXIT_INTERRUPTED
    } else {
        let r = &i.reconciliation;
        let paging = i.engine.cycles.iter().any(|c| c.paging_defect.is_some());
        i32::from(q.would_quarantine || r.drift > 0 || r.unverified > 0 || r.read_error.is_some() || paging)
    };
    let own_ns = stats.own_ns.load(std::sync::atomic::Ordering::Relaxed) as f64;
    let timeline = stats.timeline.lock().expect("not poisoned");
    SimReport {
        idp: idp_name(i.dialect),
        dialect: i.dialect.to_string(),
        target: i.opts.target_label.clone(),
        users: i.model.users.len(),
        groups: i.model.groups.len(),
        operations,
        operations_by_kind: by_kind,
        elapsed_seconds: elapsed,
        requests_per_second: provisioning_ops as f64 / elapsed.max(1e-9),
        reconcile_seconds: i.reconcile_time.as_secs_f64(),
        model_seconds: i.model_seconds,
        latency_ms: latency,
        errors: stats.errors.lock().expect("not poisoned").iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        errors_by_scim_type: stats.scim_types.lock().expect("not poisoned").clone(),
        retries: stats.retries.lock().expect("not poisoned").clone(),
        backoff_seconds: stats.backoff_ms.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0,
        cycles: i.engine.cycles.clone(),
        bucket_seconds: timeline.bucket_seconds(),
        requests_per_bucket: timeline.counts().to_vec(),
        throughput_per_second: timeline
            .counts()
            .iter()
            .map(|c| (*c as f64 / timeline.bucket_seconds() * 10.0).round() / 10.0)
            .collect(),
        latency_over_time: latency_over_time(timeline.latency(), timeline.bucket_seconds()),
        simulator_micros_per_request: own_ns / 1000.0 / operations.max(1) as f64,
        process_cpu_micros_per_request: i.cpu.map(|c| c.as_secs_f64() * 1e6 / operations.max(1) as f64),
        quarantine: q,
        reconciliation: i.reconciliation,
        interrupted: i.interrupted,
        notes: i.notes,
        exit_code,
        examples_per_kind: 5,
    }
}

impl SimReport {
    /// The terminal summary.
    pub fn human(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "scimcheck simulate: {} against {}", self.dialect, self.target);
        let _ = writeln!(o, "source: {} users, {} groups", self.users, self.groups);
        for n in &self.notes {
            let _ = writeln!(o, "note: {n}");
        }
        for c in &self.cycles {
            let what = if c.cycle == 0 {
                "initial".to_string()
            } else if c.retry_only {
                "retry of failed operations".to_string()
            } else {
                let ch: Vec<String> = c.changes.iter().map(|(k, v)| format!("{k} {v}")).collect();
                format!("incremental ({})", ch.join(", "))
            };
            let _ = writeln!(
                o,
                "cycle {}: {what}: {} object operations ({} failed), {} reference updates ({} failed), {:.2} s",
                c.cycle,
                c.object_operations,
                c.object_failures,
                c.reference_operations,
                c.reference_failures,
                c.seconds
            );
            if c.not_sent > 0 {
                let _ = writeln!(
                    o,
                    "  {} operation(s) not sent: Ctrl-C stopped them before they completed (not counted as failed)",
                    c.not_sent
                );
            }
            if let Some(why) = &c.paging_defect {
                let _ = writeln!(o, "  import stopped: {why}");
            }
        }
        let _ = writeln!(
            o,
            "\n{} requests in {:.2} s: {:.0} requests/s; read-back {:.2} s; simulator's own time {:.1} µs/request{}",
            self.operations,
            self.elapsed_seconds,
            self.requests_per_second,
            self.reconcile_seconds,
            self.simulator_micros_per_request,
            self.process_cpu_micros_per_request.map(|c| format!(", process CPU {c:.0} µs/request")).unwrap_or_default()
        );
        let _ = writeln!(
            o,
            "\n{:<16} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "kind", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for (k, l) in &self.latency_ms {
            let _ = writeln!(o, "{k:<16} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}", l.count, l.p50, l.p90, l.p99, l.max);
        }
        if !self.errors.is_empty() {
            let e: Vec<String> = self
                .errors
                .iter()
                .map(|(k, v)| if k == "0" { format!("no answer ×{v}") } else { format!("{k} ×{v}") })
                .collect();
            let _ = writeln!(o, "\nerrors by status: {}", e.join(", "));
            if !self.errors_by_scim_type.is_empty() {
                let t: Vec<String> = self.errors_by_scim_type.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
                let _ = writeln!(o, "errors by scimType: {}", t.join(", "));
            }
        }
        if !self.retries.is_empty() {
            let r: Vec<String> = self.retries.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
            let _ = writeln!(o, "retries: {} (back-off honoured: {:.1} s)", r.join(", "), self.backoff_seconds);
        }
        let _ = writeln!(
            o,
            "\nquarantine: {} — {}",
            if self.quarantine.would_quarantine { "WOULD QUARANTINE" } else { "no" },
            self.quarantine.reason
        );
        let r = &self.reconciliation;
        match &r.read_error {
            // a failed read-back is its own verdict: the objects it could not read are not "missing"
            Some(e) => {
                let _ = writeln!(o, "reconciliation: could not read back: {e}");
                let _ = writeln!(
                    o,
                    "reconciliation: {} object(s) could not be verified; {} difference(s) among the objects read",
                    r.unverified, r.drift
                );
            }
            None => {
                let _ = writeln!(o, "{}", super::differences::checked_line(r));
            }
        }
        if r.strangers > 0 {
            let _ = writeln!(
                o,
                "reconciliation: {} object(s) on the server were not the simulator's (no source object matches them \
                 and this run did not create them) and were left out; --strict-extra reports them as extra",
                r.strangers
            );
        }
        o.push_str(&super::differences::summary(r, self.examples_per_kind));
        let verdict = if self.interrupted {
            "INTERRUPTED (Ctrl-C): partial figures, no read-back, nothing judged"
        } else if self.reconciliation.read_error.is_some() {
            "NOT CLEAN: could not read back"
        } else if self.exit_code == 0 {
            "clean: OK"
        } else {
            "NOT CLEAN"
        };
        let _ = writeln!(o, "\n{verdict}");
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::{EntraDialect, OktaAppKind};

    fn cycle(ops: u64, failed: u64, refs_failed: u64) -> CycleFigures {
        CycleFigures {
            object_operations: ops,
            object_failures: failed,
            reference_failures: refs_failed,
            ..Default::default()
        }
    }

    #[test]
    fn latency_over_time_skips_empty_seconds_and_orders_percentiles() {
        let mut secs: Vec<hdrhistogram::Histogram<u32>> =
            (0..3).map(|_| hdrhistogram::Histogram::new(2).unwrap()).collect();
        for us in [1_000, 2_000, 3_000, 100_000] {
            secs[0].record(us).unwrap();
        }
        secs[2].record(5_000).unwrap();
        let points = latency_over_time(&secs, 0.5);
        assert_eq!(points.iter().map(|p| p.bucket).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(points[1].at_seconds, 1.0);
        assert_eq!(points[0].requests, 4);
        assert!((points[0].p50_ms - 2.0).abs() < 0.05, "{:?}", points[0]);
        assert!((points[0].max_ms - 100.0).abs() < 1.0, "{:?}", points[0]);
        assert!(points[0].p50_ms <= points[0].p99_ms && points[0].p99_ms <= points[0].max_ms);
        assert!((points[1].p50_ms - 5.0).abs() < 0.05, "{:?}", points[1]);
    }

    #[test]
    fn entra_quarantines_by_proportion_only_from_5000_failures() {
        let e = Dialect::Entra(EntraDialect::Default);
        assert!(!quarantine(e, &[cycle(100, 90, 0)], &[]).would_quarantine, "under 5,000 failures: not evaluated");
        let q = quarantine(e, &[cycle(10_000, 4_100, 1_000)], &[]);
        assert!(q.would_quarantine && q.reason.contains("EncounteredEscrowProportionThreshold"), "{}", q.reason);
        assert!(!quarantine(e, &[cycle(100_000, 5_000, 0)], &[]).would_quarantine, "5 % failed");
        assert!(quarantine(e, &[cycle(200_000, 41_000, 0)], &[]).would_quarantine, "more than 40,000 failures");
        assert!(quarantine(e, &[cycle(200_000, 30_000, 31_000)], &[]).would_quarantine, "more than 60,000 in all");
        let q = quarantine(e, &[cycle(10, 0, 0)], &["the server rejected the credentials (HTTP 401)".into()]);
        assert!(q.would_quarantine && q.reason.contains("EncounteredQuarantineException"));
        assert!(
            !quarantine(Dialect::Okta(OktaAppKind::Oin), &[cycle(10_000, 9_000, 0)], &["x".into()]).would_quarantine
        );
    }
}
