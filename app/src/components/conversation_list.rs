//! The conversation list: avatar with presence, title, last message with its
//! sender (or my draft), time and unread badge; pinned first, then most
//! recent first, re-sorting live. A search box that filters the list and
//! finds messages in every conversation, and buttons to start a chat, a
//! group or (for organisation admins) a broadcast.

use leptos::prelude::*;

use super::avatar::Avatar;
use super::conversation_menu::{ConversationMenu, MenuPlace};
use super::icon::{Icon, Svg};
use super::message_search::{is_message_query, message_hits};
use super::new_conversation::{NewKind, new_conversation_dialog};
use crate::format::{list_time, lower_case, typing_line};
use crate::pages::chat::open_conversation;
use crate::protocol::{
    ConversationId, ConversationKind, ConversationSummary, MessageKind, OrgRole, UserId,
};
use crate::store::use_store;

#[component]
pub fn ConversationList() -> impl IntoView {
    let store = use_store();
    let filter = RwSignal::new(String::new());
    let creating = RwSignal::new(None::<NewKind>);
    let is_admin = store.model.with_untracked(|m| m.me.role == OrgRole::Admin);
    let open = open_conversation();

    let rows = Memo::new(move |_| {
        let needle = filter.with(|f| lower_case(f.trim()));
        store.model.with(|m| {
            m.sorted_conversations()
                .into_iter()
                .filter(|c| c.matches(&needle))
                .map(|c| c.id)
                .collect::<Vec<_>>()
        })
    });

    // Ctrl+K (⌘K on a Mac) jumps to the search box from anywhere, as in
    // Slack and Mattermost; Alt+↑/↓ opens the conversation above or below
    // the open one, and Alt+Shift+↑/↓ the nearest unread one, as in Slack.
    // On a phone with the thread open, the list is hidden: the shortcuts
    // are for keyboards anyway.
    #[cfg(feature = "hydrate")]
    {
        use crate::model::Step;
        let navigate = leptos_router::hooks::use_navigate();
        let shortcut = window_event_listener(leptos::ev::keydown, move |ev| {
            let step = match ev.key().as_str() {
                "ArrowUp" => Some(Step::Up),
                "ArrowDown" => Some(Step::Down),
                _ => None,
            };
            if (ev.ctrl_key() || ev.meta_key())
                && !ev.alt_key()
                && ev.key().eq_ignore_ascii_case("k")
                && let Some(search) = crate::client::dom::element_by_id(SEARCH_BOX)
            {
                ev.prevent_default();
                let _ = search.focus();
            } else if let Some(step) = step
                && ev.alt_key()
                && !ev.default_prevented()
                && !(ev.ctrl_key() || ev.meta_key())
                && !crate::client::dom::modal_open()
                && let Some(target) = store.model.with_untracked(|m| {
                    let shown = rows.get_untracked();
                    m.step_conversation(&shown, open.get_untracked(), step, ev.shift_key())
                })
            {
                ev.prevent_default();
                navigate(&format!("/c/{target}"), Default::default());
            }
        });
        on_cleanup(move || shortcut.remove());
    }

    view! {
        <div class="list-head">
            <h1 class="list-title">"Chats"</h1>
            <div class="list-actions">
                <button type="button" class="ghost" on:click=move |_| creating.set(Some(NewKind::Direct))>
                    "New chat"
                </button>
                <button type="button" class="ghost" on:click=move |_| creating.set(Some(NewKind::Group))>
                    "New group"
                </button>
                {is_admin.then(|| view! {
                    <button type="button" class="ghost" on:click=move |_| creating.set(Some(NewKind::Broadcast))>
                        "Broadcast"
                    </button>
                })}
            </div>
        </div>
        <div class="list-filter" role="search">
            <input
                id=SEARCH_BOX
                type="search"
                placeholder="Search"
                aria-label="Search conversations and messages"
                aria-keyshortcuts="Control+K Meta+K"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))
            />
        </div>
        <nav class="conversations" aria-label="Conversation list"
            aria-keyshortcuts="Alt+ArrowUp Alt+ArrowDown Alt+Shift+ArrowUp Alt+Shift+ArrowDown">
            <Show
                when=move || rows.with(|r| !r.is_empty())
                fallback=move || view! {
                    <p class="empty-list muted">
                        {move || if filter.with(String::is_empty) {
                            "No conversations yet. Start one with New chat."
                        } else {
                            "No conversation matches."
                        }}
                    </p>
                }
            >
                <ul>
                    // Keyed by id: a row keeps its element (and the focus
                    // in it) while its content changes and it moves.
                    <For each=move || rows.get() key=|id| *id let:id>
                        <ConversationRow id open=open />
                    </For>
                </ul>
            </Show>
            <Show when=move || filter.with(|f| is_message_query(f))>
                {move || Suspend::new(message_hits(filter))}
            </Show>
        </nav>
        {move || creating.get().map(|kind| Suspend::new(new_conversation_dialog(kind, creating)))}
    }
}

