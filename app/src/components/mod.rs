//! Components shared by the pages.

use leptos::prelude::*;

pub mod avatar;
pub mod composer;
pub mod conversation_list;
pub mod conversation_menu;
pub mod emoji_picker;
pub mod forward;
pub mod group_info;
pub mod header;
pub mod icon;
pub mod message;
pub mod message_search;
pub mod new_conversation;
pub mod notifications;
pub mod pinned;
pub mod shortcuts;
pub mod thread;
pub mod voice;

/// A part of the page whose WASM chunk could not be fetched, because the
/// network is down or the server is unreachable. Leptos's `#[lazy]` panics on
/// that, and a panic aborts the whole WASM module, so the lazily loaded parts
/// split with `wasm_split`'s `fallible` option instead and show this as an
/// error; the next attempt fetches again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkUnavailable;

impl ChunkUnavailable {
    pub const MESSAGE: &str = "This could not load. Check your connection and try again.";
    /// After a deploy the server no longer has this page's chunks: only a
    /// reload (to the new version) brings them.
    pub const UPDATED: &str =
        "crm-chat has been updated since this page was opened. Reload to continue.";
}

/// Why a chunk could not load, as the page knows it: the network, or a
/// deploy since the page was opened.
pub fn chunk_error_message() -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let update = update_available();
    move || {
        if update.get() {
            ChunkUnavailable::UPDATED
        } else {
            ChunkUnavailable::MESSAGE
        }
    }
}

/// Whether the server serves a newer build than this page's (see
/// [`crate::model::ChatModel::update_available`]).
pub fn update_available() -> Memo<bool> {
    let store = crate::store::use_store();
    Memo::new(move |_| store.model.with(crate::model::ChatModel::update_available))
}

/// A "Reload" button, shown once a newer build is out.
#[component]
pub fn ReloadButton() -> impl IntoView {
    let update = update_available();
    view! {
        <Show when=move || update.get()>
            <button type="button" class="primary" on:click=|_| reload_page()>"Reload"</button>
        </Show>
    }
}

/// Loads the page again: after a deploy, the new version. Drafts and
/// unsent messages are in the browser's storage, so nothing is lost.
pub fn reload_page() {
    #[cfg(feature = "hydrate")]
    crate::client::reload();
}

/// What a dialog's chunk gave, or, when the chunk could not be fetched, a
/// dialog that says so, whose Close runs `close`.
pub fn dialog_or_unavailable(
    loaded: Result<AnyView, ChunkUnavailable>,
    close: impl Fn() + Send + Sync + 'static,
) -> AnyView {
    loaded.unwrap_or_else(|ChunkUnavailable| {
        view! { <ChunkUnavailableDialog on_close=Callback::new(move |()| close()) /> }.into_any()
    })
}

/// What a dialog whose chunk could not be fetched shows instead.
#[component]
fn ChunkUnavailableDialog(on_close: Callback<()>) -> impl IntoView {
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())>
            <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="chunk-error"
                on:click=|ev| ev.stop_propagation()>
                <p id="chunk-error" class="form-error">{chunk_error_message()}</p>
                <div class="modal-actions">
                    <ReloadButton />
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
