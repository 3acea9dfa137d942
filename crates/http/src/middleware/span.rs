//! The root span of each request ([`RequestSpan`], for [`tracing_actix_web::TracingLogger`]):
//! method, route, target, the request id and the trace id, so that every log line of the
//! request carries both. W3C trace context: a request joins the trace its `traceparent` header
//! names (through the global propagator the binary installs), and its span records the trace id.

use crate::middleware::request_id::request_id_of;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::{Error, HttpMessage};
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{TraceContextExt, TraceId};
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

/// The route template the request's path matches (none when it matches no route), found once
/// by the root span builder.
#[derive(Debug, Clone)]
pub(crate) struct RoutePattern(pub Option<String>);

/// The root span of each request: method, route, target, status, the request id and the trace
/// id (the caller's, from `traceparent`, else a new one), so that every log line of the request
/// carries both.
#[derive(Debug)]
pub(crate) struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request_id_of(request);
        // Matching the path against the routes is a good share of a GET's cost: done once here,
        // and kept for the metrics (`crate::middleware::observe`).
        let pattern = request.match_pattern();
        request
            .extensions_mut()
            .insert(RoutePattern(pattern.clone()));
        let route = pattern.unwrap_or_else(|| "default".to_owned());
        let (parent, trace_id) = remote_trace(request);
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
            trace_id = %hex(trace_id),
        );
        join_trace(request, &span, parent, trace_id);
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // The status and error fields are for the exported span: the log line of the request
        // ("request completed") carries the status already, and no line of the request follows
        // this point to show them. Recording them re-formats the span's fields for the log
        // lines each time (the largest part of a GET's logging cost): skipped when not
        // exporting.
        if exported(&span) {
            DefaultRootSpanBuilder::on_request_end(span, outcome);
        }
    }
}

/// The request's headers, read by the propagator.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The request's trace id (32 lowercase hex digits), kept in its extensions for error reports.
#[derive(Debug, Clone)]
pub(crate) struct RequestTrace(pub String);

/// The trace context the request's headers name (through the global propagator), and the
/// trace id its span starts with: the caller's, else a new random one.
pub(crate) fn remote_trace(req: &ServiceRequest) -> (opentelemetry::Context, TraceId) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(req.headers()))
    });
    let remote = parent.span().span_context().trace_id();
    let trace_id = if remote == TraceId::INVALID {
        TraceId::from_bytes(Uuid::new_v4().into_bytes())
    } else {
        remote
    };
    (parent, trace_id)
}

/// The 32 lowercase hex digits of `id`.
pub(crate) fn hex(id: TraceId) -> String {
    format!("{id:032x}")
}

/// Makes `span` (made with `trace_id` in its `trace_id` field) a child of `parent`, and keeps
/// the request's trace id in its extensions.
///
/// With an OpenTelemetry layer in the subscriber (the binary adds one only when it exports
/// spans) the layer's trace id is the request's: the caller's, else one the layer made, then
/// recorded over the span's. Without one, nothing OpenTelemetry would build is paid for, and
/// the span's field is not written twice (each record re-formats the span's fields for the
/// log lines): the trace id is the caller's, else the random one.
pub(crate) fn join_trace(
    req: &ServiceRequest,
    span: &Span,
    parent: opentelemetry::Context,
    trace_id: TraceId,
) {
    let trace_id = match span.set_parent(parent) {
        Ok(()) => {
            let layers = span.context().span().span_context().trace_id();
            if layers != trace_id {
                span.record("trace_id", hex(layers).as_str());
            }
            layers
        }
        Err(_) => trace_id,
    };
    req.extensions_mut().insert(RequestTrace(hex(trace_id)));
}

/// Whether `span` is exported (an OpenTelemetry layer keeps a context for it).
pub(crate) fn exported(span: &Span) -> bool {
    span.context().span().span_context().is_valid()
}
