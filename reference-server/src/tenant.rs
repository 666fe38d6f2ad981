//! Tenants (portals), their provisioning apps and the portal logic that rides along with SCIM writes:
//! licence (CAL) assignment, access state after deactivation, federated and protected accounts.
//!
//! Semantics (documented in `reference-server/README.md`):
//! - a tenant has a domain policy; SCIM is served only to `subdomain` tenants;
//! - each tenant has two apps, `SCIMOkta` and `SCIMAzure`, with their own tokens, toggle, default CAL and
//!   ordered CAL rules; both write the tenant's one directory;
//! - a user's CAL follows the rules of the app that provisioned it, re-evaluated on every change of its
//!   attributes or group memberships; deactivated users keep their seat unless the tenant releases seats on
//!   deactivation; users deleted through SCIM always release theirs (a re-POST that restores them assigns
//!   again).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cal::{self, CalLedger, CalRule, CalType, Notification};
use crate::clock::{format_datetime, SharedClock};
use crate::directory::{Directory, DirectoryConfig, PortalHooks, UserEvent};
use crate::entitlements::{Catalogue, EntitlementType};
use crate::error::{ScimError, ScimResult};
use crate::patch::UnmatchedReplace;
use crate::schema::PORTAL_URN;
use crate::sqlite::{Db, Journal, Op, SqliteStore};
use crate::token::{AuthFailure, IssuedToken, TokenId, TokenInfo, TokenStore};
use notifications::Notifications;

mod notifications;
mod oauth;

/// How a portal is addressed (only `subdomain` portals may receive provisioning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DomainPolicy {
    /// `acme.example.com`
    Subdomain,
    /// `example.com/acme`
    Directory,
    /// `media.acme.com`
    Custom,
}

/// The two provisioning apps of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AppKind {
    /// The app Okta provisions through: `SCIMOkta`.
    #[serde(rename = "SCIMOkta")]
    Okta,
    /// The app Microsoft Entra ID provisions through: `SCIMAzure`.
    #[serde(rename = "SCIMAzure")]
    Azure,
}

impl AppKind {
    /// Both apps.
    pub const ALL: [AppKind; 2] = [AppKind::Okta, AppKind::Azure];

    /// The app's name as it appears in its base URI (`…/api/v1/SCIM/SCIMOkta`).
    pub fn name(self) -> &'static str {
        match self {
            AppKind::Okta => "SCIMOkta",
            AppKind::Azure => "SCIMAzure",
        }
    }

    /// Parses an app name, case-insensitively.
    pub fn parse(s: &str) -> Option<AppKind> {
        AppKind::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(s))
    }

    /// What a `replace` through a value filter that matches nothing does for a request through this app:
    /// Microsoft Entra expects the element created ([`UnmatchedReplace::CreateElement`], docs/entra.md §2), every
    /// other client gets RFC 7644 §3.5.2.3's `noTarget`.
    pub fn unmatched_replace(self) -> UnmatchedReplace {
        match self {
            AppKind::Azure => UnmatchedReplace::CreateElement,
            AppKind::Okta => UnmatchedReplace::NoTarget,
        }
    }
}

/// Tenant-wide settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSettings {
    /// Release a user's CAL seat when it is deactivated (default: the deactivated user keeps it, so
    /// reactivation restores access unchanged).
    #[serde(default)]
    pub release_seats_on_deactivation: bool,
    /// Refuse to provision (create, or restore) an active user for whom no seat is free of the CAL the rules
    /// give it: the POST answers 403 naming the CAL and its use, and nothing changes. Off by default: such a
    /// user is provisioned without a CAL and notified (`noCalAvailable`), as the vendor documents.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refuse_without_seat: bool,
}

/// One provisioning app's configuration and tokens.
#[derive(Debug, Clone, Default)]
pub struct App {
    /// Whether the app accepts provisioning.
    pub enabled: bool,
    /// The id of the CAL a user gets when no rule matches; `None` leaves such a user without a CAL.
    pub default_cal: Option<String>,
    /// Rules for automatic CAL assignment, evaluated in order; the first match names the CAL.
    pub rules: Vec<CalRule>,
    /// The role and entitlement types the app offers (Okta Identity Governance; see [`crate::entitlements`]).
    pub catalogue: Arc<Catalogue>,
    /// The app's bearer tokens (hashed) with their expiry and labels.
    pub tokens: TokenStore,
    /// The app's OAuth clients and the access tokens they were given ([`crate::oauth`]).
    pub oauth: crate::oauth::OAuthClients,
}

