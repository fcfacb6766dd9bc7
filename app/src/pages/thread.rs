//! `/c/{id}`: one conversation, rendered on the server with its newest page,
//! then live. `?m={messageId}` scrolls to that message and highlights it.
//! A conversation the user cannot see is "not found", whoever owns it.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::chat::{OpenedThread, open_thread};
use crate::api::json::blocking_resource;
use crate::components::thread::Thread;
use crate::protocol::{ConversationId, MessageId};
use crate::store::use_store;

#[component]
pub fn ThreadPage() -> impl IntoView {
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
    let opened = blocking_resource(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => open_thread(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    view! {
        <Suspense fallback=|| view! { <p class="centered muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match opened.await {
                    Ok(Some(OpenedThread { conversation, page })) => {
                        let id = conversation.id;
                        let cursor = conversation.last_event_seq;
                        store.model.update(|m| {
                            m.merge_conversation(conversation);
                            m.load_page(id, page.messages, page.has_more, Some(cursor));
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
