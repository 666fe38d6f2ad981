//! The server's seed configuration: tenants, CAL types, apps, rules, tokens and local accounts, read from a
//! JSON file (`--config`) or built in. The format is documented in `reference-server/README.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cal::{CalRule, CalType, Condition};
use crate::entitlements::EntitlementType;
use crate::error::{ScimError, ScimResult};
use crate::tenant::{AppKind, AppSettings, DomainPolicy, LocalRole, TenantSettings, Tenants};

/// The whole seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// The base domain of subdomain portals: a request to `acme.<baseDomain>` is for tenant `acme`.
    #[serde(default = "default_base_domain")]
    pub base_domain: String,
    /// The admin API key; generated and printed when absent.
    #[serde(default)]
    pub admin_key: Option<String>,
    /// The tenants to create at start, each with its apps, CAL types and local accounts.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
}

fn default_base_domain() -> String {
    "localhost".into()
}

fn default_policy() -> DomainPolicy {
    DomainPolicy::Subdomain
}

/// One tenant of the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's name: its subdomain (`acme` for `acme.<baseDomain>`) and its key in the admin API.
    pub name: String,
    /// How the tenant's portal is addressed (default `subdomain`, the only policy that may receive provisioning).
    #[serde(default = "default_policy")]
    pub domain_policy: DomainPolicy,
    /// Tenant-wide settings (seat release on deactivation, refusal without a free seat).
    #[serde(default)]
    pub settings: TenantSettings,
    /// The CAL (client access licence) types the tenant owns, each with its seat count.
    #[serde(default)]
    pub cals: Vec<CalType>,
    /// Keyed by app name: `SCIMOkta`, `SCIMAzure`.
    #[serde(default)]
    pub apps: BTreeMap<AppKind, AppConfig>,
    /// Protected local accounts (owners, administrators) that provisioning may not change or delete.
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
}

/// One app of a seeded tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppConfig {
    /// Whether the app accepts provisioning; a disabled app answers 403 to every authenticated SCIM request.
    #[serde(default)]
    pub enabled: bool,
    /// The id of the CAL a provisioned user gets when no rule matches; `None` leaves such a user without a CAL.
    #[serde(default)]
    pub default_cal: Option<String>,
    /// Rules for automatic CAL assignment, evaluated in order; the first match names the CAL.
    #[serde(default)]
    pub rules: Vec<CalRule>,
    /// The role and entitlement resource types the app offers to Okta Identity Governance (Okta's URNs, with
    /// their values); see [`crate::entitlements`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<EntitlementType>,
    /// Known tokens (for tests and CI). An enabled app without tokens gets a generated one.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// A token given in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenConfig {
    /// The bearer token in cleartext; only its hash is stored.
    pub token: String,
    /// RFC 3339; default one year from start.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// A name for the token shown in the admin API (`ci`, `okta-prod`).
    #[serde(default)]
    pub label: Option<String>,
}

/// A protected local account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountConfig {
    /// The account's `userName`, unique in the tenant as a SCIM user's is.
    pub user_name: String,
    /// The account's role in the portal.
    pub role: LocalRole,
    /// The account's display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A provisioning endpoint made by seeding, with the token to print (generated or given).
#[derive(Debug, Clone)]
pub struct SeededApp {
    /// The tenant the app belongs to.
    pub tenant: String,
    /// Which of the tenant's two apps (`SCIMOkta` or `SCIMAzure`).
    pub app: AppKind,
    /// The cleartext token, when the seed generated or was given one.
    pub token: Option<String>,
}

impl Config {
    /// The built-in seed: tenant `acme` (subdomain) with CALs `standard` (1000 seats) and `professional`
    /// (25 seats), both apps enabled with default CAL `standard` and one rule giving members of a group
    /// whose name contains "admin" the `professional` CAL; an owner account `owner@acme.test`. The `SCIMOkta`
    /// app also offers roles (`/Roles`) and licences (`/Entitlements`) ([`crate::entitlements::builtin_types`]),
    /// and a second rule gives holders of the role `role-admin` the `professional` CAL.
    pub fn builtin() -> Config {
        let rules = vec![CalRule {
            attribute: "groups".into(),
            condition: Condition::Contains,
            value: "admin".into(),
            cal: "professional".into(),
        }];
        let app = AppConfig {
            enabled: true,
            default_cal: Some("standard".into()),
            rules,
            resource_types: Vec::new(),
            tokens: Vec::new(),
        };
        // The Okta app offers roles and entitlements (Okta Identity Governance), and its administrator role
        // grants the professional CAL; Entra provisions no such resource types.
        let mut okta = app.clone();
        okta.resource_types = crate::entitlements::builtin_types();
        okta.rules.push(CalRule {
            attribute: "roles.value".into(),
            condition: Condition::Equals,
            value: "role-admin".into(),
            cal: "professional".into(),
        });
        Config {
            base_domain: default_base_domain(),
            admin_key: None,
            tenants: vec![TenantConfig {
                name: "acme".into(),
                domain_policy: DomainPolicy::Subdomain,
                settings: TenantSettings::default(),
                cals: vec![
                    CalType { id: "standard".into(), name: "Standard".into(), seats: 1000 },
                    CalType { id: "professional".into(), name: "Professional".into(), seats: 25 },
                ],
                apps: [(AppKind::Okta, okta), (AppKind::Azure, app)].into_iter().collect(),
                accounts: vec![AccountConfig {
                    user_name: "owner@acme.test".into(),
                    role: LocalRole::Owner,
                    display_name: Some("Acme Owner".into()),
                }],
            }],
        }
    }