impl App {
    /// The app's configuration without its tokens.
    pub fn settings(&self) -> AppSettings {
        AppSettings {
            enabled: self.enabled,
            default_cal: self.default_cal.clone(),
            rules: self.rules.clone(),
            resource_types: self.catalogue.types().to_vec(),
        }
    }
}

/// An app's configuration as the admin API shows and takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSettings {
    /// Whether the app accepts provisioning.
    #[serde(default)]
    pub enabled: bool,
    /// The id of the CAL a user gets when no rule matches; `None` leaves such a user without a CAL.
    #[serde(default)]
    pub default_cal: Option<String>,
    /// Rules for automatic CAL assignment, evaluated in order; the first match names the CAL.
    #[serde(default)]
    pub rules: Vec<CalRule>,
    /// The role and entitlement resource types the app offers (Okta's URNs), with their values; omitted when
    /// none. Users' `roles` and `entitlements` must then reference them (see [`crate::entitlements`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<EntitlementType>,
}

/// The role of a local (non-SCIM) account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LocalRole {
    /// The tenant's owner.
    Owner,
    /// An administrator of the tenant.
    Administrator,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct PortalUser {
    source_app: Option<AppKind>,
    federated: bool,
    role: Option<LocalRole>,
    active: bool,
    deleted: bool,
    notifications: Notifications,
    /// The [`PortalState::config_generation`] the user's licence was last decided under (not stored: after a
    /// restart every user counts as not yet decided).
    #[serde(skip)]
    decided_under: u64,
    /// The rules asked for a CAL the user could not get (no seat free): it waits for one.
    #[serde(skip)]
    waiting_for_seat: bool,
}

#[derive(Debug)]
struct PortalState {
    apps: BTreeMap<AppKind, App>,
    ledger: CalLedger,
    settings: TenantSettings,
    users: HashMap<Uuid, PortalUser>,
    /// Bumped by every change of apps, rules, CAL types or settings: a user decided under an older generation
    /// is re-evaluated at its next change, membership changes included. Starts at 1, so that users restored
    /// from the data file (0) count as undecided.
    config_generation: u64,
}

/// The portal side of a tenant: apps, licences and per-user access state.
#[derive(Debug)]
pub struct Portal {
    state: Mutex<PortalState>,
    clock: SharedClock,
    /// The tenant's journal in the data file, when the server has one (`--data`).
    journal: Option<Arc<Journal>>,
    /// Held by every write of token records to the data file, taken before `state`: so that the write-behind
    /// of token use can write without holding `state` (which every SCIM request's authentication needs) and
    /// still never write over a newer issue or revocation.
    token_writes: Mutex<()>,
}

/// A tenant's configuration as the data file keeps it: settings, CAL types and app settings (tokens and
/// per-user state are kept apart).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredConfig {
    settings: TenantSettings,
    cals: Vec<CalType>,
    apps: BTreeMap<AppKind, AppSettings>,
}

impl StoredConfig {
    fn of(st: &PortalState) -> StoredConfig {
        let apps = st.apps.iter().map(|(k, a)| (*k, a.settings())).collect();
        StoredConfig { settings: st.settings.clone(), cals: st.ledger.types().to_vec(), apps }
    }

    fn to_json(&self) -> String {
        // Strings, numbers and enums only: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn stored_error(what: &str) -> ScimError {
    ScimError::Internal(format!("the data file holds an unreadable {what}"))
}

/// What the portal grants a user (the admin API's access view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessStatus {
    /// Active member of the portal.
    Active,
    /// Deactivated through SCIM (`active=false`): access revoked at once, treated as an anonymous user.
    Anonymous,
    /// Deleted through SCIM: deactivated and hidden from SCIM; a new POST restores it.
    Deactivated,
}

impl AccessStatus {
    fn as_str(self) -> &'static str {
        match self {
            AccessStatus::Active => "active",
            AccessStatus::Anonymous => "anonymous",
            AccessStatus::Deactivated => "deactivated",
        }
    }
}

impl PortalUser {
    fn status(&self) -> AccessStatus {
        if self.deleted {
            AccessStatus::Deactivated
        } else if !self.active {
            AccessStatus::Anonymous
        } else {
            AccessStatus::Active
        }
    }
}

