//! A local directory as a store: the embedded default (`./allure-site`).
//!
//! Readers never see half-written files: every write goes to a temporary file
//! under `.allure-host/tmp/` and is renamed into place. Compare-and-swap writes
//! hold an exclusive lock on `.allure-host/lock`, so concurrent publishers on
//! one machine behave as they do against S3.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Listed, Object, PutMode, StoreError};

/// Our private folder inside the site root (lock and temporary files).
const STATE_DIR: &str = ".allure-host";

pub struct LocalStore {
    root: PathBuf,
}

fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn io_err(op: &'static str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Other {
        op,
        target: path.display().to_string(),
        detail: e.to_string(),
        source: Some(Box::new(e)),
    }
}

impl LocalStore {
    /// Use `root`, creating it if needed. The path is made absolute so URLs
    /// printed for it work from anywhere.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(root.join(STATE_DIR).join("tmp"))
            .map_err(|e| io_err("create", root, e))?;
        let root = fs::canonicalize(root).map_err(|e| io_err("open", root, e))?;
        Ok(Self { root })
    }

    /// For plans and checks: reads work, nothing is created on disk.
    pub fn open_read_only(root: &Path) -> Result<Self, StoreError> {
        let root = std::path::absolute(root).map_err(|e| io_err("open", root, e))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn location(&self, key: &str) -> String {
        format!("file://{}", self.root.join(key).display())
    }

    /// Map a key to a path, refusing anything that could leave the root.
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let rel = Path::new(key);
        let safe = !key.is_empty()
            && rel
                .components()
                .all(|c| matches!(c, Component::Normal(p) if p != STATE_DIR));
        if !safe {
            return Err(StoreError::Other {
                op: "resolve",
                target: key.into(),
                detail: "key would leave the site directory".into(),
                source: None,
            });
        }
        Ok(self.root.join(rel))
    }

    fn temp_path(&self) -> PathBuf {
        self.root
            .join(STATE_DIR)
            .join("tmp")
            .join(format!("{:016x}.part", fastrand::u64(..)))
    }

    /// Move a finished temporary file to `dest`, creating parent folders.
    fn install(&self, tmp: &Path, dest: &Path) -> Result<(), StoreError> {
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| io_err("create", parent, e))?;
        }
        fs::rename(tmp, dest).map_err(|e| {
            let _ = fs::remove_file(tmp);
            io_err("rename", dest, e)
        })
    }

    fn read(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let path = self.path(key)?;
        match fs::read(&path) {
            Ok(body) => Ok(Some(Object {
                etag: etag_of(&body),
                body,
            })),
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                Ok(None)
            }
            Err(e) => Err(io_err("read", &path, e)),
        }
    }

    fn write(&self, key: &str, body: Vec<u8>, mode: PutMode) -> Result<(), StoreError> {
        let dest = self.path(key)?;
        let tmp = self.temp_path();
        fs::write(&tmp, &body).map_err(|e| io_err("write", &tmp, e))?;
        if mode == PutMode::Overwrite {
            return self.install(&tmp, &dest);
        }
        let lock_path = self.root.join(STATE_DIR).join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("lock", &lock_path, e))?;
        lock.lock().map_err(|e| io_err("lock", &lock_path, e))?;
        let current = self.read(key)?;
        let holds = match (&mode, &current) {
            (PutMode::Create, None) => true,
            (PutMode::Update(etag), Some(obj)) => &obj.etag == etag,
            _ => false,
        };
        let result = if holds {
            self.install(&tmp, &dest)
        } else {
            let _ = fs::remove_file(&tmp);
            Err(StoreError::Precondition { key: key.into() })
        };
        drop(lock);
        result
    }

    fn copy_in(&self, key: &str, src: &Path) -> Result<(), StoreError> {
        let dest = self.path(key)?;
        let tmp = self.temp_path();
        fs::copy(src, &tmp).map_err(|e| io_err("copy", src, e))?;
        self.install(&tmp, &dest)
    }

    fn list_sync(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        let dir = self.path(prefix.trim_end_matches('/'))?;
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(&dir) {
            let entry = entry.map_err(|e| StoreError::Other {
                op: "list",
                target: dir.display().to_string(),
                detail: e.to_string(),
                source: Some(Box::new(e)),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&self.root)
                .unwrap_or(entry.path());
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(Listed {
                key: rel.to_string_lossy().replace('\\', "/"),
                size,
            });
        }
        Ok(out)
    }

    fn list_folders_sync(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let dir = match prefix.trim_end_matches('/') {
            "" => self.root.clone(),
            p => self.path(p)?,
        };
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_err("list", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Dot folders are the store's own (the lock), never keys.
            if entry.file_type().is_ok_and(|t| t.is_dir()) && !name.starts_with('.') {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    fn delete_sync(&self, keys: Vec<String>) -> Result<(), StoreError> {
        let mut parents = std::collections::BTreeSet::new();
        for key in keys {
            let path = self.path(&key)?;
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_err("delete", &path, e)),
            }
            parents.extend(path.parent().map(Path::to_path_buf));
        }
        // Remove folders left empty, deepest first, never the root itself.
        for dir in parents.into_iter().rev() {
            let mut dir = dir.as_path();
            while dir != self.root && dir.starts_with(&self.root) && fs::remove_dir(dir).is_ok() {
                match dir.parent() {
                    Some(p) => dir = p,
                    None => break,
                }
            }
        }
        Ok(())
    }
}

/// Run blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Other {
            op: "local",
            target: String::new(),
            detail: e.to_string(),
            source: Some(Box::new(e)),
        })?
}

