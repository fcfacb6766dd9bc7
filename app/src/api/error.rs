//! The one error type of the edges, shared by REST handlers, server functions
//! and the browser. Every backend error becomes a stable snake_case code and a
//! status in one exhaustive `match`, so the UI and API clients see the same
//! thing, and no database or IO text ever reaches a client.

use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients branch on these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidCredentials,
    LoginThrottled,
    Unauthenticated,
    Forbidden,
    CrossSiteRequest,
    NotFound,
    InvalidInput,
    EmptyMessage,
    MessageTooLong,
    EditWindowClosed,
    MessageDeleted,
    ClientMsgIdReused,
    PayloadTooLarge,
    UnsupportedMediaType,
    CursorAhead,
    RateLimited,
    TooManyConnections,
    InvalidNotificationType,
    MetadataTooLarge,
    IdempotencyKeyReused,
    /// A WebSocket frame that is not JSON, or not a known event.
    BadFrame,
    /// The request could not be read or reached no server function.
    BadRequest,
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidCredentials | ErrorCode::Unauthenticated => 401,
            ErrorCode::LoginThrottled => 429,
            ErrorCode::Forbidden | ErrorCode::CrossSiteRequest | ErrorCode::EditWindowClosed => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MessageDeleted | ErrorCode::ClientMsgIdReused | ErrorCode::CursorAhead => {
                409
            }
            ErrorCode::PayloadTooLarge | ErrorCode::MetadataTooLarge => 413,
            ErrorCode::IdempotencyKeyReused => 422,
            ErrorCode::RateLimited | ErrorCode::TooManyConnections => 429,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::InvalidInput
            | ErrorCode::EmptyMessage
            | ErrorCode::MessageTooLong
            | ErrorCode::BadFrame
            | ErrorCode::InvalidNotificationType
            | ErrorCode::BadRequest => 400,
            ErrorCode::Internal => 500,
        }
    }
}

/// `{"error": "not_found", "message": "…"}` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    #[serde(rename = "error")]
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn unauthenticated() -> AppError {
        AppError::new(ErrorCode::Unauthenticated, "Please sign in.")
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::new(
                ErrorCode::BadRequest,
                "The server could not be reached. Check your connection.",
            ),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::new(ErrorCode::BadRequest, "The request was malformed.")
            }
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use axum::response::{IntoResponse, Response};
    use http::{HeaderValue, StatusCode, header};

    use super::{AppError, ErrorCode};
    use crate::backend::Error;

    impl From<Error> for AppError {
        fn from(error: Error) -> AppError {
            let message = error.to_string();
            match error {
                Error::InvalidCredentials => AppError::new(ErrorCode::InvalidCredentials, message),
                Error::LoginThrottled { retry_after_secs } => AppError {
                    retry_after_secs: Some(retry_after_secs),
                    ..AppError::new(ErrorCode::LoginThrottled, message)
                },
                Error::Unauthenticated => AppError::new(ErrorCode::Unauthenticated, message),
                Error::Forbidden(_) => AppError::new(ErrorCode::Forbidden, message),
                Error::NotFound => AppError::new(ErrorCode::NotFound, message),
                Error::InvalidInput(reason) => AppError::new(ErrorCode::InvalidInput, reason),
                Error::EmptyMessage => AppError::new(ErrorCode::EmptyMessage, message),
                Error::MessageTooLong { .. } => AppError::new(ErrorCode::MessageTooLong, message),
                Error::EditWindowClosed => AppError::new(ErrorCode::EditWindowClosed, message),
                Error::MessageDeleted => AppError::new(ErrorCode::MessageDeleted, message),
                Error::ClientMsgIdReused => AppError::new(ErrorCode::ClientMsgIdReused, message),
                Error::PayloadTooLarge { .. } => AppError::new(ErrorCode::PayloadTooLarge, message),
                Error::UnsupportedMediaType => {
                    AppError::new(ErrorCode::UnsupportedMediaType, message)
                }
                Error::CursorAhead { .. } => AppError::new(ErrorCode::CursorAhead, message),
                Error::UnknownNotificationKind(_) => {
                    AppError::new(ErrorCode::InvalidNotificationType, message)
                }
                Error::MetadataTooLarge { .. } => {
                    AppError::new(ErrorCode::MetadataTooLarge, message)
                }
                Error::IdempotencyKeyReused => {
                    AppError::new(ErrorCode::IdempotencyKeyReused, message)
                }
                Error::Unexpected(detail) => {
                    tracing::error!(error = ?detail, "unexpected error");
                    AppError::new(
                        ErrorCode::Internal,
                        "Something went wrong on our side. Please try again.",
                    )
                }
            }
        }
    }

    impl AppError {
        pub fn status(&self) -> StatusCode {
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        /// Sets the status (and `Retry-After`) of a server function's response,
        /// which would otherwise be a bare 500.
        pub fn set_server_fn_status(&self) {
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(self.status());
                if let Some(seconds) = self.retry_after_secs {
                    response.insert_header(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
            }
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let mut response = (self.status(), axum::Json(&self)).into_response();
            if let Some(seconds) = self.retry_after_secs {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_serialises_as_code_and_message() {
        let error = AppError::new(ErrorCode::NotFound, "not found");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": "not_found", "message": "not found"})
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn database_failures_never_reach_the_client() {
        let error: AppError =
            crate::backend::Error::Unexpected(anyhow::anyhow!("relation users does not exist"))
                .into();
        assert_eq!(error.code, ErrorCode::Internal);
        assert!(!error.message.contains("relation"));
    }
}
