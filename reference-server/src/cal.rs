//! Client Access Licences (CALs) and the rules that assign them.
//!
//! A tenant has CAL types, each with a number of seats ([`CalType`]). Every provisioned user holds at most one
//! CAL. When a user is created, and again whenever its attributes or group memberships change, the provisioning
//! app's rules ([`CalRule`]) are evaluated in order and the first match names the CAL the user should hold; no
//! match gives the app's default CAL ([`choose_cal`]). The tenant's [`CalLedger`] then tries to give the user a
//! seat of that CAL ([`CalLedger::assign`]):
//! - a free seat: the user gets it, releasing the seat of any CAL it held before;
//! - no free seat: the user keeps the CAL it already holds (even a different one), or, holding none, gets none
//!   and the caller attaches a "no CAL available" [`Notification`]; provisioning itself still succeeds.
//!
//! Seats are never oversubscribed: every path through the ledger keeps `holders(cal) <= seats(cal)`, and
//! [`CalLedger::set_types`] refuses to shrink a CAL below its current use.
//!
//! Deactivation ([`CalLedger::reconcile`]): by default a deactivated user keeps its CAL and seat (vendor: "any
//! assigned CAL remains assigned to the disabled user") and its CAL is not re-evaluated while inactive; with the
//! tenant setting `release_on_deactivation` the seat is released instead. A user deleted through SCIM always
//! releases its seat (the portal decides this in [`crate::tenant`]): it has left the portal, and a portal whose
//! IdP creates and deletes users forever must not run out of seats by itself. Either way reactivation or
//! restoration re-runs the assignment. Seats freed later are not handed to users who went without (there is no waiting list): such users
//! get one the next time they are re-evaluated.
//!
//! The module is pure: no HTTP types, no locking (the caller holds the tenant's lock), deterministic.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::clock::format_datetime;
use crate::error::{ScimError, ScimResult};
use crate::schema::USER_URN;
use crate::values::get_ci;
use holdings::Holdings;

mod holdings;

/// The `kind` of the notification attached to a user who could not get any CAL.
pub const NO_CAL_AVAILABLE: &str = "noCalAvailable";

/// A kind of licence of the tenant, with a number of seats.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalType {
    /// The identifier rules and apps refer to (compared exactly).
    pub id: String,
    /// The display name.
    pub name: String,
    /// How many users may hold this CAL at once.
    pub seats: u32,
}

/// How a rule compares the attribute's value with its matching text. Always case-insensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Condition {
    /// The whole value equals the text (`equals`).
    Equals,
    /// The value contains the text (`contains`).
    Contains,
    /// The value starts with the text (`startsWith`).
    StartsWith,
}

/// A rule for automatic CAL assignment: attribute path + condition + matching text → target CAL.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalRule {
    /// A SCIM attribute path: `attr` or `attr.sub`, optionally prefixed with a schema URN and `:` (e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`). `groups` and `groups.display`
    /// mean the display names of the user's groups (teams).
    pub attribute: String,
    /// The comparison.
    pub condition: Condition,
    /// The matching text.
    pub value: String,
    /// The id of the CAL type a matching user should hold.
    pub cal: String,
}

impl CalRule {
    /// Checks the rule's syntax: a well-formed attribute path (`[urn:]attr[.sub]`, names made of letters,
    /// digits, `-` and `_`, starting with a letter; a sub-attribute may be `$ref`), non-empty matching text and
    /// a non-empty CAL id. Whether the CAL exists is checked by [`CalLedger::check_rules`].
    pub fn validate(&self) -> ScimResult<()> {
        if AttrPath::parse(&self.attribute).is_none() {
            return Err(ScimError::InvalidValue(format!(
                "the CAL rule attribute path '{}' is not of the form [urn:]attribute[.subAttribute]",
                self.attribute
            )));
        }
        if self.value.is_empty() {
            return Err(ScimError::InvalidValue(format!(
                "the CAL rule on '{}' has an empty matching text",
                self.attribute
            )));
        }
        if self.cal.is_empty() {
            return Err(ScimError::InvalidValue(format!("the CAL rule on '{}' names no CAL", self.attribute)));
        }
        Ok(())
    }
}

/// A notification for the caller to attach to a user, e.g. "no CAL available".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// When it was raised (serialized as a SCIM dateTime, e.g. `2026-01-01T00:00:00.000Z`).
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub at: DateTime<Utc>,
    /// A machine-readable kind, e.g. [`NO_CAL_AVAILABLE`].
    pub kind: String,
    /// A human-readable message.
    pub message: String,
}

impl Notification {
    /// The notification for a user who got no CAL because every seat of `wanted` is taken: it names the CAL
    /// and its use (`used` of `seats`).
    pub fn no_cal_available(at: DateTime<Utc>, wanted: &str, used: u32, seats: u32) -> Self {
        Notification {
            at,
            kind: NO_CAL_AVAILABLE.to_string(),
            message: format!(
                "No CAL is available: CAL '{wanted}' has {used} of {seats} seats in use, so the user was provisioned without a CAL."
            ),
        }
    }
}

