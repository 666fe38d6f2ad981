//! Evaluating a filter on a stored record's JSON text, without parsing it into `serde_json::Value`s.
//!
//! A list scan (RFC 7644 §3.4.2.2) used to parse, of every user the screen let through, the members its
//! filter reads (module `scan`), then evaluate the filter on that object: about 2 µs a user, the whole cost of
//! a scan over 100,000 users. A [`TextFilter`] is the same filter compiled against the resource type's schema;
//! it finds the members it reads through the record's [`crate::store::MemberTable`] (no pass over the text)
//! and walks only their tokens, decoding a string only when it has escapes. When the collection's column
//! (module `hot` of the store) keeps every member the filter reads, a record with an entry there is read
//! from that copy of the same bytes instead, in one buffer the scan walks in creation order.
//!
//! It follows [`crate::filter::matches`] step by step — `locate`, `comparison_target`, `collect_leaves`,
//! `element_get`, `compare_leaves`, `is_present`, `matches_element` — and calls the same comparison
//! ([`crate::filter::string_op`], RFC 7644 §3.4.2.2 with `caseExact` per RFC 7643 §2.4; booleans per RFC 7643
//! §2.3.2 through [`crate::values::scim_boolean`]'s rule), so its verdict is the same. Where the text alone
//! cannot tell what the parsed object would hold, it answers [`Unreadable`] and the caller parses the record
//! as before:
//! - the record has no member table (text that is not a JSON object, top-level keys with escapes or repeated);
//! - an object holds two keys equal up to ASCII case where the evaluator looks one up (the parsed map's
//!   order would pick one), a key with escapes there, or repeated keys where `pr` reads every member;
//! - the filter reads `meta` of a record touched after its text was written (rendering brings `meta`
//!   current), or the extension the portal adds to a user.
//!
//! Filters it does not compile (it answers `None` and the scan parses every candidate): comparisons with a
//! number, a date-time or a complex attribute other than with `null` (instants and numbers compare by value,
//! not text). `tests/filter_scan.rs` compares its verdicts with the plain evaluator over seeded users and
//! filters.

use std::cell::RefCell;

use serde_json::Value;
use smallvec::SmallVec;

use crate::filter::{self, CompareOp, Filter};
use crate::schema::{AttrDef, AttrType, ResourceKind, ResourceType};
use crate::store::hot::MAX_NAMES;
use crate::store::text::{self, Elements, Kind, Members, Read, Span, Unreadable};
use crate::store::{shape, ColumnView, Record, NO_HOT, NO_SHAPE};

/// A filter compiled for evaluation on stored text (see the module documentation).
#[derive(Debug)]
pub(super) struct TextFilter {
    /// The top-level keys the filter reads (attribute names, extension schema URNs); [`Node::Attr`] indexes it.
    keys: Vec<&'static str>,
    root: Node,
    reads_meta: bool,
    reads_extension: bool,
    /// `keys` resolved against each list of top-level keys of the collection scanned, by its number
    /// ([`crate::store::Record::shape`]), when first met: a filter serves the scan of one collection.
    resolved: RefCell<Vec<Option<shape::Resolved>>>,
    /// For each of `keys`, the position of the member with its name in the collection's column
    /// ([`ColumnView::names`]), when the column keeps every member the filter reads; resolved when first met.
    in_column: std::cell::OnceCell<Option<SmallVec<[usize; MAX_NAMES]>>>,
}

#[derive(Debug)]
enum Node {
    /// A verdict known without the resource (a path the resource type does not define, RFC 7644 §3.4.2.2).
    Const(bool),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// A test of the top-level member `keys[key]`, or of attribute `inner` inside that extension's object.
    Attr {
        key: usize,
        inner: Option<&'static str>,
        test: AttrTest,
    },
}

