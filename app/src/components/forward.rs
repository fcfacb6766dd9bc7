//! Forwarding a message: pick up to five of your conversations (filtered by
//! name as you type) and a copy of the message, its text and file, goes to
//! each, marked with who wrote the original, followed by your own words if
//! you added some; then, if it went to one, that conversation opens, as in
//! WhatsApp.
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

/// The most conversations one forward goes to, as in WhatsApp: enough for
/// the few people who need it, too few to spam the organisation.
const MAX_TARGETS: usize = 5;

#[component]
fn Forward(message: Message, open: RwSignal<Option<Message>>) -> impl IntoView {
    let store = use_store();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // The conversations picked, in the order they were.
    let picked = RwSignal::new(Vec::<ConversationId>::new());
    // One id per conversation picked: trying again after an error (the
    // answer lost on the way, say) sends one copy, not two.
    let ids = StoredValue::new(BTreeMap::<ConversationId, String>::new());
    // Where copies went, over every try.
    let delivered = StoredValue::new(Vec::<ConversationId>::new());
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
    let title_of = move |id: ConversationId| {
        store.model.with_untracked(|m| {
            m.conversation(id)
                .map(|c| c.title.clone())
                .unwrap_or_default()
        })
    };

    let sending = RwSignal::new(false);
    // The dialog can be closed (or its thread) while the copies are on
    // their way: they all go, the answer opens the target only if the
    // dialog is still open, and touches its signals only while they are
    // there.
    let send = move || {
        let targets = picked.get_untracked();
        if sending.get_untracked() || targets.is_empty() {
            return;
        }
        sending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        let words = comment.with_untracked(|c| c.trim().to_owned());
        leptos::task::spawn_local(async move {
            let mut failed = Vec::new();
            for &to in &targets {
                let client_msg_id = ids.try_update_value(|ids| {
                    ids.entry(to).or_insert_with(new_client_msg_id).clone()
                });
                let forward = ForwardMessage {
                    conversation_id: to,
                    client_msg_id,
                };
                match forward_message(message_id, forward).await {
                    // After the copy is stored, so it comes after it; through
                    // the outbox, so it goes even if the dialog is gone.
                    Ok(_) => {
                        delivered.try_update_value(|d| d.push(to));
                        if !words.is_empty() {
                            store.send_message(to, words.clone(), None, None, crate::now_ms());
                        }
                    }
                    Err(e) => failed.push((to, e.message)),
                }
            }
            if failed.is_empty() {
                if open.try_get_untracked().flatten().is_some() {
                    open.set(None);
                    // One conversation opens, as in WhatsApp; after several
                    // (a retry's included), the forwarder stays where they were.
                    if let Some([to]) = delivered.try_get_value().as_deref() {
                        navigate(&format!("/c/{to}"), Default::default());
                    }
                }
                return;
            }
            // What went is done: only the others stay picked, to try again.
            let report = failed
                .iter()
                .map(|(to, why)| format!("Not forwarded to {}: {why}", title_of(*to)))
                .collect::<Vec<_>>()
                .join("\n");
            picked.try_set(failed.into_iter().map(|(to, _)| to).collect());
            error.try_set(Some(report));
            sending.try_set(false);
        });
    };
    let toggle = move |id: ConversationId, on: bool| picked.update(|p| pick(p, id, on));
    let full = move || picked.with(|p| p.len() >= MAX_TARGETS);
    let recipients = move || {
        picked
            .get()
            .into_iter()
            .map(title_of)
            .collect::<Vec<_>>()
            .join(", ")
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
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }>
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
                    <ul class="contact-list" aria-label="Conversations">
                        {move || {
                            let list = targets.get();
                            if list.is_empty() {
                                return view! { <li class="muted">"No conversation found."</li> }.into_any();
                            }
                            list.into_iter().map(|(id, title, kind)| {
                                let checked = move || picked.with(|p| p.contains(&id));
                                view! {
                                    <li class="contact">
                                        <label class="contact-button">
                                            <input type="checkbox"
                                                prop:checked=checked
                                                disabled=move || full() && !checked()
                                                on:change=move |ev| toggle(id, event_target_checked(&ev)) />
                                            <Avatar name=title.clone() kind=kind />
                                            <span class="contact-text"><span class="contact-name">{title.clone()}</span></span>
                                        </label>
                                    </li>
                                }
                            }).collect_view().into_any()
                        }}
                    </ul>
                    <Show when=full>
                        <p class="muted">{format!("You can forward to {MAX_TARGETS} conversations at once.")}</p>
                    </Show>
                    {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <div class="modal-actions">
                        <p class="forward-to muted" aria-live="polite">{recipients}</p>
                        // Not disabled while sending (`send` ignores a second
                        // press): a disabled button would drop the focus out of
                        // the dialog, where Escape no longer reaches it.
                        <button type="submit" class="primary" aria-busy=move || sending.get().to_string()
                            disabled=move || picked.with(Vec::is_empty)>
                            "Forward"
                        </button>
                    </div>
                </form>
            </div>
        </div>
    }
}

/// Picks a conversation (at the end, while fewer than [`MAX_TARGETS`] are)
/// or leaves it out.
fn pick(picked: &mut Vec<ConversationId>, id: ConversationId, on: bool) {
    if !on {
        picked.retain(|&other| other != id);
    } else if !picked.contains(&id) && picked.len() < MAX_TARGETS {
        picked.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forward_goes_to_at_most_five_conversations_in_the_order_they_were_picked() {
        let mut picked = Vec::new();
        for id in [3, 1, 4, 1, 5, 9, 2] {
            pick(&mut picked, ConversationId(id), true);
        }
        assert_eq!(
            picked,
            [3, 1, 4, 5, 9].map(ConversationId),
            "the sixth is refused"
        );
        pick(&mut picked, ConversationId(4), false);
        pick(&mut picked, ConversationId(2), true);
        assert_eq!(picked, [3, 1, 5, 9, 2].map(ConversationId));
    }
}
