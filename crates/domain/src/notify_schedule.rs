//! The §4.8 delivery schedule: the first attempt as soon as an order is final,
//! then one retry after each delay of the schedule; after the last, `DEAD`.

use crate::duration::{self, DurationError};

/// The contract's schedule, about 24 hours in all.
pub const DEFAULT_SCHEDULE: &str = "15s,15s,30s,3m,10m,20m,30m,30m,30m,60m,3h,3h,3h,6h,6h";

/// Delays between delivery attempts, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySchedule {
    delays_ms: Vec<i64>,
}

impl Default for NotifySchedule {
    fn default() -> Self {
        Self::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    }
}

impl NotifySchedule {
    /// Parses a comma list such as `1s,1s,2s`. An empty schedule means one attempt only.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        if text.trim().is_empty() {
            return Ok(Self { delays_ms: vec![] });
        }
        let delays_ms = duration::parse_list_millis(text)?;
        Ok(Self { delays_ms })
    }

    /// The delays, in milliseconds.
    pub fn delays_ms(&self) -> &[i64] {
        &self.delays_ms
    }

    /// Attempts in all: the first plus one per delay.
    pub fn attempts_max(&self) -> u32 {
        u32::try_from(self.delays_ms.len()).unwrap_or(u32::MAX - 1) + 1
    }

    /// After `attempts_made` failed attempts, how long to wait before the next;
    /// `None` when the schedule is exhausted and the notification is dead.
    pub fn delay_after(&self, attempts_made: u32) -> Option<i64> {
        let index = usize::try_from(attempts_made).ok()?.checked_sub(1)?;
        self.delays_ms.get(index).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_lasts_about_a_day() {
        let s = NotifySchedule::default();
        assert_eq!(s.attempts_max(), 16);
        let total: i64 = s.delays_ms().iter().sum();
        assert!(
            (23 * 3_600_000..=25 * 3_600_000).contains(&total),
            "{total}"
        );
        assert_eq!(s.delay_after(1), Some(15_000));
        assert_eq!(s.delay_after(15), Some(6 * 3_600_000));
        assert_eq!(s.delay_after(16), None);
    }
}
