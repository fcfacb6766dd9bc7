//! The browser's picture of the user's chats, and how each server event
//! changes it. Plain data and pure functions, so the rules are unit-tested on
//! the host: the components read it through signals, the connection feeds it.
//!
//! Applying is idempotent and order-tolerant where the network can repeat or
//! reorder: a message version replaces another only when its `eventSeq` is
//! higher, a new message is inserted once, and a list row from a snapshot
//! never overwrites a newer one. So a resume replay that overlaps what a page
//! load already brought in changes nothing twice.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::format::lower_case;
use crate::protocol::{
    ConversationId, ConversationKind, ConversationSummary, Me, Message, MessageId, MessageKind,
    MessagePreview, Notification, NotificationId, NotificationKind, NotificationPage,
    ReactionSummary, ServerEvent, UserId,
};

/// How long a typing indicator lasts without a refresh.
pub const TYPING_TTL_MS: i64 = 6_000;
/// Sends tried this many times without an answer show as failed.
pub const MAX_SEND_ATTEMPTS: u32 = 3;

/// Which way Alt+↑/↓ moves through the conversation list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Up,
    Down,
}

/// One conversation's loaded history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thread {
    /// By `seq`: the order of the conversation.
    pub messages: BTreeMap<i64, Message>,
    /// Whether older messages exist before the first loaded one.
    pub has_more: bool,
    /// The last `eventSeq` applied: where a resume continues. `None` while
    /// the first page is loading (events are still applied meanwhile).
    pub cursor: Option<i64>,
    /// The seq the unread messages followed when the thread was opened.
    pub unread_after: Option<i64>,
    /// The first loaded message from others after `unread_after`: the "New
    /// messages" line goes above it. An older page may move it up.
    pub first_unread_seq: Option<i64>,
    /// The pinned messages, the last pinned first, loaded or not.
    pub pinned: Vec<Message>,
}

impl Thread {
    pub fn oldest_seq(&self) -> Option<i64> {
        self.messages.keys().next().copied()
    }

    pub fn newest_seq(&self) -> Option<i64> {
        self.messages.keys().next_back().copied()
    }

    /// Whether unread messages from the opening are older than the oldest
    /// loaded one: the "New messages" line is not where it will be yet.
    pub fn unread_before_loaded(&self) -> bool {
        self.has_more
            && self
                .unread_after
                .zip(self.oldest_seq())
                .is_some_and(|(after, oldest)| after + 1 < oldest)
    }

    /// The first loaded message from others that was unread at the opening,
    /// before `below` if given.
    fn first_unread(&self, me: UserId, below: Option<i64>) -> Option<i64> {
        let seqs = self.unread_after? + 1..below.unwrap_or(i64::MAX);
        if seqs.is_empty() {
            return None;
        }
        self.messages
            .range(seqs)
            .find(|(_, m)| {
                m.sender_id != me
                    && m.deleted_at.is_none()
                    && m.message_type != crate::protocol::MessageKind::System
            })
            .map(|(seq, _)| *seq)
    }

    /// What the Up arrow in an empty composer edits, as in Slack: `me`'s
    /// newest text message that is not deleted or forwarded, while they may
    /// still edit it.
    pub fn last_editable(&self, me: UserId, now: i64) -> Option<&Message> {
        self.messages
            .values()
            .rev()
            .find(|m| m.is_own_text(me))
            .filter(|m| m.editable_by(me, now))
    }

    /// Puts a version of a message in: a new one, or a newer version of a
    /// known one. Older versions (a replay of something already applied)
    /// change nothing. Whether anything changed.
    pub fn upsert(&mut self, message: Message) -> bool {
        if let Some(cursor) = self.cursor.as_mut() {
            *cursor = (*cursor).max(message.event_seq);
        }
        match self.messages.get(&message.seq) {
            Some(known) if known.event_seq >= message.event_seq => false,
            _ => {
                self.messages.insert(message.seq, message);
                true
            }
        }
    }

    /// Takes in a version of a message for the pinned list: a pin joins it,
    /// an unpin or a delete leaves it, an edit shows. A version older than
    /// the one listed changes nothing.
    fn note_pin(&mut self, message: &Message) {
        // A version older than the thread's own copy is not news either,
        // even when the list no longer holds the message (an unpin).
        if self
            .messages
            .get(&message.seq)
            .is_some_and(|known| known.id == message.id && known.event_seq >= message.event_seq)
        {
            return;
        }
        if let Some(at) = self.pinned.iter().position(|p| p.id == message.id) {
            if self.pinned[at].event_seq >= message.event_seq {
                return;
            }
            self.pinned.remove(at);
        }
        let Some(pin) = message
            .pinned
            .as_ref()
            .filter(|_| message.deleted_at.is_none())
        else {
            return;
        };
        let at = self.pinned.partition_point(|p| {
            let listed = p.pinned.as_ref().map_or(0, |p| p.at);
            (listed, p.seq) > (pin.at, message.seq)
        });
        self.pinned.insert(at, message.clone());
    }

    fn find_mut(&mut self, id: MessageId) -> Option<&mut Message> {
        self.messages.values_mut().find(|m| m.id == id)
    }
}

/// A message on its way out: shown at once, kept (in the browser's storage)
/// until the server acknowledges it, and sent again after reconnecting with
/// the same `clientMsgId`, so it is never stored twice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    pub client_msg_id: String,
    pub conversation_id: ConversationId,
    pub content: String,
    pub reply_to: Option<MessageId>,
    pub attachment: Option<crate::protocol::Attachment>,
    pub created_at: i64,
    /// Times it was put on a socket without an answer.
    pub attempts: u32,
    /// Given up on (after [`MAX_SEND_ATTEMPTS`] or a refusal): "tap to retry".
    pub failed: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Typist {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub name: String,
    pub until: i64,
}

/// The state of the one WebSocket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Link {
    /// Not yet connected (the page is rendering, or hydrating).
    #[default]
    Starting,
    /// Resumed and receiving live events.
    Live,
    /// Lost; trying again.
    Reconnecting,
    /// Back after a loss: "Back online", shown briefly.
    Restored,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notifications {
    pub unread_count: i64,
    /// Newest first. Until the drawer's first page is loaded, only what
    /// was pushed since the page opened.
    pub items: Vec<Notification>,
    pub has_more: bool,
    /// Whether the drawer's first page is loaded. A resume clears it, so
    /// that the drawer fetches the page again, and so does a change of view.
    pub loaded: bool,
    /// Which of them the drawer shows.
    pub view: NotificationView,
    /// How many it held when the socket resumed: see
    /// [`ChatModel::older_page_to_restore`].
    pub restore_depth: usize,
}

impl Notifications {
    /// Ends a restore after a resume once the drawer holds as many as
    /// before, or there are no older ones.
    fn settle_restore(&mut self) {
        if !self.has_more || self.items.len() >= self.restore_depth {
            self.restore_depth = 0;
        }
    }
}

/// Which notifications the drawer shows: every one or the unread ones, of
/// every kind or of one. One read while it shows unread ones stays, shown
/// read, until the view loads again: what the user is looking at does not
/// jump away under the pointer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub unread_only: bool,
    pub kind: Option<NotificationKind>,
}

impl NotificationView {
    /// Whether a notification pushed now goes into this view: new ones are
    /// unread, so only the kind can keep one out.
    fn takes(self, n: &Notification) -> bool {
        self.kind.is_none_or(|kind| kind == n.kind)
    }

    /// Whether a notification the drawer holds belongs to this view.
    fn holds(self, n: &Notification) -> bool {
        self.takes(n) && (!self.unread_only || n.read_at.is_none())
    }
}

/// What the socket has changed, numbered in the order it arrived, so that
/// the answer to a fetch can be checked against it. A fetch takes a
/// [`Mark`] when it starts; a change pushed after that mark may have been
/// made after the server read the answer, and then the answer is stale
/// there: the page keeps what the push said (every later change pushes
/// again).
///
/// A list row is marked by what changed in it: its counts and preview (a
/// message, a count), or the whole row (a change of
/// membership, title, role, pin or mute). Receipts and the activity time
/// only grow, so a fetched row is merged with them by taking the larger.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pushes {
    count: u64,
    /// Rows whose counts or preview changed.
    counts: HashMap<ConversationId, u64>,
    /// Rows pushed whole.
    rows: HashMap<ConversationId, u64>,
    /// Conversations the user left or lost.
    gone: HashMap<ConversationId, u64>,
    presence: HashMap<UserId, u64>,
    bell: u64,
    /// Notifications pushed new or moved up, whether or not the drawer is
    /// loaded: a local "all read" leaves those since its mark alone.
    brought: HashMap<NotificationId, u64>,
    /// The last resume: the socket was away before it.
    resumed: u64,
    /// What pushes did to single notifications while the drawer's first
    /// page was not loaded (once it is, pushes keep the drawer itself).
    notifications: NotificationPushes,
}

/// See [`Pushes::notifications`].
#[derive(Clone, Debug, Default, PartialEq)]
struct NotificationPushes {
    /// Brought whole (new, or moved up by a message) or read.
    touched: HashMap<NotificationId, u64>,
    deleted: HashMap<NotificationId, u64>,
    /// "All read": of one kind, or of every kind.
    all_read: Vec<(u64, Option<NotificationKind>)>,
}

impl NotificationPushes {
    fn touched_since(&self, id: NotificationId, mark: Mark) -> bool {
        Pushes::since(&self.touched, id, mark)
    }

    fn deleted_since(&self, id: NotificationId, mark: Mark) -> bool {
        Pushes::since(&self.deleted, id, mark)
    }

    fn all_read_since(&self, kind: NotificationKind, mark: Mark) -> bool {
        self.all_read
            .iter()
            .any(|&(at, of)| mark.overtaken_by(at) && of.is_none_or(|of| of == kind))
    }
}

/// When a fetch started: see [`Pushes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u64);

impl Mark {
    /// Whether a push numbered `at` came after this mark.
    fn overtaken_by(self, at: u64) -> bool {
        at > self.0
    }
}

impl Pushes {
    fn next(&mut self) -> u64 {
        self.count += 1;
        self.count
    }

    fn counts(&mut self, id: ConversationId) {
        let at = self.next();
        self.counts.insert(id, at);
    }

    fn row(&mut self, id: ConversationId) {
        let at = self.next();
        self.rows.insert(id, at);
    }

    /// Whether a push numbered in `map` changed `id` after `mark`.
    fn since<K: Eq + std::hash::Hash>(map: &HashMap<K, u64>, id: K, mark: Mark) -> bool {
        map.get(&id).is_some_and(|&at| mark.overtaken_by(at))
    }

    fn counts_since(&self, id: ConversationId, mark: Mark) -> bool {
        Self::since(&self.counts, id, mark)
    }

    fn row_since(&self, id: ConversationId, mark: Mark) -> bool {
        Self::since(&self.rows, id, mark)
    }

    fn gone_since(&self, id: ConversationId, mark: Mark) -> bool {
        Self::since(&self.gone, id, mark)
    }

    fn presence_since(&self, id: UserId, mark: Mark) -> bool {
        Self::since(&self.presence, id, mark)
    }

    fn bell_since(&self, mark: Mark) -> bool {
        mark.overtaken_by(self.bell)
    }

    /// Numbers an event by what it changes: a list row's counts and preview,
    /// a whole row, someone's presence, the bell, and (until the drawer's
    /// first page is loaded) single notifications.
    fn record(&mut self, event: &ServerEvent, drawer_loaded: bool) {
        match event {
            ServerEvent::NewMessage(message)
            | ServerEvent::MessageUpdated(message)
            | ServerEvent::MessageDelivered { message, .. }
            | ServerEvent::MessageDeleted { message, .. } => self.counts(message.conversation_id),
            ServerEvent::ConversationUpdated {
                conversation_id,
                conversation: None,
                ..
            } => self.counts(*conversation_id),
            ServerEvent::ConversationUpdated {
                conversation_id,
                conversation: Some(_),
                ..
            } => self.row(*conversation_id),
            ServerEvent::ConversationRemoved { conversation_id } => {
                self.row(*conversation_id);
                self.gone.insert(*conversation_id, self.count);
            }
            ServerEvent::UserStatusChanged { user_id, .. } => {
                let at = self.next();
                self.presence.insert(*user_id, at);
            }
            ServerEvent::NewNotification { notification, .. } => {
                self.bell = self.next();
                self.brought.insert(notification.id, self.bell);
                if !drawer_loaded {
                    self.notifications
                        .touched
                        .insert(notification.id, self.bell);
                }
            }
            ServerEvent::NotificationsUpdated {
                read,
                deleted,
                all_read,
                kind,
                ..
            } => {
                let at = self.next();
                self.bell = at;
                if !drawer_loaded {
                    let pushed = &mut self.notifications;
                    pushed.touched.extend(read.iter().map(|&id| (id, at)));
                    pushed.deleted.extend(deleted.iter().map(|&id| (id, at)));
                    if *all_read {
                        pushed.all_read.push((at, *kind));
                    }
                }
            }
            // Receipts only grow: a fetched row takes the larger.
            ServerEvent::MessagesRead { .. }
            | ServerEvent::MessagesDelivered { .. }
            | ServerEvent::ReactionsChanged { .. }
            | ServerEvent::UserTyping { .. }
            | ServerEvent::Resumed { .. }
            | ServerEvent::Error { .. }
            | ServerEvent::Pong => {}
        }
    }
}

