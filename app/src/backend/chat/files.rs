//! Where uploaded bytes live. Files are content-addressed: the key is the
//! sha256 of the bytes, so the same file uploaded twice is stored once and a
//! stored file never changes. The store sits behind a trait so that several
//! server processes can share an object store instead of a local directory.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use futures::TryStreamExt;
use futures::future::BoxFuture;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
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
        ensure_digest(key)?;
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

/// Blobs in an object store: S3 or any S3-compatible service (MinIO, R2,
/// …) when several nodes serve uploads, under `<prefix>/<first two hex
/// digits>/<sha256>`. Uploads stream in parts; downloads stream back.
pub struct ObjectStoreBlobs {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
}

impl ObjectStoreBlobs {
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> ObjectStoreBlobs {
        ObjectStoreBlobs {
            store,
            prefix: ObjectPath::from(prefix.trim_matches('/')),
        }
    }

    /// An S3 bucket from a URL such as `s3://bucket/uploads`, with
    /// credentials, region and endpoint (for S3-compatible services) from the
    /// usual `AWS_*` environment variables.
    pub fn s3(url: &str) -> anyhow::Result<ObjectStoreBlobs> {
        let location = url
            .strip_prefix("s3://")
            .filter(|rest| !rest.is_empty() && !rest.starts_with('/'))
            .context("CRM_CHAT_BLOB_STORE must be local or s3://bucket/prefix")?;
        let prefix = location.split_once('/').map_or("", |(_, prefix)| prefix);
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_url(url)
            .build()
            .context("Failed to configure the S3 blob store")?;
        Ok(ObjectStoreBlobs::new(Arc::new(store), prefix))
    }

    fn path_of(&self, key: &str) -> anyhow::Result<ObjectPath> {
        ensure_digest(key)?;
        Ok(self.prefix.child(&key[..2]).child(key))
    }
}

impl BlobStore for ObjectStoreBlobs {
    fn put_file<'a>(&'a self, key: &'a str, path: &'a Path) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let target = self.path_of(key)?;
            // Content-addressed: the same bytes are there already.
            if self.store.head(&target).await.is_ok() {
                tokio::fs::remove_file(path).await.ok();
                return Ok(());
            }
            let mut file = tokio::fs::File::open(path)
                .await
                .with_context(|| format!("Failed to open {}", path.display()))?;
            let mut writer = object_store::buffered::BufWriter::new(self.store.clone(), target);
            tokio::io::copy(&mut file, &mut writer)
                .await
                .context("Failed to upload a blob")?;
            tokio::io::AsyncWriteExt::shutdown(&mut writer)
                .await
                .context("Failed to finish uploading a blob")?;
            tokio::fs::remove_file(path).await.ok();
            Ok(())
        })
    }

    fn open<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<BlobReader>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let stream = self
                .store
                .get(&path)
                .await
                .with_context(|| format!("Failed to open blob {key}"))?
                .into_stream()
                .map_err(std::io::Error::other);
            Ok(Box::pin(tokio_util::io::StreamReader::new(stream)) as BlobReader)
        })
    }
}

/// Keys are sha256 hex digests and nothing else, so no key can name a path
/// outside the store.
fn ensure_digest(key: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "blob keys are sha256 hex digests"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    const KEY: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    /// Both stores: the local directory, and the object-store backend (the
    /// one S3 uses) over the local file system.
    fn stores(dir: &Path) -> Vec<(&'static str, Box<dyn BlobStore>)> {
        let objects = dir.join("objects");
        std::fs::create_dir_all(&objects).unwrap();
        let local = object_store::local::LocalFileSystem::new_with_prefix(&objects).unwrap();
        vec![
            (
                "local directory",
                Box::new(LocalDir::new(dir.join("uploads"))),
            ),
            (
                "object store",
                Box::new(ObjectStoreBlobs::new(Arc::new(local), "uploads")),
            ),
        ]
    }

    async fn read(store: &dyn BlobStore, key: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        store
            .open(key)
            .await
            .unwrap()
            .read_to_end(&mut bytes)
            .await
            .unwrap();
        bytes
    }

    #[tokio::test]
    async fn a_stored_file_can_be_read_back_from_either_store() {
        let dir = tempfile::tempdir().unwrap();
        for (name, store) in stores(dir.path()) {
            let upload = dir.path().join("incoming");
            tokio::fs::write(&upload, b"hello").await.unwrap();
            store.put_file(KEY, &upload).await.unwrap();
            assert_eq!(read(store.as_ref(), KEY).await, b"hello", "{name}");
            assert!(
                !upload.exists(),
                "{name}: the upload was taken into the store"
            );
        }
    }

    #[tokio::test]
    async fn storing_the_same_bytes_twice_keeps_one_copy_in_either_store() {
        let dir = tempfile::tempdir().unwrap();
        for (name, store) in stores(dir.path()) {
            for _ in 0..2 {
                let upload = dir.path().join("incoming");
                tokio::fs::write(&upload, b"hello").await.unwrap();
                store.put_file(KEY, &upload).await.unwrap();
                assert!(!upload.exists(), "{name}");
            }
            assert_eq!(read(store.as_ref(), KEY).await, b"hello", "{name}");
        }
    }

    #[tokio::test]
    async fn a_large_file_streams_through_the_object_store_in_parts() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..12 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        for (name, store) in stores(dir.path()) {
            let upload = dir.path().join("incoming");
            tokio::fs::write(&upload, &bytes).await.unwrap();
            store.put_file(KEY, &upload).await.unwrap();
            assert!(read(store.as_ref(), KEY).await == bytes, "{name}");
        }
    }

    #[tokio::test]
    async fn keys_that_are_not_digests_never_touch_either_store() {
        let dir = tempfile::tempdir().unwrap();
        for (name, store) in stores(dir.path()) {
            for key in ["../../etc/passwd", "", "ab", &"g".repeat(64)] {
                assert!(store.open(key).await.is_err(), "{name}: {key}");
            }
        }
    }

    #[tokio::test]
    async fn an_s3_url_is_required_for_the_s3_store() {
        assert!(ObjectStoreBlobs::s3("ftp://bucket/x").is_err());
        assert!(ObjectStoreBlobs::s3("not a url").is_err());
    }
}
