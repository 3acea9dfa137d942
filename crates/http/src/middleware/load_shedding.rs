//! Load shedding: past `MAX_IN_FLIGHT` requests served at once, a request is answered 503 with
//! `Retry-After: 1` before any work is done for it. The probes are never shed.

use crate::error::ApiError;
use provider_telemetry::Metrics;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Routes that are never shed: the probes an orchestrator relies on during an overload.
pub(crate) fn never_shed(path: &str) -> bool {
    matches!(path, "/v1_0/health" | "/v1_0/health/ready" | "/metrics")
}

/// The requests in flight and how many may be: one per process (the gate holds it).
#[derive(Debug)]
pub(crate) struct LoadShedder {
    max_in_flight: usize,
    in_flight: AtomicUsize,
}

/// Holds a place among the requests in flight until dropped.
#[derive(Debug)]
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl LoadShedder {
    /// At most `max_in_flight` requests at once.
    pub(crate) fn new(max_in_flight: usize) -> Self {
        Self {
            max_in_flight,
            in_flight: AtomicUsize::new(0),
        }
    }

    /// A place for a request to `path` among those in flight, held until dropped (none for a
    /// route that is never shed).
    ///
    /// # Errors
    /// [`ApiError::Overloaded`] when every place is taken; `metrics` counts it.
    pub(crate) fn admit(
        &self,
        path: &str,
        metrics: &Metrics,
    ) -> Result<Option<InFlight<'_>>, ApiError> {
        if never_shed(path) {
            return Ok(None);
        }
        let place = InFlight(&self.in_flight);
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.max_in_flight {
            drop(place);
            metrics.shed();
            return Err(ApiError::Overloaded);
        }
        Ok(Some(place))
    }
}
