//! [`Metrics`]: the registry the app owns, every series it exports, and their exposition.

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const REQUEST_DURATION: &str = "http_server_request_duration_seconds";
const ACTIVE_REQUESTS: &str = "http_server_active_requests";
const RATE_LIMITED: &str = "http_server_rate_limited_total";
const SHED: &str = "http_server_shed_total";
const RATE_LIMIT_STORE_ERRORS: &str = "http_server_rate_limit_store_errors_total";
const POOL_CONNECTIONS: &str = "db_pool_connections";
const POOL_WAITING: &str = "db_pool_waiting";
const STORE_DURATION: &str = "store_operation_duration_seconds";
const BUILD_INFO: &str = "provider_api_build_info";
const READS: &str = "db_reads_total";
const REPLICA_LAG: &str = "db_replica_lag_seconds";
const REPLICA_STATE: &str = "db_replica_state";
const MODEL_STATE: &str = "read_model_state";
const MODEL_PROVIDERS: &str = "read_model_providers";
const MODEL_LAG: &str = "read_model_lag_seconds";
const MODEL_READS: &str = "read_model_reads_total";
const MODEL_REBUILDS: &str = "read_model_rebuilds_total";
const MODEL_LOAD: &str = "read_model_load_seconds";
const RELAY_PUBLISHED: &str = "events_relay_published_total";
const RELAY_FAILURES: &str = "events_relay_failures_total";
const RELAY_LAST: &str = "events_relay_last_sequence";
const QUEUE_SIZE: &str = "moderation_queue_size";
const DECISIONS: &str = "moderation_decisions_total";
const FLAGS: &str = "review_flags_total";
/// The reasons of `review_flags_total` (the contract's flag reasons).
const FLAG_REASONS: [&str; 6] = [
    "spam",
    "offensive",
    "fake",
    "personal_data",
    "illegal",
    "other",
];

/// Every series the server can export, with its help text (also what `docs/OPERATIONS.md`
/// lists and what the Grafana dashboard may query).
pub const SERIES: &[(&str, &str)] = &[
    (
        REQUEST_DURATION,
        "Time from a request's arrival to its response, by method, route template and status.",
    ),
    (ACTIVE_REQUESTS, "Requests being served right now."),
    (
        RATE_LIMITED,
        "Requests refused with 429 because the caller's rate limit was spent.",
    ),
    (
        SHED,
        "Requests refused with 503 because MAX_IN_FLIGHT requests were already being served.",
    ),
    (
        RATE_LIMIT_STORE_ERRORS,
        "Requests served without a rate limit because the shared rate-limit store (Redis) failed or did not answer within RATE_LIMIT_REDIS_TIMEOUT_MS.",
    ),
    (
        POOL_CONNECTIONS,
        "Connections of the PostgreSQL pool, idle or in use.",
    ),
    (
        POOL_WAITING,
        "Requests waiting for a PostgreSQL pool connection.",
    ),
    (
        STORE_DURATION,
        "Time of each store operation at the repository port, by operation.",
    ),
    (
        BUILD_INFO,
        "Always 1; the labels name the running version and its commit.",
    ),
    (
        READS,
        "Store reads served, by target: the primary or the read replica (with DATABASE_READ_URL).",
    ),
    (
        REPLICA_LAG,
        "How old the read replica's data may be (NaN while it is down or has not caught up).",
    ),
    (
        REPLICA_STATE,
        "1 for the read replica's state now (ok, lagging or down), 0 for the others.",
    ),
    (
        MODEL_STATE,
        "1 for the read model's state now (loading, ready, stale or rebuilding), 0 for the others (with READ_MODEL=memory).",
    ),
    (MODEL_PROVIDERS, "Providers held by the read model."),
    (
        MODEL_LAG,
        "How old the newest store position the read model holds is (NaN before it first loads).",
    ),
    (
        MODEL_READS,
        "Reads of get, search and recommend, by who answered: the read model (model) or the store (store: the model was not ready or did not catch up in time).",
    ),
    (
        MODEL_REBUILDS,
        "Snapshots the read model loaded again after falling behind the change feed, or after its catch-ups kept failing for 30 s.",
    ),
    (MODEL_LOAD, "How long the read model's last snapshot took to load."),
    (
        RELAY_PUBLISHED,
        "Change feed events this process stored in the NATS JetStream stream (with EVENTS_NATS_URL).",
    ),
    (
        RELAY_FAILURES,
        "Relay steps that failed and were retried (NATS or the feed unavailable, or another process published first).",
    ),
    (
        RELAY_LAST,
        "The change feed sequence of the stream's last message, as this process's relay last knew it.",
    ),
    (
        QUEUE_SIZE,
        "Reviews waiting in the moderation queue (read from the store every few seconds).",
    ),
    (
        DECISIONS,
        "Moderation decisions, by action (hold, publish, hide) and whether automated (the screen's or flags' holds).",
    ),
    (FLAGS, "Flags raised on reviews, by reason."),
];

