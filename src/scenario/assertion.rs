//! An assertion on a response body: a `pointer` and exactly one [`Check`], so an assertion with no check or two
//! cannot be represented. Files keep the flat shape `{"pointer": "/x", "equals": 1}`: [`Assertion::from_json`]
//! reads it, reporting every problem of the assertion (no check, two checks, an unknown key, a wrong operand, a
//! `false` where only `true` is allowed), and [`assertion_errors`] runs it over a whole file so the loader reports
//! them all together with the file's other errors.

use std::borrow::Cow;
use std::fmt;

use regex::Regex;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::schema::JsonPointer;
use super::{step_label, Basis};

/// A regular expression of a `matches` check, compiled when the scenario loads. Compares and serialises as its
/// source text.
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl Pattern {
    /// Compiles `source` (the `regex` crate's syntax); the error says why it is not a regular expression.
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        Regex::new(source).map(Pattern)
    }

    /// The source text, as written in the file.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the expression matches somewhere in `s` (unanchored, as `regex::Regex::is_match`).
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operand of a check, read from and written to its JSON value in a file.
trait Operand: Sized {
    /// The operand in `v`; the error completes "`<check>` on `<pointer>` …" (`must be a string, not 3`).
    fn read(v: &Value) -> Result<Self, String>;
    /// The JSON value written to a file.
    fn write(&self) -> Value;
    /// The JSON Schema of that value.
    fn schema() -> Value;
}

impl Operand for Value {
    fn read(v: &Value) -> Result<Self, String> {
        Ok(v.clone())
    }
    fn write(&self) -> Value {
        self.clone()
    }
    fn schema() -> Value {
        json!({})
    }
}

impl Operand for String {
    fn read(v: &Value) -> Result<Self, String> {
        v.as_str().map(str::to_string).ok_or_else(|| format!("must be a string, not {v}"))
    }
    fn write(&self) -> Value {
        Value::String(self.clone())
    }
    fn schema() -> Value {
        json!({"type": "string"})
    }
}

impl Operand for u64 {
    fn read(v: &Value) -> Result<Self, String> {
        v.as_u64().ok_or_else(|| format!("must be a non-negative integer, not {v}"))
    }
    fn write(&self) -> Value {
        Value::from(*self)
    }
    fn schema() -> Value {
        json!({"type": "integer", "minimum": 0})
    }
}

impl Operand for f64 {
    fn read(v: &Value) -> Result<Self, String> {
        v.as_f64().ok_or_else(|| format!("must be a number, not {v}"))
    }
    fn write(&self) -> Value {
        Value::from(*self)
    }
    fn schema() -> Value {
        json!({"type": "number"})
    }
}

impl Operand for Pattern {
    fn read(v: &Value) -> Result<Self, String> {
        let s = String::read(v)?;
        Pattern::new(&s).map_err(|e| format!("is a bad regular expression: {e}"))
    }
    fn write(&self) -> Value {
        Value::String(self.as_str().to_string())
    }
    fn schema() -> Value {
        json!({"type": "string", "format": "regex"})
    }
}

/// Reads the operand of a check that takes only `true` (`"exists": true`): `false` is refused, as the opposite
/// check says it (`absent` for `exists: false`).
fn read_true(v: &Value) -> Result<(), String> {
    match v {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err("is `false`: only `true` is allowed (use the opposite check)".into()),
        other => Err(format!("takes only `true`, not {other}")),
    }
}

/// `schema` with the description of doc comment `lines` (each with the space after `///`).
fn described(mut schema: Value, lines: &[&str]) -> Value {
    let text = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    if let Value::Object(m) = &mut schema {
        m.insert("description".into(), Value::String(text));
    }
    schema
}

