//! Where uploaded bytes live. Files are content-addressed: the key is the
//! sha256 of the bytes, so the same file uploaded twice is stored once and a
//! stored file never changes. The store sits behind a trait so that several
//! server processes can share an object store instead of a local directory.

use std::path::{Path, PathBuf};
use std::pin::Pin;

use anyhow::Context;
use futures::future::BoxFuture;
use tokio::io::AsyncRead;

pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

pub trait BlobStore: Send + Sync + 'static {
    /// Stores the file at `path` under `key`, consuming the file.
    fn put_file<'a>(&'a self, key: &'a str, path: &'a Path) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Opens the bytes stored under `key`.
    fn open<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<BlobReader>>;
}

/// Blobs in a local directory: `<root>/<first two hex digits>/<sha256>`.
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> LocalDir {
        LocalDir { root: root.into() }
    }

    fn path_of(&self, key: &str) -> anyhow::Result<PathBuf> {
        anyhow::ensure!(
            key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
            "blob keys are sha256 hex digests"
        );
        Ok(self.root.join(&key[..2]).join(key))
    }
}

impl BlobStore for LocalDir {
    fn put_file<'a>(&'a self, key: &'a str, path: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let target = self.path_of(key)?;
            if tokio::fs::try_exists(&target).await.unwrap_or(false) {
                // Same bytes already stored.
                tokio::fs::remove_file(path).await.ok();
                return Ok(());
            }
            let dir = target.parent().context("a blob path has a parent")?;
            tokio::fs::create_dir_all(dir)
                .await
                .with_context(|| format!("Failed to create {}", dir.display()))?;
            tokio::fs::rename(path, &target)
                .await
                .with_context(|| format!("Failed to move an upload to {}", target.display()))
        })
    }

    fn open<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<BlobReader>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let file = tokio::fs::File::open(&path)
                .await
                .with_context(|| format!("Failed to open {}", path.display()))?;
            Ok(Box::pin(file) as BlobReader)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    const KEY: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[tokio::test]
    async fn a_stored_file_can_be_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path().join("uploads"));
        let upload = dir.path().join("incoming");
        tokio::fs::write(&upload, b"hello").await.unwrap();
        store.put_file(KEY, &upload).await.unwrap();
        let mut bytes = Vec::new();
        store
            .open(KEY)
            .await
            .unwrap()
            .read_to_end(&mut bytes)
            .await
            .unwrap();
        assert_eq!(bytes, b"hello");
        assert!(!upload.exists(), "the upload was moved into the store");
    }

    #[tokio::test]
    async fn keys_that_are_not_digests_never_touch_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path());
        for key in ["../../etc/passwd", "", "ab", &"g".repeat(64)] {
            assert!(store.open(key).await.is_err(), "{key}");
        }
    }
}