/// Upper bounds of every histogram's buckets, in seconds: 0.5 ms to 10 s.
pub const HISTOGRAM_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` label of a request that matched no route: never the raw path.
pub const UNMATCHED_ROUTE: &str = "unmatched";

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The PostgreSQL pool's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolFigures {
    /// Connections open and not lent out.
    pub idle: usize,
    /// Connections lent out to a request.
    pub in_use: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

type PoolProbe = Box<dyn Fn() -> PoolFigures + Send + Sync>;

/// Where the store's reads went, and its read replica's lag and state, at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ReadFigures {
    /// Reads served by the primary since the start.
    pub primary: u64,
    /// Reads served by the replica since the start.
    pub replica: u64,
    /// How old the replica's data may be, when known.
    pub replica_lag: Option<Duration>,
    /// `ok`, `lagging` or `down`.
    pub replica_state: &'static str,
}

type ReadProbe = Box<dyn Fn() -> ReadFigures + Send + Sync>;

/// The read model's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelMetrics {
    /// `loading`, `ready`, `stale` or `rebuilding`.
    pub state: &'static str,
    /// Providers held.
    pub providers: u64,
    /// How old its newest position is, once loaded.
    pub lag: Option<Duration>,
    /// Reads it answered since the start.
    pub served_by_model: u64,
    /// Reads sent to the store since the start.
    pub served_by_store: u64,
    /// Snapshots loaded after the first.
    pub rebuilds: u64,
    /// How long the last snapshot took to load.
    pub last_load: Option<Duration>,
}

type ModelProbe = Box<dyn Fn() -> Option<ModelMetrics> + Send + Sync>;

/// The events relay's figures at one moment (see `provider-events-nats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayMetrics {
    /// Events this process stored in the stream.
    pub published: u64,
    /// Steps that failed and were retried.
    pub failures: u64,
    /// The feed sequence of the stream's last message, as last known.
    pub last_sequence: u64,
}

type RelayProbe = Box<dyn Fn() -> RelayMetrics + Send + Sync>;

/// The metrics of one server process. Cheap to clone (clones share the registry); build one
/// per process and hand clones to the HTTP layer and the [`crate::ObservedStore`].
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    pool: RwLock<Option<PoolProbe>>,
    reads: RwLock<Option<ReadProbe>>,
    model: RwLock<Option<ModelProbe>>,
    relay: RwLock<Option<RelayProbe>>,
    // Handles registered once and reused: a registry lookup builds a key (label vector, label
    // strings) on every call, which on a GET is a measurable share of the request's cost.
    active: metrics::Gauge,
    rate_limited: metrics::Counter,
    shed: metrics::Counter,
    /// Registered only when the rate limits live in a shared store: without one the series
    /// is not exported.
    rate_limit_store_errors: OnceLock<metrics::Counter>,
    store: RwLock<HashMap<&'static str, metrics::Histogram>>,
    requests: RwLock<HashMap<RequestKey, metrics::Histogram>>,
}

