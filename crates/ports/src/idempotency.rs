//! Idempotency keys: a key a client gives a write so that retrying it is safe, and the first
//! answer kept for replays. The rules live here and in [`crate::ProviderService::once`]; each
//! store keeps the records ([`crate::IdempotencyRepository`]).
//!
//! What an answer is, and which answers are worth keeping, is the driving adapter's business:
//! the core keeps an answer as opaque bytes ([`StoredAnswer`]), and the adapter says for each
//! outcome whether to keep it ([`Outcome`]).

use provider_domain::UserId;
use sha2::{Digest, Sha256};
use std::fmt;
use time::{Duration, OffsetDateTime};

/// How long a completed answer is kept for replays, from its completion.
pub const RETENTION: Duration = Duration::hours(24);

/// How long a pending claim (a first request still being processed) blocks its key. A process
/// that died mid-request leaves its claim pending; once it is older than this, the next
/// request with the key takes it over and runs. Every store operation is bounded well below
/// this (a few seconds), so a live request never loses its claim.
pub const RECLAIM_PENDING_AFTER: Duration = Duration::seconds(60);

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// A client's idempotency key: 1..=255 visible ASCII characters (`!`..=`~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

/// Why a text is not an [`IdempotencyKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_KEY_LEN`].
    #[error("must be at most {MAX_KEY_LEN} characters")]
    TooLong,
    /// A character outside visible ASCII.
    #[error("must be visible ASCII characters only (no spaces or control characters)")]
    NotVisibleAscii,
}

impl IdempotencyKey {
    /// Checks `text` as a key.
    ///
    /// # Errors
    /// [`KeyError`] saying what is wrong with it.
    pub fn parse(text: &[u8]) -> Result<Self, KeyError> {
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        if text.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        if !text.iter().all(u8::is_ascii_graphic) {
            return Err(KeyError::NotVisibleAscii);
        }
        // Visible ASCII is UTF-8.
        Ok(Self(String::from_utf8_lossy(text).into_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two requests "the same" for a key: a SHA-256 over the route (with the provider
/// id in it) and the canonical body, so a key reused for another request is told apart.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `parts`, each length-prefixed so that no two lists collide by
    /// shifting bytes from one part to the next.
    pub fn of(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }

    /// From the 32 bytes a store kept.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        f.write_str("…")
    }
}

/// One request carrying a key: whose, which key, and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentRequest {
    /// The caller: keys are per caller.
    pub caller: UserId,
    /// The key.
    pub key: IdempotencyKey,
    /// What the request asks.
    pub fingerprint: Fingerprint,
}

/// An answer as kept for replays: bytes that the driving adapter wrote and alone reads (the
/// HTTP layer keeps a status, a few headers and a body in them). Stores keep them as they are.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAnswer(Vec<u8>);

impl StoredAnswer {
    /// An answer of these bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Its bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Its bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for StoredAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredAnswer({} bytes)", self.0.len())
    }
}

/// What the work of an idempotent request gave, and whether its answer is kept: the driving
/// adapter decides (the HTTP layer keeps its 2xx answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<A> {
    /// Keep the answer for replays: a retry with the same key and request gets `stored` back
    /// for [`RETENTION`].
    Keep {
        /// The answer, for this request.
        answer: A,
        /// The answer as kept, for the retries.
        stored: StoredAnswer,
    },
    /// Do not keep the answer: the key is given up, so that a retry runs again.
    Discard(A),
}

impl<A> Outcome<A> {
    /// The answer, kept or not.
    pub fn into_answer(self) -> A {
        match self {
            Self::Keep { answer, .. } | Self::Discard(answer) => answer,
        }
    }
}

/// A kept answer to write in the same transaction as the write it answers, completing the
/// claim `token` holds on `request`'s key (as [`crate::IdempotencyRepository::complete`]
/// would): a crash then leaves both the write and its kept answer, or neither, so a retry
/// either replays or runs, and never writes twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The request whose key is completed.
    pub request: IdempotentRequest,
    /// The claim's holder. A store refuses the write (nothing stored,
    /// [`crate::RepoError::Unavailable`]) when it no longer holds the claim: another request
    /// took the key over and may be writing the same thing.
    pub token: ClaimToken,
    /// The answer to keep.
    pub answer: StoredAnswer,
    /// When: the answer is kept until [`RETENTION`] after it.
    pub now: OffsetDateTime,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key was free (never used, expired, or a stale pending claim): this request holds it
    /// now and must [`complete`](crate::IdempotencyRepository::complete) or
    /// [`release`](crate::IdempotencyRepository::release) it.
    Claimed,
    /// The same request is still being processed (an earlier request holds the key).
    InFlight,
    /// The key was used for a different request (another fingerprint).
    Mismatch,
    /// The same request was answered already: this is its answer.
    Completed(StoredAnswer),
}

/// Who holds a claim: a fresh random token per claim, so that a request whose stale claim was
/// taken over cannot complete or release the new holder's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken(pub uuid::Uuid);

/// The answer to a request with a key: what its work gave now, or the kept answer of an earlier
/// request with the same key and request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answered<A> {
    /// The work ran now and gave this.
    Fresh(A),
    /// The work did not run: this is the answer kept for an earlier request.
    Replayed(StoredAnswer),
}