/// The search box's id, for the Ctrl+K shortcut.
const SEARCH_BOX: &str = "conversation-search";

/// What one row of the list shows, worked out from its conversation. A row
/// redraws when this changes, and only then.
#[derive(Clone, Debug, PartialEq)]
struct RowContent {
    title: String,
    kind: ConversationKind,
    /// For a direct conversation: whether the other person is online.
    online: bool,
    /// The last message, with its sender where that is not obvious.
    preview: String,
    unread: i64,
    /// An unread message mentions me.
    mentioned: bool,
    pinned: bool,
    muted: bool,
    /// Marked as unread to come back to, with nothing new in it: a dot.
    marked: bool,
    last_activity_at: i64,
    /// The link's accessible name: the title and the row's state in words.
    label: String,
}

impl RowContent {
    fn of(row: &ConversationSummary, me: UserId) -> Self {
        let online = row.kind == ConversationKind::Direct
            && row
                .participants
                .iter()
                .any(|p| p.user_id != me && p.is_online);
        let preview = match &row.last_message {
            None => String::new(),
            Some(last) => {
                let text = if last.is_deleted {
                    "This message was deleted"
                } else {
                    &last.text
                };
                // "Dave Diaz created the group" names its actor already.
                if last.message_type == MessageKind::System {
                    text.to_owned()
                } else if last.sender_id == me {
                    format!("You: {text}")
                } else if row.kind == ConversationKind::Direct {
                    text.to_owned()
                } else {
                    format!("{}: {text}", first_name(&last.sender_name))
                }
            }
        };
        let unread = row.unread_count;
        let mentioned = row.mentions_me && unread > 0;
        let pinned = row.pinned_at.is_some();
        let marked = row.marked_unread && unread == 0;
        let mut label = row.title.clone();
        if pinned {
            label.push_str(", pinned");
        }
        if unread > 0 {
            label.push_str(&format!(", {unread} unread"));
        } else if marked {
            label.push_str(", marked as unread");
        }
        if mentioned {
            label.push_str(", mentions you");
        }
        Self {
            title: row.title.clone(),
            kind: row.kind,
            online,
            preview,
            unread,
            mentioned,
            pinned,
            muted: row.muted,
            marked,
            last_activity_at: row.last_activity_at,
            label,
        }
    }

    /// A row for a conversation the model no longer has (never shown: the
    /// list drops the row in the same update).
    fn gone() -> Self {
        Self {
            title: String::new(),
            kind: ConversationKind::Direct,
            online: false,
            preview: String::new(),
            unread: 0,
            mentioned: false,
            pinned: false,
            muted: false,
            marked: false,
            last_activity_at: 0,
            label: String::new(),
        }
    }

    /// Drawn as unread: something is, or it is marked so.
    fn shows_unread(&self) -> bool {
        self.unread > 0 || self.marked
    }

    fn kind_label(&self) -> Option<&'static str> {
        match self.kind {
            ConversationKind::Direct => None,
            ConversationKind::Group => Some("Group"),
            ConversationKind::Broadcast => Some("Broadcast"),
        }
    }
}

