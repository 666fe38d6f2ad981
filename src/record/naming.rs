//! Flow file names that say what a recorded flow does and to whom: `03_create_and_deactivate_jane.json`,
//! `02_import_users_pages.json`, `04_push_group_engineering.json`.
//!
//! The subject is the resource's real `userName` (RFC 7643 §4.1.1; the local part of an e-mail address) or
//! `displayName` (§4.2), folded to lowercase ASCII; the verbs are the IdP's operations in the order they were
//! sent. Okta calls provisioning a group "Group Push"
//! (<https://help.okta.com/en-us/content/topics/users-groups-profiles/app-assignments-group-push.htm>), so an
//! Okta group flow is a `push`. A name is never built from a credential: [`super::convert::write_all`] falls
//! back to the resource's label when a name holds a recorded secret.

use serde_json::Value;

use super::fixture::FixtureType;

/// Longest subject slug, in bytes.
pub const MAX_SLUG: usize = 32;

/// What one request did to its resource, for the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `POST` (RFC 7644 §3.3).
    Create,
    /// `PUT` or `PATCH` that sets `active` to false (Okta's and Entra's deprovisioning).
    Deactivate,
    /// `PUT` or `PATCH` that sets `active` to true.
    Reactivate,
    /// Any other `PUT` (RFC 7644 §3.5.1) or `PATCH` (§3.5.2).
    Update,
    /// `DELETE` (RFC 7644 §3.6).
    Delete,
    /// `GET` of one resource or a filtered list.
    Read,
}

impl Verb {
    /// The word in a file name.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Deactivate => "deactivate",
            Verb::Reactivate => "reactivate",
            Verb::Update => "update",
            Verb::Delete => "delete",
            Verb::Read => "read",
        }
    }

    /// The verb of a request: `method` as sent, `body` its JSON body.
    pub fn of(method: &str, body: Option<&Value>) -> Verb {
        match method {
            "POST" => Verb::Create,
            "DELETE" => Verb::Delete,
            "PUT" | "PATCH" => match active_set_to(body) {
                Some(false) => Verb::Deactivate,
                Some(true) => Verb::Reactivate,
                None => Verb::Update,
            },
            _ => Verb::Read,
        }
    }
}

/// The value a PUT body or PATCH operations set `active` to: a top-level `active`, an operation with path
/// `active`, or an operation whose value object has `active`; Entra's string booleans (`"False"`) count, read as
/// the SCIM boolean of RFC 7643 §2.3.2 ([`scim_reference_server::values::scim_boolean`]).
fn active_set_to(body: Option<&Value>) -> Option<bool> {
    use scim_reference_server::values::scim_boolean as flag;
    let body = body?.as_object()?;
    let get = |o: &serde_json::Map<String, Value>, name: &str| {
        o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    };
    if let Some(v) = get(body, "active") {
        return flag(&v);
    }
    let ops = get(body, "Operations")?;
    for op in ops.as_array()?.iter().filter_map(Value::as_object) {
        let value = get(op, "value");
        match get(op, "path").as_ref().and_then(Value::as_str) {
            Some(p) if p.eq_ignore_ascii_case("active") => return value.as_ref().and_then(flag),
            Some(_) => {}
            None => {
                if let Some(v) = value.as_ref().and_then(Value::as_object).and_then(|o| get(o, "active")) {
                    return flag(&v);
                }
            }
        }
    }
    None
}

/// A resource of the flow: its type and its real name (`userName` or `displayName`), when one was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// User or Group.
    pub kind: FixtureType,
    /// The real name, or the flow's label for it (`user1`) when none was seen.
    pub name: String,
}

/// `name` as a file-name slug: the local part of an e-mail address, lowercase, Latin letters folded to ASCII,
/// every other run of characters one `_`, at most [`MAX_SLUG`] bytes. `None` when nothing is left.
pub fn slug(name: &str) -> Option<String> {
    let local = name.split('@').next().unwrap_or(name);
    let mut out = String::new();
    let mut gap = false;
    for c in local.chars().flat_map(char::to_lowercase) {
        let folded = fold(c);
        match folded {
            Some(s) => {
                if gap && !out.is_empty() {
                    out.push('_');
                }
                gap = false;
                for ch in s.chars() {
                    if out.len() < MAX_SLUG {
                        out.push(ch);
                    }
                }
            }
            None => gap = true,
        }
    }
    let out = out.trim_end_matches('_').to_string();
    (!out.is_empty()).then_some(out)
}

/// A lowercase character as ASCII letters or digits; `None` for a separator or a character with no Latin form.
fn fold(c: char) -> Option<String> {
    if c.is_ascii_alphanumeric() {
        return Some(c.to_string());
    }
    let s = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ř' => "r",
        'ś' | 'š' | 'ş' => "s",
        'ť' | 'ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        'ð' => "d",
        _ => return None,
    };
    Some(s.to_string())
}

