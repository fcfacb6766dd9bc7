//! Wire types shared by the browser and the server: ids, users, sessions and
//! (in later modules) messages, conversations, notifications and real-time events.
//!
//! Everything here serialises to JSON with camelCase field names, so the REST API,
//! the server functions and the WebSocket speak the same vocabulary.

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type, utoipa::ToSchema), sqlx(transparent))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        #[cfg(feature = "ssr")]
        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        #[cfg(feature = "ssr")]
        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    };
}

typed_id!(
    /// An organisation: the tenant boundary. Nothing crosses it.
    OrgId
);
typed_id!(
    /// A person who signs in.
    UserId
);

/// A user's role in their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Admin,
    Member,
}

impl OrgRole {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Admin => "admin",
            OrgRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(OrgRole::Admin),
            "member" => Some(OrgRole::Member),
            _ => None,
        }
    }
}

/// The signed-in user as the UI and API clients see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: OrgRole,
    pub org_id: OrgId,
    pub org_name: String,
}

/// Another user of one's organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: OrgRole,
    /// Whether the user has a live connection now.
    #[serde(default)]
    pub is_online: bool,
    /// Unix milliseconds of the end of the user's last connection, if any.
    pub last_seen_at: Option<i64>,
}

/// `POST /api/auth/login` body.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/login` answer: a bearer token for API clients.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub user: Me,
}

// ---------------------------------------------------------------------------
// Chat
// ---------------------------------------------------------------------------

typed_id!(
    /// A direct, group or broadcast conversation.
    ConversationId
);
typed_id!(
    /// A message; messages also have a position (`seq`) within their conversation.
    MessageId
);
typed_id!(
    /// An uploaded file, owned by the conversation it was uploaded to.
    AttachmentId
);

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

wire_enum!(
    /// Direct: two people. Group: a titled room with roles. Broadcast: an
    /// organisation-wide announcement channel that only its admins post in.
    ConversationKind { Direct = "direct", Group = "group", Broadcast = "broadcast" }
);

wire_enum!(
    /// A participant's role in a conversation.
    ParticipantRole { Admin = "admin", Moderator = "moderator", Member = "member" }
);

wire_enum!(
    /// What a message carries. System messages record membership changes.
    MessageKind { Text = "text", Image = "image", File = "file", System = "system" }
);

/// A member of a conversation as the conversation list shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub user_id: UserId,
    pub display_name: String,
    pub role: ParticipantRole,
    pub last_read_seq: i64,
    pub last_delivered_seq: i64,
    pub is_online: bool,
    /// Unix milliseconds.
    pub last_seen_at: Option<i64>,
}

/// The last message of a conversation, for the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessagePreview {
    pub message_id: MessageId,
    pub seq: i64,
    pub sender_id: UserId,
    pub sender_name: String,
    pub message_type: MessageKind,
    /// Up to 140 characters; empty when deleted.
    pub text: String,
    pub is_deleted: bool,
    pub created_at: i64,
}

/// One row of a user's conversation list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// The group or broadcast title, or the other person's name for a direct conversation.
    pub title: String,
    pub my_role: ParticipantRole,
    pub can_post: bool,
    pub muted: bool,
    /// When the viewer pinned the conversation to the top of their list
    /// (Unix ms); the most recently pinned comes first. `None`: not pinned.
    #[serde(default)]
    pub pinned_at: Option<i64>,
    /// The viewer marked it as unread to come back to it; opening it (the
    /// web app's thread) clears the mark.
    #[serde(default)]
    pub marked_unread: bool,
    /// When the viewer marked it unread from a message ("Mark unread" on the
    /// message): that message's seq. Their `unreadCount` then counts the
    /// others' messages from there on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked_unread_from_seq: Option<i64>,
    pub unread_count: i64,
    /// Whether an unread message mentions the viewer (`@` and their name).
    #[serde(default)]
    pub mentions_me: bool,
    pub my_last_read_seq: i64,
    pub last_message: Option<MessagePreview>,
    pub last_message_seq: i64,
    /// The conversation's change counter: resume from here.
    pub last_event_seq: i64,
    /// Unix milliseconds of the last message, or of creation.
    pub last_activity_at: i64,
    /// Everyone in a direct or group conversation; empty for broadcasts, which
    /// reach the whole organisation (see `participant_count`).
    pub participants: Vec<Participant>,
    pub participant_count: i64,
}

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub id: AttachmentId,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Images only, so the thread can reserve their space.
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Where members of the conversation download it.
    pub url: String,
}

