//! crm-chat: the one crate shared by server and browser.
//!
//! - [`protocol`]: wire types, shared.
//! - [`components`] and [`pages`]: the UI, rendered on the server and hydrated.
//! - [`api`]: server functions, thin calls into `backend`.
//! - `backend` (feature `ssr`): storage, auth, chat, the real-time hub.

#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "hydrate")]
pub mod client;
pub mod components;
#[cfg(test)]
mod fixtures;
pub mod format;
pub mod model;
pub mod pages;
pub mod protocol;
mod root;
pub mod store;

#[cfg(feature = "ssr")]
pub mod backend;

pub use root::{App, BUILD_META, PKG_DIR, build_id, shell, versioned_pkg_dir};

/// Now, in unix milliseconds, in the browser or on the server.
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        client::now_ms()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}
