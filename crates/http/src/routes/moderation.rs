//! The routes of moderation: a review by id, its author's edit and withdrawal, flags, the
//! statement of reasons and appeals, the owner's reply, and the moderators' queue, decisions
//! and history.

use crate::dto::{
    AppealBody, DecisionBody, Deleted, FlagBody, FlagDto, History, QueuePage, ReplyBody,
    ReviewBody, ReviewDto, StatementDto,
};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{
    FlagPathId, JsonBody, MaybeCaller, Moderator, PageParams, Paging, ReviewPathId,
};
use crate::identity::Caller;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use provider_domain::{Event, EventDetail};
use provider_ports::ProviderService;
use provider_ports::StoredReview;
use provider_telemetry::Metrics;

type Service = web::Data<ProviderService>;

/// Counts what an operation's history events say: automated holds and moderators' decisions
/// (`moderation_decisions_total`), flags (`review_flags_total`).
pub(crate) fn count(metrics: &Metrics, events: &[Event]) {
    for event in events {
        match &event.detail {
            EventDetail::Held { .. } => metrics.moderation_decision("hold", true),
            EventDetail::Decided { action, .. } => {
                metrics.moderation_decision(action.as_str(), false);
            }
            EventDetail::Flagged { reason } => metrics.review_flag(reason.as_str()),
            _ => {}
        }
    }
}

fn review_url(stored: &StoredReview) -> String {
    format!("/v1_0/reviews/{}", stored.review.id)
}

/// A review by id.
///
/// A published review is answered to anyone; a pending or hidden one only to its author and
/// to moderators (anyone else gets 404, never 403). Its reply is `null` unless published, or
/// the caller is the provider's owner or a moderator.
#[utoipa::path(
    get,
    path = "/v1_0/reviews/{review_id}",
    operation_id = "getReview",
    tag = "reviews",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    responses(
        (status = 200, description = "The review.", body = ReviewDto),
        (status = 404, description = "No such review, or the caller may not see it.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    )
)]
pub(crate) async fn get_review(
    caller: MaybeCaller,
    service: Service,
    id: ReviewPathId,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0.map(Caller::moderation);
    let stored = service.review(caller.as_ref(), id.0).await?;
    Ok(HttpResponse::Ok().json(ReviewDto::for_caller(&stored, caller.as_ref())))
}

