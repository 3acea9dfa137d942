#![doc = include_str!("../README.md")]

mod dto;
mod error;
mod extract;
mod identity;
mod limits;
mod middleware;
mod openapi;
mod replay;
mod routes;
mod schema;

pub use dto::{
    job_input_from_json, search_input_from_json, search_request_from_json, ReadModelState,
    ReplicaState,
};
pub use error::{ApiError, ErrorBody, FieldDetail};
pub use identity::{
    Authentication, JwtConfigError, JwtKey, JwtSettings, JwtVerifier, Proven, DEFAULT_ROLES_CLAIM,
    JWT_LEEWAY_SECS, MIN_HS256_SECRET_BYTES, MODERATOR_ROLE,
};
pub use limits::MAX_BODY_BYTES;
pub use middleware::gate::{Gate, HttpSettings, MetricsRoute};
pub use middleware::rate_limit::redis::{
    RedisRateLimits, RedisRateLimitsError, DEFAULT_KEY_PREFIX as DEFAULT_REDIS_KEY_PREFIX,
};
pub use openapi::ApiDoc;
pub use provider_telemetry::Metrics;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App};
use provider_ports::ProviderService;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// The whole application over `service`: every route of the API under `/v1_0`, the docs UI at
/// `/docs/`, `GET /metrics` (unless the gate serves it elsewhere), a JSON 404 for any other
/// path, and the middleware (`middleware`): the request's span and id, metrics and error
/// reports, the gate (with default settings: header identity, no rate limit), panics as 500s
/// and every error response as JSON.
///
/// ```no_run
/// # async fn run(service: provider_ports::ProviderService) -> std::io::Result<()> {
/// actix_web::HttpServer::new(move || provider_http::app(service.clone()))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// # }
/// ```
pub fn app(
    service: ProviderService,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    app_with(service, Gate::default())
}

/// [`app`] with identity, rate limits and load shedding as `gate` says. Build the gate once and
/// give each worker a clone, so that the limits hold for the whole process:
///
/// ```no_run
/// # async fn run(service: provider_ports::ProviderService) -> std::io::Result<()> {
/// use provider_http::{Gate, HttpSettings};
/// let gate = Gate::new(HttpSettings { rate_limit_per_minute: 600, ..HttpSettings::default() });
/// actix_web::HttpServer::new(move || provider_http::app_with(service.clone(), gate.clone()))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await
/// # }
/// ```
pub fn app_with(
    service: ProviderService,
    gate: Gate,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics_here = gate.metrics_route() == MetricsRoute::OnApiPort;
    App::new()
        .app_data(web::Data::new(service))
        .app_data(web::Data::new(gate.metrics().clone()))
        .app_data(web::Data::new(gate))
        .configure(|cfg| {
            if metrics_here {
                configure_metrics(cfg);
            }
        })
        .configure(configure)
        .default_service(web::to(routes::no_route))
        .wrap(from_fn(middleware::json_errors::json_errors))
        .wrap(from_fn(middleware::gate::gate))
        .wrap(from_fn(middleware::request_id::request_id))
        .wrap(from_fn(middleware::observe::observe))
        .wrap(TracingLogger::<middleware::span::RequestSpan>::new())
}

/// The app of `METRICS_PORT`: `GET /metrics` rendering `metrics`, and nothing else (404).
pub fn metrics_app(
    metrics: Metrics,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(metrics))
        .configure(configure_metrics)
        .default_service(web::to(routes::no_route))
        .wrap(from_fn(middleware::json_errors::json_errors))
}

/// `GET /metrics` (Prometheus text format 0.0.4), reading a `web::Data<Metrics>`.
fn configure_metrics(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .route(web::get().to(routes::metrics))
            .default_service(web::to(routes::not_allowed(&["GET"]))),
    );
}

/// Registers the API's routes under `/v1_0` and the docs UI at `/docs/` (`/docs` redirects
/// there). The handlers read a `web::Data<ProviderService>` from the app data, which the
/// caller must provide. [`app`] does that and adds the middleware; prefer it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use routes::{moderation, not_allowed};
    const GET: &[&str] = &["GET"];
    const POST: &[&str] = &["POST"];
    cfg.service(
        web::scope("/v1_0")
            .service(
                web::resource("/health")
                    .route(web::get().to(routes::health))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/health/ready")
                    .route(web::get().to(routes::ready))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/service-provider")
                    .route(web::post().to(routes::create_provider))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/service-provider/{id}")
                    .route(web::get().to(routes::get_provider))
                    .route(web::put().to(routes::replace_provider))
                    .route(web::delete().to(routes::delete_provider))
                    .default_service(web::to(not_allowed(&["GET", "PUT", "DELETE"]))),
            )
            .service(
                web::resource("/service-provider/{id}/review")
                    .route(web::post().to(routes::add_review))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/service-provider/{id}/reviews")
                    .route(web::get().to(routes::list_reviews))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/reviews/{review_id}")
                    .route(web::get().to(moderation::get_review))
                    .route(web::put().to(moderation::edit_review))
                    .route(web::delete().to(moderation::withdraw_review))
                    .default_service(web::to(not_allowed(&["GET", "PUT", "DELETE"]))),
            )
            .service(
                web::resource("/reviews/{review_id}/flags")
                    .route(web::post().to(moderation::flag_review))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/reviews/{review_id}/moderation")
                    .route(web::get().to(moderation::review_moderation))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/reviews/{review_id}/appeal")
                    .route(web::post().to(moderation::appeal))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/reviews/{review_id}/reply")
                    .route(web::put().to(moderation::set_reply))
                    .route(web::delete().to(moderation::remove_reply))
                    .default_service(web::to(not_allowed(&["PUT", "DELETE"]))),
            )
            .service(
                web::resource("/flags/{flag_id}")
                    .route(web::get().to(moderation::get_flag))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/moderation/queue")
                    .route(web::get().to(moderation::queue))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/moderation/reviews/{review_id}/decision")
                    .route(web::post().to(moderation::decide))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/moderation/reviews/{review_id}/history")
                    .route(web::get().to(moderation::history))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/events")
                    .route(web::get().to(routes::events::list_events))
                    .default_service(web::to(not_allowed(GET))),
            )
            .service(
                web::resource("/service-providers")
                    .route(web::post().to(routes::search))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/service-providers/recommend")
                    .route(web::post().to(routes::recommend))
                    .default_service(web::to(not_allowed(POST))),
            )
            .service(
                web::resource("/openapi.json")
                    .route(web::get().to(openapi::openapi_json))
                    .default_service(web::to(not_allowed(GET))),
            )
            .default_service(web::to(routes::no_route)),
    )
    .service(web::redirect("/docs", "/docs/"))
    .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/v1_0/openapi.json")));
}
