//! Rate limits: each caller has a bucket of `RATE_LIMIT_PER_MINUTE` requests that refills
//! continuously, charged one per request; an empty bucket is 429 with `Retry-After`. The bucket
//! is the identified user's, else the client address's. Every answer of a limited route
//! carries `RateLimit-Limit`, `-Remaining` and `-Reset`.
//!
//! Where the buckets live is a [`RateLimiter`]: in this process ([`InProcess`], governor's
//! GCRA, the default) or in Redis ([`redis::Redis`], the same GCRA in a server-side script,
//! shared by every process naming the same Redis). Both answer a [`Decision`], from which the
//! headers and the 429 are made here, by the same code: what a client sees does not depend on
//! where its bucket is. When Redis does not decide in time the request is served without a
//! limit (and without the headers), and counted.

#[cfg(test)]
mod cases;
mod in_process;
mod limiter;
pub(crate) mod redis;

pub(crate) use in_process::{InProcess, EVICTION_INTERVAL};
pub(crate) use limiter::{Bucket, Decision, Gcra, RateLimiter, StoreHealth};

use crate::error::{with_headers, ApiError};
use crate::identity::Caller;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{Error, HttpRequest};
use provider_telemetry::Metrics;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The settings' choice of store, with what the Redis one needs.
#[derive(Debug)]
enum Store {
    /// Limits are off.
    Off,
    InProcess(InProcess),
    Redis(redis::Redis),
}

/// The buckets of every caller, and how they are charged: one per process (the gate holds it).
#[derive(Debug)]
pub(crate) struct RateLimits {
    store: Store,
    per_minute: u32,
    trust_forwarded_for: bool,
}

impl RateLimits {
    /// `per_minute` requests per caller (0: no limit) in this process, the client address
    /// taken from `X-Forwarded-For` when `trust_forwarded_for`, idle buckets dropped at most
    /// every `eviction_interval`; or in `redis` when given.
    pub(crate) fn new(
        per_minute: u32,
        trust_forwarded_for: bool,
        eviction_interval: Duration,
        redis: Option<redis::RedisRateLimits>,
        metrics: &Metrics,
    ) -> Self {
        let store = match (NonZeroU32::new(per_minute), redis) {
            (None, _) => Store::Off,
            (Some(n), None) => Store::InProcess(InProcess::new(n, eviction_interval)),
            (Some(n), Some(redis)) => {
                metrics.rate_limit_store_configured();
                Store::Redis(redis::Redis::new(redis, Gcra::per_minute(n)))
            }
        };
        Self {
            store,
            per_minute,
            trust_forwarded_for,
        }
    }

    /// How many callers have a bucket in this process right now (0 with Redis).
    pub(crate) fn tracked_callers(&self) -> usize {
        match &self.store {
            Store::InProcess(limiter) => limiter.tracked_callers(),
            Store::Off | Store::Redis(_) => 0,
        }
    }

    /// With Redis: whether it answers now (a `PING`, within the store's timeout).
    pub(crate) async fn store_health(&self) -> Option<StoreHealth> {
        match &self.store {
            Store::Redis(redis) => Some(redis.health().await),
            Store::Off | Store::InProcess(_) => None,
        }
    }

    /// Charges one request of `caller` (`None`: the client address of `req`). The headers to
    /// put on its answer: `RateLimit-*`; none when limits are off, or when the shared store
    /// did not decide (the request is then served unlimited, and `metrics` counts it).
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the headers when the bucket is empty; `metrics` counts it.
    pub(crate) async fn charge(
        &self,
        req: &HttpRequest,
        caller: Option<Caller>,
        metrics: &Metrics,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let bucket = || {
            caller.map_or_else(
                || Bucket::Address(client_address(req, self.trust_forwarded_for)),
                |caller| Bucket::User(caller.0),
            )
        };
        // The in-process limiter decides synchronously: no future, nothing boxed, on the path
        // of every limited request.
        let decision = match &self.store {
            Store::Off => return Ok(Vec::new()),
            Store::InProcess(limiter) => limiter.decide(&bucket()),
            Store::Redis(redis) => match Box::pin(redis.check(&bucket())).await {
                Ok(decision) => decision,
                Err(_) => {
                    metrics.rate_limit_store_error();
                    return Ok(Vec::new());
                }
            },
        };
        answer(self.per_minute, decision, metrics)
    }
}

/// The headers of `decision`, or the 429 carrying them.
fn answer(
    limit: u32,
    decision: Decision,
    metrics: &Metrics,
) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    match decision {
        Decision::Allowed { remaining } => Ok(rate_limit_headers(limit, remaining)),
        Decision::Refused { wait } => {
            metrics.rate_limited();
            let error = ApiError::RateLimited {
                retry_after_secs: retry_after_secs(wait),
            };
            Err(with_headers(error.into(), rate_limit_headers(limit, 0)))
        }
    }
}

/// `Retry-After` for a refusal whose bucket has a request back after `wait`: whole seconds,
/// rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
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

    #[test]
    fn retry_after_is_the_wait_in_whole_seconds_rounded_up_and_at_least_one() {
        for (wait_ms, secs) in [
            (0, 1),
            (1, 1),
            (999, 1),
            (1_000, 1),
            (1_001, 2),
            (20_000, 20),
        ] {
            assert_eq!(
                retry_after_secs(Duration::from_millis(wait_ms)),
                secs,
                "{wait_ms}"
            );
        }
    }

    #[test]
    fn the_gcra_figures_are_governors() {
        for n in [1, 2, 3, 7, 60, 120, 1_000, 7_919, 1_000_000, u32::MAX] {
            let n = NonZeroU32::new(n).unwrap();
            let quota = governor::Quota::per_minute(n);
            let gcra = Gcra::per_minute(n);
            assert_eq!(
                u128::from(gcra.t),
                quota.replenish_interval().as_nanos().max(1),
                "{n}"
            );
            assert_eq!(quota.burst_size(), n);
            assert_eq!(gcra.tau, gcra.t * u64::from(n.get() - 1), "{n}");
        }
    }
}
