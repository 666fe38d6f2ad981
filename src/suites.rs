//! Named suites (`--suite NAME`): a certification suite an IdP runs on top of the common ones, as data. Selecting
//! one runs only its scenarios and turns the optional capability they rest on into a requirement: a target
//! without it gets one MUST failure citing the IdP's document ([`crate::requirements`]) instead of the skips it
//! gets when the suite is not selected.
//!
//! | suite | IdP | scenarios | capability |
//! |---|---|---|---|
//! | `okta-entitlements` | Okta | tag `entitlements` | [`Feature::OktaEntitlements`] |
//!
//! A new suite is one more row of [`SUITES`] (and, for its capability, one row of
//! [`crate::requirements::REQUIREMENTS`] naming the suite).

use crate::idp::Idp;
use crate::scenario::{Feature, Scenario};

/// A named suite.
#[derive(Debug)]
pub struct Suite {
    /// The name `--suite` takes.
    pub name: &'static str,
    /// The IdP whose scenarios it selects.
    pub idp: Idp,
    /// The tag its scenarios carry.
    pub tag: &'static str,
    /// The capability selecting the suite makes required.
    pub requires: Feature,
    /// What it reproduces, for `--help` and errors.
    pub about: &'static str,
}

/// Every suite.
pub static SUITES: &[Suite] = &[Suite {
    name: "okta-entitlements",
    idp: Idp::Okta,
    tag: "entitlements",
    requires: Feature::OktaEntitlements,
    about: "Okta Identity Governance: role and entitlement discovery and assignment (the OIN wizard's \
            \"Okta SCIM 2.0 Entitlements Test\")",
}];

impl Suite {
    /// Whether `s` belongs to the suite.
    pub fn selects(&self, s: &Scenario) -> bool {
        s.idp == self.idp && s.tags.iter().any(|t| t == self.tag)
    }
}

/// The name of Microsoft's gallery validation, which `--suite` also takes: not a selection of the library but its
/// own 25 tests ([`crate::gallery`]), run instead of it.
pub const ENTRA_GALLERY: &str = "entra-gallery";

/// The suite named `name` (any case).
pub fn find(name: &str) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.name.eq_ignore_ascii_case(name.trim()))
}

/// Parses a `--suite` value into its canonical name; an unknown name lists the known ones.
pub fn parse(name: &str) -> Result<String, String> {
    if name.trim().eq_ignore_ascii_case(ENTRA_GALLERY) {
        return Ok(ENTRA_GALLERY.to_string());
    }
    find(name).map(|s| s.name.to_string()).ok_or_else(|| {
        let mut known: Vec<String> = SUITES.iter().map(|s| format!("{} ({})", s.name, s.about)).collect();
        known.push(format!("{ENTRA_GALLERY} (Microsoft's Entra app gallery validation, its 25 tests)"));
        format!("unknown suite `{name}`; known: {}", known.join("; "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entitlements_suite_selects_the_okta_entitlement_scenarios_only() {
        let all = crate::library::built_in().expect("library");
        let suite = find("OKTA-entitlements").unwrap();
        let picked: Vec<&Scenario> = all.iter().filter(|s| suite.selects(s)).collect();
        assert!(picked.len() >= 4, "{}", picked.len());
        assert!(picked.iter().all(|s| s.id.starts_with("okta::entitlements::")));
        assert!(picked.iter().all(|s| s.requires.contains(&Feature::OktaEntitlements)));
        let e = parse("entra-whatever").unwrap_err();
        assert!(e.contains("okta-entitlements") && e.contains("entra-gallery"), "{e}");
        assert_eq!(parse(" Entra-Gallery").unwrap(), ENTRA_GALLERY);
    }
}
