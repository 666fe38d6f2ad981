//! A data file edited by hand (or damaged) is never served inconsistently, and its format version is kept:
//! each case edits a file written by the server with SQLite directly, then starts the server on it again.
//! Refused cases name the file, the table, the row and the reason; a membership of a group or member that
//! does not exist is the one case repaired (its row deleted).

mod common;

use std::path::Path;

use common::Server;
use rusqlite::Connection;
use scim_reference_server::{spawn, ServerConfig};

const TOKEN: &str = "data-file-token-0123456789";

fn config(data: &Path) -> ServerConfig {
    ServerConfig::default().with_data(data).with_token(TOKEN)
}

/// A data file holding users ann and bob and a group `team` with both; returns (ann, bob, team) ids.
async fn written(data: &Path) -> (String, String, String) {
    let server = Server::start_with(config(data)).await;
    let ann = common::id_of(&server.create_user("ann@example.com").await);
    let bob = common::id_of(&server.create_user("bob@example.com").await);
    let team = common::id_of(&server.create_group("team", &[&ann, &bob]).await);
    server.server.shutdown().await;
    (ann, bob, team)
}

fn edit(data: &Path, sql: &str) {
    Connection::open(data).unwrap().execute_batch(sql).unwrap();
}

fn seq_of(data: &Path, id: &str) -> i64 {
    Connection::open(data).unwrap().query_row("SELECT seq FROM resources WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

/// Starts the server on `data`, expecting a refusal; returns its message.
async fn refused(data: &Path) -> String {
    let e = spawn(config(data)).await.expect_err("the server served an inconsistent data file");
    let msg = e.to_string();
    assert!(msg.contains(&data.display().to_string()), "the file is not named: {msg}");
    msg
}

#[tokio::test]
async fn two_users_with_one_user_name_are_refused_naming_both_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let (ann, bob, _) = written(&data).await;
    edit(
        &data,
        &format!("UPDATE resources SET body = replace(body, 'bob@example.com', 'ANN@example.com') WHERE id = '{bob}'"),
    );
    let msg = refused(&data).await;
    let (first, second) = (seq_of(&data, &ann), seq_of(&data, &bob));
    assert!(msg.contains(&format!("table resources, row {second}")), "{msg}");
    assert!(msg.contains(&format!("also that of row {first}")) && msg.contains("unique"), "{msg}");
}

#[tokio::test]
async fn a_body_that_is_not_a_resource_is_refused() {
    for (body, why) in [
        ("[1,2,3]", "is not a User resource"),
        ("{\"id\":\"x\"}", "is not the row's id"),
        ("not json", "is not a User resource"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("portal.db");
        let (ann, ..) = written(&data).await;
        edit(&data, &format!("UPDATE resources SET body = '{body}' WHERE id = '{ann}'"));
        let msg = refused(&data).await;
        assert!(
            msg.contains(&format!("table resources, row {}", seq_of(&data, &ann))) && msg.contains(why),
            "{body}: {msg}"
        );
    }
    // A user without a userName.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let (ann, ..) = written(&data).await;
    edit(&data, &format!("UPDATE resources SET body = json_remove(body, '$.userName') WHERE id = '{ann}'"));
    assert!(refused(&data).await.contains("the User has no userName"));
}

#[tokio::test]
async fn rows_that_were_silently_dropped_are_refused() {
    for (sql, why) in [
        ("UPDATE resources SET kind = 'Person' WHERE id = '{ann}'", "kind 'Person' is neither User nor Group"),
        ("UPDATE resources SET id = 'not-a-uuid' WHERE id = '{ann}'", "id 'not-a-uuid' is not a UUID"),
        ("UPDATE members SET kind = 'Thing' WHERE member = '{ann}'", "member kind 'Thing'"),
        ("UPDATE members SET kind = 'Group' WHERE member = '{ann}'", "is a User, not a Group"),
        ("UPDATE portal_users SET id = 'x' WHERE id = '{ann}'", "table portal_users"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("portal.db");
        let (ann, ..) = written(&data).await;
        edit(&data, &sql.replace("{ann}", &ann));
        let msg = refused(&data).await;
        assert!(msg.contains(why), "{sql}: {msg}");
    }
}

#[tokio::test]
async fn a_lost_table_is_refused_instead_of_being_created_empty() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    written(&data).await;
    edit(&data, "DROP TABLE members");
    let msg = refused(&data).await;
    assert!(msg.contains("has no table members"), "{msg}");
    let tables: i64 = Connection::open(&data)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'members'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0, "the refused file was changed");
}

#[tokio::test]
async fn a_value_that_cannot_be_read_is_reported_as_a_read_failure() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let (ann, ..) = written(&data).await;
    edit(&data, &format!("UPDATE resources SET version = 'abc' WHERE id = '{ann}'"));
    let msg = refused(&data).await;
    assert!(msg.contains("could not be read") && !msg.contains("written"), "{msg}");
}

