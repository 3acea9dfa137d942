//! What wraps every request: its id and log span, and the guarantee that every error (a panic
//! included) is answered as JSON.
//!
//! From the outside in: [`tracing_actix_web::TracingLogger`] with [`RequestSpan`] (the root span,
//! carrying the request id and the trace id), `observe::observe` (metrics and error reports),
//! [`request_id`] (the `x-request-id` response header and one log line per request), the gate
//! (shedding, identity, rate limits), [`json_errors`] (panics become 500, any non-JSON error
//! body becomes JSON).

use crate::error::ApiError;
use crate::report::Panicked;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::FutureExt;
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::time::Instant;
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use uuid::Uuid;

/// The header carrying the request id, in and out.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a client; a longer (or non-printable) one is replaced.
const MAX_REQUEST_ID_LEN: usize = 200;

/// The id of the request being served, kept in the request's extensions.
#[derive(Debug, Clone)]
struct RequestId(String);

/// The route template the request's path matches (none when it matches no route), found once
/// by the root span builder.
#[derive(Debug, Clone)]
pub(crate) struct RoutePattern(pub Option<String>);

/// The request's id: the one already chosen, else the client's `x-request-id` when it is 1..=200
/// visible ASCII characters, else a new UUID. Chosen once and kept in the request.
pub(crate) fn request_id_of(req: &ServiceRequest) -> String {
    if let Some(RequestId(id)) = req.extensions().get::<RequestId>() {
        return id.clone();
    }
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=MAX_REQUEST_ID_LEN).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    id
}

/// The root span of each request: method, route, target, status, the request id and the trace
/// id (the caller's, from `traceparent`, else a new one), so that every log line of the request
/// carries both.
#[derive(Debug)]
pub(crate) struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request_id_of(request);
        // Matching the path against the routes is a good share of a GET's cost: done once here,
        // and kept for the metrics (`crate::observe`).
        let pattern = request.match_pattern();
        request
            .extensions_mut()
            .insert(RoutePattern(pattern.clone()));
        let route = pattern.unwrap_or_else(|| "default".to_owned());
        let (parent, trace_id) = crate::trace::remote_trace(request);
        let span = tracing::info_span!(
            "HTTP request",
            otel.name = %format_args!("{} {route}", request.method()),
            otel.kind = "server",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.uri().path_and_query().map_or("", |p| p.as_str()),
            http.status_code = Empty,
            otel.status_code = Empty,
            exception.message = Empty,
            exception.details = Empty,
            request_id = %request_id,
            trace_id = %crate::trace::hex(trace_id),
        );
        crate::trace::join_trace(request, &span, parent, trace_id);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // The status and error fields are for the exported span: the log line of the request
        // ("request completed") carries the status already, and no line of the request follows
        // this point to show them. Recording them re-formats the span's fields for the log
        // lines each time (the largest part of a GET's logging cost): skipped when not
        // exporting.
        if crate::trace::exported(&span) {
            DefaultRootSpanBuilder::on_request_end(span, outcome);
        }
    }
}

/// Puts `x-request-id` on the response (whatever produced it) and logs one line per request,
/// inside the request's span.
///
/// No middleware here holds a clone of the request while the inner service runs (actix-web's
/// router needs the only reference to it), so an error that reaches this point as `Err` has no
/// response yet: it is wrapped so that the response actix-web makes from it carries the id too.
pub(crate) async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id_of(&req);
    let started = Instant::now();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(status = status.as_u16(), elapsed_ms, "request completed");
    match outcome {
        Ok(mut response) => {
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(X_REQUEST_ID, value);
            }
            Ok(response)
        }
        Err(error) => Err(match HeaderValue::from_str(&id) {
            Ok(value) => with_headers(error, vec![(X_REQUEST_ID, value)]),
            Err(_) => error,
        }),
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

/// Turns a panic inside the app into a 500 JSON answer (the server keeps serving), and any
/// error response whose body is not JSON (actix-web's own 404 of a sub-service, a library's
/// plain-text error, an empty body) into the JSON error shape, keeping its status and headers.
pub(crate) async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let panicked = req.extensions().get::<Panicked>().cloned();
    let outcome = AssertUnwindSafe(async move { next.call(req).await })
        .catch_unwind()
        .await;
    match outcome {
        Ok(Ok(response)) => Ok(ensure_json(response.map_into_boxed_body())),
        Ok(Err(error)) if error.as_error::<ApiError>().is_some() => Err(error),
        Ok(Err(error)) => {
            let status = error.as_response_error().status_code();
            Err(ApiError::Other {
                status,
                message: sentence(status, Some(error.to_string())),
            }
            .into())
        }
        Err(panic) => {
            if let Some(panicked) = panicked {
                panicked.set();
            }
            tracing::error!(panic = %panic_message(panic.as_ref()), "a handler panicked");
            Err(ApiError::Panic.into())
        }
    }
}

/// What to tell the client about an error produced outside this crate: for a 5xx a generic
/// sentence (the cause is logged), else the error's own text or the status's reason.
fn sentence(status: StatusCode, cause: Option<String>) -> String {
    if status.is_server_error() {
        tracing::error!(%status, error = cause.as_deref().unwrap_or(""), "server error");
        return "an internal error occurred; it has been logged".to_owned();
    }
    cause.filter(|c| !c.is_empty()).unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_lowercase()
    })
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not a string)")
}

fn ensure_json(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (request, old) = response.into_parts();
    let message = sentence(status, old.error().map(ToString::to_string));
    let mut new = ApiError::Other { status, message }.error_response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, new)
}
