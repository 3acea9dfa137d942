//! Ports of the Service Provider API: what the core needs from the world (the repository
//! traits, implemented by the memory and PostgreSQL adapters) and what the world may ask of it
//! (the use-case service, [`ProviderService`], the only thing the HTTP layer calls).

// Every public item says what it is: `make lint` (clippy with -D warnings) holds it to that.
#![warn(missing_docs)]

pub mod consistency;
mod cursor;
mod error;
mod feed;
pub mod idempotency;
mod model;
pub mod moderation;
mod page;
mod repository;
mod service;
mod version;

#[cfg(feature = "contract-tests")]
pub mod contract;

pub use consistency::{read_consistency, with_read_consistency, ReadConsistency};
pub use cursor::{search_scope, CursorKey};
pub use error::{RepoError, ServiceError};
#[cfg(any(test, feature = "mock"))]
pub use feed::MockChangeFeed;
pub use feed::{review_changes, Change, ChangeEvent, ChangeFeed, ChangeKind, FeedPage};
pub use idempotency::{
    Answered, Claim, ClaimToken, Completion, Fingerprint, IdempotencyKey, IdempotentRequest,
    KeyError, Outcome, StoredAnswer,
};
pub use model::{CatchUp, Caught, FeedPosition, ModelSource, ProviderChange, SnapshotSink};
pub use moderation::{
    event_detail_from_json, event_detail_json, Moderated, ReplyChange, ReplyContent, ReviewChange,
    Revision, StoredFlag, StoredReview, Submission,
};
pub use page::{Found, ListAt, ListRequest, Page, PageOf, Paging, Total};
pub use repository::{IdempotencyRepository, ProviderRepository, ReviewKey, ReviewRepository};
#[cfg(any(test, feature = "mock"))]
pub use repository::{MockIdempotencyRepository, MockProviderRepository, MockReviewRepository};
pub use service::{
    Clock, EventsPage, EventsRequest, Listed, NewReview, ProviderService, SearchOptions,
    SystemClock,
};
pub use version::{Version, VersionCheck, Versioned};
