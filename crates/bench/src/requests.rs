//! The request bodies the bench sends, built the same way for setup (through the
//! SDK's typed calls) and for the timed phase (pre-signed).

use freewalker_protocol::api::{
    AccountNo, AccountQueryRequest, BranchInfo, CustomerSyncRequest, IdType, KycLevel, OrderQuery,
    PayMethod, RechargeApplyRequest, UserSyncRequest, WithdrawConfirmRequest,
};
use freewalker_protocol::currency::Currency;
use freewalker_sdk::{SdkError, SealedFields};

/// The currency withdrawals pay out in; setup sets its rate.
pub const TARGET_CURRENCY: Currency = Currency::USD;
/// The rate setup sets for [`TARGET_CURRENCY`]: CNY per 100 USD (§4.5's example).
pub const TARGET_RATE: &str = "718.25";

/// §4.1 for a user whose sensitive fields are sealed with `envelope`.
pub fn user_sync(
    institution_id: &str,
    out_user_id: String,
    document: &str,
    envelope: &SealedFields,
) -> Result<UserSyncRequest, SdkError> {
    Ok(UserSyncRequest {
        institution_id: institution_id.to_owned(),
        out_user_id,
        name: "BENCH VISITOR".to_owned(),
        nationality: "USA".to_owned(),
        id_type: IdType::Passport,
        id_no: envelope.seal(document)?,
        id_expiry_date: None,
        birth_date: None,
        gender: None,
        mobile: Some(envelope.seal("+14155550100")?),
        email: None,
    })
}

/// §4.2 raising the account to `L2`, the level with the highest limits.
pub fn kyc_l2(institution_id: &str, account_no: AccountNo, now_secs: i64) -> CustomerSyncRequest {
    CustomerSyncRequest {
        institution_id: institution_id.to_owned(),
        account_no,
        kyc_level: KycLevel::L2,
        verified_time: now_secs,
        visa_type: Some("L".to_owned()),
        visa_expiry_date: None,
        entry_date: None,
        address: None,
        occupation: None,
    }
}

/// §4.3.
pub fn recharge(
    institution_id: &str,
    out_order_no: String,
    account_no: AccountNo,
    amount_fen: i64,
) -> RechargeApplyRequest {
    RechargeApplyRequest {
        institution_id: institution_id.to_owned(),
        out_order_no,
        account_no,
        amount: amount_fen,
        currency: Currency::CNY,
        pay_amount: None,
        pay_method: Some(PayMethod::ForeignCard),
        remark: None,
    }
}

/// §4.5, paid out in [`TARGET_CURRENCY`].
pub fn withdraw(
    institution_id: &str,
    out_order_no: String,
    account_no: AccountNo,
    amount_fen: i64,
) -> WithdrawConfirmRequest {
    WithdrawConfirmRequest {
        institution_id: institution_id.to_owned(),
        out_order_no,
        account_no,
        amount: amount_fen,
        currency: Currency::CNY,
        target_currency: TARGET_CURRENCY,
        branch_info: BranchInfo {
            branch_no: "B0001".to_owned(),
            branch_name: "Bench branch".to_owned(),
            branch_address: "1 Bench Road, Shanghai".to_owned(),
        },
        notify_url: None,
        remark: None,
    }
}

/// §4.7.
pub fn account_query(institution_id: &str, account_no: AccountNo) -> AccountQueryRequest {
    AccountQueryRequest {
        institution_id: institution_id.to_owned(),
        account_no,
    }
}

/// §4.4 / §4.6 by the institution's order number or by the wallet's.
pub fn order_query(
    institution_id: &str,
    out_order_no: Option<String>,
    order_no: Option<String>,
) -> OrderQuery {
    OrderQuery {
        institution_id: institution_id.to_owned(),
        out_order_no,
        order_no,
    }
}
