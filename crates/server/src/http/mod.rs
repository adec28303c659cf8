//! The HTTP edge: authentication, response signing, errors, and the pieces
//! around them. Handlers live in [`crate::api`].

pub mod auth;
pub mod error;
pub mod institutions;
pub mod rate_limit;
pub mod signing;
