//! The buckets in this process: governor's keyed GCRA, idle buckets dropped now and then.

use super::limiter::{Bucket, Decision, RateLimiter, Undecided};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

type Limiter = governor::RateLimiter<
    Bucket,
    DefaultKeyedStateStore<Bucket>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// Idle buckets are dropped at most this often (the default), or at once past
/// [`MAX_TRACKED_CALLERS`].
pub(crate) const EVICTION_INTERVAL: Duration = Duration::from_secs(10);
/// Callers tracked before idle buckets are dropped without waiting for the interval.
const MAX_TRACKED_CALLERS: usize = 100_000;

/// The buckets of this process alone.
#[derive(Debug)]
pub(crate) struct InProcess {
    limiter: Limiter,
    /// Milliseconds since `started` at the last eviction of idle buckets.
    evicted_at_ms: AtomicU64,
    eviction_interval: Duration,
    started: Instant,
}

impl InProcess {
    /// `per_minute` requests per bucket, idle buckets dropped at most every
    /// `eviction_interval`.
    pub(crate) fn new(per_minute: NonZeroU32, eviction_interval: Duration) -> Self {
        Self {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute)).with_middleware(),
            evicted_at_ms: AtomicU64::new(0),
            eviction_interval,
            started: Instant::now(),
        }
    }

    /// How many callers have a bucket right now.
    pub(crate) fn tracked_callers(&self) -> usize {
        self.limiter.len()
    }

    /// Charges one request to `bucket`, at once.
    pub(crate) fn decide(&self, bucket: &Bucket) -> Decision {
        self.evict_idle();
        match self.limiter.check_key(bucket) {
            Ok(snapshot) => Decision::Allowed {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(refused) => Decision::Refused {
                wait: refused.wait_time_from(self.limiter.clock().now()),
            },
        }
    }

    /// Drops the buckets of callers whose bucket is full again (they are indistinguishable
    /// from new ones), when the interval has passed or too many callers are tracked.
    fn evict_idle(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.evicted_at_ms.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= self.eviction_interval.as_millis() as u64;
        if (due || self.limiter.len() > MAX_TRACKED_CALLERS)
            && self
                .evicted_at_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }
}

impl RateLimiter for InProcess {
    /// [`InProcess::decide`], ready at once (the gate calls `decide` itself).
    fn check(&self, bucket: &Bucket) -> impl Future<Output = Result<Decision, Undecided>> + Send {
        std::future::ready(Ok(self.decide(bucket)))
    }
}
