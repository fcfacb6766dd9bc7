//! Writing: Enter sends and Shift+Enter starts a new line (the next item,
//! on a line of a list or a quote); the box grows
//! with its text. Files come from the picker, drag and drop, or a pasted
//! image, with a progress bar. A reply or an edit shows as a chip above.
//! Drafts are kept per conversation across navigation and reloads, and
//! "typing" is told to the others at most every two seconds. In a group,
//! `@` offers the members to mention, and `@all`; `:` and two letters offer
//! the emoji whose shortcodes fit, as in Slack: arrows choose, Enter or Tab
//! takes one.

use std::ops::Range;

use leptos::html::Textarea;
use leptos::prelude::*;

use super::icon::{Icon, Svg};
use super::thread::ThreadContext;
use super::voice::VoiceRecorder;
use crate::format::{EVERYONE_WORDS, mention_at_caret, name_fits, shortcode_at_caret};
use crate::protocol::{ClientEvent, ConversationKind, ShortcodeMatch};
use crate::store::use_store;

/// "Typing" is relayed at most this often.
const TYPING_EVERY_MS: i64 = 2_000;

/// At most this many people are offered for a mention.
const MAX_SUGGESTIONS: usize = 8;

/// What is offered for the word being typed.
#[derive(Clone, Debug, PartialEq)]
enum Offer {
    /// A member to mention, or `all`.
    Person(String),
    /// An emoji for a `:shortcode` (the server's answer, in the browser).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Emoji(ShortcodeMatch),
}

impl Offer {
    /// What replaces the typed word, `@` or `:` included.
    fn completion(&self) -> String {
        match self {
            Offer::Person(name) => format!("@{name} "),
            Offer::Emoji(found) => format!("{} ", found.emoji),
        }
    }
}

/// The people or emoji offered for the word being typed.
#[derive(Clone, Debug, PartialEq)]
struct Suggestions {
    /// Where the word's `@` or `:` is in the text (bytes).
    at: usize,
    /// Where the caret is (bytes): the word ends there.
    caret: usize,
    offers: Vec<Offer>,
    /// The one Enter would take.
    active: usize,
}

impl Suggestions {
    fn new(at: usize, caret: usize, offers: Vec<Offer>) -> Option<Suggestions> {
        (!offers.is_empty()).then_some(Suggestions {
            at,
            caret,
            offers,
            active: 0,
        })
    }

    fn of_emoji(&self) -> bool {
        matches!(self.offers.first(), Some(Offer::Emoji(_)))
    }

    /// The list's name, for screen readers.
    fn label(&self) -> &'static str {
        if self.of_emoji() {
            "Emoji"
        } else {
            "People to mention"
        }
    }
}

/// The members of a group who fit the mention typed before `caret` in
/// `text`, the user left out, then `@all` if it fits; none outside groups.
fn suggestions_for(
    store: crate::store::Store,
    id: crate::protocol::ConversationId,
    text: &str,
    caret: usize,
) -> Option<Suggestions> {
    let (at, typed) = mention_at_caret(text.get(..caret)?)?;
    let me = store.my_id();
    let people: Vec<Offer> = store.model.with_untracked(|m| {
        let row = m
            .conversation(id)
            .filter(|r| r.kind == ConversationKind::Group)?;
        let mut people: Vec<Offer> = row
            .participants
            .iter()
            .filter(|p| p.user_id != me && name_fits(&p.display_name, typed))
            .take(MAX_SUGGESTIONS - 1)
            .map(|p| Offer::Person(p.display_name.clone()))
            .collect();
        // Last, as Slack lists @channel: Enter after a bare "@" takes a person.
        if let Some(word) = EVERYONE_WORDS.into_iter().find(|w| name_fits(w, typed)) {
            people.push(Offer::Person(word.to_owned()));
        }
        Some(people)
    })?;
    Suggestions::new(at, caret, people)
}

/// The text with the word typed from `at` to `caret` replaced by
/// `completion`, and where the caret goes after it (bytes).
fn complete(text: &str, at: usize, caret: usize, completion: &str) -> (String, usize) {
    let head = format!("{}{completion}", &text[..at]);
    let after = head.len();
    (format!("{head}{}", &text[caret..]), after)
}

