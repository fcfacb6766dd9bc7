//! The HTML document and the router.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

use crate::pages::chat::ChatPage;
use crate::pages::login::LoginRoute;
use crate::pages::not_found::NotFound;
use crate::pages::settings::SettingsRoute;
use crate::pages::thread::{NoThread, ThreadRoute};

/// The directory under the site root where cargo-leptos writes the WASM, its
/// JS and the CSS (`site-pkg-dir`). The server may serve it under another
/// path, which `LeptosOptions::site_pkg_dir` holds.
pub const PKG_DIR: &str = "pkg";

/// The `site_pkg_dir` of code served under its build's path: `pkg/<build>`.
pub fn versioned_pkg_dir(build: &str) -> String {
    format!("{PKG_DIR}/{build}")
}

/// The build of the web app's code that `options` serve: the part of
/// `site_pkg_dir` after `pkg/` (see [`versioned_pkg_dir`]), or `None` when
/// the code is served unversioned.
pub fn build_id(options: &LeptosOptions) -> Option<&str> {
    options
        .site_pkg_dir
        .strip_prefix(PKG_DIR)?
        .strip_prefix('/')
        .filter(|id| !id.is_empty())
}

/// The name of the `<meta>` that tells the page's code which build it is.
pub const BUILD_META: &str = "crm-chat-build";

/// The whole document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_security_headers();
    #[cfg(feature = "ssr")]
    let chunks = chunk_preloads(&options);
    #[cfg(not(feature = "ssr"))]
    let chunks = ();
    let build =
        build_id(&options).map(|id| view! { <meta name=BUILD_META content=id.to_owned() /> });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover, interactive-widget=resizes-content" />
                <meta name="theme-color" content="#0f766e" />
                <meta name="color-scheme" content="light dark" />
                {build}
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() />
                <link rel="stylesheet" id="leptos"
                    href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name) />
                {chunks}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A strict Content-Security-Policy: scripts only with this response's nonce
/// (the hydration bootstrap and streamed resources carry it), the service
/// worker from this origin, no plugins, no framing, and connections only back
/// to this origin.
#[cfg(feature = "ssr")]
fn set_security_headers() {
    use http::{HeaderName, HeaderValue, header};
    use leptos::nonce::use_nonce;

    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let nonce = use_nonce().map(|n| n.to_string()).unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, policy);
    }
    response.insert_header(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response.insert_header(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response.insert_header(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
}

/// `<link rel="preload">` for the WASM chunks a page needs at once (the
/// open thread's on `/c/{id}`, the route's on `/login` and `/settings`), so
/// that the browser fetches them beside the main module instead of after it.
/// Leptos has a mechanism for this, but it looks the split manifest up
/// outside the request's reactive owner and so drops the links in some
/// responses, and it looks for the manifest under the URL's path, which names
/// the build; this reads the manifest itself.
#[cfg(feature = "ssr")]
fn chunk_preloads(options: &LeptosOptions) -> impl IntoView + use<> {
    use std::collections::HashMap;
    use std::sync::OnceLock;

    static MANIFEST: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    let manifest = MANIFEST.get_or_init(|| {
        let path = std::path::Path::new(options.site_root.as_ref())
            .join(PKG_DIR)
            .join("__wasm_split_manifest.json");
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    });
    let path = use_context::<http::request::Parts>()
        .map(|request| request.uri.path().to_owned())
        .unwrap_or_default();
    // The thread's chunk is named by its `wasm_split`; a `#[lazy_route]`'s
    // after its view function and a number.
    let chunk = match path.as_str() {
        "/login" => Some("__login_route_view_"),
        "/settings" => Some("__settings_route_view_"),
        path if crate::pages::chat::is_thread_path(path) => {
            Some(crate::pages::thread::THREAD_CHUNK)
        }
        _ => None,
    };
    let needed = chunk.and_then(|chunk| {
        manifest
            .iter()
            .find_map(|(name, modules)| name.starts_with(chunk).then_some(modules))
    });
    let pkg = options.site_pkg_dir.to_string();
    // The split loader: the main module's JS imports it, so without this the
    // browser would find it only once that JS has arrived.
    let loader = (!manifest.is_empty()).then(|| {
        view! {
            <link rel="modulepreload" href=format!("/{pkg}/__wasm_split.______________________.js")
                nonce=leptos::nonce::use_nonce() />
        }
    });
    let chunks = needed
        .into_iter()
        .flatten()
        .map(|module| {
            view! {
                <link rel="preload" href=format!("/{pkg}/{module}.wasm") r#as="fetch"
                    r#type="application/wasm" crossorigin="anonymous" />
            }
        })
        .collect_view();
    (loader, chunks)
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title text="crm-chat" />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} />
                // In order: the list and the open thread are in the HTML where
                // they belong, not in fragments that only a script moves into
                // place, so the page is readable before (or without) any script.
                <ParentRoute path=path!("") view=ChatPage ssr=SsrMode::InOrder>
                    <Route path=path!("") view=NoThread />
                    <Route path=path!("c/:id") view={Lazy::<ThreadRoute>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pkg_dir: &str) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("crm-chat")
            .site_pkg_dir(pkg_dir)
            .build()
    }

    #[test]
    fn the_build_is_the_path_segment_after_pkg() {
        assert_eq!(
            build_id(&options("pkg/9c41f07e2b6d5a18")),
            Some("9c41f07e2b6d5a18")
        );
        let dir = versioned_pkg_dir("9c41f07e2b6d5a18");
        assert_eq!(build_id(&options(&dir)), Some("9c41f07e2b6d5a18"));
    }

    #[test]
    fn code_served_unversioned_names_no_build() {
        assert_eq!(build_id(&options("pkg")), None);
        assert_eq!(build_id(&options("pkg/")), None);
        assert_eq!(build_id(&options("pkgs/abc")), None);
    }
}
