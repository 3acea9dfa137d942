//! The handlers: each turns a request into one call of [`ProviderService`] and its answer into
//! JSON. Arguments are listed identity first and body last (see [`crate::extract`]).

use crate::dto::{
    Deleted, ProviderBody, ProviderDto, ProviderPage, ReadModelState, RecommendBody,
    RecommendationPage, ReviewBody, ReviewDto, ReviewPage, SearchBody, Status,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{
    etag, CursorPageParams, IdempotencyKeyHeader, IfMatch, IfNoneMatch, JsonBody, ListParams,
    MaybeCaller, PageParams, Paging, PathId,
};
use crate::identity::Caller;
use crate::middleware::gate::Gate;
use crate::replay;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use provider_ports::{ProviderService, ServiceError};
use provider_telemetry::Metrics;

pub(crate) mod events;
pub(crate) mod moderation;

type Service = web::Data<ProviderService>;

/// The content type of the Prometheus text exposition format 0.0.4.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The URL of a provider.
fn provider_url(id: impl std::fmt::Display) -> String {
    format!("/v1_0/service-provider/{id}")
}

/// Liveness: 200 while the process runs.
#[utoipa::path(
    get,
    path = "/v1_0/health",
    operation_id = "health",
    tag = "health",
    responses(
        (status = 200, description = "The process is running.", body = Status),
    )
)]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Status::ok())
}

/// Readiness: 200 when the data store answers, else 503.
#[utoipa::path(
    get,
    path = "/v1_0/health/ready",
    operation_id = "ready",
    tag = "health",
    responses(
        (status = 200, description = "The data store answers (and, with the read model on, it has loaded: `read_model` says its state, `ready`, `stale` or `rebuilding`; a stale or rebuilding model is bypassed, reads go to the database). With a read replica configured, `replica` says its state (`ok`, `lagging` or `down`); reads skip a replica that is not `ok`, so it never makes the service unready. With the rate-limit buckets in Redis, `rate_limit_store` says whether it answers (`ok` or `down`); while it is down requests are served without rate limits, so it never makes the service unready either.", body = Status),
        (status = 503, description = "The data store does not answer, or the read model is still loading its first snapshot.", body = ErrorBody),
    )
)]
pub(crate) async fn ready(service: Service, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match service.ready().await {
        Ok(()) => {
            let gate = req.app_data::<web::Data<Gate>>();
            let read_model = gate.and_then(|gate| gate.read_model_state());
            if read_model == Some(ReadModelState::Loading) {
                return Err(ServiceError::Unavailable(
                    "the read model is loading its first snapshot".into(),
                )
                .into());
            }
            let replica = gate.and_then(|gate| gate.replica_state());
            let rate_limit_store = match gate {
                Some(gate) => gate.rate_limit_store().await,
                None => None,
            };
            Ok(HttpResponse::Ok().json(Status {
                replica,
                rate_limit_store,
                read_model,
                ..Status::ok()
            }))
        }
        // Whatever failed, the answer to "ready?" is "not now".
        Err(ServiceError::Internal(source)) => Err(ServiceError::Unavailable(source).into()),
        Err(e) => Err(e.into()),
    }
}

