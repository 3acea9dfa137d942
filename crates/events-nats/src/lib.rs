//! Relays the change feed (`GET /v1_0/events`) to a NATS JetStream stream, for consumers that
//! want events pushed rather than polled.
//!
//! A [`Relay`] reads the feed through the [`ChangeFeed`] port, in feed order, and publishes
//! each event on `{subject}.{type}` (for example `provider_api.events.review.created`) with
//! the same JSON as the events API gives it. Every API process may run one: each message is
//! published with `Nats-Expected-Last-Sequence` set to the stream's last sequence as the relay
//! knows it, so JetStream refuses it when another relay (or this one, before a crash) already
//! published past it. The relay then reads where the stream stands (the `Nats-Msg-Id` of its
//! last message is the feed's sequence) and goes on after it. The stream therefore holds each
//! kept event once, in feed order, however many relays run and whenever they stop.
//!
//! The stream is created when it does not exist (file storage, subjects `{subject}.>`, the
//! given maximum age); an existing one is used as it is configured.

use async_nats::header::{HeaderMap, NATS_EXPECTED_LAST_SEQUENCE, NATS_MESSAGE_ID};
use async_nats::jetstream::{self, context::PublishErrorKind, stream};
use provider_ports::{ChangeEvent, ChangeFeed, RepoError};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;

/// Where and how a [`Relay`] publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelaySettings {
    /// The NATS server (`nats://host:4222`).
    pub url: String,
    /// The JetStream stream's name.
    pub stream: String,
    /// The subjects' prefix: an event is published on `{subject}.{type}`.
    pub subject: String,
    /// How long a stream this relay creates keeps a message (an existing stream keeps its own
    /// setting).
    pub max_age: Duration,
    /// Most events read from the feed and published per round.
    pub batch: u32,
    /// The pause after a round that found nothing new.
    pub poll_every: Duration,
    /// The pause after a round that failed (the feed or NATS unavailable).
    pub retry_after: Duration,
}

impl RelaySettings {
    /// Settings with the defaults: stream `PROVIDER_EVENTS`, subjects `provider_api.events.*`,
    /// messages kept seven days, 500 events a round, a round every 50 ms when idle, one
    /// second after a failure.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: "PROVIDER_EVENTS".to_owned(),
            subject: "provider_api.events".to_owned(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            batch: 500,
            poll_every: Duration::from_millis(50),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Why a relay's step failed. Each is retried by [`Relay::run`].
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The NATS server could not be reached.
    #[error("cannot connect to NATS: {0}")]
    Connect(#[from] async_nats::ConnectError),
    /// The stream could not be created or read.
    #[error("JetStream stream: {0}")]
    Stream(String),
    /// A message was not stored (including: another relay published first).
    #[error("publishing to JetStream: {0}")]
    Publish(#[from] jetstream::context::PublishError),
    /// The change feed could not be read.
    #[error("reading the change feed: {0}")]
    Feed(#[from] RepoError),
}

/// Counters of a relay, for `/metrics` (shared with the running relay).
#[derive(Debug, Default)]
pub struct RelayFigures {
    published: AtomicU64,
    failures: AtomicU64,
    last_sequence: AtomicU64,
}

impl RelayFigures {
    /// Events this relay stored in the stream.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Steps that failed (each retried).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The feed sequence of the stream's last message, as this relay last knew it (0: none).
    pub fn last_sequence(&self) -> u64 {
        self.last_sequence.load(Ordering::Relaxed)
    }
}

/// Failed steps in a row between two warnings in the log (a minute at the default pause).
const FAILURES_PER_WARNING: u64 = 60;

/// Failures in a row. The first is a warning, then one every [`FAILURES_PER_WARNING`] while
/// they last: NATS down for an hour is one line a minute, not one a second.
#[derive(Debug, Default)]
struct Failing(u64);

impl Failing {
    /// Counts a failure, logging it when its turn comes.
    fn note(&mut self, error: &RelayError, message: &str) {
        if self.0.is_multiple_of(FAILURES_PER_WARNING) {
            tracing::warn!(error = %error, failures_in_a_row = self.0 + 1, "{message}");
        }
        self.0 += 1;
    }
}

/// Where the stream stands: its last message's stream sequence and feed sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    /// The stream's last sequence (0 for a stream never written to).
    stream: u64,
    /// The feed sequence of the stream's last message (0 when it holds none).
    event: u64,
}

/// Publishes the change feed to JetStream (see the crate's documentation).
pub struct Relay {
    feed: Arc<dyn ChangeFeed>,
    jetstream: jetstream::Context,
    stream: stream::Stream,
    settings: RelaySettings,
    /// Where the stream stands, when known; `None` after a failure: read it again.
    position: Option<Position>,
    figures: Arc<RelayFigures>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("settings", &self.settings)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

/// An event as the events API gives it (`docs/API.md`, "Events").
#[derive(Debug, Serialize)]
struct EventMessage<'a> {
    sequence: u64,
    at: String,
    r#type: &'a str,
    /// Hyphenated lower case, as the events API writes ids.
    provider_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    review_id: Option<String>,
}

impl<'a> EventMessage<'a> {
    fn of(event: &'a ChangeEvent) -> Self {
        Self {
            sequence: event.sequence,
            at: event
                .at
                .format(&Rfc3339)
                .unwrap_or_else(|_| event.at.to_string()),
            r#type: event.change.kind.as_str(),
            provider_id: event.change.provider_id.as_uuid().to_string(),
            review_id: event.change.review_id.map(|r| r.as_uuid().to_string()),
        }
    }
}

impl Relay {
    /// Connects to NATS and finds (or creates) the stream.
    ///
    /// # Errors
    /// [`RelayError::Connect`] or [`RelayError::Stream`].
    pub async fn connect(
        feed: Arc<dyn ChangeFeed>,
        settings: RelaySettings,
    ) -> Result<Self, RelayError> {
        let client = async_nats::ConnectOptions::new()
            .name("provider-api events relay")
            .connect(settings.url.as_str())
            .await?;
        let jetstream = jetstream::new(client);
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: settings.stream.clone(),
                subjects: vec![format!("{}.>", settings.subject)],
                max_age: settings.max_age,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| RelayError::Stream(e.to_string()))?;
        Ok(Self {
            feed,
            jetstream,
            stream,
            settings,
            position: None,
            figures: Arc::default(),
        })
    }

    /// [`Self::connect`], tried again every `retry_after` until it succeeds (the first failure
    /// is logged as a warning, then one a minute while they last).
    pub async fn connect_until_up(feed: Arc<dyn ChangeFeed>, settings: RelaySettings) -> Self {
        let mut failing = Failing::default();
        loop {
            match Self::connect(feed.clone(), settings.clone()).await {
                Ok(relay) => return relay,
                Err(e) => {
                    failing.note(&e, "events relay: cannot reach NATS; retrying");
                    tokio::time::sleep(settings.retry_after).await;
                }
            }
        }
    }

    /// The relay's counters (they keep counting while [`Self::run`] runs).
    pub fn figures(&self) -> Arc<RelayFigures> {
        self.figures.clone()
    }

    /// Publishes events until the task is dropped: a round as soon as the previous one filled
    /// its batch, else after `poll_every`; after a failure (logged), `retry_after`.
    pub async fn run(mut self) {
        let mut failing = Failing::default();
        loop {
            let result = self.step().await;
            if result.is_ok() && failing.0 > 0 {
                tracing::info!(failed_steps = failing.0, "events relay: publishing again");
                failing = Failing::default();
            }
            match result {
                Ok(n) if n >= self.settings.batch as usize => {}
                Ok(_) => tokio::time::sleep(self.settings.poll_every).await,
                Err(RelayError::Publish(e)) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    // Another relay published first: read where the stream stands, at once.
                    self.figures.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %e, "events relay: the stream moved on");
                }
                Err(e) => {
                    self.figures.failures.fetch_add(1, Ordering::Relaxed);
                    failing.note(&e, "events relay: a step failed; retrying");
                    tokio::time::sleep(self.settings.retry_after).await;
                }
            }
        }
    }

