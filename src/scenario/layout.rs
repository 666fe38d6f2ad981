//! Where a scenario file's id, IdP and group come from, in any folder layout.
//!
//! The library's layout is `<idp>/<group>/…/<name>.json` (`okta/spec/spec_suite.json` → `okta::spec::spec_suite`).
//! A user's folder may use it or any other (`myscen/x.json`, `myscen/acme/x.json`): the optional `idp` and `group`
//! fields of the file win, and the folders are the default — the first `okta|azure|entra|rfc` folder with a group
//! folder below it gives both; otherwise the group is the folder the file is in. A file that neither names its IdP
//! nor lies under an IdP folder is an error saying how to name it. `entra` folders and fields mean the IdP whose
//! ids are `azure::…` (ids, snapshot names and the library's folders keep `azure`).
//!
//! In a scenario folder, every `*.json` file is read except JSON Schemas (`*.schema.json`); a JSON object with
//! none of the scenario's keys (`title`, `level`, `steps`) outside the `<idp>/<group>/` layout — library metadata
//! such as `okta/faults.json` — is not a scenario.

use std::path::Path;

use serde_json::Value;

use super::Idp;

/// A scenario's place: its id (`idp::group::name`) and IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    /// `idp::group::…::name`.
    pub id: String,
    /// The IdP.
    pub idp: Idp,
}

/// The IdP and group given by the file's `idp` and `group` fields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Declared<'a> {
    /// The `idp` field.
    pub idp: Option<&'a str>,
    /// The `group` field.
    pub group: Option<&'a str>,
}

/// Why a scenario has no place (no id); `Display` is the loader's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PlaceError {
    /// `idp` names no IdP (the name written).
    UnknownIdp(String),
    /// `group` (or the folder name it defaults to) is not one id segment (the group).
    BadGroup(String),
    /// Outside the `<idp>/<group>/` layout with no `group` and a folder name that makes none.
    NoGroup,
    /// Neither the fields nor the folders say which IdP (the path below the scenario folder).
    NoIdp(String),
}

impl std::fmt::Display for PlaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceError::UnknownIdp(name) => write!(f, "`idp`: unknown IdP `{name}` ({})", Idp::NAMES),
            PlaceError::BadGroup(group) => {
                write!(f, "`group`: `{group}` must be lowercase letters, digits or `_` (it becomes part of the id)")
            }
            PlaceError::NoGroup => f.write_str("no group: add \"group\": \"<name>\" to the file"),
            PlaceError::NoIdp(rel_path) => write!(
                f,
                "which IdP does this scenario reproduce? Add \"idp\": \"okta\", \"entra\" or \"rfc\" to the file \
                 (and \"group\" if you like), or put it under okta|entra|rfc/<group>/ in its scenario folder (it is \
                 at `{rel_path}`)"
            ),
        }
    }
}

/// Places a scenario whose path below its scenario folder is `rel_path` (`/`-separated) and whose file on disk is
/// `file` (its parent folder's name is the default group outside the `<idp>/<group>/` layout).
///
/// Errors ([`PlaceError`]): an unknown IdP or an invalid group in the fields, or no IdP from either the fields or
/// the folders.
pub(crate) fn place(rel_path: &str, file: &Path, declared: &Declared) -> Result<Placement, PlaceError> {
    let stem = rel_path.strip_suffix(".json").unwrap_or(rel_path);
    let segments: Vec<&str> = stem.split('/').filter(|s| !s.is_empty()).collect();
    let field_idp = match declared.idp {
        Some(name) => Some(Idp::parse(name).ok_or_else(|| PlaceError::UnknownIdp(name.to_string()))?),
        None => None,
    };
    if let Some(group) = declared.group {
        check_group(group)?;
    }
    // the first IdP folder with a group folder and a file below it
    let folder = (0..segments.len().saturating_sub(2)).find_map(|i| Idp::parse(segments[i]).map(|idp| (i, idp)));
    let (idp, group, rest): (Idp, String, Vec<&str>) = match (folder, field_idp) {
        (Some((i, folder_idp)), field) => (
            field.unwrap_or(folder_idp),
            declared.group.map(str::to_string).unwrap_or_else(|| segments[i + 1].to_string()),
            segments[i + 2..].to_vec(),
        ),
        (None, Some(idp)) => {
            let group = match declared.group {
                Some(g) => g.to_string(),
                None => default_group(file)?,
            };
            (idp, group, segments.last().copied().into_iter().collect())
        }
        (None, None) => return Err(PlaceError::NoIdp(rel_path.to_string())),
    };
    let mut id = vec![idp.folder().to_string(), group];
    id.extend(rest.iter().map(|s| s.to_string()));
    Ok(Placement { id: id.join("::"), idp })
}