/// Defines [`Check`] from one list of `"fileName" => Variant(Operand)` entries (a variant without an operand is a
/// check written `"name": true`): the enum, its names ([`Check::NAMES`], in list order), and how each is read
/// from and written to a file.
macro_rules! checks {
    ($( $(#[doc = $doc:literal])* $name:literal => $variant:ident $(($operand:ty))?, )*) => {
        /// The one check of an [`Assertion`], with its typed operand; written in a file as one member of the
        /// assertion object, `"<name>": operand` (`"equals": 1`, `"exists": true`).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Check {
            $( $(#[doc = $doc])* $variant $(($operand))?, )*
        }

        impl Check {
            /// The names of all checks as written in scenario files, in the order messages list them.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The name as written in scenario files (`equalsIgnoreCase`).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Check::$variant { .. } => $name, )*
                }
            }

            /// The check `name` with the operand in `v`; `None` when `name` is not a check. The error completes
            /// "`<name>` on `<pointer>` …".
            fn read(name: &str, v: &Value) -> Option<Result<Check, String>> {
                match name {
                    $( $name => Some(checks!(@read v, $variant $(, $operand)?)), )*
                    _ => None,
                }
            }

            /// The JSON Schema of each check's member of an assertion object, by name, with the check's doc as
            /// its description.
            fn schemas() -> Vec<(&'static str, Value)> {
                vec![$( ($name, described(checks!(@schema $($operand)?), &[$($doc),*])), )*]
            }

            /// The operand as written in a file (`true` for a check without one).
            pub fn operand(&self) -> Value {
                match self {
                    $( Check::$variant $((checks!(@bind operand, $operand)))? => checks!(@write operand $(, $operand)?), )*
                }
            }
        }
    };
    (@read $v:ident, $variant:ident) => { read_true($v).map(|()| Check::$variant) };
    (@read $v:ident, $variant:ident, $operand:ty) => { <$operand as Operand>::read($v).map(Check::$variant) };
    (@bind $x:ident, $operand:ty) => { $x };
    (@schema) => { json!({"const": true}) };
    (@schema $operand:ty) => { <$operand as Operand>::schema() };
    (@write $x:ident) => { Value::Bool(true) };
    (@write $x:ident, $operand:ty) => { Operand::write($x) };
}

checks! {
    /// The value equals this JSON value (numbers compare numerically; strings may use `{{variables}}`).
    "equals" => Equals(Value),
    /// The value is a string equal to this one ignoring case.
    "equalsIgnoreCase" => EqualsIgnoreCase(String),
    /// The value is present.
    "exists" => Exists,
    /// The value is absent.
    "absent" => Absent,
    /// The value is present and not null, `""`, `[]` or `{}`.
    "notEmpty" => NotEmpty,
    /// The value is a JSON number.
    "isNumber" => IsNumber,
    /// The value is a JSON string.
    "isString" => IsString,
    /// The value is a JSON array.
    "isArray" => IsArray,
    /// The value is a JSON boolean.
    "isBoolean" => IsBoolean,
    /// An array containing an element equal to this value (an object: an element having all its members), or a
    /// string containing this substring.
    "contains" => Contains(Value),
    /// An array, string or object of exactly this length.
    "length" => Length(u64),
    /// A number greater than or equal to this one.
    "atLeast" => AtLeast(f64),
    /// A string matching this regular expression.
    "matches" => Matches(Pattern),
    /// Present and not equal to this JSON value (strings may use `{{variables}}`): a value a write must change,
    /// such as `meta.version` (RFC 7643 §3.1).
    "notEquals" => NotEquals(Value),
    /// An RFC 3339 timestamp at or after this one (a template, e.g. `{{created}}`; both parsed, offsets
    /// honoured): `meta.lastModified` never goes back (RFC 7643 §3.1).
    "notBefore" => NotBefore(String),
}

/// Every string in `v`, depth first (object members' values, not their names): where a template's
/// `{{variables}}` may stand.
pub(super) fn value_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| value_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| value_strings(x, out)),
        _ => {}
    }
}

/// The members of an assertion object besides its check.
const MEMBERS: [&str; 3] = ["pointer", "when", "basis"];

/// An assertion on the JSON value at `pointer` (RFC 6901) of the response body: one [`Check`]; `when` makes it
/// conditional on another assertion holding. Written `{"pointer": "/x", "<check>": operand, "when": {…},
/// "basis": {…}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    /// JSON pointer into the response body (`""` is the whole body; an element selector `[name=value]` may stand
    /// for an array index).
    pub pointer: String,
    /// What must hold of the value at `pointer`.
    pub check: Check,
    /// Check this assertion only when the `when` assertion holds.
    pub when: Option<Box<Assertion>>,
    /// Why this assertion exists, when it differs from the step's basis.
    pub basis: Option<Basis>,
}

