//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): parser and evaluator.
//!
//! Parsing is bounded: nesting deeper than [`MAX_DEPTH`] is rejected before any recursion can exhaust the stack.
//! Chains of `and`/`or` are built as balanced trees, so even a very long flat chain yields a shallow tree and
//! evaluation, cloning and dropping never recurse deeply.
//!
//! Evaluation semantics (where RFC 7644 §3.4.2.2 leaves room):
//! - an absent or `null` attribute matches no operator except `ne` (`ne` is the negation of `eq`);
//! - on a multi-valued attribute an operator matches when any value matches, except `ne`, which matches
//!   when no value is equal;
//! - `attr eq null` matches when `attr` is not present, `attr ne null` when it is;
//! - `pr` means present and not null, not `""`, not `[]` and not `{}`;
//! - a multi-valued (or single-valued) complex attribute compared without a sub-attribute compares its
//!   `value` sub-attribute;
//! - strings honour `caseExact`; dateTimes compare as instants when both sides parse as RFC 3339;
//!   booleans also accept the strings `"true"`/`"false"` in any case; numbers compare exactly;
//!   any other type mismatch is no match.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde_json::{Number, Value};

use crate::error::ScimError;
use crate::schema::{AttrDef, AttrType, Resolved, ResourceType, GROUP_URN, USER_URN};

/// The deepest nesting of parentheses, `not(...)` and value paths a filter may have.
pub const MAX_DEPTH: usize = 64;

/// The longest filter accepted, in bytes (after URL decoding). Longer filters are 400 `invalidFilter` before
/// any parsing (RFC 7644 §3.4.2.2 leaves filter size to the service provider; §3.12 `invalidFilter`): an
/// 830 KB filter of 40,000 `or` terms used to hold about 16 MB per request while it was evaluated.
pub const MAX_FILTER_LEN: usize = 16 * 1024;

/// The most attribute expressions (`attr op value`, `attr pr`, each inside a value path included) one filter
/// may have. Every expression is evaluated against every resource a scan visits, so this bounds the work per
/// resource; longer filters are 400 `invalidFilter`.
pub const MAX_FILTER_TERMS: usize = 256;

/// An attribute path `[urn ":"] name ["." sub]` (RFC 7644 §3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

/// Comparison operators (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value: a JSON string, number, boolean or null (RFC 7644 §3.4.2.2 `compValue`).
pub type CompValue = Value;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath compareOp compValue`
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attrPath pr`
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath "[" valFilter "]"`: the inner filter is evaluated against each element of the
    /// multi-valued attribute, with paths relative to the element.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A PATCH path (RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (possibly URN-qualified, possibly with `.sub` when no value filter is present).
    pub attr: AttrPath,
    /// The value filter selecting elements of a multi-valued attribute, e.g. `[type eq "work"]`.
    pub value_filter: Option<Filter>,
    /// The sub-attribute after a value filter, e.g. `.value` in `emails[type eq "work"].value`.
    pub sub_attr: Option<String>,
}

/// A parse error with the byte position where it was detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl FilterError {
    /// As a 400 `invalidFilter` error (for `filter` parameters).
    pub fn into_filter_error(self) -> ScimError {
        ScimError::InvalidFilter(format!("{} at position {}", self.message, self.position))
    }
    /// As a 400 `invalidPath` error (for PATCH paths).
    pub fn into_path_error(self) -> ScimError {
        ScimError::InvalidPath(format!("{} at position {}", self.message, self.position))
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

impl std::error::Error for FilterError {}

impl fmt::Display for AttrPath {
    /// Renders the path as written in a filter: `[urn:]name[.sub]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl CompareOp {
    /// The operator's keyword as written in a filter (RFC 7644 §3.4.2.2, Table 3).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Parses an operator keyword, case-insensitively (RFC 7644 §3.4.2.2).
    fn from_keyword(word: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter().find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// True for the ordering operators `gt`, `ge`, `lt`, `le`.
    fn is_ordering(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------

/// Parses a filter (RFC 7644 §3.4.2.2).
///
/// Grammar (ABNF of RFC 7644 §3.4.2.2, with tolerated extensions):
/// `FILTER = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"`; operators and the keywords
/// `and`, `or`, `not`, `pr`, `true`, `false`, `null` are case-insensitive; precedence is
/// `not` > `and` > `or`. Extensions: an unquoted value that is neither a keyword nor a number is read as
/// a string (`externalId eq jyoung`, sent by Microsoft Entra ID), and `emails[type eq "work"].value eq "x"`
/// is read as `emails[type eq "work" and value eq "x"]` (likewise with `pr`).
///
/// Nesting deeper than [`MAX_DEPTH`] is an error, detected before recursing: each `(`, each `not (`
/// (one level with its parentheses) and each value path `[` opens a level. Long flat `and`/`or` chains
/// are built as balanced trees. The input must already be URL-decoded. An empty filter is an error, and so is
/// one longer than [`MAX_FILTER_LEN`] bytes or with more than [`MAX_FILTER_TERMS`] attribute expressions.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(FilterError {
            position: MAX_FILTER_LEN,
            message: format!("the filter is {} bytes long; this server accepts at most {MAX_FILTER_LEN}", input.len()),
        });
    }
    let mut p = Parser::new(input);
    p.skip_ws();
    if p.at_end() {
        return Err(p.error(p.pos, "empty filter"));
    }
    let filter = p.parse_or(0, false)?;
    p.finish("filter")?;
    Ok(filter)
}

/// Parses a PATCH path (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`, e.g. `name.givenName`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, `members[value eq "2819c223"]`
/// or `emails[type eq "work"].value`.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    if p.at_end() {
        return Err(p.error(p.pos, "empty path"));
    }
    let attr = p.parse_attr_path_token()?;
    let mut value_filter = None;
    let mut sub_attr = None;
    p.skip_ws();
    if p.peek() == Some(b'[') {
        let open = p.pos;
        if attr.sub.is_some() {
            return Err(p.error(open, format!("a value filter cannot follow the sub-attribute path '{attr}'")));
        }
        p.pos += 1;
        let inner = p.parse_or(1, true)?;
        p.expect_close(b']', b'[', open)?;
        value_filter = Some(inner);
        if p.peek() == Some(b'.') {
            p.pos += 1;
            sub_attr = Some(p.parse_name()?);
        }
    }
    p.finish("path")?;
    Ok(PatchPath { attr, value_filter, sub_attr })
}

/// Parses an attribute path `[urn ":"] name ["." sub]` (RFC 7644 §3.10) as used by the `attributes`,
/// `excludedAttributes` and `sortBy` parameters (RFC 7644 §3.4.2.3, §3.4.2.5). The URN is split from the
/// name at the last `:`, so `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` has the URN
/// `urn:ietf:params:scim:schemas:core:2.0:User`, the name `name` and the sub-attribute `givenName`.
pub fn parse_attr_path(input: &str) -> Result<AttrPath, FilterError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    if p.at_end() {
        return Err(p.error(p.pos, "empty attribute path"));
    }
    let path = p.parse_attr_path_token()?;
    p.finish("attribute path")?;
    Ok(path)
}

/// Characters of an attribute path token: `urn:...:name.sub`, including `$ref`.
fn is_path_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$' | b'.' | b':')
}

/// Characters of an attribute name (RFC 7643 §2.1 `nameChar`, plus `$` for `$ref`).
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'$')
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Words that can never be a bare (unquoted) comparison value.
fn is_reserved_word(word: &str) -> bool {
    ["and", "or", "not", "pr"].iter().any(|k| k.eq_ignore_ascii_case(word)) || CompareOp::from_keyword(word).is_some()
}

/// Validates an attribute name: `ALPHA *(nameChar)`, or a name starting with `$` such as `$ref`.
fn check_name(name: &str, position: usize) -> Result<(), FilterError> {
    let valid = match name.as_bytes().first() {
        Some(&first) => (first.is_ascii_alphabetic() || first == b'$') && name.bytes().all(is_name_char),
        None => false,
    };
    if valid {
        Ok(())
    } else if name.is_empty() {
        Err(FilterError { position, message: "expected attribute name".to_string() })
    } else {
        Err(FilterError { position, message: format!("invalid attribute name '{name}'") })
    }
}

