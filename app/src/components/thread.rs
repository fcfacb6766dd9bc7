//! An open conversation: the header (presence, typing), the messages with
//! day separators, a "New messages" line and a jump-to-bottom button, older
//! pages loading as one scrolls up, and the composer.
//!
//! Messages are marked read only when they are on screen in a visible,
//! focused tab: opening a conversation and leaving it at once reads nothing
//! that was not seen.

use leptos::html::Div;
use leptos::prelude::*;

use super::avatar::Avatar;
use super::composer::Composer;
use super::conversation_menu::{ConversationMenu, MenuPlace};
use super::emoji_picker::emoji_picker;
use super::forward::forward_dialog;
use super::group_info::group_info_dialog;
use super::icon::{Icon, Svg};
use super::message::{MessageView, PendingView};
use super::pinned::PinnedBar;
use crate::api::chat::get_messages;
use crate::format::{day_label, day_of, presence, typing_line};
use crate::model::{ChatModel, Outgoing};
use crate::protocol::{ConversationId, ConversationKind, Message, MessageId, MessageKind};
use crate::store::{Store, use_store};

/// What the composer and the messages share: the message being replied to
/// or edited, and the way to jump to a message.
#[derive(Clone, Copy)]
pub struct ThreadContext {
    pub id: ConversationId,
    pub replying: RwSignal<Option<Message>>,
    pub editing: RwSignal<Option<Message>>,
    /// The message to scroll to and highlight.
    pub jump_to: RwSignal<Option<MessageId>>,
    /// Set by one's own send: scroll to the bottom after it shows.
    pub stick_to_bottom: RwSignal<bool>,
    /// The message being forwarded: its dialog is open.
    pub forwarding: RwSignal<Option<Message>>,
    /// The message the emoji picker is open for.
    pub reacting: RwSignal<Option<MessageId>>,
    /// Marked unread while open (on a desktop, which keeps the thread open
    /// then, as Slack does): nothing more is read until I leave or send.
    pub holding_reads: RwSignal<bool>,
}

/// One row of the message list. Most rows are messages, so boxing them to
/// make the small rows smaller would cost an allocation per row instead.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
enum Row {
    Day(i64, String),
    NewLine,
    Message {
        message: Message,
        mine: bool,
        first: bool,
        last: bool,
        /// The sender's name heads the group: in groups and broadcasts, not
        /// in a direct chat, whose header already names the other person.
        named: bool,
    },
    Pending(Outgoing),
}

impl Row {
    fn key(&self) -> String {
        match self {
            Row::Day(day, _) => format!("d{day}"),
            Row::NewLine => "new".to_owned(),
            Row::Message {
                message,
                first,
                last,
                ..
            } => format!("m{}-{}-{first}-{last}", message.id, message.event_seq),
            Row::Pending(o) => format!("p{}-{}", o.client_msg_id, o.failed.is_some()),
        }
    }
}

/// Messages from one sender within a minute form a group.
fn same_group(a: &Message, b: &Message) -> bool {
    a.sender_id == b.sender_id
        && a.message_type != MessageKind::System
        && b.message_type != MessageKind::System
        && a.created_at / 60_000 == b.created_at / 60_000
}

fn rows(
    model: &ChatModel,
    id: ConversationId,
    now: i64,
    offset: crate::format::Offset,
) -> Vec<Row> {
    let Some(thread) = model.threads.get(&id) else {
        return Vec::new();
    };
    let me = model.me.id;
    let direct = model
        .conversation(id)
        .is_some_and(|c| c.kind == ConversationKind::Direct);
    let messages: Vec<&Message> = thread.messages.values().collect();
    let mut rows = Vec::with_capacity(messages.len() + 8);
    let mut last_day = None;
    for (i, message) in messages.iter().enumerate() {
        let day = day_of(message.created_at, offset);
        if last_day != Some(day) {
            rows.push(Row::Day(day, day_label(message.created_at, now, offset)));
            last_day = Some(day);
        }
        if thread.first_unread_seq == Some(message.seq) {
            rows.push(Row::NewLine);
        }
        let previous = i.checked_sub(1).and_then(|p| messages.get(p));
        let next = messages.get(i + 1);
        let first = previous
            .is_none_or(|p| !same_group(p, message) || day_of(p.created_at, offset) != day)
            || thread.first_unread_seq == Some(message.seq);
        let last = next.is_none_or(|n| {
            !same_group(message, n)
                || day_of(n.created_at, offset) != day
                || thread.first_unread_seq == Some(n.seq)
        });
        let mine = message.sender_id == me;
        rows.push(Row::Message {
            message: (*message).clone(),
            mine,
            first,
            last,
            named: first && !mine && !direct,
        });
    }
    rows.extend(model.pending(id).into_iter().map(Row::Pending));
    rows
}

