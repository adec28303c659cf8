//! §4.1 user info sync and §4.2 customer (KYC) info sync.

use axum::extract::State;
use axum::response::Response;
use freewalker_protocol::api::{
    CustomerSyncData, CustomerSyncRequest, UserSyncData, UserSyncRequest,
};
use freewalker_protocol::time_format::format_date;
use freewalker_store::model::{KycRecord, UserProfile};
use freewalker_store::ops::{CustomerSyncInput, UserSyncInput};
use freewalker_store::{Op, Output};

use super::{envelope_key, execute, ok, unexpected};
use crate::api::account::limits_view;
use crate::app::AppState;
use crate::http::auth::SignedRequest;
use crate::http::error::ApiError;

/// §4.1: creates the user and account on the first sync of
/// `(institution_id, out_user_id)`, updates the profile afterwards.
pub async fn user_sync(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: UserSyncRequest| {
        let key = envelope_key(&state, &signed, "id_no")?;
        let id_no = req.open_id_no(&key)?;
        let mobile = req.open_mobile(&key)?;
        let seal = |v: &str| state.at_rest.seal(v);
        let profile = UserProfile {
            document_hash: state.at_rest.document_hash(
                &req.nationality,
                req.id_type.as_str(),
                &id_no,
            ),
            name: req.name,
            nationality: req.nationality,
            id_type: req.id_type,
            id_no_sealed: seal(&id_no),
            id_expiry_date: req.id_expiry_date.map(format_date),
            birth_date: req.birth_date.map(format_date),
            gender: req.gender,
            mobile_sealed: mobile.as_deref().map(seal),
            email: req.email,
        };
        Ok(Op::UserSync(UserSyncInput {
            institution_id: req.institution_id,
            out_user_id: req.out_user_id,
            profile,
        }))
    })
    .await?;
    let Output::UserSynced { user, created } = output else {
        return Err(unexpected(output));
    };
    tracing::Span::current().record("account_no", user.account_no.as_str());
    Ok(ok(UserSyncData {
        account_no: user.account_no,
        out_user_id: user.out_user_id,
        user_status: user.status,
        kyc_level: user.kyc_level,
        created,
    }))
}

/// §4.2: records the institution's verification and sets the KYC level.
pub async fn customer_sync(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Result<Response, ApiError> {
    let output = execute(&state, &signed, |req: CustomerSyncRequest| {
        let address = match &req.address {
            Some(_) => {
                let key = envelope_key(&state, &signed, "address")?;
                req.open_address(&key)?
            }
            None => None,
        };
        Ok(Op::CustomerSync(CustomerSyncInput {
            institution_id: req.institution_id,
            account_no: req.account_no.as_str().to_owned(),
            kyc: KycRecord {
                kyc_level: req.kyc_level,
                verified_at_secs: req.verified_time,
                visa_type: req.visa_type,
                visa_expiry_date: req.visa_expiry_date.map(format_date),
                entry_date: req.entry_date.map(format_date),
                address_sealed: address.as_deref().map(|a| state.at_rest.seal(a)),
                occupation: req.occupation,
            },
        }))
    })
    .await?;
    let Output::Account(account) = output else {
        return Err(unexpected(output));
    };
    Ok(ok(CustomerSyncData {
        account_no: account.account_no.clone(),
        kyc_level: account.kyc_level,
        limits: limits_view(&state, &account, false),
    }))
}