/// A system notification, for a page nobody is looking at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub title: String,
    pub body: String,
    /// A newer alert with the same tag replaces the older one: one per
    /// conversation, however many messages arrive.
    pub tag: String,
    /// Where clicking it leads.
    pub url: String,
}

/// What the connection should do after an event was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Followup {
    /// A conversation's row changed beyond what the event said: fetch it.
    RefreshConversation(ConversationId),
    /// The user left or lost a conversation: leave its page if it is open.
    ConversationGone(ConversationId),
    /// A send was refused for good.
    SendFailed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChatModel {
    pub me: Me,
    pub conversations: Vec<ConversationSummary>,
    pub threads: HashMap<ConversationId, Thread>,
    pub outbox: Vec<Outgoing>,
    pub typing: Vec<Typist>,
    pub notifications: Notifications,
    pub link: Link,
    /// Per conversation, the newest message a `newMessage` event brought
    /// this page: what it has alerted about already. Not the list row's
    /// last message, which a fetched snapshot may move ahead of the socket.
    pub heard: HashMap<ConversationId, i64>,
    /// The web app's build this page runs (from the page), and the one the
    /// server last said it serves (in `resumed`): see [`Self::update_available`].
    pub page_build: Option<String>,
    pub server_build: Option<String>,
    pub pushes: Pushes,
}

impl ChatModel {
    pub fn new(me: Me, conversations: Vec<ConversationSummary>, unread_notifications: i64) -> Self {
        ChatModel {
            me,
            conversations,
            threads: HashMap::new(),
            outbox: Vec::new(),
            typing: Vec::new(),
            notifications: Notifications {
                unread_count: unread_notifications,
                ..Notifications::default()
            },
            link: Link::Starting,
            heard: HashMap::new(),
            page_build: None,
            server_build: None,
            pushes: Pushes::default(),
        }
    }

    /// Whether the server now serves another build of the web app than the
    /// one this page runs: crm-chat was deployed since the page loaded. Its
    /// code chunks the page has not loaded yet are gone from the server, and
    /// a reload brings the new version. Servers that do not name a build
    /// (debug builds) never offer one.
    pub fn update_available(&self) -> bool {
        matches!((&self.page_build, &self.server_build), (Some(page), Some(server)) if page != server)
    }

    pub fn conversation(&self, id: ConversationId) -> Option<&ConversationSummary> {
        self.conversations.iter().find(|c| c.id == id)
    }

    fn conversation_mut(&mut self, id: ConversationId) -> Option<&mut ConversationSummary> {
        self.conversations.iter_mut().find(|c| c.id == id)
    }

    /// The list as shown, in the server's order: the pinned conversations
    /// first, most recently pinned first, then the rest, most recent
    /// activity first.
    pub fn sorted_conversations(&self) -> Vec<ConversationSummary> {
        let mut rows = self.conversations.clone();
        rows.sort_by(|a, b| {
            b.pinned_at
                .cmp(&a.pinned_at)
                .then(b.last_activity_at.cmp(&a.last_activity_at))
                .then(b.id.cmp(&a.id))
        });
        rows
    }

    /// The conversation Alt+↑ or Alt+↓ opens from `from`, among the rows
    /// `shown` (in the list's order, filtered or not): the row above or
    /// below, stopping at either end; from no row (nothing open, or a row
    /// the filter hides), the first row down or the last one up. With
    /// `unread` (Alt+Shift, as in Slack), the nearest row that asks to be
    /// read, going round the list. `None`: nowhere to go.
    pub fn step_conversation(
        &self,
        shown: &[ConversationId],
        from: Option<ConversationId>,
        step: Step,
        unread: bool,
    ) -> Option<ConversationId> {
        let at = from.and_then(|from| shown.iter().position(|id| *id == from));
        if !unread {
            return match (step, at) {
                (Step::Down, None) => shown.first(),
                (Step::Up, None) => shown.last(),
                (Step::Down, Some(i)) => shown.get(i + 1),
                (Step::Up, Some(i)) => i.checked_sub(1).and_then(|i| shown.get(i)),
            }
            .copied();
        }
        let count = shown.len();
        // Every row once, beginning beside `from` and ending on it.
        let start = match (step, at) {
            (Step::Down, Some(i)) => i + 1,
            (Step::Down, None) => 0,
            (Step::Up, Some(i)) => i + count - 1,
            (Step::Up, None) => count.checked_sub(1)?,
        };
        (0..count)
            .map(|k| match step {
                Step::Down => shown[(start + k) % count],
                Step::Up => shown[(start + count - k) % count],
            })
            .filter(|id| Some(*id) != from)
            .find(|id| {
                self.conversation(*id)
                    .is_some_and(ConversationSummary::asks_to_be_read)
            })
    }

    /// Unread messages over every conversation, for the tab title.
    pub fn total_unread(&self) -> i64 {
        self.conversations.iter().map(|c| c.unread_count).sum()
    }

    /// Puts a row in, or replaces an older one. A snapshot row never replaces
    /// a row that has seen later events.
    pub fn merge_conversation(&mut self, row: ConversationSummary) {
        match self.conversation_mut(row.id) {
            Some(known) if known.last_event_seq > row.last_event_seq => {}
            Some(known) => *known = row,
            None => self.conversations.push(row),
        }
    }

    /// A fresh list, fetched after `mark` (on reconnecting): rows merged as
    /// [`Self::merge_fetched_conversation`] does, and rows the server no
    /// longer lists removed, unless the socket pushed them meanwhile (a
    /// group made after the server read the list).
    pub fn merge_fetched_list(&mut self, rows: Vec<ConversationSummary>, mark: Mark) {
        let pushes = &self.pushes;
        self.conversations.retain(|known| {
            pushes.row_since(known.id, mark)
                || pushes.counts_since(known.id, mark)
                || rows.iter().any(|row| row.id == known.id)
        });
        for row in rows {
            self.merge_fetched_conversation(row, mark);
        }
    }

    /// A row fetched after `mark`, merged with what the socket pushed
    /// meanwhile, which may be newer than the answer:
    /// - a row the socket pushed whole stands as it is, and one it said the
    ///   user left stays gone;
    /// - where only its counts were pushed (messages keep arriving, a read
    ///   elsewhere), or the page has read further than the answer says, they
    ///   stay and the rest comes from the answer: a group renamed while the
    ///   page was away gets its new name;
    /// - the preview is the later message's, and of the same message what
    ///   the socket said of it since;
    /// - receipts, the change counter and the activity time take the larger;
    /// - a participant whose presence the socket changed keeps it.
    ///
    /// (Where the page has no row, the answer's is taken: a message in a
    /// conversation the page is fetching does not hide it.)
    pub fn merge_fetched_conversation(&mut self, mut row: ConversationSummary, mark: Mark) {
        let pushes = &self.pushes;
        if pushes.gone_since(row.id, mark) {
            return;
        }
        let counts_pushed = pushes.counts_since(row.id, mark);
        let row_pushed = pushes.row_since(row.id, mark);
        for p in &mut row.participants {
            if !pushes.presence_since(p.user_id, mark) {
                continue;
            }
            let known = self
                .conversations
                .iter()
                .flat_map(|c| &c.participants)
                .find(|known| known.user_id == p.user_id);
            if let Some(known) = known {
                p.is_online = known.is_online;
                p.last_seen_at = known.last_seen_at;
            }
        }
        let Some(known) = self.conversation_mut(row.id) else {
            self.conversations.push(row);
            return;
        };
        if row_pushed {
            return;
        }
        for p in &mut row.participants {
            if let Some(was) = known.participants.iter().find(|k| k.user_id == p.user_id) {
                p.last_read_seq = p.last_read_seq.max(was.last_read_seq);
                p.last_delivered_seq = p.last_delivered_seq.max(was.last_delivered_seq);
            }
        }
        // Counts travel with the read cursor: a page that has read further
        // (here, before the server had the read) keeps its own.
        if counts_pushed || known.my_last_read_seq > row.my_last_read_seq {
            row.unread_count = known.unread_count;
            row.my_last_read_seq = known.my_last_read_seq;
            row.mentions_me = known.mentions_me;
        }
        // The preview shows the later message; of the same one, what the
        // socket said of it (an edit, a delete) since the answer was read.
        let seq_of = |preview: &Option<MessagePreview>| preview.as_ref().map(|p| p.seq);
        let (fetched, pushed) = (seq_of(&row.last_message), seq_of(&known.last_message));
        if pushed > fetched || (pushed == fetched && counts_pushed) {
            row.last_message = known.last_message.take();
        }
        row.last_message_seq = row.last_message_seq.max(known.last_message_seq);
        row.last_event_seq = row.last_event_seq.max(known.last_event_seq);
        row.last_activity_at = row.last_activity_at.max(known.last_activity_at);
        *known = row;
    }

    /// Starts a thread whose first page is on its way; events for it are
    /// applied meanwhile.
    pub fn open_thread(&mut self, id: ConversationId) -> &mut Thread {
        self.threads.entry(id).or_default()
    }

    /// Merges a page of history. `cursor` is the conversation's event counter,
    /// read before the page: every change up to it is in the page.
    pub fn load_page(
        &mut self,
        id: ConversationId,
        messages: Vec<Message>,
        has_more: bool,
        cursor: Option<i64>,
    ) {
        let last_read = self.conversation(id).map(|c| c.my_last_read_seq);
        let me = self.me.id;
        let thread = self.threads.entry(id).or_default();
        let first_page = thread.cursor.is_none() && cursor.is_some();
        if let Some(cursor) = cursor {
            thread.cursor = Some(thread.cursor.unwrap_or(cursor).max(cursor));
        }
        let older = thread
            .oldest_seq()
            .is_none_or(|oldest| messages.first().is_some_and(|first| first.seq < oldest));
        if older || first_page {
            thread.has_more = has_more;
        }
        let oldest_before = thread.oldest_seq();
        for message in messages {
            thread.upsert(message);
        }
        // Each opening (the page that comes with the cursor) puts the "New
        // messages" line above what is unread now, not where it was the last
        // time the thread was open. An older page may hold earlier unread
        // messages: the line moves up to the first of them, and never down
        // (to a message that arrived while the thread was open).
        if cursor.is_some() {
            thread.unread_after = last_read;
            thread.first_unread_seq = thread.first_unread(me, None);
        } else if let Some(earlier) = thread.first_unread(me, oldest_before) {
            thread.first_unread_seq = Some(earlier);
        }
    }

    /// The pinned messages as the thread opened, read after its first page.
    pub fn load_pins(&mut self, id: ConversationId, pinned: Vec<Message>) {
        self.threads.entry(id).or_default().pinned = pinned;
    }

    /// The user had marked the thread unread from the message at `seq`:
    /// the "New messages" line goes above it, if that is earlier than the
    /// first unread message.
    pub fn mark_new_from(&mut self, id: ConversationId, seq: i64) {
        let earlier = self
            .threads
            .get(&id)
            .and_then(|thread| thread.unread_after)
            .map_or(seq, |after| (after + 1).min(seq));
        self.new_line_from(id, earlier);
    }

    /// I marked the open thread unread from the message at `seq`: the "New
    /// messages" line goes above it, wherever it was.
    pub fn new_line_from(&mut self, id: ConversationId, seq: i64) {
        let me = self.me.id;
        if let Some(thread) = self.threads.get_mut(&id) {
            thread.unread_after = Some(seq - 1);
            thread.first_unread_seq = thread.first_unread(me, None);
        }
    }

    /// Cursors to resume from: every thread that has loaded.
    pub fn cursors(&self) -> BTreeMap<ConversationId, i64> {
        self.threads
            .iter()
            .filter_map(|(id, thread)| thread.cursor.map(|cursor| (*id, cursor)))
            .collect()
    }

    /// The system notification an event deserves, judged before it is
    /// applied: a message from someone else that this page has not seen yet,
    /// in a conversation that is neither muted nor read past it; or a
    /// notification the server pushed. A chat message's own notification
    /// (`NEW_MESSAGE`) is left out: its message alerts already.
    pub fn alert_for(&self, event: &ServerEvent) -> Option<Alert> {
        match event {
            ServerEvent::NewMessage(message) => self.alert_for_message(message),
            ServerEvent::NewNotification { notification, .. }
                if notification.kind != NotificationKind::NewMessage =>
            {
                Some(Alert {
                    title: notification.title.clone(),
                    body: notification.body.clone(),
                    tag: format!("notification-{}", notification.id),
                    url: notification.link.clone().unwrap_or_else(|| "/".to_owned()),
                })
            }
            _ => None,
        }
    }

    /// Whether a text mentions this page's user (`@` and their name).
    pub fn mentions_me(&self, text: &str) -> bool {
        crate::format::mentions_person(text, self.me.id, &self.me.display_name)
    }

    fn alert_for_message(&self, message: &Message) -> Option<Alert> {
        if message.sender_id == self.me.id || message.deleted_at.is_some() {
            return None;
        }
        let id = message.conversation_id;
        let row = self.conversation(id);
        let heard = self.heard.get(&id).is_some_and(|&seq| message.seq <= seq);
        let muted = row.is_some_and(|row| row.muted) && !self.mentions_me(&message.content);
        let seen = heard || muted || row.is_some_and(|row| message.seq <= row.my_last_read_seq);
        if seen {
            return None;
        }
        Some(message_alert(
            id,
            row,
            &message.sender_name,
            message.message_type,
            &preview(message).text,
        ))
    }

