//! The middleware, one concern per module, and the [`gate::Gate`] they share.
//!
//! From the outside in, as [`crate::app_with`] wraps them:
//!
//! 1. [`tracing_actix_web::TracingLogger`] with [`span::RequestSpan`]: the root span of the
//!    request, carrying its id and trace id (W3C trace context).
//! 2. [`observe::observe`]: request metrics, and error reports of 500s, 503s and panics
//!    ([`report`]).
//! 3. [`request_id::request_id`]: the `x-request-id` response header, and the one log line of
//!    the request.
//! 4. [`gate::gate`]: load shedding ([`load_shedding`]), identity (`crate::identity`), rate
//!    limits ([`rate_limit`]).
//! 5. [`json_errors::json_errors`]: a panic becomes a 500, any error body that is not JSON
//!    becomes JSON.

pub(crate) mod gate;
pub(crate) mod json_errors;
pub(crate) mod load_shedding;
pub(crate) mod observe;
pub(crate) mod rate_limit;
pub(crate) mod report;
pub(crate) mod request_id;
pub(crate) mod span;
