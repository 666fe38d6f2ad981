//! Allowed variants: answers the RFC (and the IdPs a library replays) let a server choose, which the reference server
//! happens not to choose. Each is written like a fault — a rewrite of the reference server's answers — but proves
//! the opposite: `tests/faults.rs` runs every scenario of the libraries a variant applies to against it, and each
//! must still pass. A scenario that depended on the reference server's choice would fail here. The table in
//! `scenarios/rfc/ALLOWANCES.md` names the variant that covers each allowance.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value};

use super::email;
use super::faults::{keep, pass, with_headers, Before, Fault, Seen};

/// One allowed variant and where it applies.
pub struct Variant {
    /// The rewrite (named like a fault; never listed in a `faults.json`).
    pub fault: Fault,
    /// The rule that allows it.
    pub rule: &'static str,
    /// The scenario libraries whose scenarios must pass against it; a library whose IdP requires the reference
    /// server's choice is left out (Okta's suites assert `detail` on errors and `startIndex` on every list).
    pub libraries: &'static [&'static str],
    /// Whether a scenario may end `skip` (with its reason) instead of `pass`: the variant declines something the
    /// RFC lets a server decline, and a step that needs it is skipped, naming what was declined and the rule.
    pub may_skip: bool,
}

const ALL: &[&str] = &["okta", "azure", "rfc"];

/// Every allowed variant.
pub static VARIANTS: &[Variant] = &[
    Variant {
        fault: Fault {
            name: "patch-answers-204",
            description: "a successful PATCH answers 204 No Content without a body instead of 200 with the resource",
            before: pass,
            after: patch_answers_204,
        },
        rule: "RFC 7644 §3.5.2: on success the server returns 200 with the resource, or 204 with no body",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "error-without-detail",
            description: "Error bodies carry no `detail`",
            before: pass,
            after: error_without_detail,
        },
        rule: "RFC 7644 §3.12: detail is OPTIONAL (Okta's suites assert it, so the okta library is left out)",
        libraries: &["azure", "rfc"],
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "empty-list-without-resources",
            description: "a ListResponse with totalResults 0 leaves `Resources` out",
            before: pass,
            after: empty_list_without_resources,
        },
        rule: "RFC 7644 §3.4.2: Resources is REQUIRED only when totalResults is not zero",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "whole-list-without-paging-fields",
            description: "a ListResponse that holds every result (startIndex 1) leaves out `startIndex` and \
                          `itemsPerPage`",
            before: pass,
            after: whole_list_without_paging_fields,
        },
        rule: "RFC 7644 §3.4.2: startIndex and itemsPerPage are REQUIRED when partial results are returned \
               (Okta's suites assert both on every list, so the okta library is left out)",
        libraries: &["azure", "rfc"],
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "schemas-reversed",
            description: "every `schemas` array is sent in reverse order",
            before: pass,
            after: schemas_reversed,
        },
        rule: "RFC 7643 §3: schemas is a multi-valued attribute; the order of its URIs carries no meaning",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "names-in-other-case",
            description: "attribute names in responses are sent with an upper-case first letter (`UserName`, \
                          `TotalResults`, `Members`, `Value`); `id`, `schemas` and `meta` as they are",
            before: pass,
            after: names_in_other_case,
        },
        rule: "RFC 7643 §2.1: attribute names are case-insensitive",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "location-on-public-host",
            description: "meta.location and the Location header name the resource on the public host of a reverse \
                          proxy (https://scim.example.com/…) instead of the base URI the client used",
            before: pass,
            after: location_on_public_host,
        },
        rule: "RFC 7643 §3.1: meta.location is the resource's URI; RFC 7644 §3.3: Location carries the same URI. \
               Neither says it shares the host the request was sent to",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "location-relative",
            description: "the Location header of a 201 is a relative reference (`/scim/v2/Users/{id}`) while \
                          meta.location is absolute",
            before: pass,
            after: location_relative,
        },
        rule: "RFC 9110 §10.2.2: Location may be a relative reference, resolved against the request URI; \
               RFC 7644 §3.3 asks for the resource's URI there, which the resolved reference is",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "user-groups-omitted",
            description: "users are returned without the `groups` attribute",
            before: pass,
            after: user_groups_omitted,
        },
        rule: "RFC 7643 §4.1.2: groups is read-only and a service provider MAY leave it out; membership is on the \
               group",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "members-value-only",
            description: "group members are returned with `value` only (no `display`, `$ref` or `type`)",
            before: pass,
            after: members_value_only,
        },
        rule: "RFC 7643 §4.2: of a member's sub-attributes only value identifies it; display, $ref and type are \
               optional",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "create-without-body",
            description: "a successful create answers 201 with its Location header and no body",
            before: pass,
            after: create_without_body,
        },
        rule: "RFC 7644 §3.3: the response body SHOULD contain the created resource; Location SHALL name it \
               (Okta and Entra need the body, so only the rfc library)",
        libraries: &["rfc"],
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "strict-email-validator",
            description: "every `emails.value` written (create, replace, PATCH) must be an address a strict validator \
                          accepts (dot-atom local part, a public-looking TLD, no special-use domain such as .local or \
                          .test); anything else is refused with 400 invalidValue",
            before: strict_email_validator,
            after: keep,
        },
        rule: "RFC 7643 §4.1.2: emails.value is an e-mail address, canonicalised by the service provider per RFC \
               5321; RFC 7644 §3.12: a value that is not compatible with the attribute gets 400 invalidValue",
        libraries: ALL,
        may_skip: false,
    },
    Variant {
        fault: Fault {
            name: "filters-eq-only",
            description: "filters are limited to `eq` on userName, externalId, emails.value, id and displayName, joined \
                          by `and`/`or`; any other operator, attribute, `not` or value path is refused with 400 \
                          invalidFilter",
            before: filters_eq_only,
            after: keep,
        },
        rule: "RFC 7644 §3.4.2.2: filtering is OPTIONAL, and Table 9 names invalidFilter for \"the specified attribute and \
               filter comparison combination is not supported\"; Okta and Entra send only eq on these attributes",
        libraries: ALL,
        may_skip: true,
    },
    Variant {
        fault: Fault {
            name: "filters-without-or",
            description: "every filter using the logical operator `or` is refused with 400 invalidFilter; the rest \
                          is filtered as the reference server does",
            before: filters_without_or,
            after: keep,
        },
        rule: "RFC 7644 §3.4.2.2: filtering is OPTIONAL and a server may decline a filter it does not support (Table 9 \
               invalidFilter); Okta sends `userName eq`, Entra `eq` on userName or externalId, never `or`",
        libraries: ALL,
        may_skip: true,
    },
    Variant {
        fault: Fault {
            name: "emails-and-username-lowercased",
            description: "userName and every emails.value are stored (and returned) lower-cased",
            before: emails_and_username_lowercased,
            after: keep,
        },
        rule: "RFC 7643 §4.1.1, §4.1.2: userName and emails.value are caseExact false (§8.7.1), so a server may \
               canonicalise their case (RFC 7643 §2.2)",
        libraries: ALL,
        may_skip: false,
    },
];

