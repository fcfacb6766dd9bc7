//! Settings: desktop notifications, which kinds of notification pop up,
//! and for organisation admins, the API keys with which CRM systems send
//! notifications.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{LazyRoute, lazy_route};

use crate::api::get_session;
use crate::api::json::blocking_resource;
use crate::api::notifications::{
    ApiKeyList, create_api_key, list_api_keys, notification_settings, revoke_api_key,
    set_notification_muted,
};
use crate::components::header::AppHeader;
use crate::format::{Offset, relative};
use crate::protocol::{ApiKeySummary, NotificationSetting, OrgRole};

/// The settings route. Its code is a separate WASM chunk that the browser
/// fetches when someone opens the page, so the chat screens load without it.
pub struct SettingsRoute;

#[lazy_route]
impl LazyRoute for SettingsRoute {
    fn data() -> Self {
        SettingsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <SettingsPage /> }.into_any()
    }
}

#[component]
fn SettingsPage() -> impl IntoView {
    let session = blocking_resource(|| (), |_| get_session());
    view! {
        <Title text="Settings · crm-chat" />
        <Suspense fallback=|| view! { <p class="centered muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(me)) => {
                        let is_admin = me.role == OrgRole::Admin;
                        view! {
                            <div class="app settings-app">
                                <AppHeader me />
                                <main class="settings" id="main">
                                    <a href="/" class="back-link">"← Back to chats"</a>
                                    <h1>"Settings"</h1>
                                    <DesktopAlerts />
                                    <NotificationPreferences />
                                    {is_admin.then(|| view! { <ApiKeys /> })}
                                </main>
                            </div>
                        }
                        .into_any()
                    }
                    _ => view! {
                        <main class="centered"><a href="/login" rel="external">"Sign in"</a></main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// Desktop notifications, as far as this browser allows them. Only the
/// browser knows: the server renders none of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum AlertsState {
    Unsupported,
    Ask,
    Blocked,
    On,
    Off,
}

impl AlertsState {
    #[cfg(feature = "hydrate")]
    fn now() -> Self {
        use crate::client::alerts::{self, Permission};
        match alerts::permission() {
            Permission::Unsupported => AlertsState::Unsupported,
            Permission::Ask => AlertsState::Ask,
            Permission::Denied => AlertsState::Blocked,
            Permission::Granted if alerts::enabled() => AlertsState::On,
            Permission::Granted => AlertsState::Off,
        }
    }
}

/// Whether new messages and CRM notifications pop up as system
/// notifications while crm-chat is in the background. Only the browser knows,
/// so the control appears once the page is live.
#[component]
fn DesktopAlerts() -> impl IntoView {
    let state = RwSignal::new(None::<AlertsState>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| state.set(Some(AlertsState::now())));
    let turn_on = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            crate::client::alerts::ask().await;
            state.set(Some(AlertsState::now()));
        });
    };
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            crate::client::alerts::set_enabled(state.get_untracked() != Some(AlertsState::On));
            state.set(Some(AlertsState::now()));
        }
    };
    view! {
        <section class="settings-section" aria-labelledby="alerts-title">
            <h2 id="alerts-title">"Desktop notifications"</h2>
            <p class="muted">
                "New messages and CRM notifications pop up on your screen while crm-chat is "
                "open in a tab you are not looking at."
            </p>
            {move || state.get().map(|current| match current {
                AlertsState::Ask => view! {
                    <button type="button" class="primary" on:click=turn_on>
                        "Turn on desktop notifications"
                    </button>
                }
                .into_any(),
                AlertsState::On | AlertsState::Off => view! {
                    <div class="pref">
                        <label>
                            <input type="checkbox" role="switch"
                                prop:checked=current == AlertsState::On
                                on:change=toggle />
                            <span>"Show desktop notifications in this browser"</span>
                        </label>
                    </div>
                }
                .into_any(),
                AlertsState::Blocked => view! {
                    <p role="status">
                        "Notifications are blocked for this site. Allow them in your browser's "
                        "site settings, then reload."
                    </p>
                }
                .into_any(),
                AlertsState::Unsupported => view! {
                    <p role="status">
                        "This browser cannot show notifications from crm-chat. On an iPhone, "
                        "add crm-chat to your Home Screen first."
                    </p>
                }
                .into_any(),
            })}
        </section>
    }
}

