//! Writing: Enter sends and Shift+Enter starts a new line; the box grows
//! with its text. Files come from the picker, drag and drop, or a pasted
//! image, with a progress bar. A reply or an edit shows as a chip above.
//! Drafts are kept per conversation across navigation and reloads, and
//! "typing" is told to the others at most every two seconds.

use leptos::html::Textarea;
use leptos::prelude::*;

use super::icon::{Icon, Svg};
use super::thread::ThreadContext;
use crate::protocol::ClientEvent;
use crate::store::use_store;

/// "Typing" is relayed at most this often.
const TYPING_EVERY_MS: i64 = 2_000;

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
        store.send_message(id, content, reply_to, None, crate::now_ms());
        context.replying.set(None);
        clear(store, text, id);
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
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
        #[cfg(feature = "hydrate")]
        if context.editing.get_untracked().is_none() {
            crate::client::storage::save_draft(store.my_id(), id, &value);
        }
        typing(!value.trim().is_empty());
        text.set(value);
        grow(input);
    };

    let upload_files = move |files: Vec<FileHandle>| {
        for file in files {
            upload_one(id, file, progress, error, move |attachment| {
                context.stick_to_bottom.set(true);
                store.send_message(id, String::new(), None, Some(attachment), crate::now_ms());
            });
        }
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
            <div class="composer-row">
                <label class="icon-button attach" title="Attach a file">
                    <Svg icon=Icon::Paperclip />
                    <span class="visually-hidden">"Attach a file"</span>
                    <input type="file" class="visually-hidden" data-testid="attach" multiple
                        on:change=move |ev| upload_files(picked_files(&ev)) />
                </label>
                <textarea
                    id="composer-input"
                    node_ref=input
                    rows="1"
                    maxlength="4000"
                    placeholder="Write a message"
                    aria-label="Message"
                    enterkeyhint="send"
                    prop:value=move || text.get()
                    on:input=on_input
                    on:keydown=on_keydown
                    on:blur=move |_| typing(false)
                    on:paste=move |ev| {
                        let files = pasted_files(&ev);
                        if !files.is_empty() {
                            ev.prevent_default();
                            upload_files(files);
                        }
                    }
                ></textarea>
                <button type="submit" class="primary send" aria-label="Send" disabled=move || text.with(|t| t.trim().is_empty())>
                    "Send"
                </button>
            </div>
        </form>
    }
}

fn clear(store: crate::store::Store, text: RwSignal<String>, id: crate::protocol::ConversationId) {
    text.set(String::new());
    #[cfg(feature = "hydrate")]
    crate::client::storage::save_draft(store.my_id(), id, "");
    let _ = (store, id);
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
type FileHandle = web_sys::File;
#[cfg(not(feature = "hydrate"))]
type FileHandle = ();

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

/// Uploads one file with a progress bar; `sent` sends the message for it.
fn upload_one(
    id: crate::protocol::ConversationId,
    file: FileHandle,
    progress: RwSignal<Option<u8>>,
    error: RwSignal<Option<String>>,
    sent: impl Fn(crate::protocol::Attachment) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        progress.set(Some(0));
        error.set(None);
        leptos::task::spawn_local(async move {
            let result =
                crate::client::upload::upload(id, file, move |p| progress.set(Some(p))).await;
            progress.set(None);
            match result {
                Ok(attachment) => sent(attachment),
                Err(message) => error.set(Some(message)),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (id, file, progress, error, sent);
    }
}

/// Grows the box with its text, up to the CSS maximum (for browsers
/// without `field-sizing: content`).
fn grow(input: NodeRef<Textarea>) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = input.get_untracked() {
        let style =
            leptos::wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlElement>(&el).style();
        let _ = style.set_property("height", "auto");
        let _ = style.set_property("height", &format!("{}px", el.scroll_height()));
    }
    let _ = input;
}
