//! Rendering a stored record as the resource a client reads: the derived membership attribute (a user's
//! `groups`, RFC 7643 §4.1.2; a group's `members`, §4.2) and the portal's user extension.

use super::*;

impl State {
    /// Adds the derived `groups` attribute to a user body (RFC 7643 §4.1.2: read-only, from membership).
    pub(super) fn with_groups(&self, id: &Uuid, body: Value) -> Value {
        self.with_user_extension(id, self.with_group_list(id, body))
    }

    /// The portal's extension of a user, from its hooks (see [`PortalHooks::user_extension`]).
    pub(super) fn with_user_extension(&self, id: &Uuid, mut body: Value) -> Value {
        if let Some((urn, ext)) = self.hooks.as_ref().and_then(|h| h.user_extension(*id)) {
            if let Some(obj) = body.as_object_mut() {
                let target = obj.entry(urn.to_string()).or_insert_with(|| json!({}));
                if let (Some(t), Value::Object(ext)) = (target.as_object_mut(), ext) {
                    t.extend(ext);
                }
                if let Some(schemas) = obj.get_mut("schemas").and_then(Value::as_array_mut) {
                    if !schemas.iter().any(|s| s == urn) {
                        schemas.push(Value::String(urn.to_string()));
                    }
                }
            }
        }
        body
    }

    /// The derived `groups` attribute alone (see [`State::with_groups`]).
    pub(super) fn with_group_list(&self, id: &Uuid, mut body: Value) -> Value {
        if let Some(groups) = self.memberships.get(id).filter(|g| !g.is_empty()) {
            let list: Vec<Value> = groups
                .iter()
                .map(|g| {
                    let mut e = json!({"value": g.to_string(), "type": "direct"});
                    if let Some(name) = self.group_names.get(g) {
                        e["display"] = Value::String(name.clone());
                    }
                    e
                })
                .collect();
            if let Some(obj) = body.as_object_mut() {
                obj.insert("groups".into(), Value::Array(list));
            }
        }
        body
    }

    /// Adds a group's `members` (RFC 7643 §4.2) from the membership set; `$ref` is added by the HTTP layer.
    pub(super) fn with_members(&self, id: &Uuid, mut body: Value) -> Value {
        if let (Some(ms), Some(obj)) = (self.store.members(id), body.as_object_mut()) {
            let list: Vec<Value> = ms
                .iter()
                .map(|(mid, m)| {
                    let mut e = Map::new();
                    e.insert("value".into(), Value::String(mid.to_string()));
                    e.insert("type".into(), Value::String(m.kind.resource_type().name.to_string()));
                    if let Some(d) = &m.display {
                        e.insert("display".into(), Value::String(d.to_string()));
                    }
                    Value::Object(e)
                })
                .collect();
            obj.insert("members".into(), Value::Array(list));
        }
        body
    }

    pub(super) fn render(&self, kind: ResourceKind, record: &Record) -> ScimResult<Value> {
        Ok(self.render_body(kind, &record.id, body_of(record)?))
    }

    /// [`State::render`] minus the membership attribute (`groups`, `members`): see [`ListQuery::omit_membership`].
    pub(super) fn render_without_membership(&self, kind: ResourceKind, record: &Record) -> ScimResult<Value> {
        let body = body_of(record)?;
        Ok(match kind {
            ResourceKind::User => self.with_user_extension(&record.id, body),
            ResourceKind::Group => body,
        })
    }

    /// Whether `rec` may match `f`, judged from its stored text before parsing it (module `prescreen`):
    /// `false` only when neither the text nor what rendering puts in it — a touched record's
    /// `meta.lastModified` and `meta.version`, a user's portal extension — holds what `f` needs. The caller
    /// must not use it when `f` may name the membership attribute, which rendering derives.
    pub(super) fn may_match(&self, kind: ResourceKind, rec: &Record, f: &Filter) -> bool {
        if !prescreen::screenable(&rec.body) {
            return true;
        }
        let version = rec.touched.as_ref().map(|_| etag(rec.version));
        let mut texts: Vec<&str> = vec![&rec.body];
        if let (Some(modified), Some(version)) = (&rec.touched, &version) {
            texts.extend([&**modified, version.as_str()]);
        }
        let extension = match kind {
            ResourceKind::User => self.hooks.as_ref().and_then(|h| h.user_extension(rec.id)),
            ResourceKind::Group => None,
        };
        let extension = extension.map(|(urn, v)| (urn, v.to_string()));
        if let Some((urn, text)) = &extension {
            if !prescreen::screenable(text) {
                return true;
            }
            texts.extend([*urn, text.as_str()]);
        }
        prescreen::may_match(f, &texts)
    }

    pub(super) fn render_body(&self, kind: ResourceKind, id: &Uuid, body: Value) -> Value {
        match kind {
            ResourceKind::User => self.with_groups(id, body),
            ResourceKind::Group => self.with_members(id, body),
        }
    }
}
