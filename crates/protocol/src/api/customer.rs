//! Customer (KYC) info sync (§4.2): the institution's verification sets the KYC level, and the
//! level sets the limits (§5).

use super::json::JsonObject;
use super::limits::LimitsView;
use super::sealed::Sealed;
use crate::envelope::EnvelopeKey;
use crate::fields::{FieldError, JsonMap, Reader, RequestError, parse_object};
use crate::time_format::{format_date, format_time};
use serde::{Deserialize, Serialize};
use time::Date;

use super::account::AccountNo;

/// The longest `visa_type`, in characters (S(16)).
pub const VISA_TYPE_CHARS_MAX: usize = 16;
/// The longest `address` plaintext, in characters (S(256)).
pub const ADDRESS_CHARS_MAX: usize = 256;
/// The longest `occupation`, in characters (S(64)).
pub const OCCUPATION_CHARS_MAX: usize = 64;

wire_enum! {
    /// How far a user is verified, which sets their limits (§5).
    pub enum KycLevel {
        /// Synced, not yet verified by a customer sync. Appears only in responses.
        L0 => "L0",
        /// Document verified.
        L1 => "L1",
        /// Document, face and visa verified.
        L2 => "L2",
    }
}

/// 4.2 customer (KYC) info sync: `/api/v1/customer/sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSyncRequest {
    /// The caller's institution.
    pub institution_id: String,
    /// The account verified.
    pub account_no: AccountNo,
    /// `L1` or `L2` (never `L0` in a request).
    pub kyc_level: KycLevel,
    /// When the institution verified the user, as Unix seconds.
    pub verified_time: i64,
    /// The visa type, free text.
    pub visa_type: Option<String>,
    /// When the visa expires.
    pub visa_expiry_date: Option<Date>,
    /// The date of entry into China.
    pub entry_date: Option<Date>,
    /// The address in China, sealed ([`CustomerSyncRequest::open_address`]).
    pub address: Option<Sealed>,
    /// The occupation, free text.
    pub occupation: Option<String>,
}

impl CustomerSyncRequest {
    /// Parses and validates a body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        Ok(Self::from_object(&parse_object(body)?)?)
    }

    /// Validates a body already parsed into a JSON object (for a caller that
    /// looked at it first, so the body is parsed once).
    pub fn from_object(map: &JsonMap) -> Result<Self, FieldError> {
        let r = Reader::new(map);
        Ok(CustomerSyncRequest {
            institution_id: r.required_institution_id()?,
            account_no: r.required_account_no("account_no")?,
            kyc_level: required_verified_level(&r, "kyc_level")?,
            verified_time: r.required_time("verified_time")?,
            visa_type: r.optional_str("visa_type", VISA_TYPE_CHARS_MAX)?,
            visa_expiry_date: r.optional_date("visa_expiry_date")?,
            entry_date: r.optional_date("entry_date")?,
            address: r.optional_sealed("address", ADDRESS_CHARS_MAX)?,
            occupation: r.optional_str("occupation", OCCUPATION_CHARS_MAX)?,
        })
    }

    /// The compact JSON body, fields in the spec's order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut o = JsonObject::new();
        o.str("institution_id", &self.institution_id)
            .str("account_no", self.account_no.as_str())
            .str("kyc_level", self.kyc_level.as_str())
            .str(
                "verified_time",
                &format_time(self.verified_time.saturating_mul(1000)),
            )
            .opt_str("visa_type", self.visa_type.as_deref())
            .opt_str(
                "visa_expiry_date",
                self.visa_expiry_date.map(format_date).as_deref(),
            )
            .opt_str("entry_date", self.entry_date.map(format_date).as_deref())
            .opt_str("address", self.address.as_ref().map(Sealed::as_str))
            .opt_str("occupation", self.occupation.as_deref());
        o.finish()
    }

    /// Opens `address` with the message's envelope key: at most 256 characters.
    pub fn open_address(&self, key: &EnvelopeKey) -> Result<Option<String>, FieldError> {
        self.address
            .as_ref()
            .map(|sealed| sealed.open(key, "address", ADDRESS_CHARS_MAX))
            .transpose()
    }
}

super::impl_api_request!(CustomerSyncRequest);

/// `kyc_level` of a request: `L1` or `L2`; `L0` is what a user is before any verification, so
/// an institution cannot "verify" a user down to it.
fn required_verified_level(r: &Reader<'_>, name: &str) -> Result<KycLevel, FieldError> {
    match r.required_text(name)? {
        "L1" => Ok(KycLevel::L1),
        "L2" => Ok(KycLevel::L2),
        _ => Err(r.invalid(name, "must be one of L1, L2")),
    }
}

/// `data` of 4.2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSyncData {
    /// The account verified.
    pub account_no: String,
    /// The level now in force.
    pub kyc_level: KycLevel,
    /// The limits now in force (§5).
    pub limits: LimitsView,
}