impl LocalStore {
    fn handle(&self) -> Self {
        Self {
            root: self.root.clone(),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let (me, key) = (self.handle(), key.to_string());
        blocking(move || me.read(&key)).await
    }

    pub async fn put_bytes(
        &self,
        key: &str,
        body: Vec<u8>,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        let (me, key) = (self.handle(), key.to_string());
        blocking(move || me.write(&key, body, mode)).await
    }

    pub async fn put_file(&self, key: &str, src: &Path) -> Result<(), StoreError> {
        let (me, key, src) = (self.handle(), key.to_string(), src.to_path_buf());
        blocking(move || me.copy_in(&key, &src)).await
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        let (me, prefix) = (self.handle(), prefix.to_string());
        blocking(move || me.list_sync(&prefix)).await
    }

    pub async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let (me, prefix) = (self.handle(), prefix.to_string());
        blocking(move || me.list_folders_sync(&prefix)).await
    }

    pub async fn delete(&self, keys: Vec<String>) -> Result<(), StoreError> {
        let me = self.handle();
        blocking(move || me.delete_sync(keys)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn compare_and_swap_follows_s3_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let store = LocalStore::open(tmp.path()).unwrap();
        store
            .put_bytes("a/b.json", b"1".to_vec(), PutMode::Create)
            .await
            .unwrap();
        let err = store
            .put_bytes("a/b.json", b"2".to_vec(), PutMode::Create)
            .await;
        assert!(matches!(err, Err(StoreError::Precondition { .. })));
        let obj = store.get("a/b.json").await.unwrap().unwrap();
        let stale = obj.etag.clone();
        store
            .put_bytes("a/b.json", b"3".to_vec(), PutMode::Update(obj.etag))
            .await
            .unwrap();
        let err = store
            .put_bytes("a/b.json", b"4".to_vec(), PutMode::Update(stale))
            .await;
        assert!(matches!(err, Err(StoreError::Precondition { .. })));
        assert_eq!(store.get("a/b.json").await.unwrap().unwrap().body, b"3");
        assert!(store.get("a/missing").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&tmp.path().join("site")).unwrap();
        for key in ["../x", "/etc/x", "a/../../x", ".allure-host/lock", ""] {
            assert!(
                store
                    .put_bytes(key, vec![], PutMode::Overwrite)
                    .await
                    .is_err(),
                "{key}"
            );
        }
        assert!(!tmp.path().join("x").exists());
    }

    #[tokio::test]
    async fn delete_removes_empty_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let store = LocalStore::open(tmp.path()).unwrap();
        for k in ["p/b/1/index.html", "p/b/1/data/x.json", "p/b/2/index.html"] {
            store
                .put_bytes(k, b"x".to_vec(), PutMode::Overwrite)
                .await
                .unwrap();
        }
        let listed = store.list("p/b/1/").await.unwrap();
        assert_eq!(listed.len(), 2);
        store
            .delete(listed.into_iter().map(|l| l.key).collect())
            .await
            .unwrap();
        assert!(!tmp.path().join("p/b/1").exists());
        assert!(tmp.path().join("p/b/2/index.html").exists());
    }
}
