//! The IdP simulator against the reference server: clean runs for every dialect, and the faults it must find
//! (a fault layer around the server, `support/sim_faults.rs`): each must give a non-zero verdict naming the
//! right objects, or — where the engine's retries must recover — a clean reconciliation.

#[path = "support/sim_faults.rs"]
mod sim_faults;

use std::sync::atomic::Ordering;
use std::time::Duration;

use scimcheck::credential::Credential;
use scimcheck::idp::{Dialect, EntraDialect, OktaAppKind};
use scimcheck::profile::AuthStyle;
use scimcheck::simulate::reconcile::DiffKind;
use scimcheck::simulate::{self, EngineOptions, SimOptions, SimReport, Source};
use scimcheck::target::Target;
use sim_faults::SimFault;

const ENTRA: Dialect = Dialect::Entra(EntraDialect::Default);
const ENTRA_OPT: Dialect = Dialect::Entra(EntraDialect::AadOptscim062020);
const OKTA: Dialect = Dialect::Okta(OktaAppKind::Oin);
const OKTA_AIW: Dialect = Dialect::Okta(OktaAppKind::Aiw);

struct Run {
    dialect: Dialect,
    users: usize,
    groups: usize,
    seed: u64,
    cycles: u16,
    churn: f64,
    chunk: usize,
    concurrency: usize,
}

impl Run {
    fn new(dialect: Dialect) -> Run {
        Run { dialect, users: 120, groups: 6, seed: 5, cycles: 0, churn: 0.1, chunk: 100, concurrency: 8 }
    }
}

/// The target (the layer's tenant app for the run's IdP) and the options of `run`.
fn target_and_options(s: &sim_faults::FaultyServer, run: &Run) -> (Target, SimOptions) {
    let app = if run.dialect.is_entra() {
        scim_reference_server::tenant::AppKind::Azure
    } else {
        scim_reference_server::tenant::AppKind::Okta
    };
    let ep = s.server.endpoint("acme", app).cloned().expect("the app exists");
    let target = Target::new(ep.base_url.clone(), ep.token.clone().map(Credential::Token).unwrap_or_default());
    let opts = SimOptions {
        source: Source::Generated { seed: run.seed, users: run.users, groups: run.groups },
        engine: EngineOptions {
            dialect: run.dialect,
            concurrency: run.concurrency,
            rate: None,
            timeout: Duration::from_secs(20),
            chunk: run.chunk,
            max_attempts: 10,
            max_wait: Some(Duration::from_secs(2)),
            progress: false,
            tls: Default::default(),
        },
        cycles: run.cycles,
        churn: run.churn,
        entitlements: 0,
        escrow_retries: 4,
        max_differences: 1000,
        target_label: "faulty reference server".into(),
        strict_extra: false,
    };
    (target, opts)
}

async fn simulate(fault: SimFault, run: Run) -> (SimReport, std::sync::Arc<sim_faults::Observed>) {
    let s = sim_faults::spawn(fault).await;
    let (target, opts) = target_and_options(&s, &run);
    let report = simulate::run(target, opts).await.expect("the simulation runs");
    show(&report);
    let seen = s.seen.clone();
    s.server.shutdown().await;
    (report, seen)
}

fn kinds(r: &SimReport) -> Vec<DiffKind> {
    r.reconciliation.differences.iter().map(|d| d.kind).collect()
}

fn summary(r: &SimReport) -> String {
    r.human()
}