/// Creates a service provider; the caller becomes its owner.
///
/// Answers 201 with the provider as stored (trimmed, skills de-duplicated, availability sorted)
/// and its URL in `Location`.
#[utoipa::path(
    post,
    path = "/v1_0/service-provider",
    operation_id = "createProvider",
    tag = "service providers",
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1..=255 visible ASCII characters: the first 2xx answer is kept 24 hours and replayed to a retry with the same key and body.")),
    request_body(content = ProviderBody, content_type = "application/json"),
    security(("user_id" = [])),
    responses(
        (status = 201, description = "Created (or, with `Idempotency-Replayed: true`, the kept answer of an earlier request with this key).", body = ProviderDto,
            headers(
                ("location" = String, description = "The new provider's URL, `/v1_0/service-provider/{id}`."),
                ("etag" = String, description = "The provider's strong entity tag, `\"<version>\"`."),
                ("idempotency-replayed" = String, description = "`true` on a replayed answer."),
            ),
            links(
                ("getProvider" = (operation_id = "getProvider", parameters(("id" = "$response.body#/id")),
                    description = "Read the new provider.")),
                ("replaceProvider" = (operation_id = "replaceProvider", parameters(("id" = "$response.body#/id")),
                    description = "Replace the new provider (its owner, the creator, only).")),
                ("deleteProvider" = (operation_id = "deleteProvider", parameters(("id" = "$response.body#/id")),
                    description = "Delete the new provider (its owner, the creator, only).")),
                ("addReview" = (operation_id = "addReview", parameters(("id" = "$response.body#/id")),
                    description = "Review the new provider (anyone but its owner).")),
                ("listReviews" = (operation_id = "listReviews", parameters(("id" = "$response.body#/id")),
                    description = "The new provider's reviews.")),
            )),
        (status = 409, description = "A request with this `Idempotency-Key` is still being processed.", body = ErrorBody),
        (status = 422, description = "A field is invalid, unknown, missing or of the wrong type; `details` names each. Also a malformed `Idempotency-Key`, or one used for a different request.", body = ErrorBody),
    )
)]
pub(crate) async fn create_provider(
    caller: Caller,
    service: Service,
    key: IdempotencyKeyHeader,
    body: JsonBody<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    let request = key.request(caller.0, "POST /v1_0/service-provider", &body.1);
    let input = body.0.into();
    let answered = service
        .create_once(request.as_ref(), caller.0, &input, |created| {
            replay::json(
                StatusCode::CREATED,
                vec![
                    (header::LOCATION, provider_url(created.value.id)),
                    (header::ETAG, etag(created.version)),
                ],
                &ProviderDto::from(&created.value),
            )
        })
        .await?;
    replay::respond(answered)
}

/// One service provider.
#[utoipa::path(
    get,
    path = "/v1_0/service-provider/{id}",
    operation_id = "getProvider",
    tag = "service providers",
    params(
        ("id" = uuid::Uuid, Path, description = "The provider's id."),
        ("If-None-Match" = Option<String>, Header, description = "Entity tags (or `*`): when one names the current version, 304 without a body."),
    ),
    responses(
        (status = 200, description = "The provider.", body = ProviderDto,
            headers(("etag" = String, description = "The provider's strong entity tag, `\"<version>\"`; it changes with every replace and every new review."))),
        (status = 304, description = "Not modified: `If-None-Match` names the current version. No body.",
            headers(("etag" = String, description = "The current entity tag."))),
        (status = 404, description = "No such provider.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub(crate) async fn get_provider(
    service: Service,
    id: PathId,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let found = service.get(id.0).await?;
    let tag = etag(found.version);
    if if_none_match
        .0
        .is_some_and(|tags| tags.weakly_names(found.version))
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(ProviderDto::from(&found.value)))
}

/// Replaces the caller's service provider: name, skills, cost and availability, all at once.
///
/// Fields left out of the body are replaced by their defaults (`skills` and `availability`
/// become empty); reviews are kept. A provider that does not exist and one that belongs to
/// someone else are both 404, so that ownership is never revealed.
#[utoipa::path(
    put,
    path = "/v1_0/service-provider/{id}",
    operation_id = "replaceProvider",
    tag = "service providers",
    params(
        ("id" = uuid::Uuid, Path, description = "The provider's id."),
        ("If-Match" = Option<String>, Header, description = "Strong entity tags (or `*`): replace only if one names the current version, else 412. Weak tags never match."),
    ),
    request_body(content = ProviderBody, content_type = "application/json"),
    security(("user_id" = [])),
    responses(
        (status = 200, description = "Replaced; the provider as now stored.", body = ProviderDto,
            headers(("etag" = String, description = "The new strong entity tag, `\"<version>\"`."))),
        (status = 404, description = "No such provider, or not the caller's.", body = ErrorBody),
        (status = 412, description = "`If-Match` names no current version: nothing was changed.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or a field is invalid, unknown, missing or of the wrong type.", body = ErrorBody),
    )
)]
pub(crate) async fn replace_provider(
    caller: Caller,
    service: Service,
    id: PathId,
    if_match: IfMatch,
    body: JsonBody<ProviderBody>,
) -> Result<HttpResponse, ApiError> {
    let replaced = service
        .replace(caller.0, id.0, &body.0.into(), &if_match.0)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(replaced.version)))
        .json(ProviderDto::from(&replaced.value)))
}

