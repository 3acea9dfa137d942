//! What a request passes before it reaches a handler: load shedding (`MAX_IN_FLIGHT`), then
//! identity (who is calling; a bad credential is 401), then the caller's rate limit. One
//! [`Gate`] is built per process and shared by every worker, so the limits are per process.

use crate::dto::ReplicaState;
use crate::error::ApiError;
use crate::identity::{Authentication, Caller};
use crate::middleware::with_headers;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use provider_domain::UserId;
use provider_ports::{with_read_consistency, ReadConsistency};
use provider_telemetry::Metrics;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The settings of identity, rate limiting and load shedding.
#[derive(Debug)]
pub struct HttpSettings {
    /// How callers prove who they are.
    pub authentication: Authentication,
    /// Requests per minute per caller; 0 turns rate limiting off.
    pub rate_limit_per_minute: u32,
    /// Take the client address from the first `X-Forwarded-For` entry (behind a proxy that
    /// sets it) instead of the socket's peer.
    pub trust_forwarded_for: bool,
    /// Requests served at once before more are shed with 503.
    pub max_in_flight: usize,
}

impl HttpSettings {
    /// Default `max_in_flight`.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            authentication: Authentication::Header,
            rate_limit_per_minute: 0,
            trust_forwarded_for: false,
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Whose bucket a request is charged to: the identified user's, else the client address's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    User(UserId),
    Address(IpAddr),
}

type Limiter =
    RateLimiter<Bucket, DefaultKeyedStateStore<Bucket>, DefaultClock, StateInformationMiddleware>;

/// Idle buckets are dropped at most this often, or at once past [`MAX_TRACKED_CALLERS`].
const EVICTION_INTERVAL: Duration = Duration::from_secs(10);
/// Callers tracked before idle buckets are dropped without waiting for the interval.
const MAX_TRACKED_CALLERS: usize = 100_000;

/// Where `GET /metrics` is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsRoute {
    /// On the API's own port, beside the API.
    #[default]
    OnApiPort,
    /// Elsewhere (`METRICS_PORT`: [`crate::metrics_app`] serves it); the API answers 404.
    Elsewhere,
    /// Nowhere (`METRICS_ENABLED=false`): requests are not timed or counted and `/metrics`
    /// answers 404. The rate-limited and shed counters still count (they cost nothing until
    /// a request is refused).
    Off,
}

/// The state shared by every worker: settings, the rate limiter, the in-flight count, the
/// metrics.
#[derive(Debug, Clone)]
pub struct Gate(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    settings: HttpSettings,
    limiter: Option<Limiter>,
    in_flight: AtomicUsize,
    /// Milliseconds since `started` at the last eviction of idle buckets.
    evicted_at_ms: AtomicU64,
    eviction_interval: Duration,
    started: Instant,
    metrics: Metrics,
    metrics_route: MetricsRoute,
    replica: OnceLock<ReplicaProbe>,
}

/// Reads the read replica's state for readiness (set by the binary when it routes reads).
struct ReplicaProbe(Box<dyn Fn() -> ReplicaState + Send + Sync>);

impl std::fmt::Debug for ReplicaProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplicaProbe")
    }
}

impl Gate {
    /// A gate with these settings and a registry of its own, `/metrics` on the API's port.
    /// Build one per process and give every worker a clone.
    pub fn new(settings: HttpSettings) -> Self {
        Self::with_eviction_interval(settings, EVICTION_INTERVAL)
    }

    /// A gate recording into `metrics` (shared with the store's decorator) and serving
    /// `/metrics` as `route` says.
    pub fn observed(settings: HttpSettings, metrics: Metrics, route: MetricsRoute) -> Self {
        Self::build(settings, EVICTION_INTERVAL, metrics, route)
    }

    /// Like [`Gate::new`], dropping idle rate-limit buckets at most every `interval` (the
    /// default is 10 s; tests shorten it).
    pub fn with_eviction_interval(settings: HttpSettings, interval: Duration) -> Self {
        Self::build(settings, interval, Metrics::new(), MetricsRoute::OnApiPort)
    }

    fn build(
        settings: HttpSettings,
        interval: Duration,
        metrics: Metrics,
        metrics_route: MetricsRoute,
    ) -> Self {
        let limiter = NonZeroU32::new(settings.rate_limit_per_minute)
            .map(|n| RateLimiter::keyed(Quota::per_minute(n)).with_middleware());
        Self(Arc::new(Shared {
            settings,
            limiter,
            in_flight: AtomicUsize::new(0),
            evicted_at_ms: AtomicU64::new(0),
            eviction_interval: interval,
            started: Instant::now(),
            metrics,
            metrics_route,
            replica: OnceLock::new(),
        }))
    }

