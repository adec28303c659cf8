//! Body validation errors (`2001`, `2002`, `2003`) and the reader that produces them.
//!
//! The rules, the same for every API of §4:
//!
//! - A required field that is absent, `null` or `""` is missing (`2002`).
//! - A present field of the wrong JSON type, too long (counted in characters, not bytes), with
//!   control characters, in a bad format or outside its enum is invalid (`2003`).
//! - An optional field that is absent, `null` or `""` is simply not given.
//! - Unknown extra fields are ignored, so integrators can send fields of a later version.
//! - Fields are checked in the order of the spec's tables; the first problem is reported, with a
//!   dotted path for nested objects (`branch_info.branch_name`).

use crate::amount::{AmountError, parse_amount};
use crate::api::AccountNo;
use crate::currency::Currency;
use crate::headers::INSTITUTION_ID_CHARS_MAX;
use crate::retcode::RetCode;
use crate::time_format::{parse_date, parse_time};
use crate::wire_enum::WireEnum;
use serde_json::{Map, Value};
use time::Date;

/// The longest institution-supplied ID (`out_user_id`, `out_order_no`), in characters (§4).
pub const OUT_ID_CHARS_MAX: usize = 64;

/// A field that is missing (`2002`) or invalid (`2003`). The message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A required field is absent, `null` or `""`.
    #[error("{field} is required")]
    Missing {
        /// The field's dotted path, e.g. `branch_info.branch_no`.
        field: String,
    },
    /// A field is present but its value is not acceptable.
    #[error("{field} is invalid: {reason}")]
    Invalid {
        /// The field's dotted path.
        field: String,
        /// What is wrong, in a few words.
        reason: String,
    },
}

impl FieldError {
    /// `2002` for a missing field, `2003` for an invalid one.
    pub fn ret_code(&self) -> RetCode {
        match self {
            FieldError::Missing { .. } => RetCode::MissingField,
            FieldError::Invalid { .. } => RetCode::InvalidField,
        }
    }

    /// The field at fault (its dotted path).
    pub fn field(&self) -> &str {
        match self {
            FieldError::Missing { field } | FieldError::Invalid { field, .. } => field,
        }
    }

    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A missing-field error.
    pub fn missing(field: impl Into<String>) -> Self {
        FieldError::Missing {
            field: field.into(),
        }
    }
}

/// Why a request body was refused before any business rule ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not UTF-8 JSON: `2001`.
    #[error("the body is not valid JSON")]
    NotJson,
    /// The body is JSON, but not an object: `2001`.
    #[error("the body is not a JSON object")]
    NotObject,
    /// A field is missing or invalid: `2002` or `2003`.
    #[error(transparent)]
    Field(#[from] FieldError),
}

impl RequestError {
    /// The `ret_code` this error answers with.
    pub fn ret_code(&self) -> RetCode {
        match self {
            RequestError::NotJson | RequestError::NotObject => RetCode::InvalidJson,
            RequestError::Field(field) => field.ret_code(),
        }
    }
}

/// Whether `b` may appear in an institution-supplied ID or a nonce: `[A-Za-z0-9_-]`.
pub(crate) fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Parses a body into its top-level JSON object.
/// A JSON object, as request bodies are.
pub type JsonMap = Map<String, Value>;

/// Parses a body that must be a JSON object: `2001` otherwise.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, RequestError> {
    // serde_json bounds nesting depth itself (128), so hostile bodies cannot exhaust the stack.
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(RequestError::NotObject),
        Err(_) => Err(RequestError::NotJson),
    }
}

/// Reads typed fields out of one JSON object, naming fields by their dotted path.
pub(crate) struct Reader<'a> {
    map: &'a Map<String, Value>,
    /// `""` at the top level, `"branch_info."` inside `branch_info`.
    prefix: String,
}

impl<'a> Reader<'a> {
    /// A reader over the top-level object.
    pub(crate) fn new(map: &'a Map<String, Value>) -> Self {
        Reader {
            map,
            prefix: String::new(),
        }
    }

    /// The dotted path of `name` in this object.
    pub(crate) fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub(crate) fn missing(&self, name: &str) -> FieldError {
        FieldError::missing(self.path(name))
    }

    pub(crate) fn invalid(&self, name: &str, reason: impl Into<String>) -> FieldError {
        FieldError::invalid(self.path(name), reason)
    }

