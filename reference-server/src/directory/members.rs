//! Group membership (RFC 7643 §4.2): the member requests of a PATCH, and the membership set kept beside
//! the stored groups.

use super::*;
use crate::store::text;

/// A member as a client asked for it: its id as sent, the `type` it declared, the `display` it gave.
#[derive(Debug, Clone)]
pub(super) struct MemberRequest {
    raw: String,
    declared: Option<String>,
    display: Option<String>,
}

impl MemberRequest {
    pub(super) fn from_element(m: &Value) -> ScimResult<MemberRequest> {
        let Value::Object(m) = m else {
            return Err(ScimError::InvalidValue("each member must be an object with a 'value'".into()));
        };
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(MemberRequest { raw: text("value").unwrap_or_default(), declared: text("type"), display: text("display") })
    }

    /// The members of an `add` when every element is already in canonical form — an object with a string
    /// `value` and at most a string `display` — which is what normalising would leave unchanged; `None`
    /// otherwise (the caller then normalises, with its checks and errors).
    pub(super) fn plain_list(items: &[Value]) -> Option<Vec<MemberRequest>> {
        items
            .iter()
            .map(|m| {
                let m = m.as_object()?;
                let raw = m.get("value")?.as_str()?.to_string();
                let display = match m.get("display") {
                    None => None,
                    Some(d) => Some(d.as_str()?.to_string()),
                };
                (m.len() == 1 + usize::from(display.is_some())).then_some(MemberRequest {
                    raw,
                    declared: None,
                    display,
                })
            })
            .collect()
    }
}

/// One step of a PATCH that only changes a group's membership (see [`membership_ops`]).
#[derive(Debug)]
pub(super) enum MemberOp {
    Add(Vec<MemberRequest>),
    Remove(Vec<Uuid>),
}

/// A UUID in exactly the form the server writes it (lowercase, hyphenated), so that matching it by id
/// agrees with matching the stored `value` text.
pub(super) fn canonical_id(s: &str) -> Option<Uuid> {
    parse_id(s).filter(|u| u.to_string() == s)
}

/// Recognises a PATCH whose every operation only adds or removes group members, in the shapes Okta and Entra
/// send: `add` on `members` with a list of `{"value": id}`; `remove` on `members` with such a list (Entra);
/// `remove` on `members[value eq "id"]` (Okta). Such a request is applied to the membership set directly, in
/// time proportional to the members named rather than the size of the group. Any other shape returns `None`
/// and takes the general path, which has the same result.
pub(super) fn membership_ops(ops: &[PatchOperation]) -> ScimResult<Option<Vec<MemberOp>>> {
    let members_def = ResourceKind::Group
        .resource_type()
        .schema
        .attributes
        .iter()
        .find(|a| a.name == "members")
        .ok_or_else(|| ScimError::Internal("the Group schema has no members".into()))?;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let Some(path) = &op.path else { return Ok(None) };
        let names_members = path.attr.name.eq_ignore_ascii_case("members")
            && path.attr.sub.is_none()
            && path.sub_attr.is_none()
            && path.attr.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(GROUP_URN));
        if !names_members {
            return Ok(None);
        }
        let step = match (op.op, &path.value_filter, &op.value) {
            (PatchOpKind::Add, None, Some(v @ Value::Array(items))) => match MemberRequest::plain_list(items) {
                // What Okta and Entra send ({"value": id}, perhaps with a display) needs no normalising.
                Some(list) => MemberOp::Add(list),
                None => {
                    let Some(Value::Array(items)) = crate::resource::normalize_attr(members_def, "members", v.clone())?
                    else {
                        return Ok(None);
                    };
                    MemberOp::Add(items.iter().map(MemberRequest::from_element).collect::<ScimResult<_>>()?)
                }
            },
            (PatchOpKind::Remove, None, Some(Value::Array(items))) => {
                let ids = items.iter().map(|i| i.get("value").and_then(Value::as_str).and_then(canonical_id));
                match ids.collect::<Option<Vec<Uuid>>>() {
                    Some(ids) => MemberOp::Remove(ids),
                    None => return Ok(None),
                }
            }
            (
                PatchOpKind::Remove,
                Some(Filter::Compare { path: p, op: CompareOp::Eq, value: Value::String(v) }),
                None,
            ) if p.name.eq_ignore_ascii_case("value") && p.sub.is_none() && p.urn.is_none() => match canonical_id(v) {
                Some(id) => MemberOp::Remove(vec![id]),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        match (out.last_mut(), step) {
            // Consecutive removals are one step (a removal cannot bring a member back, so their order does not
            // matter): Okta's N `members[value eq "…"]` paths then cost one pass over the group, not N.
            (Some(MemberOp::Remove(ids)), MemberOp::Remove(more)) => ids.extend(more),
            (_, step) => out.push(step),
        }
    }
    Ok(Some(out))
}

