//! The events API's bodies.

use provider_ports::{ChangeEvent, EventsPage};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One change: what happened to which provider (and review), and its place in the feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub(crate) struct EventDto {
    /// Its place in the feed: every event a reader sees later has a greater one (they rise in
    /// the order transactions become visible, with gaps). Below 2^53, so exact in JavaScript.
    #[schema(minimum = 1, example = 3_263_488)]
    pub sequence: u64,
    /// When the change was made.
    #[schema(format = DateTime, example = "2027-03-01T09:30:00.123456Z")]
    pub at: String,
    /// What happened.
    #[schema(example = "review.created")]
    pub r#type: EventType,
    /// The provider changed, or whose review changed.
    pub provider_id: Uuid,
    /// The review changed (review events only; absent on provider events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_id: Option<Uuid>,
}

/// The kinds of change.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) enum EventType {
    /// A provider was created.
    #[serde(rename = "provider.created")]
    ProviderCreated,
    /// Its name, skills, day rate or availability were replaced.
    #[serde(rename = "provider.replaced")]
    ProviderReplaced,
    /// It was deleted, with its reviews (no event per review).
    #[serde(rename = "provider.deleted")]
    ProviderDeleted,
    /// A review was submitted (published, or held for moderation).
    #[serde(rename = "review.created")]
    ReviewCreated,
    /// Its author edited it.
    #[serde(rename = "review.edited")]
    ReviewEdited,
    /// Its author withdrew it.
    #[serde(rename = "review.withdrawn")]
    ReviewWithdrawn,
    /// It was held or decided on by a moderator.
    #[serde(rename = "review.status_changed")]
    ReviewStatusChanged,
    /// Its reply was written, removed, held or decided on.
    #[serde(rename = "review.reply_changed")]
    ReviewReplyChanged,
}

impl From<provider_ports::ChangeKind> for EventType {
    fn from(kind: provider_ports::ChangeKind) -> Self {
        use provider_ports::ChangeKind as K;
        match kind {
            K::ProviderCreated => Self::ProviderCreated,
            K::ProviderReplaced => Self::ProviderReplaced,
            K::ProviderDeleted => Self::ProviderDeleted,
            K::ReviewCreated => Self::ReviewCreated,
            K::ReviewEdited => Self::ReviewEdited,
            K::ReviewWithdrawn => Self::ReviewWithdrawn,
            K::ReviewStatusChanged => Self::ReviewStatusChanged,
            K::ReviewReplyChanged => Self::ReviewReplyChanged,
        }
    }
}

impl From<&ChangeEvent> for EventDto {
    fn from(event: &ChangeEvent) -> Self {
        Self {
            sequence: event.sequence,
            at: super::review::rfc3339(event.at),
            r#type: event.change.kind.into(),
            provider_id: event.change.provider_id.as_uuid(),
            review_id: event.change.review_id.map(|r| r.as_uuid()),
        }
    }
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EventPage)]
pub(crate) struct EventsDto {
    /// The events after `after`, oldest first (fewer than `limit`, or none, when the reader
    /// has caught up).
    pub events: Vec<EventDto>,
    /// Ask with `after` = this next: the last event's sequence, or `after` when there was
    /// none.
    pub next_after: u64,
}

impl From<&EventsPage> for EventsDto {
    fn from(page: &EventsPage) -> Self {
        Self {
            events: page.events.iter().map(EventDto::from).collect(),
            next_after: page.next_after,
        }
    }
}