/// The author replaces their review.
///
/// Rating, comment and skill ratings are replaced and the comment is screened again: a hidden
/// review becomes `pending` (a person decides again) whatever the screen says; one held by
/// flags, an appeal or `manual` stays pending; one held by the screen only is published when
/// the new text passes; a published one whose new text is screened becomes pending.
#[utoipa::path(
    put,
    path = "/v1_0/reviews/{review_id}",
    operation_id = "editReview",
    tag = "reviews",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    request_body = ReviewBody,
    responses(
        (status = 200, description = "The review as it stands now.", body = ReviewDto),
        (status = 404, description = "No such review, or the caller is not its author.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the body is invalid (as for a new review).", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn edit_review(
    caller: Caller,
    service: Service,
    metrics: web::Data<Metrics>,
    id: ReviewPathId,
    body: JsonBody<ReviewBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.moderation();
    let edited = service.edit_review(&caller, id.0, &body.0.into()).await?;
    count(&metrics, &edited.events);
    Ok(HttpResponse::Ok().json(ReviewDto::for_caller(&edited.value, Some(&caller))))
}

/// The author withdraws their review.
///
/// The review, its skill ratings and its flags are removed (its history keeps a `withdrawn`
/// event, without the text); the author may review the provider again.
#[utoipa::path(
    delete,
    path = "/v1_0/reviews/{review_id}",
    operation_id = "withdrawReview",
    tag = "reviews",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    responses(
        (status = 200, description = "Withdrawn.", body = Deleted),
        (status = 404, description = "No such review, or the caller is not its author.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn withdraw_review(
    caller: Caller,
    service: Service,
    id: ReviewPathId,
) -> Result<HttpResponse, ApiError> {
    service.withdraw_review(&caller.moderation(), id.0).await?;
    Ok(HttpResponse::Ok().json(Deleted {}))
}

/// Flags a review (notice and action).
///
/// When open flags from `MODERATION_FLAGS_TO_HOLD` distinct users stand on a published review,
/// it is held (`pending`, reason `flagged`) until a moderator decides.
#[utoipa::path(
    post,
    path = "/v1_0/reviews/{review_id}/flags",
    operation_id = "flagReview",
    tag = "moderation",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    request_body = FlagBody,
    responses(
        (status = 201, description = "Flagged.", body = FlagDto,
            headers(("location" = String, description = "The flag, `/v1_0/flags/{id}`.")),
            links(
                ("getFlag" = (operation_id = "getFlag", parameters(("flag_id" = "$response.body#/id")),
                    description = "This flag.")),
                ("decideReview" = (operation_id = "decideReview", parameters(("review_id" = "$response.body#/review_id")),
                    description = "A moderator decides the flagged review.")),
            )),
        (status = 403, description = "The caller wrote the review.", body = ErrorBody),
        (status = 404, description = "No such review, or the caller may not see it.", body = ErrorBody),
        (status = 409, description = "The caller already has an open flag on this review.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the body is invalid (`explanation` is required for `illegal` and `other`).", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn flag_review(
    caller: Caller,
    service: Service,
    metrics: web::Data<Metrics>,
    id: ReviewPathId,
    body: JsonBody<FlagBody>,
) -> Result<HttpResponse, ApiError> {
    let flagged = service
        .flag_review(&caller.moderation(), id.0, &body.0.into())
        .await?;
    count(&metrics, &flagged.events);
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1_0/flags/{}", flagged.value.id),
        ))
        .json(FlagDto::from(&flagged.value)))
}

/// A flag, for its flagger and moderators.
#[utoipa::path(
    get,
    path = "/v1_0/flags/{flag_id}",
    operation_id = "getFlag",
    tag = "moderation",
    params(("flag_id" = uuid::Uuid, Path, description = "The flag's id.")),
    responses(
        (status = 200, description = "The flag: `open`, then `upheld` (the review was hidden) or `rejected` (it was published).", body = FlagDto),
        (status = 404, description = "No such flag, or the caller neither raised it nor moderates.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn get_flag(
    caller: Caller,
    service: Service,
    id: FlagPathId,
) -> Result<HttpResponse, ApiError> {
    let flag = service.flag(&caller.moderation(), id.0).await?;
    Ok(HttpResponse::Ok().json(FlagDto::from(&flag)))
}

/// The statement of reasons: where the review stands and why, for its author and moderators.
///
/// Screening is an automated `hold` whose `rule` is the first reason that applied; a review
/// published at once has `"decision": null`. The deciding moderator is never named.
#[utoipa::path(
    get,
    path = "/v1_0/reviews/{review_id}/moderation",
    operation_id = "getReviewModeration",
    tag = "moderation",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    responses(
        (status = 200, description = "The statement of reasons.", body = StatementDto),
        (status = 404, description = "No such review, or the caller is neither its author nor a moderator.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn review_moderation(
    caller: Caller,
    service: Service,
    id: ReviewPathId,
) -> Result<HttpResponse, ApiError> {
    let stored = service
        .review_moderation(&caller.moderation(), id.0)
        .await?;
    Ok(HttpResponse::Ok().json(StatementDto::new(&stored)))
}

/// The author appeals a moderator's decision to hide their review.
///
/// Allowed once per decision, while the review is hidden by a moderator; the review joins the
/// queue (reason `appeal`) and stays hidden until a different moderator decides.
#[utoipa::path(
    post,
    path = "/v1_0/reviews/{review_id}/appeal",
    operation_id = "appealReview",
    tag = "moderation",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    request_body = AppealBody,
    responses(
        (status = 201, description = "Appealed: the statement of reasons, its `appeal` open.", body = StatementDto),
        (status = 404, description = "No such review, or the caller is not its author.", body = ErrorBody),
        (status = 409, description = "Nothing to appeal (no moderator's decision hides it), or the latest decision was already appealed.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the body is invalid.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn appeal(
    caller: Caller,
    service: Service,
    id: ReviewPathId,
    body: JsonBody<AppealBody>,
) -> Result<HttpResponse, ApiError> {
    let appealed = service
        .appeal(&caller.moderation(), id.0, &body.0.into())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/moderation", review_url(&appealed.value)),
        ))
        .json(StatementDto::new(&appealed.value)))
}

/// The provider's owner writes (or replaces) the reply to a review.
///
/// Screened like a comment: a held reply waits in the queue (reason `reply`) and is `null` to
/// everyone but the owner and moderators until published.
#[utoipa::path(
    put,
    path = "/v1_0/reviews/{review_id}/reply",
    operation_id = "replyToReview",
    tag = "reviews",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    request_body = ReplyBody,
    responses(
        (status = 200, description = "The review with its reply.", body = ReviewDto),
        (status = 404, description = "No such review, the caller does not own its provider, or cannot see it.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the body is invalid.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn set_reply(
    caller: Caller,
    service: Service,
    metrics: web::Data<Metrics>,
    id: ReviewPathId,
    body: JsonBody<ReplyBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.moderation();
    let replied = service.set_reply(&caller, id.0, &body.0.into()).await?;
    count(&metrics, &replied.events);
    Ok(HttpResponse::Ok().json(ReviewDto::for_caller(&replied.value, Some(&caller))))
}

/// The provider's owner removes the reply.
#[utoipa::path(
    delete,
    path = "/v1_0/reviews/{review_id}/reply",
    operation_id = "removeReply",
    tag = "reviews",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    responses(
        (status = 200, description = "The review, `reply` null.", body = ReviewDto),
        (status = 404, description = "No such review or reply, or the caller does not own its provider.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn remove_reply(
    caller: Caller,
    service: Service,
    id: ReviewPathId,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.moderation();
    let removed = service.remove_reply(&caller, id.0).await?;
    Ok(HttpResponse::Ok().json(ReviewDto::for_caller(&removed.value, Some(&caller))))
}

/// The moderation queue: reviews awaiting a decision, longest waiting first.
///
/// Every pending review, every review whose reply is pending, and every hidden review with an
/// open appeal; ordered by the time it entered the queue, then id.
#[utoipa::path(
    get,
    path = "/v1_0/moderation/queue",
    operation_id = "moderationQueue",
    tag = "moderation",
    params(PageParams),
    responses(
        (status = 200, description = "A page of the queue.", body = QueuePage),
        (status = 403, description = "The caller is not a moderator.", body = ErrorBody),
        (status = 422, description = "Paging is out of range or unknown.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn queue(
    moderator: Moderator,
    service: Service,
    paging: Paging,
) -> Result<HttpResponse, ApiError> {
    let found = service
        .moderation_queue(&moderator.0.moderation(), paging.0)
        .await?;
    Ok(HttpResponse::Ok().json(QueuePage::new(paging.0, &found)))
}

/// A moderator decides a review (or, with `"target": "reply"`, its reply).
///
/// Any status may be decided. On the review, every open flag becomes `upheld` (hide) or
/// `rejected` (publish); an appeal is decided by a moderator other than the one it contests.
#[utoipa::path(
    post,
    path = "/v1_0/moderation/reviews/{review_id}/decision",
    operation_id = "decideReview",
    tag = "moderation",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The review as it stands now.", body = ReviewDto),
        (status = 403, description = "The caller is not a moderator, or decides an appeal against their own decision.", body = ErrorBody),
        (status = 404, description = "No such review, or (`target` `reply`) it has no reply.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the body is invalid.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn decide(
    moderator: Moderator,
    service: Service,
    metrics: web::Data<Metrics>,
    id: ReviewPathId,
    body: JsonBody<DecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = moderator.0.moderation();
    let decided = service.decide(&caller, id.0, &body.0.into()).await?;
    count(&metrics, &decided.events);
    Ok(HttpResponse::Ok().json(ReviewDto::for_caller(&decided.value, Some(&caller))))
}

/// A review's history: every event, oldest first, never rewritten (withdrawn reviews' too).
#[utoipa::path(
    get,
    path = "/v1_0/moderation/reviews/{review_id}/history",
    operation_id = "reviewHistory",
    tag = "moderation",
    params(("review_id" = uuid::Uuid, Path, description = "The review's id.")),
    responses(
        (status = 200, description = "The history. No event holds the text of a review, reply, flag explanation or appeal.", body = History),
        (status = 403, description = "The caller is not a moderator.", body = ErrorBody),
        (status = 404, description = "There never was such a review.", body = ErrorBody),
        (status = 422, description = "The id is not a UUID.", body = ErrorBody),
    ),
    security(("user_id" = []))
)]
pub(crate) async fn history(
    moderator: Moderator,
    service: Service,
    id: ReviewPathId,
) -> Result<HttpResponse, ApiError> {
    let events = service
        .review_history(&moderator.0.moderation(), id.0)
        .await?;
    Ok(HttpResponse::Ok().json(History::new(&events)))
}
