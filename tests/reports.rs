//! The JSON, JUnit and HTML reports of a mixed run (a pass, MUST and SHOULD failures, drift, a capability skip,
//! a scenario left out by the selection, a body over the report body limit) made by the real binary against the
//! bundled reference server:
//! - the JSON report validates against `schemas/report.schema.json` and reads back;
//! - the JUnit report validates against `schemas/junit.xsd` (xmllint) and is read by a second XML parser;
//! - the HTML report has its rows, steps, diff and filters (scraper), renders the same from the saved JSON
//!   (`scimcheck report`), and works in headless Chromium when one is installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use scraper::{Html, Selector};
use serde_json::{json, Value};

struct Fixture {
    dir: PathBuf,
    exit: Option<i32>,
    stdout: String,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}\n{}", self.stdout))
    }
}

/// The binary, run in an empty folder of its own: the fixture's files lie outside its working directory.
fn scimcheck(args: &[&str]) -> Command {
    let cwd = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reports-cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_scimcheck"));
    c.current_dir(cwd).args(args).env_remove("SCIMCHECK_TOKEN").env_remove("SCIMCHECK_AUTH_HEADER");
    c
}

fn write_json(path: &Path, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn step(name: &str, method: &str, path: &str, expect: Value) -> Value {
    json!({"name": name, "basis": {"rfc": "RFC 7644 §3.4.2"}, "request": {"method": method, "path": path}, "expect": expect})
}

/// Runs the mixed scenarios once per test binary; every test reads the files it wrote.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-reports-{}", uuid::Uuid::new_v4()));
        let sc = dir.join("scenarios");
        let scenario = |title: &str, source: &str, level: &str, steps: Vec<Value>| {
            json!({"title": title, "source": source, "level": level, "steps": steps})
        };
        write_json(
            &sc.join("rfc/demo/discovery.json"),
            &scenario(
                "service provider config",
                "RFC 7644 §4",
                "must",
                vec![step("read the config", "GET", "/ServiceProviderConfig", json!({"status": 200}))],
            ),
        );
        let mut missing = step(
            "read a user that does not exist",
            "GET",
            "/Users/2819c223-7f76-453a-919d-413861904646",
            json!({"status": 200, "body": [{"pointer": "/userName", "equals": "bjensen"}]}),
        );
        missing["note"] = json!("RFC 7644 §3.4.1: a GET of a resource by id returns it");
        write_json(
            &sc.join("rfc/demo/missing_user.json"),
            &scenario(
                "a user that is not there",
                "RFC 7644 §3.4.1; Captain-P-Goldfish/SCIM-SDK#686",
                "must",
                vec![missing],
            ),
        );
        write_json(
            &sc.join("azure/demo/list_count.json"),
            &scenario(
                "list users, SHOULD-level count",
                "Microsoft Q&A 1611014",
                "should",
                vec![step(
                    "list",
                    "GET",
                    "/Users",
                    json!({"status": 200, "body": [{"pointer": "/totalResults", "equals": 42}]}),
                )],
            ),
        );
        write_json(
            &sc.join("okta/demo/schemas.json"),
            &scenario(
                "schemas (drifts, large body)",
                "RFC 7644 §4",
                "must",
                vec![step(
                    "schemas",
                    "GET",
                    "/Schemas",
                    // an example-only check that does not hold: an observation, never a failure
                    json!({"status": 200, "body": [{"pointer": "/totalResults", "equals": 99, "basis": {"shown": "an example response"}}]}),
                )],
            ),
        );
        let mut bulk = scenario(
            "bulk",
            "RFC 7644 §3.7",
            "may",
            vec![step("bulk", "POST", "/Bulk", json!({"status": 200}))],
        );
        bulk["requires"] = json!(["bulk"]);
        write_json(&sc.join("rfc/demo/bulk.json"), &bulk);
        write_json(
            &sc.join("rfc/other/left_out.json"),
            &scenario("left out", "RFC 7644", "must", vec![step("x", "GET", "/Users", json!({"status": 200}))]),
        );
        let snaps = dir.join("snapshots");
        let (sc_s, snaps_s) = (sc.to_str().unwrap(), snaps.to_str().unwrap());
        let record = scimcheck(&[
            "run",
            "--reference",
            "--no-library",
            "--scenarios",
            sc_s,
            "--snapshots",
            snaps_s,
            "--update-snapshots",
        ])
            .output()
            .unwrap();
        assert!(snaps.join("okta__demo__schemas.snap").exists(), "{}", String::from_utf8_lossy(&record.stdout));
        // the baseline says something else: drift
        let snap = snaps.join("okta__demo__schemas.snap");
        let text = std::fs::read_to_string(&snap).unwrap();
        std::fs::write(&snap, text.replacen("\"status\": 200", "\"status\": 299", 1)).unwrap();
        let (j, x, h) = (dir.join("r.json"), dir.join("r.xml"), dir.join("r.html"));
        let out = scimcheck(&[
            "run",
            "--reference",
            "--no-library",
            "--scenarios",
            sc_s,
            "--snapshots",
            snaps_s,
            "--filter",
            "demo",
            "--report-body-limit",
            "3000",
            "--json",
            j.to_str().unwrap(),
            "--junit",
            x.to_str().unwrap(),
            "--html",
            h.to_str().unwrap(),
        ])
        .output()
        .unwrap();
        Fixture { dir, exit: out.status.code(), stdout: String::from_utf8_lossy(&out.stdout).into_owned() }
    })
}

