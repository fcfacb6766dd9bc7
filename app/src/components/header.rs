use leptos::prelude::*;

use crate::api::Logout;
use crate::protocol::Me;

/// The top bar: who is signed in, in which organisation, and sign-out.
#[component]
pub fn AppHeader(me: Me) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(window) = web_sys::window() {
                let _ = window.location().assign("/login");
            }
        }
    });
    let initials = initials(&me.display_name);

    view! {
        <header class="topbar">
            <span class="brand">"crm-chat"</span>
            <div class="who" data-testid="who">
                <span class="avatar" aria-hidden="true">{initials}</span>
                <span class="who-text">
                    <span class="who-name">{me.display_name.clone()}</span>
                    <span class="who-org">{me.org_name.clone()}</span>
                </span>
            </div>
            <ActionForm action=logout attr:class="signout">
                <button type="submit" class="ghost">"Sign out"</button>
            </ActionForm>
        </header>
    }
}

/// Up to two initials of a display name, for avatars.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_the_first_letter_of_up_to_two_words() {
        assert_eq!(initials("Alice Admin"), "AA");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials("Jean Luc Picard"), "JL");
        assert_eq!(initials(""), "");
    }
}