#[tokio::test]
async fn a_membership_of_a_missing_group_or_member_is_deleted_and_the_rest_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let (ann, bob, team) = written(&data).await;
    let phantom = "0b7e0c8e-0000-4000-8000-000000000001";
    edit(
        &data,
        &format!(
            "INSERT INTO members (tenant, grp, member, kind) VALUES ('acme', '{team}', '{phantom}', 'User');
             INSERT INTO members (tenant, grp, member, kind) VALUES ('acme', '{phantom}', '{ann}', 'User');"
        ),
    );
    let server = Server::start_with(config(&data)).await;
    let mut expected = vec![ann.clone(), bob.clone()];
    expected.sort();
    assert_eq!(server.member_ids(&team).await, expected, "the phantom member is shown");
    let ann_groups = server.get(&format!("/Users/{ann}")).await.body["groups"].clone();
    assert_eq!(ann_groups.as_array().map(Vec::len), Some(1), "a phantom group is shown: {ann_groups}");
    server.server.shutdown().await;
    let left: i64 = Connection::open(&data)
        .unwrap()
        .query_row("SELECT count(*) FROM members WHERE grp = ?1 OR member = ?1", [phantom], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0, "the repaired rows are still in the file");
}

fn user_version(data: &Path) -> i64 {
    Connection::open(data).unwrap().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn the_data_file_keeps_its_format_version_and_a_file_without_one_is_migrated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    let (ann, ..) = written(&data).await;
    assert_eq!(user_version(&data), i64::from(scim_reference_server::datafile::VERSION));
    // A file written before versions were kept (version 1's tables, no oauth_clients).
    edit(&data, "DROP TABLE oauth_clients; PRAGMA user_version = 0");
    let server = Server::start_with(config(&data)).await;
    assert_eq!(server.get(&format!("/Users/{ann}")).await.status, 200, "the migrated file lost its users");
    server.server.shutdown().await;
    assert_eq!(user_version(&data), 2, "the file was not stamped");
    // A version-1 file (before OAuth clients): migrated to 2 by creating its oauth_clients table.
    edit(&data, "DROP TABLE oauth_clients; PRAGMA user_version = 1");
    let server = Server::start_with(config(&data)).await;
    assert_eq!(server.get(&format!("/Users/{ann}")).await.status, 200, "the migrated file lost its users");
    server.server.shutdown().await;
    assert_eq!(user_version(&data), 2, "the version-1 file was not migrated");
    let tables: i64 = Connection::open(&data)
        .unwrap()
        .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'oauth_clients'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "the migration did not create oauth_clients");
}

#[tokio::test]
async fn a_data_file_from_a_newer_server_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("portal.db");
    written(&data).await;
    edit(&data, "PRAGMA user_version = 7");
    let before = std::fs::read(&data).unwrap();
    let msg = refused(&data).await;
    assert!(msg.contains("format version 7") && msg.contains("newer server") && msg.contains("up to 2"), "{msg}");
    assert_eq!(user_version(&data), 7);
    assert_eq!(std::fs::read(&data).unwrap(), before, "the refused file was changed");
}
