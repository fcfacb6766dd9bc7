//! Who is in a conversation, with their role and read cursors.
//!
//! `unread_count` is the materialised form of the derived count: messages
//! from others, not deleted and not system messages, with `seq` after
//! [`unread_after`] (the read cursor, or just before the message the member
//! marked unread from). Every statement that changes one of those inputs
//! updates it in the same transaction; [`derived_unread`] recomputes it.

use std::collections::{BTreeMap, HashMap};

use sqlx::{AnyConnection, FromRow};

use super::Engine;
use super::messages::{self, SeqRange};
use super::sql::{self, Column, engine_of};
use crate::protocol::{ConversationId, OrgId, ParticipantRole, UserId};

#[derive(Debug, Clone, FromRow)]
pub struct ParticipantRow {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub role: String,
    pub display_name: String,
    pub last_read_seq: i64,
    pub joined_at: i64,
    /// 0 or 1: they marked the conversation unread.
    pub marked_unread: i64,
    /// The message they marked it unread from; 0 for none.
    pub unread_from_seq: i64,
}

impl ParticipantRow {
    pub fn role(&self) -> ParticipantRole {
        ParticipantRole::parse(&self.role).unwrap_or(ParticipantRole::Member)
    }
}

/// A participant's unread state after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct UnreadRow {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub unread_count: i64,
    pub last_read_seq: i64,
}

const PARTICIPANT_SELECT: &str = "
    SELECT p.conversation_id, p.user_id, p.role, u.display_name, p.last_read_seq, p.joined_at,
           p.marked_unread, p.unread_from_seq
    FROM participants p JOIN users u ON u.id = p.user_id";

