//! The conversation list: avatar with presence, title, last message with its
//! sender, time and unread badge, most recent first, re-sorting live. A
//! search box that filters the list and finds messages in every
//! conversation, and buttons to start a chat, a group or (for organisation
//! admins) a broadcast.

use leptos::prelude::*;

use super::avatar::Avatar;
use super::icon::{Icon, Svg};
use super::new_conversation::{NewKind, new_conversation_dialog};
use crate::api::chat::search_messages;
use crate::format::{list_time, lower_case, typing_line};
use crate::pages::chat::open_conversation;
use crate::protocol::{ConversationKind, ConversationSummary, OrgRole, SearchHit};
use crate::store::use_store;

#[component]
pub fn ConversationList() -> impl IntoView {
    let store = use_store();
    let filter = RwSignal::new(String::new());
    let creating = RwSignal::new(None::<NewKind>);
    let is_admin = store.model.with_untracked(|m| m.me.role == OrgRole::Admin);
    let open = open_conversation();

    // Ctrl+K (⌘K on a Mac) jumps to the search box from anywhere, as in
    // Slack and Mattermost. On a phone with the thread open, the list is
    // hidden: the shortcut is for keyboards anyway.
    #[cfg(feature = "hydrate")]
    {
        let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
            if (ev.ctrl_key() || ev.meta_key())
                && !ev.alt_key()
                && ev.key().eq_ignore_ascii_case("k")
                && let Some(search) = crate::client::dom::element_by_id(SEARCH_BOX)
            {
                ev.prevent_default();
                let _ = search.focus();
            }
        });
        on_cleanup(move || shortcut.remove());
    }

    let rows = Memo::new(move |_| {
        let needle = filter.with(|f| lower_case(f.trim()));
        store.model.with(|m| {
            m.sorted_conversations()
                .into_iter()
                .filter(|c| {
                    needle.is_empty()
                        || lower_case(&c.title).contains(&needle)
                        || c.participants
                            .iter()
                            .any(|p| lower_case(&p.display_name).contains(&needle))
                })
                .collect::<Vec<_>>()
        })
    });

    view! {
        <div class="list-head">
            <h1 class="list-title">"Chats"</h1>
            <div class="list-actions">
                <button type="button" class="ghost" on:click=move |_| creating.set(Some(NewKind::Direct))>
                    "New chat"
                </button>
                <button type="button" class="ghost" on:click=move |_| creating.set(Some(NewKind::Group))>
                    "New group"
                </button>
                {is_admin.then(|| view! {
                    <button type="button" class="ghost" on:click=move |_| creating.set(Some(NewKind::Broadcast))>
                        "Broadcast"
                    </button>
                })}
            </div>
        </div>
        <div class="list-filter" role="search">
            <input
                id=SEARCH_BOX
                type="search"
                placeholder="Search"
                aria-label="Search conversations and messages"
                aria-keyshortcuts="Control+K Meta+K"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
        </div>
        <nav class="conversations" aria-label="Conversation list">
            <Show
                when=move || rows.with(|r| !r.is_empty())
                fallback=move || view! {
                    <p class="empty-list muted">
                        {move || if filter.with(String::is_empty) {
                            "No conversations yet. Start one with New chat."
                        } else {
                            "No conversation matches."
                        }}
                    </p>
                }
            >
                <ul>
                    <For
                        each=move || rows.get()
                        key=|row| (row.id, row.last_event_seq, row.unread_count, row.mentions_me, row.muted, row.pinned_at, row.marked_unread, row.last_activity_at, row.title.clone(), presence_key(row))
                        let:row
                    >
                        <ConversationRow row open=open />
                    </For>
                </ul>
            </Show>
            <Show when=move || filter.with(|f| is_message_query(f))>
                <MessageHits query=filter />
            </Show>
        </nav>
        {move || creating.get().map(|kind| Suspend::new(new_conversation_dialog(kind, creating)))}
    }
}

/// The search box's id, for the Ctrl+K shortcut.
const SEARCH_BOX: &str = "conversation-search";

