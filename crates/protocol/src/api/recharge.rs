//! Recharge apply (§4.3) and the recharge order its query returns (§4.4).

use super::account::AccountNo;
use super::json::JsonObject;
use super::status::OrderStatus;
use crate::amount::{Money, format_amount};
use crate::currency::Currency;
use crate::fields::{FieldError, JsonMap, Reader, RequestError, parse_object};
use serde::{Deserialize, Serialize};

/// The longest `remark`, in characters (S(256)).
pub const REMARK_CHARS_MAX: usize = 256;

wire_enum! {
    /// How the visitor paid the institution.
    pub enum PayMethod {
        /// A card issued abroad.
        ForeignCard => "FOREIGN_CARD",
        /// Cash at a counter.
        Cash => "CASH",
        /// A bank transfer.
        BankTransfer => "BANK_TRANSFER",
        /// Anything else.
        Other => "OTHER",
    }
}

/// 4.3 recharge apply: `/api/v1/recharge/apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargeApplyRequest {
    /// The caller's institution.
    pub institution_id: String,
    /// The institution's order number, unique among its recharges.
    pub out_order_no: String,
    /// The account credited.
    pub account_no: AccountNo,
    /// The CNY credited, in fen.
    pub amount: i64,
    /// Always [`Currency::CNY`].
    pub currency: Currency,
    /// What the visitor paid: `pay_amount` in `pay_currency` (both or neither on the wire).
    pub pay_amount: Option<Money>,
    /// How the visitor paid.
    pub pay_method: Option<PayMethod>,
    /// Free text.
    pub remark: Option<String>,
}

impl RechargeApplyRequest {
    /// Parses and validates a body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        Ok(Self::from_object(&parse_object(body)?)?)
    }

    /// Validates a body already parsed into a JSON object (for a caller that
    /// looked at it first, so the body is parsed once).
    pub fn from_object(map: &JsonMap) -> Result<Self, FieldError> {
        let r = Reader::new(map);
        Ok(RechargeApplyRequest {
            institution_id: r.required_institution_id()?,
            out_order_no: r.required_id("out_order_no")?,
            account_no: r.required_account_no("account_no")?,
            amount: r.required_amount("amount", Currency::CNY)?,
            currency: r.required_cny("currency")?,
            pay_amount: pay_amount(&r)?,
            pay_method: r.optional_enum("pay_method")?,
            remark: r.optional_str("remark", REMARK_CHARS_MAX)?,
        })
    }

    /// The compact JSON body, fields in the spec's order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut o = JsonObject::new();
        o.str("institution_id", &self.institution_id)
            .str("out_order_no", &self.out_order_no)
            .str("account_no", self.account_no.as_str())
            .str("amount", &format_amount(self.amount, self.currency))
            .str("currency", self.currency.code())
            .opt_str("pay_amount", self.pay_amount.map(|m| m.format()).as_deref())
            .opt_str("pay_currency", self.pay_amount.map(|m| m.currency.code()))
            .opt_str("pay_method", self.pay_method.map(PayMethod::as_str))
            .opt_str("remark", self.remark.as_deref());
        o.finish()
    }
}

super::impl_api_request!(RechargeApplyRequest);

/// `pay_amount` with `pay_currency`: both or neither. The amount is read with the currency's
/// exponent (JPY has no decimals, KWD three), so the currency is resolved first.
fn pay_amount(r: &Reader<'_>) -> Result<Option<Money>, crate::fields::FieldError> {
    let text = r.optional_text("pay_amount")?;
    let currency = r.optional_currency("pay_currency")?;
    match (text, currency) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(r.invalid("pay_currency", "is required with pay_amount")),
        (None, Some(_)) => Err(r.invalid("pay_amount", "is required with pay_currency")),
        (Some(text), Some(currency)) => {
            let minor = r.amount("pay_amount", text, currency)?;
            Ok(Some(Money::new(minor, currency)))
        }
    }
}

/// `data` of 4.3, and of 4.4 with the payment fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RechargeOrderData {
    /// The institution's order number.
    pub out_order_no: String,
    /// The wallet's order number (`R…`, at most 32 characters).
    pub order_no: String,
    /// The account credited.
    pub account_no: String,
    /// The CNY credited, e.g. `"100.00"`.
    pub amount: String,
    /// `CNY`.
    pub currency: String,
    /// `SUCCESS` once accepted.
    pub order_status: OrderStatus,
    /// When the order was created, `yyyy-MM-dd HH:mm:ss`.
    pub create_time: String,
    /// When it succeeded, `yyyy-MM-dd HH:mm:ss` (empty until then).
    pub success_time: String,
    /// The account's available balance.
    pub available_balance: String,
    /// What the visitor paid (4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_amount: Option<String>,
    /// The currency paid in (4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_currency: Option<String>,
    /// How the visitor paid (4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_method: Option<PayMethod>,
    /// The request's remark (4.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
}
