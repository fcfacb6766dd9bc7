//! One message: who sent it, the quoted reply, the text (plain, with safe
//! links, mentions of members and its line breaks), an image or file, reactions, and on one's own
//! messages the ticks: sent ✓, delivered ✓✓, read (coloured ✓✓); in groups,
//! who read it. Actions (react, with any emoji through the picker; copy,
//! reply, forward, pin, mark unread, edit, delete) show on hover, on focus,
//! or on a long press.

use leptos::prelude::*;

use super::icon::{Icon, Svg};
use super::thread::ThreadContext;
use crate::api::chat::{
    delete_message, edit_message, mark_unread_from, pin_message, toggle_reaction,
};
use crate::format::{EVERYONE, Node, Style, and_everyone, clock, file_size, markup};
use crate::model::{NAMED_IN_TOOLTIP, Outgoing, Tick, preview_text, reacted_by, readers, tick_for};
use crate::protocol::{Attachment, ConversationKind, Message, MessageId, MessageKind, ServerEvent};
use crate::store::{Store, use_store};

/// The quick reactions.
pub const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

#[component]
pub fn MessageView(
    message: Message,
    mine: bool,
    first: bool,
    last: bool,
    named: bool,
) -> impl IntoView {
    let store = use_store();
    let context = expect_context::<ThreadContext>();
    let menu = RwSignal::new(false);
    let confirming_delete = RwSignal::new(false);
    let readers_open = RwSignal::new(false);
    // Who reacted with the reaction long-pressed last, for a few seconds.
    let reacted = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let copied = RwSignal::new(false);
    let id = message.id;
    let seq = message.seq;
    let deleted = message.deleted_at.is_some();
    let system = message.message_type == MessageKind::System;
    let created_at = message.created_at;

    if system {
        return view! {
            <li class="system-message" data-seq=seq id=format!("m-{id}")>
                <span>{message.content}</span>
            </li>
        }
        .into_any();
    }

    let row = Memo::new(move |_| store.model.with(|m| m.conversation(context.id).cloned()));
    let me = store.my_id();
    let is_group = move || {
        row.with(|r| {
            r.as_ref()
                .is_some_and(|r| r.kind != ConversationKind::Direct)
        })
    };
    let tick = move || row.with(|r| r.as_ref().map(|r| tick_for(r, me, seq)));
    let read_by = move || row.with(|r| r.as_ref().map(|r| readers(r, me, seq)).unwrap_or_default());
    let editable = message.editable_by(me, store.now.get_untracked());
    let is_moderator = move || {
        row.with(|r| {
            r.as_ref().is_some_and(|r| {
                r.kind == ConversationKind::Group
                    && matches!(
                        r.my_role,
                        crate::protocol::ParticipantRole::Admin
                            | crate::protocol::ParticipantRole::Moderator
                    )
            })
        })
    };
    let can_delete = move || !deleted && (mine || is_moderator());
    // Pinning is for whoever may post here, as in Slack.
    let can_pin = move || row.with(|r| r.as_ref().is_some_and(|r| r.can_post));
    let pinned_by = message.pinned.as_ref().map(|pin| pin.by.name.clone());
    let is_pinned = pinned_by.is_some();
    let toggle_pin = move |_| {
        menu.set(false);
        set_pinned(store, id, !is_pinned, error);
    };
    let can_react = !deleted;

    let react = move |emoji: String| {
        menu.set(false);
        leptos::task::spawn_local(async move {
            match toggle_reaction(id, emoji).await {
                Ok(updated) => apply(store, updated),
                Err(e) => {
                    error.try_set(Some(e.message));
                }
            }
        });
    };
    let reply_target = message.clone();
    let forward_target = message.clone();
    let edit_target = message.clone();
    let delete = move |_| {
        menu.set(false);
        confirming_delete.set(false);
        leptos::task::spawn_local(async move {
            match delete_message(id).await {
                Ok(tombstone) => apply(store, tombstone),
                Err(e) => {
                    error.try_set(Some(e.message));
                }
            }
        });
    };

    // Someone else's message: the conversation counts as unread from it
    // again. On a phone the thread closes, as WhatsApp's list does; on a
    // desktop it stays open, as in Slack, with the "New messages" line
    // above the message and nothing read until I leave or send.
    let navigate = leptos_router::hooks::use_navigate();
    let mark_unread = move |_| {
        menu.set(false);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match mark_unread_from(id).await {
                Ok(row) => {
                    let one_pane = crate::pages::chat::one_pane();
                    if !one_pane {
                        context.holding_reads.set(true);
                    }
                    store.model.update(|m| {
                        m.merge_conversation(row);
                        m.new_line_from(context.id, seq);
                    });
                    if one_pane {
                        navigate("/", Default::default());
                    }
                }
                Err(e) => {
                    error.try_set(Some(e.message));
                }
            }
        });
    };

    let reactions = message.reactions.clone();
    let sender_name = message.sender_name.clone();
    let reply = message.reply_to.clone();
    let attachment = message.attachment.clone();
    // Who wrote it, unless that is who forwarded it (as WhatsApp shows it).
    let forwarded = message.forwarded_from.as_ref().map(|author| {
        if author.user_id == message.sender_id {
            "Forwarded".to_owned()
        } else {
            format!("Forwarded from {}", author.name)
        }
    });
    let edited = message.edited_at.is_some() && !deleted;
    let content = message.content.clone();
    let has_text = !content.is_empty();
    // Copies the text as written, markers and all, so that pasting it into
    // a message keeps its styles (as WhatsApp does).
    let copy_text = content.clone();
    let copy = move || {
        #[cfg(feature = "hydrate")]
        {
            let text = copy_text.clone();
            leptos::task::spawn_local(async move {
                match crate::client::dom::copy_text(&text).await {
                    Ok(()) => {
                        copied.set(true);
                        // The message may be gone by then (another
                        // conversation opened): nothing to reset.
                        set_timeout(
                            move || {
                                copied.try_set(false);
                                menu.try_set(false);
                            },
                            std::time::Duration::from_millis(1500),
                        );
                    }
                    Err(message) => {
                        error.try_set(Some(message));
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &copy_text;
    };
    let mentions_me = !mine && !deleted && store.model.with_untracked(|m| m.mentions_me(&content));

    view! {
        <li
            class="message"
            class:mine=mine
            class:mentions-me=mentions_me
            class:first=first
            class:last=last
            class:deleted=deleted
            data-seq=seq
            id=format!("m-{id}")
            data-testid="message"
            tabindex="0"
            on:contextmenu=move |ev| {
                ev.prevent_default();
                menu.set(true);
            }
        >
            <div class="bubble">
                {named.then(|| view! { <span class="sender">{sender_name.clone()}</span> })}
                {forwarded.map(|label| view! {
                    <span class="forwarded" data-testid="forwarded"><Svg icon=Icon::Forward size=14 />{label}</span>
                })}
                {reply.map(|quote| {
                    let target = quote.message_id;
                    // The original as it is now, when it is loaded: an edit or a
                    // deletion after the reply shows in the quote too. Previewed
                    // as the server previews it, without style markers.
                    let quoted = move || {
                        let current = store.model.with(|m| {
                            m.threads.get(&context.id).and_then(|t| t.messages.get(&quote.seq)).map(|o| {
                                let deleted = o.deleted_at.is_some();
                                (deleted, preview_text(MessageKind::Text, &o.content, deleted, None))
                            })
                        });
                        let (deleted, text) = current.unwrap_or((quote.is_deleted, quote.text.clone()));
                        if deleted { "This message was deleted".to_owned() } else { text }
                    };
                    view! {
                        <button type="button" class="quote" on:click=move |_| context.jump_to.set(Some(target))
                            aria-label=format!("Reply to {}: show the original", quote.sender_name)>
                            <span class="quote-sender">{quote.sender_name.clone()}</span>
                            <span class="quote-text">{quoted}</span>
                        </button>
                    }
                })}
                {if deleted {
                    view! { <p class="text deleted-text">"This message was deleted"</p> }.into_any()
                } else {
                    view! {
                        {attachment.map(|a| view! { <AttachmentView attachment=a /> })}
                        {(!content.is_empty()).then(|| view! { <div class="text"><MessageText text=content.clone() /></div> })}
                    }.into_any()
                }}
                <span class="meta">
                    {pinned_by.map(|name| {
                        let label = format!("Pinned by {name}");
                        view! {
                            <span class="pinned-mark" data-testid="pinned-mark" role="img" title=label.clone() aria-label=label>
                                <Svg icon=Icon::Pin size=12 />
                            </span>
                        }
                    })}
                    {edited.then(|| view! { <span class="edited">"edited"</span> })}
                    <time>{move || clock(created_at, store.offset.get())}</time>
                    {mine.then(|| view! {
                        <button type="button" class="ticks" data-testid="ticks"
                            data-state=move || tick_name(tick())
                            aria-label=move || tick_label(tick())
                            aria-expanded=move || readers_open.get().to_string()
                            class:read=move || tick() == Some(Tick::Read)
                            on:click=move |_| {
                                readers_open.update(|open| *open = !*open);
                                // An answer, not a dialog: it goes away by itself.
                                #[cfg(feature = "hydrate")]
                                leptos::task::spawn_local(async move {
                                    crate::client::sleep(4000).await;
                                    let _ = readers_open.try_set(false);
                                });
                            }>
                            {move || match tick() { Some(Tick::Sent) | Some(Tick::Sending) | None => "✓", _ => "✓✓" }}
                        </button>
                    })}
                    <Show when=move || readers_open.get()>
                        <span class="readers" role="status" data-testid="read-by">
                            {move || {
                                let names = read_by();
                                if !is_group() {
                                    tick_label(tick()).to_owned()
                                } else if names.is_empty() {
                                    "Not read yet".to_owned()
                                } else {
                                    format!("Read by {}", names.join(", "))
                                }
                            }}
                        </span>
                    </Show>
                </span>
            </div>
            {(!reactions.is_empty()).then(|| view! {
                <div class="reactions">
                    {reactions.into_iter().map(|r| {
                        let emoji = r.emoji.clone();
                        let (shown, count, me_too) = (r.emoji.clone(), r.count, r.me);
                        // Who: the tooltip on hover, the label, and a bubble
                        // on a long press (or right-click).
                        // The tooltip names a few; the bubble everyone, for
                        // longer the more there are to read.
                        let everyone = r.clone();
                        let who = move || row.with(|row| reacted_by(row.as_ref(), me, &r, NAMED_IN_TOOLTIP));
                        let say_who = move |ev: leptos::ev::MouseEvent| {
                            ev.prevent_default();
                            ev.stop_propagation();
                            let all = row.with_untracked(|row| {
                                reacted_by(row.as_ref(), me, &everyone, usize::MAX)
                            });
                            reacted.set(Some(all));
                            #[cfg(feature = "hydrate")]
                            {
                                let shown_for = 4000 + 300 * (everyone.user_ids.len().min(20) as u32);
                                leptos::task::spawn_local(async move {
                                    crate::client::sleep(shown_for).await;
                                    let _ = reacted.try_set(None);
                                });
                            }
                        };
                        view! {
                            <button type="button" class="reaction" class:me=me_too aria-pressed=me_too.to_string()
                                title=who.clone() aria-label=who data-testid="reaction"
                                on:click=move |_| react(emoji.clone()) on:contextmenu=say_who>
                                <span>{shown}</span><span class="count">{count.to_string()}</span>
                            </button>
                        }
                    }).collect_view()}
                    <Show when=move || reacted.with(Option::is_some)>
                        <span class="reacted-by" role="status" data-testid="reacted-by">
                            {move || reacted.get().unwrap_or_default()}
                        </span>
                    </Show>
                    <button type="button" class="reaction add-reaction" aria-label="Add reaction" title="Add reaction"
                        aria-haspopup="dialog" on:click=move |_| context.reacting.set(Some(id))>
                        <Svg icon=Icon::AddReaction size=16 />
                    </button>
                </div>
            })}
            {(!deleted).then(|| view! {
                <div class="actions" class:open=move || menu.get() || confirming_delete.get() role="toolbar" aria-label="Message actions">
                    {can_react.then(|| QUICK_REACTIONS.iter().map(|emoji| {
                        let emoji: &'static str = emoji;
                        view! {
                            <button type="button" class="icon-button react" aria-label=format!("React with {emoji}") on:click=move |_| react(emoji.to_owned())>{emoji}</button>
                        }
                    }).collect_view())}
                    {can_react.then(|| view! {
                        <button type="button" class="icon-button" aria-label="Add reaction" title="Add reaction" aria-haspopup="dialog"
                            on:click=move |_| {
                                menu.set(false);
                                context.reacting.set(Some(id));
                            }><Svg icon=Icon::AddReaction size=18 /></button>
                    })}
                    {has_text.then(|| view! {
                        <button type="button" class="icon-button" aria-label=move || if copied.get() { "Copied" } else { "Copy text" }
                            title="Copy text" on:click=move |_| copy()>
                            {move || if copied.get() {
                                view! { <Svg icon=Icon::Check size=18 /> }.into_any()
                            } else {
                                view! { <Svg icon=Icon::Copy size=18 /> }.into_any()
                            }}
                        </button>
                    })}
                    <button type="button" class="icon-button" aria-label="Reply" title="Reply" on:click=move |_| {
                        menu.set(false);
                        context.editing.set(None);
                        context.replying.set(Some(reply_target.clone()));
                        focus_composer();
                    }><Svg icon=Icon::Reply size=18 /></button>
                    <button type="button" class="icon-button" aria-label="Forward" title="Forward" aria-haspopup="dialog" on:click=move |_| {
                        menu.set(false);
                        context.forwarding.set(Some(forward_target.clone()));
                    }><Svg icon=Icon::Forward size=18 /></button>
                    <Show when=can_pin>
                        <button type="button" class="icon-button" aria-label=if is_pinned { "Unpin" } else { "Pin" }
                            title=if is_pinned { "Unpin" } else { "Pin to the top of the conversation" }
                            on:click=toggle_pin><Svg icon=Icon::Pin size=18 /></button>
                    </Show>
                    {(!mine).then(|| view! {
                        <button type="button" class="icon-button" aria-label="Mark unread" title="Mark unread from here"
                            on:click=mark_unread><Svg icon=Icon::Mail size=18 /></button>
                    })}
                    {editable.then(|| view! {
                        <button type="button" class="icon-button" aria-label="Edit" title="Edit" on:click=move |_| {
                            menu.set(false);
                            context.replying.set(None);
                            context.editing.set(Some(edit_target.clone()));
                            focus_composer();
                        }><Svg icon=Icon::Edit size=18 /></button>
                    })}
                    <Show when=can_delete>
                        <Show when=move || confirming_delete.get() fallback=move || view! {
                            <button type="button" class="icon-button" aria-label="Delete" title="Delete" on:click=move |_| confirming_delete.set(true)><Svg icon=Icon::Trash size=18 /></button>
                        }>
                            <button type="button" class="danger small" on:click=delete>"Delete for everyone"</button>
                        </Show>
                    </Show>
                    <Show when=move || menu.get()>
                        <button type="button" class="icon-button" aria-label="Close actions" on:click=move |_| { menu.set(false); confirming_delete.set(false); }><Svg icon=Icon::Close size=18 /></button>
                    </Show>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="form-error small" role="alert">{e}</p> })}
        </li>
    }
    .into_any()
}

/// A message on its way: "Sending…", or failed with "tap to retry".
#[component]
pub fn PendingView(outgoing: Outgoing) -> impl IntoView {
    let store = use_store();
    let client_msg_id = outgoing.client_msg_id.clone();
    let discard_id = outgoing.client_msg_id.clone();
    let failed = outgoing.failed.clone();
    let is_failed = failed.is_some();
    view! {
        <li class="message mine first last pending" class:failed=is_failed data-testid="pending-message">
            <div class="bubble">
                {outgoing.attachment.map(|a| view! { <AttachmentView attachment=a /> })}
                {(!outgoing.content.is_empty()).then(|| view! { <div class="text"><MessageText text=outgoing.content.clone() /></div> })}
                <span class="meta">
                    {match failed {
                        None => view! { <span class="sending" data-testid="ticks" data-state="sending">"Sending…"</span> }.into_any(),
                        Some(reason) => view! {
                            <span class="failed-note">
                                <button type="button" class="link-button" title=reason on:click=move |_| store.retry(&client_msg_id)>
                                    "Failed, tap to retry"
                                </button>
                                " · "
                                <button type="button" class="link-button" on:click=move |_| store.discard(&discard_id)>"Discard"</button>
                            </span>
                        }.into_any(),
                    }}
                </span>
            </div>
        </li>
    }
}

/// Message text: its markup (see [`markup`]), http(s) links and mentions of
/// the conversation's members (`@all` of every one), line breaks kept (by
/// CSS).
#[component]
fn MessageText(text: String) -> impl IntoView {
    let store = use_store();
    let context = expect_context::<ThreadContext>();
    let me = store.my_id();
    // Names are looked up only for a text that can mention someone.
    let members: Vec<(crate::protocol::UserId, String)> = if text.contains('@') {
        store.model.with_untracked(|m| {
            m.conversation(context.id)
                .map(|row| {
                    row.participants
                        .iter()
                        .map(|p| (p.user_id, p.display_name.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    } else {
        Vec::new()
    };
    let people: Vec<_> = members
        .iter()
        .map(|(id, name)| (*id, name.as_str()))
        .collect();
    rendered(markup(&text, &and_everyone(&people)), me)
}

fn rendered(nodes: Vec<Node>, me: crate::protocol::UserId) -> AnyView {
    nodes
        .into_iter()
        .map(|node| match node {
            Node::Text(text) => text.into_any(),
            Node::Link(url) => {
                let href = url.clone();
                view! { <a href=href target="_blank" rel="noopener noreferrer">{url}</a> }
                    .into_any()
            }
            Node::Mention(text, user) => {
                view! { <span class="mention" class:me=user == me || user == EVERYONE data-testid="mention">{text}</span> }
                    .into_any()
            }
            Node::Code(code) => view! { <code>{code}</code> }.into_any(),
            Node::CodeBlock(code) => view! { <pre><code>{code}</code></pre> }.into_any(),
            Node::Styled(Style::Bold, inner) => view! { <strong>{rendered(inner, me)}</strong> }.into_any(),
            Node::Styled(Style::Italic, inner) => view! { <em>{rendered(inner, me)}</em> }.into_any(),
            Node::Styled(Style::Strike, inner) => view! { <s>{rendered(inner, me)}</s> }.into_any(),
            Node::Quote(inner) => view! { <blockquote>{rendered(inner, me)}</blockquote> }.into_any(),
            Node::Bullets(items) => view! { <ul>{items_of(items, me)}</ul> }.into_any(),
            Node::Numbered(first, items) => {
                view! { <ol start=first>{items_of(items, me)}</ol> }.into_any()
            }
        })
        .collect_view()
        .into_any()
}

fn items_of(items: Vec<Vec<Node>>, me: crate::protocol::UserId) -> AnyView {
    items
        .into_iter()
        .map(|item| view! { <li>{rendered(item, me)}</li> })
        .collect_view()
        .into_any()
}

/// An image inline, its space reserved before it loads; a file with its
/// name, size and a download link.
#[component]
fn AttachmentView(attachment: Attachment) -> impl IntoView {
    if attachment.content_type.starts_with("audio/") {
        return view! { <AudioView attachment /> }.into_any();
    }
    match (attachment.width, attachment.height) {
        (Some(width), Some(height)) => {
            // Shown at most 320 px wide and 320 px high, keeping the ratio.
            let scale = (320.0 / width.max(1) as f64)
                .min(320.0 / height.max(1) as f64)
                .min(1.0);
            let (w, h) = (
                (width as f64 * scale).round() as i64,
                (height as f64 * scale).round() as i64,
            );
            view! {
                <a class="image-link" href=attachment.url.clone() target="_blank" rel="noopener" aria-label=format!("Open {} full size", attachment.file_name)>
                    <img src=attachment.url.clone() alt=attachment.file_name.clone() width=w height=h loading="lazy"
                        style=format!("aspect-ratio: {width} / {height}") />
                </a>
            }
            .into_any()
        }
        _ => view! {
            <a class="file" href=attachment.url.clone() download=attachment.file_name.clone()>
                <span class="file-icon"><Svg icon=Icon::File size=28 /></span>
                <span class="file-text">
                    <span class="file-name">{attachment.file_name.clone()}</span>
                    <span class="file-size muted">{file_size(attachment.size_bytes)}</span>
                </span>
            </a>
        }
        .into_any(),
    }
}

/// A voice message or another recording: a player, and the file to keep.
#[component]
fn AudioView(attachment: Attachment) -> impl IntoView {
    // A browser's own recording (WebM from MediaRecorder) does not say how
    // long it is, so the player would show no length and could not seek:
    // asking for a time past the end makes the browser find it, and the
    // player then goes back to the start.
    #[cfg(feature = "hydrate")]
    let finding_length = StoredValue::new(false);
    view! {
        <div class="audio-attachment">
            <audio controls preload="metadata" src=attachment.url.clone() aria-label=attachment.file_name.clone()
                on:loadedmetadata=move |ev| {
                    #[cfg(feature = "hydrate")]
                    if let Some(audio) = media(&ev).filter(|a| a.duration().is_infinite()) {
                        finding_length.set_value(true);
                        audio.set_current_time(1e7);
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
                on:timeupdate=move |ev| {
                    #[cfg(feature = "hydrate")]
                    if finding_length.get_value() && let Some(audio) = media(&ev) {
                        finding_length.set_value(false);
                        audio.set_current_time(0.0);
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
            ></audio>
            <a class="file-size muted" href=attachment.url.clone() download=attachment.file_name.clone()>
                {format!("Download ({})", file_size(attachment.size_bytes))}
            </a>
        </div>
    }
}

/// The media element an event is about.
#[cfg(feature = "hydrate")]
fn media(ev: &leptos::ev::Event) -> Option<web_sys::HtmlMediaElement> {
    use wasm_bindgen::JsCast;
    ev.target()?.dyn_into().ok()
}

/// A changed message the server returned, applied at once (the socket's
/// event for it then changes nothing).
/// Pins or unpins a message (the actions, the pinned bar); a refusal shows
/// in `error`.
pub(super) fn set_pinned(
    store: Store,
    id: MessageId,
    pinned: bool,
    error: RwSignal<Option<String>>,
) {
    leptos::task::spawn_local(async move {
        match pin_message(id, pinned).await {
            Ok(updated) => apply(store, updated),
            Err(e) => {
                error.try_set(Some(e.message));
            }
        }
    });
}

pub(super) fn apply(store: Store, message: Message) {
    store.model.update(|m| {
        m.apply(ServerEvent::MessageUpdated(message), 0);
    });
}

fn tick_name(tick: Option<Tick>) -> &'static str {
    match tick {
        Some(Tick::Sending) => "sending",
        Some(Tick::Sent) | None => "sent",
        Some(Tick::Delivered) => "delivered",
        Some(Tick::Read) => "read",
    }
}

fn tick_label(tick: Option<Tick>) -> &'static str {
    match tick {
        Some(Tick::Sending) => "Sending",
        Some(Tick::Sent) | None => "Sent",
        Some(Tick::Delivered) => "Delivered",
        Some(Tick::Read) => "Read",
    }
}

fn focus_composer() {
    #[cfg(feature = "hydrate")]
    if let Some(input) = crate::client::dom::element_by_id("composer-input") {
        let _ = input.focus();
    }
}

/// Edits go through a server function so that the editor hears at once
/// whether it worked; every tab then gets the change from the socket.
pub async fn save_edit(
    store: Store,
    message_id: crate::protocol::MessageId,
    content: String,
) -> Result<(), String> {
    match edit_message(message_id, content).await {
        Ok(updated) => {
            apply(store, updated);
            Ok(())
        }
        Err(e) => Err(e.message),
    }
}
