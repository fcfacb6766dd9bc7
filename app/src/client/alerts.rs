//! System notifications ("desktop notifications") for a tab nobody is
//! looking at, as Slack and WhatsApp Web show them.
//!
//! The page decides what deserves one ([`crate::model::ChatModel::alert_for`])
//! and hands it to the service worker (`public/sw.js`), which shows it unless
//! another crm-chat tab has the focus, and which brings the app forward at
//! the conversation when it is clicked. Android's Chrome shows notifications
//! only through a service worker, so desktop and phone share one path.
//!
//! The browser's permission is asked for from Settings only, on a click; the
//! user can also turn alerts off there without touching the browser's setting.

use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

use super::storage::local_storage;
use crate::model::Alert;

/// Where the user's on/off choice is kept, per browser.
const ENABLED_KEY: &str = "crm-chat.desktop-alerts";

/// What the browser allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// No notifications or no service workers here (an insecure origin,
    /// or Safari on an iPhone outside a home-screen app).
    Unsupported,
    /// Not asked yet.
    Ask,
    Granted,
    Denied,
}

fn has(target: &JsValue, name: &str) -> bool {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined())
}

fn supported() -> bool {
    web_sys::window().is_some_and(|w| {
        w.is_secure_context() && has(&w, "Notification") && has(&w.navigator(), "serviceWorker")
    })
}

pub fn permission() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    match web_sys::Notification::permission() {
        web_sys::NotificationPermission::Granted => Permission::Granted,
        web_sys::NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// Asks the browser (from a click: browsers ignore it otherwise) and turns
/// alerts on if it agrees.
pub async fn ask() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    if let Ok(promise) = web_sys::Notification::request_permission() {
        let _ = JsFuture::from(promise).await;
    }
    let now = permission();
    if now == Permission::Granted {
        set_enabled(true);
    }
    now
}

/// Whether alerts show: the browser allows them and the user has not turned
/// them off.
pub fn enabled() -> bool {
    permission() == Permission::Granted && stored_choice().as_deref() != Some("off")
}

pub fn set_enabled(on: bool) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(ENABLED_KEY, if on { "on" } else { "off" });
    }
}

fn stored_choice() -> Option<String> {
    local_storage()?.get_item(ENABLED_KEY).ok().flatten()
}

fn service_worker() -> Option<web_sys::ServiceWorkerContainer> {
    supported().then(|| web_sys::window().map(|w| w.navigator().service_worker()))?
}

/// Registers the service worker, and follows its "open this" messages (a
/// clicked notification) with `open`, which routes within the page.
pub fn start(open: impl Fn(String) + 'static) {
    let Some(container) = service_worker() else {
        return;
    };
    let _ = container.register("/sw.js");
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let url = js_sys::Reflect::get(&event.data(), &JsValue::from_str("open"))
                .ok()
                .and_then(|url| url.as_string());
            if let Some(url) = url {
                open(url);
            }
        });
    let _ =
        container.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    on_message.forget();
}

/// Shows `alert` if alerts are on and nobody is looking at this page.
pub fn show(alert: Alert) {
    if !enabled() || super::is_attended() {
        return;
    }
    let Some(container) = service_worker() else {
        return;
    };
    let Ok(json) = serde_json::to_string(&alert) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(ready) = container.ready() else {
            return;
        };
        let Ok(registration) = JsFuture::from(ready).await else {
            return;
        };
        let worker = registration
            .unchecked_into::<web_sys::ServiceWorkerRegistration>()
            .active();
        if let (Some(worker), Ok(alert)) = (worker, js_sys::JSON::parse(&json)) {
            let _ = worker.post_message(&alert);
        }
    });
}
