//! `provider-api`: the Service Provider API binary. Reads the configuration, picks the store,
//! and serves the HTTP API.

mod config;
mod error;
mod listen;
mod seed;

use clap::Parser;
use config::{
    Cli, Command, Common, ExplainArgs, ExplainKind, LogFormat, ReadModelSetting, ServeArgs,
};
use error::ServerError;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use provider_http::{Metrics, MetricsRoute, ReadModelState, ReplicaState};
use provider_memory_adapter::MemoryStore;
use provider_ports::{
    ChangeFeed, IdempotencyRepository, ProviderRepository, ProviderService, ReviewRepository,
};
use provider_postgres_adapter::{PgStore, ReplicaHealth};
use provider_read_model::{ModelSettings, ModelState, ReadModel};
use provider_telemetry::{ModelMetrics, ObservedStore, PoolFigures, ReadFigures, RelayMetrics};
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// mimalloc, not the system's malloc: a search page of 100 providers makes a few thousand
/// small allocations, and glibc's malloc kept the read model's freed load buffers (over 100 MB
/// at a million providers) resident for the life of the process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let traces = match init_tracing(cli.common.log_format) {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("provider-api: cannot build the OTLP exporter: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _reports = init_error_reports();
    let result = match cli
        .command
        .clone()
        .unwrap_or_else(|| Command::Serve(Box::default()))
    {
        Command::Serve(args) => serve(&cli.common, &args),
        Command::Migrate => migrate(&cli.common),
        Command::Seed(args) => seed(&cli.common, &args),
        Command::Explain(args) => explain(&cli.common, &args),
    };
    // Sends the spans still batched.
    if let Some(Err(error)) = traces.map(|traces| traces.shutdown()) {
        eprintln!("provider-api: exporting the last spans failed: {error}");
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = error::report(&error);
            tracing::error!("{message}");
            eprintln!("provider-api: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stdout; `RUST_LOG` filters them (default `info`). The http crate logs one line per
/// request, inside the request's span, so the request id and the trace id are on it.
///
/// Every request has a trace id on its log lines: the caller's, from a W3C `traceparent`
/// header (read through the global [`TraceContextPropagator`]), else a new one. Spans are
/// OpenTelemetry spans, exported over OTLP/HTTP, only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set
/// (the exporter reads it and the other `OTEL_EXPORTER_OTLP_*` variables itself); unset, no
/// exporter and no OpenTelemetry layer are built, nothing leaves the process and the spans cost
/// what log spans cost. The tracer provider is returned when there is one, to be shut down
/// (sending the spans still batched) before the process ends.
///
/// # Errors
/// The exporter cannot be built from its settings.
fn init_tracing(
    format: LogFormat,
) -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;

    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let traces = if exporting_traces() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name("provider-api")
            .build();
        Some(
            SdkTracerProvider::builder()
                .with_resource(resource)
                .with_batch_exporter(exporter)
                .build(),
        )
    } else {
        None
    };
    // The spans of a request, its store operations and their SQL statements are exported
    // whatever RUST_LOG says; other crates' spans (the exporter's own HTTP client among them)
    // never become trace spans.
    let otel = traces.as_ref().map(|traces| {
        tracing_opentelemetry::layer()
            .with_tracer(traces.tracer("provider-api"))
            .with_filter(
                Targets::new()
                    .with_target("provider_http", LevelFilter::INFO)
                    .with_target("provider_telemetry", LevelFilter::DEBUG)
                    .with_target("provider_postgres_adapter", LevelFilter::DEBUG),
            )
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = match format {
        // The request's fields are under `span` (the current span); the list of every
        // enclosing span would repeat them in each line, at a cost per line close to the
        // rest of the line's.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().boxed(),
    };
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(otel)
        .init();
    Ok(traces)
}

/// Whether spans are exported: `OTEL_EXPORTER_OTLP_ENDPOINT` is set and not empty.
fn exporting_traces() -> bool {
    std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.trim().is_empty())
}

/// With `SENTRY_DSN` set, a Sentry client for the process: the http crate reports every 500,
/// 503 and panic of a request through it, tagged with the request id, trace id, method, route
/// template and status; the release is `provider-api@<version>+<commit>`. No integration that
/// reads requests, the environment or panics by itself is enabled. Unset (or empty), none.
/// Reports still queued are sent when the returned guard drops.
fn init_error_reports() -> Option<sentry::ClientInitGuard> {
    let dsn = std::env::var("SENTRY_DSN")
        .ok()
        .filter(|d| !d.trim().is_empty())?;
    let dsn = match dsn.parse() {
        Ok(dsn) => dsn,
        Err(error) => {
            // Never echo the DSN: it holds the project's key.
            tracing::error!(%error, "SENTRY_DSN is not a valid DSN: error reports are off");
            return None;
        }
    };
    let mut options = sentry::ClientOptions::new();
    options.dsn = Some(dsn);
    options.release = Some(
        concat!(
            "provider-api@",
            env!("CARGO_PKG_VERSION"),
            "+",
            env!("PROVIDER_API_COMMIT")
        )
        .into(),
    );
    options.send_default_pii = false;
    options.server_name = None;
    let guard = sentry::init(options);
    tracing::info!("error reports are sent to Sentry");
    Some(guard)
}

fn runtime() -> Result<tokio::runtime::Runtime, ServerError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)
}

