//! ISO 4217 currencies with their minor-unit exponents (`spec/API.md` §3).
//!
//! The table is closed on purpose: an amount can only be parsed or printed when its exponent is
//! known, and a code the wallet has never heard of is rejected at the edge (`2003`) rather than
//! guessed at. Whether the wallet actually has a rate for a listed currency is a business question
//! answered elsewhere (`3007`).

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

/// An ISO 4217 currency: its three-letter code and the number of decimals of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
}

/// Shorthand for the table below.
const fn c(code: &'static str, exponent: u8) -> Currency {
    Currency { code, exponent }
}

/// Every currency the wire accepts, with its ISO 4217 minor-unit exponent.
static CURRENCIES: &[Currency] = &[
    // The wallet's own currency first.
    c("CNY", 2),
    // The currencies of most visitors and of the neighbouring regions.
    c("USD", 2),
    c("EUR", 2),
    c("GBP", 2),
    c("HKD", 2),
    c("MOP", 2),
    c("TWD", 2),
    c("JPY", 0),
    c("KRW", 0),
    c("AUD", 2),
    c("NZD", 2),
    c("CAD", 2),
    c("SGD", 2),
    c("CHF", 2),
    c("SEK", 2),
    c("NOK", 2),
    c("DKK", 2),
    c("ISK", 0),
    c("PLN", 2),
    c("CZK", 2),
    c("HUF", 2),
    c("TRY", 2),
    c("ILS", 2),
    c("EGP", 2),
    c("THB", 2),
    c("MYR", 2),
    c("PHP", 2),
    c("IDR", 2),
    c("VND", 0),
    c("KHR", 2),
    c("LAK", 2),
    c("MMK", 2),
    c("MNT", 2),
    c("KZT", 2),
    c("UZS", 2),
    c("PKR", 2),
    c("BDT", 2),
    c("LKR", 2),
    c("NPR", 2),
    c("INR", 2),
    c("RUB", 2),
    c("AED", 2),
    c("SAR", 2),
    c("QAR", 2),
    c("ZAR", 2),
    c("NGN", 2),
    c("KES", 2),
    c("BRL", 2),
    c("MXN", 2),
    c("ARS", 2),
    c("CLP", 0),
    c("COP", 2),
    c("PEN", 2),
    // Three-decimal currencies: their fils and baisa are real minor units.
    c("KWD", 3),
    c("BHD", 3),
    c("OMR", 3),
    c("JOD", 3),
    c("IQD", 3),
    c("TND", 3),
    c("LYD", 3),
];

impl Currency {
    /// Renminbi, the wallet's balance currency.
    pub const CNY: Currency = c("CNY", 2);
    /// US dollar.
    pub const USD: Currency = c("USD", 2);
    /// Euro.
    pub const EUR: Currency = c("EUR", 2);
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = c("JPY", 0);
    /// Kuwaiti dinar (three decimals).
    pub const KWD: Currency = c("KWD", 3);

    /// The currency with this exact code: three uppercase ASCII letters from the table.
    /// Lowercase, padded or unknown codes are `None`.
    pub fn from_code(code: &str) -> Option<Currency> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        CURRENCIES.iter().copied().find(|c| c.code == code)
    }

    /// Every currency the wire accepts.
    pub fn all() -> &'static [Currency] {
        CURRENCIES
    }

    /// The ISO 4217 code, e.g. `"CNY"`.
    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// The number of decimals of the minor unit: 2 for CNY, 0 for JPY, 3 for KWD.
    pub const fn exponent(&self) -> u8 {
        self.exponent
    }

    /// How many minor units make one major unit (100 for CNY, 1 for JPY, 1000 for KWD).
    pub const fn minor_per_major(&self) -> i64 {
        // The table holds exponents 0 to 3, so this never overflows.
        let mut factor = 1_i64;
        let mut i = 0;
        while i < self.exponent {
            factor *= 10;
            i += 1;
        }
        factor
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Currency::from_code(&text)
            .ok_or_else(|| de::Error::custom(format_args!("unknown currency {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for currency in Currency::all() {
            assert!(seen.insert(currency.code()), "{currency} twice");
            assert_eq!(Currency::from_code(currency.code()), Some(*currency));
            assert!(currency.exponent() <= 3);
        }
    }

    #[test]
    fn exponents_follow_iso_4217() {
        let expect = [
            ("CNY", 2),
            ("USD", 2),
            ("TWD", 2),
            ("IDR", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("VND", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("OMR", 3),
            ("JOD", 3),
        ];
        for (code, exponent) in expect {
            assert_eq!(
                Currency::from_code(code).unwrap().exponent(),
                exponent,
                "{code}"
            );
        }
        assert_eq!(Currency::CNY.minor_per_major(), 100);
        assert_eq!(Currency::JPY.minor_per_major(), 1);
        assert_eq!(Currency::KWD.minor_per_major(), 1000);
    }

    #[test]
    fn from_code_is_exact() {
        for bad in [
            "cny",
            "Cny",
            " CNY",
            "CNY ",
            "CN",
            "CNYY",
            "XXX",
            "",
            "ＣＮＹ",
        ] {
            assert_eq!(Currency::from_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn serde_is_the_code() {
        assert_eq!(serde_json::to_string(&Currency::JPY).unwrap(), "\"JPY\"");
        let back: Currency = serde_json::from_str("\"KWD\"").unwrap();
        assert_eq!(back, Currency::KWD);
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }
}