impl Assertion {
    /// The names of all checks, as written in scenario files ([`Check::NAMES`]).
    pub const CHECKS: &'static [&'static str] = Check::NAMES;

    /// The strings of the assertion that may use `{{variables}}`: the operands its check renders
    /// ([`crate::check`]: `equals`, `contains` and `notEquals` values, `equalsIgnoreCase` and `notBefore` strings),
    /// then those of its `when`. Not its pointer (read as written) nor its basis (text for people).
    pub(super) fn template_strings<'a>(&'a self, out: &mut Vec<&'a str>) {
        match &self.check {
            Check::Equals(v) | Check::Contains(v) | Check::NotEquals(v) => value_strings(v, out),
            Check::EqualsIgnoreCase(s) | Check::NotBefore(s) => out.push(s),
            Check::Exists
            | Check::Absent
            | Check::NotEmpty
            | Check::IsNumber
            | Check::IsString
            | Check::IsArray
            | Check::IsBoolean
            | Check::Length(_)
            | Check::AtLeast(_)
            | Check::Matches(_) => {}
        }
        if let Some(w) = &self.when {
            w.template_strings(out);
        }
    }

    /// The names of the `{{placeholders}}` the assertion uses ([`Self::template_strings`]), sorted, each once: the
    /// variables and captures it needs a value for.
    pub fn placeholders(&self) -> Vec<String> {
        let mut strings = Vec::new();
        self.template_strings(&mut strings);
        let mut names: Vec<String> =
            strings.into_iter().flat_map(|s| super::placeholders(s).unwrap_or_default()).map(|p| p.name).collect();
        names.sort();
        names.dedup();
        names
    }

    /// `check` on the value at `pointer`, unconditional, under the step's basis.
    pub fn new(pointer: impl Into<String>, check: Check) -> Assertion {
        Assertion { pointer: pointer.into(), check, when: None, basis: None }
    }

    /// Reads an assertion object as a scenario file writes it; the error lists every problem found in it and in
    /// its `when`, each a sentence for the loader: not an object, no or a malformed `pointer` (RFC 6901), an
    /// unknown member, no check or more than one, a wrong operand, `false` for a `true`-only check, a bad `basis`.
    pub fn from_json(v: &Value) -> Result<Assertion, Vec<String>> {
        let Some(m) = v.as_object() else {
            return Err(vec![format!("an assertion is an object `{{\"pointer\": …, \"<check>\": …}}`, not {v}")]);
        };
        let mut errors = Vec::new();
        let pointer = match m.get("pointer") {
            Some(Value::String(p)) => {
                if let Err(e) = check_pointer(p) {
                    errors.push(e);
                }
                p.clone()
            }
            Some(other) => {
                errors.push(format!("an assertion's `pointer` is a string, not {other}"));
                String::new()
            }
            None => {
                errors.push(format!("an assertion needs a `pointer` (RFC 6901): {v}"));
                String::new()
            }
        };
        for key in m.keys().filter(|k| !MEMBERS.contains(&k.as_str()) && !Check::NAMES.contains(&k.as_str())) {
            errors.push(format!(
                "unknown field `{key}` in the assertion on `{pointer}` (known: {}, {})",
                MEMBERS.join(", "),
                Check::NAMES.join(", ")
            ));
        }
        let check = read_check(m, &pointer).map_err(|e| errors.push(e)).ok();
        let when = match m.get("when") {
            None => None,
            Some(w) => Assertion::from_json(w)
                .map_err(|e| {
                    errors.extend(e.into_iter().map(|e| format!("in `when` of the check on `{pointer}`: {e}")))
                })
                .ok()
                .map(Box::new),
        };
        let basis = match m.get("basis") {
            None => None,
            Some(b) => {
                Basis::deserialize(b).map_err(|e| errors.push(format!("`basis` of the check on `{pointer}`: {e}"))).ok()
            }
        };
        match check {
            Some(check) if errors.is_empty() => Ok(Assertion { pointer, check, when, basis }),
            _ => Err(errors),
        }
    }
}

/// The one check among the members of `m`, or why there is not exactly one valid check.
fn read_check(m: &Map<String, Value>, pointer: &str) -> Result<Check, String> {
    let set: Vec<&str> = Check::NAMES.iter().copied().filter(|n| m.contains_key(*n)).collect();
    match set[..] {
        [name] => Check::read(name, &m[name])
            .unwrap_or_else(|| Err("is not a check".into()))
            .map_err(|e| format!("`{name}` on `{pointer}` {e}")),
        _ => Err(format!(
            "assertion on `{pointer}` must have exactly one check ({}); found {}",
            Check::NAMES.join(", "),
            if set.is_empty() { "none".to_string() } else { set.join(", ") }
        )),
    }
}

/// Whether `p` can be a JSON pointer (RFC 6901 §3): empty (the whole document) or starting with `/`.
pub(super) fn check_pointer(p: &str) -> Result<(), String> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(format!("`{p}` is not a JSON pointer (it must be empty or start with `/`)"))
    }
}

impl Serialize for Assertion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("pointer", &self.pointer)?;
        m.serialize_entry(self.check.name(), &self.check.operand())?;
        if let Some(w) = &self.when {
            m.serialize_entry("when", w)?;
        }
        if let Some(b) = &self.basis {
            m.serialize_entry("basis", b)?;
        }
        m.end()
    }
}