/// The name of `health` for the metrics, and for readiness.
fn replica_state(health: ReplicaHealth) -> (&'static str, ReplicaState) {
    match health {
        ReplicaHealth::Ok => ("ok", ReplicaState::Ok),
        ReplicaHealth::Lagging => ("lagging", ReplicaState::Lagging),
        ReplicaHealth::Down => ("down", ReplicaState::Down),
    }
}

/// `DATABASE_URL`, which `command` cannot do without.
fn database_url<'a>(common: &'a Common, command: &'static str) -> Result<&'a str, ServerError> {
    common
        .database_url
        .as_deref()
        .ok_or(ServerError::NoDatabaseUrl { command })
}

fn serve(common: &Common, args: &ServeArgs) -> Result<(), ServerError> {
    // Refuse to start on unusable security settings before touching the database.
    let settings = args.http_settings().map_err(ServerError::Security)?;
    let cursor_key = cursor_key(args.cursor_secret.as_deref())?;
    let moderation = args
        .moderation_settings()
        .map_err(ServerError::Moderation)?;
    let metrics = Metrics::new();
    metrics.set_build_info(env!("CARGO_PKG_VERSION"), env!("PROVIDER_API_COMMIT"));
    let route = match (args.metrics_enabled, args.metrics_port) {
        (false, port) => {
            if port.is_some() {
                tracing::warn!("METRICS_PORT is ignored: METRICS_ENABLED=false");
            }
            MetricsRoute::Off
        }
        (true, Some(_)) => MetricsRoute::Elsewhere,
        (true, None) => MetricsRoute::OnApiPort,
    };
    let recorded = args.metrics_enabled.then_some(&metrics);
    let gate = provider_http::Gate::observed(settings, metrics.clone(), route);
    runtime()?.block_on(async {
        let service = build_service(common, args, recorded, &gate)
            .await?
            .with_cursor_key(cursor_key)
            .with_moderation(moderation);
        if let Some(metrics) = recorded {
            watch_queue(service.clone(), metrics.clone());
        }
        purge_events(
            service.clone(),
            time::Duration::days(i64::from(args.events_retention_days)),
        );
        let relay = relay_events(&service, args, recorded);
        let served = run_http(service, gate, args).await;
        if let Some(relay) = relay {
            relay.abort();
        }
        served
    })
}

/// Fewest bytes of `CURSOR_SECRET`: as many as the HMAC's hash gives, so that guessing the
/// secret is no easier than forging a tag.
const MIN_CURSOR_SECRET_BYTES: usize = 32;

/// The key cursors are signed with: derived from `CURSOR_SECRET`, else drawn at start.
fn cursor_key(secret: Option<&str>) -> Result<provider_ports::CursorKey, ServerError> {
    match secret {
        Some(secret) if secret.len() < MIN_CURSOR_SECRET_BYTES => {
            Err(ServerError::CursorSecretTooShort {
                min: MIN_CURSOR_SECRET_BYTES,
                actual: secret.len(),
            })
        }
        Some(secret) => Ok(provider_ports::CursorKey::new(secret.as_bytes())),
        None => {
            tracing::info!(
                "CURSOR_SECRET is not set: cursors are signed with a key drawn at start, so \
                 another process, or this one after a restart, refuses them (422); set the \
                 same secret in every process that serves one deployment"
            );
            Ok(provider_ports::CursorKey::random())
        }
    }
}

/// How often `moderation_queue_size` is read from the store: the queue is shared by every API
/// process, so the gauge is the store's count, not this process's view.
const QUEUE_SIZE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Keeps `moderation_queue_size` current while the process runs (a failed read keeps the last
/// value; the store's outage shows in readiness and the request metrics).
fn watch_queue(service: ProviderService, metrics: Metrics) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(QUEUE_SIZE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Ok(size) = service.moderation_queue_size().await {
                metrics.set_moderation_queue_size(size);
            }
        }
    });
}

