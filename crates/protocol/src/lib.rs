//! What both sides of the Freewalker wire share: return codes, currencies and amounts, the wire's
//! time formats, request signatures, the sensitive-field envelope, the authentication headers,
//! and the typed requests, responses and notification of every API (`spec/API.md` §1–§6).
//!
//! The server and the institution SDK both depend on this crate, so the two can never disagree
//! about the wire. It does no I/O at all: no files, no network and no clock reads. Times are
//! passed in as Unix time, keys as PEM text, bodies as bytes.
//!
//! # Layout
//!
//! - [`retcode`]: the `ret_code` table of §6 with each code's HTTP status.
//! - [`currency`]: ISO 4217 codes with their minor-unit exponents.
//! - [`amount`]: the strict major-unit amount strings of §3 to and from integer minor units.
//! - [`time_format`]: the UTC+08:00 header timestamp, body times and dates of §2 and §3.
//! - [`signature`]: `md5_hex`, RSA and SM2 signing and verifying keys (§2).
//! - [`envelope`]: AES-256-GCM sensitive fields and the RSA-OAEP `Encrypt-Key` header (§2).
//! - [`headers`]: the five authentication headers, parsed and produced, and nonces.
//! - [`fields`]: the validation errors that become `2002`/`2003`, and the body reader behind them.
//! - [`api`]: typed requests, responses and the withdraw result notification of §4.
//! - [`wire_enum`]: what the closed string enums of the wire have in common.
//!
//! Money is always an `i64` count of minor units inside; strings exist only at the wire edge.

#![warn(missing_docs)]

#[macro_use]
pub mod wire_enum;

pub mod amount;
pub mod api;
pub mod currency;
pub mod envelope;
pub mod fields;
pub mod headers;
mod pem;
pub mod retcode;
pub mod signature;
pub mod time_format;

pub use amount::{AMOUNT_MAJOR_MAX, AmountError, Money, format_amount, parse_amount};
pub use currency::Currency;
pub use envelope::{EnvelopeError, EnvelopeKey, EnvelopeOpener, EnvelopeSealer};
pub use fields::{FieldError, RequestError};
pub use headers::{AuthHeaders, HeaderError};
pub use retcode::RetCode;
pub use signature::{
    KeyError, SignError, SignatureError, SignatureType, SigningKey, VerifyingKey, md5_hex,
};
pub use time_format::TimeError;
