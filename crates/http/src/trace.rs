//! W3C trace context: a request joins the trace its `traceparent` header names (through the
//! global propagator the binary installs), and its span records the trace id.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{TraceContextExt, TraceId};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

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

/// Makes `span` a child of the remote span the request's trace headers name (when any) and
/// records its trace id in the span's `trace_id` field. Without an OpenTelemetry layer in the
/// subscriber (tests of this crate) there is no trace id, and the field stays empty.
pub(crate) fn join_trace(req: &ServiceRequest, span: &Span) {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(req.headers()))
    });
    // An error here means the span is disabled (filtered out): nothing to join.
    let _ = span.set_parent(parent);
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id != TraceId::INVALID {
        span.record(
            "trace_id",
            tracing::field::display(format_args!("{trace_id:032x}")),
        );
    }
}

/// The trace id of the current span (the request's, inside a request), when there is one.
pub(crate) fn current_trace_id() -> Option<String> {
    let trace_id = Span::current().context().span().span_context().trace_id();
    (trace_id != TraceId::INVALID).then(|| format!("{trace_id:032x}"))
}
