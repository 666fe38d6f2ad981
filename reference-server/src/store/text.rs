//! Reading stored compact JSON text (RFC 8259) in place, without building `serde_json::Value`s: where each
//! top-level member starts ([`MemberTable`]), and cursors over one value's tokens for the filter scan
//! (`crate::directory` module `textmatch`).
//!
//! The readers here trust nothing: every position is checked, and anything they do not expect (a byte that
//! cannot start a value, a missing `:` or `,`, text ending early) is [`Unreadable`], which the scan answers by
//! falling back to the full parse. They are meant for text that [`MemberTable::of`] has validated, where that
//! never happens.

use std::borrow::Cow;

use serde::de::IgnoredAny;

/// Where a top-level member's value starts, and where the member ends: where the next member's key starts,
/// or the end of the text for the last one (so the bytes from `value` to `end` hold the whole value, and
/// after it only `,` or `}` and whitespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// The offset of the value's first byte.
    pub value: usize,
    /// The offset just after the member and what follows it up to the next member.
    pub end: usize,
}

/// The text is not what the readers expect (not JSON, or not the shape asked for): read it the slow way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unreadable;

/// The readers' result.
pub(crate) type Read<T> = Result<T, Unreadable>;

/// The byte offsets of a stored JSON object's top-level members: for each, where its key's opening `"` is, in
/// document order. Built only for text that is one valid JSON object whose top-level keys have no escapes
/// and no exact duplicates; otherwise unusable, and the scan parses the text as before.
///
/// Kept inside the [`crate::store::Record`] (32 bytes) for up to [`MemberTable::INLINE`] members of a text
/// under 64 KiB — an Okta- or Entra-shaped user has 10 to 15 — so a scan reading records in order finds the
/// table beside the record instead of behind one more pointer (a cache miss per user at 100,000 users);
/// 4 bytes per member in a separate allocation otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MemberTable {
    /// No table: the text is not an object this table describes.
    #[default]
    Unusable,
    /// Up to [`MemberTable::INLINE`] offsets, each below 64 KiB: how many, and the offsets.
    Inline(u8, [u16; MemberTable::INLINE]),
    /// Any number of offsets.
    Boxed(Box<[u32]>),
}

impl MemberTable {
    /// The most members kept inline.
    pub const INLINE: usize = 15;

    /// The table of `text`, or an unusable one (see the type's documentation). Validates the whole text with
    /// serde_json (`IgnoredAny`: nothing is allocated) before trusting its structure.
    pub fn of(text: &str) -> MemberTable {
        if serde_json::from_str::<IgnoredAny>(text).is_err() {
            return MemberTable::Unusable;
        }
        Self::of_valid(text)
    }

    /// [`MemberTable::of`] for text known to be one valid JSON document — serde_json's own serialisation of a
    /// `Value`, which a write has just made — so it is not parsed again to be validated.
    pub fn of_valid(text: &str) -> MemberTable {
        if text.len() > u32::MAX as usize {
            return MemberTable::Unusable;
        }
        let Ok(offsets) = Self::scan(text.as_bytes()) else { return MemberTable::Unusable };
        Self::of_offsets(offsets, text.len())
    }

