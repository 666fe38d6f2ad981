//! Test data real servers accept: every e-mail address a library scenario or the simulator's generated directory
//! can write to `emails.value` passes a strict validator (`tests/support/email.rs`: RFC 5322 dot-atom local part,
//! a host name with a public-looking TLD, special-use domains refused).

mod support;

use scimcheck::scenario::{self, Vars};
use scimcheck::simulate::model::{IdStyle, Model};
use serde_json::{json, Value};
use support::email;

/// Every scenario's variables are drawn this many times: generated parts (names, digits) vary between draws.
const DRAWS: usize = 25;

#[test]
fn every_email_a_library_scenario_writes_passes_a_strict_validator() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let all = scenario::load_dir(&root).unwrap_or_else(|e| panic!("{} load errors", e.len()));
    let mut bad = Vec::new();
    let mut checked = 0;
    for s in &all {
        for _ in 0..DRAWS {
            let mut vars = Vars::for_scenario(s);
            for step in &s.steps {
                let Some(body) = &step.request.body else { continue };
                for i in [1, step.repeat.unwrap_or(1)] {
                    vars.set("index", Value::String(i.to_string()));
                    for address in email::written_emails(&vars.render_value(body)) {
                        // a value captured from the server is the server's own, not test data
                        if address.contains("{{") {
                            continue;
                        }
                        checked += 1;
                        if let Err(why) = email::check(&address) {
                            bad.push(format!("{} step {:?}: {why}", s.id, step.name));
                            break;
                        }
                    }
                }
            }
        }
    }
    bad.sort();
    bad.dedup();
    assert!(checked > 1000, "only {checked} e-mail values found: the walk over request bodies is broken");
    assert!(bad.is_empty(), "e-mail values a validating server refuses:\n{}", bad.join("\n"));
}

#[test]
fn every_email_of_the_simulated_directory_passes_a_strict_validator() {
    for (seed, style) in [(1, IdStyle::Guid), (7, IdStyle::Okta), (2026, IdStyle::Guid)] {
        let m = Model::generate(seed, 3000, 5, style);
        for i in 0..3000u32 {
            let a = m.attrs(i);
            assert_eq!(email::check(&a.email), Ok(()), "seed {seed}, user {i}");
        }
    }
}

#[test]
fn written_emails_finds_every_shape_a_write_takes() {
    let create = json!({"userName": "u", "Emails": [{"value": "a@example.com"}, {"type": "home"}]});
    assert_eq!(email::written_emails(&create), ["a@example.com"]);
    let patch = json!({"Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@example.com"},
        {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "c@example.com"},
        {"op": "add", "path": "emails", "value": [{"value": "d@example.com"}]},
        {"op": "replace", "value": {"emails": [{"value": "e@example.com"}], "emails[type eq \"work\"].value": "f@example.com"}},
        {"op": "replace", "path": "userName", "value": "g@example.com"}
    ]});
    assert_eq!(email::written_emails(&patch), ["b@example.com", "d@example.com", "e@example.com", "f@example.com"]);
}

#[test]
fn the_validator_accepts_addresses_and_refuses_the_rest() {
    for good in [
        "tina.erickson@example.com",
        "Runscope123Abcdefgh456@atko.com",
        "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com",
        "a+b@mail.example.org",
        "TINA@EXAMPLE.NET",
    ] {
        assert_eq!(email::check(good), Ok(()), "{good}");
    }
    for bad in [
        "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff",
        "test.user@okta.local",
        "a@example.test",
        "a@x.invalid",
        "a@host.localhost",
        "a@localhost",
        "a@b.example",
        ".a@example.com",
        "a..b@example.com",
        "a.@example.com",
        "\"a b\"@example.com",
        "a b@example.com",
        "a@b@example.com",
        "a@-x.com",
        "a@x.c",
        "a@x.123",
        "a@[127.0.0.1]",
        "@example.com",
        "a@",
    ] {
        assert!(email::check(bad).is_err(), "{bad} passed");
    }
}