impl Portal {
    fn new(clock: SharedClock, settings: TenantSettings, journal: Option<Arc<Journal>>) -> Self {
        let apps = AppKind::ALL.into_iter().map(|a| (a, App::default())).collect();
        Portal {
            state: Mutex::new(PortalState {
                apps,
                ledger: CalLedger::default(),
                settings,
                users: HashMap::new(),
                config_generation: 1,
            }),
            clock,
            journal,
            token_writes: Mutex::new(()),
        }
    }

    /// The portal as the data file holds it.
    fn restore(clock: SharedClock, rows: &crate::sqlite::TenantRows, journal: Arc<Journal>) -> ScimResult<Self> {
        let config: StoredConfig =
            serde_json::from_str(&rows.config).map_err(|_| stored_error("tenant configuration"))?;
        let mut apps: BTreeMap<AppKind, App> = AppKind::ALL.into_iter().map(|a| (a, App::default())).collect();
        for (kind, a) in config.apps {
            let app = apps.entry(kind).or_default();
            app.enabled = a.enabled;
            app.default_cal = a.default_cal;
            app.rules = a.rules;
            app.catalogue = Arc::new(Catalogue::new(a.resource_types).map_err(|_| stored_error("resource type"))?);
        }
        for (name, records) in &rows.tokens {
            let kind = AppKind::parse(name).ok_or_else(|| stored_error("app name"))?;
            apps.entry(kind).or_default().tokens = TokenStore::from_stored_json(records)?;
        }
        for (name, records) in &rows.oauth_clients {
            let kind = AppKind::parse(name).ok_or_else(|| stored_error("app name"))?;
            apps.entry(kind).or_default().oauth = crate::oauth::OAuthClients::from_stored_json(records)?;
        }
        let (users, ledger) = Self::stored_users(config.cals, rows)?;
        let state = PortalState { apps, ledger, settings: config.settings, users, config_generation: 1 };
        Ok(Portal { state: Mutex::new(state), clock, journal: Some(journal), token_writes: Mutex::new(()) })
    }

    /// The portal users and the CAL ledger (with `cals` as its types) as the data file holds them.
    fn stored_users(
        cals: Vec<CalType>,
        rows: &crate::sqlite::TenantRows,
    ) -> ScimResult<(HashMap<Uuid, PortalUser>, CalLedger)> {
        let mut users = HashMap::with_capacity(rows.portal_users.len());
        let mut holdings = Vec::new();
        for (id, state, cal) in &rows.portal_users {
            let pu: PortalUser = serde_json::from_str(state)
                .map_err(|_| stored_error(&format!("portal user (table portal_users, id {id})")))?;
            users.insert(*id, pu);
            if let Some(c) = cal {
                holdings.push((id.to_string(), c.clone()));
            }
        }
        Ok((users, CalLedger::restore(cals, holdings)?))
    }

    /// Writes changes to the data file at once, as one transaction (admin changes, outside any SCIM write).
    fn save(&self, ops: &[Op]) -> ScimResult<()> {
        match &self.journal {
            Some(j) => j.write_now(ops),
            None => Ok(()),
        }
    }

    fn save_config(&self, config: &StoredConfig) -> ScimResult<()> {
        self.save(&[Op::PutConfig { config: config.to_json() }])
    }

    /// Writes an app's token records (with every token's `lastUsed`) and notes that the file holds them.
    fn save_tokens(&self, app: AppKind, tokens: &mut TokenStore) -> ScimResult<()> {
        if self.journal.is_none() {
            return Ok(());
        }
        self.save(&[Op::PutTokens { app: app.name().to_string(), records: tokens.to_stored_json() }])?;
        tokens.mark_last_used_stored();
        Ok(())
    }