/// Deletes the caller's service provider, with its skills, availability and reviews.
#[utoipa::path(
    delete,
    path = "/v1_0/service-provider/{id}",
    operation_id = "deleteProvider",
    tag = "service providers",
    params(
        ("id" = uuid::Uuid, Path, description = "The provider's id."),
        ("If-Match" = Option<String>, Header, description = "Strong entity tags (or `*`): delete only if one names the current version, else 412. Weak tags never match."),
    ),
    security(("user_id" = [])),
    responses(
        (status = 200, description = "Deleted.", body = Deleted),
        (status = 404, description = "No such provider, or not the caller's.", body = ErrorBody),
        (status = 412, description = "`If-Match` names no current version: nothing was deleted.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub(crate) async fn delete_provider(
    caller: Caller,
    service: Service,
    id: PathId,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    service.delete(caller.0, id.0, &if_match.0).await?;
    Ok(HttpResponse::Ok().json(Deleted {}))
}

/// Reviews a service provider, once per user; owners cannot review their own.
///
/// Answers 201 with the review, and the provider's review list in `Location`.
#[utoipa::path(
    post,
    path = "/v1_0/service-provider/{id}/review",
    operation_id = "addReview",
    tag = "reviews",
    params(
        ("id" = uuid::Uuid, Path, description = "The provider's id."),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "1..=255 visible ASCII characters: the first 2xx answer is kept 24 hours and replayed to a retry with the same key and body."),
    ),
    request_body(content = ReviewBody, content_type = "application/json"),
    security(("user_id" = [])),
    responses(
        (status = 201, description = "Created (or, with `Idempotency-Replayed: true`, the kept answer of an earlier request with this key).", body = ReviewDto,
            headers(
                ("location" = String, description = "The provider's review list, `/v1_0/service-provider/{id}/reviews`."),
                ("idempotency-replayed" = String, description = "`true` on a replayed answer."),
            ),
            links(
                ("listReviews" = (operation_id = "listReviews", parameters(("id" = "$response.body#/service_provider_id")),
                    description = "The reviewed provider's reviews, this one first.")),
                ("getProvider" = (operation_id = "getProvider", parameters(("id" = "$response.body#/service_provider_id")),
                    description = "The reviewed provider, its rating updated.")),
                ("getReview" = (operation_id = "getReview", parameters(("review_id" = "$response.body#/id")),
                    description = "This review (held ones to their author and moderators).")),
                ("flagReview" = (operation_id = "flagReview", parameters(("review_id" = "$response.body#/id")),
                    description = "Flag this review.")),
                ("getReviewModeration" = (operation_id = "getReviewModeration", parameters(("review_id" = "$response.body#/id")),
                    description = "This review's statement of reasons, for its author.")),
            )),
        (status = 403, description = "The caller owns this provider.", body = ErrorBody),
        (status = 404, description = "No such provider.", body = ErrorBody),
        (status = 409, description = "The caller has already reviewed this provider, or a request with this `Idempotency-Key` is still being processed.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, the rating, comment or a per-skill rating is invalid (a skill the provider does not have, or one rated twice), or the `Idempotency-Key` is malformed or was used for a different request.", body = ErrorBody),
    )
)]
pub(crate) async fn add_review(
    caller: Caller,
    service: Service,
    metrics: web::Data<Metrics>,
    id: PathId,
    key: IdempotencyKeyHeader,
    body: JsonBody<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let route = format!("POST {}/review", provider_url(id.0));
    let request = key.request(caller.0, &route, &body.1);
    let input = body.0.into();
    // The submission's events, counted once the review is stored (none on a replay).
    let mut events = Vec::new();
    let answered = service
        .add_review_once(request.as_ref(), caller.0, id.0, &input, |added| {
            events.clone_from(&added.events);
            let review = &added.value;
            replay::json(
                StatusCode::CREATED,
                vec![(
                    header::LOCATION,
                    format!("{}/reviews", provider_url(review.review.provider_id)),
                )],
                &ReviewDto::for_caller(review, Some(&caller.moderation())),
            )
        })
        .await?;
    moderation::count(&metrics, &events);
    replay::respond(answered)
}