#[component]
fn ConversationRow(id: ConversationId, open: Memo<Option<ConversationId>>) -> impl IntoView {
    let store = use_store();
    let me = store.my_id();
    // A row whose conversation has just gone keeps what it showed until
    // the list lets go of it.
    let row = Memo::new(move |shown: Option<&RowContent>| {
        store.model.with(|m| match m.conversation(id) {
            Some(c) => RowContent::of(c, me),
            None => shown.cloned().unwrap_or_else(RowContent::gone),
        })
    });
    let avatar = Memo::new(move |_| row.with(|r| (r.title.clone(), r.online, r.kind)));
    let typing = Memo::new(move |_| store.model.with(|m| typing_line(&m.typists(id))));
    let unread = move || row.with(|r| r.unread);
    let is_open = move || open.get() == Some(id);
    // What I was writing here, once I have gone to another conversation
    // (WhatsApp's "Draft:", Slack's pencil).
    let draft = Memo::new(move |_| {
        if is_open() {
            return None;
        }
        store.drafts.with(|d| d.get(&id).map(|text| one_line(text)))
    });
    let label = move || {
        let mut label = row.with(|r| r.label.clone());
        if draft.with(Option::is_some) {
            label.push_str(", draft");
        }
        label
    };

    let menu_open = RwSignal::new(false);

    view! {
        // A right click, a long press on a phone, or Shift+F10 opens the
        // row's menu, as in WhatsApp and Slack.
        <li
            class="conversation-item"
            on:contextmenu=move |ev| {
                ev.prevent_default();
                menu_open.set(true);
            }
            on:keydown=move |ev| {
                let key = ev.key();
                if key == "ContextMenu" || (key == "F10" && ev.shift_key()) {
                    ev.prevent_default();
                    menu_open.set(true);
                }
            }
        >
            <a
                href=format!("/c/{id}")
                aria-keyshortcuts="Shift+F10"
                class="conversation"
                class:active=is_open
                class:unread=move || row.with(RowContent::shows_unread)
                aria-current=move || is_open().then_some("page")
                aria-label=label
                data-testid="conversation"
            >
                {move || avatar.with(|(name, online, kind)| view! {
                    <Avatar name=name.clone() online=*online kind=*kind />
                })}
                <span class="conversation-main">
                    <span class="conversation-top">
                        <span class="conversation-title">{move || row.with(|r| r.title.clone())}</span>
                        {move || row.with(|r| r.kind_label()).map(|k| view! { <span class="tag">{k}</span> })}
                        {move || row.with(|r| r.pinned).then(|| view! {
                            <span class="pin-icon" title="Pinned" data-testid="pinned"><Svg icon=Icon::Pin size=14 /></span>
                        })}
                        {move || row.with(|r| r.muted).then(|| view! {
                            <span class="muted-icon" title="Muted"><Svg icon=Icon::BellOff size=14 /><span class="visually-hidden">"Muted"</span></span>
                        })}
                        <time class="conversation-time">
                            {move || list_time(row.with(|r| r.last_activity_at), store.now.get(), store.offset.get())}
                        </time>
                    </span>
                    <span class="conversation-bottom">
                        <span class="conversation-preview">
                            {move || match (typing.get(), draft.get()) {
                                (Some(line), _) => view! { <em class="typing">{line}</em> }.into_any(),
                                (None, Some(text)) => view! {
                                    <span class="draft-label" data-testid="draft">"Draft: "</span>{text}
                                }
                                .into_any(),
                                (None, None) => row.with(|r| r.preview.clone()).into_any(),
                            }}
                        </span>
                        {move || row.with(|r| r.mentioned).then(|| view! {
                            <span class="badge mention-badge" aria-hidden="true" title="Mentions you" data-testid="mention-badge">"@"</span>
                        })}
                        {move || (unread() > 0).then(|| view! {
                            <span class="badge" aria-hidden="true">{move || unread().to_string()}</span>
                        })}
                        {move || row.with(|r| r.marked).then(|| view! {
                            <span class="badge marked-unread" aria-hidden="true" title="Marked as unread" data-testid="marked-unread"></span>
                        })}
                    </span>
                </span>
            </a>
            <ConversationMenu id place=MenuPlace::List open=menu_open
                label=Signal::derive(move || row.with(|r| format!("Options for {}", r.title)))
                pinned=Signal::derive(move || row.with(|r| r.pinned))
                muted=Signal::derive(move || row.with(|r| r.muted))
                unread=Signal::derive(move || row.with(RowContent::shows_unread)) />
        </li>
    }
}

