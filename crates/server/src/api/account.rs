//! §4.7 account query (extension).

use axum::extract::State;
use axum::response::Response;
use freewalker_domain::account::AccountState;
use freewalker_domain::limits;
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::{AccountData, AccountQueryRequest, LimitsView};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::time_format::cst_date;
use freewalker_store::{Op, Output};

use super::{execute, ok, unexpected};
use crate::app::AppState;
use crate::http::auth::SignedRequest;
use crate::http::error::ApiError;

fn cny(fen: i64) -> String {
    format_amount(fen, Currency::CNY)
}

/// The §5 limits in force for `account`; with what is left today and this
/// year when `with_remaining`.
pub fn limits_view(state: &AppState, account: &AccountState, with_remaining: bool) -> LimitsView {
    let set = state.settings.limits.for_level(account.kyc_level);
    let remaining = with_remaining.then(|| {
        limits::remaining(
            set,
            &account.usage,
            account.balance_fen(),
            cst_date(state.clock.now_millis()),
        )
    });
    LimitsView {
        single_recharge: cny(set.single_recharge_fen),
        daily_recharge: cny(set.daily_recharge_fen),
        yearly_recharge: cny(set.yearly_recharge_fen),
        balance_max: cny(set.balance_max_fen),
        single_withdraw: cny(set.single_withdraw_fen),
        daily_recharge_remaining: remaining.map(|r| cny(r.daily_recharge_fen)),
        yearly_recharge_remaining: remaining.map(|r| cny(r.yearly_recharge_fen)),
        balance_remaining: remaining.map(|r| cny(r.balance_fen)),
    }
}

/// §4.7: balances, state and limits of an account of the calling institution.
pub async fn account_query(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: AccountQueryRequest| {
        Ok(Op::AccountQuery {
            institution_id: req.institution_id,
            account_no: req.account_no.as_str().to_owned(),
        })
    })
    .await?;
    let Output::Account(account) = output else {
        return Err(unexpected(output));
    };
    Ok(ok(AccountData {
        account_no: account.account_no.clone(),
        user_status: account.status,
        kyc_level: account.kyc_level,
        currency: Currency::CNY.code().to_owned(),
        available_balance: cny(account.available_fen),
        frozen_balance: cny(account.frozen_fen),
        limits: limits_view(&state, &account, true),
    }))
}
