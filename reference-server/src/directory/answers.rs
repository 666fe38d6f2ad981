//! What a request for one resource answers beyond its body, decided here and not in the HTTP handlers: a
//! conditional GET's "not modified" (RFC 7644 §3.14) and whether a PATCH answers with the resource (§3.5.2).
//! What a `replace` through an unmatched value filter does for each provisioning app is
//! [`crate::tenant::AppKind::unmatched_replace`].

use serde_json::Value;

use super::{etag, etag_matches, Directory};
use crate::error::ScimResult;
use crate::schema::ResourceKind;

/// The answer to a GET of one resource (RFC 7644 §3.4.1).
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// The resource, rendered.
    Resource(Value),
    /// `If-None-Match` named the current version: 304 Not Modified with that version as the ETag (RFC 7644
    /// §3.14), no body.
    NotModified {
        /// The resource's current version (`meta.version`, a weak ETag such as `W/"3"`).
        version: String,
    },
}

impl Directory {
    /// A GET of one resource, conditional on `if_none_match` (the `If-None-Match` header's value, if any): the
    /// resource, or [`Fetched::NotModified`] when the header names its current version or is `*` (RFC 7644
    /// §3.14, RFC 9110 §13.1.2).
    ///
    /// Errors: those of [`Directory::get`] (404 for an unknown or deleted id).
    /// The version is the record's own, so a 304 is decided before the resource is rendered.
    pub fn get_unless_current(&self, kind: ResourceKind, id: &str, if_none_match: Option<&str>) -> ScimResult<Fetched> {
        let st = self.read_state()?;
        let rec = st.visible(kind, id)?;
        let version = etag(rec.version);
        match if_none_match {
            Some(inm) if etag_matches(inm, &version) => Ok(Fetched::NotModified { version }),
            _ => Ok(Fetched::Resource(st.render(kind, rec)?)),
        }
    }
}

/// Whether a PATCH answers 200 with the resource rather than 204 No Content (RFC 7644 §3.5.2: "the server either
/// MUST return a 200 OK response code and the entire resource within the response body, … or … 204 No Content";
/// a body is due when `attributes` or `excludedAttributes` were requested). Users always answer with the
/// resource — Okta and Entra read the user back from the PATCH's answer — and groups with 204 unless a projection
/// was asked for, so a membership change of a large group does not render every member.
pub fn patch_answers_with_body(kind: ResourceKind, projection_requested: bool) -> bool {
    kind == ResourceKind::User || projection_requested
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_answers_a_user_always_and_a_group_only_when_a_projection_is_asked() {
        assert!(patch_answers_with_body(ResourceKind::User, false));
        assert!(!patch_answers_with_body(ResourceKind::Group, false));
        assert!(patch_answers_with_body(ResourceKind::Group, true));
    }

    #[test]
    fn a_get_is_not_modified_only_for_the_current_version_or_a_star() {
        let d = Directory::new(Default::default());
        let u = d.create(ResourceKind::User, serde_json::json!({"userName": "inm@example.com"})).unwrap();
        let id = u["id"].as_str().unwrap();
        let version = crate::store::version_of(&u).unwrap().to_string();
        let not_modified = Fetched::NotModified { version: version.clone() };
        assert_eq!(d.get_unless_current(ResourceKind::User, id, Some(&version)).unwrap(), not_modified);
        assert_eq!(d.get_unless_current(ResourceKind::User, id, Some("*")).unwrap(), not_modified);
        let stale = d.get_unless_current(ResourceKind::User, id, Some("W/\"other\"")).unwrap();
        assert!(matches!(stale, Fetched::Resource(v) if v["id"] == id));
        assert!(matches!(d.get_unless_current(ResourceKind::User, id, None).unwrap(), Fetched::Resource(_)));
        assert_eq!(d.get_unless_current(ResourceKind::User, "missing", Some("*")).unwrap_err().status(), 404);
    }

    #[test]
    fn a_user_touched_by_a_membership_is_not_modified_only_for_its_new_version() {
        let d = Directory::new(Default::default());
        let u = d.create(ResourceKind::User, serde_json::json!({"userName": "touched@example.com"})).unwrap();
        let id = u["id"].as_str().unwrap();
        let before = crate::store::version_of(&u).unwrap().to_string();
        d.create(ResourceKind::Group, serde_json::json!({"displayName": "g", "members": [{"value": id}]})).unwrap();
        let now = d.get(ResourceKind::User, id).unwrap();
        let now = crate::store::version_of(&now).unwrap().to_string();
        assert_ne!(now, before, "joining a group changes the user's derived groups, so its version");
        let stale = d.get_unless_current(ResourceKind::User, id, Some(&before)).unwrap();
        assert!(matches!(stale, Fetched::Resource(v) if v["meta"]["version"] == now.as_str()));
        let current = d.get_unless_current(ResourceKind::User, id, Some(&now)).unwrap();
        assert_eq!(current, Fetched::NotModified { version: now });
    }
}
