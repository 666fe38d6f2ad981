//! An error answer means nothing changed, in memory and in the data file: every kind of write is made to
//! fail at its commit (the data file refuses it as a full disk does, [`Db::fail_next_writes`]), and then
//! - it answered 500 with the data file's reason;
//! - a read shows the state before it (the resource, its memberships, its version, the portal's view);
//! - after a restart from the data file nothing of it is there (the failed operations were not kept for a
//!   later commit);
//! - the same write sent again succeeds normally and survives a restart.
//!
//! The same on a real full file system is in `disk_full.rs`.

mod common;

use std::path::{Path, PathBuf};

use common::{id_of, okta_user, Res, Server};
use reqwest::Method;
use scim_reference_server::config::Config;
use scim_reference_server::ServerConfig;
use serde_json::{json, Value};

const TOKEN: &str = "failed-writes-token-0123456789";
const ADMIN_KEY: &str = "failed-writes-admin-key-0123456789";

struct Portal {
    server: Server,
    data: PathBuf,
}

impl Portal {
    async fn start(data: &Path) -> Portal {
        let mut seed = Config::builtin();
        seed.admin_key = Some(ADMIN_KEY.into());
        let config = ServerConfig::default().with_data(data).with_token(TOKEN).with_seed(seed);
        let server = Server::start_with(config).await;
        // Write the token's first use now, so that the write-behind never takes the injected failure.
        server.get("/Users?count=1").await;
        server.server.tenants.flush_token_use(chrono::Duration::zero()).unwrap();
        Portal { server, data: data.to_path_buf() }
    }

    async fn restart(self) -> Portal {
        self.server.server.shutdown().await;
        Portal::start(&self.data).await
    }

    /// The next transaction on the data file fails as a full disk makes it fail.
    fn fail_next_write(&self) {
        self.server.server.tenants.data_file().expect("a data file").fail_next_writes(1);
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        let mut rb = self
            .server
            .client
            .request(method, format!("{}/tenants/acme{path}", self.server.server.admin_url))
            .bearer_auth(ADMIN_KEY);
        if let Some(b) = body {
            rb = rb.header("Content-Type", "application/json").body(b.to_string());
        }
        Server::finish(rb).await
    }
}

/// A failed write's answer: 500, no scimType, the data file's reason.
fn assert_disk_full(r: &Res) {
    let detail = r.assert_error(500, None);
    assert!(detail.contains("could not be written") && detail.contains("full"), "{detail}");
}

