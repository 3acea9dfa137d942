//! The buckets in Redis (`RATE_LIMIT_REDIS_URL`), shared by every process that names the same
//! Redis: one server-side script per request runs the in-process limiter's GCRA, with the same
//! figures ([`Gcra`]) and Redis's clock, so that N processes enforce one limit and a caller
//! sees the same headers as from one process.
//!
//! Redis is reached through one multiplexed connection ([`ConnectionManager`], which
//! reconnects by itself) driven by a thread of its own, never by an HTTP worker. A call that
//! fails or takes longer than the timeout is [`Undecided`]: the gate serves the request
//! unlimited and counts it.

use super::limiter::{Bucket, Decision, Gcra, RateLimiter, StoreHealth, Undecided};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// GCRA as governor runs it (see `governor::gcra`), for one bucket.
///
/// KEYS[1]: the bucket. ARGV[1]: the emission interval `t`, ARGV[2]: the tolerance `tau`, both
/// in nanoseconds. ARGV[3] and ARGV[4], for tests only: the time now, in seconds and
/// microseconds; else Redis's `TIME` (effects replication, the default since Redis 5, lets a
/// script read it), one clock for every process.
///
/// The bucket holds its theoretical arrival time (TAT) as `"<seconds> <nanoseconds>"`, and
/// expires when the TAT is reached: the bucket is then full, as a new one. The script works on
/// `ahead`, how far the TAT is ahead of now, in nanoseconds (governor's `tat - t0`, or 0 when
/// the TAT is past: its `max(tat, t0)`): a double holds it exactly (it never exceeds
/// `tau + t`, a minute or so), where a time since 1970 in nanoseconds would not fit.
///
/// Refused when `ahead > tau` (governor's `t0 < tat - tau`): `{0, 0, ahead - tau}`, the wait
/// in nanoseconds, nothing stored. Else the TAT moves `t` further, and
/// `{1, floor((tau + t - ahead') / t), 0}`: the remaining burst capacity as governor's
/// `StateSnapshot::remaining_burst_capacity` computes it.
const GCRA: &str = r"
local t = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local now_s, now_us
if ARGV[3] then
  now_s, now_us = tonumber(ARGV[3]), tonumber(ARGV[4])
else
  local now = redis.call('TIME')
  now_s, now_us = tonumber(now[1]), tonumber(now[2])
end
local now_ns = now_us * 1000
local ahead = 0
local tat = redis.call('GET', KEYS[1])
if tat then
  local s, ns = string.match(tat, '^(%d+) (%d+)$')
  if s then
    ahead = (tonumber(s) - now_s) * 1e9 + (tonumber(ns) - now_ns)
    if ahead < 0 then ahead = 0 end
  end
end
if ahead > tau then
  return {0, 0, ahead - tau}
end
ahead = ahead + t
local total = now_ns + ahead
local carry = math.floor(total / 1e9)
redis.call('SET', KEYS[1], string.format('%d %d', now_s + carry, total - carry * 1e9),
  'PX', math.ceil(ahead / 1e6))
local left = tau + t - ahead
local remaining = math.floor(left / t)
if (remaining + 1) * t <= left then
  remaining = remaining + 1
elseif remaining * t > left then
  remaining = remaining - 1
end
return {1, remaining, 0}
";

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(GCRA));

/// Where the keys of the buckets start: `provider-api:ratelimit:user:<uuid>`,
/// `provider-api:ratelimit:addr:<ip>`.
pub const DEFAULT_KEY_PREFIX: &str = "provider-api:ratelimit:";

/// The rate-limit buckets in Redis (`RATE_LIMIT_REDIS_URL`), shared by every API process
/// naming the same Redis: give it to [`crate::HttpSettings::rate_limit_redis`].
///
/// Nothing is connected until the first request: a Redis that is down at start delays nothing,
/// and requests are served unlimited until it answers.
pub struct RedisRateLimits {
    connection: ConnectionManager,
    runtime: Arc<OwnRuntime>,
    timeout: Duration,
    prefix: String,
}

/// Why [`RedisRateLimits::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum RedisRateLimitsError {
    /// The URL is not a Redis URL (`redis://[user:password@]host[:port][/db]`).
    #[error("RATE_LIMIT_REDIS_URL is not a usable Redis URL: {0}")]
    Url(String),
    /// The thread that talks to Redis could not be started.
    #[error("cannot start the rate-limit store's thread: {0}")]
    Thread(#[from] std::io::Error),
}

