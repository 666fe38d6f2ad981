//! Recognising a dialect from one request: the inverse of the builders in [`super`], for the recorder and for
//! anyone reading a capture. Each rule names the request shape it keys on and the document it comes from (`docs/`).

use serde_json::Value;

use super::{get_ci, Dialect, EntraDialect, OktaAppKind, ENTRA_GROUP_SCHEMA};
use crate::scenario::Method;

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
