//! Browser-only code: the WebSocket connection with reconnect and resume,
//! the browser's storage (outbox, drafts), uploads with progress, system
//! notifications, and small DOM helpers. Compiled into the WASM only (`hydrate`).

pub mod alerts;
pub mod connection;
pub mod dom;
pub mod recorder;
pub mod storage;
pub mod upload;

use wasm_bindgen::JsCast;

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                i32::try_from(ms).unwrap_or(i32::MAX),
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Minutes east of UTC, as the browser sees it.
pub fn utc_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// Tells the server the viewer's UTC offset, so it renders local times.
pub fn remember_utc_offset() {
    let cookie = format!(
        "{}={}; path=/; max-age=31536000; samesite=lax",
        crate::format::OFFSET_COOKIE,
        utc_offset_minutes()
    );
    if let Some(document) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
    {
        let _ = document.set_cookie(&cookie);
    }
}

/// Whether the browser thinks it is online.
pub fn is_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Whether the page is visible and has the focus: where reading happens.
pub fn is_attended() -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    document.visibility_state() == web_sys::VisibilityState::Visible
        && document.has_focus().unwrap_or(false)
}

/// Loads the page again from the server: after a deploy, the new version.
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Reloads the page, unless this tab has already reloaded for `build`:
/// after a deploy, a page whose code the server no longer has reloads itself
/// once, and says so (with a button) if it still cannot load it, rather
/// than reloading in a loop (a load balancer that still sends some requests
/// to a node of the old build). Whether it reloads.
pub fn reload_once_for(build: &str) -> bool {
    const KEY: &str = "crm-chat.reloaded-for";
    let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) else {
        return false;
    };
    if storage.get_item(KEY).ok().flatten().as_deref() == Some(build) {
        return false;
    }
    if storage.set_item(KEY, build).is_err() {
        return false;
    }
    reload();
    true
}

/// The build of the web app this page runs, as the server wrote it into the
/// page ([`crate::BUILD_META`]); `None` from a server that names no build.
pub fn page_build() -> Option<String> {
    web_sys::window()?
        .document()?
        .query_selector(&format!("meta[name=\"{}\"]", crate::BUILD_META))
        .ok()??
        .get_attribute("content")
}

/// Goes to another page with a full load (sign-in, after sign-out).
pub fn go_to(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
}