/// The marker a formatting shortcut types, as in Slack: Ctrl+B (⌘B) bold,
/// Ctrl+I italic, Ctrl+Shift+X strikethrough.
fn shortcut_marker(key: &str, shift: bool) -> Option<char> {
    match (key, shift) {
        ("b" | "B", false) => Some('*'),
        ("i" | "I", false) => Some('_'),
        ("x" | "X", true) => Some('~'),
        _ => None,
    }
}

/// A button of the formatting bar, for people without a keyboard's
/// shortcuts (a phone).
#[derive(Clone, Copy)]
struct Format {
    label: &'static str,
    hint: &'static str,
    marker: char,
    glyph: &'static str,
    class: &'static str,
}

const FORMATS: [Format; 4] = [
    Format {
        label: "Bold",
        hint: "Bold (Ctrl+B)",
        marker: '*',
        glyph: "B",
        class: "format-bold",
    },
    Format {
        label: "Italic",
        hint: "Italic (Ctrl+I)",
        marker: '_',
        glyph: "I",
        class: "format-italic",
    },
    Format {
        label: "Strikethrough",
        hint: "Strikethrough (Ctrl+Shift+X)",
        marker: '~',
        glyph: "S",
        class: "format-strike",
    },
    Format {
        label: "Code",
        hint: "Code",
        marker: '`',
        glyph: "</>",
        class: "format-code",
    },
];

/// The text with the selection (bytes) between `marker`s, or taken out of
/// them if it already is, and the selection afterwards: the same words.
/// Spaces at the selection's ends stay outside, where a marker works; with
/// nothing selected the caret ends between two markers.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn toggle_style(text: &str, selection: Range<usize>, marker: char) -> (String, Range<usize>) {
    let selected = &text[selection.clone()];
    let start = selection.start + (selected.len() - selected.trim_start().len());
    let end = (selection.end - (selected.len() - selected.trim_end().len())).max(start);
    let width = marker.len_utf8();
    if text[..start].ends_with(marker) && text[end..].starts_with(marker) && start < end {
        let unwrapped = format!(
            "{}{}{}",
            &text[..start - width],
            &text[start..end],
            &text[end + width..]
        );
        return (unwrapped, start - width..end - width);
    }
    let wrapped = format!(
        "{}{marker}{}{marker}{}",
        &text[..start],
        &text[start..end],
        &text[end..]
    );
    (wrapped, start + width..end + width)
}

/// The other way round: a byte offset in the UTF-16 units a browser's
/// selection takes.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn utf16_offset(text: &str, byte: usize) -> u32 {
    text[..byte].encode_utf16().count() as u32
}

/// The byte offset of a caret that the browser gives in UTF-16 units.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn byte_offset(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (offset, c) in text.char_indices() {
        if units >= utf16 {
            return offset;
        }
        units += c.len_utf16();
    }
    text.len()
}

