//! Errors over HTTP, for bad input of every kind: filters (RFC 7644 §3.4.2.2) that are malformed, too large or
//! sent before authentication, answered `400 invalidFilter`; error bodies (RFC 7644 §3.12: `status`, `scimType`,
//! `detail`); malformed JSON bodies and unsupported media types (RFC 7644 §3.1, §8.1); authentication failures
//! with `WWW-Authenticate` (RFC 7644 §2, RFC 6750 §3) that never echo the token; bodies and PATCH operations over
//! the server's bounds answered 413 (RFC 7644 §3.12), changing nothing.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::Method;
use scim_reference_server::ServerConfig;
use serde_json::{json, Value};

#[tokio::test]
async fn filters_work_in_both_encodings_and_honour_case_rules() {
    let s = Server::start().await;
    let u = s.create_user("Test.User@okta.local").await;
    let id = id_of(&u);
    for q in [
        "/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100",
        "/Users?filter=userName+eq+%22TEST.USER%40OKTA.LOCAL%22",
        "/Users?filter=USERNAME%20EQ%20%22test.user@okta.local%22",
        "/Users?filter=urn%3Aietf%3Aparams%3Ascim%3Aschemas%3Acore%3A2.0%3AUser%3AuserName%20eq%20%22test.user%40okta.local%22",
        "/Users?filter=emails%5Btype%20eq%20%22work%22%20and%20value%20co%20%22okta.local%22%5D",
        "/Users?filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22Test.User%40okta.local%22",
        "/Users?filter=name.familyName%20sw%20%22test%22%20and%20not%20(active%20eq%20false)",
        "/Users?filter=externalId%20eq%20%2200uTest.User%22",
        "/Users?filter=meta.lastModified%20gt%20%222000-01-01T00%3A00%3A00%2B02%3A00%22",
    ] {
        let r = s.get(q).await;
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        assert_eq!(r.body["totalResults"], 1, "{q}");
        assert_eq!(r.body["Resources"][0]["id"], json!(id), "{q}");
    }
    for q in [
        "/Users?filter=externalId%20eq%20%2200utest.user%22",
        "/Users?filter=userName%20eq%20%22nobody%40okta.local%22",
        "/Users?filter=meta.lastModified%20lt%20%222000-01-01T00%3A00%3A00Z%22",
    ] {
        let r = s.get(q).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["totalResults"], 0, "{q}");
        assert_eq!(r.body["Resources"], json!([]));
    }
    s.create_user("dept@example.com").await;
    let dept = s.get("/Users").await.body["Resources"][1]["id"].as_str().unwrap().to_string();
    s.patch_ops(
        &format!("/Users/{dept}"),
        json!([{"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}]),
    )
    .await;
    let r = s.get(&format!("/Users?filter={ENTERPRISE}:department%20eq%20%22sales%22")).await;
    assert_eq!(r.body["totalResults"], 1);
}

#[tokio::test]
async fn bad_filters_answer_invalid_filter_with_a_position() {
    let s = Server::start().await;
    for f in [
        "userName%20eq",
        "userName%20xx%20%22a%22",
        "(userName%20eq%20%22a%22",
        "userName%20eq%20%22a",
        "noSuchAttr%20eq%20%22a%22",
        "active%20gt%20true",
    ] {
        let r = s.get(&format!("/Users?filter={f}")).await;
        let detail = r.assert_error(400, Some("invalidFilter"));
        if !f.starts_with("noSuch") && !f.starts_with("active") {
            assert!(detail.contains("position"), "{f}: {detail}");
        }
    }
}

#[tokio::test]
async fn a_filter_bomb_is_rejected_fast_and_the_server_lives_on() {
    let s = Server::start().await;
    let bomb = format!("{}userName eq \"a\"{}", "(".repeat(10_000), ")".repeat(10_000));
    let started = Instant::now();
    let r = s.post("/Users/.search", json!({"filter": bomb})).await;
    r.assert_error(400, Some("invalidFilter"));
    assert!(started.elapsed() < Duration::from_secs(5));
    let nots = format!("{}userName eq \"a\"{}", "not (".repeat(5_000), ")".repeat(5_000));
    s.post("/Users/.search", json!({"filter": nots})).await.assert_error(400, Some("invalidFilter"));
    assert_eq!(s.get("/Users").await.status, 200, "still serving");
}

#[tokio::test]
async fn filters_beyond_the_size_bounds_are_invalid_filter_naming_the_limit() {
    use scim_reference_server::filter::{MAX_FILTER_LEN, MAX_FILTER_TERMS};
    let s = Server::start().await;
    s.create_user("u0").await;
    let terms = |n: usize| (0..n).map(|i| format!("userName eq \"u{i}\"")).collect::<Vec<_>>().join(" or ");
    // The probe's filter: 40,000 `or` terms, about 830 KB, refused before parsing.
    let huge = terms(40_000);
    assert!(huge.len() > 800_000);
    let r = s.post("/Users/.search", json!({"filter": huge})).await;
    let detail = r.assert_error(400, Some("invalidFilter"));
    assert!(detail.contains(&format!("at most {MAX_FILTER_LEN}")), "{detail}");
    // Short enough, but one attribute expression too many; in the query string as well as in .search.
    let many = vec!["title pr"; MAX_FILTER_TERMS + 1].join(" or ");
    assert!(many.len() < MAX_FILTER_LEN);
    let rb = s.client.get(s.url("/Users")).bearer_auth(&s.server.token).query(&[("filter", many.as_str())]);
    let detail = Server::finish(rb).await.assert_error(400, Some("invalidFilter"));
    assert!(detail.contains(&format!("at most {MAX_FILTER_TERMS}")), "{detail}");
    s.post("/Users/.search", json!({"filter": many})).await.assert_error(400, Some("invalidFilter"));
    // Exactly at the bound is served.
    let r = s.post("/Users/.search", json!({"filter": terms(MAX_FILTER_TERMS)})).await;
    assert_eq!((r.status.as_u16(), &r.body["totalResults"]), (200, &json!(1)), "{}", r.text);
}

#[tokio::test]
async fn a_patch_whose_operations_exceed_the_work_bound_is_413_and_changes_nothing() {
    let s = Server::start().await;
    let user = s.create_user("many.emails").await;
    let path = format!("/Users/{}", id_of(&user));
    // 2,000 emails in one add, then 2,000 operations that each address one of them through a value filter:
    // every such operation scans all 2,000 values, 4,000,000 visits in all.
    let emails: Vec<Value> =
        (0..2_000).map(|i| json!({"value": format!("e{i}@example.com"), "type": "other"})).collect();
    let r = s.patch_ops(&path, json!([{"op": "add", "path": "emails", "value": emails}])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = s.get(&path).await.body;
    let ops: Vec<Value> = (0..2_000)
        .map(|i| json!({"op": "replace", "path": format!("emails[value eq \"e{i}@example.com\"].type"), "value": "work"}))
        .collect();
    let r = s.patch_ops(&path, Value::Array(ops)).await;
    let detail = r.assert_error(413, None);
    assert!(detail.contains("RFC 7644 §3.12"), "{detail}");
    assert_eq!(s.get(&path).await.body, before, "nothing changed");
}

#[tokio::test]
async fn filters_are_parsed_only_after_authentication() {
    let s = Server::start().await;
    let bomb = "(".repeat(10_000);
    let r = Server::finish(s.client.get(s.url("/Users")).query(&[("filter", bomb.as_str())])).await;
    r.assert_error(401, None);
}

#[tokio::test]
async fn authentication_errors_carry_www_authenticate_and_never_echo_the_token() {
    let s = Server::start().await;
    let r = Server::finish(s.client.get(s.url("/Users"))).await;
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    let wrong = "Bearer definitely-not-the-token-123456";
    let r = Server::finish(s.client.get(s.url("/Users")).header("Authorization", wrong)).await;
    let detail = r.assert_error(401, None);
    assert!(!r.text.contains("definitely-not-the-token"), "{detail}");
    assert!(!r.text.contains(&s.server.token));
    // Okta's header auth: the raw token without a scheme
    let r = Server::finish(s.client.get(s.url("/Users")).header("Authorization", s.server.token.clone())).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn malformed_bodies_and_media_types() {
    let s = Server::start().await;
    let send_raw = |method: Method, path: &str, ct: &str, body: &'static str| {
        s.client.request(method, s.url(path)).bearer_auth(&s.server.token).header("Content-Type", ct).body(body)
    };
    Server::finish(send_raw(Method::POST, "/Users", "application/scim+json", "{\"userName\": "))
        .await
        .assert_error(400, Some("invalidSyntax"));
    Server::finish(send_raw(Method::POST, "/Users", "application/json", "[1,2,3]"))
        .await
        .assert_error(400, Some("invalidSyntax"));
    Server::finish(send_raw(Method::POST, "/Users", "application/json", ""))
        .await
        .assert_error(400, Some("invalidSyntax"));
    Server::finish(send_raw(Method::POST, "/Users", "text/plain", "{\"userName\":\"a\"}"))
        .await
        .assert_error(415, None);
    // both media types, with and without charset
    for (i, ct) in [
        "application/json",
        "application/scim+json",
        "application/json; charset=utf-8",
        "application/scim+json;charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let body = okta_user(&format!("ct{i}@example.com")).to_string();
        let r = Server::finish(
            s.client.post(s.url("/Users")).bearer_auth(&s.server.token).header("Content-Type", *ct).body(body),
        )
        .await;
        assert_eq!(r.status, 201, "{ct}");
    }
    // wrong JSON types → invalidValue, nothing created
    let before = s.get("/Users").await.body["totalResults"].clone();
    for bad in [
        json!({"userName": 42}),
        json!({"userName": "t@example.com", "active": "maybe"}),
        json!({"userName": "t@example.com", "name": "Just A String"}),
        json!({"userName": "t@example.com", "emails": [{"value": 5}]}),
        json!({"displayName": "no userName"}),
    ] {
        s.post("/Users", bad).await.assert_error(400, Some("invalidValue"));
    }
    assert_eq!(s.get("/Users").await.body["totalResults"], before);
    // unknown attributes are ignored
    let r = s
        .post(
            "/Users",
            json!({"userName": "extra@example.com", "favouriteColour": "blue", "urn:example:unknown": {"x": 1}}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("favouriteColour").is_none());
    // booleans as strings are accepted (Entra)
    let r = s.post("/Users", json!({"userName": "str-bool@example.com", "active": "True"})).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["active"], true);
}

#[tokio::test]
async fn huge_bodies_answer_413_as_a_scim_error() {
    let s = Server::start_with(ServerConfig { body_limit: 64 * 1024, ..Default::default() }).await;
    let big = "x".repeat(200 * 1024);
    let r = s.post("/Users", json!({"userName": "big@example.com", "title": big})).await;
    r.assert_error(413, None);
    // chunked (no Content-Length) bodies are limited too
    let stream = futures::stream::iter((0..100).map(|_| Ok::<_, std::io::Error>(vec![b' '; 4096])));
    let r = Server::finish(
        s.client
            .post(s.url("/Users"))
            .bearer_auth(&s.server.token)
            .header("Content-Type", "application/scim+json")
            .body(reqwest::Body::wrap_stream(stream)),
    )
    .await;
    r.assert_error(413, None);
    assert_eq!(s.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn unknown_ids_and_deep_json() {
    let s = Server::start().await;
    for id in ["010101001010101011001010101011", "00919288221112222", "5f7c9e0a-0000-4000-8000-000000000000"] {
        let r = s.get(&format!("/Users/{id}")).await;
        r.assert_error(404, None);
        s.patch_ops(&format!("/Users/{id}"), json!([{"op": "replace", "path": "active", "value": false}]))
            .await
            .assert_error(404, None);
        s.get(&format!("/Groups/{id}")).await.assert_error(404, None);
    }
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let r = Server::finish(
        s.client
            .post(s.url("/Users"))
            .bearer_auth(&s.server.token)
            .header("Content-Type", "application/json")
            .body(deep),
    )
    .await;
    r.assert_error(400, Some("invalidSyntax"));
}
