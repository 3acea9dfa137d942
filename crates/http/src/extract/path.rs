//! The ids in the path.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use provider_domain::{FlagId, ProviderId, ReviewId};
use std::future::{ready, Ready};
use uuid::Uuid;

/// The `{id}` segment of the path, a provider id. Not a UUID: 422 on field `id`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathId(pub ProviderId);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("id")
            .and_then(|text| Uuid::parse_str(text).ok())
            .map(|id| PathId(ProviderId::from_uuid(id)))
            .ok_or_else(|| ApiError::unprocessable("id", "must be a UUID"));
        ready(id)
    }
}

/// The UUID in the path segment `name`; else 422 on field `name`.
fn uuid_in_path(req: &HttpRequest, name: &'static str) -> Result<Uuid, ApiError> {
    req.match_info()
        .get(name)
        .and_then(|text| Uuid::parse_str(text).ok())
        .ok_or_else(|| ApiError::unprocessable(name, "must be a UUID"))
}

/// The `{review_id}` segment of the path. Not a UUID: 422 on field `review_id`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReviewPathId(pub ReviewId);

impl FromRequest for ReviewPathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(uuid_in_path(req, "review_id").map(|id| Self(ReviewId::from_uuid(id))))
    }
}

/// The `{flag_id}` segment of the path. Not a UUID: 422 on field `flag_id`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlagPathId(pub FlagId);

impl FromRequest for FlagPathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(uuid_in_path(req, "flag_id").map(|id| Self(FlagId::from_uuid(id))))
    }
}
