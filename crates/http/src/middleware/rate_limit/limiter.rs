//! What every limiter shares: the bucket a request is charged to, the [`RateLimiter`] trait and
//! its [`Decision`], and the GCRA's figures.

use provider_domain::UserId;
use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Whose bucket a request is charged to: the identified user's, else the client address's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    User(UserId),
    Address(IpAddr),
}

/// What charging one request to a bucket decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Charged: this many more requests would be let through right now.
    Allowed { remaining: u32 },
    /// Refused, nothing charged: the bucket is empty, and one request comes back after `wait`.
    Refused { wait: Duration },
}

/// The store did not decide (an error, or no answer in time): the request goes unlimited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rate-limit store did not decide: {0}")]
pub(crate) struct Undecided(pub(crate) String);

/// Where the buckets live. Every implementation runs the same GCRA over the same [`Gcra`]
/// figures, so that a caller's [`Decision`]s, and so their headers, do not depend on which
/// one holds their bucket.
pub(crate) trait RateLimiter {
    /// Charges one request to `bucket`.
    ///
    /// # Errors
    /// [`Undecided`] when the store could not say (only a remote store fails).
    fn check(&self, bucket: &Bucket) -> impl Future<Output = Result<Decision, Undecided>> + Send;
}

/// The figures of the GCRA of `n` requests a minute, as governor's `Quota::per_minute(n)` has
/// them: one request comes back every emission interval `t` (a minute divided by `n`, in whole
/// nanoseconds), and a bucket holds `n`: `tau`, the tolerance, is `t × (n − 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    /// The emission interval, in nanoseconds.
    pub(crate) t: u64,
    /// The tolerance, in nanoseconds.
    pub(crate) tau: u64,
}

impl Gcra {
    pub(crate) fn per_minute(n: NonZeroU32) -> Self {
        let t = (60_000_000_000 / u64::from(n.get())).max(1);
        Self {
            t,
            tau: t * u64::from(n.get() - 1),
        }
    }
}

/// Whether the shared rate-limit store answers, as readiness reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreHealth {
    Ok,
    Down,
}
