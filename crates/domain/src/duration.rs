//! Durations as operators write them in settings: `500ms`, `15s`, `3m`, `3min`,
//! `2h`, `1d`. Kept as integer milliseconds.

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration like 500ms, 15s, 3m, 2h or 1d")]
pub struct DurationError(pub String);

/// Parses one duration into milliseconds.
pub fn parse_millis(text: &str) -> Result<i64, DurationError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let err = || DurationError(text.to_owned());
    if number.is_empty() || number.len() > 12 {
        return Err(err());
    }
    let n: i64 = number.parse().map_err(|_| err())?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(err()),
    };
    n.checked_mul(unit_ms).ok_or_else(err)
}

/// Parses a comma list (`1s,1s,2s`).
pub fn parse_list_millis(text: &str) -> Result<Vec<i64>, DurationError> {
    text.split(',').map(parse_millis).collect()
}

/// Formats milliseconds the short way (`15s`, `3m`, `6h`, `1500ms`).
pub fn format_millis(ms: i64) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms != 0 && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_units() {
        assert_eq!(parse_millis("500ms"), Ok(500));
        assert_eq!(parse_millis("15s"), Ok(15_000));
        assert_eq!(parse_millis("3min"), Ok(180_000));
        assert_eq!(parse_millis("24h"), Ok(86_400_000));
        assert_eq!(parse_list_millis("1s, 2s"), Ok(vec![1_000, 2_000]));
        for bad in ["", "s", "1", "1w", "-1s", "1.5s", "99999999999999h"] {
            assert!(parse_millis(bad).is_err(), "{bad:?}");
        }
        assert_eq!(format_millis(180_000), "3m");
        assert_eq!(format_millis(1_500), "1500ms");
    }
}
