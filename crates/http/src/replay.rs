//! Answers kept for idempotent retries (`Idempotency-Key`): which answers are kept (the 2xx),
//! what a kept answer is as the ports keep it (an opaque [`StoredAnswer`]), and its replay
//! (with `Idempotency-Replayed: true`).
//!
//! A kept answer is a status, the headers that matter (`Location`, `ETag`) and the body, in
//! this format, version 1: the byte 1; the status, 2 bytes big-endian; the number of headers,
//! 2 bytes; each header's name then value, each as 2 bytes of length and its bytes; then the
//! body, to the end. The migration `2026-12-06-000000_opaque_answers` wrote the answers kept
//! before in this format: change it only under a new version byte, still reading this one for
//! as long as answers are kept ([`provider_ports::idempotency::RETENTION`]).

use crate::error::ApiError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use provider_ports::{Answered, Outcome, ServiceError, StoredAnswer};
use serde::Serialize;

/// The header marking a replayed answer.
const IDEMPOTENCY_REPLAYED: HeaderName = HeaderName::from_static("idempotency-replayed");

/// The first byte of a kept answer: its format.
const FORMAT: u8 = 1;

/// An answer to a write that may be kept: a JSON body with its status and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

/// The outcome of an idempotent write answering `body` as JSON with `status` and `headers`:
/// kept for replays when it is a success (2xx), else not (the key is given up, so that a retry
/// runs again).
///
/// # Errors
/// [`ServiceError::Internal`] when the body cannot be written as JSON or a header value is not
/// one.
pub(crate) fn json(
    status: StatusCode,
    headers: Vec<(HeaderName, String)>,
    body: &impl Serialize,
) -> Result<Outcome<Answer>, ServiceError> {
    let headers = headers
        .into_iter()
        .map(|(name, value)| HeaderValue::try_from(value).map(|value| (name, value)))
        .collect::<Result<_, _>>()
        .map_err(|e| ServiceError::Internal(e.into()))?;
    let body = serde_json::to_vec(body).map_err(|e| ServiceError::Internal(e.into()))?;
    let answer = Answer {
        status,
        headers,
        body,
    };
    Ok(if status.is_success() {
        Outcome::Keep {
            stored: answer.encode(),
            answer,
        }
    } else {
        Outcome::Discard(answer)
    })
}

/// The response of an answer, first or replayed (then with `Idempotency-Replayed: true`).
///
/// # Errors
/// A 500 when a kept answer cannot be read back.
pub(crate) fn respond(answered: Answered<Answer>) -> Result<HttpResponse, ApiError> {
    let (answer, replayed) = match answered {
        Answered::Fresh(answer) => (answer, false),
        Answered::Replayed(stored) => (Answer::decode(stored.as_bytes())?, true),
    };
    let mut response = HttpResponse::build(answer.status);
    response.content_type(actix_web::mime::APPLICATION_JSON);
    for header in answer.headers {
        response.insert_header(header);
    }
    if replayed {
        response.insert_header((IDEMPOTENCY_REPLAYED, HeaderValue::from_static("true")));
    }
    Ok(response.body(answer.body))
}

impl Answer {
    /// The answer as kept (see the module's documentation for the format).
    fn encode(&self) -> StoredAnswer {
        let mut bytes = vec![FORMAT];
        bytes.extend_from_slice(&self.status.as_u16().to_be_bytes());
        push_length(&mut bytes, self.headers.len());
        for (name, value) in &self.headers {
            push_length(&mut bytes, name.as_str().len());
            bytes.extend_from_slice(name.as_str().as_bytes());
            push_length(&mut bytes, value.len());
            bytes.extend_from_slice(value.as_bytes());
        }
        bytes.extend_from_slice(&self.body);
        StoredAnswer::from_bytes(bytes)
    }

