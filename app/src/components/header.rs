use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::Logout;
use crate::components::icon::{Icon, Svg};
use crate::components::notifications::Bell;
use crate::format::initials;
use crate::protocol::Me;

/// The top bar: who is signed in, in which organisation, the notification
/// bell, the keyboard shortcuts (where `shortcuts` is given: the chat),
/// settings and sign-out.
///
/// Sign-out is a plain form, hydrated or not: the browser posts it and
/// follows the server's redirect to the login page, which also drops the
/// page's state and its socket. (An `ActionForm` would bring the code that
/// decodes server function errors from URLs into the WASM for this alone.)
#[component]
pub fn AppHeader(
    me: Me,
    #[prop(optional)] bell: bool,
    #[prop(optional)] shortcuts: Option<RwSignal<bool>>,
) -> impl IntoView {
    let initials = initials(&me.display_name);

    view! {
        <header class="topbar">
            <a class="brand" href="/">"crm-chat"</a>
            <div class="who" data-testid="who">
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="who-text">
                    <span class="who-name">{me.display_name.clone()}</span>
                    <span class="who-org">{me.org_name.clone()}</span>
                </span>
            </div>
            <nav class="topbar-actions" aria-label="Account">
                {bell.then(|| view! { <Bell /> })}
                // Hidden on touch screens (style/main.css), which have no
                // keyboard to use them with.
                {shortcuts.map(|open| view! {
                    <button type="button" class="icon-button shortcuts-button" aria-label="Keyboard shortcuts"
                        title="Keyboard shortcuts" aria-haspopup="dialog" aria-keyshortcuts="Control+/ Meta+/"
                        on:click=move |_| open.set(true)>
                        <Svg icon=Icon::Keyboard />
                    </button>
                })}
                // A full page load, not a routed one: the settings page is a
                // lazy route, and Leptos aborts the WASM when a lazy route's
                // chunk cannot be fetched (offline). The browser's own
                // navigation fails gracefully instead.
                <a class="icon-button" href="/settings" rel="external" aria-label="Settings" title="Settings">
                    <Svg icon=Icon::Settings />
                </a>
                <form method="post" action=Logout::PATH class="signout">
                    <button type="submit" class="ghost">"Sign out"</button>
                </form>
            </nav>
        </header>
    }
}