/// The message a reply quotes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReplyPreview {
    pub message_id: MessageId,
    pub seq: i64,
    pub sender_id: UserId,
    pub sender_name: String,
    /// Up to 140 characters; empty when the quoted message was deleted.
    pub text: String,
    pub is_deleted: bool,
}

/// A person named on a message: who wrote the original of a forwarded one,
/// or who pinned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Author {
    pub user_id: UserId,
    pub name: String,
}

/// A message pinned to the top of its conversation, for every member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Pin {
    pub by: Author,
    /// When it was pinned (ms since the epoch).
    pub at: i64,
}

/// A conversation holds at most this many pinned messages.
pub const MAX_PINNED_MESSAGES: i64 = 20;

/// The reactions with one emoji on one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReactionSummary {
    pub emoji: String,
    pub count: i64,
    /// Whether the viewing user is among them.
    pub me: bool,
    pub user_ids: Vec<UserId>,
}

/// A message's sender may edit it this long after sending it (ms).
pub const EDIT_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A message as every read path returns it. A deleted message keeps its place
/// as a tombstone: `content` is empty and `deletedAt` is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Position in the conversation: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// The conversation event that last changed this message.
    pub event_seq: i64,
    pub sender_id: UserId,
    pub sender_name: String,
    pub client_msg_id: Option<String>,
    pub message_type: MessageKind,
    pub content: String,
    pub reply_to: Option<ReplyPreview>,
    pub attachment: Option<Attachment>,
    /// On a forwarded copy: who wrote the original. Absent on everything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<Author>,
    /// Pinned to the top of the conversation. Absent when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Pin>,
    pub reactions: Vec<ReactionSummary>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

impl Message {
    /// Whether `me` may still edit it at `now`: their own text, within the
    /// edit window.
    pub fn editable_by(&self, me: UserId, now: i64) -> bool {
        self.is_own_text(me) && now - self.created_at <= EDIT_WINDOW_MS
    }

    /// Whether it is `me`'s own text message, not forwarded or deleted: the
    /// kind of message they can edit while the window is open.
    pub fn is_own_text(&self, me: UserId) -> bool {
        self.sender_id == me
            && self.deleted_at.is_none()
            && self.forwarded_from.is_none()
            && self.message_type == MessageKind::Text
    }
}

/// A page of history, newest last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub conversation_id: ConversationId,
    pub messages: Vec<Message>,
    /// Whether older messages exist before the first one here.
    pub has_more: bool,
}

/// What `changesSince` answers: every message that changed after a cursor,
/// in the order of the changes, up to `last_event_seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    pub conversation_id: ConversationId,
    pub messages: Vec<Message>,
    pub last_event_seq: i64,
}

/// A search hit: a message with the matching words marked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub conversation_title: String,
    pub seq: i64,
    pub sender_id: UserId,
    pub sender_name: String,
    pub created_at: i64,
    pub snippet: Vec<SnippetPart>,
}

/// A piece of a search snippet; matching words have `highlight` set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SnippetPart {
    pub text: String,
    pub highlight: bool,
}

/// The receipt state of one member, for ticks and "read by".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReadState {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub last_read_seq: i64,
    pub last_delivered_seq: i64,
    pub unread_count: i64,
}

// --- Requests -------------------------------------------------------------

/// `POST /api/chat/conversations`: get-or-create a direct conversation
/// (`targetUserId`), or create a group (`title` and `memberIds`) or, for
/// organisation admins, a broadcast (`kind: "broadcast"` and `title`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreateConversation {
    pub kind: Option<ConversationKind>,
    pub target_user_id: Option<UserId>,
    pub title: Option<String>,
    #[serde(default)]
    pub member_ids: Vec<UserId>,
}

