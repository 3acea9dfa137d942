//! Limits on what a request may carry.

/// Largest request body accepted, in bytes; a longer one is answered 413.
pub const MAX_BODY_BYTES: usize = 65_536;
