//! The Freewalker institution SDK: what a partner institution needs to talk to
//! the wallet correctly on the first day.
//!
//! - [`Client`] signs each request (§2), wraps sensitive fields in the
//!   digital envelope, sends it, and verifies the wallet's signature on the
//!   answer before anyone reads it.
//! - [`notification`] verifies and parses the withdraw result notifications the
//!   wallet posts to the institution (§4.8), and answers them.
//!
//! The `freewalker-cli` binary puts both on the command line.
//!
//! # Layout
//!
//! - [`client`]: the signed HTTP client and its typed calls.
//! - [`notification`]: verifying incoming notifications.
//! - [`error`]: the one error type, [`SdkError`].

pub mod client;
pub mod error;
pub mod notification;

pub use client::{Client, ClientConfig, Reply, SealedFields};
pub use error::SdkError;
pub use freewalker_protocol as protocol;
