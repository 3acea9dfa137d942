//! The last word on errors: a panic inside the app becomes a 500 JSON answer (the server keeps
//! serving), and any error response whose body is not JSON becomes the JSON error shape.

use crate::error::ApiError;
use crate::middleware::report::Panicked;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::FutureExt;
use std::any::Any;
use std::panic::AssertUnwindSafe;

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