#[component]
fn NotificationPreferences() -> impl IntoView {
    let settings = blocking_resource(|| (), |_| notification_settings());
    let current = RwSignal::new(None::<Vec<NotificationSetting>>);
    let error = RwSignal::new(None::<String>);
    let toggle = move |setting: NotificationSetting| {
        leptos::task::spawn_local(async move {
            match set_notification_muted(setting.kind, !setting.muted).await {
                Ok(updated) => current.set(Some(updated)),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <section class="settings-section" aria-labelledby="prefs-title">
            <h2 id="prefs-title">"Notifications"</h2>
            <p class="muted">
                "Muted kinds are still kept in your notifications; they just don't pop up. "
                "To mute one conversation, use Mute at the top of it."
            </p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(loaded) => {
                            if current.get_untracked().is_none() {
                                current.set(Some(loaded));
                            }
                            view! {
                                <ul class="prefs">
                                    <For each=move || current.get().unwrap_or_default() key=|s| (s.kind, s.muted) let:setting>
                                        <li class="pref">
                                            <label>
                                                <input type="checkbox" role="switch"
                                                    prop:checked=!setting.muted
                                                    on:change=move |_| toggle(setting) />
                                                <span>{setting.kind.label()}</span>
                                            </label>
                                        </li>
                                    </For>
                                </ul>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let keys = RwSignal::new(Vec::<ApiKeySummary>::new());
    // The server's clock and the viewer's offset, for "last used" times.
    let clock = RwSignal::new((0_i64, Offset::default()));
    let show = move |list: ApiKeyList| {
        clock.set((list.now, Offset(list.utc_offset_minutes)));
        keys.set(list.keys);
    };
    let name = RwSignal::new(String::new());
    let created = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let loaded = blocking_resource(|| (), |_| list_api_keys());

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key_name = name.get_untracked();
        leptos::task::spawn_local(async move {
            match create_api_key(key_name).await {
                Ok(new_key) => {
                    keys.update(|k| k.insert(0, new_key.summary));
                    created.set(Some(new_key.key));
                    name.set(String::new());
                    error.set(None);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    let revoke = move |key: ApiKeySummary| {
        leptos::task::spawn_local(async move {
            match revoke_api_key(key.id).await {
                Ok(()) => {
                    if let Ok(fresh) = list_api_keys().await {
                        show(fresh);
                    }
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <section class="settings-section" aria-labelledby="keys-title">
            <h2 id="keys-title">"API keys"</h2>
            <p class="muted">
                "CRM systems create notifications for your organisation with "
                <code>"POST /api/notifications"</code>
                " and a key: "<code>"Authorization: Bearer crmk_…"</code>
                ". The API is described at "<a href="/api/openapi.json">"/api/openapi.json"</a>"."
            </p>
            <form class="inline-form" on:submit=create>
                <label for="key-name">"New key for"</label>
                <input id="key-name" placeholder="e.g. Lead router" maxlength="80" required
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev)) />
                <button type="submit" class="primary">"Create key"</button>
            </form>
            {move || created.get().map(|key| view! {
                <div class="new-key" role="status">
                    <p>"Copy this key now: it will not be shown again."</p>
                    <code data-testid="new-api-key">{key}</code>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if let Ok(list) = loaded.await {
                        show(list);
                    }
                    view! {
                        // On a phone the creator's column goes, and whatever
                        // still does not fit scrolls sideways on its own
                        // rather than pushing the page.
                        <div class="table-scroll" role="region" aria-label="API keys" tabindex="0">
                        <table class="keys">
                            <thead><tr><th>"Name"</th><th>"Key"</th><th class="created-by">"Created by"</th><th>"Last used"</th><th><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                            <tbody>
                                <For each=move || keys.get() key=|k| (k.id, k.revoked_at.is_some(), k.last_used_at) let:key>
                                    <tr class:revoked=key.revoked_at.is_some()>
                                        <td>{key.name.clone()}</td>
                                        <td><code>{format!("{}…", key.prefix)}</code></td>
                                        <td class="created-by">{key.created_by.clone()}</td>
                                        <td class="last-used">{move || match key.last_used_at {
                                            Some(at) => clock.with(|&(now, offset)| relative(at, now, offset)),
                                            None => "never".to_owned(),
                                        }}</td>
                                        <td>
                                            {if key.revoked_at.is_some() {
                                                view! { <span class="muted">"revoked"</span> }.into_any()
                                            } else {
                                                let key = key.clone();
                                                view! { <button type="button" class="danger small" on:click=move |_| revoke(key.clone())>"Revoke"</button> }.into_any()
                                            }}
                                        </td>
                                    </tr>
                                </For>
                            </tbody>
                        </table>
                        </div>
                    }
                })}
            </Suspense>
        </section>
    }
}
