//! A collection's column of the members filters read most, copied from each record's text into one
//! contiguous buffer in the order records were stored.
//!
//! A filter scan (RFC 7644 §3.4.2.2) reads, of each stored user, a few members (`name`, `emails`, `active`)
//! at offsets spread over the user's text: the first read of each is a cache miss, because a scan touches a
//! few lines of every text and the processor cannot tell which ones ahead. The column keeps a copy of those
//! members' bytes, record after record, so a scan that reads only them walks one buffer from start to end
//! (memory the processor streams) and no text at all.
//!
//! Each entry is the bytes of the record's text from where each member's value starts to where the next
//! member's key starts (a [`Span`] of the text, copied as it is), so evaluating a filter on the entry reads
//! exactly the bytes it would read in the text. The members are found as [`MemberTable::find`] finds them
//! (up to ASCII case, RFC 7643 §2.1); a record whose text has two members for one of the column's names, no
//! usable table, or more than [`MAX_ENTRY_BYTES`] of them, has no entry ([`NO_HOT`]) and is read from its text.
//!
//! Memory: the copied bytes (about 130 for an Okta-shaped user) and [`COLUMN_NAMES_USER`]`.len() + 1` `u32`
//! bounds per record. Entries left behind by a replaced or removed record are dropped when they outweigh the
//! live ones (the column is then rewritten in slot order). A collection keeps its column only from the first
//! list whose filter no index answers ([`Column::switch_on`], built then from every record it holds): a
//! directory that is only provisioned and read by id, `userName` or page (what Okta and Entra do) never pays
//! for it.

use super::text::Span;
use super::{MemberTable, Record};

/// The members a user's column keeps, as the schema names them (RFC 7643 §4.1): the attributes that list
/// filters which no index answers read most (`name.familyName`, `emails[type eq "work"]`, `active`).
pub const COLUMN_NAMES_USER: &[&str] = &["name", "emails", "active"];

/// The most bytes a record's entry holds; a record whose members are longer has none (a client cannot make
/// one record's entry large, and such records are rare enough to read from their text).
pub const MAX_ENTRY_BYTES: usize = 2048;

/// The entry of a record that has none: its members are read from its text.
pub const NO_HOT: u32 = u32::MAX;

/// The fewest bytes of entries (or of their bounds) a column holds before it drops released ones: below that,
/// rewriting costs more than it saves.
const MIN_REWRITE: usize = 64 * 1024;

/// The bit of an entry's first bound that says its bytes hold no `\` and neither lead byte `E2` nor `C4`
/// (see [`ColumnView::entry`]); the offsets themselves stay below it.
const PLAIN: u32 = 1 << 31;

/// Whether `bytes` hold no escape (`\`) and neither lead byte of the two characters whose lowercase is ASCII
/// (U+212A KELVIN SIGN, `E2 84 AA`; U+0130, `C4 B0`): what a scan's byte screen checks of a member before it
/// looks for a needle up to ASCII case in its bytes (RFC 7644 §3.4.2.2 with `caseExact` false).
pub(crate) fn plain(bytes: &[u8]) -> bool {
    memchr::memchr3(b'\\', 0xE2, 0xC4, bytes).is_none()
}

/// The most names a column keeps (the entry's spans live on the stack while it is written).
pub(crate) const MAX_NAMES: usize = 8;

/// A collection's column (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct Column {
    /// The members kept, in the schema's spelling; empty for a collection without a column.
    names: &'static [&'static str],
    /// Every entry's bytes, one after the other: valid UTF-8, because each member is copied whole from a
    /// text and cut where ASCII punctuation starts or ends.
    text: String,
    /// Per entry, `names.len() + 1` offsets into `text`: where the entry starts (with [`PLAIN`] set when the
    /// entry is plain), then where each member ends (a member starts where the one before it ends; one that
    /// starts where it ends is absent).
    bounds: Vec<u32>,
    /// Bytes of `text` (and offsets of `bounds`) of entries no record holds any more.
    dead_text: usize,
    dead_bounds: usize,
    /// Whether entries are kept ([`Column::switch_on`]); until then the column is empty and every record's
    /// [`Record::hot`] is [`NO_HOT`].
    on: bool,
}

/// A column as a scan reads it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnView<'a> {
    /// The members it keeps ([`COLUMN_NAMES_USER`] for users).
    pub names: &'static [&'static str],
    text: &'a str,
    bounds: &'a [u32],
}