/// The labels of one `http_server_request_duration_seconds` series. Bounded: known methods,
/// route templates (or `unmatched`) and status codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RequestKey {
    method: &'static str,
    route: String,
    status: u16,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("pool_probe", &self.0.pool.read().is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A new registry: every series described, the counters and the active-requests gauge
    /// present at 0 from the start.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), HISTOGRAM_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        for (name, help) in SERIES {
            let name = metrics::KeyName::from(*name);
            let help = metrics::SharedString::from(*help);
            match name.as_str() {
                REQUEST_DURATION | STORE_DURATION => {
                    recorder.describe_histogram(name, None, help);
                }
                RATE_LIMITED
                | SHED
                | READS
                | RATE_LIMIT_STORE_ERRORS
                | DECISIONS
                | FLAGS
                | MODEL_READS
                | MODEL_REBUILDS
                | RELAY_PUBLISHED
                | RELAY_FAILURES => recorder.describe_counter(name, None, help),
                _ => recorder.describe_gauge(name, None, help),
            }
        }
        let counter = |name| recorder.register_counter(&Key::from_static_name(name), &METADATA);
        let (rate_limited, shed) = (counter(RATE_LIMITED), counter(SHED));
        let active = recorder.register_gauge(&Key::from_static_name(ACTIVE_REQUESTS), &METADATA);
        rate_limited.absolute(0);
        shed.absolute(0);
        active.set(0.0);
        // Moderation's series at 0 from the start too, so that `rate()` and dashboards work
        // before the first flag or decision.
        for (action, automated) in [("hold", "true"), ("publish", "false"), ("hide", "false")] {
            let labels = vec![
                Label::new("action", action),
                Label::new("automated", automated),
            ];
            recorder
                .register_counter(&Key::from_parts(DECISIONS, labels), &METADATA)
                .absolute(0);
        }
        for reason in FLAG_REASONS {
            recorder
                .register_counter(
                    &Key::from_parts(FLAGS, vec![Label::new("reason", reason)]),
                    &METADATA,
                )
                .absolute(0);
        }
        recorder
            .register_gauge(&Key::from_static_name(QUEUE_SIZE), &METADATA)
            .set(0.0);
        Self(Arc::new(Inner {
            recorder,
            handle,
            pool: RwLock::new(None),
            reads: RwLock::new(None),
            model: RwLock::new(None),
            relay: RwLock::new(None),
            active,
            rate_limited,
            shed,
            rate_limit_store_errors: OnceLock::new(),
            store: RwLock::default(),
            requests: RwLock::default(),
        }))
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>) -> metrics::Gauge {
        self.0
            .recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
    }

    /// Counts a request as active until the returned guard is dropped.
    pub fn request_started(&self) -> ActiveRequest {
        self.0.active.increment(1.0);
        ActiveRequest(self.0.active.clone())
    }

    /// Records a served request. `method` and `route` must not be user input: the HTTP layer
    /// passes a known method name (or `_OTHER`) and the matched route template (or
    /// [`UNMATCHED_ROUTE`]).
    pub fn record_request(
        &self,
        method: &'static str,
        route: String,
        status: u16,
        elapsed: Duration,
    ) {
        let key = RequestKey {
            method,
            route,
            status,
        };
        let histogram = cached(&self.0.requests, key, |key| {
            let labels = vec![
                Label::new("method", key.method),
                Label::new("route", key.route.clone()),
                Label::new("status", key.status.to_string()),
            ];
            self.0
                .recorder
                .register_histogram(&Key::from_parts(REQUEST_DURATION, labels), &METADATA)
        });
        histogram.record(elapsed.as_secs_f64());
    }

    /// Counts a request refused by the rate limiter.
    pub fn rate_limited(&self) {
        self.0.rate_limited.increment(1);
    }

    /// Counts a request shed because too many were in flight.
    pub fn shed(&self) {
        self.0.shed.increment(1);
    }

    /// Exports `http_server_rate_limit_store_errors_total`, at 0 until a request is counted: the
    /// HTTP layer calls it when the rate limits live in a shared store (`RATE_LIMIT_REDIS_URL`).
    pub fn rate_limit_store_configured(&self) {
        self.rate_limit_store_errors().absolute(0);
    }

    /// Counts a request served without a rate limit because the shared rate-limit store failed
    /// or did not answer in time.
    pub fn rate_limit_store_error(&self) {
        self.rate_limit_store_errors().increment(1);
    }

    fn rate_limit_store_errors(&self) -> &metrics::Counter {
        self.0.rate_limit_store_errors.get_or_init(|| {
            self.0
                .recorder
                .register_counter(&Key::from_static_name(RATE_LIMIT_STORE_ERRORS), &METADATA)
        })
    }

    /// Records how long the store operation `operation` took.
    pub fn store_operation(&self, operation: &'static str, elapsed: Duration) {
        let histogram = cached(&self.0.store, operation, |operation| {
            let labels = vec![Label::new("operation", *operation)];
            self.0
                .recorder
                .register_histogram(&Key::from_parts(STORE_DURATION, labels), &METADATA)
        });
        histogram.record(elapsed.as_secs_f64());
    }

    /// Sets `moderation_queue_size` to what the store counts.
    pub fn set_moderation_queue_size(&self, size: u64) {
        self.gauge(QUEUE_SIZE, vec![]).set(size as f64);
    }

    /// Counts a moderation decision: `action` is `hold`, `publish` or `hide`.
    pub fn moderation_decision(&self, action: &'static str, automated: bool) {
        let labels = vec![
            Label::new("action", action),
            Label::new("automated", if automated { "true" } else { "false" }),
        ];
        self.0
            .recorder
            .register_counter(&Key::from_parts(DECISIONS, labels), &METADATA)
            .increment(1);
    }

    /// Counts a flag raised for `reason`.
    pub fn review_flag(&self, reason: &'static str) {
        let labels = vec![Label::new("reason", reason)];
        self.0
            .recorder
            .register_counter(&Key::from_parts(FLAGS, labels), &METADATA)
            .increment(1);
    }

    /// Sets `provider_api_build_info{version, commit} 1`.
    pub fn set_build_info(&self, version: &'static str, commit: &'static str) {
        self.gauge(
            BUILD_INFO,
            vec![Label::new("version", version), Label::new("commit", commit)],
        )
        .set(1.0);
    }

    /// Reads the PostgreSQL pool's figures from `probe` at every scrape, exporting
    /// `db_pool_connections` and `db_pool_waiting` (never set on the memory store).
    pub fn set_pool_probe(&self, probe: impl Fn() -> PoolFigures + Send + Sync + 'static) {
        *self.0.pool.write() = Some(Box::new(probe));
    }

    /// Reads the store's read routing figures from `probe` at every scrape, exporting
    /// `db_reads_total`, `db_replica_lag_seconds` and `db_replica_state` (only set with a read
    /// replica).
    pub fn set_read_probe(&self, probe: impl Fn() -> ReadFigures + Send + Sync + 'static) {
        *self.0.reads.write() = Some(Box::new(probe));
    }

    /// Reads the read model's figures from `probe` at every scrape, exporting the
    /// `read_model_*` series (only set with `READ_MODEL=memory`; `None` from the probe exports
    /// nothing).
    pub fn set_model_probe(
        &self,
        probe: impl Fn() -> Option<ModelMetrics> + Send + Sync + 'static,
    ) {
        *self.0.model.write() = Some(Box::new(probe));
    }

    fn render_model(&self) {
        let Some(figures) = self.0.model.read().as_ref().and_then(|probe| probe()) else {
            return;
        };
        for state in ["loading", "ready", "stale", "rebuilding"] {
            self.gauge(MODEL_STATE, vec![Label::new("state", state)])
                .set(f64::from(u8::from(state == figures.state)));
        }
        self.gauge(MODEL_PROVIDERS, vec![])
            .set(figures.providers as f64);
        self.gauge(MODEL_LAG, vec![])
            .set(figures.lag.map_or(f64::NAN, |lag| lag.as_secs_f64()));
        self.gauge(MODEL_LOAD, vec![]).set(
            figures
                .last_load
                .map_or(f64::NAN, |took| took.as_secs_f64()),
        );
        let counter = |name: &'static str, labels: Vec<Label>| {
            self.0
                .recorder
                .register_counter(&Key::from_parts(name, labels), &METADATA)
        };
        counter(MODEL_READS, vec![Label::new("served_by", "model")])
            .absolute(figures.served_by_model);
        counter(MODEL_READS, vec![Label::new("served_by", "store")])
            .absolute(figures.served_by_store);
        counter(MODEL_REBUILDS, vec![]).absolute(figures.rebuilds);
    }

    /// Reads the events relay's figures from `probe` at every scrape, exporting the
    /// `events_relay_*` series (only set with `EVENTS_NATS_URL`).
    pub fn set_relay_probe(&self, probe: impl Fn() -> RelayMetrics + Send + Sync + 'static) {
        *self.0.relay.write() = Some(Box::new(probe));
    }

    fn render_relay(&self) {
        let Some(figures) = self.0.relay.read().as_ref().map(|probe| probe()) else {
            return;
        };
        let counter = |name: &'static str| {
            self.0
                .recorder
                .register_counter(&Key::from_static_name(name), &METADATA)
        };
        counter(RELAY_PUBLISHED).absolute(figures.published);
        counter(RELAY_FAILURES).absolute(figures.failures);
        self.gauge(RELAY_LAST, vec![])
            .set(figures.last_sequence as f64);
    }

    fn render_reads(&self) {
        let Some(probe) = self.0.reads.read().as_ref().map(|probe| probe()) else {
            return;
        };
        let reads = |target: &'static str| {
            self.0.recorder.register_counter(
                &Key::from_parts(READS, vec![Label::new("target", target)]),
                &METADATA,
            )
        };
        reads("primary").absolute(probe.primary);
        reads("replica").absolute(probe.replica);
        self.gauge(REPLICA_LAG, vec![])
            .set(probe.replica_lag.map_or(f64::NAN, |lag| lag.as_secs_f64()));
        for state in ["ok", "lagging", "down"] {
            self.gauge(REPLICA_STATE, vec![Label::new("state", state)])
                .set(f64::from(u8::from(state == probe.replica_state)));
        }
    }

    /// The exposition, Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        if let Some(probe) = self.0.pool.read().as_ref() {
            let figures = probe();
            let state = |s: &'static str| vec![Label::new("state", s)];
            self.gauge(POOL_CONNECTIONS, state("idle"))
                .set(figures.idle as f64);
            self.gauge(POOL_CONNECTIONS, state("in_use"))
                .set(figures.in_use as f64);
            self.gauge(POOL_WAITING, vec![]).set(figures.waiting as f64);
        }
        self.render_reads();
        self.render_model();
        self.render_relay();
        self.0.handle.render()
    }

    /// Drains the histograms' pending samples into their buckets; call it every few seconds so
    /// that memory stays bounded between scrapes.
    pub fn run_upkeep(&self) {
        self.0.handle.run_upkeep();
    }
}