/// A draft on one line, as much of it as a row could show.
fn one_line(text: &str) -> String {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if line.len() > 200 {
            break;
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    line
}

pub(super) fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{BOB, ME, row};
    use crate::protocol::{MessageId, MessagePreview};

    fn said(sender_id: UserId, sender_name: &str, text: &str) -> Option<MessagePreview> {
        Some(MessagePreview {
            message_id: MessageId(7),
            seq: 1,
            sender_id,
            sender_name: sender_name.into(),
            message_type: MessageKind::Text,
            text: text.into(),
            is_deleted: false,
            created_at: 1_000,
        })
    }

    fn direct_with_bob() -> ConversationSummary {
        ConversationSummary {
            title: "Bob Stone".into(),
            ..row(ConversationId(10), 0, 1_000)
        }
    }

    #[test]
    fn a_direct_row_is_online_when_the_other_person_is_not_when_i_am() {
        let mut row = direct_with_bob();
        row.participants[0].is_online = true;
        assert!(!RowContent::of(&row, ME).online);
        row.participants[1].is_online = true;
        assert!(RowContent::of(&row, ME).online);
    }

    #[test]
    fn the_preview_names_the_sender_in_groups_and_says_you_for_mine() {
        let mut row = direct_with_bob();
        row.last_message = said(BOB, "Bob Stone", "hi");
        assert_eq!(RowContent::of(&row, ME).preview, "hi");
        row.kind = ConversationKind::Group;
        assert_eq!(RowContent::of(&row, ME).preview, "Bob: hi");
        row.last_message = said(ME, "Alice", "hello");
        assert_eq!(RowContent::of(&row, ME).preview, "You: hello");
        row.last_message.as_mut().unwrap().is_deleted = true;
        assert_eq!(
            RowContent::of(&row, ME).preview,
            "You: This message was deleted"
        );
    }

    #[test]
    fn a_system_message_is_previewed_without_a_sender_as_it_names_its_actor() {
        let mut row = direct_with_bob();
        row.kind = ConversationKind::Group;
        row.last_message = said(BOB, "Bob Stone", "Bob Stone created the group “Deals”");
        row.last_message.as_mut().unwrap().message_type = MessageKind::System;
        assert_eq!(
            RowContent::of(&row, ME).preview,
            "Bob Stone created the group “Deals”"
        );
        row.last_message = said(ME, "Alice", "Alice created the group “Deals”");
        row.last_message.as_mut().unwrap().message_type = MessageKind::System;
        assert_eq!(
            RowContent::of(&row, ME).preview,
            "Alice created the group “Deals”"
        );
    }

    #[test]
    fn the_label_says_pinned_unread_and_mentions_in_that_order() {
        let mut row = direct_with_bob();
        row.pinned_at = Some(5);
        row.unread_count = 3;
        row.mentions_me = true;
        let content = RowContent::of(&row, ME);
        assert_eq!(content.label, "Bob Stone, pinned, 3 unread, mentions you");
        assert!(content.mentioned && content.pinned && !content.marked);
    }

    #[test]
    fn a_mark_as_unread_shows_as_a_dot_only_while_nothing_is_unread() {
        let mut row = direct_with_bob();
        row.marked_unread = true;
        let marked = RowContent::of(&row, ME);
        assert!(marked.marked);
        assert_eq!(marked.label, "Bob Stone, marked as unread");
        row.unread_count = 1;
        let counted = RowContent::of(&row, ME);
        assert!(!counted.marked);
        assert_eq!(counted.label, "Bob Stone, 1 unread");
    }

    #[test]
    fn a_draft_is_shown_on_one_line() {
        assert_eq!(
            one_line("  call Ann\n\nabout   the renewal "),
            "call Ann about the renewal"
        );
        let long = "word ".repeat(100);
        assert!(one_line(&long).len() <= 205);
    }

    #[test]
    fn a_mention_that_has_been_read_is_not_shown() {
        let mut row = direct_with_bob();
        row.mentions_me = true;
        assert!(!RowContent::of(&row, ME).mentioned);
    }

    #[test]
    fn a_change_to_anything_a_row_shows_changes_its_content() {
        // The row redraws exactly when its content differs, so every
        // field it shows must be part of it.
        let base = direct_with_bob();
        let changes: [fn(&mut ConversationSummary); 8] = [
            |r| r.title = "Robert".into(),
            |r| r.muted = true,
            |r| r.pinned_at = Some(1),
            |r| r.marked_unread = true,
            |r| r.unread_count = 2,
            |r| r.last_activity_at += 1,
            |r| r.participants[1].is_online = true,
            |r| r.last_message = said(BOB, "Bob Stone", "new"),
        ];
        for change in changes {
            let mut changed = base.clone();
            change(&mut changed);
            assert_ne!(RowContent::of(&changed, ME), RowContent::of(&base, ME));
        }
    }
}
