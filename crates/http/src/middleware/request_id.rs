//! The request's id: the client's `x-request-id` when it is usable, else a new UUID, chosen
//! once ([`request_id_of`]); [`request_id`] puts it on every response and logs the one line
//! of each request (`request completed`, with `status` and `elapsed_ms`).

use crate::error::with_headers;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use std::time::Instant;
use uuid::Uuid;

/// The header carrying the request id, in and out.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a client; a longer (or non-printable) one is replaced.
const MAX_REQUEST_ID_LEN: usize = 200;

/// The id of the request being served, kept in the request's extensions.
#[derive(Debug, Clone)]
struct RequestId(String);

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
