//! The chat page's shared state, provided as context: the [`ChatModel`]
//! behind a signal, the clock the page's relative times follow, and the way
//! out to the WebSocket. Components read the model through memos and change
//! it through these methods; the connection (`client::connection`) feeds it
//! server events.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::format::Offset;
use crate::model::{ChatModel, Link, Outgoing};
use crate::protocol::{
    Attachment, ClientEvent, ConversationId, Me, MessageId, MessageKind, UserId,
};

/// Frames for the socket, taken by the connection while it is live.
pub type Outbound = futures::channel::mpsc::UnboundedSender<ClientEvent>;

#[derive(Clone, Copy)]
pub struct Store {
    pub model: RwSignal<ChatModel>,
    /// Unix milliseconds, ticking every 20 s in the browser.
    pub now: RwSignal<i64>,
    /// The viewer's UTC offset: the server's guess (from a cookie) until the
    /// browser says.
    pub offset: RwSignal<Offset>,
    /// Unsent text by conversation, as kept in the browser's storage, for
    /// the list to show. Empty on the server and until the page hydrates.
    pub drafts: RwSignal<BTreeMap<ConversationId, String>>,
    outbound: StoredValue<Option<Outbound>>,
}

impl Store {
    pub fn new(model: ChatModel, now: i64, offset: Offset) -> Store {
        Store {
            model: RwSignal::new(model),
            now: RwSignal::new(now),
            offset: RwSignal::new(offset),
            drafts: RwSignal::new(BTreeMap::new()),
            outbound: StoredValue::new(None),
        }
    }

    pub fn me(&self) -> Me {
        self.model.with_untracked(|m| m.me.clone())
    }

    pub fn my_id(&self) -> UserId {
        self.model.with_untracked(|m| m.me.id)
    }

    /// Keeps what the composer holds, or forgets it when it is blank.
    pub fn set_draft(&self, id: ConversationId, text: &str) {
        let kept = (!text.trim().is_empty()).then(|| text.to_owned());
        self.drafts.maybe_update(|drafts| {
            if drafts.get(&id) == kept.as_ref() {
                return false;
            }
            match kept {
                Some(text) => drafts.insert(id, text),
                None => drafts.remove(&id),
            };
            true
        });
        #[cfg(feature = "hydrate")]
        crate::client::storage::save_draft(self.my_id(), id, text);
    }

    /// The connection hands over its queue while live, and takes it back.
    pub fn set_outbound(&self, outbound: Option<Outbound>) {
        self.outbound.set_value(outbound);
    }

    /// Puts a frame on the socket if it is live. Whether it went.
    pub fn send(&self, event: ClientEvent) -> bool {
        let live = self
            .model
            .with_untracked(|m| matches!(m.link, Link::Live | Link::Restored));
        live && self.outbound.with_value(|outbound| {
            outbound
                .as_ref()
                .is_some_and(|o| o.unbounded_send(event).is_ok())
        })
    }

    /// Sends a message: it shows at once as "sending", waits in the outbox
    /// (kept in the browser's storage) until the server acknowledges it, and
    /// goes out again with the same id after a reconnect.
    pub fn send_message(
        &self,
        conversation_id: ConversationId,
        content: String,
        reply_to: Option<MessageId>,
        attachment: Option<Attachment>,
        now: i64,
    ) {
        let outgoing = Outgoing {
            client_msg_id: new_client_msg_id(),
            conversation_id,
            content,
            reply_to,
            attachment,
            created_at: now,
            attempts: 1,
            failed: None,
        };
        self.model.update(|m| m.queue(outgoing.clone()));
        self.send(send_frame(&outgoing));
    }

    /// "Tap to retry" on a failed send.
    pub fn retry(&self, client_msg_id: &str) {
        let mut retried = None;
        self.model.update(|m| retried = m.retry(client_msg_id));
        if let Some(outgoing) = retried {
            self.send(send_frame(&outgoing));
        }
    }

    /// Drops a failed send the user gave up on.
    pub fn discard(&self, client_msg_id: &str) {
        self.model
            .update(|m| m.outbox.retain(|o| o.client_msg_id != client_msg_id));
    }

    /// Tells the server the user read up to `seq` (once, moving forward only).
    pub fn mark_read(&self, conversation_id: ConversationId, seq: i64) {
        let behind = self.model.with_untracked(|m| {
            m.conversation(conversation_id)
                .is_some_and(|c| seq > c.my_last_read_seq || c.unread_count > 0)
        });
        if behind
            && self.send(ClientEvent::MarkMessagesAsRead {
                conversation_id,
                up_to_seq: Some(seq),
            })
        {
            self.model.update(|m| m.read_locally(conversation_id, seq));
        }
    }
}

/// The frame that sends (or sends again) an outgoing message.
pub fn send_frame(outgoing: &Outgoing) -> ClientEvent {
    let message_type = outgoing.attachment.as_ref().map(|a| {
        if a.width.is_some() {
            MessageKind::Image
        } else {
            MessageKind::File
        }
    });
    ClientEvent::SendMessage {
        conversation_id: outgoing.conversation_id,
        client_msg_id: outgoing.client_msg_id.clone(),
        content: outgoing.content.clone(),
        message_type,
        reply_to: outgoing.reply_to,
        attachment_id: outgoing.attachment.as_ref().map(|a| a.id),
    }
}

/// A version 7 UUID: it starts with the time, so ids arrive in about the
/// order of the unique index they go into, and each send touches the
/// index's newest page instead of a random one (on SQLite, a commit writes
/// about one page less per message; see `docs/benchmarks.md`).
pub fn new_client_msg_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The store of the page; only components under the chat page use it.
pub fn use_store() -> Store {
    expect_context::<Store>()
}
