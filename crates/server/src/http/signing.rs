//! Every API response is signed by the wallet (§2), errors included: a
//! middleware buffers the (small) JSON body, signs `md5_hex(body)` with the
//! wallet key and adds the five headers. It also makes sure every response in
//! `/api` is the JSON envelope, whatever produced it.
//!
//! An RSA-2048 signature costs the wallet more CPU than everything else a
//! request does. RSA PKCS#1 v1.5 is deterministic, so the same body always gets
//! the same signature bytes: [`SignatureCache`] remembers the signatures of
//! recent bodies, which makes repeated identical answers (an institution
//! polling an order or an account that has not changed) nearly free. Answers
//! that differ (every recharge, every withdrawal) are signed afresh.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use freewalker_protocol::headers::{self, AuthHeaders};
use freewalker_protocol::signature::{SignError, SigningKey, md5_hex};
use freewalker_protocol::time_format::format_header_timestamp;

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
    let signed = state
        .signatures
        .sign(&state.keys.signing, &bytes)
        .map(|signature| AuthHeaders {
            signature_type: state.keys.signing.signature_type(),
            signature,
            timestamp_secs: now_secs,
            timestamp_text: format_header_timestamp(now_secs),
            nonce: headers::new_nonce(),
            institution_id,
        });
    match signed {
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

/// Signatures of recently signed bodies, by `md5_hex(body)`. Bounded: the
/// oldest entry goes when it is full (first in, first out).
#[derive(Debug)]
pub struct SignatureCache {
    entries_max: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    by_digest: HashMap<String, String>,
    order: VecDeque<String>,
}

impl SignatureCache {
    /// A cache of at most `entries_max` signatures (0: no caching).
    pub fn new(entries_max: usize) -> Self {
        Self {
            entries_max,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    /// The signature of `body` (Base64), from the cache or freshly made.
    pub fn sign(&self, key: &SigningKey, body: &[u8]) -> Result<String, SignError> {
        if self.entries_max == 0 {
            return key.sign(body);
        }
        let digest = md5_hex(body);
        if let Some(hit) = self
            .inner
            .lock()
            .ok()
            .and_then(|c| c.by_digest.get(&digest).cloned())
        {
            metrics::counter!("freewalker_response_signatures_total", "cache" => "hit")
                .increment(1);
            return Ok(hit);
        }
        let signature = key.sign_md5_hex(&digest)?;
        metrics::counter!("freewalker_response_signatures_total", "cache" => "miss").increment(1);
        if let Ok(mut c) = self.inner.lock() {
            if c.order.len() >= self.entries_max
                && let Some(oldest) = c.order.pop_front()
            {
                c.by_digest.remove(&oldest);
            }
            if c.by_digest
                .insert(digest.clone(), signature.clone())
                .is_none()
            {
                c.order.push_back(digest);
            }
        }
        Ok(signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_signatures_are_the_same_bytes_and_the_cache_is_bounded() {
        let (private_pem, _) = freewalker_protocol::signature::generate_rsa_2048().unwrap();
        let key = SigningKey::from_pkcs8_pem(&private_pem).unwrap();
        let cache = SignatureCache::new(2);
        let first = cache.sign(&key, b"{\"a\":1}").unwrap();
        assert_eq!(cache.sign(&key, b"{\"a\":1}").unwrap(), first);
        assert_eq!(
            key.sign(b"{\"a\":1}").unwrap(),
            first,
            "what a fresh signature would be"
        );
        cache.sign(&key, b"{\"b\":2}").unwrap();
        cache.sign(&key, b"{\"c\":3}").unwrap();
        let inner = cache.inner.lock().unwrap();
        assert_eq!(inner.order.len(), 2);
        assert!(
            !inner.by_digest.contains_key(&md5_hex(b"{\"a\":1}")),
            "the oldest went first"
        );
    }
}
