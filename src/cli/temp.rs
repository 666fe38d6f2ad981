//! Temporary folders that are removed however the command ends: when dropped (success, an error returned with
//! `?`, a panic that unwinds) and by [`remove_all`] before a second Ctrl-C quits the process at once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folders alive now, so a process exit that skips destructors can still remove them.
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A folder in the system temporary folder (`$TMPDIR` on Unix), removed with everything in it on drop.
#[derive(Debug)]
pub struct TempFolder {
    path: PathBuf,
}

impl TempFolder {
    /// Creates `<temp>/<prefix>-<uuid>`.
    ///
    /// Errors: the folder cannot be created.
    pub fn new(prefix: &str) -> std::io::Result<TempFolder> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path)?;
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).insert(path.clone());
        Ok(TempFolder { path })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.path);
    }
}

/// Removes every live [`TempFolder`]; for exits that skip destructors (`std::process::exit`).
pub fn remove_all() {
    remove_where(|_| true);
}

/// Removes the live [`TempFolder`]s whose path `pick` selects (all of them for [`remove_all`]).
fn remove_where(pick: impl Fn(&Path) -> bool) {
    let picked: Vec<PathBuf> = {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let picked: Vec<PathBuf> = live.iter().filter(|p| pick(p)).cloned().collect();
        live.retain(|p| !pick(p));
        picked
    };
    for path in picked {
        let _ = std::fs::remove_dir_all(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_removed_on_drop_and_by_remove_all() {
        let a = TempFolder::new("scimcheck-temp-test").unwrap();
        std::fs::write(a.path().join("x.snap.new"), "x").unwrap();
        let path = a.path().to_path_buf();
        drop(a);
        assert!(!path.exists());
        // the removal remove_all makes, of this test's folder only: the other tests' folders in this process stay
        let b = TempFolder::new("scimcheck-temp-test").unwrap();
        let path = b.path().to_path_buf();
        remove_where(|p| p == path);
        assert!(!path.exists());
        assert!(!LIVE.lock().unwrap().contains(&path));
        drop(b);
    }
}
