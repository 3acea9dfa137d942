//! Ports of the Service Provider API: what the core needs from the world (the repository
//! traits, implemented by the memory and PostgreSQL adapters) and what the world may ask of it
//! (the use-case service, [`ProviderService`], the only thing the HTTP layer calls).

mod error;
mod page;
mod repository;
mod service;

#[cfg(feature = "contract-tests")]
pub mod contract;

pub use error::{RepoError, ServiceError};
pub use page::{Page, PageOf};
#[cfg(any(test, feature = "mock"))]
pub use repository::{MockProviderRepository, MockReviewRepository};
pub use repository::{ProviderRepository, ReviewRepository};
pub use service::{Clock, NewReview, ProviderService, SystemClock};
