//! Typed requests, responses and the notification of every API of `spec/API.md` §4.
//!
//! Requests go both ways through one type: `from_json` is the validation the server runs (after it
//! succeeds every value is well-formed: times are Unix seconds, dates `time::Date`, amounts minor
//! units), and `to_json` is the body the SDK sends (compact, fields in the order of the spec's
//! tables, optional fields omitted). Responses are plain serde structs whose amounts and times
//! are already-formatted strings, because they are display values by the time they are built.
//!
//! One module per resource, as the spec groups them:
//!
//! - [`user`]: user info sync (4.1) and its identity-document enums.
//! - [`customer`]: customer (KYC) info sync (4.2).
//! - [`recharge`]: recharge apply and the recharge order (4.3, 4.4).
//! - [`withdraw`]: withdraw confirm, the withdraw order and the branch (4.5, 4.6).
//! - [`query`]: the order query shared by 4.4 and 4.6.
//! - [`account`]: account query (4.7) and the account number.
//! - [`limits`]: the limits view and the `3004` data (§1, §5).
//! - [`notification`]: the withdraw result notification and its acknowledgement (4.8).
//! - [`response`]: the `{ret_code, ret_msg, data}` envelope of every response (§1).
//! - [`sealed`]: the wire form of an encrypted sensitive field.
//! - [`status`]: the order and user status enums.

mod json;

pub mod account;
pub mod customer;
pub mod limits;
pub mod notification;
pub mod query;
pub mod recharge;
pub mod response;
pub mod sealed;
pub mod status;
pub mod user;
pub mod withdraw;

pub use account::{AccountData, AccountNo, AccountQueryRequest, luhn_check_digit};
pub use customer::{CustomerSyncData, CustomerSyncRequest, KycLevel};
pub use limits::{LimitExceededData, LimitKind, LimitsView};
pub use notification::{
    NotificationAck, WITHDRAW_RESULT_TOPIC, WithdrawResultData, WithdrawResultNotification,
};
pub use query::{OrderQuery, RechargeQueryRequest, WithdrawQueryRequest};
pub use recharge::{PayMethod, RechargeApplyRequest, RechargeOrderData};
pub use response::Envelope;
pub use sealed::Sealed;
pub use status::{OrderStatus, UserStatus};
pub use user::{Gender, IdType, UserSyncData, UserSyncRequest};
pub use withdraw::{BranchInfo, WithdrawConfirmRequest, WithdrawOrderData};

use crate::fields::RequestError;

/// The largest request body accepted, in bytes (§1: 64 KiB). Refused with `2004` before parsing.
pub const BODY_BYTES_MAX: usize = 64 * 1024;

/// The paths of §1, one per API.
pub mod paths {
    /// 4.1 user info sync.
    pub const USER_SYNC: &str = "/api/v1/user/sync";
    /// 4.2 customer (KYC) info sync.
    pub const CUSTOMER_SYNC: &str = "/api/v1/customer/sync";
    /// 4.3 recharge apply.
    pub const RECHARGE_APPLY: &str = "/api/v1/recharge/apply";
    /// 4.4 recharge order query.
    pub const RECHARGE_QUERY: &str = "/api/v1/recharge/query";
    /// 4.5 withdraw confirm.
    pub const WITHDRAW_CONFIRM: &str = "/api/v1/withdraw/confirm";
    /// 4.6 withdraw order query.
    pub const WITHDRAW_QUERY: &str = "/api/v1/withdraw/query";
    /// 4.7 account query (extension).
    pub const ACCOUNT_QUERY: &str = "/api/v1/account/query";
}

/// What every request body of §4 offers, so that the server's extractor and the SDK's client can
/// be written once for all of them.
pub trait ApiRequest: Sized {
    /// Parses and validates a raw body (`2001`, `2002`, `2003` on failure).
    fn from_json(body: &[u8]) -> Result<Self, RequestError>;
    /// Validates a body already parsed into a JSON object (`2002`, `2003`).
    fn from_object(map: &crate::fields::JsonMap) -> Result<Self, crate::fields::FieldError>;
    /// The compact JSON body, fields in the spec's order.
    fn to_json(&self) -> Vec<u8>;
    /// The body's `institution_id`, which must equal the header's (`1006`).
    fn institution_id(&self) -> &str;
}

/// Implements [`ApiRequest`] by delegating to the type's inherent methods.
macro_rules! impl_api_request {
    ($name:ty) => {
        impl $crate::api::ApiRequest for $name {
            fn from_json(body: &[u8]) -> Result<Self, $crate::fields::RequestError> {
                <$name>::from_json(body)
            }

            fn from_object(
                map: &$crate::fields::JsonMap,
            ) -> Result<Self, $crate::fields::FieldError> {
                <$name>::from_object(map)
            }

            fn to_json(&self) -> Vec<u8> {
                <$name>::to_json(self)
            }

            fn institution_id(&self) -> &str {
                &self.institution_id
            }
        }
    };
}
pub(crate) use impl_api_request;
