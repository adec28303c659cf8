//! The institution-facing API (§4), one module per resource. Every handler takes
//! a [`SignedRequest`] (so authentication cannot be forgotten) and goes through
//! [`execute`], which claims the nonce and applies the operation in one
//! database transaction.

pub mod account;
pub mod recharge;
pub mod user;
pub mod withdraw;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use freewalker_protocol::api::{ApiRequest, Envelope, paths};
use freewalker_protocol::envelope::EnvelopeKey;
use freewalker_protocol::fields::{FieldError, parse_object};
use freewalker_protocol::retcode::RetCode;
use freewalker_store::ops::NonceClaim;
use freewalker_store::{Command, Op, OpError, Output};
use serde::Serialize;

use crate::app::AppState;
use crate::http::auth::SignedRequest;
use crate::http::error::ApiError;

/// The routes of §1.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::USER_SYNC, post(user::user_sync))
        .route(paths::CUSTOMER_SYNC, post(user::customer_sync))
        .route(paths::ACCOUNT_QUERY, post(account::account_query))
        .route(paths::RECHARGE_APPLY, post(recharge::recharge_apply))
        .route(paths::RECHARGE_QUERY, post(recharge::recharge_query))
        .route(paths::WITHDRAW_CONFIRM, post(withdraw::withdraw_confirm))
        .route(paths::WITHDRAW_QUERY, post(withdraw::withdraw_query))
}

/// `0000` with `data`.
pub fn ok(data: impl Serialize) -> Response {
    let mut response = Envelope::ok(data).to_json().into_response();
    response.extensions_mut().insert(RetCode::Success);
    response
}

/// Parses the body as `R`: `2001` if it is not a JSON object, `1006` if its
/// `institution_id` is not the header's, then `2002`/`2003` for its fields.
fn parse_body<R: ApiRequest>(signed: &SignedRequest) -> Result<R, ApiError> {
    // Parsed once: the object is checked for `institution_id` here, then read
    // field by field.
    let object = parse_object(&signed.body)?;
    if let Some(body_id) = object.get("institution_id").and_then(|v| v.as_str())
        && body_id != signed.headers.institution_id
    {
        return Err(ApiError::new(
            RetCode::InstitutionMismatch,
            format!(
                "institution_id {body_id:?} in the body differs from the header's {:?}",
                signed.headers.institution_id
            ),
        ));
    }
    Ok(R::from_object(&object)?)
}

/// The envelope key of the request's sensitive fields; without a usable
/// `Encrypt-Key` header, the first sensitive field present is what is invalid.
pub(crate) fn envelope_key(
    state: &AppState,
    signed: &SignedRequest,
    field: &'static str,
) -> Result<EnvelopeKey, ApiError> {
    let Some(header) = &signed.encrypt_key else {
        return Err(FieldError::invalid(
            field,
            "cannot be decrypted: the Encrypt-Key header is missing",
        )
        .into());
    };
    state.keys.opener.unwrap(header).map_err(|_| {
        FieldError::invalid(
            field,
            "does not decrypt: Encrypt-Key does not unwrap with the wallet's key",
        )
        .into()
    })
}

/// Claims the request's nonce and, if the body is acceptable, applies the
/// operation `build` makes of it, all in one transaction. A refused body still
/// claims the nonce (§2), so a replay of a bad request answers `1004` too.
pub(crate) async fn execute<R: ApiRequest>(
    state: &AppState,
    signed: &SignedRequest,
    build: impl FnOnce(R) -> Result<Op, ApiError>,
) -> Result<Output, ApiError> {
    let now_ms = state.clock.now_millis();
    let nonce = NonceClaim {
        institution_id: signed.headers.institution_id.clone(),
        nonce: signed.headers.nonce.clone(),
        expires_at_ms: now_ms + state.settings.nonce_ttl_ms,
    };
    let op = parse_body::<R>(signed).and_then(build);
    let (op, refusal) = match op {
        Ok(op) => (op, None),
        Err(refusal) => (Op::Nothing, Some(refusal)),
    };
    let started = std::time::Instant::now();
    let name = op.name();
    let result = state
        .store
        .execute(Command {
            nonce: Some(nonce),
            op,
            now_ms,
        })
        .await;
    metrics::histogram!("freewalker_store_command_seconds", "op" => name)
        .record(started.elapsed().as_secs_f64());
    match (result, refusal) {
        (Err(OpError::NonceUsed), _) => {
            Err(ApiError::new(RetCode::NonceUsed, "nonce already used"))
        }
        (Err(e), _) => Err(e.into()),
        (Ok(_), Some(refusal)) => Err(refusal),
        (Ok(output), None) => Ok(output),
    }
}

/// An output of the wrong kind for the operation: a bug, answered `9999`.
#[track_caller]
pub(crate) fn unexpected(output: Output) -> ApiError {
    ApiError::internal(format!("unexpected store output {output:?}"))
}
