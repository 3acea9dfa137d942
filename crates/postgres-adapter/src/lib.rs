#![doc = include_str!("../README.md")]

pub mod bulk;
mod config;
mod error;
mod explain;
mod feed;
mod idempotency;
mod inserts;
mod migrate;
mod model;
mod outbox;
mod pool;
mod queries;
mod recommend;
mod replica;
mod reviews;
mod rows;
mod schema;
mod sql;
mod statements;
mod store;
#[cfg(feature = "test-support")]
pub mod testing;

pub use config::PgConfig;
pub use error::PgError;
pub use explain::{explain_recommend, explain_search};
pub use migrate::run_migrations;
pub use pool::PoolStatus;
pub use replica::{ReadFigures, ReplicaHealth};
pub use store::PgStore;
