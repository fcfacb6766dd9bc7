//! Request middleware: cross-site request rejection and the page guard.

pub mod cross_site;
pub mod page_guard;