    /// Alerts for what a freshly fetched list shows and this page never
    /// heard: messages that arrived while it was disconnected (a laptop
    /// asleep, a train tunnel), one per conversation, judged before the list
    /// is merged.
    pub fn missed_alerts(&self, rows: &[ConversationSummary]) -> Vec<Alert> {
        rows.iter()
            .filter_map(|row| {
                let last = row.last_message.as_ref()?;
                let known = self
                    .conversation(row.id)
                    .map_or(0, |before| before.last_message_seq)
                    .max(self.heard.get(&row.id).copied().unwrap_or(0));
                let missed = last.seq > known
                    && last.seq > row.my_last_read_seq
                    && last.sender_id != self.me.id
                    && !last.is_deleted
                    && (!row.muted || self.mentions_me(&last.text));
                missed.then(|| {
                    message_alert(
                        row.id,
                        Some(row),
                        &last.sender_name,
                        last.message_type,
                        &last.text,
                    )
                })
            })
            .collect()
    }

    /// Applies one server event; says what else needs doing.
    pub fn apply(&mut self, event: ServerEvent, now: i64) -> Vec<Followup> {
        self.pushes.record(&event, self.notifications.loaded);
        let mut followups = Vec::new();
        match event {
            ServerEvent::NewMessage(message) => {
                let heard = self.heard.entry(message.conversation_id).or_default();
                *heard = (*heard).max(message.seq);
                let mentions_me = message.sender_id != self.me.id
                    && message.deleted_at.is_none()
                    && self.mentions_me(&message.content);
                if let Some(row) = self.conversation_mut(message.conversation_id)
                    && mentions_me
                    && message.seq > row.my_last_read_seq
                {
                    row.mentions_me = true;
                }
                self.apply_message(message);
            }
            ServerEvent::MessageDelivered {
                client_msg_id,
                message,
                ..
            } => {
                self.outbox.retain(|o| o.client_msg_id != client_msg_id);
                self.apply_message(message);
            }
            ServerEvent::MessageUpdated(message) => self.apply_message(message),
            ServerEvent::MessageDeleted { message, .. } => self.apply_message(message),
            ServerEvent::ReactionsChanged {
                message_id,
                conversation_id,
                event_seq,
                reactions,
            } => self.apply_reactions(conversation_id, message_id, event_seq, reactions),
            ServerEvent::MessagesRead {
                conversation_id,
                read_by,
                up_to_seq,
                ..
            } => {
                if let Some(row) = self.conversation_mut(conversation_id) {
                    for p in row.participants.iter_mut().filter(|p| p.user_id == read_by) {
                        p.last_read_seq = p.last_read_seq.max(up_to_seq);
                        p.last_delivered_seq = p.last_delivered_seq.max(up_to_seq);
                    }
                }
            }
            ServerEvent::MessagesDelivered {
                conversation_id,
                delivered_to,
                up_to_seq,
            } => {
                if let Some(row) = self.conversation_mut(conversation_id) {
                    for p in row
                        .participants
                        .iter_mut()
                        .filter(|p| p.user_id == delivered_to)
                    {
                        p.last_delivered_seq = p.last_delivered_seq.max(up_to_seq);
                    }
                }
            }
            ServerEvent::UserTyping {
                conversation_id,
                user_id,
                user_name,
                is_typing,
            } => {
                self.typing
                    .retain(|t| !(t.conversation_id == conversation_id && t.user_id == user_id));
                if is_typing {
                    self.typing.push(Typist {
                        conversation_id,
                        user_id,
                        name: user_name,
                        until: now + TYPING_TTL_MS,
                    });
                }
            }
            ServerEvent::UserStatusChanged {
                user_id,
                is_online,
                last_seen,
                ..
            } => {
                for row in &mut self.conversations {
                    for p in row.participants.iter_mut().filter(|p| p.user_id == user_id) {
                        p.is_online = is_online;
                        if last_seen.is_some() {
                            p.last_seen_at = last_seen;
                        }
                    }
                }
            }
            ServerEvent::ConversationUpdated {
                conversation_id,
                unread_count,
                last_read_seq,
                last_message,
                last_event_seq,
                last_activity_at,
                conversation,
            } => match conversation {
                Some(row) => self.merge_conversation(row),
                None => match self.conversation_mut(conversation_id) {
                    Some(row) => {
                        apply_row_update(
                            row,
                            unread_count,
                            last_read_seq,
                            last_message,
                            last_event_seq,
                            last_activity_at,
                        );
                    }
                    None => followups.push(Followup::RefreshConversation(conversation_id)),
                },
            },
            ServerEvent::ConversationRemoved { conversation_id } => {
                self.conversations.retain(|c| c.id != conversation_id);
                self.threads.remove(&conversation_id);
                self.outbox.retain(|o| o.conversation_id != conversation_id);
                followups.push(Followup::ConversationGone(conversation_id));
            }
            ServerEvent::Resumed { cursors, build } => {
                self.server_build = build;
                for (id, cursor) in cursors {
                    if let Some(thread) = self.threads.get_mut(&id) {
                        thread.cursor = Some(thread.cursor.unwrap_or(cursor).max(cursor));
                    }
                }
                self.link = match self.link {
                    Link::Starting | Link::Live => Link::Live,
                    Link::Reconnecting | Link::Restored => Link::Restored,
                };
            }
            ServerEvent::Error {
                code,
                message,
                reference,
                conversation_id,
            } => {
                if let Some(reference) = reference {
                    if let Some(outgoing) = self
                        .outbox
                        .iter_mut()
                        .find(|o| o.client_msg_id == reference)
                        && code != crate::api::ErrorCode::RateLimited
                    {
                        outgoing.failed = Some(message.clone());
                        followups.push(Followup::SendFailed(message));
                    }
                } else if let Some(id) = conversation_id {
                    // A cursor the server cannot honour: start that thread afresh.
                    self.threads.remove(&id);
                    followups.push(Followup::RefreshConversation(id));
                }
            }
            ServerEvent::NewNotification {
                notification,
                unread_count,
            } => {
                self.notifications.unread_count = unread_count;
                // Kept before the drawer's first page too: that page may
                // have been read before this arrived.
                let n = &mut self.notifications;
                n.items.retain(|item| item.id != notification.id);
                if n.view.takes(&notification) {
                    n.items.insert(0, notification);
                }
            }
            ServerEvent::NotificationsUpdated {
                unread_count,
                read,
                deleted,
                all_read,
                kind,
            } => {
                self.notifications.unread_count = unread_count;
                let items = &mut self.notifications.items;
                items.retain(|n| !deleted.contains(&n.id));
                for n in items.iter_mut() {
                    let matches_all = all_read && kind.is_none_or(|k| k == n.kind);
                    if (matches_all || read.contains(&n.id)) && n.read_at.is_none() {
                        n.read_at = Some(now);
                    }
                }
            }
            ServerEvent::Pong => {}
        }
        followups
    }

    fn apply_message(&mut self, message: Message) {
        let id = message.conversation_id;
        // Whoever sent a message has stopped typing it.
        self.typing
            .retain(|t| !(t.conversation_id == id && t.user_id == message.sender_id));
        if let Some(client_msg_id) = &message.client_msg_id
            && message.sender_id == self.me.id
        {
            self.outbox.retain(|o| &o.client_msg_id != client_msg_id);
        }
        if let Some(row) = self.conversation_mut(id)
            && row
                .last_message
                .as_ref()
                .is_none_or(|last| last.seq <= message.seq)
            && message.seq >= row.last_message_seq
        {
            row.last_message = Some(preview(&message));
            row.last_message_seq = message.seq;
            row.last_activity_at = row.last_activity_at.max(message.created_at);
        }
        if let Some(thread) = self.threads.get_mut(&id) {
            thread.note_pin(&message);
            thread.upsert(message);
        }
    }

    fn apply_reactions(
        &mut self,
        conversation_id: ConversationId,
        message_id: MessageId,
        event_seq: i64,
        reactions: Vec<ReactionSummary>,
    ) {
        let Some(thread) = self.threads.get_mut(&conversation_id) else {
            return;
        };
        if let Some(cursor) = thread.cursor.as_mut() {
            *cursor = (*cursor).max(event_seq);
        }
        if let Some(message) = thread.find_mut(message_id)
            && message.event_seq < event_seq
        {
            message.reactions = reactions;
            message.event_seq = event_seq;
        }
    }

    /// Drops typing indicators that ran out.
    pub fn expire_typing(&mut self, now: i64) -> bool {
        let before = self.typing.len();
        self.typing.retain(|t| t.until > now);
        before != self.typing.len()
    }

    /// Who is typing in a conversation, by name.
    pub fn typists(&self, id: ConversationId) -> Vec<String> {
        self.typing
            .iter()
            .filter(|t| t.conversation_id == id && t.user_id != self.me.id)
            .map(|t| t.name.clone())
            .collect()
    }

    /// Queues a send. It shows at once, marked as sending.
    pub fn queue(&mut self, outgoing: Outgoing) {
        if !self
            .outbox
            .iter()
            .any(|o| o.client_msg_id == outgoing.client_msg_id)
        {
            self.outbox.push(outgoing);
        }
    }

    /// Sends to put on a fresh connection, oldest first, each counted as an
    /// attempt; those tried too often are marked failed instead.
    pub fn sends_to_retry(&mut self) -> Vec<Outgoing> {
        let mut due = Vec::new();
        for outgoing in self.outbox.iter_mut().filter(|o| o.failed.is_none()) {
            if outgoing.attempts >= MAX_SEND_ATTEMPTS {
                outgoing.failed = Some("Not sent. Tap to retry.".to_owned());
                continue;
            }
            outgoing.attempts += 1;
            due.push(outgoing.clone());
        }
        due
    }

    /// "Tap to retry": a failed send starts over.
    pub fn retry(&mut self, client_msg_id: &str) -> Option<Outgoing> {
        let outgoing = self
            .outbox
            .iter_mut()
            .find(|o| o.client_msg_id == client_msg_id)?;
        outgoing.failed = None;
        outgoing.attempts = 1;
        Some(outgoing.clone())
    }

    /// Outgoing messages of a conversation, oldest first.
    pub fn pending(&self, id: ConversationId) -> Vec<Outgoing> {
        self.outbox
            .iter()
            .filter(|o| o.conversation_id == id)
            .cloned()
            .collect()
    }

    /// Notes locally that the user read up to `seq`; the server confirms
    /// with `conversationUpdated`.
    pub fn read_locally(&mut self, id: ConversationId, seq: i64) {
        let me = self.me.id;
        let unread = self.threads.get(&id).map(|thread| {
            thread
                .messages
                .range(seq + 1..)
                .filter(|(_, m)| m.sender_id != me && m.deleted_at.is_none())
                .count() as i64
        });
        if let Some(row) = self.conversation_mut(id)
            && seq > row.my_last_read_seq
        {
            row.my_last_read_seq = seq;
            if let Some(unread) = unread {
                row.unread_count = row.unread_count.min(unread);
            }
            row.mentions_me &= row.unread_count > 0;
        }
    }

    /// Taken when a fetch starts, and given back with its answer.
    pub fn mark(&self) -> Mark {
        Mark(self.pushes.count)
    }

    /// The drawer's first page, fetched after `mark` for `view`. The server
    /// may have read it before changes the socket pushed since, so it is
    /// merged with them: a notification pushed since (new, moved up, read)
    /// stays as pushed, one deleted since stays gone, one read since (alone
    /// or by "all read") stays read, and the bell keeps a count pushed
    /// since. So one answer does, however busy the feed.
    ///
    /// Returns false, taking nothing, when the user has switched to another
    /// view meanwhile, or the socket resumed (so the answer may lack
    /// what came while it was away): the drawer asks again.
    pub fn set_notifications(
        &mut self,
        page: NotificationPage,
        mark: Mark,
        view: NotificationView,
    ) -> bool {
        if view != self.notifications.view || mark.overtaken_by(self.pushes.resumed) {
            return false;
        }
        let pushed = std::mem::take(&mut self.pushes.notifications);
        let mut kept = std::mem::take(&mut self.notifications.items);
        // Of what the drawer holds, only pushes since the mark stay: the
        // answer includes the rest, or "Show older" brings it again.
        kept.retain(|n| pushed.touched_since(n.id, mark));
        let mut items = Vec::with_capacity(page.notifications.len() + kept.len());
        for mut fetched in page.notifications {
            if pushed.deleted_since(fetched.id, mark) {
                continue;
            }
            if let Some(at) = kept.iter().position(|n| n.id == fetched.id) {
                items.push(kept.swap_remove(at));
                continue;
            }
            // Read by a push that did not bring it.
            if pushed.touched_since(fetched.id, mark) || pushed.all_read_since(fetched.kind, mark) {
                fetched.read_at = fetched.read_at.or(Some(0));
            }
            items.push(fetched);
        }
        items.extend(kept);
        // The server's order: newest activity first.
        items.sort_by_key(|n| std::cmp::Reverse((n.updated_at, n.id)));
        let unread_count = if self.pushes.bell_since(mark) {
            self.notifications.unread_count
        } else {
            page.unread_count
        };
        self.notifications = Notifications {
            unread_count,
            items,
            has_more: page.has_more,
            loaded: true,
            view,
            restore_depth: self.notifications.restore_depth,
        };
        self.notifications.settle_restore();
        true
    }

