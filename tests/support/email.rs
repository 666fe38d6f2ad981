//! A strict e-mail address validator, as validating SCIM servers apply to `emails.value` (python's
//! `email-validator`, which pydantic's `EmailStr` uses, and the validators of common web frameworks). Its rules:
//!
//! - one `@`; the local part is an RFC 5322 §3.2.3 dot-atom (atext characters, dots only between them) of at
//!   most 64 octets (RFC 5321 §4.5.3.1.1); no quoted strings, no comments;
//! - the domain is a host name of at least two labels (RFC 1035 §2.3.1: letters, digits and inner hyphens, 1-63
//!   octets each, 253 in all; RFC 5321 §4.1.2 `Domain`), no address literal, with an alphabetic top-level label
//!   of two letters or more (a public-looking TLD);
//! - a special-use or reserved top-level domain (RFC 6761 §6: `test`, `localhost`, `invalid`; RFC 6762: `local`;
//!   RFC 2606 §2: `example`; RFC 7686: `onion`; `arpa`, `internal`) is refused: no mail can be delivered there.
//!   RFC 2606 §3 second-level names (`example.com`, `example.org`, `example.net`) are ordinary domains and pass.

/// Top-level domains a strict validator refuses.
pub const SPECIAL_USE_TLDS: &[&str] =
    &["test", "localhost", "invalid", "local", "example", "onion", "arpa", "internal"];

/// `Ok(())` when `address` passes, else why not.
pub fn check(address: &str) -> Result<(), String> {
    let (local, domain) = address.rsplit_once('@').ok_or_else(|| format!("{address:?} has no @"))?;
    if local.contains('@') {
        return Err(format!("{address:?} has more than one @"));
    }
    if local.is_empty() || local.len() > 64 {
        return Err(format!("{address:?}: the local part must have 1-64 octets (RFC 5321 §4.5.3.1.1)"));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if local.split('.').any(|atom| atom.is_empty() || !atom.chars().all(atext)) {
        return Err(format!("{address:?}: the local part is not a dot-atom (RFC 5322 §3.2.3)"));
    }
    if domain.is_empty() || domain.len() > 253 {
        return Err(format!("{address:?}: the domain must have 1-253 octets"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("{address:?}: the domain {domain:?} has no top-level domain"));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("{address:?}: {label:?} is not a host name label (RFC 1035 §2.3.1)"));
        }
    }
    let tld = labels[labels.len() - 1].to_ascii_lowercase();
    if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!("{address:?}: the top-level domain {tld:?} is not a public one"));
    }
    if SPECIAL_USE_TLDS.contains(&tld.as_str()) {
        return Err(format!("{address:?}: .{tld} is a special-use domain (RFC 6761 §6, RFC 2606 §2)"));
    }
    Ok(())
}

/// The `emails.value` strings a request body writes: `emails[].value` of a POST/PUT body, and in PATCH operations
/// (RFC 7644 §3.5.2) the string or `value` members of an operation whose `path` starts with `emails` (but not a
/// sub-attribute other than `value`), and the `emails` member (or an `emails…value` key) of a path-less value
/// object. Attribute names are matched case-insensitively (RFC 7643 §2.1).
pub fn written_emails(body: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    fn member<'a>(o: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
        o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
    fn values_of(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| values_of(x, out)),
            Value::Object(o) => {
                if let Some(Value::String(s)) = member(o, "value") {
                    out.push(s.clone());
                }
            }
            _ => {}
        }
    }
    fn of_resource(o: &serde_json::Map<String, Value>, out: &mut Vec<String>) {
        for (k, v) in o {
            let k = k.to_ascii_lowercase();
            if k == "emails" || (k.starts_with("emails") && k.ends_with(".value")) {
                values_of(v, out);
            }
        }
    }
    let mut out = Vec::new();
    let Some(o) = body.as_object() else { return out };
    of_resource(o, &mut out);
    for op in member(o, "Operations").and_then(Value::as_array).into_iter().flatten() {
        let Some(op) = op.as_object() else { continue };
        let value = member(op, "value").unwrap_or(&Value::Null);
        match member(op, "path").and_then(Value::as_str) {
            Some(path) => {
                let path = path.to_ascii_lowercase();
                let sub = path.rsplit_once(']').map_or_else(
                    || path.strip_prefix("emails").unwrap_or("x").trim_start_matches('.').to_string(),
                    |(_, after)| after.trim_start_matches('.').to_string(),
                );
                if path.starts_with("emails") && (sub.is_empty() || sub == "value") {
                    values_of(value, &mut out);
                }
            }
            None => {
                if let Some(v) = value.as_object() {
                    of_resource(v, &mut out);
                }
            }
        }
    }
    out
}
