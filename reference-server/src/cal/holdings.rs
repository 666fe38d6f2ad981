//! Who holds a seat of which CAL, kept compactly: the ledger of a tenant with a million users holds a million
//! seats.
//!
//! A holder whose id is a UUID in the form this server writes ids (RFC 4122 §3: lowercase, hyphenated) is kept
//! as its 16 bytes, and a CAL by its position in a short list of CAL ids, so that a seat costs a 20-byte map
//! entry; any other id is kept as text. Before, a seat was two `String` user ids (one in a map from user to
//! CAL, one in a set per CAL) and a `String` CAL id: about 210 bytes per user at 300,000 users.

use std::collections::HashMap;

use uuid::Uuid;

/// The seats held: user id → CAL id, and the count per CAL.
#[derive(Clone, Debug, Default)]
pub(super) struct Holdings {
    /// The CAL ids held now or before; a seat names its CAL by position here.
    cals: Vec<Box<str>>,
    /// Seats held, per entry of `cals`.
    used: Vec<u32>,
    /// Holders whose id is a UUID as this server writes it.
    by_uuid: HashMap<Uuid, u32>,
    /// Any other holder.
    by_text: HashMap<Box<str>, u32>,
}

/// `id` as a UUID when it is one in its lowercase hyphenated form (so that it reads back as the same text).
fn uuid_key(id: &str) -> Option<Uuid> {
    let u = Uuid::try_parse(id).ok()?;
    (id.len() == 36 && u.hyphenated().encode_lower(&mut Uuid::encode_buffer()) == id).then_some(u)
}

impl Holdings {
    fn cal_at(&self, cal: u32) -> &str {
        self.cals.get(cal as usize).map_or("", |c| c)
    }

    fn cal_index(&self, cal: &str) -> Option<u32> {
        self.cals.iter().position(|c| &**c == cal).map(|k| k as u32)
    }

    /// The CAL `user` holds.
    pub(super) fn get(&self, user: &str) -> Option<&str> {
        let at = match uuid_key(user) {
            Some(u) => self.by_uuid.get(&u),
            None => self.by_text.get(user),
        };
        at.map(|&c| self.cal_at(c))
    }

    /// How many seats of `cal` are held.
    pub(super) fn used(&self, cal: &str) -> usize {
        self.cal_index(cal).map_or(0, |k| self.used[k as usize] as usize)
    }

    /// Gives `user` a seat of `cal`, releasing the one it held.
    pub(super) fn insert(&mut self, user: &str, cal: &str) {
        self.remove(user);
        let k = match self.cal_index(cal) {
            Some(k) => k,
            None => {
                self.cals.push(cal.into());
                self.used.push(0);
                (self.cals.len() - 1) as u32
            }
        };
        self.used[k as usize] += 1;
        match uuid_key(user) {
            Some(u) => self.by_uuid.insert(u, k),
            None => self.by_text.insert(user.into(), k),
        };
    }

    /// Releases `user`'s seat; the CAL it held.
    pub(super) fn remove(&mut self, user: &str) -> Option<String> {
        let k = match uuid_key(user) {
            Some(u) => self.by_uuid.remove(&u),
            None => self.by_text.remove(user),
        }?;
        self.used[k as usize] -= 1;
        Some(self.cal_at(k).to_string())
    }

    /// Every seat held: (user id, CAL id), in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (String, &str)> + '_ {
        let uuids = self.by_uuid.iter().map(|(u, &c)| (u.hyphenated().to_string(), self.cal_at(c)));
        uuids.chain(self.by_text.iter().map(|(u, &c)| (u.to_string(), self.cal_at(c))))
    }

    /// The users holding `cal`, in id order.
    pub(super) fn holders(&self, cal: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.iter().filter(|(_, c)| *c == cal).map(|(u, _)| u).collect();
        ids.sort_unstable();
        ids
    }

    /// Each CAL with seats held and how many, in CAL id order.
    pub(super) fn in_use(&self) -> Vec<(&str, usize)> {
        let mut out: Vec<(&str, usize)> =
            self.cals.iter().zip(&self.used).filter(|(_, &n)| n > 0).map(|(c, &n)| (&**c, n as usize)).collect();
        out.sort();
        out
    }

    /// How many seats are held.
    pub(super) fn len(&self) -> usize {
        self.by_uuid.len() + self.by_text.len()
    }
}

/// Equal when the same users hold the same CALs (however the CAL ids were numbered).
impl PartialEq for Holdings {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(u, c)| other.get(&u) == Some(c))
    }
}

impl Eq for Holdings {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UUID in this server's form is kept as bytes and reads back as the same text; any other form of the
    /// same UUID is another id, kept as text.
    #[test]
    fn holders_read_back_as_given() {
        let id = "0b5c2b0e-8d0a-4c1e-9a43-6f1d2e3c4b5a";
        let mut h = Holdings::default();
        h.insert(id, "viewer");
        h.insert(&id.to_uppercase(), "creator");
        h.insert(&id.replace('-', ""), "viewer");
        h.insert("u1", "viewer");
        assert_eq!((h.by_uuid.len(), h.by_text.len()), (1, 3));
        assert_eq!(h.get(id), Some("viewer"));
        assert_eq!(h.get(&id.to_uppercase()), Some("creator"));
        assert_eq!(h.holders("viewer"), vec![id.to_string(), id.replace('-', ""), "u1".to_string()]);
        assert_eq!(h.in_use(), vec![("creator", 1), ("viewer", 3)]);
        assert_eq!(h.remove(id).as_deref(), Some("viewer"));
        assert_eq!(h.remove(id), None);
        h.insert("u1", "creator");
        assert_eq!(h.in_use(), vec![("creator", 2), ("viewer", 1)]);
        assert_eq!(h.len(), 3);
    }

    /// Equality is about who holds what, not the order the CALs were first seen in.
    #[test]
    fn equal_holdings_compare_equal() {
        let (mut a, mut b) = (Holdings::default(), Holdings::default());
        a.insert("x", "viewer");
        a.insert("y", "creator");
        b.insert("y", "creator");
        b.insert("x", "viewer");
        assert_eq!(a, b);
        b.insert("x", "creator");
        assert_ne!(a, b);
    }
}
