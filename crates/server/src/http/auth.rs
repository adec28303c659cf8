//! Authentication of institution requests (§2), as an extractor: a handler that
//! takes a [`SignedRequest`] cannot run unless every check passed, in the
//! contract's order:
//!
//! 1. body size (`2004`, before anything is parsed),
//! 2. the five headers present and well-formed (`1001`),
//! 3. the institution known and enabled (`1005`),
//! 4. the timestamp within the window (`1003`),
//! 5. the signature over the raw body with the institution's key (`1002`).
//!
//! The nonce (`1004`) is claimed afterwards, in the same database transaction
//! as whatever the request does, so an unauthenticated request writes nothing
//! and a replay can never slip between the check and the write.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_LENGTH;
use freewalker_protocol::api::BODY_BYTES_MAX;
use freewalker_protocol::headers::{self, AuthHeaders};
use freewalker_protocol::retcode::RetCode;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::institutions::KnownInstitution;

/// The `Encrypt-Key` header (§2 sensitive fields).
pub const ENCRYPT_KEY: &str = "encrypt-key";

/// A request whose institution, timestamp and signature have been checked.
#[derive(Debug)]
pub struct SignedRequest {
    pub institution: Arc<KnownInstitution>,
    pub headers: AuthHeaders,
    /// The raw body exactly as signed.
    pub body: Bytes,
    /// The `Encrypt-Key` header, if any.
    pub encrypt_key: Option<String>,
}

fn too_large() -> ApiError {
    ApiError::new(
        RetCode::BodyTooLarge,
        format!("the body is larger than {} KiB", BODY_BYTES_MAX / 1024),
    )
}

impl FromRequest<AppState> for SignedRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > BODY_BYTES_MAX as u64) {
            return Err(too_large());
        }
        let body = axum::body::to_bytes(body, BODY_BYTES_MAX)
            .await
            .map_err(|_| too_large())?;

        let auth = headers::parse(|name| parts.headers.get(name).and_then(|v| v.to_str().ok()))?;
        tracing::Span::current().record("institution_id", auth.institution_id.as_str());

        let institution = state
            .institutions
            .get(&state.store, &auth.institution_id)
            .await?
            .filter(|i| i.institution.enabled)
            .ok_or_else(|| {
                ApiError::new(
                    RetCode::UnknownInstitution,
                    format!("institution {} is unknown or disabled", auth.institution_id),
                )
            })?;

        // The header has one-second resolution, so the window is compared in
        // whole seconds: exactly 300 s away is still inside.
        let now_ms = state.clock.now_millis();
        let skew_secs = auth.timestamp_secs.abs_diff(now_ms.div_euclid(1000));
        if skew_secs > (state.settings.timestamp_window_ms / 1000).unsigned_abs() {
            return Err(ApiError::new(
                RetCode::TimestampWindow,
                format!(
                    "timestamp {} is more than {} s away from the wallet's clock",
                    auth.timestamp_text,
                    state.settings.timestamp_window_ms / 1000
                ),
            ));
        }

        if let Err(e) = auth.verify(&institution.key, &body) {
            tracing::info!(error = %e, "signature refused");
            return Err(ApiError::new(
                RetCode::BadSignature,
                "Signature-Data does not verify with the institution's public key over md5_hex(body)",
            ));
        }

        if !state.rate_limiter.admit(&auth.institution_id, now_ms) {
            return Err(ApiError::new(
                RetCode::RateLimited,
                "too many requests; slow down and retry",
            ));
        }

        let encrypt_key = parts
            .headers
            .get(ENCRYPT_KEY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(SignedRequest {
            institution,
            headers: auth,
            body,
            encrypt_key,
        })
    }
}
