//! IdP-generated values → variables with generators of the same shape.
//!
//! A recorded userName, e-mail, name, externalId GUID or Okta placeholder password would collide with the
//! recorded data on a second replay, and is often personal data (docs/engines.md §D.3, §D.10). Each
//! distinct value becomes a variable: first the atoms (GUIDs, Okta ids, passwords, given and family names) get
//! a generator of their shape, then values built from atoms (`Tina Erickson`, `tina.erickson@example.com`,
//! `Test_User_<guid>`) become templates over those variables, so a replay keeps the relationships the IdP's
//! data had; whatever is left gets a generator of its shape. E-mail domains are kept (servers may check them).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

/// What a value is, which decides its generator and the order it is planned in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// An externalId (Entra: a GUID; Okta: its user id `00u…`).
    ExternalId,
    /// Okta's placeholder password.
    Password,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// A filter value no write explains (Entra's random-GUID test query).
    Lookup,
    /// `name.formatted`.
    Formatted,
    /// `displayName`.
    DisplayName,
    /// `userName`.
    UserName,
    /// `emails[].value`.
    Email,
    /// Another identifying string (`nickName`, `employeeNumber`).
    Other,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::ExternalId => "externalId",
            Role::Password => "password",
            Role::GivenName => "givenName",
            Role::FamilyName => "familyName",
            Role::Lookup => "value",
            Role::Formatted => "formatted",
            Role::DisplayName => "displayName",
            Role::UserName => "userName",
            Role::Email => "email",
            Role::Other => "value",
        }
    }
}

/// Values found in a flow, in the order they were seen.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    seen: Vec<(String, String, Role)>,
}

impl Collector {
    /// Notes `value`, owned by `owner` (`user1`, `group2`, `lookup`), in `role`. Empty strings, booleans
    /// written as strings and values already noted are ignored.
    pub fn add(&mut self, value: &str, owner: &str, role: Role) {
        let v = value.trim();
        if v.is_empty() || v.len() > 256 || ["true", "false"].contains(&v.to_ascii_lowercase().as_str()) {
            return;
        }
        if let Some(seen) = self.seen.iter_mut().find(|(s, _, _)| s == value || s.eq_ignore_ascii_case(value)) {
            // the same value in two roles (Okta's userName is the e-mail) is named after the earlier role
            if role < seen.2 && seen.1 == owner {
                seen.2 = role;
            }
            return;
        }
        self.seen.push((value.to_string(), owner.to_string(), role));
    }

    /// Whether `value` was noted.
    pub fn contains(&self, value: &str) -> bool {
        self.seen.iter().any(|(s, _, _)| s == value)
    }

    /// Plans a variable for every value.
    pub fn plan(&self) -> Plan {
        let mut order: Vec<usize> = (0..self.seen.len()).collect();
        order.sort_by_key(|&i| (self.seen[i].2, i));
        let mut plan = Plan::default();
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        for i in order {
            let (value, owner, role) = &self.seen[i];
            let base = format!("{owner}.{}", role.key());
            let n = used.entry(base.clone()).or_insert(0);
            *n += 1;
            let name = if *n == 1 { base } else { format!("{base}{n}") };
            let template = compose(value, *role, &plan.values).unwrap_or_else(|| shape(value, *role));
            plan.variables.insert(name.clone(), template);
            plan.values.push((value.clone(), name));
        }
        plan
    }
}

/// The variables of a scenario and the recorded value each replaces.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Variable name → template.
    pub variables: BTreeMap<String, String>,
    /// Recorded value → variable name.
    pub values: Vec<(String, String)>,
}

impl Plan {
    /// The placeholder for a string that is exactly a recorded value (or its lower/upper-case form).
    pub fn placeholder(&self, s: &str) -> Option<String> {
        for (value, name) in &self.values {
            if s == value {
                return Some(format!("{{{{{name}}}}}"));
            }
        }
        for (value, name) in &self.values {
            if s == value.to_lowercase() && s != value {
                return Some(format!("{{{{{name}|lower}}}}"));
            }
            if s == value.to_uppercase() && s != value {
                return Some(format!("{{{{{name}|upper}}}}"));
            }
        }
        None
    }