    /// The field's value, treating `null` and `""` as absent.
    fn given(&self, name: &str) -> Option<&'a Value> {
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(value) => Some(value),
        }
    }

    /// The field as a string, if given; any other JSON type is invalid.
    pub(crate) fn optional_text(&self, name: &str) -> Result<Option<&'a str>, FieldError> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.invalid(name, "must be a string")),
        }
    }

    /// The field as a string; absent, `null` or `""` is missing.
    pub(crate) fn required_text(&self, name: &str) -> Result<&'a str, FieldError> {
        self.optional_text(name)?.ok_or_else(|| self.missing(name))
    }

    /// Checks a free-text value: at most `max_chars` characters and no control characters (which
    /// have no place in names or addresses and would corrupt logs and printed receipts).
    fn check_text(&self, name: &str, text: &str, max_chars: usize) -> Result<(), FieldError> {
        check_text(text, max_chars).map_err(|reason| self.invalid(name, reason))
    }

    /// A required free-text field of at most `max_chars` characters.
    pub(crate) fn required_str(&self, name: &str, max_chars: usize) -> Result<String, FieldError> {
        let text = self.required_text(name)?;
        self.check_text(name, text, max_chars)?;
        Ok(text.to_owned())
    }

    /// An optional free-text field of at most `max_chars` characters.
    pub(crate) fn optional_str(
        &self,
        name: &str,
        max_chars: usize,
    ) -> Result<Option<String>, FieldError> {
        self.optional_text(name)?
            .map(|text| {
                self.check_text(name, text, max_chars)?;
                Ok(text.to_owned())
            })
            .transpose()
    }

    /// A required institution-supplied ID: 1–64 characters of `[A-Za-z0-9_-]`.
    pub(crate) fn required_id(&self, name: &str) -> Result<String, FieldError> {
        let text = self.required_text(name)?;
        self.check_id(name, text, OUT_ID_CHARS_MAX)?;
        Ok(text.to_owned())
    }

    /// An optional institution-supplied ID: 1–64 characters of `[A-Za-z0-9_-]`.
    pub(crate) fn optional_id(&self, name: &str) -> Result<Option<String>, FieldError> {
        self.optional_text(name)?
            .map(|text| {
                self.check_id(name, text, OUT_ID_CHARS_MAX)?;
                Ok(text.to_owned())
            })
            .transpose()
    }

    /// The required `institution_id`: 1–32 characters of `[A-Za-z0-9_-]`.
    pub(crate) fn required_institution_id(&self) -> Result<String, FieldError> {
        let name = "institution_id";
        let text = self.required_text(name)?;
        self.check_id(name, text, INSTITUTION_ID_CHARS_MAX)?;
        Ok(text.to_owned())
    }

    fn check_id(&self, name: &str, text: &str, max_chars: usize) -> Result<(), FieldError> {
        if text.len() > max_chars || !text.bytes().all(is_id_byte) {
            return Err(self.invalid(
                name,
                format!("must be 1 to {max_chars} characters of A-Z a-z 0-9 _ -"),
            ));
        }
        Ok(())
    }

    /// A required 16-digit wallet account number with a valid check digit.
    pub(crate) fn required_account_no(&self, name: &str) -> Result<AccountNo, FieldError> {
        let text = self.required_text(name)?;
        AccountNo::parse(text)
            .ok_or_else(|| self.invalid(name, "must be 16 digits with a valid check digit"))
    }

    /// A required amount in major units of `currency`, as minor units.
    pub(crate) fn required_amount(
        &self,
        name: &str,
        currency: Currency,
    ) -> Result<i64, FieldError> {
        let text = self.required_text(name)?;
        self.amount(name, text, currency)
    }

    /// Parses an amount text already read from field `name`.
    pub(crate) fn amount(
        &self,
        name: &str,
        text: &str,
        currency: Currency,
    ) -> Result<i64, FieldError> {
        parse_amount(text, currency)
            .map_err(|error: AmountError| self.invalid(name, error.to_string()))
    }

    /// An optional ISO 4217 code from the currency table.
    pub(crate) fn optional_currency(&self, name: &str) -> Result<Option<Currency>, FieldError> {
        self.optional_text(name)?
            .map(|code| {
                Currency::from_code(code).ok_or_else(|| {
                    self.invalid(name, "must be a supported ISO 4217 currency code, like USD")
                })
            })
            .transpose()
    }

    /// A required ISO 4217 code from the currency table.
    pub(crate) fn required_currency(&self, name: &str) -> Result<Currency, FieldError> {
        self.optional_currency(name)?
            .ok_or_else(|| self.missing(name))
    }

    /// A required `currency` that must be CNY: the wallet's balance is CNY only (§3).
    pub(crate) fn required_cny(&self, name: &str) -> Result<Currency, FieldError> {
        let code = self.required_text(name)?;
        if code != Currency::CNY.code() {
            return Err(self.invalid(name, "must be CNY"));
        }
        Ok(Currency::CNY)
    }

    /// A required body time `yyyy-MM-dd HH:mm:ss` (UTC+08:00), as Unix seconds.
    pub(crate) fn required_time(&self, name: &str) -> Result<i64, FieldError> {
        let text = self.required_text(name)?;
        parse_time(text).map_err(|error| self.invalid(name, error.to_string()))
    }

    /// An optional body date `yyyy-MM-dd`.
    pub(crate) fn optional_date(&self, name: &str) -> Result<Option<Date>, FieldError> {
        self.optional_text(name)?
            .map(|text| parse_date(text).map_err(|error| self.invalid(name, error.to_string())))
            .transpose()
    }

    /// An optional wire enum.
    pub(crate) fn optional_enum<T: WireEnum>(&self, name: &str) -> Result<Option<T>, FieldError> {
        self.optional_text(name)?
            .map(|text| {
                T::from_wire(text)
                    .ok_or_else(|| self.invalid(name, format!("must be one of {}", T::EXPECTED)))
            })
            .transpose()
    }

    /// A required wire enum.
    pub(crate) fn required_enum<T: WireEnum>(&self, name: &str) -> Result<T, FieldError> {
        self.optional_enum(name)?.ok_or_else(|| self.missing(name))
    }

    /// A required nested object, read with the same rules under `name.`.
    pub(crate) fn required_object(&self, name: &str) -> Result<Reader<'a>, FieldError> {
        match self.given(name) {
            None => Err(self.missing(name)),
            Some(Value::Object(map)) => Ok(Reader {
                map,
                prefix: format!("{}.", self.path(name)),
            }),
            Some(_) => Err(self.invalid(name, "must be an object")),
        }
    }
}