/// How often the change feed's retention purge runs (every API process runs it: each run
/// removes what the others left, so one process or many, the window holds).
const PURGE_EVENTS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the change feed's events older than `retention`, once a minute while the process
/// runs (a failed run is logged and the next one catches up).
fn purge_events(service: ProviderService, retention: time::Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVENTS_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match service
                .purge_events(time::OffsetDateTime::now_utc() - retention)
                .await
            {
                Ok(0) => {}
                Ok(removed) => {
                    tracing::info!(removed, "change feed: events past retention removed")
                }
                Err(e) => tracing::warn!(error = %e, "change feed: the retention purge failed"),
            }
        }
    });
}

/// With `EVENTS_NATS_URL`, publishes the change feed to NATS JetStream for as long as the
/// process serves. Connecting is retried in the background: the API serves whether or not NATS
/// is up, and events published late are still published in order (the relay resumes after the
/// stream's last message).
fn relay_events(
    service: &ProviderService,
    args: &ServeArgs,
    metrics: Option<&Metrics>,
) -> Option<tokio::task::JoinHandle<()>> {
    use provider_events_nats::{Relay, RelaySettings};
    let url = args.events_nats_url.clone()?;
    let Some(feed) = service.change_feed() else {
        tracing::warn!("EVENTS_NATS_URL is ignored: this store keeps no change feed");
        return None;
    };
    let mut settings = RelaySettings::new(url);
    settings.stream = args.events_nats_stream.clone();
    settings.subject = args.events_nats_subject.clone();
    settings.max_age =
        std::time::Duration::from_secs(u64::from(args.events_retention_days) * 86_400);
    let metrics = metrics.cloned();
    Some(tokio::spawn(async move {
        let relay = Relay::connect_until_up(feed, settings.clone()).await;
        tracing::info!(
            stream = %settings.stream,
            subject = %settings.subject,
            "events relay: publishing the change feed to NATS JetStream"
        );
        if let Some(metrics) = metrics {
            let figures = relay.figures();
            metrics.set_relay_probe(move || RelayMetrics {
                published: figures.published(),
                failures: figures.failures(),
                last_sequence: figures.last_sequence(),
            });
        }
        relay.run().await;
    }))
}

fn migrate(common: &Common) -> Result<(), ServerError> {
    let url = database_url(common, "migrate")?;
    runtime()?.block_on(async {
        provider_postgres_adapter::run_migrations(url)
            .await
            .map_err(ServerError::Migrate)
    })
}

fn seed(common: &Common, args: &seed::SeedArgs) -> Result<(), ServerError> {
    let url = database_url(common, "seed")?;
    runtime()?.block_on(async {
        provider_postgres_adapter::run_migrations(url)
            .await
            .map_err(ServerError::Migrate)?;
        Ok(seed::run(url, args).await?)
    })
}

fn explain(common: &Common, args: &ExplainArgs) -> Result<(), ServerError> {
    use provider_domain::{JobRequest, SearchFilter, SearchSort};
    let url = database_url(common, "explain")?;
    let page = provider_ports::Page::new(Some(args.page), Some(args.page_size))
        .map_err(ServerError::ExplainPage)?;
    let route = match args.kind {
        ExplainKind::Search => "search",
        ExplainKind::Recommend => "recommend",
    };
    let body = |source| ServerError::ExplainBody { route, source };
    let invalid = |source| ServerError::ExplainInvalid { route, source };
    let plan = runtime()?.block_on(async {
        match args.kind {
            ExplainKind::Search => {
                let (input, options) =
                    provider_http::search_request_from_json(&args.body).map_err(body)?;
                let filter = SearchFilter::parse(&input).map_err(invalid)?;
                let sort = options
                    .sort
                    .as_deref()
                    .map_or(Ok(SearchSort::default()), SearchSort::parse)
                    .map_err(|e| {
                        invalid(provider_domain::ValidationError(vec![
                            provider_domain::FieldError::new("sort", e),
                        ]))
                    })?;
                let after = args.after.map(provider_domain::ProviderId::from_uuid);
                provider_postgres_adapter::explain_search(
                    url,
                    &filter,
                    sort,
                    page,
                    after,
                    options.total,
                )
                .await
            }
            ExplainKind::Recommend => {
                let input = provider_http::job_input_from_json(&args.body).map_err(body)?;
                let job = JobRequest::parse(&input).map_err(invalid)?;
                provider_postgres_adapter::explain_recommend(url, &job, page).await
            }
        }
        .map_err(|source| ServerError::Explain { route, source })
    })?;
    println!("{plan}");
    Ok(())
}

