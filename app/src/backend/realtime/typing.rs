//! Typing indicators: ephemeral (never stored), throttled to one relay per
//! user and conversation every 2 s, and expiring after 6 s without a refresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::protocol::{ConversationId, UserId};

pub const RELAY_INTERVAL: Duration = Duration::from_secs(2);
pub const EXPIRY: Duration = Duration::from_secs(6);

/// Someone typing in a conversation, and whom to tell when they stop.
#[derive(Debug, Clone)]
pub struct Typist {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub name: String,
    pub audience: Arc<[UserId]>,
}

struct Entry {
    typist: Typist,
    last_relayed: Instant,
    expires: Instant,
}

#[derive(Default)]
pub struct Typing {
    entries: Mutex<HashMap<(ConversationId, UserId), Entry>>,
}

impl Typing {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<(ConversationId, UserId), Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records that the typist is typing; whether to relay it now.
    pub fn started(&self, typist: Typist, now: Instant) -> bool {
        let key = (typist.conversation_id, typist.user_id);
        let mut entries = self.entries();
        match entries.get_mut(&key) {
            Some(entry) => {
                entry.expires = now + EXPIRY;
                entry.typist = typist;
                if now.duration_since(entry.last_relayed) >= RELAY_INTERVAL {
                    entry.last_relayed = now;
                    true
                } else {
                    false
                }
            }
            None => {
                entries.insert(
                    key,
                    Entry {
                        typist,
                        last_relayed: now,
                        expires: now + EXPIRY,
                    },
                );
                true
            }
        }
    }

    /// The typist stopped; who was told they were typing, if anyone.
    pub fn stopped(&self, conversation_id: ConversationId, user_id: UserId) -> Option<Typist> {
        self.entries()
            .remove(&(conversation_id, user_id))
            .map(|entry| entry.typist)
    }

    /// Typists whose indicator expired by `now`, forgotten.
    pub fn expired(&self, now: Instant) -> Vec<Typist> {
        let mut entries = self.entries();
        let gone: Vec<(ConversationId, UserId)> = entries
            .iter()
            .filter(|(_, e)| e.expires <= now)
            .map(|(k, _)| *k)
            .collect();
        gone.into_iter()
            .filter_map(|key| entries.remove(&key))
            .map(|e| e.typist)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typist() -> Typist {
        Typist {
            conversation_id: ConversationId(1),
            user_id: UserId(2),
            name: "Bob".into(),
            audience: Arc::from(vec![UserId(3)]),
        }
    }

    #[test]
    fn typing_is_relayed_at_most_every_two_seconds() {
        let typing = Typing::default();
        let t0 = Instant::now();
        assert!(typing.started(typist(), t0));
        assert!(!typing.started(typist(), t0 + Duration::from_millis(500)));
        assert!(!typing.started(typist(), t0 + Duration::from_millis(1999)));
        assert!(typing.started(typist(), t0 + RELAY_INTERVAL));
    }

    #[test]
    fn typing_expires_six_seconds_after_the_last_refresh() {
        let typing = Typing::default();
        let t0 = Instant::now();
        typing.started(typist(), t0);
        typing.started(typist(), t0 + Duration::from_secs(3));
        assert!(typing.expired(t0 + Duration::from_secs(8)).is_empty());
        assert_eq!(typing.expired(t0 + Duration::from_secs(9)).len(), 1);
        assert!(
            typing.stopped(ConversationId(1), UserId(2)).is_none(),
            "expired is gone"
        );
    }

    #[test]
    fn stopping_tells_only_when_typing_was_told() {
        let typing = Typing::default();
        assert!(typing.stopped(ConversationId(1), UserId(2)).is_none());
        typing.started(typist(), Instant::now());
        assert!(typing.stopped(ConversationId(1), UserId(2)).is_some());
    }
}