#[component]
pub fn Composer() -> impl IntoView {
    let store = use_store();
    let context = expect_context::<ThreadContext>();
    let id = context.id;
    let input = NodeRef::<Textarea>::new();
    let text = RwSignal::new(String::new());
    // Percent: an integer attribute, because rendering a float would bring
    // the float formatting code into the WASM.
    let progress = RwSignal::new(None::<u8>);
    let error = RwSignal::new(None::<String>);
    let last_typing = StoredValue::new(0i64);
    let dragging = RwSignal::new(false);
    let recording = RwSignal::new(false);
    let suggestions = RwSignal::new(None::<Suggestions>);
    // Closed as the server renders it; as the user left it once hydrated.
    let formatting = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| formatting.set(crate::client::storage::load_format_bar(store.my_id())));
    let toggle_formatting = move |_| {
        let open = !formatting.get_untracked();
        formatting.set(open);
        #[cfg(feature = "hydrate")]
        crate::client::storage::save_format_bar(store.my_id(), open);
    };
    // Answers for a `:shortcode` come back in any order: only the one for
    // the latest keystroke shows.
    let asked = StoredValue::new(0_u32);

    // Drafts live in the browser only: loaded after hydration.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let draft = crate::client::storage::load_draft(store.my_id(), id);
        if !draft.is_empty() {
            text.set(draft);
        }
    });
    // Editing starts from the message's text.
    Effect::new(move |_| {
        if let Some(message) = context.editing.get() {
            text.set(message.content.clone());
        }
    });

    let typing = move |is_typing: bool| {
        let now = crate::now_ms();
        if is_typing {
            if now - last_typing.get_value() < TYPING_EVERY_MS {
                return;
            }
            last_typing.set_value(now);
        } else {
            if last_typing.get_value() == 0 {
                return;
            }
            last_typing.set_value(0);
        }
        store.send(ClientEvent::Typing {
            conversation_id: id,
            is_typing,
        });
    };

    let submit = move || {
        let content = text.get_untracked().trim().to_owned();
        if content.is_empty() {
            return;
        }
        error.set(None);
        typing(false);
        if let Some(editing) = context.editing.get_untracked() {
            let message_id = editing.id;
            leptos::task::spawn_local(async move {
                match super::message::save_edit(store, message_id, content).await {
                    Ok(()) => {
                        context.editing.set(None);
                        clear(store, text, id);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
            return;
        }
        let reply_to = context.replying.get_untracked().map(|m| m.id);
        context.stick_to_bottom.set(true);
        // Sending reads everything before it, a mark included.
        context.holding_reads.set(false);
        store.send_message(id, content, reply_to, None, crate::now_ms());
        context.replying.set(None);
        clear(store, text, id);
    };

    // Takes a suggestion: the typed part becomes a person's whole name, or
    // the emoji.
    let take = move |index: usize| {
        let Some(open) = suggestions.get_untracked() else {
            return;
        };
        suggestions.set(None);
        let Some(offer) = open.offers.get(index) else {
            return;
        };
        let current = text.get_untracked();
        if current.get(open.at..open.caret).is_none() {
            return;
        }
        let (completed, caret) = complete(&current, open.at, open.caret, &offer.completion());
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            let typed = crate::client::dom::type_text(&el, &completed);
            let units = utf16_offset(&completed, caret);
            let _ = el.set_selection_range(units, units);
            // Typing it asked for suggestions at the end of the text.
            suggestions.set(None);
            if typed {
                // Its input event kept the draft and the text.
                return;
            }
        }
        let _ = caret;
        if context.editing.get_untracked().is_none() {
            store.set_draft(id, &completed);
        }
        text.set(completed);
    };

    let changed = move |value: &str| {
        if context.editing.get_untracked().is_none() {
            store.set_draft(id, value);
        }
        typing(!value.trim().is_empty());
    };
    // Ctrl+B and friends put markers around the selection, or take them away.
    let style_selection = move |marker: char| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            let value = el.value();
            let units = |at: Option<u32>| at.map(|at| byte_offset(&value, at as usize));
            let (Some(start), Some(end)) = (
                units(el.selection_start().ok().flatten()),
                units(el.selection_end().ok().flatten()),
            ) else {
                return;
            };
            let (styled, selection) = toggle_style(&value, start.min(end)..end.max(start), marker);
            let typed = crate::client::dom::type_text(&el, &styled);
            let _ = el.set_selection_range(
                utf16_offset(&styled, selection.start),
                utf16_offset(&styled, selection.end),
            );
            suggestions.set(None);
            if !typed {
                changed(&styled);
                text.set(styled);
            }
        }
        let _ = marker;
    };
    // Shift+Enter on a list item or a quote starts the next one, or ends
    // the list on an empty one; false where it only starts a new line.
    let continue_block = move || -> bool {
        #[cfg(feature = "hydrate")]
        if let Some(el) = input.get_untracked() {
            let value = el.value();
            let (Some(start), Some(end)) = (
                el.selection_start().ok().flatten(),
                el.selection_end().ok().flatten(),
            ) else {
                return false;
            };
            let caret = byte_offset(&value, start as usize);
            if start != end {
                return false;
            }
            let Some((typed, caret)) = crate::format::continue_block(&value, caret) else {
                return false;
            };
            let replaced = crate::client::dom::type_text(&el, &typed);
            let caret = utf16_offset(&typed, caret);
            let _ = el.set_selection_range(caret, caret);
            if !replaced {
                changed(&typed);
                text.set(typed);
            }
            return true;
        }
        false
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let open = suggestions.with_untracked(|s| s.as_ref().map(|s| (s.active, s.offers.len())));
        if let Some((active, count)) = open {
            let key = ev.key();
            let moved = match key.as_str() {
                "ArrowDown" => Some((active + 1) % count),
                "ArrowUp" => Some((active + count - 1) % count),
                _ => None,
            };
            if let Some(active) = moved {
                ev.prevent_default();
                suggestions.update(|s| {
                    if let Some(s) = s {
                        s.active = active;
                    }
                });
                return;
            }
            if (key == "Enter" || key == "Tab") && !ev.shift_key() && !ev.is_composing() {
                ev.prevent_default();
                take(active);
                return;
            }
            if key == "Escape" {
                ev.prevent_default();
                suggestions.set(None);
                return;
            }
            // The caret leaves the word: so does the list.
            if matches!(key.as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                suggestions.set(None);
            }
        }
        let marker = (ev.ctrl_key() || ev.meta_key()) && !ev.alt_key();
        if let Some(marker) = marker
            .then(|| shortcut_marker(&ev.key(), ev.shift_key()))
            .flatten()
        {
            ev.prevent_default();
            style_selection(marker);
        } else if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        } else if ev.key() == "Enter" && !ev.is_composing() && continue_block() {
            ev.prevent_default();
        } else if ev.key() == "ArrowUp"
            && !(ev.shift_key() || ev.alt_key() || ev.ctrl_key() || ev.meta_key())
            && text.with_untracked(String::is_empty)
            && context.editing.get_untracked().is_none()
        {
            // Up in an empty box edits my last message, as in Slack.
            let me = store.my_id();
            let now = crate::now_ms();
            let last = store.model.with_untracked(|m| {
                m.threads
                    .get(&id)
                    .and_then(|t| t.last_editable(me, now).cloned())
            });
            if let Some(message) = last {
                ev.prevent_default();
                context.replying.set(None);
                context.editing.set(Some(message));
            }
        } else if ev.key() == "Escape" {
            context.replying.set(None);
            if context.editing.get_untracked().is_some() {
                context.editing.set(None);
                clear(store, text, id);
            }
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        changed(&value);
        asked.update_value(|n| *n += 1);
        let caret = caret_of(input, &value);
        let mention = caret.and_then(|caret| suggestions_for(store, id, &value, caret));
        let shortcode = caret.and_then(|caret| {
            let (at, typed) = shortcode_at_caret(value.get(..caret)?)?;
            Some((at, caret, typed.to_owned()))
        });
        match (mention, shortcode) {
            (None, Some((at, caret, typed))) => {
                // Until the answer comes, the emoji offered for this `:`
                // stay, reaching to the caret: no flicker while typing.
                suggestions.update(|open| {
                    match open.as_mut().filter(|o| o.of_emoji() && o.at == at) {
                        Some(open) => open.caret = caret,
                        None => *open = None,
                    }
                });
                offer_emoji(suggestions, asked, store.my_id(), at, caret, typed);
            }
            (mention, _) => suggestions.set(mention),
        }
        text.set(value);
    };
    // The box fits its text however the text changed: typed, sent (back to
    // one line), loaded for an edit, completed or styled. On the next frame,
    // once the box holds the new text.
    Effect::new(move |_| {
        text.track();
        request_animation_frame(move || grow(input));
    });

    let sent = move |attachment| {
        context.stick_to_bottom.try_set(true);
        context.holding_reads.try_set(false);
        store.send_message(id, String::new(), None, Some(attachment), crate::now_ms());
    };
    let upload_files = move |files: Vec<FileHandle>| {
        for file in files {
            upload_one(id, file, progress, error, sent, None);
        }
    };
    // A voice message exists nowhere else: one that could not be uploaded
    // (offline) waits here to be tried again.
    let unsent = Unsent::new();
    let upload_voice = move |file: FileHandle| {
        unsent.shown.set(false);
        upload_one(id, file, progress, error, sent, Some(unsent));
    };
    let retry_voice = move |_| {
        unsent.shown.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(file) = unsent.file.try_update_value(Option::take).flatten() {
            upload_voice(file);
        }
    };
    let discard_voice = move |_| {
        unsent.shown.set(false);
        error.set(None);
        #[cfg(feature = "hydrate")]
        unsent.file.try_update_value(Option::take);
    };

    let chip = move || {
        if let Some(m) = context.editing.get() {
            Some(("Editing", m.content.clone()))
        } else {
            context
                .replying
                .get()
                .map(|m| ("Replying to", format!("{}: {}", m.sender_name, preview(&m))))
        }
    };

    view! {
        <form
            class="composer"
            class:dragging=move || dragging.get()
            class:recording=move || recording.get()
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
            on:dragover=move |ev| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev| {
                ev.prevent_default();
                dragging.set(false);
                upload_files(dropped_files(&ev));
            }
        >
            {move || chip().map(|(what, quote)| view! {
                <div class="chip" data-testid="composer-chip">
                    <span class="chip-text"><strong>{what}</strong>" "{quote}</span>
                    <button type="button" class="icon-button" aria-label="Cancel" on:click=move |_| {
                        context.replying.set(None);
                        if context.editing.get_untracked().is_some() {
                            context.editing.set(None);
                            clear(store, text, id);
                        }
                    }><Svg icon=Icon::Close size=18 /></button>
                </div>
            })}
            {move || progress.get().map(|p| view! {
                <progress class="upload-progress" max="100" value=p aria-label="Upload progress"></progress>
            })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Show when=move || unsent.shown.get()>
                <div class="voice-unsent">
                    <span>"Your voice message has not been sent."</span>
                    <button type="button" class="ghost small" on:click=retry_voice>"Send it again"</button>
                    <button type="button" class="ghost small" on:click=discard_voice>"Discard"</button>
                </div>
            </Show>
            {move || suggestions.get().map(|open| { let label = open.label(); view! {
                <ul class="mentions-menu" id="mention-options" role="listbox" aria-label=label>
                    {open.offers.into_iter().enumerate().map(|(index, offer)| view! {
                        <li role="option" id=format!("mention-option-{index}")
                            aria-selected=(index == open.active).to_string()
                            class:active=index == open.active
                            // Mouse down, not click: the box keeps the focus.
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                take(index);
                            }>
                            {match offer {
                                Offer::Person(name) => view! { <span class="mention-name">{name}</span> }.into_any(),
                                Offer::Emoji(found) => view! {
                                    <span class="shortcode-emoji" aria-hidden="true">{found.emoji}</span>
                                    <span class="mention-name">{format!(":{}:", found.shortcode)}</span>
                                }.into_any(),
                            }}
                        </li>
                    }).collect_view()}
                </ul>
            }})}
            <Show when=move || formatting.get()>
                <div class="format-bar" id="format-bar" role="toolbar" aria-label="Formatting">
                    {FORMATS.into_iter().map(|format| view! {
                        <button type="button" class="icon-button" aria-label=format.label title=format.hint
                            // Mouse down would take the focus, and on a phone
                            // the keyboard with it: the box keeps both.
                            on:mousedown=|ev| ev.prevent_default()
                            on:click=move |_| style_selection(format.marker)>
                            <span class=format.class aria-hidden="true">{format.glyph}</span>
                        </button>
                    }).collect_view()}
                </div>
            </Show>
            <div class="composer-row">
                <label class="icon-button attach" title="Attach a file">
                    <Svg icon=Icon::Paperclip />
                    <span class="visually-hidden">"Attach a file"</span>
                    <input type="file" class="visually-hidden" data-testid="attach" multiple
                        on:change=move |ev| upload_files(picked_files(&ev)) />
                </label>
                <button type="button" class="icon-button format-toggle" aria-label="Formatting" title="Formatting"
                    aria-controls=move || formatting.get().then_some("format-bar")
                    aria-pressed=move || formatting.get().to_string()
                    on:mousedown=|ev| ev.prevent_default()
                    on:click=toggle_formatting>
                    <span aria-hidden="true">"Aa"</span>
                </button>
                <textarea
                    id="composer-input"
                    node_ref=input
                    rows="1"
                    maxlength="4000"
                    placeholder="Write a message"
                    aria-label="Message"
                    enterkeyhint="send"
                    aria-autocomplete="list"
                    // Only while the list exists: an id that names nothing is invalid.
                    aria-controls=move || suggestions.with(|s| s.is_some().then_some("mention-options"))
                    aria-activedescendant=move || suggestions.with(|s| s.as_ref().map(|s| format!("mention-option-{}", s.active)))
                    prop:value=move || text.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    on:click=move |_| suggestions.set(None)
                    on:blur=move |_| {
                        typing(false);
                        suggestions.set(None);
                    }
                    on:paste=move |ev| {
                        let files = pasted_files(&ev);
                        if !files.is_empty() {
                            ev.prevent_default();
                            upload_files(files);
                        }
                    }
                ></textarea>
                // An empty box offers a voice message instead, as WhatsApp does.
                <Show
                    when=move || recording.get() || (text.with(|t| t.trim().is_empty()) && context.editing.with(Option::is_none))
                    fallback=move || view! {
                        <button type="submit" class="primary send" aria-label="Send">"Send"</button>
                    }
                >
                    <VoiceRecorder recording error send=Callback::new(upload_voice) />
                </Show>
            </div>
        </form>
    }
}