#[component]
pub fn Thread(id: ConversationId, highlight: Memo<Option<MessageId>>) -> impl IntoView {
    let store = use_store();
    let context = ThreadContext {
        id,
        replying: RwSignal::new(None),
        editing: RwSignal::new(None),
        jump_to: RwSignal::new(highlight.get_untracked()),
        stick_to_bottom: RwSignal::new(true),
        forwarding: RwSignal::new(None),
        reacting: RwSignal::new(None),
        holding_reads: RwSignal::new(false),
    };
    provide_context(context);
    Effect::new(move |_| {
        if let Some(target) = highlight.get() {
            context.jump_to.set(Some(target));
        }
    });

    let row = Memo::new(move |_| store.model.with(|m| m.conversation(id).cloned()));
    let list = Memo::new(move |_| {
        let (now, offset) = (store.now.get(), store.offset.get());
        store.model.with(|m| rows(m, id, now, offset))
    });
    let has_more = Memo::new(move |_| {
        store
            .model
            .with(|m| m.threads.get(&id).is_some_and(|t| t.has_more))
    });
    let scroller = NodeRef::<Div>::new();
    let at_bottom = RwSignal::new(true);
    let new_below = RwSignal::new(0usize);
    let loading_older = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    let on_scroll = browser::behave(
        store,
        context,
        list,
        scroller,
        at_bottom,
        new_below,
        loading_older,
    );
    #[cfg(not(feature = "hydrate"))]
    let on_scroll = || {};

    let title = move || row.with(|r| r.as_ref().map(|r| r.title.clone()).unwrap_or_default());
    let kind = move || row.with(|r| r.as_ref().map_or(ConversationKind::Direct, |r| r.kind));
    let subtitle = move || {
        if let Some(line) = store.model.with(|m| typing_line(&m.typists(id))) {
            return (true, line);
        }
        let me = store.my_id();
        row.with(|r| {
            let Some(r) = r else {
                return (false, String::new());
            };
            match r.kind {
                ConversationKind::Direct => {
                    let other = r.participants.iter().find(|p| p.user_id != me);
                    let line = other.and_then(|p| {
                        presence(
                            p.is_online,
                            p.last_seen_at,
                            store.now.get(),
                            store.offset.get(),
                        )
                    });
                    (false, line.unwrap_or_default())
                }
                ConversationKind::Group => (false, format!("{} members", r.participant_count)),
                ConversationKind::Broadcast => {
                    (false, "Announcements to the whole organisation".to_owned())
                }
            }
        })
    };
    let online = move || {
        let me = store.my_id();
        row.with(|r| {
            r.as_ref().is_some_and(|r| {
                r.kind == ConversationKind::Direct
                    && r.participants
                        .iter()
                        .any(|p| p.user_id != me && p.is_online)
            })
        })
    };
    let can_post = move || row.with(|r| r.as_ref().is_some_and(|r| r.can_post));
    let gone = move || row.with(Option::is_none);

    let load_older = move |_| older(store, id, scroller, loading_older);
    let info_open = RwSignal::new(false);
    let menu_open = RwSignal::new(false);

    view! {
        <section class="thread" aria-labelledby="thread-title">
            <header class="thread-head">
                <a class="icon-button back" href="/" aria-label="Back to conversations"><Svg icon=Icon::Back /></a>
                {move || view! { <Avatar name=title() online=online() kind=kind() /> }}
                <div class="thread-head-text">
                    <h2 id="thread-title" class="thread-title">{title}</h2>
                    <p class="thread-subtitle" data-testid="thread-subtitle" class:typing=move || subtitle().0>
                        {move || subtitle().1}
                    </p>
                </div>
                <Show when=move || kind() == ConversationKind::Group && !gone()>
                    <button type="button" class="icon-button" aria-label="Group info" title="Group info"
                        aria-haspopup="dialog" on:click=move |_| info_open.set(true)>
                        <Svg icon=Icon::Users />
                    </button>
                </Show>
                <Show when=move || !gone()>
                    <ConversationMenu id place=MenuPlace::Thread open=menu_open
                        label="Conversation options".to_owned()
                        pinned=Signal::derive(move || row.with(|r| r.as_ref().is_some_and(|r| r.pinned_at.is_some())))
                        muted=Signal::derive(move || row.with(|r| r.as_ref().is_some_and(|r| r.muted)))
                        unread=false />
                </Show>
            </header>
            <PinnedBar />
            {move || (info_open.get() && !gone()).then(|| Suspend::new(group_info_dialog(id, info_open)))}
            {move || context.forwarding.get().map(|message| Suspend::new(forward_dialog(message, context.forwarding)))}
            {move || context.reacting.get().map(|message| Suspend::new(emoji_picker(message, context.reacting)))}
            <Show when=gone>
                <p class="thread-gone" role="alert">"You are no longer in this conversation."</p>
            </Show>
            <div class="messages" node_ref=scroller data-testid="messages" on:scroll=move |_| on_scroll()>
                <Show when=move || has_more.get()>
                    <button type="button" class="ghost load-older" on:click=load_older disabled=move || loading_older.get()>
                        {move || if loading_older.get() { "Loading…" } else { "Load older messages" }}
                    </button>
                </Show>
                <ol class="message-list" aria-live="polite" aria-label="Messages">
                    <For each=move || list.get() key=Row::key let:row>
                        {match row {
                            Row::Day(_, label) => view! {
                                <li class="day-separator"><span>{label}</span></li>
                            }.into_any(),
                            Row::NewLine => view! {
                                <li class="new-line" data-testid="new-messages-line"><span>"New messages"</span></li>
                            }.into_any(),
                            Row::Message { message, mine, first, last, named } => view! {
                                <MessageView message mine first last named />
                            }.into_any(),
                            Row::Pending(outgoing) => view! { <PendingView outgoing /> }.into_any(),
                        }}
                    </For>
                </ol>
            </div>
            <Show when=move || !at_bottom.get()>
                <button type="button" class="jump-bottom" aria-label="Jump to the newest message" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    if let Some(el) = scroller.get() {
                        crate::client::dom::scroll_to_bottom(&el);
                    }
                    new_below.set(0);
                }>
                    <Svg icon=Icon::Down />
                    <Show when=move || { new_below.get() > 0 }>
                        <span class="badge">{move || new_below.get().to_string()}</span>
                    </Show>
                </button>
            </Show>
            <Show
                when=can_post
                fallback=move || view! {
                    <p class="read-only muted">
                        {move || if gone() { "" } else { "Only admins post in this broadcast. You can react to announcements." }}
                    </p>
                }
            >
                <Composer />
            </Show>
        </section>
    }
}