fn scenario_of<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["scenarios"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn the_json_report_follows_its_schema_and_reads_back() {
    let f = fixture();
    assert_eq!(f.exit, Some(1), "{}", f.stdout);
    let report: Value = serde_json::from_str(&f.read("r.json")).unwrap();
    let schema_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&report).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // and the schema is not vacuous: a snake_case field or a wrong version is rejected
    let mut bad = report.clone();
    bad["exit_code"] = json!(1);
    assert!(!validator.is_valid(&bad));
    let mut bad = report.clone();
    bad["reportVersion"] = json!(2);
    assert!(!validator.is_valid(&bad));

    assert_eq!(report["reportVersion"], 1);
    assert_eq!(report["bodyLimit"], 3000);
    assert_eq!(
        report["counts"],
        json!({"total": 5, "pass": 1, "fail": 2, "error": 0, "drift": 1, "skip": 1, "notRun": 0, "knownDeviation": 0, "setupFailed": 0,
               "excluded": 1})
    );
    // the failed steps grouped by cause (the two failed scenarios' checks), most scenarios first
    let causes = report["causes"].as_array().expect("causes");
    assert!(!causes.is_empty() && causes.iter().all(|c| c["scenarios"].as_u64() >= Some(1)), "{causes:#?}");
    assert!(report["scenarios"].as_array().unwrap().iter().all(|s| s["id"] != "rfc::other::left_out"));
    assert_eq!(report["capabilities"]["features"]["bulk"], false);
    let skip = scenario_of(&report, "rfc::demo::bulk");
    assert_eq!(skip["verdict"], "skip");
    assert!(skip["reason"].as_str().unwrap().contains("bulk"), "{skip}");
    let fail = scenario_of(&report, "rfc::demo::missing_user");
    assert_eq!((&fail["verdict"], &fail["failsRun"]), (&json!("fail"), &json!(true)));
    assert_eq!(fail["steps"][0]["failures"][0]["check"], "status");
    assert_eq!(fail["links"][0]["url"], "https://www.rfc-editor.org/rfc/rfc7644#section-3.4.1");
    let should = scenario_of(&report, "azure::demo::list_count");
    assert_eq!((&should["verdict"], &should["failsRun"]), (&json!("fail"), &json!(false)));
    // the /Schemas body is larger than the limit: cut, with its original size
    let drift = scenario_of(&report, "okta::demo::schemas");
    assert_eq!(drift["verdict"], "drift");
    let diff = drift["snapshot"]["diff"].as_str().unwrap();
    assert!(diff.lines().any(|l| l.starts_with('-') && l.contains("\"status\": 299")), "{diff}");
    // the example-only check is an observation with its basis, the step's own basis is kept
    let step = &drift["steps"][0];
    assert_eq!(step["basis"], json!({"rfc": "RFC 7644 §3.4.2"}));
    assert_eq!(step["observations"][0]["basis"], json!({"shown": "an example response"}), "{step}");
    assert!(step.get("failures").is_none(), "{step}");
    let body = &drift["steps"][0]["response"]["body"];
    assert_eq!((&body["kind"], &body["truncated"]), (&json!("json"), &json!(true)));
    let text = body["text"].as_str().unwrap();
    assert!(text.len() <= 3000 && text.len() > 2900, "{}", text.len());
    assert!(body["size"].as_u64().unwrap() > 10_000, "{body}");
    // a small body is kept whole, as JSON
    let whole = &scenario_of(&report, "rfc::demo::discovery")["steps"][0]["response"]["body"];
    assert_eq!(whole["truncated"], false);
    assert!(whole["json"]["schemas"].is_array(), "{whole}");
    // requests show that a credential was sent, never which
    let headers = &fail["steps"][0]["request"]["headers"];
    assert!(
        headers.as_array().unwrap().contains(&json!({"name": "Authorization", "value": "[redacted]"})),
        "{headers}"
    );

    let back = scimcheck::report::json::read(&f.read("r.json")).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), report);
}