/// A variant by name.
pub fn find(name: &str) -> Option<&'static Variant> {
    VARIANTS.iter().find(|v| v.fault.name == name)
}

fn patch_answers_204(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::PATCH && *status == StatusCode::OK {
        *status = StatusCode::NO_CONTENT;
        *body = None;
    }
}

fn is_error(body: &Value) -> bool {
    body.get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some("urn:ietf:params:scim:api:messages:2.0:Error")))
}

fn error_without_detail(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let Some(Value::Object(o)) = body {
        if is_error(&Value::Object(o.clone())) {
            o.remove("detail");
        }
    }
}

fn is_list(body: &Map<String, Value>) -> bool {
    body.get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some("urn:ietf:params:scim:api:messages:2.0:ListResponse")))
}

fn empty_list_without_resources(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let Some(Value::Object(o)) = body {
        if is_list(o) && o.get("totalResults").and_then(Value::as_u64) == Some(0) {
            o.remove("Resources");
        }
    }
}

fn whole_list_without_paging_fields(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let Some(Value::Object(o)) = body {
        let total = o.get("totalResults").and_then(Value::as_u64);
        let listed = o.get("Resources").and_then(Value::as_array).map_or(0, Vec::len) as u64;
        let first = o.get("startIndex").and_then(Value::as_u64).is_none_or(|s| s == 1);
        if is_list(o) && total == Some(listed) && first {
            o.remove("startIndex");
            o.remove("itemsPerPage");
        }
    }
}