/// Runs `write` once failing and checks, with `state` (what a client sees, as one JSON value), that nothing
/// changed — also after a restart; then runs it again, expecting `ok`, and checks that its effect survives a
/// restart. Returns the portal after the last restart.
async fn fails_then_succeeds<W, S>(portal: Portal, ok: u16, write: W, state: S) -> (Portal, Value, Value)
where
    W: AsyncFn(&Portal) -> Res,
    S: AsyncFn(&Portal) -> Value,
{
    // The port changes with each start, and with it every `meta.location` and `$ref`.
    let state = async |p: &Portal| {
        let text = state(p).await.to_string().replace(&p.server.server.addr.to_string(), "HOST");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let before = state(&portal).await;
    portal.fail_next_write();
    assert_disk_full(&write(&portal).await);
    assert_eq!(state(&portal).await, before, "the failed write is visible");
    let portal = portal.restart().await;
    assert_eq!(state(&portal).await, before, "the failed write reached the data file");
    let r = write(&portal).await;
    assert_eq!(r.status, ok, "the write sent again: {}", r.text);
    let after = state(&portal).await;
    assert_ne!(after, before, "the write sent again changed nothing");
    let portal = portal.restart().await;
    assert_eq!(state(&portal).await, after, "the successful write did not survive a restart");
    (portal, before, after)
}

async fn users_named(p: &Portal, name: &str) -> Value {
    let r = p.server.get(&format!("/Users?filter=userName%20eq%20%22{name}%22")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    json!([r.body["totalResults"], r.body["Resources"]])
}

async fn resource(p: &Portal, path: &str) -> Value {
    let r = p.server.get(path).await;
    json!([r.status.as_u16(), r.body])
}

async fn access(p: &Portal, id: &str) -> Value {
    let r = p.admin(Method::GET, &format!("/users/{id}/access"), None).await;
    json!([r.status.as_u16(), r.body])
}

#[tokio::test]
async fn a_create_that_fails_to_commit_is_not_there_and_a_retry_creates_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let portal = Portal::start(&dir.path().join("portal.db")).await;
    let create = async |p: &Portal| p.server.post("/Users", okta_user("ann@example.com")).await;
    let (portal, _, after) =
        fails_then_succeeds(portal, 201, create, async |p: &Portal| users_named(p, "ann@example.com").await).await;
    assert_eq!(after[0], 1);
    // Once, not twice: the failed operation was not kept for the retry's commit.
    portal.server.post("/Users", okta_user("ann@example.com")).await.assert_error(409, Some("uniqueness"));
    let id = after[1][0]["id"].as_str().unwrap();
    assert_eq!(access(&portal, id).await[1]["status"], "active", "the portal knows the user");
    portal.server.server.shutdown().await;
}

#[tokio::test]
async fn a_user_patch_put_deactivation_and_delete_that_fail_leave_the_user_and_its_licence_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let portal = Portal::start(&dir.path().join("portal.db")).await;
    let user = portal.server.create_user("bob@example.com").await;
    let id = id_of(&user);
    let group = portal.server.create_group("admin", &[&id]).await;
    let path = format!("/Users/{id}");
    let seen = async |p: &Portal| json!([resource(p, &path).await, access(p, &id).await]);
    let patch = async |p: &Portal| {
        p.server.patch_ops(&path, json!([{"op": "replace", "path": "displayName", "value": "Robert"}])).await
    };
    let (portal, _, after) = fails_then_succeeds(portal, 200, patch, seen).await;
    assert_eq!(after[0][1]["displayName"], "Robert");

    let mut body = okta_user("bob@example.com");
    body["title"] = json!("Engineer");
    let put = async |p: &Portal| p.server.put(&path, body.clone()).await;
    let (portal, _, after) = fails_then_succeeds(portal, 200, put, seen).await;
    assert_eq!(after[0][1]["title"], "Engineer");

    // Deactivation (Okta's PATCH active=false): the portal's access state and CAL seat ride along.
    let deactivate =
        async |p: &Portal| p.server.patch_ops(&path, json!([{"op": "replace", "value": {"active": false}}])).await;
    let (portal, before, after) = fails_then_succeeds(portal, 200, deactivate, seen).await;
    assert_eq!((&before[1][1]["status"], &after[1][1]["status"]), (&json!("active"), &json!("anonymous")));

    let delete = async |p: &Portal| p.server.delete(&path).await;
    let with_group = async |p: &Portal| {
        json!([
            resource(p, &path).await,
            access(p, &id).await,
            resource(p, &format!("/Groups/{}", id_of(&group))).await
        ])
    };
    let (portal, before, after) = fails_then_succeeds(portal, 204, delete, with_group).await;
    assert_eq!(before[0][0], 200);
    assert_eq!(before[2][1]["members"][0]["value"], id.as_str(), "the failed delete kept the membership");
    assert_eq!(after[0][0], 404);
    assert_eq!(after[1][1]["status"], "deactivated");
    portal.server.server.shutdown().await;
}

