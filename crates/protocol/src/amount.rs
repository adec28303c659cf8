//! Amount strings in major units (`"100.00"`) to and from integer minor units (`spec/API.md` §3).
//!
//! The parser is hand-written and strict on purpose: general decimal parsers accept `1_000.00`,
//! `1e2`, `.5`, `007.00` or `100.001`, and every one of those must be refused. No float is ever
//! involved, and the digit count is bounded before any arithmetic, so nothing can overflow.

use crate::currency::Currency;

/// The largest amount accepted on the wire, in major units (`1000000000.00` CNY).
pub const AMOUNT_MAJOR_MAX: i64 = 1_000_000_000;

/// The most integer digits an amount may have: `AMOUNT_MAJOR_MAX` has ten.
const INTEGER_DIGITS_MAX: usize = 10;

/// Why an amount string was refused. The message reads well after "`<field>` is invalid: ".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The string is empty.
    #[error("empty")]
    Empty,
    /// Anything but digits with at most one decimal point: signs, exponents, spaces, `_`, `.5`,
    /// `5.`, non-ASCII digits.
    #[error("not a plain decimal number in major units, like 100.00")]
    Syntax,
    /// An integer part with a leading zero, such as `007.00`.
    #[error("leading zeros are not allowed")]
    LeadingZero,
    /// More decimals than the currency's minor unit has.
    #[error("more than {max} decimals for {currency}")]
    TooManyDecimals {
        /// The currency's exponent.
        max: u8,
        /// The currency's code.
        currency: &'static str,
    },
    /// A value of zero.
    #[error("must be greater than zero")]
    Zero,
    /// More than [`AMOUNT_MAJOR_MAX`] major units.
    #[error("must be at most 1000000000")]
    TooLarge,
}

/// Parses a wire amount in major units of `currency` into minor units.
///
/// Accepts exactly `^(0|[1-9][0-9]{0,9})(\.[0-9]{1,E})?$`, where `E` is the currency's exponent
/// (with exponent 0 there is no decimal point at all), greater than zero and at most
/// [`AMOUNT_MAJOR_MAX`] major units. Fewer decimals than the exponent are fine (`"100.5"` CNY is
/// 10050 fen); more are refused rather than rounded.
pub fn parse_amount(text: &str, currency: Currency) -> Result<i64, AmountError> {
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    let (integer, fraction) = match text.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (text, None),
    };

    if integer.is_empty() || !integer.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Syntax);
    }
    if integer.len() > 1 && integer.starts_with('0') {
        return Err(AmountError::LeadingZero);
    }
    if integer.len() > INTEGER_DIGITS_MAX {
        return Err(AmountError::TooLarge);
    }

    let exponent = usize::from(currency.exponent());
    let fraction = fraction.unwrap_or("");
    if text.contains('.') {
        // A second '.' lands in `fraction` and fails here too.
        if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::Syntax);
        }
        if fraction.len() > exponent {
            return Err(AmountError::TooManyDecimals {
                max: currency.exponent(),
                currency: currency.code(),
            });
        }
    }

    // At most 10 integer digits and 3 fraction digits: the value is below 10^13, far inside i64,
    // but the arithmetic is checked anyway so that a future 4-decimal currency cannot overflow.
    let mut minor: i64 = 0;
    let padded = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(exponent);
    for digit in integer.bytes().chain(padded) {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or(AmountError::TooLarge)?;
    }

    if minor == 0 {
        return Err(AmountError::Zero);
    }
    let max_minor = AMOUNT_MAJOR_MAX
        .checked_mul(currency.minor_per_major())
        .ok_or(AmountError::TooLarge)?;
    if minor > max_minor {
        return Err(AmountError::TooLarge);
    }
    Ok(minor)
}

/// Formats minor units of `currency` as a major-unit string with exactly the currency's number of
/// decimals: `"100.00"`, `"6.96"`, JPY `"1500"`, KWD `"1.250"`. Negative values (operator output,
/// ledger differences) get a leading `-`; the wire itself never carries them.
pub fn format_amount(minor: i64, currency: Currency) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    // `unsigned_abs` handles i64::MIN, whose absolute value does not fit in an i64.
    let magnitude = minor.unsigned_abs();
    let exponent = usize::from(currency.exponent());
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let factor = currency.minor_per_major().unsigned_abs();
    let major = magnitude / factor;
    let fraction = magnitude % factor;
    format!("{sign}{major}.{fraction:0exponent$}")
}