fn reverse_schemas(v: &mut Value) {
    match v {
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k == "schemas" {
                    if let Value::Array(a) = x {
                        a.reverse();
                    }
                } else {
                    reverse_schemas(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(reverse_schemas),
        _ => {}
    }
}

fn schemas_reversed(_: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if let Some(b) = body {
        reverse_schemas(b);
    }
}

/// `userName` → `UserName`; names that are URIs, `id`, `schemas`, `meta` (and what is inside it) and `$ref` stay.
fn recase(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                let keep = k.contains(':') || matches!(k.as_str(), "id" | "schemas" | "meta") || k.starts_with('$');
                if k != "meta" {
                    recase(&mut x);
                }
                let name = if keep {
                    k
                } else {
                    let mut c = k.chars();
                    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
                };
                o.insert(name, x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(recase),
        _ => {}
    }
}

fn names_in_other_case(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    // discovery documents describe attributes by name; their own member names are the same kind of thing, but
    // keep them as they are so the variant is about resources, lists and errors
    let discovery = ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes"].iter().any(|p| seen.path.starts_with(p));
    if let (Some(b), false) = (body, discovery) {
        recase(b);
    }
}

const PUBLIC: &str = "https://scim.example.com/scim/v2";

fn to_public(v: &mut Value) {
    if let Some(Value::String(loc)) = v.pointer_mut("/meta/location") {
        if let Some(i) = loc.find("/Users/").or_else(|| loc.find("/Groups/")) {
            *loc = format!("{PUBLIC}{}", &loc[i..]);
        }
    }
}

fn location_on_public_host(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let Some(b) = body.as_mut() else { return };
    to_public(b);
    if let Some(Value::Array(rs)) = b.get_mut("Resources") {
        rs.iter_mut().for_each(to_public);
    }
    let created = seen.method == Method::POST && *status == StatusCode::CREATED;
    let loc = b.pointer("/meta/location").and_then(Value::as_str).map(str::to_string);
    if let (true, Some(loc)) = (created, loc) {
        let b = b.clone();
        *body = Some(with_headers(b, &[("location", &loc)]));
    }
}

fn location_relative(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let Some(b) = body.as_ref() else { return };
    if seen.method != Method::POST || *status != StatusCode::CREATED {
        return;
    }
    let Some(loc) = b.pointer("/meta/location").and_then(Value::as_str) else { return };
    // drop scheme and authority: `http://127.0.0.1:PORT/api/...` → `/api/...`
    let Some(path) = loc.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string())) else {
        return;
    };
    *body = Some(with_headers(b.clone(), &[("location", &path)]));
}

/// Applies `f` to the body and to each element of its `Resources`.
fn each_resource(body: &mut Option<Value>, f: fn(&mut Map<String, Value>)) {
    let Some(Value::Object(o)) = body else { return };
    if let Some(Value::Array(rs)) = o.get_mut("Resources") {
        rs.iter_mut().filter_map(Value::as_object_mut).for_each(f);
    }
    f(o);
}

fn user_groups_omitted(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.path.starts_with("/Users") {
        each_resource(body, |r| {
            r.remove("groups");
        });
    }
}

fn members_value_only(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.path.starts_with("/Groups") {
        each_resource(body, |r| {
            if let Some(Value::Array(ms)) = r.get_mut("members") {
                for m in ms.iter_mut().filter_map(Value::as_object_mut) {
                    m.retain(|k, _| k == "value");
                }
            }
        });
    }
}

fn create_without_body(seen: &Seen, status: &mut StatusCode, body: &mut Option<Value>) {
    let collection = matches!(seen.path.trim_end_matches('/'), "/Users" | "/Groups");
    if seen.method == Method::POST && collection && *status == StatusCode::CREATED {
        *body = None;
    }
}

/// A variant that is not all-pass, so it is not in [`VARIANTS`]: the ServiceProviderConfig declares `filter`
/// unsupported (RFC 7643 §5 lets a server do so; the server still answers filters, as a server that declares
/// less than it does would). The RFC scenarios that filter skip with that reason; Okta and Entra cannot provision
/// without filter, so the run must show exactly one failure per IdP (`okta::requirements::filter`,
/// `azure::requirements::filter`), their scenarios that filter `not run` under it, and every other scenario
/// passing. `tests/faults.rs` checks that exact outcome.
pub static SPC_FILTER_UNSUPPORTED: Fault = Fault {
    name: "spc-filter-unsupported",
    description: "the ServiceProviderConfig declares filter.supported false",
    before: pass,
    after: spc_filter_unsupported,
};

