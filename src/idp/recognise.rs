//! Recognising a dialect: from one request ([`recognise`], the inverse of the builders in [`super`]) and from a
//! whole capture ([`recognise_capture`], for the recorder and for anyone reading a capture).
//! Each rule names the request shape it keys on and the document it comes from (`docs/`).

use serde_json::Value;

use super::{get_ci, Dialect, EntraDialect, OktaAppKind, ENTRA_GROUP_SCHEMA};
use crate::exchange::{decode_query, Method};
use crate::idp::Idp;

/// One piece of evidence: a request shape only `dialect` sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The dialect the shape belongs to.
    pub dialect: Dialect,
    /// The shape, in words, with its source.
    pub rule: &'static str,
}

const ENTRA_DEFAULT: Dialect = Dialect::Entra(EntraDialect::Default);
const ENTRA_OPT: Dialect = Dialect::Entra(EntraDialect::AadOptscim062020);
const OKTA_OIN: Dialect = Dialect::Okta(OktaAppKind::Oin);
const OKTA_AIW: Dialect = Dialect::Okta(OktaAppKind::Aiw);

/// The evidence one request gives about the dialect that sent it (empty when the shape is shared or unknown).
/// `path` is below the base URI (`/Users/{id}`); `query` is decoded.
pub fn recognise(method: Method, path: &str, query: &[(String, String)], body: Option<&Value>) -> Vec<Evidence> {
    let mut out = Vec::new();
    let mut say = |dialect, rule| {
        if !out.iter().any(|e: &Evidence| e.dialect == dialect && e.rule == rule) {
            out.push(Evidence { dialect, rule });
        }
    };
    let collection = path.trim_start_matches('/').split('/').next().unwrap_or("").to_ascii_lowercase();
    let has_id = path.trim_start_matches('/').split('/').nth(1).is_some_and(|s| !s.is_empty());
    let q = |name: &str| query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    match method {
        Method::GET => {
            if collection == "users"
                && q("filter").is_some()
                && q("startIndex") == Some("1")
                && q("count") == Some("100")
            {
                for d in [OKTA_OIN, OKTA_AIW] {
                    say(d, "user lookup with startIndex=1&count=100 (docs/okta.md §2 lookup before create)");
                }
            }
            if collection == "groups" && q("excludedAttributes").is_some_and(|v| v.eq_ignore_ascii_case("members")) {
                for d in [ENTRA_DEFAULT, ENTRA_OPT] {
                    say(d, "group read with excludedAttributes=members (docs/entra.md §1)");
                }
            }
        }
        Method::POST => {
            let body = body.unwrap_or(&Value::Null);
            if collection == "users" && get_ci(body, "password").is_some() {
                for d in [OKTA_OIN, OKTA_AIW] {
                    say(d, "POST /Users with a placeholder password (docs/okta.md §2 create user)");
                }
            }
            let schemas = get_ci(body, "schemas").and_then(Value::as_array);
            if collection == "groups" && schemas.is_some_and(|s| s.iter().any(|s| s == ENTRA_GROUP_SCHEMA)) {
                for d in [ENTRA_DEFAULT, ENTRA_OPT] {
                    say(d, "POST /Groups with the ADSCIM schema URN (docs/entra.md §1 body B)");
                }
            }
        }
        Method::PUT if has_id && collection == "groups" => {
            say(OKTA_AIW, "PUT /Groups/{id} (docs/okta.md §2: App Integration Wizard apps push groups by PUT)")
        }
        Method::PUT if has_id && collection == "users" => {
            for d in [OKTA_OIN, OKTA_AIW] {
                say(d, "PUT /Users/{id} (docs/okta.md §2 profile update; Entra always PATCHes)");
            }
        }
        Method::PATCH => {
            let ops = body.and_then(|b| get_ci(b, "Operations")).and_then(Value::as_array).cloned().unwrap_or_default();
            for op in &ops {
                let name = get_ci(op, "op").and_then(Value::as_str).unwrap_or("");
                let path = get_ci(op, "path").and_then(Value::as_str);
                let value = get_ci(op, "value");
                if matches!(name, "Add" | "Replace" | "Remove") {
                    say(ENTRA_DEFAULT, "capitalised PATCH op (docs/entra.md §2, default dialect)");
                }
                if value.is_some_and(|v| v == "True" || v == "False") {
                    say(
                        ENTRA_DEFAULT,
                        "boolean sent as the string \"True\"/\"False\" (docs/entra.md §2, default dialect)",
                    );
                }
                if name.eq_ignore_ascii_case("remove") && path == Some("members") && value.is_some() {
                    say(ENTRA_DEFAULT, "member removal as a value list (docs/entra.md §2, default dialect)");
                }
                let lower = name.chars().all(|c| c.is_ascii_lowercase());
                if lower
                    && path.is_some_and(|p| p.eq_ignore_ascii_case("active"))
                    && value.is_some_and(Value::is_boolean)
                {
                    say(
                        ENTRA_OPT,
                        "replace active with a JSON boolean and a path (docs/entra.md §2, aadOptscim062020)",
                    );
                }
                if let (None, Some(Value::Object(v))) = (path, value) {
                    if v.keys().any(|k| k.contains('.') || k.starts_with("urn:")) {
                        say(
                            ENTRA_OPT,
                            "path-less replace with dotted or URN keys (docs/entra.md §2, aadOptscim062020)",
                        );
                    }
                    let keys: Vec<String> = v.keys().map(|k| k.to_ascii_lowercase()).collect();
                    if collection == "groups"
                        && keys.iter().any(|k| k == "id")
                        && keys.iter().any(|k| k == "displayname")
                    {
                        say(OKTA_OIN, "group rename op whose value carries id (docs/okta.md §2 group push)");
                    }
                    if collection == "users" && keys == ["active"] {
                        say(OKTA_OIN, "path-less replace {\"active\": …} (docs/okta.md §2 deactivate, OIN apps)");
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// A lookup an IdP sends before it creates or updates: `GET /<collection>?filter=<attribute> eq "…"` (one
/// `eq` comparison, RFC 7644 §3.4.2.2), with paging parameters and `also` when the IdP sends it.
struct Lookup {
    idp: Idp,
    collection: &'static str,
    attribute: &'static str,
    /// A projection parameter the IdP's own lookup carries (name, value).
    also: Option<(&'static str, &'static str)>,
}

/// Every lookup Okta and Entra send, the one table [`Dialect::user_lookup`] and [`Dialect::group_lookup`] are
/// checked against and [`crate::report::reach`] reads. Okta: `userName` before a create (Okta's SCIM 2.0 guide,
/// "Create users"; docs/okta.md §2 'Lookup before create'); Entra: users by `userName` or `externalId`, groups by
/// `displayName` with `excludedAttributes=members` (docs/entra.md §1).
const LOOKUPS: [Lookup; 4] = [
    Lookup { idp: Idp::Okta, collection: "users", attribute: "username", also: None },
    Lookup { idp: Idp::Entra, collection: "users", attribute: "username", also: None },
    Lookup { idp: Idp::Entra, collection: "users", attribute: "externalid", also: None },
    Lookup {
        idp: Idp::Entra,
        collection: "groups",
        attribute: "displayname",
        also: Some(("excludedAttributes", "members")),
    },
];

/// Query parameters of a projection or an order (RFC 7644 §3.4.2.3, §3.4.2.5): a lookup carrying one its IdP does
/// not send ([`Lookup::also`]) tests the RFC's option, not the IdP's lookup.
const PROJECTION_AND_ORDER: [&str; 4] = ["attributes", "excludedAttributes", "sortBy", "sortOrder"];

/// Whether `idp` sends this request while provisioning and cannot do without it: one of its lookups ([`LOOKUPS`],
/// always a GET: neither IdP sends `POST /.search`) or one of its PATCHes. Entra updates users and groups and
/// disables users with PATCH (docs/entra.md §1); Okta PATCHes `active` to deactivate and reactivate OIN users, and
/// pushes groups with PATCH (docs/okta.md §2). `path` is below the base URI, `query` decoded.
pub fn sent_by_idp(idp: Idp, method: Method, path: &str, query: &[(String, String)], body: Option<&Value>) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let collection = segments.first().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
    match method {
        Method::GET => {
            let filter = query.iter().find(|(k, _)| k.eq_ignore_ascii_case("filter")).map(|(_, v)| v.as_str());
            let Some(attr) = filter.and_then(eq_attribute).map(|a| a.to_ascii_lowercase()) else { return false };
            LOOKUPS.iter().filter(|l| l.idp == idp && l.collection == collection && l.attribute == attr).any(|l| {
                query
                    .iter()
                    .filter(|(k, _)| PROJECTION_AND_ORDER.iter().any(|p| k.eq_ignore_ascii_case(p)))
                    .all(|(k, v)| l.also.is_some_and(|(n, w)| k.eq_ignore_ascii_case(n) && v.eq_ignore_ascii_case(w)))
            })
        }
        Method::PATCH if segments.len() == 2 => match (idp, collection.as_str()) {
            (Idp::Entra, "users" | "groups") | (Idp::Okta, "groups") => true,
            (Idp::Okta, "users") => touches_active(body),
            _ => false,
        },
        _ => false,
    }
}

/// The attribute of a filter that is one `attr eq "…"` comparison (RFC 7644 §3.4.2.2), else `None`.
fn eq_attribute(filter: &str) -> Option<&str> {
    static EQ: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?i)^\s*([A-Za-z][\w.:-]*)\s+eq\s+"(?:[^"\\]|\\.)*"\s*$"#).expect("regex")
    });
    EQ.captures(filter).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// Whether a PATCH body (RFC 7644 §3.5.2) changes `active`: an operation whose path is `active`, or a path-less
/// operation whose value object carries it.
fn touches_active(body: Option<&Value>) -> bool {
    let ops = body.and_then(|b| b.get("Operations")).and_then(Value::as_array);
    ops.into_iter().flatten().any(|op| match op.get("path").and_then(Value::as_str) {
        Some(p) => p.trim().eq_ignore_ascii_case("active"),
        None => op.get("value").and_then(Value::as_object).is_some_and(|v| v.keys().any(|k| k == "active")),
    })
}

/// One request of a capture, as the whole-capture recogniser ([`recognise_capture`]) reads it: what the IdP
/// sent, nothing of the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRequest<'a> {
    /// The method as sent (`GET`); one the dialects do not use adds no request-shape evidence.
    pub method: &'a str,
    /// The path below the base URI (`/Users/{id}`).
    pub path: &'a str,
    /// The query as sent, still encoded (`filter=userName+eq+%22a%22`).
    pub query: &'a str,
    /// The `User-Agent` header, if any.
    pub user_agent: Option<&'a str>,
    /// Whether an `ADSCIMVersion` header was sent (Entra, docs/entra.md §3).
    pub adscim_version: bool,
    /// The JSON request body, if any.
    pub body: Option<Value>,
}

