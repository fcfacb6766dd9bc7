//! Starting a conversation: a direct chat with a contact (who shows as
//! online or not), a group with a title and members, or, for organisation
//! admins, a broadcast to everyone.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::avatar::Avatar;
use super::{ChunkUnavailable, dialog_or_unavailable};
use crate::api::chat::{contacts, create_conversation};
use crate::api::json::resource;
use crate::format::presence;
use crate::protocol::{ConversationKind, UserId, UserSummary};
use crate::store::use_store;

/// What the dialog asks the server to create.
#[derive(Clone, Debug)]
struct Request {
    kind: ConversationKind,
    target: Option<UserId>,
    title: Option<String>,
    members: Vec<UserId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewKind {
    Direct,
    Group,
    Broadcast,
}

/// The dialog, from its own WASM chunk: the browser fetches that the first
/// time someone starts a conversation, not with the page. When the chunk
/// cannot be fetched (offline), a small dialog says so; the next "New chat"
/// tries again.
pub async fn new_conversation_dialog(
    kind: NewKind,
    creating: RwSignal<Option<NewKind>>,
) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = dialog_chunk(kind, creating).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = dialog_chunk(kind, creating);
    dialog_or_unavailable(loaded, move || creating.set(None))
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        new_conversation_dialog,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn dialog_chunk(
    kind: NewKind,
    creating: RwSignal<Option<NewKind>>,
) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <NewConversation kind on_close=move || creating.set(None) /> }.into_any())
}

#[component]
fn NewConversation(
    kind: NewKind,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let store = use_store();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let title = RwSignal::new(String::new());
    let picked = RwSignal::new(BTreeSet::<UserId>::new());
    let error = RwSignal::new(None::<String>);
    let people = resource(move || query.get(), |q| async move { contacts(q).await });

    let create = {
        let navigate = navigate.clone();
        let on_close = on_close.clone();
        Action::new(move |request: &Request| {
            let Request {
                kind,
                target,
                title,
                members,
            } = request.clone();
            let navigate = navigate.clone();
            let on_close = on_close.clone();
            async move {
                match create_conversation(kind, target, title, members).await {
                    Ok(row) => {
                        let id = row.id;
                        store.model.update(|m| m.merge_conversation(row));
                        on_close();
                        navigate(&format!("/c/{id}"), Default::default());
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            }
        })
    };

    let heading = match kind {
        NewKind::Direct => "New chat",
        NewKind::Group => "New group",
        NewKind::Broadcast => "New broadcast",
    };
    let close = on_close.clone();
    let close_key = on_close.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let members: Vec<UserId> = picked.get_untracked().into_iter().collect();
        match kind {
            NewKind::Direct => {}
            NewKind::Group => {
                create.dispatch(Request {
                    kind: ConversationKind::Group,
                    target: None,
                    title: Some(title.get_untracked()),
                    members,
                });
            }
            NewKind::Broadcast => {
                create.dispatch(Request {
                    kind: ConversationKind::Broadcast,
                    target: None,
                    title: Some(title.get_untracked()),
                    members: Vec::new(),
                });
            }
        }
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby="new-conversation-title"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { close_key() }
            >
                <form on:submit=submit>
                    <div class="modal-head">
                        <h2 id="new-conversation-title">{heading}</h2>
                        <button type="button" class="icon-button" aria-label="Close" on:click={
                            let on_close = on_close.clone();
                            move |_| on_close()
                        }><super::icon::Svg icon=super::icon::Icon::Close /></button>
                    </div>
                    {(kind != NewKind::Direct).then(|| view! {
                        <label for="new-title">{if kind == NewKind::Broadcast { "Announcement channel name" } else { "Group name" }}</label>
                        <input id="new-title" required maxlength="100" autofocus
                            prop:value=move || title.get()
                            on:input=move |ev| title.set(event_target_value(&ev)) />
                    })}
                    {(kind == NewKind::Broadcast).then(|| view! {
                        <p class="muted">"Everyone in your organisation receives it; only admins post."</p>
                    })}
                    {(kind != NewKind::Broadcast).then(|| view! {
                        <label for="new-search">{if kind == NewKind::Direct { "Find a person" } else { "Add people" }}</label>
                        <input id="new-search" type="search" placeholder="Name or email"
                            autofocus=kind == NewKind::Direct
                            prop:value=move || query.get()
                            on:input=move |ev| query.set(event_target_value(&ev)) />
                        <ul class="contact-list" aria-label="People">
                            <Transition fallback=|| view! { <li class="muted">"Loading…"</li> }>
                                {move || people.get().map(|result| match result {
                                    Ok(list) if list.is_empty() => view! { <li class="muted">"Nobody found."</li> }.into_any(),
                                    Ok(list) => list.into_iter().map(|person| view! {
                                        <ContactRow person kind picked create />
                                    }).collect_view().into_any(),
                                    Err(e) => view! { <li class="form-error">{e.message}</li> }.into_any(),
                                })}
                            </Transition>
                        </ul>
                    })}
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    {(kind != NewKind::Direct).then(|| view! {
                        <div class="modal-actions">
                            <button type="submit" class="primary" disabled=move || create.pending().get()
                                || title.with(|t| t.trim().is_empty())
                                || (kind == NewKind::Group && picked.with(BTreeSet::is_empty))>
                                {if kind == NewKind::Group { "Create group" } else { "Create broadcast" }}
                            </button>
                        </div>
                    })}
                </form>
            </div>
        </div>
    }
}

#[component]
fn ContactRow(
    person: UserSummary,
    kind: NewKind,
    picked: RwSignal<BTreeSet<UserId>>,
    create: Action<Request, ()>,
) -> impl IntoView {
    let store = use_store();
    let id = person.id;
    let (is_online, last_seen_at) = (person.is_online, person.last_seen_at);
    let status = move || {
        presence(is_online, last_seen_at, store.now.get(), store.offset.get())
            .unwrap_or_else(|| "offline".to_owned())
    };
    let name = person.display_name.clone();
    view! {
        <li class="contact">
            {match kind {
                NewKind::Direct => view! {
                    <button type="button" class="contact-button" on:click=move |_| {
                        create.dispatch(Request {
                            kind: ConversationKind::Direct,
                            target: Some(id),
                            title: None,
                            members: Vec::new(),
                        });
                    }>
                        <Avatar name=name.clone() online=person.is_online />
                        <span class="contact-text">
                            <span class="contact-name">{name.clone()}</span>
                            <span class="contact-status muted">{status}</span>
                        </span>
                    </button>
                }.into_any(),
                _ => view! {
                    <label class="contact-button">
                        <input type="checkbox"
                            prop:checked=move || picked.with(|p| p.contains(&id))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                picked.update(|p| { if on { p.insert(id); } else { p.remove(&id); } });
                            } />
                        <Avatar name=name.clone() online=person.is_online />
                        <span class="contact-text">
                            <span class="contact-name">{name.clone()}</span>
                            <span class="contact-status muted">{status}</span>
                        </span>
                    </label>
                }.into_any(),
            }}
        </li>
    }
}
