//! The loader's checks of a parsed scenario beyond its JSON shape (an assertion's shape, its one valid check, is
//! read by [`super::assertion`]): every basis cites, every placeholder names a variable, capture or generator
//! defined before it, the step fields agree, every `*.md` document a basis or `source` cites resolves
//! ([`super::cite`]), and the bounds the JSON Schema states hold (the constants below are used by both).

use super::assertion::{check_pointer, value_strings};
use super::cite::unresolved_documents;
use super::vars::{generator_names, name_re, variable_order};
use super::*;

/// The lowest HTTP status a step may expect (RFC 9110 §15: a status code is three digits, 1xx to 5xx); the JSON
/// Schema's bound too.
pub(super) const MIN_STATUS: u16 = 100;
/// The highest HTTP status a step may expect (RFC 9110 §15); the JSON Schema's bound too.
pub(super) const MAX_STATUS: u16 = 599;
/// The smallest `maxTimeMs`, in milliseconds (0 could never pass); the JSON Schema's bound too.
pub(super) const MIN_TIME_MS: u64 = 1;
/// The pattern of a text that must say something (a title, `source`, a step name): one non-space character;
/// the JSON Schema's pattern too.
pub(super) const NOT_BLANK: &str = r"\S";

/// Whether `text` matches [`NOT_BLANK`].
fn not_blank(text: &str) -> bool {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(NOT_BLANK).unwrap()).is_match(text)
}

/// What the loader checks of an assertion beyond its shape ([`Assertion::from_json`]): its bases, and the
/// documents they cite (relative to the scenario `file`).
fn validate_assertion(a: &Assertion, file: &Path) -> Result<(), String> {
    if let Some(w) = &a.when {
        if w.basis.is_some() {
            return Err(format!("the `when` of the check on `{}` has a basis: put it on the check", a.pointer));
        }
        validate_assertion(w, file).map_err(|e| format!("in `when`: {e}"))?;
    }
    if let Some(b) = &a.basis {
        b.validate().map_err(|e| format!("check on `{}`: {e}", a.pointer))?;
        let unresolved = unresolved_documents("its basis", b.citation(), file);
        if !unresolved.is_empty() {
            return Err(format!("check on `{}`: {}", a.pointer, unresolved.join("; ")));
        }
    }
    Ok(())
}

