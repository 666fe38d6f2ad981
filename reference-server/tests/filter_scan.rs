//! A filtered list screens each stored record's text before parsing and rendering it (RFC 7644 §3.4.2.2 scans
//! that no index answers). The screen may only skip records that cannot match, so the matches must be exactly
//! those of rendering every resource and testing the filter on it. This test compares the two, id set by id
//! set, over a seeded directory (users with group memberships, deleted users, portal extensions, non-ASCII
//! names, characters JSON escapes, the two characters whose lowercase is ASCII) and a corpus of filters: the
//! filter module's own test filters and seeded random ones. A scan matches on the attributes the filter reads
//! (the directory's `scan` module) and renders only the page, so a page from the middle is compared too: its
//! ids, in creation order, and the total counted over the matches it leaves out. Most filters are now
//! evaluated on each user's stored text (the directory's `textmatch` module, whose own seeded test compares it
//! with the evaluator on random texts); the corpus names the shapes it handles and their edges, so a wrong
//! verdict there shows here as a wrong list.

use std::collections::BTreeSet;
use std::sync::Arc;

use scim_reference_server::clock::SystemClock;
use scim_reference_server::directory::{Directory, DirectoryConfig, ListQuery, PortalHooks, UserEvent};
use scim_reference_server::filter;
use scim_reference_server::schema::{ResourceKind, ENTERPRISE_URN, PORTAL_URN};
use serde_json::{json, Value};
use uuid::Uuid;

#[path = "common/rng.rs"]
mod rng;
use rng::Rng;

/// A portal extension on users whose id starts with an even byte (as a tenant's portal adds `accessStatus`).
#[derive(Debug)]
struct Extension;

impl PortalHooks for Extension {
    fn user_changed(&self, _: Uuid, _: &Value, _: &[String], _: Option<&str>, _: UserEvent) {}
    fn user_extension(&self, id: Uuid) -> Option<(&'static str, Value)> {
        let b = id.as_bytes()[0];
        b.is_multiple_of(2)
            .then(|| (PORTAL_URN, json!({"accessStatus": if b.is_multiple_of(4) { "Suspended" } else { "active" }})))
    }
}

const GIVEN: [&str; 10] =
    ["Alice", "Smith", "Björn", "Chloé", "\u{212A}elvin", "\u{130}lker", "Ann", "Bo", "Sm", "Zoë"];
const FAMILY: [&str; 10] =
    ["Smith", "smythe", "Müller", "O\"Brien", "Back\\slash", "Jensen", "SMART", "Kim", "kelvin", "Ilker"];
const DOMAINS: [&str; 4] = ["corp.example.com", "example.com", "CORP.example.org", "jensen.org"];

fn user_body(rng: &mut Rng, i: usize) -> Value {
    let given = rng.pick(&GIVEN);
    let family = rng.pick(&FAMILY);
    let mut emails = vec![json!({"value": format!("{given}.{family}{i}@{}", rng.pick(&DOMAINS)), "type": "work",
        "primary": rng.below(2) == 0})];
    if rng.below(3) == 0 {
        emails.push(json!({"value": format!("u{i}@{}", rng.pick(&DOMAINS)), "type": rng.pick(&["home", "other"])}));
    }
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("{given}.{family}{i}"),
        "name": {"givenName": given, "familyName": family},
        "emails": emails,
        "externalId": format!("{}{i}", rng.pick(&["Ext", "ext", "00u"])),
    });
    match rng.below(3) {
        0 => body["active"] = json!(true),
        1 => body["active"] = json!(false),
        _ => {}
    }
    if rng.below(3) == 0 {
        body["title"] = json!(rng.pick(&["", "Engineer", "true", "2011-05-13T04:42:34Z", "Smart \"quoted\""]));
    }
    if rng.below(4) == 0 {
        body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_URN]);
        body[ENTERPRISE_URN] = json!({"department": rng.pick(&["r&d", "Sales", "Tour Operations"])});
    }
    body
}

