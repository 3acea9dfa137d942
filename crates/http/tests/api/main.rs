//! Tests of the HTTP API through the real actix app: over the memory store, and over mocked
//! stores for what the memory store cannot do (fail).

mod docs;
mod errors;
mod events;
mod health;
mod helpers;
mod identity;
mod jwt;
mod limits;
mod metrics;
mod mocks;
mod moderation;
mod paging;
mod providers;
mod recommend;
mod reports;
mod request_id;
mod reviews;
mod safe_writes;
mod search;
mod skill_ratings;
mod sorts;
mod text;
mod validation;
