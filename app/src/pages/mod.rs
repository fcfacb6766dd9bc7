//! Routes.

pub mod chat;
pub mod login;
pub mod not_found;
pub mod settings;
pub mod thread;