fn clear(store: crate::store::Store, text: RwSignal<String>, id: crate::protocol::ConversationId) {
    text.set(String::new());
    store.set_draft(id, "");
}

fn preview(message: &crate::protocol::Message) -> String {
    if message.content.is_empty() {
        message
            .attachment
            .as_ref()
            .map(|a| a.file_name.clone())
            .unwrap_or_default()
    } else {
        message.content.chars().take(80).collect()
    }
}

#[cfg(feature = "hydrate")]
pub(super) type FileHandle = web_sys::File;
#[cfg(not(feature = "hydrate"))]
pub(super) type FileHandle = ();

#[cfg(feature = "hydrate")]
fn files_of(list: Option<web_sys::FileList>) -> Vec<FileHandle> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)).collect()
}

#[cfg(feature = "hydrate")]
fn picked_files(ev: &leptos::ev::Event) -> Vec<FileHandle> {
    use wasm_bindgen::JsCast;
    let input = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
    let files = files_of(input.as_ref().and_then(|i| i.files()));
    if let Some(input) = input {
        input.set_value("");
    }
    files
}

#[cfg(feature = "hydrate")]
fn dropped_files(ev: &leptos::ev::DragEvent) -> Vec<FileHandle> {
    files_of(ev.data_transfer().and_then(|d| d.files()))
}

