//! The withdraw result notification (§4.8), sent by the wallet to the institution's
//! `notify_url` when a withdrawal reaches `SUCCESS` or `FAIL`, and the institution's answer.
//!
//! The body's keys are exactly the seed's, in the seed's order
//! (`spec/seed/withdraw-result-notification.txt`), then the extension fields `exchange_rate` and
//! `fail_reason`. The body is written by hand rather than through a map so that the order, and
//! thus the signed bytes, never depend on a serializer's choices.

use super::json::JsonObject;
use super::status::OrderStatus;
use super::withdraw::BranchInfo;
use crate::fields::{FieldError, Reader, RequestError, parse_object};
use crate::headers::INSTITUTION_ID_CHARS_MAX;
use crate::retcode::RetCode;
use serde::{Deserialize, Serialize};

/// The `topic` of the withdraw result notification.
pub const WITHDRAW_RESULT_TOPIC: &str = "freewalker.withdraw.result";

/// Generous bounds for reading a notification on the institution's side: the wallet writes these
/// fields itself, so they only guard against a body that is not from the wallet at all.
const ORDER_FIELD_CHARS_MAX: usize = 64;
/// The longest amount, rate or time text read from a notification, in characters.
const VALUE_CHARS_MAX: usize = 32;
/// The longest `fail_reason` read from a notification, in characters.
const FAIL_REASON_CHARS_MAX: usize = 256;

/// 4.8 withdraw result notification (event, wallet → institution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawResultNotification {
    /// The institution notified.
    pub institution_id: String,
    /// Always [`WITHDRAW_RESULT_TOPIC`].
    pub topic: String,
    /// The order's final state.
    pub data: WithdrawResultData,
}

/// `data` of the notification: the seed's fields in the seed's order, then the extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawResultData {
    /// The institution's order number.
    pub out_order_no: String,
    /// The wallet's order number.
    pub order_no: String,
    /// The account debited.
    pub account_no: String,
    /// The CNY amount, e.g. `"50.00"`.
    pub amount: String,
    /// `CNY`.
    pub currency: String,
    /// The amount paid out, e.g. `"6.96"`.
    pub target_amount: String,
    /// The currency paid out.
    pub target_currency: String,
    /// Where the money was collected.
    pub branch_info: BranchInfo,
    /// `SUCCESS` or `FAIL`.
    pub order_status: OrderStatus,
    /// `yyyy-MM-dd HH:mm:ss`; empty for `FAIL`.
    pub success_time: String,
    /// Extension: the locked rate, CNY per 100 units of `target_currency`.
    pub exchange_rate: String,
    /// Extension: why the payout failed; empty for `SUCCESS`.
    pub fail_reason: String,
}

impl WithdrawResultNotification {
    /// The notification of `data` to `institution_id`, with the fixed topic.
    pub fn new(institution_id: impl Into<String>, data: WithdrawResultData) -> Self {
        WithdrawResultNotification {
            institution_id: institution_id.into(),
            topic: WITHDRAW_RESULT_TOPIC.to_owned(),
            data,
        }
    }

    /// The compact JSON body, keys in the seed's order.
    pub fn to_json(&self) -> Vec<u8> {
        let d = &self.data;
        let mut data = JsonObject::new();
        data.str("out_order_no", &d.out_order_no)
            .str("order_no", &d.order_no)
            .str("account_no", &d.account_no)
            .str("amount", &d.amount)
            .str("currency", &d.currency)
            .str("target_amount", &d.target_amount)
            .str("target_currency", &d.target_currency)
            .object("branch_info", d.branch_info.json())
            .str("order_status", d.order_status.as_str())
            .str("success_time", &d.success_time)
            .str("exchange_rate", &d.exchange_rate)
            .str("fail_reason", &d.fail_reason);
        let mut o = JsonObject::new();
        o.str("institution_id", &self.institution_id)
            .str("topic", &self.topic)
            .object("data", data);
        o.finish()
    }

    /// Parses a notification body on the institution's side (after its signature verified).
    /// `success_time`, `exchange_rate` and `fail_reason` may be absent or empty.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        let map = parse_object(body)?;
        let r = Reader::new(&map);
        let institution_id = r.required_str("institution_id", INSTITUTION_ID_CHARS_MAX)?;
        let topic = r.required_text("topic")?;
        if topic != WITHDRAW_RESULT_TOPIC {
            return Err(r
                .invalid("topic", format!("must be {WITHDRAW_RESULT_TOPIC}"))
                .into());
        }
        let d = r.required_object("data")?;
        let optional = |name: &str, max: usize| -> Result<String, FieldError> {
            Ok(d.optional_str(name, max)?.unwrap_or_default())
        };
        let data = WithdrawResultData {
            out_order_no: d.required_str("out_order_no", ORDER_FIELD_CHARS_MAX)?,
            order_no: d.required_str("order_no", ORDER_FIELD_CHARS_MAX)?,
            account_no: d.required_str("account_no", ORDER_FIELD_CHARS_MAX)?,
            amount: d.required_str("amount", VALUE_CHARS_MAX)?,
            currency: d.required_str("currency", VALUE_CHARS_MAX)?,
            target_amount: d.required_str("target_amount", VALUE_CHARS_MAX)?,
            target_currency: d.required_str("target_currency", VALUE_CHARS_MAX)?,
            branch_info: BranchInfo::read(&d, "branch_info")?,
            order_status: d.required_enum("order_status")?,
            success_time: optional("success_time", VALUE_CHARS_MAX)?,
            exchange_rate: optional("exchange_rate", VALUE_CHARS_MAX)?,
            fail_reason: optional("fail_reason", FAIL_REASON_CHARS_MAX)?,
        };
        Ok(WithdrawResultNotification {
            institution_id,
            topic: topic.to_owned(),
            data,
        })
    }
}

/// The institution's answer to a notification: delivered when the HTTP status is 200 and
/// `ret_code` is `0000`; anything else is retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationAck {
    /// `0000` when the institution accepted the notification.
    pub ret_code: String,
    /// A human-readable sentence.
    #[serde(default)]
    pub ret_msg: String,
}

impl NotificationAck {
    /// The acknowledgement that ends the retries.
    pub fn success() -> Self {
        NotificationAck {
            ret_code: RetCode::Success.code().to_owned(),
            ret_msg: RetCode::Success.default_message().to_owned(),
        }
    }

    /// Whether this acknowledges the notification (`ret_code` `0000`).
    pub fn is_success(&self) -> bool {
        self.ret_code == RetCode::Success.code()
    }

    /// The compact JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        let mut o = JsonObject::new();
        o.str("ret_code", &self.ret_code)
            .str("ret_msg", &self.ret_msg);
        o.finish()
    }

    /// Parses an institution's answer; `ret_msg` may be absent.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        let map = parse_object(body)?;
        let r = Reader::new(&map);
        Ok(NotificationAck {
            ret_code: r.required_text("ret_code")?.to_owned(),
            ret_msg: r.optional_text("ret_msg")?.unwrap_or_default().to_owned(),
        })
    }
}
