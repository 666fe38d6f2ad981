//! The source directory the simulated IdP provisions from: users (names, unique userNames and e-mails,
//! departments, titles, phones, addresses, a manager tree), groups (a few to thousands of members) and app
//! assignment. Generated deterministically from a seed with the `fake` crate, or loaded from a file
//! ([`Model::load`]); changed between cycles by [`Model::churn`].
//!
//! The model is compact so that a million users fit in well under 1 GB: repeated texts (titles, departments,
//! cities) are interned tables indexed by small integers, the rest are boxed strings.

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;
use std::path::Path;

use fake::faker::address::en::{BuildingNumber, CityName, StreetName, ZipCode};
use fake::faker::job::en::Title;
use fake::faker::name::en::{FirstName, LastName};
use fake::faker::phone_number::en::PhoneNumber;
use fake::rand::rngs::StdRng;
use fake::rand::seq::index::sample;
use fake::rand::{Rng, SeedableRng};
use fake::Fake;
use serde::Deserialize;

use crate::idp::UserAttrs;

pub use super::manager_tree::NO_MANAGER;

/// One source user.
#[derive(Debug, Clone)]
pub struct SourceUser {
    /// Given name.
    pub given: Box<str>,
    /// Family name.
    pub family: Box<str>,
    /// The unique userName, also the work e-mail.
    pub user_name: Box<str>,
    /// The IdP's own id of the user, sent as `externalId`.
    pub external_id: Box<str>,
    /// Work phone.
    pub phone: Box<str>,
    /// Street address.
    pub street: Box<str>,
    /// Postal code.
    pub postal_code: Box<str>,
    /// Index into [`Model::titles`].
    pub title: u16,
    /// Index into [`Model::departments`].
    pub department: u16,
    /// Index into [`Model::cities`].
    pub city: u16,
    /// Index of the manager in [`Model::users`], or [`NO_MANAGER`].
    pub manager: u32,
    /// Assigned to the app (in scope): provisioned and active on the server.
    pub assigned: bool,
    /// Was assigned when a provisioning cycle began ([`Model::start_cycle`]), so the engine provisioned it and
    /// the server knows it (active or not). A user hired and unassigned between two cycles never was.
    pub ever_assigned: bool,
    /// Hard-deleted in the source (the IdP deletes it after the soft delete, where it deletes at all).
    pub deleted: bool,
    /// How many times its roles and entitlements were reassigned ([`super::entitlements`]).
    pub grant: u32,
}

/// One source group (all groups are pushed / assigned).
#[derive(Debug, Clone)]
pub struct SourceGroup {
    /// The unique displayName.
    pub name: Box<str>,
    /// The IdP's id of the group (Entra sends it as `externalId`).
    pub external_id: Box<str>,
    /// Member user indexes, sorted, no duplicates.
    pub members: Vec<u32>,
    /// Deleted in the source.
    pub deleted: bool,
}

/// How the IdP writes its ids into `externalId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdStyle {
    /// Entra objectId: a GUID.
    Guid,
    /// Okta user id: `00u` and 17 base-62 characters (docs/okta.md §2 create body).
    Okta,
}

/// The source directory.
#[derive(Debug, Clone)]
pub struct Model {
    /// Users, by index.
    pub users: Vec<SourceUser>,
    /// Groups, by index.
    pub groups: Vec<SourceGroup>,
    /// Interned job titles.
    pub titles: Vec<Box<str>>,
    /// Interned department names.
    pub departments: Vec<Box<str>>,
    /// Interned (city, country code) pairs.
    pub cities: Vec<(Box<str>, Box<str>)>,
    /// The e-mail domain of generated users.
    pub domain: Box<str>,
    /// Whether the target carries the enterprise extension ([`super::scope`]): without it, users have no
    /// `department`, `employeeNumber` or manager to send or expect.
    pub enterprise: bool,
    /// The roles and entitlements the IdP assigns (`--entitlements N`); `None`: users carry neither.
    pub catalogue: Option<std::sync::Arc<super::entitlements::SimCatalogue>>,
    id_style: IdStyle,
    rng: StdRng,
    /// The userNames in use, each as its [`taken_key`]: a new name is drawn until its key is not here. Two names
    /// sharing a key only make the generator pass over a free name, never give a taken one; a copy of every
    /// userName cost about 70 MB at a million users.
    taken: HashSet<u64>,
}

/// A userName's key in [`Model::taken`]: its SipHash under fixed keys, so that a seed generates the same names.
fn taken_key(user_name: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    h.write(user_name.as_bytes());
    h.finish()
}

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Human Resources",
    "Legal",
    "Operations",
    "Customer Support",
    "Product",
    "Research",
    "IT",
    "Facilities",
];