/// Users (some deleted, some in groups, some of those rewritten since) and groups.
fn directory(rng: &mut Rng) -> (Directory, Vec<String>) {
    let dir = Directory::with_hooks(
        DirectoryConfig { max_results: 100_000 },
        Arc::new(SystemClock),
        Some(Arc::new(Extension)),
    );
    let mut ids = Vec::new();
    for i in 0..250 {
        let created = dir.create(ResourceKind::User, user_body(rng, i)).expect("valid user");
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    for (n, name) in ["Engineering", "Smart People", "Corp", "Ünits", "true", "Ops"].iter().enumerate() {
        let chosen: BTreeSet<&String> = (0..40).map(|_| &ids[rng.below(ids.len())]).collect();
        let members: Vec<Value> = chosen.into_iter().map(|id| json!({"value": id})).collect();
        let group = dir
            .create(ResourceKind::Group, json!({"displayName": format!("{name}{n}"), "members": members}))
            .expect("valid group");
        assert!(group["id"].is_string());
    }
    // A rewrite stores the membership's `meta` in the text again (no longer "touched").
    for _ in 0..60 {
        let id = &ids[rng.below(ids.len())];
        let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "nickName", "value": rng.pick(&["Babs", "smi", "X"])}]});
        dir.patch(ResourceKind::User, id, &patch, None).expect("valid patch");
    }
    for _ in 0..20 {
        let id = ids[rng.below(ids.len())].clone();
        let _ = dir.delete(ResourceKind::User, &id, None);
    }
    (dir, ids)
}

/// The filter module's own test filters (`filter.rs`'s `user_matches` cases).
const CORPUS: &[&str] = &[
    r#"(title pr or nickName pr) or (emails[type eq "work"] and not (active eq false))"#,
    r#"USERNAME EQ "bjensen@example.com""#,
    r#"active co "tr""#,
    r#"active eq "True""#,
    r#"active eq "yes""#,
    "active eq false",
    "active eq true",
    r#"active ne "FALSE""#,
    "active pr",
    "active sw true",
    r#"addresses[type eq "work"]"#,
    r#"displayName eq "babs jensen""#,
    r#"emails co "jensen.org""#,
    r#"emails eq "BJENSEN@example.com""#,
    "emails pr",
    "emails.display pr",
    r#"emails.type eq "home" and emails.value co "@example.com""#,
    r#"emails.type ne "work""#,
    r#"emails.value ew "@jensen.org""#,
    r#"emails[not (type eq "work")]"#,
    r#"emails[primary eq true and type eq "home"]"#,
    r#"emails[type eq "work" and value co "@example.com"]"#,
    r#"emails[type eq "home"].value eq "bjensen@example.com""#,
    r#"externalId co "jen""#,
    r#"externalId eq "Ext1""#,
    r#"externalId gt "a""#,
    r#"externalId ne "ext1""#,
    r#"externalId sw "EXT""#,
    r#"meta.created gt "2010""#,
    r#"meta.created sw "20""#,
    r#"meta.lastModified gt "2011-05-13T05:42:33+01:00""#,
    "name pr",
    r#"name.formatted co "barbara j""#,
    r#"name.givenName sw "al""#,
    r#"nickName co "x""#,
    "nickName eq null",
    "nickName ne null",
    r#"not (userName eq "nobody")"#,
    "not (userName pr)",
    "title pr",
    r#"title eq "true""#,
    r#"title eq "2011-05-13T04:42:34Z""#,
    r#"title co "Smart \"quoted""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department ne "a""#,
    r#"userName co "JENSEN@""#,
    r#"userName eq "nobody" or active eq true"#,
    "userName eq null",
    r#"userName ew ".COM""#,
    r#"userName gt "BA""#,
    "userName pr",
    r#"userName sw "BJ""#,
    r#"userName sw "kelvin""#,
    r#"userName sw "ilker""#,
    r#"userName co "o\"brien""#,
    r#"name.familyName co "back\\sl""#,
    r#"groups[display sw "smart"]"#,
    r#"groups.display co "eng""#,
    r#"groups pr"#,
    r#"urn:scimcheck:params:scim:schemas:extension:portal:2.0:User:accessStatus eq "suspended""#,
    r#"(name.familyName sw "Sm" or emails[type eq "work" and value co "@corp"]) and active eq true"#,
    // Shapes the scan evaluates on the stored text (module `textmatch`), and their edges.
    r#"emails[type eq "work" and not (value co "@corp")]"#,
    r#"emails[type eq "home" or primary eq true]"#,
    r#"emails[display pr]"#,
    r#"emails[value ew ".ORG"]"#,
    r#"emails[nosuch eq "x"]"#,
    r#"not (emails[type ne "work"])"#,
    "emails.primary eq true",
    "emails.primary ne false",
    r#"name.givenName eq "ZOË""#,
    r#"name.givenName co "ÖR""#,
    r#"name.familyName ew "LLER""#,
    r#"name.familyName eq "o"brien""#,
    r#"name.familyName lt "M""#,
    r#"name.givenName sw "Kelvin""#,
    r#"name.givenName sw "i̇""#,
    r#"name[givenName sw "a"]"#,
    "name.givenName eq null",
    "name.givenName pr",
    "title eq null",
    r#"title eq """#,
    r#"title co """#,
    "title eq true",
    r#"active eq "true""#,
    "active ne true",
    r#"userName[value eq "x"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "OPERATIONS""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"#,
    r#"meta.resourceType eq "user""#,
    r#"meta.version eq null"#,
];

