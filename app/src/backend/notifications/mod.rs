//! Notifications: each user's feed of typed notifications (seed 000's
//! system), the ingestion API through which CRM systems create them, and the
//! chat's own NEW_MESSAGE notifications for members who were offline.
//!
//! A change commits first and is pushed after: `newNotification` to the
//! recipient's tabs (unless they muted the kind), `notificationsUpdated` with
//! the unread count when notifications are read or deleted.

pub mod chat;
pub mod input;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use sha2::{Digest, Sha256};

use self::input::Ingestion;
use super::chat::events::ChatEvent;
use super::db::notifications::{self, Filter, NewNotification, NotificationRow};
use super::db::{api_keys, users};
use super::{Backend, Error, Result, now_ms};
use crate::protocol::{
    Actor, ApiKeyId, ApiKeySummary, IngestNotification, Ingested, Me, NewApiKey, Notification,
    NotificationId, NotificationKind, NotificationPage, NotificationSetting, OrgId, OrgRole,
    UserId,
};

/// Every organisation API key starts with this, so a key is never mistaken
/// for a user's token (JWTs start with `eyJ`), and secret scanners find it.
pub const API_KEY_PREFIX: &str = "crmk_";
const API_KEY_NAME_CHARS: usize = 80;
pub const DEFAULT_PAGE: i64 = 30;
pub const MAX_PAGE: i64 = 100;

/// What ingestion answered, and whether it is the stored answer to an
/// earlier request with the same Idempotency-Key.
pub struct IngestOutcome {
    pub ingested: Ingested,
    pub replayed: bool,
}

