//! Forwarding a message: pick one of your conversations (filtered by name as
//! you type) and a copy of the message, its text and file, goes there, marked
//! with who wrote the original, followed by your own words if you added some;
//! then that conversation opens, as in WhatsApp.
//! Conversations you cannot post in (a broadcast, unless you are an admin)
//! are not offered.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::avatar::Avatar;
use super::icon::{Icon, Svg};
use super::{ChunkUnavailable, dialog_or_unavailable};
use crate::api::chat::forward_message;
use crate::format::lower_case;
use crate::model::preview;
use crate::protocol::{ConversationId, ForwardMessage, Message};
use crate::store::{new_client_msg_id, use_store};

/// The dialog, from its own WASM chunk: the browser fetches that the first
/// time someone forwards a message, not with the page.
pub async fn forward_dialog(message: Message, open: RwSignal<Option<Message>>) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = forward_chunk(message, open).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = forward_chunk(message, open);
    dialog_or_unavailable(loaded, move || open.set(None))
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        forward_dialog,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn forward_chunk(
    message: Message,
    open: RwSignal<Option<Message>>,
) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <Forward message open /> }.into_any())
}

#[component]
fn Forward(message: Message, open: RwSignal<Option<Message>>) -> impl IntoView {
    let store = use_store();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // One id per conversation picked: trying again after an error (the
    // answer lost on the way, say) sends one copy, not two.
    let ids = StoredValue::new(BTreeMap::<ConversationId, String>::new());
    let message_id = message.id;
    let targets = Memo::new(move |_| {
        let needle = query.with(|q| lower_case(q.trim()));
        store.model.with(|m| {
            m.sorted_conversations()
                .into_iter()
                .filter(|row| row.can_post && row.matches(&needle))
                .map(|row| (row.id, row.title, row.kind))
                .collect::<Vec<_>>()
        })
    });

    let sending = RwSignal::new(false);
    // The dialog can be closed (or its thread) while the copy is on its
    // way: the answer then opens the target only if the dialog is still
    // open, and touches its signals only while they are there.
    let send = move |to: ConversationId| {
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        let client_msg_id =
            ids.try_update_value(|ids| ids.entry(to).or_insert_with(new_client_msg_id).clone());
        let forward = ForwardMessage {
            conversation_id: to,
            client_msg_id,
        };
        let words = comment.with_untracked(|c| c.trim().to_owned());
        leptos::task::spawn_local(async move {
            match forward_message(message_id, forward).await {
                Ok(_) => {
                    // After the copy is stored, so it comes after it; through
                    // the outbox, so it goes even if the dialog is gone.
                    if !words.is_empty() {
                        store.send_message(to, words, None, None, crate::now_ms());
                    }
                    if open.try_get_untracked().flatten().is_some() {
                        open.set(None);
                        navigate(&format!("/c/{to}"), Default::default());
                    }
                }
                Err(e) => {
                    error.try_set(Some(e.message));
                    sending.try_set(false);
                }
            }
        });
    };

    let close = move || open.set(None);
    let summary = preview(&message).text;
    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby="forward-title"
                data-testid="forward-dialog"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { close() }
            >
                <div class="modal-head">
                    <h2 id="forward-title">"Forward message"</h2>
                    <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close()>
                        <Svg icon=Icon::Close />
                    </button>
                </div>
                <blockquote class="forward-preview">
                    <span class="quote-sender">{message.sender_name.clone()}</span>
                    <span class="quote-text">{summary}</span>
                </blockquote>
                <label for="forward-comment">"Add a message (optional)"</label>
                <input id="forward-comment" type="text" maxlength="4000"
                    prop:value=move || comment.get()
                    on:input=move |ev| comment.set(event_target_value(&ev)) />
                <label for="forward-search">"Send to"</label>
                <input id="forward-search" type="search" placeholder="Conversation or person" autofocus
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev)) />
                // Not disabled while sending (`send` ignores a second pick):
                // a disabled button would drop the focus out of the dialog,
                // where Escape no longer reaches it.
                <ul class="contact-list" aria-label="Conversations" aria-busy=move || sending.get().to_string()>
                    {move || {
                        let list = targets.get();
                        if list.is_empty() {
                            return view! { <li class="muted">"No conversation found."</li> }.into_any();
                        }
                        list.into_iter().map(|(id, title, kind)| view! {
                            <li class="contact">
                                <button type="button" class="contact-button"
                                    on:click={
                                        let send = send.clone();
                                        move |_| send(id)
                                    }>
                                    <Avatar name=title.clone() kind=kind />
                                    <span class="contact-text"><span class="contact-name">{title.clone()}</span></span>
                                </button>
                            </li>
                        }).collect_view().into_any()
                    }}
                </ul>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            </div>
        </div>
    }
}
