//! [`Caller`] as an extractor: the caller of a route that needs one (`crate::identity`).

use crate::error::ApiError;
use crate::identity::{header_caller, Caller};
use crate::middleware::gate::Gate;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::{ready, Ready};

/// The caller of a route that needs one: the one the gate identified; else, in header mode, the
/// `user-id` (or `user_id`) header (missing, malformed, or given twice with different values:
/// 401); in JWT mode, 401 with `WWW-Authenticate: Bearer` (no token: a bad one never reaches a
/// handler).
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(caller) = req.extensions().get::<Caller>() {
            return ready(Ok(*caller));
        }
        let jwt = req
            .app_data::<web::Data<Gate>>()
            .is_some_and(|gate| gate.authentication().is_jwt());
        if jwt {
            return ready(Err(ApiError::MissingBearer));
        }
        ready(header_caller(req).map(Caller))
    }
}
