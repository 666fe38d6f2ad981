//! The gallery run's readiness table (terminal) and its JSON, JUnit and HTML reports. JUnit: one `<testsuite
//! name="entra-gallery">`, one `<testcase>` per Microsoft test named as Microsoft names it, `classname` its group;
//! FAILED is a `<failure>`, SKIPPED a `<skipped>`, WARNING passes with its detail in `<system-out>`.

use std::fmt::Write as _;

use super::{GalleryReport, Status, GALLERY_REQUIREMENTS};

/// The readiness table: the 25 tests by group, the requirements, and the verdict.
pub fn table(r: &GalleryReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Entra gallery readiness (Microsoft's validation template, 25 tests; {})", r.source);
    let _ = writeln!(
        out,
        "attribute mapping: {}; Group schema in /Schemas: {}",
        r.attribute_mapping,
        yes(r.groups_supported)
    );
    let mut group = "";
    let mut by_group: Vec<&super::TestResult> = r.tests.iter().collect();
    // Microsoft numbers the authentication tests 21-22 inside the SCIM workflow; the table keeps its groups whole
    let order = |g: &str| super::Group::ALL.iter().position(|x| x.title() == g).unwrap_or(usize::MAX);
    by_group.sort_by_key(|t| (order(t.group), t.number));
    for t in by_group {
        if t.group != group {
            group = t.group;
            let _ = writeln!(out, "\n  {group}");
        }
        let cat = match t.category {
            super::Category::Mandatory => "mandatory",
            super::Category::Optional => "optional",
        };
        let _ = writeln!(out, "  {:>2} {:<33} {:<9} {:<7}  {}", t.number, t.name, cat, t.status.label(), t.detail);
        if let Some(e) = &t.entra {
            let _ = writeln!(out, "     {:<33} {}", "", e.line());
        }
    }
    let _ = writeln!(out, "\n  Gallery requirements ({GALLERY_REQUIREMENTS})");
    for q in &r.requirements {
        let _ = writeln!(out, "     {:<33} {:<17}  {}", q.name, if q.met { "met" } else { "NOT MET" }, q.detail);
        if let Some(e) = q.entra.as_ref().filter(|_| !q.met) {
            let _ = writeln!(out, "     {:<33} {}", "", e.line());
        }
    }
    let count = |s: Status| r.tests.iter().filter(|t| t.status == s).count();
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} warning(s), {} skipped in {:.1} s",
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Warning),
        count(Status::Skipped),
        r.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "{}", r.verdict.sentence());
    if r.verdict == super::Verdict::OauthRequired {
        let _ = writeln!(out, "(gallery requirements: {GALLERY_REQUIREMENTS})");
    }
    out
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The JSON report: the [`GalleryReport`] with `reportVersion` 1.
pub fn json(r: &GalleryReport) -> String {
    let mut v = serde_json::to_value(r).expect("the report serialises");
    v.as_object_mut().expect("an object").insert("reportVersion".into(), 1.into());
    serde_json::to_string_pretty(&v).expect("JSON serialises")
}

fn esc(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn full_detail(t: &super::TestResult) -> String {
    match &t.entra {
        Some(e) => format!("{}\n{}", t.detail, e.line()),
        None => t.detail.clone(),
    }
}

/// The JUnit XML report.
pub fn junit(r: &GalleryReport) -> String {
    let failures = r.tests.iter().filter(|t| t.status == Status::Failed).count();
    let skipped = r.tests.iter().filter(|t| t.status == Status::Skipped).count();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"scimcheck\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        r.tests.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"entra-gallery\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        r.tests.len(),
        r.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        x,
        "    <properties><property name=\"verdict\" value=\"{}\"/></properties>",
        esc(r.verdict.sentence())
    );
    for t in &r.tests {
        let _ = write!(x, "    <testcase name=\"{}\" classname=\"{}\">", esc(t.name), esc(t.group));
        match t.status {
            Status::Failed => {
                let _ = write!(x, "<failure message=\"{}\">{}</failure>", esc(&t.detail), esc(&full_detail(t)));
            }
            Status::Skipped => {
                let _ = write!(x, "<skipped message=\"{}\"/>", esc(&t.detail));
            }
            Status::Warning => {
                let _ = write!(x, "<system-out>WARNING (optional test): {}</system-out>", esc(&full_detail(t)));
            }
            Status::Passed => {}
        }
        x.push_str("</testcase>\n");
    }
    for q in &r.requirements {
        let _ = write!(
            x,
            "    <testcase name=\"gallery requirement: {}\" classname=\"Gallery requirements\">",
            esc(q.name)
        );
        if !q.met {
            let _ = write!(x, "<failure message=\"{}\"/>", esc(&q.detail));
        }
        x.push_str("</testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// The HTML report: one self-contained page.
pub fn html(r: &GalleryReport) -> String {
    let mut h = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>scimcheck: Entra gallery readiness</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;\
         padding:4px 8px;text-align:left;vertical-align:top}.PASSED{color:#070}.FAILED{color:#b00;font-weight:bold}\
         .WARNING{color:#a60}.SKIPPED{color:#666}</style></head><body>",
    );
    let _ = write!(h, "<h1>Entra gallery readiness</h1><p><strong>{}</strong></p>", esc(r.verdict.sentence()));
    let _ = write!(
        h,
        "<p>Target: {} · attribute mapping: {} · Group schema: {} · source: <a href=\"{}\">Microsoft's test overview</a>, \
         <a href=\"{GALLERY_REQUIREMENTS}\">gallery requirements</a></p>",
        esc(&r.target),
        esc(&r.attribute_mapping),
        yes(r.groups_supported),
        esc(r.source)
    );
    h.push_str("<table><tr><th>#</th><th>Test</th><th>Group</th><th>Category</th><th>Result</th><th>Detail</th><th>What the Entra customer sees</th></tr>");
    for t in &r.tests {
        let cat = if t.category == super::Category::Mandatory { "mandatory" } else { "optional" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{cat}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            t.number,
            esc(t.name),
            esc(t.group),
            t.status.label(),
            t.status.label(),
            esc(&t.detail),
            t.entra
                .as_ref()
                .map(|e| format!("<a href=\"{}\">{}</a>", esc(&e.source), esc(&e.line())))
                .unwrap_or_default()
        );
    }
    h.push_str(
        "</table><h2>Gallery requirements</h2><table><tr><th>Requirement</th><th>Result</th><th>Detail</th></tr>",
    );
    for q in &r.requirements {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(q.name),
            if q.met { "PASSED" } else { "FAILED" },
            if q.met { "met" } else { "NOT MET" },
            esc(&q.detail)
        );
    }
    h.push_str("</table></body></html>\n");
    h
}