fn spc_filter_unsupported(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    if seen.method == Method::GET && seen.path.trim_end_matches('/') == "/ServiceProviderConfig" {
        if let Some(Value::Object(o)) = body {
            o.insert("filter".into(), serde_json::json!({"supported": false, "maxResults": 0}));
        }
    }
}

/// The User attributes [`SCHEMAS_DECLARE_MINIMAL_USER`] declares: the core attributes Okta's test plan requires.
const MINIMAL_USER: &[&str] = &["userName", "name", "emails", "active"];
/// The sub-attributes of `name` it declares.
const MINIMAL_NAME: &[&str] = &["givenName", "familyName"];
/// Attributes every resource keeps (RFC 7643 §3.1).
const COMMON: &[&str] = &["id", "externalId", "meta", "schemas"];

/// A variant run by its own test (it needs the run's discovery, which the all-pass loop does not make): `/Schemas`
/// declares only `userName`, `name.givenName`, `name.familyName`, `emails` and `active` of the core User schema,
/// and no extension (RFC 7643 §7 lets a server implement a subset), and the server ignores every other User
/// attribute on write (a create or replace keeps only those; a PATCH operation on another attribute is dropped, and
/// a PATCH left with none changes nothing). Every scenario must pass, or skip with its reason: the checks on attributes
/// the server does not declare are skipped, never failed.
pub static SCHEMAS_DECLARE_MINIMAL_USER: Fault = Fault {
    name: "schemas-declare-minimal-user",
    description: "/Schemas declares only userName, name.givenName, name.familyName, emails and active; other User \
                  attributes are ignored on write",
    before: minimal_user_writes,
    after: minimal_user_answers,
};

fn declared(key: &str) -> bool {
    MINIMAL_USER.iter().chain(COMMON).any(|k| k.eq_ignore_ascii_case(key))
}

/// A User body with only the declared attributes (and `name` with only its declared sub-attributes).
fn keep_declared(o: &mut Map<String, Value>) {
    o.retain(|k, _| declared(k));
    if let Some((_, Value::Object(name))) = o.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case("name")) {
        name.retain(|k, _| MINIMAL_NAME.iter().any(|n| n.eq_ignore_ascii_case(k)));
    }
}

/// Whether a PATCH path (`title`, `name.middleName`, `emails[type eq "work"].value`, a URN path) is declared.
fn declared_path(path: &str) -> bool {
    // a path qualified by the core User URN names a core attribute (RFC 7644 §3.10); any other URN is an extension,
    // which this server does not declare
    const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
    let path = match path.get(..CORE_USER.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(CORE_USER) => &path[CORE_USER.len()..],
        _ if path.to_ascii_lowercase().starts_with("urn:") => return false,
        _ => path,
    };
    let root = path.split(['[', '.']).next().unwrap_or(path);
    if root.eq_ignore_ascii_case("name") {
        return match path.split_once('.') {
            Some((_, sub)) => MINIMAL_NAME.iter().any(|n| n.eq_ignore_ascii_case(sub)),
            None => true,
        };
    }
    declared(root)
}

fn minimal_user_writes(seen: &Seen) -> Before {
    if !seen.path.starts_with("/Users") {
        return Before::Pass;
    }
    let Some(Value::Object(mut body)) = seen.body.clone() else { return Before::Pass };
    match seen.method {
        Method::POST | Method::PUT if !seen.path.ends_with("/.search") => {
            keep_declared(&mut body);
            Before::Rewrite(Value::Object(body))
        }
        Method::PATCH => {
            let ops = seen.operations();
            let mut kept = Vec::new();
            for mut op in ops {
                match op.get("path").and_then(Value::as_str).map(str::to_string) {
                    Some(p) if !declared_path(&p) => continue,
                    Some(_) => kept.push(op),
                    None => {
                        if let Some(Value::Object(v)) = op.get_mut("value") {
                            v.retain(|k, _| declared_path(k));
                            if v.is_empty() {
                                continue;
                            }
                        }
                        kept.push(op);
                    }
                }
            }
            if kept.is_empty() && !seen.operations().is_empty() {
                // every operation ignored: the request still goes through the server's checks (the user exists,
                // If-Match) as an operation that changes nothing
                kept.push(serde_json::json!({"op": "add", "path": "emails", "value": []}));
            }
            let key = body.keys().find(|k| k.eq_ignore_ascii_case("Operations")).cloned();
            if let Some(k) = key {
                body.insert(k, Value::Array(kept));
            }
            Before::Rewrite(Value::Object(body))
        }
        _ => Before::Pass,
    }
}

