//! Components shared by the pages.

pub mod avatar;
pub mod composer;
pub mod conversation_list;
pub mod header;
pub mod icon;
pub mod message;
pub mod new_conversation;
pub mod notifications;
pub mod thread;