/// Splits an attribute path token into URN, name and sub-attribute; `offset` is the token's position.
fn split_attr_path(token: &str, offset: usize) -> Result<AttrPath, FilterError> {
    let (urn, rest, rest_offset) = match token.rsplit_once(':') {
        Some((urn, rest)) => {
            let is_urn = urn.len() > 4 && urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"));
            if !is_urn {
                return Err(FilterError {
                    position: offset,
                    message: format!("invalid attribute path '{token}': the schema prefix must be a URN"),
                });
            }
            (Some(urn.to_string()), rest, offset + urn.len() + 1)
        }
        None => (None, token, offset),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    check_name(name, rest_offset)?;
    if let Some(sub) = sub {
        let sub_offset = rest_offset + name.len() + 1;
        if let Some(extra) = sub.find('.') {
            return Err(FilterError {
                position: sub_offset + extra,
                message: format!("invalid attribute path '{token}': at most one sub-attribute is allowed"),
            });
        }
        check_name(sub, sub_offset)?;
    }
    Ok(AttrPath { urn, name: name.to_string(), sub: sub.map(str::to_string) })
}

/// Builds a balanced tree of `join` nodes over `terms` (left-leaning: `a and b and c` is `(a and b) and c`).
/// `and` and `or` are associative, so the shape does not change the meaning, and the tree's depth stays
/// logarithmic in the length of a flat chain.
fn balanced(mut terms: Vec<Filter>, join: fn(Box<Filter>, Box<Filter>) -> Filter) -> Option<Filter> {
    match terms.len() {
        0 => None,
        1 => terms.pop(),
        n => {
            let right = terms.split_off(n.div_ceil(2));
            let left = balanced(terms, join)?;
            let right = balanced(right, join)?;
            Some(join(Box::new(left), Box::new(right)))
        }
    }
}

/// A recursive-descent parser over the input's bytes. All delimiters are ASCII, so every position it
/// stops at is a character boundary; slicing still goes through `str::get` so no input can panic it.
struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Attribute expressions parsed so far (bounded by [`MAX_FILTER_TERMS`]).
    terms: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser { src, pos: 0, terms: 0 }
    }

    fn error(&self, position: usize, message: impl Into<String>) -> FilterError {
        FilterError { position, message: message.into() }
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Consumes bytes while `pred` holds and returns them.
    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// The path-character word starting at `pos`, without consuming it.
    fn word_at(&self, pos: usize) -> &'a str {
        let bytes = self.src.as_bytes().get(pos..).unwrap_or(&[]);
        let len = bytes.iter().take_while(|b| is_path_char(**b)).count();
        self.src.get(pos..pos + len).unwrap_or("")
    }

    /// Describes what is at `pos`, for error messages.
    fn describe(&self, pos: usize) -> String {
        match self.src.get(pos..).and_then(|s| s.chars().next()) {
            Some(c) => format!("'{c}'"),
            None => "end of input".to_string(),
        }
    }

    /// Skips whitespace and consumes `keyword` (case-insensitive, as a whole word) if it is next.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        self.skip_ws();
        let word = self.word_at(self.pos);
        if word.eq_ignore_ascii_case(keyword) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// Checks that one more level of nesting, opened at `pos`, stays within [`MAX_DEPTH`].
    fn enter(&self, depth: usize, pos: usize) -> Result<(), FilterError> {
        if depth >= MAX_DEPTH {
            Err(self.error(pos, format!("nesting deeper than {MAX_DEPTH}")))
        } else {
            Ok(())
        }
    }

    /// Consumes the closing delimiter of a group opened at `open_pos`.
    fn expect_close(&mut self, close: u8, open: u8, open_pos: usize) -> Result<(), FilterError> {
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(
                self.pos,
                format!(
                    "expected 'and', 'or' or '{}' to close '{}' at position {open_pos}, found {}",
                    close as char,
                    open as char,
                    self.describe(self.pos)
                ),
            ))
        }
    }

    /// Requires the end of the input (after optional whitespace).
    fn finish(&mut self, what: &str) -> Result<(), FilterError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(b')') => Err(self.error(self.pos, "unexpected ')'")),
            Some(b']') => Err(self.error(self.pos, "unexpected ']'")),
            Some(_) => Err(self.error(
                self.pos,
                format!("trailing input: expected 'and', 'or' or end of {what}, found {}", self.describe(self.pos)),
            )),
        }
    }

    /// `or`-separated terms (lowest precedence).
    fn parse_or(&mut self, depth: usize, in_value_filter: bool) -> Result<Filter, FilterError> {
        let mut terms = vec![self.parse_and(depth, in_value_filter)?];
        while self.eat_keyword("or") {
            terms.push(self.parse_and(depth, in_value_filter)?);
        }
        balanced(terms, Filter::Or).ok_or_else(|| self.error(self.pos, "expected expression"))
    }

    /// `and`-separated terms.
    fn parse_and(&mut self, depth: usize, in_value_filter: bool) -> Result<Filter, FilterError> {
        let mut terms = vec![self.parse_unary(depth, in_value_filter)?];
        while self.eat_keyword("and") {
            terms.push(self.parse_unary(depth, in_value_filter)?);
        }
        balanced(terms, Filter::And).ok_or_else(|| self.error(self.pos, "expected expression"))
    }

    /// `"(" FILTER ")"`, `not "(" FILTER ")"`, or an attribute expression / value path.
    fn parse_unary(&mut self, depth: usize, in_value_filter: bool) -> Result<Filter, FilterError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'(') => {
                self.enter(depth, start)?;
                self.pos += 1;
                let inner = self.parse_or(depth + 1, in_value_filter)?;
                self.expect_close(b')', b'(', start)?;
                Ok(inner)
            }
            Some(b')') => Err(self.error(start, "unexpected ')'")),
            Some(b']') => Err(self.error(start, "unexpected ']'")),
            Some(b) if is_path_char(b) => {
                let word = self.word_at(start);
                if word.eq_ignore_ascii_case("not") {
                    self.pos += word.len();
                    self.skip_ws();
                    let open = self.pos;
                    if self.peek() != Some(b'(') {
                        return Err(
                            self.error(open, format!("expected '(' after 'not', found {}", self.describe(open)))
                        );
                    }
                    self.enter(depth, open)?;
                    self.pos += 1;
                    let inner = self.parse_or(depth + 1, in_value_filter)?;
                    self.expect_close(b')', b'(', open)?;
                    return Ok(Filter::Not(Box::new(inner)));
                }
                if word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or") {
                    return Err(self.error(start, format!("expected attribute path before '{word}'")));
                }
                self.parse_attr_expr(depth, in_value_filter)
            }
            _ => {
                Err(self.error(start, format!("expected attribute path, '(' or 'not', found {}", self.describe(start))))
            }
        }
    }

    /// `attrPath SP "pr"`, `attrPath SP compareOp SP compValue` or `attrPath "[" valFilter "]"` (optionally
    /// followed by `.sub op value`, desugared into the value filter).
    fn parse_attr_expr(&mut self, depth: usize, in_value_filter: bool) -> Result<Filter, FilterError> {
        self.terms += 1;
        if self.terms > MAX_FILTER_TERMS {
            return Err(self.error(
                self.pos,
                format!("the filter has more than {MAX_FILTER_TERMS} attribute expressions; this server accepts at most {MAX_FILTER_TERMS}"),
            ));
        }
        let path = self.parse_attr_path_token()?;
        self.skip_ws();
        if self.peek() != Some(b'[') {
            return self.parse_op_and_value(path);
        }
        let open = self.pos;
        if in_value_filter {
            return Err(self.error(open, "value paths cannot be nested inside a value filter"));
        }
        if path.sub.is_some() {
            return Err(self.error(open, format!("a value filter cannot follow the sub-attribute path '{path}'")));
        }
        self.enter(depth, open)?;
        self.pos += 1;
        let inner = self.parse_or(depth + 1, true)?;
        self.expect_close(b']', b'[', open)?;
        let filter = if self.peek() == Some(b'.') {
            self.pos += 1;
            let name = self.parse_name()?;
            let tail = self.parse_op_and_value(AttrPath { urn: None, name, sub: None })?;
            Filter::And(Box::new(inner), Box::new(tail))
        } else {
            inner
        };
        Ok(Filter::ValuePath { path, filter: Box::new(filter) })
    }

    /// Reads `[urn:]name[.sub]`.
    fn parse_attr_path_token(&mut self) -> Result<AttrPath, FilterError> {
        let start = self.pos;
        let token = self.take_while(is_path_char);
        if token.is_empty() {
            return Err(self.error(start, format!("expected attribute path, found {}", self.describe(start))));
        }
        split_attr_path(token, start)
    }

    /// Reads a bare attribute name (the sub-attribute after a value filter).
    fn parse_name(&mut self) -> Result<String, FilterError> {
        let start = self.pos;
        let name = self.take_while(is_name_char);
        check_name(name, start)?;
        Ok(name.to_string())
    }

    /// After an attribute path: `pr`, or a comparison operator and its value.
    fn parse_op_and_value(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        self.skip_ws();
        let op_pos = self.pos;
        let word = self.word_at(op_pos);
        if word.eq_ignore_ascii_case("pr") {
            self.pos += word.len();
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            let found = if word.is_empty() { self.describe(op_pos) } else { format!("'{word}'") };
            return Err(
                self.error(op_pos, format!("expected comparison operator after attribute '{path}', found {found}"))
            );
        };
        self.pos += word.len();
        let value = self.parse_comp_value(op)?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `compValue = false / null / true / number / string`, plus bare strings (Entra).
    fn parse_comp_value(&mut self, op: CompareOp) -> Result<CompValue, FilterError> {
        self.skip_ws();
        let start = self.pos;
        if self.peek() == Some(b'"') {
            return self.parse_string().map(Value::String);
        }
        let token = self.take_while(|b| !is_ws(b) && !matches!(b, b'(' | b')' | b'[' | b']'));
        if token.is_empty() {
            return Err(self.error(
                start,
                format!("expected comparison value after '{}', found {}", op.as_str(), self.describe(start)),
            ));
        }
        if token.eq_ignore_ascii_case("true") {
            return Ok(Value::Bool(true));
        }
        if token.eq_ignore_ascii_case("false") {
            return Ok(Value::Bool(false));
        }
        if token.eq_ignore_ascii_case("null") {
            return Ok(Value::Null);
        }
        if token.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            if let Ok(Value::Number(n)) = serde_json::from_str::<Value>(token) {
                return Ok(Value::Number(n));
            }
        }
        if is_reserved_word(token) {
            return Err(self
                .error(start, format!("expected comparison value after '{}', found keyword '{token}'", op.as_str())));
        }
        // Tolerated quirk (Microsoft Entra ID): an unquoted value is a string.
        Ok(Value::String(token.to_string()))
    }

    /// A JSON string (RFC 8259 §7) starting at the current `"`.
    fn parse_string(&mut self) -> Result<String, FilterError> {
        let open = self.pos;
        let bytes = self.src.as_bytes();
        let mut out = String::new();
        let mut i = open + 1;
        let mut run = i;
        loop {
            match bytes.get(i) {
                None => return Err(self.error(open, "unterminated string")),
                Some(b'"') => {
                    out.push_str(self.src.get(run..i).unwrap_or(""));
                    self.pos = i + 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(self.src.get(run..i).unwrap_or(""));
                    let simple = match bytes.get(i + 1) {
                        None => return Err(self.error(open, "unterminated string")),
                        Some(b'"') => Some('"'),
                        Some(b'\\') => Some('\\'),
                        Some(b'/') => Some('/'),
                        Some(b'b') => Some('\u{8}'),
                        Some(b'f') => Some('\u{c}'),
                        Some(b'n') => Some('\n'),
                        Some(b'r') => Some('\r'),
                        Some(b't') => Some('\t'),
                        Some(b'u') => None,
                        Some(_) => return Err(self.error(i, "invalid escape sequence in string")),
                    };
                    match simple {
                        Some(c) => {
                            out.push(c);
                            i += 2;
                        }
                        None => {
                            let (c, next) = self.parse_unicode_escape(i)?;
                            out.push(c);
                            i = next;
                        }
                    }
                    run = i;
                }
                Some(_) => i += 1,
            }
        }
    }

    /// Four hex digits at `at`.
    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.src.as_bytes().get(at..at + 4)?;
        digits.iter().try_fold(0u32, |acc, b| Some(acc * 16 + (*b as char).to_digit(16)?))
    }

    /// `\uXXXX` (with a surrogate pair as two escapes) at `esc`; returns the character and the next index.
    fn parse_unicode_escape(&self, esc: usize) -> Result<(char, usize), FilterError> {
        let invalid = || self.error(esc, "invalid \\u escape in string");
        let unit = self.hex4(esc + 2).ok_or_else(invalid)?;
        let (code, next) = match unit {
            0xD800..=0xDBFF => {
                let bytes = self.src.as_bytes();
                if bytes.get(esc + 6) != Some(&b'\\') || bytes.get(esc + 7) != Some(&b'u') {
                    return Err(self.error(esc, "unpaired surrogate in \\u escape"));
                }
                let low = self.hex4(esc + 8).ok_or_else(invalid)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error(esc, "unpaired surrogate in \\u escape"));
                }
                (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), esc + 12)
            }
            0xDC00..=0xDFFF => return Err(self.error(esc, "unpaired surrogate in \\u escape")),
            _ => (unit, esc + 6),
        };
        char::from_u32(code).map(|c| (c, next)).ok_or_else(invalid)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Validation against the schema
