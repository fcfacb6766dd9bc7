//! The bar under a conversation's header that shows its pinned messages, as
//! WhatsApp and Telegram do: the last pinned first. A tap shows that message
//! in the thread (loading older pages to reach it) and moves the bar on to
//! the next pin, round to the first again.

use leptos::prelude::*;

use super::icon::{Icon, Svg};
use super::message::set_pinned;
use super::thread::ThreadContext;
use crate::model::preview;
use crate::store::use_store;

#[component]
pub fn PinnedBar() -> impl IntoView {
    let store = use_store();
    let context = expect_context::<ThreadContext>();
    let id = context.id;
    let pins = Memo::new(move |_| {
        store
            .model
            .with(|m| m.threads.get(&id).map(|t| t.pinned.clone()))
            .unwrap_or_default()
    });
    let can_unpin = Memo::new(move |_| {
        store
            .model
            .with(|m| m.conversation(id).is_some_and(|c| c.can_post))
    });
    // Which pin the bar shows: 0 is the last pinned, and a new pin shows
    // at once.
    let shown = RwSignal::new(0_usize);
    let newest = Memo::new(move |_| pins.with(|list| list.first().map(|m| m.id)));
    Effect::new(move |_| {
        newest.track();
        shown.set(0);
    });
    let error = RwSignal::new(None::<String>);

    move || {
        let (at, count, message) = pins.with(|list| {
            let at = shown.get() % list.len().max(1);
            list.get(at).map(|m| (at, list.len(), m.clone()))
        })?;
        let target = message.id;
        let label = if count > 1 {
            format!("Pinned message {} of {count}", at + 1)
        } else {
            "Pinned message".to_owned()
        };
        let text = preview(&message).text;
        let unpin = move |_| {
            error.set(None);
            set_pinned(store, target, false, error);
        };
        Some(view! {
            <div class="pinned-bar" data-testid="pinned-bar">
                <button type="button" class="pinned-show" title="Show it in the conversation" on:click=move |_| {
                    context.jump_to.set(Some(target));
                    shown.set(at + 1);
                }>
                    <Svg icon=Icon::Pin size=16 />
                    <span class="pinned-body">
                        <span class="pinned-label">{label}</span>
                        <span class="pinned-text"><b>{message.sender_name.clone()}": "</b>{text}</span>
                    </span>
                </button>
                <Show when=move || can_unpin.get()>
                    <button type="button" class="icon-button" aria-label="Unpin" title="Unpin" on:click=unpin>
                        <Svg icon=Icon::Close size=16 />
                    </button>
                </Show>
                {move || error.get().map(|e| view! { <p class="form-error small" role="alert">{e}</p> })}
            </div>
        })
    }
}
