//! Line icons as inline SVG, so they look the same on every device whatever
//! its fonts (emoji are kept for reactions, where people expect them).
//! Paths from Feather (https://feathericons.com, MIT licence); the keyboard
//! after Lucide's (https://lucide.dev, ISC licence).

use leptos::prelude::*;

/// The icons the UI uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    Bell,
    BellOff,
    Settings,
    Paperclip,
    Trash,
    Reply,
    Edit,
    Close,
    Back,
    Down,
    Check,
    File,
    Message,
    Target,
    Trending,
    Alert,
    Task,
    Clock,
    Megaphone,
    Users,
    Pin,
    Mail,
    More,
    External,
    Copy,
    Forward,
    AddReaction,
    Keyboard,
    Mic,
}

fn paths(icon: Icon) -> &'static [&'static str] {
    match icon {
        Icon::Bell => &[
            "M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9",
            "M13.73 21a2 2 0 0 1-3.46 0",
        ],
        Icon::BellOff => &[
            "M13.73 21a2 2 0 0 1-3.46 0",
            "M18.63 13A17.89 17.89 0 0 1 18 8",
            "M6.26 6.26A5.86 5.86 0 0 0 6 8c0 7-3 9-3 9h14",
            "M18 8a6 6 0 0 0-9.33-5",
            "M1 1l22 22",
        ],
        Icon::Settings => &[
            "M4 21v-7",
            "M4 10V3",
            "M12 21v-9",
            "M12 8V3",
            "M20 21v-5",
            "M20 12V3",
            "M1 14h6",
            "M9 8h6",
            "M17 16h6",
        ],
        Icon::Paperclip => &[
            "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48",
        ],
        Icon::Trash => &[
            "M3 6h18",
            "M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6",
            "M10 11v6",
            "M14 11v6",
            "M9 6V4a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v2",
        ],
        Icon::Reply => &["M9 14L4 9l5-5", "M4 9h10.5a5.5 5.5 0 0 1 5.5 5.5V20"],
        Icon::Forward => &["M15 14l5-5-5-5", "M20 9H9.5A5.5 5.5 0 0 0 4 14.5V20"],
        Icon::AddReaction => &[
            "M22 11v1a10 10 0 1 1-9-10",
            "M8 14s1.5 2 4 2 4-2 4-2",
            "M9 9h.01",
            "M15 9h.01",
            "M16 5h6",
            "M19 2v6",
        ],
        Icon::Mic => &[
            "M12 1a3 3 0 0 0-3 3v8a3 3 0 0 0 6 0V4a3 3 0 0 0-3-3z",
            "M19 10v2a7 7 0 0 1-14 0v-2",
            "M12 19v4",
            "M8 23h8",
        ],
        Icon::Keyboard => &[
            "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
            "M6 8h.01",
            "M10 8h.01",
            "M14 8h.01",
            "M18 8h.01",
            "M8 12h.01",
            "M12 12h.01",
            "M16 12h.01",
            "M7 16h10",
        ],
        Icon::Edit => &["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"],
        Icon::Close => &["M18 6L6 18", "M6 6l12 12"],
        Icon::Back => &["M19 12H5", "M12 19l-7-7 7-7"],
        Icon::Down => &["M12 5v14", "M19 12l-7 7-7-7"],
        Icon::Check => &["M20 6L9 17l-5-5"],
        Icon::File => &[
            "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z",
            "M14 2v6h6",
        ],
        Icon::Message => &[
            "M21 11.5a8.38 8.38 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.38 8.38 0 0 1-3.8-.9L3 21l1.9-5.7a8.38 8.38 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.38 8.38 0 0 1 3.8-.9h.5a8.48 8.48 0 0 1 8 8v.5z",
        ],
        Icon::Target => &[
            "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z",
            "M12 18a6 6 0 1 0 0-12 6 6 0 0 0 0 12z",
            "M12 14a2 2 0 1 0 0-4 2 2 0 0 0 0 4z",
        ],
        Icon::Trending => &["M23 6l-9.5 9.5-5-5L1 18", "M17 6h6v6"],
        Icon::Alert => &[
            "M10.29 3.86L1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z",
            "M12 9v4",
            "M12 17h.01",
        ],
        Icon::Task => &[
            "M9 11l3 3L22 4",
            "M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11",
        ],
        Icon::Clock => &["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z", "M12 6v6l4 2"],
        Icon::Megaphone => &[
            "M3 11v2a1 1 0 0 0 1 1h2l5 4V6L6 10H4a1 1 0 0 0-1 1z",
            "M15.5 8.5a5 5 0 0 1 0 7",
            "M19 5a10 10 0 0 1 0 14",
        ],
        Icon::Users => &[
            "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2",
            "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
            "M23 21v-2a4 4 0 0 0-3-3.87",
            "M16 3.13a4 4 0 0 1 0 7.75",
        ],
        Icon::Copy => &[
            "M20 9h-9a2 2 0 0 0-2 2v9a2 2 0 0 0 2 2h9a2 2 0 0 0 2-2v-9a2 2 0 0 0-2-2z",
            "M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1",
        ],
        Icon::External => &[
            "M18 13v6a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h6",
            "M15 3h6v6",
            "M10 14 21 3",
        ],
        Icon::More => &[
            "M12 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2z",
            "M19 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2z",
            "M5 13a1 1 0 1 0 0-2 1 1 0 0 0 0 2z",
        ],
        Icon::Mail => &[
            "M4 4h16c1.1 0 2 .9 2 2v12c0 1.1-.9 2-2 2H4c-1.1 0-2-.9-2-2V6c0-1.1.9-2 2-2z",
            "M22 6l-10 7L2 6",
        ],
        Icon::Pin => &[
            "M12 17v5",
            "M9 10.76a2 2 0 0 1-1.11 1.79l-1.78.9A2 2 0 0 0 5 15.24V17h14v-1.76a2 2 0 0 0-1.11-1.79l-1.78-.9A2 2 0 0 1 15 10.76V6h1a2 2 0 0 0 0-4H8a2 2 0 0 0 0 4h1z",
        ],
    }
}

/// An icon, hidden from assistive technology: the control around it
/// carries the label.
#[component]
pub fn Svg(icon: Icon, #[prop(default = 20)] size: u32) -> impl IntoView {
    view! {
        <svg class="icon" width=size height=size viewBox="0 0 24 24" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
            {paths(icon).iter().map(|d| view! { <path d=*d /> }).collect_view()}
        </svg>
    }
}