impl Backend {
    /// A page of the user's feed, newest activity first, with the unread count.
    pub async fn notifications(
        &self,
        me: &Me,
        filter: Filter,
        limit: Option<i64>,
    ) -> Result<NotificationPage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let mut conn = self.db.pool().acquire().await?;
        let mut rows = notifications::page(&mut conn, me.id, filter, limit + 1).await?;
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let unread_count = notifications::unread_count(&mut conn, me.id).await?;
        Ok(NotificationPage {
            notifications: rows.into_iter().map(notification_from_row).collect(),
            has_more,
            unread_count,
        })
    }

    pub async fn notification_unread_count(&self, me: &Me) -> Result<i64> {
        let mut conn = self.db.pool().acquire().await?;
        Ok(notifications::unread_count(&mut conn, me.id).await?)
    }

    /// Marks one notification read. Someone else's id is `NotFound`.
    pub async fn mark_notification_read(
        &self,
        me: &Me,
        id: NotificationId,
    ) -> Result<Notification> {
        let mut tx = self.db.begin_write().await?;
        let changed = notifications::mark_read(&mut tx, me.id, id, now_ms())
            .await?
            .ok_or(Error::NotFound)?;
        let row = notifications::by_ids(&mut tx, me.id, &[id])
            .await?
            .pop()
            .ok_or(Error::NotFound)?;
        let unread_count = notifications::unread_count(&mut tx, me.id).await?;
        let events = if changed {
            vec![ChatEvent::NotificationsChanged {
                user_id: me.id,
                unread_count,
                read: vec![id],
                deleted: Vec::new(),
                all_read: false,
                kind: None,
            }]
        } else {
            Vec::new()
        };
        self.fanout.commit(tx, events).await?;
        Ok(notification_from_row(row))
    }

    /// Marks every unread notification read (of one kind, if given), in one
    /// statement. Returns how many changed.
    pub async fn mark_all_notifications_read(
        &self,
        me: &Me,
        kind: Option<NotificationKind>,
    ) -> Result<u64> {
        let mut tx = self.db.begin_write().await?;
        let changed = notifications::mark_all_read(&mut tx, me.id, kind, now_ms()).await?;
        let unread_count = notifications::unread_count(&mut tx, me.id).await?;
        let events = if changed > 0 {
            vec![ChatEvent::NotificationsChanged {
                user_id: me.id,
                unread_count,
                read: Vec::new(),
                deleted: Vec::new(),
                all_read: true,
                kind,
            }]
        } else {
            Vec::new()
        };
        self.fanout.commit(tx, events).await?;
        Ok(changed)
    }

    /// Deletes one notification (softly: it leaves every read path).
    pub async fn delete_notification(&self, me: &Me, id: NotificationId) -> Result<()> {
        let mut tx = self.db.begin_write().await?;
        notifications::soft_delete(&mut tx, me.id, id, now_ms())
            .await?
            .ok_or(Error::NotFound)?;
        let unread_count = notifications::unread_count(&mut tx, me.id).await?;
        let events = vec![ChatEvent::NotificationsChanged {
            user_id: me.id,
            unread_count,
            read: Vec::new(),
            deleted: vec![id],
            all_read: false,
            kind: None,
        }];
        self.fanout.commit(tx, events).await?;
        Ok(())
    }

    /// Every kind with whether the user muted it.
    pub async fn notification_settings(&self, me: &Me) -> Result<Vec<NotificationSetting>> {
        let mut conn = self.db.pool().acquire().await?;
        let muted = notifications::muted_kinds(&mut conn, me.id).await?;
        Ok(NotificationKind::ALL
            .iter()
            .map(|&kind| NotificationSetting {
                kind,
                muted: muted.contains(&kind),
            })
            .collect())
    }

    pub async fn set_notification_muted(
        &self,
        me: &Me,
        kind: NotificationKind,
        muted: bool,
    ) -> Result<Vec<NotificationSetting>> {
        let mut conn = self.db.pool().acquire().await?;
        notifications::set_muted(&mut conn, me.id, kind, muted).await?;
        drop(conn);
        self.notification_settings(me).await
    }

    // -----------------------------------------------------------------------
    // Ingestion
    // -----------------------------------------------------------------------

    /// The organisation a live API key belongs to. Anything else, including a
    /// user's token, is `Unauthenticated`.
    pub async fn authenticate_api_key(&self, key: &str) -> Result<(ApiKeyId, OrgId)> {
        if !key.starts_with(API_KEY_PREFIX) {
            return Err(Error::Unauthenticated);
        }
        let mut conn = self.db.pool().acquire().await?;
        api_keys::authenticate(&mut conn, &sha256_hex(key.as_bytes()), now_ms())
            .await?
            .ok_or(Error::Unauthenticated)
    }

    /// Creates notifications for users of the organisation. With an
    /// idempotency key, a retry gets the first answer and creates nothing,
    /// even when it races the first attempt; the same key with a different
    /// request is `IdempotencyKeyReused`.
    pub async fn ingest_notifications(
        &self,
        org_id: OrgId,
        request: IngestNotification,
        idempotency_key: Option<&str>,
    ) -> Result<IngestOutcome> {
        let idempotency_key = idempotency_key.map(input::idempotency_key).transpose()?;
        let request_hash = sha256_hex(
            serde_json::to_string(&request)
                .context("Failed to serialise an ingestion request")?
                .as_bytes(),
        );
        let ingestion = Ingestion::parse(request)?;
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        if let Some(key) = &idempotency_key
            && let Some((first_hash, response)) =
                notifications::claim_idempotency_key(&mut tx, org_id, key, &request_hash, now)
                    .await?
        {
            if first_hash != request_hash {
                return Err(Error::IdempotencyKeyReused);
            }
            let ingested = serde_json::from_str(&response)
                .context("Failed to read a stored ingestion answer")?;
            return Ok(IngestOutcome {
                ingested,
                replayed: true,
            });
        }
        // Recipients and the actor must be of the organisation; another
        // organisation's user is exactly as unknown as no user.
        let mut wanted = ingestion.recipients.clone();
        wanted.extend(ingestion.actor_id);
        let names: HashMap<UserId, String> = users::names_in_org(&mut tx, org_id, &wanted)
            .await?
            .into_iter()
            .collect();
        if wanted.iter().any(|id| !names.contains_key(id)) {
            return Err(Error::NotFound);
        }
        let rows: Vec<NewNotification> = ingestion
            .recipients
            .iter()
            .map(|&user_id| NewNotification {
                org_id,
                user_id,
                kind: ingestion.kind.as_str(),
                title: ingestion.title.clone(),
                body: ingestion.body.clone(),
                metadata: ingestion.metadata.clone(),
                link: ingestion.link.clone(),
                actor_id: ingestion.actor_id,
                conversation_id: None,
                item_count: 1,
            })
            .collect();
        let ids: HashMap<UserId, NotificationId> = notifications::insert_many(&mut tx, &rows, now)
            .await?
            .into_iter()
            .map(|(id, user)| (user, id))
            .collect();
        let muting = notifications::muting(&mut tx, &ingestion.recipients, ingestion.kind).await?;
        let actor = ingestion.actor_id.and_then(|id| {
            names.get(&id).map(|name| Actor {
                id,
                display_name: name.clone(),
            })
        });
        let unread: HashMap<UserId, i64> =
            notifications::unread_counts(&mut tx, &ingestion.recipients)
                .await?
                .into_iter()
                .collect();
        let mut created = Vec::with_capacity(rows.len());
        let mut events = Vec::with_capacity(rows.len());
        for user_id in &ingestion.recipients {
            let id = *ids
                .get(user_id)
                .context("an inserted notification did not come back")?;
            let notification = Notification {
                id,
                kind: ingestion.kind,
                title: ingestion.title.clone(),
                body: ingestion.body.clone(),
                metadata: serde_json::from_str(&ingestion.metadata).unwrap_or_default(),
                link: ingestion.link.clone(),
                actor: actor.clone(),
                conversation_id: None,
                count: 1,
                read_at: None,
                created_at: now,
                updated_at: now,
            };
            events.push(ChatEvent::NotificationCreated {
                user_id: *user_id,
                notification: Arc::new(notification.clone()),
                unread_count: unread.get(user_id).copied().unwrap_or(1),
                push: !muting.contains(user_id),
            });
            created.push(notification);
        }
        let ingested = Ingested {
            notifications: created,
        };
        if let Some(key) = &idempotency_key {
            let response = serde_json::to_string(&ingested)
                .context("Failed to serialise an ingestion answer")?;
            notifications::record_idempotent_response(&mut tx, org_id, key, &response).await?;
        }
        self.fanout.commit(tx, events).await?;
        Ok(IngestOutcome {
            ingested,
            replayed: false,
        })
    }

    // -----------------------------------------------------------------------
    // API keys (organisation admins)
    // -----------------------------------------------------------------------

    pub async fn api_keys(&self, me: &Me) -> Result<Vec<ApiKeySummary>> {
        require_org_admin(me)?;
        let mut conn = self.db.pool().acquire().await?;
        Ok(api_keys::of_org(&mut conn, me.org_id).await?)
    }

    /// Creates a key. Its whole text is in the answer and nowhere else.
    pub async fn create_api_key(&self, me: &Me, name: &str) -> Result<NewApiKey> {
        require_org_admin(me)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > API_KEY_NAME_CHARS {
            return Err(Error::InvalidInput(format!(
                "Name the key (1 to {API_KEY_NAME_CHARS} characters), e.g. after the system that uses it."
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::InvalidInput(
                "Key names cannot contain control characters.".to_owned(),
            ));
        }
        let key = generate_api_key();
        let mut conn = self.db.pool().acquire().await?;
        let summary = api_keys::insert(
            &mut conn,
            api_keys::NewKey {
                org_id: me.org_id,
                name,
                prefix: &key[..API_KEY_PREFIX.len() + 6],
                key_hash: &sha256_hex(key.as_bytes()),
                created_by: me.id,
            },
            now_ms(),
        )
        .await?;
        Ok(NewApiKey { key, summary })
    }

    pub async fn revoke_api_key(&self, me: &Me, id: ApiKeyId) -> Result<()> {
        require_org_admin(me)?;
        let mut conn = self.db.pool().acquire().await?;
        if api_keys::revoke(&mut conn, me.org_id, id, now_ms()).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }
}

fn require_org_admin(me: &Me) -> Result<()> {
    if me.role == OrgRole::Admin {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Only organisation admins manage API keys.",
        ))
    }
}

/// `crmk_` and 64 hex digits: 256 random bits.
fn generate_api_key() -> String {
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    format!("{API_KEY_PREFIX}{}", hex(&secret))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

pub(crate) fn notification_from_row(row: NotificationRow) -> Notification {
    Notification {
        id: row.id,
        // Only parsed kinds are ever stored.
        kind: NotificationKind::parse(&row.kind).unwrap_or(NotificationKind::SystemAlert),
        title: row.title,
        body: row.body,
        metadata: serde_json::from_str(&row.metadata).unwrap_or_default(),
        link: row.link,
        actor: row
            .actor_id
            .zip(row.actor_name)
            .map(|(id, display_name)| Actor { id, display_name }),
        conversation_id: row.conversation_id,
        count: row.item_count,
        read_at: row.read_at,
        created_at: row.created_at,
        updated_at: row.activity_at,
    }
}
