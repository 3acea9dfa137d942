//! The gate: what a request passes before it reaches a handler, in this order: load shedding
//! (`crate::middleware::load_shedding`), identity (`crate::identity`; a bad credential is 401),
//! then the caller's rate limit (`crate::middleware::rate_limit`). The probes and the API's own
//! description are neither identified nor limited.
//!
//! One [`Gate`] is built per process and shared by every worker, so that the limits are per
//! process (or, with Redis, shared by every process naming it). It also holds what the process shares besides: the metrics registry, where
//! `GET /metrics` is served, and the read replica's probe.

use crate::dto::{RateLimitStoreState, ReadModelState, ReplicaState};
use crate::error::with_headers;
use crate::identity::{Authentication, Caller};
use crate::middleware::load_shedding::LoadShedder;
use crate::middleware::rate_limit::redis::RedisRateLimits;
use crate::middleware::rate_limit::{RateLimits, StoreHealth, EVICTION_INTERVAL};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use provider_domain::UserId;
use provider_ports::{with_read_consistency, ReadConsistency};
use provider_telemetry::Metrics;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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
    /// Where the rate-limit buckets live: `None` (the default), in this process; else in
    /// Redis, shared by every process naming it (`RATE_LIMIT_REDIS_URL`). Unused when
    /// `rate_limit_per_minute` is 0.
    pub rate_limit_redis: Option<RedisRateLimits>,
    /// Users who moderate reviews whatever their credential says (`MODERATOR_IDS`; in JWT
    /// mode the roles claim makes moderators too).
    pub moderators: HashSet<UserId>,
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
            rate_limit_redis: None,
            moderators: HashSet::new(),
        }
    }
}

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

/// The state shared by every worker: identity, the in-flight count, the rate limits, the
/// metrics, the replica probe.
#[derive(Debug, Clone)]
pub struct Gate(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    authentication: Authentication,
    moderators: HashSet<UserId>,
    shedder: LoadShedder,
    limits: RateLimits,
    metrics: Metrics,
    metrics_route: MetricsRoute,
    replica: OnceLock<ReplicaProbe>,
    read_model: OnceLock<ModelStateProbe>,
}

/// Reads the read model's state for readiness (set by the binary when the model is on).
struct ModelStateProbe(Box<dyn Fn() -> ReadModelState + Send + Sync>);

impl std::fmt::Debug for ModelStateProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelStateProbe")
    }
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
        let HttpSettings {
            authentication,
            rate_limit_per_minute,
            trust_forwarded_for,
            max_in_flight,
            rate_limit_redis,
            moderators,
        } = settings;
        let limits = RateLimits::new(
            rate_limit_per_minute,
            trust_forwarded_for,
            interval,
            rate_limit_redis,
            &metrics,
        );
        Self(Arc::new(Shared {
            authentication,
            moderators,
            shedder: LoadShedder::new(max_in_flight),
            limits,
            metrics,
            metrics_route,
            replica: OnceLock::new(),
            read_model: OnceLock::new(),
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

    /// Makes readiness report the read model's state, as `probe` tells it at each call
    /// (`"read_model": "loading" | "ready" | "stale" | "rebuilding"`; 503 while `loading`). Only
    /// the first probe set counts.
    pub fn set_read_model_probe(&self, probe: impl Fn() -> ReadModelState + Send + Sync + 'static) {
        let _ = self.0.read_model.set(ModelStateProbe(Box::new(probe)));
    }

    /// The read model's state now, when a probe is set.
    pub(crate) fn read_model_state(&self) -> Option<ReadModelState> {
        self.0.read_model.get().map(|probe| (probe.0)())
    }

    /// How many callers have a rate-limit bucket in this process right now (always 0 when the
    /// buckets are in Redis).
    pub fn tracked_callers(&self) -> usize {
        self.0.limits.tracked_callers()
    }

    /// With the buckets in Redis: whether it answers a `PING` within the timeout now
    /// (readiness reports it). `None` otherwise.
    pub(crate) async fn rate_limit_store(&self) -> Option<RateLimitStoreState> {
        self.0
            .limits
            .store_health()
            .await
            .map(|health| match health {
                StoreHealth::Ok => RateLimitStoreState::Ok,
                StoreHealth::Down => RateLimitStoreState::Down,
            })
    }

    pub(crate) fn authentication(&self) -> &Authentication {
        &self.0.authentication
    }

    /// `caller`, a moderator too when `MODERATOR_IDS` lists them.
    pub(crate) fn with_role(&self, caller: Caller) -> Caller {
        Caller(caller.0, caller.1 || self.0.moderators.contains(&caller.0))
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

/// The gate's middleware: sheds beyond `max_in_flight`, identifies the caller (401 on a bad
/// credential), charges the caller's bucket (429 when empty), and puts the `RateLimit-*`
/// headers on every answer of a limited route. The identified caller is kept in the request
/// (for the `Caller` extractor), and the handler runs with the caller's read consistency.
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
    let _place = shared.shedder.admit(&path, &shared.metrics)?;
    if unlimited(&path) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let identity = shared
        .authentication
        .identify(req.request())
        .map(|caller| caller.map(|c| gate.with_role(c)));
    let user = identity.as_ref().ok().copied().flatten();
    // A bad credential is charged too (to the client address): the 401 carries the headers.
    let headers = shared
        .limits
        .charge(req.request(), user, &shared.metrics)
        .await?;
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
