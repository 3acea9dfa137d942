//! Error reports: every 500, 503 and panic becomes one Sentry event carrying the request id,
//! the trace id, the method, the route template and the status (the release is set by the
//! client the binary installs with `SENTRY_DSN`). Nothing else from the request is sent: no
//! body, no path, no header value, no query, no panic message (a panic's text may quote input;
//! the log has it). Without a client (no `SENTRY_DSN`, or in tests) this does nothing.

use actix_web::http::StatusCode;
use sentry::protocol::{Event, Level};
use std::cell::Cell;
use std::rc::Rc;

/// Set by the panic catcher when the request's handler panicked (kept in the request's
/// extensions, so that the reporter, further out, can tell a panic from another 500).
#[derive(Debug, Clone, Default)]
pub(crate) struct Panicked(Rc<Cell<bool>>);

impl Panicked {
    pub(crate) fn set(&self) {
        self.0.set(true);
    }

    fn get(&self) -> bool {
        self.0.get()
    }
}

/// What an error report says about the request.
#[derive(Debug)]
pub(crate) struct Failed<'a> {
    pub status: StatusCode,
    pub method: &'static str,
    pub route: &'a str,
    pub request_id: &'a str,
    pub trace_id: Option<&'a str>,
    pub panicked: &'a Panicked,
}

/// Whether reports are sent at all (the binary made a Sentry client): when not, nothing about
/// a request needs to be kept for them.
pub(crate) fn enabled() -> bool {
    sentry::Hub::current()
        .client()
        .is_some_and(|client| client.is_enabled())
}

/// Reports the request when it ended in a 500, a 503 or a panic; otherwise does nothing. Call
/// it inside the request's span (its trace id is the report's).
pub(crate) fn server_error(failed: &Failed<'_>) {
    let panicked = failed.panicked.get();
    let status = failed.status.as_u16();
    if !(panicked || status == 500 || status == 503) {
        return;
    }
    let message = if panicked {
        format!("panic in {} {}", failed.method, failed.route)
    } else {
        format!("{status} on {} {}", failed.method, failed.route)
    };
    let mut event = Event {
        level: Level::Error,
        logger: Some("provider_http".into()),
        message: Some(message),
        ..Event::default()
    };
    let tags = [
        ("request_id", failed.request_id.to_owned()),
        ("method", failed.method.to_owned()),
        ("route", failed.route.to_owned()),
        ("status", status.to_string()),
        ("panic", panicked.to_string()),
    ];
    event
        .tags
        .extend(tags.into_iter().map(|(k, v)| (k.to_owned(), v)));
    if let Some(trace_id) = failed.trace_id {
        event
            .tags
            .insert("trace_id".to_owned(), trace_id.to_owned());
    }
    sentry::capture_event(event);
}