    /// Switches the drawer to another view. Its first page is to be
    /// fetched (by the drawer, as after a resume); meanwhile the drawer
    /// shows what it holds that belongs there.
    pub fn show_notifications(&mut self, view: NotificationView) {
        let n = &mut self.notifications;
        if n.view == view {
            return;
        }
        n.view = view;
        n.loaded = false;
        n.restore_depth = 0;
        n.items.retain(|i| view.holds(i));
    }

    /// After a resume: a loaded drawer missed what was pushed while the
    /// socket was away (notifications are not replayed). Its first page is
    /// to be fetched again, by the drawer (at once if it is open, or when it
    /// next opens), and merged as the first one was
    /// ([`ChatModel::set_notifications`]); it shows what it has meanwhile.
    /// Then older pages, as many as it held ([`ChatModel::older_page_to_restore`]).
    pub fn notifications_missed(&mut self) {
        self.pushes.resumed = self.pushes.next();
        let n = &mut self.notifications;
        if n.loaded {
            n.restore_depth = n.items.len();
        }
        n.loaded = false;
    }

    /// After a resume's first page: where the next older page starts, while
    /// the drawer holds fewer notifications than it did before (the user
    /// had brought older ones with "Show older", and they may have been
    /// read or deleted elsewhere meanwhile, so they are fetched again).
    pub fn older_page_to_restore(&self) -> Option<NotificationId> {
        let n = &self.notifications;
        if n.loaded && n.has_more && n.items.len() < n.restore_depth {
            n.items.last().map(|i| i.id)
        } else {
            None
        }
    }

    /// The bell's count, fetched after `mark`. A push that arrived meanwhile
    /// carried a count at least as new, and every later change pushes again,
    /// so the fetched count is dropped then.
    pub fn fetched_notification_count(&mut self, count: i64, mark: Mark) {
        if !self.pushes.bell_since(mark) {
            self.notifications.unread_count = count;
        }
    }

    /// An older page ("Show older") for `view`; dropped when the user has
    /// switched views meanwhile.
    pub fn append_notifications(&mut self, page: NotificationPage, view: NotificationView) {
        let n = &mut self.notifications;
        if view != n.view {
            return;
        }
        let held = n.items.len();
        for item in page.notifications {
            if !n.items.iter().any(|i| i.id == item.id) {
                n.items.push(item);
            }
        }
        n.has_more = page.has_more;
        // A page that brought nothing new would be asked for again, from
        // the same place: the restore after a resume stops instead.
        if n.items.len() == held {
            n.restore_depth = 0;
        }
        n.settle_restore();
    }

    /// A notification the user read here. The server confirms with a push;
    /// until then the drawer and the badge follow locally.
    pub fn notification_read_locally(&mut self, id: NotificationId) {
        let n = &mut self.notifications;
        if let Some(item) = n
            .items
            .iter_mut()
            .find(|i| i.id == id && i.read_at.is_none())
        {
            item.read_at = Some(0);
            n.unread_count = (n.unread_count - 1).max(0);
        }
    }

    /// "Mark all read" of the drawer's view (of its kind, or of every kind),
    /// asked at `mark`; the server read `changed` notifications. The drawer
    /// and the badge follow locally until the server's own push. What was
    /// pushed since the mark is left alone (the server may have made it
    /// after it marked the rest; if not, its push of "all read" follows),
    /// as is the badge if a push since carried a count. The unread view
    /// lets go of what it read, as it is no longer what the user is
    /// looking at.
    pub fn notifications_all_read_locally(&mut self, mark: Mark, changed: u64) {
        let pushes = &self.pushes;
        let n = &mut self.notifications;
        // The drawer holds only what its view takes, so all of it is read.
        for item in n.items.iter_mut().filter(|i| i.read_at.is_none()) {
            if !Pushes::since(&pushes.brought, item.id, mark) {
                item.read_at = Some(0);
            }
        }
        if !pushes.bell_since(mark) {
            n.unread_count = (n.unread_count - i64::try_from(changed).unwrap_or(i64::MAX)).max(0);
        }
        if n.view.unread_only {
            n.items.retain(|i| i.read_at.is_none());
            n.has_more = false;
        }
    }

    pub fn notification_deleted_locally(&mut self, id: NotificationId) {
        let n = &mut self.notifications;
        if let Some(index) = n.items.iter().position(|i| i.id == id)
            && n.items.remove(index).read_at.is_none()
        {
            n.unread_count = (n.unread_count - 1).max(0);
        }
    }
}

fn apply_row_update(
    row: &mut ConversationSummary,
    unread_count: Option<i64>,
    last_read_seq: Option<i64>,
    last_message: Option<MessagePreview>,
    last_event_seq: Option<i64>,
    last_activity_at: Option<i64>,
) {
    if let Some(seq) = last_read_seq {
        // Counts travel with the read cursor: a stale pair never undoes a read.
        if seq >= row.my_last_read_seq {
            row.my_last_read_seq = seq;
            if let Some(count) = unread_count {
                row.unread_count = count;
            }
        }
    } else if let Some(count) = unread_count {
        row.unread_count = count;
    }
    // Read to the end: no unread mention is left.
    row.mentions_me &= row.unread_count > 0;
    if let Some(preview) = last_message
        && row
            .last_message
            .as_ref()
            .is_none_or(|known| known.seq <= preview.seq)
    {
        row.last_message_seq = row.last_message_seq.max(preview.seq);
        row.last_message = Some(preview);
    }
    if let Some(seq) = last_event_seq {
        row.last_event_seq = row.last_event_seq.max(seq);
    }
    if let Some(at) = last_activity_at {
        row.last_activity_at = row.last_activity_at.max(at);
    }
}

const PREVIEW_CHARS: usize = 140;

impl ConversationSummary {
    /// Unread and not muted (unless it mentions me), or marked as unread:
    /// where Alt+Shift+↓ goes next.
    pub fn asks_to_be_read(&self) -> bool {
        (self.unread_count > 0 && (!self.muted || self.mentions_me)) || self.marked_unread
    }

    /// Whether its title or a member's name contains `needle`, which is in
    /// lower case (see `format::lower_case`); every row matches an empty one.
    /// The list's filter and the forward dialog's.
    pub fn matches(&self, needle: &str) -> bool {
        needle.is_empty()
            || lower_case(&self.title).contains(needle)
            || self
                .participants
                .iter()
                .any(|p| lower_case(&p.display_name).contains(needle))
    }
}

/// The name a voice message is recorded under (`components::voice`).
pub const VOICE_MESSAGE_NAME: &str = "Voice message";

