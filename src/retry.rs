//! When to repeat a failed request and how long to wait, and the pacing
//! that keeps a sync under a request rate.
//!
//! The waits grow exponentially from one second, capped at `backoff_max`,
//! with jitter so that several clients do not retry in step. A
//! `Retry-After` header from the server replaces the computed wait, capped
//! the same way.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};

/// First wait before a retry; each later wait doubles.
const BACKOFF_BASE: Duration = Duration::from_secs(1);

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Maximum wait between two attempts.
    pub backoff_max: Duration,
}

impl RetryPolicy {
    /// Computes the wait before retry number `retry` (from 1). `jitter` is
    /// a number in [0, 1) that scales the exponential wait between half and
    /// all of it; a `Retry-After` value is used as given.
    pub fn wait(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.backoff_max);
        }
        let exponent = retry.saturating_sub(1).min(30);
        let exponential = BACKOFF_BASE
            .saturating_mul(1 << exponent)
            .min(self.backoff_max);
        exponential.mul_f64(0.5 + jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// A source of jitter: a xorshift generator seeded from the clock and the
/// process id. Jitter only needs to differ between processes, not to be
/// unpredictable.
pub struct Jitter(u64);

impl Jitter {
    pub fn new() -> Jitter {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        Jitter((nanos ^ u64::from(std::process::id()).rotate_left(32)) | 1)
    }

    /// Returns the next number in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Keeps requests under a number per minute: a request waits until fewer
/// than that many were sent in the last 60 seconds. Shared by every thread
/// that sends requests.
pub struct Pacer {
    per_minute: usize,
    window: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Pacer {
    /// Creates a pacer allowing `per_minute` requests a minute; 0 means no
    /// limit.
    pub fn new(per_minute: u32) -> Pacer {
        Pacer::with_window(per_minute, Duration::from_secs(60))
    }

    fn with_window(limit: u32, window: Duration) -> Pacer {
        Pacer {
            per_minute: limit as usize,
            window,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// Blocks until a request may be sent, and counts it as sent.
    pub fn wait_turn(&self) {
        if self.per_minute == 0 {
            return;
        }
        // Waiting while holding the lock makes other threads queue behind
        // this request, in order.
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if sent.len() >= self.per_minute {
            if let Some(oldest) = sent.pop_front() {
                let ready = oldest + self.window;
                let now = Instant::now();
                if ready > now {
                    let level = if ready - now >= Duration::from_secs(1) {
                        log::Level::Info
                    } else {
                        log::Level::Debug
                    };
                    log::log!(
                        level,
                        "pacing: waiting {:.1} s to stay under {} requests a minute (max_requests_per_minute)",
                        (ready - now).as_secs_f64(),
                        self.per_minute
                    );
                    std::thread::sleep(ready - now);
                }
            }
        }
        sent.push_back(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 5,
        backoff_max: Duration::from_secs(10),
    };

    #[test]
    fn backoff_doubles_and_is_capped() {
        let full: Vec<u64> = (1..=6)
            .map(|retry| POLICY.wait(retry, None, 0.999_999).as_millis() as u64)
            .collect();
        assert_eq!(full, [999, 1999, 3999, 7999, 9999, 9999]);
        let half: Vec<u64> = (1..=4)
            .map(|retry| POLICY.wait(retry, None, 0.0).as_millis() as u64)
            .collect();
        assert_eq!(half, [500, 1000, 2000, 4000]);
    }

    #[test]
    fn retry_after_replaces_backoff_but_is_capped() {
        assert_eq!(
            POLICY.wait(1, Some(Duration::from_secs(3)), 0.5),
            Duration::from_secs(3)
        );
        assert_eq!(
            POLICY.wait(1, Some(Duration::from_secs(600)), 0.5),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn retry_after_forms() {
        let now: DateTime<Utc> = "2026-12-04T07:28:00Z".parse().expect("date");
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Fri, 04 Dec 2026 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Fri, 04 Dec 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn jitter_stays_in_unit_interval() {
        let mut jitter = Jitter::new();
        for _ in 0..10_000 {
            let value = jitter.next();
            assert!((0.0..1.0).contains(&value), "{value}");
        }
    }

    #[test]
    fn pacer_without_limit_keeps_no_history() {
        let pacer = Pacer::new(0);
        for _ in 0..1000 {
            pacer.wait_turn();
        }
        assert!(pacer.sent.lock().expect("lock").is_empty());
    }

    #[test]
    fn pacer_is_shared_by_threads() {
        let window = Duration::from_millis(300);
        let pacer = Pacer::with_window(4, window);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    pacer.wait_turn();
                    pacer.wait_turn();
                });
            }
        });
        assert!(
            started.elapsed() >= window,
            "eight requests over a limit of four waited for the window"
        );
        assert_eq!(pacer.sent.lock().expect("lock").len(), 4);
    }

    #[test]
    fn pacer_holds_the_request_over_the_limit() {
        let window = Duration::from_millis(300);
        let pacer = Pacer::with_window(3, window);
        let started = Instant::now();
        for _ in 0..3 {
            pacer.wait_turn();
        }
        pacer.wait_turn();
        assert!(
            started.elapsed() >= window,
            "the fourth request waited for the window"
        );
        assert_eq!(pacer.sent.lock().expect("lock").len(), 3);
    }
}