/// A message to send. `clientMsgId` (a UUID made by the client) makes the
/// send idempotent: a retry returns the stored message.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    pub client_msg_id: Option<String>,
    #[serde(default)]
    pub content: String,
    pub message_type: Option<MessageKind>,
    pub reply_to: Option<MessageId>,
    pub attachment_id: Option<AttachmentId>,
}

/// `POST /api/chat/messages/{id}/forward`: a copy of the message, its text
/// and file, sent to another conversation of the caller's.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ForwardMessage {
    pub conversation_id: ConversationId,
    /// A UUID, as for a send: a retry with it returns the first copy.
    pub client_msg_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    pub content: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ToggleReaction {
    pub emoji: String,
}

/// `GET /api/emoji`: the emoji a reaction can be, for the picker, in
/// Unicode's groups and order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EmojiGroup {
    /// "Smileys & emotion", "People & body", …
    pub name: String,
    pub emoji: Vec<EmojiChoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EmojiChoice {
    pub emoji: String,
    /// Unicode's short name, "thumbs up".
    pub name: String,
    /// GitHub's shortcodes, without colons: "+1", "thumbsup".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortcodes: Vec<String>,
    /// The same emoji with each of the five skin tones, light to dark, for
    /// the emoji that take one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tones: Vec<String>,
}

/// A skin tone for the emoji that take one, as the picker offers them: none
/// (the yellow default), then light to dark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum SkinTone {
    #[default]
    None,
    Light,
    MediumLight,
    Medium,
    MediumDark,
    Dark,
}

impl SkinTone {
    /// The tone at `index` in the picker's order, none for one out of range.
    pub fn at(index: usize) -> SkinTone {
        const ALL: [SkinTone; 6] = [
            SkinTone::None,
            SkinTone::Light,
            SkinTone::MediumLight,
            SkinTone::Medium,
            SkinTone::MediumDark,
            SkinTone::Dark,
        ];
        ALL.get(index).copied().unwrap_or_default()
    }
}

/// `GET /api/chat/emoji/shortcodes?prefix=`: an emoji whose shortcode fits
/// what is being typed after a `:`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ShortcodeMatch {
    pub emoji: String,
    /// Without colons: "rocket".
    pub shortcode: String,
}

/// `PATCH /api/chat/conversations/{id}/read`. Without `upToSeq`, everything
/// up to the newest message.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    pub up_to_seq: Option<i64>,
}

/// Group administration: `PATCH /api/chat/conversations/{id}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpdateConversation {
    /// A new title (group admins).
    pub title: Option<String>,
    /// Mute or unmute the conversation for the caller: messages still count
    /// as unread, but leave no notifications.
    pub muted: Option<bool>,
    /// Pin the conversation to the top of the caller's list, or unpin it.
    pub pinned: Option<bool>,
    /// Mark the conversation as unread for the caller, or clear the mark.
    pub marked_unread: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AddParticipants {
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangeRole {
    pub role: ParticipantRole,
}

// ---------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------

typed_id!(
    /// A notification in one user's feed.
    NotificationId
);
typed_id!(
    /// An organisation API key, with which CRM systems create notifications.
    ApiKeyId
);

wire_enum!(
    /// What a notification is about (seed 000's types).
    NotificationKind {
        NewMessage = "NEW_MESSAGE",
        LeadAssigned = "LEAD_ASSIGNED",
        LeadStatusChanged = "LEAD_STATUS_CHANGED",
        LeadUpdated = "LEAD_UPDATED",
        SystemAlert = "SYSTEM_ALERT",
        TaskAssigned = "TASK_ASSIGNED",
        Reminder = "REMINDER",
    }
);

impl NotificationKind {
    pub const ALL: [NotificationKind; 7] = [
        NotificationKind::NewMessage,
        NotificationKind::LeadAssigned,
        NotificationKind::LeadStatusChanged,
        NotificationKind::LeadUpdated,
        NotificationKind::SystemAlert,
        NotificationKind::TaskAssigned,
        NotificationKind::Reminder,
    ];

    /// How people read the kind, for settings and icons' labels.
    pub fn label(self) -> &'static str {
        match self {
            NotificationKind::NewMessage => "New messages",
            NotificationKind::LeadAssigned => "Lead assigned",
            NotificationKind::LeadStatusChanged => "Lead status changed",
            NotificationKind::LeadUpdated => "Lead updated",
            NotificationKind::SystemAlert => "System alerts",
            NotificationKind::TaskAssigned => "Task assigned",
            NotificationKind::Reminder => "Reminders",
        }
    }
}

