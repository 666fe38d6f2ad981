//! The text matcher against the plain evaluator ([`crate::filter::matches`] on the parsed resource): seeded
//! random stored texts (keys differing in case, repeated keys, `\u` escapes, non-ASCII, the two characters whose
//! lowercase is ASCII, `null`s, scalars where objects are expected, multi-valued attributes without `type`)
//! and seeded random filters. Every verdict the matcher gives must be the evaluator's; it may only decline.

use serde_json::Value;
use uuid::Uuid;

use super::*;
use crate::schema::ENTERPRISE_URN;

#[path = "../../../tests/common/rng.rs"]
mod rng;
use rng::Rng;

/// JSON string literals as stored text may hold them.
const STRINGS: &[&str] = &[
    r#""Smith""#,
    r#""smith""#,
    r#""SMITH""#,
    r#""Sm""#,
    r#""""#,
    r#""\u0053mith""#,
    r#""Sm\"ith""#,
    r#""Back\\slash""#,
    r#""Müller""#,
    r#""MÜLLER""#,
    r#""\u212Aelvin""#,
    "\"\u{212A}elvin\"",
    r#""kelvin""#,
    "\"\u{130}lker\"",
    r#""ilker""#,
    r#""True""#,
    r#"" false ""#,
    r#""true""#,
    r#""work""#,
    r#""WORK""#,
    r#""home""#,
    r#""a@corp.example.com""#,
    r#""A@CORP.EXAMPLE""#,
    r#""2011-05-13T04:42:34Z""#,
    r#""tab\there""#,
    r#""W/\"3\"""#,
    r#""User""#,
];

const OTHER_SCALARS: &[&str] = &["true", "false", "null", "1", "-2.5e3", "0"];

fn ws(rng: &mut Rng) -> &'static str {
    if rng.one_in(8) {
        " "
    } else {
        ""
    }
}

fn scalar(rng: &mut Rng) -> String {
    if rng.one_in(4) {
        rng.pick(OTHER_SCALARS).to_string()
    } else {
        rng.pick(STRINGS).to_string()
    }
}

fn object(rng: &mut Rng, keys: &[&str]) -> String {
    let n = rng.below(4);
    let members: Vec<String> = (0..n)
        .map(|_| {
            let value = match rng.below(8) {
                0 => format!("[{}]", scalar(rng)),
                1 => "{}".to_string(),
                2 => "[]".to_string(),
                _ => scalar(rng),
            };
            format!("\"{}\":{}{value}", rng.pick(keys), ws(rng))
        })
        .collect();
    format!("{{{}}}", members.join(&format!(",{}", ws(rng))))
}

const ELEMENT_KEYS: &[&str] = &["value", "Value", "type", "TYPE", "primary", "display", "value", "type"];
const NAME_KEYS: &[&str] = &["givenName", "familyName", "FAMILYNAME", "formatted", "familyName"];

fn element(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => scalar(rng),
        1 => "null".into(),
        2 => format!("[{}]", element_object(rng)),
        _ => element_object(rng),
    }
}

