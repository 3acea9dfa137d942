//! Rate limits: each caller has a bucket of `RATE_LIMIT_PER_MINUTE` requests that refills
//! continuously, charged one per request; an empty bucket is 429 with `Retry-After`. The bucket
//! is the identified user's, else the client address's. Every answer of a limited route
//! carries `RateLimit-Limit`, `-Remaining` and `-Reset`.

use crate::error::{with_headers, ApiError};
use crate::identity::Caller;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use provider_domain::UserId;
use provider_telemetry::Metrics;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Whose bucket a request is charged to: the identified user's, else the client address's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    User(UserId),
    Address(IpAddr),
}

type Limiter =
    RateLimiter<Bucket, DefaultKeyedStateStore<Bucket>, DefaultClock, StateInformationMiddleware>;

/// Idle buckets are dropped at most this often (the default), or at once past
/// [`MAX_TRACKED_CALLERS`].
pub(crate) const EVICTION_INTERVAL: Duration = Duration::from_secs(10);
/// Callers tracked before idle buckets are dropped without waiting for the interval.
const MAX_TRACKED_CALLERS: usize = 100_000;

/// The buckets of every caller, and how they are charged: one per process (the gate holds it).
#[derive(Debug)]
pub(crate) struct RateLimits {
    /// `None` when limits are off.
    limiter: Option<Limiter>,
    per_minute: u32,
    trust_forwarded_for: bool,
    /// Milliseconds since `started` at the last eviction of idle buckets.
    evicted_at_ms: AtomicU64,
    eviction_interval: Duration,
    started: Instant,
}

impl RateLimits {
    /// `per_minute` requests per caller (0: no limit), the client address taken from
    /// `X-Forwarded-For` when `trust_forwarded_for`, idle buckets dropped at most every
    /// `eviction_interval`.
    pub(crate) fn new(
        per_minute: u32,
        trust_forwarded_for: bool,
        eviction_interval: Duration,
    ) -> Self {
        let limiter = NonZeroU32::new(per_minute)
            .map(|n| RateLimiter::keyed(Quota::per_minute(n)).with_middleware());
        Self {
            limiter,
            per_minute,
            trust_forwarded_for,
            evicted_at_ms: AtomicU64::new(0),
            eviction_interval,
            started: Instant::now(),
        }
    }

    /// How many callers have a bucket right now.
    pub(crate) fn tracked_callers(&self) -> usize {
        self.limiter.as_ref().map_or(0, Limiter::len)
    }

    /// Charges one request of `caller` (`None`: the client address of `req`). The headers to
    /// put on its answer: `RateLimit-*`, none when limits are off.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the headers when the bucket is empty; `metrics` counts it.
    pub(crate) fn charge(
        &self,
        req: &HttpRequest,
        caller: Option<Caller>,
        metrics: &Metrics,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let Some(limiter) = &self.limiter else {
            return Ok(Vec::new());
        };
        self.evict_idle(limiter);
        let key = caller.map_or_else(
            || Bucket::Address(client_address(req, self.trust_forwarded_for)),
            |caller| Bucket::User(caller.0),
        );
        let limit = self.per_minute;
        match limiter.check_key(&key) {
            Ok(snapshot) => Ok(rate_limit_headers(
                limit,
                snapshot.remaining_burst_capacity(),
            )),
            Err(refused) => {
                metrics.rate_limited();
                let wait = refused.wait_time_from(limiter.clock().now());
                let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let error = ApiError::RateLimited {
                    retry_after_secs: retry_after.max(1),
                };
                Err(with_headers(error.into(), rate_limit_headers(limit, 0)))
            }
        }
    }

    /// Drops the buckets of callers whose bucket is full again (they are indistinguishable
    /// from new ones), when the interval has passed or too many callers are tracked.
    fn evict_idle(&self, limiter: &Limiter) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.evicted_at_ms.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= self.eviction_interval.as_millis() as u64;
        if (due || limiter.len() > MAX_TRACKED_CALLERS)
            && self
                .evicted_at_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The client's address: the first `X-Forwarded-For` entry when trusted and well-formed, else
/// the socket's peer.
fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|list| list.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok());
    forwarded
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// `RateLimit-Limit`, `-Remaining` and `-Reset` (seconds until the bucket is full again,
/// rounded up; each spent request takes 60/limit seconds to come back).
fn rate_limit_headers(limit: u32, remaining: u32) -> Vec<(HeaderName, HeaderValue)> {
    const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
    const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
    const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
    let spent = u64::from(limit.saturating_sub(remaining));
    let reset = (spent * 60).div_ceil(u64::from(limit.max(1)));
    vec![
        (LIMIT, number(u64::from(limit))),
        (REMAINING, number(u64::from(remaining))),
        (RESET, number(reset)),
    ]
}

/// A number as a header value. These headers are on every answer of a limited route: the
/// numbers up to a minute's worth of seconds (every `RateLimit-Reset`) need no allocation.
fn number(n: u64) -> HeaderValue {
    const SMALL: [&str; 61] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31",
        "32", "33", "34", "35", "36", "37", "38", "39", "40", "41", "42", "43", "44", "45", "46",
        "47", "48", "49", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59", "60",
    ];
    match usize::try_from(n).ok().and_then(|i| SMALL.get(i)) {
        Some(digits) => HeaderValue::from_static(digits),
        None => HeaderValue::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_their_decimal_digits_with_or_without_the_table() {
        for n in [0, 7, 59, 60, 61, 1_000, u64::from(u32::MAX)] {
            assert_eq!(number(n).to_str().unwrap(), n.to_string());
        }
    }

    #[test]
    fn the_reset_is_the_seconds_until_the_bucket_is_full_again() {
        let headers = rate_limit_headers(120, 117);
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(value("ratelimit-limit").as_deref(), Some("120"));
        assert_eq!(value("ratelimit-remaining").as_deref(), Some("117"));
        // 3 spent, each back after half a second: 1.5 s, rounded up.
        assert_eq!(value("ratelimit-reset").as_deref(), Some("2"));
    }
}
