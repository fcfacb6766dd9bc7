//! Components shared by the pages.

use leptos::prelude::*;

pub mod avatar;
pub mod composer;
pub mod conversation_list;
pub mod group_info;
pub mod header;
pub mod icon;
pub mod message;
pub mod new_conversation;
pub mod notifications;
pub mod thread;

/// A part of the page whose WASM chunk could not be fetched, because the
/// network is down or the server is unreachable. Leptos's `#[lazy]` panics on
/// that, and a panic aborts the whole WASM module, so the lazily loaded parts
/// split with `wasm_split`'s `fallible` option instead and show this as an
/// error; the next attempt fetches again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkUnavailable;

impl ChunkUnavailable {
    pub const MESSAGE: &str = "This could not load. Check your connection and try again.";
}

/// What a dialog whose chunk could not be fetched shows instead.
#[component]
pub fn ChunkUnavailableDialog(on_close: Callback<()>) -> impl IntoView {
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())>
            <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="chunk-error"
                on:click=|ev| ev.stop_propagation()>
                <p id="chunk-error" class="form-error">{ChunkUnavailable::MESSAGE}</p>
                <div class="modal-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
                </div>
            </div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> ChunkUnavailable {
        ChunkUnavailable
    }
}
