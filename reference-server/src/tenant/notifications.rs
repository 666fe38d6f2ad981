//! A portal user's notifications, kept in one pointer while there are none.
//!
//! Every user provisioned into a tenant has a portal state, and almost none has a notification (one comes only
//! when the CAL rules cannot be applied or no seat is free), so the list costs 8 bytes per user instead of a
//! `Vec`'s 24: at a million users, the map of portal states holds buckets of 40 bytes instead of 56. In the
//! data file it stays a JSON array, as before.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::cal::Notification;

/// A user's notifications in the order raised; `None` while there are none.
#[derive(Debug, Clone, Default)]
// A `Box<Vec>` on purpose: one thin pointer (8 bytes) in every user's state, where a boxed slice takes 16 and a
// `Vec` 24, for a list almost every user leaves empty.
#[allow(clippy::box_collection)]
pub(super) struct Notifications(Option<Box<Vec<Notification>>>);

impl Notifications {
    /// Appends `n`.
    pub(super) fn push(&mut self, n: Notification) {
        self.0.get_or_insert_with(Default::default).push(n);
    }
}

impl std::ops::Deref for Notifications {
    type Target = [Notification];

    fn deref(&self) -> &[Notification] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl Serialize for Notifications {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Notifications {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Notification>::deserialize(d)?;
        Ok(Notifications((!list.is_empty()).then(|| Box::new(list))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data file's form is a JSON array, empty or not, and reads back as written.
    #[test]
    fn notifications_are_a_json_array_in_the_data_file() {
        let mut ns = Notifications::default();
        assert_eq!(serde_json::to_string(&ns).expect("serialises"), "[]");
        assert!(serde_json::from_str::<Notifications>("[]").expect("reads").0.is_none(), "none: no allocation");
        ns.push(Notification { at: chrono::DateTime::UNIX_EPOCH, kind: "k".into(), message: "m".into() });
        let text = serde_json::to_string(&ns).expect("serialises");
        assert_eq!(text, r#"[{"at":"1970-01-01T00:00:00.000Z","kind":"k","message":"m"}]"#);
        let back: Notifications = serde_json::from_str(&text).expect("reads");
        assert_eq!(back.len(), 1);
        assert_eq!((back[0].kind.as_str(), back[0].message.as_str()), ("k", "m"));
    }
}