const ATTRS: &[&str] = &[
    "userName",
    "name.givenName",
    "name.familyName",
    "emails.value",
    "emails.type",
    "externalId",
    "nickName",
    "title",
    "active",
    "groups.display",
    "meta.resourceType",
    "meta.version",
    "meta.lastModified",
    "schemas",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:scimcheck:params:scim:schemas:extension:portal:2.0:User:accessStatus",
];
const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "lt", "pr"];
const VALUES: &[&str] = &[
    "\"sm\"",
    "\"SMITH\"",
    "\"kelvin\"",
    "\"ilker\"",
    "\"ö\"",
    "\"@corp\"",
    "\"WORK\"",
    "\"home\"",
    "\"ext\"",
    "\"r&d\"",
    "\"true\"",
    "true",
    "false",
    "null",
    "\"user\"",
    "\"engineering0\"",
    "\"suspended\"",
    "\"\"",
    "\"i\"",
    "\"k\"",
    "\"babs\"",
    "\"X\"",
    "\"portal\"",
    "\"2\"",
    "\"20\"",
];

fn term(rng: &mut Rng) -> String {
    let op = rng.pick(OPS);
    if rng.below(5) == 0 {
        let inner_op = rng.pick(&["eq", "co", "sw"]);
        return format!(
            "emails[type {inner_op} {} {} value co {}]",
            rng.pick(VALUES),
            rng.pick(&["and", "or"]),
            rng.pick(VALUES)
        );
    }
    match op {
        "pr" => format!("{} pr", rng.pick(ATTRS)),
        _ => format!("{} {op} {}", rng.pick(ATTRS), rng.pick(VALUES)),
    }
}

fn generated(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.below(3) == 0 {
        return term(rng);
    }
    match rng.below(3) {
        0 => format!("({}) and ({})", generated(rng, depth - 1), generated(rng, depth - 1)),
        1 => format!("({}) or ({})", generated(rng, depth - 1), generated(rng, depth - 1)),
        _ => format!("not ({})", generated(rng, depth - 1)),
    }
}

fn listed_has(expected: &BTreeSet<String>, v: &Value) -> bool {
    expected.contains(v["id"].as_str().expect("id"))
}

fn ids_of(resources: &[(ResourceKind, Value)]) -> BTreeSet<String> {
    resources.iter().map(|(_, v)| v["id"].as_str().expect("id").to_string()).collect()
}

