//! `/c/{id}`: one conversation, rendered on the server with its newest page,
//! then live. `?m={messageId}` scrolls to that message and highlights it.
//! A conversation the user cannot see is "not found", whoever owns it.

use leptos::prelude::*;
use leptos_router::LazyRoute;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::chat::{OpenedThread, open_thread};
use crate::api::json::blocking_resource;
#[cfg(feature = "hydrate")]
use crate::components::ChunkUnavailable;
use crate::components::thread::Thread;
use crate::model::Mark;
use crate::protocol::{ConversationId, MessageId};
use crate::store::use_store;

/// The thread route, from its own WASM chunk: the conversation list (a
/// phone's first screen) hydrates without the thread's code, a page opened
/// at `/c/{id}` fetches the chunk beside the main module, and any other
/// chat page fetches it once it is live, so that opening a conversation
/// waits for nothing. Split with `fallible` rather than `#[lazy_route]`, whose failed
/// fetch panics and takes the whole page down: offline, the pane says so
/// and the next opening fetches again.
pub struct ThreadRoute;

/// The chunk's name in the split manifest, from which the server writes
/// the `<link rel="preload">` of a thread page.
#[cfg(feature = "ssr")]
pub const THREAD_CHUNK: &str = "thread_page";

impl LazyRoute for ThreadRoute {
    fn data() -> Self {
        ThreadRoute
    }

    async fn view(_this: Self) -> AnyView {
        #[cfg(feature = "hydrate")]
        return thread_chunk()
            .await
            .unwrap_or_else(|ChunkUnavailable| view! { <ThreadUnavailable /> }.into_any());
        #[cfg(not(feature = "hydrate"))]
        view! { <ThreadPage /> }.into_any()
    }

    async fn preload() {
        #[cfg(feature = "hydrate")]
        let _ = preload_thread_chunk().await;
    }
}

#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(
    thread_page,
    wasm_split_path = ::leptos::wasm_split,
    preload(preload_thread_chunk),
    fallible
)]
fn thread_chunk() -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <ThreadPage /> }.into_any())
}

/// The pane when the thread's chunk could not be fetched. The router keeps
/// this view while the user moves between conversations (same route), so
/// it fetches again on each of those, when the socket comes back, and on
/// "Try again".
///
/// After a deploy the chunk is gone from the server for good: the page
/// reloads itself at the conversation (the new version; drafts and unsent
/// messages are kept in the browser's storage), once per new build.
#[cfg(feature = "hydrate")]
#[component]
fn ThreadUnavailable() -> impl IntoView {
    use crate::components::{ReloadButton, chunk_error_message};

    let params = use_params_map();
    let store = use_store();
    let link = Memo::new(move |_| store.model.with(|m| m.link));
    let attempt = RwSignal::new(0_u32);
    let loaded = LocalResource::new(move || {
        params.track();
        link.track();
        attempt.track();
        async { preload_thread_chunk().await.is_ok() }
    });
    let update = crate::components::update_available();
    view! {
        <Suspense fallback=|| view! { <p class="centered muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                if loaded.await
                    && let Ok(thread) = thread_chunk().await
                {
                    return thread;
                }
                let newer = store.model.with_untracked(|m| {
                    m.update_available().then(|| m.server_build.clone()).flatten()
                });
                if newer.is_some_and(|build| crate::client::reload_once_for(&build)) {
                    return view! { <p class="centered muted">"Loading…"</p> }.into_any();
                }
                view! {
                    <div class="thread-empty" role="alert">
                        <p class="form-error">{chunk_error_message()}</p>
                        <ReloadButton />
                        <Show when=move || !update.get()>
                            <button type="button" on:click=move |_| attempt.update(|n| *n += 1)>
                                "Try again"
                            </button>
                        </Show>
                        <a href="/">"Back to your conversations"</a>
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn ThreadPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| {
        params.with(|p| {
            p.get("id")
                .and_then(|id| id.parse().ok())
                .map(ConversationId)
        })
    });
    let highlight =
        Memo::new(move |_| query.with(|q| q.get("m").and_then(|m| m.parse().ok()).map(MessageId)));
    let store = use_store();
    // When the browser's fetch of the thread started (see `model::Pushes`).
    // Unset while the page shows the thread the server rendered, which the
    // socket cannot have overtaken: it connects after hydration. Never set
    // on the server, where nothing reads it.
    let fetched_at = StoredValue::new(None::<Mark>);
    let opened = blocking_resource(
        move || id.get(),
        move |id| async move {
            if cfg!(feature = "hydrate") {
                fetched_at.set_value(Some(store.model.with_untracked(|m| m.mark())));
            }
            match id {
                Some(id) => open_thread(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    // Keyed by the conversation: moving to another one disposes the last
    // thread's view together with its reactive values. (When only the
    // `Suspend` ran again, the values went first and the view stayed live
    // until the next thread had loaded; a message arriving in between made
    // the view read a disposed memo, and the page panicked.)
    move || {
        id.track();
        view! {
            <Suspense fallback=|| view! { <p class="centered muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match opened.await {
                        Ok(Some(OpenedThread { conversation, page, marked_from_seq, pinned })) => {
                            let id = conversation.id;
                            let cursor = conversation.last_event_seq;
                            store.model.update(|m| {
                                let mark = fetched_at.get_value().unwrap_or_else(|| m.mark());
                                m.merge_fetched_conversation(conversation, mark);
                                m.load_page(id, page.messages, page.has_more, Some(cursor));
                                m.load_pins(id, pinned);
                                if let Some(seq) = marked_from_seq {
                                    m.mark_new_from(id, seq);
                                }
                            });
                            #[cfg(feature = "hydrate")]
                            catch_up(store, id, cursor);
                            view! { <Thread id highlight /> }.into_any()
                        }
                        _ => view! { <ThreadNotFound /> }.into_any(),
                    }
                })}
            </Suspense>
        }
    }
}

/// Changes between the page's snapshot and the moment this thread joined
/// the live stream (the socket may have been down in between): fetched once.
#[cfg(feature = "hydrate")]
fn catch_up(store: crate::store::Store, id: ConversationId, since: i64) {
    leptos::task::spawn_local(async move {
        if let Ok(changes) = crate::api::chat::get_changes(id, since).await {
            store.model.update(|m| {
                for message in changes.messages {
                    m.apply(crate::protocol::ServerEvent::MessageUpdated(message), 0);
                }
            });
        }
    });
}

#[component]
fn ThreadNotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="thread-empty" role="alert">
            <h2>"Conversation not found"</h2>
            <p class="muted">"It does not exist, or you are not in it."</p>
            <a href="/">"Back to your conversations"</a>
        </div>
    }
}

/// `/` on a wide screen: nothing open yet.
#[component]
pub fn NoThread() -> impl IntoView {
    view! {
        <div class="thread-empty">
            <p class="muted">"Pick a conversation, or start a new one."</p>
        </div>
    }
}
