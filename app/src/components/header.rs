use leptos::prelude::*;

use crate::api::Logout;
use crate::components::icon::{Icon, Svg};
use crate::components::notifications::Bell;
use crate::format::initials;
use crate::protocol::Me;

/// The top bar: who is signed in, in which organisation, the notification
/// bell, settings and sign-out.
#[component]
pub fn AppHeader(me: Me, #[prop(optional)] bell: bool) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            #[cfg(feature = "hydrate")]
            crate::client::go_to("/login");
        }
    });
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
                <a class="icon-button" href="/settings" aria-label="Settings" title="Settings">
                    <Svg icon=Icon::Settings />
                </a>
                <ActionForm action=logout attr:class="signout">
                    <button type="submit" class="ghost">"Sign out"</button>
                </ActionForm>
            </nav>
        </header>
    }
}
