//! The wire's times, all in China Standard Time (UTC+08:00): the `timestamp` header
//! `yyyyMMddHHmmss` (§2), body times `yyyy-MM-dd HH:mm:ss` and dates `yyyy-MM-dd` (§3).
//!
//! Values in and out are Unix time; this module never reads a clock. Parsing is hand-written so
//! that exactly the documented shape is accepted (fixed width, ASCII digits only), and the
//! calendar check is left to the `time` crate.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// China Standard Time, the offset of every time on the wire. China has no daylight saving.
const CST: UtcOffset = time::macros::offset!(+8);

/// The earliest instant that prints with a four-digit year: 0000-01-01 00:00:00 CST.
const CST_UNIX_SECS_MIN: i64 = -62_167_248_000;
/// The latest instant that prints with a four-digit year: 9999-12-31 23:59:59 CST.
const CST_UNIX_SECS_MAX: i64 = 253_402_271_999;

/// Why a time or date string was refused. The message reads well after "`<field>` is invalid: ".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not the fixed-width shape (wrong length, separators or non-digits).
    #[error("not in the form {expected}")]
    Format {
        /// The expected pattern, e.g. `yyyy-MM-dd HH:mm:ss`.
        expected: &'static str,
    },
    /// The right shape but not a real calendar date or time of day (`2026-02-30`, `24:00:00`).
    #[error("not a real calendar date and time")]
    NotReal,
}

/// The CST wall-clock time of a Unix second, clamped to years 0000–9999 so that it always
/// prints in the fixed-width formats (such instants never occur on a live wire).
fn cst(unix_secs: i64) -> OffsetDateTime {
    let clamped = unix_secs.clamp(CST_UNIX_SECS_MIN, CST_UNIX_SECS_MAX);
    OffsetDateTime::from_unix_timestamp(clamped)
        .ok()
        .and_then(|utc| utc.checked_to_offset(CST))
        // Unreachable for the clamped range; the epoch keeps this total without a panic.
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `unix_millis` floored to whole seconds (also for instants before 1970).
fn secs_of_millis(unix_millis: i64) -> i64 {
    unix_millis.div_euclid(1000)
}

/// Formats a Unix second as the `timestamp` header: `yyyyMMddHHmmss` in CST.
pub fn format_header_timestamp(unix_secs: i64) -> String {
    let t = cst(unix_secs);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses the `timestamp` header (exactly 14 ASCII digits, a real CST date and time) into Unix
/// seconds.
pub fn parse_header_timestamp(text: &str) -> Result<i64, TimeError> {
    const EXPECTED: &str = "yyyyMMddHHmmss";
    let b = text.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return Err(TimeError::Format { expected: EXPECTED });
    }
    let n = |from: usize, to: usize| digits(&b[from..to]);
    cst_unix_secs(n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14))
}

/// Formats a Unix millisecond as a body time: `yyyy-MM-dd HH:mm:ss` in CST (milliseconds are
/// dropped, rounding down).
pub fn format_time(unix_millis: i64) -> String {
    let t = cst(secs_of_millis(unix_millis));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses a body time `yyyy-MM-dd HH:mm:ss` (CST, a real date and time) into Unix seconds.
pub fn parse_time(text: &str) -> Result<i64, TimeError> {
    const EXPECTED: &str = "yyyy-MM-dd HH:mm:ss";
    let b = text.as_bytes();
    if !matches_shape(b, b"dddd-dd-dd dd:dd:dd") {
        return Err(TimeError::Format { expected: EXPECTED });
    }
    let n = |from: usize, to: usize| digits(&b[from..to]);
    cst_unix_secs(n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19))
}

