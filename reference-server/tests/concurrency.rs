//! Safety under parallel requests: of concurrent creates of one `userName`, exactly one succeeds and the others
//! are `409 uniqueness` (RFC 7643 §2.1, RFC 7644 §3.3, §3.12); concurrent membership PATCHes (RFC 7644 §3.5.2)
//! lose no member.

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_user_name_give_exactly_one_201() {
    let s = Arc::new(Server::start().await);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.post("/Users", okta_user("race@example.com")).await })
        })
        .collect();
    let mut created = 0;
    let mut conflicts = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status.as_u16() {
            201 => created += 1,
            409 => {
                r.assert_error(409, Some("uniqueness"));
                conflicts += 1
            }
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    assert_eq!((created, conflicts), (1, 99));
    assert_eq!(s.get("/Users").await.body["totalResults"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_membership_patches_lose_no_member() {
    let s = Arc::new(Server::start().await);
    let mut users = Vec::new();
    for i in 0..60 {
        users.push(id_of(&s.create_user(&format!("cm{i}@example.com")).await));
    }
    let g = id_of(&s.create_group("Crowd", &[]).await);
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .map(|u| {
            let s = s.clone();
            let g = g.clone();
            tokio::spawn(async move {
                s.patch_ops(&format!("/Groups/{g}"), json!([{"op": "add", "path": "members", "value": [{"value": u}]}]))
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().status, 204);
    }
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(s.member_ids(&g).await, expected);
    // and concurrent removals of half of them leave exactly the other half
    let tasks: Vec<_> = users
        .iter()
        .step_by(2)
        .cloned()
        .map(|u| {
            let s = s.clone();
            let g = g.clone();
            tokio::spawn(async move {
                s.patch_ops(
                    &format!("/Groups/{g}"),
                    json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}]),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().status, 204);
    }
    let mut left: Vec<String> = users.iter().skip(1).step_by(2).cloned().collect();
    left.sort();
    assert_eq!(s.member_ids(&g).await, left);
}
