//! Sign-in. The form posts to the `login` server function and works without
//! JavaScript; hydrated, it shows errors in place and reveals the password on
//! request.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{LazyRoute, lazy_route};

use crate::api::Login;

/// The login route, from its own WASM chunk: a signed-in user's pages load
/// without it, and the login page fetches it beside the main module.
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        LoginRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <LoginPage /> }.into_any()
    }
}

#[component]
fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let show_password = RwSignal::new(false);
    let pending = login.pending();

    // Reload after signing in, so the page is rendered with the new session.
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().assign("/");
            }
        }
    });
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| error.message)
    };

    view! {
        <Title text="Sign in · crm-chat" />
        <main class="login">
            <ActionForm action=login attr:class="login-card" attr:aria-labelledby="login-title">
                <h1 id="login-title">"crm-chat"</h1>
                <p class="muted">"Sign in to chat with your team."</p>
                <label for="email">"Email"</label>
                <input id="email" type="email" name="email" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <div class="password-row">
                    <input
                        id="password"
                        name="password"
                        type=move || if show_password.get() { "text" } else { "password" }
                        autocomplete="current-password"
                        required
                    />
                    <button
                        type="button"
                        class="ghost"
                        aria-pressed=move || show_password.get().to_string()
                        aria-controls="password"
                        on:click=move |_| show_password.update(|shown| *shown = !*shown)
                    >
                        {move || if show_password.get() { "Hide" } else { "Show" }}
                    </button>
                </div>
                <Show when=move || error().is_some()>
                    <p class="form-error" role="alert">{error}</p>
                </Show>
                <button type="submit" class="primary" disabled=pending>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </main>
    }
}