/// A user-only server (no Group resource type, no enterprise extension in `/ResourceTypes`, RFC 7643 §6): the
/// simulator reads discovery before provisioning and sends neither a `/Groups` request nor an enterprise
/// attribute (each would be refused and counted), reconciles cleanly, and says once what it left out.
#[tokio::test]
async fn a_user_only_server_gets_no_groups_and_no_enterprise_attributes_and_the_summary_says_so() {
    for dialect in [ENTRA, OKTA] {
        let (r, seen) =
            simulate(SimFault::UserOnly, Run { users: 40, groups: 4, cycles: 1, churn: 0.2, ..Run::new(dialect) })
                .await;
        assert_eq!(seen.injected.load(Ordering::SeqCst), 0, "{dialect:?}: a /Groups or enterprise request was sent");
        assert_eq!(r.reconciliation.read_error, None, "{dialect:?}");
        assert_eq!(r.reconciliation.drift, 0, "{dialect:?}: {:?}", r.reconciliation.differences);
        assert!(r.reconciliation.checked > 0, "{dialect:?}");
        assert_eq!(r.exit_code, 0, "{dialect:?}: {}", summary(&r));
        let text = summary(&r);
        assert_eq!(text.matches("groups not provisioned").count(), 1, "{text}");
        assert!(text.contains("4 group(s) of the source directory"), "{text}");
        assert_eq!(text.matches("enterprise attributes not provisioned").count(), 1, "{text}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["notes"].as_array().map(Vec::len), Some(2), "{}", json["notes"]);
    }
}

/// `SCIMCHECK_SIM_VERBOSE=1 cargo test --test simulate -- --nocapture` prints each run's summary.
fn show(r: &SimReport) {
    if std::env::var_os("SCIMCHECK_SIM_VERBOSE").is_some() {
        println!("{}", r.human());
    }
}

/// Heavy churn makes several changes to one user within a cycle: an edit or a rename and then an unassignment
/// (the engine only disables it, so the server keeps the old profile), a hire and then an unassignment (never
/// provisioned). None of that is drift. These seeds each produced such false differences before.
#[tokio::test]
async fn changes_that_meet_on_one_user_within_a_cycle_are_not_reported_as_drift() {
    for (dialect, seed) in [(OKTA, 3), (OKTA, 7), (ENTRA, 9)] {
        let run = Run { users: 300, groups: 10, seed, cycles: 3, churn: 0.4, concurrency: 16, ..Run::new(dialect) };
        let (r, _) = simulate(SimFault::None, run).await;
        assert_eq!(r.reconciliation.drift, 0, "{dialect} seed {seed}:\n{}", summary(&r));
        assert_eq!(r.exit_code, 0);
    }
}

#[tokio::test]
async fn every_dialect_provisions_cleanly_through_incremental_cycles() {
    for dialect in [ENTRA, ENTRA_OPT, OKTA, OKTA_AIW] {
        let (r, seen) = simulate(SimFault::None, Run { cycles: 3, churn: 0.15, chunk: 7, ..Run::new(dialect) }).await;
        assert_eq!(r.exit_code, 0, "{dialect}:\n{}", summary(&r));
        assert_eq!(r.reconciliation.drift, 0);
        assert!(!r.quarantine.would_quarantine);
        assert_eq!(seen.injected.load(Ordering::SeqCst), 0);
        // every change kind happened over the three cycles
        let changes: std::collections::BTreeSet<&String> = r.cycles.iter().flat_map(|c| c.changes.keys()).collect();
        assert!(changes.len() >= 9, "{dialect}: {changes:?}");
        // the report carries the fields the JSON promises
        let j = serde_json::to_value(&r).unwrap();
        for f in
            ["operations", "elapsedSeconds", "requestsPerSecond", "latencyMs", "errors", "quarantine", "reconciliation"]
        {
            assert!(j.get(f).is_some(), "{f} missing");
        }
        assert!(j["latencyMs"]["userCreate"]["p99"].as_f64().unwrap() > 0.0);
        assert_eq!(j["reconciliation"]["checked"].as_u64().unwrap() as usize, r.reconciliation.checked);
        // what was compared adds up, per side and kind, in the JSON and the terminal line
        let c = &j["reconciliation"]["counted"];
        let part = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("counted.{k}: {c}")) as usize;
        let (su, sg, vu, vg) = (part("sourceUsers"), part("sourceGroups"), part("serverUsers"), part("serverGroups"));
        assert_eq!(su + sg + vu + vg, r.reconciliation.checked, "{c}");
        assert!(su > 0 && vu > 0, "{c}");
        // a clean run: every source user on the server but those out of scope the engine never provisioned and
        // those it deleted
        let np = part("expectedAbsent");
        assert_eq!(vu + np, su, "{c}");
        let text = summary(&r);
        let absent = if np == 0 {
            String::new()
        } else {
            format!(" ({np} not expected on the server: out of scope, or deleted)")
        };
        assert!(
            text.contains(&format!(
                "reconciliation: {su} source user(s){absent} and {sg} group(s) compared with {vu} user(s)"
            )),
            "{text}"
        );
        if dialect.is_entra() {
            assert!(r.operations_by_kind["managerUpdate"] > 100, "Entra sends managers");
        } else {
            assert!(r.operations_by_kind.contains_key("importPage"), "Okta imports");
            assert!(!r.operations_by_kind.contains_key("managerUpdate"));
        }
    }
}

