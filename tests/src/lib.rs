//! End-to-end tests of the provider-api binary live in `tests/`.
