//! The events API: the change feed, for integrators that follow every change.

use crate::dto::EventsDto;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{EventsParams, EventsQuery, FeedReader};
use actix_web::{web, HttpResponse};
use provider_ports::ProviderService;

/// Every change to providers and reviews, in the order readers see the commits.
///
/// Ask with `after` = the `next_after` of the page before: an event a later page holds always
/// has a greater sequence than every event an earlier page held, so a reader that follows
/// `next_after` misses nothing, even from a transaction that committed after a later-started
/// one. Events carry ids, not content: read the resource for its state (a review the reader
/// may not see is 404 there, as anywhere). A provider's deletion is one `provider.deleted`
/// event (its reviews went with it). Events are kept for `EVENTS_RETENTION_DAYS` (default 7);
/// an `after` older than that is 410: read the resources again and start from `after=0`.
#[utoipa::path(
    get,
    path = "/v1_0/events",
    operation_id = "listEvents",
    tag = "events",
    params(EventsParams),
    responses(
        (status = 200, description = "The events after `after`, oldest first.", body = EventsDto),
        (status = 401, description = "`AUTH_MODE=jwt` only: no bearer token, or a bad one (the feed is for identified callers there).", body = ErrorBody),
        (status = 410, description = "Events after `after` are no longer kept.", body = ErrorBody),
        (status = 422, description = "A parameter is out of range, not an integer, repeated or unknown.", body = ErrorBody),
    )
)]
pub(crate) async fn list_events(
    _reader: FeedReader,
    service: web::Data<ProviderService>,
    query: EventsQuery,
) -> Result<HttpResponse, ApiError> {
    let page = service.events(query.0).await?;
    Ok(HttpResponse::Ok().json(EventsDto::from(&page)))
}
