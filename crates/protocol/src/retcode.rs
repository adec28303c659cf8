//! The `ret_code` table of `spec/API.md` §6, and the HTTP status each code travels with (§1).

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

/// One result code of §6. On the wire it is the 4-character string (`"0000"`, `"2003"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetCode {
    /// `0000`: accepted (受理成功).
    Success,
    /// `1001`: missing or malformed authentication header.
    AuthHeader,
    /// `1002`: signature does not verify.
    BadSignature,
    /// `1003`: timestamp outside the window.
    TimestampWindow,
    /// `1004`: nonce already used.
    NonceUsed,
    /// `1005`: unknown or disabled institution.
    UnknownInstitution,
    /// `1006`: `institution_id` in body and header differ.
    InstitutionMismatch,
    /// `2001`: body is not valid JSON, or not a JSON object.
    InvalidJson,
    /// `2002`: required field missing.
    MissingField,
    /// `2003`: field value invalid (format, length, enum, amount, date, undecryptable).
    InvalidField,
    /// `2004`: body too large.
    BodyTooLarge,
    /// `3001`: account not found.
    AccountNotFound,
    /// `3002`: account frozen or closed.
    AccountFrozen,
    /// `3003`: insufficient available balance.
    InsufficientBalance,
    /// `3004`: limit exceeded.
    LimitExceeded,
    /// `3005`: `out_order_no` reused with different content.
    OrderConflict,
    /// `3006`: order not found.
    OrderNotFound,
    /// `3007`: currency not supported, or no fresh exchange rate.
    CurrencyUnsupported,
    /// `3008`: user not found.
    UserNotFound,
    /// `3011`: identity document already bound to another user of this institution.
    DocumentBound,
    /// `4029`: rate limited.
    RateLimited,
    /// `9999`: internal error; nothing was applied, or the request is safe to retry as is.
    Internal,
}

impl RetCode {
    /// Every code, in the order of §6.
    pub const ALL: [RetCode; 22] = [
        RetCode::Success,
        RetCode::AuthHeader,
        RetCode::BadSignature,
        RetCode::TimestampWindow,
        RetCode::NonceUsed,
        RetCode::UnknownInstitution,
        RetCode::InstitutionMismatch,
        RetCode::InvalidJson,
        RetCode::MissingField,
        RetCode::InvalidField,
        RetCode::BodyTooLarge,
        RetCode::AccountNotFound,
        RetCode::AccountFrozen,
        RetCode::InsufficientBalance,
        RetCode::LimitExceeded,
        RetCode::OrderConflict,
        RetCode::OrderNotFound,
        RetCode::CurrencyUnsupported,
        RetCode::UserNotFound,
        RetCode::DocumentBound,
        RetCode::RateLimited,
        RetCode::Internal,
    ];

