//! §4.5 withdraw confirm and §4.6 withdraw order query.

use axum::extract::State;
use axum::response::Response;
use freewalker_domain::withdraw::WithdrawTerms;
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::{WithdrawConfirmRequest, WithdrawOrderData, WithdrawQueryRequest};
use freewalker_protocol::time_format::format_time;
use freewalker_store::model::WithdrawOrder;
use freewalker_store::ops::{OrderRef, WithdrawInput};
use freewalker_store::{Op, Output};

use super::{execute, ok, unexpected};
use crate::app::AppState;
use crate::http::auth::SignedRequest;
use crate::http::error::ApiError;

/// `data` of §4.5/§4.6 for an order.
pub fn order_data(o: &WithdrawOrder) -> WithdrawOrderData {
    let span = tracing::Span::current();
    span.record("out_order_no", o.out_order_no.as_str());
    span.record("order_no", o.order_no.as_str());
    WithdrawOrderData {
        out_order_no: o.out_order_no.clone(),
        order_no: o.order_no.clone(),
        account_no: o.terms.account_no.clone(),
        amount: format_amount(o.terms.amount_fen, o.terms.currency),
        currency: o.terms.currency.code().to_owned(),
        target_amount: format_amount(o.target_amount_minor, o.terms.target_currency),
        target_currency: o.terms.target_currency.code().to_owned(),
        exchange_rate: o.rate.to_text(),
        branch_info: o.terms.branch.clone(),
        order_status: o.status,
        create_time: format_time(o.created_at_ms),
        success_time: o.success_at_ms.map(format_time).unwrap_or_default(),
        fail_reason: o.fail_reason.clone().unwrap_or_default(),
    }
}

/// §4.5: freezes the amount, locks the rate and queues the payout.
pub async fn withdraw_confirm(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: WithdrawConfirmRequest| {
        tracing::Span::current().record("out_order_no", req.out_order_no.as_str());
        Ok(Op::WithdrawConfirm(WithdrawInput {
            institution_id: req.institution_id,
            out_order_no: req.out_order_no,
            terms: WithdrawTerms {
                account_no: req.account_no.as_str().to_owned(),
                amount_fen: req.amount,
                currency: req.currency,
                target_currency: req.target_currency,
                branch: req.branch_info,
            },
            notify_url: req.notify_url,
            remark: req.remark,
        }))
    })
    .await?;
    let Output::Withdraw(order) = output else {
        return Err(unexpected(output));
    };
    state.wake_payouts.notify_one();
    Ok(ok(order_data(&order)))
}

/// §4.6: an order of the calling institution, by either number.
pub async fn withdraw_query(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: WithdrawQueryRequest| {
        Ok(Op::WithdrawQuery(OrderRef {
            institution_id: req.institution_id.clone(),
            out_order_no: req.out_order_no.clone(),
            order_no: req.order_no.clone(),
        }))
    })
    .await?;
    let Output::Withdraw(order) = output else {
        return Err(unexpected(output));
    };
    Ok(ok(order_data(&order)))
}
