//! Who is calling: one [`Caller`] type, found in one of two modes ([`Authentication`]).
//!
//! - Header mode ([`header`]): the `user-id` header is believed as sent (right behind a gateway
//!   that authenticates callers and sets it).
//! - JWT mode ([`jwt`]): the caller is the `sub` claim of a bearer token whose signature,
//!   algorithm and times this server verifies itself.
//!
//! The gate (`crate::middleware::gate`) identifies every request but the probes and the
//! document once, before its rate limit (the caller's bucket depends on who it is), and keeps
//! the [`Caller`] in the request's extensions; a route that needs a caller extracts it
//! (`crate::extract::caller`).

mod header;
mod jwt;

pub(crate) use header::header_caller;
pub(crate) use jwt::bearer_token;
pub use jwt::{
    JwtConfigError, JwtKey, JwtSettings, JwtVerifier, Proven, DEFAULT_ROLES_CLAIM, JWT_LEEWAY_SECS,
    MIN_HS256_SECRET_BYTES, MODERATOR_ROLE,
};

use crate::error::ApiError;
use actix_web::HttpRequest;
use provider_domain::UserId;

/// The identified caller of a request: the user it proved to be (header mode: named), and
/// whether they moderate reviews (listed in `MODERATOR_IDS`, or in JWT mode holding the
/// `moderator` role in the token's roles claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caller(pub UserId, pub bool);

impl Caller {
    /// The caller as the domain's moderation rules see them.
    pub(crate) const fn moderation(self) -> provider_domain::Caller {
        provider_domain::Caller {
            id: self.0,
            moderator: self.1,
        }
    }
}

/// How callers prove who they are.
#[derive(Debug, Default)]
pub enum Authentication {
    /// The `user-id` header (or `user_id`), believed as sent.
    #[default]
    Header,
    /// `Authorization: Bearer <JWT>`, verified; the `user-id` header is ignored.
    Jwt(Box<JwtVerifier>),
}

impl Authentication {
    /// Who the request says it is. Header mode: a well-formed `user-id`, else nobody (a write
    /// route refuses nobody with 401; a read ignores a malformed header). JWT mode: a valid
    /// bearer token's `sub`, nobody without a bearer token.
    ///
    /// # Errors
    /// JWT mode: [`ApiError::InvalidToken`] for a bad bearer token, on any route.
    pub(crate) fn identify(&self, req: &HttpRequest) -> Result<Option<Caller>, ApiError> {
        match self {
            Self::Header => Ok(header_caller(req).ok().map(|user| Caller(user, false))),
            Self::Jwt(verifier) => match bearer_token(req) {
                None => Ok(None),
                Some(token) => verifier
                    .verify(token)
                    .map(|proven| Some(Caller(proven.user, proven.moderator)))
                    .map_err(ApiError::InvalidToken),
            },
        }
    }

    /// Whether callers prove who they are with a bearer token.
    pub(crate) fn is_jwt(&self) -> bool {
        matches!(self, Self::Jwt(_))
    }
}