    /// A kept answer read back.
    fn decode(bytes: &[u8]) -> Result<Self, ApiError> {
        let unreadable = |what: &str| {
            ApiError::Service(ServiceError::Internal(
                format!("a kept idempotent answer cannot be read: {what}").into(),
            ))
        };
        let mut rest = bytes;
        if take(&mut rest, 1) != Some(&[FORMAT][..]) {
            return Err(unreadable("not in format 1"));
        }
        let status = take_u16(&mut rest)
            .and_then(|status| StatusCode::from_u16(status).ok())
            .ok_or_else(|| unreadable("the status"))?;
        let count = take_u16(&mut rest).ok_or_else(|| unreadable("the number of headers"))?;
        let mut headers = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let name = take_field(&mut rest)
                .and_then(|name| HeaderName::from_bytes(name).ok())
                .ok_or_else(|| unreadable("a header name"))?;
            let value = take_field(&mut rest)
                .and_then(|value| HeaderValue::from_bytes(value).ok())
                .ok_or_else(|| unreadable("a header value"))?;
            headers.push((name, value));
        }
        Ok(Self {
            status,
            headers,
            body: rest.to_vec(),
        })
    }
}

/// A length, as 2 bytes big-endian (headers are far shorter than 64 KiB: actix-web refuses
/// longer ones, and these are written by this crate).
fn push_length(bytes: &mut Vec<u8>, length: usize) {
    let length = u16::try_from(length).unwrap_or(u16::MAX);
    bytes.extend_from_slice(&length.to_be_bytes());
}

/// The first `n` bytes of `rest`, taken off it.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (taken, left) = rest.split_at(n);
    *rest = left;
    Some(taken)
}

/// A 2-byte big-endian number taken off `rest`.
fn take_u16(rest: &mut &[u8]) -> Option<u16> {
    take(rest, 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

/// A field written with its 2-byte length, taken off `rest`.
fn take_field<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let length = take_u16(rest)?;
    take(rest, usize::from(length))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header;

    fn created() -> Answer {
        Answer {
            status: StatusCode::CREATED,
            headers: vec![
                (header::LOCATION, HeaderValue::from_static("/v1_0/x")),
                (header::ETAG, HeaderValue::from_static("\"1\"")),
            ],
            body: br#"{"id":1}"#.to_vec(),
        }
    }

    #[test]
    fn a_kept_answer_is_written_in_format_1() {
        // The bytes the migration `2026-12-06-000000_opaque_answers` writes for the same
        // answer (crates/postgres-adapter/tests/migrations.rs checks them there).
        let mut expected = vec![1, 0, 201, 0, 2];
        expected.extend_from_slice(b"\0\x08location\0\x07/v1_0/x\0\x04etag\0\x03\"1\"");
        expected.extend_from_slice(br#"{"id":1}"#);
        assert_eq!(created().encode().into_bytes(), expected);
    }

    #[test]
    fn a_kept_answer_reads_back_as_it_was() {
        let answer = created();
        assert_eq!(Answer::decode(answer.encode().as_bytes()).unwrap(), answer);
        let bare = Answer {
            status: StatusCode::OK,
            headers: vec![],
            body: vec![],
        };
        assert_eq!(Answer::decode(bare.encode().as_bytes()).unwrap(), bare);
    }

    #[test]
    fn an_answer_in_another_format_or_cut_short_is_not_read() {
        let bytes = created().encode().into_bytes();
        assert!(Answer::decode(&[]).is_err());
        assert!(Answer::decode(&[2, 0, 201, 0, 0]).is_err());
        assert!(Answer::decode(&bytes[..12]).is_err());
        assert!(Answer::decode(&[1, 0, 20, 0, 0]).is_err(), "status 20");
    }

    #[test]
    fn only_successes_are_kept() {
        let kept = json(StatusCode::CREATED, vec![], &serde_json::json!({})).unwrap();
        assert!(matches!(kept, Outcome::Keep { .. }));
        let refused = json(StatusCode::CONFLICT, vec![], &serde_json::json!({})).unwrap();
        assert!(matches!(refused, Outcome::Discard(_)));
    }
}