    /// `s` with every double-quoted recorded value replaced (filters such as `userName eq "x"`).
    pub fn in_quotes(&self, s: &str) -> String {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| Regex::new(r#""([^"]*)""#).expect("valid regex"));
        re.replace_all(s, |c: &regex::Captures| match self.placeholder(&c[1]) {
            Some(p) => format!("\"{p}\""),
            None => c[0].to_string(),
        })
        .into_owned()
    }
}

fn uuid_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
            .expect("valid regex")
    })
}

/// A template built from the values already planned, when they make up most of `value`.
fn compose(value: &str, role: Role, planned: &[(String, String)]) -> Option<String> {
    if matches!(role, Role::ExternalId | Role::Password) {
        return None;
    }
    let (local, domain) = match (role, value.rsplit_once('@')) {
        (Role::Email | Role::UserName, Some((l, d))) if !l.is_empty() && !d.is_empty() => (l, Some(d)),
        _ => (value, None),
    };
    let mut candidates: Vec<&(String, String)> = planned.iter().filter(|(v, _)| v.chars().count() >= 3).collect();
    candidates.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    let lower_local = local.to_lowercase();
    let mut pieces: Vec<(usize, usize, String)> = Vec::new();
    for (v, name) in candidates {
        let lv = v.to_lowercase();
        let mut from = 0;
        while let Some(pos) = lower_local[from..].find(&lv).map(|p| p + from) {
            let end = pos + lv.len();
            from = end;
            if !local.is_char_boundary(pos) || !local.is_char_boundary(end) {
                continue;
            }
            if pieces.iter().any(|(s, e, _)| pos < *e && end > *s) {
                continue;
            }
            let found = &local[pos..end];
            let filter = if found == v {
                ""
            } else if found == v.to_lowercase() {
                "|lower"
            } else if found == v.to_uppercase() {
                "|upper"
            } else {
                continue;
            };
            pieces.push((pos, end, format!("{{{{{name}{filter}}}}}")));
        }
    }
    let covered: usize = pieces.iter().map(|(s, e, _)| e - s).sum();
    if pieces.is_empty() || covered * 2 < local.len() {
        return None;
    }
    pieces.sort_by_key(|(s, _, _)| *s);
    let mut out = String::new();
    let mut at = 0;
    for (s, e, ph) in pieces {
        out.push_str(&escape_braces(&local[at..s]));
        out.push_str(&ph);
        at = e;
    }
    out.push_str(&escape_braces(&local[at..]));
    if let Some(d) = domain {
        out.push('@');
        out.push_str(&escape_braces(d));
    }
    Some(out)
}

/// Literal text in a template must not open a placeholder.
fn escape_braces(s: &str) -> String {
    s.replace("{{", "{ {").replace("}}", "} }")
}

