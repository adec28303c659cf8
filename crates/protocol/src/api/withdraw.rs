//! Withdraw confirm (§4.5), the withdraw order its query returns (§4.6), and the branch where
//! the visitor collects the money.

use super::account::AccountNo;
use super::json::JsonObject;
use super::recharge::REMARK_CHARS_MAX;
use super::status::OrderStatus;
use crate::amount::format_amount;
use crate::currency::Currency;
use crate::fields::{FieldError, JsonMap, Reader, RequestError, check_text, parse_object};
use serde::{Deserialize, Serialize};

/// The longest `branch_info.branch_no`, in characters (S(32)).
pub const BRANCH_NO_CHARS_MAX: usize = 32;
/// The longest `branch_info.branch_name`, in characters (S(128)).
pub const BRANCH_NAME_CHARS_MAX: usize = 128;
/// The longest `branch_info.branch_address`, in characters (S(256)).
pub const BRANCH_ADDRESS_CHARS_MAX: usize = 256;
/// The longest `notify_url`, in characters (S(512)).
pub const NOTIFY_URL_CHARS_MAX: usize = 512;

/// The branch (网点) where the visitor collects the payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchInfo {
    /// The branch's number at the institution.
    pub branch_no: String,
    /// The branch's name.
    pub branch_name: String,
    /// The branch's address.
    pub branch_address: String,
}

impl BranchInfo {
    /// Reads `branch_info` with its three required fields.
    pub(crate) fn read(r: &Reader<'_>, name: &str) -> Result<Self, FieldError> {
        let b = r.required_object(name)?;
        Ok(BranchInfo {
            branch_no: b.required_str("branch_no", BRANCH_NO_CHARS_MAX)?,
            branch_name: b.required_str("branch_name", BRANCH_NAME_CHARS_MAX)?,
            branch_address: b.required_str("branch_address", BRANCH_ADDRESS_CHARS_MAX)?,
        })
    }

    /// The object in the spec's field order.
    pub(crate) fn json(&self) -> JsonObject {
        let mut o = JsonObject::new();
        o.str("branch_no", &self.branch_no)
            .str("branch_name", &self.branch_name)
            .str("branch_address", &self.branch_address);
        o
    }
}

/// 4.5 withdraw confirm: `/api/v1/withdraw/confirm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawConfirmRequest {
    /// The caller's institution.
    pub institution_id: String,
    /// The institution's order number, unique among its withdrawals.
    pub out_order_no: String,
    /// The account debited.
    pub account_no: AccountNo,
    /// The CNY debited, in fen.
    pub amount: i64,
    /// Always [`Currency::CNY`].
    pub currency: Currency,
    /// The currency paid out; `CNY` means no exchange.
    pub target_currency: Currency,
    /// Where the visitor collects the money.
    pub branch_info: BranchInfo,
    /// Overrides the institution's configured notification URL.
    pub notify_url: Option<String>,
    /// Free text.
    pub remark: Option<String>,
}

impl WithdrawConfirmRequest {
    /// Parses and validates a body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        Ok(Self::from_object(&parse_object(body)?)?)
    }

    /// Validates a body already parsed into a JSON object (for a caller that
    /// looked at it first, so the body is parsed once).
    pub fn from_object(map: &JsonMap) -> Result<Self, FieldError> {
        let r = Reader::new(map);
        Ok(WithdrawConfirmRequest {
            institution_id: r.required_institution_id()?,
            out_order_no: r.required_id("out_order_no")?,
            account_no: r.required_account_no("account_no")?,
            amount: r.required_amount("amount", Currency::CNY)?,
            currency: r.required_cny("currency")?,
            target_currency: r.required_currency("target_currency")?,
            branch_info: BranchInfo::read(&r, "branch_info")?,
            notify_url: optional_url(&r, "notify_url")?,
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
            .str("target_currency", self.target_currency.code())
            .object("branch_info", self.branch_info.json())
            .opt_str("notify_url", self.notify_url.as_deref())
            .opt_str("remark", self.remark.as_deref());
        o.finish()
    }
}

super::impl_api_request!(WithdrawConfirmRequest);

/// An optional callback URL: `http://` or `https://`, a host, no spaces, at most 512 characters.
/// Whether it is reachable, or allowed for the institution, is for the server to decide.
fn optional_url(r: &Reader<'_>, name: &str) -> Result<Option<String>, FieldError> {
    let Some(url) = r.optional_text(name)? else {
        return Ok(None);
    };
    check_text(url, NOTIFY_URL_CHARS_MAX).map_err(|reason| r.invalid(name, reason))?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let has_host = rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !has_host || url.chars().any(char::is_whitespace) {
        return Err(r.invalid(name, "must be an http:// or https:// URL"));
    }
    Ok(Some(url.to_owned()))
}

/// `data` of 4.5 and 4.6.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawOrderData {
    /// The institution's order number.
    pub out_order_no: String,
    /// The wallet's order number (`W…`, at most 32 characters).
    pub order_no: String,
    /// The account debited.
    pub account_no: String,
    /// The CNY debited, e.g. `"50.00"`.
    pub amount: String,
    /// `CNY`.
    pub currency: String,
    /// What is paid out, in `target_currency`, e.g. `"6.96"`.
    pub target_amount: String,
    /// The currency paid out.
    pub target_currency: String,
    /// The locked selling rate, CNY per 100 units of `target_currency`, e.g. `"718.25"`.
    pub exchange_rate: String,
    /// Where the visitor collects the money.
    pub branch_info: BranchInfo,
    /// `INIT`, `PROCESSING`, `SUCCESS` or `FAIL`.
    pub order_status: OrderStatus,
    /// When the order was created, `yyyy-MM-dd HH:mm:ss`.
    pub create_time: String,
    /// When the payout succeeded (empty until `SUCCESS`).
    pub success_time: String,
    /// Why the payout failed (empty unless `FAIL`).
    pub fail_reason: String,
}
