//! A span for each SQL statement a pool connection runs, for the trace export: named after the
//! statement's first keyword (`SELECT`, `INSERT`, …), with `db.statement` = the SQL text only.
//! Bound values (ids, names, skills a client sent) never reach a span: the text is taken from
//! diesel's end-of-query event, which carries the SQL without its binds.
//!
//! The spans are at DEBUG level: unless something wants them (the binary's trace exporter, or
//! `RUST_LOG=debug`), each statement costs one disabled-callsite check.

use diesel::connection::{Instrumentation, InstrumentationEvent};
use std::collections::VecDeque;
use tracing::field::Empty;
use tracing::Span;

/// The statements a connection has started and not finished yet, oldest first (diesel-async
/// finishes them in the order it started them).
#[derive(Debug, Default)]
pub(crate) struct StatementSpans {
    open: VecDeque<Span>,
}

impl Instrumentation for StatementSpans {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                self.open.push_back(tracing::debug_span!(
                    "sql statement",
                    otel.name = Empty,
                    otel.kind = "client",
                    otel.status_code = Empty,
                    db.system = "postgresql",
                    db.statement = Empty,
                ));
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(span) = self.open.pop_front() else {
                    return;
                };
                if span.is_disabled() {
                    return;
                }
                let sql = query.to_string();
                let sql = sql.trim();
                let keyword = sql
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                span.record("otel.name", keyword.as_str());
                span.record("db.statement", sql);
                if error.is_some() {
                    span.record("otel.status_code", "ERROR");
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
