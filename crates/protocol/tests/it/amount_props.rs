//! Property tests of the §3 amount grammar.

use freewalker_protocol::amount::{AMOUNT_MAJOR_MAX, format_amount, parse_amount};
use freewalker_protocol::currency::Currency;
use proptest::prelude::*;

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(Currency::all().to_vec())
}

/// A currency and a valid minor amount in it: 1 ..= AMOUNT_MAJOR_MAX major units.
fn valid_amount() -> impl Strategy<Value = (Currency, i64)> {
    currency().prop_flat_map(|c| (Just(c), 1..=AMOUNT_MAJOR_MAX * c.minor_per_major()))
}

/// Strings built from the characters an amount is made of, plus the usual suspects.
fn amount_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            '0', '1', '5', '9', '.', '-', '+', 'e', 'E', ' ', '_', ',', '０', '٣',
        ]),
        0..16,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn format_then_parse_round_trips((currency, minor) in valid_amount()) {
        let text = format_amount(minor, currency);
        prop_assert_eq!(parse_amount(&text, currency), Ok(minor));
    }

    #[test]
    fn parse_never_panics_on_any_string(text in any::<String>(), currency in currency()) {
        let _ = parse_amount(&text, currency);
    }

    #[test]
    fn parse_never_panics_on_amount_like_strings(text in amount_like(), currency in currency()) {
        let _ = parse_amount(&text, currency);
    }

    #[test]
    fn accepted_text_with_full_decimals_reformats_identically(
        text in "(0|[1-9][0-9]{0,10})(\\.[0-9]{1,4})?",
        currency in currency(),
    ) {
        if let Ok(minor) = parse_amount(&text, currency) {
            prop_assert!(minor > 0);
            prop_assert!(minor <= AMOUNT_MAJOR_MAX * currency.minor_per_major());
            // Whatever is accepted means exactly what it says: padding the decimals to the
            // currency's exponent gives back the formatted text.
            let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
            let exponent = usize::from(currency.exponent());
            let mut padded = text.clone();
            if exponent > 0 {
                if decimals == 0 {
                    padded.push('.');
                }
                padded.extend(std::iter::repeat_n('0', exponent - decimals));
            }
            prop_assert_eq!(format_amount(minor, currency), padded);
        }
    }

    #[test]
    fn anything_accepted_reformats_to_the_same_string(
        text in amount_like(),
        currency in currency(),
    ) {
        if let Ok(minor) = parse_amount(&text, currency) {
            let formatted = format_amount(minor, currency);
            prop_assert_eq!(parse_amount(&formatted, currency), Ok(minor));
            if text.split_once('.').map_or(0, |(_, f)| f.len()) == usize::from(currency.exponent())
            {
                prop_assert_eq!(formatted, text);
            }
        }
    }

    #[test]
    fn format_never_panics(minor in any::<i64>(), currency in currency()) {
        let text = format_amount(minor, currency);
        prop_assert_eq!(text.starts_with('-'), minor < 0);
    }
}
