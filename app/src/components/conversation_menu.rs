//! The "⋯" menu at the top of a conversation: the caller's own settings for
//! it. Pin to top and Mute are checkable items; Mark as unread goes back to
//! the list, like Gmail, and opening the conversation again clears it.
//!
//! A menu button (WAI-ARIA): Enter, Space or a click opens it with the focus
//! on the first item, the arrows, Home and End move between items, and Escape
//! closes it and gives the focus back to the button; so do Tab and a click
//! anywhere else. Three buttons in a phone's header would leave the title no
//! room.

use leptos::html::{Button, Div, Ul};
use leptos::prelude::*;

use super::icon::{Icon, Svg};
use crate::api::AppError;
use crate::api::chat::{mark_conversation_unread, set_conversation_pinned};
use crate::api::notifications::set_conversation_muted;
use crate::protocol::{ConversationId, ConversationSummary};
use crate::store::{Store, use_store};

#[component]
pub fn ConversationMenu(
    id: ConversationId,
    row: Memo<Option<ConversationSummary>>,
) -> impl IntoView {
    let store = use_store();
    let open = RwSignal::new(false);
    let wrapper = NodeRef::<Div>::new();
    let button = NodeRef::<Button>::new();
    let menu = NodeRef::<Ul>::new();
    let pinned = move || row.with(|r| r.as_ref().is_some_and(|r| r.pinned_at.is_some()));
    let muted = move || row.with(|r| r.as_ref().is_some_and(|r| r.muted));

    let close = move |refocus: bool| {
        open.set(false);
        if refocus && let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
    };
    let toggle_pin = move || {
        close(true);
        let next = !pinned();
        leptos::task::spawn_local(async move {
            apply(store, set_conversation_pinned(id, next)).await;
        });
    };
    let toggle_mute = move || {
        close(true);
        let next = !muted();
        leptos::task::spawn_local(async move {
            apply(store, set_conversation_muted(id, next)).await;
        });
    };
    let navigate = leptos_router::hooks::use_navigate();
    let mark_unread = move |_| {
        close(false);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            if apply(store, mark_conversation_unread(id)).await {
                navigate("/", Default::default());
            }
        });
    };

    // Opened: the focus goes to the first item.
    Effect::new(move |_| {
        if let Some(menu) = menu.get() {
            focus_item(&menu, |_, _| Some(0));
        }
    });
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                .zip(wrapper.get_untracked())
                .is_some_and(|(target, wrapper)| wrapper.contains(Some(&target)));
            if open.get_untracked() && !inside {
                open.set(false);
            }
        });
        on_cleanup(move || outside.remove());
    }
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(list) = menu.get_untracked() else {
            return;
        };
        let key = ev.key();
        let step: fn(usize, usize) -> Option<usize> = match key.as_str() {
            "ArrowDown" => |at, count| Some((at + 1) % count),
            "ArrowUp" => |at, count| Some((at + count - 1) % count),
            "Home" => |_, _| Some(0),
            "End" => |_, count| count.checked_sub(1),
            "Escape" => {
                ev.prevent_default();
                close(true);
                return;
            }
            "Tab" => {
                close(false);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        focus_item(&list, step);
    };

    view! {
        <div class="conversation-menu" node_ref=wrapper>
            <button type="button" class="icon-button" node_ref=button id="conversation-menu-button"
                aria-label="Conversation options" title="Conversation options"
                aria-haspopup="menu" aria-expanded=move || open.get().to_string()
                aria-controls=move || open.get().then_some("conversation-menu")
                on:click=move |_| open.update(|o| *o = !*o)>
                <Svg icon=Icon::More />
            </button>
            <Show when=move || open.get()>
                <ul class="menu" role="menu" id="conversation-menu" node_ref=menu
                    aria-labelledby="conversation-menu-button" on:keydown=on_keydown>
                    <CheckItem icon=Icon::Pin label="Pin to top" checked=pinned on_choose=toggle_pin />
                    <CheckItem icon=Icon::BellOff label="Mute" checked=muted on_choose=toggle_mute />
                    <li role="none">
                        <button type="button" role="menuitem" tabindex="-1" on:click=mark_unread.clone()>
                            <Svg icon=Icon::Mail size=18 />
                            <span>"Mark as unread"</span>
                        </button>
                    </li>
                </ul>
            </Show>
        </div>
    }
}

/// An item that is on or off, with a tick when it is on.
#[component]
fn CheckItem(
    icon: Icon,
    label: &'static str,
    checked: impl Fn() -> bool + Copy + Send + Sync + 'static,
    on_choose: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <li role="none">
            <button type="button" role="menuitemcheckbox" tabindex="-1"
                aria-checked=move || checked().to_string() on:click=move |_| on_choose()>
                <Svg icon size=18 />
                <span>{label}</span>
                <Show when=checked><Svg icon=Icon::Check size=18 /></Show>
            </button>
        </li>
    }
}

/// Puts the answer's row in the list. Whether the change was made.
async fn apply(
    store: Store,
    change: impl Future<Output = Result<ConversationSummary, AppError>>,
) -> bool {
    match change.await {
        Ok(updated) => {
            store.model.update(|m| m.merge_conversation(updated));
            true
        }
        Err(_) => false,
    }
}

/// Focuses the item `step(focused, count)` of the menu, where `focused` is
/// the item that has the focus now (the first when none has).
fn focus_item(menu: &leptos::web_sys::HtmlUListElement, step: fn(usize, usize) -> Option<usize>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Ok(items) = menu.query_selector_all("[role^=menuitem]") else {
            return;
        };
        let items: Vec<web_sys::HtmlElement> = (0..items.length())
            .filter_map(|i| items.item(i)?.dyn_into().ok())
            .collect();
        let focused = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let at = items
            .iter()
            .position(|item| focused.as_ref().is_some_and(|f| f == item.as_ref()))
            .unwrap_or(0);
        if let Some(item) = step(at, items.len()).and_then(|next| items.get(next)) {
            let _ = item.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (menu, step);
}