#[derive(Debug)]
enum AttrTest {
    /// `attr[.sub] op value`: the leaves under `sub` (each element's, for a multi-valued attribute).
    Compare { sub: Option<&'static str>, leaf: Leaf },
    /// `attr[.sub] pr`.
    Present { sub: Option<&'static str> },
    /// `attr[filter]`: some element of the (complex) attribute satisfies `filter`.
    ValuePath(Elem),
}

/// A value filter (RFC 7644 §3.4.2.2 `valFilter`) over one element of a complex attribute.
#[derive(Debug)]
enum Elem {
    Const(bool),
    And(Box<Elem>, Box<Elem>),
    Or(Box<Elem>, Box<Elem>),
    Not(Box<Elem>),
    Compare { name: &'static str, leaf: Leaf },
    Present { name: &'static str },
}

/// One comparison `op value` against an attribute's leaves, typed by the attribute's definition.
#[derive(Debug)]
struct Leaf {
    op: CompareOp,
    test: LeafTest,
    /// For `eq`, `co`, `sw` and `ew` with a string value whose lowercase is ASCII and not empty: that lowercase,
    /// which the stored bytes of any leaf that matches must hold (see [`screenable`]).
    needle: Option<Box<[u8]>>,
}

#[derive(Debug)]
enum LeafTest {
    /// `eq null` / `ne null`: whether there is a leaf at all.
    Null,
    /// A string, reference or binary attribute and a string value; `lower` is the value's Unicode lowercase.
    Str { value: String, lower: String, case_exact: bool },
    /// A boolean attribute; the value as a SCIM boolean (`None`: never equal).
    Bool(Option<bool>),
    /// A string attribute and a value that is not a string: no leaf compares.
    Never,
}

impl TextFilter {
    /// `filter` compiled for resources of type `rt`, or `None` when it has a comparison this module leaves to
    /// the plain evaluator (see the module documentation).
    pub(super) fn of(filter: &Filter, rt: &ResourceType) -> Option<TextFilter> {
        let mut tf = TextFilter {
            keys: Vec::new(),
            root: Node::Const(false),
            reads_meta: false,
            reads_extension: false,
            resolved: RefCell::new(Vec::new()),
            in_column: std::cell::OnceCell::new(),
        };
        tf.root = tf.node(filter, rt)?;
        Some(tf)
    }

    fn node(&mut self, filter: &Filter, rt: &ResourceType) -> Option<Node> {
        let (path, test) = match filter {
            Filter::And(a, b) => return Some(Node::And(Box::new(self.node(a, rt)?), Box::new(self.node(b, rt)?))),
            Filter::Or(a, b) => return Some(Node::Or(Box::new(self.node(a, rt)?), Box::new(self.node(b, rt)?))),
            Filter::Not(inner) => return Some(Node::Not(Box::new(self.node(inner, rt)?))),
            Filter::Compare { path, op, value } => {
                let Some(res) = rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) else {
                    return Some(Node::Const(false));
                };
                let Some((def, sub)) = filter::comparison_target(&res) else {
                    return Some(Node::Const(filter::compare_leaves(res.leaf(), &[], *op, value)));
                };
                (res, AttrTest::Compare { sub, leaf: Leaf::of(def, *op, value)? })
            }
            Filter::Present(path) => match rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) {
                Some(res) => (res, AttrTest::Present { sub: res.sub.map(|s| s.name) }),
                None => return Some(Node::Const(false)),
            },
            Filter::ValuePath { path, filter } => {
                let res = match rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) {
                    Some(res) if path.sub.is_none() && res.attr.is_complex() => res,
                    _ => return Some(Node::Const(false)),
                };
                (res, AttrTest::ValuePath(Elem::of(filter, res.attr)?))
            }
        };
        let key_name = path.extension.map_or(path.attr.name, |ext| ext.id);
        let key = match self.keys.iter().position(|k| k.eq_ignore_ascii_case(key_name)) {
            Some(i) => i,
            None => {
                self.keys.push(key_name);
                self.keys.len() - 1
            }
        };
        self.reads_meta |= key_name.eq_ignore_ascii_case("meta");
        self.reads_extension |= path.extension.is_some();
        Some(Node::Attr { key, inner: path.extension.map(|_| path.attr.name), test })
    }

    /// Whether `rec` matches, read from its text; [`Unreadable`] when only the parsed resource can tell (see
    /// the module documentation). `extension_urn` gives the schema URN of the extension rendering adds to this
    /// record (the portal's, for a user), asked only when the filter reads an extension.
    #[cfg(test)]
    pub(super) fn matches(&self, rec: &Record, extension_urn: impl FnOnce() -> Option<&'static str>) -> Read<bool> {
        self.matches_in(rec, |_| None, None, extension_urn)
    }

    /// [`TextFilter::matches`] for a record of a collection whose lists of top-level keys `shape_keys` gives
    /// ([`crate::store::Store::shape_keys`]): the members the filter reads are found through the record's
    /// list, resolved once per list, and no other key of the text is read. With the collection's `column`
    /// (module `hot` of the store) keeping every member the filter reads, a record that has an entry there is
    /// read from its entry — the same bytes as in its text, in one buffer the scan walks in order — and its
    /// text is not read at all.
    pub(super) fn matches_in<'s>(
        &self,
        rec: &Record,
        shape_keys: impl FnOnce(u32) -> Option<&'s [u8]>,
        column: Option<ColumnView<'_>>,
        extension_urn: impl FnOnce() -> Option<&'static str>,
    ) -> Read<bool> {
        let table = rec.member_table();
        if !table.is_usable() || (self.reads_meta && rec.touched.is_some()) {
            return Err(Unreadable);
        }
        if self.reads_extension {
            if let Some(urn) = extension_urn() {
                if self.keys.iter().any(|k| k.eq_ignore_ascii_case(urn)) {
                    return Err(Unreadable);
                }
            }
        }
        let mut at: SmallVec<[Option<Span>; 8]> = SmallVec::from_elem(None, self.keys.len());
        if let Some(column) = column.filter(|_| rec.hot() != NO_HOT) {
            if let Some(picks) = self.in_column.get_or_init(|| self.column_picks(column.names)) {
                let mut spans = [None; MAX_NAMES];
                let spans = &mut spans[..column.names.len().min(MAX_NAMES)];
                if let Some((entry, plain)) = column.entry(rec.hot(), spans) {
                    for (slot, &pick) in at.iter_mut().zip(picks) {
                        *slot = spans[pick];
                    }
                    return Doc { text: entry, at: &at, plain }.eval(&self.root);
                }
            }
        }
        let shape = rec.shape() as usize;
        let mut resolved = self.resolved.borrow_mut();
        if resolved.get(shape).is_none_or(Option::is_none) {
            if let Some(keys) = (rec.shape() != NO_SHAPE).then(|| shape_keys(rec.shape())).flatten() {
                if resolved.len() <= shape {
                    resolved.resize_with(shape + 1, || None);
                }
                resolved[shape] = Some(shape::resolve(keys, &self.keys));
            }
        }
        match resolved.get(shape).and_then(Option::as_ref) {
            Some(Ok(picks)) => table.find_resolved(&rec.body, picks, &mut at)?,
            Some(Err(e)) => return Err(*e),
            None => table.find(&rec.body, &self.keys, &mut at)?,
        }
        drop(resolved);
        let doc = Doc { text: &rec.body, at: &at, plain: false };
        doc.eval(&self.root)
    }

