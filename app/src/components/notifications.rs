//! The bell with the unread count, and the notification drawer it opens:
//! typed notifications with an icon, title, body and relative time; mark one
//! read, mark all read, delete; a click follows the notification's link.
//! Everything updates live from the socket.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api::AppError;
use crate::api::notifications::{
    delete_notification, list_notifications, mark_all_notifications_read, mark_notification_read,
};
use crate::components::icon::{Icon, Svg};
use crate::components::{ChunkUnavailable, ReloadButton, chunk_error_message};
use crate::format::relative;
use crate::model::{ChatModel, NotificationView};
use crate::protocol::{Notification, NotificationId, NotificationKind};
use crate::store::use_store;

/// Whether the drawer is open; shared by the bell and the drawer.
#[derive(Clone, Copy)]
pub struct DrawerState {
    pub open: RwSignal<bool>,
}

impl DrawerState {
    pub fn new() -> DrawerState {
        DrawerState {
            open: RwSignal::new(false),
        }
    }
}

impl Default for DrawerState {
    fn default() -> Self {
        DrawerState::new()
    }
}

#[component]
pub fn Bell() -> impl IntoView {
    let store = use_store();
    let drawer = expect_context::<DrawerState>();
    let count = Memo::new(move |_| store.model.with(|m| m.notifications.unread_count));
    let label = move || match count.get() {
        0 => "Notifications".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <button
            type="button"
            id="bell"
            class="icon-button bell"
            aria-label=label
            aria-expanded=move || drawer.open.get().to_string()
            aria-controls="notification-drawer"
            on:click=move |_| drawer.open.update(|open| *open = !*open)
        >
            <Svg icon=Icon::Bell />
            <Show when=move || { count.get() > 0 }>
                <span class="badge bell-badge" data-testid="bell-count" aria-hidden="true">
                    {move || if count.get() > 99 { "99+".to_owned() } else { count.get().to_string() }}
                </span>
            </Show>
        </button>
    }
}

/// Where the drawer goes. Its code is a WASM chunk of its own, fetched the
/// first time the bell opens it: most page loads never open it, and its
/// list loads on the first opening anyway, so there is nothing to render on
/// the server. Once loaded it stays mounted, so reopening keeps its list.
/// When the chunk cannot be fetched (offline), the drawer says so, and the
/// next opening tries again.
#[component]
pub fn NotificationDrawerSlot() -> impl IntoView {
    let drawer = expect_context::<DrawerState>();
    let loaded = RwSignal::new(false);
    let wanted = Memo::new(move |_| loaded.get() || drawer.open.get());
    move || {
        wanted.get().then(|| {
            Suspend::new(async move {
                match load_drawer().await {
                    Ok(view) => {
                        loaded.set(true);
                        view
                    }
                    Err(ChunkUnavailable) => view! { <DrawerUnavailable /> }.into_any(),
                }
            })
        })
    }
}

async fn load_drawer() -> Result<AnyView, ChunkUnavailable> {
    #[cfg(feature = "hydrate")]
    return notification_drawer().await;
    #[cfg(not(feature = "hydrate"))]
    return notification_drawer();
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        notification_drawer,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn notification_drawer() -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <NotificationDrawer /> }.into_any())
}

/// The drawer's frame with an error, for when its code could not be fetched.
#[component]
fn DrawerUnavailable() -> impl IntoView {
    let drawer = expect_context::<DrawerState>();
    view! {
        <div class="drawer-backdrop" on:click=move |_| drawer.open.set(false)></div>
        <aside id="notification-drawer" class="drawer open" role="dialog" aria-labelledby="drawer-title">
            <div class="drawer-head">
                <h2 id="drawer-title" tabindex="-1">"Notifications"</h2>
                <button type="button" class="icon-button" aria-label="Close notifications"
                    on:click=move |_| drawer.open.set(false)><Svg icon=Icon::Close /></button>
            </div>
            <p class="form-error" role="alert">{chunk_error_message()}</p>
            <div class="drawer-actions"><ReloadButton /></div>
        </aside>
    }
}

