//! The one error type of the HTTP layer, and the one place where errors become status codes.

use crate::limits::MAX_BODY_BYTES;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpResponse, ResponseError};
use provider_domain::{RefusalKind, ValidationError};
use provider_ports::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response: one readable sentence, plus the fields at fault when
/// there are any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "error": "the request has 1 invalid field(s): availability[1].to_date from_date must not be after to_date",
    "details": [{"field": "availability[1].to_date", "message": "from_date must not be after to_date"}]
}))]
pub struct ErrorBody {
    /// What went wrong, as one sentence.
    pub error: String,
    /// The fields at fault (omitted when the error is not about particular fields).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(nullable = false)]
    pub details: Vec<FieldDetail>,
}

/// One field at fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldDetail {
    /// Where the field sits: `name`, `skills[2]`, `availability[1].to_date`, `page`, `id`, ...
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldDetail {
    /// A detail about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Everything a request can fail with. [`ResponseError::status_code`] maps each variant (and
/// each [`ServiceError`] variant) to its status, and [`ResponseError::error_response`] writes
/// the JSON body ([`ErrorBody`]); nothing else in this crate picks an error status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What the use case reported: 422, 404, 403, 409, 412, 503 or 500 by variant.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The `user-id` header is missing or is not a UUID (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// JWT mode: the route needs an identity and the request has no bearer token (401).
    #[error("this route needs a caller: send Authorization: Bearer <JWT>")]
    MissingBearer,
    /// JWT mode: the bearer token does not prove an identity; says why (401).
    #[error("the bearer token is refused: {0}")]
    InvalidToken(String),
    /// The caller's rate limit is spent; it may retry after this many seconds (429).
    #[error("too many requests: the limit is spent; retry in {retry_after_secs} s")]
    RateLimited {
        /// Whole seconds until one more request is allowed, at least 1.
        retry_after_secs: u64,
    },
    /// More requests are in flight than the server takes at once (503, retry in 1 s).
    #[error("the server is busy; try again shortly")]
    Overloaded,
    /// The body is not syntactically valid JSON (400).
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// Part of the request (path, query string, or JSON of the wrong shape) was refused before
    /// reaching the use case (422).
    #[error("{error}")]
    Unprocessable {
        /// The sentence.
        error: String,
        /// The fields at fault.
        details: Vec<FieldDetail>,
    },
    /// The body is longer than [`MAX_BODY_BYTES`] (413).
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    /// The body is not declared as JSON (415).
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// No route matches the path (404).
    #[error("no route matches {method} {path}")]
    NoRoute {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// The route exists but not with this method (405); lists the methods it has.
    #[error("method {method} is not allowed here; allowed: {}", .allowed.join(", "))]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The methods the route answers.
        allowed: &'static [&'static str],
    },
    /// A handler panicked (500); the panic message is logged, never sent.
    #[error("internal error")]
    Panic,
    /// An error response produced outside this crate's handlers (by actix-web or a library),
    /// rewritten as JSON with its status kept.
    #[error("{message}")]
    Other {
        /// The status it had.
        status: StatusCode,
        /// A sentence describing it.
        message: String,
    },
}

/// The sentence sent for every 500: the cause goes to the logs, not to the client.
const INTERNAL_SENTENCE: &str = "an internal error occurred; it has been logged";
/// The sentence sent for every 503.
const UNAVAILABLE_SENTENCE: &str = "the data store is unavailable; try again shortly";