/// A group is one id segment: lowercase letters, digits and `_` (the report's id pattern).
fn check_group(group: &str) -> Result<(), PlaceError> {
    if group.is_empty() || !group.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(PlaceError::BadGroup(group.to_string()));
    }
    Ok(())
}

/// The name of the folder `file` is in, made an id segment (lowercased; other characters become `_`).
fn default_group(file: &Path) -> Result<String, PlaceError> {
    let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = parent
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| std::fs::canonicalize(parent).ok()?.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let group: String =
        name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>();
    if group.trim_matches('_').is_empty() {
        return Err(PlaceError::NoGroup);
    }
    Ok(group)
}

/// Whether a `.json` file at `rel_path` below a scenario folder is a scenario to load: always in the
/// `<idp>/<group>/` layout; elsewhere unless it is a JSON Schema or a JSON object with none of a scenario's keys.
/// Text that is not JSON is a scenario (so its error is reported, not ignored).
pub(crate) fn is_scenario(rel_path: &str, text: &str) -> bool {
    if rel_path.ends_with(".schema.json") {
        return false;
    }
    let segments: Vec<&str> = rel_path.split('/').collect();
    if segments.len() >= 3 && (0..segments.len() - 2).any(|i| Idp::parse(segments[i]).is_some()) {
        return true;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => ["title", "level", "steps"].iter().any(|k| m.contains_key(*k)),
        Ok(_) => false,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(rel: &str, file: &str, idp: Option<&str>, group: Option<&str>) -> Result<String, String> {
        place(rel, Path::new(file), &Declared { idp, group }).map(|p| p.id).map_err(|e| e.to_string())
    }

    #[test]
    fn the_library_layout_keeps_its_ids() {
        assert_eq!(id("okta/spec/spec_suite.json", "x", None, None).unwrap(), "okta::spec::spec_suite");
        assert_eq!(id("azure/cycle/a/b.json", "x", None, None).unwrap(), "azure::cycle::a::b");
        assert_eq!(id("entra/mine/b.json", "x", None, None).unwrap(), "azure::mine::b");
    }

    #[test]
    fn fields_win_and_folders_are_the_default() {
        assert_eq!(id("x.json", "myscen/x.json", Some("okta"), None).unwrap(), "okta::myscen::x");
        assert_eq!(id("acme/x.json", "myscen/acme/x.json", Some("Entra"), None).unwrap(), "azure::acme::x");
        assert_eq!(id("acme/x.json", "myscen/acme/x.json", Some("rfc"), Some("mine")).unwrap(), "rfc::mine::x");
        assert_eq!(id("okta/spec/x.json", "s/okta/spec/x.json", Some("rfc"), Some("g")).unwrap(), "rfc::g::x");
        assert_eq!(id("mine/okta/acme/x.json", "m/mine/okta/acme/x.json", None, None).unwrap(), "okta::acme::x");
    }

    #[test]
    fn no_idp_anywhere_or_a_bad_field_is_an_error_saying_what_to_do() {
        let e = id("acme/x.json", "myscen/acme/x.json", None, None).unwrap_err();
        assert!(e.contains("Add \"idp\": \"okta\", \"entra\" or \"rfc\"") && e.contains("acme/x.json"), "{e}");
        let e = id("x.json", "m/x.json", Some("google"), None).unwrap_err();
        assert!(e.contains("unknown IdP `google`"), "{e}");
        let e = id("x.json", "m/x.json", Some("okta"), Some("a::b")).unwrap_err();
        assert!(e.contains("`group`"), "{e}");
        let place = |rel: &str, idp, group| place(rel, Path::new("m/x.json"), &Declared { idp, group }).map(|p| p.id);
        assert_eq!(place("acme/x.json", None, None), Err(PlaceError::NoIdp("acme/x.json".into())));
        assert_eq!(place("x.json", Some("google"), None), Err(PlaceError::UnknownIdp("google".into())));
        assert_eq!(place("x.json", Some("okta"), Some("a::b")), Err(PlaceError::BadGroup("a::b".into())));
        assert_eq!(
            PlaceError::NoGroup.to_string(),
            "no group: add \"group\": \"<name>\" to the file",
            "the loader's reason, as before"
        );
    }

    #[test]
    fn metadata_and_schemas_are_not_scenarios() {
        assert!(!is_scenario("scenario.schema.json", r#"{"title": "schema"}"#));
        assert!(!is_scenario("okta/faults.json", r#"{"okta::spec::x": ["a"]}"#));
        assert!(!is_scenario("notes.json", "[1, 2]"));
        assert!(is_scenario("x.json", r#"{"title": "t"}"#));
        assert!(is_scenario("acme/x.json", "{ not json"));
        assert!(is_scenario("okta/spec/x.json", "{}"));
    }
}
