#![doc = include_str!("../README.md")]

mod metrics;
mod store;

pub use crate::metrics::{
    ActiveRequest, Metrics, ModelMetrics, PoolFigures, ReadFigures, RelayMetrics,
    HISTOGRAM_BUCKETS, SERIES, UNMATCHED_ROUTE,
};
pub use crate::store::ObservedStore;
