//! §4.3 recharge apply and §4.4 recharge order query.

use axum::extract::State;
use axum::response::Response;
use freewalker_domain::recharge::RechargeTerms;
use freewalker_protocol::amount::format_amount;
use freewalker_protocol::api::{RechargeApplyRequest, RechargeOrderData, RechargeQueryRequest};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::time_format::format_time;
use freewalker_store::model::RechargeOrder;
use freewalker_store::ops::{OrderRef, RechargeInput};
use freewalker_store::{Op, Output};

use super::{execute, ok, unexpected};
use crate::app::AppState;
use crate::http::auth::SignedRequest;
use crate::http::error::ApiError;

fn order_data(o: &RechargeOrder, with_payment: bool) -> RechargeOrderData {
    let span = tracing::Span::current();
    span.record("out_order_no", o.out_order_no.as_str());
    span.record("order_no", o.order_no.as_str());
    RechargeOrderData {
        out_order_no: o.out_order_no.clone(),
        order_no: o.order_no.clone(),
        account_no: o.terms.account_no.clone(),
        amount: format_amount(o.terms.amount_fen, o.terms.currency),
        currency: o.terms.currency.code().to_owned(),
        order_status: o.status,
        create_time: format_time(o.created_at_ms),
        success_time: format_time(o.success_at_ms),
        available_balance: format_amount(o.available_after_fen, Currency::CNY),
        pay_amount: with_payment
            .then(|| {
                o.terms
                    .pay_amount_minor
                    .zip(o.terms.pay_currency)
                    .map(|(a, c)| format_amount(a, c))
            })
            .flatten(),
        pay_currency: with_payment
            .then(|| o.terms.pay_currency.map(|c| c.code().to_owned()))
            .flatten(),
        pay_method: with_payment.then_some(o.terms.pay_method).flatten(),
        remark: with_payment.then(|| o.remark.clone()).flatten(),
    }
}

/// §4.3: credits CNY at once; the same request again returns the same order.
pub async fn recharge_apply(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: RechargeApplyRequest| {
        tracing::Span::current().record("out_order_no", req.out_order_no.as_str());
        Ok(Op::RechargeApply(RechargeInput {
            institution_id: req.institution_id,
            out_order_no: req.out_order_no,
            terms: RechargeTerms {
                account_no: req.account_no.as_str().to_owned(),
                amount_fen: req.amount,
                currency: req.currency,
                pay_amount_minor: req.pay_amount.map(|m| m.minor),
                pay_currency: req.pay_amount.map(|m| m.currency),
                pay_method: req.pay_method,
            },
            remark: req.remark,
        }))
    })
    .await?;
    let Output::Recharge(order) = output else {
        return Err(unexpected(output));
    };
    Ok(ok(order_data(&order, false)))
}

/// §4.4: an order of the calling institution, by either number.
pub async fn recharge_query(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: RechargeQueryRequest| {
        Ok(Op::RechargeQuery(OrderRef {
            institution_id: req.institution_id.clone(),
            out_order_no: req.out_order_no.clone(),
            order_no: req.order_no.clone(),
        }))
    })
    .await?;
    let Output::Recharge(order) = output else {
        return Err(unexpected(output));
    };
    Ok(ok(order_data(&order, true)))
}
