//! What the target says it supports ([`Capabilities`], from its ServiceProviderConfig, resource types and
//! schemas) and the skips that follow from it: a missing optional capability is a skip with its reason.

use serde::Serialize;
use serde_json::Value;

use crate::scenario::{Feature, Scenario, ENTERPRISE_USER, PORTAL_USER};

/// What the target says it supports (`None`: unknown, assumed supported — except `portal`, which must be declared).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Capabilities {
    /// The ServiceProviderConfig, if it could be read.
    pub service_provider_config: Option<Value>,
    /// Whether `/ResourceTypes` lists a `/Groups` endpoint.
    pub groups: Option<bool>,
    /// The schema URNs the target declares: every resource type's `schema` and `schemaExtensions[].schema`
    /// (RFC 7643 §6) and every `/Schemas` id (§7); `None` when neither could be read.
    pub schemas: Option<Vec<String>>,
    /// The `schemaExtensions` of the User resource type (RFC 7643 §6), when `/ResourceTypes` lists one; this, not
    /// `/Schemas`, says whether Users carry an extension (a server may describe a schema it does not attach).
    pub user_extensions: Option<Vec<String>>,
    /// The `schema` of every resource type `/ResourceTypes` lists (RFC 7643 §6); `None` when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type_schemas: Option<Vec<String>>,
    /// The User attributes `/Schemas` declares (RFC 7643 §7); `None` when it gives no usable description, and
    /// every core attribute is assumed ([`crate::declared`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_user: Option<crate::declared::DeclaredUser>,
    /// `caseExact` as `/Schemas` declares it (RFC 7643 §7): which values compare ignoring case.
    #[serde(skip)]
    pub case_exact: crate::case::CaseRules,
    /// Notes for the report (e.g. "ServiceProviderConfig unavailable").
    pub notes: Vec<String>,
}

impl Capabilities {
    /// Whether a feature is supported; `None` when the target did not say.
    pub fn supports(&self, f: Feature) -> Option<bool> {
        let key = match f {
            Feature::Groups => return self.groups,
            // RFC 7643 §6: the User resource type's schemaExtensions; /Schemas only when no User type was read
            Feature::EnterpriseUser => {
                let declared = self.user_extensions.as_ref().or(self.schemas.as_ref());
                return declared.map(|s| s.iter().any(|u| u.eq_ignore_ascii_case(ENTERPRISE_USER)));
            }
            // product semantics no RFC asks for: only a target that declares the extension gets these scenarios
            Feature::Portal => {
                return Some(
                    self.schemas.as_ref().is_some_and(|s| s.iter().any(|u| u.eq_ignore_ascii_case(PORTAL_USER))),
                )
            }
            // Okta Identity Governance: a Role and an Entitlement resource type in /ResourceTypes
            // and users that carry roles and entitlements (RFC 7643 §4.1.2), when /Schemas describes the User
            Feature::OktaEntitlements => {
                let carried =
                    self.declared_user.as_ref().is_none_or(|d| d.declares("roles") && d.declares("entitlements"));
                return self.resource_type_schemas.as_ref().map(|s| {
                    let has = |urn: &str| s.iter().any(|u| u.eq_ignore_ascii_case(urn));
                    has(crate::scenario::OKTA_ROLE) && has(crate::scenario::OKTA_ENTITLEMENT) && carried
                });
            }
            Feature::Patch => "patch",
            Feature::Etag => "etag",
            // judged only where sort.supported is clearly true (RFC 7644 §3.4.2.3: sorting is OPTIONAL)
            Feature::Sort => return Some(crate::spc::sort_supported(self.service_provider_config.as_ref())),
            Feature::Bulk => "bulk",
            Feature::Filter => "filter",
            Feature::ChangePassword => "changePassword",
        };
        crate::spc::declared(self.service_provider_config.as_ref()?, key)
    }

    /// The skip reason for a scenario, if a required feature is unsupported: which features, and where the
    /// target said so.
    pub fn skip_reason(&self, s: &Scenario) -> Option<String> {
        let missing: Vec<String> = s
            .requires
            .iter()
            .filter(|f| self.supports(**f) == Some(false))
            .filter(|f| **f != Feature::EnterpriseUser || s.enterprise_skips_whole())
            .filter(|f| **f != Feature::Groups || s.groups_skip_whole())
            .map(|f| {
                let why = match f {
                    Feature::Groups => "no /Groups resource type in /ResourceTypes",
                    Feature::EnterpriseUser if self.user_extensions.is_some() => {
                        "the User resource type does not list the enterprise extension in schemaExtensions"
                    }
                    Feature::EnterpriseUser => "the enterprise User extension is not among the declared schemas",
                    Feature::Portal => "the portal extension schema is not declared",
                    Feature::OktaEntitlements => {
                        "/ResourceTypes lists no resource type with Okta's Role and Entitlement schemas \
                         (urn:okta:scim:schemas:core:1.0:Role, …:Entitlement), or /Schemas describes a User without \
                         roles and entitlements; entitlements are optional for an Okta app, and --suite \
                         okta-entitlements makes them required"
                    }
                    Feature::Sort => {
                        "ServiceProviderConfig does not declare sort.supported true; RFC 7644 §3.4.2.3 \
                                      makes sorting OPTIONAL"
                    }
                    _ => "ServiceProviderConfig: supported false",
                };
                format!("{} ({why})", f.as_str())
            })
            .collect();
        (!missing.is_empty()).then(|| format!("target does not support: {}", missing.join(", ")))
    }

    /// Why the steps that use the enterprise extension ([`crate::scenario::Step::uses_enterprise_extension`]) are
    /// skipped while the scenario's other steps run: the target declares no enterprise extension on its User
    /// resource type (RFC 7643 §6 `schemaExtensions`) and the scenario is not about the extension
    /// ([`Scenario::enterprise_skips_whole`]). `None` when those steps run.
    pub fn enterprise_step_skip(&self, s: &Scenario) -> Option<String> {
        let unsupported = s.requires.contains(&Feature::EnterpriseUser)
            && self.supports(Feature::EnterpriseUser) == Some(false)
            && !s.enterprise_skips_whole();
        unsupported.then(|| {
            if self.user_extensions.is_some() {
                "skipped: the server's User resource type declares no enterprise extension (RFC 7643 §6 schemaExtensions)"
            } else {
                "skipped: the server declares no enterprise User extension schema (RFC 7643 §6, §7)"
            }
            .to_string()
        })
    }
}