#[tokio::test]
async fn group_writes_that_fail_leave_the_group_its_members_and_their_groups_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let portal = Portal::start(&dir.path().join("portal.db")).await;
    let a = id_of(&portal.server.create_user("a@example.com").await);
    let b = id_of(&portal.server.create_user("b@example.com").await);
    let names = async |p: &Portal| {
        let r = p.server.get("/Groups?filter=displayName%20eq%20%22team%22").await;
        json!([r.body["totalResults"], r.body["Resources"], resource(p, &format!("/Users/{a}")).await])
    };
    let create = async |p: &Portal| {
        p.server
            .post("/Groups", json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "team", "members": [{"value": a}]}))
            .await
    };
    let (portal, _, after) = fails_then_succeeds(portal, 201, create, names).await;
    let gid = after[1][0]["id"].as_str().unwrap().to_string();
    let gpath = format!("/Groups/{gid}");
    // Everything a membership change touches: the group, both users' `groups` and versions, their licences.
    let seen = async |p: &Portal| {
        json!([
            resource(p, &gpath).await,
            resource(p, &format!("/Users/{a}")).await,
            resource(p, &format!("/Users/{b}")).await,
            access(p, &b).await
        ])
    };
    // Okta's add (the membership fast path).
    let add = async |p: &Portal| {
        p.server.patch_ops(&gpath, json!([{"op": "add", "path": "members", "value": [{"value": b}]}])).await
    };
    let (portal, before, after) = fails_then_succeeds(portal, 204, add, seen).await;
    assert!(before[2][1]["groups"].as_array().is_none_or(|g| g.is_empty()));
    assert_eq!(after[2][1]["groups"][0]["value"], gid.as_str());
    // Entra's remove with a filter.
    let remove = async |p: &Portal| {
        p.server.patch_ops(&gpath, json!([{"op": "Remove", "path": format!("members[value eq \"{a}\"]")}])).await
    };
    let (portal, ..) = fails_then_succeeds(portal, 204, remove, seen).await;
    // PUT with a new name and members.
    let put = async |p: &Portal| {
        p.server
            .put(&gpath, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "crew", "members": [{"value": a}]}))
            .await
    };
    let (portal, ..) = fails_then_succeeds(portal, 200, put, seen).await;
    let delete = async |p: &Portal| p.server.delete(&gpath).await;
    let (portal, _, after) = fails_then_succeeds(portal, 204, delete, seen).await;
    assert_eq!(after[0][0], 404);
    portal.server.server.shutdown().await;
}

#[tokio::test]
async fn admin_writes_that_fail_leave_tokens_licences_settings_apps_and_accounts_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let portal = Portal::start(&dir.path().join("portal.db")).await;
    let tokens = async |p: &Portal| p.admin(Method::GET, "/apps/SCIMAzure/tokens", None).await.body;
    let issue = async |p: &Portal| p.admin(Method::POST, "/apps/SCIMAzure/tokens", Some(json!({"label": "x"}))).await;
    let (portal, _, after) = fails_then_succeeds(portal, 201, issue, tokens).await;
    let token_id = after.as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let revoke = async |p: &Portal| p.admin(Method::DELETE, &format!("/apps/SCIMAzure/tokens/{token_id}"), None).await;
    let (portal, ..) = fails_then_succeeds(portal, 204, revoke, tokens).await;

    let cals = async |p: &Portal| p.admin(Method::GET, "/cals", None).await.body;
    let set_cals = async |p: &Portal| {
        p.admin(Method::PUT, "/cals", Some(json!([{"id": "standard", "name": "Standard", "seats": 10}, {"id": "professional", "name": "Professional", "seats": 5}])))
            .await
    };
    let (portal, ..) = fails_then_succeeds(portal, 200, set_cals, cals).await;

    let tenant = async |p: &Portal| p.admin(Method::GET, "", None).await.body;
    let settings =
        async |p: &Portal| p.admin(Method::PUT, "/settings", Some(json!({"releaseSeatsOnDeactivation": true}))).await;
    let (portal, ..) = fails_then_succeeds(portal, 200, settings, tenant).await;
    let app = async |p: &Portal| {
        p.admin(Method::PUT, "/apps/SCIMAzure", Some(json!({"enabled": false, "defaultCal": "standard"}))).await
    };
    let (portal, ..) = fails_then_succeeds(portal, 200, app, tenant).await;

    // A local account and its role are one write.
    let account = async |p: &Portal| {
        p.admin(Method::POST, "/accounts", Some(json!({"userName": "it@acme.test", "role": "administrator"}))).await
    };
    portal.fail_next_write();
    assert_disk_full(&account(&portal).await);
    let portal = portal.restart().await;
    portal.fail_next_write();
    assert_disk_full(&account(&portal).await);
    // Neither the file (restarted from) nor memory (failed again since) holds the account: created once.
    let r = account(&portal).await;
    assert_eq!(r.status, 201, "the account created again: {}", r.text);
    let id = id_of(&r.body);
    let view = access(&portal, &id).await;
    assert_eq!((view[1]["role"].as_str(), view[1]["protected"].as_bool()), (Some("administrator"), Some(true)));
    let portal = portal.restart().await;
    let view = access(&portal, &id).await;
    assert_eq!(view[1]["role"], "administrator", "the account's role was stored with it");
    assert_eq!(account(&portal).await.status, 409, "one account, not two");
    portal.server.server.shutdown().await;
}
