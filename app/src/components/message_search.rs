//! Messages that match the search box, from every conversation the user is
//! in. The results and what draws them are a WASM chunk of their own, fetched
//! the first time someone searches, not with the page.

use leptos::prelude::*;

use super::ChunkUnavailable;
use super::conversation_list::first_name;
use crate::api::chat::search_messages;
use crate::format::list_time;
use crate::protocol::SearchHit;
use crate::store::use_store;

/// The hits for the search box's text, from the chunk; where the chunk
/// cannot be fetched (offline), a line that says so. Searching again
/// tries again.
pub async fn message_hits(query: RwSignal<String>) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = message_hits_chunk(query).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = message_hits_chunk(query);
    loaded.unwrap_or_else(|ChunkUnavailable| {
        view! { <p class="form-error" role="alert">{ChunkUnavailable::MESSAGE}</p> }.into_any()
    })
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        message_hits,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn message_hits_chunk(query: RwSignal<String>) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <MessageHits query /> }.into_any())
}

/// Whether the search box holds enough to search messages for: two
/// characters, as one matches half the organisation's words.
pub fn is_message_query(query: &str) -> bool {
    query.trim().chars().count() >= 2
}

/// How long typing must pause before the messages are searched.
const SEARCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Messages that match the search box, from every conversation the user is
/// in, newest first (up to 50), with the matching words marked. A hit opens
/// its conversation at the message. Searched when typing pauses; the last
/// hits stay until the next ones arrive.
#[component]
fn MessageHits(query: RwSignal<String>) -> impl IntoView {
    // The query the hits are for: the box's, once it has not changed for
    // a moment. (Effects run in the browser only.)
    let settled = RwSignal::new(String::new());
    Effect::new(move |_| {
        let typed = query.with(|q| q.trim().to_owned());
        set_timeout(
            move || {
                if query.with_untracked(|q| q.trim() == typed) {
                    settled.set(typed);
                }
            },
            SEARCH_PAUSE,
        );
    });
    let hits = LocalResource::new(move || {
        let query = settled.get();
        async move {
            if is_message_query(&query) {
                Some(search_messages(query).await)
            } else {
                None
            }
        }
    });
    // For screen readers, which do not read the list as it changes.
    let found = move || match hits.get().flatten() {
        Some(Ok(hits)) => match hits.len() {
            0 => "No messages match.".to_owned(),
            1 => "1 message found.".to_owned(),
            n => format!("{n} messages found."),
        },
        _ => String::new(),
    };
    view! {
        <section class="search-hits" aria-labelledby="search-hits-title">
            <h2 id="search-hits-title" class="list-section-title">"Messages"</h2>
            <p class="visually-hidden" role="status">{found}</p>
            <Transition fallback=|| view! { <p class="empty-list muted">"Searching…"</p> }>
                {move || Suspend::new(async move {
                    match hits.await {
                        None => view! { <p class="empty-list muted">"Searching…"</p> }.into_any(),
                        Some(Ok(hits)) if hits.is_empty() => {
                            view! { <p class="empty-list muted">"No messages match."</p> }.into_any()
                        }
                        Some(Ok(hits)) => view! {
                            <ul>
                                {hits.into_iter().map(|hit| view! { <SearchHitRow hit /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Some(Err(error)) => view! {
                            <p class="form-error" role="alert">{error.message}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SearchHitRow(hit: SearchHit) -> impl IntoView {
    let store = use_store();
    let href = format!("/c/{}?m={}", hit.conversation_id, hit.message_id);
    let time = hit.created_at;
    let sender = if hit.sender_id == store.my_id() {
        "You".to_owned()
    } else {
        first_name(&hit.sender_name).to_owned()
    };
    let snippet = hit
        .snippet
        .into_iter()
        .map(|part| {
            if part.highlight {
                view! { <mark>{part.text}</mark> }.into_any()
            } else {
                part.text.into_any()
            }
        })
        .collect_view();
    view! {
        <li>
            <a href=href class="conversation search-hit" data-testid="search-hit">
                <span class="conversation-main">
                    <span class="conversation-top">
                        <span class="conversation-title">{hit.conversation_title}</span>
                        <time class="conversation-time">
                            {move || list_time(time, store.now.get(), store.offset.get())}
                        </time>
                    </span>
                    <span class="conversation-preview">{sender}": "{snippet}</span>
                </span>
            </a>
        </li>
    }
}