#[cfg(feature = "hydrate")]
fn pasted_files(ev: &leptos::ev::ClipboardEvent) -> Vec<FileHandle> {
    files_of(ev.clipboard_data().and_then(|d| d.files()))
        .into_iter()
        .filter(|f| f.type_().starts_with("image/"))
        .collect()
}

#[cfg(not(feature = "hydrate"))]
fn picked_files(_: &leptos::ev::Event) -> Vec<FileHandle> {
    Vec::new()
}
#[cfg(not(feature = "hydrate"))]
fn dropped_files(_: &leptos::ev::DragEvent) -> Vec<FileHandle> {
    Vec::new()
}
#[cfg(not(feature = "hydrate"))]
fn pasted_files(_: &leptos::ev::ClipboardEvent) -> Vec<FileHandle> {
    Vec::new()
}

/// A file that could not be uploaded, kept to be sent again: shown as
/// waiting, and (in the browser) the file itself, which is the browser's own
/// and so is kept apart from the signal the server renders too.
#[derive(Clone, Copy)]
struct Unsent {
    shown: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    file: StoredValue<Option<FileHandle>, LocalStorage>,
}

impl Unsent {
    fn new() -> Unsent {
        Unsent {
            shown: RwSignal::new(false),
            #[cfg(feature = "hydrate")]
            file: StoredValue::new_local(None),
        }
    }
}