    /// `value`'s compact JSON text — what `serde_json::to_string` writes, byte for byte — and its member table,
    /// taken while the text is written (where each key starts) instead of by reading it again as
    /// [`MemberTable::of_valid`] does. A key written with escapes makes the table unusable, as there.
    pub fn write(value: &serde_json::Value) -> (String, MemberTable) {
        let serde_json::Value::Object(map) = value else {
            let text = serde_json::to_string(value).unwrap_or_default();
            let table = Self::of_valid(&text);
            return (text, table);
        };
        let mut out: Vec<u8> = Vec::with_capacity(512);
        let mut offsets: Vec<u32> = Vec::with_capacity(map.len());
        let mut plain_keys = true;
        out.push(b'{');
        for (i, (key, member)) in map.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let at = out.len();
            offsets.push(u32::try_from(at).unwrap_or(u32::MAX));
            let written = serde_json::to_writer(&mut out, key).and_then(|()| {
                plain_keys &= out.len() - at == key.len() + 2;
                out.push(b':');
                serde_json::to_writer(&mut out, member)
            });
            if written.is_err() {
                let text = serde_json::to_string(value).unwrap_or_default();
                let table = Self::of_valid(&text);
                return (text, table);
            }
        }
        out.push(b'}');
        let Ok(text) = String::from_utf8(out) else { return (String::new(), MemberTable::Unusable) };
        let table = match plain_keys && text.len() <= u32::MAX as usize {
            true => Self::of_offsets(offsets, text.len()),
            false => MemberTable::Unusable,
        };
        (text, table)
    }

    /// The table of a text `len` bytes long whose members' keys start at `offsets`.
    fn of_offsets(offsets: Vec<u32>, len: usize) -> MemberTable {
        if offsets.is_empty() {
            return MemberTable::Unusable;
        }
        if offsets.len() <= Self::INLINE && len <= usize::from(u16::MAX) {
            let mut inline = [0u16; Self::INLINE];
            for (slot, &o) in inline.iter_mut().zip(&offsets) {
                *slot = o as u16;
            }
            return MemberTable::Inline(offsets.len() as u8, inline);
        }
        MemberTable::Boxed(offsets.into_boxed_slice())
    }

    fn scan(b: &[u8]) -> Read<Vec<u32>> {
        let start = ws(b, 0);
        let mut members = Members::new(b, start)?;
        let mut out: Vec<u32> = Vec::with_capacity(16);
        while let Some(m) = members.next_member()? {
            if m.escaped {
                return Err(Unreadable);
            }
            let key = m.key;
            if out.iter().any(|&o| key_at(b, o as usize) == Some(key)) {
                return Err(Unreadable);
            }
            out.push(u32::try_from(m.key_at).map_err(|_| Unreadable)?);
        }
        Ok(out)
    }

    /// Whether the table is usable (the text passed the checks of [`MemberTable::of`]).
    pub fn is_usable(&self) -> bool {
        !matches!(self, MemberTable::Unusable)
    }

    /// Where each member's key starts (its opening quote), in document order.
    pub(super) fn offsets(&self) -> impl Iterator<Item = usize> + '_ {
        let (inline, boxed): (&[u16], &[u32]) = match self {
            MemberTable::Unusable => (&[], &[]),
            MemberTable::Inline(n, at) => (&at[..usize::from(*n).min(Self::INLINE)], &[]),
            MemberTable::Boxed(at) => (&[], at),
        };
        inline.iter().map(|&o| usize::from(o)).chain(boxed.iter().map(|&o| o as usize))
    }

    /// Each member as (its key, the offset where its value starts), in document order.
    #[cfg(test)]
    pub(crate) fn members<'t>(&'t self, text: &'t str) -> impl Iterator<Item = Read<(&'t [u8], usize)>> + 't {
        let b = text.as_bytes();
        self.offsets().map(move |at| {
            let key = key_at(b, at).ok_or(Unreadable)?;
            Ok((key, value_after_key(b, at + key.len() + 2)?))
        })
    }

    /// For each of `keys`, the [`Span`] of the value of the one member whose key equals it up to ASCII case
    /// (RFC 7643 §2.1), into `found` (same length as `keys`; `None` when no member has it). Reads only the keys'
    /// bytes, not the values. Two members for one key is [`Unreadable`]: a parsed map's order would decide
    /// which one a lookup finds.
    pub(crate) fn find(&self, text: &str, keys: &[&str], found: &mut [Option<Span>]) -> Read<()> {
        let b = text.as_bytes();
        let mut offsets = self.offsets().peekable();
        while let Some(at) = offsets.next() {
            for (k, slot) in keys.iter().zip(found.iter_mut()) {
                let end = at + 1 + k.len();
                let equal = b.get(end) == Some(&b'"') && b[at + 1..end].eq_ignore_ascii_case(k.as_bytes());
                if equal {
                    let span =
                        Span { value: value_after_key(b, end + 1)?, end: offsets.peek().copied().unwrap_or(b.len()) };
                    if slot.replace(span).is_some() {
                        return Err(Unreadable);
                    }
                }
            }
        }
        Ok(())
    }
}

impl MemberTable {
    /// Where the key of the `i`-th member (document order) starts.
    fn offset(&self, i: usize) -> Option<usize> {
        match self {
            MemberTable::Unusable => None,
            MemberTable::Inline(n, at) => at.get(i).filter(|_| i < usize::from(*n)).map(|&o| usize::from(o)),
            MemberTable::Boxed(at) => at.get(i).map(|&o| o as usize),
        }
    }