const TEAMS: &[&str] = &[
    "Platform",
    "Mobile",
    "EMEA",
    "Americas",
    "APAC",
    "Payroll",
    "Recruiting",
    "Security",
    "Data",
    "Design",
    "Partners",
    "Enterprise",
    "Growth",
    "Compliance",
    "Infrastructure",
    "Analytics",
];

/// Largest generated group.
const MAX_GROUP: usize = 5000;

impl Model {
    /// Reassigns the roles and entitlements of about `fraction` of the assigned, live users (cycle `cycle` of a run
    /// seeded `seed`); returns how many. Nothing without a catalogue.
    pub fn reassign_grants(&mut self, fraction: f64, seed: u64, cycle: u16) -> u64 {
        if self.catalogue.is_none() || self.users.is_empty() {
            return 0;
        }
        let mut rng = StdRng::seed_from_u64(seed ^ (u64::from(cycle) << 32) ^ 0x5eed_e171);
        let want = ((self.users.len() as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
        let mut n = 0;
        for _ in 0..want {
            let i = rng.random_range(0..self.users.len());
            let u = &mut self.users[i];
            if u.assigned && !u.deleted {
                u.grant += 1;
                n += 1;
            }
        }
        n
    }

    fn empty(seed: u64, id_style: IdStyle) -> Model {
        Model {
            users: Vec::new(),
            groups: Vec::new(),
            titles: Vec::new(),
            departments: DEPARTMENTS.iter().map(|d| Box::from(*d)).collect(),
            cities: Vec::new(),
            // RFC 2606 §3: a domain reserved for examples that validating servers accept as an address domain
            // (`.test`, `.local`, `.invalid` and `.localhost` are special-use, RFC 6761 §6, and refused by them)
            domain: "example.com".into(),
            enterprise: true,
            catalogue: None,
            id_style,
            rng: StdRng::seed_from_u64(seed),
            taken: HashSet::new(),
        }
    }

    /// Generates `users` users and `groups` groups from `seed`: the same seed gives the same directory.
    /// About 2 % of users are left unassigned (out of scope). Managers form a tree rooted at user 0. Group
    /// sizes fall off from `min(users/4, 5000)` for the first group to 3 (a power law), members drawn from
    /// the assigned users.
    pub fn generate(seed: u64, users: usize, groups: usize, id_style: IdStyle) -> Model {
        let mut m = Model::empty(seed, id_style);
        m.titles = (0..200).map(|_| Box::from(Title().fake_with_rng::<String, _>(&mut m.rng))).collect();
        m.titles.sort();
        m.titles.dedup();
        m.cities =
            (0..300).map(|_| (Box::from(CityName().fake_with_rng::<String, _>(&mut m.rng)), "US".into())).collect();
        m.taken.reserve(users);
        m.users.reserve_exact(users);
        for i in 0..users {
            let manager = if i == 0 { NO_MANAGER } else { m.rng.random_range(0..i) as u32 };
            let assigned = i == 0 || m.rng.random_range(0..100) >= 2;
            let u = m.new_user(manager, assigned);
            m.users.push(u);
        }
        let assigned: Vec<u32> = (0..users as u32).filter(|&i| m.users[i as usize].assigned).collect();
        let largest = (users / 4).clamp(3, MAX_GROUP);
        let mut names = HashSet::new();
        for k in 0..groups {
            let size = ((largest as f64) / ((k + 1) as f64).powf(0.7)).round() as usize;
            let size = size.clamp(3.min(assigned.len()), assigned.len());
            let mut members: Vec<u32> =
                sample(&mut m.rng, assigned.len(), size).into_iter().map(|j| assigned[j]).collect();
            members.sort_unstable();
            let dept = DEPARTMENTS[m.rng.random_range(0..DEPARTMENTS.len())];
            let team = TEAMS[m.rng.random_range(0..TEAMS.len())];
            let mut name = format!("{dept} {team}");
            let mut n = 1;
            while !names.insert(name.to_ascii_lowercase()) {
                n += 1;
                name = format!("{dept} {team} {n}");
            }
            let external_id = m.new_id(IdStyle::Guid);
            m.groups.push(SourceGroup { name: name.into(), external_id, members, deleted: false });
        }
        m
    }

    fn new_id(&mut self, style: IdStyle) -> Box<str> {
        let bits: u128 = self.rng.random();
        match style {
            IdStyle::Guid => uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid().to_string().into(),
            IdStyle::Okta => {
                const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
                let mut s = String::from("00u");
                let mut v = bits;
                for _ in 0..17 {
                    s.push(B62[(v % 62) as usize] as char);
                    v /= 62;
                }
                s.into()
            }
        }
    }

    /// A unique userName for a person: `given.family@domain`, then `given.family2@…` and so on. Only ASCII letters
    /// and digits of each name are kept (a name of none becomes `user`), so the local part is an RFC 5322 §3.2.3
    /// dot-atom that every validating server accepts.
    fn unique_user_name(&mut self, given: &str, family: &str) -> Box<str> {
        let clean = |s: &str| -> String {
            let kept: String = s.chars().filter(char::is_ascii_alphanumeric).collect();
            if kept.is_empty() {
                "user".to_string()
            } else {
                kept
            }
        };
        let base = format!("{}.{}", clean(given), clean(family)).to_ascii_lowercase();
        let mut n = 1;
        loop {
            let candidate: Box<str> = if n == 1 {
                format!("{base}@{}", self.domain).into()
            } else {
                format!("{base}{n}@{}", self.domain).into()
            };
            if self.taken.insert(taken_key(&candidate)) {
                return candidate;
            }
            n += 1;
        }
    }

    fn new_user(&mut self, manager: u32, assigned: bool) -> SourceUser {
        let given: String = FirstName().fake_with_rng(&mut self.rng);
        let family: String = LastName().fake_with_rng(&mut self.rng);
        let user_name = self.unique_user_name(&given, &family);
        let external_id = self.new_id(self.id_style);
        let street = format!(
            "{} {}",
            BuildingNumber().fake_with_rng::<String, _>(&mut self.rng),
            StreetName().fake_with_rng::<String, _>(&mut self.rng)
        );
        SourceUser {
            given: given.into(),
            family: family.into(),
            user_name,
            external_id,
            phone: PhoneNumber().fake_with_rng::<String, _>(&mut self.rng).into(),
            street: street.into(),
            postal_code: ZipCode().fake_with_rng::<String, _>(&mut self.rng).into(),
            title: self.rng.random_range(0..self.titles.len().max(1)) as u16,
            department: self.rng.random_range(0..self.departments.len()) as u16,
            city: self.rng.random_range(0..self.cities.len().max(1)) as u16,
            manager,
            assigned,
            ever_assigned: assigned,
            deleted: false,
            grant: 0,
        }
    }

    /// The SCIM attributes of user `i` as the IdP maps them (`active` = assigned).
    pub fn attrs(&self, i: u32) -> UserAttrs {
        let u = &self.users[i as usize];
        let (locality, country) = self.cities.get(u.city as usize).cloned().unwrap_or_default();
        UserAttrs {
            user_name: u.user_name.to_string(),
            external_id: u.external_id.to_string(),
            given_name: u.given.to_string(),
            family_name: u.family.to_string(),
            email: u.user_name.to_string(),
            title: self.titles.get(u.title as usize).map(|t| t.to_string()).unwrap_or_default(),
            department: match self.enterprise {
                true => self.departments.get(u.department as usize).map(|t| t.to_string()).unwrap_or_default(),
                false => String::new(),
            },
            employee_number: if self.enterprise { (i + 1).to_string() } else { String::new() },
            phone: u.phone.to_string(),
            street: u.street.to_string(),
            locality: locality.to_string(),
            postal_code: u.postal_code.to_string(),
            country: country.to_string(),
            active: u.assigned,
            grants: self.catalogue.as_ref().map(|c| c.grants_for(&u.external_id, u.grant)),
        }
    }

    /// Marks the users in scope as the engine's next cycle sees them: each assigned, live user is from now on
    /// expected on the server ([`SourceUser::ever_assigned`]). Called before every cycle.
    pub fn start_cycle(&mut self) {
        for u in self.users.iter_mut().filter(|u| u.assigned && !u.deleted) {
            u.ever_assigned = true;
        }
    }

    /// Whether the server should hold user `i` (active or not): in scope when a cycle began, not hard-deleted.
    pub fn on_server(&self, i: u32) -> bool {
        let u = &self.users[i as usize];
        u.ever_assigned && !u.deleted
    }

    /// The manager the server should show for user `i`: the source manager when that manager is on the server.
    pub fn expected_manager(&self, i: u32) -> Option<u32> {
        let m = self.users[i as usize].manager;
        (self.enterprise && m != NO_MANAGER && self.on_server(m)).then_some(m)
    }

    /// Narrows the directory to what the target implements: no groups without a Groups endpoint, no enterprise
    /// attributes without the extension ([`super::scope`]).
    pub fn restrict(&mut self, scope: &super::scope::Scope) {
        if !scope.groups {
            self.groups.clear();
        }
        self.enterprise = scope.enterprise;
    }

    /// The members the server should show for group `g`: source members that are on the server.
    pub fn expected_members(&self, g: u32) -> Vec<u32> {
        self.groups[g as usize].members.iter().copied().filter(|&u| self.on_server(u)).collect()
    }

    /// Loads a directory export (format in docs/simulator.md, `--directory FILE`): `.json` with `users` and `groups`,
    /// or `.csv` with one user per row and its groups in a `groups` column separated by `;`.
    pub fn load(path: &Path, id_style: IdStyle) -> Result<Model, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let file = if is_csv {
            parse_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            serde_json::from_str::<DirectoryFile>(&text).map_err(|e| format!("{}: {e}", path.display()))?
        };
        Model::from_file(file, id_style).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn from_file(file: DirectoryFile, id_style: IdStyle) -> Result<Model, String> {
        let mut m = Model::empty(0, id_style);
        m.departments.clear();
        let mut titles: HashMap<String, u16> = HashMap::new();
        let mut depts: HashMap<String, u16> = HashMap::new();
        let mut cities: HashMap<(String, String), u16> = HashMap::new();
        let intern = |map: &mut HashMap<String, u16>, table: &mut Vec<Box<str>>, s: &str| -> Result<u16, String> {
            if let Some(i) = map.get(s) {
                return Ok(*i);
            }
            let i = u16::try_from(table.len()).map_err(|_| "more than 65,535 distinct titles or departments")?;
            table.push(s.into());
            map.insert(s.to_string(), i);
            Ok(i)
        };
        let mut index: HashMap<String, u32> = HashMap::new();
        // The IdP matches users on externalId too (reconcile.rs): two users sharing one would be one server user.
        let mut external_ids: HashSet<&str> = HashSet::new();
        for (n, u) in file.users.iter().enumerate() {
            let key = u.user_name.to_ascii_lowercase();
            if u.user_name.trim().is_empty() {
                return Err(format!("user {}: userName is empty", n + 1));
            }
            if index.insert(key, n as u32).is_some() {
                return Err(format!("user {}: userName '{}' appears twice", n + 1, u.user_name));
            }
            if let Some(e) = u.external_id.as_deref().filter(|e| !e.is_empty()) {
                if !external_ids.insert(e) {
                    return Err(format!("user {}: externalId '{e}' appears twice", n + 1));
                }
            }
        }
        for (n, u) in file.users.iter().enumerate() {
            let manager = match u.manager.as_deref().filter(|s| !s.is_empty()) {
                None => NO_MANAGER,
                Some(mgr) => *index
                    .get(&mgr.to_ascii_lowercase())
                    .ok_or_else(|| format!("user {}: manager '{mgr}' is not a userName of the file", n + 1))?,
            };
            if manager == n as u32 {
                return Err(format!("user {}: is its own manager", n + 1));
            }
            let title = intern(&mut titles, &mut m.titles, u.title.as_deref().unwrap_or(""))?;
            let department = intern(&mut depts, &mut m.departments, u.department.as_deref().unwrap_or(""))?;
            let ck = (u.locality.clone().unwrap_or_default(), u.country.clone().unwrap_or_default());
            let city = match cities.get(&ck) {
                Some(i) => *i,
                None => {
                    let i = u16::try_from(m.cities.len()).map_err(|_| "more than 65,535 distinct cities")?;
                    m.cities.push((ck.0.clone().into(), ck.1.clone().into()));
                    cities.insert(ck, i);
                    i
                }
            };
            let external_id = match &u.external_id {
                Some(e) if !e.is_empty() => e.as_str().into(),
                _ => m.new_id(id_style),
            };
            m.taken.insert(taken_key(&u.user_name));
            let assigned = u.assigned.unwrap_or(true);
            m.users.push(SourceUser {
                given: u.given_name.as_str().into(),
                family: u.family_name.as_str().into(),
                user_name: u.user_name.as_str().into(),
                external_id,
                phone: u.phone.as_deref().unwrap_or("").into(),
                street: u.street.as_deref().unwrap_or("").into(),
                postal_code: u.postal_code.as_deref().unwrap_or("").into(),
                title,
                department,
                city,
                manager,
                assigned,
                ever_assigned: assigned,
                deleted: false,
                grant: 0,
            });
        }
        // A manager cycle would make the tree a loop; the IdP's directory cannot hold one.
        if let Some(start) = super::manager_tree::first_loop(m.users.len(), |i| m.users[i].manager) {
            return Err(format!("user {}: its manager chain loops", start + 1));
        }
        let mut names = HashSet::new();
        for (n, g) in file.groups.iter().enumerate() {
            if g.display_name.trim().is_empty() || !names.insert(g.display_name.to_ascii_lowercase()) {
                return Err(format!("group {}: displayName '{}' is empty or appears twice", n + 1, g.display_name));
            }
            let mut members = Vec::with_capacity(g.members.len());
            for u in &g.members {
                members.push(*index.get(&u.to_ascii_lowercase()).ok_or_else(|| {
                    format!("group '{}': member '{u}' is not a userName of the file", g.display_name)
                })?);
            }
            members.sort_unstable();
            members.dedup();
            let external_id = match &g.external_id {
                Some(e) if !e.is_empty() => e.as_str().into(),
                _ => m.new_id(IdStyle::Guid),
            };
            m.groups.push(SourceGroup { name: g.display_name.as_str().into(), external_id, members, deleted: false });
        }
        if m.titles.is_empty() {
            m.titles.push("".into());
        }
        Ok(m)
    }

    /// Changes about `fraction` of the users (at least one change) and proportionally the groups, the way a
    /// real directory drifts between two provisioning cycles. Returns what changed.
    pub fn churn(&mut self, fraction: f64) -> Vec<Change> {
        let live: Vec<u32> = (0..self.users.len() as u32).filter(|&i| !self.users[i as usize].deleted).collect();
        let mut n = ((live.len() as f64) * fraction).ceil() as usize;
        n = n.max(1);
        let mut out = Vec::with_capacity(n);
        let kinds = [
            (ChangeKind::AttributeEdit, 30),
            (ChangeKind::Rename, 8),
            (ChangeKind::ManagerChange, 10),
            (ChangeKind::Unassign, 8),
            (ChangeKind::Reassign, 6),
            (ChangeKind::HardDelete, 4),
            (ChangeKind::Hire, 6),
            (ChangeKind::GroupRename, 3),
            (ChangeKind::MemberAdd, 10),
            (ChangeKind::MemberRemove, 7),
            (ChangeKind::Move, 8),
        ];
        let total: u32 = kinds.iter().map(|k| k.1).sum();
        for _ in 0..n {
            let mut roll = self.rng.random_range(0..total);
            let kind = kinds
                .iter()
                .find(|(_, w)| {
                    if roll < *w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .map(|k| k.0);
            if let Some(c) = kind.and_then(|k| self.apply(k)) {
                out.push(c);
            }
        }
        out
    }

    fn random_user(&mut self, pred: impl Fn(&SourceUser) -> bool) -> Option<u32> {
        let len = self.users.len();
        if len == 0 {
            return None;
        }
        for _ in 0..64 {
            let i = self.rng.random_range(0..len);
            if pred(&self.users[i]) {
                return Some(i as u32);
            }
        }
        (0..len).find(|&i| pred(&self.users[i])).map(|i| i as u32)
    }

    fn random_group(&mut self) -> Option<u32> {
        let live: Vec<u32> = (0..self.groups.len() as u32).filter(|&g| !self.groups[g as usize].deleted).collect();
        (!live.is_empty()).then(|| live[self.rng.random_range(0..live.len())])
    }

    fn apply(&mut self, kind: ChangeKind) -> Option<Change> {
        let active = |u: &SourceUser| u.assigned && !u.deleted;
        match kind {
            ChangeKind::AttributeEdit => {
                let i = self.random_user(active)?;
                let what = self.rng.random_range(0..3);
                let u = &mut self.users[i as usize];
                match what {
                    0 => u.title = self.rng.random_range(0..self.titles.len().max(1)) as u16,
                    1 => u.department = self.rng.random_range(0..self.departments.len()) as u16,
                    _ => {
                        u.phone = PhoneNumber().fake_with_rng::<String, _>(&mut self.rng).into();
                        u.city = self.rng.random_range(0..self.cities.len().max(1)) as u16;
                    }
                }
                Some(Change { kind, user: Some(i), group: None })
            }
            ChangeKind::Rename => {
                let i = self.random_user(active)?;
                let family: String = LastName().fake_with_rng(&mut self.rng);
                let given = self.users[i as usize].given.clone();
                let user_name = self.unique_user_name(&given, &family);
                let u = &mut self.users[i as usize];
                u.family = family.into();
                u.user_name = user_name;
                Some(Change { kind, user: Some(i), group: None })
            }
            ChangeKind::ManagerChange => {
                let i = self.random_user(|u| active(u) && u.manager != NO_MANAGER)?;
                // A new manager among the users above it keeps the tree a tree.
                let m = self.rng.random_range(0..i);
                if self.users[m as usize].deleted {
                    return None;
                }
                self.users[i as usize].manager = m;
                Some(Change { kind, user: Some(i), group: None })
            }
            ChangeKind::Unassign => {
                let i = self.random_user(|u| active(u))?;
                if i == 0 {
                    return None;
                }
                self.users[i as usize].assigned = false;
                Some(Change { kind, user: Some(i), group: None })
            }
            ChangeKind::Reassign => {
                let i = self.random_user(|u| !u.assigned && !u.deleted)?;
                self.users[i as usize].assigned = true;
                Some(Change { kind, user: Some(i), group: None })
            }
            ChangeKind::HardDelete => {
                // Hard delete follows a soft delete (docs/engines.md §A: 30 days after it).
                let i = self.random_user(|u| !u.assigned && u.ever_assigned && !u.deleted)?;
                self.users[i as usize].deleted = true;
                for g in &mut self.groups {
                    g.members.retain(|&m| m != i);
                }
                for u in &mut self.users {
                    if u.manager == i {
                        u.manager = NO_MANAGER;
                    }
                }
                Some(Change { kind, user: Some(i), group: None })
            }
            ChangeKind::Hire => {
                let len = self.users.len() as u32;
                let manager = self.random_user(active).unwrap_or(NO_MANAGER);
                let mut u = self.new_user(manager, true);
                // Known to the server from the next cycle on ([`Model::start_cycle`]).
                u.ever_assigned = false;
                self.users.push(u);
                if let Some(g) = self.random_group() {
                    self.groups[g as usize].members.push(len);
                }
                Some(Change { kind, user: Some(len), group: None })
            }
            ChangeKind::GroupRename => {
                let g = self.random_group()?;
                let old = self.groups[g as usize].name.clone();
                let name = format!("{old} (renamed {})", self.rng.random_range(1000..10000));
                if self.groups.iter().any(|x| x.name.eq_ignore_ascii_case(&name)) {
                    return None;
                }
                self.groups[g as usize].name = name.into();
                Some(Change { kind, user: None, group: Some(g) })
            }
            ChangeKind::MemberAdd => {
                let g = self.random_group()?;
                let i = self.random_user(active)?;
                let ms = &mut self.groups[g as usize].members;
                match ms.binary_search(&i) {
                    Ok(_) => None,
                    Err(pos) => {
                        ms.insert(pos, i);
                        Some(Change { kind, user: Some(i), group: Some(g) })
                    }
                }
            }
            ChangeKind::MemberRemove => {
                let g = self.random_group()?;
                let ms = &mut self.groups[g as usize].members;
                if ms.is_empty() {
                    return None;
                }
                let i = ms.remove(self.rng.random_range(0..ms.len()));
                Some(Change { kind, user: Some(i), group: Some(g) })
            }
            ChangeKind::Move => {
                let from = self.random_group()?;
                let to = self.random_group()?;
                if from == to || self.groups[from as usize].members.is_empty() {
                    return None;
                }
                let ms = &mut self.groups[from as usize].members;
                let i = ms.remove(self.rng.random_range(0..ms.len()));
                let dest = &mut self.groups[to as usize].members;
                if let Err(pos) = dest.binary_search(&i) {
                    dest.insert(pos, i);
                }
                Some(Change { kind, user: Some(i), group: Some(to) })
            }
        }
    }

    /// Resident bytes of the model (strings, tables and vectors), for the memory benchmark.
    pub fn heap_bytes(&self) -> usize {
        let s = |b: &str| b.len();
        let users: usize = self
            .users
            .iter()
            .map(|u| {
                s(&u.given)
                    + s(&u.family)
                    + s(&u.user_name)
                    + s(&u.external_id)
                    + s(&u.phone)
                    + s(&u.street)
                    + s(&u.postal_code)
            })
            .sum::<usize>()
            + self.users.capacity() * std::mem::size_of::<SourceUser>();
        let groups: usize =
            self.groups.iter().map(|g| g.members.capacity() * 4 + g.name.len() + g.external_id.len()).sum::<usize>()
                + self.groups.capacity() * std::mem::size_of::<SourceGroup>();
        users + groups + self.taken.capacity() * 9
    }
}

/// What kind of change a churn made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// Title, department, phone or address edited.
    AttributeEdit,
    /// Family name changed, so userName, e-mail and displayName change.
    Rename,
    /// A new manager.
    ManagerChange,
    /// Unassigned from the app: soft delete (`active` false).
    Unassign,
    /// Assigned again after an unassignment.
    Reassign,
    /// Hard delete after a soft delete.
    HardDelete,
    /// A new user, assigned and put in a group.
    Hire,
    /// A group renamed.
    GroupRename,
    /// A user added to a group.
    MemberAdd,
    /// A user removed from a group.
    MemberRemove,
    /// A user moved from one group to another.
    Move,
}

/// One change made by [`Model::churn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Its kind.
    pub kind: ChangeKind,
    /// The user it touched.
    pub user: Option<u32>,
    /// The group it touched.
    pub group: Option<u32>,
}

/// A directory export (`--directory FILE.json`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DirectoryFile {
    users: Vec<FileUser>,
    #[serde(default)]
    groups: Vec<FileGroup>,
}

/// One user of a directory export.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileUser {
    user_name: String,
    given_name: String,
    family_name: String,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    street: Option<String>,
    #[serde(default)]
    locality: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    country: Option<String>,
    /// The manager's userName.
    #[serde(default)]
    manager: Option<String>,
    #[serde(default)]
    assigned: Option<bool>,
}