#[test]
fn a_saved_report_of_another_version_or_shape_is_a_clear_error() {
    let f = fixture();
    let mut report: Value = serde_json::from_str(&f.read("r.json")).unwrap();
    let out_html = f.path("never.html");
    for (name, edit) in [
        ("v2.json", json!({"reportVersion": 2})),
        ("noversion.json", json!({"reportVersion": null})),
        ("badshape.json", json!({"scenarios": "none"})),
    ] {
        for (k, v) in edit.as_object().unwrap() {
            report[k] = v.clone();
        }
        let p = f.path(name);
        std::fs::write(&p, report.to_string()).unwrap();
        let out = scimcheck(&["report", "--json", p.to_str().unwrap(), "--html", out_html.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("error:") && err.contains(name), "{name}: {err}");
        assert!(!out_html.exists(), "{name}");
        report = serde_json::from_str(&f.read("r.json")).unwrap();
    }
    let out = scimcheck(&["report", "--json", f.path("r.json").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--html"));
}

#[test]
fn the_junit_report_is_xsd_valid_and_read_by_a_second_parser() {
    let f = fixture();
    let xml = f.read("r.xml");
    let xsd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas/junit.xsd");
    match Command::new("xmllint").arg("--noout").arg("--schema").arg(&xsd).arg(f.path("r.xml")).output() {
        Ok(out) => {
            assert!(out.status.success(), "xmllint: {}{}", String::from_utf8_lossy(&out.stderr), xml);
            // the schema is not vacuous: a case without classname is rejected
            let bad = f.path("bad.xml");
            std::fs::write(&bad, xml.replacen(" classname=\"", " class=\"", 1)).unwrap();
            let out = Command::new("xmllint").arg("--noout").arg("--schema").arg(&xsd).arg(&bad).output().unwrap();
            assert!(!out.status.success(), "an invalid report validated");
        }
        Err(e) => eprintln!("SKIPPED the XSD check: xmllint is not installed ({e}); .ci/run installs libxml2-utils"),
    }

    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.iter().map(|s| s.attribute("name").unwrap()).collect::<Vec<_>>(), ["okta", "entra", "rfc"]);
    for s in &suites {
        assert!(s.attribute("timestamp").is_some_and(|t| t.starts_with("20")), "{s:?}");
        assert!(s.attribute("time").unwrap().parse::<f64>().unwrap() >= 0.0);
    }
    let cases: Vec<roxmltree::Node> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    let case = |name: &str| *cases.iter().find(|c| c.attribute("name") == Some(name)).unwrap();
    assert_eq!(cases.len(), 5, "the scenario left out by --filter is not listed");
    assert!(cases.iter().all(|c| c.attribute("time").is_some()));

    let fail = case("rfc::demo::missing_user");
    assert_eq!(fail.attribute("classname"), Some("rfc.demo"));
    // the real file, which CI systems annotate (it lies outside the working directory: its whole path)
    let real = f.path("scenarios/rfc/demo/missing_user.json");
    assert_eq!(fail.attribute("file"), Some(real.to_str().unwrap()));
    let failure = fail.children().find(|n| n.has_tag_name("failure")).unwrap();
    let message = failure.attribute("message").unwrap();
    assert!(message.starts_with("read a user that does not exist: status: expected 200, got 404"), "{message}");
    let out = fail.children().find(|n| n.has_tag_name("system-out")).unwrap().text().unwrap();
    assert!(out.contains("request: GET http://127.0.0.1:") && out.contains("response: 404"), "{out}");
    assert!(out.contains("cites: RFC 7644 §3.4.1"), "{out}");

    let skip = case("rfc::demo::bulk").children().find(|n| n.has_tag_name("skipped")).unwrap();
    assert!(skip.attribute("message").unwrap().contains("bulk"));
    // a SHOULD failure does not fail the run: a success that says why in its output
    let should = case("azure::demo::list_count");
    assert!(should.children().all(|n| !n.has_tag_name("failure")));
    assert!(should.children().any(|n| n.has_tag_name("system-out")));
    let drift = case("okta::demo::schemas").children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(drift.attribute("message"), Some("the transcript differs from its snapshot"));
    let passed = case("rfc::demo::discovery");
    assert_eq!(passed.children().filter(|n| n.is_element()).count(), 0);
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

#[test]
fn the_html_report_has_rows_steps_diffs_and_filters() {
    let f = fixture();
    let html = f.read("r.html");
    let doc = Html::parse_document(&html);
    let rows = select(&doc, "details.scenario");
    let verdicts: Vec<&str> = rows.iter().map(|r| r.value().attr("data-verdict").unwrap()).collect();
    assert_eq!(verdicts.len(), 5);
    for v in ["pass", "fail", "drift", "skip"] {
        assert!(verdicts.contains(&v), "{verdicts:?}");
    }
    // header: target, version, capabilities, counts
    let header = select(&doc, "header")[0].text().collect::<String>();
    for text in
        ["bundled reference server", env!("CARGO_PKG_VERSION"), "bulk: no", "patch: yes", "5 scenarios", "1 left out"]
    {
        assert!(header.contains(text), "{text}: {header}");
    }
    // matrix: IdP × level with counts
    let matrix = select(&doc, "#matrix")[0].text().collect::<String>();
    assert!(matrix.contains("okta") && matrix.contains("should") && matrix.contains("1 skip"), "{matrix}");
    let kinds: Vec<String> =
        select(&doc, "#matrix tr th").iter().skip(2).map(|c| c.text().collect::<String>()).collect();
    assert!(!kinds.is_empty() && kinds.iter().all(|k| ["rfc", "interop", "portal"].contains(&k.as_str())), "{kinds:?}");
    // the failed step: open, expected vs actual, the request and the response, the cited source linked
    let failed = select(&doc, "details.scenario#s-rfc--demo--missing_user")[0];
    assert!(failed.value().attr("open").is_some());
    let step = failed.select(&Selector::parse("details.step.s-fail").unwrap()).next().unwrap();
    let cells: Vec<String> =
        step.select(&Selector::parse("table.failures td").unwrap()).map(|c| c.text().collect::<String>()).collect();
    assert_eq!(cells[0], "status");
    assert_eq!(cells[1], "200");
    assert!(cells[2].starts_with("404"), "{cells:?}");
    let text = step.text().collect::<String>();
    assert!(text.contains("Request") && text.contains("Response 404"), "{text}");
    assert!(text.contains("\"scimType\"") || text.contains("\"status\""), "the error body is shown: {text}");
    let links: Vec<&str> =
        failed.select(&Selector::parse("a").unwrap()).map(|a| a.value().attr("href").unwrap()).collect();
    assert!(links.contains(&"https://www.rfc-editor.org/rfc/rfc7644#section-3.4.1"), "{links:?}");
    assert!(links.contains(&"https://github.com/Captain-P-Goldfish/SCIM-SDK/issues/686"), "{links:?}");
    // drift as a diff, the large body cut with a note
    let drift = select(&doc, "details.scenario#s-okta--demo--schemas")[0];
    let observed: Vec<String> = drift
        .select(&Selector::parse("table.observations td").unwrap())
        .map(|c| c.text().collect::<String>())
        .collect();
    assert_eq!(observed.last().map(String::as_str), Some("shown: an example response"), "{observed:?}");
    let del_sel = Selector::parse("pre.diff .del").unwrap();
    let del: Vec<String> = drift.select(&del_sel).map(|d| d.text().collect::<String>()).collect();
    assert!(del.iter().any(|l| l.contains("\"status\": 299")), "{del:?}");
    assert!(drift.select(&Selector::parse("pre.diff .add").unwrap()).next().is_some());
    let note = drift.select(&Selector::parse(".truncated").unwrap()).next().unwrap().text().collect::<String>();
    assert!(note.contains("first 2.9 KiB of"), "{note}");
    // the cut body itself is shown: the start of the pretty-printed /Schemas list
    let shown: Vec<String> = drift
        .select(&Selector::parse(".exchange pre").unwrap())
        .map(|p| p.text().collect::<String>())
        .filter(|t| t.contains("\"Resources\""))
        .collect();
    assert!(shown.len() == 1 && shown[0].starts_with("{\n") && shown[0].len() > 2900, "{shown:?}");
    // filters
    for id in ["#f-verdict", "#f-idp", "#f-level", "#search"] {
        assert_eq!(select(&doc, id).len(), 1, "{id}");
    }
    let options: Vec<&str> =
        select(&doc, "#f-verdict option").iter().map(|o| o.value().attr("value").unwrap()).collect();
    assert_eq!(options, ["", "fail", "drift", "skip", "pass"]);
    // self-contained: no external script, style, image or frame
    assert!(select(&doc, "script[src], link, img[src], iframe, object, embed").is_empty());
    assert!(!html.contains("@import") && !html.contains("url("));
}

#[test]
fn scimcheck_report_renders_the_same_html_from_the_saved_json() {
    let f = fixture();
    let out_html = f.path("from-json.html");
    let out_xml = f.path("from-json.xml");
    let out = scimcheck(&[
        "report",
        "--json",
        f.path("r.json").to_str().unwrap(),
        "--html",
        out_html.to_str().unwrap(),
        "--junit",
        out_xml.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(f.read("r.html") == f.read("from-json.html"), "the HTML rendered from the saved report differs");
    assert_eq!(f.read("r.xml"), f.read("from-json.xml"));
}

/// Opens the report in headless Chromium: the script runs (it counts the rows shown), the failed step's detail and
/// the drift diff are in the DOM, and a filter given in the address hides the other rows.
#[test]
fn the_html_report_works_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("SKIPPED: /usr/bin/chromium is not installed (.ci/run installs the `chromium` package)");
        return;
    }
    let f = fixture();
    let dump = |fragment: &str| -> String {
        let profile = f.path(&format!("chromium-{}", uuid::Uuid::new_v4()));
        let url = format!("file://{}{fragment}", f.path("r.html").display());
        let out = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                &format!("--user-data-dir={}", profile.display()),
                "--dump-dom",
                &url,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dom = Html::parse_document(&dump(""));
    assert_eq!(select(&dom, "#shown")[0].text().collect::<String>(), "5 of 5 shown");
    assert_eq!(select(&dom, "details.scenario").len(), 5);
    assert_eq!(select(&dom, "details.scenario.hidden").len(), 0);
    assert!(!select(&dom, "details.step.s-fail table.failures").is_empty());
    assert!(!select(&dom, "pre.diff .del").is_empty());
    assert_eq!(select(&dom, "#filters select").len(), 4, "verdict, IdP, level and kind");

    let filtered = Html::parse_document(&dump("#verdict=fail"));
    assert_eq!(select(&filtered, "#shown")[0].text().collect::<String>(), "2 of 5 shown");
    let visible: Vec<&str> = select(&filtered, "details.scenario:not(.hidden)")
        .iter()
        .map(|r| r.value().attr("data-verdict").unwrap())
        .collect();
    assert_eq!(visible, ["fail", "fail"]);
    let searched = Html::parse_document(&dump("#q=large%20body"));
    assert_eq!(select(&searched, "#shown")[0].text().collect::<String>(), "1 of 5 shown");
}

#[test]
fn simulate_html_charts_throughput_over_time_and_latency_per_kind() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scimcheck-sim-html-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (html_path, json_path) = (dir.join("sim.html"), dir.join("sim.json"));
    let out = scimcheck(&["simulate", "--idp", "entra", "--reference", "--users", "60", "--groups", "3", "--quiet"])
        .args(["--html", html_path.to_str().unwrap(), "--json", json_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    let doc = Html::parse_document(&html);
    // throughput: one point per bucket of the summary
    let seconds = summary["throughputPerSecond"].as_array().unwrap().len();
    let line = select(&doc, "svg#throughput polyline");
    assert_eq!(line.len(), 1, "{html}");
    assert_eq!(line[0].value().attr("points").unwrap().split(' ').count(), seconds);
    // latency: a row (with its bar) per request kind of the summary
    let kinds: Vec<String> =
        select(&doc, "table#latency tr td:first-child").iter().map(|c| c.text().collect()).collect();
    let expected: Vec<String> = summary["latencyMs"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(kinds, expected);
    assert_eq!(select(&doc, "table#latency svg rect").len(), 3 * expected.len());
    assert!(select(&doc, "#requests")[0].text().collect::<String>().contains("requests/s"));
    // self-contained: no script, no external reference
    assert!(select(&doc, "script, [src], link, [href]").is_empty(), "no script, no external reference");
    let _ = std::fs::remove_dir_all(&dir);
}