    /// [`MemberTable::find`] with the names already resolved against this text's shape
    /// (`crate::store::shape::resolve`): reads only the picked members' bytes.
    pub(crate) fn find_resolved(
        &self,
        text: &str,
        picks: &[Option<(u32, u32)>],
        found: &mut [Option<Span>],
    ) -> Read<()> {
        let b = text.as_bytes();
        for (pick, slot) in picks.iter().zip(found.iter_mut()) {
            let Some((i, len)) = *pick else { continue };
            let at = self.offset(i as usize).ok_or(Unreadable)?;
            let end = at + 1 + len as usize;
            if b.get(at) != Some(&b'"') || b.get(end) != Some(&b'"') {
                return Err(Unreadable);
            }
            let member_end = self.offset(i as usize + 1).unwrap_or(b.len());
            *slot = Some(Span { value: value_after_key(b, end + 1)?, end: member_end });
        }
        Ok(())
    }
}

impl MemberTable {
    /// Where the value of the member whose key is exactly `key` (byte for byte, as `serde_json::Map::get`
    /// looks it up) starts; `None` when no member has that key. A usable table's text has no repeated key,
    /// so this is the member a parsed object's lookup finds.
    pub(crate) fn value_of(&self, text: &str, key: &str) -> Read<Option<usize>> {
        let b = text.as_bytes();
        for at in self.offsets() {
            let end = at + 1 + key.len();
            if b.get(end) == Some(&b'"') && b.get(at + 1..end) == Some(key.as_bytes()) {
                return value_after_key(b, end + 1).map(Some);
            }
        }
        Ok(None)
    }
}

/// Where the value starts after a key whose closing quote ends just before `i`: past `:` and whitespace.
fn value_after_key(b: &[u8], i: usize) -> Read<usize> {
    let colon = ws(b, i);
    if b.get(colon) != Some(&b':') {
        return Err(Unreadable);
    }
    Ok(ws(b, colon + 1))
}

/// The key (without quotes, no escapes) whose opening quote is at `at`.
pub(super) fn key_at(b: &[u8], at: usize) -> Option<&[u8]> {
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let len = memchr::memchr(b'"', b.get(at + 1..)?)?;
    Some(&b[at + 1..at + 1 + len])
}

/// The first offset from `i` that is not JSON whitespace (RFC 8259 §2).
pub(crate) fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// What kind of JSON value starts at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `"…"`
    String,
    /// `{…}`
    Object,
    /// `[…]`
    Array,
    /// `true`
    True,
    /// `false`
    False,
    /// `null`
    Null,
    /// A number.
    Number,
}

/// The kind of the value starting at `i`.
pub(crate) fn kind(b: &[u8], i: usize) -> Read<Kind> {
    Ok(match b.get(i).ok_or(Unreadable)? {
        b'"' => Kind::String,
        b'{' => Kind::Object,
        b'[' => Kind::Array,
        b't' => Kind::True,
        b'f' => Kind::False,
        b'n' => Kind::Null,
        b'-' | b'0'..=b'9' => Kind::Number,
        _ => return Err(Unreadable),
    })
}

/// The string starting at `i` (its opening quote): the offset after its closing quote, and whether it has
/// escapes.
fn string_end(b: &[u8], i: usize) -> Read<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        let k = quote_or_backslash(b.get(j..).ok_or(Unreadable)?).ok_or(Unreadable)?;
        if b[j + k] == b'"' {
            return Ok((j + k + 1, escaped));
        }
        escaped = true;
        j += k + 2;
    }
}

/// How many bytes [`quote_or_backslash`] reads eight at a time before it hands the rest to memchr2.
const SHORT: usize = 32;

/// The offset of the first `"` or `\` in `s`. Most strings of a stored resource (keys, names, types, emails)
/// end within a few words: those are read eight bytes at a time in a register, which costs less than setting
/// up memchr2's vector search; a longer string's rest goes to memchr2.
fn quote_or_backslash(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let (quote, backslash) = (ONES * u64::from(b'"'), ONES * u64::from(b'\\'));
    let mut i = 0;
    while let Some(word) = s.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        // A byte of `x` is zero where `w` holds the byte sought; `(x - ONES) & !x & HIGH` sets the high bit of
        // the first such byte (and maybe of later ones, never of earlier ones), so the lowest bit set is exact.
        let (x, y) = (w ^ quote, w ^ backslash);
        let found = ((x.wrapping_sub(ONES) & !x) | (y.wrapping_sub(ONES) & !y)) & HIGH;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
        if i >= SHORT {
            return memchr::memchr2(b'"', b'\\', &s[i..]).map(|k| i + k);
        }
    }
    s[i..].iter().position(|&c| c == b'"' || c == b'\\').map(|k| i + k)
}