#[component]
fn NotificationDrawer() -> impl IntoView {
    let store = use_store();
    let drawer = expect_context::<DrawerState>();
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);

    // The view the user chose last time, once per page load.
    #[cfg(feature = "hydrate")]
    {
        let view =
            crate::client::storage::load_notification_view(store.model.with_untracked(|m| m.me.id));
        store.model.update(|m| m.show_notifications(view));
    }

    // Brings an older page (`before`), then the first page if the drawer
    // needs it: until that is in for the view the user is looking at, as
    // they may switch views, or the socket resume, while it is on its way.
    // After a resume, older pages follow, as deep as the drawer was.
    let load = move |before: Option<NotificationId>| {
        loading.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let current_view = move || store.model.with_untracked(|m| m.notifications.view);
            let needs_first_page = move || {
                drawer.open.get_untracked()
                    && !store.model.with_untracked(|m| m.notifications.loaded)
            };
            let older = move |before| async move {
                let view = current_view();
                let page = list_notifications(Some(before), view.unread_only, view.kind).await?;
                store.model.update(|m| m.append_notifications(page, view));
                Ok::<(), AppError>(())
            };
            let loaded = async move {
                if let Some(before) = before {
                    older(before).await?;
                }
                loop {
                    if needs_first_page() {
                        let view = current_view();
                        let mark = store.model.with_untracked(ChatModel::mark);
                        let page = list_notifications(None, view.unread_only, view.kind).await?;
                        store
                            .model
                            .try_update(|m| m.set_notifications(page, mark, view));
                    } else if let Some(before) = store
                        .model
                        .try_with_untracked(ChatModel::older_page_to_restore)
                        .flatten()
                    {
                        older(before).await?;
                    } else {
                        break;
                    }
                }
                Ok::<(), AppError>(())
            };
            if let Err(e) = loaded.await {
                error.set(Some(e.message));
            }
            loading.set(false);
        });
    };

    // The first opening loads the list, and so does the first after a
    // resume (at once, if the drawer is open then). Opening moves focus into
    // the drawer (it is mounted by its first opening, so that counts too),
    // and closing returns it to the bell.
    let loaded = Memo::new(move |_| store.model.with(|m| m.notifications.loaded));
    Effect::new(move |was_open: Option<bool>| {
        let open = drawer.open.get();
        if open && !loaded.get() && !loading.get_untracked() {
            load(None);
        }
        #[cfg(feature = "hydrate")]
        if was_open != Some(open) && (open || was_open.is_some()) {
            let target = if open { "drawer-title" } else { "bell" };
            // After the drawer's own change of visibility has rendered.
            leptos::task::spawn_local(crate::client::dom::focus_when_shown(target));
        }
        let _ = was_open;
        open
    });

    // Escape closes it wherever the focus is.
    #[cfg(feature = "hydrate")]
    crate::client::dom::close_on_escape(move || {
        if drawer.open.get_untracked() {
            drawer.open.set(false);
        }
    });

    let items = Memo::new(move |_| store.model.with(|m| m.notifications.items.clone()));
    let has_more = Memo::new(move |_| store.model.with(|m| m.notifications.has_more));
    let unread = Memo::new(move |_| store.model.with(|m| m.notifications.unread_count));
    let view = Memo::new(move |_| store.model.with(|m| m.notifications.view));
    let unread_only = Memo::new(move |_| view.get().unread_only);
    let show = move |change: &dyn Fn(&mut NotificationView)| {
        let mut next = view.get_untracked();
        change(&mut next);
        store.model.update(|m| m.show_notifications(next));
        #[cfg(feature = "hydrate")]
        crate::client::storage::save_notification_view(
            store.model.with_untracked(|m| m.me.id),
            next,
        );
    };

    // Of the view's kind, or of every kind.
    let read_all = move |_| {
        let mark = store.model.with_untracked(ChatModel::mark);
        let kind = view.get_untracked().kind;
        leptos::task::spawn_local(async move {
            match mark_all_notifications_read(kind).await {
                Ok(changed) => store
                    .model
                    .update(|m| m.notifications_all_read_locally(mark, changed)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <Show when=move || drawer.open.get()>
            <div class="drawer-backdrop" on:click=move |_| drawer.open.set(false)></div>
        </Show>
        <aside
            id="notification-drawer"
            class="drawer"
            class:open=move || drawer.open.get()
            role="dialog"
            aria-labelledby="drawer-title"
            aria-hidden=move || (!drawer.open.get()).to_string()
        >
            <div class="drawer-head">
                <h2 id="drawer-title" tabindex="-1">"Notifications"</h2>
                <button type="button" class="ghost" disabled=move || unread.get() == 0 on:click=read_all>
                    "Mark all read"
                </button>
                <button type="button" class="icon-button" aria-label="Close notifications"
                    on:click=move |_| drawer.open.set(false)><Svg icon=Icon::Close /></button>
            </div>
            <div class="drawer-views">
                <div class="view-toggles" role="group" aria-label="Show">
                    <button type="button" class="view-toggle" aria-pressed=move || (!unread_only.get()).to_string()
                        on:click=move |_| show(&|v| v.unread_only = false)>"All"</button>
                    <button type="button" class="view-toggle" aria-pressed=move || unread_only.get().to_string()
                        on:click=move |_| show(&|v| v.unread_only = true)>
                        "Unread "
                        // How many, as the bell says; not for one type, whose
                        // own count the bell does not know.
                        <Show when=move || { unread.get() > 0 && view.get().kind.is_none() }>
                            <span class="toggle-count">{move || unread.get().to_string()}</span>
                        </Show>
                    </button>
                </div>
                <select
                    class="view-kind"
                    aria-label="Type"
                    on:change=move |ev| {
                        let kind = NotificationKind::parse(&event_target_value(&ev));
                        show(&|v| v.kind = kind);
                    }
                >
                    <option value="" prop:selected=move || view.get().kind.is_none()>"Every type"</option>
                    {NotificationKind::ALL
                        .into_iter()
                        .map(|kind| view! {
                            <option value=kind.as_str() prop:selected=move || view.get().kind == Some(kind)>
                                {kind.label()}
                            </option>
                        })
                        .collect::<Vec<_>>()}
                </select>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <ul class="notification-list" aria-label="Notifications">
                <For each=move || items.get() key=|n| (n.id, n.read_at.is_some(), n.updated_at) let:notification>
                    <NotificationItem notification error />
                </For>
            </ul>
            <Show when=move || { items.with(Vec::is_empty) && !loading.get() }>
                <p class="muted empty-list">
                    {move || match (view.get().unread_only, view.get().kind.is_some()) {
                        (true, false) => "No unread notifications.",
                        (true, true) => "No unread notifications of this type.",
                        (false, true) => "No notifications of this type.",
                        (false, false) => "You are all caught up.",
                    }}
                </p>
            </Show>
            <Show when=move || has_more.get() && loaded.get()>
                <button type="button" class="ghost load-more" disabled=move || loading.get() on:click=move |_| {
                    let last = items.with_untracked(|i| i.last().map(|n| n.id));
                    load(last);
                }>"Show older"</button>
            </Show>
        </aside>
    }
}

#[component]
fn NotificationItem(notification: Notification, error: RwSignal<Option<String>>) -> impl IntoView {
    let store = use_store();
    let drawer = expect_context::<DrawerState>();
    let navigate = use_navigate();
    let id = notification.id;
    let unread = notification.read_at.is_none();
    let at = notification.updated_at;
    let link = notification.link.clone();
    let title = if notification.kind == NotificationKind::NewMessage && notification.count > 1 {
        format!(
            "{} · {} new messages",
            notification.title, notification.count
        )
    } else {
        notification.title.clone()
    };

    let read = move || {
        leptos::task::spawn_local(async move {
            match mark_notification_read(id).await {
                Ok(_) => store.model.update(|m| m.notification_read_locally(id)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let follow = move |_| {
        let link = link.clone();
        let navigate = navigate.clone();
        if unread {
            read();
        }
        match link {
            Some(path) if crate::pages::chat::is_chat_path(&path) => {
                drawer.open.set(false);
                navigate(&path, Default::default());
            }
            Some(path) if path.starts_with('/') => {
                drawer.open.set(false);
                #[cfg(feature = "hydrate")]
                crate::client::go_to(&path);
                let _ = path;
            }
            Some(url) => {
                #[cfg(feature = "hydrate")]
                {
                    let _ = window().open_with_url_and_target_and_features(
                        &url,
                        "_blank",
                        "noopener,noreferrer",
                    );
                }
                let _ = url;
            }
            None => {}
        }
    };
    let mark_read = move |_| read();
    let delete = move |_| {
        leptos::task::spawn_local(async move {
            match delete_notification(id).await {
                Ok(()) => store.model.update(|m| m.notification_deleted_locally(id)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <li class="notification" class:unread=unread data-testid="notification">
            <span class=format!("kind-icon kind-{}", notification.kind.as_str().to_ascii_lowercase()) aria-hidden="true">
                <Svg icon=icon(notification.kind) size=22 />
            </span>
            <button type="button" class="notification-main" on:click=follow>
                <span class="notification-kind">{notification.kind.label()}</span>
                <span class="notification-title">{title}</span>
                {(!notification.body.is_empty()).then(|| view! { <span class="notification-body">{notification.body.clone()}</span> })}
                <time class="notification-time muted">
                    {move || relative(at, store.now.get(), store.offset.get())}
                </time>
            </button>
            <span class="notification-actions">
                {unread.then(|| view! {
                    <button type="button" class="icon-button" aria-label="Mark read" title="Mark read" on:click=mark_read><Svg icon=Icon::Check size=18 /></button>
                })}
                <button type="button" class="icon-button" aria-label="Delete notification" title="Delete" on:click=delete><Svg icon=Icon::Trash size=18 /></button>
            </span>
        </li>
    }
}

fn icon(kind: NotificationKind) -> Icon {
    match kind {
        NotificationKind::NewMessage => Icon::Message,
        NotificationKind::LeadAssigned => Icon::Target,
        NotificationKind::LeadStatusChanged => Icon::Trending,
        NotificationKind::LeadUpdated => Icon::Edit,
        NotificationKind::SystemAlert => Icon::Alert,
        NotificationKind::TaskAssigned => Icon::Task,
        NotificationKind::Reminder => Icon::Clock,
    }
}