impl Directory {
    /// `ops` without a first operation that renames the group to the name it has: a path-less `replace` whose
    /// value holds only the group's own `id` and its current `displayName` (RFC 7644 §3.5.2.3). Okta puts that
    /// operation before every membership update (docs/engines.md §B, "a rename PATCH accompanies every
    /// membership update"); it changes nothing, and without it the rest can take the membership path, whose
    /// removals cost one pass over the group instead of one per member. Then also the name it expects, which
    /// the membership path checks again under the write lock. `ops` unchanged otherwise (a real rename, any
    /// other attribute, or no operation after it).
    pub(super) fn after_unchanged_rename<'o>(
        &self,
        id: &str,
        ops: &'o [PatchOperation],
    ) -> ScimResult<(&'o [PatchOperation], Option<String>)> {
        let [first, rest @ ..] = ops else { return Ok((ops, None)) };
        let Some(Value::Object(value)) = first.value.as_ref().filter(|_| first.op == PatchOpKind::Replace) else {
            return Ok((ops, None));
        };
        if first.path.is_some() || rest.is_empty() {
            return Ok((ops, None));
        }
        let Some(gid) = canonical_id(id) else { return Ok((ops, None)) };
        let st = self.read_state()?;
        let Some(current) = st.group_names.get(&gid) else { return Ok((ops, None)) };
        let unchanged = value.iter().all(|(k, v)| match v.as_str() {
            Some(v) if k.eq_ignore_ascii_case("id") => v == id,
            Some(v) if k.eq_ignore_ascii_case("displayName") => v == current,
            _ => false,
        });
        Ok(match unchanged && !value.is_empty() {
            true => (rest, Some(current.clone())),
            false => (ops, None),
        })
    }
}

impl State {
    /// Validates group members (RFC 7643 §4.2) and takes them out of `body`: each must be an existing, visible
    /// user or group other than the group itself, of the `type` declared if any; `display` defaults to the
    /// member's name. Duplicates collapse (the first wins). Hash lookups only: linear in the members given.
    pub(super) fn resolve_members(&self, group_id: Uuid, body: &mut Value) -> ScimResult<Vec<(Uuid, Member)>> {
        let Some(Value::Array(members)) = body.as_object_mut().and_then(|o| o.remove("members")) else {
            return Ok(Vec::new());
        };
        let mut seen = HashSet::with_capacity(members.len());
        let mut out = Vec::with_capacity(members.len());
        for m in &members {
            let request = MemberRequest::from_element(m)?;
            if let Some(resolved) = self.resolve_member(group_id, &request, &mut seen)? {
                out.push(resolved);
            }
        }
        Ok(out)
    }