/// One group of a directory export: members by userName.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileGroup {
    display_name: String,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    members: Vec<String>,
}

/// CSV: a header row naming the same fields as the JSON user (`userName,givenName,familyName,…`), plus
/// `groups` (group displayNames separated by `;`). Unknown columns are an error.
fn parse_csv(text: &str) -> Result<DirectoryFile, String> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
    const KNOWN: &[&str] = &[
        "userName",
        "givenName",
        "familyName",
        "externalId",
        "title",
        "department",
        "phone",
        "street",
        "locality",
        "postalCode",
        "country",
        "manager",
        "assigned",
        "groups",
    ];
    for h in &headers {
        if !KNOWN.contains(&h) {
            return Err(format!("unknown column '{h}' (known: {})", KNOWN.join(", ")));
        }
    }
    for required in ["userName", "givenName", "familyName"] {
        if !headers.iter().any(|h| h == required) {
            return Err(format!("missing column '{required}'"));
        }
    }
    let mut users = Vec::new();
    let mut groups: Vec<FileGroup> = Vec::new();
    let mut group_index: HashMap<String, usize> = HashMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("row {}: {e}", n + 2))?;
        let get = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| rec.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let assigned = match get("assigned").as_deref() {
            None => None,
            Some("true") | Some("1") | Some("yes") => Some(true),
            Some("false") | Some("0") | Some("no") => Some(false),
            Some(v) => return Err(format!("row {}: assigned '{v}' is not true or false", n + 2)),
        };
        let user_name = get("userName").ok_or_else(|| format!("row {}: userName is empty", n + 2))?;
        for g in get("groups").unwrap_or_default().split(';').map(str::trim).filter(|g| !g.is_empty()) {
            let i = *group_index.entry(g.to_string()).or_insert_with(|| {
                groups.push(FileGroup { display_name: g.to_string(), external_id: None, members: Vec::new() });
                groups.len() - 1
            });
            groups[i].members.push(user_name.clone());
        }
        users.push(FileUser {
            given_name: get("givenName").ok_or_else(|| format!("row {}: givenName is empty", n + 2))?,
            family_name: get("familyName").ok_or_else(|| format!("row {}: familyName is empty", n + 2))?,
            user_name,
            external_id: get("externalId"),
            title: get("title"),
            department: get("department"),
            phone: get("phone"),
            street: get("street"),
            locality: get("locality"),
            postal_code: get("postalCode"),
            country: get("country"),
            manager: get("manager"),
            assigned,
        });
    }
    Ok(DirectoryFile { users, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_directory_and_names_are_unique() {
        let a = Model::generate(7, 2000, 40, IdStyle::Guid);
        let b = Model::generate(7, 2000, 40, IdStyle::Guid);
        let c = Model::generate(8, 2000, 40, IdStyle::Guid);
        assert_eq!(a.attrs(1234), b.attrs(1234));
        assert_ne!(a.attrs(1234), c.attrs(1234));
        let names: HashSet<&str> = a.users.iter().map(|u| &*u.user_name).collect();
        assert_eq!(names.len(), 2000);
        let ids: HashSet<&str> = a.users.iter().map(|u| &*u.external_id).collect();
        assert_eq!(ids.len(), 2000);
        assert!(a.users.iter().all(|u| u.user_name.contains('@') && !u.given.is_empty() && !u.phone.is_empty()));
        // a manager tree: every chain ends at user 0
        for i in 1..2000u32 {
            let mut cur = i;
            while cur != 0 {
                let m = a.users[cur as usize].manager;
                assert!(m < cur, "managers point upwards");
                cur = m;
            }
        }
        let sizes: Vec<usize> = a.groups.iter().map(|g| g.members.len()).collect();
        assert_eq!(sizes[0], 500);
        assert!(*sizes.last().unwrap() <= 40 && *sizes.last().unwrap() >= 3, "{sizes:?}");
        assert!(a.groups.iter().all(|g| g.members.iter().all(|&m| a.users[m as usize].assigned)));
        assert!(a.users.iter().filter(|u| !u.assigned).count() > 10);
        assert_eq!(Model::generate(1, 10, 1, IdStyle::Okta).users[3].external_id.len(), 20);
    }

    /// The server is expected to hold a user only once a cycle began while it was in scope: one hired and
    /// unassigned between two cycles was never provisioned (the engine never saw it assigned).
    #[test]
    fn a_user_is_expected_on_the_server_once_a_cycle_began_with_it_in_scope() {
        let mut m = Model::generate(1, 50, 3, IdStyle::Guid);
        m.start_cycle();
        let hired = m.apply(ChangeKind::Hire).and_then(|c| c.user).expect("a hire");
        assert!(!m.on_server(hired), "not before the next cycle");
        m.users[hired as usize].assigned = false;
        m.start_cycle();
        assert!(!m.on_server(hired), "out of scope when the cycle began");
        assert!(m.expected_members(0).iter().chain(m.expected_members(1).iter()).all(|&u| u != hired));
        m.users[hired as usize].assigned = true;
        m.start_cycle();
        assert!(m.on_server(hired));
        m.users[hired as usize].assigned = false;
        m.start_cycle();
        assert!(m.on_server(hired), "unassigned after a cycle: kept on the server, inactive");
    }

    #[test]
    fn churn_makes_every_kind_of_change_and_keeps_the_model_consistent() {
        let mut m = Model::generate(3, 1000, 20, IdStyle::Guid);
        let mut kinds = HashSet::new();
        for _ in 0..6 {
            for c in m.churn(0.1) {
                kinds.insert(c.kind);
            }
        }
        assert_eq!(kinds.len(), 11, "{kinds:?}");
        for g in &m.groups {
            assert!(g.members.windows(2).all(|w| w[0] < w[1]), "members stay sorted and unique");
            assert!(g.members.iter().all(|&u| !m.users[u as usize].deleted));
        }
        assert!(m.users.iter().all(|u| u.manager == NO_MANAGER || !m.users[u.manager as usize].deleted));
        let names: HashSet<&str> = m.users.iter().map(|u| &*u.user_name).collect();
        assert_eq!(names.len(), m.users.len());
    }

    #[test]
    fn loads_json_and_csv_exports_and_rejects_bad_ones() {
        let dir = std::env::temp_dir().join(format!("scimcheck-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let json = dir.join("d.json");
        std::fs::write(
            &json,
            r#"{"users": [{"userName": "a@x.test", "givenName": "A", "familyName": "One", "title": "CEO"},
                          {"userName": "b@x.test", "givenName": "B", "familyName": "Two", "manager": "A@x.test",
                           "assigned": false}],
                "groups": [{"displayName": "All", "members": ["a@x.test", "b@x.test"]}]}"#,
        )
        .unwrap();
        let m = Model::load(&json, IdStyle::Guid).unwrap();
        assert_eq!(m.users[1].manager, 0);
        assert!(!m.users[1].assigned);
        assert_eq!(m.attrs(0).title, "CEO");
        assert_eq!(m.groups[0].members, [0, 1]);
        let csv = dir.join("d.csv");
        std::fs::write(
            &csv,
            "userName,givenName,familyName,manager,groups\na@x.test,A,One,,G1;G2\nb@x.test,B,Two,a@x.test,G2\n",
        )
        .unwrap();
        let m = Model::load(&csv, IdStyle::Okta).unwrap();
        assert_eq!(m.groups.len(), 2);
        assert_eq!(m.groups[1].members, [0, 1]);
        for (name, text, want) in [
            (
                "dup.json",
                r#"{"users": [{"userName": "a", "givenName": "A", "familyName": "B"}, {"userName": "A", "givenName": "A", "familyName": "B"}]}"#,
                "appears twice",
            ),
            (
                "mgr.json",
                r#"{"users": [{"userName": "a", "givenName": "A", "familyName": "B", "manager": "zz"}]}"#,
                "not a userName",
            ),
            (
                "loop.json",
                r#"{"users": [{"userName": "a", "givenName": "A", "familyName": "B", "manager": "b"}, {"userName": "b", "givenName": "A", "familyName": "B", "manager": "a"}]}"#,
                "loops",
            ),
            (
                "ext.json",
                r#"{"users": [{"userName": "a", "givenName": "A", "familyName": "B", "externalId": "e"}, {"userName": "b", "givenName": "A", "familyName": "B", "externalId": "e"}]}"#,
                "externalId 'e' appears twice",
            ),
            ("extra.json", r#"{"users": [], "colour": 1}"#, "unknown field"),
            ("col.csv", "userName,givenName,familyName,shoe\na,A,B,9\n", "unknown column"),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            let err = Model::load(&p, IdStyle::Guid).unwrap_err();
            assert!(err.contains(want), "{name}: {err}");
        }
        assert!(Model::load(&dir.join("missing.json"), IdStyle::Guid).unwrap_err().contains("missing.json"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