// ---------------------------------------------------------------------------------------------------------

/// Checks a parsed filter against a resource type (RFC 7644 §3.4.2.2): every attribute must exist,
/// `gt`/`ge`/`lt`/`le` are not allowed on boolean, binary or complex attributes, a complex attribute
/// compared without a sub-attribute must have a `value` sub-attribute, and value paths must name a complex
/// attribute whose value filter only uses its sub-attributes. Every failure is a 400 `invalidFilter`
/// (RFC 7644 §3.12) naming the attribute.
pub fn validate(filter: &Filter, rt: &ResourceType) -> Result<(), ScimError> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            validate(a, rt)?;
            validate(b, rt)
        }
        Filter::Not(inner) => validate(inner, rt),
        Filter::Present(path) => resolve_checked(path, rt).map(|_| ()),
        Filter::Compare { path, op, .. } => {
            let res = resolve_checked(path, rt)?;
            check_comparison(&path.to_string(), res.leaf(), *op)
        }
        Filter::ValuePath { path, filter } => {
            if path.sub.is_some() {
                return Err(ScimError::InvalidFilter(format!(
                    "a value filter cannot follow the sub-attribute path '{path}'"
                )));
            }
            let res = resolve_checked(path, rt)?;
            if !res.attr.is_complex() {
                return Err(ScimError::InvalidFilter(format!(
                    "attribute '{path}' is not complex and cannot have a value filter"
                )));
            }
            validate_element(filter, res.attr, path)
        }
    }
}

fn resolve_checked(path: &AttrPath, rt: &ResourceType) -> Result<Resolved, ScimError> {
    rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())
        .ok_or_else(|| ScimError::InvalidFilter(format!("unknown attribute '{path}' for resource type {}", rt.name)))
}

/// Validates the inside of a value filter against the sub-attributes of `parent`.
fn validate_element(filter: &Filter, parent: &AttrDef, parent_path: &AttrPath) -> Result<(), ScimError> {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            validate_element(a, parent, parent_path)?;
            validate_element(b, parent, parent_path)
        }
        Filter::Not(inner) => validate_element(inner, parent, parent_path),
        Filter::Present(path) => element_def_checked(path, parent, parent_path).map(|_| ()),
        Filter::Compare { path, op, .. } => {
            let def = element_def_checked(path, parent, parent_path)?;
            check_comparison(&format!("{parent_path}.{}", def.name), def, *op)
        }
        Filter::ValuePath { .. } => Err(ScimError::InvalidFilter(format!(
            "value paths cannot be nested inside the value filter of '{parent_path}'"
        ))),
    }
}

fn element_def_checked(
    path: &AttrPath,
    parent: &AttrDef,
    parent_path: &AttrPath,
) -> Result<&'static AttrDef, ScimError> {
    element_def(path, parent).ok_or_else(|| {
        ScimError::InvalidFilter(format!("unknown sub-attribute '{path}' in the value filter of '{parent_path}'"))
    })
}

/// Which operators an attribute's type supports (RFC 7644 §3.4.2.2).
fn check_comparison(path: &str, def: &AttrDef, op: CompareOp) -> Result<(), ScimError> {
    if op.is_ordering() && matches!(def.ty, AttrType::Boolean | AttrType::Binary | AttrType::Complex) {
        return Err(ScimError::InvalidFilter(format!(
            "operator '{}' is not allowed on the {} attribute '{path}'",
            op.as_str(),
            def.ty.as_str()
        )));
    }
    if def.is_complex() && def.sub("value").is_none() {
        return Err(ScimError::InvalidFilter(format!(
            "attribute '{path}' is complex; compare one of its sub-attributes"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------------

/// Evaluates a filter against a whole resource (RFC 7644 §3.4.2.2): core attributes at the top level,
/// extension attributes under their schema URN key, plus `id`, `externalId` and `meta`. Names and JSON
/// keys are matched case-insensitively (RFC 7643 §2.1). See the module documentation for the semantics
/// of absent attributes, multi-valued attributes and types. A path the resource type does not define
/// never matches (run [`validate`] first to report it).
pub fn matches(filter: &Filter, resource: &Value, rt: &ResourceType) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, resource, rt) && matches(b, resource, rt),
        Filter::Or(a, b) => matches(a, resource, rt) || matches(b, resource, rt),
        Filter::Not(inner) => !matches(inner, resource, rt),
        Filter::Compare { path, op, value } => {
            let Some((res, raw)) = locate(resource, rt, path) else {
                return false;
            };
            let mut leaves = Vec::new();
            let leaf_def = match comparison_target(&res) {
                Some((def, sub)) => {
                    collect_leaves(raw, sub, &mut leaves);
                    def
                }
                None => res.leaf(),
            };
            compare_leaves(leaf_def, &leaves, *op, value)
        }
        Filter::Present(path) => {
            let Some((res, raw)) = locate(resource, rt, path) else {
                return false;
            };
            match res.sub {
                Some(sub) => {
                    let mut leaves = Vec::new();
                    collect_leaves(raw, Some(sub.name), &mut leaves);
                    leaves.into_iter().any(is_present)
                }
                None => raw.is_some_and(is_present),
            }
        }
        Filter::ValuePath { path, filter } => {
            if path.sub.is_some() {
                return false;
            }
            let Some((res, raw)) = locate(resource, rt, path) else {
                return false;
            };
            if !res.attr.is_complex() {
                return false;
            }
            match raw {
                Some(Value::Array(items)) => items.iter().any(|el| matches_element(filter, el, res.attr)),
                Some(el) => matches_element(filter, el, res.attr),
                None => false,
            }
        }
    }
}

/// Evaluates a value filter (the inside of `emails[...]`, RFC 7644 §3.4.2.2 `valFilter`) against one
/// element of the multi-valued attribute `parent`; paths are sub-attribute names of `parent`. An element
/// that is a plain value rather than an object is treated as `{"value": element}`.
pub fn matches_element(filter: &Filter, element: &Value, parent: &AttrDef) -> bool {
    match filter {
        Filter::And(a, b) => matches_element(a, element, parent) && matches_element(b, element, parent),
        Filter::Or(a, b) => matches_element(a, element, parent) || matches_element(b, element, parent),
        Filter::Not(inner) => !matches_element(inner, element, parent),
        Filter::Compare { path, op, value } => {
            let Some(def) = element_def(path, parent) else {
                return false;
            };
            let mut leaves = Vec::new();
            collect_leaves(element_get(element, def.name), None, &mut leaves);
            compare_leaves(def, &leaves, *op, value)
        }
        Filter::Present(path) => {
            element_def(path, parent).and_then(|def| element_get(element, def.name)).is_some_and(is_present)
        }
        Filter::ValuePath { .. } => false,
    }
}

/// If `filter` is `attr eq "<string>"` on the top-level attribute `attr` (case-insensitive name, no
/// sub-attribute, no URN other than a core schema's), or an `and` one of whose sides (recursively) is,
/// returns the string. The store answers `userName eq`, `externalId eq`, `displayName eq` and `id eq`
/// from an index with it; for an `and` the caller must still evaluate the whole filter with [`matches`]
/// on the candidates. `or` and `not` are never indexed.
pub fn indexed_eq<'a>(filter: &'a Filter, attr: &str) -> Option<&'a str> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: Value::String(s) }
            if path.sub.is_none()
                && path.name.eq_ignore_ascii_case(attr)
                && !matches!(path.urn.as_deref(), Some(u) if !is_core_urn(u)) =>
        {
            Some(s)
        }
        Filter::And(a, b) => indexed_eq(a, attr).or_else(|| indexed_eq(b, attr)),
        _ => None,
    }
}

fn is_core_urn(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(USER_URN) || urn.eq_ignore_ascii_case(GROUP_URN)
}

/// The values an attribute path selects in a resource, for sorting (RFC 7644 §3.4.2.3): for a complex
/// attribute without sub-attribute, its `value` sub-attribute(s); for `emails.value`, every element's
/// `value`; for a simple multi-valued attribute, its elements. Elements marked `"primary": true` come
/// first, then the others in document order; `null`s are skipped. Names resolve case-insensitively.
pub fn select<'a>(resource: &'a Value, rt: &ResourceType, path: &AttrPath) -> Vec<&'a Value> {
    let mut out = Vec::new();
    let Some((res, raw)) = locate(resource, rt, path) else {
        return out;
    };
    let Some((_, sub)) = comparison_target(&res) else {
        return out;
    };
    match (raw, sub) {
        (Some(Value::Array(items)), Some(sub)) => {
            let primary = items.iter().filter(|el| is_primary(el));
            let others = items.iter().filter(|el| !is_primary(el));
            for el in primary.chain(others) {
                if let Some(v) = element_get(el, sub) {
                    push_flat(v, &mut out);
                }
            }
        }
        _ => collect_leaves(raw, sub, &mut out),
    }
    out
}