impl<'a> ColumnView<'a> {
    /// The entry of a record whose [`Record::hot`] is `hot`: its bytes, whether they are [`plain`] (judged
    /// once when the entry was written, so that a scan need not search each member for those bytes), and for
    /// each of [`ColumnView::names`] the span of its member within them (as [`MemberTable::find`] gives it in
    /// the text, but counted from the entry's start), into `spans` (as long as `names`). `None` for
    /// [`NO_HOT`] or an entry that is not there (a record of another store).
    pub(crate) fn entry(&self, hot: u32, spans: &mut [Option<Span>]) -> Option<(&'a str, bool)> {
        let n = self.names.len();
        let at = hot as usize;
        let bounds = self.bounds.get(at..at.checked_add(n + 1)?)?;
        let start = (bounds[0] & !PLAIN) as usize;
        let text = self.text.get(start..bounds[n] as usize)?;
        let mut from = start;
        for (slot, &end) in spans.iter_mut().zip(&bounds[1..]) {
            let end = end as usize;
            *slot = (end > from).then(|| Span { value: from - start, end: end - start });
            from = end;
        }
        Some((text, bounds[0] & PLAIN != 0))
    }
}

impl Column {
    /// An empty column keeping `names` (at most 8; more are not kept).
    pub(super) fn new(names: &'static [&'static str]) -> Column {
        Column { names: &names[..names.len().min(MAX_NAMES)], ..Column::default() }
    }

    /// The column as a scan reads it; `None` when it keeps nothing (no names, or not switched on).
    pub(super) fn view(&self) -> Option<ColumnView<'_>> {
        (self.on && !self.names.is_empty()).then_some(ColumnView {
            names: self.names,
            text: &self.text,
            bounds: &self.bounds,
        })
    }

    /// Whether this column has names to keep but is not kept yet.
    pub(super) fn is_off(&self) -> bool {
        !self.on && !self.names.is_empty()
    }

    /// Starts keeping entries: one for each record in `slots` now (each record's [`Record::hot`] set), then one
    /// for each record stored later. Does nothing when already on.
    pub(super) fn switch_on(&mut self, slots: &mut [Option<Record>]) {
        if !self.is_off() {
            return;
        }
        self.on = true;
        for rec in slots.iter_mut().flatten() {
            rec.hot = self.push(&rec.body, &rec.table);
        }
    }

    /// Appends the entry of a record with this text and table; its position, or [`NO_HOT`] (see the module
    /// documentation; always [`NO_HOT`] while the column is off).
    pub(super) fn push(&mut self, text: &str, table: &MemberTable) -> u32 {
        let n = self.names.len();
        if !self.on || n == 0 || !table.is_usable() {
            return NO_HOT;
        }
        let mut spans = [None; MAX_NAMES];
        if table.find(text, self.names, &mut spans[..n]).is_err() {
            return NO_HOT;
        }
        let mut members = [""; MAX_NAMES];
        let mut len = 0usize;
        for (member, span) in members.iter_mut().zip(&spans[..n]) {
            if let Some(span) = span {
                let Some(bytes) = text.get(span.value..span.end) else { return NO_HOT };
                *member = bytes;
                len += bytes.len();
            }
        }
        let fits = |used: usize, more: usize| used.checked_add(more).is_some_and(|t| t < PLAIN as usize);
        if len > MAX_ENTRY_BYTES || !fits(self.text.len(), len) || !fits(self.bounds.len(), n + 1) {
            return NO_HOT;
        }
        let hot = self.bounds.len() as u32;
        let start = self.text.len();
        self.bounds.push(start as u32);
        for member in &members[..n] {
            self.text.push_str(member);
            self.bounds.push(self.text.len() as u32);
        }
        if plain(&self.text.as_bytes()[start..]) {
            self.bounds[hot as usize] |= PLAIN;
        }
        hot
    }

    /// How many bytes of entries the column holds, released ones included.
    #[cfg(test)]
    pub(super) fn kept(&self) -> usize {
        self.text.len()
    }

    /// Marks the entry at `hot` as no longer held (its record was replaced or removed).
    pub(super) fn release(&mut self, hot: u32) {
        let n = self.names.len();
        let at = hot as usize;
        if let Some(bounds) = self.bounds.get(at..at.saturating_add(n + 1)).filter(|_| hot != NO_HOT && n > 0) {
            self.dead_text += (bounds[n] - (bounds[0] & !PLAIN)) as usize;
            self.dead_bounds += n + 1;
        }
    }

    /// Rewrites the column with only the entries `slots` hold, in slot order, once released entries are the
    /// majority (so what the column holds stays within twice what its records need); each record's
    /// [`Record::hot`] is updated.
    pub(super) fn compact_if_sparse(&mut self, slots: &mut [Option<Record>]) {
        let n = self.names.len();
        let sparse = |dead: usize, len: usize, least: usize| len >= least && dead * 2 > len;
        if n == 0
            || !(sparse(self.dead_text, self.text.len(), MIN_REWRITE)
                || sparse(self.dead_bounds * 4, self.bounds.len() * 4, MIN_REWRITE))
        {
            return;
        }
        let (old_text, old_bounds) = (std::mem::take(&mut self.text), std::mem::take(&mut self.bounds));
        let live_text = old_text.len() - self.dead_text.min(old_text.len());
        self.text.reserve(live_text);
        self.bounds.reserve(old_bounds.len() - self.dead_bounds.min(old_bounds.len()));
        for rec in slots.iter_mut().flatten() {
            let at = rec.hot as usize;
            let Some(bounds) = old_bounds.get(at..at.saturating_add(n + 1)).filter(|_| rec.hot != NO_HOT) else {
                rec.hot = NO_HOT;
                continue;
            };
            let base = self.text.len() as u32;
            let start = bounds[0] & !PLAIN;
            rec.hot = self.bounds.len() as u32;
            self.bounds.push(base | (bounds[0] & PLAIN));
            self.bounds.extend(bounds[1..].iter().map(|&end| end - start + base));
            self.text.push_str(&old_text[start as usize..bounds[n] as usize]);
        }
        self.dead_text = 0;
        self.dead_bounds = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(column: &mut Column, text: &str) -> u32 {
        column.push(text, &MemberTable::of(text))
    }

    /// A column switched on, with no record yet.
    fn kept(names: &'static [&'static str]) -> Column {
        let mut column = Column::new(names);
        column.switch_on(&mut []);
        column
    }

    /// Reads an entry back as (each member's bytes, or `None`).
    fn read(column: &Column, hot: u32) -> Option<Vec<Option<String>>> {
        let view = column.view()?;
        let mut spans = vec![None; view.names.len()];
        let (text, _) = view.entry(hot, &mut spans)?;
        Some(spans.iter().map(|s| s.map(|s| text[s.value..s.end].to_string())).collect())
    }

    #[test]
    fn an_entry_holds_the_members_spans_of_the_text_found_up_to_ascii_case() {
        let mut column = kept(COLUMN_NAMES_USER);
        let text = r#"{"userName":"a","Name":{"familyName":"Smith"}, "active":true,"x":1}"#;
        let hot = push(&mut column, text);
        let mut spans = [None; 3];
        MemberTable::of(text).find(text, COLUMN_NAMES_USER, &mut spans).unwrap();
        let expected: Vec<Option<String>> = spans.iter().map(|s| s.map(|s| text[s.value..s.end].to_string())).collect();
        assert_eq!(read(&column, hot), Some(expected.clone()));
        assert_eq!(expected, vec![Some(r#"{"familyName":"Smith"}, "#.into()), None, Some("true,".into())]);
        let last = r#"{"emails":[],"active":false}"#;
        let hot = push(&mut column, last);
        assert_eq!(read(&column, hot), Some(vec![None, Some("[],".into()), Some("false}".into())]));
    }

    #[test]
    fn records_the_text_cannot_describe_or_too_long_have_no_entry() {
        let mut column = kept(COLUMN_NAMES_USER);
        assert_eq!(push(&mut column, r#"{"name":{},"NAME":{}}"#), NO_HOT, "two members for one name");
        assert_eq!(push(&mut column, r#"{"name":{},"name":{}}"#), NO_HOT, "no usable table");
        assert_eq!(push(&mut column, "[1]"), NO_HOT);
        let long = format!(r#"{{"emails":["{}"]}}"#, "x".repeat(MAX_ENTRY_BYTES));
        assert_eq!(push(&mut column, &long), NO_HOT);
        assert_eq!(push(&mut kept(&[]), r#"{"name":{}}"#), NO_HOT, "a collection without a column");
        assert!(kept(&[]).view().is_none());
        let hot = push(&mut column, r#"{"x":1}"#);
        assert_eq!(read(&column, hot), Some(vec![None, None, None]));
        assert_eq!(read(&column, hot + 1), None, "an entry that is not there");
    }

    #[test]
    fn an_entry_is_plain_when_none_of_its_members_holds_an_escape_or_either_lead_byte() {
        let mut column = kept(COLUMN_NAMES_USER);
        let texts = [
            (r#"{"name":{"familyName":"Müller"},"userName":"\u212A","active":true}"#, true),
            (r#"{"name":{"familyName":"M\u00fcller"}}"#, false),
            ("{\"emails\":[\"\u{212A}@corp\"]}", false),
            ("{\"active\":true,\"name\":\"\u{130}\"}", false),
            ("{\"name\":\"\u{130}\",\"x\":\"\\\\\",\"active\":true}", false),
        ];
        for (text, expected) in texts {
            let hot = push(&mut column, text);
            let mut spans = [None; 3];
            let (bytes, plain_entry) = column.view().unwrap().entry(hot, &mut spans).unwrap();
            assert_eq!(plain_entry, expected, "{text}");
            assert_eq!(plain_entry, plain(bytes.as_bytes()), "{text}");
        }
    }
}
