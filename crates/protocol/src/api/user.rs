//! User info sync (§4.1): registers a visitor with their travel document.

use super::account::AccountNo;
use super::customer::KycLevel;
use super::json::JsonObject;
use super::sealed::Sealed;
use super::status::UserStatus;
use crate::envelope::EnvelopeKey;
use crate::fields::{FieldError, JsonMap, Reader, RequestError, check_text, parse_object};
use crate::time_format::format_date;
use serde::{Deserialize, Serialize};
use time::Date;

/// The longest `name`, in characters (S(128)).
pub const NAME_CHARS_MAX: usize = 128;
/// The longest `id_no` plaintext, in characters (S(64)).
pub const ID_NO_CHARS_MAX: usize = 64;
/// The longest `mobile` plaintext, in characters (S(32)).
pub const MOBILE_CHARS_MAX: usize = 32;
/// The longest `email`, in characters (S(128)).
pub const EMAIL_CHARS_MAX: usize = 128;
/// The most digits of an E.164 number, country code included.
const E164_DIGITS_MAX: usize = 15;
/// The fewest digits accepted in a mobile number, country code included (the shortest national
/// numbers in use have 7 digits with their country code).
const E164_DIGITS_MIN: usize = 7;

wire_enum! {
    /// The kind of identity document (`id_type`).
    pub enum IdType {
        /// A passport.
        Passport => "PASSPORT",
        /// Mainland Travel Permit for Hong Kong and Macao Residents (港澳居民来往内地通行证).
        HkMacaoPermit => "HK_MACAO_PERMIT",
        /// Mainland Travel Permit for Taiwan Residents (台湾居民来往大陆通行证).
        TaiwanPermit => "TAIWAN_PERMIT",
        /// Foreign Permanent Resident ID Card (外国人永久居留身份证).
        ForeignerPermanentId => "FOREIGNER_PERMANENT_ID",
    }
}

wire_enum! {
    /// The gender printed in the document.
    pub enum Gender {
        /// Male.
        M => "M",
        /// Female.
        F => "F",
        /// Unspecified, as some passports print it.
        X => "X",
    }
}

/// 4.1 user info sync: `/api/v1/user/sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSyncRequest {
    /// The caller's institution.
    pub institution_id: String,
    /// The institution's own user ID (1–64 of `[A-Za-z0-9_-]`).
    pub out_user_id: String,
    /// The name as printed in the document.
    pub name: String,
    /// ISO 3166-1 alpha-3, e.g. `USA`.
    pub nationality: String,
    /// The kind of document.
    pub id_type: IdType,
    /// The document number, sealed ([`UserSyncRequest::open_id_no`]).
    pub id_no: Sealed,
    /// When the document expires.
    pub id_expiry_date: Option<Date>,
    /// The date of birth.
    pub birth_date: Option<Date>,
    /// The gender printed in the document.
    pub gender: Option<Gender>,
    /// The mobile number (E.164), sealed ([`UserSyncRequest::open_mobile`]).
    pub mobile: Option<Sealed>,
    /// The e-mail address.
    pub email: Option<String>,
}