    /// For each of `keys`, the one column name equal to it up to ASCII case (RFC 7643 §2.1); `None` when the
    /// column does not keep one of them.
    fn column_picks(&self, names: &[&str]) -> Option<SmallVec<[usize; MAX_NAMES]>> {
        self.keys.iter().map(|k| names.iter().position(|n| n.eq_ignore_ascii_case(k))).collect()
    }
}

impl State {
    /// [`TextFilter::matches`] for a record of `kind` in this directory, the portal's user extension included.
    pub(super) fn text_matches(&self, kind: ResourceKind, rec: &Record, tf: &TextFilter) -> Read<bool> {
        tf.matches_in(
            rec,
            |shape| self.store.shape_keys(kind, shape),
            self.store.column(kind),
            || match kind {
                ResourceKind::User => self.hooks.as_ref().and_then(|h| h.user_extension(rec.id)).map(|(urn, _)| urn),
                ResourceKind::Group => None,
            },
        )
    }
}

use super::State;

impl Leaf {
    fn of(def: &AttrDef, op: CompareOp, value: &Value) -> Option<Leaf> {
        let test = match (value, def.ty) {
            (Value::Null, _) => LeafTest::Null,
            (_, AttrType::Boolean) => LeafTest::Bool(crate::values::scim_boolean(value)),
            (Value::String(s), AttrType::String | AttrType::Reference | AttrType::Binary) => {
                LeafTest::Str { value: s.clone(), lower: s.to_lowercase(), case_exact: def.case_exact }
            }
            (_, AttrType::String | AttrType::Reference | AttrType::Binary) => LeafTest::Never,
            _ => return None,
        };
        let needle = match (&test, op) {
            (LeafTest::Str { lower, .. }, CompareOp::Eq | CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                if lower.is_ascii() && !lower.is_empty() =>
            {
                Some(lower.as_bytes().into())
            }
            _ => None,
        };
        Some(Leaf { op, test, needle })
    }

    /// False when no leaf in `span` (stored bytes that [`screenable`] accepted) can satisfy this comparison.
    fn possible(&self, span: &[u8]) -> bool {
        self.needle.as_ref().is_none_or(|needle| contains_lowered(span, needle))
    }
}

impl Elem {
    fn of(filter: &Filter, parent: &AttrDef) -> Option<Elem> {
        Some(match filter {
            Filter::And(a, b) => {
                let (a, b) = (Elem::of(a, parent)?, Elem::of(b, parent)?);
                // The side with the longer needle first: see [`Elem::possible`].
                match b.longest_needle() > a.longest_needle() {
                    true => Elem::And(Box::new(b), Box::new(a)),
                    false => Elem::And(Box::new(a), Box::new(b)),
                }
            }
            Filter::Or(a, b) => Elem::Or(Box::new(Elem::of(a, parent)?), Box::new(Elem::of(b, parent)?)),
            Filter::Not(inner) => Elem::Not(Box::new(Elem::of(inner, parent)?)),
            Filter::Compare { path, op, value } => match filter::element_def(path, parent) {
                Some(def) => Elem::Compare { name: def.name, leaf: Leaf::of(def, *op, value)? },
                None => Elem::Const(false),
            },
            Filter::Present(path) => match filter::element_def(path, parent) {
                Some(def) => Elem::Present { name: def.name },
                None => Elem::Const(false),
            },
            Filter::ValuePath { .. } => Elem::Const(false),
        })
    }

