//! The browser entry point: hydrate the server-rendered page and nothing else.
//! Hydration is asynchronous so that a lazily loaded route (login, settings,
//! the thread) can fetch its WASM chunk before it is hydrated.

// The app's views are deeply nested types; the release build monomorphises
// them here.
#![recursion_limit = "512"]

use leptos::prelude::document;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // `leptos::mount::hydrate_lazy`, plus a mark once it has finished.
    wasm_bindgen_futures::spawn_local(async {
        let body = document().body().expect("the page has a body");
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        mark_hydrated();
    });
}

/// Marks the document once the WASM app has taken all of it over, the lazily
/// loaded route included, for tests and for styles that only make sense with
/// JavaScript. An effect in `App` would run as soon as the app's own shell
/// is hydrated, while the route's chunk may still be on its way, and a form
/// filled in then would be emptied when its route hydrates.
fn mark_hydrated() {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