/// The answers of [`SCHEMAS_DECLARE_MINIMAL_USER`]: the minimal `/Schemas`, no `schemaExtensions`, Users with only
/// the declared attributes.
pub fn minimal_user_answers(seen: &Seen, _: &mut StatusCode, body: &mut Option<Value>) {
    let core_user = "urn:ietf:params:scim:schemas:core:2.0:User";
    if seen.path.starts_with("/Schemas") {
        let minimal = |schema: &mut Map<String, Value>| {
            if let Some(Value::Array(attrs)) = schema.get_mut("attributes") {
                attrs.retain(|a| a.get("name").and_then(Value::as_str).is_some_and(declared));
                for a in attrs.iter_mut() {
                    if a.get("name").and_then(Value::as_str) == Some("name") {
                        if let Some(Value::Array(subs)) = a.get_mut("subAttributes") {
                            subs.retain(|s| {
                                s.get("name").and_then(Value::as_str).is_some_and(|n| MINIMAL_NAME.contains(&n))
                            });
                        }
                    }
                }
            }
        };
        match body {
            Some(Value::Object(o)) if o.get("id").and_then(Value::as_str) == Some(core_user) => minimal(o),
            Some(Value::Object(o)) => {
                if let Some(Value::Array(rs)) = o.get_mut("Resources") {
                    // only the core schemas: no extension is declared
                    rs.retain(|r| r.get("id").and_then(Value::as_str).is_some_and(|id| id.contains(":core:")));
                    if let Some(n) = o.get("Resources").and_then(Value::as_array).map(Vec::len) {
                        o.insert("totalResults".into(), Value::from(n));
                        o.insert("itemsPerPage".into(), Value::from(n));
                    }
                    if let Some(Value::Array(rs)) = o.get_mut("Resources") {
                        for r in rs.iter_mut().filter_map(Value::as_object_mut) {
                            if r.get("id").and_then(Value::as_str) == Some(core_user) {
                                minimal(r);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    } else if seen.path.starts_with("/ResourceTypes") {
        each_resource(body, |r| {
            r.remove("schemaExtensions");
        });
    } else if seen.path.starts_with("/Users") {
        each_resource(body, keep_declared_answer);
    }
}

/// A User as the minimal server answers it: only what it declares (a ListResponse's own fields are not a User's).
fn keep_declared_answer(o: &mut Map<String, Value>) {
    let is_user = o
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some("urn:ietf:params:scim:schemas:core:2.0:User")));
    if is_user {
        keep_declared(o);
    }
}

fn scim_error(status: StatusCode, scim_type: &str, detail: &str) -> Before {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.as_u16().to_string(),
        "scimType": scim_type,
        "detail": detail,
    });
    Before::Respond(status, Some(body))
}

fn is_write(seen: &Seen) -> bool {
    matches!(seen.method, Method::POST | Method::PUT | Method::PATCH) && seen.path.starts_with("/Users")
}

fn strict_email_validator(seen: &Seen) -> Before {
    let Some(body) = seen.body.as_ref().filter(|_| is_write(seen)) else { return Before::Pass };
    for address in email::written_emails(body) {
        if let Err(why) = email::check(&address) {
            return scim_error(StatusCode::BAD_REQUEST, "invalidValue", &format!("emails.value: {why}"));
        }
    }
    Before::Pass
}

/// The attributes the eq-only server can filter on.
const FILTERABLE: &[&str] = &["username", "externalid", "emails.value", "id", "displayname"];

/// Whether `filter` is made only of `<attribute> eq <value>` comparisons on [`FILTERABLE`] attributes, joined by
/// `and`/`or` and grouped by parentheses.
fn eq_only(filter: &str) -> bool {
    let tokens = filter_tokens(filter);
    let words: Vec<&str> = tokens.iter().map(String::as_str).filter(|t| !matches!(*t, "(" | ")")).collect();
    // attr eq value (and|or attr eq value)*
    let mut i = 0;
    loop {
        let (Some(attr), Some(&"eq"), Some(_value)) = (words.get(i), words.get(i + 1), words.get(i + 2)) else {
            return false;
        };
        if !FILTERABLE.contains(attr) {
            return false;
        }
        i += 3;
        match words.get(i) {
            None => return true,
            Some(&"and") | Some(&"or") => i += 1,
            Some(_) => return false,
        }
    }
}

/// The tokens of a filter: lower-cased words, `(` and `)`, and `"` for each quoted value (its text dropped, so a
/// value such as `"a or b"` is never read as an operator).
fn filter_tokens(filter: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                }
            }
            tokens.push("\"".to_string());
        } else if c == '(' || c == ')' {
            chars.next();
            tokens.push(c.to_string());
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(word.to_ascii_lowercase());
        }
    }
    tokens
}

