//! A write on a data file whose disk is really full: the file system is a small tmpfs mounted for the test
//! (and unmounted after it). The write answers 500 and changes nothing — not in memory (a GET shows the old
//! state, the same write sent again once there is space succeeds) and not in the file (after a restart
//! nothing of it is there, and no later commit carries it).
//!
//! Mounting needs root and a kernel that lets the test mount; elsewhere the test says why it did not run
//! and passes. `failed_writes.rs` covers the same path with a failure injected at the same point, on any
//! machine.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{okta_user, Server};
use scim_reference_server::ServerConfig;
use serde_json::json;

const TOKEN: &str = "disk-full-token-0123456789";

/// A tmpfs of `size` mounted on a new directory, unmounted (and the directory removed) when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc_geteuid() } != 0 {
            return Err("not running as root".into());
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount could not be run: {e}"))?;
        if !out.status.success() {
            return Err(format!("mount failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: after a failed assertion the server may still hold the data file open.
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// Fills the file system holding `dir` until not one more byte fits; returns the filler file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    for chunk in [65536, 4096, 1] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
    path
}

#[tokio::test]
async fn a_write_on_a_full_disk_answers_500_and_changes_nothing_in_memory_or_in_the_file() {
    let fs = match Tmpfs::mount("8m") {
        Ok(fs) => fs,
        Err(why) => {
            println!("SKIPPED: a tmpfs cannot be mounted here ({why}); failed_writes.rs covers the same path");
            return;
        }
    };
    let data = fs.path().join("portal.db");
    let config = || ServerConfig::default().with_data(&data).with_token(TOKEN);
    let server = Server::start_with(config()).await;
    let kept = server.create_user("kept@example.com").await;
    let kept_path = format!("/Users/{}", kept["id"].as_str().unwrap());
    server.server.tenants.flush_token_use(chrono::Duration::zero()).unwrap();

    let filler = fill(fs.path());
    let r = server.post("/Users", okta_user("lost@example.com")).await;
    let detail = r.assert_error(500, None);
    assert!(detail.contains("database or disk is full"), "{detail}");
    let found = server.get("/Users?filter=userName%20eq%20%22lost@example.com%22").await;
    assert_eq!(found.body["totalResults"], 0, "the refused create is visible: {}", found.text);
    let r = server.patch_ops(&kept_path, json!([{"op": "replace", "path": "displayName", "value": "Changed"}])).await;
    r.assert_error(500, None);
    assert_eq!(server.get(&kept_path).await.body["displayName"], "kept display", "the refused PATCH is visible");

    std::fs::remove_file(filler).unwrap();
    // Once there is space, the create sent again succeeds, once; the refused PATCH is not carried along.
    let r = server.post("/Users", okta_user("lost@example.com")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    server.server.shutdown().await;

    let server = Server::start_with(config()).await;
    let found = server.get("/Users?filter=userName%20eq%20%22lost@example.com%22").await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.text);
    assert_eq!(
        server.get(&kept_path).await.body["displayName"],
        "kept display",
        "the refused PATCH was committed later"
    );
    server.server.shutdown().await;
}