/// The name of a flow's file (without number and extension) from what its requests did (`verbs`, each with the
/// type of resource its request addressed) to its subjects: a group's flow is named after its group(s) (`push`
/// for Okta), a user's after the user; more than one subject of that type adds `_and_N_more`. The verbs are those
/// of requests to the named type, distinct, in order, joined by `_and_` (`read` only when nothing else happened).
pub fn flow_name(verbs: &[(FixtureType, Verb)], subjects: &[Subject], okta: bool) -> String {
    let groups: Vec<&Subject> = subjects.iter().filter(|s| s.kind == FixtureType::Group).collect();
    let users: Vec<&Subject> = subjects.iter().filter(|s| s.kind == FixtureType::User).collect();
    let (named, is_group) = if groups.is_empty() { (users, false) } else { (groups, true) };
    let mut words: Vec<&str> = Vec::new();
    let kind = if is_group { FixtureType::Group } else { FixtureType::User };
    for (_, v) in verbs.iter().filter(|(k, v)| *k == kind && *v != Verb::Read) {
        let w = match v {
            Verb::Create | Verb::Update if is_group && okta => "push",
            other => other.word(),
        };
        if !words.contains(&w) {
            words.push(w);
        }
    }
    if words.is_empty() {
        words.push(Verb::Read.word());
    }
    let who = match named.first() {
        None => "resources".to_string(),
        Some(first) => {
            let base = slug(&first.name).unwrap_or_else(|| if is_group { "group".into() } else { "user".into() });
            let base = if is_group { format!("group_{base}") } else { base };
            match named.len() {
                1 => base,
                n => format!("{base}_and_{}_more", n - 1),
            }
        }
    };
    format!("{}_{who}", words.join("_and_"))
}

/// `rel_path` (`<idp>/<group>/NN_<name>.json`) as written: when `holds_secret` says the path shows a recorded
/// credential, the name after the number becomes `flow`, so no file name ever carries a secret.
pub fn without_secrets(rel_path: &str, holds_secret: impl Fn(&str) -> bool) -> String {
    if !holds_secret(rel_path) {
        return rel_path.to_string();
    }
    let (dir, file) = rel_path.rsplit_once('/').unwrap_or(("", rel_path));
    let number: String = file.chars().take_while(char::is_ascii_digit).collect();
    let safe = format!("{number}_flow.json");
    if dir.is_empty() || holds_secret(dir) {
        safe
    } else {
        format!("{dir}/{safe}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(n: &str) -> Subject {
        Subject { kind: FixtureType::User, name: n.into() }
    }
    fn group(n: &str) -> Subject {
        Subject { kind: FixtureType::Group, name: n.into() }
    }

    #[test]
    fn slugs_are_the_ascii_local_part() {
        assert_eq!(slug("jane.doe@example.com").as_deref(), Some("jane_doe"));
        assert_eq!(slug("Zoë Ångström-Łukasz").as_deref(), Some("zoe_angstrom_lukasz"));
        assert_eq!(slug("Engineering (EU)").as_deref(), Some("engineering_eu"));
        assert_eq!(slug("日本"), None);
        assert_eq!(slug("@example.com"), None);
        assert!(slug(&"a".repeat(100)).unwrap().len() == MAX_SLUG);
    }

    #[test]
    fn verbs_read_the_active_flag_in_every_dialect() {
        let okta = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let entra = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let put = json!({"userName": "a", "active": true});
        let rename = json!({"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
        assert_eq!(Verb::of("PATCH", Some(&okta)), Verb::Deactivate);
        assert_eq!(Verb::of("PATCH", Some(&entra)), Verb::Deactivate);
        assert_eq!(Verb::of("PUT", Some(&put)), Verb::Reactivate);
        assert_eq!(Verb::of("PATCH", Some(&rename)), Verb::Update);
        // the SCIM boolean the reference server accepts (RFC 7643 §2.3.2): any case, surrounding spaces ignored
        let padded = json!({"Operations": [{"op": "Replace", "path": "active", "value": " TRUE "}]});
        assert_eq!(Verb::of("PATCH", Some(&padded)), Verb::Reactivate);
        let yes = json!({"Operations": [{"op": "Replace", "path": "active", "value": "yes"}]});
        assert_eq!(Verb::of("PATCH", Some(&yes)), Verb::Update);
        assert_eq!(Verb::of("POST", None), Verb::Create);
        assert_eq!(Verb::of("DELETE", None), Verb::Delete);
        assert_eq!(Verb::of("GET", None), Verb::Read);
    }

    #[test]
    fn flow_names_say_what_and_whom() {
        use FixtureType::{Group as G, User as U};
        use Verb::*;
        let jane = [user("jane@example.com")];
        let verbs = [(U, Read), (U, Create), (U, Read), (U, Deactivate)];
        assert_eq!(flow_name(&verbs, &jane, true), "create_and_deactivate_jane");
        let eng = [user("jane@example.com"), group("Engineering")];
        let verbs = [(U, Create), (U, Deactivate), (G, Create), (G, Update), (G, Delete)];
        assert_eq!(flow_name(&verbs, &eng, true), "push_and_delete_group_engineering");
        assert_eq!(flow_name(&verbs, &eng, false), "create_and_update_and_delete_group_engineering");
        assert_eq!(flow_name(&[(U, Read)], &[user("user1")], false), "read_user1");
        let many = [user("a@x"), user("b@x"), user("c@x")];
        assert_eq!(flow_name(&[(U, Create)], &many, false), "create_a_and_2_more");
        assert_eq!(flow_name(&[(U, Read)], &[user("日本")], false), "read_user");
    }

    #[test]
    fn a_name_showing_a_secret_is_replaced() {
        let secret = |p: &str| p.contains("s3cret");
        assert_eq!(without_secrets("okta/g/03_create_s3cret.json", secret), "okta/g/03_flow.json");
        assert_eq!(without_secrets("okta/g/03_create_jane.json", secret), "okta/g/03_create_jane.json");
    }
}