/// Whether the search box holds enough to search messages for: two
/// characters, as one matches half the organisation's words.
fn is_message_query(query: &str) -> bool {
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

/// What of the participants' presence a row shows.
fn presence_key(row: &ConversationSummary) -> Vec<bool> {
    row.participants.iter().map(|p| p.is_online).collect()
}

#[component]
fn ConversationRow(
    row: ConversationSummary,
    open: Memo<Option<crate::protocol::ConversationId>>,
) -> impl IntoView {
    let store = use_store();
    let me = store.my_id();
    let id = row.id;
    let href = format!("/c/{id}");
    let other = (row.kind == ConversationKind::Direct)
        .then(|| row.participants.iter().find(|p| p.user_id != me).cloned())
        .flatten();
    let online = other.as_ref().is_some_and(|p| p.is_online);
    let time = row.last_activity_at;
    let typing = Memo::new(move |_| store.model.with(|m| typing_line(&m.typists(id))));
    let preview = match &row.last_message {
        None => String::new(),
        Some(last) => {
            let text = if last.is_deleted {
                "This message was deleted".to_owned()
            } else {
                last.text.clone()
            };
            let direct = row.kind == ConversationKind::Direct;
            if last.sender_id == me {
                format!("You: {text}")
            } else if direct {
                text
            } else {
                format!("{}: {text}", first_name(&last.sender_name))
            }
        }
    };
    let unread = row.unread_count;
    let kind_label = match row.kind {
        ConversationKind::Direct => None,
        ConversationKind::Group => Some("Group"),
        ConversationKind::Broadcast => Some("Broadcast"),
    };
    let mentioned = row.mentions_me && unread > 0;
    let pinned = row.pinned_at.is_some();
    // Marked as unread to come back to, with nothing new in it: a dot.
    let marked = row.marked_unread && unread == 0;
    let mut label = row.title.clone();
    if pinned {
        label.push_str(", pinned");
    }
    if unread > 0 {
        label.push_str(&format!(", {unread} unread"));
    } else if marked {
        label.push_str(", marked as unread");
    }
    if mentioned {
        label.push_str(", mentions you");
    }

    view! {
        <li>
            <a
                href=href
                class="conversation"
                class:active=move || open.get() == Some(id)
                class:unread={unread > 0 || marked}
                aria-current=move || (open.get() == Some(id)).then_some("page")
                aria-label=label
                data-testid="conversation"
            >
                <Avatar name=row.title.clone() online=online kind=row.kind />
                <span class="conversation-main">
                    <span class="conversation-top">
                        <span class="conversation-title">{row.title.clone()}</span>
                        {kind_label.map(|k| view! { <span class="tag">{k}</span> })}
                        {pinned.then(|| view! { <span class="pin-icon" title="Pinned" data-testid="pinned"><Svg icon=Icon::Pin size=14 /></span> })}
                        {row.muted.then(|| view! { <span class="muted-icon" title="Muted"><Svg icon=Icon::BellOff size=14 /><span class="visually-hidden">"Muted"</span></span> })}
                        <time class="conversation-time">
                            {move || list_time(time, store.now.get(), store.offset.get())}
                        </time>
                    </span>
                    <span class="conversation-bottom">
                        <span class="conversation-preview">
                            {move || match typing.get() {
                                Some(line) => view! { <em class="typing">{line}</em> }.into_any(),
                                None => preview.clone().into_any(),
                            }}
                        </span>
                        {mentioned.then(|| view! {
                            <span class="badge mention-badge" aria-hidden="true" title="Mentions you" data-testid="mention-badge">"@"</span>
                        })}
                        {(unread > 0).then(|| view! {
                            <span class="badge" aria-hidden="true">{unread.to_string()}</span>
                        })}
                        {marked.then(|| view! {
                            <span class="badge marked-unread" aria-hidden="true" title="Marked as unread" data-testid="marked-unread"></span>
                        })}
                    </span>
                </span>
            </a>
        </li>
    }
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}
