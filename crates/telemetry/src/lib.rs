#![doc = include_str!("../README.md")]

mod metrics;
mod store;

pub use crate::metrics::{
    ActiveRequest, Metrics, PoolFigures, ReadFigures, HISTOGRAM_BUCKETS, SERIES, UNMATCHED_ROUTE,
};
pub use crate::store::ObservedStore;