#[tracing::instrument(skip_all)]
pub async fn insert_many(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    members: &[(UserId, ParticipantRole)],
    read_up_to_seq: i64,
    now: i64,
) -> sqlx::Result<()> {
    if members.is_empty() {
        return Ok(());
    }
    #[derive(serde::Serialize)]
    struct Member {
        user_id: UserId,
        role: &'static str,
    }
    let rows: Vec<Member> = members
        .iter()
        .map(|&(user_id, role)| Member {
            user_id,
            role: role.as_str(),
        })
        .collect();
    // New members start with the history before them read, so it is not unread.
    let sql = format!(
        "INSERT INTO participants (conversation_id, user_id, role, joined_at, last_read_seq, last_delivered_seq)
         SELECT $2, v.user_id, v.role, $3, $4, $4 FROM {} WHERE true
         ON CONFLICT (conversation_id, user_id) DO NOTHING",
        sql::records(engine_of(conn), 1, "v", &[Column::Int("user_id"), Column::Text("role")])
    );
    sqlx::query(&sql)
        .bind(sql::json(&rows))
        .bind(conversation_id)
        .bind(now)
        .bind(read_up_to_seq)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds every user of the organisation: its admins as admins, everyone else as members.
#[tracing::instrument(skip_all)]
pub async fn insert_whole_org(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    org_id: OrgId,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO participants (conversation_id, user_id, role, joined_at)
         SELECT $1, id, CASE WHEN org_role = 'admin' THEN 'admin' ELSE 'member' END, $2
         FROM users WHERE org_id = $3
         ON CONFLICT (conversation_id, user_id) DO NOTHING",
    )
    .bind(conversation_id)
    .bind(now)
    .bind(org_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn get(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
) -> sqlx::Result<Option<ParticipantRow>> {
    sqlx::query_as(&format!(
        "{PARTICIPANT_SELECT} WHERE p.conversation_id = $1 AND p.user_id = $2"
    ))
    .bind(conversation_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Everyone in the conversations, oldest members first.
#[tracing::instrument(skip_all)]
pub async fn of_conversations(
    conn: &mut AnyConnection,
    ids: &[ConversationId],
) -> sqlx::Result<Vec<ParticipantRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{PARTICIPANT_SELECT} WHERE p.conversation_id IN {} ORDER BY p.conversation_id, p.joined_at, p.user_id",
        sql::ids(engine_of(conn), 1)
    );
    sqlx::query_as(&sql)
        .bind(sql::json(ids))
        .fetch_all(conn)
        .await
}

#[tracing::instrument(skip_all)]
pub async fn remove(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM participants WHERE conversation_id = $1 AND user_id = $2")
        .bind(conversation_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A member's own setting for a conversation, which only they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnSetting {
    /// Messages still count as unread, but leave no notifications.
    Muted(bool),
    /// Pinned to the top of their list at this time (Unix ms), or not.
    /// Pinning a pinned conversation keeps its place.
    Pinned(Option<i64>),
}

/// Changes a member's own setting for a conversation. Whether they are a
/// member.
#[tracing::instrument(skip_all)]
pub async fn set_own(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
    setting: OwnSetting,
) -> sqlx::Result<bool> {
    let (assignment, value) = match setting {
        OwnSetting::Muted(on) => ("muted = $1", i64::from(on)),
        OwnSetting::Pinned(at) => (
            "pinned_at = CASE WHEN $1 > 0 THEN COALESCE(pinned_at, $1) END",
            at.unwrap_or(0),
        ),
    };
    let sql =
        format!("UPDATE participants SET {assignment} WHERE conversation_id = $2 AND user_id = $3");
    let done = sqlx::query(&sql)
        .bind(value)
        .bind(conversation_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

#[tracing::instrument(skip_all)]
pub async fn set_role(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
    role: ParticipantRole,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE participants SET role = $1 WHERE conversation_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(conversation_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A member's unread state after a batch of new messages, computed by the
/// writer from the state it read under the conversation's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreadChange {
    Set {
        unread_count: i64,
        last_read_seq: i64,
    },
}

/// Applies a batch's unread changes in one statement.
#[tracing::instrument(skip_all)]
pub async fn apply_unread(
    conn: &mut AnyConnection,
    changes: &[(ConversationId, UserId, UnreadChange)],
) -> sqlx::Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    #[derive(serde::Serialize)]
    struct Change {
        conversation_id: ConversationId,
        user_id: UserId,
        unread_count: i64,
        last_read_seq: i64,
    }
    let rows: Vec<Change> = changes
        .iter()
        .map(|&(conversation_id, user_id, change)| {
            let (unread_count, last_read_seq) = match change {
                UnreadChange::Set {
                    unread_count,
                    last_read_seq,
                } => (unread_count, last_read_seq),
            };
            Change {
                conversation_id,
                user_id,
                unread_count,
                last_read_seq,
            }
        })
        .collect();
    let columns = [
        Column::Int("conversation_id"),
        Column::Int("user_id"),
        Column::Int("unread_count"),
        Column::Int("last_read_seq"),
    ];
    // A sender's cursor moves to their own message: having written there,
    // they have come back to it, so that ends a mark as unread.
    let sql = format!(
        "UPDATE participants SET
             unread_count = v.unread_count,
             last_read_seq = v.last_read_seq,
             last_delivered_seq = CASE WHEN v.last_read_seq > last_delivered_seq THEN v.last_read_seq ELSE last_delivered_seq END,
             marked_unread = CASE WHEN v.last_read_seq > participants.last_read_seq THEN 0 ELSE marked_unread END,
             unread_from_seq = CASE WHEN v.last_read_seq > participants.last_read_seq THEN 0 ELSE unread_from_seq END
         FROM {}
         WHERE participants.conversation_id = v.conversation_id AND participants.user_id = v.user_id",
        sql::records(engine_of(conn), 1, "v", &columns)
    );
    sqlx::query(&sql)
        .bind(sql::json(&rows))
        .execute(conn)
        .await?;
    Ok(())
}

/// Where a member's unread messages start (after this seq): their read
/// cursor, or just before the message they marked unread from when that is
/// earlier.
pub fn unread_after(last_read_seq: i64, unread_from_seq: i64) -> i64 {
    if unread_from_seq > 0 {
        last_read_seq.min(unread_from_seq - 1)
    } else {
        last_read_seq
    }
}

/// The derived unread count of a member: messages from others, not deleted,
/// not system messages, after `after_seq` (see [`unread_after`]).
#[tracing::instrument(skip_all)]
pub async fn derived_unread(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
    after_seq: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages
         WHERE conversation_id = $1 AND seq > $2 AND sender_id <> $3
           AND deleted_at IS NULL AND kind <> 'system'",
    )
    .bind(conversation_id)
    .bind(after_seq)
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Moves a member's read cursor to `up_to_seq` if that is forward, and
/// recomputes their unread count (still reaching back to the message they
/// marked unread from, `unread_from_seq`, if any). `None` when the cursor was
/// already there.
///
/// The caller holds the participant's row lock (SQLite: the write lock;
/// PostgreSQL: [`lock_row`]) so that no message lands between the count and
/// the update.
#[tracing::instrument(skip_all)]
pub async fn mark_read(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    user_id: UserId,
    up_to_seq: i64,
    unread_from_seq: i64,
) -> sqlx::Result<Option<UnreadRow>> {
    let after = unread_after(up_to_seq, unread_from_seq);
    let unread = derived_unread(&mut *conn, conversation_id, user_id, after).await?;
    sqlx::query_as(
        "UPDATE participants SET
             last_read_seq = $1,
             last_delivered_seq = CASE WHEN last_delivered_seq < $1 THEN $1 ELSE last_delivered_seq END,
             unread_count = $2
         WHERE conversation_id = $3 AND user_id = $4 AND last_read_seq < $1
         RETURNING conversation_id, user_id, unread_count, last_read_seq",
    )
    .bind(up_to_seq)
    .bind(unread)
    .bind(conversation_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Sets a member's mark as unread (`marked`, from the message at
/// `unread_from_seq` or 0 for the whole conversation) and recomputes their
/// unread count from it. The caller holds the row lock, as for [`mark_read`].
#[tracing::instrument(skip_all)]
pub async fn set_unread_mark(
    conn: &mut AnyConnection,
    member: &ParticipantRow,
    marked: bool,
    unread_from_seq: i64,
) -> sqlx::Result<()> {
    let after = unread_after(member.last_read_seq, unread_from_seq);
    let unread = derived_unread(&mut *conn, member.conversation_id, member.user_id, after).await?;
    sqlx::query(
        "UPDATE participants SET marked_unread = $1, unread_from_seq = $2, unread_count = $3
         WHERE conversation_id = $4 AND user_id = $5",
    )
    .bind(i64::from(marked))
    .bind(unread_from_seq)
    .bind(unread)
    .bind(member.conversation_id)
    .bind(member.user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes a participant's row lock on PostgreSQL (no-op on SQLite, whose write
/// transactions are exclusive).
pub async fn lock_row(
    conn: &mut AnyConnection,
    engine: super::Engine,
    conversation_id: ConversationId,
    user_id: UserId,
) -> sqlx::Result<()> {
    if engine == super::Engine::Postgres {
        sqlx::query(
            "SELECT 1 FROM participants WHERE conversation_id = $1 AND user_id = $2 FOR UPDATE",
        )
        .bind(conversation_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// A message at `seq` from `sender` was deleted: members who counted it as
/// unread have one unread message fewer.
#[tracing::instrument(skip_all)]
pub async fn forget_unread_message(
    conn: &mut AnyConnection,
    conversation_id: ConversationId,
    seq: i64,
    sender_id: UserId,
) -> sqlx::Result<Vec<UnreadRow>> {
    sqlx::query_as(
        "UPDATE participants SET unread_count = unread_count - 1
         WHERE conversation_id = $1 AND user_id <> $2 AND unread_count > 0
           AND (last_read_seq < $3 OR (unread_from_seq > 0 AND unread_from_seq <= $3))
         RETURNING conversation_id, user_id, unread_count, last_read_seq",
    )
    .bind(conversation_id)
    .bind(sender_id)
    .bind(seq)
    .fetch_all(conn)
    .await
}

/// A delivery cursor that moved forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub(crate) struct DeliveryAdvance {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub from_seq: i64,
    pub to_seq: i64,
}

/// Someone to tell that a member's delivery cursor moved over one of their
/// messages: `sender` sent a (non-system) message that `user_id`'s devices now
/// have, up to `up_to_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, FromRow)]
pub struct DeliveryNotice {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub up_to_seq: i64,
    pub sender: UserId,
}

/// Records what reached members' devices, forward only: `(conversation,
/// user, seq)`, at most one per member and conversation. Returns who must be
/// told: for each cursor that moved, the other senders of the messages it
/// newly covers, ordered. A cursor that covers only the member's own
/// messages (or system messages) tells nobody.
///
/// PostgreSQL does it in one statement, one round trip: the update reads the
/// cursors it moves from a self-join (which sees them as they were) and a CTE
/// joins the messages. SQLite allows no update in a CTE, so there it takes
/// three statements inside the writer's transaction, which keeps them
/// consistent.
#[tracing::instrument(skip_all)]
pub async fn record_deliveries(
    conn: &mut AnyConnection,
    marks: &[(ConversationId, UserId, i64)],
) -> sqlx::Result<Vec<DeliveryNotice>> {
    if marks.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(serde::Serialize)]
    struct Mark {
        conversation_id: ConversationId,
        user_id: UserId,
        seq: i64,
    }
    let rows: Vec<Mark> = marks
        .iter()
        .map(|&(conversation_id, user_id, seq)| Mark {
            conversation_id,
            user_id,
            seq,
        })
        .collect();
    let columns = [
        Column::Int("conversation_id"),
        Column::Int("user_id"),
        Column::Int("seq"),
    ];
    let engine = engine_of(conn);
    let marks_table = sql::records(engine, 1, "v", &columns);
    let marks_json = sql::json(&rows);
    if engine == Engine::Postgres {
        let statement = format!(
            "WITH moved AS (
                 UPDATE participants p SET last_delivered_seq = v.seq
                 FROM {marks_table}, participants old
                 WHERE p.conversation_id = v.conversation_id AND p.user_id = v.user_id
                   AND p.last_delivered_seq < v.seq
                   AND old.conversation_id = p.conversation_id AND old.user_id = p.user_id
                 RETURNING p.conversation_id, p.user_id, old.last_delivered_seq AS from_seq,
                           p.last_delivered_seq AS to_seq
             )
             SELECT DISTINCT moved.conversation_id, moved.user_id, moved.to_seq AS up_to_seq,
                    m.sender_id AS sender
             FROM moved JOIN messages m
               ON m.conversation_id = moved.conversation_id
              AND m.seq > moved.from_seq AND m.seq <= moved.to_seq
             WHERE m.kind <> 'system' AND m.sender_id <> moved.user_id
             ORDER BY 1, 2, 4"
        );
        return sqlx::query_as(&statement)
            .bind(&marks_json)
            .fetch_all(conn)
            .await;
    }
    // Where the cursors stand before (SQLite's RETURNING gives only the new values).
    let before = format!(
        "SELECT p.conversation_id, p.user_id, p.last_delivered_seq AS from_seq, v.seq AS to_seq
         FROM participants p JOIN {marks_table}
           ON p.conversation_id = v.conversation_id AND p.user_id = v.user_id
         WHERE p.last_delivered_seq < v.seq"
    );
    let advances: Vec<DeliveryAdvance> = sqlx::query_as(&before)
        .bind(&marks_json)
        .fetch_all(&mut *conn)
        .await?;
    if advances.is_empty() {
        return Ok(Vec::new());
    }
    let update = format!(
        "UPDATE participants SET last_delivered_seq = v.seq
         FROM {marks_table}
         WHERE participants.conversation_id = v.conversation_id AND participants.user_id = v.user_id
           AND participants.last_delivered_seq < v.seq"
    );
    sqlx::query(&update)
        .bind(&marks_json)
        .execute(&mut *conn)
        .await?;
    let ranges = delivery_ranges(&advances);
    let senders = messages::senders_in_ranges(conn, &ranges).await?;
    Ok(delivery_notices(&advances, &senders))
}

/// One range per conversation covering all its moved cursors: in a busy
/// group the cursors of its members overlap, and each message is read once.
pub(crate) fn delivery_ranges(advances: &[DeliveryAdvance]) -> Vec<SeqRange> {
    let mut ranges: BTreeMap<ConversationId, SeqRange> = BTreeMap::new();
    for a in advances {
        let range = ranges.entry(a.conversation_id).or_insert(SeqRange {
            conversation_id: a.conversation_id,
            from_seq: a.from_seq,
            to_seq: a.to_seq,
        });
        range.from_seq = range.from_seq.min(a.from_seq);
        range.to_seq = range.to_seq.max(a.to_seq);
    }
    ranges.into_values().collect()
}

/// Who must be told of the moved cursors, given the senders of the
/// (non-system) messages in their ranges, `(conversation, seq, sender)`:
/// ordered, without repeats.
pub(crate) fn delivery_notices(
    advances: &[DeliveryAdvance],
    senders_in_ranges: &[(ConversationId, i64, UserId)],
) -> Vec<DeliveryNotice> {
    let mut senders: HashMap<ConversationId, Vec<(i64, UserId)>> = HashMap::new();
    for &(conversation_id, seq, sender) in senders_in_ranges {
        senders
            .entry(conversation_id)
            .or_default()
            .push((seq, sender));
    }
    let mut notices: Vec<DeliveryNotice> = advances
        .iter()
        .flat_map(|a| {
            senders
                .get(&a.conversation_id)
                .into_iter()
                .flatten()
                .filter(|(seq, sender)| {
                    *seq > a.from_seq && *seq <= a.to_seq && *sender != a.user_id
                })
                .map(|&(_, sender)| DeliveryNotice {
                    conversation_id: a.conversation_id,
                    user_id: a.user_id,
                    up_to_seq: a.to_seq,
                    sender,
                })
        })
        .collect();
    notices.sort();
    notices.dedup();
    notices
}
