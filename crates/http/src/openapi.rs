//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes, and the
//! route that serves it. The handlers know nothing of it: this module imports them, never the
//! other way round.

use crate::dto::{
    AppealBody, DateRangeDto, DecisionBody, Deleted, EventDto, EventType, EventsDto, FlagBody,
    FlagDto, History, PooledRatingDto, ProviderBody, ProviderDto, ProviderPage, QueuePage,
    RateLimitStoreState, ReadModelState, RecommendBody, RecommendationPage, RecommendedDto,
    ReplicaState, ReplyBody, ReplyDto, ReviewBody, ReviewDto, ReviewPage, SearchBody,
    SkillFiguresDto, SkillRatingDto, StatementDto, Status, StatusDto,
};
use crate::error::{ErrorBody, FieldDetail};
use crate::limits::MAX_BODY_BYTES;
use crate::middleware::gate::unlimited;
use crate::middleware::load_shedding::never_shed;
use crate::routes;
use actix_web::HttpResponse;
use std::sync::LazyLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// The OpenAPI 3 description of the whole API, served at `GET /v1_0/openapi.json` and shown by
/// the docs UI at `/docs/`. `ApiDoc::openapi()` builds it.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Service Provider API",
        version = "1.0",
        description = r#"Service providers, their reviews, search and recommendation.

**Identity.** Routes that create, change or delete need the header `user-id: <uuid>` (also
accepted as `user_id`). A missing or malformed value is 401, and identity is checked before
anything else about the request (before the path, the query string and the body).

**Errors.** Every error is JSON: `{"error": "<one sentence>", "details": [{"field", "message"}]}`
(`details` only when fields are at fault, each named by its path, such as
`availability[1].to_date`). 400 is malformed JSON syntax; a value of the wrong type or shape, an
unknown field, a missing required field, or a value out of range is 422. A body over 65536 bytes
is 413; a body not declared as `application/json` is 415; an unknown path is 404 and a known
path asked with another method is 405 (with `Allow`); 503 means the data store is unavailable
(retry later); 500 is a bug.

**Paging.** List routes take `page` (>= 1, default 1) and `page_size` (1..=100, default 10),
with `page * page_size <= 10000`; any other query parameter, a repeated one, or a value that is
not an integer is 422.

**Tracing.** Every response carries `x-request-id`: the request's own when it sent one of 1..=200
visible ASCII characters, else a new UUID. The same id is on every log line of the request.

**Text.** Lengths are counted in characters (Unicode scalar values) after trimming surrounding
white space. Money is an integer number of pence. Dates are `YYYY-MM-DD`, ranges inclusive."#
    ),
    paths(
        routes::health,
        routes::ready,
        routes::create_provider,
        routes::get_provider,
        routes::replace_provider,
        routes::delete_provider,
        routes::add_review,
        routes::list_reviews,
        routes::moderation::get_review,
        routes::moderation::edit_review,
        routes::moderation::withdraw_review,
        routes::moderation::set_reply,
        routes::moderation::remove_reply,
        routes::moderation::flag_review,
        routes::moderation::get_flag,
        routes::moderation::review_moderation,
        routes::moderation::appeal,
        routes::moderation::queue,
        routes::moderation::decide,
        routes::moderation::history,
        routes::search,
        routes::recommend,
        routes::events::list_events,
        openapi_json,
    ),
    components(schemas(
        ErrorBody,
        FieldDetail,
        DateRangeDto,
        ProviderBody,
        ProviderDto,
        RecommendedDto,
        SearchBody,
        RecommendBody,
        ReviewBody,
        ReviewDto,
        SkillRatingDto,
        SkillFiguresDto,
        PooledRatingDto,
        ProviderPage,
        RecommendationPage,
        ReviewPage,
        Status,
        ReplicaState,
        ReadModelState,
        RateLimitStoreState,
        Deleted,
        StatusDto,
        ReplyDto,
        FlagBody,
        FlagDto,
        DecisionBody,
        AppealBody,
        ReplyBody,
        QueuePage,
        History,
        StatementDto,
        EventsDto,
        EventDto,
        EventType,
    )),
    modifiers(&UserIdHeader, &SharedErrors),
    tags(
        (name = "service providers", description = "Create, read, replace, delete, search and recommend service providers."),
        (name = "reviews", description = "Reviews of service providers: one per user and provider, never by its owner."),
        (name = "moderation", description = "Moderation of reviews: flags, the queue, decisions, the statement of reasons, appeals and history. Moderators are the users of `MODERATOR_IDS`, or in JWT mode those whose roles claim holds `moderator`."),
        (name = "events", description = "Every change to providers and reviews, in commit order, for integrators that follow them."),
        (name = "health", description = "Liveness and readiness."),
        (name = "documentation", description = "This document."),
    )
)]
pub struct ApiDoc;