/// The outcome of [`CalLedger::assign`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignment {
    /// The user already held the desired CAL.
    Unchanged(String),
    /// The user now holds the desired CAL: newly, or switched from another one (whose seat was released).
    Assigned(String),
    /// The desired CAL is full; the user keeps the different CAL it held.
    KeptExisting {
        /// The CAL the user still holds.
        kept: String,
        /// The CAL the rules asked for.
        wanted: String,
    },
    /// The desired CAL is full and the user held none: it has no CAL now.
    NoneAvailable {
        /// The CAL the rules asked for.
        wanted: String,
        /// Its seats in use (all of them).
        used: u32,
        /// Its number of seats.
        seats: u32,
    },
}

impl Assignment {
    /// The CAL the user holds after the assignment, if any.
    pub fn held(&self) -> Option<&str> {
        match self {
            Assignment::Unchanged(c) | Assignment::Assigned(c) => Some(c),
            Assignment::KeptExisting { kept, .. } => Some(kept),
            Assignment::NoneAvailable { .. } => None,
        }
    }

    /// The notification to attach to the user: only for [`Assignment::NoneAvailable`].
    pub fn notification(&self, at: DateTime<Utc>) -> Option<Notification> {
        match self {
            Assignment::NoneAvailable { wanted, used, seats } => {
                Some(Notification::no_cal_available(at, wanted, *used, *seats))
            }
            _ => None,
        }
    }
}

/// The outcome of [`CalLedger::reconcile`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reconciliation {
    /// The user is active: the rules were evaluated and the ledger assigned accordingly.
    Active(Assignment),
    /// The user is inactive: its CAL was left alone (`released: None`) or, under `release_on_deactivation`, its
    /// seat was released now (`released: Some(cal)`).
    Inactive {
        /// The CAL whose seat this call released.
        released: Option<String>,
    },
}

impl Reconciliation {
    /// The notification to attach to the user, if any (see [`Assignment::notification`]).
    pub fn notification(&self, at: DateTime<Utc>) -> Option<Notification> {
        match self {
            Reconciliation::Active(a) => a.notification(at),
            Reconciliation::Inactive { .. } => None,
        }
    }
}

/// Seat use of one CAL type, for reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalUsage {
    /// The CAL type's id.
    pub id: String,
    /// The CAL type's name.
    pub name: String,
    /// Its number of seats.
    pub seats: u32,
    /// How many seats are held.
    pub used: u32,
}

/// A tenant's CAL types and the holder of every seat.
///
/// Invariants: every user holds at most one CAL; every held CAL is a known type; no type has more holders than
/// seats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalLedger {
    types: Vec<CalType>,
    /// User id → the CAL it holds, and the seats held per CAL ([`Holdings`]: compact, a seat is taken and
    /// checked on every user write); [`CalLedger::holders`] sorts when asked.
    holdings: Holdings,
}

impl CalLedger {
    /// A ledger with these CAL types and no holders. Errors as [`CalLedger::set_types`].
    pub fn new(types: Vec<CalType>) -> ScimResult<Self> {
        let mut ledger = CalLedger::default();
        ledger.set_types(types)?;
        Ok(ledger)
    }

    /// A ledger as the data file holds it: these types and the seat each user held. A holding of an unknown type,
    /// or beyond a type's seats, is dropped (the file was edited by hand), so the invariants hold.
    pub fn restore(types: Vec<CalType>, holdings: impl IntoIterator<Item = (String, String)>) -> ScimResult<Self> {
        let mut ledger = CalLedger::new(types)?;
        for (user, cal) in holdings {
            if ledger.free_seats(&cal).is_some_and(|free| free > 0) && ledger.holdings.get(&user).is_none() {
                ledger.holdings.insert(&user, &cal);
            }
        }
        Ok(ledger)
    }

    /// The CAL types, in the order given.
    pub fn types(&self) -> &[CalType] {
        &self.types
    }

    /// One CAL type.
    pub fn cal_type(&self, cal: &str) -> Option<&CalType> {
        self.types.iter().find(|t| t.id == cal)
    }

    /// Replaces the CAL types (add, remove, rename, change seats). Refused with `invalidValue`, leaving the ledger
    /// unchanged, when an id is empty or repeated, when a type that still has holders is removed, or when a
    /// type's seats would drop below its current holders (release seats first).
    pub fn set_types(&mut self, types: Vec<CalType>) -> ScimResult<()> {
        let mut seen = BTreeSet::new();
        for t in &types {
            if t.id.is_empty() {
                return Err(ScimError::InvalidValue("a CAL type needs a non-empty id".to_string()));
            }
            if !seen.insert(t.id.as_str()) {
                return Err(ScimError::InvalidValue(format!("the CAL type id '{}' is repeated", t.id)));
            }
        }
        for (cal, used) in self.holdings.in_use() {
            match types.iter().find(|t| t.id == cal) {
                None => {
                    return Err(ScimError::InvalidValue(format!(
                        "the CAL type '{cal}' cannot be removed: {used} user(s) hold it"
                    )))
                }
                Some(t) if (t.seats as usize) < used => {
                    return Err(ScimError::InvalidValue(format!(
                        "the CAL type '{cal}' cannot have {} seat(s): {used} user(s) hold it",
                        t.seats
                    )))
                }
                Some(_) => {}
            }
        }
        self.types = types;
        Ok(())
    }

