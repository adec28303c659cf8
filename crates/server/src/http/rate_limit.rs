//! Per-institution request rate limit (`4029`): a token bucket per institution,
//! refilled continuously at `rate_limit_rps` and holding at most one second's
//! worth. Off (admits everything) when the rate is 0. Per process: with N
//! processes behind a balancer, each admits its share.

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct RateLimiter {
    rate_per_sec: u32,
    buckets: Mutex<HashMap<String, (f64, i64)>>,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32) -> Self {
        Self {
            rate_per_sec,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `institution_id` at `now_ms`; false if none is left.
    pub fn admit(&self, institution_id: &str, now_ms: i64) -> bool {
        if self.rate_per_sec == 0 {
            return true;
        }
        let capacity = f64::from(self.rate_per_sec);
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let (tokens, last) = buckets
            .entry(institution_id.to_owned())
            .or_insert((capacity, now_ms));
        let elapsed_s = (now_ms - *last).max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed_s * capacity).min(capacity);
        *last = now_ms;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_the_rate_then_refuses_then_refills() {
        let l = RateLimiter::new(2);
        assert!(l.admit("A", 0));
        assert!(l.admit("A", 0));
        assert!(!l.admit("A", 0));
        assert!(l.admit("B", 0), "institutions have their own buckets");
        assert!(l.admit("A", 500));
        assert!(RateLimiter::new(0).admit("A", 0));
    }
}