    /// The 4-character code as it appears in `ret_code`.
    pub const fn code(self) -> &'static str {
        match self {
            RetCode::Success => "0000",
            RetCode::AuthHeader => "1001",
            RetCode::BadSignature => "1002",
            RetCode::TimestampWindow => "1003",
            RetCode::NonceUsed => "1004",
            RetCode::UnknownInstitution => "1005",
            RetCode::InstitutionMismatch => "1006",
            RetCode::InvalidJson => "2001",
            RetCode::MissingField => "2002",
            RetCode::InvalidField => "2003",
            RetCode::BodyTooLarge => "2004",
            RetCode::AccountNotFound => "3001",
            RetCode::AccountFrozen => "3002",
            RetCode::InsufficientBalance => "3003",
            RetCode::LimitExceeded => "3004",
            RetCode::OrderConflict => "3005",
            RetCode::OrderNotFound => "3006",
            RetCode::CurrencyUnsupported => "3007",
            RetCode::UserNotFound => "3008",
            RetCode::DocumentBound => "3011",
            RetCode::RateLimited => "4029",
            RetCode::Internal => "9999",
        }
    }

    /// The code spelled exactly `code` (four ASCII digits), if §6 defines it.
    pub fn from_code(code: &str) -> Option<Self> {
        RetCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The HTTP status the response carries (§1): the class of the result, so that proxies and
    /// dashboards see failures as failures, while clients still key off `ret_code`.
    pub const fn http_status(self) -> u16 {
        match self {
            // Business rejections are answers to a well-formed, authenticated request.
            RetCode::Success
            | RetCode::AccountNotFound
            | RetCode::AccountFrozen
            | RetCode::InsufficientBalance
            | RetCode::LimitExceeded
            | RetCode::OrderConflict
            | RetCode::OrderNotFound
            | RetCode::CurrencyUnsupported
            | RetCode::UserNotFound
            | RetCode::DocumentBound => 200,
            RetCode::AuthHeader
            | RetCode::BadSignature
            | RetCode::TimestampWindow
            | RetCode::NonceUsed
            | RetCode::UnknownInstitution
            | RetCode::InstitutionMismatch => 401,
            RetCode::InvalidJson | RetCode::MissingField | RetCode::InvalidField => 400,
            RetCode::BodyTooLarge => 413,
            RetCode::RateLimited => 429,
            RetCode::Internal => 500,
        }
    }

    /// A short English sentence for `ret_msg` when there is nothing more specific to say.
    pub const fn default_message(self) -> &'static str {
        match self {
            RetCode::Success => "Accepted.",
            RetCode::AuthHeader => "An authentication header is missing or malformed.",
            RetCode::BadSignature => "The signature does not verify.",
            RetCode::TimestampWindow => "The timestamp is outside the accepted window.",
            RetCode::NonceUsed => "The nonce has already been used.",
            RetCode::UnknownInstitution => "The institution is unknown or disabled.",
            RetCode::InstitutionMismatch => {
                "The institution_id in the body differs from the institution_id header."
            }
            RetCode::InvalidJson => "The body is not a valid JSON object.",
            RetCode::MissingField => "A required field is missing.",
            RetCode::InvalidField => "A field value is invalid.",
            RetCode::BodyTooLarge => "The body is too large.",
            RetCode::AccountNotFound => "The account was not found.",
            RetCode::AccountFrozen => "The account is frozen or closed.",
            RetCode::InsufficientBalance => "The available balance is insufficient.",
            RetCode::LimitExceeded => "A limit would be exceeded.",
            RetCode::OrderConflict => "The out_order_no was already used with different content.",
            RetCode::OrderNotFound => "The order was not found.",
            RetCode::CurrencyUnsupported => {
                "The currency is not supported, or there is no fresh exchange rate."
            }
            RetCode::UserNotFound => "The user was not found.",
            RetCode::DocumentBound => {
                "The identity document is already bound to another user of this institution."
            }
            RetCode::RateLimited => "Too many requests; retry later.",
            RetCode::Internal => "Internal error; nothing was applied, retry the request as is.",
        }
    }

    /// Whether this is `0000`.
    pub const fn is_success(self) -> bool {
        matches!(self, RetCode::Success)
    }
}

impl fmt::Display for RetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for RetCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for RetCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RetCode::from_code(&text)
            .ok_or_else(|| de::Error::custom(format_args!("unknown ret_code {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for code in RetCode::ALL {
            assert_eq!(RetCode::from_code(code.code()), Some(code));
            assert_eq!(code.code().len(), 4);
            assert!(!code.default_message().is_empty());
        }
        let distinct: std::collections::HashSet<_> =
            RetCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(distinct.len(), RetCode::ALL.len());
        assert_eq!(RetCode::from_code("0001"), None);
        assert_eq!(RetCode::from_code(" 0000"), None);
    }

    #[test]
    fn http_status_follows_the_class_of_the_code() {
        for code in RetCode::ALL {
            let expected = match code.code().as_bytes()[0] {
                b'0' | b'3' => 200,
                b'1' => 401,
                b'2' if code == RetCode::BodyTooLarge => 413,
                b'2' => 400,
                b'4' => 429,
                _ => 500,
            };
            assert_eq!(code.http_status(), expected, "{code}");
        }
    }

    #[test]
    fn serde_uses_the_four_character_string() {
        let json = serde_json::to_string(&RetCode::DocumentBound).unwrap();
        assert_eq!(json, "\"3011\"");
        let back: RetCode = serde_json::from_str("\"4029\"").unwrap();
        assert_eq!(back, RetCode::RateLimited);
        assert!(serde_json::from_str::<RetCode>("\"12\"").is_err());
        assert!(serde_json::from_str::<RetCode>("1001").is_err());
    }
}