/// Declares the `user-id` header as the API's security scheme (`user_id`).
struct UserIdHeader;

impl Modify for UserIdHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "user_id",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "user-id",
                "The caller's user id, a UUID (the header may also be spelled `user_id`).",
            ))),
        );
    }
}

/// Adds the error responses that whole classes of routes share to every operation of the class,
/// so that each handler's `#[utoipa::path]` lists only its own. A response an operation
/// declares itself is kept (its description says more about that route).
///
/// | Status | Operations |
/// |---|---|
/// | 400, 413, 415 | those with a request body (it is read as JSON, at most [`MAX_BODY_BYTES`]) |
/// | 401 | those the gate identifies (all but the probes and this document): a missing or bad `user-id` where the operation needs a caller (`security`), else a bad bearer token |
/// | 429 | those the gate rate-limits (the same) |
/// | 503 | those the gate may shed (all but the probes) |
/// | 500 | all |
///
/// Which routes the gate identifies, limits and sheds is asked of the gate itself, so that the
/// document and the server cannot disagree.
struct SharedErrors;

impl Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                shared_errors(path, operation);
            }
        }
    }
}

/// The shared error responses of `operation` at `path` (see [`SharedErrors`]).
fn shared_errors(path: &str, operation: &mut Operation) {
    let mut shared = Vec::new();
    if operation.request_body.is_some() {
        shared.push((400, "The body is not valid JSON.".to_owned()));
        shared.push((
            413,
            format!("The body is larger than {MAX_BODY_BYTES} bytes."),
        ));
        shared.push((
            415,
            "The body is not declared as `application/json`.".to_owned(),
        ));
    }
    if !unlimited(path) {
        let unidentified = if operation.security.is_some() {
            "The `user-id` header is missing or not a UUID."
        } else {
            "`AUTH_MODE=jwt` only: the bearer token is bad (a read needs no identity, but a bad \
             one is refused)."
        };
        shared.push((401, unidentified.to_owned()));
        shared.push((
            429,
            "Over the caller's rate limit (only when `RATE_LIMIT_PER_MINUTE` is set); \
             `Retry-After` says when to try again."
                .to_owned(),
        ));
    }
    if !never_shed(path) {
        shared.push((
            503,
            "The data store is unavailable, or the server is shedding load (`Retry-After: 1`); \
             retry later."
                .to_owned(),
        ));
    }
    shared.push((
        500,
        "A bug in the server (never expected); the body says no more than that.".to_owned(),
    ));
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(error_response(&description)));
    }
}

/// A response with this description and an [`ErrorBody`].
fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// This document: the OpenAPI 3 description of the API.
#[utoipa::path(
    get,
    path = "/v1_0/openapi.json",
    operation_id = "openapiDocument",
    tag = "documentation",
    responses(
        (status = 200, description = "The OpenAPI document.", content_type = "application/json"),
        (status = 503, description = "The server is shedding load (more than `MAX_IN_FLIGHT` requests in flight); retry after `Retry-After`.", body = ErrorBody),
    )
)]
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(actix_web::mime::APPLICATION_JSON)
        .body(document())
}

/// The document as JSON text, built once.
fn document() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        serde_json::to_string(&ApiDoc::openapi())
            .unwrap_or_else(|_| r#"{"error":"the OpenAPI document could not be written"}"#.into())
    });
    &DOCUMENT
}
