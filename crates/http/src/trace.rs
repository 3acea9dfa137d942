//! W3C trace context: a request joins the trace its `traceparent` header names (through the
//! global propagator the binary installs), and its span records the trace id.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use actix_web::HttpMessage;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{TraceContextExt, TraceId};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

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

/// Makes `span` a child of the remote span the request's trace headers name (when any), records
/// its trace id in the span's `trace_id` field and keeps it in the request's extensions.
///
/// With an OpenTelemetry layer in the subscriber (the binary adds one only when it exports
/// spans) the layer's trace id is used: the caller's, else one it made. Without one, nothing
/// OpenTelemetry would build is paid for: the trace id is the caller's, else a random one.
pub(crate) fn join_trace(req: &ServiceRequest, span: &Span) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(req.headers()))
    });
    let remote = parent.span().span_context().trace_id();
    let trace_id = match span.set_parent(parent) {
        Ok(()) => span.context().span().span_context().trace_id(),
        // No layer (or the span is filtered out): nothing joins a trace, but the logs and the
        // error reports still carry the caller's trace id, or a new one.
        Err(_) if remote != TraceId::INVALID => remote,
        Err(_) => TraceId::from_bytes(Uuid::new_v4().into_bytes()),
    };
    let trace_id = format!("{trace_id:032x}");
    span.record("trace_id", trace_id.as_str());
    req.extensions_mut().insert(RequestTrace(trace_id));
}
