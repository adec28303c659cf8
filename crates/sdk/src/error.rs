//! What can go wrong on the institution's side of a call.

/// A call could not be made, or its answer cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("key: {0}")]
    Key(#[from] freewalker_protocol::KeyError),
    #[error("signing failed: {0}")]
    Sign(#[from] freewalker_protocol::SignError),
    #[error("envelope: {0}")]
    Envelope(#[from] freewalker_protocol::EnvelopeError),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The answer is not signed by the wallet's key: do not trust its content.
    #[error("the response signature does not verify with the wallet's public key: {0}")]
    BadResponseSignature(String),
    /// The answer is signed but is not the JSON envelope.
    #[error("the response is not a JSON envelope: {0}")]
    BadResponse(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}