/// A one-line preview of a message body; `file` is its attachment's name
/// and type.
pub fn preview_text(
    kind: MessageKind,
    body: &str,
    deleted: bool,
    file: Option<(&str, &str)>,
) -> String {
    if deleted {
        return String::new();
    }
    let text: String = crate::format::plain_text(body)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let text = match (kind, text.is_empty()) {
        (MessageKind::Image, true) => "📷 Photo".to_owned(),
        (MessageKind::File, true) => match file {
            Some((name, kind))
                if kind.starts_with("audio/") && name.starts_with(VOICE_MESSAGE_NAME) =>
            {
                format!("🎤 {VOICE_MESSAGE_NAME}")
            }
            Some((name, _)) => format!("📎 {name}"),
            None => "📎 File".to_owned(),
        },
        _ => text,
    };
    if text.chars().count() <= PREVIEW_CHARS {
        text
    } else {
        let cut: String = text.chars().take(PREVIEW_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// A new message's alert: the sender and the text, or in a group or
/// broadcast, its title and "Sender: text" (a system message's text alone:
/// "Bob Stone added you" names its actor). A conversation this page does
/// not list yet (`row` none) is new: most likely someone starting a direct
/// chat.
fn message_alert(
    conversation: ConversationId,
    row: Option<&ConversationSummary>,
    sender_name: &str,
    kind: MessageKind,
    text: &str,
) -> Alert {
    let (title, body) = match row {
        Some(row) if row.kind != ConversationKind::Direct => {
            let body = match kind {
                MessageKind::System => text.to_owned(),
                _ => format!("{sender_name}: {text}"),
            };
            (row.title.clone(), body)
        }
        _ => (sender_name.to_owned(), text.to_owned()),
    };
    Alert {
        title,
        body,
        tag: format!("conversation-{conversation}"),
        url: format!("/c/{conversation}"),
    }
}

/// The list preview of a message, as the server makes it.
pub fn preview(message: &Message) -> MessagePreview {
    let text = preview_text(
        message.message_type,
        &message.content,
        message.deleted_at.is_some(),
        message
            .attachment
            .as_ref()
            .map(|a| (a.file_name.as_str(), a.content_type.as_str())),
    );
    MessagePreview {
        message_id: message.id,
        seq: message.seq,
        sender_id: message.sender_id,
        sender_name: message.sender_name.clone(),
        message_type: message.message_type,
        text,
        is_deleted: message.deleted_at.is_some(),
        created_at: message.created_at,
    }
}

/// The tick on one's own message: WhatsApp's sent, delivered and read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    Sending,
    Sent,
    Delivered,
    Read,
}

/// The tick for one's own message at `seq`: read when every other member has
/// read it, delivered when it reached every other member's devices.
pub fn tick_for(row: &ConversationSummary, me: UserId, seq: i64) -> Tick {
    let others: Vec<_> = row
        .participants
        .iter()
        .filter(|p| p.user_id != me)
        .collect();
    if others.is_empty() {
        return Tick::Sent;
    }
    if others.iter().all(|p| p.last_read_seq >= seq) {
        Tick::Read
    } else if others
        .iter()
        .all(|p| p.last_delivered_seq >= seq || p.last_read_seq >= seq)
    {
        Tick::Delivered
    } else {
        Tick::Sent
    }
}

/// Who of the others has read `seq`, by name (for a group's "read by").
pub fn readers(row: &ConversationSummary, me: UserId, seq: i64) -> Vec<String> {
    row.participants
        .iter()
        .filter(|p| p.user_id != me && p.last_read_seq >= seq)
        .map(|p| p.display_name.clone())
        .collect()
}

/// How many others a reaction's tooltip names; a long press names everyone.
pub const NAMED_IN_TOOLTIP: usize = 3;

/// Who reacted with `reaction`: "You and Bob Baker reacted with 👍". You
/// first, then members by name in the order they reacted, `named` at most
/// (a tooltip names [`NAMED_IN_TOOLTIP`], a long press everyone); the rest,
/// and people no longer in the conversation, are counted.
pub fn reacted_by(
    row: Option<&ConversationSummary>,
    me: UserId,
    reaction: &ReactionSummary,
    named: usize,
) -> String {
    let mut names: Vec<&str> = Vec::new();
    if reaction.me {
        names.push("You");
    }
    let members = row.map_or(&[][..], |row| &row.participants[..]);
    names.extend(
        reaction
            .user_ids
            .iter()
            .filter(|id| **id != me)
            .filter_map(|id| members.iter().find(|p| p.user_id == *id))
            .map(|p| p.display_name.as_str())
            .take(named),
    );
    let rest = usize::try_from(reaction.count)
        .unwrap_or(0)
        .saturating_sub(names.len());
    let who = match (names.split_last(), rest) {
        (None, 1) => "1 person".to_owned(),
        (None, _) => format!("{rest} people"),
        (Some((only, [])), 0) => (*only).to_owned(),
        (Some((last, first)), 0) => format!("{} and {last}", first.join(", ")),
        (Some(_), rest) => format!(
            "{} and {rest} other{}",
            names.join(", "),
            if rest == 1 { "" } else { "s" }
        ),
    };
    format!("{who} reacted with {}", reaction.emoji)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{BOB, ME, participant, row};
    use crate::protocol::{ConversationKind, MessageKind, OrgId, OrgRole};

    const C: ConversationId = ConversationId(10);

    fn me() -> Me {
        Me {
            id: ME,
            email: "alice@acme.test".into(),
            display_name: "Alice".into(),
            role: OrgRole::Member,
            org_id: OrgId(1),
            org_name: "Acme".into(),
        }
    }

    fn message(seq: i64, event_seq: i64, sender: UserId, content: &str) -> Message {
        Message {
            id: MessageId(100 + seq),
            conversation_id: C,
            seq,
            event_seq,
            sender_id: sender,
            sender_name: if sender == ME { "Alice" } else { "Bob" }.into(),
            client_msg_id: Some(format!("client-{seq}")),
            message_type: MessageKind::Text,
            content: content.into(),
            reply_to: None,
            attachment: None,
            forwarded_from: None,
            pinned: None,
            reactions: Vec::new(),
            created_at: 1000 + seq,
            edited_at: None,
            deleted_at: None,
        }
    }

    fn model() -> ChatModel {
        ChatModel::new(me(), vec![row(C, 0, 0)], 0)
    }

    fn contents(model: &ChatModel) -> Vec<String> {
        model.threads[&C]
            .messages
            .values()
            .map(|m| m.content.clone())
            .collect()
    }

    fn resumed(build: Option<&str>) -> ServerEvent {
        ServerEvent::Resumed {
            cursors: Default::default(),
            build: build.map(str::to_owned),
        }
    }

    /// Five rows, 1 to 5, in that order; 2 is unread, 3 muted and unread,
    /// 4 marked as unread.
    fn list_of_five() -> (ChatModel, Vec<ConversationId>) {
        let ids: Vec<ConversationId> = (1..=5).map(ConversationId).collect();
        let rows = ids
            .iter()
            .map(|id| {
                let mut row = row(*id, 0, 0);
                match id.0 {
                    2 => row.unread_count = 3,
                    3 => {
                        row.unread_count = 1;
                        row.muted = true;
                    }
                    4 => row.marked_unread = true,
                    _ => {}
                }
                row
            })
            .collect();
        (ChatModel::new(me(), rows, 0), ids)
    }

    #[test]
    fn alt_and_an_arrow_open_the_row_above_or_below_and_stop_at_the_ends() {
        let (model, ids) = list_of_five();
        let step = |from: Option<i64>, step| {
            model
                .step_conversation(&ids, from.map(ConversationId), step, false)
                .map(|id| id.0)
        };
        assert_eq!(step(Some(3), Step::Down), Some(4));
        assert_eq!(step(Some(3), Step::Up), Some(2));
        assert_eq!(step(Some(5), Step::Down), None, "no wrapping round");
        assert_eq!(step(Some(1), Step::Up), None);
        assert_eq!(step(None, Step::Down), Some(1), "nothing open: the first");
        assert_eq!(step(None, Step::Up), Some(5), "nothing open: the last");
        assert_eq!(step(Some(9), Step::Down), Some(1), "a row the filter hides");
        assert_eq!(model.step_conversation(&[], None, Step::Down, false), None);
    }

    #[test]
    fn alt_shift_and_an_arrow_find_the_nearest_unread_row_going_round_and_skip_muted_ones() {
        let (mut model, ids) = list_of_five();
        let unread = |model: &ChatModel, from: Option<i64>, step| {
            model
                .step_conversation(&ids, from.map(ConversationId), step, true)
                .map(|id| id.0)
        };
        assert_eq!(unread(&model, Some(2), Step::Down), Some(4), "3 is muted");
        assert_eq!(
            unread(&model, Some(4), Step::Down),
            Some(2),
            "round the end"
        );
        assert_eq!(unread(&model, Some(2), Step::Up), Some(4), "round the top");
        assert_eq!(unread(&model, Some(5), Step::Up), Some(4));
        assert_eq!(unread(&model, None, Step::Down), Some(2));
        assert_eq!(unread(&model, None, Step::Up), Some(4));
        // A mention in a muted conversation asks to be read.
        model
            .conversation_mut(ConversationId(3))
            .expect("row")
            .mentions_me = true;
        assert_eq!(unread(&model, Some(2), Step::Down), Some(3));
        // The open row alone is unread: nowhere to go.
        for id in [2, 3] {
            model
                .conversation_mut(ConversationId(id))
                .expect("row")
                .unread_count = 0;
        }
        assert_eq!(unread(&model, Some(4), Step::Down), None);
        assert_eq!(unread(&model, Some(4), Step::Up), None);
        assert_eq!(unread(&model, None, Step::Down), Some(4));
    }

    #[test]
    fn a_server_serving_another_build_than_the_page_s_offers_an_update() {
        let mut model = model();
        model.page_build = Some("aaaa".into());
        model.apply(resumed(Some("aaaa")), 0);
        assert!(!model.update_available());
        model.apply(resumed(Some("bbbb")), 0);
        assert!(model.update_available());
        // Back on a node of the page's own build (a deploy rolled back).
        model.apply(resumed(Some("aaaa")), 0);
        assert!(!model.update_available());
    }

    #[test]
    fn pages_and_servers_without_a_build_never_offer_an_update() {
        let mut model = model();
        model.apply(resumed(Some("bbbb")), 0);
        assert!(!model.update_available(), "a page that names no build");
        model.page_build = Some("aaaa".into());
        model.apply(resumed(None), 0);
        assert!(!model.update_available(), "a server that names no build");
    }

    #[test]
    fn a_message_applied_twice_appears_once() {
        let mut model = model();
        model.load_page(C, Vec::new(), false, Some(0));
        let first = message(1, 1, BOB, "hi");
        model.apply(ServerEvent::NewMessage(first.clone()), 0);
        model.apply(ServerEvent::NewMessage(first), 0);
        assert_eq!(contents(&model), vec!["hi"]);
        assert_eq!(model.threads[&C].cursor, Some(1));
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let mut model = model();
        model.load_page(C, vec![message(1, 5, BOB, "edited")], false, Some(5));
        model.apply(
            ServerEvent::MessageUpdated(message(1, 1, BOB, "original")),
            0,
        );
        assert_eq!(contents(&model), vec!["edited"]);
    }

    #[test]
    fn pins_list_the_last_pinned_first_and_leave_on_unpin_or_delete() {
        let pinned = |seq, event_seq, at, content: &str| Message {
            pinned: Some(crate::protocol::Pin {
                by: crate::protocol::Author {
                    user_id: BOB,
                    name: "Bob".into(),
                },
                at,
            }),
            ..message(seq, event_seq, BOB, content)
        };
        let listed = |model: &ChatModel| -> Vec<String> {
            model.threads[&C]
                .pinned
                .iter()
                .map(|m| m.content.clone())
                .collect()
        };
        let mut model = model();
        model.load_page(C, vec![message(1, 1, BOB, "one")], false, Some(4));
        model.load_pins(
            C,
            vec![pinned(3, 4, 200, "three"), pinned(2, 3, 100, "two")],
        );

        model.apply(ServerEvent::MessageUpdated(pinned(1, 5, 150, "one")), 0);
        assert_eq!(
            listed(&model),
            ["three", "one", "two"],
            "by when they were pinned"
        );
        model.apply(
            ServerEvent::MessageUpdated(pinned(2, 6, 100, "two, edited")),
            0,
        );
        assert_eq!(
            listed(&model),
            ["three", "one", "two, edited"],
            "an edit shows"
        );

        model.apply(ServerEvent::MessageUpdated(message(3, 7, BOB, "three")), 0);
        assert_eq!(listed(&model), ["one", "two, edited"], "unpinned");
        model.apply(ServerEvent::MessageUpdated(pinned(3, 4, 200, "three")), 0);
        assert_eq!(
            listed(&model),
            ["one", "two, edited"],
            "and a stale pin does not come back"
        );
        // Even a tombstone that still said pinned would leave the list.
        let deleted = Message {
            deleted_at: Some(9),
            ..pinned(1, 8, 150, "")
        };
        model.apply(
            ServerEvent::MessageDeleted {
                message_id: deleted.id,
                conversation_id: C,
                event_seq: 8,
                timestamp: 9,
                message: deleted,
            },
            0,
        );
        assert_eq!(listed(&model), ["two, edited"], "deleted");

        model.apply(ServerEvent::MessageUpdated(pinned(2, 3, 100, "two")), 0);
        assert_eq!(
            listed(&model),
            ["two, edited"],
            "an older version changes nothing"
        );
    }

    #[test]
    fn a_replay_overlapping_a_page_load_changes_nothing_twice() {
        let mut model = model();
        model.open_thread(C);
        // Live events arrive while the first page is loading...
        model.apply(ServerEvent::NewMessage(message(3, 3, BOB, "three")), 0);
        // ...and the page, read after, holds some of them too.
        let page = vec![
            message(1, 1, ME, "one"),
            message(2, 2, BOB, "two"),
            message(3, 3, BOB, "three"),
        ];
        model.load_page(C, page, false, Some(3));
        model.apply(ServerEvent::NewMessage(message(2, 2, BOB, "two")), 0);
        assert_eq!(contents(&model), vec!["one", "two", "three"]);
        assert_eq!(model.cursors(), BTreeMap::from([(C, 3)]));
    }

    #[test]
    fn the_acknowledgement_replaces_the_outgoing_message() {
        let mut model = model();
        model.load_page(C, Vec::new(), false, Some(0));
        model.queue(Outgoing {
            client_msg_id: "client-1".into(),
            conversation_id: C,
            content: "hi".into(),
            reply_to: None,
            attachment: None,
            created_at: 0,
            attempts: 1,
            failed: None,
        });
        assert_eq!(model.pending(C).len(), 1);
        let stored = message(1, 1, ME, "hi");
        model.apply(
            ServerEvent::MessageDelivered {
                client_msg_id: "client-1".into(),
                message_id: stored.id,
                conversation_id: C,
                timestamp: 0,
                message: stored,
            },
            0,
        );
        assert!(model.pending(C).is_empty());
        assert_eq!(contents(&model), vec!["hi"]);
        // Another tab's copy of the same message leaves nothing behind either.
        assert_eq!(model.conversation(C).unwrap().last_message_seq, 1);
    }

    #[test]
    fn unanswered_sends_fail_after_three_attempts_and_a_retry_starts_over() {
        let mut model = model();
        model.queue(Outgoing {
            client_msg_id: "x".into(),
            conversation_id: C,
            content: "hi".into(),
            reply_to: None,
            attachment: None,
            created_at: 0,
            attempts: 1,
            failed: None,
        });
        assert_eq!(model.sends_to_retry().len(), 1);
        assert_eq!(model.sends_to_retry().len(), 1);
        assert!(model.sends_to_retry().is_empty());
        assert!(model.pending(C)[0].failed.is_some());
        assert!(model.retry("x").is_some());
        assert_eq!(model.sends_to_retry().len(), 1);
    }

    #[test]
    fn a_refused_send_fails_but_a_rate_limited_one_waits() {
        let mut model = model();
        for id in ["a", "b"] {
            model.queue(Outgoing {
                client_msg_id: id.into(),
                conversation_id: C,
                content: "hi".into(),
                reply_to: None,
                attachment: None,
                created_at: 0,
                attempts: 1,
                failed: None,
            });
        }
        let error = |code, reference: &str| ServerEvent::Error {
            code,
            message: "no".into(),
            reference: Some(reference.into()),
            conversation_id: None,
        };
        model.apply(error(crate::api::ErrorCode::Forbidden, "a"), 0);
        model.apply(error(crate::api::ErrorCode::RateLimited, "b"), 0);
        let pending = model.pending(C);
        assert!(pending[0].failed.is_some());
        assert!(pending[1].failed.is_none());
    }

    #[test]
    fn reactions_apply_once_and_in_event_order() {
        let mut model = model();
        model.load_page(C, vec![message(1, 1, BOB, "hi")], false, Some(1));
        let thumbs = |count| {
            vec![ReactionSummary {
                emoji: "👍".into(),
                count,
                me: false,
                user_ids: Vec::new(),
            }]
        };
        let change = |event_seq, count| ServerEvent::ReactionsChanged {
            message_id: MessageId(101),
            conversation_id: C,
            event_seq,
            reactions: thumbs(count),
        };
        model.apply(change(3, 2), 0);
        model.apply(change(2, 1), 0);
        assert_eq!(model.threads[&C].messages[&1].reactions, thumbs(2));
        assert_eq!(model.threads[&C].cursor, Some(3));
    }

    #[test]
    fn the_list_sorts_by_activity_and_a_snapshot_never_overwrites_newer_rows() {
        let other = ConversationId(11);
        let mut model = ChatModel::new(me(), vec![row(C, 5, 100), row(other, 1, 200)], 0);
        assert_eq!(model.sorted_conversations()[0].id, other);
        let before = model.mark();
        model.apply(ServerEvent::NewMessage(message(6, 6, BOB, "new")), 0);
        model.apply(
            ServerEvent::ConversationUpdated {
                conversation_id: C,
                unread_count: Some(1),
                last_read_seq: Some(0),
                last_message: None,
                last_event_seq: Some(6),
                last_activity_at: Some(1006),
                conversation: None,
            },
            0,
        );
        assert_eq!(model.sorted_conversations()[0].id, C);
        assert_eq!(model.conversation(C).unwrap().unread_count, 1);
        // A list fetched before that event arrives late.
        model.merge_fetched_list(vec![row(C, 5, 100), row(other, 1, 200)], before);
        assert_eq!(model.conversation(C).unwrap().last_event_seq, 6);
        assert_eq!(model.conversation(C).unwrap().unread_count, 1);
        assert_eq!(model.sorted_conversations()[0].id, C);
        // A conversation the server no longer lists is gone.
        let mark = model.mark();
        model.merge_fetched_list(vec![row(C, 6, 1006)], mark);
        assert!(model.conversation(other).is_none());
    }

    #[test]
    fn a_list_fetched_before_pushes_is_taken_at_once_and_never_undoes_what_the_socket_said() {
        let (read_elsewhere, created, left) =
            (ConversationId(11), ConversationId(12), ConversationId(13));
        let unread = |id| ConversationSummary {
            unread_count: 2,
            ..row(id, 4, 100)
        };
        let mut model = ChatModel::new(me(), vec![unread(read_elsewhere), row(left, 1, 50)], 0);
        // The page reconnects and asks for its list; the server reads it.
        let mark = model.mark();
        let stale = vec![unread(read_elsewhere), row(left, 1, 50)];
        // Before the answer arrives, the socket says: read in another tab, a
        // new conversation, one left, and Bob came online.
        model.apply(
            ServerEvent::ConversationUpdated {
                conversation_id: read_elsewhere,
                unread_count: Some(0),
                last_read_seq: Some(4),
                last_message: None,
                last_event_seq: None,
                last_activity_at: None,
                conversation: None,
            },
            0,
        );
        model.apply(
            ServerEvent::ConversationUpdated {
                conversation_id: created,
                unread_count: None,
                last_read_seq: None,
                last_message: None,
                last_event_seq: None,
                last_activity_at: None,
                conversation: Some(row(created, 0, 300)),
            },
            0,
        );
        model.apply(
            ServerEvent::ConversationRemoved {
                conversation_id: left,
            },
            0,
        );
        model.apply(
            ServerEvent::UserStatusChanged {
                user_id: BOB,
                is_online: true,
                last_seen: None,
                timestamp: 0,
            },
            0,
        );

        model.merge_fetched_list(stale, mark);
        assert_eq!(model.conversation(read_elsewhere).unwrap().unread_count, 0);
        assert!(model.conversation(created).is_some());
        assert!(model.conversation(left).is_none());

        // A row fetched meanwhile keeps Bob's presence as pushed.
        let other = ConversationId(14);
        model.merge_fetched_conversation(row(other, 1, 400), mark);
        let bob = |model: &ChatModel| model.conversation(other).unwrap().participants[1].is_online;
        assert!(bob(&model));
        // Fetched after it, the row is taken as it is.
        let after = model.mark();
        model.merge_fetched_conversation(row(other, 2, 500), after);
        assert!(!bob(&model));
    }

    fn counts_pushed(id: ConversationId, unread: i64, read: i64, event_seq: i64) -> ServerEvent {
        ServerEvent::ConversationUpdated {
            conversation_id: id,
            unread_count: Some(unread),
            last_read_seq: Some(read),
            last_message: None,
            last_event_seq: Some(event_seq),
            last_activity_at: Some(1000 + event_seq),
            conversation: None,
        }
    }

    #[test]
    fn a_group_renamed_while_the_page_was_away_takes_its_new_name_though_messages_keep_arriving() {
        let group = |title: &str, event_seq| ConversationSummary {
            kind: ConversationKind::Group,
            title: title.into(),
            ..row(C, event_seq, 1000 + event_seq)
        };
        let mut model = ChatModel::new(me(), vec![group("Renewals", 3)], 0);
        // Back online: the list is asked for, and the server reads it
        // (renamed while the page was away; Bob has read to 3)...
        let mark = model.mark();
        let mut fetched = group("Renewals desk", 5);
        fetched.participants[1].last_read_seq = 3;
        // ...then Bob writes, the socket says so, and he reads it.
        model.apply(ServerEvent::NewMessage(message(6, 6, BOB, "hi")), 0);
        model.apply(counts_pushed(C, 1, 0, 6), 0);
        model.apply(
            ServerEvent::MessagesRead {
                conversation_id: C,
                read_by: BOB,
                up_to_seq: 6,
                timestamp: 0,
            },
            0,
        );

        model.merge_fetched_list(vec![fetched], mark);
        let row = model.conversation(C).unwrap();
        assert_eq!(row.title, "Renewals desk", "from the answer");
        assert_eq!(row.unread_count, 1, "as pushed");
        assert_eq!(row.last_message_seq, 6, "as pushed");
        assert_eq!(row.last_event_seq, 6, "the larger");
        assert_eq!(row.last_activity_at, 1006, "the larger");
        assert_eq!(row.participants[1].last_read_seq, 6, "the larger");
    }

    #[test]
    fn a_read_pushed_during_a_fetch_keeps_the_preview_of_messages_missed_while_away() {
        let mut model = model();
        let mark = model.mark();
        // Read to the end in another tab: the push carries counts, no preview.
        model.apply(counts_pushed(C, 0, 4, 4), 0);
        let away = message(4, 4, BOB, "sent while you were away");
        let fetched = ConversationSummary {
            last_message: Some(preview(&away)),
            last_message_seq: 4,
            my_last_read_seq: 4,
            ..row(C, 4, 1004)
        };
        model.merge_fetched_list(vec![fetched], mark);
        let row = model.conversation(C).unwrap();
        assert_eq!(
            row.last_message.as_ref().map(|p| p.text.as_str()),
            Some("sent while you were away")
        );
        assert_eq!(row.last_message_seq, 4);

        // An edit of that message pushed during the next fetch stands.
        let mark = model.mark();
        model.apply(
            ServerEvent::MessageUpdated(Message {
                edited_at: Some(2000),
                ..message(4, 5, BOB, "edited")
            }),
            0,
        );
        let fetched = model.conversation(C).cloned().map(|r| ConversationSummary {
            last_message: Some(preview(&away)),
            ..r
        });
        model.merge_fetched_list(fetched.into_iter().collect(), mark);
        let row = model.conversation(C).unwrap();
        assert_eq!(
            row.last_message.as_ref().map(|p| p.text.as_str()),
            Some("edited")
        );
    }

    #[test]
    fn a_row_the_socket_pushed_whole_during_a_fetch_stays_as_the_socket_left_it() {
        let mut model = model();
        let mark = model.mark();
        let pinned = ConversationSummary {
            pinned_at: Some(5_000),
            ..row(C, 0, 0)
        };
        model.apply(
            ServerEvent::ConversationUpdated {
                conversation_id: C,
                unread_count: Some(0),
                last_read_seq: Some(0),
                last_message: None,
                last_event_seq: Some(0),
                last_activity_at: Some(0),
                conversation: Some(pinned.clone()),
            },
            0,
        );
        model.merge_fetched_conversation(row(C, 0, 0), mark);
        assert_eq!(model.conversation(C), Some(&pinned));
    }

    #[test]
    fn a_read_on_this_page_is_not_undone_by_a_list_the_server_read_before_it() {
        let mut model = model();
        model.load_page(
            C,
            vec![message(1, 1, BOB, "a"), message(2, 2, BOB, "b")],
            false,
            Some(2),
        );
        model.apply(counts_pushed(C, 2, 0, 2), 0);
        let mark = model.mark();
        model.read_locally(C, 2);
        let fetched = ConversationSummary {
            unread_count: 2,
            ..row(C, 2, 1002)
        };
        model.merge_fetched_list(vec![fetched], mark);
        assert_eq!(model.conversation(C).unwrap().unread_count, 0);
        assert_eq!(model.conversation(C).unwrap().my_last_read_seq, 2);

        // Read here, but no longer the user's (removed while away): gone.
        let mark = model.mark();
        model.read_locally(C, 3);
        model.merge_fetched_list(Vec::new(), mark);
        assert!(model.conversation(C).is_none());
    }

    #[test]
    fn pinned_conversations_stay_on_top_most_recently_pinned_first() {
        let (quiet, busy) = (ConversationId(11), ConversationId(12));
        let mut model = ChatModel::new(
            me(),
            vec![row(C, 1, 100), row(quiet, 1, 50), row(busy, 1, 300)],
            0,
        );
        let order = |model: &ChatModel| {
            model
                .sorted_conversations()
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        let pinned_at = |id, activity, at| ConversationSummary {
            pinned_at: Some(at),
            ..row(id, 1, activity)
        };
        assert_eq!(order(&model), vec![busy, C, quiet]);
        model.merge_conversation(pinned_at(quiet, 50, 1_000));
        assert_eq!(order(&model), vec![quiet, busy, C]);
        model.merge_conversation(pinned_at(C, 100, 2_000));
        assert_eq!(order(&model), vec![C, quiet, busy], "the newest pin first");
        // Activity neither reorders the pinned ones nor lifts a row past them.
        model.merge_conversation(pinned_at(quiet, 9_000, 1_000));
        model.merge_conversation(row(busy, 1, 9_500));
        assert_eq!(order(&model), vec![C, quiet, busy]);
        model.merge_conversation(row(C, 1, 100));
        assert_eq!(order(&model), vec![quiet, busy, C], "unpinned");
    }

    #[test]
    fn the_up_arrow_edits_my_newest_text_message_while_it_is_editable() {
        let mut thread = Thread::default();
        let now = 2_000;
        assert_eq!(thread.last_editable(ME, now), None, "nothing yet");
        thread.upsert(message(1, 1, ME, "first"));
        thread.upsert(message(2, 2, ME, "second"));
        thread.upsert(message(3, 3, BOB, "Bob's, newer"));
        let edit = |thread: &Thread, now| thread.last_editable(ME, now).map(|m| m.content.clone());
        assert_eq!(
            edit(&thread, now),
            Some("second".into()),
            "mine, not the newest of all"
        );
        thread.upsert(Message {
            deleted_at: Some(1_500),
            content: String::new(),
            event_seq: 4,
            ..message(2, 4, ME, "")
        });
        assert_eq!(
            edit(&thread, now),
            Some("first".into()),
            "a deleted one is skipped"
        );
        thread.upsert(Message {
            message_type: MessageKind::File,
            ..message(5, 5, ME, "")
        });
        assert_eq!(
            edit(&thread, now),
            Some("first".into()),
            "a file has no text to edit"
        );
        thread.upsert(Message {
            forwarded_from: Some(crate::protocol::Author {
                user_id: BOB,
                name: "Bob".into(),
            }),
            ..message(6, 6, ME, "Bob's words, forwarded")
        });
        assert_eq!(
            edit(&thread, now),
            Some("first".into()),
            "a forwarded message is the original's words, not mine to edit"
        );
        thread.upsert(message(7, 7, ME, "too old"));
        let late = 1_007 + crate::protocol::EDIT_WINDOW_MS + 1;
        assert_eq!(
            edit(&thread, late),
            None,
            "past the window: nothing, not an older one"
        );
    }

    #[test]
    fn ticks_go_sent_delivered_read() {
        let mut model = model();
        let tick = |model: &ChatModel| tick_for(model.conversation(C).unwrap(), ME, 1);
        assert_eq!(tick(&model), Tick::Sent);
        model.apply(
            ServerEvent::MessagesDelivered {
                conversation_id: C,
                delivered_to: BOB,
                up_to_seq: 1,
            },
            0,
        );
        assert_eq!(tick(&model), Tick::Delivered);
        model.apply(
            ServerEvent::MessagesRead {
                conversation_id: C,
                read_by: BOB,
                up_to_seq: 1,
                timestamp: 0,
            },
            0,
        );
        assert_eq!(tick(&model), Tick::Read);
        assert_eq!(readers(model.conversation(C).unwrap(), ME, 1), vec!["Bob"]);
    }

    #[test]
    fn a_reaction_names_who_reacted_you_first_and_counts_the_rest() {
        let mut group = row(C, 1, 0);
        for (id, name) in [(3, "Carol"), (4, "Dave"), (5, "Erin")] {
            group.participants.push(participant(UserId(id), name));
        }
        let said = |ids: &[i64], me: bool| {
            let reaction = ReactionSummary {
                emoji: "👍".into(),
                count: ids.len() as i64,
                me,
                user_ids: ids.iter().map(|id| UserId(*id)).collect(),
            };
            reacted_by(Some(&group), ME, &reaction, NAMED_IN_TOOLTIP)
        };
        assert_eq!(said(&[1], true), "You reacted with 👍");
        assert_eq!(said(&[2, 1], true), "You and Bob reacted with 👍");
        assert_eq!(
            said(&[3, 2, 4], false),
            "Carol, Bob and Dave reacted with 👍"
        );
        assert_eq!(
            said(&[3, 1, 2, 4, 5], true),
            "You, Carol, Bob, Dave and 1 other reacted with 👍"
        );
        assert_eq!(
            said(&[2, 99, 98], false),
            "Bob and 2 others reacted with 👍",
            "people who left are counted"
        );
        assert_eq!(said(&[99], false), "1 person reacted with 👍");

        // A long press names everyone still in the conversation.
        let everyone = ReactionSummary {
            emoji: "👍".into(),
            count: 6,
            me: true,
            user_ids: [3, 1, 2, 4, 5, 99].into_iter().map(UserId).collect(),
        };
        assert_eq!(
            reacted_by(Some(&group), ME, &everyone, usize::MAX),
            "You, Carol, Bob, Dave, Erin and 1 other reacted with 👍"
        );
    }

    #[test]
    fn typing_expires_and_stops_when_the_typist_sends() {
        let mut model = model();
        let typing = ServerEvent::UserTyping {
            conversation_id: C,
            user_id: BOB,
            user_name: "Bob".into(),
            is_typing: true,
        };
        model.apply(typing.clone(), 0);
        assert_eq!(model.typists(C), vec!["Bob"]);
        assert!(!model.expire_typing(TYPING_TTL_MS - 1));
        assert!(model.expire_typing(TYPING_TTL_MS));
        model.apply(typing, 0);
        model.apply(ServerEvent::NewMessage(message(1, 1, BOB, "done")), 0);
        assert!(model.typists(C).is_empty());
    }

    #[test]
    fn the_new_messages_line_sits_above_the_first_unread_message_from_others() {
        let mut model = model();
        model.conversations[0].my_last_read_seq = 1;
        let page = vec![
            message(1, 1, BOB, "read"),
            message(2, 2, ME, "mine"),
            message(3, 3, BOB, "unread"),
        ];
        model.load_page(C, page, false, Some(3));
        assert_eq!(model.threads[&C].first_unread_seq, Some(3));
    }

    #[test]
    fn opening_a_thread_again_puts_the_new_line_above_what_is_unread_then() {
        let mut model = model();
        let page = vec![message(1, 1, BOB, "a"), message(2, 2, BOB, "b")];
        model.load_page(C, page.clone(), false, Some(2));
        assert_eq!(model.threads[&C].first_unread_seq, Some(1));
        model.read_locally(C, 2);
        model.load_page(C, page, false, Some(2));
        assert_eq!(model.threads[&C].first_unread_seq, None, "all read by then");
    }

    #[test]
    fn a_thread_marked_unread_from_a_message_shows_the_new_line_above_it() {
        let mut model = model();
        model.conversations[0].my_last_read_seq = 4;
        let page = vec![
            message(1, 1, BOB, "read"),
            message(2, 2, BOB, "marked"),
            message(3, 3, ME, "mine"),
            message(4, 4, BOB, "read too"),
        ];
        model.load_page(C, page, false, Some(4));
        assert_eq!(model.threads[&C].first_unread_seq, None, "all read");
        model.mark_new_from(C, 2);
        assert_eq!(model.threads[&C].first_unread_seq, Some(2));
    }

    #[test]
    fn marking_the_open_thread_unread_moves_the_new_line_to_the_marked_message() {
        let mut model = model();
        model.conversations[0].my_last_read_seq = 1;
        let page = vec![
            message(1, 1, BOB, "read"),
            message(2, 2, BOB, "unread at the opening"),
            message(3, 3, BOB, "marked"),
        ];
        model.load_page(C, page, false, Some(3));
        model.read_locally(C, 3);
        model.new_line_from(C, 3);
        assert_eq!(model.threads[&C].first_unread_seq, Some(3));
    }

    #[test]
    fn a_mark_after_the_first_unread_message_leaves_the_new_line_where_it_is() {
        let mut model = model();
        model.conversations[0].my_last_read_seq = 1;
        let page = vec![
            message(1, 1, BOB, "read"),
            message(2, 2, BOB, "unread"),
            message(3, 3, BOB, "marked"),
        ];
        model.load_page(C, page, false, Some(3));
        model.mark_new_from(C, 3);
        assert_eq!(model.threads[&C].first_unread_seq, Some(2));
    }

    #[test]
    fn an_older_page_with_earlier_unread_messages_moves_the_new_line_up_to_them() {
        let mut model = model();
        model.conversations[0].my_last_read_seq = 1;
        let page = vec![message(4, 4, BOB, "d"), message(5, 5, BOB, "e")];
        model.load_page(C, page, true, Some(5));
        assert_eq!(model.threads[&C].first_unread_seq, Some(4));
        assert!(model.threads[&C].unread_before_loaded());
        model.read_locally(C, 5);
        let older = vec![
            message(1, 1, BOB, "a"),
            message(2, 2, BOB, "b"),
            message(3, 3, BOB, "c"),
        ];
        model.load_page(C, older, false, None);
        assert_eq!(
            model.threads[&C].first_unread_seq,
            Some(2),
            "unread when the thread opened, though read since"
        );
        assert!(!model.threads[&C].unread_before_loaded());
    }

    #[test]
    fn a_message_that_arrives_while_the_thread_is_open_gets_no_new_line_from_an_older_page() {
        let mut model = model();
        model.conversations[0].my_last_read_seq = 3;
        let page = vec![message(2, 2, BOB, "b"), message(3, 3, BOB, "c")];
        model.load_page(C, page, true, Some(3));
        assert_eq!(model.threads[&C].first_unread_seq, None, "all read");
        model.apply(ServerEvent::NewMessage(message(4, 4, BOB, "live")), 0);
        model.load_page(C, vec![message(1, 1, BOB, "a")], false, None);
        assert_eq!(model.threads[&C].first_unread_seq, None);
    }

    #[test]
    fn reading_locally_lowers_the_count_and_never_moves_back() {
        let mut model = model();
        model.conversations[0].unread_count = 2;
        model.load_page(
            C,
            vec![message(1, 1, BOB, "a"), message(2, 2, BOB, "b")],
            false,
            Some(2),
        );
        model.read_locally(C, 1);
        assert_eq!(model.conversation(C).unwrap().unread_count, 1);
        model.read_locally(C, 2);
        model.read_locally(C, 1);
        let row = model.conversation(C).unwrap();
        assert_eq!((row.unread_count, row.my_last_read_seq), (0, 2));
    }

    #[test]
    fn older_pages_extend_the_thread_backwards() {
        let mut model = model();
        model.load_page(C, vec![message(3, 3, BOB, "c")], true, Some(3));
        model.load_page(
            C,
            vec![message(1, 1, BOB, "a"), message(2, 2, BOB, "b")],
            false,
            None,
        );
        assert_eq!(contents(&model), vec!["a", "b", "c"]);
        assert!(!model.threads[&C].has_more);
        assert_eq!(model.threads[&C].cursor, Some(3));
    }

    #[test]
    fn previews_collapse_whitespace_drop_style_markers_and_are_cut_at_140_characters() {
        assert_eq!(
            preview_text(MessageKind::Text, "a\n\n  b", false, None),
            "a b"
        );
        assert_eq!(
            preview_text(MessageKind::Text, "*call* them _today_", false, None),
            "call them today"
        );
        let long = "x".repeat(500);
        let preview = preview_text(MessageKind::Text, &long, false, None);
        assert_eq!(preview.chars().count(), 140);
        assert!(preview.ends_with('…'));
    }

    #[test]
    fn a_deleted_message_has_no_preview_text() {
        assert_eq!(preview_text(MessageKind::Text, "secret", true, None), "");
    }

    #[test]
    fn attachments_without_a_caption_say_what_they_are() {
        assert_eq!(
            preview_text(MessageKind::Image, "", false, None),
            "📷 Photo"
        );
        assert_eq!(
            preview_text(
                MessageKind::File,
                "",
                false,
                Some(("q3.pdf", "application/pdf"))
            ),
            "📎 q3.pdf"
        );
        let voice = ("Voice message.webm", "audio/webm");
        assert_eq!(
            preview_text(MessageKind::File, "", false, Some(voice)),
            "🎤 Voice message"
        );
        assert_eq!(
            preview_text(
                MessageKind::File,
                "",
                false,
                Some(("intro.mp3", "audio/mpeg"))
            ),
            "📎 intro.mp3",
            "an audio file someone attached"
        );
    }

    #[test]
    fn a_live_preview_reads_like_the_servers() {
        let mut photo = message(1, 1, BOB, "");
        photo.message_type = MessageKind::Image;
        photo.attachment = Some(crate::protocol::Attachment {
            id: crate::protocol::AttachmentId(7),
            file_name: "IMG_0042.jpg".into(),
            content_type: "image/jpeg".into(),
            size_bytes: 1,
            width: None,
            height: None,
            url: String::new(),
        });
        assert_eq!(preview(&photo).text, "📷 Photo");
        assert_eq!(
            preview(&message(2, 2, BOB, "two\n\nlines")).text,
            "two lines"
        );
    }

    #[test]
    fn a_new_message_from_someone_else_alerts_once() {
        let model = model();
        let alert = model
            .alert_for(&ServerEvent::NewMessage(message(1, 1, BOB, "Call me?")))
            .expect("an alert");
        assert_eq!(alert.title, "Bob");
        assert_eq!(alert.body, "Call me?");
        assert_eq!(alert.url, format!("/c/{C}"));
        assert_eq!(alert.tag, format!("conversation-{C}"));

        let mut model = model;
        model.apply(ServerEvent::NewMessage(message(1, 1, BOB, "Call me?")), 0);
        let again = model.alert_for(&ServerEvent::NewMessage(message(1, 1, BOB, "Call me?")));
        assert_eq!(again, None, "a replayed message is not new");
    }

    #[test]
    fn a_list_fetched_ahead_of_the_socket_does_not_swallow_the_alert() {
        let mut model = model();
        // A refreshed row already knows message 2 when its event arrives.
        model.conversations[0].last_message_seq = 2;
        let alert = model.alert_for(&ServerEvent::NewMessage(message(2, 2, BOB, "Still there?")));
        assert!(alert.is_some());
    }

    #[test]
    fn no_alert_for_my_own_muted_read_or_deleted_messages() {
        let mut model = model();
        let mine = ServerEvent::NewMessage(message(1, 1, ME, "hi"));
        assert_eq!(model.alert_for(&mine), None);

        let mut deleted = message(1, 1, BOB, "");
        deleted.deleted_at = Some(5);
        assert_eq!(model.alert_for(&ServerEvent::NewMessage(deleted)), None);

        model.conversations[0].my_last_read_seq = 3;
        assert_eq!(
            model.alert_for(&ServerEvent::NewMessage(message(3, 3, BOB, "read"))),
            None
        );

        model.conversations[0].muted = true;
        assert_eq!(
            model.alert_for(&ServerEvent::NewMessage(message(4, 4, BOB, "muted"))),
            None
        );
    }

    #[test]
    fn an_unread_mention_of_me_marks_the_row_until_it_is_read() {
        let mut model = model();
        let said = |model: &mut ChatModel, seq, sender, text: &str| {
            model.apply(ServerEvent::NewMessage(message(seq, seq, sender, text)), 0);
            model.conversations[0].mentions_me
        };
        assert!(!said(&mut model, 1, BOB, "mail alice@acme.test"));
        assert!(said(&mut model, 2, BOB, "@Alice the Initech lead?"));
        assert!(said(&mut model, 3, BOB, "a later message keeps it"));
        model.apply(
            ServerEvent::ConversationUpdated {
                conversation_id: C,
                unread_count: Some(0),
                last_read_seq: Some(3),
                last_message: None,
                last_event_seq: None,
                last_activity_at: None,
                conversation: None,
            },
            0,
        );
        assert!(!model.conversations[0].mentions_me, "read to the end");
        assert!(!said(&mut model, 4, ME, "@Alice a note to myself"));
    }

    #[test]
    fn a_mention_of_me_alerts_even_in_a_muted_conversation() {
        let mut model = model();
        model.conversations[0].muted = true;
        let mention = message(1, 1, BOB, "@alice can you take the Initech lead?");
        let alert = model.alert_for(&ServerEvent::NewMessage(mention));
        assert!(alert.is_some_and(|a| a.body.contains("Initech")));
        let address = message(2, 2, BOB, "mail alice@acme.test");
        assert_eq!(model.alert_for(&ServerEvent::NewMessage(address)), None);
    }

    #[test]
    fn a_group_alert_names_the_group_and_the_sender() {
        let mut model = model();
        model.conversations[0].kind = ConversationKind::Group;
        model.conversations[0].title = "Q3 pipeline".into();
        let alert = model
            .alert_for(&ServerEvent::NewMessage(message(
                1,
                1,
                BOB,
                "Numbers are in",
            )))
            .expect("an alert");
        assert_eq!(alert.title, "Q3 pipeline");
        assert_eq!(alert.body, "Bob: Numbers are in");
    }

    #[test]
    fn a_system_message_alerts_with_its_text_alone_as_it_names_its_actor() {
        let mut model = model();
        model.conversations[0].kind = ConversationKind::Group;
        model.conversations[0].title = "Q3 pipeline".into();
        let mut added = message(1, 1, BOB, "Bob added Carol");
        added.message_type = MessageKind::System;
        let alert = model
            .alert_for(&ServerEvent::NewMessage(added))
            .expect("an alert");
        assert_eq!(alert.title, "Q3 pipeline");
        assert_eq!(alert.body, "Bob added Carol");
    }

    #[test]
    fn a_crm_notification_alerts_but_a_chat_messages_own_does_not() {
        let model = model();
        let notification = |kind, link: Option<&str>| {
            let link = link.map(str::to_owned);
            pushed(
                Notification {
                    kind,
                    link,
                    ..lead_assigned(9)
                },
                1,
            )
        };
        let lead = model
            .alert_for(&notification(
                NotificationKind::LeadAssigned,
                Some("https://crm.example.com/leads/7"),
            ))
            .expect("an alert");
        assert_eq!(
            (lead.title.as_str(), lead.body.as_str(), lead.url.as_str()),
            (
                "Lead assigned: Initech",
                "50 seats",
                "https://crm.example.com/leads/7"
            )
        );
        let reminder = model
            .alert_for(&notification(NotificationKind::Reminder, None))
            .expect("an alert");
        assert_eq!(reminder.url, "/");
        assert_eq!(
            model.alert_for(&notification(NotificationKind::NewMessage, Some("/c/10"))),
            None
        );
    }

    fn lead_assigned(id: i64) -> Notification {
        Notification {
            id: NotificationId(id),
            kind: NotificationKind::LeadAssigned,
            title: "Lead assigned: Initech".into(),
            body: "50 seats".into(),
            metadata: serde_json::Value::Null,
            link: None,
            actor: None,
            conversation_id: None,
            count: 1,
            read_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn pushed(notification: Notification, unread_count: i64) -> ServerEvent {
        ServerEvent::NewNotification {
            notification,
            unread_count,
        }
    }

    #[test]
    fn a_count_fetched_before_a_pushed_notification_does_not_take_its_badge_away() {
        let mut model = model();
        // The page connects and asks for the count; the server reads 0.
        let mark = model.mark();
        // The CRM's notification is pushed before that answer arrives.
        model.apply(pushed(lead_assigned(9), 1), 0);
        model.fetched_notification_count(0, mark);
        assert_eq!(model.notifications.unread_count, 1);
        // With no push on the way, the fetched count stands.
        let mark = model.mark();
        model.fetched_notification_count(3, mark);
        assert_eq!(model.notifications.unread_count, 3);
    }

    fn notification_at(id: i64, kind: NotificationKind, updated_at: i64) -> Notification {
        Notification {
            kind,
            updated_at,
            ..lead_assigned(id)
        }
    }

    fn updated(unread_count: i64, read: &[i64], deleted: &[i64]) -> ServerEvent {
        ServerEvent::NotificationsUpdated {
            unread_count,
            read: read.iter().copied().map(NotificationId).collect(),
            deleted: deleted.iter().copied().map(NotificationId).collect(),
            all_read: false,
            kind: None,
        }
    }

    fn ids(model: &ChatModel) -> Vec<(i64, bool)> {
        let items = &model.notifications.items;
        items
            .iter()
            .map(|n| (n.id.0, n.read_at.is_some()))
            .collect()
    }

    #[test]
    fn a_first_page_read_before_pushes_keeps_what_they_brought_read_and_deleted() {
        use NotificationKind::{LeadAssigned, Reminder};
        let mut model = model();
        let mark = model.mark();
        // The server reads the page; then, before it arrives, a reminder
        // comes, another tab reads 8 and deletes 7.
        model.apply(pushed(notification_at(10, Reminder, 40), 4), 0);
        model.apply(updated(3, &[8], &[7]), 0);
        let stale = NotificationPage {
            notifications: vec![
                notification_at(9, LeadAssigned, 30),
                notification_at(8, LeadAssigned, 20),
                notification_at(7, LeadAssigned, 10),
            ],
            has_more: true,
            unread_count: 3,
        };
        assert!(model.set_notifications(stale, mark, ALL));
        assert!(model.notifications.loaded);
        assert_eq!(ids(&model), vec![(10, false), (9, false), (8, true)]);
        assert_eq!(model.notifications.unread_count, 3, "the pushed count");
        assert!(model.notifications.has_more);

        // Once loaded, the drawer follows pushes itself.
        model.apply(updated(2, &[9], &[]), 0);
        assert_eq!(ids(&model), vec![(10, false), (9, true), (8, true)]);
    }

    #[test]
    fn a_first_page_read_after_a_push_is_taken_as_it_is_and_all_read_of_a_kind_since_stays_read() {
        use NotificationKind::{LeadAssigned, Reminder};
        let mut model = model();
        // Pushed before the page was asked for: the answer includes it, and
        // one that is not in it (deleted while offline, or an older one "Show
        // older" will bring) does not stay at the top.
        model.apply(pushed(notification_at(6, Reminder, 5), 1), 0);
        model.apply(pushed(notification_at(9, Reminder, 30), 2), 0);
        let mark = model.mark();
        model.apply(
            ServerEvent::NotificationsUpdated {
                unread_count: 1,
                read: Vec::new(),
                deleted: Vec::new(),
                all_read: true,
                kind: Some(Reminder),
            },
            0,
        );
        let mut read_elsewhere = notification_at(9, Reminder, 30);
        read_elsewhere.read_at = Some(25);
        let page = NotificationPage {
            notifications: vec![
                read_elsewhere,
                notification_at(8, Reminder, 20),
                notification_at(7, LeadAssigned, 10),
            ],
            has_more: false,
            unread_count: 3,
        };
        assert!(model.set_notifications(page, mark, ALL));
        assert_eq!(ids(&model), vec![(9, true), (8, true), (7, false)]);
        assert_eq!(
            model.notifications.items[0].read_at,
            Some(25),
            "the answer's"
        );
        assert_eq!(model.notifications.unread_count, 1);
    }

    #[test]
    fn after_a_resume_the_drawer_is_fetched_again_and_keeps_what_is_pushed_meanwhile() {
        use NotificationKind::{LeadAssigned, Reminder};
        let mut model = model();
        let first = NotificationPage {
            notifications: vec![notification_at(5, LeadAssigned, 10)],
            has_more: false,
            unread_count: 1,
        };
        assert!(model.set_notifications(first, model.mark(), ALL));

        // While the socket was away, 10 came and 5 was read elsewhere. Back
        // online, 11 is pushed while the page is on its way.
        model.notifications_missed();
        assert!(!model.notifications.loaded, "the drawer fetches it again");
        let mark = model.mark();
        model.apply(pushed(notification_at(11, Reminder, 40), 3), 0);
        assert_eq!(
            ids(&model),
            vec![(11, false), (5, false)],
            "shown meanwhile"
        );
        let mut read_elsewhere = notification_at(5, LeadAssigned, 10);
        read_elsewhere.read_at = Some(15);
        let page = NotificationPage {
            notifications: vec![notification_at(10, LeadAssigned, 30), read_elsewhere],
            has_more: false,
            unread_count: 1,
        };
        assert!(model.set_notifications(page, mark, ALL));
        assert_eq!(ids(&model), vec![(11, false), (10, false), (5, true)]);
        assert_eq!(model.notifications.unread_count, 3);
        assert!(model.notifications.loaded);
    }

    const ALL: NotificationView = NotificationView {
        unread_only: false,
        kind: None,
    };
    const UNREAD: NotificationView = NotificationView {
        unread_only: true,
        kind: None,
    };

    fn page_of(notifications: Vec<Notification>, unread_count: i64) -> NotificationPage {
        NotificationPage {
            notifications,
            has_more: false,
            unread_count,
        }
    }

    #[test]
    fn the_unread_view_keeps_what_is_read_in_it_until_it_loads_again() {
        use NotificationKind::{LeadAssigned, Reminder};
        let mut model = model();
        let mut read = notification_at(8, LeadAssigned, 20);
        read.read_at = Some(25);
        let all = page_of(vec![notification_at(9, Reminder, 30), read], 1);
        assert!(model.set_notifications(all, model.mark(), ALL));

        // Switching shows at once what belongs there, and asks for its page.
        model.show_notifications(UNREAD);
        assert!(!model.notifications.loaded);
        assert_eq!(ids(&model), vec![(9, false)]);
        let mark = model.mark();
        let unread = page_of(
            vec![
                notification_at(9, Reminder, 30),
                notification_at(3, LeadAssigned, 5),
            ],
            2,
        );
        assert!(model.set_notifications(unread, mark, UNREAD));
        assert_eq!(ids(&model), vec![(9, false), (3, false)]);

        // Read here or elsewhere, it stays (shown read) where the user is
        // looking; a new one comes in at the top.
        model.apply(updated(1, &[9], &[]), 0);
        model.apply(pushed(notification_at(10, Reminder, 40), 2), 0);
        assert_eq!(ids(&model), vec![(10, false), (9, true), (3, false)]);
        assert_eq!(model.notifications.unread_count, 2);
    }

    #[test]
    fn an_answer_for_the_other_view_or_from_before_a_resume_is_not_taken() {
        use NotificationKind::LeadAssigned;
        let mut model = model();
        let mark = model.mark();
        model.show_notifications(UNREAD);
        let all = page_of(vec![notification_at(5, LeadAssigned, 10)], 1);
        assert!(!model.set_notifications(all, mark, ALL), "the other view");
        assert!(!model.notifications.loaded);

        // Asked before the socket was away: it may lack what came meanwhile.
        let mark = model.mark();
        model.notifications_missed();
        let stale = page_of(vec![notification_at(5, LeadAssigned, 10)], 1);
        assert!(!model.set_notifications(stale.clone(), mark, UNREAD));
        assert!(!model.notifications.loaded);
        assert!(model.set_notifications(stale, model.mark(), UNREAD));
        assert!(model.notifications.loaded);

        // An older page for the other view is dropped too.
        model.append_notifications(page_of(vec![notification_at(2, LeadAssigned, 1)], 1), ALL);
        assert_eq!(ids(&model), vec![(5, false)]);
    }

    #[test]
    fn all_read_here_leaves_alone_what_was_pushed_since_it_was_asked() {
        use NotificationKind::{LeadAssigned, Reminder};
        let mut model = model();
        let page = page_of(
            vec![
                notification_at(8, LeadAssigned, 20),
                notification_at(7, LeadAssigned, 10),
            ],
            2,
        );
        assert!(model.set_notifications(page, model.mark(), ALL));
        let mark = model.mark();
        // A reminder arrives while "Mark all read" is on its way; the server
        // may have made it after marking the rest.
        model.apply(pushed(notification_at(9, Reminder, 30), 3), 0);
        model.notifications_all_read_locally(mark, 2);
        assert_eq!(ids(&model), vec![(9, false), (8, true), (7, true)]);
        assert_eq!(
            model.notifications.unread_count, 3,
            "the pushed count, until the server's own push of all read"
        );

        // In the unread view, what it read goes, and what came since stays.
        model.show_notifications(UNREAD);
        let page = page_of(
            vec![
                notification_at(9, Reminder, 30),
                notification_at(6, LeadAssigned, 5),
            ],
            2,
        );
        assert!(model.set_notifications(page, model.mark(), UNREAD));
        let mark = model.mark();
        model.apply(pushed(notification_at(11, Reminder, 50), 3), 0);
        model.notifications_all_read_locally(mark, 2);
        assert_eq!(ids(&model), vec![(11, false)]);
        assert!(!model.notifications.has_more);
    }

    #[test]
    fn a_view_of_one_kind_leaves_out_pushes_of_others_and_reads_only_its_own() {
        use NotificationKind::{LeadAssigned, Reminder};
        let mut model = model();
        let all = page_of(
            vec![
                notification_at(9, Reminder, 30),
                notification_at(8, LeadAssigned, 20),
            ],
            2,
        );
        assert!(model.set_notifications(all, model.mark(), ALL));
        let reminders = NotificationView {
            unread_only: false,
            kind: Some(Reminder),
        };
        model.show_notifications(reminders);
        assert_eq!(ids(&model), vec![(9, false)], "shown while its page comes");
        let page = page_of(
            vec![
                notification_at(9, Reminder, 30),
                notification_at(4, Reminder, 5),
            ],
            2,
        );
        assert!(model.set_notifications(page, model.mark(), reminders));

        // A lead counts on the bell but stays out of the reminders.
        model.apply(pushed(notification_at(10, LeadAssigned, 40), 3), 0);
        assert_eq!(ids(&model), vec![(9, false), (4, false)]);
        assert_eq!(model.notifications.unread_count, 3);

        // "Mark all read" here read the two reminders: the lead stays unread.
        let mark = model.mark();
        model.notifications_all_read_locally(mark, 2);
        assert_eq!(ids(&model), vec![(9, true), (4, true)]);
        assert_eq!(model.notifications.unread_count, 1);
    }

    #[test]
    fn after_a_resume_older_pages_come_again_as_deep_as_the_drawer_was() {
        use NotificationKind::LeadAssigned;
        let mut model = model();
        let page = |ids: std::ops::RangeInclusive<i64>, has_more| NotificationPage {
            notifications: ids
                .rev()
                .map(|id| notification_at(id, LeadAssigned, id))
                .collect(),
            has_more,
            unread_count: 0,
        };
        assert!(model.set_notifications(page(7..=9, true), model.mark(), ALL));
        model.append_notifications(page(4..=6, true), ALL);
        assert_eq!(model.older_page_to_restore(), None, "no resume yet");

        model.notifications_missed();
        assert_eq!(
            model.older_page_to_restore(),
            None,
            "the first page comes first"
        );
        assert!(model.set_notifications(page(8..=10, true), model.mark(), ALL));
        assert_eq!(model.older_page_to_restore(), Some(NotificationId(8)));
        model.append_notifications(page(5..=7, true), ALL);
        assert_eq!(model.older_page_to_restore(), None, "six again");
        let held: Vec<i64> = ids(&model).into_iter().map(|(id, _)| id).collect();
        assert_eq!(held, vec![10, 9, 8, 7, 6, 5]);

        // Done: "Show older" later does not start it again.
        model.append_notifications(page(2..=4, false), ALL);
        assert_eq!(model.older_page_to_restore(), None);

        // A page with nothing new ends a restore rather than being asked
        // for again and again.
        model.notifications_missed();
        assert!(model.set_notifications(page(9..=10, true), model.mark(), ALL));
        assert_eq!(model.older_page_to_restore(), Some(NotificationId(9)));
        model.append_notifications(page(9..=10, true), ALL);
        assert_eq!(model.older_page_to_restore(), None);
    }

    #[test]
    fn messages_missed_while_disconnected_alert_once_the_list_catches_up() {
        let mut model = model();
        model.apply(ServerEvent::NewMessage(message(1, 1, BOB, "before")), 0);
        let mut fetched = model.conversations[0].clone();
        assert_eq!(
            model.missed_alerts(&[fetched.clone()]),
            vec![],
            "nothing new"
        );

        fetched.last_message = Some(preview(&message(3, 3, BOB, "while you were away")));
        fetched.last_message_seq = 3;
        let alerts = model.missed_alerts(&[fetched.clone()]);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].body, "while you were away");

        fetched.muted = true;
        assert_eq!(model.missed_alerts(&[fetched.clone()]), vec![], "muted");
        fetched.muted = false;
        fetched.my_last_read_seq = 3;
        assert_eq!(
            model.missed_alerts(&[fetched.clone()]),
            vec![],
            "read elsewhere"
        );
        fetched.my_last_read_seq = 0;
        fetched.last_message = Some(preview(&message(3, 3, ME, "from my phone")));
        assert_eq!(model.missed_alerts(&[fetched]), vec![], "my own");
    }
}