    /// Writes behind the tokens' `lastUsed`: every app with a token whose last use is newer than the data
    /// file's by `min_age` or more (or whose use the file does not hold at all) has its token records
    /// written, in one transaction. Authentication itself never writes, so a token used at every request
    /// costs at most one write per `min_age`; with `min_age` zero (at shutdown) every unwritten use is
    /// written. Returns how many apps were written; without a data file, none.
    ///
    /// The records are copied under the portal's lock and written without it (authentication is never held
    /// up by the data file, which a long SCIM write of another tenant may hold), under the lock every token
    /// write takes — so an issue or revocation can never be overwritten by an older copy.
    /// Errors: the data file could not be written (the uses stay due and the next call tries again).
    pub fn flush_token_use(&self, min_age: chrono::Duration) -> ScimResult<usize> {
        if self.journal.is_none() {
            return Ok(0);
        }
        let _writes = self.token_writes.lock();
        let copies: Vec<(AppKind, TokenStore)> = {
            let st = self.state.lock();
            st.apps
                .iter()
                .filter(|(_, a)| a.tokens.last_used_due(min_age))
                .map(|(k, a)| (*k, a.tokens.clone()))
                .collect()
        };
        if copies.is_empty() {
            return Ok(0);
        }
        let ops: Vec<Op> = copies
            .iter()
            .map(|(k, tokens)| Op::PutTokens { app: k.name().to_string(), records: tokens.to_stored_json() })
            .collect();
        self.save(&ops)?;
        let mut st = self.state.lock();
        for (k, written) in &copies {
            if let Some(a) = st.apps.get_mut(k) {
                // What was written, not what is in memory now: a use since the copy is still to be written.
                a.tokens.mark_last_used_stored_from(written);
            }
        }
        Ok(copies.len())
    }