    /// Checks one requested member; `None` when it repeats one already in `seen`.
    pub(super) fn resolve_member(
        &self,
        group_id: Uuid,
        m: &MemberRequest,
        seen: &mut HashSet<Uuid>,
    ) -> ScimResult<Option<(Uuid, Member)>> {
        let raw = &m.raw;
        let shown = || raw.chars().take(80).collect::<String>();
        let id =
            parse_id(raw).ok_or_else(|| ScimError::InvalidValue(format!("member '{}' does not exist", shown())))?;
        if id == group_id {
            return Err(ScimError::InvalidValue("a group cannot be a member of itself".into()));
        }
        if !seen.insert(id) {
            return Ok(None);
        }
        let user = self.store.get(ResourceKind::User, &id);
        if user.is_some_and(|r| r.protected) {
            return Err(protected_error());
        }
        let (kind, record) = if let Some(r) = user.filter(|r| !r.hidden) {
            (ResourceKind::User, r)
        } else if let Some(r) = self.store.get(ResourceKind::Group, &id) {
            (ResourceKind::Group, r)
        } else {
            return Err(ScimError::InvalidValue(format!("member '{}' does not exist", shown())));
        };
        let actual = kind.resource_type().name;
        if let Some(t) = m.declared.as_deref().filter(|t| !t.eq_ignore_ascii_case(actual)) {
            return Err(ScimError::InvalidValue(format!("member '{}' is a {actual}, not a {t}", shown())));
        }
        let display = match (&m.display, kind) {
            (Some(d), _) => Some(d.clone().into_boxed_str()),
            // read from the stored user, not kept beside it: a map of every user's display cost about 70 MB
            // at a million users (21 MB at 300,000 in a heap profile) for the few that are named as members by id alone
            (None, ResourceKind::User) => stored_user_display(record)?,
            (None, ResourceKind::Group) => self.group_names.get(&record.id).map(|n| n.as_str().into()),
        };
        Ok(Some((id, Member { kind, display })))
    }

    pub(super) fn add_member(&mut self, group: Uuid, member: Uuid, entry: Member) {
        self.store.add_member(group, member, entry);
        self.memberships.entry(member).or_default().insert(group);
    }

    /// Removes the members of `group` that `members` holds, in one pass over the group
    /// ([`Store::remove_members`]), and the group from each one's memberships; the ids removed.
    pub(super) fn remove_members(&mut self, group: &Uuid, members: &HashSet<Uuid>) -> Vec<Uuid> {
        let gone = self.store.remove_members(group, members);
        for m in &gone {
            if let Some(gs) = self.memberships.get_mut(m) {
                gs.shift_remove(group);
                if gs.is_empty() {
                    self.memberships.remove(m);
                }
            }
        }
        gone
    }

    /// Makes `new` the group's members: removed ones go, kept ones keep their place (and take a new
    /// `display` if one was given), new ones are appended in order. Returns the ids that joined or left.
    pub(super) fn set_members(&mut self, group: Uuid, new: Vec<(Uuid, Member)>) -> Vec<Uuid> {
        let wanted: HashSet<Uuid> = new.iter().map(|(id, _)| *id).collect();
        let gone: HashSet<Uuid> = self
            .store
            .members(&group)
            .map(|ms| ms.keys().filter(|m| !wanted.contains(m)).copied().collect())
            .unwrap_or_default();
        let mut changed = self.remove_members(&group, &gone);
        for (id, entry) in new {
            match self.store.members(&group).and_then(|ms| ms.get(&id)) {
                Some(current) if *current == entry => {}
                Some(_) => self.store.add_member(group, id, entry),
                None => {
                    self.add_member(group, id, entry);
                    changed.push(id);
                }
            }
        }
        changed
    }

    /// Whether the stored members are exactly `new`, in the same order.
    pub(super) fn same_members(&self, group: &Uuid, new: &[(Uuid, Member)]) -> bool {
        match self.store.members(group) {
            None => new.is_empty(),
            Some(ms) => ms.len() == new.len() && ms.iter().zip(new).all(|((a, am), (b, bm))| a == b && am == bm),
        }
    }

    /// Removes `member` from every group that lists it (used when a user or group disappears); each such group
    /// gets a new version.
    pub(super) fn drop_member_everywhere(&mut self, member: Uuid, now: &str) -> ScimResult<()> {
        let groups = self.memberships.remove(&member).unwrap_or_default();
        for g in groups {
            self.store.remove_member(&g, &member);
            self.touch_group(g, now)?;
        }
        Ok(())
    }

    /// Gives a group a new version and `lastModified` after a change to its members alone.
    pub(super) fn touch_group(&mut self, g: Uuid, now: &str) -> ScimResult<String> {
        if self.store.get(ResourceKind::Group, &g).is_none() {
            return Ok(String::new());
        }
        let version = self.next_version();
        self.store.touch(ResourceKind::Group, &g, version, now);
        Ok(etag(version))
    }
}

