//! The wallet's integration tests: the real server on an ephemeral port, driven
//! through the institution SDK. One binary for the crate (see STYLE.md).

mod auth;
mod interop;
mod support;
mod users;