impl std::fmt::Debug for RedisRateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may hold a password.
        f.debug_struct("RedisRateLimits")
            .field("timeout", &self.timeout)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimits {
    /// `RATE_LIMIT_REDIS_TIMEOUT_MS`'s default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(50);

    /// The buckets in the Redis at `url`, each call given `timeout` before the request is
    /// served unlimited. Connects on first use, on a thread of its own.
    ///
    /// # Errors
    /// `url` is not a Redis URL; the thread cannot be started.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, RedisRateLimitsError> {
        let client =
            redis::Client::open(url).map_err(|e| RedisRateLimitsError::Url(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("rate-limit-redis")
            .enable_all()
            .build()?;
        // One attempt per reconnection: while Redis is down each attempt fails at once (and
        // requests go unlimited at once), and the first request after it is back reconnects.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(timeout.max(Duration::from_secs(1))));
        let connection = {
            // The manager spawns its tasks on the runtime it is made in: this one.
            let _inside = runtime.enter();
            ConnectionManager::new_lazy_with_config(client, config)
                .map_err(|e| RedisRateLimitsError::Url(e.to_string()))?
        };
        Ok(Self {
            connection,
            runtime: Arc::new(OwnRuntime(Some(runtime))),
            timeout,
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
        })
    }

    /// Keys start with `prefix` instead of [`DEFAULT_KEY_PREFIX`]: for tests sharing a Redis,
    /// or two deployments whose limits must not add up.
    #[must_use]
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Runs `call` on the connection, on the store's thread, within the timeout.
    async fn run<T, F>(&self, call: impl FnOnce(ConnectionManager) -> F) -> Result<T, Undecided>
    where
        F: Future<Output = redis::RedisResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let Some(runtime) = &self.runtime.0 else {
            return Err(Undecided("the store's thread is stopped".into()));
        };
        let call = call(self.connection.clone());
        let timeout = self.timeout;
        let task = runtime.spawn(async move { tokio::time::timeout(timeout, call).await });
        match task.await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(error))) => Err(Undecided(error.to_string())),
            Ok(Err(_)) => Err(Undecided(format!(
                "no answer within {} ms",
                timeout.as_millis()
            ))),
            Err(error) => Err(Undecided(error.to_string())),
        }
    }
}

/// The runtime of the store's thread, shut down without waiting when the gate goes (a runtime
/// may not be dropped, waiting, inside another's task, as in tests).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The gate's Redis limiter: the store and the GCRA of `RATE_LIMIT_PER_MINUTE`.
#[derive(Debug)]
pub(crate) struct Redis {
    store: RedisRateLimits,
    gcra: Gcra,
    /// Whether the last call decided: a change is logged, once.
    up: AtomicBool,
}

impl Redis {
    pub(crate) fn new(store: RedisRateLimits, gcra: Gcra) -> Self {
        Self {
            store,
            gcra,
            up: AtomicBool::new(true),
        }
    }

    /// Whether Redis answers a `PING` now, within the timeout.
    pub(crate) async fn health(&self) -> StoreHealth {
        let ping = self
            .store
            .run(|mut connection| async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            })
            .await;
        match self.noted(ping) {
            Ok(_) => StoreHealth::Ok,
            Err(_) => StoreHealth::Down,
        }
    }

    fn key(&self, bucket: &Bucket) -> String {
        match bucket {
            Bucket::User(user) => format!("{}user:{}", self.store.prefix, user.as_uuid()),
            Bucket::Address(address) => format!("{}addr:{address}", self.store.prefix),
        }
    }

    /// Runs the script for `bucket`, at `now` (seconds, microseconds) when given, else at
    /// Redis's time.
    async fn invoke(
        &self,
        bucket: &Bucket,
        now: Option<(u64, u32)>,
    ) -> Result<Decision, Undecided> {
        let key = self.key(bucket);
        let Gcra { t, tau } = self.gcra;
        let decided = self
            .store
            .run(move |mut connection| async move {
                let mut invocation = SCRIPT.key(key);
                invocation.arg(t).arg(tau);
                if let Some((secs, micros)) = now {
                    invocation.arg(secs).arg(micros);
                }
                invocation
                    .invoke_async::<(u8, u32, u64)>(&mut connection)
                    .await
            })
            .await;
        self.noted(decided).map(|(allowed, remaining, wait)| {
            if allowed == 1 {
                Decision::Allowed { remaining }
            } else {
                Decision::Refused {
                    wait: Duration::from_nanos(wait),
                }
            }
        })
    }

    /// `outcome`, its change from the last one logged.
    fn noted<T>(&self, outcome: Result<T, Undecided>) -> Result<T, Undecided> {
        let up = outcome.is_ok();
        if self.up.swap(up, Ordering::Relaxed) != up {
            match &outcome {
                Ok(_) => tracing::info!("the rate-limit store (Redis) answers again"),
                Err(error) => tracing::warn!(
                    %error,
                    "the rate-limit store (Redis) does not answer: requests are served without \
                     rate limits until it does"
                ),
            }
        }
        outcome
    }

    /// The script at a given time: tests compare it with governor on the same clock.
    #[cfg(test)]
    pub(crate) async fn check_at(
        &self,
        bucket: &Bucket,
        now: (u64, u32),
    ) -> Result<Decision, Undecided> {
        self.invoke(bucket, Some(now)).await
    }
}

impl RateLimiter for Redis {
    fn check(&self, bucket: &Bucket) -> impl Future<Output = Result<Decision, Undecided>> + Send {
        self.invoke(bucket, None)
    }
}