/// The histogram `cache` holds for `key`, registered with `register` the first time.
fn cached<K: Hash + Eq>(
    cache: &RwLock<HashMap<K, metrics::Histogram>>,
    key: K,
    register: impl FnOnce(&K) -> metrics::Histogram,
) -> metrics::Histogram {
    if let Some(histogram) = cache.read().get(&key) {
        return histogram.clone();
    }
    cache
        .write()
        .entry(key)
        .or_insert_with_key(register)
        .clone()
}

/// A request counted in `http_server_active_requests` until dropped.
#[derive(Debug)]
pub struct ActiveRequest(metrics::Gauge);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_registry_exports_the_counters_and_the_gauge_at_zero() {
        let text = Metrics::new().render();
        for line in [
            "http_server_rate_limited_total 0",
            "http_server_shed_total 0",
            "http_server_active_requests 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
        }
    }

    #[test]
    fn the_rate_limit_store_errors_are_exported_only_once_a_store_is_configured() {
        let metrics = Metrics::new();
        assert!(!metrics.render().contains(RATE_LIMIT_STORE_ERRORS));
        metrics.rate_limit_store_configured();
        let text = metrics.render();
        assert!(
            text.lines()
                .any(|l| l == "http_server_rate_limit_store_errors_total 0"),
            "{text}"
        );
        assert!(text.contains("# HELP http_server_rate_limit_store_errors_total Requests served without a rate limit"), "{text}");
        metrics.rate_limit_store_error();
        metrics.rate_limit_store_error();
        assert!(metrics
            .render()
            .lines()
            .any(|l| l == "http_server_rate_limit_store_errors_total 2"));
    }

    #[test]
    fn two_registries_do_not_share_figures() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.shed();
        assert!(a.render().contains("http_server_shed_total 1"));
        assert!(b.render().contains("http_server_shed_total 0"));
    }

    #[test]
    fn pool_figures_are_read_at_each_render() {
        let metrics = Metrics::new();
        assert!(!metrics.render().contains("db_pool"));
        metrics.set_pool_probe(|| PoolFigures {
            idle: 3,
            in_use: 2,
            waiting: 1,
        });
        let text = metrics.render();
        assert!(
            text.contains("db_pool_connections{state=\"idle\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("db_pool_connections{state=\"in_use\"} 2"),
            "{text}"
        );
        assert!(text.contains("db_pool_waiting 1"), "{text}");
    }

    #[test]
    fn read_figures_are_read_at_each_render() {
        let metrics = Metrics::new();
        assert!(!metrics.render().contains("db_reads_total"));
        metrics.set_read_probe(|| ReadFigures {
            primary: 7,
            replica: 40,
            replica_lag: Some(Duration::from_millis(250)),
            replica_state: "lagging",
        });
        let text = metrics.render();
        for line in [
            "db_reads_total{target=\"primary\"} 7",
            "db_reads_total{target=\"replica\"} 40",
            "db_replica_lag_seconds 0.25",
            "db_replica_state{state=\"lagging\"} 1",
            "db_replica_state{state=\"ok\"} 0",
            "db_replica_state{state=\"down\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
