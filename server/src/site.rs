//! The site's code: the WASM modules, their JS and the CSS that cargo-leptos
//! writes to `<site root>/pkg`.
//!
//! A release server serves them under a path that names their build,
//! `/pkg/<build id>/…`, and lets browsers keep them for a year without asking.
//! The id is a digest of every file in the directory, so every node of a
//! deployment that runs the same build finds the same id by itself.
//!
//! The files keep their names from one build to the next, and the main module,
//! the split loader and the chunks name one another, so a page must get all of
//! them from one build. Under the build's own path it does: after a deploy the
//! new pages name the new path, and a page still open from the old build gets
//! a 404 for a chunk it had not loaded yet (the app says it could not load it)
//! instead of a chunk from another build. Unversioned `/pkg/…` paths get a 404
//! too, rather than Leptos's file handler sending the current build's file.
//!
//! cargo-leptos's own `hash-files` does not give this: it names each file after
//! its bytes and then writes the split loader's final name into the WASM and
//! JS, so a file's name does not pin its bytes.
//!
//! A debug server (`cargo leptos watch`, the tests) serves `/pkg/…` as it is
//! and asks the browser to revalidate every time: there the files change
//! under a running server.

use std::io;
use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use app::{PKG_DIR, versioned_pkg_dir};

/// Where the site's code is served from: `pkg/<build id>` for a release
/// server whose site has been built, `pkg` otherwise.
pub fn pkg_url_dir(site_root: &str) -> String {
    if cfg!(debug_assertions) {
        return PKG_DIR.to_owned();
    }
    match compute_build_id(&Path::new(site_root).join(PKG_DIR)) {
        Ok(Some(id)) => versioned_pkg_dir(&id),
        Ok(None) => PKG_DIR.to_owned(),
        Err(e) => {
            tracing::warn!(error = %e, site_root, "Could not read the site's code; serving it unversioned");
            PKG_DIR.to_owned()
        }
    }
}

/// The first 16 hex digits of a SHA-256 over every file under `dir` (names
/// and contents, in name order), or `None` when there are none.
pub fn compute_build_id(dir: &Path) -> io::Result<Option<String>> {
    let mut files = Vec::new();
    collect_files(dir, dir, &mut files)?;
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();
    let mut digest = Sha256::new();
    for name in &files {
        let contents = std::fs::read(dir.join(name))?;
        digest.update(name.as_bytes());
        digest.update([0]);
        digest.update((contents.len() as u64).to_le_bytes());
        digest.update(&contents);
    }
    let id = digest.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    Ok(Some(id))
}

/// Paths relative to `root`, with `/` between directories.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// The routes for the site's code, at `/{site_pkg_dir}`, with the precompressed
/// `.br` and `.gz` files sent to browsers that accept them.
pub fn routes<S: Clone + Send + Sync + 'static>(options: &LeptosOptions) -> Router<S> {
    let files = ServeDir::new(Path::new(options.site_root.as_ref()).join(PKG_DIR))
        .precompressed_gzip()
        .precompressed_br();
    let versioned = app::build_id(options).is_some();
    let cache =
        SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, move |response: &Response<_>| {
            if versioned {
                // Only a file that was found: a 404 must not be kept for a year.
                response
                    .status()
                    .is_success()
                    .then(|| HeaderValue::from_static("public, max-age=31536000, immutable"))
            } else {
                // Unversioned, the names say nothing about the build: a browser
                // asks every time, and gets a 304 without a body when nothing
                // changed.
                Some(HeaderValue::from_static("no-cache"))
            }
        });
    let router = Router::new().nest_service(
        &format!("/{}", options.site_pkg_dir),
        tower::ServiceBuilder::new().layer(cache).service(files),
    );
    if versioned {
        router.route(
            &format!("/{PKG_DIR}/{{*path}}"),
            get(|| async { StatusCode::NOT_FOUND }),
        )
    } else {
        router
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, contents) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        dir
    }

    #[test]
    fn the_same_files_give_the_same_build_id_wherever_they_are() {
        let files = [
            ("crm-chat.js", "js"),
            ("crm-chat.wasm", "wasm"),
            ("snippets/a/b.js", "b"),
        ];
        let one = compute_build_id(site(&files).path()).unwrap().unwrap();
        let other = compute_build_id(site(&files).path()).unwrap().unwrap();
        assert_eq!(one, other);
        assert_eq!(one.len(), 16);
        assert!(one.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn any_changed_byte_or_name_gives_another_build_id() {
        let id = |files: &[(&str, &str)]| compute_build_id(site(files).path()).unwrap().unwrap();
        let base = id(&[("chunk_1.wasm", "abc"), ("chunk_2.wasm", "def")]);
        assert_ne!(
            base,
            id(&[("chunk_1.wasm", "abc"), ("chunk_2.wasm", "deg")])
        );
        assert_ne!(
            base,
            id(&[("chunk_1.wasm", "abc"), ("chunk_3.wasm", "def")])
        );
        // Moving bytes from one file to the next is a change too.
        assert_ne!(
            base,
            id(&[("chunk_1.wasm", "abcd"), ("chunk_2.wasm", "ef")])
        );
        assert_ne!(base, id(&[("chunk_1.wasm", "abc")]));
    }

    /// Status and `Cache-Control` of a GET through [`routes`] for a site whose
    /// code is served under `pkg_url_dir`. Like the app's router, it has a
    /// fallback that would send any file of the site, so a 404 here comes from
    /// these routes.
    async fn get(site: &Path, pkg_url_dir: &str, uri: &str) -> (StatusCode, Option<String>) {
        use tower::ServiceExt;
        let options = LeptosOptions::builder()
            .output_name("crm-chat")
            .site_root(site.to_string_lossy().into_owned())
            .site_pkg_dir(pkg_url_dir)
            .build();
        let request = axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let router = routes::<()>(&options).fallback(|| async { "a file of the site" });
        let response = router.oneshot(request).await.unwrap();
        let cache = response.headers().get(header::CACHE_CONTROL);
        (
            response.status(),
            cache.map(|v| v.to_str().unwrap().to_owned()),
        )
    }

    #[tokio::test]
    async fn code_under_its_build_path_is_kept_a_year_and_nothing_else_is() {
        let site = site(&[("pkg/crm-chat.js", "js")]);
        let id = compute_build_id(&site.path().join("pkg")).unwrap().unwrap();
        let dir = format!("pkg/{id}");
        let year = Some("public, max-age=31536000, immutable".to_owned());
        assert_eq!(
            get(site.path(), &dir, &format!("/pkg/{id}/crm-chat.js")).await,
            (StatusCode::OK, year)
        );
        for elsewhere in [
            "/pkg/crm-chat.js".to_owned(),
            "/pkg/0123456789abcdef/crm-chat.js".to_owned(),
            format!("/pkg/{id}/gone.js"),
        ] {
            assert_eq!(
                get(site.path(), &dir, &elsewhere).await,
                (StatusCode::NOT_FOUND, None),
                "{elsewhere}"
            );
        }
    }

    #[tokio::test]
    async fn unversioned_code_is_revalidated_every_time() {
        let site = site(&[("pkg/crm-chat.js", "js")]);
        let revalidate = Some("no-cache".to_owned());
        assert_eq!(
            get(site.path(), "pkg", "/pkg/crm-chat.js").await,
            (StatusCode::OK, revalidate)
        );
    }

    #[test]
    fn a_site_that_was_never_built_has_no_build_id() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(compute_build_id(&dir.path().join("pkg")).unwrap(), None);
        assert_eq!(compute_build_id(dir.path()).unwrap(), None);
    }
}