/// Validates references, assertions and captures; returns `(step label, reason)` pairs.
pub(super) fn validate(s: &Scenario) -> Vec<(Option<String>, String)> {
    let mut errors = Vec::new();
    for (field, text) in [("title", &s.title), ("source", &s.source)] {
        if !not_blank(text) {
            errors.push((
                None,
                format!(
                    "`{field}` is empty: say what the scenario {}",
                    if field == "title" { "is" } else { "reproduces" }
                ),
            ));
        }
    }
    for e in unresolved_documents("`source`", &s.source, &s.file) {
        errors.push((None, e));
    }
    // variables: names, generators, references, cycles
    for (name, template) in &s.variables {
        if !name_re().is_match(name) {
            errors.push((None, format!("variable name `{name}` is not an identifier")));
        }
        match placeholders(template) {
            Err(e) => errors.push((None, format!("variable `{name}`: {e}"))),
            Ok(phs) => {
                for ph in phs {
                    if ph.name.starts_with('$') {
                        if !GENERATORS.iter().any(|(g, _)| *g == ph.name) {
                            errors.push((
                                None,
                                format!(
                                    "variable `{name}`: unknown generator `{}` (known: {})",
                                    ph.name,
                                    generator_names()
                                ),
                            ));
                        }
                    } else if !s.variables.contains_key(&ph.name) {
                        errors.push((None, format!("variable `{name}` refers to undefined variable `{}`", ph.name)));
                    }
                }
            }
        }
    }
    if let Err(cycle) = variable_order(&s.variables) {
        errors.push((None, format!("variables refer to each other in a cycle: {cycle}")));
    }
    for (name, value) in &s.headers {
        if let Some(v) = value {
            check_refs(v, &s.variables.keys().cloned().collect(), &mut |r| {
                errors.push((None, format!("header `{name}`: {r}")))
            });
        }
    }
    let mut defined: BTreeSet<String> = s.variables.keys().cloned().collect();
    for (i, step) in s.steps.iter().enumerate() {
        let label = Some(format!("step {} \"{}\"", i + 1, step.name));
        let mut report = |reason: String| errors.push((label.clone(), reason));
        match &step.basis {
            None => report(
                "no `basis`: say why its checks exist — `{\"required\": quote}`, `{\"shown\": example}` or `{\"rfc\": \"RFC 7644 §…\"}`"
                    .into(),
            ),
            Some(b) => {
                if let Err(e) = b.validate() {
                    report(e);
                }
                for e in unresolved_documents("the basis", b.citation(), &s.file) {
                    report(e);
                }
            }
        }
        if !not_blank(&step.name) {
            report("`name` is empty: name the step".into());
        }
        let statuses: Vec<u16> = match &step.expect.status {
            Some(StatusSet::One(c)) => vec![*c],
            Some(StatusSet::Any(v)) => v.clone(),
            None => vec![],
        };
        for c in statuses.into_iter().chain(step.expect.preferred_status) {
            if !(MIN_STATUS..=MAX_STATUS).contains(&c) {
                report(format!("status {c} is not an HTTP status ({MIN_STATUS} to {MAX_STATUS}, RFC 9110 §15)"));
            }
        }
        if let Some(ms) = step.expect.max_time_ms {
            if ms < MIN_TIME_MS {
                report(format!("`maxTimeMs` must be at least {MIN_TIME_MS}, not {ms}"));
            }
        }
        if let (Some(p), Some(set)) = (step.expect.preferred_status, &step.expect.status) {
            if !set.accepts(p) {
                report(format!("`preferredStatus` {p} is not one of the accepted statuses ({set})"));
            }
        }
        if let Some(p) = step.pause {
            if !(0.0..=MAX_PAUSE_SECS).contains(&p) {
                report(format!("`pause` must be between 0 and {MAX_PAUSE_SECS} seconds, not {p}"));
            }
        }
        if let Some(n) = step.repeat {
            if !(2..=MAX_REPEAT).contains(&n) {
                report(format!("`repeat` must be between 2 and {MAX_REPEAT}, not {n}"));
            }
            if !step.capture.is_empty() {
                report("a repeated step cannot capture: which run's value would it be?".into());
            }
            if s.variables.contains_key(REPEAT_INDEX) {
                report(format!(
                    "a repeated step numbers its runs with `{{{{{REPEAT_INDEX}}}}}`, which is also a variable"
                ));
            }
        }
        if step.pages {
            if step.repeat.is_some() {
                report("`pages` and `repeat` are exclusive".into());
            }
            if !step.capture.is_empty() {
                report("a `pages` step cannot capture: which page's value would it be?".into());
            }
            if step.request.method != Method::GET {
                report("`pages` follows a list: the method must be GET".into());
            }
            let param = |name: &str| step.request.query.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
            match (param("startIndex").map(str::parse::<u64>), param("count").map(str::parse::<u64>)) {
                (Some(Ok(s)), Some(Ok(c))) if s >= 1 && c >= 1 => {}
                _ => report("`pages` needs literal `startIndex` ≥ 1 and `count` ≥ 1 query parameters".into()),
            }
        }
        for e in with_next_rules(s, i) {
            report(e);
        }
        let mut defined_here = defined.clone();
        if step.repeat.is_some() {
            defined_here.insert(REPEAT_INDEX.to_string());
        }
        let req = &step.request;
        // or with a placeholder: an endpoint the server declared (`{{roleEndpoint}}/{{roleId}}`, read from /ResourceTypes)
        if !req.path.starts_with('/') && !req.path.starts_with("{{") {
            report(format!("path `{}` must start with `/` (it is relative to the base URI)", req.path));
        }
        if req.path.contains('?') {
            report(format!("path `{}` contains `?`: put parameters in `query` so the profile encodes them", req.path));
        }
        let mut strings: Vec<&str> = vec![&req.path];
        for (_, v) in &req.query.0 {
            strings.push(v);
        }
        for v in req.headers.values().flatten() {
            strings.push(v);
        }
        if let Some(b) = &req.body {
            value_strings(b, &mut strings);
        }
        if let Some(t) = &req.body_text {
            if req.body.is_some() {
                report("`body` and `bodyText` are exclusive".into());
            }
            strings.push(t);
        }
        for a in &step.expect.body {
            if let Err(e) = validate_assertion(a, &s.file) {
                report(e);
            }
            a.template_strings(&mut strings);
        }
        for (h, pat) in &step.expect.headers {
            if let Some(p) = pat {
                if let Err(e) = Regex::new(p) {
                    report(format!("bad regular expression for header `{h}`: {e}"));
                }
            }
        }
        if let Some(StatusSet::Any(v)) = &step.expect.status {
            if v.is_empty() {
                report("`status` is an empty set".into());
            }
        }
        for s in strings {
            check_refs(s, &defined_here, &mut report);
        }
        for (name, cap) in &step.capture {
            if !name_re().is_match(name) {
                report(format!("capture name `{name}` is not an identifier"));
            }
            if s.variables.contains_key(name) {
                report(format!("capture `{name}` has the same name as a variable"));
            }
            match cap.source() {
                CaptureFrom::Pointer(p) | CaptureFrom::OptionalPointer(p) => {
                    if let Err(e) = check_pointer(&p) {
                        report(format!("capture `{name}`: {e}"));
                    }
                }
                CaptureFrom::Header(h) if h.trim().is_empty() => report(format!("capture `{name}`: empty header name")),
                CaptureFrom::Header(_) => {}
            }
            defined.insert(name.clone());
        }
    }
    if s.steps.is_empty() {
        errors.push((None, "a scenario needs at least one step".into()));
    }
    errors
}

