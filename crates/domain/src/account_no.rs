//! Account numbers: 16 digits, the last a Luhn check digit (§4.1), issued by the
//! wallet and never reused.
//!
//! Each account gets a number derived from a database sequence value, which is
//! unique across processes and never handed out twice. The sequence value is
//! spread over the 14-digit body with an affine bijection modulo 10^14 so that
//! consecutive accounts do not get consecutive numbers (a typo in one digit then
//! rarely lands on another customer's account, and the Luhn digit catches most
//! of the rest).

use freewalker_protocol::api::AccountNo;

/// Every account number starts with this digit.
const PREFIX: &str = "8";
const BODY_MODULUS: u128 = 100_000_000_000_000; // 10^14
/// Coprime with 10^14 (odd, not a multiple of 5), so `n ↦ n·K + C mod 10^14` is a bijection.
const MULTIPLIER: u128 = 48_271_903_115_337;
const OFFSET: u128 = 31_415_926_535_897;

/// The largest sequence value that still maps to a distinct number.
pub const SEQUENCE_MAX: i64 = 99_999_999_999_999;

/// The account number for sequence value `seq` (1 ≤ seq ≤ [`SEQUENCE_MAX`]).
pub fn issue(seq: i64) -> AccountNo {
    assert!(
        (1..=SEQUENCE_MAX).contains(&seq),
        "account sequence {seq} out of range"
    );
    let body = (u128::try_from(seq).unwrap_or_default() * MULTIPLIER + OFFSET) % BODY_MODULUS;
    let first15 = format!("{PREFIX}{body:014}");
    AccountNo::from_body_digits(&first15).expect("15 ASCII digits always take a check digit")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_are_distinct_valid_and_16_digits() {
        let mut seen = HashSet::new();
        for seq in 1..20_000 {
            let no = issue(seq);
            assert_eq!(no.as_str().len(), 16);
            assert!(no.as_str().starts_with('8'));
            assert!(
                AccountNo::parse(no.as_str()).is_some(),
                "{no:?} fails its own check digit"
            );
            assert!(seen.insert(no.as_str().to_owned()));
        }
    }
}
