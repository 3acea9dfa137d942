//! The ids in the path.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use provider_domain::ProviderId;
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