impl UserSyncRequest {
    /// Parses and validates a body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        Ok(Self::from_object(&parse_object(body)?)?)
    }

    /// Validates a body already parsed into a JSON object (for a caller that
    /// looked at it first, so the body is parsed once).
    pub fn from_object(map: &JsonMap) -> Result<Self, FieldError> {
        let r = Reader::new(map);
        Ok(UserSyncRequest {
            institution_id: r.required_institution_id()?,
            out_user_id: r.required_id("out_user_id")?,
            name: r.required_str("name", NAME_CHARS_MAX)?,
            nationality: required_country(&r, "nationality")?,
            id_type: r.required_enum("id_type")?,
            id_no: r.required_sealed("id_no", ID_NO_CHARS_MAX)?,
            id_expiry_date: r.optional_date("id_expiry_date")?,
            birth_date: r.optional_date("birth_date")?,
            gender: r.optional_enum("gender")?,
            mobile: r.optional_sealed("mobile", MOBILE_CHARS_MAX)?,
            email: optional_email(&r, "email")?,
        })
    }

    /// The compact JSON body, fields in the spec's order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut o = JsonObject::new();
        o.str("institution_id", &self.institution_id)
            .str("out_user_id", &self.out_user_id)
            .str("name", &self.name)
            .str("nationality", &self.nationality)
            .str("id_type", self.id_type.as_str())
            .str("id_no", self.id_no.as_str())
            .opt_str(
                "id_expiry_date",
                self.id_expiry_date.map(format_date).as_deref(),
            )
            .opt_str("birth_date", self.birth_date.map(format_date).as_deref())
            .opt_str("gender", self.gender.map(Gender::as_str))
            .opt_str("mobile", self.mobile.as_ref().map(Sealed::as_str))
            .opt_str("email", self.email.as_deref());
        o.finish()
    }

    /// Opens `id_no` with the message's envelope key: at most 64 characters.
    pub fn open_id_no(&self, key: &EnvelopeKey) -> Result<String, FieldError> {
        self.id_no.open(key, "id_no", ID_NO_CHARS_MAX)
    }

    /// Opens `mobile` with the message's envelope key: an E.164 number such as `+14155550100`.
    pub fn open_mobile(&self, key: &EnvelopeKey) -> Result<Option<String>, FieldError> {
        let Some(sealed) = &self.mobile else {
            return Ok(None);
        };
        let mobile = sealed.open(key, "mobile", MOBILE_CHARS_MAX)?;
        if !is_e164(&mobile) {
            return Err(FieldError::invalid(
                "mobile",
                "must be an E.164 number like +14155550100",
            ));
        }
        Ok(Some(mobile))
    }
}

super::impl_api_request!(UserSyncRequest);

/// Whether `text` is `+` and 7 to 15 digits, the first not zero.
fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (E164_DIGITS_MIN..=E164_DIGITS_MAX).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A required ISO 3166-1 alpha-3 country code: three uppercase ASCII letters.
fn required_country(r: &Reader<'_>, name: &str) -> Result<String, FieldError> {
    let code = r.required_text(name)?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(r.invalid(name, "must be an ISO 3166-1 alpha-3 code like USA"));
    }
    Ok(code.to_owned())
}

/// An optional e-mail address: one `@` between a non-empty local part and a dotted domain, no
/// spaces. Deliverability is the institution's business; this only catches the obviously wrong.
fn optional_email(r: &Reader<'_>, name: &str) -> Result<Option<String>, FieldError> {
    let Some(email) = r.optional_text(name)? else {
        return Ok(None);
    };
    check_text(email, EMAIL_CHARS_MAX).map_err(|reason| r.invalid(name, reason))?;
    let plausible = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !plausible {
        return Err(r.invalid(name, "must be an e-mail address"));
    }
    Ok(Some(email.to_owned()))
}

/// `data` of 4.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSyncData {
    /// The wallet account number (16 digits, Luhn check digit).
    pub account_no: String,
    /// The institution's user ID, echoed.
    pub out_user_id: String,
    /// `NORMAL`, `FROZEN` or `CLOSED`.
    pub user_status: UserStatus,
    /// `L0` until a customer sync raises it.
    pub kyc_level: KycLevel,
    /// True on the first sync of this `(institution_id, out_user_id)`.
    pub created: bool,
}

impl UserSyncData {
    /// The data for `account_no`, as the server builds it.
    pub fn new(
        account_no: &AccountNo,
        out_user_id: impl Into<String>,
        user_status: UserStatus,
        kyc_level: KycLevel,
        created: bool,
    ) -> Self {
        UserSyncData {
            account_no: account_no.as_str().to_owned(),
            out_user_id: out_user_id.into(),
            user_status,
            kyc_level,
            created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        assert!(is_e164("+14155550100"));
        assert!(is_e164("+8613800138000"));
        for bad in [
            "14155550100",
            "+0123456789",
            "+1 415 555 0100",
            "+123456",
            "+1234567890123456",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }
}