/// Total order used by `sortBy` (RFC 7644 §3.4.2.3): compares two selected values by the attribute's
/// type. Strings honour `caseExact` (case-insensitive when false); dateTimes compare as instants; numbers
/// numerically (integers exactly); booleans `false < true` (also as the strings "true"/"false").
/// For a complex `def` its `value` sub-attribute's definition is used. Missing values (`None` or `null`)
/// sort after every present value. Values of the wrong type sort after values of the right type, so the
/// order stays total whatever the data.
pub fn compare_for_sort(def: &AttrDef, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let def: &AttrDef = if def.is_complex() { def.sub("value").unwrap_or(def) } else { def };
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let (ka, kb) = (SortKey::of(def, a), SortKey::of(def, b));
            match (ka, kb) {
                (SortKey::Bool(x), SortKey::Bool(y)) => x.cmp(&y),
                (SortKey::Num(x), SortKey::Num(y)) => cmp_numbers(x, y),
                (SortKey::Time(x), SortKey::Time(y)) => x.cmp(&y),
                (SortKey::Str(x), SortKey::Str(y)) => cmp_strings(x, y, def.case_exact),
                (ka, kb) => ka.rank().cmp(&kb.rank()),
            }
        }
    }
}

/// A value classified for sorting. The expected kind for the attribute's type comes first.
enum SortKey<'a> {
    Bool(bool),
    Num(&'a Number),
    Time(DateTime<FixedOffset>),
    Str(&'a str),
    Other(u8),
}

impl<'a> SortKey<'a> {
    fn of(def: &AttrDef, v: &'a Value) -> Self {
        match v {
            Value::Bool(b) => SortKey::Bool(*b),
            Value::Number(n) => SortKey::Num(n),
            Value::String(s) => match def.ty {
                AttrType::Boolean => crate::values::scim_boolean(v).map_or(SortKey::Str(s), SortKey::Bool),
                AttrType::DateTime => parse_date_time(s).map_or(SortKey::Str(s), SortKey::Time),
                _ => SortKey::Str(s),
            },
            Value::Array(_) => SortKey::Other(0),
            Value::Object(_) => SortKey::Other(1),
            Value::Null => SortKey::Other(2),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Bool(_) => 0,
            SortKey::Num(_) => 1,
            SortKey::Time(_) => 2,
            SortKey::Str(_) => 3,
            SortKey::Other(r) => 4 + r,
        }
    }
}

/// Resolves `path` and finds its raw (non-null) value in the resource.
fn locate<'a>(resource: &'a Value, rt: &ResourceType, path: &AttrPath) -> Option<(Resolved, Option<&'a Value>)> {
    let res = rt.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())?;
    let container = match res.extension {
        Some(ext) => get_ci(resource, ext.id),
        None => Some(resource),
    };
    let raw = container.and_then(|c| get_ci(c, res.attr.name)).filter(|v| !v.is_null());
    Some((res, raw))
}

/// The definition compared and the sub-attribute to extract for a comparison on a resolved path: the
/// sub-attribute if named, else the `value` sub-attribute of a complex attribute, else the attribute
/// itself. `None` for a complex attribute without `value`.
fn comparison_target(res: &Resolved) -> Option<(&'static AttrDef, Option<&'static str>)> {
    match res.sub {
        Some(sub) => Some((sub, Some(sub.name))),
        None if res.attr.is_complex() => res.attr.sub("value").map(|v| (v, Some(v.name))),
        None => Some((res.attr, None)),
    }
}

/// The definition of a value-filter path: a bare sub-attribute name of `parent`.
fn element_def(path: &AttrPath, parent: &AttrDef) -> Option<&'static AttrDef> {
    if path.urn.is_some() || path.sub.is_some() {
        return None;
    }
    parent.sub(&path.name)
}

/// Looks up an object key case-insensitively ([`crate::values::get_ci`]).
fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    crate::values::get_ci(obj.as_object()?, key)
}

/// A sub-attribute of one element of a multi-valued (or single-valued complex) attribute. A plain value
/// stands for `{"value": v}`.
fn element_get<'a>(element: &'a Value, name: &str) -> Option<&'a Value> {
    match element {
        Value::Object(_) => get_ci(element, name).filter(|v| !v.is_null()),
        Value::Null | Value::Array(_) => None,
        _ if name.eq_ignore_ascii_case("value") => Some(element),
        _ => None,
    }
}

fn is_primary(element: &Value) -> bool {
    element_get(element, "primary").and_then(crate::values::scim_boolean) == Some(true)
}

/// Pushes a value, or each non-null element of an array.
fn push_flat<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Null => {}
        Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_null())),
        other => out.push(other),
    }
}

/// The values compared for an attribute: with `sub`, that sub-attribute of every element (or of the
/// single complex value); without, the value itself or the elements of an array.
fn collect_leaves<'a>(raw: Option<&'a Value>, sub: Option<&str>, out: &mut Vec<&'a Value>) {
    let Some(raw) = raw else {
        return;
    };
    match (sub, raw) {
        (None, v) => push_flat(v, out),
        (Some(sub), Value::Array(items)) => {
            for el in items {
                if let Some(v) = element_get(el, sub) {
                    push_flat(v, out);
                }
            }
        }
        (Some(sub), v) => {
            if let Some(v) = element_get(v, sub) {
                push_flat(v, out);
            }
        }
    }
}

/// RFC 7644 §3.4.2.2 `pr`: present and not null, not an empty string, not an empty array or object.
/// An array is present when one of its elements is; an object when one of its members is non-empty.
fn is_present(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(is_present_element),
        other => is_present_element(other),
    }
}

fn is_present_element(v: &Value) -> bool {
    match v {
        Value::Object(map) => map.values().any(is_non_empty),
        other => is_non_empty(other),
    }
}

fn is_non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Applies `op` to the values of an attribute (already extracted): any value matching, `ne` as the
/// negation of `eq`, `eq null` as "not present".
fn compare_leaves(def: &AttrDef, leaves: &[&Value], op: CompareOp, comp: &Value) -> bool {
    if comp.is_null() {
        return match op {
            CompareOp::Eq => leaves.is_empty(),
            CompareOp::Ne => !leaves.is_empty(),
            _ => false,
        };
    }
    match op {
        CompareOp::Ne => !leaves.iter().any(|v| compare_one(def, v, CompareOp::Eq, comp)),
        _ => leaves.iter().any(|v| compare_one(def, v, op, comp)),
    }
}

/// Compares one attribute value with the filter's value by the attribute's type.
fn compare_one(def: &AttrDef, v: &Value, op: CompareOp, comp: &Value) -> bool {
    match def.ty {
        AttrType::Boolean => match (crate::values::scim_boolean(v), crate::values::scim_boolean(comp)) {
            (Some(a), Some(b)) => match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                _ => false,
            },
            _ => false,
        },
        AttrType::Integer | AttrType::Decimal => match (v, comp) {
            (Value::Number(a), Value::Number(b)) => ord_satisfies(cmp_numbers(a, b), op),
            _ => false,
        },
        AttrType::DateTime => match (v.as_str(), comp.as_str()) {
            (Some(a), Some(b)) => {
                if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                    if let (Some(x), Some(y)) = (parse_date_time(a), parse_date_time(b)) {
                        return ord_satisfies(x.cmp(&y), op);
                    }
                }
                string_op(a, b, op, def.case_exact)
            }
            _ => false,
        },
        AttrType::String | AttrType::Reference | AttrType::Binary => match (v.as_str(), comp.as_str()) {
            (Some(a), Some(b)) => string_op(a, b, op, def.case_exact),
            _ => false,
        },
        AttrType::Complex => false,
    }
}

/// Whether an ordering satisfies a comparison operator (`co`/`sw`/`ew` never do).
fn ord_satisfies(ord: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// String comparison; case folded (Unicode lowercase) unless `case_exact`.
fn string_op(a: &str, b: &str, op: CompareOp, case_exact: bool) -> bool {
    match op {
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew if !case_exact => {
            string_op(&a.to_lowercase(), &b.to_lowercase(), op, true)
        }
        CompareOp::Co => a.contains(b),
        CompareOp::Sw => a.starts_with(b),
        CompareOp::Ew => a.ends_with(b),
        _ => ord_satisfies(cmp_strings(a, b, case_exact), op),
    }
}

fn cmp_strings(a: &str, b: &str, case_exact: bool) -> Ordering {
    if case_exact {
        a.cmp(b)
    } else {
        a.chars().flat_map(char::to_lowercase).cmp(b.chars().flat_map(char::to_lowercase))
    }
}

fn parse_date_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s).ok()
}

/// A JSON number as an exact integer when it is one, else a float.
enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    fn of(n: &Number) -> Self {
        if let Some(i) = n.as_i64() {
            Num::Int(i128::from(i))
        } else if let Some(u) = n.as_u64() {
            Num::Int(i128::from(u))
        } else {
            Num::Float(n.as_f64().unwrap_or(0.0))
        }
    }
}

/// Exact numeric comparison (integers are not rounded through `f64`), a total order over JSON numbers.
fn cmp_numbers(a: &Number, b: &Number) -> Ordering {
    match (Num::of(a), Num::of(b)) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y).unwrap_or_else(|| x.total_cmp(&y)),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).reverse(),
    }
}