/// One page of a service provider's reviews, newest first.
#[utoipa::path(
    get,
    path = "/v1_0/service-provider/{id}/reviews",
    operation_id = "listReviews",
    tag = "reviews",
    params(("id" = uuid::Uuid, Path, description = "The provider's id."), CursorPageParams),
    responses(
        (status = 200, description = "A page of reviews.", body = ReviewPage),
        (status = 404, description = "No such provider.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, paging is out of range or unknown, or the cursor cannot be used here.", body = ErrorBody),
    )
)]
pub(crate) async fn list_reviews(
    caller: MaybeCaller,
    service: Service,
    id: PathId,
    list: ListParams,
) -> Result<HttpResponse, ApiError> {
    let found = service.list_reviews(id.0, &list.0).await?;
    let caller = caller.0.map(Caller::moderation);
    Ok(HttpResponse::Ok().json(ReviewPage::new(found, caller.as_ref())))
}

/// Searches service providers.
///
/// In the body's `sort`: `cost_desc` (default: `cost_in_pence` descending, then
/// `review_rating` descending, then `id` ascending), `cost_asc` (`cost_in_pence` ascending,
/// then `review_rating` descending, then `id`), `rating_desc` (the confidence-weighted rating
/// `(sum + 12.5) / (review_count + 5)` descending, compared exactly, then `review_count`
/// descending, then `id`), `reviews_desc` (`review_count` descending, then the
/// confidence-weighted rating descending, then `id`), `newest` (creation time descending,
/// then `id` descending). Each is a total order, so pages never repeat or skip a provider.
/// Page by number (`page`, at most 10,000 deep) or after a cursor (`cursor`, the
/// `next_cursor` of the page before, at any depth).
#[utoipa::path(
    post,
    path = "/v1_0/service-providers",
    operation_id = "searchProviders",
    tag = "service providers",
    params(CursorPageParams),
    request_body(content = SearchBody, content_type = "application/json"),
    responses(
        (status = 200, description = "A page of matching providers.", body = ProviderPage),
        (status = 422, description = "A filter, sort or paging value is invalid, unknown or of the wrong type, or the cursor was made for another search or changed.", body = ErrorBody),
    )
)]
pub(crate) async fn search(
    service: Service,
    list: ListParams,
    body: JsonBody<SearchBody>,
) -> Result<HttpResponse, ApiError> {
    let options = body.0.options();
    let found = service.search(&body.0.into(), &options, &list.0).await?;
    Ok(HttpResponse::Ok().json(ProviderPage::from(found)))
}

/// Recommends service providers for a job, most appropriate first.
///
/// A provider is recommended when its `cost_in_pence * expected_job_duration_in_days` is within
/// the budget, it has at least one requested skill, it has a run of at least
/// `expected_job_duration_in_days` consecutive available days inside one requested window
/// (touching ranges join), and its `review_rating` is at least `minimum_review_rating`.
/// Ranked by: more requested skills matched; higher `cost_in_pence`; higher confidence-weighted
/// rating `(rating_sum + 12.5) / (review_count + 5)`; more reviews; `id` ascending.
#[utoipa::path(
    post,
    path = "/v1_0/service-providers/recommend",
    operation_id = "recommendProviders",
    tag = "service providers",
    params(PageParams),
    request_body(content = RecommendBody, content_type = "application/json"),
    responses(
        (status = 200, description = "A page of recommended providers.", body = RecommendationPage),
        (status = 422, description = "A field or paging value is invalid, missing, unknown or of the wrong type.", body = ErrorBody),
    )
)]
pub(crate) async fn recommend(
    service: Service,
    paging: Paging,
    body: JsonBody<RecommendBody>,
) -> Result<HttpResponse, ApiError> {
    let found = service.recommend(&body.0.into(), paging.0).await?;
    Ok(HttpResponse::Ok().json(RecommendationPage::new(paging.0, &found)))
}

/// The default handler of a route asked with a method it does not answer: 405 with `Allow`.
pub(crate) fn not_allowed(
    allowed: &'static [&'static str],
) -> impl Fn(actix_web::HttpRequest) -> std::future::Ready<Result<HttpResponse, ApiError>> + Clone {
    move |req| {
        std::future::ready(Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allowed,
        }))
    }
}

/// The default handler of the app: no route matches the path.
pub(crate) async fn no_route(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoRoute {
        method: req.method().to_string(),
        path: req.path().to_owned(),
    })
}

/// `GET /metrics`: the exposition of the request and store metrics.
pub(crate) async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(EXPOSITION)
        .body(metrics.render())
}