/// Checks free text: at most `max_chars` characters and no control characters.
pub(crate) fn check_text(text: &str, max_chars: usize) -> Result<(), String> {
    // Counting stops one past the limit, so a huge value costs no more than a short one.
    if text.chars().take(max_chars.saturating_add(1)).count() > max_chars {
        return Err(format!("longer than {max_chars} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test objects only"),
        }
    }

    #[test]
    fn absent_null_and_empty_are_missing() {
        let m = map(json!({"a": null, "b": "", "c": "x"}));
        let r = Reader::new(&m);
        for name in ["a", "b", "z"] {
            assert_eq!(r.required_str(name, 10), Err(FieldError::missing(name)));
            assert_eq!(r.optional_str(name, 10), Ok(None));
        }
        assert_eq!(r.required_str("c", 10), Ok("x".into()));
    }

    #[test]
    fn wrong_types_and_lengths_are_invalid() {
        let m = map(
            json!({"n": 5, "b": true, "a": ["x"], "o": {}, "long": "中文中文中", "ctl": "a\nb"}),
        );
        let r = Reader::new(&m);
        for name in ["n", "b", "a", "o"] {
            assert_eq!(
                r.required_str(name, 10),
                Err(FieldError::invalid(name, "must be a string"))
            );
        }
        // Five CJK characters are 15 bytes but only five characters.
        assert_eq!(r.required_str("long", 5), Ok("中文中文中".into()));
        assert_eq!(
            r.required_str("long", 4),
            Err(FieldError::invalid("long", "longer than 4 characters"))
        );
        assert_eq!(
            r.required_str("ctl", 10),
            Err(FieldError::invalid(
                "ctl",
                "must not contain control characters"
            ))
        );
    }

    #[test]
    fn nested_objects_use_dotted_paths() {
        let m = map(json!({"branch_info": {"branch_no": ""}, "s": "x"}));
        let r = Reader::new(&m);
        let inner = r.required_object("branch_info").unwrap();
        assert_eq!(
            inner.required_str("branch_no", 32),
            Err(FieldError::missing("branch_info.branch_no"))
        );
        assert_eq!(
            r.required_object("s").err(),
            Some(FieldError::invalid("s", "must be an object"))
        );
        assert_eq!(
            r.required_object("none").err(),
            Some(FieldError::missing("none"))
        );
    }

    #[test]
    fn messages_and_codes() {
        let missing = FieldError::missing("branch_info.branch_no");
        assert_eq!(missing.to_string(), "branch_info.branch_no is required");
        assert_eq!(missing.ret_code(), RetCode::MissingField);
        let invalid = FieldError::invalid("amount", "more than 2 decimals for CNY");
        assert_eq!(
            invalid.to_string(),
            "amount is invalid: more than 2 decimals for CNY"
        );
        assert_eq!(invalid.ret_code(), RetCode::InvalidField);
        assert_eq!(RequestError::NotJson.ret_code(), RetCode::InvalidJson);
        assert_eq!(RequestError::NotObject.ret_code(), RetCode::InvalidJson);
        assert_eq!(
            RequestError::from(invalid).ret_code(),
            RetCode::InvalidField
        );
    }

    #[test]
    fn parse_object_sorts_out_non_objects() {
        assert_eq!(parse_object(b"not json"), Err(RequestError::NotJson));
        assert_eq!(parse_object(b"\xff\xfe"), Err(RequestError::NotJson));
        assert_eq!(parse_object(b""), Err(RequestError::NotJson));
        assert_eq!(parse_object(b"[1, 2]"), Err(RequestError::NotObject));
        assert_eq!(parse_object(b"\"text\""), Err(RequestError::NotObject));
        assert_eq!(parse_object(b"null"), Err(RequestError::NotObject));
        assert!(parse_object(b" {\"a\": 1} ").is_ok());
        let deep = "[".repeat(10_000);
        assert_eq!(parse_object(deep.as_bytes()), Err(RequestError::NotJson));
    }
}