    fn portal_user_op(st: &PortalState, id: Uuid) -> Option<Op> {
        let pu = st.users.get(&id)?;
        let state = serde_json::to_string(pu).ok()?;
        Some(Op::PutPortalUser { id, state, cal: st.ledger.holder_cal(&id.to_string()).map(str::to_string) })
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Authenticates a credential against one app's tokens (constant-time; RFC 6750 semantics for errors).
    pub fn authenticate(&self, app: AppKind, presented: &str) -> Result<TokenId, AuthFailure> {
        let now = self.now();
        let mut st = self.state.lock();
        match st.apps.get_mut(&app) {
            Some(a) => a.tokens.authenticate(presented, now),
            None => Err(AuthFailure::Invalid),
        }
    }

    /// Whether a credential is a live token of the app, without recording a use.
    pub fn check_token(&self, app: AppKind, presented: &str) -> Result<TokenId, AuthFailure> {
        let now = self.now();
        let st = self.state.lock();
        match st.apps.get(&app) {
            Some(a) => a.tokens.check(presented, now),
            None => Err(AuthFailure::Invalid),
        }
    }

    /// Whether an app is enabled.
    pub fn app_enabled(&self, app: AppKind) -> bool {
        self.state.lock().apps.get(&app).is_some_and(|a| a.enabled)
    }

    /// An app's settings.
    pub fn app_settings(&self, app: AppKind) -> AppSettings {
        let st = self.state.lock();
        st.apps.get(&app).map(App::settings).unwrap_or_default()
    }

    /// The role and entitlement types an app offers (empty for an app without them).
    pub fn catalogue(&self, app: AppKind) -> Arc<Catalogue> {
        self.state.lock().apps.get(&app).map(|a| a.catalogue.clone()).unwrap_or_default()
    }

    /// Configures an app. Enabling requires a default CAL; every CAL named must exist.
    pub fn configure_app(&self, app: AppKind, settings: AppSettings) -> ScimResult<()> {
        let mut st = self.state.lock();
        if settings.enabled && settings.default_cal.is_none() {
            return Err(ScimError::InvalidValue(format!("{} cannot be enabled without a default CAL", app.name())));
        }
        if let Some(d) = &settings.default_cal {
            if st.ledger.cal_type(d).is_none() {
                return Err(ScimError::InvalidValue(format!("default CAL '{d}' does not exist")));
            }
        }
        st.ledger.check_rules(&settings.rules)?;
        let catalogue = Arc::new(Catalogue::new(settings.resource_types.clone())?);
        let mut stored = StoredConfig::of(&st);
        stored.apps.insert(app, settings.clone());
        self.save_config(&stored)?;
        st.config_generation += 1;
        let a = st.apps.entry(app).or_default();
        a.enabled = settings.enabled;
        a.default_cal = settings.default_cal;
        a.rules = settings.rules;
        a.catalogue = catalogue;
        Ok(())
    }

    /// Sets the tenant's CAL types and seats (refused if it would strand current holders).
    pub fn set_cals(&self, types: Vec<CalType>) -> ScimResult<()> {
        let mut st = self.state.lock();
        let st = &mut *st;
        let mut next = st.ledger.clone();
        next.set_types(types)?;
        for (kind, app) in &st.apps {
            if let Some(d) = &app.default_cal {
                if next.cal_type(d).is_none() {
                    return Err(ScimError::InvalidValue(format!("CAL '{d}' is the default of {}", kind.name())));
                }
            }
            next.check_rules(&app.rules)?;
        }
        let mut stored = StoredConfig::of(st);
        stored.cals = next.types().to_vec();
        self.save_config(&stored)?;
        st.ledger = next;
        st.config_generation += 1;
        Ok(())
    }

    /// Seat use per CAL type.
    pub fn cal_usage(&self) -> Vec<cal::CalUsage> {
        self.state.lock().ledger.usage()
    }

    /// Tenant settings.
    pub fn settings(&self) -> TenantSettings {
        self.state.lock().settings.clone()
    }

    /// Replaces tenant settings. Errors: the data file could not be written (nothing changes).
    pub fn set_settings(&self, settings: TenantSettings) -> ScimResult<()> {
        let mut st = self.state.lock();
        let mut stored = StoredConfig::of(&st);
        stored.settings = settings.clone();
        self.save_config(&stored)?;
        st.settings = settings;
        st.config_generation += 1;
        Ok(())
    }

    /// Issues a token for an app; the cleartext is in the result and nowhere else.
    pub fn issue_token(
        &self,
        app: AppKind,
        expires_at: DateTime<Utc>,
        label: Option<String>,
    ) -> ScimResult<IssuedToken> {
        let now = self.now();
        if expires_at <= now {
            return Err(ScimError::InvalidValue("a token's expiry must be in the future".into()));
        }
        let _writes = self.token_writes.lock();
        let mut st = self.state.lock();
        let a = st.apps.entry(app).or_default();
        let mut tokens = a.tokens.clone();
        let issued = tokens.issue(now, expires_at, label);
        self.save_tokens(app, &mut tokens)?;
        a.tokens = tokens;
        Ok(issued)
    }

    /// Registers a known token (from a configuration file).
    pub fn insert_token(
        &self,
        app: AppKind,
        cleartext: &str,
        expires_at: DateTime<Utc>,
        label: Option<String>,
    ) -> ScimResult<TokenId> {
        let now = self.now();
        let _writes = self.token_writes.lock();
        let mut st = self.state.lock();
        let a = st.apps.entry(app).or_default();
        let mut tokens = a.tokens.clone();
        let id = tokens.insert_known(cleartext, now, expires_at, label)?;
        self.save_tokens(app, &mut tokens)?;
        a.tokens = tokens;
        Ok(id)
    }

    /// Lists an app's tokens (prefix, dates, status; never a secret).
    pub fn list_tokens(&self, app: AppKind) -> Vec<TokenInfo> {
        let now = self.now();
        self.state.lock().apps.get(&app).map(|a| a.tokens.list(now)).unwrap_or_default()
    }

    /// Revokes one token; false when unknown. Errors: the data file could not be written (nothing changes).
    pub fn revoke_token(&self, app: AppKind, id: TokenId) -> ScimResult<bool> {
        let _writes = self.token_writes.lock();
        let mut st = self.state.lock();
        let Some(a) = st.apps.get_mut(&app) else { return Ok(false) };
        let mut tokens = a.tokens.clone();
        if !tokens.revoke(id) {
            return Ok(false);
        }
        self.save_tokens(app, &mut tokens)?;
        a.tokens = tokens;
        Ok(true)
    }

    /// Marks a user as a protected local account, queued in the journal of the directory write that
    /// creates the account ([`Directory::create_protected_with`]), so both are stored together or not at all.
    fn register_local(&self, id: Uuid, role: LocalRole) {
        let mut st = self.state.lock();
        st.users.insert(id, PortalUser { role: Some(role), active: true, ..Default::default() });
        self.journal_user(&st, id);
    }

    /// Whether a user is federated (provisioned through SCIM).
    pub fn is_federated(&self, id: Uuid) -> bool {
        self.state.lock().users.get(&id).is_some_and(|u| u.federated)
    }

    fn access_fields(&self, id: Uuid) -> Option<(PortalUser, Option<String>)> {
        let st = self.state.lock();
        let u = st.users.get(&id)?.clone();
        let cal = st.ledger.holder_cal(&id.to_string()).map(str::to_string);
        Some((u, cal))
    }
}

fn notifications_json(ns: &[Notification]) -> Value {
    Value::Array(
        ns.iter().map(|n| json!({"at": format_datetime(n.at), "kind": n.kind, "message": n.message})).collect(),
    )
}

impl Portal {
    /// Queues a user's portal state and CAL in the tenant's journal: the directory write that called the hook
    /// commits it together with the resource change.
    fn journal_user(&self, st: &PortalState, id: Uuid) {
        let Some(j) = &self.journal else { return };
        if let Some(op) = Self::portal_user_op(st, id) {
            j.push(op);
        }
    }
}

impl PortalHooks for Portal {
    fn user_changed(&self, id: Uuid, user: &Value, group_names: &[String], source_app: Option<&str>, event: UserEvent) {
        let now = self.now();
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let pu = st.users.entry(id).or_insert_with(|| PortalUser { federated: true, ..Default::default() });
        match event {
            UserEvent::Created => pu.source_app = source_app.and_then(AppKind::parse),
            UserEvent::Restored => {
                pu.deleted = false;
                if let Some(app) = source_app.and_then(AppKind::parse) {
                    pu.source_app = Some(app);
                }
            }
            UserEvent::Deleted => pu.deleted = true,
            UserEvent::Updated | UserEvent::MembershipChanged => {}
        }
        // the write validated `active` (RFC 7643 §2.3.2); a value that is no boolean holds no seat
        pu.active = cal::is_active(user) == Ok(true) && !pu.deleted;
        let app_kind = pu.source_app;
        let active = pu.active;
        let deleted = pu.deleted;
        let app = app_kind
            .and_then(|k| st.apps.get(&k))
            .filter(|a| a.default_cal.is_some())
            .or_else(|| st.apps.values().find(|a| a.enabled && a.default_cal.is_some()));
        let generation = st.config_generation;
        let Some(app) = app else {
            if let Some(pu) = st.users.get_mut(&id) {
                (pu.decided_under, pu.waiting_for_seat) = (generation, false);
            }
            self.journal_user(st, id);
            return;
        };
        let default_cal = app.default_cal.as_deref().unwrap_or_default();
        let rules = &app.rules;
        let mut view = std::borrow::Cow::Borrowed(user);
        if !active {
            if let Some(o) = view.to_mut().as_object_mut() {
                o.insert("active".into(), Value::Bool(false));
            }
        }
        // A deleted user has left the portal: its seat goes back to the pool whatever the setting says.
        let release = st.settings.release_seats_on_deactivation || deleted;
        let outcome = st.ledger.reconcile(&id.to_string(), &view, group_names, rules, default_cal, release);
        let waiting = matches!(
            outcome,
            Ok(cal::Reconciliation::Active(
                cal::Assignment::KeptExisting { .. } | cal::Assignment::NoneAvailable { .. }
            ))
        );
        if let Some(pu) = st.users.get_mut(&id) {
            (pu.decided_under, pu.waiting_for_seat) = (generation, waiting);
        }
        let note = match outcome {
            Ok(r) => r.notification(now),
            Err(e) => {
                tracing::warn!(user = %id, error = %e, "CAL rules could not be applied");
                Some(Notification { at: now, kind: "calRuleError".into(), message: e.detail().to_string() })
            }
        };
        if let (Some(n), Some(pu)) = (note, st.users.get_mut(&id)) {
            let repeated = pu.notifications.last().is_some_and(|last| last.kind == n.kind && last.message == n.message);
            if !repeated {
                pu.notifications.push(n);
            }
        }
        self.journal_user(st, id);
    }

