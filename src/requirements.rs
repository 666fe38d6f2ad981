//! IdP requirements: the capabilities an IdP cannot provision without. When the target's ServiceProviderConfig
//! declares one unsupported (RFC 7643 §5), that is not an optional feature to skip: the IdP cannot work with the
//! server at all. Such a run gets **one MUST failure per IdP and capability**, citing the IdP's document (a result
//! of its own, `okta::requirements::filter`), and that IdP's scenarios that need the capability are not run under
//! that cause — instead of each quietly skipping, or each failing the same way. `rfc` scenarios keep skipping
//! optional features with their reason ([`crate::capabilities::Capabilities::skip_reason`]).
//!
//! The table, from the IdPs' own documents:
//! - Okta looks every user up with `filter=userName eq "…"` before it creates one, and its OIN SPEC suite does
//!   the same (Okta's SCIM 2.0 guide, "Create users"); it deactivates and reactivates users of OIN apps with a
//!   PATCH of `active` and does not fall back to PUT (the guide's "Update a specific user (PATCH)").
//! - Entra ID queries the target by the matching attribute (`userName`, `externalId`) before it creates or
//!   updates a user, and updates and disables users with PATCH (Microsoft's "Develop and plan provisioning for a
//!   SCIM endpoint", its requirements list for the endpoint).

use crate::capabilities::Capabilities;
use crate::check::Failure;
use crate::idp::Idp;
use crate::scenario::{Basis, Feature, Kind, Level, Scenario};
use crate::verdict::{ScenarioResult, StepResult, StepVerdict, Verdict};

/// A capability an IdP cannot provision without.
#[derive(Debug)]
pub struct IdpRequirement {
    /// The IdP.
    pub idp: Idp,
    /// The capability, as the ServiceProviderConfig declares it.
    pub feature: Feature,
    /// What the IdP does with it, completing "<IdP> cannot provision this server: …".
    pub uses: &'static str,
    /// The IdP's document that states it (a public URL with its section).
    pub source: &'static str,
    /// For a capability that is optional unless a suite is selected ([`crate::suites`]): the suite's name, and
    /// what the target lacks (in place of "its ServiceProviderConfig declares … unsupported"). `None` for a
    /// ServiceProviderConfig feature, required in every run.
    pub suite: Option<(&'static str, &'static str)>,
}

/// Every IdP requirement.
pub static REQUIREMENTS: &[IdpRequirement] = &[
    IdpRequirement {
        idp: Idp::Okta,
        feature: Feature::Filter,
        uses: "it looks users up with filter=userName eq \"…\" before it creates them, and its OIN SPEC test does \
               the same",
        source: "Okta SCIM 2.0 guide, Create users: \
                 https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20#create-users",
        suite: None,
    },
    IdpRequirement {
        idp: Idp::Okta,
        feature: Feature::OktaEntitlements,
        uses: "it discovers an app's roles and entitlements from /ResourceTypes, lists each resource type whose \
               schema is urn:okta:scim:schemas:core:1.0:Role or …:Entitlement at its endpoint, and assigns them in \
               users' roles and entitlements",
        source: "Okta, Build a SCIM 2.0 server with entitlements, Endpoint call sequence: \
                 https://developer.okta.com/docs/guides/scim-with-entitlements/main/#endpoint-call-sequence",
        suite: Some((
            "okta-entitlements",
            "its /ResourceTypes lists no resource type with Okta's Role and Entitlement schemas, or its User schema \
             declares no roles and entitlements",
        )),
    },
    IdpRequirement {
        idp: Idp::Okta,
        feature: Feature::Patch,
        uses: "it deactivates and reactivates users (OIN apps) and pushes groups with PATCH, and does not fall back \
               to PUT",
        source: "Okta SCIM 2.0 guide, Update a specific user (PATCH): \
                 https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20#update-a-specific-user-patch",
        suite: None,
    },
    IdpRequirement {
        idp: Idp::Entra,
        feature: Feature::Filter,
        uses: "it queries users by their matching attribute (filter=userName eq \"…\" or externalId eq \"…\") \
               before every create or update, and groups by displayName",
        source: "Microsoft Entra, Develop and plan provisioning for a SCIM endpoint, endpoint requirements: \
                 https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#understand-the-microsoft-entra-scim-implementation",
        suite: None,
    },
    IdpRequirement {
        idp: Idp::Entra,
        feature: Feature::Patch,
        uses: "it updates users and groups and disables users (active=false) with PATCH",
        source: "Microsoft Entra, Develop and plan provisioning for a SCIM endpoint, endpoint requirements: \
                 https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#understand-the-microsoft-entra-scim-implementation",
        suite: None,
    },
];

