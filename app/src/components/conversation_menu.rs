//! The "⋯" menu of a conversation: the caller's own settings for it, at the
//! top of the conversation and on each row of the list. Pin to top and Mute
//! are checkable items; Mark as unread leaves the conversation if it is open
//! (like Gmail), and opening it again clears the mark. On a row that is
//! unread, Mark as read reads it without opening it (as in WhatsApp).
//!
//! A menu button (WAI-ARIA): Enter, Space or a click opens it with the focus
//! on the first item, the arrows, Home and End move between items, and Escape
//! closes it and gives the focus back to the button; so do Tab and a click
//! anywhere else. Three buttons in a phone's header would leave the title no
//! room.
//!
//! The button is in the page's main WASM module, once per row; the items are
//! a chunk of their own, fetched once the page is live (see [`preload`]).

use leptos::html::{Button, Div, Ul};
use leptos::prelude::*;

use super::ChunkUnavailable;
use super::icon::{Icon, Svg};
use crate::api::AppError;
use crate::api::chat::{mark_conversation_read, mark_conversation_unread, set_conversation_pinned};
use crate::api::notifications::set_conversation_muted;
use crate::protocol::{ConversationId, ConversationSummary};
use crate::store::{Store, use_store};

/// Where a menu is: its element ids must differ from the other's.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum MenuPlace {
    Thread,
    List,
}

/// One menu: what its button and its items share.
#[derive(Clone, Copy)]
struct Menu {
    id: ConversationId,
    place: MenuPlace,
    open: RwSignal<bool>,
    pinned: Signal<bool>,
    muted: Signal<bool>,
    unread: Signal<bool>,
    wrapper: NodeRef<Div>,
    button: NodeRef<Button>,
}

impl Menu {
    fn menu_id(&self) -> String {
        format!("{}-menu-{}", self.prefix(), self.id)
    }

    fn button_id(&self) -> String {
        format!("{}-menu-button-{}", self.prefix(), self.id)
    }

    fn prefix(&self) -> &'static str {
        match self.place {
            MenuPlace::Thread => "thread",
            MenuPlace::List => "list",
        }
    }

    /// Closing from the keyboard gives the focus back to what opened the
    /// menu: the button, or in the list the row (whose own button is for
    /// pointers; the keyboard opens the menu with Shift+F10).
    fn close(&self, refocus: bool) {
        self.open.set(false);
        #[cfg(feature = "hydrate")]
        if refocus {
            use wasm_bindgen::JsCast;
            let opener: Option<web_sys::HtmlElement> = match self.place {
                MenuPlace::Thread => self.button.get_untracked().map(Into::into),
                MenuPlace::List => self
                    .wrapper
                    .get_untracked()
                    .and_then(|w| w.previous_element_sibling())
                    .and_then(|row| row.dyn_into().ok()),
            };
            if let Some(opener) = opener {
                let _ = opener.focus();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = refocus;
    }
}

#[component]
pub fn ConversationMenu(
    id: ConversationId,
    place: MenuPlace,
    /// The button's accessible name.
    #[prop(into)]
    label: Signal<String>,
    #[prop(into)] pinned: Signal<bool>,
    #[prop(into)] muted: Signal<bool>,
    /// Unread (or marked so): the last item is "Mark as read" instead.
    #[prop(into)]
    unread: Signal<bool>,
    /// Whether the menu is open; the list's rows also open it on a right
    /// click or a long press.
    open: RwSignal<bool>,
) -> impl IntoView {
    let menu = Menu {
        id,
        place,
        open,
        pinned,
        muted,
        unread,
        wrapper: NodeRef::new(),
        button: NodeRef::new(),
    };

    // While open, a press anywhere else closes it. (One listener per open
    // menu, not one per row of the list.)
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        if !open.get() {
            return;
        }
        let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let inside = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Node>().ok())
                .zip(menu.wrapper.get_untracked())
                .is_some_and(|(target, wrapper)| wrapper.contains(Some(&target)));
            if !inside {
                open.set(false);
            }
        });
        // Before the effect runs again (closed), or when the menu goes.
        on_cleanup(move || outside.remove());
    });

    view! {
        <div class="conversation-menu" class:open=move || open.get() node_ref=menu.wrapper>
            <button type="button" class="icon-button" node_ref=menu.button id=menu.button_id()
                tabindex=(place == MenuPlace::List).then_some("-1")
                aria-label=label title=label
                aria-haspopup="menu" aria-expanded=move || open.get().to_string()
                aria-controls=move || open.get().then(|| menu.menu_id())
                on:click=move |_| open.update(|o| *o = !*o)>
                <Svg icon=Icon::More />
            </button>
            {move || open.get().then(|| Suspend::new(items(menu)))}
        </div>
    }
}