#[tokio::test]
async fn racing_membership_patches_that_lose_an_update_are_found() {
    let (r, seen) = simulate(SimFault::RacingMembershipLostUpdate, Run { chunk: 2, ..Run::new(ENTRA) }).await;
    assert!(seen.injected.load(Ordering::SeqCst) > 0);
    assert_eq!(r.exit_code, 1, "{}", summary(&r));
    let missing: Vec<_> = r.reconciliation.differences.iter().filter(|d| d.kind == DiffKind::MissingMember).collect();
    assert!(!missing.is_empty(), "{}", summary(&r));
    for d in &missing {
        assert!(d.object.starts_with("Group "), "{}", d.object);
        assert_eq!(d.attribute.as_deref(), Some("members"));
        assert!(d.expected["value"].is_string() && d.actual.is_null());
        assert!(d.requests.iter().any(|q| q.contains("PATCH /Groups/")), "{:?}", d.requests);
    }
    assert!(kinds(&r).iter().all(|k| *k == DiffKind::MissingMember), "only memberships were lost: {:?}", kinds(&r));
}

#[tokio::test]
async fn an_add_that_replaces_the_member_list_is_found_for_entra_and_okta() {
    for dialect in [ENTRA, OKTA] {
        let (r, _) =
            simulate(SimFault::AddReplacesMembers, Run { chunk: 5, concurrency: 1, ..Run::new(dialect) }).await;
        assert_eq!(r.exit_code, 1, "{dialect}: {}", summary(&r));
        let k = kinds(&r);
        assert!(!k.is_empty() && k.iter().all(|k| *k == DiffKind::MissingMember), "{dialect}: {k:?}");
        // the largest group (30 members, chunks of 5) keeps only its last chunk
        let g0 = r.reconciliation.differences.iter().filter(|d| d.object == r.reconciliation.differences[0].object);
        assert!(g0.count() >= 5, "{}", summary(&r));
    }
}

#[tokio::test]
async fn an_acknowledged_deactivation_that_is_not_applied_is_found() {
    let (r, seen) = simulate(SimFault::DeactivationNotApplied, Run { cycles: 2, churn: 0.2, ..Run::new(ENTRA) }).await;
    let unassigned: u64 = r.cycles.iter().filter_map(|c| c.changes.get("unassign")).sum();
    assert!(unassigned > 0, "the churn unassigned someone");
    assert!(seen.injected.load(Ordering::SeqCst) > 0);
    assert_eq!(r.exit_code, 1, "{}", summary(&r));
    let active: Vec<_> = r.reconciliation.differences.iter().filter(|d| d.kind == DiffKind::Active).collect();
    assert!(!active.is_empty(), "{}", summary(&r));
    for d in &active {
        assert!(d.object.starts_with("User "));
        assert_eq!((d.expected.clone(), d.actual.clone()), (serde_json::json!(false), serde_json::json!(true)));
        assert!(d.requests.iter().any(|q| q.contains("PATCH /Users/") && q.ends_with("→ 200")), "{:?}", d.requests);
    }
}