impl IdpRequirement {
    /// The IdP's display name (`Okta`, `Entra ID`).
    pub fn idp_name(&self) -> &'static str {
        match self.idp {
            Idp::Okta => "Okta",
            Idp::Entra => "Entra ID",
            Idp::Rfc => "RFC",
        }
    }

    /// The id of the requirement's own result: `okta::requirements::filter`.
    pub fn id(&self) -> String {
        format!("{}::requirements::{}", self.idp.folder(), self.feature.as_str())
    }

    /// The cause in one sentence: "Okta cannot provision this server: it looks users up with … (ServiceProvider
    /// Config declares filter unsupported)".
    pub fn cause(&self) -> String {
        format!("{} cannot provision this server: {}, and {}", self.idp_name(), self.uses, self.lacks())
    }

    /// What the target lacks: "its ServiceProviderConfig declares filter unsupported", or the suite's text.
    pub fn lacks(&self) -> String {
        match self.suite {
            Some((_, lacks)) => lacks.to_string(),
            None => format!("its ServiceProviderConfig declares {} unsupported", self.feature.as_str()),
        }
    }

    /// Whether the requirement holds in a run that selected `suites`: always, or when its suite is selected.
    pub fn applies(&self, suites: &[String]) -> bool {
        self.suite.is_none_or(|(name, _)| suites.iter().any(|s| s == name))
    }

    /// Why a scenario that needs the capability is not run.
    pub fn not_run_reason(&self) -> String {
        format!("not run: {} ({})", self.cause(), self.id())
    }

    /// The requirement's own MUST-level failure: one step judging the ServiceProviderConfig's declaration,
    /// basis `required` with the IdP's document.
    pub fn failure(&self) -> ScenarioResult {
        let basis = Basis::Required(self.source.to_string());
        let step = StepResult {
            note: Some(self.cause()),
            basis: Some(basis.clone()),
            failures: vec![Failure {
                id: crate::check::CheckId::Other,
                check: match self.suite {
                    Some(_) => format!("/ResourceTypes declares {}", self.feature.as_str()),
                    None => format!("ServiceProviderConfig {}.supported", self.feature.as_str()),
                },
                expected: format!("true: {} needs it ({})", self.idp_name(), self.uses),
                actual: match self.suite {
                    Some((_, lacks)) => lacks.trim_start_matches("its ").to_string(),
                    None => "false".into(),
                },
                basis: Some(basis),
                level: None,
            }],
            ..StepResult::new(
                match self.suite {
                    Some(_) => format!("/ResourceTypes declares {}", self.feature.as_str()),
                    None => format!("ServiceProviderConfig declares {} supported", self.feature.as_str()),
                },
                Level::Must,
                Kind::Interop,
                StepVerdict::Fail,
            )
        };
        ScenarioResult {
            id: self.id(),
            title: format!("{} needs {}", self.idp_name(), self.feature.as_str()),
            source: self.source.to_string(),
            file: String::new(),
            idp: self.idp,
            level: Level::Must,
            verdict: Verdict::Fail,
            kind: Kind::Interop,
            failed_level: Some(Level::Must),
            failed_kind: Some(Kind::Interop),
            reason: None,
            steps: vec![step],
            cleanup: vec![],
            notes: vec![],
            snapshot: None,
            transcript_text: None,
            setup_step: None,
            duration_ms: 0.0,
            server_ms: 0.0,
        }
    }
}

/// The requirement of `s`'s IdP that applies in a run of `suites` ([`IdpRequirement::applies`]), that the target
/// lacks and `s` needs, if any: `s` is then not run under that cause. `rfc` scenarios have none.
pub fn blocking(caps: &Capabilities, s: &Scenario, suites: &[String]) -> Option<&'static IdpRequirement> {
    REQUIREMENTS.iter().find(|r| {
        r.idp == s.idp
            && r.applies(suites)
            && s.requires.contains(&r.feature)
            && caps.supports(r.feature) == Some(false)
    })
}

