//! crm-chat: the one crate shared by server and browser.
//!
//! - [`protocol`]: wire types, shared.
//! - [`components`] and [`pages`]: the UI, rendered on the server and hydrated.
//! - [`api`]: server functions, thin calls into `backend`.
//! - `backend` (feature `ssr`): storage, auth, chat, the real-time hub.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod pages;
pub mod protocol;
mod root;

#[cfg(feature = "ssr")]
pub mod backend;

pub use root::{App, shell};
