//! Exchange rates and the exact conversion of §4.5.
//!
//! A rate is quoted the way Chinese banks quote it: CNY per 100 units of the
//! foreign currency (USD `718.25`). It is kept as an integer count of millionths
//! so that the conversion is exact integer arithmetic:
//!
//! ```text
//! target_minor = floor(amount_fen × 10^exponent × 1_000_000 / rate_micro)
//! ```
//!
//! Rounding is always down, in the house's favour, to the target currency's
//! minor unit: 50.00 CNY at 718.25 is 6.96 USD; 10.00 CNY at JPY 4.85 is 206 JPY.

use freewalker_protocol::currency::Currency;

/// Decimals a rate may carry.
pub const RATE_DECIMALS_MAX: u32 = 6;
const RATE_SCALE: i64 = 1_000_000;
/// The largest rate accepted: CNY 10,000,000 per 100 units is far beyond any
/// currency and keeps every product inside `i128` with room to spare.
pub const RATE_MICRO_MAX: i64 = 10_000_000 * RATE_SCALE;

/// A selling rate: CNY per 100 units of a foreign currency, in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rate {
    micro: i64,
}

/// Why a rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("rate must be a positive decimal with at most 6 decimals, like 718.25")]
    Format,
    #[error("rate is out of range")]
    Range,
}

impl Rate {
    /// The identity rate for CNY → CNY: 100 CNY per 100 CNY.
    pub const IDENTITY: Rate = Rate {
        micro: 100 * RATE_SCALE,
    };

    /// Parses `718.25`: digits, an optional point and 1–6 decimals, greater than zero.
    pub fn parse(text: &str) -> Result<Rate, RateError> {
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (text, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(int_part) || (int_part.len() > 1 && int_part.starts_with('0')) {
            return Err(RateError::Format);
        }
        if int_part.len() > 8 {
            return Err(RateError::Range);
        }
        let mut micro: i64 = int_part.parse::<i64>().map_err(|_| RateError::Format)? * RATE_SCALE;
        if let Some(frac) = frac_part {
            if !digits(frac) || frac.len() > RATE_DECIMALS_MAX as usize {
                return Err(RateError::Format);
            }
            let scale = 10_i64.pow(RATE_DECIMALS_MAX - frac.len() as u32);
            micro += frac.parse::<i64>().map_err(|_| RateError::Format)? * scale;
        }
        Rate::from_micro(micro)
    }

    /// A rate from its stored millionths.
    pub fn from_micro(micro: i64) -> Result<Rate, RateError> {
        if micro <= 0 || micro > RATE_MICRO_MAX {
            return Err(RateError::Range);
        }
        Ok(Rate { micro })
    }

    /// The stored form.
    pub fn micro(self) -> i64 {
        self.micro
    }

    /// The wire form: at least two decimals, trailing zeros beyond them dropped
    /// (`718.25`, `4.85`, `100.00`, `718.123456`).
    pub fn to_text(self) -> String {
        let int = self.micro / RATE_SCALE;
        let mut frac = format!("{:06}", self.micro % RATE_SCALE);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        format!("{int}.{frac}")
    }

    /// Converts `amount_fen` CNY into `target` minor units, rounding down; `None`
    /// if the result does not fit an `i64` (only with absurd rates).
    pub fn convert(self, amount_fen: i64, target: Currency) -> Option<i64> {
        assert!(amount_fen >= 0, "only non-negative amounts are converted");
        let scaled = i128::from(amount_fen)
            * 10_i128.pow(u32::from(target.exponent()))
            * i128::from(RATE_SCALE);
        let minor = scaled / i128::from(self.micro);
        i64::try_from(minor).ok()
    }
}

/// True when a rate set at `set_at_millis` may still be used at `now_millis`.
pub fn is_fresh(set_at_millis: i64, now_millis: i64, max_age_millis: i64) -> bool {
    now_millis.saturating_sub(set_at_millis) <= max_age_millis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn examples_of_the_contract() {
        // 50.00 CNY at 718.25 is 6.96 USD (696.13… cents, rounded down).
        assert_eq!(
            Rate::parse("718.25").unwrap().convert(5_000, cur("USD")),
            Some(696)
        );
        // 10.00 CNY at JPY 4.85 is 206 JPY (206.18…).
        assert_eq!(
            Rate::parse("4.85").unwrap().convert(1_000, cur("JPY")),
            Some(206)
        );
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(Rate::parse("718.25").unwrap().micro(), 718_250_000);
        assert_eq!(Rate::parse("718.25").unwrap().to_text(), "718.25");
        assert_eq!(Rate::parse("100").unwrap().to_text(), "100.00");
        assert_eq!(Rate::parse("0.5312").unwrap().to_text(), "0.5312");
        assert_eq!(Rate::parse("718.123456").unwrap().to_text(), "718.123456");
        for bad in [
            "",
            "0",
            "0.000000",
            "-1",
            "1e2",
            ".5",
            "5.",
            "07.1",
            "1.1234567",
            " 1",
            "1,0",
        ] {
            assert!(Rate::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn cny_identity_is_exact() {
        assert_eq!(Rate::IDENTITY.convert(12_345, Currency::CNY), Some(12_345));
    }

    #[test]
    fn the_largest_amount_does_not_overflow() {
        let tiny = Rate::from_micro(1).unwrap();
        assert_eq!(tiny.convert(100_000_000_000, cur("KWD")), None);
        let usd = Rate::parse("718.25").unwrap();
        assert_eq!(
            usd.convert(100_000_000_000, cur("USD")),
            Some(13_922_728_854)
        );
    }
}