/// Who caused a notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub id: UserId,
    pub display_name: String,
}

/// One notification in a user's feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: NotificationId,
    #[serde(rename = "type")]
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// A JSON object from the system that created it (at most 8 KiB).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub metadata: serde_json::Value,
    /// A path inside the app (`/c/12`) or an http(s) URL into the CRM.
    pub link: Option<String>,
    pub actor: Option<Actor>,
    /// NEW_MESSAGE: the conversation.
    pub conversation_id: Option<ConversationId>,
    /// NEW_MESSAGE: how many unread messages this one stands for.
    pub count: i64,
    pub read_at: Option<i64>,
    pub created_at: i64,
    /// When it last changed: a collapsed NEW_MESSAGE moves up with each message.
    pub updated_at: i64,
}

/// `GET /api/notifications`: newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    /// Whether older ones exist: ask again with `before` = the last id.
    pub has_more: bool,
    pub unread_count: i64,
}

/// `GET /api/notifications/unread-count`, and what changes push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnreadCount {
    pub unread_count: i64,
}

/// `POST /api/notifications` (ingestion, with an organisation API key):
/// one notification for `recipientId`, or one each for `recipientIds`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngestNotification {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub body: String,
    pub recipient_id: Option<UserId>,
    #[serde(default)]
    pub recipient_ids: Vec<UserId>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub metadata: Option<serde_json::Value>,
    pub link: Option<String>,
    pub actor_id: Option<UserId>,
}

/// What ingestion created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Ingested {
    pub notifications: Vec<Notification>,
}

/// A user's setting for one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NotificationSetting {
    #[serde(rename = "type")]
    pub kind: NotificationKind,
    pub muted: bool,
}

/// An organisation API key as admins see it: never the key itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ApiKeySummary {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key just created: the only time the whole key is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewApiKey {
    pub key: String,
    pub summary: ApiKeySummary,
}

// ---------------------------------------------------------------------------
// Real time: one WebSocket per tab at /ws, JSON frames tagged by `type`.
// ---------------------------------------------------------------------------

/// What a client sends over the WebSocket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClientEvent {
    /// First frame after connecting: the last `eventSeq` applied per
    /// conversation. The server replays every change after each, then `resumed`.
    Resume {
        #[serde(default, with = "cursor_map")]
        cursors: std::collections::BTreeMap<ConversationId, i64>,
    },
    /// Sends a message. Answered by `messageDelivered` (same `clientMsgId`)
    /// once it is durable, or by `error` with `ref` = `clientMsgId`.
    SendMessage {
        conversation_id: ConversationId,
        client_msg_id: String,
        #[serde(default)]
        content: String,
        message_type: Option<MessageKind>,
        reply_to: Option<MessageId>,
        attachment_id: Option<AttachmentId>,
    },
    EditMessage {
        #[serde(rename = "ref")]
        reference: Option<String>,
        message_id: MessageId,
        content: String,
    },
    DeleteMessage {
        #[serde(rename = "ref")]
        reference: Option<String>,
        message_id: MessageId,
    },
    ToggleReaction {
        #[serde(rename = "ref")]
        reference: Option<String>,
        message_id: MessageId,
        emoji: String,
    },
    /// Reads up to `upToSeq` (default: everything).
    MarkMessagesAsRead {
        conversation_id: ConversationId,
        up_to_seq: Option<i64>,
    },
    /// Typing started or stopped. Relayed at most every 2 s; expires after 6 s.
    Typing {
        conversation_id: ConversationId,
        is_typing: bool,
    },
    /// Application-level heartbeat for clients that cannot see WebSocket pings
    /// (browsers). Answered by `pong`.
    Ping,
}