/// Loads the page before the oldest loaded message, keeping what is on
/// screen where it is. The thread may close while the page is on its way
/// (or before a task below runs): what runs later reads and sets its values
/// only while they are still there.
fn older(store: Store, id: ConversationId, scroller: NodeRef<Div>, loading: RwSignal<bool>) {
    if loading.try_get_untracked().unwrap_or(true) {
        return;
    }
    let oldest = store
        .model
        .with_untracked(|m| {
            m.threads
                .get(&id)
                .and_then(|t| t.has_more.then(|| t.oldest_seq()))
        })
        .flatten();
    let Some(oldest) = oldest else { return };
    loading.set(true);
    leptos::task::spawn_local(async move {
        let from_bottom = scroller
            .try_get_untracked()
            .flatten()
            .map(|el| el.scroll_height() - el.scroll_top());
        if let Ok(page) = get_messages(id, Some(oldest), Some(50)).await {
            store
                .model
                .update(|m| m.load_page(id, page.messages, page.has_more, None));
            #[cfg(feature = "hydrate")]
            {
                crate::client::sleep(0).await;
                if let (Some(el), Some(from_bottom)) =
                    (scroller.try_get_untracked().flatten(), from_bottom)
                {
                    el.set_scroll_top(el.scroll_height() - from_bottom);
                }
            }
        }
        let _ = from_bottom;
        loading.try_set(false);
    });
}

/// Scrolling, reading and jumping: only in the browser.
#[cfg(feature = "hydrate")]
mod browser {
    use leptos::html::Div;
    use leptos::prelude::*;

    use super::{Row, ThreadContext, older};
    use crate::client::{dom, is_attended, sleep};
    use crate::model::Link;
    use crate::protocol::ConversationId;
    use crate::store::Store;

    /// How close to the bottom counts as "at the bottom".
    const BOTTOM_SLACK: i32 = 48;
    /// How close to the top starts loading older messages.
    const TOP_SLACK: i32 = 200;
    /// Older pages fetched at most to find a message to jump to.
    const MAX_JUMP_PAGES: usize = 20;