    /// Free seats of a CAL type; `None` for an unknown type.
    pub fn free_seats(&self, cal: &str) -> Option<u32> {
        let t = self.cal_type(cal)?;
        Some(t.seats.saturating_sub(self.used_seats(cal)))
    }

    /// Held seats of a CAL type (0 for an unknown type).
    pub fn used_seats(&self, cal: &str) -> u32 {
        u32::try_from(self.holdings.used(cal)).unwrap_or(u32::MAX)
    }

    /// The users holding a CAL type, in id order.
    pub fn holders(&self, cal: &str) -> impl Iterator<Item = String> {
        self.holdings.holders(cal).into_iter()
    }

    /// The CAL a user holds.
    pub fn holder_cal(&self, user_id: &str) -> Option<&str> {
        self.holdings.get(user_id)
    }

    /// Seat use of every type, in type order.
    pub fn usage(&self) -> Vec<CalUsage> {
        self.types
            .iter()
            .map(|t| CalUsage { id: t.id.clone(), name: t.name.clone(), seats: t.seats, used: self.used_seats(&t.id) })
            .collect()
    }

    /// Tries to give `user_id` a seat of `desired_cal` (see [`Assignment`]). Switching CALs releases the old
    /// seat; a full desired CAL never takes a seat from anyone. An unknown `desired_cal` is an `invalidValue`
    /// error and changes nothing.
    pub fn assign(&mut self, user_id: &str, desired_cal: &str) -> ScimResult<Assignment> {
        let free = self
            .free_seats(desired_cal)
            .ok_or_else(|| ScimError::InvalidValue(format!("the CAL type '{desired_cal}' does not exist")))?;
        let current = self.holder_cal(user_id).map(str::to_string);
        if current.as_deref() == Some(desired_cal) {
            return Ok(Assignment::Unchanged(desired_cal.to_string()));
        }
        if free == 0 {
            return Ok(match current {
                Some(kept) => Assignment::KeptExisting { kept, wanted: desired_cal.to_string() },
                None => Assignment::NoneAvailable {
                    wanted: desired_cal.to_string(),
                    used: self.used_seats(desired_cal),
                    seats: self.cal_type(desired_cal).map_or(0, |t| t.seats),
                },
            });
        }
        self.holdings.insert(user_id, desired_cal);
        Ok(Assignment::Assigned(desired_cal.to_string()))
    }

    /// Releases the user's seat (deletion, or deactivation under `release_on_deactivation`). Returns the CAL it
    /// held.
    pub fn release(&mut self, user_id: &str) -> Option<String> {
        self.holdings.remove(user_id)
    }

    /// Checks rules for an app's settings: each rule's syntax ([`CalRule::validate`]) and that its CAL exists.
    pub fn check_rules(&self, rules: &[CalRule]) -> ScimResult<()> {
        for rule in rules {
            rule.validate()?;
            if self.cal_type(&rule.cal).is_none() {
                return Err(ScimError::InvalidValue(format!(
                    "the CAL rule on '{}' names the unknown CAL type '{}'",
                    rule.attribute, rule.cal
                )));
            }
        }
        Ok(())
    }

    /// Brings one user's CAL in line with its current state; call after create, after any change of its
    /// attributes or group memberships, and after (de)activation.
    ///
    /// - Active user (`active` absent or true, [`is_active`]): the rules choose a CAL
    ///   ([`choose_cal`]) and [`CalLedger::assign`] applies it.
    /// - Inactive user: with `release_on_deactivation` its seat is released; otherwise it keeps what it holds
    ///   and the rules are not evaluated.
    pub fn reconcile(
        &mut self,
        user_id: &str,
        user: &Value,
        group_names: &[String],
        rules: &[CalRule],
        default_cal: &str,
        release_on_deactivation: bool,
    ) -> ScimResult<Reconciliation> {
        if !is_active(user)? {
            let released = if release_on_deactivation { self.release(user_id) } else { None };
            return Ok(Reconciliation::Inactive { released });
        }
        let desired = choose_cal(rules, default_cal, user, group_names);
        Ok(Reconciliation::Active(self.assign(user_id, desired)?))
    }
}

/// Whether a SCIM user is active: its `active` (looked up case-insensitively) as a SCIM boolean
/// ([`crate::values::boolean`]: `true`/`false`, or those strings in any case, as Entra sends them). An absent or
/// null `active` counts as active.
///
/// Errors: `invalidValue` for an `active` that is no boolean (`"yes"`, `1`), never a guess.
pub fn is_active(user: &Value) -> ScimResult<bool> {
    let Some(obj) = user.as_object() else {
        return Ok(true);
    };
    match get_ci(obj, "active") {
        None | Some(Value::Null) => Ok(true),
        Some(v) => crate::values::boolean(v, "active"),
    }
}

