//! The signed-in app shell.

use leptos::prelude::*;

use crate::api::get_session;
use crate::components::header::AppHeader;

#[component]
pub fn HomePage() -> impl IntoView {
    let session = Resource::new_blocking(|| (), |_| get_session());

    view! {
        <Suspense fallback=|| view! { <p class="centered muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(me)) => view! {
                        <div class="app">
                            <AppHeader me />
                            <main class="workspace" id="main">
                                <p class="empty-state">"Pick a conversation, or start a new one."</p>
                            </main>
                        </div>
                    }
                    .into_any(),
                    _ => view! {
                        <main class="centered">
                            <p>"Your session has ended."</p>
                            <a href="/login">"Sign in"</a>
                        </main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}