/// The filter of a list or search request (`GET /Users?filter=`, `GET /Groups?filter=`, `POST …/.search`).
fn request_filter(seen: &Seen) -> Option<String> {
    match (&seen.method, seen.path.as_str()) {
        (&Method::GET, p) if p.starts_with("/Users") || p.starts_with("/Groups") => seen.param("filter"),
        (&Method::POST, p) if p.ends_with("/.search") => {
            seen.body.as_ref().and_then(|b| b.get("filter")).and_then(Value::as_str).map(str::to_string)
        }
        _ => None,
    }
}

/// Refuses, with 400 invalidFilter, every filter that uses the logical operator `or` (outside a quoted value).
fn filters_without_or(seen: &Seen) -> Before {
    match request_filter(seen) {
        Some(f) if filter_tokens(&f).iter().any(|t| t == "or") => {
            scim_error(StatusCode::BAD_REQUEST, "invalidFilter", "the logical operator or is not supported")
        }
        _ => Before::Pass,
    }
}

fn filters_eq_only(seen: &Seen) -> Before {
    let filter = request_filter(seen);
    match filter {
        Some(f) if !eq_only(&f) => scim_error(
            StatusCode::BAD_REQUEST,
            "invalidFilter",
            "only eq on userName, externalId, emails.value, id and displayName is supported",
        ),
        _ => Before::Pass,
    }
}

fn lower(v: &mut Value) {
    match v {
        Value::String(s) => *s = s.to_lowercase(),
        Value::Array(a) => a.iter_mut().for_each(lower),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k.eq_ignore_ascii_case("value") {
                    lower(x);
                }
            }
        }
        _ => {}
    }
}

/// Lower-cases `userName` and `emails.value` in a resource object (or a path-less PATCH value object).
fn lower_resource(o: &mut Map<String, Value>) {
    for (k, v) in o.iter_mut() {
        let k = k.to_ascii_lowercase();
        if k == "username" {
            if let Value::String(s) = v {
                *s = s.to_lowercase();
            }
        } else if k == "emails" || (k.starts_with("emails") && k.ends_with(".value")) {
            lower(v);
        }
    }
}

fn emails_and_username_lowercased(seen: &Seen) -> Before {
    let Some(mut body) = seen.body.clone().filter(|_| is_write(seen)) else { return Before::Pass };
    let Some(o) = body.as_object_mut() else { return Before::Pass };
    lower_resource(o);
    let ops = o.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case("Operations")).map(|(_, v)| v);
    for op in ops.and_then(Value::as_array_mut).into_iter().flatten().filter_map(Value::as_object_mut) {
        let path = op.iter().find(|(k, _)| k.eq_ignore_ascii_case("path")).and_then(|(_, v)| v.as_str());
        let path = path.map(str::to_ascii_lowercase);
        let Some(value) = op.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case("value")).map(|(_, v)| v) else {
            continue;
        };
        match path.as_deref() {
            Some("username") => {
                if let Value::String(s) = value {
                    *s = s.to_lowercase();
                }
            }
            Some(p) if p.starts_with("emails") && (p.ends_with("value") || !p.contains('.')) => lower(value),
            Some(_) => {}
            None => {
                if let Some(v) = value.as_object_mut() {
                    lower_resource(v);
                }
            }
        }
    }
    if Some(&body) == seen.body.as_ref() {
        Before::Pass
    } else {
        Before::Rewrite(body)
    }
}
