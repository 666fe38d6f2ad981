//! `scimcheck simulate`: drives a SCIM server the way Okta's and Entra's provisioning engines do — an initial
//! cycle, incremental cycles with churn, bounded concurrency and rate, the IdPs' retry rules — and then proves
//! nothing was lost by reading the server back and reconciling it with the source directory.
//!
//! - [`model`]: the source directory (generated from a seed, or loaded from a file) and its churn;
//! - [`engine`]: cycles, phases, retries, statistics and the request journal;
//! - [`reconcile`]: the read-back and the differences;
//! - [`report`]: the summary, the JSON report and the quarantine verdict.
//!
//! How each IdP shapes its requests lives in [`crate::idp`], shared with the recorder.

pub mod backoff;
pub mod cli;
mod difference;
pub mod differences;
pub mod engine;
pub mod entitlements;
pub mod http;
pub mod import_paging;
pub mod interrupt;
pub mod journal;
pub mod manager_tree;
pub mod model;
mod packed_attrs;
mod page;
pub mod preflight;
mod read_attrs;
pub mod reconcile;
#[cfg(test)]
mod reconcile_equivalence;
pub mod report;
pub mod scope;
mod server_user;
pub mod timeline;
mod user_match;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::idp::Dialect;

use crate::target::Target;
pub use http::EngineOptions;
pub use report::SimReport;

/// Where the source directory comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Generated from a seed.
    Generated {
        /// Seed.
        seed: u64,
        /// Users.
        users: usize,
        /// Groups.
        groups: usize,
    },
    /// Loaded from a directory export.
    File(PathBuf),
}

/// Everything a simulation needs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// The source directory.
    pub source: Source,
    /// Engine settings (dialect, concurrency, rate, timeout, chunk, retries).
    pub engine: EngineOptions,
    /// Incremental cycles after the initial one.
    pub cycles: u16,
    /// Fraction of users changed per incremental cycle (also the share whose roles and entitlements are
    /// reassigned, with `entitlements`).
    pub churn: f64,
    /// Okta: roles and entitlements in the IdP's catalogue, each (`--entitlements N`; 0: none).
    pub entitlements: usize,
    /// Retry-only cycles after the last one while failures remain.
    pub escrow_retries: u16,
    /// Differences listed at most (all are counted).
    pub max_differences: usize,
    /// A description of the target for the report (never a credential).
    pub target_label: String,
    /// `--strict-extra`: report every server object the source does not hold as extra, not only those this
    /// run created.
    pub strict_extra: bool,
}

/// The source directory of `opts`: generated from the seed, or loaded from the export file (errors name the
/// file and what is wrong in it).
pub fn build_model(opts: &SimOptions) -> Result<model::Model, String> {
    let style = if opts.engine.dialect.is_entra() { model::IdStyle::Guid } else { model::IdStyle::Okta };
    let mut m = match &opts.source {
        Source::Generated { seed, users, groups } => model::Model::generate(*seed, *users, *groups, style),
        Source::File(p) => model::Model::load(p, style)?,
    };
    if opts.entitlements > 0 {
        m.catalogue = Some(std::sync::Arc::new(entitlements::SimCatalogue::generated(opts.entitlements)));
    }
    Ok(m)
}

/// Runs a whole simulation against `target`.
pub async fn run(target: Target, opts: SimOptions) -> Result<SimReport, String> {
    run_interruptible(target, opts, interrupt::Interrupt::default()).await
}

/// [`run`], stopped by `interrupt` (Ctrl-C): no request starts once it is set, the ones in flight are
/// abandoned, no further cycle and no read-back runs, and the report says it is partial (exit code 130).
pub async fn run_interruptible(
    target: Target,
    opts: SimOptions,
    interrupt: interrupt::Interrupt,
) -> Result<SimReport, String> {
    let t_model = Instant::now();
    let mut model = build_model(&opts)?;
    let model_seconds = t_model.elapsed().as_secs_f64();
    let cpu0 = report::process_cpu();
    // what the target implements, read before the first provisioning request
    let scope = scope::discover(&target, opts.engine.timeout, &opts.engine.tls, model.groups.len()).await;
    model.restrict(&scope);
    let mut http = http::Http::new(target, opts.engine.clone())?;
    http.interrupt = interrupt.clone();
    http.scope = scope.clone();
    let mut eng = engine::Engine::new(http);
    let started = Instant::now();
    model.start_cycle();
    eng.cycle(&model, 0, false, BTreeMap::new()).await;
    for c in (1..=opts.cycles).take_while(|_| !interrupt.is_set()) {
        let mut changes: BTreeMap<String, u64> = BTreeMap::new();
        for ch in model.churn(opts.churn) {
            let name = serde_json::to_value(ch.kind).ok().and_then(|v| v.as_str().map(str::to_string));
            *changes.entry(name.unwrap_or_default()).or_default() += 1;
        }
        let seed = match opts.source {
            Source::Generated { seed, .. } => seed,
            Source::File(_) => 1,
        };
        let reassigned = model.reassign_grants(opts.churn, seed, c);
        if reassigned > 0 {
            changes.insert("entitlementsReassigned".into(), reassigned);
        }
        model.start_cycle();
        eng.cycle(&model, c, false, changes).await;
    }
    let mut extra = 0;
    while eng.has_escrow() && extra < opts.escrow_retries && !interrupt.is_set() {
        extra += 1;
        eng.cycle(&model, opts.cycles + extra, true, BTreeMap::new()).await;
    }
    let provisioning = started.elapsed();
    let rec_started = Instant::now();
    let reconciliation = if interrupt.is_set() {
        reconcile::Reconciliation {
            checked: 0,
            counted: Default::default(),
            drift: 0,
            differences: Vec::new(),
            by_kind: Default::default(),
            unverified: 0,
            strangers: 0,
            read_error: Some(format!("not run: {}", interrupt::INTERRUPTED)),
        }
    } else {
        let scope = reconcile::ExtraScope { strict: opts.strict_extra, created: eng.created_ids() };
        reconcile::reconcile(&eng.http, &model, &|i| eng.ever_provisioned(i), opts.max_differences, &scope).await
    };
    let reconcile_time = rec_started.elapsed();
    let cpu = report::process_cpu().zip(cpu0).map(|(a, b)| a.saturating_sub(b));
    Ok(report::build(report::Inputs {
        dialect: opts.engine.dialect,
        opts: &opts,
        model: &model,
        engine: &eng,
        model_seconds,
        provisioning,
        reconcile_time,
        reconciliation,
        cpu,
        interrupted: interrupt.is_set(),
        notes: scope.notes,
    }))
}

/// Parses `5%` or `0.05` into a fraction in [0, 1].
pub fn parse_churn(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| format!("--churn '{s}' is not a percentage such as 5% or a fraction such as 0.05"))?;
    if !(0.0..=1.0).contains(&v) || !v.is_finite() {
        return Err(format!("--churn '{s}' must be between 0% and 100%"));
    }
    Ok(v)
}

/// A dialect's default chunk (membership changes per request).
pub fn default_chunk(_d: Dialect) -> usize {
    crate::idp::OKTA_DEFAULT_CHUNK
}

/// The default per-request timeout: Okta's 60 s (docs/okta.md §3). Entra publishes none (docs/engines.md §E) and gets
/// the same.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