    /// Wires the thread's scrolling, reading, jumping and focus; returns what
    /// the message list does when it scrolls.
    pub fn behave(
        store: Store,
        context: ThreadContext,
        list: Memo<Vec<Row>>,
        scroller: NodeRef<Div>,
        at_bottom: RwSignal<bool>,
        new_below: RwSignal<usize>,
        loading_older: RwSignal<bool>,
    ) -> impl Fn() + Copy + 'static {
        let id = context.id;
        let read_visible = move || {
            if !is_attended() || context.holding_reads.get_untracked() {
                return;
            }
            if store
                .model
                .with_untracked(|m| !matches!(m.link, Link::Live | Link::Restored))
            {
                return;
            }
            if let Some(el) = scroller.try_get_untracked().flatten()
                && let Some(seq) = dom::last_visible_seq(&el)
            {
                store.mark_read(id, seq);
            }
        };

        // Scrolling: where we are, older pages near the top, reading. The
        // view listens (scroll does not bubble to the window).
        let on_scroll = move || {
            let Some(el) = scroller.get_untracked() else {
                return;
            };
            let bottom = dom::distance_from_bottom(&el) <= BOTTOM_SLACK;
            if at_bottom.get_untracked() != bottom {
                at_bottom.set(bottom);
            }
            if bottom {
                new_below.set(0);
            }
            if el.scroll_top() < TOP_SLACK {
                older(store, id, scroller, loading_older);
            }
            read_visible();
        };

        // New rows: stay at the bottom if we were there (or just sent);
        // otherwise count what arrived below.
        Effect::new(move |previous: Option<(usize, Option<i64>)>| {
            let (count, newest) = list.with(|rows| {
                let newest = rows.iter().rev().find_map(|r| match r {
                    Row::Message { message, .. } => Some(message.seq),
                    _ => None,
                });
                (rows.len(), newest)
            });
            let grew_at_end = previous.is_some_and(|(_, before)| newest > before);
            let stick = at_bottom.get_untracked()
                || context.stick_to_bottom.get_untracked()
                || previous.is_none();
            let opening = previous.is_none();
            if opening || grew_at_end || context.stick_to_bottom.get_untracked() {
                if stick {
                    context.stick_to_bottom.set(false);
                    leptos::task::spawn_local(async move {
                        sleep(0).await;
                        if let Some(el) = scroller.try_get_untracked().flatten()
                            && context.jump_to.try_get_untracked().flatten().is_none()
                        {
                            dom::scroll_to_bottom(&el);
                            // Opening with more unread than fits: start at
                            // the "New messages" line, as WhatsApp and Slack
                            // do, so that nothing is skipped (only what is
                            // seen is marked read).
                            if opening {
                                reach_first_unread(store, id, scroller, loading_older).await;
                                if let Some(el) = scroller.try_get_untracked().flatten() {
                                    scroll_to_new_line(&el);
                                }
                            }
                        }
                        read_visible();
                    });
                } else if grew_at_end {
                    new_below.update(|n| *n += 1);
                }
            }
            (count, newest)
        });

        keep_focus_on_rebuilt_rows(list);

        // Reading when the tab comes back or the connection does.
        let link = Memo::new(move |_| store.model.with(|m| m.link));
        Effect::new(move |_| {
            if matches!(link.get(), Link::Live | Link::Restored) {
                read_visible();
            }
        });
        let focus = window_event_listener(leptos::ev::focus, move |_| read_visible());
        let visible = window_event_listener_untyped("visibilitychange", move |_| read_visible());
        on_cleanup(move || {
            focus.remove();
            visible.remove();
        });

        // Jumping to a message: load older pages until it is there.
        Effect::new(move |_| {
            let Some(target) = context.jump_to.get() else {
                return;
            };
            leptos::task::spawn_local(async move {
                for _ in 0..MAX_JUMP_PAGES {
                    sleep(0).await;
                    if let Some(element) = document().get_element_by_id(&format!("m-{target}")) {
                        dom::scroll_into_view(&element);
                        let _ = element.class_list().add_1("highlight");
                        sleep(2500).await;
                        let _ = element.class_list().remove_1("highlight");
                        break;
                    }
                    let can_load = store
                        .model
                        .with_untracked(|m| m.threads.get(&id).is_some_and(|t| t.has_more));
                    if !can_load {
                        break;
                    }
                    older_now(store, id, scroller, loading_older).await;
                }
                context.jump_to.try_set(None);
            });
        });

