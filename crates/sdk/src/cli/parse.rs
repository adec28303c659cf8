//! Value parsers: each flag becomes its wire type as clap reads it ("parse, don't validate"), so
//! a mistyped amount, date or account number is reported by clap, naming the flag, with exit 2.
//! The error texts read well after clap's "invalid value 'X' for '--flag <V>': ".

use clap::builder::{PossibleValuesParser, TypedValueParser};
use freewalker_protocol::amount::parse_amount;
use freewalker_protocol::api::{AccountNo, KycLevel};
use freewalker_protocol::currency::Currency;
use freewalker_protocol::time_format::{parse_date, parse_header_timestamp, parse_time};
use freewalker_protocol::wire_enum::WireEnum;
use time::Date;

/// A closed wire enum (`PASSPORT`, `FOREIGN_CARD`, …): clap lists the spellings in `--help` and
/// in its error.
pub(super) fn wire_enum<T: WireEnum + Send + Sync>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.wire_str())).try_map(|text| {
        T::from_wire(&text).ok_or_else(|| format!("must be one of {}", T::EXPECTED))
    })
}

/// The KYC level a customer sync may set: `L1` or `L2` (`L0` is only ever an answer).
pub(super) fn verified_kyc_level() -> impl TypedValueParser<Value = KycLevel> {
    PossibleValuesParser::new([KycLevel::L1.as_str(), KycLevel::L2.as_str()])
        .try_map(|text| KycLevel::parse(&text).ok_or_else(|| "must be one of L1, L2".to_owned()))
}

/// A wallet account number: 16 digits, the last a Luhn check digit.
pub(super) fn account_no(text: &str) -> Result<AccountNo, String> {
    AccountNo::parse(text).ok_or_else(|| {
        "must be the 16-digit account_no user-sync answered (the last digit is a check digit)"
            .to_owned()
    })
}

/// A CNY amount in yuan, e.g. `100.00`, parsed into fen.
pub(super) fn cny_amount(text: &str) -> Result<i64, String> {
    parse_amount(text, Currency::CNY).map_err(|e| e.to_string())
}

/// An ISO 4217 code of the wallet's currency table.
pub(super) fn currency(text: &str) -> Result<Currency, String> {
    Currency::from_code(text).ok_or_else(|| {
        format!(
            "not a supported ISO 4217 code (uppercase, one of {})",
            Currency::all()
                .iter()
                .map(Currency::code)
                .collect::<Vec<_>>()
                .join(" ")
        )
    })
}

/// A date `yyyy-MM-dd`.
pub(super) fn date(text: &str) -> Result<Date, String> {
    parse_date(text).map_err(|e| e.to_string())
}

/// A body time `yyyy-MM-dd HH:mm:ss` in China Standard Time, as Unix seconds.
pub(super) fn cst_time(text: &str) -> Result<i64, String> {
    parse_time(text).map_err(|e| format!("{e} (China Standard Time, UTC+08:00)"))
}

/// A `timestamp` header value `yyyyMMddHHmmss` in China Standard Time, as Unix seconds.
pub(super) fn header_timestamp(text: &str) -> Result<i64, String> {
    parse_header_timestamp(text).map_err(|e| format!("{e} (China Standard Time, UTC+08:00)"))
}

/// A request path: `/api/v1/...`.
pub(super) fn api_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a path such as /api/v1/recharge/apply".to_owned());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_accept_the_wire_forms_and_explain_the_rest() {
        assert_eq!(cny_amount("100.00"), Ok(10_000));
        assert_eq!(
            cny_amount("100.001"),
            Err("more than 2 decimals for CNY".to_owned())
        );
        assert!(account_no("8000000000000011").is_ok());
        assert!(account_no("8000000000000012").is_err());
        assert_eq!(currency("USD"), Ok(Currency::USD));
        assert!(currency("usd").unwrap_err().contains("JPY"));
        assert!(date("2031-02-30").is_err());
        assert_eq!(cst_time("1970-01-01 08:00:00"), Ok(0));
        assert_eq!(header_timestamp("19700101080000"), Ok(0));
        assert!(api_path("api/v1/x").is_err());
        assert!(api_path("/api/v1/account/query").is_ok());
    }
}
