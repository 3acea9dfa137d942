//! The `Idempotency-Key` of a create or a review, and what makes two requests with it the same.

use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use provider_domain::UserId;
use provider_ports::{Fingerprint, IdempotencyKey, IdempotentRequest};
use std::future::{ready, Ready};

/// The `Idempotency-Key` header.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` of a create, when given: 1..=255 visible ASCII characters, else 422 on
/// field `Idempotency-Key` (so is the header given twice).
#[derive(Debug, Clone)]
pub(crate) struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl IdempotencyKeyHeader {
    /// The idempotent request of `caller` on `route` (method and path, with the provider id in
    /// it) with this `body`, when a key was given. Bodies equal as JSON values (whatever their
    /// spacing or key order) give the same fingerprint.
    pub(crate) fn request(
        &self,
        caller: UserId,
        route: &str,
        body: &[u8],
    ) -> Option<IdempotentRequest> {
        let key = self.0.clone()?;
        Some(IdempotentRequest {
            caller,
            key,
            fingerprint: Fingerprint::of(&[route.as_bytes(), canonical_json(body).as_bytes()]),
        })
    }
}

impl FromRequest for IdempotencyKeyHeader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
        let Some(first) = values.next() else {
            return ready(Ok(IdempotencyKeyHeader(None)));
        };
        if values.next().is_some() {
            return ready(Err(ApiError::unprocessable(
                "Idempotency-Key",
                "is given more than once",
            )));
        }
        ready(
            IdempotencyKey::parse(first.as_bytes())
                .map(|key| IdempotencyKeyHeader(Some(key)))
                .map_err(|e| ApiError::unprocessable("Idempotency-Key", e.to_string())),
        )
    }
}

/// The canonical text of a JSON body: objects with their keys sorted, no white space, numbers
/// and strings as serde_json writes them. The body has been read as JSON already; should it not
/// parse, its bytes stand for themselves.
fn canonical_json(body: &[u8]) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => {
            let mut out = String::new();
            write(&value, &mut out);
            out
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_equal_as_json_values_are_canonically_equal() {
        let a = canonical_json(br#"{"b": [1, {"y": 2, "x": "\u00e9"}], "a": null}"#);
        let b = canonical_json("{\"a\":null,\"b\":[1,{\"x\":\"é\",\"y\":2}]}".as_bytes());
        assert_eq!(a, b);
        assert_ne!(
            a,
            canonical_json(r#"{"a": null, "b": [{"x": "é", "y": 2}, 1]}"#.as_bytes())
        );
    }
}
