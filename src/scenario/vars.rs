//! Variables of a scenario: `{{name}}` placeholders (optionally `|upper` / `|lower`), the order variables are
//! defined in, the `$generators` that give each run its own values, and [`Vars`], the values of one run.

use super::*;

/// A `{{…}}` reference found in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Variable, capture or `$generator` name.
    pub name: String,
    /// Optional case filter.
    pub filter: Option<CaseFilter>,
}

/// A filter applied to a substituted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseFilter {
    /// Upper-case the value.
    Upper,
    /// Lower-case the value.
    Lower,
}

fn placeholder_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{\s*([^{}|\s]*)\s*(?:\|\s*([^{}\s]*)\s*)?\}\}").expect("valid regex"))
}

/// A variable or capture name: a letter or `_`, then letters, digits, `_` and `.`. The loader's rule
/// ([`name_re`]) and the JSON Schema's (`propertyNames` of `variables` and `capture`, [`super::schema`]).
pub(super) const NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_.]*$";

/// [`NAME_PATTERN`]: a name a scenario may define.
pub(super) fn name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(NAME_PATTERN).expect("valid regex"))
}

/// A name a placeholder may use: [`NAME_PATTERN`], or a `$generator` of the same form.
fn placeholder_name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let name = NAME_PATTERN.trim_start_matches('^');
        Regex::new(&format!(r"^\$?{name}")).expect("valid regex")
    })
}

/// A malformed placeholder; `Display` is the loader's reason (quoting the text, which is the scenario's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderError {
    /// `{{` without its closing `}}` somewhere in the text (the whole text).
    Unclosed(String),
    /// A placeholder whose name is not a variable or generator name (the placeholder as written).
    BadName(String),
    /// A filter other than `upper` and `lower` (the filter, the placeholder as written).
    UnknownFilter(String, String),
}

impl std::fmt::Display for PlaceholderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceholderError::Unclosed(s) => write!(f, "malformed placeholder in {s:?}"),
            PlaceholderError::BadName(p) => write!(f, "malformed placeholder {p:?}"),
            PlaceholderError::UnknownFilter(filter, p) => {
                write!(f, "unknown filter `{filter}` in {p:?} (known: upper, lower)")
            }
        }
    }
}

impl std::error::Error for PlaceholderError {}

/// Parses every placeholder in `s`.
///
/// Errors: the first malformed one ([`PlaceholderError`]).
pub fn placeholders(s: &str) -> Result<Vec<Placeholder>, PlaceholderError> {
    let mut out = Vec::new();
    let mut covered = 0;
    for caps in placeholder_re().captures_iter(s) {
        let whole = caps.get(0).expect("group 0");
        if s[covered..whole.start()].contains("{{") {
            return Err(PlaceholderError::Unclosed(s.to_string()));
        }
        covered = whole.end();
        let name = &caps[1];
        if !placeholder_name_re().is_match(name) {
            return Err(PlaceholderError::BadName(whole.as_str().to_string()));
        }
        let filter = match caps.get(2).map(|m| m.as_str()) {
            None => None,
            Some("upper") => Some(CaseFilter::Upper),
            Some("lower") => Some(CaseFilter::Lower),
            Some(other) => return Err(PlaceholderError::UnknownFilter(other.to_string(), whole.as_str().to_string())),
        };
        out.push(Placeholder { name: name.to_string(), filter });
    }
    if s[covered..].contains("{{") {
        return Err(PlaceholderError::Unclosed(s.to_string()));
    }
    Ok(out)
}