/// The IdP of a capture, with its dialect and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized {
    /// The IdP.
    pub idp: Idp,
    /// The dialect, when the capture tells the IdP's variants apart.
    pub dialect: Option<Dialect>,
    /// What gave it away, one clue per entry.
    pub evidence: Vec<String>,
}

fn method(m: &str) -> Option<Method> {
    Some(match m {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => return None,
    })
}

/// Recognises the IdP of a whole capture; `choice` (an IdP rather than `None`, the recorder's `--idp auto`)
/// forces the IdP (the dialect is still detected). Besides each request's shape ([`recognise`]), it reads what
/// only a capture shows: the User-Agent (docs/okta.md §2: `Okta SCIM Client 1.0.0`), Entra's `ADSCIMVersion`
/// header (docs/entra.md §3), the [`EntraDialect::FLAG`] in the query (docs/entra.md §2) and how spaces are encoded
/// in filters (`+` for Entra, docs/entra.md §1; `%20` for Okta, docs/okta.md §2).
///
/// Each clue adds to a dialect's score; the IdP with the larger total wins (no clue at all: `rfc`), then its
/// best-scoring dialect when the clues tell its variants apart. Every clue is kept as evidence.
pub fn recognise_capture<'a>(
    requests: impl IntoIterator<Item = CapturedRequest<'a>>,
    choice: Option<Idp>,
) -> Recognized {
    const DIALECTS: [Dialect; 4] = Dialect::ALL;
    let mut scores = [0u32; 4];
    let mut entra_only = 0u32;
    let mut okta_only = 0u32;
    let mut evidence: Vec<String> = Vec::new();
    let mut note = |e: String| {
        if !evidence.contains(&e) {
            evidence.push(e);
        }
    };
    let at = |d: Dialect| DIALECTS.iter().position(|x| *x == d).expect("listed");
    for f in requests {
        if let Some(ua) = f.user_agent {
            let l = ua.to_ascii_lowercase();
            if l.contains("okta") {
                okta_only += 10;
                note(format!("User-Agent `{ua}`"));
            } else if ["microsoft", "azure", "entra", "aad"].iter().any(|k| l.contains(k)) {
                entra_only += 10;
                note(format!("User-Agent `{ua}`"));
            }
        }
        if f.adscim_version {
            entra_only += 5;
            note("`ADSCIMVersion` header (docs/entra.md §3)".into());
        }
        let params = decode_query(f.query);
        if params.iter().any(|(k, _)| k == EntraDialect::FLAG) {
            scores[at(Dialect::Entra(EntraDialect::AadOptscim062020))] += 10;
            note(format!("`{}` in the query (docs/entra.md §2)", EntraDialect::FLAG));
        }
        if params.iter().any(|(k, _)| k == "filter") {
            if f.query.contains('+') {
                entra_only += 1;
                note("`+` for spaces in filters (docs/entra.md §1)".into());
            } else if f.query.contains("%20") {
                okta_only += 1;
                note("`%20` for spaces in filters (docs/okta.md §2)".into());
            }
        }
        let Some(m) = method(f.method) else { continue };
        let query: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != EntraDialect::FLAG).collect();
        for e in recognise(m, f.path, &query, f.body.as_ref()) {
            scores[at(e.dialect)] += 3;
            note(e.rule.to_string());
        }
    }
    let entra = entra_only + scores[0] + scores[1];
    let okta = okta_only + scores[2] + scores[3];
    let idp = match choice {
        Some(idp) => idp,
        None if okta == 0 && entra == 0 => Idp::Rfc,
        None if entra > okta => Idp::Entra,
        None => Idp::Okta,
    };
    // the best variant of the IdP, when one scores more than the other
    let pick = |a: usize, b: usize| match scores[a].cmp(&scores[b]) {
        std::cmp::Ordering::Greater => Some(DIALECTS[a]),
        std::cmp::Ordering::Less => Some(DIALECTS[b]),
        std::cmp::Ordering::Equal => None,
    };
    let dialect = match idp {
        Idp::Entra => pick(0, 1),
        Idp::Okta => pick(2, 3),
        Idp::Rfc => None,
    };
    Recognized { idp, dialect, evidence }
}