impl ApiError {
    /// A 422 about one field.
    pub(crate) fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        let detail = FieldDetail::new(field, message);
        Self::Unprocessable {
            error: format!("{} {}", detail.field, detail.message),
            details: vec![detail],
        }
    }

    /// A 422 about the fields of `what` (`the query string`, `the request body`): "`what` is
    /// invalid: `field` `message`; ...".
    pub(crate) fn invalid(what: &str, details: Vec<FieldDetail>) -> Self {
        let list = details
            .iter()
            .map(|d| format!("{} {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::Unprocessable {
            error: format!("{what} is invalid: {list}"),
            details,
        }
    }

    fn body(&self) -> ErrorBody {
        let (error, details) = match self {
            Self::Service(ServiceError::Invalid(invalid)) => {
                (invalid.to_string(), details(invalid))
            }
            Self::Service(ServiceError::Unavailable(_)) => (UNAVAILABLE_SENTENCE.into(), vec![]),
            Self::Service(ServiceError::Internal(_)) | Self::Panic => {
                (INTERNAL_SENTENCE.into(), vec![])
            }
            // The ports speak of keys and versions; a client, of the headers that carry them.
            Self::Service(ServiceError::PreconditionFailed) => (
                "the service provider has changed: If-Match does not name its current ETag \
                 (read it again)"
                    .into(),
                vec![],
            ),
            Self::Service(ServiceError::KeyInFlight) => (
                "a request with this Idempotency-Key is still being processed; retry later".into(),
                vec![],
            ),
            Self::Service(ServiceError::KeyReused) => (
                "this Idempotency-Key was used for a different request".into(),
                vec![FieldDetail::new(
                    "Idempotency-Key",
                    "was used for a different request (another body or route); use a new key",
                )],
            ),
            Self::Unprocessable { error, details } => (error.clone(), details.clone()),
            other => (other.to_string(), vec![]),
        };
        ErrorBody { error, details }
    }

    /// Logs what the client is not told: the cause of a 5xx.
    fn log(&self) {
        match self {
            Self::Service(ServiceError::Unavailable(source)) => {
                tracing::error!(error = %chain(source.as_ref()), "data store unavailable");
            }
            Self::Service(ServiceError::Internal(source)) => {
                tracing::error!(error = %chain(source.as_ref()), "internal error");
            }
            _ => {}
        }
    }
}

fn details(invalid: &ValidationError) -> Vec<FieldDetail> {
    invalid
        .fields()
        .iter()
        .map(|f| FieldDetail::new(f.field.clone(), f.error.to_string()))
        .collect()
}

/// `error: cause: cause of cause ...`
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<ValidationError> for ApiError {
    fn from(invalid: ValidationError) -> Self {
        Self::Service(ServiceError::Invalid(invalid))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Service(service) => match service {
                ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::NotFound => StatusCode::NOT_FOUND,
                ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
                ServiceError::Conflict(_) => StatusCode::CONFLICT,
                ServiceError::Refused(refused) => match refused.kind() {
                    RefusalKind::NotFound => StatusCode::NOT_FOUND,
                    RefusalKind::Forbidden => StatusCode::FORBIDDEN,
                    RefusalKind::Conflict => StatusCode::CONFLICT,
                },
                ServiceError::Missing(_) => StatusCode::NOT_FOUND,
                ServiceError::Gone(_) => StatusCode::GONE,
                ServiceError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
                ServiceError::KeyInFlight => StatusCode::CONFLICT,
                ServiceError::KeyReused => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Unauthenticated(_) | Self::MissingBearer | Self::InvalidToken(_) => {
                StatusCode::UNAUTHORIZED
            }
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NoRoute { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Panic => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Other { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthenticated(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"UserId header="user-id""#));
            }
            Self::MissingBearer => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::InvalidToken(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
            }
            Self::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, *retry_after_secs));
            }
            Self::Overloaded => {
                response.insert_header((header::RETRY_AFTER, 1));
            }
            Self::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, allowed.join(", ")));
            }
            _ => {}
        }
        response.json(self.body())
    }
}

/// `error`, answered with `headers` added to its response (whatever made it).
pub(crate) fn with_headers(error: Error, headers: Vec<(HeaderName, HeaderValue)>) -> Error {
    if headers.is_empty() {
        return error;
    }
    WithHeaders { error, headers }.into()
}

/// An error whose response carries extra headers.
#[derive(Debug)]
struct WithHeaders {
    error: Error,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for WithHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for WithHeaders {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.error.error_response();
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
        response
    }
}
