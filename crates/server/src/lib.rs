//! The Freewalker wallet server.
//!
//! # Layout
//!
//! - [`cli`]: the `freewalker` command line (§8): `serve` and the operator commands.
//! - [`settings`]: settings from the environment and an optional TOML file.
//! - [`app`]: shared state, the router, serving with graceful shutdown.
//! - [`http`]: the HTTP edge: authentication (an extractor), response signing,
//!   the one error-to-`ret_code` mapping, the institution cache, rate limiting.
//! - [`api`]: the institution-facing API (§4), one module per resource.
//! - [`workers`]: payout and notification delivery, and housekeeping.
//! - [`keys`]: the wallet key pair and the data key; [`at_rest`]: sealing
//!   sensitive fields in the database.
//! - [`telemetry`]: logs and Prometheus metrics.
//!
//! Business rules live in `freewalker-domain`, storage in `freewalker-store`,
//! the wire in `freewalker-protocol`; this crate wires them to HTTP.

pub mod api;
pub mod app;
pub mod at_rest;
pub mod cli;
pub mod http;
pub mod keys;
pub mod settings;
pub mod telemetry;
pub mod workers;