#[test]
fn screened_scans_match_rendering_every_resource_and_testing_the_filter() {
    let mut rng = Rng(0x5CA9_F11E);
    let (dir, _) = directory(&mut rng);
    let all = |kind| dir.list(&[kind], &ListQuery { count: Some(100_000), ..Default::default() }).unwrap().resources;
    let users = all(ResourceKind::User);
    let groups = all(ResourceKind::Group);
    assert_eq!(users.len(), dir.count(ResourceKind::User));
    assert!(users.iter().any(|(_, u)| u["groups"].is_array()), "some users are in groups");

    let mut filters: Vec<String> = CORPUS.iter().map(|s| s.to_string()).collect();
    filters.extend((0..500).map(|_| generated(&mut rng, 3)));
    filters.extend(
        [
            r#"displayName sw "smart""#,
            r#"displayName co "ü""#,
            r#"members[display co "sm"]"#,
            r#"displayName eq "true4""#,
        ]
        .map(String::from),
    );
    // What rendering changes in a record's `meta` after a membership change, searched for exactly: the
    // current version's digits, the time of the change without its zone (not a date-time, so compared as text).
    for (_, u) in &users {
        let version = u["meta"]["version"].as_str().unwrap().trim_start_matches("W/").trim_matches('"');
        let modified = u["meta"]["lastModified"].as_str().unwrap();
        filters.push(format!(r#"meta.version co "{version}""#));
        filters.push(format!(r#"meta.lastModified sw "{}""#, &modified[..modified.len() - 1]));
    }
    let (mut compared, mut matched_some) = (0, 0);
    for f in &filters {
        let Ok(parsed) = filter::parse(f) else { continue };
        for (kind, rendered) in [(ResourceKind::User, &users), (ResourceKind::Group, &groups)] {
            let rt = kind.resource_type();
            for omit_membership in [false, true] {
                let query =
                    ListQuery { filter: Some(f.clone()), count: Some(100_000), omit_membership, ..Default::default() };
                let listed = dir.list(&[kind], &query);
                if filter::validate(&parsed, rt).is_err() {
                    assert!(listed.is_err(), "{f}: invalid for {kind:?} but listed");
                    continue;
                }
                let listed = listed.unwrap_or_else(|e| panic!("{f}: {e:?}"));
                let expected: BTreeSet<String> = rendered
                    .iter()
                    .filter(|(_, v)| filter::matches(&parsed, v, rt))
                    .map(|(_, v)| v["id"].as_str().unwrap().to_string())
                    .collect();
                assert_eq!(ids_of(&listed.resources), expected, "{f} on {kind:?} (omit_membership {omit_membership})");
                assert_eq!(listed.total_results, expected.len(), "{f}");
                // A page from the middle: the matches outside it are counted without being rendered.
                let query = ListQuery { start_index: Some(3), count: Some(7), ..query };
                let paged = dir.list(&[kind], &query).unwrap_or_else(|e| panic!("{f}: {e:?}"));
                let in_order: Vec<&Value> =
                    rendered.iter().map(|(_, v)| v).filter(|v| listed_has(&expected, v)).collect();
                let window: Vec<&Value> = in_order.into_iter().skip(2).take(7).collect();
                let paged_ids: Vec<&str> = paged.resources.iter().map(|(_, v)| v["id"].as_str().unwrap()).collect();
                let window_ids: Vec<&str> = window.iter().map(|v| v["id"].as_str().unwrap()).collect();
                assert_eq!(paged_ids, window_ids, "{f} on {kind:?}, page 3..10 (omit_membership {omit_membership})");
                assert_eq!(paged.total_results, expected.len(), "{f}: total of a page");
                if !omit_membership {
                    let rendered_page: Vec<&Value> = paged.resources.iter().map(|(_, v)| v).collect();
                    assert_eq!(rendered_page, window, "{f} on {kind:?}: the page is rendered whole");
                }
                compared += 1;
                matched_some += usize::from(!expected.is_empty() && expected.len() < rendered.len());
            }
        }
    }
    assert!(compared > 600, "only {compared} filters compared");
    assert!(matched_some > 150, "only {matched_some} filters split the resources");
}