/// The flat file shape: `pointer`, exactly one check (`oneOf` the checks' `required`), `when`, `basis`, nothing
/// else.
impl JsonSchema for Assertion {
    fn schema_name() -> Cow<'static, str> {
        "assertion".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut properties = Map::new();
        properties.insert("pointer".into(), generator.subschema_for::<JsonPointer>().to_value());
        for (name, schema) in Check::schemas() {
            properties.insert(name.into(), schema);
        }
        properties.insert(
            "when".into(),
            described(
                generator.subschema_for::<Assertion>().to_value(),
                &["Check this assertion only when the `when` assertion holds."],
            ),
        );
        properties.insert(
            "basis".into(),
            described(
                generator.subschema_for::<Basis>().to_value(),
                &["Why this assertion exists, when it differs from the step's basis."],
            ),
        );
        let one_check: Vec<Value> = Check::NAMES.iter().map(|n| json!({"required": [n]})).collect();
        json_schema!({
            "description": "An assertion on the JSON value at `pointer` of the response body: exactly one check; \
                `when` makes it conditional on another assertion holding.",
            "type": "object",
            "properties": properties,
            "required": ["pointer"],
            "additionalProperties": false,
            "oneOf": one_check,
        })
    }
}

impl<'de> Deserialize<'de> for Assertion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Assertion::from_json(&v).map_err(|e| serde::de::Error::custom(e.join("; ")))
    }
}

/// Every problem of the assertions (`steps[i].expect.body[j]`) of a scenario file's JSON, as `(step label,
/// reason)` in file order, and, when there is one, the file without the assertions that have one, which then
/// deserialises to show the file's other errors. Nothing is found in a file whose steps or bodies are not arrays
/// (its deserialisation says so).
pub(super) fn assertion_errors(raw: &Value) -> (Vec<(Option<String>, String)>, Option<Value>) {
    let mut errors = Vec::new();
    let mut bad: Vec<(usize, usize)> = Vec::new();
    for (i, step) in raw.get("steps").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(body) = step.pointer("/expect/body").and_then(Value::as_array) else { continue };
        for (j, a) in body.iter().enumerate() {
            if let Err(e) = Assertion::from_json(a) {
                errors.extend(e.into_iter().map(|e| (Some(step_label(i, raw)), e)));
                bad.push((i, j));
            }
        }
    }
    if bad.is_empty() {
        return (errors, None);
    }
    let mut kept = raw.clone();
    for &(i, j) in bad.iter().rev() {
        if let Some(body) = kept.pointer_mut(&format!("/steps/{i}/expect/body")).and_then(Value::as_array_mut) {
            body.remove(j);
        }
    }
    (errors, Some(kept))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_problem_of_one_assertion_is_reported_and_serde_reports_them_too() {
        let bad = json!({"pointer": "x", "exists": true, "absent": true, "bogus": 1, "when": {"pointer": "/y", "isString": 1}});
        let errors = Assertion::from_json(&bad).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].contains("`x` is not a JSON pointer"), "{errors:#?}");
        assert!(errors[1].contains("unknown field `bogus`"), "{errors:#?}");
        assert!(errors[2].contains("exactly one check") && errors[2].ends_with("found exists, absent"), "{errors:#?}");
        assert!(errors[3].contains("in `when`") && errors[3].contains("`isString` on `/y` takes only `true`, not 1"));
        let e = serde_json::from_value::<Assertion>(bad).unwrap_err().to_string();
        assert!(e.contains("bogus") && e.contains("found exists, absent"), "{e}");
    }

    /// A JSON `null` is a value like any other for the checks that take one (the recorder writes `"equals": null`
    /// for an error's `"scimType": null`), and it reads back as the same check.
    #[test]
    fn a_null_operand_round_trips() {
        for check in [Check::Equals(Value::Null), Check::NotEquals(Value::Null), Check::Contains(Value::Null)] {
            let a = Assertion::new("/scimType", check);
            let written = serde_json::to_value(&a).unwrap();
            assert_eq!(Assertion::from_json(&written), Ok(a.clone()), "{written}");
            assert_eq!(serde_json::from_value::<Assertion>(written).unwrap(), a);
        }
        let e = Assertion::from_json(&json!({"pointer": "/n", "length": null})).unwrap_err();
        assert_eq!(e, ["`length` on `/n` must be a non-negative integer, not null"]);
    }

    #[test]
    fn a_pattern_is_compiled_once_and_written_as_its_source() {
        let a = Assertion::from_json(&json!({"pointer": "/id", "matches": "^[0-9a-f]{4}$"})).unwrap();
        let Check::Matches(p) = &a.check else { panic!("{a:?}") };
        assert!(p.is_match("beef") && !p.is_match("beefs"));
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"pointer": "/id", "matches": "^[0-9a-f]{4}$"}));
        let e = Assertion::from_json(&json!({"pointer": "/id", "matches": "("})).unwrap_err();
        assert!(e[0].starts_with("`matches` on `/id` is a bad regular expression"), "{e:?}");
    }
}
