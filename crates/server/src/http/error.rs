//! The one place where every failure becomes a `ret_code`, a `ret_msg` and an
//! HTTP status (§1, §6).
//!
//! Two audiences: the institution gets a stable code and a sentence naming the
//! offending field; the operator's log gets the cause. Internal text (SQL, file
//! paths, key material) never reaches the response: a `9999` says only that
//! nothing was applied and the request is safe to retry.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use freewalker_domain::DomainError;
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::{Envelope, LimitExceededData};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::fields::{FieldError, RequestError};
use freewalker_protocol::headers::HeaderError;
use freewalker_protocol::retcode::RetCode;
use freewalker_store::{OpError, StoreError};

/// A refused or failed request, ready to be answered.
#[derive(Debug)]
pub struct ApiError {
    pub code: RetCode,
    pub message: String,
    pub data: Option<serde_json::Value>,
}

/// The `ret_msg` of every `9999`.
pub const INTERNAL_MESSAGE: &str =
    "internal error: nothing was applied; the request is safe to retry as is";

impl ApiError {
    /// A refusal with a message for the institution.
    pub fn new(code: RetCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// An internal failure: logged here, inside the request's span, with its
    /// cause; answered with `9999` and a fixed message.
    #[track_caller]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let at = std::panic::Location::caller();
        tracing::error!(error = %cause, at = %at, "internal error");
        Self::new(RetCode::Internal, INTERNAL_MESSAGE)
    }

    /// The response envelope.
    pub fn envelope(&self) -> Envelope {
        match &self.data {
            Some(data) => Envelope::with_data(self.code, self.message.clone(), data),
            None => Envelope::error(self.code, self.message.clone()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.envelope().to_json()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response.extensions_mut().insert(self.code);
        response
    }
}

impl From<HeaderError> for ApiError {
    fn from(e: HeaderError) -> Self {
        ApiError::new(RetCode::AuthHeader, e.to_string())
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::new(e.ret_code(), e.to_string())
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        ApiError::new(e.ret_code(), e.to_string())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let mut err = ApiError::new(e.ret_code(), e.to_string());
        if let DomainError::LimitExceeded(l) = &e {
            let cny = |fen| format_amount(fen, Currency::CNY);
            err.message = format!(
                "limit {} exceeded: limit {}, used {}, remaining {}",
                l.limit.as_str(),
                cny(l.limit_fen),
                cny(l.used_fen),
                cny(l.remaining_fen)
            );
            let data = LimitExceededData {
                limit: l.limit,
                limit_amount: cny(l.limit_fen),
                used_amount: cny(l.used_fen),
                remaining_amount: cny(l.remaining_fen),
            };
            err.data = serde_json::to_value(data).ok();
        }
        err
    }
}

impl From<StoreError> for ApiError {
    #[track_caller]
    fn from(e: StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<OpError> for ApiError {
    #[track_caller]
    fn from(e: OpError) -> Self {
        match e {
            OpError::NonceUsed => ApiError::new(RetCode::NonceUsed, "nonce already used"),
            OpError::Domain(d) => d.into(),
            other => ApiError::internal(other),
        }
    }
}
