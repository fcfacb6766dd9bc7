//! Chat: conversations, messages, receipts, reactions, attachments and search,
//! with the delivery guarantees of `docs/design.md`.
//!
//! Every change to a conversation goes through the [`writer`], which commits
//! in batches and publishes the resulting [`events`] in commit order.

pub mod attachments;
pub mod conversations;
pub mod emoji;
pub mod events;
pub mod files;
pub mod input;
pub mod messages;
pub mod search;
pub mod views;
pub mod writer;

#[cfg(test)]
mod tests;