    /// The metrics this gate and the app record into.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Where `/metrics` is served.
    pub fn metrics_route(&self) -> MetricsRoute {
        self.0.metrics_route
    }

    /// Makes readiness report the read replica's state, as `probe` tells it at each call
    /// (`GET /v1_0/health/ready` answers `"replica": "ok" | "lagging" | "down"`). Only the
    /// first probe set counts.
    pub fn set_replica_probe(&self, probe: impl Fn() -> ReplicaState + Send + Sync + 'static) {
        // A second probe is ignored: one store per process.
        let _ = self.0.replica.set(ReplicaProbe(Box::new(probe)));
    }

    /// The read replica's state now, when a probe is set.
    pub(crate) fn replica_state(&self) -> Option<ReplicaState> {
        self.0.replica.get().map(|probe| (probe.0)())
    }

    /// How many callers have a rate-limit bucket right now.
    pub fn tracked_callers(&self) -> usize {
        self.0.limiter.as_ref().map_or(0, Limiter::len)
    }

    pub(crate) fn authentication(&self) -> &Authentication {
        &self.0.settings.authentication
    }

    /// Drops the buckets of callers whose bucket is full again (they are indistinguishable
    /// from new ones), when the interval has passed or too many callers are tracked.
    fn evict_idle(&self, limiter: &Limiter) {
        let shared = &self.0;
        let now = u64::try_from(shared.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = shared.evicted_at_ms.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= shared.eviction_interval.as_millis() as u64;
        if (due || limiter.len() > MAX_TRACKED_CALLERS)
            && shared
                .evicted_at_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new(HttpSettings::default())
    }
}

/// Routes that are never rate limited or identified: probes, the API's own description.
pub(crate) fn unlimited(path: &str) -> bool {
    matches!(
        path,
        "/v1_0/health" | "/v1_0/health/ready" | "/v1_0/openapi.json" | "/metrics"
    ) || path == "/docs"
        || path.starts_with("/docs/")
}

/// Routes that are never shed: the probes an orchestrator relies on during an overload.
pub(crate) fn never_shed(path: &str) -> bool {
    matches!(path, "/v1_0/health" | "/v1_0/health/ready" | "/metrics")
}

/// Holds a place among the requests in flight until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The gate's middleware: sheds beyond `max_in_flight`, identifies the caller (401 on a bad
/// credential), charges the caller's bucket (429 when empty), and puts the `RateLimit-*`
/// headers on every answer of a limited route.
pub(crate) async fn gate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(gate) = req
        .app_data::<web::Data<Gate>>()
        .map(|d| d.get_ref().clone())
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let shared = &gate.0;
    let path = req.path().to_owned();
    let _place = if never_shed(&path) {
        None
    } else {
        let place = InFlight(&shared.in_flight);
        if shared.in_flight.fetch_add(1, Ordering::AcqRel) >= shared.settings.max_in_flight {
            drop(place);
            shared.metrics.shed();
            return Err(ApiError::Overloaded.into());
        }
        Some(place)
    };
    if unlimited(&path) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let identity = shared.settings.authentication.identify(req.request());
    let user = identity.as_ref().ok().copied().flatten();
    let mut headers = Vec::new();
    if let Some(limiter) = &shared.limiter {
        gate.evict_idle(limiter);
        let key = user.map_or_else(
            || {
                Bucket::Address(client_address(
                    req.request(),
                    shared.settings.trust_forwarded_for,
                ))
            },
            |caller| Bucket::User(caller.0),
        );
        let limit = shared.settings.rate_limit_per_minute;
        match limiter.check_key(&key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                headers = rate_limit_headers(limit, remaining);
            }
            Err(refused) => {
                shared.metrics.rate_limited();
                let wait = refused.wait_time_from(limiter.clock().now());
                let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let error = ApiError::RateLimited {
                    retry_after_secs: retry_after.max(1),
                };
                return Err(with_headers(error.into(), rate_limit_headers(limit, 0)));
            }
        }
    }
    let user = match identity {
        Ok(user) => user,
        Err(error) => return Err(with_headers(error.into(), headers)),
    };
    if let Some(caller) = user {
        req.extensions_mut().insert::<Caller>(caller);
    }
    // An identified caller must see their own writes whichever replica of the API they reach
    // next; an anonymous one may read data a bounded time old (a lagging database replica).
    let consistency = if user.is_some() {
        ReadConsistency::ReadYourWrites
    } else {
        ReadConsistency::BoundedStaleness
    };
    let outcome = with_read_consistency(consistency, next.call(req)).await;
    match outcome {
        Ok(mut response) => {
            for (name, value) in headers {
                response.headers_mut().insert(name, value);
            }
            Ok(response.map_into_boxed_body())
        }
        Err(error) => Err(with_headers(error, headers)),
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