    /// Parses a configuration file's text.
    pub fn from_json(text: &str) -> Result<Config, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid configuration: {e}"))
    }

    /// Creates the tenants, CALs, apps, tokens and accounts. Returns every app with its token to print.
    pub fn apply(&self, tenants: &Tenants) -> ScimResult<Vec<SeededApp>> {
        let now = tenants.clock().now();
        let mut seeded = Vec::new();
        // A token authenticates exactly one app of one tenant: the same cleartext twice would open both.
        let mut given = std::collections::HashSet::new();
        for tok in self.tenants.iter().flat_map(|t| t.apps.values()).flat_map(|a| &a.tokens) {
            if !given.insert(tok.token.as_str()) {
                return Err(ScimError::InvalidValue(
                    "the same API token is configured more than once: each token belongs to one app of one tenant"
                        .into(),
                ));
            }
        }
        for t in &self.tenants {
            let tenant = tenants.create(&t.name, t.domain_policy, t.settings.clone())?;
            tenant.portal.set_cals(t.cals.clone())?;
            for (kind, app) in &t.apps {
                tenant.portal.configure_app(
                    *kind,
                    AppSettings {
                        enabled: app.enabled,
                        default_cal: app.default_cal.clone(),
                        rules: app.rules.clone(),
                        resource_types: app.resource_types.clone(),
                    },
                )?;
                let mut shown = None;
                for tok in &app.tokens {
                    let expires = parse_expiry(tok.expires_at.as_deref(), now)?;
                    tenant.portal.insert_token(*kind, &tok.token, expires, tok.label.clone())?;
                    shown.get_or_insert_with(|| tok.token.clone());
                }
                if app.tokens.is_empty() && app.enabled {
                    let issued = tenant.portal.issue_token(
                        *kind,
                        now + Duration::days(365),
                        Some("generated at start".into()),
                    )?;
                    shown = Some(issued.token.clone());
                }
                seeded.push(SeededApp { tenant: t.name.clone(), app: *kind, token: shown });
            }
            for acc in &t.accounts {
                let mut body = json!({"userName": acc.user_name, "active": true});
                if let Some(d) = &acc.display_name {
                    body["displayName"] = json!(d);
                }
                tenant.create_local_account(body, acc.role)?;
            }
        }
        Ok(seeded)
    }
}

fn parse_expiry(s: Option<&str>, now: DateTime<Utc>) -> ScimResult<DateTime<Utc>> {
    match s {
        None => Ok(now + Duration::days(365)),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| ScimError::InvalidValue(format!("expiresAt '{s}' is not an RFC 3339 date-time"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::directory::DirectoryConfig;
    use std::sync::Arc;

    #[test]
    fn builtin_seed_enables_both_apps_with_a_token_each() {
        let tenants = Tenants::new(Arc::new(SystemClock), DirectoryConfig::default());
        let seeded = Config::builtin().apply(&tenants).unwrap();
        assert_eq!(seeded.len(), 2);
        assert!(seeded.iter().all(|s| s.token.as_ref().is_some_and(|t| t.len() >= 43)));
        let acme = tenants.get("acme").unwrap();
        assert!(acme.portal.app_enabled(AppKind::Okta) && acme.portal.app_enabled(AppKind::Azure));
        assert_eq!(acme.directory.count(crate::schema::ResourceKind::User), 0, "the owner is not visible to SCIM");
    }

    #[test]
    fn unknown_fields_and_bad_values_are_rejected() {
        assert!(Config::from_json(r#"{"tenants": [], "colour": 1}"#).is_err());
        let bad_policy = r#"{"tenants": [{"name": "x", "domainPolicy": "galaxy"}]}"#;
        assert!(Config::from_json(bad_policy).is_err());
        let tenants = Tenants::new(Arc::new(SystemClock), DirectoryConfig::default());
        let cfg =
            Config::from_json(r#"{"tenants": [{"name": "a", "apps": {"SCIMOkta": {"enabled": true}}}]}"#).unwrap();
        let err = cfg.apply(&tenants).unwrap_err();
        assert_eq!(err.scim_type(), Some("invalidValue"), "{err}");
    }
}