/// Declares [`ServerEvent`] and its decoder for the browser,
/// [`ServerEvent::from_json`].
///
/// Serde decodes an internally tagged enum (`{"type": …, …}`) by first
/// buffering the whole frame into its private `Content` tree and then
/// decoding the variant from that, which builds a second copy of every
/// payload type's decoder. In the WASM that was the largest single item,
/// about 145 KB before `wasm-opt`. `from_json` reads the tag on its own and
/// then decodes the variant's fields straight from the text, with the same
/// decoders the server functions already use. The variants are written once,
/// here, so the two decoders cannot drift apart (a test checks they agree).
macro_rules! server_events {
    (
        $(#[$enum_meta:meta])*
        pub enum ServerEvent {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident $( ( $($tuple:tt)* ) )? $( { $($fields:tt)* } )?
            ),* $(,)?
        }
    ) => {
        $(#[$enum_meta])*
        pub enum ServerEvent {
            $(
                $(#[$variant_meta])*
                $variant $( ( $($tuple)* ) )? $( { $($fields)* } )?
            ),*
        }

        impl ServerEvent {
            /// Decodes one frame: the `type` tag first, then the event's
            /// fields straight from the text (see [`server_events!`]).
            pub fn from_json(text: &str) -> serde_json::Result<ServerEvent> {
                #[derive(Deserialize)]
                struct Tag<'a> {
                    #[serde(rename = "type", borrow)]
                    kind: std::borrow::Cow<'a, str>,
                }
                let Tag { kind } = serde_json::from_slice(text.as_bytes())?;
                $(
                    if is_camel_case_of(&kind, stringify!($variant)) {
                        return server_events!(
                            @decode text, $variant $( ( $($tuple)* ) )? $( { $($fields)* } )?
                        );
                    }
                )*
                Err(serde::de::Error::custom(format_args!(
                    "unknown event type {kind:?}"
                )))
            }
        }
    };
    (@decode $text:ident, $variant:ident ( $payload:ty )) => {
        serde_json::from_slice::<$payload>($text.as_bytes()).map(ServerEvent::$variant)
    };
    (@decode $text:ident, $variant:ident {
        $( $(#[$field_meta:meta])* $field:ident : $type:ty ),* $(,)?
    }) => {{
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Fields {
            $( $(#[$field_meta])* $field: $type ),*
        }
        serde_json::from_slice::<Fields>($text.as_bytes())
            .map(|f| ServerEvent::$variant { $( $field: f.$field ),* })
    }};
    (@decode $text:ident, $variant:ident) => {
        Ok(ServerEvent::$variant)
    };
}

/// Whether `wire` is `variant` (PascalCase) with its first letter lowered,
/// which is what serde's `rename_all = "camelCase"` makes of a variant name.
fn is_camel_case_of(wire: &str, variant: &str) -> bool {
    let (mut wire, mut variant) = (wire.chars(), variant.chars());
    match (wire.next(), variant.next()) {
        (Some(w), Some(v)) => w == v.to_ascii_lowercase() && wire.eq(variant),
        _ => false,
    }
}

server_events! {
    /// What the server sends over the WebSocket.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(
        tag = "type",
        rename_all = "camelCase",
        rename_all_fields = "camelCase"
    )]
    pub enum ServerEvent {
        /// A new message for one of the user's conversations (another tab's own
        /// sends included).
        NewMessage(Message),
        /// The acknowledgement of this connection's `sendMessage`: it is durable.
        MessageDelivered {
            client_msg_id: String,
            message_id: MessageId,
            conversation_id: ConversationId,
            timestamp: i64,
            message: Message,
        },
        /// A message was edited (or, in a replay, changed in any way).
        MessageUpdated(Message),
        /// A message was deleted; `message` is its tombstone.
        MessageDeleted {
            message_id: MessageId,
            conversation_id: ConversationId,
            event_seq: i64,
            timestamp: i64,
            message: Message,
        },
        ReactionsChanged {
            message_id: MessageId,
            conversation_id: ConversationId,
            event_seq: i64,
            reactions: Vec<ReactionSummary>,
        },
        /// Another member read up to `upToSeq`.
        MessagesRead {
            conversation_id: ConversationId,
            read_by: UserId,
            up_to_seq: i64,
            timestamp: i64,
        },
        /// Another member's devices received messages up to `upToSeq`.
        MessagesDelivered {
            conversation_id: ConversationId,
            delivered_to: UserId,
            up_to_seq: i64,
        },
        UserTyping {
            conversation_id: ConversationId,
            user_id: UserId,
            user_name: String,
            is_typing: bool,
        },
        /// Someone in the organisation came online or went offline.
        UserStatusChanged {
            user_id: UserId,
            is_online: bool,
            last_seen: Option<i64>,
            timestamp: i64,
        },
        /// The list row of a conversation changed. Message events carry the
        /// counts and preview; membership changes carry the whole row.
        ConversationUpdated {
            conversation_id: ConversationId,
            unread_count: Option<i64>,
            last_read_seq: Option<i64>,
            last_message: Option<MessagePreview>,
            last_event_seq: Option<i64>,
            last_activity_at: Option<i64>,
            conversation: Option<ConversationSummary>,
        },
        /// The user is no longer in the conversation.
        ConversationRemoved {
            conversation_id: ConversationId,
        },
        /// The replay after `resume` is complete: live events follow. The cursors
        /// are where each conversation now stands. `build` names the web app's
        /// code the server serves (release servers only): a page from another
        /// build offers to reload.
        Resumed {
            #[serde(with = "cursor_map")]
            cursors: std::collections::BTreeMap<ConversationId, i64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            build: Option<String>,
        },
        Error {
            code: crate::api::ErrorCode,
            message: String,
            #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
            reference: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            conversation_id: Option<ConversationId>,
        },
        /// A notification was created for the user (kinds the user muted are
        /// stored but not pushed).
        NewNotification {
            notification: Notification,
            unread_count: i64,
        },
        /// Notifications were read or deleted: the new unread count, and the
        /// ones that changed (`all` when every one of a kind or all kinds did).
        NotificationsUpdated {
            unread_count: i64,
            #[serde(default)]
            read: Vec<NotificationId>,
            #[serde(default)]
            deleted: Vec<NotificationId>,
            all_read: bool,
            kind: Option<NotificationKind>,
        },
        Pong,
    }
}

/// `{"12": 40}`: cursors by conversation id. JSON keys are strings, and an
/// internally tagged event is buffered before its fields are read, which
/// loses serde's usual string-to-integer key conversion: so it is done here.
mod cursor_map {
    use std::collections::BTreeMap;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::ConversationId;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<ConversationId, i64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(map.iter().map(|(id, cursor)| (id.0.to_string(), cursor)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<ConversationId, i64>, D::Error> {
        BTreeMap::<String, i64>::deserialize(deserializer)?
            .into_iter()
            .map(|(id, cursor)| {
                let id = id
                    .trim()
                    .parse()
                    .map_err(|_| D::Error::custom(format!("{id:?} is not a conversation id")))?;
                Ok((ConversationId(id), cursor))
            })
            .collect()
    }
}

/// Close codes the server uses, beyond the standard ones.
pub mod close_code {
    /// The session ended (sign-out, revocation, expiry): sign in again.
    pub const SESSION_ENDED: u16 = 4401;
    /// The client fell too far behind; reconnect and resume.
    pub const RESUME_REQUIRED: u16 = 4008;
    /// Too many connections for this user.
    pub const TOO_MANY_CONNECTIONS: u16 = 4029;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resume_frame_carries_cursors_keyed_by_conversation() {
        let frame = r#"{"type":"resume","cursors":{"12":40,"7":0}}"#;
        let ClientEvent::Resume { cursors } = serde_json::from_str(frame).unwrap() else {
            panic!("not a resume")
        };
        assert_eq!(
            cursors,
            std::collections::BTreeMap::from([(ConversationId(7), 0), (ConversationId(12), 40)])
        );
        assert!(
            serde_json::from_str::<ClientEvent>(r#"{"type":"resume","cursors":{"x":1}}"#).is_err()
        );
        let resumed = serde_json::to_string(&ServerEvent::Resumed {
            cursors: cursors.clone(),
            build: None,
        })
        .unwrap();
        assert_eq!(resumed, r#"{"type":"resumed","cursors":{"7":0,"12":40}}"#);
        let resumed = serde_json::to_string(&ServerEvent::Resumed {
            cursors,
            build: Some("0f1e2d3c4b5a6978".into()),
        })
        .unwrap();
        assert_eq!(
            resumed,
            r#"{"type":"resumed","cursors":{"7":0,"12":40},"build":"0f1e2d3c4b5a6978"}"#
        );
    }

    /// Every example frame in docs/protocol.md parses as the event it is
    /// documented as, and every event has an example.
    #[test]
    fn the_protocol_document_s_examples_are_real_frames() {
        let document = include_str!("../../docs/protocol.md");
        let (client, server) = document
            .split_once("## Server → client")
            .expect("two sections");
        let examples = |section: &str| -> Vec<(String, serde_json::Value)> {
            section
                .split("```json")
                .skip(1)
                .map(|block| {
                    let json = block.split("```").next().unwrap_or_default();
                    let value: serde_json::Value = serde_json::from_str(json)
                        .unwrap_or_else(|e| panic!("not JSON: {json}: {e}"));
                    (value["type"].as_str().unwrap_or_default().to_owned(), value)
                })
                .collect()
        };
        let mut client_types = std::collections::BTreeSet::new();
        for (kind, value) in examples(client) {
            let event: ClientEvent =
                serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(serde_json::to_value(&event).unwrap()["type"], value["type"]);
            client_types.insert(kind);
        }
        let mut server_types = std::collections::BTreeSet::new();
        for (kind, value) in examples(server) {
            let event: ServerEvent =
                serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
            let decoded = ServerEvent::from_json(&value.to_string())
                .unwrap_or_else(|e| panic!("{kind}, the browser's decoder: {e}"));
            assert_eq!(decoded, event, "the two decoders disagree on {kind}");
            assert_eq!(serde_json::to_value(&event).unwrap()["type"], value["type"]);
            server_types.insert(kind);
        }
        assert_eq!(
            client_types.len(),
            8,
            "an example for each client event: {client_types:?}"
        );
        assert_eq!(
            server_types.len(),
            16,
            "an example for each server event: {server_types:?}"
        );
    }

    #[test]
    fn the_browser_s_decoder_rejects_unknown_types_and_missing_fields() {
        let unknown = ServerEvent::from_json(r#"{"type":"newMessages"}"#).unwrap_err();
        assert!(
            unknown.to_string().contains("unknown event type"),
            "{unknown}"
        );
        assert!(ServerEvent::from_json(r#"{"conversationId":1}"#).is_err());
        assert!(ServerEvent::from_json(r#"{"type":"messagesRead","conversationId":1}"#).is_err());
        assert!(ServerEvent::from_json("not json").is_err());
        assert_eq!(
            ServerEvent::from_json(r#"{"type":"pong"}"#).unwrap(),
            ServerEvent::Pong
        );
    }

    #[test]
    fn the_browser_s_decoder_reads_cursor_keys_and_unescaped_tags() {
        let frame = r#"{"cursors":{"12":40,"7":0},"type":"resum\u0065d"}"#;
        let ServerEvent::Resumed { cursors, build } = ServerEvent::from_json(frame).unwrap() else {
            panic!("not resumed")
        };
        assert_eq!(
            cursors,
            std::collections::BTreeMap::from([(ConversationId(7), 0), (ConversationId(12), 40)])
        );
        assert_eq!(build, None);
        let frame = r#"{"type":"resumed","build":"0f1e2d3c4b5a6978","cursors":{}}"#;
        let ServerEvent::Resumed { build, .. } = ServerEvent::from_json(frame).unwrap() else {
            panic!("not resumed")
        };
        assert_eq!(build.as_deref(), Some("0f1e2d3c4b5a6978"));
    }

    #[test]
    fn events_use_the_seed_vocabulary_in_camel_case() {
        let typing = serde_json::to_value(ServerEvent::UserTyping {
            conversation_id: ConversationId(1),
            user_id: UserId(2),
            user_name: "Bob".into(),
            is_typing: true,
        })
        .unwrap();
        assert_eq!(
            typing,
            serde_json::json!({"type": "userTyping", "conversationId": 1, "userId": 2, "userName": "Bob", "isTyping": true})
        );
        let read: ClientEvent =
            serde_json::from_str(r#"{"type":"markMessagesAsRead","conversationId":3}"#).unwrap();
        assert_eq!(
            read,
            ClientEvent::MarkMessagesAsRead {
                conversation_id: ConversationId(3),
                up_to_seq: None
            }
        );
    }
}
