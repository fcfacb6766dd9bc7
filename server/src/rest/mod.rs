//! The REST API under `/api/`, for API clients and CRM integrations. Each
//! handler is a thin edge: authenticate, parse, call `backend`, map the error.

pub mod auth;
pub mod chat;
pub mod extract;
pub mod notifications;
pub mod openapi;
pub mod users;
