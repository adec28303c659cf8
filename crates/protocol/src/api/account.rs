//! Account query (§4.7, an extension) and the wallet account number (§4.1).

use super::customer::KycLevel;
use super::json::JsonObject;
use super::limits::LimitsView;
use super::status::UserStatus;
use crate::fields::{FieldError, JsonMap, Reader, RequestError, parse_object};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

/// The number of digits of an account number, the last being a Luhn check digit.
pub const ACCOUNT_NO_DIGITS: usize = 16;

/// The Luhn check digit for the first 15 digits of an account number, or `None` if `first15` is
/// not exactly 15 ASCII digits. The wallet issues numbers with it, so that a mistyped digit is
/// caught at the edge (`2003`) rather than answered with "account not found".
pub fn luhn_check_digit(first15: &str) -> Option<u8> {
    if first15.len() != ACCOUNT_NO_DIGITS - 1 || !first15.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Walking from the right, the digit next to the (future) check digit is doubled, then
    // every second one.
    let sum: u32 = first15
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let digit = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// A wallet account number: 16 ASCII digits whose last is the Luhn check digit of the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNo(String);

impl AccountNo {
    /// The account number spelled `text`, if it is 16 digits with a valid check digit.
    pub fn parse(text: &str) -> Option<AccountNo> {
        if text.len() != ACCOUNT_NO_DIGITS {
            return None;
        }
        let (body, check) = text.split_at_checked(ACCOUNT_NO_DIGITS - 1)?;
        let expected = luhn_check_digit(body)?;
        (check.as_bytes() == [b'0' + expected]).then(|| AccountNo(text.to_owned()))
    }

    /// Issues the account number made of `first15` and its check digit, or `None` if `first15`
    /// is not exactly 15 ASCII digits.
    pub fn from_body_digits(first15: &str) -> Option<AccountNo> {
        let check = luhn_check_digit(first15)?;
        let mut text = String::with_capacity(ACCOUNT_NO_DIGITS);
        text.push_str(first15);
        text.push(char::from(b'0' + check));
        Some(AccountNo(text))
    }

    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for AccountNo {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountNo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AccountNo::parse(&text).ok_or_else(|| {
            de::Error::custom("account_no must be 16 digits with a valid check digit")
        })
    }
}

/// 4.7 account query: `/api/v1/account/query`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountQueryRequest {
    /// The caller's institution.
    pub institution_id: String,
    /// The account asked about.
    pub account_no: AccountNo,
}

impl AccountQueryRequest {
    /// Parses and validates a body.
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        Ok(Self::from_object(&parse_object(body)?)?)
    }

    /// Validates a body already parsed into a JSON object (for a caller that
    /// looked at it first, so the body is parsed once).
    pub fn from_object(map: &JsonMap) -> Result<Self, FieldError> {
        let r = Reader::new(map);
        Ok(AccountQueryRequest {
            institution_id: r.required_institution_id()?,
            account_no: r.required_account_no("account_no")?,
        })
    }

    /// The compact JSON body, fields in the spec's order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut o = JsonObject::new();
        o.str("institution_id", &self.institution_id)
            .str("account_no", self.account_no.as_str());
        o.finish()
    }
}

super::impl_api_request!(AccountQueryRequest);

/// `data` of 4.7: the balance and what the limits still allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountData {
    /// The account.
    pub account_no: String,
    /// `NORMAL`, `FROZEN` or `CLOSED`.
    pub user_status: UserStatus,
    /// `L0`, `L1` or `L2`.
    pub kyc_level: KycLevel,
    /// Always `CNY`.
    pub currency: String,
    /// What can be withdrawn, e.g. `"100.00"`.
    pub available_balance: String,
    /// What pending withdrawals hold.
    pub frozen_balance: String,
    /// The limits in force, with what is left today and this year.
    pub limits: LimitsView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_the_vector_account() {
        assert_eq!(luhn_check_digit("800000000000001"), Some(1));
        assert!(AccountNo::parse("8000000000000011").is_some());
        assert!(AccountNo::parse("8000000000000012").is_none());
        assert_eq!(
            AccountNo::from_body_digits("800000000000001")
                .unwrap()
                .as_str(),
            "8000000000000011"
        );
        // The classic Luhn example 79927398713 padded to 16 digits keeps its check digit.
        assert_eq!(luhn_check_digit("000007992739871"), Some(3));
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "800000000000001",
            "80000000000000111",
            "800000000000001a",
            "８000000000000011",
            " 800000000000001",
        ] {
            assert!(AccountNo::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(luhn_check_digit("80000000000000"), None);
        assert_eq!(luhn_check_digit("8000000000000x1"), None);
    }

    #[test]
    fn every_single_digit_error_is_caught() {
        let good = AccountNo::from_body_digits("621234567890123").unwrap();
        let digits = good.as_str().as_bytes();
        for i in 0..ACCOUNT_NO_DIGITS {
            for d in b'0'..=b'9' {
                if d == digits[i] {
                    continue;
                }
                let mut typo = digits.to_vec();
                typo[i] = d;
                let typo = String::from_utf8(typo).unwrap();
                assert!(AccountNo::parse(&typo).is_none(), "{typo}");
            }
        }
    }
}