/// The failures of a run over `scenarios` with `suites` selected: one per IdP requirement that applies, the target
/// lacks and some selected scenario of that IdP needs (a run of `--idp rfc` judges no IdP's requirements).
pub fn failures(caps: &Capabilities, scenarios: &[Scenario], suites: &[String]) -> Vec<ScenarioResult> {
    REQUIREMENTS
        .iter()
        .filter(|r| scenarios.iter().any(|s| blocking(caps, s, suites).is_some_and(|b| std::ptr::eq(b, *r))))
        .map(IdpRequirement::failure)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caps(spc: serde_json::Value) -> Capabilities {
        Capabilities { service_provider_config: Some(spc), ..Capabilities::default() }
    }

    #[test]
    fn one_failure_per_idp_requirement_only_when_declared_unsupported() {
        let library = crate::library::built_in().expect("library");
        let off = caps(json!({"filter": {"supported": false}, "patch": {"supported": true}}));
        let ids: Vec<String> = failures(&off, &library, &[]).iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, ["okta::requirements::filter", "azure::requirements::filter"]);
        let on = caps(json!({"filter": {"supported": true}, "patch": {"supported": true}}));
        assert!(failures(&on, &library, &[]).is_empty());
        let unknown = Capabilities::default();
        assert!(failures(&unknown, &library, &[]).is_empty());
        // rfc scenarios that need a filter are never blocked: they skip with their reason
        assert!(library.iter().filter(|s| s.idp == Idp::Rfc).all(|s| blocking(&off, s, &[]).is_none()));
        let rfc_only: Vec<Scenario> = library.into_iter().filter(|s| s.idp == Idp::Rfc).collect();
        assert!(failures(&off, &rfc_only, &[]).is_empty());
    }

    #[test]
    fn entitlements_are_required_only_when_their_suite_is_selected() {
        let library = crate::library::built_in().expect("library");
        let okta_types = |schemas: &[&str]| Capabilities {
            resource_type_schemas: Some(schemas.iter().map(|s| s.to_string()).collect()),
            ..Capabilities::default()
        };
        let plain = okta_types(&["urn:ietf:params:scim:schemas:core:2.0:User"]);
        let ent = library.iter().find(|s| s.id.starts_with("okta::entitlements::")).expect("an entitlements scenario");
        assert!(failures(&plain, &library, &[]).is_empty(), "not selected: the scenarios skip");
        assert!(plain.skip_reason(ent).is_some_and(|r| r.contains("--suite okta-entitlements")));
        let suite = ["okta-entitlements".to_string()];
        let ids: Vec<String> = failures(&plain, &library, &suite).iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, ["okta::requirements::oktaEntitlements"]);
        let r = &failures(&plain, &library, &suite)[0];
        assert!(r.source.contains("scim-with-entitlements/main/#endpoint-call-sequence"));
        // no file stands behind it: its details give the title alone, no empty brackets
        let mut details = String::new();
        crate::report::details_text(&mut details, r);
        assert!(details.contains("scenario: Okta needs oktaEntitlements\n"), "{details}");
        assert!(blocking(&plain, ent, &suite).is_some());
        let both = okta_types(&[crate::scenario::OKTA_ROLE, crate::scenario::OKTA_ENTITLEMENT]);
        assert!(failures(&both, &library, &suite).is_empty());
        assert_eq!(both.skip_reason(ent), None);
        // one of the two is not enough
        assert!(!failures(&okta_types(&[crate::scenario::OKTA_ROLE]), &library, &suite).is_empty());
        // the types without users that carry them (a /Schemas User without roles and entitlements) are not enough
        let schemas = serde_json::json!([{"id": crate::scenario::CORE_USER, "attributes": [{"name": "userName"}]}]);
        let no_attrs = Capabilities {
            declared_user: crate::declared::DeclaredUser::from_schemas(schemas.as_array().unwrap()),
            ..both
        };
        assert_eq!(failures(&no_attrs, &library, &suite).len(), 1);
    }

    #[test]
    fn the_failure_is_a_must_and_cites_the_idp_document() {
        let r = REQUIREMENTS[0].failure();
        assert_eq!((r.verdict, r.failed_level), (Verdict::Fail, Some(Level::Must)));
        let f = &r.steps[0].failures[0];
        assert!(f.basis.as_ref().is_some_and(|b| b.citation().contains("developer.okta.com")), "{f:?}");
        assert!(r.steps[0].note.as_deref().is_some_and(|n| n.starts_with("Okta cannot provision this server")));
    }
}