/// The offset just after the value starting at `i`.
pub(crate) fn value_end(b: &[u8], i: usize) -> Read<usize> {
    match kind(b, i)? {
        Kind::String => Ok(string_end(b, i)?.0),
        Kind::True => literal(b, i, b"true"),
        Kind::Null => literal(b, i, b"null"),
        Kind::False => literal(b, i, b"false"),
        Kind::Number => {
            let mut j = i;
            while matches!(b.get(j), Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
                j += 1;
            }
            Ok(j)
        }
        Kind::Object | Kind::Array => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j).ok_or(Unreadable)? {
                    b'"' => {
                        j = string_end(b, j)?.0;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
    }
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Read<usize> {
    match b.get(i..i + word.len()) {
        Some(w) if w == word => Ok(i + word.len()),
        _ => Err(Unreadable),
    }
}

/// The string value starting at `i`, decoded: borrowed from the text when it has no escapes.
pub(crate) fn string_at(text: &str, i: usize) -> Read<Cow<'_, str>> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return Err(Unreadable);
    }
    let (end, escaped) = string_end(b, i)?;
    let raw = text.get(i..end).ok_or(Unreadable)?;
    if escaped {
        serde_json::from_str::<String>(raw).map(Cow::Owned).map_err(|_| Unreadable)
    } else {
        Ok(Cow::Borrowed(&raw[1..raw.len() - 1]))
    }
}

/// One member of an object being read.
pub(crate) struct Member<'a> {
    /// The key as it is in the text, without quotes (escapes not decoded).
    pub key: &'a [u8],
    /// Whether the key has escapes (then `key` is not the name).
    pub escaped: bool,
    /// Where the key's opening quote is.
    pub key_at: usize,
    /// Where the value starts.
    pub value: usize,
}

/// The members of the object starting at an offset, one at a time.
pub(crate) struct Members<'a> {
    b: &'a [u8],
    /// The next key's opening quote, or `None` after the closing brace.
    at: Option<usize>,
    /// The offset after the closing brace, once it was read.
    end: usize,
}

impl<'a> Members<'a> {
    /// The members of the object whose `{` is at `i`.
    pub(crate) fn new(b: &'a [u8], i: usize) -> Read<Self> {
        if b.get(i) != Some(&b'{') {
            return Err(Unreadable);
        }
        let j = ws(b, i + 1);
        let empty = b.get(j) == Some(&b'}');
        Ok(Members { b, at: (!empty).then_some(j), end: j + 1 })
    }

    /// The offset just after the object, once [`Members::next_member`] has answered `None`.
    pub(crate) fn end(&self) -> usize {
        self.end
    }

    /// The next member, or `None` at the end of the object.
    pub(crate) fn next_member(&mut self) -> Read<Option<Member<'a>>> {
        let Some(at) = self.at else { return Ok(None) };
        let b = self.b;
        if b.get(at) != Some(&b'"') {
            return Err(Unreadable);
        }
        let (key_end, escaped) = string_end(b, at)?;
        let colon = ws(b, key_end);
        if b.get(colon) != Some(&b':') {
            return Err(Unreadable);
        }
        let value = ws(b, colon + 1);
        let after = ws(b, value_end(b, value)?);
        self.at = match b.get(after) {
            Some(b',') => Some(ws(b, after + 1)),
            Some(b'}') => {
                self.end = after + 1;
                None
            }
            _ => return Err(Unreadable),
        };
        Ok(Some(Member { key: &b[at + 1..key_end - 1], escaped, key_at: at, value }))
    }
}

/// The elements of the array starting at an offset, one at a time (each the offset where it starts).
pub(crate) struct Elements<'a> {
    b: &'a [u8],
    at: Option<usize>,
}

impl<'a> Elements<'a> {
    /// The elements of the array whose `[` is at `i`.
    pub(crate) fn new(b: &'a [u8], i: usize) -> Read<Self> {
        if b.get(i) != Some(&b'[') {
            return Err(Unreadable);
        }
        let j = ws(b, i + 1);
        Ok(Elements { b, at: (b.get(j) != Some(&b']')).then_some(j) })
    }