    fn membership_watchers(&self, group_names: &[&str], members: &[Uuid]) -> Vec<Uuid> {
        let st = self.state.lock();
        let rules = st.apps.values().flat_map(|a| a.rules.iter());
        if rules.into_iter().any(|r| group_names.iter().any(|g| cal::rule_watches_group(r, g))) {
            return members.to_vec();
        }
        // No rule can decide differently because of these groups; only users whose last decision is not final
        // are re-evaluated: one waiting for a seat (one may have been freed since), one decided under an older
        // configuration (rules, CALs or settings changed since), one the portal has not decided yet.
        let undecided = |id: &Uuid| {
            st.users.get(id).is_none_or(|pu| pu.waiting_for_seat || pu.decided_under != st.config_generation)
        };
        members.iter().copied().filter(undecided).collect()
    }

    fn admit(&self, user: &Value, source_app: Option<&str>) -> ScimResult<()> {
        let st = self.state.lock();
        if !st.settings.refuse_without_seat || !cal::is_active(user)? {
            return Ok(());
        }
        let app = source_app
            .and_then(AppKind::parse)
            .and_then(|k| st.apps.get(&k))
            .filter(|a| a.default_cal.is_some())
            .or_else(|| st.apps.values().find(|a| a.enabled && a.default_cal.is_some()));
        let Some(app) = app else { return Ok(()) };
        let default_cal = app.default_cal.as_deref().unwrap_or_default();
        // A user being provisioned has no groups yet.
        let wanted = cal::choose_cal(&app.rules, default_cal, user, &[]);
        match st.ledger.cal_type(wanted) {
            Some(t) if st.ledger.free_seats(wanted) == Some(0) => Err(ScimError::Forbidden(format!(
                "No CAL is available: CAL '{wanted}' has {} of {} seats in use, and this tenant does not provision users without a CAL",
                st.ledger.used_seats(wanted),
                t.seats
            ))),
            _ => Ok(()),
        }
    }