    /// One round: the events after the stream's last, at most `batch`, published in order.
    /// Returns how many were stored.
    ///
    /// # Errors
    /// A [`RelayError`]; where the stream stands is then read again by the next step.
    pub async fn step(&mut self) -> Result<usize, RelayError> {
        let position = match self.position {
            Some(position) => position,
            None => self.read_position().await?,
        };
        self.position = None; // Until this round's messages are all stored.
        let page = self
            .feed
            .events(position.event, self.settings.batch)
            .await?;
        if position.event > 0 && page.purged_through > position.event {
            tracing::warn!(
                last_published = position.event,
                purged_through = page.purged_through,
                "events relay: the feed removed events the stream never received (the relay \
                 was stopped longer than the feed's retention)"
            );
        }
        let mut acks = Vec::with_capacity(page.events.len());
        for (i, event) in page.events.iter().enumerate() {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, event.sequence.to_string().as_str());
            headers.insert(
                NATS_EXPECTED_LAST_SEQUENCE,
                (position.stream + i as u64).to_string().as_str(),
            );
            let payload =
                serde_json::to_vec(&EventMessage::of(event)).expect("an event serialises to JSON");
            let subject = format!("{}.{}", self.settings.subject, event.change.kind.as_str());
            // Sent one after another on one connection, acknowledged in that order: a message
            // refused makes every later one's expected sequence wrong, so none is stored out
            // of order.
            acks.push(
                self.jetstream
                    .publish_with_headers(subject, headers, payload.into())
                    .await?,
            );
        }
        let mut stored = position;
        for (ack, event) in acks.into_iter().zip(&page.events) {
            let ack = ack.await?;
            stored = Position {
                stream: ack.sequence,
                event: event.sequence,
            };
            // A duplicate is an event another relay stored moments before (the stream
            // recognised its `Nats-Msg-Id`): not counted as this relay's.
            if !ack.duplicate {
                self.figures.published.fetch_add(1, Ordering::Relaxed);
            }
            self.figures
                .last_sequence
                .store(event.sequence, Ordering::Relaxed);
        }
        self.position = Some(stored);
        Ok(page.events.len())
    }

    /// Where the stream stands: its last sequence, and the feed sequence its last message
    /// carries in `Nats-Msg-Id`.
    async fn read_position(&mut self) -> Result<Position, RelayError> {
        let stream_error = |e: &dyn std::fmt::Display| RelayError::Stream(e.to_string());
        let info = self.stream.info().await.map_err(|e| stream_error(&e))?;
        let (messages, last_sequence) = (info.state.messages, info.state.last_sequence);
        let event = if messages == 0 {
            0
        } else {
            let last = self
                .stream
                .get_raw_message(last_sequence)
                .await
                .map_err(|e| stream_error(&e))?;
            last.headers
                .get(NATS_MESSAGE_ID)
                .and_then(|id| id.as_str().parse::<u64>().ok())
                .ok_or_else(|| {
                    RelayError::Stream(format!(
                        "the stream's last message (sequence {}) carries no feed sequence in \
                         Nats-Msg-Id: was it published by something else than this relay?",
                        last_sequence
                    ))
                })?
        };
        self.figures.last_sequence.store(event, Ordering::Relaxed);
        Ok(Position {
            stream: last_sequence,
            event,
        })
    }
}
