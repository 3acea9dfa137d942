//! Request metrics: `http_server_request_duration_seconds` and `http_server_active_requests`
//! for every request, and error reports of its 500s, 503s and panics. The labels are a known
//! method name, the matched route template (never the raw path) and the status: no id or user
//! input. (`GET /metrics` renders them: `crate::routes::metrics`.)

use crate::middleware::gate::{Gate, MetricsRoute};
use crate::middleware::report::{self, Failed, Panicked};
use crate::middleware::request_id::request_id_of;
use crate::middleware::span::{RequestTrace, RoutePattern};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use provider_telemetry::{Metrics, UNMATCHED_ROUTE};
use std::time::Instant;

/// Times every request and counts it as active while it is served, with the outcome's status
/// (an error's status when the request ends in one: the response actix-web makes from it), and
/// reports its 500s, 503s and panics. With metrics turned off and no error reports, it only
/// passes the request on.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let metrics = req
        .app_data::<web::Data<Gate>>()
        .filter(|gate| gate.metrics_route() != MetricsRoute::Off)
        .map(|gate| gate.metrics().clone());
    let reports = report::enabled();
    if metrics.is_none() && !reports {
        return next.call(req).await;
    }
    let method = method_label(req.method());
    let route = route_label(&req);
    // What only an error report needs is gathered only when reports are sent.
    let reported = reports.then(|| {
        let panicked = Panicked::default();
        req.extensions_mut().insert(panicked.clone());
        let trace_id = req.extensions().get::<RequestTrace>().map(|t| t.0.clone());
        (request_id_of(&req), trace_id, panicked)
    });
    let active = metrics.as_ref().map(Metrics::request_started);
    let started = Instant::now();
    let outcome = next.call(req).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed = started.elapsed();
    drop(active);
    if let Some((request_id, trace_id, panicked)) = reported {
        report::server_error(&Failed {
            status,
            method,
            route: &route,
            request_id: &request_id,
            trace_id: trace_id.as_deref(),
            panicked: &panicked,
        });
    }
    if let Some(metrics) = metrics {
        metrics.record_request(method, route, status.as_u16(), elapsed);
    }
    outcome
}

/// The method as a label: one of the standard methods, else `_OTHER` (a client may send any
/// token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// The route template the path matches (`/v1_0/service-provider/{id}`), else
/// [`UNMATCHED_ROUTE`]. A path caught only by a scope's default service has no template of its
/// own and counts as unmatched.
fn route_label(req: &ServiceRequest) -> String {
    let found = req.extensions().get::<RoutePattern>().map(|p| p.0.clone());
    // Without the root span builder (an app built without it) the path is matched here.
    found
        .unwrap_or_else(|| req.match_pattern())
        .filter(|pattern| pattern != "/v1_0" && pattern != "/v1_0/")
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned())
}