/// An element object, most often with distinct keys.
fn element_object(rng: &mut Rng) -> String {
    if rng.one_in(4) {
        return object(rng, ELEMENT_KEYS);
    }
    let mut parts = vec![format!(r#""value":{}"#, rng.pick(STRINGS))];
    if !rng.one_in(4) {
        parts.push(format!(r#""type":{}"#, rng.pick(&[r#""work""#, r#""WORK""#, r#""home""#, "null", r#""""#])));
    }
    if rng.one_in(2) {
        parts.push(format!(r#""primary":{}"#, rng.pick(&["true", "false", r#""True""#, "null"])));
    }
    format!("{{{}}}", parts.join(","))
}

fn attribute(rng: &mut Rng, key: &str) -> String {
    match key.to_ascii_lowercase().as_str() {
        "name" => match rng.below(6) {
            0 => scalar(rng),
            1 => object(rng, NAME_KEYS),
            _ => format!(r#"{{"givenName":{},"familyName":{}}}"#, rng.pick(STRINGS), rng.pick(STRINGS)),
        },
        "emails" => match rng.below(8) {
            0 => scalar(rng),
            1 => element_object(rng),
            2 => "[]".into(),
            _ => {
                let items: Vec<String> = (0..1 + rng.below(3)).map(|_| element(rng)).collect();
                format!("[{}]", items.join(","))
            }
        },
        "meta" => format!(
            r#"{{"resourceType":"User","version":{},"lastModified":"2011-05-13T04:42:34Z"}}"#,
            rng.pick(&[r#""W/\"3\"""#, r#""W/\"12\"""#])
        ),
        k if k == ENTERPRISE_URN.to_ascii_lowercase() => match rng.below(5) {
            0 => "null".into(),
            1 => object(rng, &["department", "Department"]),
            _ => format!(r#"{{"department":{}}}"#, rng.pick(STRINGS)),
        },
        _ => match rng.below(8) {
            0 => format!("[{},{}]", scalar(rng), scalar(rng)),
            1 => object(rng, &["value", "x"]),
            _ => scalar(rng),
        },
    }
}

const ENTERPRISE_LOWER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";

/// A stored user's text: mostly distinct keys; sometimes a key in two cases, repeated, or escaped.
fn text(rng: &mut Rng) -> String {
    let mut keys: Vec<&str> = Vec::new();
    for k in ["userName", "name", "emails", "active", "title", "nickName", "externalId", "meta", ENTERPRISE_URN, "x"] {
        if !rng.one_in(4) {
            keys.push(k);
        }
    }
    if rng.one_in(6) {
        keys.push(rng.pick(&["USERNAME", "Name", "EMAILS", "Active", ENTERPRISE_LOWER, "TITLE"]));
    }
    if rng.one_in(25) {
        let again = keys.first().copied().unwrap_or("userName");
        keys.push(again);
    }
    let escaped = rng.one_in(25);
    let members: Vec<String> = keys
        .iter()
        .map(|k| {
            let shown = if escaped && *k == "userName" { r"user\u004eame".to_string() } else { k.to_string() };
            format!("\"{shown}\":{}{}", ws(rng), attribute(rng, k))
        })
        .collect();
    let text = format!("{{{}}}", members.join(","));
    if rng.one_in(40) {
        text[..text.len() - 1 - rng.below(3)].to_string()
    } else {
        text
    }
}

const ATTRS: &[&str] = &[
    "userName",
    "USERNAME",
    "name",
    "name.familyName",
    "name.givenName",
    "name.formatted",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "emails.display",
    "active",
    "title",
    "nickName",
    "externalId",
    "meta.version",
    "meta.resourceType",
    "meta.lastModified",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "nosuch",
    "name.nosuch",
];
const SUBS: &[&str] = &["value", "type", "primary", "display", "VALUE", "nosuch"];
const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];
const VALUES: &[&str] = &[
    r#""sm""#,
    r#""SM""#,
    r#""smith""#,
    r#""kelvin""#,
    r#""KELVIN""#,
    r#""ilker""#,
    r#""ü""#,
    r#""müller""#,
    r#""@corp""#,
    r#""work""#,
    r#""true""#,
    r#""W/\"3\"""#,
    r#""user""#,
    r#""sm\"ith""#,
    r#""back\\sl""#,
    r#""""#,
    r#""s""#,
    "true",
    "false",
    "null",
    "1",
    r#""2011-05-13T04:42:34Z""#,
];

fn term(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{}[{}]", rng.pick(&["emails", "name", "EMAILS", "userName", "emails.value"]), inner(rng, 2)),
        _ => match rng.pick(OPS) {
            "pr" => format!("{} pr", rng.pick(ATTRS)),
            op => format!("{} {op} {}", rng.pick(ATTRS), rng.pick(VALUES)),
        },
    }
}

fn inner(rng: &mut Rng, depth: usize) -> String {
    if depth > 0 && rng.one_in(3) {
        return match rng.below(3) {
            0 => format!("{} and {}", inner(rng, depth - 1), inner(rng, depth - 1)),
            1 => format!("{} or {}", inner(rng, depth - 1), inner(rng, depth - 1)),
            _ => format!("not ({})", inner(rng, depth - 1)),
        };
    }
    match rng.pick(OPS) {
        "pr" => format!("{} pr", rng.pick(SUBS)),
        op => format!("{} {op} {}", rng.pick(SUBS), rng.pick(VALUES)),
    }
}

fn generated(rng: &mut Rng, depth: usize) -> String {
    if depth == 0 || rng.one_in(3) {
        return term(rng);
    }
    match rng.below(3) {
        0 => format!("({}) and ({})", generated(rng, depth - 1), generated(rng, depth - 1)),
        1 => format!("({}) or ({})", generated(rng, depth - 1), generated(rng, depth - 1)),
        _ => format!("not ({})", generated(rng, depth - 1)),
    }
}

fn record(text: &str) -> Record {
    Record::new(Uuid::nil(), 3, false, false, text.to_string())
}

#[test]
fn every_verdict_on_the_text_is_the_evaluators_over_seeded_texts_and_filters() {
    let rt = ResourceKind::User.resource_type();
    let mut rng = Rng(0x7E47_5CA9);
    let texts: Vec<String> = (0..400).map(|_| text(&mut rng)).collect();
    let records: Vec<Record> = texts.iter().map(|t| record(t)).collect();
    let parsed: Vec<Option<Value>> = texts.iter().map(|t| serde_json::from_str(t).ok()).collect();
    let (mut decided, mut declined, mut not_compiled, mut true_verdicts) = (0usize, 0usize, 0usize, 0usize);
    for _ in 0..1500 {
        let source = generated(&mut rng, 3);
        let Ok(f) = filter::parse(&source) else { continue };
        let Some(tf) = TextFilter::of(&f, rt) else {
            not_compiled += 1;
            continue;
        };
        for ((text, rec), value) in texts.iter().zip(&records).zip(&parsed) {
            match (tf.matches(rec, || None), value) {
                (Ok(got), Some(value)) => {
                    assert_eq!(got, filter::matches(&f, value, rt), "{source}\non {text}");
                    decided += 1;
                    true_verdicts += usize::from(got);
                }
                (Ok(got), None) => panic!("{source}: a verdict ({got}) on text that is not JSON: {text}"),
                (Err(Unreadable), _) => declined += 1,
            }
        }
    }
    // The matcher must decide most cases, or the scan gains nothing and this test compares little.
    assert!(decided > 4 * declined, "decided {decided}, declined {declined}");
    assert!(decided > 300_000, "decided only {decided}");
    assert!(true_verdicts > decided / 10 && true_verdicts < decided * 9 / 10, "{true_verdicts} of {decided} true");
    assert!(not_compiled > 50 && not_compiled < 1000, "{not_compiled} filters not compiled");
}

#[test]
fn keys_equal_up_to_case_repeated_or_escaped_are_left_to_the_parser() {
    let rt = ResourceKind::User.resource_type();
    let tf = TextFilter::of(&filter::parse(r#"name.familyName eq "smith""#).unwrap(), rt).unwrap();
    for text in [
        r#"{"name":{"familyName":"Smith"},"Name":{"familyName":"Jones"}}"#,
        r#"{"name":{"familyName":"Smith","FamilyName":"Jones"}}"#,
        r#"{"name":{"family\u004eame":"Smith"}}"#,
        r#"{"name":{"familyName":"Smith"},"name":{"familyName":"Jones"}}"#,
        r#"{"name":{"familyName":"Smith"}"#,
    ] {
        assert_eq!(tf.matches(&record(text), || None), Err(Unreadable), "{text}");
    }
    assert_eq!(tf.matches(&record(r#"{"NAME":{"FAMILYNAME":"SMITH"},"x":1}"#), || None), Ok(true));
    assert_eq!(tf.matches(&record(r#"{"name":{"familyName":"Sm\u0069th"}}"#), || None), Ok(true));
    assert_eq!(tf.matches(&record(r#"{"name":null}"#), || None), Ok(false));
}

#[test]
fn meta_of_a_touched_record_and_an_added_extension_are_left_to_rendering() {
    let rt = ResourceKind::User.resource_type();
    let version = TextFilter::of(&filter::parse(r#"meta.version eq "W/\"3\"""#).unwrap(), rt).unwrap();
    let mut rec = record(r#"{"userName":"a","meta":{"version":"W/\"3\""}}"#);
    assert_eq!(version.matches(&rec, || None), Ok(true));
    rec.touched = Some("2026-01-01T00:00:00Z".into());
    assert_eq!(version.matches(&rec, || None), Err(Unreadable), "rendering brings meta current");
    let user_name = TextFilter::of(&filter::parse(r#"userName eq "A""#).unwrap(), rt).unwrap();
    assert_eq!(user_name.matches(&rec, || None), Ok(true), "a touch changes only meta");

    let portal = format!("{}:accessStatus eq \"active\"", crate::schema::PORTAL_URN);
    let portal = TextFilter::of(&filter::parse(&portal).unwrap(), rt).unwrap();
    let plain = record(r#"{"userName":"a"}"#);
    assert_eq!(portal.matches(&plain, || None), Ok(false));
    assert_eq!(portal.matches(&plain, || Some(crate::schema::PORTAL_URN)), Err(Unreadable));
    let department = format!("{ENTERPRISE_URN}:department eq \"x\"");
    let department = TextFilter::of(&filter::parse(&department).unwrap(), rt).unwrap();
    let with_department = record(&format!(r#"{{"{ENTERPRISE_URN}":{{"department":"X"}}}}"#));
    assert_eq!(department.matches(&with_department, || Some(crate::schema::PORTAL_URN)), Ok(true));
}

#[test]
fn numbers_and_instants_are_not_compiled_but_null_comparisons_are() {
    let rt = ResourceKind::User.resource_type();
    for f in
        [r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, r#"meta.created eq "x""#, r#"meta.lastModified co "2011""#]
    {
        assert!(TextFilter::of(&filter::parse(f).unwrap(), rt).is_none(), "{f}");
    }
    for f in
        ["meta.lastModified eq null", "name ne null", r#"title eq 1"#, r#"nosuch eq 1"#, "name pr", r#"name eq "x""#]
    {
        assert!(TextFilter::of(&filter::parse(f).unwrap(), rt).is_some(), "{f}");
    }
}

#[test]
fn string_operators_agree_with_the_evaluators() {
    let values = [
        "",
        "a",
        "Sm",
        "sM",
        "smith",
        "SMITH",
        "Smïth",
        "x@CORP.example",
        "İ",
        "i̇",
        "K",
        "kelvin",
        "k",
        "MÜLLER",
        "müller",
        "ΟΔΟΣ",
        "οδος",
        "οδοσ",
        "ΣΑ",
        "σα",
        "ß",
        "SS",
    ];
    let ops = [CompareOp::Eq, CompareOp::Co, CompareOp::Sw, CompareOp::Ew, CompareOp::Gt, CompareOp::Le];
    for s in values {
        for v in values {
            for op in ops {
                for case_exact in [false, true] {
                    assert_eq!(
                        string_test(s, v, &v.to_lowercase(), case_exact, op),
                        filter::string_op(s, v, op, case_exact),
                        "{s:?} {op:?} {v:?} caseExact={case_exact}"
                    );
                }
            }
        }
    }
}

/// Through a store, each record's members are found through its collection's list of keys, resolved once per
/// list (module `shape` of the store): the answer — verdict or decline — must be the one reading the text's own
/// keys gives, and every verdict the evaluator's, for every record sharing a list.
#[test]
fn verdicts_through_the_collections_key_lists_are_those_of_the_texts_own_keys() {
    use crate::store::{IndexKeys, MemoryStore, Store};
    let rt = ResourceKind::User.resource_type();
    let mut rng = Rng(0x5EA9_E001);
    let texts: Vec<String> = (0..600).map(|_| text(&mut rng)).collect();
    let mut store = MemoryStore::new();
    for (n, t) in texts.iter().enumerate() {
        let id = Uuid::from_u64_pair(0, n as u64);
        store.insert(ResourceKind::User, Record::new(id, 3, false, false, t.clone()), IndexKeys::default());
    }
    let records: Vec<&Record> = store.scan(ResourceKind::User).collect();
    let parsed: Vec<Option<Value>> = texts.iter().map(|t| serde_json::from_str(t).ok()).collect();
    let mut sharing = std::collections::HashMap::new();
    for r in records.iter().filter(|r| r.shape() != NO_SHAPE) {
        *sharing.entry(r.shape()).or_insert(0) += 1;
    }
    assert!(sharing.values().sum::<usize>() > 500, "most records have a list of keys");
    assert!(sharing.values().any(|&n| n >= 10), "some list is shared by many records");
    let (mut decided, mut declined) = (0usize, 0usize);
    for _ in 0..1500 {
        let source = generated(&mut rng, 3);
        let Ok(f) = filter::parse(&source) else { continue };
        let (Some(shaped), Some(plain)) = (TextFilter::of(&f, rt), TextFilter::of(&f, rt)) else { continue };
        for (rec, value) in records.iter().zip(&parsed) {
            let got = shaped.matches_in(rec, |s| store.shape_keys(ResourceKind::User, s), None, || None);
            assert_eq!(got, plain.matches(rec, || None), "{source}\non {}", &*rec.body);
            match (got, value) {
                (Ok(got), Some(value)) => {
                    assert_eq!(got, filter::matches(&f, value, rt), "{source}\non {}", &*rec.body);
                    decided += 1;
                }
                (Ok(_), None) => panic!("a verdict on text that is not JSON"),
                (Err(Unreadable), _) => declined += 1,
            }
        }
    }
    assert!(decided > 4 * declined && decided > 400_000, "decided {decided}, declined {declined}");
}

/// Through the collection's column of the members filters read most (module `hot` of the store), a record with
/// an entry there is read from the entry, not its text: the answer — verdict or decline — must be the one its
/// text gives, and every verdict the evaluator's, also after replacements and removals have rewritten the
/// column. Some texts spell the column's names in another case, so an entry found them up to ASCII case.
#[test]
fn verdicts_through_the_collections_column_are_those_of_the_texts() {
    use crate::store::{IndexKeys, MemoryStore, Store};
    let rt = ResourceKind::User.resource_type();
    let mut rng = Rng(0xC0_1D_E5);
    let recased = |rng: &mut Rng| {
        let mut t = text(rng);
        if rng.one_in(3) {
            t = t.replacen(r#""emails":"#, r#""Emails":"#, 1).replacen(r#""active":"#, r#""ACTIVE":"#, 1);
        }
        if rng.one_in(4) {
            t = t.replacen(r#""name":"#, r#""nAME":"#, 1);
        }
        t
    };
    let mut store = MemoryStore::new();
    store.keep_column(ResourceKind::User);
    let id = |n: usize| Uuid::from_u64_pair(0, n as u64);
    let mut texts: Vec<Option<String>> = Vec::new();
    for n in 0..600 {
        let t = recased(&mut rng);
        store.insert(ResourceKind::User, Record::new(id(n), 3, false, false, t.clone()), IndexKeys::default());
        texts.push(Some(t));
    }
    // Replacements and removals: their entries are left behind until the column is rewritten.
    for _ in 0..900 {
        let n = rng.below(600);
        if rng.one_in(4) {
            store.remove(ResourceKind::User, &id(n));
            texts[n] = None;
        } else {
            let t = recased(&mut rng);
            store.update(ResourceKind::User, Record::new(id(n), 4, false, false, t.clone()), IndexKeys::default());
            texts[n] = Some(t);
        }
    }
    let records: Vec<&Record> = store.scan(ResourceKind::User).collect();
    for rec in &records {
        let n = rec.id.as_u64_pair().1 as usize;
        assert_eq!(texts[n].as_deref(), Some(&*rec.body), "the store holds each record's last text");
    }
    let in_column = records.iter().filter(|r| r.hot() != crate::store::NO_HOT).count();
    assert!(in_column > records.len() * 3 / 4 && in_column < records.len(), "{in_column} of {}", records.len());
    let column = store.column(ResourceKind::User);
    assert!(column.is_some(), "users have a column");
    let parsed: Vec<Option<Value>> = records.iter().map(|r| serde_json::from_str(&r.body).ok()).collect();
    let (mut from_column, mut declined) = (0usize, 0usize);
    for _ in 0..1500 {
        let source = generated(&mut rng, 3);
        let Ok(f) = filter::parse(&source) else { continue };
        let (Some(through), Some(plain)) = (TextFilter::of(&f, rt), TextFilter::of(&f, rt)) else { continue };
        let all_in_column = plain.keys.iter().all(|k| crate::store::COLUMN_NAMES_USER.contains(k));
        for (rec, value) in records.iter().zip(&parsed) {
            let got = through.matches_in(rec, |s| store.shape_keys(ResourceKind::User, s), column, || None);
            assert_eq!(got, plain.matches(rec, || None), "{source}\non {}", &*rec.body);
            from_column += usize::from(all_in_column && rec.hot() != crate::store::NO_HOT);
            match (got, value) {
                (Ok(got), Some(value)) => {
                    assert_eq!(got, filter::matches(&f, value, rt), "{source}\non {}", &*rec.body)
                }
                (Ok(_), None) => panic!("a verdict on text that is not JSON"),
                (Err(Unreadable), _) => declined += 1,
            }
        }
    }
    assert!(from_column > 50_000, "only {from_column} verdicts read from the column ({declined} declined)");
}

/// The needle search of the byte screen and of `co` against the plain definition (some window of `s`, ASCII
/// lowercased, equals the needle), over seeded haystacks of every length up to 80 made of bytes around the
/// needles' in both cases, `0x20`-apart look-alikes (`@` and `` ` ``), `0x01`s and non-ASCII, at every
/// needle position.
#[test]
fn the_needle_search_finds_exactly_the_windows_equal_up_to_ascii_case() {
    let mut rng = Rng(0x00C0_47A1);
    let alphabet: &[u8] = b"smSMwWoOrRkK@`cCpP.\x01 \"\xC3\xBCzZ";
    let needles: &[&[u8]] = &[b"sm", b"@corp", b"work", b"s", b"@", b"mm", b"sms", b"`c", b"rk\x01"];
    let plain = |s: &[u8], l: &[u8]| l.is_empty() || s.windows(l.len()).any(|w| w.to_ascii_lowercase() == l);
    let mut found = 0usize;
    for _ in 0..40_000 {
        let len = rng.below(81);
        let mut s: Vec<u8> = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
        let needle = needles[rng.below(needles.len())];
        if rng.one_in(3) && len >= needle.len() {
            // plant the needle, in mixed case, anywhere
            let at = rng.below(len - needle.len() + 1);
            for (k, &c) in needle.iter().enumerate() {
                s[at + k] = if rng.one_in(2) { c.to_ascii_uppercase() } else { c };
            }
        }
        let want = plain(&s, needle);
        assert_eq!(contains_lowered(&s, needle), want, "{:?} in {:?}", needle, s);
        found += usize::from(want);
    }
    assert!(found > 10_000 && found < 30_000, "{found} of 40,000 hold the needle");
    assert!(contains_lowered(b"", b"") && !contains_lowered(b"", b"s") && contains_lowered(b"x", b""));
}

/// `co`, `sw`, `ew` and `eq` of a value whose lowercase is ASCII, compared in place on text that is not ASCII,
/// against the evaluator's Unicode lowercase over seeded strings mixing ASCII, letters whose lowercase is
/// another non-ASCII letter (`Ü`, `Σ` with its final form, `ẞ`, `Å`), the two whose lowercase is ASCII (the
/// Kelvin sign, `İ`) and letters with no case.
#[test]
fn ascii_values_compare_in_place_with_text_that_is_not_ascii_as_the_evaluator_does() {
    let mut rng = Rng(0x5_16_4A);
    let chars = [
        "s", "S", "m", "M", "k", "K", "i", "I", "@", ".", " ", "ü", "Ü", "Σ", "σ", "ς", "ẞ", "ß", "\u{212A}",
        "\u{130}", "\u{212B}", "å", "ﬀ", "日",
    ];
    let values = ["sm", "k", "i", "@", "s", "ms", "ss", "ki", "s.", " s"];
    let ops = [CompareOp::Eq, CompareOp::Co, CompareOp::Sw, CompareOp::Ew];
    let mut in_place = 0usize;
    for _ in 0..30_000 {
        let s: String = (0..rng.below(8)).map(|_| chars[rng.below(chars.len())]).collect();
        let v = if rng.one_in(4) {
            values[rng.below(values.len())].to_ascii_uppercase()
        } else {
            values[rng.below(values.len())].to_string()
        };
        let op = ops[rng.below(ops.len())];
        assert_eq!(
            string_test(&s, &v, &v.to_lowercase(), false, op),
            filter::string_op(&s, &v, op, false),
            "{s:?} {op:?} {v:?}"
        );
        in_place += usize::from(!s.is_ascii() && screenable(s.as_bytes()));
    }
    assert!(in_place > 10_000, "only {in_place} compared in place");
}
