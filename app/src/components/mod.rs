//! Components shared by the pages.

pub mod header;
