//! The conversation list: avatar with presence, title, last message with its
//! sender, time and unread badge, most recent first, re-sorting live. A
//! filter box, and buttons to start a chat, a group or (for organisation
//! admins) a broadcast.

use leptos::prelude::*;

use super::avatar::Avatar;
use super::icon::{Icon, Svg};
use super::new_conversation::{NewKind, new_conversation_dialog};
use crate::format::{list_time, lower_case, typing_line};
use crate::pages::chat::open_conversation;
use crate::protocol::{ConversationKind, ConversationSummary, OrgRole};
use crate::store::use_store;

#[component]
pub fn ConversationList() -> impl IntoView {
    let store = use_store();
    let filter = RwSignal::new(String::new());
    let creating = RwSignal::new(None::<NewKind>);
    let is_admin = store.model.with_untracked(|m| m.me.role == OrgRole::Admin);
    let open = open_conversation();

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
        <div class="list-filter">
            <input
                type="search"
                placeholder="Filter conversations"
                aria-label="Filter conversations"
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
                        key=|row| (row.id, row.last_event_seq, row.unread_count, row.last_activity_at, row.title.clone(), presence_key(row))
                        let:row
                    >
                        <ConversationRow row open=open />
                    </For>
                </ul>
            </Show>
        </nav>
        {move || creating.get().map(|kind| Suspend::new(new_conversation_dialog(kind, creating)))}
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
    let label = if unread > 0 {
        format!("{}, {unread} unread", row.title)
    } else {
        row.title.clone()
    };

    view! {
        <li>
            <a
                href=href
                class="conversation"
                class:active=move || open.get() == Some(id)
                class:unread={unread > 0}
                aria-current=move || (open.get() == Some(id)).then_some("page")
                aria-label=label
                data-testid="conversation"
            >
                <Avatar name=row.title.clone() online=online kind=row.kind />
                <span class="conversation-main">
                    <span class="conversation-top">
                        <span class="conversation-title">{row.title.clone()}</span>
                        {kind_label.map(|k| view! { <span class="tag">{k}</span> })}
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
                        {(unread > 0).then(|| view! {
                            <span class="badge" aria-hidden="true">{unread.to_string()}</span>
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
