//! The backend's one error type. Variants say what went wrong for the user;
//! `Unexpected` carries IO and database failures with context, and is never
//! shown to a client verbatim (see `api::error`).

use crate::protocol::ConversationId;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("too many failed sign-in attempts; try again in {retry_after_secs} seconds")]
    LoginThrottled { retry_after_secs: u64 },
    #[error("the session is missing, expired or revoked")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    InvalidInput(String),
    #[error("a message cannot be empty")]
    EmptyMessage,
    #[error("a message can be at most {max_chars} characters long")]
    MessageTooLong { max_chars: usize },
    #[error("messages can only be edited within 24 hours of sending")]
    EditWindowClosed,
    #[error("the message was deleted")]
    MessageDeleted,
    #[error("this clientMsgId was already used for a message in another conversation")]
    ClientMsgIdReused,
    #[error("the file is larger than the limit of {max_bytes} bytes")]
    PayloadTooLarge { max_bytes: u64 },
    #[error(
        "this type of file is not accepted; send images, PDFs, office documents, audio, video or plain text"
    )]
    UnsupportedMediaType,
    #[error(
        "the cursor for conversation {conversation_id} is ahead of it: it is at event {last_event_seq}"
    )]
    CursorAhead {
        conversation_id: ConversationId,
        last_event_seq: i64,
    },
    #[error(
        "{0:?} is not a notification type; use one of NEW_MESSAGE, LEAD_ASSIGNED, LEAD_STATUS_CHANGED, LEAD_UPDATED, SYSTEM_ALERT, TASK_ASSIGNED, REMINDER"
    )]
    UnknownNotificationKind(String),
    #[error("metadata is larger than the limit of {max_bytes} bytes")]
    MetadataTooLarge { max_bytes: usize },
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Unexpected(anyhow::Error::new(error).context("database query failed"))
    }
}

impl Error {
    /// The same error again, for a second caller of one failed command. An
    /// unexpected error keeps its message, not its chain.
    pub fn duplicate(&self) -> Error {
        match self {
            Error::InvalidCredentials => Error::InvalidCredentials,
            Error::LoginThrottled { retry_after_secs } => Error::LoginThrottled {
                retry_after_secs: *retry_after_secs,
            },
            Error::Unauthenticated => Error::Unauthenticated,
            Error::Forbidden(reason) => Error::Forbidden(reason),
            Error::NotFound => Error::NotFound,
            Error::InvalidInput(reason) => Error::InvalidInput(reason.clone()),
            Error::EmptyMessage => Error::EmptyMessage,
            Error::MessageTooLong { max_chars } => Error::MessageTooLong {
                max_chars: *max_chars,
            },
            Error::EditWindowClosed => Error::EditWindowClosed,
            Error::MessageDeleted => Error::MessageDeleted,
            Error::ClientMsgIdReused => Error::ClientMsgIdReused,
            Error::PayloadTooLarge { max_bytes } => Error::PayloadTooLarge {
                max_bytes: *max_bytes,
            },
            Error::UnsupportedMediaType => Error::UnsupportedMediaType,
            Error::CursorAhead {
                conversation_id,
                last_event_seq,
            } => Error::CursorAhead {
                conversation_id: *conversation_id,
                last_event_seq: *last_event_seq,
            },
            Error::UnknownNotificationKind(kind) => Error::UnknownNotificationKind(kind.clone()),
            Error::MetadataTooLarge { max_bytes } => Error::MetadataTooLarge {
                max_bytes: *max_bytes,
            },
            Error::IdempotencyKeyReused => Error::IdempotencyKeyReused,
            Error::Unexpected(error) => Error::Unexpected(anyhow::anyhow!("{error:#}")),
        }
    }
}
