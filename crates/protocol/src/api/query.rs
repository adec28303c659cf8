//! The order query shared by recharge query (§4.4) and withdraw query (§4.6).

use super::json::JsonObject;
use crate::fields::{FieldError, JsonMap, Reader, RequestError, parse_object};

/// The longest wallet order number, in characters (`R…`/`W…`, at most 32).
pub const ORDER_NO_CHARS_MAX: usize = 32;

/// 4.4 recharge query and 4.6 withdraw query: `out_order_no` or `order_no`, at least one (when
/// both are given they must name the same order, which the server checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    /// The caller's institution.
    pub institution_id: String,
    /// The institution's order number.
    pub out_order_no: Option<String>,
    /// The wallet's order number (at most 32 of `[A-Za-z0-9]`).
    pub order_no: Option<String>,
}

/// 4.4 recharge query: `/api/v1/recharge/query`.
pub type RechargeQueryRequest = OrderQuery;
/// 4.6 withdraw query: `/api/v1/withdraw/query`.
pub type WithdrawQueryRequest = OrderQuery;

impl OrderQuery {
    /// Parses and validates a body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        Ok(Self::from_object(&parse_object(body)?)?)
    }

    /// Validates a body already parsed into a JSON object (for a caller that
    /// looked at it first, so the body is parsed once).
    pub fn from_object(map: &JsonMap) -> Result<Self, FieldError> {
        let r = Reader::new(map);
        let institution_id = r.required_institution_id()?;
        let out_order_no = r.optional_id("out_order_no")?;
        let order_no = optional_order_no(&r, "order_no")?;
        if out_order_no.is_none() && order_no.is_none() {
            return Err(FieldError::missing("out_order_no or order_no"));
        }
        Ok(OrderQuery {
            institution_id,
            out_order_no,
            order_no,
        })
    }

    /// The compact JSON body, fields in the spec's order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut o = JsonObject::new();
        o.str("institution_id", &self.institution_id)
            .opt_str("out_order_no", self.out_order_no.as_deref())
            .opt_str("order_no", self.order_no.as_deref());
        o.finish()
    }
}

super::impl_api_request!(OrderQuery);

/// An optional wallet order number: 1–32 ASCII letters and digits.
fn optional_order_no(r: &Reader<'_>, name: &str) -> Result<Option<String>, FieldError> {
    let Some(text) = r.optional_text(name)? else {
        return Ok(None);
    };
    if text.len() > ORDER_NO_CHARS_MAX || !text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(r.invalid(name, "must be 1 to 32 characters of A-Z a-z 0-9"));
    }
    Ok(Some(text.to_owned()))
}
