//! The change feed: every committed change to providers and reviews, one event each, in the
//! order readers see the commits. Stores write it in each write's own transaction (or under
//! the same lock); the events API and the read model read it through [`ChangeFeed`].

use crate::RepoError;
use async_trait::async_trait;
use provider_domain::{DecisionTarget, Event, EventDetail, ProviderId, ReviewId};
use time::OffsetDateTime;

/// What a change did, by the contract's names (`provider.created`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// A provider was created.
    ProviderCreated,
    /// A provider's name, skills, day rate or availability were replaced.
    ProviderReplaced,
    /// A provider was deleted, and its reviews with it (no event per review).
    ProviderDeleted,
    /// A review was submitted (published or held).
    ReviewCreated,
    /// Its author edited a review.
    ReviewEdited,
    /// Its author withdrew a review.
    ReviewWithdrawn,
    /// A review was held or decided on: its status may have changed.
    ReviewStatusChanged,
    /// A review's reply was written, removed, held or decided on.
    ReviewReplyChanged,
}

impl ChangeKind {
    /// Every kind, in the contract's order.
    pub const ALL: [Self; 8] = [
        Self::ProviderCreated,
        Self::ProviderReplaced,
        Self::ProviderDeleted,
        Self::ReviewCreated,
        Self::ReviewEdited,
        Self::ReviewWithdrawn,
        Self::ReviewStatusChanged,
        Self::ReviewReplyChanged,
    ];

    /// The contract's name of the kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProviderCreated => "provider.created",
            Self::ProviderReplaced => "provider.replaced",
            Self::ProviderDeleted => "provider.deleted",
            Self::ReviewCreated => "review.created",
            Self::ReviewEdited => "review.edited",
            Self::ReviewWithdrawn => "review.withdrawn",
            Self::ReviewStatusChanged => "review.status_changed",
            Self::ReviewReplyChanged => "review.reply_changed",
        }
    }

    /// The kind named `name` by [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// True for the kinds of a review's change (they name the review).
    pub const fn is_review(self) -> bool {
        !matches!(
            self,
            Self::ProviderCreated | Self::ProviderReplaced | Self::ProviderDeleted
        )
    }

    /// The kind of change a review's history event is, if it is one the feed reports: a flag
    /// or an appeal changes nothing a reader of the review sees until a decision follows.
    pub const fn of_review_event(detail: &EventDetail) -> Option<Self> {
        match detail {
            EventDetail::Submitted { .. } => Some(Self::ReviewCreated),
            EventDetail::Held { target, .. } | EventDetail::Decided { target, .. } => {
                Some(match target {
                    DecisionTarget::Review => Self::ReviewStatusChanged,
                    DecisionTarget::Reply => Self::ReviewReplyChanged,
                })
            }
            EventDetail::Edited { .. } => Some(Self::ReviewEdited),
            EventDetail::Withdrawn => Some(Self::ReviewWithdrawn),
            EventDetail::Replied { .. } => Some(Self::ReviewReplyChanged),
            EventDetail::Flagged { .. } | EventDetail::Appealed => None,
        }
    }
}

/// The feed's kinds of a review's history events, in order, each once. A submission is one
/// `review.created` whatever else it did (a review held at once is created held), and a
/// withdrawal one `review.withdrawn`.
pub fn review_changes(events: &[Event]) -> Vec<ChangeKind> {
    for whole in [ChangeKind::ReviewCreated, ChangeKind::ReviewWithdrawn] {
        if events
            .iter()
            .any(|e| ChangeKind::of_review_event(&e.detail) == Some(whole))
        {
            return vec![whole];
        }
    }
    let mut kinds = Vec::new();
    for kind in events
        .iter()
        .filter_map(|e| ChangeKind::of_review_event(&e.detail))
    {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// A change about to be recorded: what happened to which provider (and review).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: ChangeKind,
    /// The provider changed, or whose review changed.
    pub provider_id: ProviderId,
    /// The review changed, for the review kinds.
    pub review_id: Option<ReviewId>,
}

impl Change {
    /// A change of the provider itself.
    pub const fn provider(kind: ChangeKind, provider_id: ProviderId) -> Self {
        Self {
            kind,
            provider_id,
            review_id: None,
        }
    }

    /// A change of one of the provider's reviews.
    pub const fn review(kind: ChangeKind, provider_id: ProviderId, review_id: ReviewId) -> Self {
        Self {
            kind,
            provider_id,
            review_id: Some(review_id),
        }
    }
}

/// A recorded change: its place in the feed and when it was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeEvent {
    /// Its place in the feed: every event a reader sees later has a greater one.
    pub sequence: u64,
    /// When the change was made (the writing transaction's time).
    pub at: OffsetDateTime,
    /// What happened, to what.
    pub change: Change,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    /// The events after the asked sequence, oldest first.
    pub events: Vec<ChangeEvent>,
    /// Every event at or below this sequence has been removed by the retention purge (0:
    /// none ever was); a reader that last saw an older one has missed some.
    pub purged_through: u64,
}

/// Reads the change feed.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// At most `limit` events with a sequence above `after`, oldest first. An event a later
    /// call returns always has a greater sequence than every event an earlier call returned:
    /// a reader that asks again after the last sequence it saw misses nothing that was kept.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn events(&self, after: u64, limit: u32) -> Result<FeedPage, RepoError>;

    /// Removes the events made before `before`; returns how many it removed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_back_from_its_name() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ChangeKind::parse("provider.updated"), None);
    }

    #[test]
    fn only_provider_kinds_name_no_review() {
        let providers: Vec<_> = ChangeKind::ALL
            .into_iter()
            .filter(|k| !k.is_review())
            .map(ChangeKind::as_str)
            .collect();
        assert_eq!(
            providers,
            ["provider.created", "provider.replaced", "provider.deleted"]
        );
    }
}