/// The CAL the rules give this user: the first matching rule's CAL, else `default_cal`.
pub fn choose_cal<'a>(rules: &'a [CalRule], default_cal: &'a str, user: &Value, group_names: &[String]) -> &'a str {
    rules.iter().find(|r| rule_matches(r, user, group_names)).map_or(default_cal, |r| r.cal.as_str())
}

/// Whether a user joining or leaving the group named `group_name` can change what `rule` decides for that
/// user. A rule on `groups` / `groups.display` matches when ANY of the user's group names passes its test, so
/// its outcome can only change through a group whose own name passes it; a rule on another sub-attribute of
/// `groups` (`value`, `type`, `$ref`) is assumed to be affected by every group; other rules never are.
pub fn rule_watches_group(rule: &CalRule, group_name: &str) -> bool {
    let Some(path) = AttrPath::parse(&rule.attribute) else {
        return false;
    };
    if path.names_group_display() {
        return text_matches(rule.condition, group_name, &rule.value.to_lowercase());
    }
    path.attr.eq_ignore_ascii_case("groups") && path.urn.is_none_or(|u| u.eq_ignore_ascii_case(USER_URN))
}

/// Whether a rule matches a user.
///
/// `user` is the user's SCIM JSON: core attributes at the top level, extension attributes under their schema
/// URN. Keys are looked up case-insensitively; comparisons are case-insensitive. A multi-valued attribute matches
/// when any element does; a complex value without a sub-attribute in the path is compared through its `value`
/// sub-attribute (as SCIM filters do for `emails co "…"`); booleans and numbers are compared in their JSON text
/// form (`true`, `42`); null, missing attributes and malformed paths never match. `groups` and `groups.display`
/// (optionally with the core User URN) are matched against `group_names`, the display names of the user's
/// groups.
pub fn rule_matches(rule: &CalRule, user: &Value, group_names: &[String]) -> bool {
    let Some(path) = AttrPath::parse(&rule.attribute) else {
        return false;
    };
    let needle = rule.value.to_lowercase();
    let test = |text: &str| text_matches(rule.condition, text, &needle);

    if path.names_group_display() {
        return group_names.iter().any(|g| test(g));
    }

    let Some(top) = user.as_object() else {
        return false;
    };
    let container = match path.urn {
        None => Some(top),
        Some(urn) => match get_ci(top, urn).and_then(Value::as_object) {
            Some(ext) => Some(ext),
            None if urn.eq_ignore_ascii_case(USER_URN) => Some(top),
            None => None,
        },
    };
    let Some(attr) = container.and_then(|c| get_ci(c, path.attr)) else {
        return false;
    };
    match path.sub {
        None => any_leaf(attr, &test),
        Some(sub) => match attr {
            Value::Object(o) => get_ci(o, sub).is_some_and(|v| any_leaf(v, &test)),
            Value::Array(items) => items
                .iter()
                .any(|item| item.as_object().and_then(|o| get_ci(o, sub)).is_some_and(|v| any_leaf(v, &test))),
            _ => false,
        },
    }
}

/// A parsed rule attribute path `[urn ":"] attr ["." sub]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AttrPath<'a> {
    urn: Option<&'a str>,
    attr: &'a str,
    sub: Option<&'a str>,
}

impl<'a> AttrPath<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        let path = path.trim();
        let is_urn = path.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
        let (urn, rest) = if is_urn {
            let (urn, rest) = path.rsplit_once(':')?;
            (Some(urn), rest)
        } else {
            (None, path)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        if !is_attr_name(attr, false) || sub.is_some_and(|s| !is_attr_name(s, true)) {
            return None;
        }
        Some(AttrPath { urn, attr, sub })
    }

    /// `groups` or `groups.display`, without URN or with the core User URN.
    fn names_group_display(&self) -> bool {
        let core = match self.urn {
            None => true,
            Some(urn) => urn.eq_ignore_ascii_case(USER_URN),
        };
        let display = match self.sub {
            None => true,
            Some(sub) => sub.eq_ignore_ascii_case("display"),
        };
        core && display && self.attr.eq_ignore_ascii_case("groups")
    }
}

/// RFC 7643 §2.1 `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`; `$ref` for sub-attributes.
fn is_attr_name(name: &str, sub: bool) -> bool {
    if sub && name == "$ref" {
        return true;
    }
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Whether any leaf of `v` passes `test`: `v` itself, or, for an array, any element (one level).
fn any_leaf(v: &Value, test: &dyn Fn(&str) -> bool) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|item| leaf_text(item).is_some_and(|t| test(&t))),
        other => leaf_text(other).is_some_and(|t| test(&t)),
    }
}

/// The text a value is compared by: strings as they are, booleans and numbers in JSON form, a complex value by
/// its `value` sub-attribute; null, arrays and objects without a scalar `value` have none.
fn leaf_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Object(o) => match get_ci(o, "value") {
            Some(inner @ (Value::String(_) | Value::Bool(_) | Value::Number(_))) => leaf_text(inner),
            _ => None,
        },
        Value::Null | Value::Array(_) => None,
    }
}

