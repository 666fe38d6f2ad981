//! Reading a ServiceProviderConfig tolerantly (RFC 7643 §5).
//!
//! RFC 7643 §5 gives each optional feature as a complex attribute with a boolean `supported`
//! (`"sort": {"supported": true}`). Real servers also send `"sort": false`, `{"supported": "false"}` (a string), or
//! leave a feature out. [`declared`] reads all of these; [`sort_supported`] is stricter, because judging sorting on a
//! server that did not clearly claim it only produces false failures: sorting is judged only when `sort.supported`
//! is declared true.

use serde_json::Value;

/// What a ServiceProviderConfig declares for a feature (`patch`, `bulk`, `filter`, `changePassword`, `sort`,
/// `etag`): `Some(true|false)` for `{"supported": true|false}`, for a bare boolean and for the strings `"true"` /
/// `"false"` in either place (any case; the SCIM boolean of RFC 7643 §2.3.2 as
/// [`scim_reference_server::values::scim_boolean`] reads it); member names match case-insensitively (RFC 7643
/// §2.1). `None` when the feature is missing or says nothing readable.
pub fn declared(spc: &Value, feature: &str) -> Option<bool> {
    use scim_reference_server::values::scim_boolean as boolean;
    fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
        v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
    let f = member(spc, feature)?;
    boolean(f).or_else(|| member(f, "supported").and_then(boolean))
}

/// Whether sorting may be judged: only when the ServiceProviderConfig was read and declares `sort.supported` true
/// (RFC 7643 §5, RFC 7644 §3.4.2.3: sorting is OPTIONAL). A missing, unreadable or non-RFC declaration counts as
/// unsupported.
pub fn sort_supported(spc: Option<&Value>) -> bool {
    spc.and_then(|v| declared(v, "sort")) == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn declarations_are_read_in_every_shape_servers_send() {
        assert_eq!(declared(&json!({"sort": {"supported": true}}), "sort"), Some(true));
        assert_eq!(declared(&json!({"sort": {"supported": false}}), "sort"), Some(false));
        assert_eq!(declared(&json!({"sort": false}), "sort"), Some(false));
        assert_eq!(declared(&json!({"sort": true}), "sort"), Some(true));
        assert_eq!(declared(&json!({"sort": {"supported": "false"}}), "sort"), Some(false));
        assert_eq!(declared(&json!({"Sort": {"Supported": "TRUE"}}), "sort"), Some(true));
        assert_eq!(declared(&json!({"sort": {}}), "sort"), None);
        assert_eq!(declared(&json!({"sort": {"supported": 1}}), "sort"), None);
        assert_eq!(declared(&json!({}), "sort"), None);
    }

    #[test]
    fn sort_is_judged_only_when_declared_true() {
        assert!(sort_supported(Some(&json!({"sort": {"supported": true}}))));
        for spc in [json!({"sort": false}), json!({"sort": {"supported": "false"}}), json!({}), json!({"sort": {}})] {
            assert!(!sort_supported(Some(&spc)), "{spc}");
        }
        assert!(!sort_supported(None));
    }
}
