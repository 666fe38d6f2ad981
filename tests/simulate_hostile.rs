//! The simulator against servers that misbehave in ways the fault layer cannot express,
//! and against the user: Ctrl-C ends a simulation with its summary and partial reports.

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use serde_json::{json, Value};

/// A SCIM server that answers every request after `delay`: lists are empty, creates get a fresh id.
async fn slow_server(delay: Duration) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let h = h.clone();
        async move {
            let n = h.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            let (status, body) = if req.method() == axum::http::Method::POST {
                (201, json!({"id": format!("id-{n}"), "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}))
            } else {
                (
                    200,
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
                             "startIndex": 1, "itemsPerPage": 0, "Resources": []}),
                )
            };
            axum::response::Response::builder()
                .status(status)
                .header("Content-Type", "application/scim+json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/scim/v2"), hits)
}

/// The first Ctrl-C stops sending, abandons the requests in flight, and the simulation still
/// prints its summary and writes its JSON and HTML reports, marked interrupted, exit code 130. Before, Ctrl-C
/// killed it with no summary and no report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_sending_and_writes_the_summary_and_partial_reports() {
    let (base, hits) = slow_server(Duration::from_millis(300)).await;
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-sim-int-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, html_path) = (dir.join("sim.json"), dir.join("sim.html"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args([
            "simulate",
            "--idp",
            "okta",
            "--base-url",
            &base,
            "--users",
            "500",
            "--groups",
            "5",
            "--quiet",
            "--no-preflight",
        ])
        .args(["--concurrency", "2", "--json", json_path.to_str().unwrap(), "--html", html_path.to_str().unwrap()])
        .env("SCIMCHECK_TOKEN", "sim-int-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    for _ in 0..400 {
        if hits.load(Ordering::SeqCst) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(hits.load(Ordering::SeqCst) >= 3, "the simulation never started sending");
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let at_interrupt = hits.load(Ordering::SeqCst);
    // a bound on a hang, not a speed target: 500 users at 300 ms, two at a time, would take minutes
    let waited =
        tokio::time::timeout(Duration::from_secs(30), tokio::task::spawn_blocking(move || child.wait_with_output()))
            .await;
    let out = match waited {
        Ok(out) => out.unwrap().unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the simulation did not end after Ctrl-C");
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(hits.load(Ordering::SeqCst) <= at_interrupt + 2, "no request started after Ctrl-C");
    assert!(stdout.contains("scimcheck simulate:") && stdout.contains("INTERRUPTED"), "the summary:\n{stdout}");
    assert!(!stdout.contains("clean: OK") && !stdout.contains("NOT CLEAN"), "nothing judged:\n{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).expect("a partial JSON")).unwrap();
    assert_eq!(report["interrupted"], true, "{report}");
    assert_eq!(report["exitCode"], 130);
    assert!(report["reconciliation"]["readError"].as_str().unwrap().contains("interrupted"), "{report}");
    // the operations Ctrl-C stopped are counted as not sent, never as failed (the server answered every request
    // it got with success), and the summary says so
    let cycles = report["cycles"].as_array().unwrap();
    let sum = |k: &str| cycles.iter().map(|c| c[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("objectFailures") + sum("referenceFailures"), 0, "nothing failed: {report}");
    let not_sent = sum("notSent");
    assert!(not_sent > 0 && sum("objectOperations") + not_sent <= 505, "{report}");
    assert!(stdout.contains(&format!("{not_sent} operation(s) not sent: Ctrl-C stopped them")), "{stdout}");
    let cycle_line = stdout.lines().find(|l| l.starts_with("cycle 0:")).unwrap_or_default();
    assert!(cycle_line.contains("object operations (0 failed)"), "{stdout}");
    let html = std::fs::read_to_string(&html_path).expect("a partial HTML report");
    assert!(html.contains("INTERRUPTED"), "the HTML report says so");
    assert!(html.contains("Not sent (Ctrl-C)"), "the HTML report's cycles name the operations not sent");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `scimcheck simulate` in a pseudo-terminal of its own, as a shell runs it: the child leads a new session whose
/// controlling terminal is the pty, so a Ctrl-C typed on the terminal (the byte 0x03 written to the master) is a
/// SIGINT from the line discipline to its foreground process group, not a signal sent by pid. Returns the child
/// and the master side; a thread keeps reading the master (into the returned buffer) so the child never blocks
/// on a full terminal.
fn simulate_in_terminal(args: &[&str]) -> (std::process::Child, std::fs::File, Arc<std::sync::Mutex<String>>) {
    use std::os::fd::FromRawFd;
    use std::os::unix::process::CommandExt;
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the integers given; the other arguments may be null
    let rc =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by these files alone
    let (master, slave) = unsafe { (std::fs::File::from_raw_fd(master), std::fs::File::from_raw_fd(slave)) };
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"));
    cmd.arg("simulate").args(args).env("SCIMCHECK_TOKEN", "sim-pty-token").env("TERM", "xterm");
    cmd.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave);
    // SAFETY: between fork and exec only async-signal-safe calls: a new session, the pty (stdin) as its terminal
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(cmd); // the parent's copies of the slave side
    let screen = Arc::new(std::sync::Mutex::new(String::new()));
    let (mut reader, seen) = (master.try_clone().unwrap(), screen.clone());
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 8192];
        // EIO once the child and every copy of the slave side are gone
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (child, master, screen)
}

/// Waits (on a blocking thread, at most 30 s: a bound on a hang) for the child to end; its exit code.
async fn exit_code(child: std::process::Child) -> Option<i32> {
    let pid = child.id().to_string();
    let mut child = child;
    let waited = tokio::time::timeout(Duration::from_secs(30), tokio::task::spawn_blocking(move || child.wait())).await;
    match waited {
        Ok(status) => status.unwrap().unwrap().code(),
        Err(_) => {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the simulation did not end after Ctrl-C");
        }
    }
}

/// Ctrl-C typed in the terminal `simulate` runs in: the first stops sending, and the run prints its summary,
/// writes its partial JSON and HTML reports and exits 130; a second one, while the run is stuck writing a report
/// (the HTML report's path is a FIFO nobody reads), quits at once, also with 130. Before, Ctrl-C in a terminal
/// ended the process by the signal with no summary and no report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_in_a_terminal_writes_the_summary_and_a_second_one_quits() {
    use std::io::Write;
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-sim-pty-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json_path, html_path, fifo) = (dir.join("sim.json"), dir.join("sim.html"), dir.join("fifo.html"));
    let fifo_c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path
    assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0, "mkfifo");
    let bar = regex::Regex::new(r"cycle 0: users \[[=> ]*\] (\d+)/\d+").unwrap();
    for presses in [1, 2] {
        let (base, hits) = slow_server(Duration::from_millis(300)).await;
        let _ = std::fs::remove_file(&json_path);
        let html = if presses == 1 { &html_path } else { &fifo };
        let args = [
            "--idp",
            "entra",
            "--base-url",
            &base,
            "--users",
            "500",
            "--groups",
            "5",
            "--no-preflight",
            "--concurrency",
            "2",
            "--json",
            json_path.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ];
        let (child, mut terminal, screen) = simulate_in_terminal(&args);
        for _ in 0..400 {
            if hits.load(Ordering::SeqCst) >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(hits.load(Ordering::SeqCst) >= 3, "the simulation never started sending");
        terminal.write_all(b"\x03").unwrap();
        if presses == 2 {
            // the first Ctrl-C is taken and the JSON report written: the run now waits on the FIFO
            for _ in 0..400 {
                if json_path.exists() && screen.lock().unwrap().contains("interrupted: no new request starts") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            terminal.write_all(b"\x03").unwrap();
        }
        let code = exit_code(child).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let text = screen.lock().unwrap().clone();
        assert_eq!(code, Some(130), "{text}");
        assert!(!text.contains("panicked"), "{text}");
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).expect("a partial JSON")).unwrap();
        assert_eq!(report["interrupted"], true, "{report}");
        if presses == 1 {
            assert!(text.contains("scimcheck simulate:") && text.contains("INTERRUPTED"), "the summary:\n{text}");
            // the users bar stops where the run stopped: what Ctrl-C stopped does not advance it
            let at = text.find("interrupted: no new request starts").unwrap_or_else(|| panic!("{text}"));
            let highest = |t: &str| bar.captures_iter(t).map(|c| c[1].parse::<usize>().unwrap()).max().unwrap_or(0);
            let (before, after) = (highest(&text[..at]), highest(&text[at..]));
            assert!(after <= before + 2, "the bar went on from {before} to {after} after Ctrl-C");
            let page = std::fs::read_to_string(&html_path).expect("a partial HTML report");
            assert!(page.contains("INTERRUPTED"), "the HTML report says so");
        } else {
            assert!(text.contains("interrupted again: quitting at once"), "{text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A SCIM server that accepts every provisioning request (lookups find nothing, creates get a fresh id, PATCH
/// succeeds) and answers every read-back page (a list without a filter) with `page(path_and_query)`.
async fn provisioning_server(
    page: impl Fn(&str) -> (u16, Value) + Send + Sync + Clone + 'static,
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (h, page) = (h.clone(), page.clone());
        async move {
            let n = h.fetch_add(1, Ordering::SeqCst);
            let target = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
            let list = |total: usize| {
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": total,
                       "startIndex": 1, "itemsPerPage": 0, "Resources": []})
            };
            let (status, body) = match *req.method() {
                axum::http::Method::POST => (201, json!({"id": format!("id-{n}")})),
                axum::http::Method::PATCH | axum::http::Method::PUT => (200, json!({"id": "x"})),
                axum::http::Method::DELETE => (204, Value::Null),
                _ if target.contains("filter=") => (200, list(0)),
                _ => page(&target),
            };
            axum::response::Response::builder()
                .status(status)
                .header("Content-Type", "application/scim+json")
                .body(axum::body::Body::from(if body.is_null() { String::new() } else { body.to_string() }))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/scim/v2"), hits)
}

/// Runs `scimcheck simulate` off the runtime; returns (exit code, stdout, the JSON report).
async fn simulate_cli(args: Vec<String>) -> (Option<i32>, String, Value) {
    let json_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("scimcheck-sim-h-{}.json", uuid::Uuid::new_v4()));
    // killed when the future is dropped (a test's bound on a hang ran out)
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"));
    cmd.arg("simulate").args(&args).args(["--quiet", "--no-preflight", "--json", json_path.to_str().unwrap()]);
    cmd.env("SCIMCHECK_TOKEN", "sim-h-token").kill_on_drop(true);
    let out = cmd.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = std::fs::read_to_string(&json_path)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}{}", String::from_utf8_lossy(&out.stderr)));
    let _ = std::fs::remove_file(&json_path);
    (out.status.code(), stdout, serde_json::from_str(&text).unwrap())
}

/// A read-back that fails (401 on every page) says "could not read back" and counts the
/// objects it could not verify apart; none of them is reported "Missing", and the text and the JSON agree on
/// the number of differences (before: every user and group "Missing", and one more difference in the count
/// than in the list).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_back_is_could_not_verify_not_missing() {
    let (base, _) = provisioning_server(|_| {
        (401, json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": "no"}))
    })
    .await;
    let args = ["--idp", "entra", "--base-url", &base, "--users", "12", "--groups", "3"];
    let (code, stdout, report) = simulate_cli(args.iter().map(|s| s.to_string()).collect()).await;
    assert_eq!(code, Some(1), "not clean: {stdout}");
    let r = &report["reconciliation"];
    assert_eq!(r["drift"], 0, "{r}");
    assert_eq!(r["differences"].as_array().unwrap().len(), 0, "{r}");
    // the 3 groups and the 11 users the engine provisioned (this seed leaves one user never assigned)
    assert_eq!(r["unverified"], 14, "{r}");
    assert!(r["readError"].as_str().unwrap().contains("401"), "{r}");
    assert!(stdout.contains("could not read back") && !stdout.contains("Missing"), "{stdout}");
    assert!(stdout.contains("14 object(s) could not be verified; 0 difference(s)"), "{stdout}");
}

/// The `startIndex` of a request target (`/scim/v2/Users?startIndex=101&count=100`), 1 without one.
fn start_index(target: &str) -> usize {
    target.split(['?', '&']).find_map(|kv| kv.strip_prefix("startIndex=")).and_then(|v| v.parse().ok()).unwrap_or(1)
}

/// Okta's import ends against a server whose paging lies — the same page forever with a
/// `totalResults` of 10^9, fresh pages forever with 10^12, an empty page long before `totalResults` — with a
/// verdict naming the defect and RFC 7644 §3.4.2.4. Before, the first two never ended (650,976 requests in 240 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_import_stops_on_paging_that_lies_and_names_the_defect() {
    type Pager = fn(&str) -> (u16, Value);
    let same: Pager = |_| {
        let r: Vec<Value> =
            (0..100).map(|k| json!({"id": format!("same-{k}"), "userName": format!("same-{k}")})).collect();
        (200, json!({"totalResults": 1_000_000_000u64, "startIndex": 1, "itemsPerPage": 100, "Resources": r}))
    };
    let endless: Pager = |t| {
        let s = start_index(t);
        let r: Vec<Value> =
            (0..100).map(|k| json!({"id": format!("r-{}", s + k), "userName": format!("u{}", s + k)})).collect();
        (200, json!({"totalResults": 1_000_000_000_000u64, "startIndex": s, "itemsPerPage": 100, "Resources": r}))
    };
    let short: Pager = |t| {
        let s = start_index(t);
        let r: Vec<Value> = if s == 1 { vec![json!({"id": "only", "userName": "only"})] } else { vec![] };
        (200, json!({"totalResults": 1_000_000_000_000u64, "startIndex": s, "itemsPerPage": r.len(), "Resources": r}))
    };
    for (pager, defect) in [(same, "repeats an earlier page"), (endless, "does not end"), (short, "is empty after 1")] {
        let (base, hits) = provisioning_server(pager).await;
        let args = ["--idp", "okta", "--base-url", &base, "--users", "12", "--groups", "3"];
        let run = simulate_cli(args.iter().map(|s| s.to_string()).collect());
        // a bound on a hang, not a speed target
        let (code, stdout, report) = tokio::time::timeout(Duration::from_secs(120), run)
            .await
            .unwrap_or_else(|_| panic!("the import never ended ({defect}); {} requests", hits.load(Ordering::SeqCst)));
        assert_eq!(code, Some(1), "not clean: {stdout}");
        let why = report["cycles"][0]["pagingDefect"].as_str().unwrap_or_else(|| panic!("no defect: {report}"));
        assert!(why.contains(defect) && why.contains("RFC 7644 §3.4.2.4"), "{why}");
        assert!(stdout.contains("import stopped: GET /Users"), "{stdout}");
        assert!(hits.load(Ordering::SeqCst) < 20_000, "bounded: {} requests", hits.load(Ordering::SeqCst));
    }
}

/// A server that already holds 438 users and 2 groups (from earlier runs, or from other parties): simulate says so
/// before provisioning, reconciles only its own objects (the run is clean), and names `--strict-extra`; with it
/// the warning says the strangers will be reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_already_holding_objects_is_warned_about_up_front() {
    let (base, _) = provisioning_server(|target| {
        let total = if target.contains("count=0") {
            if target.contains("/Users") {
                438
            } else {
                2
            }
        } else {
            0
        };
        (
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": total,
                   "startIndex": 1, "itemsPerPage": 0, "Resources": []}),
        )
    })
    .await;
    for strict in [false, true] {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"));
        cmd.args(["simulate", "--idp", "entra", "--base-url", &base, "--users", "3", "--groups", "0"]);
        if strict {
            cmd.arg("--strict-extra");
        }
        cmd.env("SCIMCHECK_TOKEN", "sim-h-token").kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output()).await.unwrap().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let warning = "warning: the server already holds 438 user(s) and 2 group(s) before this run; ";
        let line = stderr.lines().find(|l| l.starts_with(warning)).unwrap_or_else(|| panic!("{stderr}"));
        if strict {
            assert!(
                line.ends_with("--strict-extra: any of them the source directory does not hold is reported as extra")
            );
        } else {
            assert!(line.ends_with("only the simulator's own objects are reconciled; the others are counted and left out (--strict-extra reports them)"), "{line}");
        }
        // said up front: before the line naming the target, which comes before any provisioning request
        let at = |text: &str| stderr.find(text).unwrap_or_else(|| panic!("{text:?} in {stderr}"));
        assert!(at(warning) < at("simulating entra (default) against"), "{stderr}");
    }
}
