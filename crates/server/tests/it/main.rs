//! The wallet's integration tests: the real server on an ephemeral port, driven
//! through the institution SDK. One binary for the crate (see STYLE.md).

mod auth;
mod crash;
mod interop;
mod multi;
mod notify;
mod props;
mod receiver;
mod recharge;
mod support;
mod users;
mod withdraw;