/// `DATABASE_URL` set: PostgreSQL (migrated first unless `MIGRATE_ON_START=false`), reading
/// from `DATABASE_READ_URL` when set; unset: the in-memory store, with a warning. Either is
/// wrapped in an [`ObservedStore`] timing every operation into `metrics` (when metrics are on;
/// the pool's figures, and the read replica's, are then read at each scrape), or only tracing
/// them (when spans are exported). Readiness reports the replica's state.
async fn build_service(
    common: &Common,
    args: &ServeArgs,
    metrics: Option<&Metrics>,
    gate: &provider_http::Gate,
) -> Result<ProviderService, ServerError> {
    let Some(config) = common.pg_config() else {
        tracing::warn!(
            "DATABASE_URL is not set: serving from the in-memory store; nothing is persisted \
             and all data is lost when the process stops"
        );
        return Ok(service_over(MemoryStore::new(), metrics));
    };
    if args.migrate_on_start {
        // Fail fast: serving on an unknown schema would only answer errors.
        provider_postgres_adapter::run_migrations(&config.url)
            .await
            .map_err(ServerError::MigrateOnStart)?;
    }
    let store = PgStore::connect(&config).map_err(ServerError::Store)?;
    if let Some(metrics) = metrics {
        let probe = store.clone();
        metrics.set_pool_probe(move || {
            let status = probe.pool_status();
            PoolFigures {
                idle: status.idle,
                in_use: status.in_use,
                waiting: status.waiting,
            }
        });
    }
    if store.replica_health().is_some() {
        if let Some(metrics) = metrics {
            let probe = store.clone();
            metrics.set_read_probe(move || {
                probe
                    .read_figures()
                    .map(|figures| ReadFigures {
                        primary: figures.primary,
                        replica: figures.replica,
                        replica_lag: figures.replica_lag,
                        replica_state: replica_state(figures.health).0,
                    })
                    .unwrap_or_default()
            });
        }
        let probe = store.clone();
        gate.set_replica_probe(move || {
            replica_state(probe.replica_health().unwrap_or(ReplicaHealth::Down)).1
        });
        tracing::info!(
            max_replica_lag_ms = config.max_replica_lag.as_millis() as u64,
            "reads go to the replica at DATABASE_READ_URL when it is fresh enough"
        );
    }
    tracing::info!(pool_size = config.pool_size, "serving from PostgreSQL");
    match args.read_model {
        ReadModelSetting::Off => Ok(service_over(store, metrics)),
        ReadModelSetting::Memory => Ok(service_with_model(store, args, metrics, gate)),
    }
}

/// The service over `store` with its providers read through a [`ReadModel`] (loading from
/// now on; readiness says `loading` until it has), observed as [`build_service`] says.
fn service_with_model(
    store: PgStore,
    args: &ServeArgs,
    metrics: Option<&Metrics>,
    gate: &provider_http::Gate,
) -> ProviderService {
    let settings = ModelSettings {
        max_lag: std::time::Duration::from_millis(args.max_read_model_lag_ms),
        ..ModelSettings::default()
    };
    let model = ReadModel::start(Arc::new(store.clone()), settings);
    let probe = model.probe();
    gate.set_read_model_probe(move || {
        match probe.figures().map_or(ModelState::Loading, |f| f.state) {
            ModelState::Loading => ReadModelState::Loading,
            ModelState::Ready => ReadModelState::Ready,
            ModelState::Stale => ReadModelState::Stale,
            ModelState::Rebuilding => ReadModelState::Rebuilding,
        }
    });
    if let Some(metrics) = metrics {
        let probe = model.probe();
        metrics.set_model_probe(move || {
            probe.figures().map(|f| ModelMetrics {
                state: f.state.name(),
                providers: f.providers as u64,
                lag: f.lag,
                served_by_model: f.served_by_model,
                served_by_store: f.served_by_store,
                rebuilds: f.rebuilds,
                last_load: f.last_load,
            })
        });
    }
    tracing::info!(
        max_read_model_lag_ms = args.max_read_model_lag_ms,
        "search, recommend and get are answered from an in-process read model (loading)"
    );
    // Providers through the model; reviews, keys and the feed straight to the store.
    fn service<P, S>(providers: Arc<P>, store: Arc<S>) -> ProviderService
    where
        P: ProviderRepository + 'static,
        S: ReviewRepository + IdempotencyRepository + ChangeFeed + 'static,
    {
        ProviderService::new(providers, store.clone(), store.clone()).with_feed(store)
    }
    match metrics {
        Some(metrics) => service(
            Arc::new(ObservedStore::new(model, metrics.clone())),
            Arc::new(ObservedStore::new(store, metrics.clone())),
        ),
        None if exporting_traces() => service(
            Arc::new(ObservedStore::traced(model)),
            Arc::new(ObservedStore::traced(store)),
        ),
        None => service(Arc::new(model), Arc::new(store)),
    }
}