/// Uploads one file with a progress bar; `sent` sends the message for it.
/// When it cannot go, the file is kept in `keep`, if given.
fn upload_one(
    id: crate::protocol::ConversationId,
    file: FileHandle,
    progress: RwSignal<Option<u8>>,
    error: RwSignal<Option<String>>,
    sent: impl Fn(crate::protocol::Attachment) + 'static,
    keep: Option<Unsent>,
) {
    #[cfg(feature = "hydrate")]
    {
        progress.set(Some(0));
        error.set(None);
        // The file goes out even if its conversation was closed meanwhile;
        // the bar and the error show only while the composer is there.
        leptos::task::spawn_local(async move {
            let result = crate::client::upload::upload(id, file.clone(), move |p| {
                progress.try_set(Some(p));
            })
            .await;
            progress.try_set(None);
            match result {
                Ok(attachment) => sent(attachment),
                Err(message) => {
                    error.try_set(Some(message));
                    if let Some(keep) = keep {
                        keep.file.try_set_value(Some(file));
                        keep.shown.try_set(true);
                    }
                }
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (id, file, progress, error, sent, keep);
    }
}

/// Asks the server which emoji fit the `:shortcode` typed from `at` to
/// `caret`, in the skin tone `me` last chose in the emoji picker, and offers
/// them unless another keystroke came meanwhile.
fn offer_emoji(
    suggestions: RwSignal<Option<Suggestions>>,
    asked: StoredValue<u32>,
    me: crate::protocol::UserId,
    at: usize,
    caret: usize,
    typed: String,
) {
    #[cfg(feature = "hydrate")]
    {
        let this = asked.get_value();
        let tone = crate::protocol::SkinTone::at(crate::client::storage::load_emoji_prefs(me).tone);
        leptos::task::spawn_local(async move {
            let Ok(found) = crate::api::chat::emoji_shortcodes(typed, tone).await else {
                return;
            };
            if asked.try_get_value() == Some(this) {
                let offers = found.into_iter().map(Offer::Emoji).collect();
                suggestions.try_set(Suggestions::new(at, caret, offers));
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (suggestions, asked, me, at, caret, typed);
}

/// Where the caret is in the box's text (bytes), when the page can tell.
fn caret_of(input: NodeRef<Textarea>, value: &str) -> Option<usize> {
    #[cfg(feature = "hydrate")]
    {
        let el = input.get_untracked()?;
        let units = el.selection_start().ok().flatten()?;
        Some(byte_offset(value, units as usize))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (input, value);
        None
    }
}

/// Grows the box with its text, up to the CSS maximum (for browsers
/// without `field-sizing: content`).
fn grow(input: NodeRef<Textarea>) {
    #[cfg(feature = "hydrate")]
    // On the next frame, by when the composer may be gone.
    if let Some(el) = input.try_get_untracked().flatten() {
        let style =
            leptos::wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlElement>(&el).style();
        let _ = style.set_property("height", "auto");
        let _ = style.set_property("height", &format!("{}px", el.scroll_height()));
    }
    let _ = input;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_mention_becomes_the_whole_name_and_a_space() {
        let ann = Offer::Person("Ann Lee".to_owned()).completion();
        assert_eq!(
            complete("ask @an about it", 4, 7, &ann),
            ("ask @Ann Lee  about it".to_owned(), 13)
        );
        let bob = Offer::Person("Bob".to_owned()).completion();
        assert_eq!(complete("@", 0, 1, &bob), ("@Bob ".to_owned(), 5));
    }

    #[test]
    fn a_taken_emoji_replaces_its_shortcode_and_a_space_follows() {
        let rocket = Offer::Emoji(ShortcodeMatch {
            emoji: "🚀".to_owned(),
            shortcode: "rocket".to_owned(),
        });
        assert_eq!(
            complete("ship :roc now", 5, 9, &rocket.completion()),
            ("ship 🚀  now".to_owned(), "ship 🚀 ".len())
        );
    }

    #[test]
    fn a_style_shortcut_wraps_the_selection_and_keeps_it_selected() {
        assert_eq!(
            toggle_style("call today please", 5..10, '*'),
            ("call *today* please".to_owned(), 6..11)
        );
        // A double-clicked word's trailing space stays outside the markers.
        assert_eq!(
            toggle_style("call today please", 5..11, '_'),
            ("call _today_ please".to_owned(), 6..11)
        );
        // Nothing selected: two markers, the caret between them.
        assert_eq!(toggle_style("ab", 1..1, '~'), ("a~~b".to_owned(), 2..2));
    }

    #[test]
    fn the_same_shortcut_on_styled_words_takes_the_style_away() {
        assert_eq!(
            toggle_style("call *today* please", 6..11, '*'),
            ("call today please".to_owned(), 5..10)
        );
        assert_eq!(shortcut_marker("b", false), Some('*'));
        assert_eq!(shortcut_marker("I", false), Some('_'));
        assert_eq!(shortcut_marker("x", true), Some('~'));
        assert_eq!(shortcut_marker("x", false), None);
    }

    #[test]
    fn a_caret_in_utf16_units_lands_on_the_same_character_in_bytes() {
        let text = "héllo 👋 @b";
        assert_eq!(byte_offset(text, 0), 0);
        assert_eq!(byte_offset(text, 2), "hé".len());
        // The emoji is two UTF-16 units and four bytes.
        assert_eq!(byte_offset(text, 8), "héllo 👋".len());
        assert_eq!(byte_offset(text, 11), text.len());
        assert_eq!(byte_offset(text, 99), text.len());
        for units in [0, 2, 8, 11] {
            assert_eq!(utf16_offset(text, byte_offset(text, units)), units as u32);
        }
    }
}