    /// Reads the portal users and their CAL seats back from the data file (apps, tokens, settings and CAL
    /// types are written before memory changes, so memory already holds what the file holds). Users decided
    /// before count as undecided again, as after a restart.
    fn reload(&self) -> ScimResult<()> {
        let Some(journal) = &self.journal else { return Ok(()) };
        let rows = journal.stored_rows()?.unwrap_or_default();
        let mut st = self.state.lock();
        let (users, ledger) = Self::stored_users(st.ledger.types().to_vec(), &rows)?;
        st.users = users;
        st.ledger = ledger;
        Ok(())
    }

    fn user_extension(&self, id: Uuid) -> Option<(&'static str, Value)> {
        // built under the lock, from the portal's own record: nothing of it is copied first
        let st = self.state.lock();
        let u = st.users.get(&id)?;
        let mut v = json!({"accessStatus": u.status().as_str(), "federated": u.federated});
        if let Some(c) = st.ledger.holder_cal(&id.to_string()) {
            v["cal"] = Value::String(c.to_string());
        }
        if !u.notifications.is_empty() {
            v["notifications"] = notifications_json(&u.notifications);
        }
        Some((PORTAL_URN, v))
    }
}

/// A tenant: its directory and its portal.
#[derive(Debug)]
pub struct Tenant {
    /// The tenant's name (its subdomain).
    pub name: String,
    /// How its portal is addressed.
    pub policy: DomainPolicy,
    /// Its users and groups, with SCIM semantics.
    pub directory: Arc<Directory>,
    /// The portal's state beside the directory: CAL seats, local accounts, notifications.
    pub portal: Arc<Portal>,
}

impl Tenant {
    /// Creates a protected local account (owner or administrator) through the admin API.
    pub fn create_local_account(&self, body: Value, role: LocalRole) -> ScimResult<Value> {
        self.directory.create_protected_with(body, &|id| self.portal.register_local(id, role))
    }

    /// The portal's view of a user's access: status, CAL, teams, federation, notifications.
    pub fn access_view(&self, id: &str) -> ScimResult<Value> {
        let rec = self.directory.user_record(id)?;
        let uid = Uuid::parse_str(id).map_err(|_| ScimError::NotFound(format!("user {id} not found")))?;
        let (pu, cal) = self.portal.access_fields(uid).unwrap_or_default();
        let teams: Vec<Value> = rec.body["groups"]
            .as_array()
            .map(|gs| gs.iter().filter_map(|g| g.get("display").cloned()).collect())
            .unwrap_or_default();
        Ok(json!({
            "id": id,
            "userName": rec.body["userName"],
            "status": pu.status().as_str(),
            "active": pu.active || pu.role.is_some(),
            "deleted": rec.deleted,
            "federated": pu.federated,
            "protected": rec.protected,
            "role": pu.role,
            "cal": cal,
            "teams": teams,
            "notifications": notifications_json(&pu.notifications),
        }))
    }

    /// A profile edit by the user itself in the portal: federated (SCIM-provisioned) users may not edit
    /// their profile, it belongs to the IdP.
    pub fn edit_own_profile(&self, id: &str, changes: Value) -> ScimResult<Value> {
        let uid = Uuid::parse_str(id).map_err(|_| ScimError::NotFound(format!("user {id} not found")))?;
        self.directory.user_record(id)?;
        if self.portal.is_federated(uid) {
            return Err(ScimError::Forbidden(
                "this user is federated: its profile is managed by the identity provider".into(),
            ));
        }
        self.directory.edit_profile(id, changes)
    }
}

/// Checks a tenant name: a DNS label (lowercase letters, digits, hyphens; 1–63 characters).
pub fn valid_tenant_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// All tenants of the server.
#[derive(Debug)]
pub struct Tenants {
    map: RwLock<BTreeMap<String, Arc<Tenant>>>,
    clock: SharedClock,
    directory_config: DirectoryConfig,
    /// The data file, when tenants persist (`--data`).
    db: Option<Arc<Db>>,
}

impl Tenants {
    /// No tenants yet, kept in memory only.
    pub fn new(clock: SharedClock, directory_config: DirectoryConfig) -> Self {
        Tenants { map: RwLock::new(BTreeMap::new()), clock, directory_config, db: None }
    }