/// An amount together with its currency, for the places where the currency travels beside the
/// amount (`pay_amount` + `pay_currency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in minor units of `currency`.
    pub minor: i64,
    /// The currency the amount is counted in.
    pub currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Parses a wire amount of `currency` (see [`parse_amount`]).
    pub fn parse(text: &str, currency: Currency) -> Result<Self, AmountError> {
        parse_amount(text, currency).map(|minor| Money { minor, currency })
    }

    /// The amount as a wire string (see [`format_amount`]).
    pub fn format(&self) -> String {
        format_amount(self.minor, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(text: &str) -> Result<i64, AmountError> {
        parse_amount(text, Currency::CNY)
    }

    #[test]
    fn accepts_the_plain_forms() {
        assert_eq!(cny("100.00"), Ok(10_000));
        assert_eq!(cny("100"), Ok(10_000));
        assert_eq!(cny("100.5"), Ok(10_050));
        assert_eq!(cny("0.01"), Ok(1));
        assert_eq!(cny("0.1"), Ok(10));
        assert_eq!(cny("6.96"), Ok(696));
        assert_eq!(cny("1000000000.00"), Ok(100_000_000_000));
        assert_eq!(cny("1000000000"), Ok(100_000_000_000));
        assert_eq!(parse_amount("1500", Currency::JPY), Ok(1500));
        assert_eq!(parse_amount("1.25", Currency::KWD), Ok(1250));
        assert_eq!(parse_amount("1.250", Currency::KWD), Ok(1250));
        assert_eq!(parse_amount("0.001", Currency::KWD), Ok(1));
    }

    #[test]
    fn refuses_everything_else() {
        use AmountError::*;
        let cases: &[(&str, AmountError)] = &[
            ("", Empty),
            ("-1.00", Syntax),
            ("+1.00", Syntax),
            ("1e2", Syntax),
            ("1E2", Syntax),
            (" 1.00", Syntax),
            ("1.00 ", Syntax),
            ("1 000.00", Syntax),
            ("1_000.00", Syntax),
            ("1,000.00", Syntax),
            (".5", Syntax),
            ("5.", Syntax),
            (".", Syntax),
            ("1.2.3", Syntax),
            ("1..2", Syntax),
            ("١٢٣", Syntax),
            ("１２３", Syntax),
            ("0x10", Syntax),
            ("NaN", Syntax),
            ("inf", Syntax),
            ("007.00", LeadingZero),
            ("00", LeadingZero),
            ("01", LeadingZero),
            ("0", Zero),
            ("0.00", Zero),
            ("0.0", Zero),
            ("1000000000.01", TooLarge),
            ("1000000001", TooLarge),
            ("9999999999.99", TooLarge),
            ("99999999999", TooLarge),
            ("99999999999999999999999999", TooLarge),
        ];
        for (text, expected) in cases {
            assert_eq!(cny(text), Err(*expected), "{text:?}");
        }
        assert_eq!(
            cny("100.001"),
            Err(TooManyDecimals {
                max: 2,
                currency: "CNY"
            })
        );
        assert_eq!(
            parse_amount("1500.5", Currency::JPY),
            Err(TooManyDecimals {
                max: 0,
                currency: "JPY"
            })
        );
        assert_eq!(parse_amount("1500.", Currency::JPY), Err(Syntax));
        assert_eq!(
            parse_amount("1.2500", Currency::KWD),
            Err(TooManyDecimals {
                max: 3,
                currency: "KWD"
            })
        );
    }

    #[test]
    fn messages_read_after_the_field_name() {
        let err = cny("100.001").unwrap_err();
        assert_eq!(err.to_string(), "more than 2 decimals for CNY");
    }

    #[test]
    fn formats_with_the_exact_number_of_decimals() {
        assert_eq!(format_amount(10_000, Currency::CNY), "100.00");
        assert_eq!(format_amount(696, Currency::USD), "6.96");
        assert_eq!(format_amount(5, Currency::CNY), "0.05");
        assert_eq!(format_amount(0, Currency::CNY), "0.00");
        assert_eq!(format_amount(1500, Currency::JPY), "1500");
        assert_eq!(format_amount(1250, Currency::KWD), "1.250");
        assert_eq!(format_amount(-5, Currency::CNY), "-0.05");
        assert_eq!(format_amount(-1500, Currency::JPY), "-1500");
        assert_eq!(
            format_amount(i64::MIN, Currency::CNY),
            "-92233720368547758.08"
        );
        assert_eq!(
            format_amount(i64::MAX, Currency::CNY),
            "92233720368547758.07"
        );
    }
}