        on_scroll
    }

    /// Where the focus was in the message list: the element, its message's
    /// row, and its label if it was a control inside the row.
    struct Focused {
        element: web_sys::Element,
        row: String,
        label: Option<String>,
    }

    /// A message's row is built anew when the message changes (a reaction,
    /// an edit, the next message joining its group), and the focus on the
    /// old row went to the page's body: a keyboard user lost their place
    /// whenever anyone reacted. After each change of the list, a focus that
    /// was lost that way goes to the new row (or its control with the same
    /// label), without scrolling. A focus moved away on purpose, or into a
    /// dialog, stays where it went.
    fn keep_focus_on_rebuilt_rows(list: Memo<Vec<Row>>) {
        use wasm_bindgen::JsCast;
        let target = |ev: &web_sys::Event| ev.target()?.dyn_into::<web_sys::Element>().ok();

        let focused = StoredValue::new_local(None::<Focused>);
        let focus_in = window_event_listener_untyped("focusin", move |ev| {
            let was = target(&ev).and_then(|element| {
                let row = element.closest("li[id^='m-']").ok().flatten()?;
                let label = (element != row)
                    .then(|| element.get_attribute("aria-label"))
                    .flatten();
                Some(Focused {
                    row: row.id(),
                    element,
                    label,
                })
            });
            focused.set_value(was);
        });
        // A blur on purpose leaves the element in the page; a rebuild takes
        // it out (and some browsers send no focusout then).
        let focus_out = window_event_listener_untyped("focusout", move |ev| {
            let Some(left) = target(&ev) else { return };
            leptos::task::spawn_local(async move {
                sleep(0).await;
                let blurred = left.is_connected()
                    && focused.try_with_value(|f| f.as_ref().is_some_and(|f| f.element == left))
                        == Some(true);
                if blurred {
                    focused.set_value(None);
                }
            });
        });
        on_cleanup(move || {
            focus_in.remove();
            focus_out.remove();
        });
        Effect::new(move |_| {
            list.track();
            leptos::task::spawn_local(async move {
                // After the list's rows are rebuilt.
                sleep(0).await;
                let Some(Some(target)) = focused.try_with_value(|f| f.as_ref().and_then(rebuilt))
                else {
                    return;
                };
                let options = web_sys::FocusOptions::new();
                options.set_prevent_scroll(true);
                let _ = target.focus_with_options(&options);
            });
        });
    }

    /// The new element to focus, if the focused one was rebuilt away and
    /// the focus is nowhere now.
    fn rebuilt(was: &Focused) -> Option<web_sys::HtmlElement> {
        use wasm_bindgen::JsCast;
        let document = document();
        if was.element.is_connected() || dom::focused().is_some() || dom::modal_open() {
            return None;
        }
        let row = document.get_element_by_id(&was.row)?;
        let control = was.label.as_ref().and_then(|label| {
            let controls = row.query_selector_all("[aria-label]").ok()?;
            (0..controls.length())
                .filter_map(|i| controls.item(i)?.dyn_into::<web_sys::Element>().ok())
                .find(|c| c.get_attribute("aria-label").as_ref() == Some(label))
        });
        control.unwrap_or(row).dyn_into().ok()
    }

    /// The opening page reaches back 200 messages. With more unread than
    /// that, older pages load until the first unread message is there.
    async fn reach_first_unread(
        store: Store,
        id: ConversationId,
        scroller: NodeRef<Div>,
        loading_older: RwSignal<bool>,
    ) {
        let unread_before_loaded = move || {
            store
                .model
                .with_untracked(|m| m.threads.get(&id).is_some_and(|t| t.unread_before_loaded()))
        };
        for _ in 0..MAX_JUMP_PAGES {
            if !unread_before_loaded() {
                break;
            }
            older_now(store, id, scroller, loading_older).await;
            sleep(0).await;
        }
    }

    /// Loads the page before the oldest loaded message, and waits for it.
    async fn older_now(
        store: Store,
        id: ConversationId,
        scroller: NodeRef<Div>,
        loading: RwSignal<bool>,
    ) {
        older(store, id, scroller, loading);
        while loading.try_get_untracked().unwrap_or(false) {
            sleep(50).await;
        }
    }

    /// Puts the "New messages" line at the top of the view, if it is above it.
    fn scroll_to_new_line(el: &web_sys::HtmlDivElement) {
        if let Ok(Some(line)) = el.query_selector(".new-line") {
            let above = line.get_bounding_client_rect().top() - el.get_bounding_client_rect().top();
            if above < 0.0 {
                el.set_scroll_top(el.scroll_top() + above as i32 - 8);
            }
        }
    }
}
