//! Every API response is signed by the wallet (§2), errors included: a
//! middleware buffers the (small) JSON body, signs `md5_hex(body)` with the
//! wallet key and adds the five headers. It also makes sure every response in
//! `/api` is the JSON envelope, whatever produced it.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use freewalker_protocol::headers::{self, AuthHeaders};

use crate::app::AppState;
use crate::http::error::ApiError;

/// Our responses are envelopes of a few hundred bytes; anything larger is a bug.
const RESPONSE_BYTES_MAX: usize = 1024 * 1024;

/// Stands in the response's `institution_id` header when the request had no
/// well-formed one of its own (the header is required on every message).
pub const UNKNOWN_INSTITUTION: &str = "unknown";

/// The `institution_id` a response is addressed to: the request's header, if it
/// is well-formed, else [`UNKNOWN_INSTITUTION`].
fn addressee(req: &Request) -> String {
    req.headers()
        .get(headers::INSTITUTION_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= headers::INSTITUTION_ID_CHARS_MAX
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
        .unwrap_or(UNKNOWN_INSTITUTION)
        .to_owned()
}

pub async fn sign_responses(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let institution_id = addressee(&req);
    let response = next.run(req).await;
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, RESPONSE_BYTES_MAX).await {
        Ok(b) => b,
        Err(e) => {
            let err = ApiError::internal(format!("response body unreadable: {e}"));
            parts.status = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
            err.envelope().to_json().into()
        }
    };
    let now_secs = state.clock.now_secs();
    match AuthHeaders::sign(&state.keys.signing, &bytes, &institution_id, now_secs) {
        Ok(signed) => {
            for (name, value) in signed.to_pairs() {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    parts.headers.insert(HeaderName::from_static(name), v);
                }
            }
        }
        // Signing with a loaded key does not fail; if it ever does, the
        // institution must not trust the response, so it goes out unsigned
        // and its verification fails loudly on their side.
        Err(e) => tracing::error!(error = %e, "could not sign a response"),
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}
