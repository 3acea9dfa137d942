//! The events API's use case: a page of the change feed.

use super::ProviderService;
use crate::{ChangeEvent, ServiceError};
use provider_domain::{FieldError, ValidationError, ValueError};

/// A page of the change feed as the events API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsPage {
    /// The events after the asked sequence, oldest first.
    pub events: Vec<ChangeEvent>,
    /// What to ask after next: the last event's sequence, else the sequence asked after.
    pub next_after: u64,
}

/// The events API's parameters, before checking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventsRequest {
    /// The last sequence the reader saw; 0 (the default) starts at the oldest event kept.
    pub after: Option<i64>,
    /// How many events at most, 1..=1000 (default 100).
    pub limit: Option<i64>,
}

impl EventsRequest {
    /// Events per page when no `limit` is given.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// The largest `limit`.
    pub const MAX_LIMIT: u32 = 1000;
    /// The largest `after`: 2^53 − 1, the largest integer a JSON reader in JavaScript holds
    /// exactly (sequences stay below it).
    pub const MAX_AFTER: u64 = (1 << 53) - 1;

    /// The sequence to read after and the page's size.
    fn parse(self) -> Result<(u64, u32), ValidationError> {
        let mut errors = Vec::new();
        let after = u64::try_from(self.after.unwrap_or(0))
            .ok()
            .filter(|n| *n <= Self::MAX_AFTER)
            .unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "after",
                    ValueError::OutOfRange {
                        min: "0".into(),
                        max: Self::MAX_AFTER.to_string(),
                    },
                ));
                0
            });
        let limit = self.limit.unwrap_or(i64::from(Self::DEFAULT_LIMIT));
        let limit = u32::try_from(limit)
            .ok()
            .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
            .unwrap_or_else(|| {
                errors.push(FieldError::new(
                    "limit",
                    ValueError::OutOfRange {
                        min: "1".into(),
                        max: Self::MAX_LIMIT.to_string(),
                    },
                ));
                1
            });
        if errors.is_empty() {
            Ok((after, limit))
        } else {
            Err(ValidationError(errors))
        }
    }
}

impl ProviderService {
    /// The events of the change feed after `request.after`, oldest first.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for an `after` outside 0..=2^53 − 1 or a `limit` outside
    /// 1..=1000;
    /// [`ServiceError::Gone`] when events after `after` have been removed by the retention
    /// purge (the reader missed some: it must start again from its own copy of the data);
    /// [`ServiceError::Missing`] when this service keeps no feed; [`ServiceError::Unavailable`].
    #[tracing::instrument(skip_all)]
    pub async fn events(&self, request: EventsRequest) -> Result<EventsPage, ServiceError> {
        let (after, limit) = request.parse()?;
        let feed = self
            .feed
            .as_ref()
            .ok_or(ServiceError::Missing("this server keeps no change feed"))?;
        let page = feed.events(after, limit).await?;
        if after > 0 && after < page.purged_through {
            return Err(ServiceError::Gone(format!(
                "events after {after} are no longer kept (everything up to {} was removed by \
                 the retention window); read the resources again, then follow the feed from \
                 after=0",
                page.purged_through
            )));
        }
        let next_after = page.events.last().map_or(after, |e| e.sequence);
        Ok(EventsPage {
            events: page.events,
            next_after,
        })
    }

    /// Removes the feed's events made before `before` (the retention window's purge); how
    /// many. Nothing when this service keeps no feed.
    ///
    /// # Errors
    /// [`ServiceError::Unavailable`].
    pub async fn purge_events(&self, before: time::OffsetDateTime) -> Result<u64, ServiceError> {
        match &self.feed {
            Some(feed) => Ok(feed.purge(before).await?),
            None => Ok(0),
        }
    }
}