/// A generator template of the same shape as `value`.
pub fn shape(value: &str, role: Role) -> String {
    if uuid_re().is_match(value) {
        return if value.chars().any(|c| c.is_ascii_uppercase()) { "{{$uuid|upper}}" } else { "{{$uuid}}" }.into();
    }
    static OKTA_ID: OnceLock<Regex> = OnceLock::new();
    if OKTA_ID.get_or_init(|| Regex::new(r"^00[0-9A-Za-z]{18}$").expect("valid regex")).is_match(value) {
        return "{{$okta.userId}}".into();
    }
    if role == Role::Password {
        return "{{$okta.password}}".into();
    }
    if let Some(rest) = value.strip_prefix("Test_User_") {
        if uuid_re().is_match(rest) {
            return "{{$azure.userName}}".into();
        }
    }
    if let Some((local, domain)) = value.rsplit_once('@') {
        if !local.is_empty() && !domain.is_empty() && !domain.contains(' ') {
            if local.strip_prefix("Test_User_").is_some_and(|g| uuid_re().is_match(g)) {
                return format!("{{{{$azure.userName}}}}@{}", escape_braces(domain));
            }
            let lower = local.chars().all(|c| !c.is_ascii_uppercase());
            let f = if lower { "|lower" } else { "" };
            return format!("{{{{$name.given{f}}}}}.{{{{$name.family{f}}}}}@{}", escape_braces(domain));
        }
    }
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) {
        return "{{$digits}}".into();
    }
    match role {
        Role::GivenName => return "{{$name.given}}".into(),
        Role::FamilyName => return "{{$name.family}}".into(),
        _ => {}
    }
    match value.split_whitespace().count() {
        0 | 1 => "{{$name.family}}".into(),
        2 => "{{$name.given}} {{$name.family}}".into(),
        _ => "{{$name.family}} {{$digits}}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_get_generators_and_composites_become_templates() {
        let mut c = Collector::default();
        c.add("tina.erickson@mailinator.com", "user1", Role::UserName);
        c.add("Tina", "user1", Role::GivenName);
        c.add("Erickson", "user1", Role::FamilyName);
        c.add("Tina Erickson", "user1", Role::DisplayName);
        c.add("00u5hwkpq7IC0H7IS0h7", "user1", Role::ExternalId);
        c.add("y25bA4W3", "user1", Role::Password);
        c.add("tina.erickson@mailinator.com", "user1", Role::Email);
        let p = c.plan();
        assert_eq!(p.variables["user1.givenName"], "{{$name.given}}");
        assert_eq!(p.variables["user1.familyName"], "{{$name.family}}");
        assert_eq!(p.variables["user1.displayName"], "{{user1.givenName}} {{user1.familyName}}");
        assert_eq!(
            p.variables["user1.userName"],
            "{{user1.givenName|lower}}.{{user1.familyName|lower}}@mailinator.com"
        );
        assert_eq!(p.variables["user1.externalId"], "{{$okta.userId}}");
        assert_eq!(p.variables["user1.password"], "{{$okta.password}}");
        assert!(!p.variables.contains_key("user1.email"), "the e-mail equal to the userName is one variable");
        assert_eq!(p.placeholder("tina.erickson@mailinator.com").unwrap(), "{{user1.userName}}");
        assert_eq!(p.placeholder("TINA.ERICKSON@MAILINATOR.COM").unwrap(), "{{user1.userName|upper}}");
        assert_eq!(p.in_quotes(r#"userName eq "Tina""#), r#"userName eq "{{user1.givenName}}""#);
        assert_eq!(p.placeholder("other"), None);
    }

    #[test]
    fn entra_guids_and_test_user_names() {
        let mut c = Collector::default();
        c.add("Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee", "user1", Role::UserName);
        c.add("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "user1", Role::ExternalId);
        c.add("CF4D78E8-CC4F-4D5D-B8B9-183561C0104A", "lookup", Role::Lookup);
        let p = c.plan();
        assert_eq!(p.variables["user1.userName"], "{{$azure.userName}}");
        assert_eq!(p.variables["user1.externalId"], "{{$uuid}}");
        assert_eq!(p.variables["lookup.value"], "{{$uuid|upper}}");
    }

    #[test]
    fn shapes_of_leftovers() {
        assert_eq!(shape("Someone@Example.com", Role::Email), "{{$name.given}}.{{$name.family}}@Example.com");
        assert_eq!(shape("123456789", Role::Other), "{{$digits}}");
        assert_eq!(
            shape("Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com", Role::Email),
            "{{$azure.userName}}@testuser.com"
        );
        assert_eq!(shape("Sales Team", Role::DisplayName), "{{$name.given}} {{$name.family}}");
        assert_eq!(shape("Engineering", Role::DisplayName), "{{$name.family}}");
        assert_eq!(shape("a b c", Role::DisplayName), "{{$name.family}} {{$digits}}");
    }
}