    /// The next element's offset, or `None` at the end of the array.
    pub(crate) fn next_element(&mut self) -> Read<Option<usize>> {
        let Some(at) = self.at else { return Ok(None) };
        let after = ws(self.b, value_end(self.b, at)?);
        self.at = match self.b.get(after) {
            Some(b',') => Some(ws(self.b, after + 1)),
            Some(b']') => None,
            _ => return Err(Unreadable),
        };
        Ok(Some(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Seeded objects of every shape the table distinguishes — keys with escapes, non-ASCII keys, more members
    /// than fit inline, a text over 64 KiB, an empty object, values that are not objects: the text written with
    /// its table is serde_json's, and the table the one read from that text.
    #[test]
    fn a_table_taken_while_writing_is_the_table_read_from_the_text() {
        use serde_json::{json, Map, Value};
        let mut rng = StdRng::seed_from_u64(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: u64| rng.random_range(0..n);
        let keys = ["userName", "name", "é-key", "quo\"te", "back\\slash", "tab\t", "z", "emails", ""];
        let mut values =
            vec![json!(1), json!("x"), json!({}), json!([]), json!(null), json!(true), json!([]), json!("a\"b")];
        values.push(Value::Array((0..3).map(|i| json!({"value": i, "type": "work"})).collect()));
        let long = Value::String("y".repeat(70_000));
        for round in 0..3_000 {
            let mut map = Map::new();
            let members = if round % 10 == 0 { 20 + next(10) } else { next(8) };
            for i in 0..members {
                let key = match next(3) {
                    0 => keys[next(keys.len() as u64) as usize].to_string(),
                    _ => format!("k{i}"),
                };
                // the long string rarely, so most texts stay under the inline table's 64 KiB
                let v = match next(200) {
                    0 => long.clone(),
                    _ => values[next(values.len() as u64) as usize].clone(),
                };
                map.insert(key, v);
            }
            let value = Value::Object(map);
            let (text, table) = MemberTable::write(&value);
            assert_eq!(text, serde_json::to_string(&value).unwrap());
            assert_eq!(table, MemberTable::of_valid(&text), "{text:.200}");
        }
        for other in [json!(7), json!("s"), json!([{"a": 1}]), json!(null)] {
            assert_eq!(MemberTable::write(&other), (other.to_string(), MemberTable::Unusable));
        }
        let boxed = Value::Object((0..20).map(|i| (format!("k{i}"), json!(i))).collect());
        assert!(matches!(MemberTable::write(&boxed).1, MemberTable::Boxed(_)));
        assert!(MemberTable::write(&json!({"a\"b": 1})).1 == MemberTable::Unusable);
    }

    fn keys(text: &str) -> Vec<(String, String)> {
        let t = MemberTable::of(text);
        t.members(text)
            .map(|m| {
                let (k, v) = m.unwrap();
                let end = value_end(text.as_bytes(), v).unwrap();
                (String::from_utf8(k.to_vec()).unwrap(), text[v..end].to_string())
            })
            .collect()
    }

    #[test]
    fn the_table_finds_every_top_level_member_and_its_value() {
        let text = r#"{"a":1,"name":{"x":"}\"{"},"emails":[{"v":"]"},[]],"t":true,"n":null,"s":"a\\\"b","f":-1.5e3}"#;
        let got = keys(text);
        let want = [
            ("a", "1"),
            ("name", r#"{"x":"}\"{"}"#),
            ("emails", r#"[{"v":"]"},[]]"#),
            ("t", "true"),
            ("n", "null"),
            ("s", r#""a\\\"b""#),
            ("f", "-1.5e3"),
        ];
        assert_eq!(got, want.map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(
            keys(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } "),
            [("a".into(), "[ 1 , 2 ]".into()), ("b".into(), "{ }".into())]
        );
    }

    #[test]
    fn many_members_or_long_text_take_the_boxed_table_and_read_the_same() {
        let many: Vec<String> = (0..20).map(|i| format!("\"k{i}\":{i}")).collect();
        let many = format!("{{{}}}", many.join(","));
        let long = format!(r#"{{"pad":"{}","name":{{"x":1}},"Emails":[]}}"#, "p".repeat(70_000));
        for (text, key, want) in [(many.as_str(), "K19", "19"), (long.as_str(), "emails", "[]")] {
            let table = MemberTable::of(text);
            assert!(matches!(table, MemberTable::Boxed(_)), "{}", &text[..20]);
            let mut found = [None, None];
            table.find(text, &[key, "nosuch"], &mut found).unwrap();
            let span = found[0].unwrap();
            assert_eq!(&text[span.value..value_end(text.as_bytes(), span.value).unwrap()], want);
            assert_eq!(span.end, text.len(), "the last member's span ends with the text");
            assert_eq!(found[1], None);
        }
        let table = MemberTable::of(r#"{"name":1,"NAME":2,"b":3}"#);
        assert!(matches!(table, MemberTable::Inline(3, _)));
        let mut found = [None];
        assert_eq!(table.find(r#"{"name":1,"NAME":2,"b":3}"#, &["Name"], &mut found), Err(Unreadable));
    }

    #[test]
    fn text_the_table_cannot_describe_gets_none() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"\u0061":1}"#,
            r#"{"a":1,"b":[1,}"#,
            r#"{"a":1} x"#,
            "[1]",
            "{}",
            "",
            r#"{"a":"\x"}"#,
        ] {
            assert!(!MemberTable::of(text).is_usable(), "{text}");
        }
        assert!(MemberTable::of(r#"{"a":1,"A":2}"#).is_usable(), "keys differing in case are distinct members");
    }

    #[test]
    fn strings_decode_escapes_and_borrow_otherwise() {
        let text = r#"["plain","\u00e9t\u00E9 \"q\" \\"]"#;
        let mut els = Elements::new(text.as_bytes(), 0).unwrap();
        let a = els.next_element().unwrap().unwrap();
        let b = els.next_element().unwrap().unwrap();
        assert!(els.next_element().unwrap().is_none());
        assert!(matches!(string_at(text, a).unwrap(), Cow::Borrowed("plain")));
        assert_eq!(string_at(text, b).unwrap(), "été \"q\" \\");
    }

    /// The word-at-a-time search finds the first `"` or `\\` wherever it is: seeded random byte strings of
    /// every length around the word and [`SHORT`] boundaries, against a plain search.
    #[test]
    fn the_first_quote_or_backslash_is_found_at_every_offset() {
        // SplitMix64, seeded.
        let mut state = 0x51AB_0001u64;
        let mut below = |n: usize| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        };
        // Bytes one bit or one borrow away from `"` (0x22) and `\\` (0x5C), and the extremes.
        let plain = [b'a', 0x80, 0xFF, 0xA2, 0xDC, 0x5D, 0x21, 0x23, 0x5B, 0x23, 0x02, 0x1C, 0, 0x7F];
        for _ in 0..20_000 {
            let len = below(80);
            let rare = 1 + below(100);
            let s: Vec<u8> = (0..len)
                .map(|_| if below(rare) == 0 { [b'"', b'\\'][below(2)] } else { plain[below(plain.len())] })
                .collect();
            let want = s.iter().position(|&c| c == b'"' || c == b'\\');
            assert_eq!(quote_or_backslash(&s), want, "{s:?}");
        }
        // Strings as JSON writes them, escapes included, end where serde_json says.
        for text in ["\"\"", "\"a\\\"b\"", &format!("\"{}\\\\{}\"", "x".repeat(40), "y".repeat(9))] {
            let decoded: String = serde_json::from_str(text).unwrap();
            assert_eq!(string_at(text, 0).unwrap(), decoded);
            assert_eq!(value_end(text.as_bytes(), 0), Ok(text.len()));
        }
    }

    #[test]
    fn damaged_text_is_unreadable_never_a_panic() {
        for text in ["{", "{\"a\"", "{\"a\":", "{\"a\":tru", "[1,", "\"abc", "{\"a\":1,}", "[", "{\"a\" 1}"] {
            let b = text.as_bytes();
            let whole = match kind(b, 0) {
                Ok(Kind::Object) => {
                    let mut m = Members::new(b, 0).unwrap();
                    (0..4).try_for_each(|_| m.next_member().map(|_| ()))
                }
                Ok(Kind::Array) => {
                    let mut e = Elements::new(b, 0).unwrap();
                    (0..4).try_for_each(|_| e.next_element().map(|_| ()))
                }
                _ => string_at(text, 0).map(|_| ()),
            };
            assert_eq!(whole, Err(Unreadable), "{text}");
        }
    }
}