/// [`user_display`] of a stored user, read from its text through its member table when it has one — the two
/// string members, without parsing the rest — else from the parsed body. The one difference: a text the
/// member table accepts but `serde_json::Value` does not (a lone surrogate escape, a number out of range, deep
/// nesting elsewhere in a hand-edited data file) still yields its display instead of an error. Entra adds members by a value list of
/// ids alone (docs/entra.md §1), so this runs for every member it adds.
fn stored_user_display(record: &Record) -> ScimResult<Option<Box<str>>> {
    match display_from_text(record) {
        Ok(display) => Ok(display),
        Err(text::Unreadable) => Ok(user_display(&body_of(record)?)),
    }
}

/// The first of `displayName`, `userName` that is a string member of the record's text (what `Value::get`
/// and `Value::as_str` would find in the parsed body), decoded.
fn display_from_text(record: &Record) -> text::Read<Option<Box<str>>> {
    let table = record.member_table();
    if !table.is_usable() {
        return Err(text::Unreadable);
    }
    for key in ["displayName", "userName"] {
        if let Some(at) = table.value_of(&record.body, key)? {
            if text::kind(record.body.as_bytes(), at)? == text::Kind::String {
                return Ok(Some(text::string_at(&record.body, at)?.into()));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every combination of a `displayName`-like and a `userName`-like member (absent, a plain string, a
    /// string with escapes or non-ASCII, `null`, a number, an object, a key differing only in case) in both
    /// orders, plus texts the member table cannot describe: the display read from the text is the display of
    /// the parsed body.
    #[test]
    fn a_display_read_from_the_text_is_the_parsed_bodys() {
        let values = [
            None,
            Some(r#""Ada L""#),
            Some(r#""A\"da \u00e9\\""#),
            Some(r#""Zoë 🙂""#),
            Some("null"),
            Some("7"),
            Some(r#"{"a":"b"}"#),
            Some(r#""""#),
        ];
        let keys = [("displayName", "userName"), ("DisplayName", "username"), ("displayname", "userName")];
        let (mut fast, mut total) = (0, 0);
        for (dk, uk) in keys {
            for d in values {
                for u in values {
                    for swapped in [false, true] {
                        let mut members = vec![r#""id":"1""#.to_string()];
                        let mut pair = vec![d.map(|v| format!(r#""{dk}":{v}"#)), u.map(|v| format!(r#""{uk}":{v}"#))];
                        if swapped {
                            pair.reverse();
                        }
                        members.extend(pair.into_iter().flatten());
                        let text = format!("{{{}}}", members.join(","));
                        let record = Record::new(Uuid::nil(), 1, false, false, text.clone());
                        let expected = user_display(&body_of(&record).unwrap());
                        assert_eq!(stored_user_display(&record).unwrap(), expected, "{text}");
                        fast += usize::from(display_from_text(&record).is_ok());
                        total += 1;
                    }
                }
            }
        }
        assert_eq!(fast, total, "every text here has a usable member table");
        // a table kept outside the record: more members than fit inline
        let many: Vec<String> = (0..20).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let text = format!(r#"{{{},"userName":"wide","z":1}}"#, many.join(","));
        let record = Record::new(Uuid::nil(), 1, false, false, text);
        assert!(matches!(record.member_table(), crate::store::MemberTable::Boxed(_)));
        assert_eq!(display_from_text(&record), Ok(Some("wide".into())));
        for text in [
            r#"{"userName":"a","userName":"b"}"#,
            r#"{"user\u004eame":"a"}"#,
            r#"{"displayName":"a","displayName":"b","userName":"c"}"#,
        ] {
            let record = Record::new(Uuid::nil(), 1, false, false, text.to_string());
            assert!(display_from_text(&record).is_err(), "{text}");
            assert_eq!(stored_user_display(&record).unwrap(), user_display(&body_of(&record).unwrap()), "{text}");
        }
    }
}
