//! Request middleware: cross-site request rejection, the page guard, and
//! pages whose render stalls.

pub mod cross_site;
pub mod page_guard;
pub mod stalled_render;