    /// False when no element in `span` (stored bytes that [`screenable`] accepted) can satisfy this value
    /// filter: a comparison whose needle the bytes lack is false for every element, and `and`/`or` follow;
    /// `not`, `pr` and comparisons without a needle may hold anywhere. An `and` is compiled with the side
    /// with the longer needle first ([`Elem::of`]): a longer needle is the likelier to be absent, which settles
    /// the `and` without the other search (the answer, and the element's verdict, are the same either way).
    fn possible(&self, span: &[u8]) -> bool {
        match self {
            Elem::Const(v) => *v,
            Elem::And(a, b) => a.possible(span) && b.possible(span),
            Elem::Or(a, b) => a.possible(span) || b.possible(span),
            Elem::Not(_) | Elem::Present { .. } => true,
            Elem::Compare { leaf, .. } => leaf.possible(span),
        }
    }

    /// The length of the longest needle [`Elem::possible`] may search for (0: none).
    fn longest_needle(&self) -> usize {
        match self {
            Elem::And(a, b) | Elem::Or(a, b) => a.longest_needle().max(b.longest_needle()),
            Elem::Compare { leaf, .. } => leaf.needle.as_ref().map_or(0, |n| n.len()),
            Elem::Const(_) | Elem::Not(_) | Elem::Present { .. } => 0,
        }
    }
}

impl AttrTest {
    /// False when the test cannot hold for the member whose stored bytes are `span`, judged from those bytes
    /// alone without walking them: a comparison (or every comparison a value filter needs) whose needle they
    /// lack. `ne` and `pr` are never judged here. `plain`: the bytes are known [`screenable`].
    fn possible(&self, span: &[u8], plain: bool) -> bool {
        match self {
            // The needles first: when the bytes hold them, the screen is not needed.
            AttrTest::Compare { leaf, .. } => leaf.possible(span) || !(plain || screenable(span)),
            AttrTest::ValuePath(elem) => elem.possible(span) || !(plain || screenable(span)),
            AttrTest::Present { .. } => true,
        }
    }
}

/// Whether a comparison's needle can be looked for in `span`'s stored bytes instead of in its decoded,
/// lowercased strings: true when they hold no escape (`\`) and neither of the two characters whose lowercase
/// is ASCII, U+212A KELVIN SIGN (`E2 84 AA`, lowercase `k`) and U+0130 (`C4 B0`, lowercase `i` and U+0307)
/// — checked by their lead bytes. Then every string in the bytes is itself, and the ASCII characters of its
/// lowercase (`str::to_lowercase`, RFC 7644 §3.4.2.2 with `caseExact` false) are its own ASCII characters
/// lowercased, in order, with nothing between them removed: a string whose lowercase holds an ASCII needle
/// holds it up to ASCII case, and so do the bytes (a `caseExact` comparison, which needs the exact bytes,
/// too).
fn screenable(span: &[u8]) -> bool {
    crate::store::hot::plain(span)
}

/// An object's members: key as in the text, where the value starts.
type ElementMembers<'a> = SmallVec<[(&'a [u8], usize); 8]>;