fn check_refs(s: &str, defined: &BTreeSet<String>, report: &mut dyn FnMut(String)) {
    match placeholders(s) {
        Err(e) => report(e.to_string()),
        Ok(phs) => {
            for ph in phs {
                if ph.name.starts_with('$') {
                    report(format!(
                        "generator `{{{{{}}}}}` may only be used in `variables` (give the value a name)",
                        ph.name
                    ));
                } else if !defined.contains(&ph.name) {
                    report(format!("`{{{{{}}}}}` is neither a variable nor a capture of an earlier step", ph.name));
                }
            }
        }
    }
}

/// The most steps one group may send at once.
pub(super) const MAX_GROUP: usize = 16;

/// Load-time rules for step `i` of `s` as part of a `withNext` group (sent at once by [`crate::together`]); each error is a sentence for the loader.
///
/// A step in a group (one marked `withNext`, or the step right after one) cannot capture (the group's steps run
/// with copies of the variables, so which value would win?), repeat or follow pages; a `withNext` step cannot be
/// the last step; a group has at most [`MAX_GROUP`] steps.
fn with_next_rules(s: &Scenario, i: usize) -> Vec<String> {
    let step = &s.steps[i];
    let in_group = step.with_next || (i > 0 && s.steps[i - 1].with_next);
    let mut out = Vec::new();
    if !in_group {
        return out;
    }
    if step.with_next && i + 1 == s.steps.len() {
        out.push("`withNext` on the last step: there is no next step to send it with".into());
    }
    if !step.capture.is_empty() {
        out.push("a step sent together with others (`withNext`) cannot capture: the group runs at once".into());
    }
    if step.repeat.is_some() || step.pages {
        out.push("a step sent together with others (`withNext`) cannot `repeat` or follow `pages`".into());
    }
    let mut first = i;
    while first > 0 && s.steps[first - 1].with_next {
        first -= 1;
    }
    if step.with_next && i - first + 1 >= MAX_GROUP {
        out.push(format!("a `withNext` group has at most {MAX_GROUP} steps"));
    }
    out
}