/// Parses a body date `yyyy-MM-dd` (a real calendar date).
pub fn parse_date(text: &str) -> Result<Date, TimeError> {
    const EXPECTED: &str = "yyyy-MM-dd";
    let b = text.as_bytes();
    if !matches_shape(b, b"dddd-dd-dd") {
        return Err(TimeError::Format { expected: EXPECTED });
    }
    calendar_date(digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
}

/// Formats a date as `yyyy-MM-dd`.
pub fn format_date(date: Date) -> String {
    // Dates built by `parse_date` or `cst_date` have four-digit years; a negative year from
    // elsewhere still prints, just not in the wire's shape.
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The CST calendar day of a Unix millisecond: limits reset at midnight in China, not in UTC.
pub fn cst_date(unix_millis: i64) -> Date {
    cst(secs_of_millis(unix_millis)).date()
}

/// Whether `bytes` has the shape of `pattern`, where `d` is an ASCII digit and anything else must
/// match literally.
fn matches_shape(bytes: &[u8], pattern: &[u8]) -> bool {
    bytes.len() == pattern.len()
        && bytes.iter().zip(pattern).all(|(b, p)| match p {
            b'd' => b.is_ascii_digit(),
            literal => b == literal,
        })
}

/// The value of a run of at most four ASCII digits (already checked by the caller).
fn digits(run: &[u8]) -> u16 {
    run.iter()
        .fold(0_u16, |acc, d| acc * 10 + u16::from(d.wrapping_sub(b'0')))
}

fn calendar_date(year: u16, month: u16, day: u16) -> Result<Date, TimeError> {
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(TimeError::NotReal)?;
    let day = u8::try_from(day).map_err(|_| TimeError::NotReal)?;
    Date::from_calendar_date(i32::from(year), month, day).map_err(|_| TimeError::NotReal)
}

fn cst_unix_secs(
    year: u16,
    month: u16,
    day: u16,
    hour: u16,
    minute: u16,
    second: u16,
) -> Result<i64, TimeError> {
    let date = calendar_date(year, month, day)?;
    let narrow = |v: u16| u8::try_from(v).map_err(|_| TimeError::NotReal);
    // `Time::from_hms` refuses 24:00:00 and leap seconds (60), as the wire should.
    let time = Time::from_hms(narrow(hour)?, narrow(minute)?, narrow(second)?)
        .map_err(|_| TimeError::NotReal)?;
    Ok(PrimitiveDateTime::new(date, time)
        .assume_offset(CST)
        .unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// 2026-11-26 14:50:22 CST, the spec's example timestamp.
    const EXAMPLE_SECS: i64 = 1_795_675_822;

    #[test]
    fn the_spec_example_is_cst() {
        assert_eq!(parse_header_timestamp("20261126145022"), Ok(EXAMPLE_SECS));
        assert_eq!(format_header_timestamp(EXAMPLE_SECS), "20261126145022");
        assert_eq!(
            format_time(EXAMPLE_SECS * 1000 + 999),
            "2026-11-26 14:50:22"
        );
        assert_eq!(parse_time("2026-11-26 14:50:22"), Ok(EXAMPLE_SECS));
        assert_eq!(format_header_timestamp(0), "19700101080000");
    }

    #[test]
    fn header_timestamp_is_strict() {
        for bad in [
            "",
            "2026112614502",
            "202611261450222",
            "2026-11-26 14:50",
            "2026112614502a",
            "２０２６１１２６１４５０２２",
            " 20261126145022",
        ] {
            assert!(
                matches!(parse_header_timestamp(bad), Err(TimeError::Format { .. })),
                "{bad:?}"
            );
        }
        for unreal in [
            "20261326145022",
            "20260230145022",
            "20261126245022",
            "20261126146022",
            "20261126145060",
            "20261100145022",
            "20250229000000",
        ] {
            assert_eq!(
                parse_header_timestamp(unreal),
                Err(TimeError::NotReal),
                "{unreal}"
            );
        }
        assert!(parse_header_timestamp("20240229000000").is_ok());
    }

    #[test]
    fn times_and_dates_are_strict() {
        assert_eq!(
            parse_time("2026-11-26T14:50:22"),
            Err(TimeError::Format {
                expected: "yyyy-MM-dd HH:mm:ss"
            })
        );
        assert!(parse_time("2026-11-26 14:50:22Z").is_err());
        assert!(parse_time("2026-1-26 14:50:22").is_err());
        assert_eq!(parse_time("2026-02-29 00:00:00"), Err(TimeError::NotReal));
        assert_eq!(parse_date("2026-11-26"), Ok(date!(2026 - 11 - 26)));
        assert_eq!(parse_date("2026-02-29"), Err(TimeError::NotReal));
        assert!(parse_date("2026/11/26").is_err());
        assert!(parse_date("26-11-2026").is_err());
        assert!(parse_date("2026-11-26 ").is_err());
        assert_eq!(format_date(date!(2026 - 01 - 05)), "2026-01-05");
        assert_eq!(format_date(date!(0987 - 01 - 05)), "0987-01-05");
    }

    #[test]
    fn cst_date_turns_at_cst_midnight() {
        // 2026-11-25 15:59:59 UTC is 23:59:59 CST; one second later it is the 26th in China.
        let before = parse_time("2026-11-25 23:59:59").unwrap();
        assert_eq!(cst_date(before * 1000 + 999), date!(2026 - 11 - 25));
        assert_eq!(cst_date((before + 1) * 1000), date!(2026 - 11 - 26));
        assert_eq!(cst_date(-1), date!(1970 - 01 - 01));
    }

    #[test]
    fn extreme_instants_clamp_instead_of_panicking() {
        assert_eq!(format_header_timestamp(i64::MIN), "00000101000000");
        assert_eq!(format_header_timestamp(i64::MAX), "99991231235959");
        assert_eq!(format_time(i64::MIN), "0000-01-01 00:00:00");
        assert_eq!(format_time(i64::MAX), "9999-12-31 23:59:59");
        assert_eq!(
            parse_header_timestamp("00000101000000"),
            Ok(CST_UNIX_SECS_MIN)
        );
        assert_eq!(
            parse_header_timestamp("99991231235959"),
            Ok(CST_UNIX_SECS_MAX)
        );
        assert_eq!(cst_date(i64::MAX), date!(9999 - 12 - 31));
    }

    #[test]
    fn parse_inverts_format() {
        for secs in [0, 1, 86_399, EXAMPLE_SECS, -1, -86_401, 4_102_444_800] {
            assert_eq!(
                parse_header_timestamp(&format_header_timestamp(secs)),
                Ok(secs)
            );
            assert_eq!(parse_time(&format_time(secs * 1000)), Ok(secs));
        }
    }
}