/// Case-insensitive comparison; `needle` is already lower-cased.
fn text_matches(condition: Condition, text: &str, needle: &str) -> bool {
    let text = text.to_lowercase();
    match condition {
        Condition::Equals => text == needle,
        Condition::Contains => text.contains(needle),
        Condition::StartsWith => text.starts_with(needle),
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Condition::Equals => "equals",
            Condition::Contains => "contains",
            Condition::StartsWith => "startsWith",
        })
    }
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_datetime(*t))
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn rule(attribute: &str, condition: Condition, value: &str, cal: &str) -> CalRule {
        CalRule { attribute: attribute.to_string(), condition, value: value.to_string(), cal: cal.to_string() }
    }

    #[test]
    fn only_groups_whose_name_a_group_rule_matches_are_watched() {
        let admin = rule("groups", Condition::Contains, "admin", "pro");
        assert!(rule_watches_group(&admin, "SysADMIN Crew"));
        assert!(
            !rule_watches_group(&admin, "Engineering"),
            "joining Engineering cannot change 'any group contains admin'"
        );
        let display =
            rule("urn:ietf:params:scim:schemas:core:2.0:User:groups.display", Condition::StartsWith, "ops", "p");
        assert!(rule_watches_group(&display, "Ops EU") && !rule_watches_group(&display, "DevOps"));
        // other sub-attributes of groups depend on ids, not names: every group counts
        assert!(rule_watches_group(&rule("groups.value", Condition::Equals, "42", "p"), "Engineering"));
        // rules on other attributes never depend on membership
        assert!(!rule_watches_group(&rule("title", Condition::Contains, "admin", "p"), "admin"));
        assert!(!rule_watches_group(&rule(&format!("{ENT}:department"), Condition::Contains, "a", "p"), "a"));
        assert!(!rule_watches_group(&rule("not a path!", Condition::Contains, "a", "p"), "a"));
    }

    fn user() -> Value {
        json!({
            "schemas": [USER_URN, ENT],
            "id": "u1",
            "userName": "Alice.Smith@Example.com",
            "title": "Senior Video Producer",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [
                {"value": "alice@example.com", "type": "work", "primary": true},
                {"value": "ALICE@Personal.ORG", "type": "home"}
            ],
            "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
            ENT: {"department": "Media Production", "employeeNumber": 4711,
                  "manager": {"value": "m1", "displayName": "Bob"}}
        })
    }

    fn groups() -> Vec<String> {
        vec!["Video Editors".to_string(), "All Staff".to_string()]
    }

    fn matches(attribute: &str, condition: Condition, value: &str) -> bool {
        rule_matches(&rule(attribute, condition, value, "x"), &user(), &groups())
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn ledger(types: &[(&str, u32)]) -> CalLedger {
        CalLedger::new(
            types
                .iter()
                .map(|(id, seats)| CalType { id: id.to_string(), name: id.to_uppercase(), seats: *seats })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn top_level_attribute_conditions() {
        use Condition::*;
        assert!(matches("userName", Equals, "alice.smith@example.COM"));
        assert!(!matches("userName", Equals, "alice.smith"));
        assert!(matches("USERNAME", StartsWith, "ALICE."));
        assert!(matches("title", Contains, "video"));
        assert!(matches("Title", StartsWith, "senior"));
        assert!(!matches("title", StartsWith, "video"));
        assert!(!matches("nickName", Contains, "a"));
        assert!(matches(&format!("{USER_URN}:title"), Contains, "PRODUCER"));
        assert!(matches("active", Equals, "TRUE"));
    }

    #[test]
    fn sub_attribute_conditions() {
        use Condition::*;
        assert!(matches("name.givenName", Equals, "ALICE"));
        assert!(matches("name.givenname", StartsWith, "al"));
        assert!(matches("NAME.familyName", Contains, "mit"));
        assert!(!matches("name.middleName", Contains, "a"));
        assert!(!matches("title.value", Contains, "video"));
    }

    #[test]
    fn multi_valued_any_element() {
        use Condition::*;
        assert!(matches("emails.value", Equals, "alice@personal.org"));
        assert!(matches("emails.value", Contains, "@EXAMPLE.com"));
        assert!(matches("emails.type", Equals, "home"));
        assert!(matches("emails", Contains, "personal.org"), "complex without sub compares `value`");
        assert!(matches("emails.primary", Equals, "true"));
        assert!(!matches("emails.value", StartsWith, "bob"));
        assert!(matches("schemas", Contains, "enterprise"), "simple multi-valued");
    }

    #[test]
    fn enterprise_urn_attributes() {
        use Condition::*;
        assert!(matches(&format!("{ENT}:department"), Equals, "media production"));
        assert!(matches(&format!("{}:Department", ENT.to_lowercase()), StartsWith, "MEDIA"));
        assert!(matches(&format!("{ENT}:employeeNumber"), Equals, "4711"));
        assert!(matches(&format!("{ENT}:manager.displayName"), Equals, "bob"));
        assert!(matches(&format!("{ENT}:manager"), Equals, "M1"));
        // Without the URN, `department` is a (missing) core attribute.
        assert!(!matches("department", Contains, "media"));
        assert!(!matches("urn:example:other:department", Contains, "media"));
    }

    #[test]
    fn group_display_names() {
        use Condition::*;
        assert!(matches("groups", Equals, "video editors"));
        assert!(matches("groups.display", StartsWith, "VIDEO"));
        assert!(matches("Groups.Display", Contains, "staff"));
        assert!(matches(&format!("{USER_URN}:groups"), Contains, "editor"));
        assert!(!matches("groups", Equals, "video"));
        let no_groups = rule("groups", Contains, "e", "x");
        assert!(!rule_matches(&no_groups, &user(), &[]));
    }

    #[test]
    fn odd_inputs_never_match_or_panic() {
        use Condition::*;
        for path in ["", ".", "a.", ".b", "a.b.c", "1abc", "urn:", "urn:x:", "name .givenName", "é"] {
            assert!(!matches(path, Contains, "a"), "{path}");
            assert!(rule(path, Contains, "a", "x").validate().is_err(), "{path}");
        }
        for v in [json!(null), json!([]), json!("text"), json!(42), json!({"userName": null})] {
            assert!(!rule_matches(&rule("userName", Contains, "a", "x"), &v, &[]));
        }
        assert!(matches("userName", Contains, ""), "empty text matches any present value");
        assert!(rule("userName", Contains, "", "x").validate().is_err());
        assert!(rule("manager.$ref", Contains, "a", "x").validate().is_ok());
        // Unicode case-insensitivity.
        let u = json!({"title": "ÉQUIPE Vidéo"});
        assert!(rule_matches(&rule("title", Equals, "équipe vidéo", "x"), &u, &[]));
    }

    #[test]
    fn first_match_wins_else_default() {
        use Condition::*;
        let rules = vec![
            rule("groups", Equals, "Executives", "exec"),
            rule("title", Contains, "producer", "creator"),
            rule("groups", Contains, "video", "editor"),
        ];
        assert_eq!(choose_cal(&rules, "viewer", &user(), &groups()), "creator");
        let reordered: Vec<CalRule> = vec![rules[2].clone(), rules[1].clone()];
        assert_eq!(choose_cal(&reordered, "viewer", &user(), &groups()), "editor");
        let exec = vec!["Executives".to_string()];
        assert_eq!(choose_cal(&rules, "viewer", &json!({"title": "CEO"}), &exec), "exec");
        assert_eq!(choose_cal(&rules, "viewer", &json!({"title": "Intern"}), &[]), "viewer");
        assert_eq!(choose_cal(&[], "viewer", &user(), &groups()), "viewer");
    }

    #[test]
    fn serde_names() {
        let r = rule(&format!("{ENT}:department"), Condition::StartsWith, "Media", "creator");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["condition"], "startsWith");
        assert_eq!(v["attribute"], format!("{ENT}:department"));
        assert_eq!(serde_json::from_value::<CalRule>(v).unwrap(), r);
        for (c, s) in
            [(Condition::Equals, "equals"), (Condition::Contains, "contains"), (Condition::StartsWith, "startsWith")]
        {
            assert_eq!(serde_json::to_value(c).unwrap(), s);
            assert_eq!(c.to_string(), s);
        }
        let t: CalType = serde_json::from_value(json!({"id": "v", "name": "Viewer", "seats": 3})).unwrap();
        assert_eq!(t.seats, 3);
        let n = Notification::no_cal_available(t0(), "creator", 3, 3);
        assert!(n.message.contains("CAL 'creator' has 3 of 3 seats in use"), "{}", n.message);
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(v["at"], "2026-01-01T00:00:00.000Z");
        assert_eq!(v["kind"], "noCalAvailable");
        assert_eq!(serde_json::from_value::<Notification>(v).unwrap(), n);
    }

    #[test]
    fn seat_exhaustion() {
        let mut l = ledger(&[("viewer", 10), ("creator", 1)]);
        for i in 0..10 {
            let a = l.assign(&format!("u{i}"), "viewer").unwrap();
            assert_eq!(a, Assignment::Assigned("viewer".into()));
        }
        assert_eq!(l.free_seats("viewer"), Some(0));
        let eleventh = l.assign("u10", "viewer").unwrap();
        assert_eq!(eleventh, Assignment::NoneAvailable { wanted: "viewer".into(), used: 10, seats: 10 });
        assert_eq!(eleventh.held(), None);
        let note = eleventh.notification(t0()).unwrap();
        assert_eq!(note.kind, NO_CAL_AVAILABLE);
        assert_eq!(note.at, t0());
        assert_eq!(l.holder_cal("u10"), None);
        assert_eq!(l.used_seats("viewer"), 10);

        // An existing holder asked to switch to a full CAL keeps the old one.
        assert_eq!(l.assign("c1", "creator").unwrap(), Assignment::Assigned("creator".into()));
        let kept = l.assign("u0", "creator").unwrap();
        assert_eq!(kept, Assignment::KeptExisting { kept: "viewer".into(), wanted: "creator".into() });
        assert_eq!(kept.notification(t0()), None);
        assert_eq!(l.holder_cal("u0"), Some("viewer"));
        assert_eq!(l.holder_cal("c1"), Some("creator"));
        assert_eq!(l.assign("u0", "viewer").unwrap(), Assignment::Unchanged("viewer".into()));
        assert_eq!(l.used_seats("creator"), 1);

        assert!(l.assign("u0", "gold").is_err());
        assert_eq!(l.holder_cal("u0"), Some("viewer"));
        assert_eq!(l.free_seats("gold"), None);
    }

    #[test]
    fn release_and_reuse() {
        let mut l = ledger(&[("viewer", 1)]);
        l.assign("a", "viewer").unwrap();
        let none = Assignment::NoneAvailable { wanted: "viewer".into(), used: 1, seats: 1 };
        assert_eq!(l.assign("b", "viewer").unwrap(), none);
        assert_eq!(l.release("a"), Some("viewer".to_string()));
        assert_eq!(l.release("a"), None);
        assert_eq!(l.release("nobody"), None);
        assert_eq!(l.free_seats("viewer"), Some(1));
        assert_eq!(l.assign("b", "viewer").unwrap(), Assignment::Assigned("viewer".into()));
        assert_eq!(l.holders("viewer").collect::<Vec<_>>(), vec!["b"]);
    }

    #[test]
    fn switching_frees_the_old_seat() {
        let mut l = ledger(&[("viewer", 1), ("creator", 1)]);
        l.assign("a", "viewer").unwrap();
        assert_eq!(l.assign("a", "creator").unwrap(), Assignment::Assigned("creator".into()));
        assert_eq!(l.free_seats("viewer"), Some(1));
        assert_eq!(l.free_seats("creator"), Some(0));
        assert_eq!(l.holders("viewer").count(), 0);
        assert_eq!(l.assign("b", "viewer").unwrap(), Assignment::Assigned("viewer".into()));
        let usage = l.usage();
        assert_eq!(usage.len(), 2);
        assert!(usage.iter().all(|u| u.used == 1 && u.seats == 1));
    }

    #[test]
    fn set_types_refuses_to_strand_holders() {
        let mut l = ledger(&[("viewer", 3), ("creator", 2)]);
        l.assign("a", "viewer").unwrap();
        l.assign("b", "viewer").unwrap();
        let before = l.clone();
        let shrink = vec![
            CalType { id: "viewer".into(), name: "V".into(), seats: 1 },
            CalType { id: "creator".into(), name: "C".into(), seats: 2 },
        ];
        let e = l.set_types(shrink).unwrap_err();
        assert!(e.detail().contains("viewer"), "{e}");
        let remove = vec![CalType { id: "creator".into(), name: "C".into(), seats: 2 }];
        assert!(l.set_types(remove).is_err());
        let dup = vec![
            CalType { id: "viewer".into(), name: "V".into(), seats: 5 },
            CalType { id: "viewer".into(), name: "W".into(), seats: 5 },
        ];
        assert!(l.set_types(dup).is_err());
        assert!(l.set_types(vec![CalType { id: String::new(), name: "x".into(), seats: 1 }]).is_err());
        assert_eq!(l, before, "refusals change nothing");
        // Shrinking to exactly the current use, renaming and removing an unused type are fine.
        l.set_types(vec![CalType { id: "viewer".into(), name: "Viewer".into(), seats: 2 }]).unwrap();
        assert_eq!(l.free_seats("viewer"), Some(0));
        assert_eq!(l.free_seats("creator"), None);
        assert_eq!(l.cal_type("viewer").unwrap().name, "Viewer");
    }

    #[test]
    fn check_rules_against_types() {
        let l = ledger(&[("viewer", 1)]);
        assert!(l.check_rules(&[rule("title", Condition::Contains, "a", "viewer")]).is_ok());
        assert!(l.check_rules(&[rule("title", Condition::Contains, "a", "gold")]).is_err());
        assert!(l.check_rules(&[rule("a.b.c", Condition::Contains, "a", "viewer")]).is_err());
    }

    #[test]
    fn reconcile_follows_attributes_and_activation() {
        let rules = vec![rule("groups", Condition::Contains, "editor", "creator")];
        let mut l = ledger(&[("viewer", 5), ("creator", 5)]);
        let mut u = user();
        let r = l.reconcile("u1", &u, &[], &rules, "viewer", false).unwrap();
        assert_eq!(r, Reconciliation::Active(Assignment::Assigned("viewer".into())));
        // Group membership changed: re-evaluated, switched.
        let r = l.reconcile("u1", &u, &groups(), &rules, "viewer", false).unwrap();
        assert_eq!(r, Reconciliation::Active(Assignment::Assigned("creator".into())));
        // Deactivated, default policy: keeps CAL and seat, rules not evaluated.
        u["active"] = json!(false);
        let r = l.reconcile("u1", &u, &[], &rules, "viewer", false).unwrap();
        assert_eq!(r, Reconciliation::Inactive { released: None });
        assert_eq!(l.holder_cal("u1"), Some("creator"));
        // Deactivated with release_on_deactivation: seat released.
        u["ACTIVE"] = json!("False");
        u.as_object_mut().unwrap().remove("active");
        assert_eq!(is_active(&u), Ok(false));
        // only true and false are booleans (RFC 7643 §2.3.2): any other string is invalidValue, never "active"
        let mut odd = u.clone();
        odd["ACTIVE"] = json!("yes");
        assert!(matches!(is_active(&odd), Err(ScimError::InvalidValue(_))), "{odd}");
        assert!(matches!(l.reconcile("u1", &odd, &[], &rules, "viewer", true), Err(ScimError::InvalidValue(_))));
        assert_eq!(l.holder_cal("u1"), Some("creator"), "an invalid active changes no seat");
        let r = l.reconcile("u1", &u, &[], &rules, "viewer", true).unwrap();
        assert_eq!(r, Reconciliation::Inactive { released: Some("creator".into()) });
        assert_eq!(l.holder_cal("u1"), None);
        // Reactivation re-runs assignment.
        u["ACTIVE"] = json!(true);
        let r = l.reconcile("u1", &u, &groups(), &rules, "viewer", true).unwrap();
        assert_eq!(r, Reconciliation::Active(Assignment::Assigned("creator".into())));
        assert_eq!(r.notification(t0()), None);
        // Unknown default CAL is an error, not a panic.
        assert!(l.reconcile("u2", &json!({}), &[], &[], "gold", false).is_err());
    }

    /// xorshift64*: a deterministic PRNG so the property test is reproducible.
    struct Xs(u64);
    impl Xs {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
    }

    fn check_invariants(l: &CalLedger) {
        for t in l.types() {
            let n = l.holders(&t.id).count();
            assert!(n <= t.seats as usize, "{} oversubscribed: {n} > {}", t.id, t.seats);
            assert_eq!(n, l.used_seats(&t.id) as usize, "{}: the count drifted", t.id);
        }
        let mut total = 0;
        for (cal, used) in l.holdings.in_use() {
            assert!(l.cal_type(cal).is_some(), "held CAL {cal} is not a type");
            for u in l.holders(cal) {
                assert_eq!(l.holder_cal(&u), Some(cal));
            }
            total += used;
        }
        assert_eq!(total, l.holdings.len(), "a user holds two CALs or the index drifted");
    }

    #[test]
    fn never_oversubscribed_under_random_operations() {
        let cals = ["viewer", "creator", "admin", "ghost"];
        // How often each outcome occurred: assigned, kept, none, error, refused set_types.
        let mut seen = [0usize; 5];
        for seed in 1..=20u64 {
            let mut rng = Xs(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let mut l = ledger(&[("viewer", 7), ("creator", 3), ("admin", 1)]);
            for _ in 0..2_000 {
                let user = format!("u{}", rng.next(25));
                let cal = cals[rng.next(cals.len() as u64) as usize];
                let before_holder = l.holder_cal(&user).map(str::to_string);
                match rng.next(10) {
                    0..=5 => match l.assign(&user, cal) {
                        Ok(Assignment::Unchanged(c)) | Ok(Assignment::Assigned(c)) => {
                            assert_eq!(c, cal);
                            assert_eq!(l.holder_cal(&user), Some(cal));
                            seen[0] += 1;
                        }
                        Ok(Assignment::KeptExisting { kept, wanted }) => {
                            assert_eq!(wanted, cal);
                            assert_eq!(Some(kept), before_holder);
                            assert_eq!(l.free_seats(cal), Some(0));
                            seen[1] += 1;
                        }
                        Ok(Assignment::NoneAvailable { wanted, .. }) => {
                            assert_eq!(wanted, cal);
                            assert_eq!(before_holder, None);
                            assert_eq!(l.holder_cal(&user), None);
                            seen[2] += 1;
                        }
                        Err(_) => {
                            assert_eq!(cal, "ghost");
                            assert_eq!(l.holder_cal(&user).map(str::to_string), before_holder);
                            seen[3] += 1;
                        }
                    },
                    6..=7 => {
                        assert_eq!(l.release(&user), before_holder);
                    }
                    _ => {
                        let seats = [rng.next(9) as u32, rng.next(5) as u32, rng.next(3) as u32];
                        let types: Vec<CalType> = ["viewer", "creator", "admin"]
                            .iter()
                            .zip(seats)
                            .map(|(id, seats)| CalType { id: id.to_string(), name: id.to_string(), seats })
                            .collect();
                        let fits = types.iter().all(|t| l.used_seats(&t.id) <= t.seats);
                        assert_eq!(l.set_types(types).is_ok(), fits);
                        if !fits {
                            seen[4] += 1;
                        }
                    }
                }
                check_invariants(&l);
            }
        }
        assert!(seen.iter().all(|&n| n > 0), "every outcome exercised: {seen:?}");
    }
}