/// Orders variables so each comes after the ones it refers to; `Err` describes a cycle.
pub(super) fn variable_order(vars: &BTreeMap<String, String>) -> Result<Vec<String>, String> {
    fn visit(
        name: &str,
        vars: &BTreeMap<String, String>,
        state: &mut BTreeMap<String, bool>,
        order: &mut Vec<String>,
        stack: &mut Vec<String>,
    ) -> Result<(), String> {
        match state.get(name) {
            Some(true) => return Ok(()),
            Some(false) => {
                stack.push(name.to_string());
                return Err(stack.join(" → "));
            }
            None => {}
        }
        let Some(template) = vars.get(name) else {
            return Ok(());
        };
        state.insert(name.to_string(), false);
        stack.push(name.to_string());
        for ph in placeholders(template).unwrap_or_default() {
            if !ph.name.starts_with('$') {
                visit(&ph.name, vars, state, order, stack)?;
            }
        }
        stack.pop();
        state.insert(name.to_string(), true);
        order.push(name.to_string());
        Ok(())
    }
    let mut state = BTreeMap::new();
    let mut order = Vec::new();
    for name in vars.keys() {
        visit(name, vars, &mut state, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

type Generator = fn() -> String;

/// The generators usable in `variables`, each giving a value unique to the run.
pub const GENERATORS: &[(&str, Generator)] = &[
    ("$uuid", gen_uuid),
    ("$digits", gen_digits),
    ("$okta.givenName", gen_okta_given),
    ("$okta.familyName", gen_okta_family),
    ("$okta.userId", gen_okta_user_id),
    ("$okta.password", gen_okta_password),
    ("$name.given", gen_given_name),
    ("$name.family", gen_family_name),
    ("$azure.userName", gen_azure_user_name),
    ("$azure.externalId", gen_uuid),
];

pub(super) fn generator_names() -> String {
    GENERATORS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn rand_chars(set: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| set[rng.random_range(0..set.len())] as char).collect()
}

const DIGITS: &[u8] = b"0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn gen_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
fn gen_digits() -> String {
    rand_chars(DIGITS, 6)
}
/// Okta SPEC suite (Initial_Script_Spec.txt): "Runscope" + 3 digits.
fn gen_okta_given() -> String {
    format!("Runscope{}", rand_chars(DIGITS, 3))
}
/// Okta SPEC suite: 1 upper + 8 lower + 3 digits.
fn gen_okta_family() -> String {
    format!("{}{}{}", rand_chars(UPPER, 1), rand_chars(LOWER, 8), rand_chars(DIGITS, 3))
}
/// An Okta user id like `00ujl29u0le5T6Aj10h7` (Okta sends it as `externalId`).
fn gen_okta_user_id() -> String {
    format!("00u{}", rand_chars(ALNUM, 17))
}
/// Okta's placeholder password, 8 alphanumerics.
fn gen_okta_password() -> String {
    rand_chars(ALNUM, 8)
}
const GIVEN: &[&str] =
    &["Tina", "Steve", "Maria", "Ahmed", "Yuki", "Olga", "Kwame", "Priya", "Lucas", "Ingrid", "Mateo", "Aisha"];
const FAMILY: &[&str] =
    &["Erickson", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Kowalski", "Haddad", "Fernandes", "Novak", "Byrne"];
/// A realistic given name with a 4-digit suffix so it is unique to the run.
fn gen_given_name() -> String {
    let i = rand::rng().random_range(0..GIVEN.len());
    format!("{}{}", GIVEN[i], rand_chars(DIGITS, 4))
}
/// A realistic family name with a 4-digit suffix.
fn gen_family_name() -> String {
    let i = rand::rng().random_range(0..FAMILY.len());
    format!("{}{}", FAMILY[i], rand_chars(DIGITS, 4))
}
/// Entra's documented test user name style: `Test_User_<guid>`.
fn gen_azure_user_name() -> String {
    format!("Test_User_{}", uuid::Uuid::new_v4())
}

/// Variable and capture values of one scenario execution.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, Value>,
    generated: BTreeSet<String>,
    absent: BTreeSet<String>,
}

impl Vars {
    /// Resolves a scenario's variables, running generators once each.
    pub fn for_scenario(s: &Scenario) -> Vars {
        let mut vars = Vars::default();
        let order = variable_order(&s.variables).unwrap_or_default();
        // Values drawn so far: a new draw that equals or overlaps one is drawn again, so the normaliser can
        // always tell generated values apart.
        let drawn = std::cell::RefCell::new(Vec::<String>::new());
        for name in order {
            let template = &s.variables[&name];
            let phs = placeholders(template).unwrap_or_default();
            let uses_generator = phs.iter().any(|p| p.name.starts_with('$') || vars.generated.contains(&p.name));
            let value = vars.render_with(template, |name| {
                let (_, generate) = GENERATORS.iter().find(|(g, _)| *g == name)?;
                let mut drawn = drawn.borrow_mut();
                let overlaps = |v: &str| drawn.iter().any(|d| d.contains(v) || v.contains(d.as_str()));
                let mut v = generate();
                for _ in 0..100 {
                    if !overlaps(&v) {
                        break;
                    }
                    v = generate();
                }
                drawn.push(v.clone());
                Some(Value::String(v))
            });
            if uses_generator {
                vars.generated.insert(name.clone());
            }
            vars.values.insert(name, Value::String(value));
        }
        vars
    }

    /// Adds or replaces a capture.
    pub fn set(&mut self, name: &str, value: Value) {
        self.absent.remove(name);
        self.values.insert(name.to_string(), value);
    }

    /// Records that an optional capture found nothing: it is defined, without a value.
    pub fn set_absent(&mut self, name: &str) {
        self.values.remove(name);
        self.absent.insert(name.to_string());
    }

    /// Whether `name` has a value or is an optional capture the server left out.
    pub fn is_defined(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.absent.contains(name)
    }

    /// Whether `name` is an optional capture the server left out.
    pub fn is_absent(&self, name: &str) -> bool {
        self.absent.contains(name)
    }

    /// The value of a variable or capture.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Variables whose value came (directly or through another variable) from a generator.
    pub fn generated(&self) -> impl Iterator<Item = (&str, &str)> {
        self.generated.iter().filter_map(|n| Some((n.as_str(), self.values.get(n)?.as_str()?)))
    }

    /// Names referenced by `s` that have no value yet.
    pub fn missing_in(&self, s: &str) -> Vec<String> {
        placeholders(s)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !self.values.contains_key(&p.name))
            .map(|p| p.name)
            .collect()
    }

    fn render_with(&self, s: &str, extra: impl Fn(&str) -> Option<Value>) -> String {
        placeholder_re()
            .replace_all(s, |caps: &regex::Captures| {
                let name = &caps[1];
                let value = self.values.get(name).cloned().or_else(|| extra(name));
                let text = match value {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => return caps[0].to_string(),
                };
                match caps.get(2).map(|m| m.as_str()) {
                    Some("upper") => text.to_uppercase(),
                    Some("lower") => text.to_lowercase(),
                    _ => text,
                }
            })
            .into_owned()
    }

    /// Substitutes `{{…}}` in a string (unknown names are left as written).
    pub fn render(&self, s: &str) -> String {
        self.render_with(s, |_| None)
    }

    /// Whether `v` is exactly `{{name}}` of an optional capture the server left out.
    fn is_whole_absent(&self, v: &Value) -> bool {
        let Value::String(s) = v else { return false };
        match placeholders(s).as_deref() {
            Ok([p]) => self.absent.contains(&p.name) && placeholder_re().find(s).is_some_and(|m| m.as_str() == s),
            _ => false,
        }
    }

    /// Substitutes inside every string of a JSON value; a string that is exactly one unfiltered placeholder of a
    /// non-string capture becomes that JSON value.
    pub fn render_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => {
                if let Ok(phs) = placeholders(s) {
                    if phs.len() == 1 && phs[0].filter.is_none() {
                        let whole = placeholder_re().find(s).map(|m| m.as_str() == s.as_str());
                        if whole == Some(true) {
                            if let Some(val) = self.values.get(&phs[0].name) {
                                return val.clone();
                            }
                        }
                    }
                }
                Value::String(self.render(s))
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.render_value(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .filter(|(_, x)| !self.is_whole_absent(x))
                    .map(|(k, x)| (k.clone(), self.render_value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}
