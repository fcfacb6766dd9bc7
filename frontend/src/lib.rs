//! The browser entry point: hydrate the server-rendered page and nothing else.
//! Hydration is asynchronous so that a lazily loaded route (login, settings)
//! can fetch its WASM chunk before it is hydrated.

// The app's views are deeply nested types; the release build monomorphises
// them here.
#![recursion_limit = "512"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