fn cmp_int_float(i: i128, f: f64) -> Ordering {
    // 2^127: every i128 is below it; -2^127 is i128::MIN.
    let limit = i128::MAX as f64;
    if f.is_nan() || f >= limit {
        return Ordering::Less;
    }
    if f < -limit {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    match i.cmp(&(whole as i128)) {
        Ordering::Equal => {
            let frac = f - whole;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{ENTERPRISE_URN, GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};

    fn path(name: &str) -> AttrPath {
        AttrPath { urn: None, name: name.to_string(), sub: None }
    }

    fn sub_path(name: &str, sub: &str) -> AttrPath {
        AttrPath { urn: None, name: name.to_string(), sub: Some(sub.to_string()) }
    }

    fn cmp(p: AttrPath, op: CompareOp, value: Value) -> Filter {
        Filter::Compare { path: p, op, value }
    }

    fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    fn not(a: Filter) -> Filter {
        Filter::Not(Box::new(a))
    }

    fn err(input: &str) -> FilterError {
        match parse(input) {
            Ok(f) => panic!("{input:?} parsed as {f:?}"),
            Err(e) => e,
        }
    }

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_URN],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Bjensen",
            "userName": "bjensen@example.com",
            "name": {"familyName": "Jensen", "givenName": "Barbara", "formatted": "Ms. Barbara J Jensen III"},
            "displayName": "Babs Jensen",
            "title": "",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
            "x509Certificates": [],
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T06:42:34+02:00",
                "version": "W/\"a330bc54f0671c9\""
            },
            ENTERPRISE_URN: {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
            }
        })
    }

    fn user_matches(filter: &str, resource: &Value) -> bool {
        let f = parse(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
        validate(&f, &USER_RESOURCE_TYPE).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
        matches(&f, resource, &USER_RESOURCE_TYPE)
    }

    // ----- parser -----

    #[test]
    fn parses_every_comparison_operator() {
        for (kw, op) in [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ] {
            assert_eq!(parse(&format!("title {kw} \"x\"")).unwrap(), cmp(path("title"), op, json!("x")));
            let upper = kw.to_ascii_uppercase();
            assert_eq!(parse(&format!("title {upper} \"x\"")).unwrap(), cmp(path("title"), op, json!("x")));
        }
        assert_eq!(parse("title pr").unwrap(), Filter::Present(path("title")));
        assert_eq!(parse("title PR").unwrap(), Filter::Present(path("title")));
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let f = parse("userName Eq \"a\" AnD NOT (title pR) oR active EQ TRUE").unwrap();
        let expected = or(
            and(cmp(path("userName"), CompareOp::Eq, json!("a")), not(Filter::Present(path("title")))),
            cmp(path("active"), CompareOp::Eq, json!(true)),
        );
        assert_eq!(f, expected);
        assert_eq!(parse("title eq NULL").unwrap(), cmp(path("title"), CompareOp::Eq, Value::Null));
        assert_eq!(parse("active eq False").unwrap(), cmp(path("active"), CompareOp::Eq, json!(false)));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let a = || cmp(path("a"), CompareOp::Eq, json!(1));
        let b = || cmp(path("b"), CompareOp::Eq, json!(2));
        let c = || cmp(path("c"), CompareOp::Eq, json!(3));
        assert_eq!(parse("a eq 1 or b eq 2 and c eq 3").unwrap(), or(a(), and(b(), c())));
        assert_eq!(parse("a eq 1 and b eq 2 or c eq 3").unwrap(), or(and(a(), b()), c()));
        assert_eq!(parse("a eq 1 and (b eq 2 or c eq 3)").unwrap(), and(a(), or(b(), c())));
        assert_eq!(parse("a eq 1 and b eq 2 and c eq 3").unwrap(), and(and(a(), b()), c()));
        assert_eq!(parse("((a eq 1))").unwrap(), a());
    }

    #[test]
    fn not_requires_parentheses_and_binds_tightest() {
        let a = || cmp(path("a"), CompareOp::Eq, json!(1));
        let b = || cmp(path("b"), CompareOp::Eq, json!(2));
        assert_eq!(parse("not (a eq 1) and b eq 2").unwrap(), and(not(a()), b()));
        assert_eq!(parse("not(a eq 1 or b eq 2)").unwrap(), not(or(a(), b())));
        assert_eq!(parse("not (not (a eq 1))").unwrap(), not(not(a())));
        let e = err("not a eq 1");
        assert_eq!(e.position, 4);
        assert!(e.message.contains("expected '(' after 'not'"), "{}", e.message);
        // An attribute merely starting with "not" is an attribute.
        assert_eq!(parse("notes pr").unwrap(), Filter::Present(path("notes")));
    }

    #[test]
    fn parses_value_paths() {
        let f = parse("emails[type eq \"work\" and value co \"@example.com\"]").unwrap();
        assert_eq!(
            f,
            Filter::ValuePath {
                path: path("emails"),
                filter: Box::new(and(
                    cmp(path("type"), CompareOp::Eq, json!("work")),
                    cmp(path("value"), CompareOp::Co, json!("@example.com"))
                )),
            }
        );
        let f = parse("userType eq \"Employee\" and emails[type eq \"work\" or not (primary eq false)]").unwrap();
        assert!(matches!(f, Filter::And(_, ref r) if matches!(**r, Filter::ValuePath { .. })));
        let e = err("emails[type[value eq \"x\"] eq \"y\"]");
        assert!(e.message.contains("nested"), "{}", e.message);
        let e = err("name.givenName[value eq \"x\"]");
        assert!(e.message.contains("sub-attribute"), "{}", e.message);
    }

    #[test]
    fn desugars_value_path_followed_by_sub_attribute() {
        let f = parse("emails[type eq \"work\"].value eq \"x@example.com\"").unwrap();
        assert_eq!(
            f,
            Filter::ValuePath {
                path: path("emails"),
                filter: Box::new(and(
                    cmp(path("type"), CompareOp::Eq, json!("work")),
                    cmp(path("value"), CompareOp::Eq, json!("x@example.com"))
                )),
            }
        );
        let f = parse("emails[type eq \"work\"].value pr").unwrap();
        assert_eq!(
            f,
            Filter::ValuePath {
                path: path("emails"),
                filter: Box::new(and(cmp(path("type"), CompareOp::Eq, json!("work")), Filter::Present(path("value")))),
            }
        );
        assert!(user_matches("emails[type eq \"work\"].value eq \"bjensen@example.com\"", &user()));
        assert!(!user_matches("emails[type eq \"home\"].value eq \"bjensen@example.com\"", &user()));
    }

    #[test]
    fn parses_sub_attributes_and_urn_paths() {
        assert_eq!(
            parse("name.familyName co \"O'Malley\"").unwrap(),
            cmp(sub_path("name", "familyName"), CompareOp::Co, json!("O'Malley"))
        );
        let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Sales\"").unwrap();
        assert_eq!(
            f,
            cmp(
                AttrPath { urn: Some(ENTERPRISE_URN.to_string()), name: "department".into(), sub: None },
                CompareOp::Eq,
                json!("Sales")
            )
        );
        let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m\"").unwrap();
        assert_eq!(
            f,
            cmp(
                AttrPath { urn: Some(ENTERPRISE_URN.to_string()), name: "manager".into(), sub: Some("value".into()) },
                CompareOp::Eq,
                json!("m")
            )
        );
        let f = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"").unwrap();
        assert_eq!(
            f,
            cmp(
                AttrPath { urn: Some(USER_URN.to_string()), name: "userName".into(), sub: None },
                CompareOp::Sw,
                json!("J")
            )
        );
        assert_eq!(
            parse("members[$ref pr]").unwrap(),
            Filter::ValuePath { path: path("members"), filter: Box::new(Filter::Present(path("$ref"))) }
        );
        assert!(err("foo:bar eq 1").message.contains("URN"));
        assert!(err("name.givenName.x eq 1").message.contains("at most one sub-attribute"));
        assert!(err("1abc eq 1").message.contains("invalid attribute name"));
    }

    #[test]
    fn parses_string_escapes() {
        let f = parse(r#"displayName eq "a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#).unwrap();
        assert_eq!(f, cmp(path("displayName"), CompareOp::Eq, json!("a\"b\\c/d\n\té😀")));
        assert_eq!(parse(r#"title eq "Ünïcödé ok""#).unwrap(), cmp(path("title"), CompareOp::Eq, json!("Ünïcödé ok")));
        assert_eq!(parse(r#"title eq """#).unwrap(), cmp(path("title"), CompareOp::Eq, json!("")));
        assert_eq!(err(r#"title eq "a\x""#).position, 11);
        assert!(err(r#"title eq "\u12""#).message.contains("\\u"));
        assert!(err(r#"title eq "\ud83d""#).message.contains("surrogate"));
        assert!(err(r#"title eq "\ude00""#).message.contains("surrogate"));
        assert_eq!(err(r#"title eq "abc\"#).message, "unterminated string");
    }

    #[test]
    fn parses_numbers_booleans_and_null() {
        for (text, value) in [
            ("42", json!(42)),
            ("-7", json!(-7)),
            ("3.25", json!(3.25)),
            ("-0.5e2", json!(-50.0)),
            ("1E3", json!(1000.0)),
            ("18446744073709551615", json!(18446744073709551615u64)),
            ("true", json!(true)),
            ("false", json!(false)),
            ("null", Value::Null),
        ] {
            assert_eq!(parse(&format!("x eq {text}")).unwrap(), cmp(path("x"), CompareOp::Eq, value), "{text}");
        }
    }

    #[test]
    fn accepts_bare_values_as_strings() {
        assert_eq!(parse("externalId eq jyoung").unwrap(), cmp(path("externalId"), CompareOp::Eq, json!("jyoung")));
        assert_eq!(
            parse("emails.value eq j.young@example.com").unwrap(),
            cmp(sub_path("emails", "value"), CompareOp::Eq, json!("j.young@example.com"))
        );
        // Not a valid number: read as a string (Entra GUIDs often start with digits).
        assert_eq!(
            parse("externalId eq 8d5f3a1e-0c1b").unwrap(),
            cmp(path("externalId"), CompareOp::Eq, json!("8d5f3a1e-0c1b"))
        );
        assert_eq!(parse("(externalId eq abc)").unwrap(), cmp(path("externalId"), CompareOp::Eq, json!("abc")));
        let e = err("externalId eq and");
        assert_eq!(e.position, 14);
        assert!(e.message.contains("keyword"), "{}", e.message);
        assert!(parse("externalId eq pr").is_err());
        assert!(parse("externalId eq eq").is_err());
    }

    #[test]
    fn tolerates_extra_whitespace() {
        let expected = and(cmp(path("a"), CompareOp::Eq, json!("x")), Filter::Present(path("b")));
        assert_eq!(parse("  a   eq\t\"x\"   and  ( b  pr )  ").unwrap(), expected);
        assert_eq!(parse("a eq\"x\" and(b pr)").unwrap(), expected);
    }

    #[test]
    fn reports_errors_with_positions() {
        let cases: &[(&str, usize, &str)] = &[
            ("userName eq", 11, "expected comparison value after 'eq'"),
            ("userName xx \"a\"", 9, "expected comparison operator after attribute 'userName', found 'xx'"),
            ("userName", 8, "expected comparison operator after attribute 'userName'"),
            ("(userName eq \"a\"", 16, "to close '(' at position 0"),
            ("userName eq \"a\")", 15, "unexpected ')'"),
            ("userName eq \"unterminated", 12, "unterminated string"),
            ("emails[type eq \"work\"", 21, "to close '[' at position 6"),
            ("and", 0, "expected attribute path before 'and'"),
            ("", 0, "empty filter"),
            ("   ", 3, "empty filter"),
            ("userName eq \"a\" and", 19, "expected attribute path"),
            ("userName eq \"a\" userName eq \"b\"", 16, "trailing input"),
            (")", 0, "unexpected ')'"),
            ("()", 1, "unexpected ')'"),
            ("\"a\" eq userName", 0, "expected attribute path"),
            ("userName eq )", 12, "expected comparison value"),
        ];
        for (input, position, message) in cases {
            let e = err(input);
            assert_eq!(e.position, *position, "{input:?}: {e}");
            assert!(e.message.contains(message), "{input:?}: {e}");
        }
        let scim = err("userName eq").into_filter_error();
        assert_eq!(scim.scim_type(), Some("invalidFilter"));
        assert!(scim.detail().contains("position 11"));
    }

    #[test]
    fn rejects_parenthesis_bombs_quickly() {
        // Within the length bound the depth bound answers; beyond it, the length bound, before any parsing.
        for n in [1_000, 3_000] {
            let input = format!("{}userName eq \"a\"{}", "(".repeat(n), ")".repeat(n));
            let started = std::time::Instant::now();
            let e = err(&input);
            assert_eq!(e.position, MAX_DEPTH);
            assert!(e.message.contains("nesting deeper than 64"), "{}", e.message);
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
            // Unbalanced too.
            assert_eq!(err(&"(".repeat(n)).position, MAX_DEPTH);
            assert_eq!(err(&"not (".repeat(n)).message, "nesting deeper than 64");
        }
        let input = format!("{}userName eq \"a\"{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = err(&input);
        assert_eq!(e.position, MAX_FILTER_LEN);
        assert!(e.message.contains("at most 16384"), "{}", e.message);
    }

    #[test]
    fn filters_are_bounded_in_length_and_attribute_expressions() {
        let at_length = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 14));
        assert_eq!(at_length.len(), MAX_FILTER_LEN);
        assert!(parse(&at_length).is_ok());
        let over = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_LEN - 13));
        assert_eq!(
            err(&over).message,
            format!("the filter is {} bytes long; this server accepts at most 16384", MAX_FILTER_LEN + 1)
        );
        let terms = |n: usize| vec!["title pr"; n].join(" or ");
        assert!(parse(&terms(MAX_FILTER_TERMS)).is_ok());
        assert!(err(&terms(MAX_FILTER_TERMS + 1)).message.contains("more than 256 attribute expressions"));
        // Expressions inside a value path count: 128 value paths of two expressions each is 384 (and the
        // value path itself one more each).
        let vp = vec!["emails[type eq \"work\" and value pr]"; 128].join(" or ");
        assert!(err(&vp).message.contains("at most 256"));
        let vp = vec!["emails[type eq \"work\" and value pr]"; 85].join(" or ");
        assert!(parse(&vp).is_ok());
    }

    #[test]
    fn accepts_exactly_max_depth() {
        let input = format!("{}userName eq \"a\"{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&input).unwrap(), cmp(path("userName"), CompareOp::Eq, json!("a")));
        let over = format!("{}userName eq \"a\"{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(err(&over).position, MAX_DEPTH);
        // A value path counts as a level.
        let vp = format!("{}emails[value pr]{}", "(".repeat(MAX_DEPTH - 1), ")".repeat(MAX_DEPTH - 1));
        assert!(parse(&vp).is_ok());
        let vp = format!("{}emails[value pr]{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(err(&vp).message.contains("nesting"));
    }

    #[test]
    fn long_flat_chains_build_shallow_trees() {
        fn depth(f: &Filter) -> usize {
            match f {
                Filter::And(a, b) | Filter::Or(a, b) => 1 + depth(a).max(depth(b)),
                Filter::Not(a) => 1 + depth(a),
                _ => 1,
            }
        }
        let input = vec!["title pr"; MAX_FILTER_TERMS].join(" and ");
        let f = parse(&input).unwrap();
        assert!(depth(&f) <= 10, "{}", depth(&f));
        assert!(!matches(&f, &user(), &USER_RESOURCE_TYPE));
        let input = vec!["displayName pr"; MAX_FILTER_TERMS].join(" or ");
        assert!(matches(&parse(&input).unwrap(), &user(), &USER_RESOURCE_TYPE));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "[",
            "]",
            "(",
            "not",
            "not (",
            "a[",
            "a[]",
            "a[b",
            "a[b pr",
            "a[b pr]]",
            "a.",
            "a..b",
            ":",
            "urn:",
            "urn:x:",
            "a eq \"",
            "a eq \"\\",
            "a eq \"\\u",
            "a eq \"\\ud800\\u",
            "é eq 1",
            "a eq é",
            "a eq \"é",
            "a\u{0}eq 1",
            "a eq 1 or",
            "a eq 1 or or",
            "a eq -",
            "a eq 1e999",
            "emails[type eq \"w\"].",
            "emails[type eq \"w\"].value",
            "emails[type eq \"w\"]",
            "emails[type eq \"w\"] pr",
            "(((",
            ")))",
            "a eq (",
            "a eq [",
            "\u{feff}",
        ];
        for input in inputs {
            let _ = parse(input);
            let _ = parse_patch_path(input);
            let _ = parse_attr_path(input);
        }
        for n in 0..40 {
            let input: String = "a eq \"x\\u00e9\" and (b[c pr] or not (d.e ne 1))".chars().take(n).collect();
            let _ = parse(&input);
        }
    }

    #[test]
    fn parses_patch_paths() {
        assert_eq!(
            parse_patch_path("name.givenName").unwrap(),
            PatchPath { attr: sub_path("name", "givenName"), value_filter: None, sub_attr: None }
        );
        assert_eq!(
            parse_patch_path("members[value eq \"2819c223\"]").unwrap(),
            PatchPath {
                attr: path("members"),
                value_filter: Some(cmp(path("value"), CompareOp::Eq, json!("2819c223"))),
                sub_attr: None,
            }
        );
        assert_eq!(
            parse_patch_path("emails[type eq \"work\"].value").unwrap(),
            PatchPath {
                attr: path("emails"),
                value_filter: Some(cmp(path("type"), CompareOp::Eq, json!("work"))),
                sub_attr: Some("value".into()),
            }
        );
        let p = parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
        assert_eq!(p.attr.urn.as_deref(), Some(ENTERPRISE_URN));
        assert_eq!(p.attr.name, "manager");
        assert_eq!(parse_patch_path("").unwrap_err().message, "empty path");
        assert_eq!(parse_patch_path("emails[type eq \"work\"").unwrap_err().position, 21);
        assert!(parse_patch_path("emails[type eq \"work\"].").is_err());
        assert!(parse_patch_path("emails[type eq \"work\"] x").unwrap_err().message.contains("trailing"));
        assert!(parse_patch_path("name.givenName[value pr]").is_err());
        assert!(parse_patch_path("emails[value[x pr]]").is_err());
        assert_eq!(parse_patch_path("userName eq \"x\"").unwrap_err().position, 9);
        assert_eq!(parse_patch_path("a b").unwrap_err().into_path_error().scim_type(), Some("invalidPath"));
    }

    #[test]
    fn parses_attribute_paths() {
        assert_eq!(parse_attr_path("userName").unwrap(), path("userName"));
        assert_eq!(parse_attr_path(" name.familyName ").unwrap(), sub_path("name", "familyName"));
        assert_eq!(
            parse_attr_path("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap(),
            AttrPath { urn: Some(USER_URN.into()), name: "name".into(), sub: Some("givenName".into()) }
        );
        assert_eq!(parse_attr_path("").unwrap_err().message, "empty attribute path");
        assert!(parse_attr_path("emails[type eq \"work\"]").is_err());
        assert!(parse_attr_path("a b").is_err());
        assert!(parse_attr_path("name.").is_err());
        assert!(parse_attr_path("urn:x:").is_err());
    }

    #[test]
    fn displays_attribute_paths() {
        let p = parse_attr_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").unwrap();
        assert_eq!(p.to_string(), format!("{ENTERPRISE_URN}:manager.value"));
        assert_eq!(path("userName").to_string(), "userName");
    }

    // ----- validation -----

    #[test]
    fn validates_against_the_schema() {
        let rt = &USER_RESOURCE_TYPE;
        let ok = |s: &str| validate(&parse(s).unwrap(), rt);
        assert!(ok("userName eq \"a\"").is_ok());
        assert!(
            ok("USERNAME eq \"a\" and name.FAMILYNAME pr and meta.lastModified gt \"2020-01-01T00:00:00Z\"").is_ok()
        );
        assert!(ok("emails[type eq \"work\" and value co \"@\"]").is_ok());
        assert!(ok("emails co \"example\"").is_ok());
        assert!(ok("manager.value eq \"x\"").is_err()); // manager lives in the extension
        assert!(ok("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"x\"").is_ok());
        assert!(ok("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"x\"]").is_ok());
        assert!(ok("not (id eq \"x\") or externalId pr").is_ok());

        let e = ok("nosuch eq \"a\"").unwrap_err();
        assert_eq!(e.scim_type(), Some("invalidFilter"));
        assert!(e.detail().contains("nosuch"), "{e}");
        assert!(ok("name.nosuch pr").unwrap_err().detail().contains("name.nosuch"));
        assert!(ok("urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"a\"").is_err());
        assert!(ok("active gt true").unwrap_err().detail().contains("boolean"));
        assert!(ok("emails gt \"a\"").unwrap_err().detail().contains("complex"));
        assert!(ok("x509Certificates.value le \"a\"").unwrap_err().detail().contains("binary"));
        assert!(ok("emails[primary lt true]").is_err());
        assert!(ok("name eq \"Barbara\"").is_err());
        assert!(ok("userName[value eq \"a\"]").unwrap_err().detail().contains("not complex"));
        assert!(ok("emails[nosuch eq \"a\"]").unwrap_err().detail().contains("nosuch"));
        assert!(ok("emails[value.x eq \"a\"]").is_err());
        assert!(ok("not (title eq \"a\" and nosuch pr)").is_err());

        let g = &GROUP_RESOURCE_TYPE;
        assert!(validate(&parse("displayName eq \"Admins\" and members[value eq \"u1\"]").unwrap(), g).is_ok());
        assert!(validate(&parse("userName eq \"a\"").unwrap(), g).is_err());
    }

    // ----- evaluation -----

    #[test]
    fn user_name_is_case_insensitive_and_external_id_case_exact() {
        let u = user();
        assert!(user_matches("userName eq \"BJENSEN@example.COM\"", &u));
        assert!(user_matches("USERNAME EQ \"bjensen@example.com\"", &u));
        assert!(user_matches("displayName eq \"babs jensen\"", &u));
        assert!(user_matches("externalId eq \"Bjensen\"", &u));
        assert!(!user_matches("externalId eq \"bjensen\"", &u));
        assert!(user_matches("externalId ne \"bjensen\"", &u));
        assert!(!user_matches("id eq \"2819C223-7F76-453A-919D-413861904646\"", &u));
        assert!(user_matches("externalId eq Bjensen", &u));
    }

    #[test]
    fn json_keys_are_looked_up_case_insensitively() {
        let u = json!({"USERNAME": "alice", "Name": {"GivenName": "Alice"}, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "R&D"}});
        assert!(user_matches("userName eq \"Alice\"", &u));
        assert!(user_matches("name.givenName sw \"al\"", &u));
        assert!(user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"r&d\"", &u));
    }

    #[test]
    fn substring_operators() {
        let u = user();
        assert!(user_matches("userName co \"JENSEN@\"", &u));
        assert!(user_matches("userName sw \"BJ\"", &u));
        assert!(user_matches("userName ew \".COM\"", &u));
        assert!(!user_matches("userName sw \"jensen\"", &u));
        assert!(!user_matches("userName ew \"example\"", &u));
        assert!(user_matches("externalId co \"jen\"", &u));
        assert!(!user_matches("externalId sw \"bj\"", &u));
        assert!(user_matches("name.formatted co \"barbara j\"", &u));
        // co/sw/ew on non-strings never match.
        assert!(!user_matches("active co \"tr\"", &u));
        assert!(!user_matches("active sw true", &u));
    }

    #[test]
    fn string_ordering() {
        let u = user();
        assert!(user_matches("userName gt \"A\"", &u));
        assert!(user_matches("userName gt \"BA\"", &u)); // case folded: "bj" > "ba"
        assert!(user_matches("userName lt \"C\"", &u));
        assert!(user_matches("userName ge \"BJENSEN@EXAMPLE.COM\"", &u));
        assert!(user_matches("userName le \"bjensen@example.com\"", &u));
        assert!(!user_matches("userName lt \"bjensen@example.com\"", &u));
        // caseExact: "Bjensen" < "a" by code point.
        assert!(user_matches("externalId lt \"a\"", &u));
        assert!(!user_matches("externalId gt \"a\"", &u));
    }

    #[test]
    fn date_times_compare_as_instants() {
        let u = user(); // lastModified 2011-05-13T06:42:34+02:00 == 04:42:34Z
        assert!(user_matches("meta.lastModified eq \"2011-05-13T04:42:34Z\"", &u));
        assert!(user_matches("meta.lastModified ge \"2011-05-13T04:42:34Z\"", &u));
        assert!(!user_matches("meta.lastModified gt \"2011-05-13T04:42:34Z\"", &u));
        assert!(user_matches("meta.lastModified gt \"2011-05-13T05:42:33+01:00\"", &u));
        assert!(user_matches("meta.lastModified lt \"2011-05-13T00:00:00-05:00\"", &u));
        // A string-wise comparison would say the opposite here.
        assert!(user_matches("meta.lastModified lt \"2011-05-13T05:00:00Z\"", &u));
        assert!(user_matches("meta.created lt \"2011-01-01T00:00:00.000Z\"", &u));
        // Not a dateTime: compared as strings.
        assert!(user_matches("meta.created gt \"2010\"", &u));
        assert!(user_matches("meta.created sw \"2010-01\"", &u));
        assert!(!user_matches("meta.created lt \"2010\"", &u));
    }

    #[test]
    fn booleans_accept_string_forms() {
        let u = user();
        assert!(user_matches("active eq true", &u));
        assert!(!user_matches("active eq false", &u));
        assert!(user_matches("active eq \"True\"", &u));
        assert!(user_matches("active ne \"FALSE\"", &u));
        assert!(!user_matches("active eq \"yes\"", &u));
        let entra = json!({"userName": "x", "active": "False"});
        assert!(user_matches("active eq false", &entra));
        assert!(!user_matches("active eq true", &entra));
        assert!(user_matches("emails[primary eq true and type eq \"work\"]", &u));
        assert!(!user_matches("emails[primary eq true and type eq \"home\"]", &u));
    }

    #[test]
    fn numbers_compare_numerically() {
        let d = AttrDef::new("n", AttrType::Decimal, "");
        let i = AttrDef::new("i", AttrType::Integer, "");
        let test = |def: &AttrDef, v: Value, op: CompareOp, c: Value| compare_leaves(def, &[&v], op, &c);
        assert!(test(&i, json!(10), CompareOp::Gt, json!(9)));
        assert!(test(&i, json!(10), CompareOp::Eq, json!(10.0)));
        assert!(test(&d, json!(2.5), CompareOp::Lt, json!(3)));
        assert!(test(&d, json!(-1), CompareOp::Le, json!(-1)));
        assert!(test(&i, json!(9007199254740993u64), CompareOp::Gt, json!(9007199254740992u64)));
        assert!(test(&i, json!(9007199254740993u64), CompareOp::Gt, json!(9007199254740992.0)));
        assert!(!test(&i, json!(10), CompareOp::Eq, json!("10")));
        assert!(!test(&i, json!(10), CompareOp::Co, json!(1)));
        assert!(test(&i, json!(10), CompareOp::Ne, json!("10")));
        assert_eq!(cmp_numbers(&Number::from(0), &serde_json::Number::from_f64(-0.0).unwrap()), Ordering::Equal);
        assert_eq!(cmp_int_float(3, 3.5), Ordering::Less);
        assert_eq!(cmp_int_float(-3, -3.5), Ordering::Greater);
        assert_eq!(cmp_int_float(1, 1e300), Ordering::Less);
        assert_eq!(cmp_int_float(1, -1e300), Ordering::Greater);
        // A string attribute does not equal a number (type mismatch).
        assert!(!user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984",
            &user()
        ));
    }

    #[test]
    fn multi_valued_attributes() {
        let u = user();
        assert!(user_matches("emails co \"jensen.org\"", &u));
        assert!(user_matches("emails eq \"BJENSEN@example.com\"", &u));
        assert!(user_matches("emails.value ew \"@jensen.org\"", &u));
        assert!(user_matches("emails.type eq \"home\"", &u));
        assert!(!user_matches("emails.type eq \"other\"", &u));
        assert!(user_matches("emails[type eq \"work\" and value co \"@example.com\"]", &u));
        assert!(!user_matches("emails[type eq \"home\" and value co \"@example.com\"]", &u));
        // Without a value path the two conditions may hold on different elements.
        assert!(user_matches("emails.type eq \"home\" and emails.value co \"@example.com\"", &u));
        assert!(user_matches("emails[not (type eq \"work\")]", &u));
        assert!(user_matches("phoneNumbers[type eq \"work\"]", &u));
        assert!(!user_matches("phoneNumbers[type eq \"work\" and value eq \"1\"]", &u));
        // ne is the negation of eq: no element has type "other", one has type "work".
        assert!(user_matches("emails.type ne \"other\"", &u));
        assert!(!user_matches("emails.type ne \"work\"", &u));
        // Elements that are plain strings stand for {"value": ...}.
        let plain = json!({"userName": "p", "emails": ["p@example.com"]});
        assert!(user_matches("emails[value eq \"p@example.com\"]", &plain));
        assert!(user_matches("emails.value eq \"p@example.com\"", &plain));
        assert!(user_matches("emails eq \"p@example.com\"", &plain));
        assert!(!user_matches("emails[type eq \"work\"]", &plain));
    }

    #[test]
    fn matches_single_elements() {
        let emails = USER_RESOURCE_TYPE.resolve(None, "emails", None).unwrap().attr;
        let f = parse("type eq \"work\" and value co \"@example.com\"").unwrap();
        assert!(matches_element(&f, &json!({"type": "WORK", "value": "a@example.com"}), emails));
        assert!(!matches_element(&f, &json!({"type": "home", "value": "a@example.com"}), emails));
        assert!(matches_element(&parse("value sw \"a@\"").unwrap(), &json!("a@example.com"), emails));
        assert!(!matches_element(&parse("nosuch pr").unwrap(), &json!({"nosuch": 1}), emails));
        assert!(matches_element(&parse("primary pr").unwrap(), &json!({"primary": false}), emails));
        assert!(!matches_element(&parse("display pr").unwrap(), &json!({"display": ""}), emails));
    }

    #[test]
    fn enterprise_extension() {
        let u = user();
        assert!(user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"tour operations\"",
            &u
        ));
        assert!(user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
            &u
        ));
        assert!(user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"",
            &u
        ));
        assert!(user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[displayName sw \"john\"]",
            &u
        ));
        assert!(!user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr", &u));
        // A bare manager id string is the manager's value.
        let bare = json!({"userName": "x", ENTERPRISE_URN: {"manager": "m-1"}});
        assert!(user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"m-1\"",
            &bare
        ));
        // Without the extension object nothing matches, except ne.
        let plain = json!({"userName": "x"});
        assert!(!user_matches(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"a\"",
            &plain
        ));
        assert!(user_matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department ne \"a\"", &plain));
    }

    #[test]
    fn absent_attributes_and_presence() {
        let u = user();
        assert!(!user_matches("nickName eq \"x\"", &u));
        assert!(!user_matches("nickName co \"x\"", &u));
        assert!(!user_matches("nickName gt \"a\"", &u));
        assert!(user_matches("nickName ne \"x\"", &u));
        assert!(user_matches("nickName eq null", &u));
        assert!(!user_matches("nickName ne null", &u));
        assert!(user_matches("userName ne null", &u));
        assert!(!user_matches("userName eq null", &u));
        assert!(!user_matches("userName gt null", &u));
        assert!(user_matches("userName pr", &u));
        assert!(!user_matches("nickName pr", &u));
        assert!(!user_matches("title pr", &u)); // empty string
        assert!(!user_matches("x509Certificates pr", &u)); // empty array
        assert!(user_matches("emails pr", &u));
        assert!(user_matches("emails.type pr", &u));
        assert!(!user_matches("emails.display pr", &u));
        assert!(user_matches("name pr", &u));
        assert!(user_matches("active pr", &u));
        assert!(user_matches("meta.created pr", &u));
        assert!(!user_matches("addresses[type eq \"work\"]", &u));
        let nulls = json!({"userName": "x", "nickName": null, "name": {}, "emails": [{"value": null}]});
        assert!(!user_matches("nickName pr", &nulls));
        assert!(!user_matches("name pr", &nulls));
        assert!(!user_matches("emails pr", &nulls));
        assert!(!user_matches("emails.value pr", &nulls));
        assert!(user_matches("nickName ne \"a\"", &nulls));
        // Unresolvable paths never match.
        assert!(!matches(&parse("nosuch ne \"a\"").unwrap(), &u, &USER_RESOURCE_TYPE));
    }

    #[test]
    fn logical_operators() {
        let u = user();
        assert!(user_matches("userName eq \"bjensen@example.com\" and active eq true", &u));
        assert!(!user_matches("userName eq \"bjensen@example.com\" and active eq false", &u));
        assert!(user_matches("userName eq \"nobody\" or active eq true", &u));
        assert!(user_matches("not (userName eq \"nobody\")", &u));
        assert!(!user_matches("not (userName pr)", &u));
        assert!(user_matches("(title pr or nickName pr) or (emails[type eq \"work\"] and not (active eq false))", &u));
    }

    #[test]
    fn groups() {
        let g =
            json!({"id": "g1", "displayName": "Admins", "members": [{"value": "u1", "type": "User"}, {"value": "u2"}]});
        let rt = &GROUP_RESOURCE_TYPE;
        let m = |s: &str| matches(&parse(s).unwrap(), &g, rt);
        assert!(m("displayName eq \"admins\""));
        assert!(m("members[value eq \"u2\"]"));
        assert!(m("members.value eq \"u1\""));
        // members.value is not caseExact in the schema.
        assert!(m("members[value eq \"U1\"]"));
        assert!(m("members[type eq \"user\"] and not (members.value eq \"u3\")"));
        assert!(!m("members[value eq \"u3\"]"));
    }

    #[test]
    fn indexed_eq_finds_plain_and_conjunct_equalities() {
        let f = parse("userName eq \"bjensen\"").unwrap();
        assert_eq!(indexed_eq(&f, "username"), Some("bjensen"));
        assert_eq!(indexed_eq(&f, "externalId"), None);
        let f = parse("USERNAME EQ jdoe").unwrap();
        assert_eq!(indexed_eq(&f, "userName"), Some("jdoe"));
        let f = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"u\"").unwrap();
        assert_eq!(indexed_eq(&f, "userName"), Some("u"));
        let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq \"u\"").unwrap();
        assert_eq!(indexed_eq(&f, "userName"), None);
        let f = parse("active eq true and (title pr and externalId eq \"e1\")").unwrap();
        assert_eq!(indexed_eq(&f, "externalId"), Some("e1"));
        let f = parse("externalId eq \"e1\" or userName eq \"u\"").unwrap();
        assert_eq!(indexed_eq(&f, "externalId"), None);
        assert_eq!(indexed_eq(&f, "userName"), None);
        let f = parse("not (id eq \"x\")").unwrap();
        assert_eq!(indexed_eq(&f, "id"), None);
        for s in ["id ne \"x\"", "id co \"x\"", "id eq 1", "id eq null", "name.id eq \"x\"", "emails[id eq \"x\"]"] {
            assert_eq!(indexed_eq(&parse(s).unwrap(), "id"), None, "{s}");
        }
    }

    #[test]
    fn select_values_for_sorting() {
        let rt = &USER_RESOURCE_TYPE;
        let u = user();
        let sel = |p: &str| select(&u, rt, &parse_attr_path(p).unwrap());
        assert_eq!(sel("userName"), vec![&json!("bjensen@example.com")]);
        assert_eq!(sel("USERNAME"), vec![&json!("bjensen@example.com")]);
        assert_eq!(sel("name.familyName"), vec![&json!("Jensen")]);
        assert_eq!(sel("emails"), vec![&json!("bjensen@example.com"), &json!("babs@jensen.org")]);
        assert_eq!(sel("emails.type"), vec![&json!("work"), &json!("home")]);
        assert_eq!(sel("meta.lastModified"), vec![&json!("2011-05-13T06:42:34+02:00")]);
        assert_eq!(
            sel("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
            vec![&json!("26118915-6090-4610-87e4-49d8ca9f808d")]
        );
        assert!(sel("nickName").is_empty());
        assert!(sel("nosuch").is_empty());
        assert!(sel("name").is_empty());
        // The primary element comes first.
        let v = json!({"emails": [{"value": "b"}, {"value": "a", "primary": true}]});
        assert_eq!(select(&v, rt, &path("emails")), vec![&json!("a"), &json!("b")]);
    }

    #[test]
    fn sort_order() {
        let rt = &USER_RESOURCE_TYPE;
        let def = |p: &str| {
            let p = parse_attr_path(p).unwrap();
            rt.resolve(p.urn.as_deref(), &p.name, p.sub.as_deref()).unwrap().leaf()
        };
        let user_name = def("userName");
        let s = |x: &str| json!(x);
        assert_eq!(compare_for_sort(user_name, Some(&s("alice")), Some(&s("BOB"))), Ordering::Less);
        assert_eq!(compare_for_sort(user_name, Some(&s("ALICE")), Some(&s("alice"))), Ordering::Equal);
        let external_id = def("externalId");
        assert_eq!(compare_for_sort(external_id, Some(&s("alice")), Some(&s("BOB"))), Ordering::Greater);
        assert_eq!(compare_for_sort(user_name, None, Some(&s("a"))), Ordering::Greater);
        assert_eq!(compare_for_sort(user_name, Some(&s("a")), None), Ordering::Less);
        assert_eq!(compare_for_sort(user_name, Some(&Value::Null), Some(&s("a"))), Ordering::Greater);
        assert_eq!(compare_for_sort(user_name, None, None), Ordering::Equal);

        let modified = def("meta.lastModified");
        assert_eq!(
            compare_for_sort(modified, Some(&s("2011-05-13T06:42:34+02:00")), Some(&s("2011-05-13T05:00:00Z"))),
            Ordering::Less
        );
        assert_eq!(
            compare_for_sort(modified, Some(&s("2011-05-13T06:42:34+02:00")), Some(&s("2011-05-13T04:42:34Z"))),
            Ordering::Equal
        );

        let active = def("active");
        assert_eq!(compare_for_sort(active, Some(&json!(false)), Some(&json!(true))), Ordering::Less);
        assert_eq!(compare_for_sort(active, Some(&s("True")), Some(&json!(false))), Ordering::Greater);

        let n = AttrDef::new("n", AttrType::Integer, "");
        assert_eq!(compare_for_sort(&n, Some(&json!(10)), Some(&json!(9))), Ordering::Greater);
        assert_eq!(compare_for_sort(&n, Some(&json!(2.5)), Some(&json!(3))), Ordering::Less);

        // Complex defs sort by their value sub-attribute; emails.value is not caseExact.
        let emails = def("emails");
        assert_eq!(compare_for_sort(emails, Some(&s("A@x")), Some(&s("a@x"))), Ordering::Equal);

        // Sorting whole resources by userName with missing ones last, using select.
        let users = [
            json!({"userName": "carol"}),
            json!({"displayName": "no user name"}),
            json!({"userName": "Alice"}),
            json!({"userName": "bob"}),
        ];
        let by = parse_attr_path("userName").unwrap();
        let mut sorted: Vec<&Value> = users.iter().collect();
        sorted.sort_by(|a, b| {
            compare_for_sort(user_name, select(a, rt, &by).first().copied(), select(b, rt, &by).first().copied())
        });
        let names: Vec<Option<&str>> = sorted.iter().map(|u| u.get("userName").and_then(Value::as_str)).collect();
        assert_eq!(names, vec![Some("Alice"), Some("bob"), Some("carol"), None]);
    }

    #[test]
    fn sort_order_is_total_on_mixed_types() {
        let modified = USER_RESOURCE_TYPE.resolve(None, "meta", Some("lastModified")).unwrap().leaf();
        let values = [
            json!("2011-05-13T04:42:34Z"),
            json!("not a date"),
            json!(5),
            json!(true),
            json!("2011-05-13T06:42:34+02:00"),
            json!([1]),
            json!({"a": 1}),
            json!("Z"),
            json!(5.0),
        ];
        for a in &values {
            for b in &values {
                let ab = compare_for_sort(modified, Some(a), Some(b));
                let ba = compare_for_sort(modified, Some(b), Some(a));
                assert_eq!(ab, ba.reverse(), "{a} vs {b}");
                for c in &values {
                    let bc = compare_for_sort(modified, Some(b), Some(c));
                    let ac = compare_for_sort(modified, Some(a), Some(c));
                    if ab != Ordering::Greater && bc != Ordering::Greater {
                        assert_ne!(ac, Ordering::Greater, "{a} <= {b} <= {c}");
                    }
                }
            }
        }
    }
}