/// Fetches the menu's chunk ahead of the first click, once the page is live.
pub async fn preload() {
    #[cfg(feature = "hydrate")]
    let _ = preload_items_chunk().await;
}

/// The open menu's items, from their chunk; an error in their place when it
/// cannot be fetched (offline before it ever was).
async fn items(menu: Menu) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = items_chunk(menu).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = items_chunk(menu);
    loaded.unwrap_or_else(|ChunkUnavailable| {
        view! {
            <div class="menu" role="alert">
                <p class="form-error">{super::chunk_error_message()}</p>
            </div>
        }
        .into_any()
    })
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        conversation_menu,
        wasm_split_path = ::leptos::wasm_split,
        preload(preload_items_chunk),
        fallible
    )
)]
fn items_chunk(menu: Menu) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <MenuItems menu /> }.into_any())
}

#[component]
fn MenuItems(menu: Menu) -> impl IntoView {
    let store = use_store();
    let Menu {
        id,
        place,
        pinned,
        muted,
        unread,
        ..
    } = menu;
    let list = NodeRef::<Ul>::new();

    let toggle_pin = move || {
        menu.close(true);
        let next = !pinned.get_untracked();
        leptos::task::spawn_local(async move {
            apply(store, set_conversation_pinned(id, next)).await;
        });
    };
    let toggle_mute = move || {
        menu.close(true);
        let next = !muted.get_untracked();
        leptos::task::spawn_local(async move {
            apply(store, set_conversation_muted(id, next)).await;
        });
    };
    let navigate = leptos_router::hooks::use_navigate();
    let open_now = crate::pages::chat::open_conversation();
    let mark_unread = move |_| {
        menu.close(place == MenuPlace::List);
        let navigate = navigate.clone();
        let here = open_now.get_untracked() == Some(id);
        leptos::task::spawn_local(async move {
            // On a phone the thread closes, as WhatsApp's list does; on a
            // desktop it stays open, as in Slack: reading it keeps the mark,
            // and opening it again clears it.
            if apply(store, mark_conversation_unread(id)).await
                && here
                && crate::pages::chat::one_pane()
            {
                navigate("/", Default::default());
            }
        });
    };
    let mark_read = move |_| {
        menu.close(true);
        leptos::task::spawn_local(async move {
            apply(store, mark_conversation_read(id)).await;
        });
    };

    // Opened: the focus goes to the first item at once, so that keys typed
    // right after Shift+F10 reach the menu, not the row behind it. When the
    // chunk had to be fetched first, the list is built before it is put in
    // the document: then on the next frame.
    Effect::new(move |_| {
        let Some(items) = list.get() else {
            return;
        };
        if items.is_connected() {
            focus_item(&items, |_, _| Some(0));
        } else {
            request_animation_frame(move || {
                if let Some(items) = list.get_untracked() {
                    focus_item(&items, |_, _| Some(0));
                }
            });
        }
    });
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let Some(items) = list.get_untracked() else {
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
                menu.close(true);
                return;
            }
            "Tab" => {
                menu.close(false);
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        focus_item(&items, step);
    };
    let pinned = move || pinned.get();
    let muted = move || muted.get();

    view! {
        <ul class="menu" role="menu" id=menu.menu_id() node_ref=list
            aria-labelledby=menu.button_id() on:keydown=on_keydown>
            <CheckItem icon=Icon::Pin label="Pin to top" checked=pinned on_choose=toggle_pin />
            <CheckItem icon=Icon::BellOff label="Mute" checked=muted on_choose=toggle_mute />
            <li role="none">
                <Show
                    when=move || unread.get()
                    fallback={let mark_unread = mark_unread.clone(); move || view! {
                        <button type="button" role="menuitem" tabindex="-1" on:click=mark_unread.clone()>
                            <Svg icon=Icon::Mail size=18 />
                            <span>"Mark as unread"</span>
                        </button>
                    }}
                >
                    <button type="button" role="menuitem" tabindex="-1" on:click=mark_read>
                        <Svg icon=Icon::Check size=18 />
                        <span>"Mark as read"</span>
                    </button>
                </Show>
            </li>
            // A row is a link, but its right click opens this menu, not the
            // browser's: the menu offers what the browser's did.
            {(place == MenuPlace::List).then(|| view! {
                <li role="none">
                    <a role="menuitem" tabindex="-1" href=format!("/c/{id}") target="_blank"
                        rel="noopener" on:click=move |_| menu.close(true)>
                        <Svg icon=Icon::External size=18 />
                        <span>"Open in new tab"</span>
                    </a>
                </li>
            })}
        </ul>
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
