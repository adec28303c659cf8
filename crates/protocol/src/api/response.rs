//! The envelope of every response (§1): `{"ret_code": "...", "ret_msg": "...", "data": {...}}`,
//! with `data` present on success and on `3004`.

use super::json::JsonObject;
use super::limits::LimitExceededData;
use crate::fields::{FieldError, RequestError, parse_object};
use crate::retcode::RetCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The 4-character result code (§6).
    pub ret_code: String,
    /// A human-readable sentence naming the offending field where there is one.
    pub ret_msg: String,
    /// The result, on success and on `3004`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl Envelope {
    /// `0000` with `data`. Should `data` fail to serialize (a map with non-string keys, which
    /// none of this crate's types have), the answer is a `9999` rather than a panic.
    pub fn ok(data: impl Serialize) -> Self {
        Envelope::with_data(RetCode::Success, RetCode::Success.default_message(), data)
    }

    /// A result without data: an error, or a `0000` with nothing to return.
    pub fn error(code: RetCode, msg: impl Into<String>) -> Self {
        Envelope {
            ret_code: code.code().to_owned(),
            ret_msg: msg.into(),
            data: None,
        }
    }

    /// A result with data (`0000`, or `3004` with the limit).
    pub fn with_data(code: RetCode, msg: impl Into<String>, data: impl Serialize) -> Self {
        match serde_json::to_value(data) {
            Ok(data) => Envelope {
                ret_code: code.code().to_owned(),
                ret_msg: msg.into(),
                data: Some(data),
            },
            Err(_) => Envelope::error(RetCode::Internal, RetCode::Internal.default_message()),
        }
    }

    /// `3004` naming the limit in `ret_msg` and in `data`.
    pub fn limit_exceeded(msg: impl Into<String>, data: &LimitExceededData) -> Self {
        Envelope::with_data(RetCode::LimitExceeded, msg, data)
    }

    /// The answer to a body that failed validation: `2001`–`2003` with the error's sentence.
    pub fn from_request_error(error: &RequestError) -> Self {
        Envelope::error(error.ret_code(), error.to_string())
    }

    /// The result code, if it is one of §6.
    pub fn code(&self) -> Option<RetCode> {
        RetCode::from_code(&self.ret_code)
    }

    /// Whether the result is `0000`.
    pub fn is_success(&self) -> bool {
        self.ret_code == RetCode::Success.code()
    }

    /// `data` as a typed value (e.g. [`super::RechargeOrderData`]).
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match &self.data {
            Some(data) => T::deserialize(data),
            None => T::deserialize(&Value::Null),
        }
    }

    /// The compact JSON body: `ret_code`, `ret_msg`, then `data` if any.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| {
            // Serializing strings and a `Value` cannot fail; this keeps the function total.
            let mut o = JsonObject::new();
            o.str("ret_code", RetCode::Internal.code())
                .str("ret_msg", RetCode::Internal.default_message());
            o.finish()
        })
    }

    /// Parses a response body on the client's side. `ret_msg` may be absent; a `null` `data` is
    /// no data.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        let mut map = parse_object(body)?;
        let ret_code = match map.get("ret_code") {
            Some(Value::String(code)) if !code.is_empty() => code.clone(),
            Some(Value::Null) | None => return Err(FieldError::missing("ret_code").into()),
            Some(Value::String(_)) => return Err(FieldError::missing("ret_code").into()),
            Some(_) => return Err(FieldError::invalid("ret_code", "must be a string").into()),
        };
        let ret_msg = match map.get("ret_msg") {
            Some(Value::String(msg)) => msg.clone(),
            Some(Value::Null) | None => String::new(),
            Some(_) => return Err(FieldError::invalid("ret_msg", "must be a string").into()),
        };
        let data = match map.remove("data") {
            Some(Value::Null) | None => None,
            Some(data) => Some(data),
        };
        Ok(Envelope {
            ret_code,
            ret_msg,
            data,
        })
    }
}
