use leptos::prelude::*;

use crate::format::initials;
use crate::protocol::ConversationKind;

/// Initials in a circle, with a dot when the person is online.
#[component]
pub fn Avatar(
    name: String,
    #[prop(optional)] online: bool,
    #[prop(optional)] kind: Option<ConversationKind>,
) -> impl IntoView {
    let broadcast = kind == Some(ConversationKind::Broadcast);
    let letters = if broadcast {
        String::new()
    } else {
        initials(&name)
    };
    // A stable colour per name, from a small palette.
    let hue = name
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 8;
    view! {
        <span class=format!("avatar hue-{hue}") aria-hidden="true">
            {broadcast.then(|| view! { <super::icon::Svg icon=super::icon::Icon::Megaphone /> })}
            {letters}
            {online.then(|| view! { <span class="presence-dot"></span> })}
        </span>
    }
}
