//! Receiving withdraw result notifications (§4.8): verify the wallet's
//! signature, the timestamp window and the body, then acknowledge with
//! `{"ret_code":"0000"}`. Notifications arrive at least once: de-duplicate by
//! `(order_no, order_status)`.

use freewalker_protocol::api::{NotificationAck, WithdrawResultNotification};
use freewalker_protocol::headers;
use freewalker_protocol::signature::VerifyingKey;

/// How far the notification's timestamp may be from the receiver's clock.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("{0}")]
    Header(#[from] freewalker_protocol::HeaderError),
    #[error("the timestamp is outside the {TIMESTAMP_WINDOW_SECS} s window")]
    Timestamp,
    #[error("the signature does not verify with the wallet's public key")]
    Signature,
    #[error("the body is not a withdraw result notification: {0}")]
    Body(String),
    #[error("addressed to institution {header:?} in the header but {body:?} in the body")]
    Addressee { header: String, body: String },
}

/// Verifies a notification as received: headers through `get(lowercase_name)`,
/// the raw body, and the receiver's clock. The caller should also check that
/// `institution_id` is its own.
pub fn verify<'a>(
    wallet_key: &VerifyingKey,
    get: impl Fn(&str) -> Option<&'a str>,
    body: &[u8],
    now_secs: i64,
) -> Result<WithdrawResultNotification, NotificationError> {
    let auth = headers::parse(get)?;
    if auth.timestamp_secs.abs_diff(now_secs) > TIMESTAMP_WINDOW_SECS.unsigned_abs() {
        return Err(NotificationError::Timestamp);
    }
    auth.verify(wallet_key, body)
        .map_err(|_| NotificationError::Signature)?;
    let notification = WithdrawResultNotification::from_json(body)
        .map_err(|e| NotificationError::Body(e.to_string()))?;
    if notification.institution_id != auth.institution_id {
        return Err(NotificationError::Addressee {
            header: auth.institution_id,
            body: notification.institution_id,
        });
    }
    Ok(notification)
}

/// The body that acknowledges a notification.
pub fn ack() -> Vec<u8> {
    NotificationAck::success().to_json()
}
