//! The chat: the conversation list beside the open thread (one pane at a
//! time on phones), the notification drawer, and the live connection.
//! Rendered on the server with real data, then hydrated.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_location;

use crate::api::chat::{Bootstrap, chat_bootstrap};
use crate::api::json::blocking_resource;
use crate::components::conversation_list::ConversationList;
use crate::components::header::AppHeader;
use crate::components::notifications::{DrawerState, NotificationDrawerSlot};
use crate::components::shortcuts::shortcuts_dialog;
use crate::components::{reload_page, update_available};
use crate::format::Offset;
use crate::model::{ChatModel, Link};
use crate::protocol::ConversationId;
use crate::store::Store;

#[component]
pub fn ChatPage() -> impl IntoView {
    let boot = blocking_resource(|| (), |_| chat_bootstrap());
    view! {
        <Suspense fallback=|| view! { <p class="centered muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match boot.await {
                    Ok(boot) => view! { <ChatApp boot /> }.into_any(),
                    Err(error) => view! {
                        <main class="centered">
                            <p>{error.message}</p>
                            <a href="/login" rel="external">"Sign in"</a>
                        </main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Whether a path is one of the chat's own pages, which the page routes
/// itself. Other paths (settings, say) are lazy routes, whose loader aborts
/// the WASM when offline: the browser's own navigation fails gracefully.
pub fn is_chat_path(path: &str) -> bool {
    path == "/" || is_thread_path(path)
}

/// Whether a path opens a conversation (`/c/{id}`).
pub fn is_thread_path(path: &str) -> bool {
    path.starts_with("/c/")
}

/// The conversation open in the address bar, if any (`/c/{id}`).
pub fn open_conversation() -> Memo<Option<ConversationId>> {
    let location = use_location();
    Memo::new(move |_| {
        location.pathname.with(|path| {
            path.strip_prefix("/c/")
                .and_then(|rest| rest.split('/').next())
                .and_then(|id| id.parse().ok())
                .map(ConversationId)
        })
    })
}

/// Whether the page shows the list or a thread, not both, as on a phone.
/// Asked after an action, in the browser; the server renders both panes.
pub fn one_pane() -> bool {
    #[cfg(feature = "hydrate")]
    return crate::client::dom::one_pane();
    #[cfg(not(feature = "hydrate"))]
    false
}

#[component]
fn ChatApp(boot: Bootstrap) -> impl IntoView {
    let Bootstrap {
        me,
        conversations,
        unread_notifications,
        utc_offset_minutes,
        now,
    } = boot;
    let store = Store::new(
        ChatModel::new(me.clone(), conversations, unread_notifications),
        now,
        Offset(utc_offset_minutes),
    );
    provide_context(store);
    let drawer = DrawerState::new();
    provide_context(drawer);
    let shortcuts = RwSignal::new(false);

    // Ctrl+/ (⌘/ on a Mac) shows the keyboard shortcuts, or hides them.
    #[cfg(feature = "hydrate")]
    {
        let key = window_event_listener(leptos::ev::keydown, move |ev| {
            if (ev.ctrl_key() || ev.meta_key()) && !ev.alt_key() && ev.key() == "/" {
                ev.prevent_default();
                // Not on top of another dialog.
                if shortcuts.get_untracked() || !crate::client::dom::modal_open() {
                    shortcuts.update(|open| *open = !*open);
                }
            }
        });
        on_cleanup(move || key.remove());
    }

    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        Effect::new(move |started: Option<()>| {
            if started.is_none() {
                start_in_browser(store, navigate.clone());
            }
        });
    }

    let open = open_conversation();
    // The head's title counts what is unread. On the server it counts the
    // page's snapshot, taken here before anything is spawned: the head is
    // written while the thread's `Suspense` may be updating the model on
    // another worker, and reactive_graph reads a signal with `try_read`, so
    // a read that meets the write lock panics ("already disposed") and left
    // the page's response unfinished (pages.rs failed or hung under load).
    #[cfg(feature = "hydrate")]
    let unread = {
        let unread = Memo::new(move |_| store.model.with(ChatModel::total_unread));
        move || unread.try_get().unwrap_or(0)
    };
    #[cfg(not(feature = "hydrate"))]
    let unread = {
        let unread = store.model.with_untracked(ChatModel::total_unread);
        move || unread
    };
    let title = move || match unread() {
        0 => "crm-chat".to_owned(),
        n => format!("({n}) crm-chat"),
    };

    view! {
        <Title text=title />
        <div class="app" class:thread-open=move || open.get().is_some()>
            <AppHeader me bell=true shortcuts />
            <UpdateBar />
            <ConnectionBanner />
            <div class="panes">
                <aside class="sidebar" aria-label="Conversations">
                    <ConversationList />
                </aside>
                <main class="thread-pane" id="main">
                    <Outlet />
                </main>
            </div>
            <NotificationDrawerSlot />
            {move || shortcuts.get().then(|| Suspend::new(shortcuts_dialog(shortcuts)))}
        </div>
    }
}

/// "Reconnecting…" while the socket is down, "Back online" briefly after.
/// A thin bar that never blocks the page.
#[component]
fn ConnectionBanner() -> impl IntoView {
    let store = crate::store::use_store();
    let link = Memo::new(move |_| store.model.with(|m| m.link));
    view! {
        <div class="banner-slot" role="status" aria-live="polite">
            {move || match link.get() {
                Link::Reconnecting => Some(view! { <div class="banner offline">"Reconnecting…"</div> }.into_any()),
                Link::Restored => Some(view! { <div class="banner online">"Back online"</div> }.into_any()),
                Link::Starting | Link::Live => None,
            }}
        </div>
    }
}

/// "crm-chat has been updated" with a Reload button, once the server serves
/// another build than this page's (Slack's "Reload to update"). It stays
/// until the user reloads: drafts and unsent messages are kept in the
/// browser's storage, so the reload loses nothing. Part of the page's flow,
/// not over it, so it hides nothing.
#[component]
fn UpdateBar() -> impl IntoView {
    let update = update_available();
    view! {
        <div role="status" aria-live="polite">
            <Show when=move || update.get()>
                <div class="update-bar">
                    <span>"crm-chat has been updated."</span>
                    <button type="button" on:click=|_| reload_page()>"Reload"</button>
                </div>
            </Show>
        </div>
    }
}

/// What only a browser does: the socket, the outbox kept in storage, the
/// clocks, and telling the server the viewer's time zone.
#[cfg(feature = "hydrate")]
fn start_in_browser(
    store: Store,
    navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static,
) {
    use crate::client::{self, storage};

    // A clicked system notification.
    client::alerts::start(move |url| {
        if is_chat_path(&url) {
            navigate(&url, Default::default());
        } else {
            client::go_to(&url);
        }
    });

    client::remember_utc_offset();
    store.model.update(|m| m.page_build = client::page_build());
    store.offset.set(Offset(client::utc_offset_minutes()));
    store.now.set(client::now_ms());

    let me = store.my_id();
    let saved = storage::load_outbox(me);
    if !saved.is_empty() {
        store.model.update(|m| {
            for outgoing in saved {
                m.queue(outgoing);
            }
        });
    }
    // Drafts, and again when another tab changes one.
    store.drafts.set(storage::load_drafts(me));
    let drafts = window_event_listener_untyped("storage", move |_| {
        let now = storage::load_drafts(me);
        store.drafts.maybe_update(|drafts| {
            let changed = *drafts != now;
            *drafts = now;
            changed
        });
    });
    std::mem::forget(drafts);

    let outbox = Memo::new(move |_| store.model.with(|m| m.outbox.clone()));
    Effect::new(move |_| outbox.with(|outbox| storage::save_outbox(me, outbox)));

    // The connection's state on the document: for styles, and for tests
    // that wait until the page is live.
    Effect::new(move |_| {
        let link = store.model.with(|m| m.link);
        let name = match link {
            Link::Starting => "starting",
            Link::Live | Link::Restored => "live",
            Link::Reconnecting => "reconnecting",
        };
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-link", name);
        }
    });

    let clock = set_interval_with_handle(
        move || store.now.set(client::now_ms()),
        std::time::Duration::from_secs(20),
    );
    let typing = set_interval_with_handle(
        move || {
            let now = client::now_ms();
            if store.model.with_untracked(|m| !m.typing.is_empty()) {
                store.model.update(|m| {
                    m.expire_typing(now);
                });
            }
        },
        std::time::Duration::from_secs(1),
    );
    std::mem::forget((clock, typing));
    client::connection::start(store);

    // The thread's code and the conversation menu's, fetched now that the
    // page is live, so that opening either does not wait for it (and works
    // offline later).
    leptos::task::spawn_local(
        <crate::pages::thread::ThreadRoute as leptos_router::LazyRoute>::preload(),
    );
    leptos::task::spawn_local(crate::components::conversation_menu::preload());
}
