//! [`Caller`] as an extractor: the caller of a route that needs one (`crate::identity`).

use crate::error::ApiError;
use crate::identity::{header_caller, Caller};
use crate::middleware::gate::Gate;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use provider_domain::ModerationError;
use provider_ports::ServiceError;
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
        let gate = req.app_data::<web::Data<Gate>>();
        if gate.is_some_and(|gate| gate.authentication().is_jwt()) {
            return ready(Err(ApiError::MissingBearer));
        }
        ready(header_caller(req).map(|user| {
            let caller = Caller(user, false);
            gate.map_or(caller, |gate| gate.with_role(caller))
        }))
    }
}

/// The caller of a route anyone may call, when identified: reads that answer more to some
/// callers (a held review to its author and to moderators) than to anyone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The gate identified the caller if anyone; without a gate (an app built without
        // one), header mode.
        let caller = Caller::from_request(req, payload).into_inner().ok();
        ready(Ok(Self(caller)))
    }
}

/// The caller of a moderation route: identified (else 401, as [`Caller`]) and a moderator
/// (else 403), checked before the path and the body are read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moderator(pub Caller);

impl FromRequest for Moderator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(
            Caller::from_request(req, payload)
                .into_inner()
                .and_then(|caller| {
                    if caller.1 {
                        Ok(Self(caller))
                    } else {
                        Err(ApiError::Service(ServiceError::Refused(
                            ModerationError::NotAModerator,
                        )))
                    }
                }),
        )
    }
}

/// A reader of the events feed: anyone in header mode; in JWT mode an identified caller (else
/// 401 with `WWW-Authenticate: Bearer`), as every other route there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FeedReader;

impl FromRequest for FeedReader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let gate = req.app_data::<web::Data<Gate>>();
        if gate.is_some_and(|gate| gate.authentication().is_jwt()) {
            return ready(
                Caller::from_request(req, payload)
                    .into_inner()
                    .map(|_| Self),
            );
        }
        ready(Ok(Self))
    }
}