/// One element of a multi-valued attribute, read once for every test of a value filter.
struct Element<'a, 'm> {
    at: usize,
    kind: Kind,
    members: &'m [(&'a [u8], usize)],
    /// The offset after the element.
    end: usize,
}

/// One record's text and where the filter's top-level members are in it.
struct Doc<'a> {
    text: &'a str,
    at: &'a [Option<Span>],
    /// Whether every member's bytes are known [`screenable`] (a column entry judged when written).
    plain: bool,
}

impl Doc<'_> {
    fn b(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn eval(&self, node: &Node) -> Read<bool> {
        match node {
            Node::Const(v) => Ok(*v),
            Node::And(a, b) => Ok(self.eval(a)? && self.eval(b)?),
            Node::Or(a, b) => Ok(self.eval(a)? || self.eval(b)?),
            Node::Not(inner) => Ok(!self.eval(inner)?),
            Node::Attr { key, inner, test } => {
                if let Some(span) = self.at[*key] {
                    // The member's bytes alone may show that the test fails, without walking its tokens.
                    if !test.possible(self.b().get(span.value..span.end).ok_or(Unreadable)?, self.plain) {
                        return Ok(false);
                    }
                }
                let mut raw = self.at[*key].map(|span| span.value);
                if let (Some(name), Some(container)) = (inner, raw) {
                    raw = match text::kind(self.b(), container)? {
                        Kind::Object => self.get_ci(container, name)?,
                        _ => None,
                    };
                }
                let raw = match raw {
                    Some(at) if text::kind(self.b(), at)? != Kind::Null => Some(at),
                    _ => None,
                };
                match test {
                    AttrTest::Compare { sub, leaf } => self.compare(raw, *sub, leaf),
                    AttrTest::Present { sub: Some(sub) } => {
                        self.any_leaf(raw, Some(sub), &mut |at| self.is_present(at))
                    }
                    AttrTest::Present { sub: None } => raw.map_or(Ok(false), |at| self.is_present(at)),
                    AttrTest::ValuePath(elem) => match raw {
                        None => Ok(false),
                        Some(at) if text::kind(self.b(), at)? == Kind::Array => self.any_element(at, elem),
                        Some(at) => {
                            let mut members = SmallVec::new();
                            self.elem(elem, &self.element(at, &mut members)?)
                        }
                    },
                }
            }
        }
    }

    /// Whether some element of the array at `at` satisfies `elem`; each element is read once.
    fn any_element(&self, at: usize, elem: &Elem) -> Read<bool> {
        let b = self.b();
        let mut i = text::ws(b, at + 1);
        if b.get(i) == Some(&b']') {
            return Ok(false);
        }
        let mut members = SmallVec::new();
        loop {
            let el = self.element(i, &mut members)?;
            if self.elem(elem, &el)? {
                return Ok(true);
            }
            let after = text::ws(b, el.end);
            match b.get(after) {
                Some(b',') => i = text::ws(b, after + 1),
                Some(b']') => return Ok(false),
                _ => return Err(Unreadable),
            }
        }
    }

    /// The element at `at`, its members (when an object) read in one pass into `members`.
    fn element<'s, 'm>(&'s self, at: usize, members: &'m mut ElementMembers<'s>) -> Read<Element<'s, 'm>> {
        members.clear();
        let kind = text::kind(self.b(), at)?;
        if kind != Kind::Object {
            return Ok(Element { at, kind, members, end: text::value_end(self.b(), at)? });
        }
        let mut reader = Members::new(self.b(), at)?;
        while let Some(m) = reader.next_member()? {
            if m.escaped {
                return Err(Unreadable);
            }
            members.push((m.key, m.value));
        }
        Ok(Element { at, kind, members, end: reader.end() })
    }

    /// `matches_element`: a value filter against the element `el`.
    fn elem(&self, elem: &Elem, el: &Element) -> Read<bool> {
        match elem {
            Elem::Const(v) => Ok(*v),
            Elem::And(a, b) => Ok(self.elem(a, el)? && self.elem(b, el)?),
            Elem::Or(a, b) => Ok(self.elem(a, el)? || self.elem(b, el)?),
            Elem::Not(inner) => Ok(!self.elem(inner, el)?),
            Elem::Compare { name, leaf } => self.compare(self.element_member(el, name)?, None, leaf),
            Elem::Present { name } => self.element_member(el, name)?.map_or(Ok(false), |at| self.is_present(at)),
        }
    }

    /// [`Doc::element_get`] on an element already read.
    fn element_member(&self, el: &Element, name: &str) -> Read<Option<usize>> {
        Ok(match el.kind {
            Kind::Object => {
                let mut found = None;
                for (key, value) in el.members {
                    if key.eq_ignore_ascii_case(name.as_bytes()) && found.replace(*value).is_some() {
                        return Err(Unreadable);
                    }
                }
                match found {
                    Some(v) if text::kind(self.b(), v)? != Kind::Null => Some(v),
                    _ => None,
                }
            }
            Kind::Null | Kind::Array => None,
            _ if name.eq_ignore_ascii_case("value") => Some(el.at),
            _ => None,
        })
    }

    /// `compare_leaves`: `ne` is "no leaf equal", `eq null` "no leaf", the other operators "some leaf".
    fn compare(&self, raw: Option<usize>, sub: Option<&str>, leaf: &Leaf) -> Read<bool> {
        match (&leaf.test, leaf.op) {
            (LeafTest::Null, CompareOp::Eq) => Ok(!self.any_leaf(raw, sub, &mut |_| Ok(true))?),
            (LeafTest::Null, CompareOp::Ne) => self.any_leaf(raw, sub, &mut |_| Ok(true)),
            (LeafTest::Null, _) => Ok(false),
            (test, CompareOp::Ne) => Ok(!self.any_leaf(raw, sub, &mut |at| self.one(test, CompareOp::Eq, at))?),
            (test, op) => self.any_leaf(raw, sub, &mut |at| self.one(test, op, at)),
        }
    }

    /// `compare_one` on the leaf at `at` (never `null`).
    fn one(&self, test: &LeafTest, op: CompareOp, at: usize) -> Read<bool> {
        match test {
            LeafTest::Null | LeafTest::Never => Ok(false),
            LeafTest::Bool(want) => {
                let got = match text::kind(self.b(), at)? {
                    Kind::True => Some(true),
                    Kind::False => Some(false),
                    Kind::String => {
                        crate::values::scim_boolean(&Value::String(text::string_at(self.text, at)?.into_owned()))
                    }
                    _ => None,
                };
                Ok(match (got, want) {
                    (Some(a), Some(b)) => match op {
                        CompareOp::Eq => a == *b,
                        CompareOp::Ne => a != *b,
                        _ => false,
                    },
                    _ => false,
                })
            }
            LeafTest::Str { value, lower, case_exact } => {
                if text::kind(self.b(), at)? != Kind::String {
                    return Ok(false);
                }
                let s = text::string_at(self.text, at)?;
                Ok(string_test(&s, value, lower, *case_exact, op))
            }
        }
    }

    /// Whether `f` holds for some leaf of `raw` (`collect_leaves`): with `sub`, that sub-attribute of each
    /// element (or of the single complex value); without, the value itself or each element of an array;
    /// `null`s are no leaves.
    fn any_leaf(&self, raw: Option<usize>, sub: Option<&str>, f: &mut dyn FnMut(usize) -> Read<bool>) -> Read<bool> {
        let Some(raw) = raw else { return Ok(false) };
        match sub {
            None => self.any_flat(raw, f),
            Some(sub) if text::kind(self.b(), raw)? == Kind::Array => {
                let mut els = Elements::new(self.b(), raw)?;
                while let Some(el) = els.next_element()? {
                    if let Some(v) = self.element_get(el, sub)? {
                        if self.any_flat(v, f)? {
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            }
            Some(sub) => match self.element_get(raw, sub)? {
                Some(v) => self.any_flat(v, f),
                None => Ok(false),
            },
        }
    }

    /// `push_flat`: the value at `at`, or each non-null element when it is an array; nothing for `null`.
    fn any_flat(&self, at: usize, f: &mut dyn FnMut(usize) -> Read<bool>) -> Read<bool> {
        match text::kind(self.b(), at)? {
            Kind::Null => Ok(false),
            Kind::Array => {
                let mut els = Elements::new(self.b(), at)?;
                while let Some(el) = els.next_element()? {
                    if text::kind(self.b(), el)? != Kind::Null && f(el)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => f(at),
        }
    }

    /// `element_get`: a sub-attribute of an element; a plain value stands for `{"value": v}`.
    fn element_get(&self, el: usize, name: &str) -> Read<Option<usize>> {
        Ok(match text::kind(self.b(), el)? {
            Kind::Object => match self.get_ci(el, name)? {
                Some(v) if text::kind(self.b(), v)? != Kind::Null => Some(v),
                _ => None,
            },
            Kind::Null | Kind::Array => None,
            _ if name.eq_ignore_ascii_case("value") => Some(el),
            _ => None,
        })
    }

    /// `get_ci` in the object at `obj` (RFC 7643 §2.1): the one member whose key equals `name` up to ASCII
    /// case. Two such keys, or a key with escapes, are [`Unreadable`]: which one the parsed map answers
    /// depends on its order.
    fn get_ci(&self, obj: usize, name: &str) -> Read<Option<usize>> {
        let mut members = Members::new(self.b(), obj)?;
        let mut found = None;
        while let Some(m) = members.next_member()? {
            if m.escaped {
                return Err(Unreadable);
            }
            if m.key.eq_ignore_ascii_case(name.as_bytes()) && found.replace(m.value).is_some() {
                return Err(Unreadable);
            }
        }
        Ok(found)
    }

    /// `is_present` (RFC 7644 §3.4.2.2 `pr`): an array when one of its elements is present, an object when
    /// one of its members is non-empty, anything else when non-empty.
    fn is_present(&self, at: usize) -> Read<bool> {
        if text::kind(self.b(), at)? == Kind::Array {
            let mut els = Elements::new(self.b(), at)?;
            while let Some(el) = els.next_element()? {
                if self.is_present_element(el)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        self.is_present_element(at)
    }

    fn is_present_element(&self, at: usize) -> Read<bool> {
        if text::kind(self.b(), at)? != Kind::Object {
            return self.is_non_empty(at);
        }
        // The parsed map keeps one value per key: with repeated keys, which one depends on the parser.
        let mut seen: SmallVec<[&[u8]; 8]> = SmallVec::new();
        let mut any = false;
        let mut members = Members::new(self.b(), at)?;
        while let Some(m) = members.next_member()? {
            if m.escaped || seen.contains(&m.key) {
                return Err(Unreadable);
            }
            seen.push(m.key);
            any = any || self.is_non_empty(m.value)?;
        }
        Ok(any)
    }

    fn is_non_empty(&self, at: usize) -> Read<bool> {
        let b = self.b();
        Ok(match text::kind(b, at)? {
            Kind::Null => false,
            Kind::String => b.get(at + 1) != Some(&b'"'),
            Kind::Array | Kind::Object => !matches!(b.get(text::ws(b, at + 1)), Some(b']' | b'}')),
            Kind::True | Kind::False | Kind::Number => true,
        })
    }
}

thread_local! {
    /// The lowercase of the last non-ASCII value compared, reused (see [`string_test`]).
    static LOWERED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// `string_op` (RFC 7644 §3.4.2.2 string operators; Unicode lowercase unless `caseExact`): on ASCII text
/// without allocating, where ASCII and Unicode lowercase agree; otherwise by [`filter::string_op`] itself.
/// A value whose lowercase is ASCII is compared in place with text that is [`screenable`] too, ASCII or
/// not: the lowercase of such text keeps its ASCII characters (lowercased, in order) and turns every other
/// character into non-ASCII ones, so an ASCII value is equal to it, starts or ends it, or occurs in it
/// exactly where it does in the bytes up to ASCII case.
fn string_test(s: &str, value: &str, lower: &str, case_exact: bool, op: CompareOp) -> bool {
    if case_exact {
        return filter::string_op(s, value, op, case_exact);
    }
    let in_place = s.is_ascii() || (lower.is_ascii() && screenable(s.as_bytes()));
    if !in_place {
        // `str::to_lowercase` is `char::to_lowercase` on each character but for the final-sigma rule of `Σ`;
        // without one, lowercase into a buffer kept per thread instead of a new string per value.
        if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) && !s.contains('Σ') {
            return LOWERED.with_borrow_mut(|buf| {
                buf.clear();
                buf.extend(s.chars().flat_map(char::to_lowercase));
                match op {
                    CompareOp::Co => buf.contains(lower),
                    CompareOp::Sw => buf.starts_with(lower),
                    _ => buf.ends_with(lower),
                }
            });
        }
        return filter::string_op(s, value, op, case_exact);
    }
    let (s, lower) = (s.as_bytes(), lower.as_bytes());
    let eq = |a: &[u8]| a.len() == lower.len() && a.iter().zip(lower).all(|(x, y)| x.to_ascii_lowercase() == *y);
    match op {
        CompareOp::Eq => eq(s),
        CompareOp::Sw => s.len() >= lower.len() && eq(&s[..lower.len()]),
        CompareOp::Ew => s.len() >= lower.len() && eq(&s[s.len() - lower.len()..]),
        CompareOp::Co => contains_lowered(s, lower),
        _ => filter::string_op(std::str::from_utf8(s).unwrap_or_default(), value, op, case_exact),
    }
}

/// Whether `s` (ASCII), lowercased, contains `lower` (ASCII lowercase). The members a scan screens are a few
/// dozen bytes: rather than a vector search per needle byte (whose setup costs more than such a member), the
/// candidates are found eight positions at a time in a register, where the first two bytes equal the
/// needle's once bit `0x20` is set on both sides — which ASCII lowercasing implies (it sets that bit of a
/// letter and changes no other byte) — and each candidate is then compared in full.
fn contains_lowered(s: &[u8], lower: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    const FOLD: u64 = u64::from_le_bytes([0x20; 8]);
    let n = lower.len();
    let (Some(&first), Some(&second)) = (lower.first(), lower.get(1)) else {
        return lower.first().is_none_or(|&c| memchr::memchr2(c, c.to_ascii_uppercase(), s).is_some());
    };
    let Some(last) = s.len().checked_sub(n) else { return false };
    let at = |i: usize| s[i..i + n].iter().zip(lower).all(|(x, y)| x.to_ascii_lowercase() == *y);
    let word = |i: usize| s.get(i..i + 8).and_then(|w| w.try_into().ok()).map_or(0, u64::from_le_bytes);
    let (c0, c1) = (ONES * u64::from(first | 0x20), ONES * u64::from(second | 0x20));
    // Whether a window starting at one of the positions i..i + 8 holds the needle (s[i..i + 9] in bounds).
    let eight = |i: usize| {
        let x = ((word(i) | FOLD) ^ c0) | ((word(i + 1) | FOLD) ^ c1);
        // The high bit of every zero byte of `x` (and maybe of a byte above one: the candidates are checked).
        let mut found = x.wrapping_sub(ONES) & !x & HIGH;
        while found != 0 {
            if at(i + (found.trailing_zeros() / 8) as usize) {
                return true;
            }
            found &= found - 1;
        }
        false
    };
    if last < 8 {
        return (0..=last).any(at);
    }
    // Positions i..i + 8 all start a window (i + 8 <= last + 1), and s[i + 1..i + 9] is in bounds (n >= 2);
    // the last eight positions once more, overlapping, for what is left.
    let mut i = 0;
    while i + 8 <= last + 1 {
        if eight(i) {
            return true;
        }
        i += 8;
    }
    i <= last && eight(last - 7)
}

#[cfg(test)]
mod tests;
