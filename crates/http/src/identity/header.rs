//! Header mode: the caller is the `user-id` header (or its alias `user_id`), believed as sent:
//! right behind a gateway that authenticates callers and sets it.

use crate::error::ApiError;
use actix_web::http::header::HeaderValue;
use actix_web::HttpRequest;
use provider_domain::UserId;
use uuid::Uuid;

/// Header names that carry the caller's identity (`user_id` is accepted as an alias).
const IDENTITY_HEADERS: [&str; 2] = ["user-id", "user_id"];

/// The caller the `user-id` (or `user_id`) header names.
///
/// # Errors
/// [`ApiError::Unauthenticated`] when the header is missing, is not a UUID, or is given more
/// than once with different values.
pub(crate) fn header_caller(req: &HttpRequest) -> Result<UserId, ApiError> {
    let mut found: Option<&HeaderValue> = None;
    for value in IDENTITY_HEADERS
        .iter()
        .flat_map(|name| req.headers().get_all(*name))
    {
        match found {
            Some(seen) if seen != value => {
                return Err(ApiError::Unauthenticated(
                    "the user-id header is given more than once with different values",
                ))
            }
            _ => found = Some(value),
        }
    }
    let value = found.ok_or(ApiError::Unauthenticated(
        "the user-id header is required: the caller's id, a UUID",
    ))?;
    value
        .to_str()
        .ok()
        .and_then(|text| Uuid::parse_str(text.trim()).ok())
        .map(UserId::from_uuid)
        .ok_or(ApiError::Unauthenticated(
            "the user-id header must be a UUID",
        ))
}
