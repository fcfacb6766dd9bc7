//! The keyboard shortcuts, listed in a dialog that Ctrl+/ (⌘/ on a Mac) or
//! the keyboard button in the top bar opens, as Slack's does. The dialog is
//! a WASM chunk of its own: the page does not carry the list until someone
//! asks for it.

use leptos::prelude::*;

use super::icon::{Icon, Svg};
use super::{ChunkUnavailable, dialog_or_unavailable};

/// One shortcut: its key combinations (alternatives, each keys pressed
/// together) and what it does.
struct Shortcut {
    keys: &'static [&'static [&'static str]],
    does: &'static str,
}

/// The shortcuts, in groups. Key names are as on a PC keyboard; a Mac
/// shows its own (see [`key_label`]).
const GROUPS: &[(&str, &[Shortcut])] = &[
    (
        "Moving around",
        &[
            Shortcut {
                keys: &[&["Ctrl", "K"]],
                does: "Search conversations and messages",
            },
            Shortcut {
                keys: &[&["Alt", "↑"], &["Alt", "↓"]],
                does: "Open the conversation above or below",
            },
            Shortcut {
                keys: &[&["Alt", "Shift", "↑"], &["Alt", "Shift", "↓"]],
                does: "Open the nearest unread conversation",
            },
            Shortcut {
                keys: &[&["Shift", "F10"]],
                does: "The menu of the conversation in the list that has the focus",
            },
            Shortcut {
                keys: &[&["Ctrl", "/"]],
                does: "Show these shortcuts",
            },
        ],
    ),
    (
        "Writing",
        &[
            Shortcut {
                keys: &[&["Enter"]],
                does: "Send",
            },
            Shortcut {
                keys: &[&["Shift", "Enter"]],
                does: "Start a new line",
            },
            Shortcut {
                keys: &[&["↑"]],
                does: "Edit your last message (in an empty box)",
            },
            Shortcut {
                keys: &[&["Esc"]],
                does: "Stop replying, editing or recording",
            },
            Shortcut {
                keys: &[&["Ctrl", "B"], &["Ctrl", "I"], &["Ctrl", "Shift", "X"]],
                does: "Bold, italic or strikethrough for the selected words",
            },
            Shortcut {
                keys: &[&["@"]],
                does: "Mention someone in a group",
            },
            Shortcut {
                keys: &[&[":"]],
                does: "Pick an emoji: type two letters of its name",
            },
        ],
    ),
];

/// A key's name as the keyboard in front of the user shows it.
fn key_label(key: &'static str, mac: bool) -> &'static str {
    match (key, mac) {
        ("Ctrl", true) => "⌘",
        ("Alt", true) => "⌥",
        ("Shift", true) => "⇧",
        _ => key,
    }
}

/// The dialog, from its own WASM chunk (see `new_conversation_dialog`).
pub async fn shortcuts_dialog(open: RwSignal<bool>) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = dialog_chunk(open).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = dialog_chunk(open);
    dialog_or_unavailable(loaded, move || open.set(false))
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        shortcuts_dialog,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn dialog_chunk(open: RwSignal<bool>) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <Shortcuts open /> }.into_any())
}

/// Whether the browser runs on a Mac (or an iPad with a keyboard), whose
/// keys are ⌘ and ⌥.
fn on_a_mac() -> bool {
    #[cfg(feature = "hydrate")]
    return web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .is_some_and(|agent| agent.contains("Mac"));
    #[cfg(not(feature = "hydrate"))]
    false
}

#[component]
fn Shortcuts(open: RwSignal<bool>) -> impl IntoView {
    let close = move || open.set(false);
    #[cfg(feature = "hydrate")]
    {
        crate::client::dom::close_on_escape(close);
        leptos::task::spawn_local(crate::client::dom::focus_when_shown("shortcuts-close"));
    }
    let mac = on_a_mac();
    let combination = move |keys: &'static [&'static str]| {
        keys.iter()
            .enumerate()
            .map(|(i, key)| {
                view! {
                    {(i > 0).then_some("+")}
                    <kbd>{key_label(key, mac)}</kbd>
                }
            })
            .collect_view()
    };

    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div
                class="modal shortcuts"
                role="dialog"
                aria-modal="true"
                aria-labelledby="shortcuts-title"
                on:click=|ev| ev.stop_propagation()
            >
                <div class="modal-head">
                    <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                    <button type="button" id="shortcuts-close" class="icon-button" aria-label="Close"
                        on:click=move |_| close()>
                        <Svg icon=Icon::Close />
                    </button>
                </div>
                {GROUPS.iter().map(|(title, shortcuts)| view! {
                    <h3>{*title}</h3>
                    <dl class="shortcut-list">
                        {shortcuts.iter().map(|shortcut| view! {
                            <div class="shortcut">
                                <dt>{shortcut.keys.iter().enumerate().map(|(i, keys)| view! {
                                    {(i > 0).then(|| view! { <span class="muted">"or"</span> })}
                                    <span class="keys">{combination(keys)}</span>
                                }).collect_view()}</dt>
                                <dd>{shortcut.does}</dd>
                            </div>
                        }).collect_view()}
                    </dl>
                }).collect_view()}
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_shows_its_own_modifier_keys_and_a_pc_the_names() {
        assert_eq!(key_label("Ctrl", true), "⌘");
        assert_eq!(key_label("Alt", true), "⌥");
        assert_eq!(key_label("Shift", true), "⇧");
        assert_eq!(key_label("Ctrl", false), "Ctrl");
        assert_eq!(key_label("K", true), "K");
    }
}
