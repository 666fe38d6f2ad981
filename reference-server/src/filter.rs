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
    /// The attribute's name (`emails`, `userName`).
    pub name: String,
    /// The sub-attribute after a dot (`value` in `emails.value`), if any.
    pub sub: Option<String>,
}

/// Comparison operators (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains the value as a substring.
    Co,
    /// `sw`: starts with the value.
    Sw,
    /// `ew`: ends with the value.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
    Le,
}

/// A comparison value: a JSON string, number, boolean or null (RFC 7644 §3.4.2.2 `compValue`).
pub type CompValue = Value;

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath compareOp compValue`
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The value compared with.
        value: CompValue,
    },
    /// `attrPath pr`
    Present(AttrPath),
    /// `a and b`: both hold.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`: either holds.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`: the inner filter does not hold.
    Not(Box<Filter>),
    /// `attrPath "[" valFilter "]"`: the inner filter is evaluated against each element of the
    /// multi-valued attribute, with paths relative to the element.
    ValuePath {
        /// The multi-valued attribute whose elements are tested.
        path: AttrPath,
        /// The filter each element is tested against.
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
    /// The byte offset into the filter text where the error was found.
    pub position: usize,
    /// What is wrong, in words.
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

mod eval;
pub use eval::*;

#[cfg(test)]
mod tests;