/// The service over `store`, observed as [`build_service`] says.
fn service_over<S>(store: S, metrics: Option<&Metrics>) -> ProviderService
where
    S: ProviderRepository + ReviewRepository + IdempotencyRepository + ChangeFeed + 'static,
{
    fn service<S>(store: Arc<S>) -> ProviderService
    where
        S: ProviderRepository + ReviewRepository + IdempotencyRepository + ChangeFeed + 'static,
    {
        ProviderService::new(store.clone(), store.clone(), store.clone()).with_feed(store)
    }
    match metrics {
        Some(metrics) => service(Arc::new(ObservedStore::new(store, metrics.clone()))),
        None if exporting_traces() => service(Arc::new(ObservedStore::traced(store))),
        None => service(Arc::new(store)),
    }
}

async fn run_http(
    service: ProviderService,
    gate: provider_http::Gate,
    args: &ServeArgs,
) -> Result<(), ServerError> {
    // Our own signal handlers, installed before we say we listen: actix's own are installed
    // later, inside the server task, so a signal sent right after start would kill the process.
    let shutdown = shutdown_signal().map_err(ServerError::Signals)?;
    let metrics = gate.metrics().clone();
    let draining = listen::Draining::default();
    let metrics_server = match args.metrics_port {
        Some(port) => Some(metrics_server(
            metrics.clone(),
            &args.host,
            port,
            args.shutdown_timeout_secs,
            &draining,
        )?),
        None => None,
    };
    let bind_error = |source| ServerError::Bind {
        host: args.host.clone(),
        port: args.port,
        source,
    };
    let listeners = listen::bind(&args.host, args.port).map_err(bind_error)?;
    let addrs = listeners
        .iter()
        .map(std::net::TcpListener::local_addr)
        .collect::<Result<Vec<_>, _>>()
        .map_err(bind_error)?;
    let running = listen::serve(
        "provider-api",
        listeners,
        args.workers,
        args.shutdown_timeout_secs,
        &draining,
        move || provider_http::app_with(service.clone(), gate.clone()),
    )
    .map_err(bind_error)?;
    let handle = running.handle();
    for addr in addrs {
        tracing::info!(%addr, "listening on http://{addr}");
    }
    let metrics_handle = metrics_server.as_ref().map(actix_web::dev::Server::handle);
    if let Some(metrics_server) = metrics_server {
        tokio::spawn(metrics_server);
    }
    // Histogram samples are drained into their buckets at each scrape; also between scrapes,
    // so that memory stays bounded when nobody scrapes.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            metrics.run_upkeep();
        }
    });
    tokio::spawn(async move {
        let signal = shutdown.await;
        tracing::info!(
            signal,
            "shutting down: no new connections, in-flight requests finish"
        );
        // Drain before stopping: stopping closes the listeners at once, and a request that
        // reaches a kept-alive connection from now on is answered with `Connection: close`.
        draining.begin();
        let api = handle.stop(true);
        let metrics = metrics_handle.map(|metrics_handle| metrics_handle.stop(true));
        api.await;
        if let Some(metrics) = metrics {
            metrics.await;
        }
    });
    running.await.map_err(ServerError::Http)?;
    tracing::info!("stopped");
    Ok(())
}

/// `METRICS_PORT`: a server of its own for `GET /metrics`, one worker, bound now (the log
/// says where); it drains with the API's.
fn metrics_server(
    metrics: Metrics,
    host: &str,
    port: u16,
    shutdown_timeout_secs: u64,
    draining: &listen::Draining,
) -> Result<actix_web::dev::Server, ServerError> {
    let bind_error = |source| ServerError::Bind {
        host: host.to_owned(),
        port,
        source,
    };
    let listeners = listen::bind(host, port).map_err(bind_error)?;
    for listener in &listeners {
        let addr = listener.local_addr().map_err(bind_error)?;
        tracing::info!(%addr, "metrics on http://{addr}/metrics");
    }
    listen::serve(
        "provider-api-metrics",
        listeners,
        Some(1),
        shutdown_timeout_secs,
        draining,
        move || provider_http::metrics_app(metrics.clone()),
    )
    .map_err(bind_error)
}

/// Resolves with the name of the first SIGINT or SIGTERM received. The handlers are in place
/// when this returns.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = &'static str>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        }
    })
}