    /// Every tenant the data file holds (none for a new file); tenants created later are written to it too.
    ///
    /// Errors: the file cannot be read, or holds a record this server cannot read (internal error).
    pub fn open(clock: SharedClock, directory_config: DirectoryConfig, db: Arc<Db>) -> ScimResult<Self> {
        let mut map = BTreeMap::new();
        for name in db.tenant_names()? {
            let Some(rows) = db.tenant_rows(&name)? else { continue };
            let policy: DomainPolicy = serde_json::from_str(&rows.policy).map_err(|_| stored_error("domain policy"))?;
            let journal = Journal::new(db.clone(), &name);
            let portal = Arc::new(Portal::restore(clock.clone(), &rows, journal.clone())?);
            let hooks: Arc<dyn PortalHooks> = portal.clone();
            let store = Box::new(SqliteStore::load(journal)?);
            let directory = Arc::new(Directory::with_store(directory_config, clock.clone(), Some(hooks), store)?);
            map.insert(name.clone(), Arc::new(Tenant { name, policy, directory, portal }));
        }
        Ok(Tenants { map: RwLock::new(map), clock, directory_config, db: Some(db) })
    }

    /// The data file, when tenants persist (`--data`).
    pub fn data_file(&self) -> Option<&Arc<Db>> {
        self.db.as_ref()
    }

    /// Writes behind every tenant's token use ([`Portal::flush_token_use`]); returns how many apps' tokens
    /// were written. Errors: the first tenant whose write failed (the others are still tried).
    pub fn flush_token_use(&self, min_age: chrono::Duration) -> ScimResult<usize> {
        let mut written = 0;
        let mut first_error = None;
        for t in self.list() {
            match t.portal.flush_token_use(min_age) {
                Ok(n) => written += n,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(written), Err)
    }

    /// Whether no tenant exists (a new data file, before seeding).
    pub fn is_empty(&self) -> bool {
        self.map.read().is_empty()
    }

    /// The clock tenants read.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Creates a tenant; names are unique.
    pub fn create(&self, name: &str, policy: DomainPolicy, settings: TenantSettings) -> ScimResult<Arc<Tenant>> {
        if !valid_tenant_name(name) {
            return Err(ScimError::InvalidValue(format!(
                "tenant name '{}' must be a DNS label: lowercase letters, digits and hyphens",
                name.chars().take(70).collect::<String>()
            )));
        }
        let mut map = self.map.write();
        if map.contains_key(name) {
            return Err(ScimError::Uniqueness(format!("tenant '{name}' already exists")));
        }
        let journal = self.db.as_ref().map(|db| Journal::new(db.clone(), name));
        let portal = Arc::new(Portal::new(self.clock.clone(), settings, journal.clone()));
        let hooks: Arc<dyn PortalHooks> = portal.clone();
        let directory = match journal {
            Some(journal) => {
                let config = StoredConfig::of(&portal.state.lock()).to_json();
                // Strings only: serialising cannot fail.
                let policy = serde_json::to_string(&policy).unwrap_or_default();
                journal.write_now(&[Op::PutTenant { policy, config }])?;
                let store = Box::new(SqliteStore::new(journal));
                Arc::new(Directory::with_store(self.directory_config, self.clock.clone(), Some(hooks), store)?)
            }
            None => Arc::new(Directory::with_hooks(self.directory_config, self.clock.clone(), Some(hooks))),
        };
        let tenant = Arc::new(Tenant { name: name.to_string(), policy, directory, portal });
        map.insert(name.to_string(), tenant.clone());
        Ok(tenant)
    }

    /// A tenant by name.
    pub fn get(&self, name: &str) -> Option<Arc<Tenant>> {
        self.map.read().get(name).cloned()
    }

    /// Every tenant, by name.
    pub fn list(&self) -> Vec<Arc<Tenant>> {
        self.map.read().values().cloned().collect()
    }
}