#[tokio::test]
async fn a_filter_that_misses_inactive_users_leads_to_duplicates_that_are_found() {
    let (r, seen) = simulate(SimFault::FilterMissesInactive, Run { cycles: 4, churn: 0.25, ..Run::new(ENTRA) }).await;
    assert!(seen.injected.load(Ordering::SeqCst) > 0, "an inactive user was looked up again");
    assert_eq!(r.exit_code, 1, "{}", summary(&r));
    let dups: Vec<_> = r.reconciliation.differences.iter().filter(|d| d.kind == DiffKind::Duplicate).collect();
    assert!(!dups.is_empty(), "{}", summary(&r));
    for d in &dups {
        assert!(d.object.starts_with("User "));
        assert!(d.actual.as_array().is_some_and(|ids| ids.len() == 2), "two server users: {}", d.actual);
        assert!(d.requests.iter().any(|q| q.contains("POST /Users")), "{:?}", d.requests);
    }
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_nothing_is_lost() {
    let (r, seen) = simulate(SimFault::Storm429, Run::new(ENTRA)).await;
    assert_eq!(seen.injected.load(Ordering::SeqCst), 16);
    assert_eq!(r.retries.get("429"), Some(&16), "{}", summary(&r));
    assert_eq!(seen.during_backoff.load(Ordering::SeqCst), 0, "Entra pauses the whole job for Retry-After");
    assert!(r.backoff_seconds >= 1.0);
    assert_eq!(r.exit_code, 0, "{}", summary(&r));
    assert!(!r.quarantine.would_quarantine);
}

/// A `Retry-After` of the largest `u64`, twice on one request, used to crash the simulator
/// ("overflow when adding duration to instant"; Okta's doubling of the previous wait overflowed too); each wait
/// is capped at `--max-wait` (0.25 s here), the request is retried and nothing is lost, for both engines.
#[tokio::test]
async fn a_retry_after_beyond_any_clock_is_capped_and_the_run_completes() {
    for dialect in [ENTRA, OKTA] {
        let s = sim_faults::spawn(SimFault::HugeRetryAfter).await;
        let run = Run { users: 30, groups: 2, concurrency: 1, ..Run::new(dialect) };
        let (target, mut opts) = target_and_options(&s, &run);
        opts.engine.max_wait = Some(Duration::from_millis(250));
        let r = simulate::run(target, opts).await.expect("the simulation runs");
        assert_eq!(s.seen.injected.load(Ordering::SeqCst), 2);
        assert_eq!(r.retries.get("429"), Some(&2), "{}", summary(&r));
        assert_eq!(r.backoff_seconds, 0.5, "each wait is the --max-wait cap: {}", summary(&r));
        assert_eq!(r.exit_code, 0, "{}", summary(&r));
        s.server.shutdown().await;
    }
}

#[tokio::test]
async fn every_tenth_write_failing_with_500_is_retried_in_later_cycles() {
    for dialect in [ENTRA, OKTA] {
        let (r, seen) = simulate(SimFault::Writes5xx, Run { cycles: 1, ..Run::new(dialect) }).await;
        assert!(seen.injected.load(Ordering::SeqCst) > 10);
        assert!(r.errors.get("500").is_some_and(|n| *n > 10), "{}", summary(&r));
        assert!(r.cycles.iter().any(|c| c.retry_only), "failed objects were retried in a later cycle");
        assert_eq!(r.exit_code, 0, "{dialect}: {}", summary(&r));
        assert_eq!(r.reconciliation.drift, 0);
        assert!(!r.quarantine.would_quarantine);
    }
}

/// A user whose create failed and that then left scope before the next cycle was never provisioned: the engine
/// neither retries nor disables it, so its absence is no drift. A user that was provisioned and then left scope
/// is still judged (it must be there, inactive). Writes go one at a time, so the failing ones are the same in
/// every run.
#[tokio::test]
async fn a_user_whose_create_failed_and_that_left_scope_is_not_expected_on_the_server() {
    use scim_reference_server::directory::ListQuery;
    use scim_reference_server::schema::ResourceKind;
    use scimcheck::simulate::{engine, model, reconcile};
    for dialect in [ENTRA, OKTA] {
        let s = sim_faults::spawn(SimFault::Writes5xx).await;
        let run = Run { users: 40, groups: 2, concurrency: 1, ..Run::new(dialect) };
        let (target, opts) = target_and_options(&s, &run);
        let style = if dialect.is_entra() { model::IdStyle::Guid } else { model::IdStyle::Okta };
        let mut m = model::Model::generate(run.seed, run.users, run.groups, style);
        let mut eng = engine::Engine::new(engine::Http::new(target, opts.engine).unwrap());
        m.start_cycle();
        eng.cycle(&m, 0, false, Default::default()).await;
        // User 0 is the root of the manager tree and never unassigned; some generated users start unassigned.
        let all: Vec<u32> = (1..m.users.len() as u32).filter(|&i| m.users[i as usize].assigned).collect();
        let failed = *all.iter().find(|&&i| !eng.ever_provisioned(i)).expect("a create failed");
        let pushed = *all.iter().find(|&&i| eng.ever_provisioned(i)).expect("a create succeeded");
        for i in [failed, pushed] {
            m.users[i as usize].assigned = false;
        }
        m.start_cycle();
        for c in 1..=4 {
            eng.cycle(&m, c, c > 1, Default::default()).await;
        }
        assert!(!eng.has_escrow(), "the other failures were retried");
        let r = reconcile::reconcile(&eng.http, &m, &|i| eng.ever_provisioned(i), 100, &Default::default()).await;
        assert!(s.seen.injected.load(Ordering::SeqCst) > 0);
        assert_eq!(r.drift, 0, "{dialect}: {:#?}", r.differences);
        // The failed user never reached the server; the provisioned one is there and inactive.
        let names = |i: u32| m.users[i as usize].user_name.to_string();
        let on_server = |i: u32| {
            let filter = Some(format!("userName eq \"{}\"", names(i)));
            let page = s.server.directory.list(&[ResourceKind::User], &ListQuery { filter, ..Default::default() });
            let found = page.expect("the filter is valid").resources;
            assert!(found.len() <= 1, "{found:?}");
            found.first().map(|(_, u)| u["active"] == serde_json::json!(true))
        };
        assert_eq!(on_server(failed), None, "{dialect}");
        assert_eq!(on_server(pushed), Some(false), "{dialect}");
        s.server.shutdown().await;
    }
}

#[tokio::test]
async fn a_404_on_a_query_makes_entra_quarantine_at_once() {
    let (r, _) = simulate(SimFault::NoMatch404, Run { users: 20, groups: 2, ..Run::new(ENTRA) }).await;
    assert!(r.quarantine.would_quarantine, "{}", summary(&r));
    assert!(r.quarantine.reason.contains("404"), "{}", r.quarantine.reason);
    assert_eq!(r.exit_code, 1);
}

/// A read-back page over the simulator's 64 MiB limit is not read on: the reconciliation says why it stopped,
/// and the run is not clean.
#[tokio::test]
async fn a_read_back_page_over_the_body_limit_stops_the_read_back_with_its_reason() {
    let (r, seen) = simulate(SimFault::HugePage, Run { users: 20, groups: 2, ..Run::new(ENTRA) }).await;
    assert_eq!(seen.injected.load(Ordering::SeqCst), 1, "read once: only a refused parameter is asked again");
    let why = r.reconciliation.read_error.clone().unwrap_or_default();
    assert!(why.contains("larger than 64 MiB"), "{why}");
    assert_eq!(r.exit_code, 1, "{}", summary(&r));
}

/// The read-back asks user pages without their derived `groups`; a server that refuses `excludedAttributes`
/// is read again without it, and the run is still clean.
#[tokio::test]
async fn a_server_refusing_excluded_attributes_is_read_back_without_them() {
    // Okta's engine sends no excludedAttributes of its own, so every refusal is the read-back's.
    let (r, seen) = simulate(SimFault::RefusesExcludedAttributes, Run { users: 30, groups: 3, ..Run::new(OKTA) }).await;
    assert_eq!(seen.injected.load(Ordering::SeqCst), 1, "one refused page, then none asked with it");
    assert!(r.reconciliation.read_error.is_none(), "{:?}", r.reconciliation.read_error);
    assert_eq!(r.reconciliation.drift, 0, "{}", summary(&r));
    assert_eq!(r.exit_code, 0, "{}", summary(&r));
}

fn page_text(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(args)
        .env_remove("SCIMCHECK_TOKEN")
        .env_remove("SCIMCHECK_AUTH_HEADER")
        .output()
        .expect("the binary runs")
}

#[test]
fn the_command_line_runs_against_the_reference_server_and_writes_json() {
    let json =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-sim-{}.json", std::process::id()));
    let html =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-sim-{}.html", std::process::id()));
    let out = cli(&[
        "simulate",
        "--idp",
        "okta",
        "--reference",
        "--users",
        "40",
        "--groups",
        "3",
        "--cycles",
        "1",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("clean: OK") && stdout.contains("userCreate"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["reconciliation"]["drift"], 0);
    assert!(report["operations"].as_u64().unwrap() > 80);
    assert!(!stdout.contains("Bearer"), "no credential in the output");

    // The buckets' width follows the run's length: a run this short (well under 2 s of provisioning) is still
    // charted in at least 10 buckets, and every request is in one of them.
    let width = report["bucketSeconds"].as_f64().unwrap();
    let counts = report["requestsPerBucket"].as_array().unwrap();
    let elapsed = report["elapsedSeconds"].as_f64().unwrap();
    assert!(counts.len() >= 10, "{} bucket(s) of {width} s for a {elapsed} s run", counts.len());
    assert!(width <= elapsed / 10.0, "{width} s buckets for a {elapsed} s run");
    assert_eq!(counts.iter().map(|c| c.as_u64().unwrap()).sum::<u64>(), report["operations"].as_u64().unwrap());
    assert!(page_text(&html).contains(&format!("{} buckets of", counts.len())));
    assert!(!page_text(&html).contains("id=\"too-short\""), "a short run is charted");
    // Latency over time: one point per bucket with requests, on the throughput buckets, percentiles in order.
    let series = report["latencyOverTime"].as_array().expect("latencyOverTime is a list");
    assert!(!series.is_empty(), "{report}");
    let seconds = counts;
    let mut in_buckets = 0;
    for p in series {
        let at = p["bucket"].as_u64().unwrap() as usize;
        assert!((p["atSeconds"].as_f64().unwrap() - at as f64 * width).abs() < 1e-9, "{p}");
        let (p50, p99, max) =
            (p["p50Ms"].as_f64().unwrap(), p["p99Ms"].as_f64().unwrap(), p["maxMs"].as_f64().unwrap());
        assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{p}");
        let requests = p["requests"].as_u64().unwrap();
        assert!(requests <= seconds[at].as_u64().unwrap(), "bucket {at} is a throughput bucket");
        in_buckets += requests;
    }
    let read_back = report["operationsByKind"]["reconcileRead"].as_u64().unwrap();
    assert!(read_back > 0);
    assert_eq!(
        in_buckets,
        report["operations"].as_u64().unwrap() - read_back,
        "every provisioning request is in one latency bucket, the read-back in none"
    );

    let page = scraper::Html::parse_document(&std::fs::read_to_string(&html).unwrap());
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    assert_eq!(page.select(&sel("svg#throughput polyline")).count(), 1);
    for line in ["p50", "p99", "max"] {
        let poly = page
            .select(&sel(&format!("svg#latency-over-time polyline.latency-{line}")))
            .next()
            .unwrap_or_else(|| panic!("the latency chart has a {line} line"));
        let points = poly.value().attr("points").unwrap();
        assert_eq!(points.split_whitespace().count(), series.len(), "{line}: one point per bucket");
    }
    assert!(page.select(&sel("script, link, img")).next().is_none(), "self-contained page");

    // `scimcheck report` detects a simulate JSON and renders the same page from it; JUnit has no form for it
    let again = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-sim-again-{}.html", std::process::id()));
    let out = cli(&["report", "--json", json.to_str().unwrap(), "--html", again.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), std::fs::read_to_string(&html).unwrap());
    std::fs::remove_file(&again).unwrap();
    let out = cli(&["report", "--json", json.to_str().unwrap(), "--junit", again.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no JUnit form"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!again.exists());
    std::fs::remove_file(&json).unwrap();
    std::fs::remove_file(&html).unwrap();
}

/// `--reference` hands requests to the in-process server's router; `--loopback-http` sends them over TCP. The
/// two runs of one seed send the same requests, get the same answers and reconcile the same: every count of the
/// report is equal, and both are clean.
#[test]
fn the_in_process_and_the_loopback_runs_provision_and_reconcile_alike() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let mut reports = Vec::new();
    for (name, extra) in [("direct", None), ("loopback", Some("--loopback-http"))] {
        let json = dir.join(format!("scimcheck-sim-{name}-{}.json", std::process::id()));
        let mut args = vec!["simulate", "--idp", "entra", "--reference", "--users", "120", "--groups", "6"];
        args.extend(["--cycles", "2", "--churn", "20%", "--quiet", "--json", json.to_str().unwrap()]);
        args.extend(extra);
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        std::fs::remove_file(&json).unwrap();
        reports.push(report);
    }
    let (direct, loopback) = (&reports[0], &reports[1]);
    assert_eq!(direct["reconciliation"]["drift"], 0);
    for key in
        ["operations", "operationsByKind", "errors", "errorsByScimType", "retries", "quarantine", "reconciliation"]
    {
        assert_eq!(direct[key], loopback[key], "{key}");
    }
    // each cycle's figures but its duration
    let cycles = |r: &serde_json::Value| {
        let mut c = r["cycles"].as_array().unwrap().clone();
        c.iter_mut().for_each(|c| c.as_object_mut().unwrap().retain(|k, _| k != "seconds"));
        c
    };
    assert_eq!(cycles(direct).len(), 3);
    assert_eq!(cycles(direct), cycles(loopback));
}

/// A server that does not answer at all gets a verdict, not a crash: the run is not clean (exit 1), and the
/// read-back says it got no response rather than an HTTP status of 0.
#[test]
fn a_server_that_does_not_answer_is_not_clean_and_the_read_back_says_why() {
    let json = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-sim-dead-{}.json", std::process::id()));
    let args = ["simulate", "--idp", "okta", "--base-url", "http://127.0.0.1:9/scim", "--users", "3", "--groups", "1"];
    let out = cli(&[&args[..], &["--quiet", "--no-preflight", "--json", json.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let why = report["reconciliation"]["readError"].as_str().unwrap_or_default().to_string();
    assert!(why.contains("GET /Users") && why.ends_with("got no response"), "{why}");
    let _ = std::fs::remove_file(json);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["simulate", "--idp", "entra"][..],
        &["simulate", "--idp", "entra", "--reference", "--churn", "120%"],
        &["simulate", "--idp", "entra", "--reference", "--concurrency", "0"],
        &["simulate", "--idp", "okta", "--reference", "--dialect", "aadOptscim062020"],
        &["simulate", "--idp", "entra", "--base-url", "ftp://x"],
        &["simulate", "--idp", "entra", "--reference", "--directory", "/nonexistent/dir.json"],
        // `azure` is an alias of `entra` (cli::tests); an IdP the simulator does not know is a usage error
        &["simulate", "--idp", "google", "--reference"],
        // rfc is an IdP of the one vocabulary but has no provisioning engine to reproduce
        &["simulate", "--idp", "rfc", "--reference"],
        // no --idp and no settings file naming one
        &["simulate", "--reference", "--config", "/nonexistent/scimcheck.toml"],
        &["simulate", "--reference", "--users", "3"],
        // loopback HTTP is a way to reach the in-process server, not a remote one
        &["simulate", "--idp", "entra", "--base-url", "http://127.0.0.1:9", "--loopback-http"],
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty());
    }
}

/// A credential that cannot be an HTTP header value is a usage error, told without the credential, before any
/// request is sent (the base URI points at a closed port).
#[test]
fn a_credential_that_is_no_header_value_is_refused_without_showing_it() {
    for flag in ["--auth-header", "--token"] {
        let args = ["simulate", "--idp", "entra", "--base-url", "http://127.0.0.1:9/scim", flag, "sec\nret-xyz"];
        let out = cli(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains("not a valid header value"), "{flag}: {err}");
        assert!(!err.contains("ret-xyz") && !String::from_utf8_lossy(&out.stdout).contains("ret-xyz"), "{err}");
    }
}

/// Users and groups another party left on the server are not the simulator's. By default
/// they are counted and left out (the run is clean); `--strict-extra` reports each as extra.
#[tokio::test]
async fn strangers_on_the_server_are_left_out_unless_strict_extra() {
    for strict in [false, true] {
        let s = sim_faults::spawn(SimFault::None).await;
        let run = Run { users: 30, groups: 3, ..Run::new(OKTA) };
        let (target, mut opts) = target_and_options(&s, &run);
        opts.strict_extra = strict;
        let client = reqwest::Client::new();
        let auth = target.credential.fixed(AuthStyle::Bearer).flatten().unwrap();
        for k in 0..4 {
            let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                          "userName": format!("stranger{k}@elsewhere.test"), "active": true});
            let resp = client
                .post(format!("{}/Users", target.base_url))
                .header("Authorization", &auth)
                .header("Content-Type", "application/scim+json")
                .body(user.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 201, "seeding a stranger");
        }
        let group = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                       "displayName": "Strangers from elsewhere"});
        let resp = client
            .post(format!("{}/Groups", target.base_url))
            .header("Authorization", &auth)
            .header("Content-Type", "application/scim+json")
            .body(group.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "seeding a stranger group");
        let r = simulate::run(target, opts).await.expect("the simulation runs");
        s.server.shutdown().await;
        let rec = &r.reconciliation;
        if strict {
            assert_eq!(rec.drift, 5, "{}", summary(&r));
            assert!(kinds(&r).iter().all(|k| *k == DiffKind::Extra), "{}", summary(&r));
            assert_eq!(rec.strangers, 0);
            assert_eq!(r.exit_code, 1);
        } else {
            assert_eq!(rec.drift, 0, "{}", summary(&r));
            assert_eq!(rec.strangers, 5, "{}", summary(&r));
            assert!(summary(&r).contains("5 object(s) on the server were not the simulator's"), "{}", summary(&r));
            assert_eq!(r.exit_code, 0);
        }
    }
}

/// A wrong port and a wrong token end `simulate` with exit 2 and one line naming the cause,
/// before any provisioning request (as `run`'s preflight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_port_or_token_stops_before_any_provisioning_request() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let out = tokio::task::spawn_blocking(|| {
        cli(&["simulate", "--idp", "okta", "--base-url", "http://127.0.0.1:9/scim", "--users", "3", "--quiet"])
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: preflight:") && err.contains("127.0.0.1:9"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("missing"), "no reconciliation");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/Users"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"bad token"}"#,
            "application/scim+json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(201)).expect(0).mount(&server).await;
    let base = format!("{}/scim", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        cli(&["simulate", "--idp", "entra", "--base-url", &base, "--token", "wrong-secret-77", "--users", "3"])
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("401") && err.contains("\"bad token\""), "{err}");
    assert!(!err.contains("wrong-secret-77"), "{err}");
    server.verify().await;
}

/// `simulate` reads `idp`, `auth-style` and `timeout` from the settings file, as `run` does (the
/// preflight request shows which credential style was sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_file_gives_simulate_its_auth_style() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    for (value, says) in [("tok-123456", "raw style seen"), ("Bearer tok-123456", "bearer style seen")] {
        let body = format!(r#"{{"status":"401","detail":"{says}"}}"#);
        Mock::given(method("GET"))
            .and(path("/scim/Users"))
            .and(header("Authorization", value))
            .respond_with(ResponseTemplate::new(401).set_body_raw(body, "application/scim+json"))
            .mount(&server)
            .await;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-sim-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scimcheck.toml");
    let toml = format!("base-url = \"{}/scim\"\nauth-style = \"raw\"\ntimeout = 5\nidp = \"Okta\"\n", server.uri());
    std::fs::write(&config, toml).unwrap();
    let config_arg = config.to_str().unwrap().to_string();
    let out = tokio::task::spawn_blocking(move || {
        cli(&["simulate", "--config", &config_arg, "--token", "tok-123456", "--users", "2"])
    })
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("raw style seen"), "{err}");
}
